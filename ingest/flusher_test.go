package ingest_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"tiendo"
	"tiendo/ingest"
	"tiendo/store"
	"tiendo/store/clickhouse"
	"tiendo/store/local"
	"tiendo/store/storetest"
)

// The flusher's promises are about ClickHouse, so these tests run it against
// a real ClickHouse server (engines_test.go starts it, and chDB for the
// tests that run on both engines).

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func openStore(t *testing.T) *store.DB {
	t.Helper()
	engine, _, err := clickhouse.Open(context.Background(), chServer.DSN)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), engine, storetest.NewDatabaseName("ingest"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openSpool(t *testing.T) *local.DB {
	t.Helper()
	db, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func completions(n int) []tiendo.Event {
	evs := make([]tiendo.Event, n)
	for i := range evs {
		evs[i] = tiendo.Event{ID: fmt.Sprintf("e%05d", i), Type: tiendo.TypeCompletion, Station: fmt.Sprintf("S%d", i%7),
			TS: time.Date(2021, 3, 20, 10, 0, i%3600, 0, time.UTC), Count: 1 + i%3, Kind: tiendo.RecordStandard}
	}
	return evs
}

func records(evs []tiendo.Event) int64 {
	var n int64
	for _, e := range evs {
		n += int64(e.Count)
	}
	return n
}

func storedRecords(t *testing.T, db *store.DB) (raw, rollup int64) {
	t.Helper()
	q := func(sql string) int64 {
		rows, err := db.Engine().Query(context.Background(), fmt.Sprintf(sql, "`"+db.Database()+"`"))
		if err != nil {
			t.Fatal(err)
		}
		return rows[0][0].(int64)
	}
	return q("SELECT toInt64(sum(count)) FROM %s.completions"), q("SELECT toInt64(sum(records)) FROM %s.station_totals")
}

// crashingSpool is a spool whose AckSpool fails once, after the insert
// succeeded: the on-disk state is the one kill -9 leaves between the insert
// and the ack. Tests then drop the flusher, as the process would be.
type crashingSpool struct {
	*local.DB
	crashed bool
}

func (s *crashingSpool) AckSpool(first, last uint64) error {
	if !s.crashed {
		s.crashed = true
		return errors.New("killed before the ack")
	}
	return s.DB.AckSpool(first, last)
}

// partialStore inserts only part of the first batch (the completions, as
// when the heartbeats insert fails after the completions insert) and fails.
type partialStore struct {
	*store.DB
	failed bool
}

func (s *partialStore) WriteEvents(ctx context.Context, events []tiendo.Event) error {
	if s.failed {
		return s.DB.WriteEvents(ctx, events)
	}
	s.failed = true
	var comp []tiendo.Event
	for _, e := range events {
		if e.Type == tiendo.TypeCompletion {
			comp = append(comp, e)
		}
	}
	if err := s.DB.WriteEvents(ctx, comp); err != nil {
		return err
	}
	return errors.New("heartbeats insert timed out")
}

// countingStore counts the resolution queries.
type countingStore struct {
	*store.DB
	lookups int
}

func (s *countingStore) StoredEventKeys(ctx context.Context, events []tiendo.Event) (map[string]bool, error) {
	s.lookups++
	return s.DB.StoredEventKeys(ctx, events)
}

func mixed(n int) []tiendo.Event {
	evs := completions(n)
	for i := range evs {
		if i%3 == 0 {
			evs[i].Type, evs[i].Count, evs[i].Kind = tiendo.TypeHeartbeat, 0, ""
			evs[i].Queue, evs[i].Staff, evs[i].Status = i%40, 3, tiendo.StatusOpen
		}
	}
	return evs
}

func storedRows(t *testing.T, db *store.DB) int64 {
	t.Helper()
	rows, err := db.Engine().Query(context.Background(), fmt.Sprintf(
		"SELECT toInt64((SELECT count() FROM %[1]s.heartbeats) + (SELECT count() FROM %[1]s.completions))", "`"+db.Database()+"`"))
	if err != nil {
		t.Fatal(err)
	}
	return rows[0][0].(int64)
}

func checkOnce(t *testing.T, st *store.DB, spool *local.DB, evs []tiendo.Event) {
	t.Helper()
	raw, rollup := storedRecords(t, st)
	if raw != records(evs) || rollup != raw {
		t.Fatalf("raw %d, rollup %d; want both %d (no event twice)", raw, rollup, records(evs))
	}
	if n := storedRows(t, st); n != int64(len(evs)) {
		t.Fatalf("%d rows stored, want %d (each event once)", n, len(evs))
	}
	if left, _, _ := spool.SpoolStats(); left != 0 {
		t.Fatalf("%d events left in the spool", left)
	}
}

// A flush cut short after part of the batch reached ClickHouse (the process
// died before it could clear the spool) is resolved on the next flush: the
// rest is inserted, nothing twice, and raw and rollup totals agree.
func TestInterruptedFlushResolvedWithoutDoubles(t *testing.T) {
	st, spool := openStore(t), openSpool(t)
	evs := completions(1000)
	if _, err := spool.Accept(evs, local.SpoolLimits{}); err != nil {
		t.Fatal(err)
	}
	// The dead process: it opened its window, and 400 events made it
	// before the crash.
	if _, err := spool.OpenInsertWindow(ingest.DefaultFlusherConfig.MaxBatch); err != nil {
		t.Fatal(err)
	}
	if err := st.WriteEvents(context.Background(), evs[:400]); err != nil {
		t.Fatal(err)
	}

	f := ingest.NewFlusher(ingest.FlusherConfig{}, spool, st, nil, quiet)
	n, err := f.FlushOnce(context.Background())
	if err != nil || n != 1000 {
		t.Fatalf("FlushOnce = %d, %v; want the 1000-event range resolved", n, err)
	}
	checkOnce(t, st, spool, evs)
}

// kill -9 after the insert committed and before the ack: the next process
// resolves the whole batch, even with a smaller MaxBatch than the one that
// inserted it, and inserts nothing twice; events accepted meanwhile go in
// once too.
func TestCrashAfterInsertBeforeAck(t *testing.T) {
	for _, restartBatch := range []int{1000, 300} {
		t.Run(fmt.Sprintf("restart_batch=%d", restartBatch), func(t *testing.T) {
			st, spool := openStore(t), openSpool(t)
			evs := mixed(1300)
			spool.Accept(evs[:1000], local.SpoolLimits{})
			dying := ingest.NewFlusher(ingest.FlusherConfig{MaxBatch: 1000}, &crashingSpool{DB: spool}, st, nil, quiet)
			if _, err := dying.FlushOnce(context.Background()); err == nil {
				t.Fatal("the crashing flush succeeded")
			}
			if n := storedRows(t, st); n != 1000 {
				t.Fatalf("%d rows before the restart, want the whole batch (1000)", n)
			}
			spool.Accept(evs[1000:], local.SpoolLimits{})

			cs := &countingStore{DB: st}
			f := ingest.NewFlusher(ingest.FlusherConfig{MaxBatch: restartBatch}, spool, cs, nil, quiet)
			flushUntilEmpty(t, f, 10)
			checkOnce(t, st, spool, evs)
			if want := (1000 + restartBatch - 1) / restartBatch; cs.lookups != want {
				t.Errorf("%d resolution lookups, want %d (the dead process's window, no more)", cs.lookups, want)
			}
		})
	}
}

// A failed insert that left part of the batch in ClickHouse is resolved by
// the same process's next flush, without a restart.
func TestPartialInsertRetriedWithoutDoubles(t *testing.T) {
	st, spool := openStore(t), openSpool(t)
	evs := mixed(900)
	spool.Accept(evs, local.SpoolLimits{})
	ps := &partialStore{DB: st}
	f := ingest.NewFlusher(ingest.FlusherConfig{MaxBatch: 500}, spool, ps, nil, quiet)
	if _, err := f.FlushOnce(context.Background()); err == nil {
		t.Fatal("the partial insert succeeded")
	}
	flushUntilEmpty(t, f, 5)
	checkOnce(t, st, spool, evs)
}

// A spool left by the previous version with an in-flight range (it marked
// each batch before inserting) is honoured after the upgrade: the range is
// resolved, even when it is larger than the new MaxBatch.
func TestLegacyInflightRangeResolvedAfterUpgrade(t *testing.T) {
	st := openStore(t)
	dir := t.TempDir()
	spool, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	evs := mixed(700)
	spool.Accept(evs, local.SpoolLimits{})
	spool.Close()
	raw, err := bolt.Open(filepath.Join(dir, "state.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = raw.Update(func(tx *bolt.Tx) error {
		v := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, 1), 600)
		return tx.Bucket([]byte("meta")).Put([]byte("inflight"), v)
	})
	raw.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.WriteEvents(context.Background(), evs[250:600]); err != nil { // what the old process inserted
		t.Fatal(err)
	}
	spool, err = local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer spool.Close()
	f := ingest.NewFlusher(ingest.FlusherConfig{MaxBatch: 200}, spool, st, nil, quiet)
	flushUntilEmpty(t, f, 10)
	checkOnce(t, st, spool, evs)
}

