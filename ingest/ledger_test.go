package ingest_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"tiendo"
	"tiendo/ingest"
	"tiendo/store"
	"tiendo/store/local"
)

// M9: the ledger is pruned past its retention window and late retries stay
// exactly-once, on both engines.

// cut is the horizon the ledger tests prune at: events of 19 March are
// before it, those of 20 March after.
var cut = time.Date(2021, 3, 20, 0, 0, 0, 0, time.UTC)

// retentionTo is a retention window whose horizon is at (about) t now.
func retentionTo(t time.Time) time.Duration { return time.Since(t).Truncate(time.Second) }

type ledgerRig struct {
	*ingestApp
	st      *store.DB
	flusher *ingest.Flusher
	ledger  *ingest.Ledger
}

// newLedgerRig mounts a Handler with a Ledger that prunes at cut; keys,
// if not nil, wraps the store the late check asks.
func newLedgerRig(t *testing.T, open func(testing.TB) *store.DB, keys func(ingest.StoredKeys) ingest.StoredKeys) *ledgerRig {
	t.Helper()
	st, spool := open(t), openSpool(t)
	var lookup ingest.StoredKeys = st
	if keys != nil {
		lookup = keys(st)
	}
	campaign := testCampaign(t)
	l, err := ingest.NewLedger(ingest.LedgerConfig{Retention: retentionTo(cut), Step: 7, Pause: time.Millisecond},
		spool, lookup, func() *tiendo.Campaign { return campaign }, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	a := newIngestApp(t, spool, func(h *ingest.Handler) { h.Ledger = l })
	return &ledgerRig{ingestApp: a, st: st, flusher: ingest.NewFlusher(ingest.FlusherConfig{}, spool, st, nil, quiet), ledger: l}
}

func (r *ledgerRig) flush(t *testing.T) {
	t.Helper()
	flushUntilEmpty(t, r.flusher, 10)
	if n, _, _ := r.spool.SpoolStats(); n != 0 {
		t.Fatalf("%d events left in the spool", n)
	}
}

func (r *ledgerRig) prune(t *testing.T) int {
	t.Helper()
	n, err := r.ledger.PruneOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (r *ledgerRig) keys(t *testing.T) int {
	t.Helper()
	n, err := r.spool.LedgerKeys()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// expectResult posts events and checks the counts of the answer.
func (r *ledgerRig) expectResult(t *testing.T, what string, events []tiendo.Event, accepted, duplicates int) {
	t.Helper()
	res := r.postEvents(t, events).result(t)
	if res.Accepted != accepted || res.Duplicates != duplicates {
		t.Fatalf("%s: accepted %d, duplicates %d; want %d and %d", what, res.Accepted, res.Duplicates, accepted, duplicates)
	}
}

// checkCountedOnce checks ClickHouse holds each of events once: raw rows,
// rollups and the station's figures.
func checkCountedOnce(t *testing.T, st *store.DB, events []tiendo.Event) {
	t.Helper()
	if n := storedRows(t, st); n != int64(len(events)) {
		t.Fatalf("%d rows stored, want %d (each event once)", n, len(events))
	}
	raw, rollup := storedRecords(t, st)
	if raw != records(events) || rollup != raw {
		t.Fatalf("raw %d, rollup %d records; want %d", raw, rollup, records(events))
	}
	stats, err := st.StationStats(context.Background(), tiendo.StatsQuery{Stations: []string{"LS-A"}, Now: cut.Add(48 * time.Hour), DayStart: cut})
	if err != nil || len(stats) != 1 || stats[0].Completed != records(events) {
		t.Fatalf("StationStats = %+v, %v; want LS-A completed %d", stats, err, records(events))
	}
}

// A retry of an event whose id was pruned is a duplicate (found in
// ClickHouse), counted once; a retry of one within the window is one by
// the ledger; an old event never sent before is still accepted.
func TestPrunedRetryIsDuplicate(t *testing.T) {
	eachEngine(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		r := newLedgerRig(t, open, nil)
		old := completionsAt("old", 50, cut.Add(-20*time.Hour))
		recent := completionsAt("new", 50, cut.Add(6*time.Hour))
		all := append(append([]tiendo.Event{}, old...), recent...)
		r.expectResult(t, "first send", all, 100, 0)
		r.flush(t)
		if n := r.prune(t); n != 50 {
			t.Fatalf("pruned %d keys, want the 50 old ones", n)
		}
		if n := r.keys(t); n != 50 {
			t.Fatalf("%d ledger keys, want the 50 recent ones", n)
		}
		r.expectResult(t, "retry of all", all, 0, 100)
		r.expectResult(t, "retry of a pruned one", old[7:8], 0, 1)
		r.flush(t)
		checkCountedOnce(t, r.st, all)
		late := completionsAt("late", 3, cut.Add(-30*time.Hour))
		r.expectResult(t, "old events never sent", late, 3, 0)
		r.expectResult(t, "their retry before the flush", late, 0, 3)
		r.flush(t)
		checkCountedOnce(t, r.st, append(all, late...))
	})
}

// Keys of events still in the spool (not yet in ClickHouse, where the late
// check would look) are never pruned, whatever their age.
func TestPruneKeepsSpooledIDs(t *testing.T) {
	eachEngine(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		r := newLedgerRig(t, open, nil)
		old := completionsAt("old", 40, cut.Add(-20*time.Hour))
		r.expectResult(t, "first send", old, 40, 0)
		if n := r.prune(t); n != 0 {
			t.Fatalf("pruned %d keys of events in the spool", n)
		}
		r.expectResult(t, "retry while spooled", old, 0, 40)
		r.flush(t)
		if n := r.prune(t); n != 40 {
			t.Fatalf("pruned %d after the flush, want 40", n)
		}
		r.expectResult(t, "retry after pruning", old, 0, 40)
		r.flush(t)
		checkCountedOnce(t, r.st, old)
	})
}

// racingKeys is the store's StoredEventKeys with, once, a flush and a
// pruning pass run between ClickHouse's answer and its return: the answer
// is then out of date (the events reached ClickHouse and their keys left
// the ledger meanwhile), as when the flusher and the pruner run while a
// late check waits on ClickHouse.
type racingKeys struct {
	ingest.StoredKeys
	once    sync.Once
	between func()
	calls   int
}

func (k *racingKeys) StoredEventKeys(ctx context.Context, events []tiendo.Event) (map[string]bool, error) {
	k.calls++
	found, err := k.StoredKeys.StoredEventKeys(ctx, events)
	k.once.Do(k.between)
	return found, err
}

// The race: a late retry is looked up in ClickHouse (not there: still in
// the spool), then the flusher moves it and the pruner drops its key, then
// the request reaches the ledger, which no longer has it. The ledger sees
// that a pruning step ran and looks again, so the retry is a duplicate.
func TestLateCheckRacingPruneCountsOnce(t *testing.T) {
	eachEngine(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		var rig *ledgerRig
		var rk *racingKeys
		pruned := -1
		rig = newLedgerRig(t, open, func(st ingest.StoredKeys) ingest.StoredKeys {
			rk = &racingKeys{StoredKeys: st}
			return rk
		})
		rk.between = func() {
			flushUntilEmpty(t, rig.flusher, 10)
			pruned = rig.prune(t)
		}
		old := completionsAt("old", 30, cut.Add(-20*time.Hour))
		rig.expectResult(t, "first send", old, 30, 0)
		// A first pass moves the horizon past the events (none pruned:
		// they are spooled), so that their retry is a late one.
		if n := rig.prune(t); n != 0 {
			t.Fatalf("pruned %d spooled keys", n)
		}
		rig.expectResult(t, "late retry racing flush and prune", old, 0, 30)
		if pruned != 30 || rk.calls != 2 {
			t.Fatalf("the race pruned %d keys and the late check asked ClickHouse %d times; want 30 and twice", pruned, rk.calls)
		}
		rig.flush(t)
		checkCountedOnce(t, rig.st, old)
	})
}

