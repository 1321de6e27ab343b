package storetest

import (
	"context"
	"fmt"
	"math/rand"
	"sort"
	"testing"
	"time"

	"tiendo"
	"tiendo/store"
)

// ServiceSamples: the heartbeats and minutes of completions the service
// figures integrate, checked against the events written and, where its
// rules are the store's, the spool overlay (tiendo.AddPendingService): a
// figure must not change when its events move from the spool into ClickHouse.

func hb(id, station, ts string, status tiendo.StationStatus, queue, staff, lanes int) tiendo.Event {
	return tiendo.Event{ID: id, Type: tiendo.TypeHeartbeat, Station: station, TS: at(ts), Status: status,
		Queue: queue, Staff: staff, Lanes: lanes}
}

func sample(station, ts string, status tiendo.StationStatus, queue, staff, lanes int) tiendo.ServiceSample {
	return tiendo.ServiceSample{Station: station, At: at(ts).UTC(), Status: status, Queue: queue, Staff: staff, Lanes: lanes}
}

func minuteCount(station, minute string, records int64) tiendo.MinuteCount {
	return tiendo.MinuteCount{Station: station, Minute: at(minute).UTC(), Records: records}
}

func serviceOf(t *testing.T, db *store.DB, q tiendo.ServiceQuery) ([]tiendo.ServiceSample, []tiendo.MinuteCount) {
	t.Helper()
	s, m, err := db.ServiceSamples(ctx(t), q)
	if err != nil {
		t.Fatalf("ServiceSamples(%v, %v…%v): %v", q.Stations, q.From, q.To, err)
	}
	return s, m
}

func checkService(t *testing.T, name string, gotS []tiendo.ServiceSample, gotM []tiendo.MinuteCount, wantS []tiendo.ServiceSample, wantM []tiendo.MinuteCount) {
	t.Helper()
	if fmt.Sprint(gotS) != fmt.Sprint(wantS) {
		t.Errorf("%s: samples\n%v\nwant\n%v", name, gotS, wantS)
	}
	if fmt.Sprint(gotM) != fmt.Sprint(wantM) {
		t.Errorf("%s: minutes\n%v\nwant\n%v", name, gotM, wantM)
	}
}

