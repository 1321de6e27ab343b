package local_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"tiendo"
	"tiendo/store/local"
)

func eventAt(station, id string, ts time.Time) tiendo.Event {
	e := event(station, id)
	e.TS = ts
	return e
}

// pruneAll runs PruneLedger passes of step keys until the end.
func pruneAll(t *testing.T, db *local.DB, horizon time.Time, step int, now time.Time) (pruned, upgraded, steps int) {
	t.Helper()
	var from []byte
	for {
		res, err := db.PruneLedger(horizon, from, step, now)
		if err != nil {
			t.Fatal(err)
		}
		if res.Scanned > step {
			t.Fatalf("a step looked at %d keys, more than %d", res.Scanned, step)
		}
		pruned, upgraded, steps = pruned+res.Pruned, upgraded+res.Upgraded, steps+1
		if from = res.Next; from == nil {
			return
		}
	}
}

func ledgerKeys(t *testing.T, db *local.DB) int {
	t.Helper()
	n, err := db.LedgerKeys()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// M9: keys of events before the horizon go, in bounded steps, but only
// once their event has left the spool (it is in ClickHouse then, where a
// late retry is looked up); keys at or after the horizon stay, and the
// horizon is recorded as what the ledger was pruned below.
func TestPruneLedgerByEventTimeOnceOutOfSpool(t *testing.T) {
	db := mustOpen(t, t.TempDir())
	day := time.Date(2021, 3, 20, 0, 0, 0, 0, time.UTC)
	var old, recent []tiendo.Event
	for i := range 300 {
		old = append(old, eventAt("A", fmt.Sprint("old", i), day.Add(time.Duration(i)*time.Second)))
		recent = append(recent, eventAt("A", fmt.Sprint("new", i), day.Add(48*time.Hour+time.Duration(i)*time.Second)))
	}
	if below, _ := db.LedgerPrunedBelow(); below != local.NotPruned {
		t.Fatalf("a new ledger says it was pruned below %d", below)
	}
	mustAccept(t, db, old[:200])
	mustAccept(t, db, recent)
	mustAccept(t, db, old[200:])
	horizon := day.Add(24 * time.Hour)
	now := day.Add(72 * time.Hour)

	// All still in the spool: nothing goes, whatever its time.
	if pruned, _, _ := pruneAll(t, db, horizon, 64, now); pruned != 0 {
		t.Fatalf("pruned %d keys of events still in the spool", pruned)
	}
	if below, _ := db.LedgerPrunedBelow(); below != horizon.Unix() {
		t.Fatalf("pruned below %d, want the horizon %d", below, horizon.Unix())
	}
	// The first 200 old and the 300 recent ones reach ClickHouse (acked);
	// the last 100 old ones wait in the spool.
	b, err := db.ReadSpool(500)
	if err != nil || len(b.Events) != 500 {
		t.Fatalf("ReadSpool: %d, %v", len(b.Events), err)
	}
	if err := db.AckSpool(b.First, b.Last); err != nil {
		t.Fatal(err)
	}
	pruned, _, steps := pruneAll(t, db, horizon, 64, now)
	if pruned != 200 || steps != (600+63)/64 {
		t.Fatalf("pruned %d keys in %d steps; want the 200 acked old ones in %d steps", pruned, steps, (600+63)/64)
	}
	if n := ledgerKeys(t, db); n != 400 {
		t.Fatalf("%d keys left, want 400 (300 recent, 100 old still spooled)", n)
	}
	// The kept ones are still duplicates; the pruned ones are new to the
	// ledger (the late check against ClickHouse is ingest's).
	fresh, err := db.Accept([]tiendo.Event{recent[5], old[250], old[5]}, local.SpoolLimits{})
	if err != nil || fresh[0] || fresh[1] || !fresh[2] {
		t.Fatalf("Accept after pruning = %v, %v; want recent and spooled old ones duplicates, a pruned one new", fresh, err)
	}
	// A lower horizon later (a longer retention) does not lower the mark.
	pruneAll(t, db, horizon.Add(-time.Hour), 64, now)
	if below, _ := db.LedgerPrunedBelow(); below != horizon.Unix() {
		t.Fatalf("pruned below %d after a lower horizon, want %d kept", below, horizon.Unix())
	}
}

func mustAccept(t *testing.T, db *local.DB, events []tiendo.Event) {
	t.Helper()
	fresh, err := db.Accept(events, local.SpoolLimits{})
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range fresh {
		if !f {
			t.Fatalf("event %s not new", events[i].ID)
		}
	}
}

// Keys written before pruning existed ('c' alone) carry no time: the
// first pass gives them the time of the upgrade plus the clock skew ingest
// allows, later than any of those events, and they go once that is past.
func TestPruneLedgerUpgradesOldValues(t *testing.T) {
	dir := t.TempDir()
	mustOpen(t, dir).Close()
	rawUpdate(t, dir, func(tx *bolt.Tx) error {
		for i := range 50 {
			if err := tx.Bucket([]byte("ledger")).Put([]byte(fmt.Sprintf("A\x00legacy%d", i)), []byte{local.Committed}); err != nil {
				return err
			}
		}
		return nil
	})
	db := mustOpen(t, dir)
	upgrade := time.Date(2021, 8, 1, 0, 0, 0, 0, time.UTC)
	pruned, upgraded, _ := pruneAll(t, db, upgrade, 1000, upgrade)
	if pruned != 0 || upgraded != 50 {
		t.Fatalf("first pass pruned %d, upgraded %d; want 0 and 50", pruned, upgraded)
	}
	if fresh, _ := db.Accept([]tiendo.Event{event("A", "legacy7")}, local.SpoolLimits{}); fresh[0] {
		t.Fatal("an upgraded key is no longer a duplicate")
	}
	if pruned, _, _ := pruneAll(t, db, upgrade.Add(tiendo.MaxClockSkew), 1000, upgrade.Add(time.Hour)); pruned != 0 {
		t.Fatalf("pruned %d upgraded keys at their own time", pruned)
	}
	pruned, upgraded, _ = pruneAll(t, db, upgrade.Add(tiendo.MaxClockSkew+time.Second), 1000, upgrade.Add(time.Hour))
	if pruned != 50 || upgraded != 0 || ledgerKeys(t, db) != 0 {
		t.Fatalf("pruned %d, upgraded %d, %d left; want all 50 gone", pruned, upgraded, ledgerKeys(t, db))
	}
}

// M9: state.db stops growing. Before, every accepted id stayed for ever;
// now, one wave's ids pruned, the next as many fit in the
// pages they freed. bbolt never shrinks its file, but reuses free pages:
// the file stays at its high-water mark instead of growing without bound.
func TestLedgerPruningBoundsStateFile(t *testing.T) {
	day := time.Date(2021, 3, 20, 0, 0, 0, 0, time.UTC)
	run := func(prune bool) (first, final int64) {
		dir := t.TempDir()
		db := mustOpen(t, dir)
		size := func() int64 {
			fi, err := os.Stat(filepath.Join(dir, "state.db"))
			if err != nil {
				t.Fatal(err)
			}
			return fi.Size()
		}
		wave := func(w int) {
			for k := range 2 {
				var evs []tiendo.Event
				for i := range 5000 {
					evs = append(evs, eventAt("LS-STATION-"+fmt.Sprint(i%50), fmt.Sprintf("w%d-%d-%d-0123456789abcdef", w, k, i), day.Add(time.Duration(i)*time.Second)))
				}
				mustAccept(t, db, evs)
				b, err := db.ReadSpool(len(evs))
				if err != nil {
					t.Fatal(err)
				}
				if err := db.AckSpool(b.First, b.Last); err != nil {
					t.Fatal(err)
				}
			}
		}
		wave(0)
		first = size()
		for w := 1; w <= 3; w++ {
			if prune {
				pruneAll(t, db, day.Add(24*time.Hour), 20_000, day.Add(90*24*time.Hour))
				if n := ledgerKeys(t, db); n != 0 {
					t.Fatalf("wave %d: %d keys after pruning, want 0", w, n)
				}
			}
			wave(w)
		}
		want := 40_000
		if prune {
			want = 10_000
		}
		if n := ledgerKeys(t, db); n != want {
			t.Fatalf("prune=%v: %d keys after four waves, want %d", prune, n, want)
		}
		return first, size()
	}
	first, pruned := run(true)
	_, unpruned := run(false)
	t.Logf("state.db after one wave of 10,000 ids: %d bytes; after four: %d with pruning, %d without", first, pruned, unpruned)
	if pruned > first+first/4 {
		t.Errorf("with pruning state.db grew from %d to %d bytes over three more waves; want it near %d", first, pruned, first)
	}
	if unpruned <= pruned {
		t.Errorf("without pruning state.db is %d bytes, not more than %d with it: the test shows nothing", unpruned, pruned)
	}
}
