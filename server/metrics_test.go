package server_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"tiendo/server"
)

// M3: behind the documented proxy every client is 127.0.0.1, so /metrics on
// the main listener needs an admin token even from loopback; the host's
// scraper uses --metrics-addr, which serves nothing else.
func TestMetricsNeedAdminOrTheirOwnListener(t *testing.T) {
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	maddr := mln.Addr().String()
	mln.Close()
	ts := startTestServer(t, func(c *server.Config) { c.MetricsAddr = maddr })
	if code, _ := get(t, ts.url+"/metrics", ""); code != http.StatusUnauthorized {
		t.Errorf("anonymous /metrics from loopback: %d, want 401", code)
	}
	leader := ts.token(t, `{"role":"leader"}`)
	if code, _ := get(t, ts.url+"/metrics", leader); code != http.StatusForbidden {
		t.Errorf("leader /metrics: %d, want 403", code)
	}
	if code, body := get(t, ts.url+"/metrics", ts.admin); code != 200 || !strings.Contains(body, "tiendo_live_clients") {
		t.Errorf("admin /metrics: %d", code)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		resp, err := http.Get("http://" + maddr + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(b), "tiendo_live_clients") {
				t.Fatalf("metrics listener: %d", resp.StatusCode)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics listener: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, _ := get(t, "http://"+maddr+"/api/v1/snapshot?scope=province", ""); code != http.StatusNotFound {
		t.Errorf("the metrics listener serves only /metrics; snapshot got %d", code)
	}
}
