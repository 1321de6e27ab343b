package jetstream_test

// The log's cluster parts on real servers: three embedded JetStream
// servers (natstest) and Debian's clickhouse-server. The flush lease (one
// holder, a later term after a holder dies), the fence (a stale term
// acknowledges nothing), and the overlay of a node that does not flush,
// read while another node's leased flusher moves the log.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"tiendo"
	"tiendo/acceptlog"
	"tiendo/acceptlog/jetstream"
	"tiendo/acceptlog/natstest"
	"tiendo/ingest"
	"tiendo/store"
	"tiendo/store/storetest"
)

var (
	chServer *storetest.ClickHouseServer
	cluster  *natstest.Cluster
	quiet    = slog.New(slog.NewTextHandler(io.Discard, nil))
	names    atomic.Int64
)

func TestMain(m *testing.M) {
	os.Exit(storetest.MainWithClickHouseServer(withNATS{m}, &chServer))
}

type withNATS struct{ m *testing.M }

func (w withNATS) Run() int {
	dir, err := os.MkdirTemp("", "tiendo-nats-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if cluster, err = natstest.Start(dir, 3, false); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cluster.Stop()
	return w.m.Run()
}

// connect connects to server i first (a node of the cluster).
func connect(t *testing.T, i int) *nats.Conn {
	t.Helper()
	urls := cluster.URL(i % cluster.Size())
	for j := range cluster.Size() {
		if j != i%cluster.Size() {
			urls += "," + cluster.URL(j)
		}
	}
	nc, err := nats.Connect(urls, nats.DontRandomize(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// names of a test's own stream, subjects and buckets.
type rig struct{ stream, subject, bucket, leases string }

func newRig() rig {
	n := names.Add(1)
	return rig{fmt.Sprintf("C%d", n), fmt.Sprintf("c%d", n), fmt.Sprintf("cflush%d", n), fmt.Sprintf("clease%d", n)}
}

func (r rig) open(t *testing.T, nc *nats.Conn, st *store.DB) *jetstream.Log {
	t.Helper()
	cfg := jetstream.Config{Conn: nc, Stream: r.stream, Subject: r.subject, Bucket: r.bucket, Replicas: 3, Timeout: 5 * time.Second}
	if st != nil {
		cfg.Stored = st
	}
	l, err := jetstream.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func (r rig) lease(t *testing.T, nc *nats.Conn, holder string, ttl time.Duration) *jetstream.Lease {
	t.Helper()
	l, err := jetstream.OpenLease(context.Background(), jetstream.LeaseConfig{Conn: nc, Bucket: r.leases, Holder: holder,
		TTL: ttl, Settle: 200 * time.Millisecond, Replicas: 3, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func openStore(t *testing.T) *store.DB { return chServer.OpenDB(t, "jscluster") }

func completions(prefix string, n int) []tiendo.Event {
	evs := make([]tiendo.Event, n)
	now := time.Now().Truncate(time.Second)
	for i := range evs {
		evs[i] = tiendo.Event{ID: fmt.Sprintf("%s%d", prefix, i), Type: tiendo.TypeCompletion, Station: fmt.Sprintf("LS-S%d", i%4),
			TS: now, Count: 1, Kind: tiendo.RecordStandard}
	}
	return evs
}

// holders lists which of the leases say they hold it now, with terms.
func holders(ls []*jetstream.Lease) (held []int, terms []uint64) {
	for i, l := range ls {
		if term, _, ok := l.Term(); ok {
			held, terms = append(held, i), append(terms, term)
		}
	}
	return held, terms
}

// Three nodes opening the log at once all open it, and leave the flush
// state's bucket read from its stream's leader: nats.go's create turns
// direct gets on, and the nodes that turned them off again did so while
// another's create turned them on (the bucket ended with them on), or got
// no answer from the servers for the whole timeout.
func TestNodesOpeningAtOnceReadTheStateFromTheLeader(t *testing.T) {
	r := newRig()
	errs := make(chan error, 3)
	for i := range 3 {
		nc := connect(t, i)
		go func() {
			l, err := jetstream.Open(context.Background(), jetstream.Config{Conn: nc, Stream: r.stream, Subject: r.subject,
				Bucket: r.bucket, Replicas: 3, Timeout: 5 * time.Second})
			if err == nil {
				_, _, err = l.SpoolStats()
			}
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Errorf("a node opening the log at the same time as two others: %v", err)
		}
	}
	js, err := natsjs.New(connect(t, 0))
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(context.Background(), "KV_"+r.bucket)
	if err != nil {
		t.Fatal(err)
	}
	if s.CachedInfo().Config.AllowDirect {
		t.Fatal("after three nodes opened the log, its flush state's bucket allows direct gets (reads from any replica)")
	}
}

// A node opening the log right after another created it reads the flush
// state, though the servers may not yet serve the bucket just made: its
// first read was answered "stream not found" (err_code 10059) once in CI,
// and that node's opening failed.
func TestANodeOpensTheLogRightAfterAnotherCreatedIt(t *testing.T) {
	conns := []*nats.Conn{connect(t, 0), connect(t, 1), connect(t, 2)}
	for try := range 15 {
		r := newRig()
		for i, nc := range conns {
			l, err := jetstream.Open(context.Background(), jetstream.Config{Conn: nc, Stream: r.stream, Subject: r.subject,
				Bucket: r.bucket, Replicas: 3, Timeout: 5 * time.Second})
			if err == nil {
				_, _, err = l.SpoolStats()
			}
			if err != nil {
				t.Fatalf("try %d: node %d opening the log node 0 had just created: %v", try, i, err)
			}
		}
	}
}

// Three nodes race for the lease: one holds it at a time; when the holder
// dies (its connection cut: no release, no renewal), another wins it with
// a later term, after the TTL.
func TestLeaseOneHolderAndTakeover(t *testing.T) {
	r := newRig()
	const ttl = 1500 * time.Millisecond
	var ls []*jetstream.Lease
	var conns []*nats.Conn
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for i := range 3 {
		nc := connect(t, i)
		conns = append(conns, nc)
		l := r.lease(t, nc, fmt.Sprintf("node%d", i), ttl)
		ls = append(ls, l)
		wg.Add(1)
		go func() { defer wg.Done(); l.Run(ctx) }()
	}
	var first int
	var term1 uint64
	deadline := time.Now().Add(10 * time.Second)
	for {
		held, terms := holders(ls)
		if len(held) > 1 {
			t.Fatalf("nodes %v hold the lease at once (terms %v)", held, terms)
		}
		if len(held) == 1 {
			first, term1 = held[0], terms[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no node won the lease within 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Held through several renewals by the same node, alone.
	for end := time.Now().Add(2 * ttl); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if held, terms := holders(ls); len(held) != 1 || held[0] != first || terms[0] != term1 {
			t.Fatalf("while node %d renews its lease: holders %v terms %v", first, held, terms)
		}
	}
	conns[first].Close()
	died := time.Now()
	var next int
	var term2 uint64
	for {
		held, terms := holders(ls)
		if len(held) > 1 {
			t.Fatalf("nodes %v hold the lease at once (terms %v)", held, terms)
		}
		if len(held) == 1 && held[0] != first {
			next, term2 = held[0], terms[0]
			break
		}
		if time.Since(died) > 10*ttl {
			t.Fatalf("no other node won the lease within %v of its holder's death", 10*ttl)
		}
		time.Sleep(10 * time.Millisecond)
	}
	took := time.Since(died)
	if took < ttl-ttl/5 {
		t.Fatalf("node %d won the lease %v after the holder's death, sooner than its TTL %v allows", next, took, ttl)
	}
	if term2 <= term1 {
		t.Fatalf("the new term %d is not after the old %d", term2, term1)
	}
	t.Logf("node %d held term %d; after its death node %d won term %d in %v (TTL %v)", first, term1, next, term2, took.Round(time.Millisecond), ttl)
}

// A flusher whose term another has overtaken writes nothing: neither an
// acknowledgement nor an insert's intent, even after it has read the new
// state (and its revision) back.
func TestStaleTermIsFenced(t *testing.T) {
	r := newRig()
	st := openStore(t)
	old, cur := r.open(t, connect(t, 0), st), r.open(t, connect(t, 1), st)
	if _, err := old.Accept(completions("x", 10), acceptlog.Limits{}); err != nil {
		t.Fatal(err)
	}
	old.Lead(5)
	if _, err := old.OpenInsertWindow(100); err != nil {
		t.Fatal(err)
	}
	b, err := old.ReadSpool(100)
	if err != nil || len(b.Events) != 10 {
		t.Fatalf("ReadSpool: %v, %d events", err, len(b.Events))
	}
	cur.Lead(9)
	if _, err := cur.OpenInsertWindow(100); err != nil {
		t.Fatal(err)
	}
	for try := range 2 { // the second after the failed write re-read the state
		if err := old.BeginInsert(b.First, b.Last); !errors.Is(err, acceptlog.ErrFenced) {
			t.Fatalf("try %d: BeginInsert of a stale term: %v, want ErrFenced", try, err)
		}
		if err := old.AckSpool(b.First, b.Last); !errors.Is(err, acceptlog.ErrFenced) {
			t.Fatalf("try %d: AckSpool of a stale term: %v, want ErrFenced", try, err)
		}
		if err := old.CloseInsertWindow(0); !errors.Is(err, acceptlog.ErrFenced) {
			t.Fatalf("try %d: CloseInsertWindow of a stale term: %v, want ErrFenced", try, err)
		}
	}
	if n, _, err := cur.SpoolStats(); err != nil || n != 10 {
		t.Fatalf("after the stale term's attempts %d events pending (%v), want all 10", n, err)
	}
	// The current term acknowledges as usual.
	if b2, err := cur.ReadSpool(100); err != nil || b2.First != b.First {
		t.Fatalf("current term reads %v..%v (%v), want from %d", b2.First, b2.Last, err, b.First)
	}
	if err := cur.BeginInsert(b.First, b.Last); err != nil {
		t.Fatal(err)
	}
	if err := cur.AckSpool(b.First, b.Last); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := old.SpoolStats(); n != 0 {
		t.Fatalf("%d pending after the current term's ack", n)
	}
}

// The cluster's read model invariant, raced across nodes: node 0 accepts,
// nodes 1 and 2 run leased flushers into a real ClickHouse in small
// batches (and the lease moves from one to the other midway), and node 2
// reads the overlay (ClickHouse queried inside ReadPending); every read
// sees each event accepted before it in exactly one of the two. At the
// end ClickHouse holds every event once.
func TestOverlayAcrossNodesCountsOnce(t *testing.T) {
	r := newRig()
	st := openStore(t)
	acceptor := r.open(t, connect(t, 0), st)
	const ttl = 1500 * time.Millisecond
	type node struct {
		log   *jetstream.Log
		lease *jetstream.Lease
		conn  *nats.Conn
		stop  context.CancelFunc
		done  chan struct{}
	}
	var nodes []*node
	for i := 1; i <= 2; i++ {
		nc := connect(t, i)
		n := &node{log: r.open(t, nc, st), lease: r.lease(t, nc, fmt.Sprintf("flusher%d", i), ttl), conn: nc, done: make(chan struct{})}
		f := ingest.NewFlusher(ingest.FlusherConfig{Interval: 50 * time.Millisecond, MaxBatch: 300, Lease: n.lease}, n.log, st, nil, quiet)
		ctx, cancel := context.WithCancel(context.Background())
		n.stop = cancel
		go n.lease.Run(ctx)
		go func() { _ = f.Run(ctx, time.Second); close(n.done) }()
		nodes = append(nodes, n)
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			n.stop()
			<-n.done
		}
	})
	// The overlay is read on the accepting node, which never flushes and
	// is never cut: reading on a flusher would lose the reader with the
	// leader whenever that flusher is the one cut.
	reader := acceptor

	var mu sync.Mutex
	var accepted []tiendo.Event
	all := completions("o", 10000)
	acceptDone := make(chan error, 1)
	enough := make(chan struct{})
	go func() {
		for i := 0; i < len(all); i += 10 {
			select {
			case <-enough:
				acceptDone <- nil
				return
			default:
			}
			if _, err := acceptor.Accept(all[i:i+10], acceptlog.Limits{}); err != nil {
				acceptDone <- err
				return
			}
			mu.Lock()
			accepted = append(accepted, all[i:i+10]...)
			mu.Unlock()
			time.Sleep(10 * time.Millisecond)
		}
		acceptDone <- nil
	}()
	snapshot := func() []tiendo.Event {
		mu.Lock()
		defer mu.Unlock()
		return accepted[:len(accepted):len(accepted)]
	}
	reads, withBoth, incomplete, inDoubt, doubtStored, afterMove := 0, 0, 0, 0, 0, 0
	moved := false
	var cut *node
	storedAtTakeover := -1 // stored events when the other node won the lease
	for done := false; !done; {
		select {
		case err := <-acceptDone:
			if err != nil {
				t.Fatal(err)
			}
			done = true
		default:
		}
		before := snapshot()
		var found map[string]bool
		var qerr error
		p := reader.ReadPending(func([]tiendo.Event) { found, qerr = storedKeys(st) }, 100_000)
		if qerr != nil {
			t.Fatal(qerr)
		}
		reads++
		if !p.Complete {
			incomplete++ // the lease is moving: figures lag, never double
			continue
		}
		// The first InDoubt events are an insert that failed (on a loaded
		// machine, one cut off by the lease's deadline) and may have
		// landed: the read model leaves them out until a flush resolves
		// them (figures partial, never double). Every other pending event
		// must not be in ClickHouse.
		doubt := int(min(p.InDoubt, int64(len(p.Events))))
		if doubt > 0 {
			inDoubt++
		}
		pending := map[string]bool{}
		for i, e := range p.Events {
			pending[e.Key()] = true
			if i < doubt && found[e.Key()] {
				doubtStored++ // the case the read model leaves them out for
			}
			if i >= doubt && found[e.Key()] {
				t.Fatalf("read %d: %s counted twice: in ClickHouse and in the overlay (overlay event %d of %d, %d in doubt)", reads, e.Key(), i, len(p.Events), p.InDoubt)
			}
		}
		for _, e := range before {
			if !found[e.Key()] && !pending[e.Key()] {
				t.Fatalf("read %d: %s accepted before the read is in neither ClickHouse nor the overlay", reads, e.Key())
			}
		}
		if moved && storedAtTakeover < 0 {
			for _, n := range nodes {
				if _, _, ok := n.lease.Term(); ok && n != cut {
					storedAtTakeover = len(found)
					t.Logf("the other node holds the lease at read %d, %d events stored", reads, len(found))
				}
			}
		}
		if len(found) > 0 && len(p.Events) > 0 {
			withBoth++
			if storedAtTakeover >= 0 && len(found) > storedAtTakeover {
				afterMove++ // the new leader has flushed
			}
		}
		if withBoth == 15 && !moved {
			// Kill the leader: its connection cut, its flusher keeps
			// trying; the other node wins the lease after the TTL.
			moved = true
			for i, n := range nodes {
				if term, _, ok := n.lease.Term(); ok {
					t.Logf("cutting the leader's connection (flusher%d, term %d) after %d reads", i+1, term, reads)
					n.conn.Close()
					cut = n
					break
				}
			}
		}
		if moved && afterMove >= 20 {
			select {
			case <-enough:
			default:
				close(enough)
			}
		}
	}
	if afterMove < 20 {
		t.Fatalf("only %d of %d reads found events both stored and pending (%d after the takeover): the race was not exercised across it", withBoth, reads, afterMove)
	}
	want := snapshot()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, _, err := acceptor.SpoolStats()
		if err == nil && n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events still pending 30 s after the last accept (%v)", n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	rows, err := storedCount(st)
	if err != nil {
		t.Fatal(err)
	}
	if rows != int64(len(want)) {
		t.Fatalf("ClickHouse holds %d rows, want %d: each event once", rows, len(want))
	}
	t.Logf("%d reads (%d incomplete while a flush was unresolved, %d with a failed insert in doubt, %d of its events found stored), %d with events both stored and pending; %d events stored once", reads, incomplete, inDoubt, doubtStored, withBoth, len(want))
}

// storedKeys is every completion's key in ClickHouse.
func storedKeys(st *store.DB) (map[string]bool, error) {
	rows, err := st.Engine().Query(context.Background(), "SELECT station, id FROM `"+st.Database()+"`.completions")
	if err != nil {
		return nil, err
	}
	found := make(map[string]bool, len(rows))
	for _, r := range rows {
		found[tiendo.EventKey(r[0].(string), r[1].(string))] = true
	}
	return found, nil
}

func storedCount(st *store.DB) (int64, error) {
	rows, err := st.Engine().Query(context.Background(), "SELECT toInt64(count()), toInt64(uniqExact(station, id)) FROM `"+st.Database()+"`.completions")
	if err != nil {
		return 0, err
	}
	n, _ := rows[0][0].(int64)
	u, _ := rows[0][1].(int64)
	if n != u {
		return 0, fmt.Errorf("%d rows but %d distinct events: some twice", n, u)
	}
	return n, nil
}

// failingAck is the real log whose acknowledgements fail: a flusher that
// inserted and died before its ack, as far as the log can tell.
type failingAck struct{ *jetstream.Log }

func (f failingAck) AckSpool(first, last uint64) error { return errors.New("killed before the ack") }

// A leader inserts a range and dies before acknowledging it (its insert's
// intent left in the flush state); the next leader, on another node,
// resolves that range against ClickHouse and inserts nothing twice.
// Meanwhile a third node's overlay never counts the range twice.
func TestTakeoverResolvesTheDeadLeadersRange(t *testing.T) {
	r := newRig()
	st := openStore(t)
	ncA, ncB := connect(t, 0), connect(t, 1)
	logA, logB, reader := r.open(t, ncA, st), r.open(t, ncB, st), r.open(t, connect(t, 2), st)
	const ttl = 1500 * time.Millisecond
	leaseA, leaseB := r.lease(t, ncA, "a", ttl), r.lease(t, ncB, "b", ttl)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Add(1)
	go func() { defer wg.Done(); leaseA.Run(ctx) }()
	waitUntil(t, "a to hold the lease", func() bool { _, _, ok := leaseA.Term(); return ok })
	wg.Add(1)
	go func() { defer wg.Done(); leaseB.Run(ctx) }()

	first := completions("r", 50)
	if _, err := logA.Accept(first, acceptlog.Limits{}); err != nil {
		t.Fatal(err)
	}
	dying := ingest.NewFlusher(ingest.FlusherConfig{MaxBatch: 200, Lease: leaseA}, failingAck{logA}, st, nil, quiet)
	if _, err := dying.FlushOnce(context.Background()); err == nil {
		t.Fatal("the dying flusher's ack did not fail")
	}
	if rows, err := storedCount(st); err != nil || rows != 50 {
		t.Fatalf("the dying flusher stored %d rows (%v), want its 50", rows, err)
	}
	// Its range is in ClickHouse and still pending: the overlay must not
	// add it to ClickHouse's figures.
	p := reader.ReadPending(func([]tiendo.Event) {}, 1000)
	if p.Complete {
		t.Fatalf("overlay complete with %d events while the dead leader's range is unresolved: it would count them twice", len(p.Events))
	}
	more := completions("s", 30)
	if _, err := logB.Accept(more, acceptlog.Limits{}); err != nil {
		t.Fatal(err)
	}
	ncA.Close() // a dies: no renewal, no release
	next := ingest.NewFlusher(ingest.FlusherConfig{MaxBatch: 200, Lease: leaseB}, logB, st, nil, quiet)
	waitUntil(t, "b to take over and flush", func() bool {
		n, err := next.FlushOnce(context.Background())
		return err == nil && n > 0
	})
	if !next.Leading() {
		t.Fatal("b flushed without leading")
	}
	rows, err := storedCount(st)
	if err != nil {
		t.Fatal(err)
	}
	if rows != 80 {
		t.Fatalf("ClickHouse holds %d rows after the takeover, want 80: the dead leader's 50 once and 30 more", rows)
	}
	var found map[string]bool
	p = reader.ReadPending(func([]tiendo.Event) { found, err = storedKeys(st) }, 1000)
	if err != nil || !p.Complete || len(p.Events) != 0 || len(found) != 80 {
		t.Fatalf("after the takeover the overlay says complete=%v with %d pending, ClickHouse %d (%v); want complete, 0, 80",
			p.Complete, len(p.Events), len(found), err)
	}
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// landsThenFails inserts the batch and then reports a failure, as an insert
// whose client timed out while ClickHouse committed it.
type landsThenFails struct {
	*store.DB
	failed bool
}

func (s *landsThenFails) WriteEvents(ctx context.Context, events []tiendo.Event) error {
	if s.failed {
		return s.DB.WriteEvents(ctx, events)
	}
	s.failed = true
	if err := s.DB.WriteEvents(ctx, events); err != nil {
		return err
	}
	return errors.New("insert timed out")
}

// A leader's insert fails after it landed in ClickHouse: its intent ends,
// readers on any node read on, and the range is in doubt for them until
// the next flush resolves it, so it is left out of fresh figures and
// never counted from both ClickHouse and the log.
func TestAFailedInsertThatLandedIsNotCountedTwice(t *testing.T) {
	r := newRig()
	st := openStore(t)
	nc := connect(t, 0)
	logA, reader := r.open(t, nc, st), r.open(t, connect(t, 1), st)
	lease := r.lease(t, nc, "a", 1500*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Add(1)
	go func() { defer wg.Done(); lease.Run(ctx) }()
	waitUntil(t, "a to hold the lease", func() bool { _, _, ok := lease.Term(); return ok })

	if _, err := logA.Accept(completions("d", 40), acceptlog.Limits{}); err != nil {
		t.Fatal(err)
	}
	f := ingest.NewFlusher(ingest.FlusherConfig{MaxBatch: 200, Lease: lease}, logA, &landsThenFails{DB: st}, nil, quiet)
	if _, err := f.FlushOnce(context.Background()); err == nil {
		t.Fatal("the insert did not fail")
	}
	if _, err := logA.Accept(completions("e", 10), acceptlog.Limits{}); err != nil {
		t.Fatal(err)
	}
	var stored map[string]bool
	var err error
	p := reader.ReadPending(func([]tiendo.Event) { stored, err = storedKeys(st) }, 1000)
	if err != nil || len(stored) != 40 {
		t.Fatalf("ClickHouse holds %d events (%v), want the 40 that landed", len(stored), err)
	}
	if !p.Complete || p.InDoubt != 40 || len(p.Events) != 50 {
		t.Fatalf("after the failed insert: complete %v, %d in doubt, %d events; want complete, 40 in doubt of 50", p.Complete, p.InDoubt, len(p.Events))
	}
	for _, e := range p.Events[:p.InDoubt] {
		if !stored[e.Key()] {
			t.Errorf("event %s is said to be in doubt but ClickHouse does not hold it", e.ID)
		}
	}
	if _, err := f.FlushOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	p = reader.ReadPending(func([]tiendo.Event) { stored, err = storedKeys(st) }, 1000)
	if err != nil || len(stored) != 50 || !p.Complete || p.InDoubt != 0 || len(p.Events) != 0 {
		t.Fatalf("after the next flush: ClickHouse %d (%v), complete %v, %d in doubt, %d events; want 50, complete, 0, 0",
			len(stored), err, p.Complete, p.InDoubt, len(p.Events))
	}
}
