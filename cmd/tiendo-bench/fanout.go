package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fasthttp/websocket"

	"tiendo/readmodel"
)

// The fan-out's screens run in worker processes (tiendo-bench clients), at
// most clientsPerWorker each: a process may hold only so many sockets
// (RLIMIT_NOFILE), and the measuring process stays lean.
const clientsPerWorker = 10_000

// arrival is one message reaching one client.
type arrival struct {
	seq uint64
	at  int64 // unix nanoseconds: comparable across the processes of this machine
}

// wsClient is one screen: it reads every message, keeps its seq and
// arrival time, and discards the rest of the bytes.
type wsClient struct {
	conn     *websocket.Conn
	decode   bool // decode every message before it counts as arrived
	arrivals []arrival
	first    chan struct{}
	gotFirst atomic.Bool
	closing  atomic.Bool
	done     chan struct{}
}

var seqKey = []byte(`"seq":`)

// parseSeq finds "seq":N in the head of a live message.
func parseSeq(head []byte) (uint64, bool) {
	i := bytes.Index(head, seqKey)
	if i < 0 {
		return 0, false
	}
	j := i + len(seqKey)
	k := j
	for k < len(head) && head[k] >= '0' && head[k] <= '9' {
		k++
	}
	n, err := strconv.ParseUint(string(head[j:k]), 10, 64)
	return n, err == nil
}

// readBufs are the clients' scratch buffers: large reads keep the load
// generator's syscalls (and its share of the two cores) down.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

func discard(r io.Reader) error {
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	for {
		_, err := r.Read(*bp)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (c *wsClient) readLoop() {
	defer close(c.done)
	if c.decode {
		c.decodeLoop()
		return
	}
	head := make([]byte, 96)
	for {
		_, r, err := c.conn.NextReader()
		if err != nil {
			return
		}
		n, _ := io.ReadFull(r, head)
		at := time.Now().UnixNano()
		if err := discard(r); err != nil {
			return
		}
		if seq, ok := parseSeq(head[:n]); ok {
			c.arrivals = append(c.arrivals, arrival{seq: seq, at: at})
		}
		if c.gotFirst.CompareAndSwap(false, true) {
			close(c.first)
		}
	}
}

// decodeLoop is a screen that decodes: each message read whole and
// parsed (JSON into a tree, as JSON.parse does in the browser); it has
// arrived once that is done. The patch is not applied: 10,000 states in
// one process would measure this box's memory, and applying a patch costs
// far less than parsing it (the reference client applies them).
func (c *wsClient) decodeLoop() {
	for {
		_, msg, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		var m struct {
			Type             string `json:"type"`
			Seq              uint64 `json:"seq"`
			Snapshot, Charts any
		}
		err = json.Unmarshal(msg, &m)
		at := time.Now().UnixNano()
		if err == nil && (m.Type == "snapshot" || m.Type == "update") {
			c.arrivals = append(c.arrivals, arrival{seq: m.Seq, at: at})
		}
		if c.gotFirst.CompareAndSwap(false, true) {
			close(c.first)
		}
	}
}

// disconnected reports whether the connection ended before we closed it.
func (c *wsClient) disconnected() bool {
	select {
	case <-c.done:
		return !c.closing.Load()
	default:
		return false
	}
}

func (c *wsClient) close() {
	c.closing.Store(true)
	if tc, ok := c.conn.UnderlyingConn().(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // no TIME_WAIT pile-up between phases
	}
	_ = c.conn.Close()
}

// errAtCapacity is the server's clean refusal (503) past its live-connection cap.
var errAtCapacity = errors.New("503: server at live-connection capacity")

var dialer = &websocket.Dialer{HandshakeTimeout: 15 * time.Second, ReadBufferSize: 4096, WriteBufferSize: 512}

func dialWS(ctx context.Context, url, token string) (*websocket.Conn, error) {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+token)
	conn, resp, err := dialer.DialContext(ctx, url, h)
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusServiceUnavailable {
			return nil, errAtCapacity
		}
		if resp != nil {
			return nil, fmt.Errorf("%v (status %d)", err, resp.StatusCode)
		}
		return nil, err
	}
	conn.SetReadLimit(64 << 20)
	return conn, nil
}