// A flusher stopped cleanly (spool drained) leaves nothing to resolve: the
// next start inserts without asking ClickHouse first.
func TestCleanStopNeedsNoResolution(t *testing.T) {
	st, spool := openStore(t), openSpool(t)
	evs := mixed(100)
	spool.Accept(evs[:50], local.SpoolLimits{})
	f := ingest.NewFlusher(ingest.FlusherConfig{Interval: 10 * time.Millisecond}, spool, st, nil, quiet)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.Run(ctx, 5*time.Second) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	spool.Accept(evs[50:], local.SpoolLimits{})
	cs := &countingStore{DB: st}
	f = ingest.NewFlusher(ingest.FlusherConfig{}, spool, cs, nil, quiet)
	if n, err := f.FlushOnce(context.Background()); err != nil || n != 50 {
		t.Fatalf("FlushOnce = %d, %v", n, err)
	}
	if cs.lookups != 0 {
		t.Errorf("%d resolution lookups after a clean stop, want 0", cs.lookups)
	}
	checkOnce(t, st, spool, evs)
}

// With ClickHouse unreachable a flush fails, the flusher says so, and the
// spool keeps every event for the next attempt.
func TestFlushFailureKeepsSpool(t *testing.T) {
	spool := openSpool(t)
	engine, _, err := clickhouse.Open(context.Background(), chServer.DSN)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), engine, storetest.NewDatabaseName("gone"))
	if err != nil {
		t.Fatal(err)
	}
	st.Close() // every query now fails, as with ClickHouse down
	evs := completions(50)
	spool.Accept(evs, local.SpoolLimits{})
	f := ingest.NewFlusher(ingest.FlusherConfig{InsertTimeout: time.Second}, spool, st, nil, quiet)
	if _, err := f.FlushOnce(context.Background()); err == nil {
		t.Fatal("flush into a closed store succeeded")
	}
	if f.Healthy() || f.LastError() == "" {
		t.Fatalf("Healthy = %v, LastError = %q after a failed flush", f.Healthy(), f.LastError())
	}
	if left, _, _ := spool.SpoolStats(); left != 50 {
		t.Fatalf("spool holds %d events after a failed flush, want 50", left)
	}
	// Recovery: a working store gets them all, once.
	good := openStore(t)
	f = ingest.NewFlusher(ingest.FlusherConfig{}, spool, good, nil, quiet)
	if _, err := f.FlushOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if raw, _ := storedRecords(t, good); raw != records(evs) {
		t.Fatalf("raw %d, want %d", raw, records(evs))
	}
}

