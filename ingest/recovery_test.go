package ingest_test

import (
	"context"
	"testing"
	"time"

	"tiendo"
	"tiendo/ingest"
	"tiendo/store"
	"tiendo/store/local"
	"tiendo/store/storetest"
)

// templateLikeEvents are a completion and a heartbeat for every id of
// storetest.TemplateLikeIDs ("{db}", quotes, backslashes, braces, fmt verbs).
func templateLikeEvents() []tiendo.Event {
	var evs []tiendo.Event
	for i, id := range storetest.TemplateLikeIDs {
		ts := time.Date(2021, 3, 20, 9, 0, i, 0, time.UTC)
		evs = append(evs,
			tiendo.Event{ID: id, Type: tiendo.TypeCompletion, Station: "LS-A", TS: ts, Count: 1 + i, Kind: tiendo.RecordStandard},
			tiendo.Event{ID: id, Type: tiendo.TypeHeartbeat, Station: "LS-B", TS: ts, Queue: i, Staff: 1, Status: tiendo.StatusOpen})
	}
	return evs
}

// L1: kill -9 between the insert and the ack leaves events in ClickHouse
// and in the spool; the next flusher asks ClickHouse which are there
// (StoredEventKeys) and must find every one, whatever its id spells, or it
// inserts it again and the station counts it twice. On both engines.
func TestCrashRecoveryFindsTemplateLikeIDs(t *testing.T) {
	eachEngine(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		st, spool := open(t), openSpool(t)
		evs := templateLikeEvents()
		if _, err := spool.Accept(evs, local.SpoolLimits{}); err != nil {
			t.Fatal(err)
		}
		dying := ingest.NewFlusher(ingest.FlusherConfig{}, &crashingSpool{DB: spool}, st, nil, quiet)
		if _, err := dying.FlushOnce(context.Background()); err == nil {
			t.Fatal("the crashing flush succeeded")
		}
		if n := storedRows(t, st); n != int64(len(evs)) {
			t.Fatalf("%d rows before the restart, want the whole batch (%d)", n, len(evs))
		}
		f := ingest.NewFlusher(ingest.FlusherConfig{}, spool, st, nil, quiet)
		flushUntilEmpty(t, f, 5)
		checkOnce(t, st, spool, evs)
	})
}
