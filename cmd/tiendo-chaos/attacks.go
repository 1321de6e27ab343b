package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// attackers are the hostile clients of the hostile phase. Each attack
// comes from its own loopback address (never honestIP) and is paced: the
// point is to show that the server survives each kind of abuse at a rate
// one client can sustain, not to saturate the two shared cores so that
// honest stations fail for want of CPU.
type attackers struct {
	url, host string // http://127.0.0.1:PORT and 127.0.0.1:PORT
	fleet     *fleet // acknowledged attack events are checked exactly-once like the rest
	ts        tallies
	// station tokens of stations that no honest station uses
	bombStation, errStation, floodStation, bigStation *station

	flood struct {
		acked     atomic.Int64 // events acknowledged to the flooder
		uncertain bool         // a batch may have been stored without an answer
	}
	idleClosed struct { // when the server closed an idle socket, from connect
		mu sync.Mutex
		d  []time.Duration
	}
}

// The attackers' addresses.
const (
	bombIP  = "127.0.0.6" // compressed bodies, and oversized bodies sent whole
	loginIP = "127.0.0.7" // 2 MB sign-in names and passwords
	errIP   = "127.0.0.8" // oversized error bodies, and the event flood
	sprayIP = "127.0.0.9" // many valid names at /login from one address
)

// idleAddrs are the idle-socket attackers: one over the per-address cap,
// so the cap must refuse its excess, and three under it, which it must not.
var idleAddrs = []struct {
	ip    string
	slots int
}{{"127.0.0.2", maxConnsPerAddr * 3 / 2}, {"127.0.0.3", 500}, {"127.0.0.4", 500}, {"127.0.0.5", 500}}

// loop runs fn every interval (back to back if fn takes longer) until ctx ends.
func loop(ctx context.Context, every time.Duration, fn func()) {
	for ctx.Err() == nil {
		start := time.Now()
		fn()
		select {
		case <-ctx.Done():
		case <-time.After(every - time.Since(start)):
		}
	}
}

// do sends req and reads the whole answer. The outcome is the status code,
// or what went wrong on the connection.
func do(client *http.Client, req *http.Request) (status int, body []byte, took time.Duration, outcome string) {
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, time.Since(start), errClass(err)
	}
	body, err = io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	resp.Body.Close()
	took = time.Since(start)
	if err != nil {
		return resp.StatusCode, body, took, fmt.Sprintf("%d, then %s", resp.StatusCode, errClass(err))
	}
	return resp.StatusCode, body, took, fmt.Sprint(resp.StatusCode)
}

func (a *attackers) eventsRequest(st *station, body io.Reader) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, a.url+"/api/v1/events", body)
	req.Header.Set("Authorization", "Bearer "+st.token)
	req.Header.Set("Content-Type", "application/json")
	return req
}

// bombInflated is what each compressed body inflates to: 256 MiB, which
// took a server that inflated it from 405 MB to 1.24 GB of RSS (H1).
const bombInflated = 256 << 20

// bomb is one compressed body and its Content-Encoding.
type bomb struct {
	encoding string
	body     []byte
	event    event
}

// makeBombs builds a batch of one valid event followed by bombInflated
// spaces (valid JSON: a server that inflates it accepts it), compressed
// with gzip (about 250 KiB), gzip twice (about 1 KiB) and zlib (deflate).
func makeBombs(st *station) []bomb {
	ev := event{ID: "bomb-1", Type: "completion", Station: st.id, TS: eventTime(0), Count: 1}
	head, _ := json.Marshal(ev)
	var gz, zl bytes.Buffer
	gw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw, _ := zlib.NewWriterLevel(&zl, zlib.BestCompression)
	w := io.MultiWriter(gw, zw)
	w.Write([]byte("["))
	w.Write(head)
	spaces := bytes.Repeat([]byte(" "), 1<<20)
	for n := 0; n < bombInflated; n += len(spaces) {
		w.Write(spaces)
	}
	w.Write([]byte("]"))
	gw.Close()
	zw.Close()
	var gz2 bytes.Buffer
	g2, _ := gzip.NewWriterLevel(&gz2, gzip.BestCompression)
	g2.Write(gz.Bytes())
	g2.Close()
	return []bomb{{"gzip", gz.Bytes(), ev}, {"gzip, gzip", gz2.Bytes(), ev}, {"deflate", zl.Bytes(), ev}}
}

