package clickhouse

import (
	"context"
	"strings"
	"testing"
)

// L5: a DSN's password never reaches an error message or a log.
func TestDSNPasswordRedacted(t *testing.T) {
	for _, dsn := range []string{
		"http://tiendo:S3cretPW@127.0.0.1:1/tiendo",
		"tcp://127.0.0.1:1/tiendo?username=tiendo&password=S3cretPW&dial_timeout=x",
		"clickhouse://tiendo:S3cretPW@[::1/tiendo",
	} {
		_, _, err := Open(context.Background(), dsn)
		if err == nil {
			t.Fatalf("%s: want an error", dsn)
		}
		if strings.Contains(err.Error(), "S3cretPW") {
			t.Errorf("the error shows the password: %v", err)
		}
		if r := RedactDSN(dsn); strings.Contains(r, "S3cretPW") {
			t.Errorf("RedactDSN(%q) = %q", dsn, r)
		}
	}
	if got := RedactDSN("tcp://u:p@h:9000/db"); got != "tcp://u:xxxxx@h:9000/db" {
		t.Errorf("RedactDSN = %q", got)
	}
}