func testServiceSamples(t *testing.T, open Factory) {
	db := open(t)
	// Separate blocks, the minute's newest in the middle one: the newest by
	// ts wins, not the last written, and all its fields come from it.
	write(t, db, hb("a1", "A", "2021-03-20 10:05:10", tiendo.StatusOpen, 9, 3, 2), hb("b1", "B", "2021-03-20 10:06:00", tiendo.StatusOpen, 1, 1, 1))
	write(t, db, hb("a2", "A", "2021-03-20 10:05:50", tiendo.StatusPaused, 4, 2, 1))
	write(t, db, hb("a3", "A", "2021-03-20 10:05:30", tiendo.StatusClosed, 7, 5, 3),
		hb("a4", "A", "2021-03-20 10:00:00", tiendo.StatusOpen, 2, 3, 2),   // exactly From
		hb("a0", "A", "2021-03-20 09:59:59", tiendo.StatusOpen, 50, 3, 2),  // a second before
		hb("a5", "A", "2021-03-20 10:30:00", tiendo.StatusOpen, 11, 3, 3),  // exactly To
		hb("a6", "A", "2021-03-20 10:31:00", tiendo.StatusOpen, 60, 3, 3),  // after
		hb("c1", "C", "2021-03-20 10:10:00", tiendo.StatusOpen, 5, 2, 2),   // inserted before B's and A's
		hb("b2", "B", "2021-03-20 10:02:00", tiendo.StatusClosed, 0, 0, 0)) // older than b1, written later
	write(t, db,
		completion("m0", "A", "2021-03-20 09:59:59", 100, 0),
		completion("m1", "A", "2021-03-20 10:00:00", 1, 0),
		completion("m2", "A", "2021-03-20 10:05:20", 2, 0),
		completion("m3", "B", "2021-03-20 10:30:59", 4, 0), // the minute of To counts whole
		completion("m4", "B", "2021-03-20 10:31:00", 100, 0))
	write(t, db, completion("m5", "A", "2021-03-20 10:05:59", 8, 0)) // another block, the same minute
	q := tiendo.ServiceQuery{From: at("2021-03-20 10:00:00"), To: at("2021-03-20 10:30:00")}
	wantS := []tiendo.ServiceSample{
		sample("A", "2021-03-20 10:00:00", tiendo.StatusOpen, 2, 3, 2),
		sample("A", "2021-03-20 10:05:50", tiendo.StatusPaused, 4, 2, 1),
		sample("A", "2021-03-20 10:30:00", tiendo.StatusOpen, 11, 3, 3),
		sample("B", "2021-03-20 10:02:00", tiendo.StatusClosed, 0, 0, 0),
		sample("B", "2021-03-20 10:06:00", tiendo.StatusOpen, 1, 1, 1),
		sample("C", "2021-03-20 10:10:00", tiendo.StatusOpen, 5, 2, 2),
	}
	wantM := []tiendo.MinuteCount{
		minuteCount("A", "2021-03-20 10:00:00", 1),
		minuteCount("A", "2021-03-20 10:05:00", 10),
		minuteCount("B", "2021-03-20 10:30:00", 4),
	}
	s, m := serviceOf(t, db, q)
	checkService(t, "all stations", s, m, wantS, wantM)

	// From in a minute's middle: a minute whose newest heartbeat is at or
	// after From is in, one whose newest is before it is out.
	mid := tiendo.ServiceQuery{From: at("2021-03-20 10:05:40"), To: q.To}
	s, m = serviceOf(t, db, mid)
	checkService(t, "from 10:05:40", s, m, append(wantS[1:3:3], wantS[4:]...), wantM[1:])
	s, m = serviceOf(t, db, tiendo.ServiceQuery{Stations: []string{"A"}, From: at("2021-03-20 10:05:51"), To: q.To})
	checkService(t, "A from 10:05:51", s, m, wantS[2:3], wantM[1:2])

	s, m = serviceOf(t, db, tiendo.ServiceQuery{Stations: []string{"B"}, From: q.From, To: q.To})
	checkService(t, "[B]", s, m, wantS[3:5], wantM[2:])
	// A long list takes the array form (store.InSet).
	long := []string{"C", "A"}
	for i := 0; i < 40; i++ {
		long = append(long, fmt.Sprintf("absent-%d", i))
	}
	s, m = serviceOf(t, db, tiendo.ServiceQuery{Stations: long, From: q.From, To: q.To})
	checkService(t, "A, C and 40 absent", s, m, append(wantS[:3:3], wantS[5]), wantM[:2])

	for _, e := range []struct {
		name string
		q    tiendo.ServiceQuery
	}{
		{"no stations", tiendo.ServiceQuery{Stations: []string{}, From: q.From, To: q.To}},
		{"absent station", tiendo.ServiceQuery{Stations: []string{"Z"}, From: q.From, To: q.To}},
		{"a window without data", tiendo.ServiceQuery{From: at("2021-03-21 10:00:00"), To: at("2021-03-21 11:45:00")}},
		{"To before From", tiendo.ServiceQuery{From: q.To, To: q.From}},
	} {
		s, m = serviceOf(t, db, e.q)
		if len(s) != 0 || len(m) != 0 {
			t.Errorf("%s: %v, %v; want nothing", e.name, s, m)
		}
	}

	// Merged rollups answer the same.
	for _, table := range []string{"station_minute_latest", "completions_minute"} {
		if err := db.Engine().Exec(ctx(t), fmt.Sprintf("OPTIMIZE TABLE `%s`.%s FINAL", db.Database(), table)); err != nil {
			t.Fatal(err)
		}
	}
	s, m = serviceOf(t, db, q)
	checkService(t, "after merges", s, m, wantS, wantM)
}

