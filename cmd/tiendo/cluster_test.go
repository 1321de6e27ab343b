package main

// The cluster preview on the real binary: three `tiendo log-server`
// processes form a JetStream cluster on loopback, two `tiendo serve --log`
// nodes share it and one ClickHouse server (Debian's clickhouse-server).
// Tokens are still each node's own (state.db): each node issues its own
// station token here.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"tiendo/store/storetest"
)

// logServer is a running `tiendo log-server`.
type logServer struct {
	cmd *exec.Cmd
	url string
	log string
}

// startLogServers starts n log servers routed to one another and waits
// for each to print its URL (JetStream answering through it). Cleanup
// stops them with SIGTERM and expects a clean exit.
func startLogServers(t *testing.T, n int) []*logServer {
	t.Helper()
	bin := tiendoBinary(t)
	dir := t.TempDir()
	var clients, routes []string
	for range n {
		clients = append(clients, freeAddr(t))
		routes = append(routes, "nats://"+freeAddr(t))
	}
	servers := make([]*logServer, n)
	urls := make(chan error, n)
	for i := range n {
		s := &logServer{log: filepath.Join(dir, fmt.Sprintf("n%d.log", i+1))}
		servers[i] = s
		logf, err := os.Create(s.log)
		if err != nil {
			t.Fatal(err)
		}
		s.cmd = exec.Command(bin, "log-server", "--data", filepath.Join(dir, fmt.Sprintf("n%d", i+1)),
			"--addr", clients[i], "--cluster", strings.TrimPrefix(routes[i], "nats://"),
			"--routes", strings.Join(routes, ","), "--name", fmt.Sprintf("n%d", i+1))
		out, err := s.cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		s.cmd.Stderr = logf
		if err := s.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			line, err := bufio.NewReader(out).ReadString('\n')
			s.url = strings.TrimSpace(line)
			if err == nil && !strings.HasPrefix(s.url, "nats://") {
				err = fmt.Errorf("log server %d printed %q, want its nats:// URL", i+1, line)
			}
			urls <- err
			_, _ = io.Copy(io.Discard, out)
		}()
	}
	t.Cleanup(func() {
		for i, s := range servers {
			if s.cmd.Process == nil || s.cmd.ProcessState != nil {
				continue
			}
			_ = s.cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan error, 1)
			go func() { done <- s.cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("log server %d after SIGTERM: %v", i+1, err)
				}
			case <-time.After(15 * time.Second):
				_ = s.cmd.Process.Kill()
				t.Errorf("log server %d did not stop within 15 s of SIGTERM", i+1)
			}
		}
	})
	deadline := time.After(60 * time.Second)
	for range n {
		select {
		case err := <-urls:
			if err != nil {
				t.Fatal(err)
			}
		case <-deadline:
			for _, s := range servers {
				b, _ := os.ReadFile(s.log)
				t.Logf("%s:\n%s", s.log, b)
			}
			t.Fatal("log servers did not all print their URLs within 60 s")
		}
	}
	return servers
}

// tryPost posts a batch, reporting a transport error (a killed node)
// instead of failing the test.
func tryPost(p *serverProc, token string, body []byte) (response, error) {
	req, _ := http.NewRequest(http.MethodPost, p.url()+"/api/v1/events", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	c := http.Client{Timeout: 15 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r, nil
}

// leading reports whether node p's flusher holds the flush lease
// (tiendo_flush_leader in /metrics); false when p does not answer.
func (p *serverProc) leading() bool {
	resp, err := p.read("/metrics")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "tiendo_flush_leader "); ok {
			return strings.TrimSpace(v) == "1"
		}
	}
	return false
}

// batch is n completions of station with ids prefix-<i>.
func batch(station, prefix string, from, n int) []byte {
	var evs []map[string]any
	ts := time.Date(2021, 3, 20, 21, 0, 0, 0, time.FixedZone("ICT", 7*3600))
	for i := from; i < from+n; i++ {
		evs = append(evs, map[string]any{"id": fmt.Sprintf("%s-%05d", prefix, i), "type": "completion", "station": station,
			"ts": ts.Add(time.Duration(i) * time.Second).Format(time.RFC3339), "count": 1, "kind": "standard"})
	}
	b, _ := json.Marshal(evs)
	return b
}

