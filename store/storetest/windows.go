package storetest

import (
	"fmt"
	"math/rand"
	"reflect"
	"sort"
	"testing"
	"time"

	"tiendo"
	"tiendo/readmodel"
	"tiendo/store"
)

// windowsOf asks the store for q and keys the answer by station.
func windowsOf(t *testing.T, db *store.DB, q tiendo.WindowQuery) map[string]tiendo.StationWindows {
	t.Helper()
	got, err := db.StationWindows(ctx(t), q)
	if err != nil {
		t.Fatalf("StationWindows: %v", err)
	}
	m := map[string]tiendo.StationWindows{}
	for i, w := range got {
		if i > 0 && got[i-1].Station >= w.Station {
			t.Errorf("StationWindows not sorted by station: %s before %s", got[i-1].Station, w.Station)
		}
		if len(w.Records) != len(q.Windows) || len(w.Retries) != len(q.Windows) {
			t.Fatalf("station %s: %d records and %d retries for %d windows", w.Station, len(w.Records), len(w.Retries), len(q.Windows))
		}
		m[w.Station] = w
	}
	return m
}

// byStation keys a StationWindows answer by station.
func byStation(ws []tiendo.StationWindows) map[string]tiendo.StationWindows {
	m := map[string]tiendo.StationWindows{}
	for _, w := range ws {
		m[w.Station] = w
	}
	return m
}

// testStationWindows checks the windows' edges by hand: whole hours,
// minutes at either end, a bound inside a minute (that minute is left out),
// an open start, empty and reversed windows, the station filter; and that
// the spool overlay (readmodel.AddPendingWindows) counts the same events
// the same, so that no figure changes when its events reach ClickHouse.
func testStationWindows(t *testing.T, open Factory) {
	db := open(t)
	evs := []tiendo.Event{
		completion("old", "A", "2021-03-10 09:00:00", 100, 50),
		completion("d1", "A", "2021-03-20 04:00:00", 1, 1),  // the working day's first second
		completion("d2", "A", "2021-03-20 21:59:59", 2, 0),  // just before the late night
		completion("d3", "A", "2021-03-20 22:00:00", 4, 2),  // its first second
		completion("d4", "A", "2021-03-21 00:59:00", 8, 0),  // the last minute before 01:00
		completion("d5", "A", "2021-03-21 01:00:00", 16, 3), // 01:00 sharp
		completion("d6", "A", "2021-03-21 03:59:59", 32, 0), // the working day's last second
		completion("n1", "A", "2021-03-21 04:00:00", 64, 0), // the next day
		completion("b1", "B", "2021-03-20 10:15:20", 128, 7),
		completion("b2", "B", "2021-03-20 10:16:00", 256, 0),
	}
	write(t, db, evs...)
	windows := []tiendo.Window{
		{To: at("2021-03-21 04:00:00")},                                  // 0 to the day's end
		{From: at("2021-03-20 04:00:00"), To: at("2021-03-21 04:00:00")}, // 1 the working day
		{From: at("2021-03-20 22:00:00"), To: at("2021-03-21 04:00:00")}, // 2 its late night
		{From: at("2021-03-21 01:00:00"), To: at("2021-03-21 04:00:00")}, // 3 past 01:00
		{From: at("2021-03-20 21:59:00"), To: at("2021-03-21 00:59:30")}, // 4 minute edges at both ends
		{From: at("2021-03-20 10:15:30"), To: at("2021-03-20 10:17:00")}, // 5 inside one hour, From mid-minute
		{From: at("2021-03-20 10:00:00"), To: at("2021-03-20 10:00:00")}, // 6 empty
		{From: at("2021-03-21 04:00:00"), To: at("2021-03-20 04:00:00")}, // 7 reversed
		{To: at("2021-03-20 10:16:00")},                                  // 8 open start, minute end
		{From: at("2021-03-20 09:59:00"), To: at("2021-03-20 11:00:00")}, // 9 a minute before a whole hour
	}
	wantA := []int64{63, 63, 60, 48, 14, 0, 0, 0, 1, 0}
	wantB := []int64{384, 384, 0, 0, 0, 256, 0, 0, 128, 384}
	q := tiendo.WindowQuery{Windows: windows}
	got := windowsOf(t, db, q)
	if a := got["A"].Records; !reflect.DeepEqual(a, addOld(wantA)) {
		t.Errorf("A's records per window = %v, want %v", a, addOld(wantA))
	}
	if b := got["B"].Records; !reflect.DeepEqual(b, wantB) {
		t.Errorf("B's records per window = %v, want %v", b, wantB)
	}
	if r := got["A"].Retries; r[0] != 56 || r[1] != 6 || r[2] != 5 || r[3] != 3 {
		t.Errorf("A's retries = %v, want 56 to date, 6 on the day, 5 late, 3 past 01:00", r)
	}
	sameWindowsAsOverlay(t, "hand-made", got, evs, q)

	if got := windowsOf(t, db, tiendo.WindowQuery{Stations: []string{"B"}, Windows: windows}); len(got) != 1 || got["B"].Records[5] != 256 {
		t.Errorf("windows for [B] = %v", got)
	}
	long := []string{"B"}
	for i := 0; i < 40; i++ {
		long = append(long, fmt.Sprintf("absent-%d", i))
	}
	lq := tiendo.WindowQuery{Stations: long, Windows: windows}
	if got := windowsOf(t, db, lq); len(got) != 1 || !reflect.DeepEqual(got["B"].Records, wantB) {
		t.Errorf("windows for B and 40 absent stations = %v", got)
	}
	sameWindowsAsOverlay(t, "long station list", windowsOf(t, db, lq), evs, lq)
	if got, err := db.StationWindows(ctx(t), tiendo.WindowQuery{Stations: []string{}, Windows: windows}); err != nil || len(got) != 0 {
		t.Errorf("windows for no stations = %v, %v", got, err)
	}
	if got, err := db.StationWindows(ctx(t), tiendo.WindowQuery{Windows: windows[6:8]}); err != nil || len(got) != 0 {
		t.Errorf("only empty windows = %v, %v; want nothing", got, err)
	}
}

