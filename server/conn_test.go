package server_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"tiendo/server"
)

func rawDial(t *testing.T, ts *testServer) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(ts.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// statusLine reads the first line of an HTTP response on c.
func statusLine(t *testing.T, c net.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the response: %v (got %q)", err, line)
	}
	return strings.TrimSpace(line)
}

// H3: a connection that never sends a byte is closed after the first-byte
// timeout, so idle sockets cannot hold the server's descriptors.
func TestSilentConnectionIsClosed(t *testing.T) {
	ts := startTestServer(t, func(c *server.Config) { c.FirstByteTimeout = 300 * time.Millisecond })
	c := rawDial(t, ts)
	start := time.Now()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.Read(make([]byte, 1))
	if err != io.EOF || n != 0 {
		t.Fatalf("silent connection: read %d, %v; want the server to close it (EOF)", n, err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("closed after %v; want about the 300 ms first-byte timeout", took)
	}
	// A connection that does talk is served as before.
	resp, err := http.Get(ts.url + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
}

// H3: one address may hold at most MaxConnsPerAddr connections; the next
// is told why (429), and a slot freed is usable again.
func TestConnectionsPerAddressCapped(t *testing.T) {
	ts := startTestServer(t, func(c *server.Config) { c.MaxConnsPerAddr = 4 })
	held := make([]net.Conn, 4)
	for i := range held {
		held[i] = rawDial(t, ts)
	}
	time.Sleep(100 * time.Millisecond) // let the server accept them
	extra := rawDial(t, ts)
	if got := statusLine(t, extra); !strings.Contains(got, "429") {
		t.Fatalf("connection over the cap: %q, want 429", got)
	}
	held[0].Close()
	deadline := time.Now().Add(3 * time.Second)
	for {
		resp, err := http.Get(ts.url + "/healthz")
		if err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			break
		}
		if resp != nil {
			resp.Body.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("after freeing a slot: %v %v", resp, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Behind a trusted proxy every client has the proxy's address: the proxy
// itself is not capped.
func TestTrustedProxyIsNotCapped(t *testing.T) {
	ts := startTestServer(t, func(c *server.Config) { c.MaxConnsPerAddr = 2; c.TrustedProxies = []string{"127.0.0.1"} })
	for range 4 {
		rawDial(t, ts)
	}
	time.Sleep(100 * time.Millisecond)
	c := rawDial(t, ts)
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if got := statusLine(t, c); !strings.Contains(got, "200") {
		t.Fatalf("through the trusted proxy: %q, want 200", got)
	}
}

// M8: a client that sends its whole body before reading (Python's urllib,
// a proxy) gets the 413, not a connection reset.
func TestOversizedBodyGets413NotReset(t *testing.T) {
	ts := startTestServer(t, func(c *server.Config) { c.BodyLimit = 64 << 10 })
	tok := ts.token(t, `{"station":"S1"}`)
	body := bytes.Repeat([]byte(" "), 12<<20)
	for _, expect := range []string{"Expect: 100-continue\r\n", ""} {
		c := rawDial(t, ts)
		fmt.Fprintf(c, "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n",
			tok, expect, len(body))
		if expect != "" {
			// No "100 Continue" for a body already known to be too large.
			if got := statusLine(t, c); !strings.Contains(got, "413") {
				t.Fatalf("Expect: 100-continue over the limit: %q, want 413 at once", got)
			}
			continue
		}
		_ = c.SetWriteDeadline(time.Now().Add(20 * time.Second))
		if _, err := c.Write(body); err != nil {
			t.Fatalf("writing the whole body first: %v (the server reset the connection)", err)
		}
		if got := statusLine(t, c); !strings.Contains(got, "413") {
			t.Fatalf("after sending the whole body: %q, want 413", got)
		}
	}
}

// H1: compressed bodies are refused before anything inflates them.
func TestCompressedBodiesRefused(t *testing.T) {
	ts := startTestServer(t)
	tok := ts.token(t, `{"station":"S1"}`)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(`[{"id":"g1","type":"completion","station":"S1","ts":"2021-03-20T20:00:00+07:00","count":1}` + strings.Repeat(" ", 1<<20) + "]"))
	w.Close()
	for _, tc := range []struct{ path, token, ctype, encoding string }{
		{"/api/v1/events", tok, "application/json", "gzip"},
		{"/api/v1/events", tok, "application/json", "gzip, gzip"},
		{"/api/v1/events", tok, "application/json", "br"},
		{"/api/v1/admin/stations", ts.admin, "text/csv", "deflate"},
		{"/login", "", "application/x-www-form-urlencoded", "gzip"},
	} {
		req, _ := http.NewRequest(http.MethodPost, ts.url+tc.path, bytes.NewReader(gz.Bytes()))
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		req.Header.Set("Content-Type", tc.ctype)
		req.Header.Set("Content-Encoding", tc.encoding)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnsupportedMediaType || !bytes.Contains(msg, []byte("Content-Encoding")) {
			t.Errorf("%s with Content-Encoding %q: %d %s; want 415 naming Content-Encoding", tc.path, tc.encoding, resp.StatusCode, msg)
		}
	}
	// Uncompressed, the same event is accepted.
	ts.post(t, tok, `{"id":"g1","type":"completion","station":"S1","ts":"2021-03-20T20:00:00+07:00","count":1}`)
}

// The sign-in forms need a few KiB: a bigger body is refused before it is
// read, so an anonymous client cannot make the server parse 4 MiB a try.
func TestSigninFormBodiesAreSmall(t *testing.T) {
	ts := startTestServer(t)
	for _, path := range []string{"/login", "/logout", "/screen/activate/abc", "/login?next=/x"} {
		c := rawDial(t, ts)
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n", path, 1<<20)
		if got := statusLine(t, c); !strings.Contains(got, "413") {
			t.Errorf("POST %s with a 1 MiB body: %q, want 413 before the body", path, got)
		}
	}
}
