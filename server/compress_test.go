package server_test

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
)

// countingConn counts the bytes a client reads off the wire.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// A browser offers permessage-deflate; the server takes it, and the live
// messages (the snapshot, then updates written once for every subscriber)
// reach a compressing client as the same JSON a plain client reads, in far
// fewer bytes on the wire.
func TestLiveMessagesCompressedWhenOffered(t *testing.T) {
	ts := startTestServer(t)
	tok := ts.token(t, `{"station":"S1"}`)
	ts.post(t, tok, `{"id":"h1","type":"heartbeat","station":"S1","ts":"2021-03-20T20:00:00+07:00","queue":9,"staff":2,"status":"open"}`)

	open := func(compress bool) (*websocket.Conn, *http.Response, *atomic.Int64) {
		t.Helper()
		wire := &atomic.Int64{}
		d := websocket.Dialer{EnableCompression: compress, HandshakeTimeout: 5 * time.Second,
			NetDial: func(network, addr string) (net.Conn, error) {
				c, err := net.Dial(network, addr)
				if err != nil {
					return nil, err
				}
				return countingConn{c, wire}, nil
			}}
		h := http.Header{"Authorization": {"Bearer " + ts.admin}}
		c, resp, err := d.Dial(strings.Replace(ts.url, "http://", "ws://", 1)+"/ws?scope=province&lang=vi", h)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c, resp, wire
	}
	zc, zresp, zwire := open(true)
	pc, presp, _ := open(false)
	if ext := zresp.Header.Get("Sec-WebSocket-Extensions"); !strings.Contains(ext, "permessage-deflate") {
		t.Fatalf("offered permessage-deflate, answered extensions %q", ext)
	}
	if ext := presp.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
		t.Fatalf("a client that offers nothing got extensions %q", ext)
	}
	payload := 0
	readRaw := func(c *websocket.Conn) []byte {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, b, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		return b
	}
	zs, ps := readRaw(zc), readRaw(pc)
	payload += len(zs)
	var zm, pm wsMessage
	if err := json.Unmarshal(zs, &zm); err != nil || zm.Type != "snapshot" {
		t.Fatalf("compressed client's first message: %v %q", err, zs[:min(len(zs), 80)])
	}
	if err := json.Unmarshal(ps, &pm); err != nil || pm.Type != "snapshot" {
		t.Fatalf("plain client's first message: %v", err)
	}
	// An event makes an update, published once to both subscribers.
	ts.post(t, tok, `{"id":"c1","type":"completion","station":"S1","ts":"2021-03-20T20:01:00+07:00","count":3}`)
	for {
		zu, pu := readRaw(zc), readRaw(pc)
		payload += len(zu)
		if !bytes.Equal(zu, pu) {
			t.Fatalf("the two clients read different updates:\n%s\n%s", zu, pu)
		}
		var m wsMessage
		if err := json.Unmarshal(zu, &m); err != nil {
			t.Fatal(err)
		}
		if m.Type == "update" && len(m.Snapshot) > 2 {
			break
		}
	}
	if got := zwire.Load(); got*2 > int64(payload) {
		t.Errorf("compressed client read %d bytes on the wire for %d bytes of messages: want under half", got, payload)
	} else {
		t.Logf("%d bytes of messages in %d bytes on the wire (%.0f %%)", payload, got, 100*float64(got)/float64(payload))
	}
}