// ClickHouse away: a late batch cannot be checked and is refused whole
// with 503 and Retry-After, not accepted (it might be a duplicate).
func TestLateCheckWithoutClickHouse(t *testing.T) {
	st := openStore(t)
	r := newLedgerRig(t, func(testing.TB) *store.DB { return st }, nil)
	old := completionsAt("old", 10, cut.Add(-20*time.Hour))
	r.expectResult(t, "first send", old, 10, 0)
	r.flush(t)
	if n := r.prune(t); n != 10 {
		t.Fatalf("pruned %d, want 10", n)
	}
	st.Close()
	resp := r.postEvents(t, append(old[:2:2], completionsAt("fresh", 2, cut.Add(time.Hour))...))
	if resp.status != http.StatusServiceUnavailable || resp.header.Get("Retry-After") == "" {
		t.Fatalf("late batch with ClickHouse away: %d (Retry-After %q) %s", resp.status, resp.header.Get("Retry-After"), resp.raw)
	}
	if n, _, _ := r.spool.SpoolStats(); n != 0 {
		t.Fatalf("%d events spooled from a refused batch", n)
	}
	// Events inside the window need no ClickHouse: the ledger answers.
	r.expectResult(t, "recent events with ClickHouse away", completionsAt("fresh", 2, cut.Add(time.Hour)), 2, 0)
}

