// Package logtest is the conformance suite of acceptance logs
// (acceptlog.Log): every implementation runs Run with a Factory of its
// own, as both ClickHouse engines run store/storetest. The suite drives the
// log through its real users where the promise is theirs — ingest's Flusher
// into a real ClickHouse, readmodel's SpoolOverlay over it — and asserts
// what the product relies on: each key accepted once across retries,
// restarts and nodes; a duplicate reported as one; refusals storing
// nothing; the flusher's ranges in order and acknowledged; the overlay
// counting every accepted event once while a flusher runs; the limits.
package logtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tiendo"
	"tiendo/acceptlog"
	"tiendo/ingest"
	"tiendo/readmodel"
	"tiendo/store"
	"tiendo/store/local"
)

// Rig is one log under test, on a state of its own.
type Rig struct {
	// Log is the log, on a fresh, empty state.
	Log acceptlog.Log
	// Reopen opens the same state as a restarted process would (the Log
	// before is not used again).
	Reopen func(t *testing.T) acceptlog.Log
	// Peer, if set, opens another node's log on the same state, used at
	// the same time as Log (nil: the log has one node).
	Peer func(t *testing.T) acceptlog.Log
	// Kill, if set, stops one server of a replicated log (the leader of
	// the log's data) and returns the function that starts it again.
	Kill func(t *testing.T) (restart func(t *testing.T))
	// Store is a fresh store on a real ClickHouse (the flusher's target
	// and the late checks').
	Store func(t *testing.T) *store.DB
}

// Factory makes a Rig; the log and its state go at the test's cleanup.
type Factory func(t *testing.T) Rig

// Run runs every test of the suite against the logs open makes.
func Run(t *testing.T, open Factory) {
	tests := []struct {
		name string
		test func(*testing.T, Factory)
	}{
		{"Dedupe", testDedupe},
		{"RetriedSuperset", testRetriedSuperset},
		{"RefusalsStoreNothing", testRefusalsStoreNothing},
		{"Limits", testLimits},
		{"RangesInOrderAndAcknowledged", testRanges},
		{"InsertWindow", testInsertWindow},
		{"Peek", testPeek},
		{"ConcurrentAccepts", testConcurrentAccepts},
		{"FlushCrashResolved", testFlushCrashResolved},
		{"OverlayCountsOnceDuringFlushes", testOverlayCountsOnce},
		{"ServerKilledMidway", testServerKilled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, open) })
	}
}

var (
	quiet  = slog.New(slog.NewTextHandler(io.Discard, nil))
	noMax  = acceptlog.Limits{}
	bigMax = acceptlog.Limits{MaxEvents: 1 << 40, MaxBytes: 1 << 50}
	// zone is the campaign's offset: events keep theirs through the log.
	zone = time.FixedZone("ICT", 7*3600)
)

// Event is a completion of station with id, at a recent time (a log with a
// duplicate window checks older events against ClickHouse).
func Event(station, id string, count int) tiendo.Event {
	return tiendo.Event{ID: id, Type: tiendo.TypeCompletion, Station: station,
		TS: time.Now().In(zone).Truncate(time.Second), Count: count, Kind: tiendo.RecordStandard}
}

// events makes n completions of a few stations with ids prefix0..prefixN-1,
// every third a heartbeat, so both record shapes go through the log.
func events(prefix string, n int) []tiendo.Event {
	evs := make([]tiendo.Event, n)
	for i := range evs {
		evs[i] = Event(fmt.Sprintf("LS-S.%d", i%5), fmt.Sprintf("%s%d", prefix, i), 1+i%4)
		if i%3 == 0 {
			evs[i].Type, evs[i].Count, evs[i].Kind = tiendo.TypeHeartbeat, 0, ""
			evs[i].Queue, evs[i].Staff, evs[i].Lanes, evs[i].Status = i%40, 3, 2, tiendo.StatusOpen
			evs[i].Lat, evs[i].Lon, evs[i].HasPos = 21.85, 106.76, true
		}
	}
	return evs
}

func accept(t *testing.T, l acceptlog.Log, evs []tiendo.Event) []bool {
	t.Helper()
	fresh, err := l.Accept(evs, bigMax)
	if err != nil {
		t.Fatalf("Accept(%d events): %v", len(evs), err)
	}
	if len(fresh) != len(evs) {
		t.Fatalf("Accept answered %d flags for %d events", len(fresh), len(evs))
	}
	return fresh
}