// --- the worker process: tiendo-bench clients ---

type workerReady struct {
	Served     int    `json:"served"`
	DialErrors int    `json:"dial_errors"`
	Refused    int    `json:"refused"` // 503: the server at its live-connection capacity
	FirstErr   string `json:"first_err,omitempty"`
}

type workerTag struct {
	Seq   uint64 `json:"seq"` // first seq whose state counts the tag; 0: never seen
	At202 int64  `json:"at"`  // unix ns of the tag's 202
}

type workerResult struct {
	Lat         []int64 `json:"lat"`     // ns, one per (tag, served client), tag by tag
	PerTag      []int   `json:"per_tag"` // how many of Lat each tag has, in tag order
	Undelivered int     `json:"undelivered"`
	Disconnects int     `json:"disconnects"`
}

// runClients is the worker: it connects n screens, says how many got their
// snapshot, then waits for the tags on stdin and answers the latencies.
func runClients(ctx context.Context, args []string) error {
	var url, tokenFile string
	var n, perToken int
	var decode bool
	for i := 0; i+1 < len(args); i += 2 {
		switch args[i] {
		case "--decode":
			decode = args[i+1] == "true"
		case "--url":
			url = args[i+1]
		case "--tokens":
			tokenFile = args[i+1]
		case "--n":
			n, _ = strconv.Atoi(args[i+1])
		case "--per-token":
			perToken, _ = strconv.Atoi(args[i+1])
		}
	}
	tb, err := os.ReadFile(tokenFile)
	if err != nil {
		return err
	}
	tokens := strings.Fields(string(tb))
	if len(tokens) == 0 || perToken < 1 || (n+perToken-1)/perToken > len(tokens) {
		return fmt.Errorf("clients: %d tokens for %d clients at %d per token", len(tokens), n, perToken)
	}
	raiseNoFile()
	clients := make([]*wsClient, 0, n)
	var ready workerReady
	var mu sync.Mutex
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := 0; i < n && ctx.Err() == nil; i++ {
		sem <- struct{}{}
		wg.Add(1)
		token := tokens[i/perToken]
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			dctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			conn, err := dialWS(dctx, url, token)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && errors.Is(err, errAtCapacity) {
				ready.Refused++
				return
			}
			if err != nil {
				ready.DialErrors++
				if ready.FirstErr == "" {
					ready.FirstErr = err.Error()
				}
				return
			}
			c := &wsClient{conn: conn, decode: decode, first: make(chan struct{}), done: make(chan struct{})}
			clients = append(clients, c)
			go c.readLoop()
		}()
	}
	wg.Wait()
	deadline := time.After(2 * time.Minute)
	for _, c := range clients {
		select {
		case <-c.first:
		case <-c.done:
		case <-deadline:
		}
	}
	for _, c := range clients {
		if c.gotFirst.Load() {
			ready.Served++
		}
	}
	b, _ := json.Marshal(ready)
	fmt.Println(string(b))

	// Wait for the tags (bounded: the parent sends them within minutes).
	tagsCh := make(chan []workerTag, 1)
	go func() {
		var tags []workerTag
		sc := bufio.NewScanner(os.Stdin)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		if sc.Scan() {
			_ = json.Unmarshal(sc.Bytes(), &tags)
		}
		tagsCh <- tags
	}()
	var tags []workerTag
	select {
	case tags = <-tagsCh:
	case <-time.After(15 * time.Minute):
	case <-ctx.Done():
	}
	var res workerResult
	for _, c := range clients {
		if c.disconnected() {
			res.Disconnects++
		}
	}
	for _, c := range clients {
		c.close()
	}
	for _, c := range clients {
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
		}
	}
	for _, t := range tags {
		res.PerTag = append(res.PerTag, 0)
		for _, c := range clients {
			if !c.gotFirst.Load() {
				continue
			}
			if t.Seq == 0 {
				res.Undelivered++
				continue
			}
			i := sort.Search(len(c.arrivals), func(i int) bool { return c.arrivals[i].seq >= t.Seq })
			if i == len(c.arrivals) {
				res.Undelivered++
				continue
			}
			res.Lat = append(res.Lat, max(c.arrivals[i].at-t.At202, 0))
			res.PerTag[len(res.PerTag)-1]++
		}
	}
	b, _ = json.Marshal(res)
	fmt.Println(string(b))
	return nil
}