// bombs posts the compressed bodies with a station token: expected 415
// every time, before anything is inflated.
func (a *attackers) bombs(ctx context.Context, bombs []bomb, workers int, every time.Duration) {
	client := boundClient(bombIP, workers, 30*time.Second)
	defer client.CloseIdleConnections()
	var wg sync.WaitGroup
	var n atomic.Int64
	for range workers {
		wg.Go(func() {
			loop(ctx, every, func() {
				b := bombs[int(n.Add(1))%len(bombs)]
				req := a.eventsRequest(a.bombStation, bytes.NewReader(b.body))
				req.Header.Set("Content-Encoding", b.encoding)
				status, _, took, outcome := do(client, req)
				t := a.ts.get(fmt.Sprintf("gzip bomb %q (%s)", b.encoding, bytesize(int64(len(b.body)))))
				t.add(outcome, took)
				if status == http.StatusAccepted { // inflated and stored: must then be counted once
					a.fleet.ack(a.bombStation.id, []event{b.event})
				}
			})
		})
	}
	wg.Wait()
}

// idle opens sockets that never send a byte, from each of idleAddrs, at
// most dialsPerSec new connections a second in all; when the server closes
// or refuses one, its slot connects again. Each outcome is timed from the
// connect: the server should close an idle socket after firstByteTimeout
// and refuse (429) connections past the per-address cap at once.
func (a *attackers) idle(ctx context.Context, dialsPerSec int) {
	tick := time.NewTicker(time.Second / time.Duration(dialsPerSec))
	defer tick.Stop()
	var wg sync.WaitGroup
	for _, ad := range idleAddrs {
		t := a.ts.get(fmt.Sprintf("idle sockets from %s (%d)", ad.ip, ad.slots))
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ad.ip)}, Timeout: 5 * time.Second}
		for range ad.slots {
			wg.Go(func() { a.idleSlot(ctx, d, tick.C, t) })
		}
	}
	wg.Wait()
}

func (a *attackers) idleSlot(ctx context.Context, d *net.Dialer, tick <-chan time.Time, t *tally) {
	buf := make([]byte, 256)
	pause := func(p time.Duration) {
		select {
		case <-ctx.Done():
		case <-time.After(p):
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
		start := time.Now()
		c, err := d.DialContext(ctx, "tcp", a.host)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			t.add("dial failed: "+errClass(err), time.Since(start))
			pause(time.Second)
			continue
		}
		// The phase's end closes the socket; nothing more is counted then.
		unwatch := context.AfterFunc(ctx, func() { c.Close() })
		c.SetReadDeadline(start.Add(firstByteTimeout + 5*time.Second))
		n, err := c.Read(buf)
		took := time.Since(start)
		unwatch()
		c.Close()
		if ctx.Err() != nil {
			return
		}
		switch {
		case n > 0 && bytes.HasPrefix(buf[:n], []byte("HTTP/1.1 429")):
			t.add("refused at once (429)", took)
			pause(2 * time.Second) // an attacker that backs off a little: keeps the dial budget for the rest
		case n > 0:
			line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
			t.add("answered "+line, took)
			a.closedIdle(took)
		case errClass(err) == "timeout":
			t.add(fmt.Sprintf("still open after %v", firstByteTimeout+5*time.Second), took)
		default: // EOF or reset: the server closed it
			t.add("closed by the server", took)
			a.closedIdle(took)
		}
	}
}

func (a *attackers) closedIdle(d time.Duration) {
	a.idleClosed.mu.Lock()
	a.idleClosed.d = append(a.idleClosed.d, d)
	a.idleClosed.mu.Unlock()
}

// signinRequest is a form post to /login with the Origin of the site, so
// that it gets past the cross-site check to the name and password checks.
// The body is parts read one after the other (no copy of the megabytes);
// chunked hides its length, as a client streaming it would.
func (a *attackers) signinRequest(chunked bool, parts ...[]byte) *http.Request {
	readers := make([]io.Reader, len(parts))
	total := 0
	for i, p := range parts {
		readers[i], total = bytes.NewReader(p), total+len(p)
	}
	req, _ := http.NewRequest(http.MethodPost, a.url+"/login", io.MultiReader(readers...))
	if !chunked {
		req.ContentLength = int64(total)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", a.url)
	return req
}

// logins sends 2 MB sign-in names and passwords, every name distinct,
// from workers concurrent clients, each one request per interval; one in
// five is an 8 KiB name instead, small enough to pass the forms' body
// limit and reach the name check itself. Expected: 413 for the big
// bodies (the forms' 16 KiB limit), 401 at once for the 8 KiB names
// (never a limiter key, never hashed).
func (a *attackers) logins(ctx context.Context, workers int, every time.Duration) {
	client := boundClient(loginIP, workers, 30*time.Second)
	defer client.CloseIdleConnections()
	big := bytes.Repeat([]byte("a"), 2<<20)
	mid := bytes.Repeat([]byte("b"), 8<<10)
	var n atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			loop(ctx, every, func() {
				i := n.Add(1)
				distinct := []byte(fmt.Sprintf("n%09d", i))
				var kind string
				var req *http.Request
				switch i % 5 {
				case 0:
					kind, req = "2 MB name", a.signinRequest(false, []byte("name="), distinct, big, []byte("&password=x&next=%2F"))
				case 1:
					kind, req = "2 MB name, chunked", a.signinRequest(true, []byte("name="), distinct, big, []byte("&password=x&next=%2F"))
				case 2:
					kind, req = "2 MB password", a.signinRequest(false, []byte("name="), distinct, []byte("&password="), big)
				case 3:
					kind, req = "2 MB password, chunked", a.signinRequest(true, []byte("name="), distinct, []byte("&password="), big)
				default:
					kind, req = "8 KiB name", a.signinRequest(false, []byte("name="), distinct, mid, []byte("&password=x"))
				}
				_, _, took, outcome := do(client, req)
				a.ts.get("sign-in, "+kind).add(outcome, took)
			})
		})
	}
	wg.Wait()
}

