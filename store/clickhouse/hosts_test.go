package clickhouse

import (
	"reflect"
	"testing"
)

func TestHostsSplitsAReplicaList(t *testing.T) {
	got, err := Hosts("tcp://r1:9000,r2:9001/tiendo?dial_timeout=2s")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"tcp://r1:9000/tiendo?dial_timeout=2s", "tcp://r2:9001/tiendo?dial_timeout=2s"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Hosts = %q, want %q", got, want)
	}
	if got, _ := Hosts("tcp://one:9000/db"); len(got) != 1 || got[0] != "tcp://one:9000/db" {
		t.Errorf("one host: %q", got)
	}
	if _, err := Hosts("tcp://r1:9000,,r2:9000/db"); err == nil {
		t.Error("an empty host in the list was accepted")
	}
}