// serviceEvents are random heartbeats (several in some minutes) and
// completions of a few stations over three hours from 09:00.
func serviceEvents(rng *rand.Rand, prefix string, stations []string, n int) []tiendo.Event {
	statuses := []tiendo.StationStatus{tiendo.StatusOpen, tiendo.StatusOpen, tiendo.StatusPaused, tiendo.StatusClosed}
	evs := make([]tiendo.Event, n)
	for i := range evs {
		e := tiendo.Event{ID: fmt.Sprintf("%s%d", prefix, i), Station: stations[rng.Intn(len(stations))],
			TS: at("2021-03-20 09:00:00").Add(time.Duration(rng.Intn(3*3600)) * time.Second)}
		if rng.Intn(2) == 0 {
			e.Type, e.Count, e.Kind = tiendo.TypeCompletion, 1+rng.Intn(3), tiendo.RecordStandard
		} else {
			e.Type, e.Status, e.Queue, e.Staff, e.Lanes = tiendo.TypeHeartbeat, statuses[rng.Intn(len(statuses))], rng.Intn(80), 1+rng.Intn(5), rng.Intn(4)
		}
		evs[i] = e
	}
	return evs
}

// expectService is ServiceSamples worked out in Go from the events: per
// station and minute the newest heartbeat, kept when it lies in [From, To];
// completions by minute from the minute holding From to To.
func expectService(evs []tiendo.Event, q tiendo.ServiceQuery) ([]tiendo.ServiceSample, []tiendo.MinuteCount) {
	type key struct {
		station string
		minute  int64
	}
	newest := map[key]tiendo.Event{}
	records := map[key]int64{}
	for _, e := range evs {
		if q.Stations != nil && !contains(q.Stations, e.Station) {
			continue
		}
		k := key{e.Station, e.TS.UTC().Truncate(time.Minute).Unix()}
		switch e.Type {
		case tiendo.TypeHeartbeat:
			if old, ok := newest[k]; !ok || e.TS.After(old.TS) {
				newest[k] = e
			}
		case tiendo.TypeCompletion:
			if k.minute >= q.From.Truncate(time.Minute).Unix() && k.minute <= q.To.Unix() {
				records[k] += int64(e.Count)
			}
		}
	}
	var samples []tiendo.ServiceSample
	for _, e := range newest {
		if !e.TS.Before(q.From) && !e.TS.After(q.To) {
			samples = append(samples, tiendo.ServiceSample{Station: e.Station, At: e.TS.UTC(), Status: e.Status, Queue: e.Queue, Staff: e.Staff, Lanes: e.Lanes})
		}
	}
	var minutes []tiendo.MinuteCount
	for k, n := range records {
		minutes = append(minutes, tiendo.MinuteCount{Station: k.station, Minute: time.Unix(k.minute, 0).UTC(), Records: n})
	}
	sort.Slice(samples, func(i, j int) bool {
		if samples[i].Station != samples[j].Station {
			return samples[i].Station < samples[j].Station
		}
		return samples[i].At.Before(samples[j].At)
	})
	sort.Slice(minutes, func(i, j int) bool {
		if minutes[i].Station != minutes[j].Station {
			return minutes[i].Station < minutes[j].Station
		}
		return minutes[i].Minute.Before(minutes[j].Minute)
	})
	return samples, minutes
}