// The ledger prunes only behind a Handler that checks late events through
// it: a server that ran the pruner without the check would count a late
// retry twice.
func TestLedgerPrunesOnlyBehindItsHandler(t *testing.T) {
	st, spool := openStore(t), openSpool(t)
	l, err := ingest.NewLedger(ingest.LedgerConfig{Retention: retentionTo(cut)}, spool, st, func() *tiendo.Campaign { return nil }, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	old := completionsAt("old", 10, cut.Add(-20*time.Hour))
	if _, err := spool.Accept(old, local.SpoolLimits{}); err != nil {
		t.Fatal(err)
	}
	flushUntilEmpty(t, ingest.NewFlusher(ingest.FlusherConfig{}, spool, st, nil, quiet), 5)
	if n, err := l.PruneOnce(context.Background()); n != 0 || err != nil {
		t.Fatalf("PruneOnce before any handler used the ledger = %d, %v; want 0", n, err)
	}
	a := newIngestApp(t, spool, func(h *ingest.Handler) { h.Ledger = l })
	a.postEvents(t, completionsAt("new", 1, cut.Add(time.Hour))).result(t)
	if n, err := l.PruneOnce(context.Background()); n != 10 || err != nil {
		t.Fatalf("PruneOnce once a handler checks through it = %d, %v; want 10", n, err)
	}
}

// The default window is the campaign's length plus 30 days, measured from
// each event's own time: every id of the campaign stays at least until 30
// days after its deadline.
func TestLedgerDefaultRetention(t *testing.T) {
	c := testCampaign(t)
	l, err := ingest.NewLedger(ingest.LedgerConfig{}, openSpool(t), openStore(t), func() *tiendo.Campaign { return c }, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	want := c.DeadlineTime().Sub(c.StartTime()) + 30*24*time.Hour
	if got := l.Retention(); got != want {
		t.Fatalf("default retention %v, want %v", got, want)
	}
	if !c.StartTime().Add(want).Equal(c.DeadlineTime().Add(30 * 24 * time.Hour)) {
		t.Fatal("an event at the campaign's start is not kept until 30 days past the deadline")
	}
	none, _ := ingest.NewLedger(ingest.LedgerConfig{}, openSpool(t), openStore(t), func() *tiendo.Campaign { return nil }, nil, quiet)
	if none.Retention() >= 0 {
		t.Fatal("without a campaign the default retention prunes")
	}
}

// A replay of the 2021 campaign runs on the campaign's clock: measured on
// the wall clock every replayed id would be years past the default horizon
// and pruned at once, and each retry looked up in ClickHouse.
func TestLedgerHorizonOnTheCampaignClock(t *testing.T) {
	eachEngine(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		for _, tc := range []struct {
			name   string
			now    func() time.Time
			pruned int
		}{{"replay clock", func() time.Time { return cut }, 0}, {"wall clock", nil, 20}} {
			st, spool := open(t), openSpool(t)
			campaign := testCampaign(t)
			l, err := ingest.NewLedger(ingest.LedgerConfig{Now: tc.now, Step: 7, Pause: time.Millisecond},
				spool, st, func() *tiendo.Campaign { return campaign }, nil, quiet)
			if err != nil {
				t.Fatal(err)
			}
			r := &ledgerRig{ingestApp: newIngestApp(t, spool, func(h *ingest.Handler) { h.Ledger = l }), st: st,
				flusher: ingest.NewFlusher(ingest.FlusherConfig{}, spool, st, nil, quiet), ledger: l}
			evs := completionsAt("c", 20, cut.Add(-20*time.Hour))
			r.expectResult(t, tc.name+": first send", evs, 20, 0)
			r.flush(t)
			if n := r.prune(t); n != tc.pruned {
				t.Errorf("%s: pruned %d keys, want %d", tc.name, n, tc.pruned)
			}
			r.expectResult(t, tc.name+": retry", evs, 0, 20)
		}
	})
}