func TestClusterTwoNodes(t *testing.T) {
	began := time.Now()
	ch, err := storetest.StartClickHouseServer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Stop() })
	logs := startLogServers(t, 3)
	var urls []string
	for _, s := range logs {
		urls = append(urls, s.url)
	}
	t.Logf("ClickHouse and 3 log servers up in %v", time.Since(began).Round(time.Millisecond))
	dsn := ch.DSN + "tiendo"
	nodes := []*serverProc{
		startServer(t, t.TempDir(), dsn, "--log", strings.Join(urls, ","), "--node-name", "a"),
		startServer(t, t.TempDir(), dsn, "--log", strings.Join(urls, ","), "--node-name", "b"),
	}
	a, b := nodes[0], nodes[1]
	const station = "LS-BS-VULE"
	tokens := []string{a.stationToken(station), b.stationToken(station)}
	t.Logf("two nodes up in %v", time.Since(began).Round(time.Millisecond))

	// A batch posted to A and retried on B is counted once.
	first := batch(station, "d", 0, 3)
	if r := a.post(tokens[0], "application/json", first); r.status != 202 || r.body["accepted"] != 3.0 {
		t.Fatalf("batch on A: %d %s", r.status, r.raw)
	}
	if r := b.post(tokens[1], "application/json", first); r.status != 202 || r.body["accepted"] != 0.0 || r.body["duplicates"] != 3.0 {
		t.Fatalf("the same batch retried on B: %d %s; want 202, 0 accepted, 3 duplicates", r.status, r.raw)
	}
	want := 3.0
	waitFor(t, "both nodes to count the batch once", func() bool {
		return a.completed("province") == want && b.completed("province") == want
	})

	// An event accepted by A is in B's snapshot within 2 s (whoever
	// flushes, and whether or not it has been flushed yet).
	var slowest time.Duration
	for i := range 5 {
		if r := a.post(tokens[0], "application/json", batch(station, "v", i, 1)); r.status != 202 {
			t.Fatalf("event on A: %d %s", r.status, r.raw)
		}
		posted := time.Now()
		want++
		for b.completed("province") != want {
			if time.Since(posted) > 2*time.Second {
				t.Fatalf("event %d accepted by A not in B's snapshot within 2 s (B says %v, want %v)", i, b.completed("province"), want)
			}
			time.Sleep(20 * time.Millisecond)
		}
		slowest = max(slowest, time.Since(posted))
		time.Sleep(300 * time.Millisecond) // another phase of the flush cycle
	}
	t.Logf("convergence on the other node: slowest of 5 events %v", slowest.Round(time.Millisecond))

	// What one node issues or revokes holds on the other within 2 s, open
	// WebSockets included: the control-plane state is shared (store/kvstate).
	out, err := a.cli("token", "issue", "--role", "leader")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	leaderTok := lines[len(lines)-1]
	issued := time.Now()
	waitFor(t, "a token issued on A to read on B", func() bool {
		st, _ := b.request(t, http.MethodGet, "/api/v1/snapshot?scope=province", leaderTok)
		return st == http.StatusOK
	})
	t.Logf("token issued on A, accepted by B after %v", time.Since(issued).Round(time.Millisecond))
	h := http.Header{}
	h.Set("Authorization", "Bearer "+leaderTok)
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+b.addr+"/ws?scope=province", h)
	if err != nil {
		t.Fatalf("WebSocket on B with A's token: %v", err)
	}
	defer ws.Close()
	if _, _, err := ws.ReadMessage(); err != nil {
		t.Fatalf("B's first live message: %v", err)
	}
	closed := make(chan error, 1)
	go func() {
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				closed <- err
				return
			}
		}
	}()
	if _, err := a.cli("token", "revoke", "--token", leaderTok); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	select {
	case err := <-closed:
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation {
			t.Errorf("B closed the socket with %v, want close 1008 (policy)", err)
		}
		t.Logf("token revoked on A: B closed its WebSocket after %v", time.Since(revoked).Round(time.Millisecond))
	case <-time.After(2 * time.Second):
		t.Fatal("token revoked on A: B's WebSocket still open after 2 s")
	}
	if st, _ := b.request(t, http.MethodGet, "/api/v1/snapshot?scope=province", leaderTok); st != http.StatusUnauthorized {
		t.Errorf("the revoked token on B: %d, want 401", st)
	}
	// tiendo admin init issues an admin token for the whole cluster,
	// through the log servers alone.
	initOut, err := exec.Command(a.bin, "admin", "init", "--log", strings.Join(urls, ",")).Output()
	if err != nil {
		t.Fatalf("tiendo admin init: %v", err)
	}
	clusterAdmin := strings.TrimSpace(string(initOut))
	for name, n := range map[string]*serverProc{"A": a, "B": b} {
		waitFor(t, "the admin init token to work on "+name, func() bool {
			st, _ := n.request(t, http.MethodGet, "/api/v1/admin/tokens", clusterAdmin)
			return st == http.StatusOK
		})
	}

	// Kill -9 the flush leader while events flow: the other node takes
	// over the lease, and ClickHouse ends with each acknowledged event
	// exactly once. A batch whose node died unanswered is retried on the
	// other node with the same ids, as an agent would.
	var leader int
	waitFor(t, "a flush leader", func() bool {
		for i, n := range nodes {
			if n.leading() {
				leader = i
				return true
			}
		}
		return false
	})
	other := 1 - leader
	acked := map[string]bool{}
	for i := range 3 {
		acked[fmt.Sprintf("d-%05d", i)] = true
	}
	for i := range 5 {
		acked[fmt.Sprintf("v-%05d", i)] = true
	}
	// Four agents post 20-event batches to both nodes in turn, each batch
	// retried on the other node until a 202; the leader dies while they do.
	var mu sync.Mutex
	retried := 0
	var latencies []time.Duration // to 202, of first tries
	var failure error
	var alive atomic.Int32
	alive.Store(3) // both nodes
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 30 {
				body := batch(station, fmt.Sprintf("f%d", w), k*20, 20)
				target := (w + k) % 2
				if alive.Load() != 3 {
					target = other
				}
				sent := time.Now()
				r, err := tryPost(nodes[target], tokens[target], body)
				if err == nil && r.status == 202 {
					mu.Lock()
					latencies = append(latencies, time.Since(sent))
					mu.Unlock()
				}
				if err != nil || r.status != 202 {
					mu.Lock()
					retried++
					mu.Unlock()
					deadline := time.Now().Add(20 * time.Second)
					for err != nil || r.status != 202 {
						if time.Now().After(deadline) {
							mu.Lock()
							failure = fmt.Errorf("batch %d of agent %d not accepted by the surviving node within 20 s: %v %d %s", k, w, err, r.status, r.raw)
							mu.Unlock()
							return
						}
						time.Sleep(50 * time.Millisecond)
						r, err = tryPost(nodes[other], tokens[other], body)
					}
				}
				mu.Lock()
				for i := range 20 {
					acked[fmt.Sprintf("f%d-%05d", w, k*20+i)] = true
				}
				mu.Unlock()
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	time.Sleep(400 * time.Millisecond)
	nodes[leader].kill()
	killedAt := time.Now()
	alive.Store(1)
	wg.Wait()
	if failure != nil {
		t.Fatal(failure)
	}
	waitFor(t, "the surviving node to take over the flush lease", func() bool { return nodes[other].leading() })
	takeover := time.Since(killedAt)
	survivor := nodes[other]
	waitFor(t, "the survivor to flush everything", func() bool { return survivor.storage()["pending"] == 0.0 })
	flushed := time.Since(killedAt)
	got := survivor.clickhouseCount(t, ch, "SELECT count(), uniqExact(station, id), sum(count) FROM tiendo.completions")
	if w := fmt.Sprintf("%d\t%d\t%d", len(acked), len(acked), len(acked)); got != w {
		t.Fatalf("ClickHouse holds (rows, distinct ids, records) = %s, want %s: every acknowledged event exactly once", got, w)
	}
	if c := survivor.completed("province"); c != float64(len(acked)) {
		t.Fatalf("the survivor's snapshot counts %v, want %d", c, len(acked))
	}
	slices.Sort(latencies)
	t.Logf("20-event batches by 4 agents: 202 after p50 %v, p99 %v (%d batches)", latencies[len(latencies)/2].Round(time.Microsecond),
		latencies[len(latencies)*99/100].Round(time.Microsecond), len(latencies))
	t.Logf("kill -9 of the leader while 4 agents post: %d batches retried on the other node; lease taken over after %v, log drained into ClickHouse %v after the kill; %d events, each once",
		retried, takeover.Round(time.Millisecond), flushed.Round(time.Millisecond), len(acked))

	// The dead node comes back; SIGTERM to the leader: it drains, stops and
	// releases the lease, and the other node takes over at once, not after
	// the TTL. Events posted across the handover are stored once too.
	nodes[leader].start("--log", strings.Join(urls, ","), "--node-name", []string{"a", "b"}[leader])
	for k := range 10 {
		body := batch(station, "g", k*10, 10)
		target := k % 2
		if r := nodes[target].post(tokens[target], "application/json", body); r.status != 202 {
			t.Fatalf("after the restart, batch %d on node %d: %d %s", k, target, r.status, r.raw)
		}
		for i := range 10 {
			acked[fmt.Sprintf("g-%05d", k*10+i)] = true
		}
	}
	stopped := time.Now()
	if err := survivor.terminate(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	stopTook := time.Since(stopped)
	back := nodes[leader]
	waitFor(t, "the restarted node to take over the lease", back.leading)
	handover := time.Since(stopped)
	waitFor(t, "the restarted node to flush everything", func() bool { return back.storage()["pending"] == 0.0 })
	got = back.clickhouseCount(t, ch, "SELECT count(), uniqExact(station, id), sum(count) FROM tiendo.completions")
	if w := fmt.Sprintf("%d\t%d\t%d", len(acked), len(acked), len(acked)); got != w {
		t.Fatalf("after the handover ClickHouse holds (rows, distinct ids, records) = %s, want %s", got, w)
	}
	if c := back.completed("province"); c != float64(len(acked)) {
		t.Fatalf("the restarted node's snapshot counts %v, want %d", c, len(acked))
	}
	t.Logf("SIGTERM of the leader: stopped in %v, lease handed over %v after the signal; %d events, each once",
		stopTook.Round(time.Millisecond), handover.Round(time.Millisecond), len(acked))
	t.Logf("whole test %v", time.Since(began).Round(time.Millisecond))
}

// terminate sends SIGTERM and waits for a clean exit.
func (p *serverProc) terminate(within time.Duration) error {
	if p.cmd == nil {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		p.cmd = nil
		if err != nil {
			b, _ := os.ReadFile(p.logFile)
			return fmt.Errorf("after SIGTERM: %v; log:\n%s", err, b)
		}
		return nil
	case <-time.After(within):
		return fmt.Errorf("no exit within %v of SIGTERM", within)
	}
}