// spray tries a different well-formed name with a wrong password every
// interval from one address: each is hashed (PBKDF2) until the
// per-address limit answers 429 (M5).
func (a *attackers) spray(ctx context.Context, every time.Duration) {
	client := boundClient(sprayIP, 1, 30*time.Second)
	defer client.CloseIdleConnections()
	t := a.ts.get("sign-in spray, distinct names")
	i := 0
	loop(ctx, every, func() {
		i++
		req := a.signinRequest(false, []byte(fmt.Sprintf("name=spray%05d&password=not-the-password&next=%%2F", i)))
		_, _, took, outcome := do(client, req)
		t.add(outcome, took)
	})
}

// errorBodies are the two batches that made the server answer 19.4 and
// 24.4 MB of problems (M7): 6 events with 60,000 unknown keys each, and
// 4 events with one key repeated 130,000 times.
func errorBodies(st *station) (unknown, repeated []byte) {
	ev := func(i int) string {
		return fmt.Sprintf(`{"id":"errbody-%d","type":"completion","station":%q,"ts":%q,"count":1`, i, st.id, eventTime(0))
	}
	var b bytes.Buffer
	b.WriteString("[")
	for i := range 6 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(ev(i))
		for k := range 60_000 {
			fmt.Fprintf(&b, `,"u%d":0`, k)
		}
		b.WriteString("}")
	}
	b.WriteString("]")
	unknown = bytes.Clone(b.Bytes())
	b.Reset()
	b.WriteString("[")
	for i := range 4 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(ev(i))
		b.WriteString(strings.Repeat(`,"a":0`, 130_000))
		b.WriteString("}")
	}
	b.WriteString("]")
	repeated = b.Bytes()
	if len(unknown) > bodyLimit || len(repeated) > bodyLimit {
		panic("chaos: an error-body batch is over the body limit and would get 413, not 400")
	}
	return unknown, repeated
}

// maxErrorAnswer bounds the answer to a batch with a million problems:
// the server keeps 100 items of at most 64 + 256 bytes (about 50 KB).
const maxErrorAnswer = 64 << 10

// errorFlood posts the two error bodies in turn, one per interval.
// Expected: 400 with at most 100 items, items_total counting the rest,
// and an answer of at most maxErrorAnswer.
func (a *attackers) errorFlood(ctx context.Context, every time.Duration) {
	unknown, repeated := errorBodies(a.errStation)
	client := boundClient(errIP, 1, 30*time.Second)
	defer client.CloseIdleConnections()
	bodies := []struct {
		name string
		body []byte
	}{{"6 x 60,000 unknown keys", unknown}, {"4 x 130,000 repeated key", repeated}}
	i := 0
	loop(ctx, every, func() {
		b := bodies[i%2]
		i++
		status, body, took, outcome := do(client, a.eventsRequest(a.errStation, bytes.NewReader(b.body)))
		t := a.ts.get(fmt.Sprintf("error body, %s (%s)", b.name, bytesize(int64(len(b.body)))))
		t.body(len(body))
		if status == http.StatusBadRequest {
			var eb struct {
				Items []json.RawMessage `json:"items"`
				Total int               `json:"items_total"`
			}
			switch err := json.Unmarshal(body, &eb); {
			case err != nil:
				outcome += " (not JSON)"
			case len(body) > maxErrorAnswer:
				outcome += fmt.Sprintf(" too large (%s)", bytesize(int64(len(body))))
			case len(eb.Items) > 100 || eb.Total <= len(eb.Items):
				outcome += fmt.Sprintf(" (%d items, items_total %d: not capped and counted)", len(eb.Items), eb.Total)
			default:
				outcome += fmt.Sprintf(" capped (%d items of %d)", len(eb.Items), eb.Total)
			}
		}
		t.add(outcome, took)
	})
}

