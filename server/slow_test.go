package server_test

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
)

// throttledConn delivers at most rate bytes per second to its reader: a
// command-room PC on a saturated link.
type throttledConn struct {
	net.Conn
	rate int
}

func (c throttledConn) Read(p []byte) (int, error) {
	if len(p) > c.rate/10 {
		p = p[:c.rate/10]
	}
	time.Sleep(100 * time.Millisecond)
	return c.Conn.Read(p)
}

// A client reading at 1 KB/s does not delay the others: they get every
// update about as fast as without it, and the slow one is dropped once its
// queue is full rather than waited for.
func TestSlowConsumerDoesNotDelayOthers(t *testing.T) {
	ts := startTestServer(t)
	tok := ts.token(t, `{"station":"S1"}`)
	auth := func() http.Header { return http.Header{"Authorization": {"Bearer " + ts.admin}} }

	slowDialer := *websocket.DefaultDialer
	slowDialer.NetDial = func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if err != nil {
			return nil, err
		}
		return throttledConn{Conn: c, rate: 1024}, nil
	}
	slowDialer.ReadBufferSize = 1024
	u := strings.Replace(ts.url, "http://", "ws://", 1) + "/ws?scope=province"
	slow, _, err := slowDialer.Dial(u, auth())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	go func() { // read, slowly, until dropped
		for {
			if _, _, err := slow.ReadMessage(); err != nil {
				return
			}
		}
	}()

	fast, _, err := dial(t, ts, "scope=province", auth())
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	read(t, fast) // snapshot

	var worst time.Duration
	for i := 1; i <= 20; i++ {
		posted := time.Now()
		ts.post(t, tok, fmt.Sprintf(`{"id":"s%d","type":"completion","station":"S1","ts":"2021-03-20T20:%02d:00+07:00","count":1}`, i, i))
		for {
			m := read(t, fast)
			if m.Type == "update" && m.totals(t).Completed == int64(i) {
				break
			}
		}
		worst = max(worst, time.Since(posted))
	}
	if worst > 2*time.Second {
		t.Fatalf("the fast client's slowest update took %v with a 1 KB/s client on the same scope", worst)
	}
	t.Logf("slowest update to the fast client: %v", worst)
}