// addOld adds station A's record of 10 March to the windows that reach it
// (those with an open start).
func addOld(want []int64) []int64 {
	out := append([]int64(nil), want...)
	out[0] += 100
	out[8] += 100
	return out
}

// sameWindowsAsOverlay checks that the overlay, handed the events the store
// holds, counts what the store counts.
func sameWindowsAsOverlay(t *testing.T, name string, stored map[string]tiendo.StationWindows, evs []tiendo.Event, q tiendo.WindowQuery) {
	t.Helper()
	overlay := byStation(readmodel.AddPendingWindows(nil, evs, q))
	for id, s := range stored {
		if !reflect.DeepEqual(s, overlay[id]) {
			t.Errorf("%s: station %s from the store %v %v; from the overlay %v %v", name, id, s.Records, s.Retries, overlay[id].Records, overlay[id].Retries)
		}
	}
	for id, o := range overlay {
		if _, ok := stored[id]; !ok {
			t.Errorf("%s: station %s counted by the overlay only: %v", name, id, o.Records)
		}
	}
}

// testStationWindowsEqualRaw writes random completions in several blocks,
// merges the rollups, and compares random windows (on hours, minutes and
// seconds) with the raw rows counted in ClickHouse by the minute rule, with
// the events counted in Go, and with the overlay's count.
func testStationWindowsEqualRaw(t *testing.T, open Factory) {
	db := open(t)
	rng := rand.New(rand.NewSource(12))
	stations := []string{"S1", "S2", "S3", "S4"}
	base := at("2021-03-18 04:00:00")
	var evs []tiendo.Event
	for batch := 0; batch < 4; batch++ {
		var block []tiendo.Event
		for i := 0; i < 300; i++ {
			block = append(block, tiendo.Event{ID: fmt.Sprintf("w%d-%d", batch, i), Type: tiendo.TypeCompletion,
				Station: stations[rng.Intn(len(stations))], TS: base.Add(time.Duration(rng.Intn(3*86400)) * time.Second),
				Count: 1 + rng.Intn(4), FingerprintRetries: rng.Intn(3), Kind: tiendo.RecordStandard})
		}
		write(t, db, block...)
		evs = append(evs, block...)
	}
	for _, table := range []string{"completions_hour", "completions_minute"} {
		if err := db.Engine().Exec(ctx(t), fmt.Sprintf("OPTIMIZE TABLE `%s`.%s FINAL", db.Database(), table)); err != nil {
			t.Fatal(err)
		}
	}
	grain := []time.Duration{time.Hour, time.Minute, time.Second}
	var windows []tiendo.Window
	for i := 0; i < 24; i++ {
		g := grain[i%3]
		from := base.Add(time.Duration(rng.Int63n(int64(3 * 24 * time.Hour)))).Truncate(g)
		w := tiendo.Window{From: from, To: from.Add(time.Duration(rng.Int63n(int64(30 * time.Hour)))).Truncate(grain[(i/3)%3])}
		if i%8 == 7 {
			w.From = time.Time{}
		}
		windows = append(windows, w)
	}
	q := tiendo.WindowQuery{Windows: windows}
	got := windowsOf(t, db, q)
	for k, w := range windows {
		cond := fmt.Sprintf("toStartOfMinute(ts) < toDateTime(%d, 'UTC')", w.To.Unix())
		if !w.From.IsZero() {
			cond += fmt.Sprintf(" AND toStartOfMinute(ts) >= toDateTime(%d, 'UTC')", w.From.Unix())
		}
		rows, err := db.Engine().Query(ctx(t), fmt.Sprintf("SELECT station, toInt64(sum(count)), toInt64(sum(fingerprint_retries)) FROM `%s`.completions WHERE %s GROUP BY station",
			db.Database(), cond))
		if err != nil {
			t.Fatal(err)
		}
		raw := map[string][2]int64{}
		for _, r := range rows {
			raw[r[0].(string)] = [2]int64{r[1].(int64), r[2].(int64)}
		}
		inGo := map[string][2]int64{}
		for _, e := range evs {
			m := e.TS.UTC().Truncate(time.Minute)
			if (w.From.IsZero() || !m.Before(w.From)) && m.Before(w.To) {
				v := inGo[e.Station]
				inGo[e.Station] = [2]int64{v[0] + int64(e.Count), v[1] + int64(e.FingerprintRetries)}
			}
		}
		for _, st := range stations {
			var have [2]int64
			if s, ok := got[st]; ok {
				have = [2]int64{s.Records[k], s.Retries[k]}
			}
			if have != raw[st] || have != inGo[st] {
				t.Errorf("window %d [%s, %s) station %s: store %v, raw rows %v, events %v", k, w.From.In(loc), w.To.In(loc), st, have, raw[st], inGo[st])
			}
		}
	}
	sameWindowsAsOverlay(t, "random", got, evs, q)
	names := make([]string, 0, len(got))
	for id := range got {
		names = append(names, id)
	}
	sort.Strings(names)
	if !reflect.DeepEqual(names, stations) {
		t.Errorf("stations answered %v, want %v", names, stations)
	}
}
