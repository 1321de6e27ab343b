package readmodel_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"reflect"
	"sort"
	"testing"
	"time"

	"tiendo"
	"tiendo/cmd/tiendo/vietnam2021"
	"tiendo/ingest"
	"tiendo/readmodel"
	"tiendo/store/local"
)

// The nation's live snapshot is summed per province from the rollups
// (Snapshot) and still counts the spool's events as the per-station one
// (StationSnapshot) does: the same totals, pace and provinces at every
// instant of a day whose last events wait in the spool — heartbeats newer
// than the stored ones of stations the store sums, completions, a station
// heard from only in the spool — and while a flush's batch is in doubt
// (its insert landed, its ack did not), checked against ClickHouse or
// left out by both alike.
func TestNationSnapshotFromUnitsCountsTheSpoolOnce(t *testing.T) {
	ctx := context.Background()
	c, stations := vietnam2021.Campaign(), vietnam2021.Stations()
	db, spool := openStoreAndSpool(t, "nationlive", stations)
	reg := tiendo.NewRegistry(c, c.Districts, stations)
	// Ten stations in each of four provinces send; the rest are silent.
	var sending []string
	per := map[string]int{}
	for _, st := range stations {
		p := reg.UnitsOf(st.ID)[len(reg.UnitsOf(st.ID))-1]
		if (p == "LS" || p == "HN" || p == "CB" || p == "HCM") && per[p] < 10 {
			per[p]++
			sending = append(sending, st.ID)
		}
	}
	if len(sending) != 40 {
		t.Fatalf("%d stations sending (%v), want 40", len(sending), per)
	}
	rng := rand.New(rand.NewSource(7))
	day := c.Start + 40
	var events []tiendo.Event
	statuses := []tiendo.StationStatus{tiendo.StatusOpen, tiendo.StatusOpen, tiendo.StatusOpen, tiendo.StatusPaused, tiendo.StatusClosed}
	for i, s := range sending {
		if i == 0 {
			continue // heard from at 21:00 only, from the spool
		}
		for m := rng.Intn(15); m < 15*60; m += 2 + rng.Intn(12) {
			at := c.DayStart(day).Add(3*time.Hour + time.Duration(m)*time.Minute + time.Duration(rng.Intn(60))*time.Second)
			id := fmt.Sprintf("%s-%d", s, m)
			if rng.Intn(2) == 0 {
				events = append(events, tiendo.Event{ID: "c" + id, Type: tiendo.TypeCompletion, Station: s, TS: at, Count: 1 + rng.Intn(3),
					FingerprintRetries: rng.Intn(2), Kind: tiendo.RecordStandard})
			} else {
				events = append(events, tiendo.Event{ID: "h" + id, Type: tiendo.TypeHeartbeat, Station: s, TS: at, Queue: rng.Intn(25),
					Staff: 1 + rng.Intn(4), Lanes: 2, Status: statuses[rng.Intn(len(statuses))]})
			}
		}
	}
	late := c.DayStart(day).Add(17 * time.Hour) // 21:00
	events = append(events, tiendo.Event{ID: "first-word", Type: tiendo.TypeHeartbeat, Station: sending[0], TS: late, Queue: 4, Staff: 2, Lanes: 2,
		Status: tiendo.StatusOpen})
	sort.SliceStable(events, func(i, j int) bool { return events[i].TS.Before(events[j].TS) }) // as stations send them

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	now := new(time.Time)
	modelOf := func(f readmodel.Flusher, stored readmodel.StoredKeys) *readmodel.Model {
		return readmodel.New(readmodel.Sources{Store: db, Overlay: readmodel.SpoolOverlay{Spool: spool, Flusher: f, Stored: stored},
			Registry: func() *tiendo.Registry { return reg }, Now: func() time.Time { return *now }})
	}
	flusher := ingest.NewFlusher(ingest.FlusherConfig{MaxBatch: 100_000}, spool, db, nil, quiet)
	compare := func(at string, m *readmodel.Model) *tiendo.Snapshot {
		t.Helper()
		got, err := m.Snapshot(ctx, tiendo.ProvinceScope)
		if err != nil {
			t.Fatal(err)
		}
		want, err := m.StationSnapshot(ctx, tiendo.ProvinceScope)
		if err != nil {
			t.Fatal(err)
		}
		if got.Attention != nil || len(got.Stations) != 0 {
			t.Fatalf("%s: the nation's snapshot judged stations (%d, attention %v): not summed per unit", at, len(got.Stations), got.Attention)
		}
		gt, wt := got.Totals, want.Totals
		wt.IdleStaff, wt.StationsIdle, wt.StationsLate = 0, 0, 0 // each station's service: not summed
		if gt != wt {
			t.Errorf("%s: totals\n got %+v\nwant %+v", at, gt, wt)
		}
		if !reflect.DeepEqual(got.Pace, want.Pace) {
			t.Errorf("%s: pace\n got %+v\nwant %+v", at, got.Pace, want.Pace)
		}
		wu := append([]tiendo.UnitState(nil), want.Units...)
		for i := range wu {
			wu[i].IdleStaff, wu[i].StationsLate = 0, 0
		}
		if !reflect.DeepEqual(got.Units, wu) {
			for i := range wu {
				if i < len(got.Units) && !reflect.DeepEqual(got.Units[i], wu[i]) {
					t.Errorf("%s: province %d\n got %+v\nwant %+v", at, i, got.Units[i], wu[i])
					break
				}
			}
		}
		if got.Storage != want.Storage {
			t.Errorf("%s: storage %+v, want %+v", at, got.Storage, want.Storage)
		}
		return got
	}
	model := modelOf(flusher, db)
	pendingSeen, openSeen := 0, 0
	for h := 8; h <= 21; h++ {
		end := c.DayStart(day).Add(time.Duration(h-4) * time.Hour)
		n := 0
		for n < len(events) && events[n].TS.Before(end) {
			n++
		}
		// All but the last quarter hour's events are stored; those wait.
		held := n
		for held > 0 && !events[held-1].TS.Before(end.Add(-15*time.Minute)) {
			held--
		}
		if _, err := spool.Accept(events[:held], local.SpoolLimits{}); err != nil {
			t.Fatal(err)
		}
		if _, err := flusher.FlushOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := spool.Accept(events[held:n], local.SpoolLimits{}); err != nil {
			t.Fatal(err)
		}
		events = events[n:]
		*now = end.Add(-time.Second)
		snap := compare(fmt.Sprintf("%02d:00", h), model)
		pendingSeen += int(snap.Storage.Pending)
		openSeen += snap.Totals.StationsOpen
		if h == 21 && snap.Totals.StationsOpen == 0 {
			t.Errorf("21:00: no station open")
		}
	}
	if pendingSeen == 0 || openSeen == 0 {
		t.Fatalf("%d events pending and %d stations open over the day: the overlay was not exercised", pendingSeen, openSeen)
	}

	// A flush whose insert lands and whose ack fails: its batch is in
	// doubt. Checked against ClickHouse it counts once; unchecked both
	// paths leave it out alike.
	failing := ingest.NewFlusher(ingest.FlusherConfig{MaxBatch: 100_000}, &killedBeforeAck{DB: spool}, db, nil, quiet)
	if _, err := failing.FlushOnce(ctx); err == nil {
		t.Fatal("the failing ack succeeded")
	}
	if got := compare("in doubt, checked", modelOf(failing, db)); got.Storage.Partial {
		t.Errorf("in doubt, checked: storage %+v, want complete", got.Storage)
	}
	if got := compare("in doubt, unchecked", modelOf(failing, nil)); !got.Storage.Partial {
		t.Errorf("in doubt, unchecked: storage %+v, want partial", got.Storage)
	}
}