// worker is a running tiendo-bench clients process.
type worker struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Scanner
	done  chan struct{}
	ready workerReady
}

func startWorker(url, tokenFile string, n, perToken int, decode bool) (*worker, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "clients", "--url", url, "--tokens", tokenFile, "--n", strconv.Itoa(n), "--per-token", strconv.Itoa(perToken),
		"--decode", strconv.FormatBool(decode))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	w := &worker{cmd: cmd, in: in, out: bufio.NewScanner(out), done: make(chan struct{})}
	w.out.Buffer(make([]byte, 1<<20), 256<<20)
	go func() { _ = cmd.Wait(); close(w.done) }()
	atCleanup(w.kill)
	return w, nil
}

func (w *worker) kill() {
	_ = syscall.Kill(-w.cmd.Process.Pid, syscall.SIGKILL)
	<-w.done
}

// line reads the worker's next JSON line, waiting at most timeout.
func (w *worker) line(timeout time.Duration, v any) error {
	got := make(chan error, 1)
	go func() {
		if w.out.Scan() {
			got <- json.Unmarshal(w.out.Bytes(), v)
			return
		}
		got <- fmt.Errorf("worker ended: %v", w.out.Err())
	}()
	select {
	case err := <-got:
		return err
	case <-time.After(timeout):
		w.kill()
		return fmt.Errorf("worker did not answer within %v", timeout)
	}
}

// refClient parses every message fully: which seq first counts the tag
// station's records, and how large updates are.
type refClient struct {
	conn       *websocket.Conn
	tag        string
	patches    bool // updates are patches: follow the state to read the tag station
	follow     readmodel.Follower
	mu         sync.Mutex
	byseq      map[uint64]int64     // seq -> the tag station's completed at that seq
	arrived    map[uint64]time.Time // seq -> when its message had been read and followed
	cur        int64
	known      bool
	now        time.Time // the snapshot's "now": the server's (replay) clock
	updates    int
	bytes      int64
	chartBytes int64
	snapLen    int
	gaps       int
	lastSeq    uint64
	first      chan struct{}
	done       chan struct{}
}

type liveMsg struct {
	Type     string                     `json:"type"`
	Seq      uint64                     `json:"seq"`
	Charts   map[string]json.RawMessage `json:"charts"`
	Snapshot struct {
		Now      time.Time `json:"now"`
		Stations []struct {
			ID        string `json:"id"`
			Completed int64  `json:"completed"`
		} `json:"stations"`
	} `json:"snapshot"`
}

func dialRef(ctx context.Context, url, token, tag string, patches bool) (*refClient, error) {
	conn, err := dialWS(ctx, url, token)
	if err != nil {
		return nil, err
	}
	r := &refClient{conn: conn, tag: tag, patches: patches, byseq: map[uint64]int64{}, arrived: map[uint64]time.Time{}, first: make(chan struct{}), done: make(chan struct{})}
	go r.loop()
	return r, nil
}

func (r *refClient) loop() {
	defer close(r.done)
	firstSeen := false
	for {
		_, b, err := r.conn.ReadMessage()
		if err != nil {
			return
		}
		var m liveMsg
		if err := json.Unmarshal(b, &m); err != nil {
			continue
		}
		r.mu.Lock()
		if !m.Snapshot.Now.IsZero() {
			r.now = m.Snapshot.Now
		}
		stations := m.Snapshot.Stations
		if r.patches {
			// An update's stations are patches: read the tag from the state.
			if _, err := r.follow.Feed(b); errors.Is(err, readmodel.ErrResync) {
				_ = r.conn.WriteJSON(map[string]string{"type": "resync"})
			}
			stations = nil
			r.follow.Value(&stations, "stations")
		}
		for _, st := range stations {
			if st.ID == r.tag {
				r.cur, r.known = st.Completed, true
			}
		}
		if m.Type == "snapshot" || m.Type == "update" {
			if r.known {
				r.byseq[m.Seq] = r.cur
			}
			if _, ok := r.arrived[m.Seq]; !ok {
				r.arrived[m.Seq] = time.Now()
			}
			if r.lastSeq != 0 && m.Seq != r.lastSeq+1 && m.Type == "update" {
				r.gaps++
			}
			r.lastSeq = m.Seq
		}
		if m.Type == "update" {
			r.updates++
			r.bytes += int64(len(b))
			for _, c := range m.Charts {
				r.chartBytes += int64(len(c))
			}
		} else if m.Type == "snapshot" {
			r.snapLen = len(b)
		}
		known := r.known && r.cur > 0
		r.mu.Unlock()
		if !firstSeen && known {
			firstSeen = true
			close(r.first)
		}
	}
}