// The batcher answers each request with its own counts, dedupes across
// requests that share a commit, and refuses a batch past the spool limit.
func TestBatcherGroupCommit(t *testing.T) {
	spool := openSpool(t)
	b := ingest.NewBatcher(ingest.BatcherConfig{Linger: 50 * time.Millisecond, Limits: local.SpoolLimits{MaxEvents: 1500}}, spool, nil, quiet)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- b.Run(ctx) }()
	evs := completions(1000)
	type out struct {
		res ingest.Result
		err error
	}
	results := make(chan out, 3)
	for _, part := range [][]tiendo.Event{evs[:600], evs[400:1000], evs[:100]} {
		go func(p []tiendo.Event) {
			r, err := b.Submit(context.Background(), p)
			results <- out{r, err}
		}(part)
	}
	var accepted, dups int
	for i := 0; i < 3; i++ {
		o := <-results
		if o.err != nil {
			t.Fatal(o.err)
		}
		accepted += o.res.Accepted
		dups += o.res.Duplicates
	}
	if accepted != 1000 || dups != 300 {
		t.Fatalf("accepted %d duplicates %d, want 1000 and 300", accepted, dups)
	}
	_, err := b.Submit(context.Background(), completions(1001)[1000:]) // new id, but 1000+1 fits
	if err != nil {
		t.Fatalf("within the limit: %v", err)
	}
	more := completions(1600)[1001:]
	if _, err := b.Submit(context.Background(), more); tiendo.ErrorCode(err) != tiendo.EUnavailable {
		t.Fatalf("past the spool limit: %v, want unavailable", err)
	}
	cancel()
	<-done
	if _, err := b.Submit(context.Background(), evs[:1]); tiendo.ErrorCode(err) != tiendo.EUnavailable {
		t.Fatalf("after stop: %v, want unavailable", err)
	}
}