// uniqueTimes drops events whose station and second another event already
// has: which of two heartbeats in the same second is "newest" is no rule.
func uniqueTimes(evs []tiendo.Event) []tiendo.Event {
	seen := map[string]bool{}
	var out []tiendo.Event
	for _, e := range evs {
		k := fmt.Sprint(e.Type, e.Station, e.TS.Unix())
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}

func serviceWindows() []tiendo.ServiceQuery {
	return []tiendo.ServiceQuery{
		{From: at("2021-03-20 09:00:00"), To: at("2021-03-20 12:00:00")},
		tiendo.ServiceQueryAt(nil, at("2021-03-20 11:17:23")),
		tiendo.ServiceQueryAt([]string{"S2", "S3"}, at("2021-03-20 10:44:00")),
		{Stations: []string{"S1"}, From: at("2021-03-20 09:30:30"), To: at("2021-03-20 09:30:30")},
	}
}

func testServiceSamplesEqualRaw(t *testing.T, open Factory) {
	db := open(t)
	rng := rand.New(rand.NewSource(13))
	stations := []string{"S1", "S2", "S3", "S4"}
	var all []tiendo.Event
	for batch := 0; batch < 4; batch++ {
		evs := moreEvents(all, serviceEvents(rng, fmt.Sprintf("b%d-", batch), stations, 400))
		write(t, db, evs...)
		all = append(all, evs...)
	}
	for _, q := range serviceWindows() {
		s, m := serviceOf(t, db, q)
		ws, wm := expectService(all, q)
		checkService(t, fmt.Sprintf("%v %v…%v", q.Stations, q.From, q.To), s, m, ws, wm)
		// With at most one heartbeat a minute, the spool overlay's samples
		// for the same events are the store's. (Its completions are cut at
		// From and To to the second, the store's at whole minutes.)
		var sparse []tiendo.Event
		for _, e := range all {
			if e.Type == tiendo.TypeHeartbeat && e.TS.Second() == 0 {
				sparse = append(sparse, e)
			}
		}
		ws, _ = expectService(sparse, q)
		ps, _ := tiendo.AddPendingService(nil, nil, sparse, q)
		checkService(t, fmt.Sprintf("overlay %v %v…%v", q.Stations, q.From, q.To), ps, nil, ws, nil)
	}
}

// moreEvents is fresh less the events of a station and second that have,
// or an earlier event of fresh, already holds.
func moreEvents(have, fresh []tiendo.Event) []tiendo.Event {
	return uniqueTimes(append(append([]tiendo.Event{}, have...), fresh...))[len(have):]
}

// testUpgradeBackfillsServiceSamples opens a database as schema version 3
// left it (no station_minute_latest), writes heartbeats and completions
// with that release, then opens it with every migration: the samples of
// the heartbeats written before must be there, and those written after
// must join them. Running the migrations again, as after a crash before
// they were recorded, must leave the answer as it was.
func testUpgradeBackfillsServiceSamples(t *testing.T, open Factory) {
	base := open(t)
	name := base.Database() + "_up4"
	t.Cleanup(func() { _ = base.Engine().Exec(context.Background(), "DROP DATABASE IF EXISTS `"+name+"`") })
	old, err := store.OpenAtVersion(ctx(t), base.Engine(), name, 3)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := old.SchemaVersion(ctx(t)); err != nil || v != 3 {
		t.Fatalf("schema version = %d, %v; want 3", v, err)
	}
	rng := rand.New(rand.NewSource(17))
	stations := []string{"LS-TP-A", "LS-TP-B", "LS-CL-C"}
	before := uniqueTimes(serviceEvents(rng, "old", stations, 600))
	if err := old.WriteEvents(ctx(t), before); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx(t), base.Engine(), name)
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	check := func(stage string, evs []tiendo.Event) {
		t.Helper()
		for _, q := range serviceWindows() {
			s, m := serviceOf(t, db, q)
			ws, wm := expectService(evs, q)
			checkService(t, fmt.Sprintf("%s: %v %v…%v", stage, q.Stations, q.From, q.To), s, m, ws, wm)
		}
	}
	check("after the upgrade", before)
	rows := func() int64 {
		r, err := db.Engine().Query(ctx(t), "SELECT toInt64(count()) FROM `"+name+"`.station_minute_latest")
		if err != nil {
			t.Fatal(err)
		}
		return r[0][0].(int64)
	}
	var heartbeats int64
	for _, e := range before {
		if e.Type == tiendo.TypeHeartbeat {
			heartbeats++
		}
	}
	if n := rows(); n == 0 || n > heartbeats {
		t.Errorf("station_minute_latest holds %d rows after the backfill of %d heartbeats", n, heartbeats)
	}
	if err := db.Engine().Exec(ctx(t), "TRUNCATE TABLE `"+name+"`.schema_migrations"); err != nil {
		t.Fatal(err)
	}
	if db, err = store.Open(ctx(t), base.Engine(), name); err != nil {
		t.Fatalf("migrations run again: %v", err)
	}
	if n := rows(); n == 0 || n > heartbeats {
		t.Errorf("station_minute_latest holds %d rows after the migration ran twice over %d heartbeats: the backfill did not start afresh", n, heartbeats)
	}
	check("after the migrations ran again", before)
	after := moreEvents(before, serviceEvents(rng, "new", stations, 300))
	write(t, db, after...)
	check("after new writes", append(before, after...))
}