// clock is the server's "now" as its last message said.
func (r *refClient) clock() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.now
}

func (r *refClient) value() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cur
}

// firstSeqWith is the first seq at which the tag station counts at least v records.
func (r *refClient) firstSeqWith(v int64) (uint64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	best, ok := uint64(0), false
	for s, c := range r.byseq {
		if c >= v && (!ok || s < best) {
			best, ok = s, true
		}
	}
	return best, ok
}

type fanoutResult struct {
	clients      int
	connected    int
	dialErrors   int
	refused      int // 503 at the server's live-connection cap, counted apart from errors
	firstDialErr string
	connectTime  time.Duration
	lat          []time.Duration
	perTag       []tagSummary
	undelivered  int
	tags         int
	rssBeforeKB  int64
	rssAfterKB   int64
	serverCPU    float64 // cores, over the window
	chCPU        float64
	benchCPU     float64
	window       time.Duration
	disconnects  int
	updates      int
	updateBytes  int64
	chartBytes   int64
	snapshotLen  int
	gaps         int
	background   string
	bgEvents     float64 // events/s accepted by the server during the window
	serverFDs    int
	tokens       int
}

func (f *fanoutResult) rssPerConnKB() float64 {
	return float64(f.rssAfterKB-f.rssBeforeKB) / float64(max(f.connected, 1))
}

type fanoutSpec struct {
	clients  int
	perToken int // live connections per screen token
	window   time.Duration
	tagEvery time.Duration
	tag      loadStation
	chPID    int  // ClickHouse server's pid, 0 for chDB
	decode   bool // clients decode every message
	patches  bool // the server sends patches
	// background starts the load that runs during the phase and returns
	// a description and a stop function.
	background func(ctx context.Context) (string, func(), error)
}

func wsURL(srv *server) string {
	return "ws" + strings.TrimPrefix(srv.url, "http") + "/ws?scope=province"
}

func countFDs(pid int) int {
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(ents)
}

