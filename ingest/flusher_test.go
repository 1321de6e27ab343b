package ingest_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"tiendo"
	"tiendo/ingest"
	"tiendo/store"
	"tiendo/store/clickhouse"
	"tiendo/store/local"
	"tiendo/store/storetest"
)

// The flusher's promises are about ClickHouse, so these tests run it against
// a real ClickHouse server.

var chServer *storetest.ClickHouseServer

func TestMain(m *testing.M) { os.Exit(storetest.MainWithClickHouseServer(m, &chServer)) }

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

// A flush cut short after part of the batch reached ClickHouse (the process
// died before it could clear the spool) is resolved on the next flush: the
// rest is inserted, nothing twice, and raw and rollup totals agree.
func TestInterruptedFlushResolvedWithoutDoubles(t *testing.T) {
	st, spool := openStore(t), openSpool(t)
	evs := completions(1000)
	if _, err := spool.Accept(evs, local.SpoolLimits{}); err != nil {
		t.Fatal(err)
	}
	batch, err := spool.ReadSpool(1000)
	if err != nil {
		t.Fatal(err)
	}
	if err := spool.SetInflight(batch.First, batch.Last); err != nil {
		t.Fatal(err)
	}
	if err := st.WriteEvents(context.Background(), evs[:400]); err != nil { // the part that made it before the crash
		t.Fatal(err)
	}

	f := ingest.NewFlusher(ingest.FlusherConfig{}, spool, st, nil, quiet)
	n, err := f.FlushOnce(context.Background())
	if err != nil || n != 1000 {
		t.Fatalf("FlushOnce = %d, %v; want the 1000-event range resolved", n, err)
	}
	raw, rollup := storedRecords(t, st)
	if raw != records(evs) || rollup != raw {
		t.Fatalf("raw %d, rollup %d; want both %d (no event twice)", raw, rollup, records(evs))
	}
	if left, _, _ := spool.SpoolStats(); left != 0 {
		t.Fatalf("%d events left in the spool", left)
	}
	if f2, l2, _ := spool.Inflight(); f2 != 0 || l2 != 0 {
		t.Fatalf("in-flight range not cleared: %d-%d", f2, l2)
	}
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