// floodBatch is the flooder's batch size: the most a batch may hold.
const floodBatch = 10_000

// flood posts 10,000-event batches from one station token, one per
// interval, ignoring Retry-After. Expected: 202 while the token's event
// budget (eventsBurst, then eventsPerSec) lasts, 429 after; what is
// acknowledged must be stored exactly once.
func (a *attackers) floodEvents(ctx context.Context, every time.Duration) {
	client := boundClient(errIP, 1, 30*time.Second)
	defer client.CloseIdleConnections()
	t := a.ts.get("event flood, 10,000-event batches")
	loop(ctx, every, func() { a.floodOnce(client, t) })
}

func (a *attackers) floodOnce(client *http.Client, t *tally) (status int, retryAfter string) {
	st := a.floodStation
	if st.pending == nil {
		for range floodBatch {
			st.seq++
			st.pending = append(st.pending, event{ID: fmt.Sprintf("flood-%d", st.seq), Type: "completion", Station: st.id,
				TS: eventTime(st.seq), Count: 1})
		}
	}
	body, _ := json.Marshal(st.pending)
	start := time.Now()
	resp, err := client.Do(a.eventsRequest(st, bytes.NewReader(body)))
	if err != nil {
		t.add(errClass(err), time.Since(start))
		a.flood.uncertain = true
		return 0, ""
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	t.add(fmt.Sprint(resp.StatusCode), time.Since(start))
	switch {
	case resp.StatusCode == http.StatusAccepted:
		a.fleet.ack(st.id, st.pending)
		a.flood.acked.Add(int64(len(st.pending)))
		st.pending, a.flood.uncertain = nil, false
	case resp.StatusCode >= 500:
		a.flood.uncertain = true
	}
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// settleFlood makes sure the flooder's last batch is either acknowledged
// or known not stored: after a lost answer it is resent, honouring
// Retry-After, until a 202 says where it stands.
func (a *attackers) settleFlood() error {
	if !a.flood.uncertain {
		a.floodStation.pending = nil // answered 429 (or 4xx): nothing of it was stored
		return nil
	}
	client := boundClient(errIP, 1, 30*time.Second)
	defer client.CloseIdleConnections()
	t := a.ts.get("event flood, settling the last batch")
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); {
		status, ra := a.floodOnce(client, t)
		if status == http.StatusAccepted {
			return nil
		}
		wait := time.Second
		if s, err := time.ParseDuration(ra + "s"); err == nil && ra != "" {
			wait = s
		}
		time.Sleep(wait)
	}
	return fmt.Errorf("the flooder's last batch got no 202 within 2 minutes")
}

// oversized sends a body over its limit whole before reading anything,
// as Python's urllib or a buffering proxy does, in turn 12 MB to
// /api/v1/events (limit 4 MiB) and 2 MB to /login (limit 16 KiB).
// Expected: the 413 is read, never a reset (M8: lingering close).
func (a *attackers) oversized(ctx context.Context, every time.Duration) {
	chunk := bytes.Repeat([]byte("a"), 1<<20)
	i := 0
	loop(ctx, every, func() {
		var head string
		var size int
		var name string
		if i%2 == 0 {
			name, size = "12 MB to /api/v1/events", 12<<20
			head = fmt.Sprintf("POST /api/v1/events HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
				a.host, a.bigStation.token, size)
		} else {
			name, size = "2 MB to /login", 2<<20
			head = fmt.Sprintf("POST /login HTTP/1.1\r\nHost: %s\r\nOrigin: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n",
				a.host, a.url, size)
		}
		i++
		outcome, took := a.sendWhole(head, size, chunk)
		a.ts.get("oversized sent whole, "+name).add(outcome, took)
	})
}

func (a *attackers) sendWhole(head string, size int, chunk []byte) (string, time.Duration) {
	start := time.Now()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(bombIP)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", a.host)
	if err != nil {
		return "dial failed: " + errClass(err), time.Since(start)
	}
	defer c.Close()
	c.SetDeadline(start.Add(20 * time.Second))
	if _, err := io.WriteString(c, head); err != nil {
		return "failed sending: " + errClass(err), time.Since(start)
	}
	for sent := 0; sent < size; sent += len(chunk) {
		if _, err := c.Write(chunk[:min(len(chunk), size-sent)]); err != nil {
			return "failed sending: " + errClass(err), time.Since(start)
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "no answer: " + errClass(err), time.Since(start)
	}
	resp.Body.Close()
	return fmt.Sprint(resp.StatusCode), time.Since(start)
}