// runFanout connects spec.clients screens to srv's province scope while
// the background load runs, posts a tagged completion every tagEvery and
// measures, per client, the time from the tag's 202 to the first message
// whose state includes it.
func runFanout(ctx context.Context, srv *server, spec fanoutSpec) (*fanoutResult, error) {
	res := &fanoutResult{clients: spec.clients}
	desc, stopBG, err := spec.background(ctx)
	if err != nil {
		return nil, err
	}
	res.background = desc
	defer stopBG()

	ref, err := dialRef(ctx, wsURL(srv), srv.admin, spec.tag.id, spec.patches)
	if err != nil {
		return nil, fmt.Errorf("reference client: %w", err)
	}
	defer ref.conn.Close()
	// The server runs on the replay clock, as make demo does: "now" is the
	// newest event's time, so the tags are stamped with it (a tag from
	// another day would move the clock). Wait for the background's first
	// events to set it.
	for wait := time.Now().Add(30 * time.Second); ref.clock().Year() < 2021; {
		if time.Now().After(wait) {
			return nil, fmt.Errorf("reference client: the server's clock did not reach the campaign in 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The tag station has no records yet: post one so it has a figure.
	if _, err := postTag(ctx, srv, spec.tag, ref.clock()); err != nil {
		return nil, err
	}
	select {
	case <-ref.first:
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("reference client saw no records of the tag station %s in 30 s", spec.tag.id)
	}
	time.Sleep(3 * time.Second)
	res.rssBeforeKB, _ = rssKB(srv.pid())

	// Leader tokens: the clients watch the overview's topic (province,
	// desk view), the one the reference client (admin) follows, so that a
	// seq means the same message to both; it is also the largest topic (a
	// screen token's command-room view leaves the stations out, and its
	// seqs are its own). The server caps live connections per account
	// (--per-token, its default 50), as a command room's players would share one.
	var tokens []string
	for i := 0; i < (spec.clients+spec.perToken-1)/spec.perToken; i++ {
		tok, err := srv.issueRoleToken(ctx, "leader")
		if err != nil {
			return nil, err
		}
		tokens = append(tokens, tok)
	}
	res.tokens = len(tokens)
	// Connect the screens through the workers.
	t0 := time.Now()
	var workers []*worker
	for k, left := 0, spec.clients; left > 0; k, left = k+1, left-clientsPerWorker {
		n := min(left, clientsPerWorker)
		first := k * clientsPerWorker / spec.perToken
		file := filepath.Join(srv.data, fmt.Sprintf("screen-tokens-%d", k))
		last := min(first+(n+spec.perToken-1)/spec.perToken, len(tokens))
		if err := os.WriteFile(file, []byte(strings.Join(tokens[first:last], "\n")), 0o600); err != nil {
			return nil, err
		}
		w, err := startWorker(wsURL(srv), file, n, spec.perToken, spec.decode)
		if err != nil {
			return nil, err
		}
		workers = append(workers, w)
	}
	defer func() {
		for _, w := range workers {
			w.kill()
		}
	}()
	for _, w := range workers {
		if err := w.line(5*time.Minute, &w.ready); err != nil {
			return nil, err
		}
		res.connected += w.ready.Served
		res.dialErrors += w.ready.DialErrors
		res.refused += w.ready.Refused
		if res.firstDialErr == "" {
			res.firstDialErr = w.ready.FirstErr
		}
	}
	res.connectTime = time.Since(t0)
	time.Sleep(3 * time.Second)
	res.rssAfterKB, _ = rssKB(srv.pid())
	res.serverFDs = countFDs(srv.pid())
	// With bin/tiendo-profserve and $TIENDO_BENCH_PROFILES: heap and
	// goroutines now, and the CPU profile of the window.
	profDir := os.Getenv("TIENDO_BENCH_PROFILES")
	pprofAddr, _ := os.ReadFile(filepath.Join(srv.data, "pprof.addr"))
	var profWG sync.WaitGroup
	if profDir != "" && len(pprofAddr) > 0 {
		base := fmt.Sprintf("http://%s/debug/pprof/", pprofAddr)
		name := fmt.Sprintf("%s/fanout-%d-%d", profDir, spec.clients, srv.pid())
		fetch(base+"heap", name+"-heap.prof")
		fetch(base+"goroutine?debug=1", name+"-goroutines.txt")
		profWG.Add(1)
		go func() {
			defer profWG.Done()
			fetch(fmt.Sprintf("%sprofile?seconds=%d", base, int(spec.window.Seconds())), name+"-cpu.prof")
		}()
	}
	defer profWG.Wait()

	// The window: tags, CPU, background rate.
	accBefore, _ := srv.metrics(ctx)
	workerCPU := func() float64 {
		var s float64
		for _, w := range workers {
			s += cpuSeconds(w.cmd.Process.Pid)
		}
		return s + selfCPU()
	}
	cpuS0, cpuC0, cpuB0 := cpuSeconds(srv.pid()), cpuSeconds(spec.chPID), workerCPU()
	w0 := time.Now()
	base := ref.value()
	ref.mu.Lock()
	upd0, bytes0, chart0 := ref.updates, ref.bytes, ref.chartBytes
	ref.mu.Unlock()
	type tagPost struct {
		at    time.Time
		value int64
	}
	var tags []tagPost
	rng := rand.New(rand.NewPCG(uint64(spec.clients), 7))
	k := int64(0)
	for time.Since(w0) < spec.window && ctx.Err() == nil {
		jitter := time.Duration(rng.Int64N(int64(spec.tagEvery)/2)) - spec.tagEvery/4
		time.Sleep(spec.tagEvery + jitter)
		k++
		at, err := postTag(ctx, srv, spec.tag, ref.clock())
		if err != nil {
			return nil, err
		}
		tags = append(tags, tagPost{at: at, value: base + k})
	}
	// Let the last tags arrive everywhere (rounds come at least every 5 s).
	time.Sleep(6 * time.Second)
	res.window = time.Since(w0)
	res.serverCPU = (cpuSeconds(srv.pid()) - cpuS0) / res.window.Seconds()
	if spec.chPID > 0 {
		res.chCPU = (cpuSeconds(spec.chPID) - cpuC0) / res.window.Seconds()
	}
	res.benchCPU = (workerCPU() - cpuB0) / res.window.Seconds()
	accAfter, _ := srv.metrics(ctx)
	const acc = `tiendo_ingest_events_total{outcome="accepted"}`
	res.bgEvents = (accAfter[acc] - accBefore[acc]) / res.window.Seconds()

	ref.mu.Lock()
	res.updates, res.updateBytes, res.snapshotLen, res.gaps = ref.updates-upd0, ref.bytes-bytes0, ref.snapLen, ref.gaps
	res.chartBytes = ref.chartBytes - chart0
	ref.mu.Unlock()

	wt := make([]workerTag, len(tags))
	res.perTag = make([]tagSummary, len(tags))
	for i, t := range tags {
		s, _ := ref.firstSeqWith(t.value)
		wt[i] = workerTag{Seq: s, At202: t.at.UnixNano()}
		res.perTag[i] = tagSummary{seq: s, at: t.at}
		ref.mu.Lock()
		if at, ok := ref.arrived[s]; ok && s > 0 {
			res.perTag[i].ref = at.Sub(t.at)
		}
		ref.mu.Unlock()
	}
	res.tags = len(tags)
	line, _ := json.Marshal(wt)
	for _, w := range workers {
		if _, err := w.in.Write(append(line, '\n')); err != nil {
			return nil, fmt.Errorf("worker: %w", err)
		}
	}
	for _, w := range workers {
		var wr workerResult
		if err := w.line(2*time.Minute, &wr); err != nil {
			return nil, err
		}
		res.undelivered += wr.Undelivered
		res.disconnects += wr.Disconnects
		k := 0
		for i, n := range wr.PerTag {
			for _, l := range wr.Lat[k : k+n] {
				if i < len(res.perTag) {
					res.perTag[i].lat = append(res.perTag[i].lat, time.Duration(l))
				}
			}
			k += n
		}
		for _, l := range wr.Lat {
			res.lat = append(res.lat, time.Duration(l))
		}
	}
	sort.Slice(res.lat, func(i, j int) bool { return res.lat[i] < res.lat[j] })
	for i := range res.perTag {
		l := res.perTag[i].lat
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	}
	return res, nil
}

// tagSummary is one tag's way to the screens, to tell where a slow one
// lost its time: before a message counted it (the reference client, a
// single decoding client, saw it late) or in the fan-out (the clients'
// spread after the reference client had it).
type tagSummary struct {
	seq uint64
	at  time.Time       // its 202
	ref time.Duration   // 202 → the reference client had the first message counting it
	lat []time.Duration // 202 → each client's, sorted
}

// postTag posts one completion of one record for the tag station, made at
// now (the server's clock, whole seconds), and returns when its 202 arrived.
func postTag(ctx context.Context, srv *server, st loadStation, now time.Time) (time.Time, error) {
	ts := now.Truncate(time.Second)
	body := fmt.Sprintf(`[{"id":"tag-%d","type":"completion","station":%q,"ts":%q,"count":1,"fingerprint_retries":0,"kind":"standard"}]`,
		time.Now().UnixNano(), st.id, ts.Format(time.RFC3339))
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.url+"/api/v1/events", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+st.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.client.Do(req)
	if err != nil {
		return time.Time{}, fmt.Errorf("tag: %w", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	at := time.Now()
	if resp.StatusCode != http.StatusAccepted {
		return at, fmt.Errorf("tag: status %d: %s", resp.StatusCode, b)
	}
	return at, nil
}

// fetch saves a pprof endpoint's answer (diagnostics only; errors ignored).
func fetch(url, file string) {
	resp, err := http.Get(url)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	_ = os.WriteFile(file, b, 0o644)
}