// flushUntilEmpty flushes until the spool is empty, at most tries times.
func flushUntilEmpty(t *testing.T, f *ingest.Flusher, tries int) {
	t.Helper()
	for range tries {
		if n, err := f.FlushOnce(context.Background()); err != nil {
			t.Fatal(err)
		} else if n == 0 {
			return
		}
	}
}

// Readers are told which head events may be in the store too: all of them
// before the first flush has read the window a previous process left, the
// batch of a flush cut between its insert and its ack, none once a flush
// has checked them against the store.
func TestInDoubtUntilAFlushChecksTheStore(t *testing.T) {
	st, spool := openStore(t), openSpool(t)
	evs := mixed(600)
	spool.Accept(evs, local.SpoolLimits{})
	dying := ingest.NewFlusher(ingest.FlusherConfig{MaxBatch: 1000}, &crashingSpool{DB: spool}, st, nil, quiet)
	if d := dying.InDoubt(); d != math.MaxInt64 {
		t.Fatalf("before its first flush a flusher has %d events in doubt, want all (MaxInt64)", d)
	}
	if _, err := dying.FlushOnce(context.Background()); err == nil {
		t.Fatal("the crashing flush succeeded")
	}
	if d := dying.InDoubt(); d < 600 {
		t.Fatalf("after an insert without its ack %d events are in doubt, want the batch (600)", d)
	}
	f := ingest.NewFlusher(ingest.FlusherConfig{MaxBatch: 1000}, spool, st, nil, quiet)
	if _, err := f.FlushOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := f.InDoubt(); d != 0 {
		t.Fatalf("after the next process's first flush %d events are in doubt, want 0", d)
	}
	checkOnce(t, st, spool, evs)
	spool.Accept(mixed(10), local.SpoolLimits{})
	if d := f.InDoubt(); d != 0 {
		t.Fatalf("events accepted after a good flush are in doubt (%d)", d)
	}
}