func stats(t *testing.T, l acceptlog.Log) int64 {
	t.Helper()
	n, _, err := l.SpoolStats()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func keys(evs []tiendo.Event) []string {
	ks := make([]string, len(evs))
	for i := range evs {
		ks[i] = evs[i].Key()
	}
	return ks
}

// readAll reads the whole pending part in one range, acknowledging nothing.
func readAll(t *testing.T, l acceptlog.Log) []tiendo.Event {
	t.Helper()
	b, err := l.ReadSpool(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	return b.Events
}

// readAllOf is readAll for a log just through a server's death: a read
// may stop short while the restarted server catches up (ReadSpool returns
// up to max), so it reads again until the range holds want events or
// 20 s have passed, and returns the longest read.
func readAllOf(t *testing.T, l acceptlog.Log, want int) []tiendo.Event {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := readAll(t, l)
		if len(got) >= want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// sameEvents compares what the log hands back with what was accepted:
// keys, order and the fields ClickHouse stores.
func sameEvents(t *testing.T, what string, got, want []tiendo.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d events, want %d\ngot  %q\nwant %q", what, len(got), len(want), keys(got), keys(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Key() != w.Key() || g.Type != w.Type || !g.TS.Equal(w.TS) || g.Count != w.Count || g.Kind != w.Kind ||
			g.Queue != w.Queue || g.Staff != w.Staff || g.Lanes != w.Lanes || g.Status != w.Status ||
			g.Lat != w.Lat || g.Lon != w.Lon || g.HasPos != w.HasPos {
			t.Fatalf("%s: event %d = %+v\nwant %+v", what, i, g, w)
		}
	}
}

// Keys are new once: a key repeated within a batch is new at its first
// occurrence, one accepted before is a duplicate, also after a restart.
func testDedupe(t *testing.T, open Factory) {
	r := open(t)
	a1, a2, a3, a4, b1 := Event("A", "1", 1), Event("A", "2", 1), Event("A", "3", 1), Event("A", "4", 1), Event("B", "1", 2)
	if got := accept(t, r.Log, []tiendo.Event{a1, a2, a1, b1}); !reflect.DeepEqual(got, []bool{true, true, false, true}) {
		t.Fatalf("first batch: fresh = %v, want [true true false true] (the repeat of A/1 is a duplicate; B/1 is another station's)", got)
	}
	if got := accept(t, r.Log, []tiendo.Event{a2, a3}); !reflect.DeepEqual(got, []bool{false, true}) {
		t.Fatalf("second batch: fresh = %v, want [false true]", got)
	}
	l := r.Reopen(t)
	if got := accept(t, l, []tiendo.Event{a1, a3, a4, b1}); !reflect.DeepEqual(got, []bool{false, false, true, false}) {
		t.Fatalf("after a restart: fresh = %v, want [false false true false]", got)
	}
	if n := stats(t, l); n != 5 {
		t.Fatalf("%d pending, want 5 (A/1..4, B/1)", n)
	}
	sameEvents(t, "the log", readAll(t, l), []tiendo.Event{a1, a2, b1, a3, a4})
}

// A retry whose 202 was lost, sent again with more events (an agent adds
// what it recorded meanwhile), is answered "accepted 2, duplicates 3": each
// old event reported as a duplicate once, the new ones accepted.
func testRetriedSuperset(t *testing.T, open Factory) {
	r := open(t)
	evs := events("r", 5)
	accept(t, r.Log, evs[1:4])
	l := r.Log
	if r.Peer != nil {
		l = r.Peer(t) // the retry lands on another node
	}
	got := accept(t, l, evs)
	if want := []bool{true, false, false, false, true}; !reflect.DeepEqual(got, want) {
		t.Fatalf("retried superset: fresh = %v, want %v", got, want)
	}
	if n := stats(t, r.Log); n != 5 {
		t.Fatalf("%d pending, want 5", n)
	}
}

// A refusal the log decides before storing stores nothing: an event it
// cannot store, anywhere in the batch, fails the whole batch, and the
// batch without it then goes in whole.
func testRefusalsStoreNothing(t *testing.T, open Factory) {
	r := open(t)
	evs := events("u", 6)
	bad := evs[4]
	bad.TS = bad.TS.In(time.FixedZone("", 24*3600)) // a day's offset: no record holds it
	batch := append(append([]tiendo.Event{}, evs[:4]...), bad, evs[5])
	if _, err := r.Log.Accept(batch, bigMax); !errors.Is(err, local.ErrUnspoolable) {
		t.Fatalf("Accept with an unstorable event = %v, want ErrUnspoolable", err)
	}
	if n := stats(t, r.Log); n != 0 {
		t.Fatalf("%d events pending after a refused batch, want 0", n)
	}
	if evs, complete, err := r.Log.PeekSpool(100); err != nil || !complete || len(evs) != 0 {
		t.Fatalf("PeekSpool after a refused batch = %d events, %v, %v", len(evs), complete, err)
	}
	fixed := append(append([]tiendo.Event{}, evs[:4]...), evs[4], evs[5])
	for i, f := range accept(t, r.Log, fixed) {
		if !f {
			t.Fatalf("event %d of the corrected batch reported a duplicate: the refused batch left it behind", i)
		}
	}
}

// Past the limits nothing of the batch is stored, and room made by an
// acknowledgement lets batches in again.
func testLimits(t *testing.T, open Factory) {
	r := open(t)
	evs := events("l", 6)
	lim := acceptlog.Limits{MaxEvents: 3}
	if _, err := r.Log.Accept(evs[:2], lim); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Log.Accept(evs[2:4], lim); !errors.Is(err, acceptlog.ErrFull) {
		t.Fatalf("2 + 2 events past a limit of 3: %v, want ErrFull", err)
	}
	if n := stats(t, r.Log); n != 2 {
		t.Fatalf("%d pending after the refusal, want 2", n)
	}
	if _, err := r.Log.Accept(evs[2:3], lim); err != nil {
		t.Fatalf("the third event, within the limit: %v", err)
	}
	b, err := r.Log.ReadSpool(2)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Log.AckSpool(b.First, b.Last); err != nil {
		t.Fatal(err)
	}
	fresh, err := r.Log.Accept(evs[3:5], lim)
	if err != nil {
		t.Fatalf("after acknowledging 2 of 3: %v, want room for 2", err)
	}
	if !fresh[0] || !fresh[1] {
		t.Fatalf("fresh = %v: the refused batch's events were stored", fresh)
	}
	if _, size, err := r.Log.SpoolStats(); err != nil || size <= 0 {
		t.Fatalf("SpoolStats bytes = %d, %v; want the pending events' size", size, err)
	}
	if _, err := r.Log.Accept(evs[5:], acceptlog.Limits{MaxBytes: 1}); !errors.Is(err, acceptlog.ErrFull) {
		t.Fatalf("past the byte limit: %v, want ErrFull", err)
	}
}

// The flusher reads the pending part from its head in acceptance order;
// until it acknowledges, it reads the same range again (also after a
// restart); an acknowledgement is durable and the next range follows it.
func testRanges(t *testing.T, open Factory) {
	r := open(t)
	evs := events("q", 250)
	for i := 0; i < len(evs); i += 50 {
		accept(t, r.Log, evs[i:i+50])
	}
	l := r.Log
	read := func(max int) acceptlog.Batch {
		t.Helper()
		b, err := l.ReadSpool(max)
		if err != nil {
			t.Fatal(err)
		}
		if b.Corrupt != 0 {
			t.Fatalf("%d corrupt records", b.Corrupt)
		}
		if len(b.Events) > 0 && b.Last-b.First+1 < uint64(len(b.Events)) {
			t.Fatalf("range %d..%d holds %d events", b.First, b.Last, len(b.Events))
		}
		return b
	}
	b1 := read(100)
	sameEvents(t, "first range", b1.Events, evs[:100])
	if again := read(100); again.First != b1.First || again.Last != b1.Last {
		t.Fatalf("unacknowledged range read again as %d..%d, was %d..%d", again.First, again.Last, b1.First, b1.Last)
	}
	if err := l.AckSpool(b1.First, b1.Last); err != nil {
		t.Fatal(err)
	}
	b2 := read(100)
	if b2.First <= b1.Last {
		t.Fatalf("second range starts at %d, not after the first's end %d", b2.First, b1.Last)
	}
	sameEvents(t, "second range", b2.Events, evs[100:200])
	l = r.Reopen(t) // killed before acknowledging b2
	if n := stats(t, l); n != 150 {
		t.Fatalf("%d pending after the restart, want 150", n)
	}
	if b := read(100); b.First != b2.First || b.Last != b2.Last {
		t.Fatalf("after a restart the unacknowledged range is %d..%d, want %d..%d", b.First, b.Last, b2.First, b2.Last)
	}
	if err := l.AckSpool(b2.First, b2.Last); err != nil {
		t.Fatal(err)
	}
	l = r.Reopen(t)
	b3 := read(100)
	sameEvents(t, "the last range, after a restart", b3.Events, evs[200:])
	if err := l.AckSpool(b3.First, b3.Last); err != nil {
		t.Fatal(err)
	}
	if b := read(100); len(b.Events) != 0 || b.First != 0 {
		t.Fatalf("after acknowledging everything ReadSpool = %d..%d, %d events", b.First, b.Last, len(b.Events))
	}
	if err := l.AckSpool(b3.First, b3.Last); err != nil {
		t.Fatalf("acknowledging a range twice: %v, want a no-op", err)
	}
	if n := stats(t, l); n != 0 {
		t.Fatalf("%d pending after everything was acknowledged", n)
	}
	more := events("q2-", 3)
	accept(t, l, more)
	sameEvents(t, "events accepted after the drain", read(100).Events, more)
}

// The insert window survives a crash: a new flusher learns how many head
// events a dead one may have inserted, and a clean stop records its own
// unresolved count.
func testInsertWindow(t *testing.T, open Factory) {
	r := open(t)
	if n, err := r.Log.OpenInsertWindow(100); err != nil || n != 0 {
		t.Fatalf("first OpenInsertWindow = %d, %v; want 0 on a new log", n, err)
	}
	l := r.Reopen(t) // the flusher died mid-insert
	if n, err := l.OpenInsertWindow(10); err != nil || n != 100 {
		t.Fatalf("OpenInsertWindow after a crash = %d, %v; want the dead flusher's 100", n, err)
	}
	if n, _ := l.OpenInsertWindow(1000); n != 100 {
		t.Fatalf("OpenInsertWindow(1000) = %d, want 100 (the window never shrinks while open)", n)
	}
	if n, _ := l.OpenInsertWindow(10); n != 1000 {
		t.Fatalf("OpenInsertWindow after raising to 1000 = %d", n)
	}
	if err := l.CloseInsertWindow(0); err != nil {
		t.Fatal(err)
	}
	l = r.Reopen(t)
	if n, _ := l.OpenInsertWindow(10); n != 0 {
		t.Fatalf("after a clean drain OpenInsertWindow = %d, want 0", n)
	}
	if err := l.CloseInsertWindow(7); err != nil {
		t.Fatal(err)
	}
	l = r.Reopen(t)
	if n, _ := l.OpenInsertWindow(10); n != 7 {
		t.Fatalf("after a stop with 7 unresolved OpenInsertWindow = %d", n)
	}
}

// PeekSpool hands back the pending events, oldest first, changes nothing,
// says when it holds fewer than are pending, and leaves out acknowledged
// ones.
func testPeek(t *testing.T, open Factory) {
	r := open(t)
	evs := events("p", 5)
	accept(t, r.Log, evs)
	for range 2 {
		got, complete, err := r.Log.PeekSpool(10)
		if err != nil || !complete {
			t.Fatalf("PeekSpool(10) of 5: complete %v, %v", complete, err)
		}
		sameEvents(t, "peek", got, evs)
	}
	if got, complete, err := r.Log.PeekSpool(3); err != nil || complete || len(got) > 3 {
		t.Fatalf("PeekSpool(3) of 5 = %d events, complete %v, %v; want incomplete", len(got), complete, err)
	}
	b, err := r.Log.ReadSpool(2)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Log.AckSpool(b.First, b.Last); err != nil {
		t.Fatal(err)
	}
	got, complete, err := r.Log.PeekSpool(10)
	if err != nil || !complete {
		t.Fatal(complete, err)
	}
	sameEvents(t, "peek after acknowledging 2", got, evs[2:])
	if r.Peer != nil {
		got, _, err := r.Peer(t).PeekSpool(10)
		if err != nil {
			t.Fatal(err)
		}
		sameEvents(t, "another node's peek", got, evs[2:])
	}
}

// Many requests (on every node the log has) posting overlapping batches at
// once: each key is accepted exactly once in all, and the log holds each
// once. This is C1 of the cluster study: a retry that lands on another
// node must not count twice.
func testConcurrentAccepts(t *testing.T, open Factory) {
	r := open(t)
	logs := []acceptlog.Log{r.Log}
	if r.Peer != nil {
		logs = append(logs, r.Peer(t), r.Peer(t))
	}
	all := events("c", 300)
	var fresh atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 14))
			l := logs[w%len(logs)]
			for range 12 {
				lo := rng.IntN(len(all) - 40)
				batch := all[lo : lo+40]
				f, err := l.Accept(batch, noMax)
				if err != nil {
					errs <- err
					return
				}
				for _, ok := range f {
					if ok {
						fresh.Add(1)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Whatever the workers missed, accepted now.
	for _, ok := range accept(t, r.Log, all) {
		if ok {
			fresh.Add(1)
		}
	}
	if fresh.Load() != int64(len(all)) {
		t.Fatalf("%d events reported new in all, want %d (each key once)", fresh.Load(), len(all))
	}
	held := readAll(t, r.Log)
	seen := map[string]int{}
	for _, e := range held {
		seen[e.Key()]++
	}
	if len(held) != len(all) || len(seen) != len(all) {
		t.Fatalf("the log holds %d events for %d keys, want %d each", len(held), len(seen), len(all))
	}
}

// failingAck fails its first AckSpool after the insert went through: the
// state kill -9 leaves between a flusher's insert and its acknowledgement.
type failingAck struct {
	acceptlog.Log
	failed bool
}

func (f *failingAck) AckSpool(first, last uint64) error {
	if !f.failed {
		f.failed = true
		return errors.New("killed before the acknowledgement")
	}
	return f.Log.AckSpool(first, last)
}

// storedRows counts raw rows in ClickHouse (both tables).
func storedRows(t *testing.T, db *store.DB) int64 {
	t.Helper()
	rows, err := db.Engine().Query(context.Background(), fmt.Sprintf(
		"SELECT toInt64((SELECT count() FROM %[1]s.heartbeats) + (SELECT count() FROM %[1]s.completions))", "`"+db.Database()+"`"))
	if err != nil {
		t.Fatal(err)
	}
	return rows[0][0].(int64)
}

// A flusher killed after its insert and before the acknowledgement: the
// next process's flusher, on the reopened log, learns the window, resolves
// the range against ClickHouse and inserts nothing twice; events accepted
// meanwhile go in once too.
func testFlushCrashResolved(t *testing.T, open Factory) {
	r := open(t)
	st := r.Store(t)
	evs := events("f", 300)
	accept(t, r.Log, evs[:200])
	dying := ingest.NewFlusher(ingest.FlusherConfig{MaxBatch: 200}, &failingAck{Log: r.Log}, st, nil, quiet)
	if _, err := dying.FlushOnce(context.Background()); err == nil {
		t.Fatal("the dying flusher's acknowledgement did not fail")
	}
	if n := storedRows(t, st); n != 200 {
		t.Fatalf("%d rows after the interrupted flush, want its 200", n)
	}
	l := r.Reopen(t)
	accept(t, l, evs[200:])
	f := ingest.NewFlusher(ingest.FlusherConfig{MaxBatch: 120}, l, st, nil, quiet)
	for i := 0; ; i++ {
		n, err := f.FlushOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if i > 10 {
			t.Fatal("the flusher does not drain")
		}
	}
	if n := storedRows(t, st); n != int64(len(evs)) {
		t.Fatalf("%d rows stored, want %d: each event once", n, len(evs))
	}
	if n := stats(t, l); n != 0 {
		t.Fatalf("%d events still pending", n)
	}
}

// The read model's invariant, raced: while a flusher moves the log into a
// real ClickHouse in small batches and events keep being accepted, every
// read of the overlay (ClickHouse queried under the flusher's read lock,
// then the log peeked) sees each event accepted before the read in exactly
// one of the two, and none in both.
func testOverlayCountsOnce(t *testing.T, open Factory) {
	r := open(t)
	st := r.Store(t)
	f := ingest.NewFlusher(ingest.FlusherConfig{Interval: 5 * time.Millisecond, MaxBatch: 30}, r.Log, st, nil, quiet)
	ctx, stop := context.WithCancel(context.Background())
	flushed := make(chan error, 1)
	go func() { flushed <- f.Run(ctx, 10*time.Second) }()

	var mu sync.Mutex
	var accepted []tiendo.Event
	acceptDone := make(chan error, 1)
	// The acceptor goes on until the reads have seen the race often enough
	// (or its events run out), however fast this log and this machine are.
	enough := make(chan struct{})
	go func() {
		all := events("o", 6000)
		for i := 0; i < len(all); i += 12 {
			select {
			case <-enough:
				acceptDone <- nil
				return
			default:
			}
			batch := all[i : i+12]
			if _, err := r.Log.Accept(batch, noMax); err != nil {
				acceptDone <- err
				return
			}
			mu.Lock()
			accepted = append(accepted, batch...)
			mu.Unlock()
			time.Sleep(2 * time.Millisecond)
		}
		acceptDone <- nil
	}()
	snapshot := func() []tiendo.Event {
		mu.Lock()
		defer mu.Unlock()
		return accepted[:len(accepted):len(accepted)]
	}

	overlay := readmodel.SpoolOverlay{Spool: r.Log, Flusher: f}
	reads, withBoth := 0, 0
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
		p := overlay.Read(func([]tiendo.Event) {
			found, qerr = st.StoredEventKeys(context.Background(), snapshot())
		})
		if qerr != nil {
			t.Fatal(qerr)
		}
		if !p.Complete {
			t.Fatalf("read %d: overlay incomplete with %d pending", reads, p.Count)
		}
		pending := map[string]bool{}
		for _, e := range p.Events {
			if found[e.Key()] {
				t.Fatalf("read %d: %s counted twice: in ClickHouse and in the overlay", reads, e.Key())
			}
			pending[e.Key()] = true
		}
		for _, e := range before {
			if !found[e.Key()] && !pending[e.Key()] {
				t.Fatalf("read %d: %s accepted before the read is in neither ClickHouse nor the overlay", reads, e.Key())
			}
		}
		if len(found) > 0 && len(p.Events) > 0 {
			withBoth++
			if withBoth == 10 {
				close(enough)
			}
		}
		reads++
	}
	stop()
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	if withBoth < 3 {
		t.Fatalf("only %d of %d reads found events both stored and pending: the race was not exercised", withBoth, reads)
	}
	// Run's drain on stop is bounded; what it left, a flusher drains now.
	rest := ingest.NewFlusher(ingest.FlusherConfig{MaxBatch: 1000}, r.Log, st, nil, quiet)
	for i := 0; ; i++ {
		n, err := rest.FlushOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if i > 20 {
			t.Fatal("the flusher does not drain")
		}
	}
	if n := storedRows(t, st); n != int64(len(snapshot())) {
		t.Fatalf("%d rows stored after the drain, want %d", n, len(snapshot()))
	}
	t.Logf("%d reads, %d with events in both ClickHouse and the overlay", reads, withBoth)
}

// One server of a replicated log is killed while batches keep coming, and
// started again: batches that failed are retried with the same ids until
// accepted, and in the end every event is in the log exactly once and
// reported new exactly once, on a restarted node too.
func testServerKilled(t *testing.T, open Factory) {
	r := open(t)
	if r.Kill == nil {
		t.Skip("the log has no servers to kill") // the bbolt spool: a process crash is RangesInOrderAndAcknowledged's restart
	}
	all := events("k", 1000)
	var fresh int
	failures := 0
	var restart func(*testing.T)
	l := r.Log
	for b := 0; b*25 < len(all); b++ {
		if b == 10 {
			restart = r.Kill(t)
		}
		if b == 25 {
			restart(t)
			restart = nil
		}
		batch := all[b*25 : (b+1)*25]
		deadline := time.Now().Add(30 * time.Second)
		for {
			f, err := l.Accept(batch, noMax)
			if err == nil {
				for _, ok := range f {
					if ok {
						fresh++
					}
				}
				break
			}
			failures++
			if time.Now().After(deadline) {
				t.Fatalf("batch %d not accepted within 30 s: %v", b, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if restart != nil {
		restart(t)
	}
	// An event that landed in a failed attempt is a duplicate to its
	// retry (acceptlog.Log.Accept), so at most every event is reported new.
	if fresh > len(all) {
		t.Fatalf("%d events reported new, more than the %d there are", fresh, len(all))
	}
	l = r.Reopen(t)
	held := readAllOf(t, l, len(all))
	seen := map[string]int{}
	for _, e := range held {
		seen[e.Key()]++
	}
	for _, e := range all {
		if seen[e.Key()] != 1 {
			t.Fatalf("%s is in the log %d times after a server's death and return, want once", e.Key(), seen[e.Key()])
		}
	}
	if len(held) != len(all) {
		t.Fatalf("the log holds %d events, want %d", len(held), len(all))
	}
	t.Logf("%d failed attempts retried; %d events reported new, %d duplicates of a failed attempt", failures, fresh, len(all)-fresh)
}
