package server_test

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"tiendo"
)

// rawWS dials /ws and also returns the TCP connection beneath, so a test can
// see the server really close the socket (EOF), not only stop writing.
func rawWS(t *testing.T, ts *testServer, query string, header http.Header, rcvBuf int) (*websocket.Conn, net.Conn) {
	t.Helper()
	var raw net.Conn
	d := *websocket.DefaultDialer
	d.NetDial = func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if err == nil && rcvBuf > 0 {
			_ = c.(*net.TCPConn).SetReadBuffer(rcvBuf)
		}
		raw = c
		return c, err
	}
	u := strings.Replace(ts.url, "http://", "ws://", 1) + "/ws?" + query
	c, resp, err := d.Dial(u, header)
	if err != nil {
		t.Fatalf("dial %s: %v %v", query, resp, err)
	}
	t.Cleanup(func() { c.Close() })
	return c, raw
}

// serverClosed reads what is left on raw and reports whether the server
// closed the socket within d: EOF, or a reset when the server closed with
// the client's frames still unread.
func serverClosed(raw net.Conn, d time.Duration) error {
	_ = raw.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, raw)
	if err == nil || errors.Is(err, syscall.ECONNRESET) {
		return nil // io.Copy's nil is EOF
	}
	return err
}

// M1: a slow client dropped by the hub is really disconnected: its socket
// is closed at once, not when it next sends a byte.
func TestSlowClientSocketIsClosed(t *testing.T) {
	ts := startTestServer(t)
	// A tiny receive window and no reading: the server's writes block, and
	// resync requests fill the client's queue with snapshots.
	c, raw := rawWS(t, ts, "scope=province", http.Header{"Authorization": {"Bearer " + ts.admin}}, 2048)
	time.Sleep(time.Second) // the topic's first snapshot, which resyncs resend
	for i := 0; i < 2000; i++ {
		if err := c.WriteMessage(websocket.TextMessage, []byte(`{"type":"resync"}`)); err != nil {
			break // the server may already have dropped it
		}
	}
	if err := serverClosed(raw, 5*time.Second); err != nil {
		t.Fatalf("the server kept the dropped slow client's socket open: %v", err)
	}
	mreq, _ := http.NewRequest(http.MethodGet, ts.url+"/metrics", nil)
	mreq.Header.Set("Authorization", "Bearer "+ts.admin)
	resp, err := http.DefaultClient.Do(mreq)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), "\ntiendo_live_dropped_slow_total 0\n") {
		t.Fatalf("the socket closed but not as a slow drop:\n%s", body)
	}
}

// L2: a screen account watches the province and districts only; its live
// stream and its snapshots carry the aggregates and the attention lists,
// and no station's own record.
func TestScreenGetsNoStationRecords(t *testing.T) {
	ts := startTestServer(t)
	tok := ts.token(t, `{"station":"S1"}`)
	ts.post(t, tok, `{"id":"h1","type":"heartbeat","station":"S1","ts":"2021-03-20T20:00:00+07:00","queue":9,"staff":2,"lanes":2,"status":"open"}`)
	screen := ts.token(t, `{"role":"screen"}`)
	for _, who := range []struct {
		token    string
		stations int
	}{{screen, 0}, {ts.admin, 2}} {
		c, _ := rawWS(t, ts, "scope=province", http.Header{"Authorization": {"Bearer " + who.token}}, 0)
		m := read(t, c)
		var snap struct {
			Stations  []map[string]any `json:"stations"`
			Attention tiendo.Attention `json:"attention"`
		}
		if err := json.Unmarshal(m.Snapshot, &snap); err != nil {
			t.Fatalf("snapshot: %v %s", err, m.Snapshot)
		}
		if len(snap.Stations) != who.stations {
			t.Errorf("%d station records, want %d", len(snap.Stations), who.stations)
		}
		if len(snap.Attention.Waits) != 1 || snap.Attention.Waits[0].ID != "S1" {
			t.Errorf("attention lists %+v: want S1's wait", snap.Attention)
		}
	}
	code, body := get(t, ts.url+"/api/v1/snapshot?scope=province", screen)
	if code != 200 || strings.Contains(body, `"lat":`) {
		t.Errorf("screen REST snapshot: %d, carries coordinates: %v", code, strings.Contains(body, `"lat":`))
	}
}

// L3: without credentials a station that exists and one that does not get
// the same answer.
func TestAnonymousLiveCannotProbeRegistry(t *testing.T) {
	ts := startTestServer(t)
	for _, scope := range []string{"station:S1", "station:NOPE", "district:D1", "district:NOPE"} {
		_, resp, err := dial(t, ts, "scope="+scope, http.Header{"X-Anonymous": {"1"}})
		if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("anonymous %s: %v %v; want 401 whether or not it exists", scope, resp, err)
		}
	}
}

func get(t *testing.T, u, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
