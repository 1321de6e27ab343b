// Package storetest is the contract suite every store engine must pass, run
// from each engine's own tests against a real ClickHouse (embedded chDB and a
// ClickHouse server), plus helpers that start those engines for tests.
package storetest

import (
	"context"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tiendo"
	"tiendo/store"
)

// Factory returns a new, empty store on the engine under test, in a
// database of its own. The suite closes nothing: the factory owns cleanup.
type Factory func(t *testing.T) *store.DB

var dbSeq atomic.Int64

// NewDatabaseName returns a database name unique within this test process.
func NewDatabaseName(prefix string) string {
	return fmt.Sprintf("%s_%d_%d", prefix, time.Now().UnixNano()%1e9, dbSeq.Add(1))
}

var loc = mustLoad("Asia/Ho_Chi_Minh")

func mustLoad(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, loc)
	if err != nil {
		panic(err)
	}
	return t
}

func completion(id, station, ts string, count, retries int) tiendo.Event {
	return tiendo.Event{ID: id, Type: tiendo.TypeCompletion, Station: station, TS: at(ts), Count: count,
		FingerprintRetries: retries, Kind: tiendo.RecordStandard}
}

func heartbeat(id, station, ts string, queue, staff int, status tiendo.StationStatus) tiendo.Event {
	return tiendo.Event{ID: id, Type: tiendo.TypeHeartbeat, Station: station, TS: at(ts), Queue: queue,
		Staff: staff, Lanes: 2, Status: status}
}

// Run runs the whole contract suite.
func Run(t *testing.T, open Factory) {
	t.Run("MigrateTwice", func(t *testing.T) { testMigrateTwice(t, open) })
	t.Run("StationStats", func(t *testing.T) { testStationStats(t, open) })
	t.Run("LatestHeartbeatWinsByTime", func(t *testing.T) { testLatestHeartbeat(t, open) })
	t.Run("WorkingDayBoundary", func(t *testing.T) { testWorkingDayBoundary(t, open) })
	t.Run("StoredEventKeys", func(t *testing.T) { testStoredEventKeys(t, open) })
	t.Run("StoredEventKeysTemplateLikeIDs", func(t *testing.T) { testStoredKeysTemplateLike(t, open) })
	t.Run("HourlyCompletions", func(t *testing.T) { testHourly(t, open) })
	t.Run("RollupsEqualRaw", func(t *testing.T) { testRollupsEqualRaw(t, open) })
	t.Run("StationFilter", func(t *testing.T) { testStationFilter(t, open) })
	t.Run("LatestEventTime", func(t *testing.T) { testLatestEventTime(t, open) })
	t.Run("HourlyOverDistricts", func(t *testing.T) { testHourlyOverDistricts(t, open) })
	t.Run("UpgradeBackfillsDistricts", func(t *testing.T) { testUpgradeBackfill(t, open) })
	t.Run("RecentRecords", func(t *testing.T) { testRecentRecords(t, open) })
	t.Run("LastHourEdge", func(t *testing.T) { testLastHourEdge(t, open) })
	t.Run("LastHourYesterday", func(t *testing.T) { testLastHourYesterday(t, open) })
	t.Run("ServiceSamples", func(t *testing.T) { testServiceSamples(t, open) })
	t.Run("ServiceSamplesEqualRaw", func(t *testing.T) { testServiceSamplesEqualRaw(t, open) })
	t.Run("UpgradeBackfillsServiceSamples", func(t *testing.T) { testUpgradeBackfillsServiceSamples(t, open) })
	t.Run("StationWindows", func(t *testing.T) { testStationWindows(t, open) })
	t.Run("StationWindowsEqualRaw", func(t *testing.T) { testStationWindowsEqualRaw(t, open) })
	t.Run("NationFromUnitRollups", func(t *testing.T) { testNationFromUnitRollups(t, open) })
}

func testLatestEventTime(t *testing.T, open Factory) {
	db := open(t)
	got, err := db.LatestEventTime(ctx(t))
	if err != nil || !got.IsZero() {
		t.Fatalf("empty store: LatestEventTime = %v, %v; want zero", got, err)
	}
	write(t, db, completion("c", "A", "2021-03-20 09:10:30", 1, 0), heartbeat("h", "B", "2021-03-20 09:12:05", 1, 1, tiendo.StatusOpen))
	got, err = db.LatestEventTime(ctx(t))
	if err != nil || !got.Equal(at("2021-03-20 09:12:05")) {
		t.Fatalf("LatestEventTime = %v, %v; want the heartbeat's 09:12:05", got, err)
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func write(t *testing.T, db *store.DB, events ...tiendo.Event) {
	t.Helper()
	if err := db.WriteEvents(ctx(t), events); err != nil {
		t.Fatalf("WriteEvents: %v", err)
	}
}

func statsOf(t *testing.T, db *store.DB, q tiendo.StatsQuery) map[string]tiendo.StationStats {
	t.Helper()
	stats, err := db.StationStats(ctx(t), q)
	if err != nil {
		t.Fatalf("StationStats: %v", err)
	}
	m := map[string]tiendo.StationStats{}
	for _, s := range stats {
		m[s.Station] = s
	}
	return m
}

func testMigrateTwice(t *testing.T, open Factory) {
	db := open(t)
	v, err := db.SchemaVersion(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if v < 2 {
		t.Fatalf("schema version = %d, want >= 2", v)
	}
	again, err := store.Open(ctx(t), db.Engine(), db.Database())
	if err != nil {
		t.Fatalf("second Open on the same database: %v", err)
	}
	rows, err := again.Engine().Query(ctx(t), fmt.Sprintf("SELECT toInt64(count()) FROM `%s`.schema_migrations", db.Database()))
	if err != nil {
		t.Fatal(err)
	}
	if got := rows[0][0].(int64); got != int64(v) {
		t.Fatalf("schema_migrations has %d rows after migrating twice, want %d", got, v)
	}
	if ver, err := db.Version(ctx(t)); err != nil || ver == "" {
		t.Fatalf("Version() = %q, %v", ver, err)
	}
	if err := db.Ping(ctx(t)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testStationStats(t *testing.T, open Factory) {
	db := open(t)
	write(t, db,
		completion("c1", "A", "2021-03-19 10:00:00", 5, 1),
		completion("c2", "A", "2021-03-20 09:10:00", 3, 0),
		completion("c3", "A", "2021-03-20 21:30:00", 2, 4),
		completion("c4", "B", "2021-03-20 21:45:00", 7, 0),
		heartbeat("h1", "A", "2021-03-20 21:40:00", 12, 3, tiendo.StatusOpen),
	)
	now := at("2021-03-20 22:00:00")
	got := statsOf(t, db, tiendo.StatsQuery{DayStart: at("2021-03-20 04:00:00"), Now: now})
	a, b := got["A"], got["B"]
	if a.Completed != 10 || a.Retries != 5 || a.CompletedToday != 5 || a.LastHour != 2 {
		t.Errorf("A = completed %d retries %d today %d last hour %d, want 10 5 5 2", a.Completed, a.Retries, a.CompletedToday, a.LastHour)
	}
	if !a.HasHeartbeat || a.Queue != 12 || a.Staff != 3 || a.Status != tiendo.StatusOpen || !a.LastSeen.Equal(at("2021-03-20 21:40:00")) {
		t.Errorf("A heartbeat = %+v", a)
	}
	if b.Completed != 7 || b.CompletedToday != 7 || b.LastHour != 7 || b.HasHeartbeat {
		t.Errorf("B = %+v, want 7 records today and in the last hour, no heartbeat", b)
	}
}

func testLatestHeartbeat(t *testing.T, open Factory) {
	db := open(t)
	// Inserted newest first, in separate blocks: the latest by ts must win, not the last written.
	write(t, db, tiendo.Event{ID: "h2", Type: tiendo.TypeHeartbeat, Station: "M", TS: at("2021-03-20 10:05:00"),
		Queue: 4, Staff: 2, Lanes: 3, Status: tiendo.StatusPaused})
	write(t, db, tiendo.Event{ID: "h1", Type: tiendo.TypeHeartbeat, Station: "M", TS: at("2021-03-20 10:00:00"),
		Queue: 9, Staff: 1, Lanes: 1, Status: tiendo.StatusOpen, HasPos: true, Lat: 21.9, Lon: 106.3})
	s := statsOf(t, db, tiendo.StatsQuery{DayStart: at("2021-03-20 04:00:00"), Now: at("2021-03-20 10:06:00")})["M"]
	if s.Status != tiendo.StatusPaused || s.Queue != 4 || s.Lanes != 3 {
		t.Errorf("latest = %s queue %d lanes %d, want paused 4 3", s.Status, s.Queue, s.Lanes)
	}
	// The newest heartbeat carried no position, so the last known one stands.
	if s.Lat != 21.9 || s.Lon != 106.3 {
		t.Errorf("position = %v,%v, want 21.9,106.3 (from the newest heartbeat that had one)", s.Lat, s.Lon)
	}
}

func testWorkingDayBoundary(t *testing.T, open Factory) {
	db := open(t)
	// 01:30 on the 21st belongs to the working day of the 20th.
	write(t, db,
		completion("late", "A", "2021-03-21 01:30:00", 4, 0),
		completion("day", "A", "2021-03-20 15:00:00", 6, 0),
		completion("next", "A", "2021-03-21 07:30:00", 1, 0),
	)
	c := &tiendo.Campaign{ID: "x", Name: "x", TimeZone: "Asia/Ho_Chi_Minh", Start: tiendo.DayOf(2021, 3, 10),
		Deadline: tiendo.DayOf(2021, 7, 1), Target: 1, DayBoundaryHour: 4, OpenHour: 7, LateNightHour: 22, MinutesPerRecord: 6,
		Districts: []tiendo.District{{ID: "D", Name: "D", Quota: 1}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	now := at("2021-03-21 02:00:00")
	day := c.WorkingDay(now)
	if day.String() != "2021-03-20" {
		t.Fatalf("working day of 02:00 on the 21st = %s", day)
	}
	s := statsOf(t, db, tiendo.StatsQuery{DayStart: c.DayStart(day), Now: now})["A"]
	if s.CompletedToday != 10 {
		t.Errorf("completed today at 02:00 = %d, want 10 (15:00 and 01:30, not 07:30 of the next day)", s.CompletedToday)
	}
}

// TemplateLikeIDs are event ids (printable ASCII, as ingest allows) that
// spell the store's query template markers, quotes, escapes and fmt verbs:
// a value must reach ClickHouse as itself, never rewritten (L1: "{db}"
// inside a quoted id became the database name, so the id was not found).
var TemplateLikeIDs = []string{
	"{db}", "x{db}y", "{db}.completions", "{", "}", "{}", "}{", "{{db}}", "{DB}", "'", "''", `\`, `\\`, `\'`, `'\`,
	`q'uote\\back`, `\n`, `\0`, "%s", "%[1]s", "%d%%", "%!", "`", "`{db}`", "{db}'{db}", `a\{db}`,
}

func testStoredKeysTemplateLike(t *testing.T, open Factory) {
	db := open(t)
	var stored, absent []tiendo.Event
	for i, id := range TemplateLikeIDs {
		stored = append(stored, completion(id, "A", "2021-03-20 09:00:00", 1+i, 0))
		stored = append(stored, heartbeat(id, "H", "2021-03-20 09:00:00", i, 1, tiendo.StatusOpen))
		// The same ids at a station that holds none of them.
		absent = append(absent, completion(id, "Z", "2021-03-20 09:00:00", 1, 0))
	}
	write(t, db, stored...)
	found, err := db.StoredEventKeys(ctx(t), append(append([]tiendo.Event{}, stored...), absent...))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range stored {
		if !found[e.Key()] {
			t.Errorf("stored id %q at %s not found by StoredEventKeys", e.ID, e.Station)
		}
	}
	for _, e := range absent {
		if found[e.Key()] {
			t.Errorf("id %q found at %s, which never stored it", e.ID, e.Station)
		}
	}
	if len(found) != len(stored) {
		t.Errorf("found %d keys, want the %d stored: %q", len(found), len(stored), sortedKeys(found))
	}
	// One at a time too: a lone id is the whole list of its query.
	for _, e := range stored[:6] {
		one, err := db.StoredEventKeys(ctx(t), []tiendo.Event{e})
		if err != nil || !one[e.Key()] || len(one) != 1 {
			t.Errorf("StoredEventKeys([%q]) = %v, %v", e.ID, one, err)
		}
	}
	// Station figures filtered by a station list still answer (the list
	// is a value of the query, like the ids).
	stats := statsOf(t, db, tiendo.StatsQuery{Stations: []string{"A", "{db}"}, Now: at("2021-03-20 10:00:00"), DayStart: at("2021-03-20 04:00:00")})
	want := int64(0)
	for i := range TemplateLikeIDs {
		want += int64(1 + i)
	}
	if got := stats["A"].Completed; got != want {
		t.Errorf("station A completed %d, want %d", got, want)
	}
}

func testStoredEventKeys(t *testing.T, open Factory) {
	db := open(t)
	tricky := `it's a \ "quote"`
	stored := []tiendo.Event{
		completion("c1", "A", "2021-03-20 09:00:00", 1, 0),
		heartbeat("h1", "A", "2021-03-20 09:00:00", 1, 1, tiendo.StatusOpen),
		completion(tricky, "B", "2021-03-20 09:00:00", 1, 0),
	}
	write(t, db, stored...)
	probe := append(append([]tiendo.Event{}, stored...),
		completion("c1", "B", "2021-03-20 09:00:00", 1, 0), // same id, other station
		completion("nope", "A", "2021-03-20 09:00:00", 1, 0),
		completion("x') OR 1=1 --", "A", "2021-03-20 09:00:00", 1, 0),
	)
	found, err := db.StoredEventKeys(ctx(t), probe)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range probe {
		want := e.ID == "c1" && e.Station == "A" || e.ID == "h1" || e.ID == tricky
		if found[e.Key()] != want {
			t.Errorf("found[%s/%s] = %v, want %v", e.Station, e.ID, found[e.Key()], want)
		}
	}
	// Many keys at once: more than one look-up query's worth, all found.
	var many []tiendo.Event
	for i := 0; i < 5000; i++ {
		many = append(many, completion(fmt.Sprintf("m-%05d-%s", i, strings.Repeat("x", 40)), "C", "2021-03-20 09:00:00", 1, 0))
	}
	write(t, db, many...)
	foundMany, err := db.StoredEventKeys(ctx(t), append(many, completion("absent", "C", "2021-03-20 09:00:00", 1, 0)))
	if err != nil {
		t.Fatalf("StoredEventKeys of 5,001 events: %v", err)
	}
	if len(foundMany) != 5000 {
		t.Errorf("found %d of 5,000 stored events", len(foundMany))
	}
	// Identifiers with quotes round-trip through inserts unchanged.
	rows, err := db.Engine().Query(ctx(t), fmt.Sprintf("SELECT id FROM `%s`.completions WHERE station = 'B'", db.Database()))
	if err != nil || len(rows) != 1 || rows[0][0] != tricky {
		t.Errorf("stored id = %v, %v; want %q", rows, err, tricky)
	}
}

func testHourly(t *testing.T, open Factory) {
	db := open(t)
	write(t, db,
		completion("a", "A", "2021-03-20 22:10:00", 2, 1),
		completion("b", "B", "2021-03-20 22:50:00", 3, 0),
		completion("c", "A", "2021-03-21 00:15:00", 4, 2),
		completion("d", "A", "2021-03-22 00:15:00", 100, 0), // outside the range
	)
	got, err := db.HourlyCompletions(ctx(t), tiendo.SeriesQuery{From: at("2021-03-20 04:00:00"), To: at("2021-03-21 04:00:00")})
	if err != nil {
		t.Fatal(err)
	}
	want := []tiendo.HourCount{{Hour: at("2021-03-20 22:00:00").UTC(), Records: 5, Retries: 1}, {Hour: at("2021-03-21 00:00:00").UTC(), Records: 4, Retries: 2}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("hourly = %v\nwant %v", got, want)
	}
	onlyB, err := db.HourlyCompletions(ctx(t), tiendo.SeriesQuery{Stations: []string{"B"}, From: at("2021-03-20 04:00:00"), To: at("2021-03-21 04:00:00")})
	if err != nil || len(onlyB) != 1 || onlyB[0].Records != 3 {
		t.Errorf("hourly for B = %v, %v; want one hour with 3", onlyB, err)
	}
	per, err := db.HourlyCompletions(ctx(t), tiendo.SeriesQuery{ByStation: true, From: at("2021-03-20 04:00:00"), To: at("2021-03-21 04:00:00")})
	if err != nil {
		t.Fatal(err)
	}
	wantPer := []tiendo.HourCount{
		{Station: "A", Hour: at("2021-03-20 22:00:00").UTC(), Records: 2, Retries: 1},
		{Station: "A", Hour: at("2021-03-21 00:00:00").UTC(), Records: 4, Retries: 2},
		{Station: "B", Hour: at("2021-03-20 22:00:00").UTC(), Records: 3},
	}
	if fmt.Sprint(per) != fmt.Sprint(wantPer) {
		t.Errorf("hourly by station = %v\nwant %v", per, wantPer)
	}
}

func testRollupsEqualRaw(t *testing.T, open Factory) {
	db := open(t)
	rng := rand.New(rand.NewSource(7))
	stations := []string{"S1", "S2", "S3"}
	var want int64
	for batch := 0; batch < 5; batch++ {
		var evs []tiendo.Event
		for i := 0; i < 200; i++ {
			n := 1 + rng.Intn(5)
			want += int64(n)
			ts := at("2021-03-20 07:00:00").Add(time.Duration(rng.Intn(18*3600)) * time.Second)
			evs = append(evs, tiendo.Event{ID: fmt.Sprintf("e%d-%d", batch, i), Type: tiendo.TypeCompletion,
				Station: stations[rng.Intn(3)], TS: ts, Count: n, FingerprintRetries: rng.Intn(3), Kind: tiendo.RecordStudent})
		}
		write(t, db, evs...)
	}
	// Force merges so that summing engines have collapsed rows: totals must not change.
	for _, table := range []string{"station_totals", "completions_hour", "completions_minute"} {
		if err := db.Engine().Exec(ctx(t), fmt.Sprintf("OPTIMIZE TABLE `%s`.%s FINAL", db.Database(), table)); err != nil {
			t.Fatal(err)
		}
	}
	q := func(sql string) int64 {
		rows, err := db.Engine().Query(ctx(t), strings.ReplaceAll(sql, "{db}", "`"+db.Database()+"`"))
		if err != nil {
			t.Fatal(err)
		}
		return rows[0][0].(int64)
	}
	raw := q("SELECT toInt64(sum(count)) FROM {db}.completions")
	totals := q("SELECT toInt64(sum(records)) FROM {db}.station_totals")
	hours := q("SELECT toInt64(sum(records)) FROM {db}.completions_hour")
	minutes := q("SELECT toInt64(sum(records)) FROM {db}.completions_minute")
	if raw != want || totals != want || hours != want || minutes != want {
		t.Errorf("raw %d, station_totals %d, completions_hour %d, completions_minute %d; want all %d", raw, totals, hours, minutes, want)
	}
	stats := statsOf(t, db, tiendo.StatsQuery{DayStart: at("2021-03-20 04:00:00"), Now: at("2021-03-21 03:00:00")})
	var sum, today int64
	for _, s := range stats {
		sum += s.Completed
		today += s.CompletedToday
	}
	if sum != want || today != want {
		t.Errorf("station stats sum %d, today %d; want %d", sum, today, want)
	}
}

func testStationFilter(t *testing.T, open Factory) {
	db := open(t)
	write(t, db, completion("a", "A", "2021-03-20 09:00:00", 1, 0), completion("b", "B", "2021-03-20 09:00:00", 2, 0))
	got := statsOf(t, db, tiendo.StatsQuery{Stations: []string{"B"}, DayStart: at("2021-03-20 04:00:00"), Now: at("2021-03-20 10:00:00")})
	if len(got) != 1 || got["B"].Completed != 2 {
		t.Errorf("stats for [B] = %v", got)
	}
	// A long list takes another form in the query (an array, see inSet).
	long := []string{"B"}
	for i := 0; i < 40; i++ {
		long = append(long, fmt.Sprintf("absent-%d", i))
	}
	if got := statsOf(t, db, tiendo.StatsQuery{Stations: long, DayStart: at("2021-03-20 04:00:00"), Now: at("2021-03-20 10:00:00")}); len(got) != 1 || got["B"].Completed != 2 || got["B"].CompletedToday != 2 {
		t.Errorf("stats for B and 40 absent stations = %v", got)
	}
	for _, by := range []bool{false, true} {
		hours, err := db.HourlyCompletions(ctx(t), tiendo.SeriesQuery{Stations: long, From: at("2021-03-20 04:00:00"), To: at("2021-03-21 04:00:00"), ByStation: by})
		if err != nil || len(hours) != 1 || hours[0].Records != 2 {
			t.Errorf("hourly (by station %v) for B and 40 absent stations = %v, %v", by, hours, err)
		}
	}
	none, err := db.StationStats(ctx(t), tiendo.StatsQuery{Stations: []string{}, Now: at("2021-03-20 10:00:00")})
	if err != nil || len(none) != 0 {
		t.Errorf("stats for no stations = %v, %v", none, err)
	}
}

// tally is the hourly answer worked out in Go from the events written.
type tally map[string]map[int64][2]int64 // station → hour → records, retries

func (tl tally) add(evs ...tiendo.Event) {
	for _, e := range evs {
		h := e.TS.UTC().Truncate(time.Hour).Unix()
		if tl[e.Station] == nil {
			tl[e.Station] = map[int64][2]int64{}
		}
		v := tl[e.Station][h]
		tl[e.Station][h] = [2]int64{v[0] + int64(e.Count), v[1] + int64(e.FingerprintRetries)}
	}
}

func (tl tally) over(stations []string, from, to time.Time) string {
	sum := map[int64][2]int64{}
	for st, hours := range tl {
		if stations != nil && !contains(stations, st) {
			continue
		}
		for h, v := range hours {
			if h >= from.Unix() && h < to.Unix() {
				s := sum[h]
				sum[h] = [2]int64{s[0] + v[0], s[1] + v[1]}
			}
		}
	}
	var out []tiendo.HourCount
	for h, v := range sum {
		out = append(out, tiendo.HourCount{Hour: time.Unix(h, 0).UTC(), Records: v[0], Retries: v[1]})
	}
	sortHours(out)
	return fmt.Sprint(out)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortHours(h []tiendo.HourCount) {
	for i := 1; i < len(h); i++ {
		for j := i; j > 0 && h[j].Hour.Before(h[j-1].Hour); j-- {
			h[j], h[j-1] = h[j-1], h[j]
		}
	}
}

func randomCompletions(rng *rand.Rand, prefix string, stations []string, n int) []tiendo.Event {
	evs := make([]tiendo.Event, n)
	for i := range evs {
		ts := at("2021-03-20 07:00:00").Add(time.Duration(rng.Intn(40*3600)) * time.Second)
		evs[i] = tiendo.Event{ID: fmt.Sprintf("%s%d", prefix, i), Type: tiendo.TypeCompletion, Station: stations[rng.Intn(len(stations))],
			TS: ts, Count: 1 + rng.Intn(4), FingerprintRetries: rng.Intn(3), Kind: tiendo.RecordStandard}
	}
	return evs
}

// checkHourly asks HourlyCompletions summed over each list and compares
// with the tally: whole districts, whole areas, parts of them, mixtures.
func checkHourly(t *testing.T, db *store.DB, tl tally, lists [][]string) {
	t.Helper()
	from, to := at("2021-03-20 00:00:00"), at("2021-03-23 00:00:00")
	for _, list := range lists {
		got, err := db.HourlyCompletions(ctx(t), tiendo.SeriesQuery{Stations: list, From: from, To: to})
		if err != nil {
			t.Fatalf("HourlyCompletions(%v): %v", list, err)
		}
		if want := tl.over(list, from, to); fmt.Sprint(got) != want {
			t.Errorf("hourly over %v =\n%v\nwant\n%v", list, got, want)
		}
	}
}

func testHourlyOverDistricts(t *testing.T, open Factory) {
	db := open(t)
	rng := rand.New(rand.NewSource(11))
	db.SetStations([]tiendo.Station{{ID: "X-A-1", District: "X-A"}, {ID: "X-A-2", District: "X-A"}, {ID: "X-B-1", District: "X-B"},
		{ID: "M", District: "X-B"}, {ID: "Y-C-1", District: "Y-C"}})
	all := []string{"X-A-1", "X-A-2", "X-B-1", "M", "Y-C-1"}
	tl := tally{}
	evs := randomCompletions(rng, "a", all, 300)
	tl.add(evs...)
	write(t, db, evs...)
	long := []string{"X-A-1", "X-A-2"}
	for i := 0; i < 20; i++ {
		long = append(long, fmt.Sprintf("nope-%d", i))
	}
	lists := [][]string{nil, all, {"X-A-1", "X-A-2"}, {"X-A-1", "X-A-2", "X-B-1", "M"}, {"X-A-1"}, {"X-A-1", "X-B-1", "M", "Y-C-1"},
		{"nope"}, {"X-A-2", "nope"}, long}
	checkHourly(t, db, tl, lists)

	// Station M moves to district Y-C: its rows are now under two districts,
	// so neither X-B nor Y-C may stand for a list that lacks M's other rows.
	db.SetStations([]tiendo.Station{{ID: "X-A-1", District: "X-A"}, {ID: "X-A-2", District: "X-A"}, {ID: "X-B-1", District: "X-B"},
		{ID: "M", District: "Y-C"}, {ID: "Y-C-1", District: "Y-C"}, {ID: "X-A-3", District: "X-A"}})
	evs = randomCompletions(rng, "b", []string{"M", "Y-C-1", "X-B-1"}, 100)
	tl.add(evs...)
	write(t, db, evs...)
	lists = append(lists, []string{"X-B-1"}, []string{"M", "Y-C-1"}, []string{"X-B-1", "M"})
	checkHourly(t, db, tl, lists)

	// A station's first completion after the store planned with the pairs
	// it had read: district X-A now has a third station, not asked for.
	evs = randomCompletions(rng, "c", []string{"X-A-3"}, 20)
	tl.add(evs...)
	write(t, db, evs...)
	checkHourly(t, db, tl, append(lists, []string{"X-A-1", "X-A-2", "X-A-3"}))

	// Merged rollups give the same answers.
	for _, table := range []string{"completions_district_hour", "completions_area_hour", "district_stations", "completions_hour"} {
		if err := db.Engine().Exec(ctx(t), fmt.Sprintf("OPTIMIZE TABLE `%s`.%s FINAL", db.Database(), table)); err != nil {
			t.Fatal(err)
		}
	}
	checkHourly(t, db, tl, lists)
}

// testUpgradeBackfill opens a database as schema version 2 left it (no
// district rollups), writes completions the way that release did, then
// opens it with every migration: the district rollups must hold the rows
// written before, and keep counting the rows written after.
func testUpgradeBackfill(t *testing.T, open Factory) {
	base := open(t)
	name := base.Database() + "_up"
	t.Cleanup(func() { _ = base.Engine().Exec(context.Background(), "DROP DATABASE IF EXISTS `"+name+"`") })
	old, err := store.OpenAtVersion(ctx(t), base.Engine(), name, 2)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := old.SchemaVersion(ctx(t)); err != nil || v != 2 {
		t.Fatalf("schema version = %d, %v; want 2", v, err)
	}
	rng := rand.New(rand.NewSource(5))
	stations := []string{"LS-TP-A", "LS-TP-B", "LS-CL-C", "HN-BD-D"}
	tl := tally{}
	evs := randomCompletions(rng, "old", stations, 300)
	tl.add(evs...)
	var rows [][]any
	for _, e := range evs {
		rows = append(rows, []any{e.ID, e.Station, e.TS.UTC(), uint32(e.Count), uint32(e.FingerprintRetries), string(e.Kind), e.TS.UTC()})
	}
	if err := base.Engine().Insert(ctx(t), name+".completions", []string{"id", "station", "ts", "count", "fingerprint_retries", "kind", "received"}, rows); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx(t), base.Engine(), name)
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	lists := [][]string{nil, stations, {"LS-TP-A", "LS-TP-B"}, {"LS-TP-A", "LS-TP-B", "LS-CL-C"}, {"LS-TP-A"}, {"LS-CL-C", "HN-BD-D"}}
	checkHourly(t, db, tl, lists)
	got, err := db.Engine().Query(ctx(t), "SELECT district, toInt64(count()) FROM `"+name+"`.district_stations GROUP BY district ORDER BY district")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[[HN-BD 1] [LS-CL 1] [LS-TP 2]]" {
		t.Errorf("district_stations after the upgrade: %v; want the stations' id prefixes", got)
	}
	evs = randomCompletions(rng, "new", stations, 100)
	tl.add(evs...)
	write(t, db, evs...)
	checkHourly(t, db, tl, lists)
}

// testRecentRecords checks the recent pace's records, [RecentFrom,
// DayStart) by hour, and that the spool overlay (tiendo.AddPending) counts
// the same events the same: a figure must not change when its events move
// from the spool into ClickHouse.
func testRecentRecords(t *testing.T, open Factory) {
	db := open(t)
	dayStart := at("2021-03-20 04:00:00")
	recentFrom := at("2021-03-13 04:00:00")
	evs := []tiendo.Event{
		completion("before", "A", "2021-03-13 03:59:59", 100, 0), // the day before the window
		completion("first", "A", "2021-03-13 04:00:00", 1, 0),    // its first second
		completion("mid", "A", "2021-03-16 21:30:00", 2, 0),
		completion("last", "A", "2021-03-20 03:59:59", 4, 0), // the last hour before today
		completion("today", "A", "2021-03-20 04:00:00", 8, 0),
		completion("only", "B", "2021-03-18 10:00:00", 16, 0), // recent, nothing today
	}
	write(t, db, evs...)
	now := at("2021-03-20 10:00:00")
	for _, c := range []struct {
		name       string
		recentFrom time.Time
		a, b       int64
	}{
		{"seven days", recentFrom, 7, 16},
		{"from an hour's middle", at("2021-03-16 21:45:00"), 4, 16},
		{"equal to the day start", dayStart, 0, 0},
		{"zero", time.Time{}, 0, 0},
	} {
		q := tiendo.StatsQuery{DayStart: dayStart, Now: now, RecentFrom: c.recentFrom}
		got := statsOf(t, db, q)
		if got["A"].RecentRecords != c.a || got["B"].RecentRecords != c.b {
			t.Errorf("%s: recent records A %d, B %d; want %d, %d", c.name, got["A"].RecentRecords, got["B"].RecentRecords, c.a, c.b)
		}
		if got["A"].CompletedToday != 8 || got["B"].CompletedToday != 0 || got["A"].Completed != 115 {
			t.Errorf("%s: today A %d, B %d, total A %d; want 8, 0, 115 whatever the recent window", c.name,
				got["A"].CompletedToday, got["B"].CompletedToday, got["A"].Completed)
		}
		if c.recentFrom.IsZero() { // the overlay needs a window; a zero one is the store's promise alone
			continue
		}
		sameAsOverlay(t, c.name, got, evs, q)
	}
}

// sameAsOverlay checks that the spool overlay, handed the events the store
// holds, gives the store's per-station counts.
func sameAsOverlay(t *testing.T, name string, stored map[string]tiendo.StationStats, evs []tiendo.Event, q tiendo.StatsQuery) {
	t.Helper()
	for _, p := range tiendo.AddPending(nil, evs, q) {
		s := stored[p.Station]
		if s.Completed != p.Completed || s.CompletedToday != p.CompletedToday || s.RecentRecords != p.RecentRecords || s.LastHour != p.LastHour ||
			s.LastHourYesterday != p.LastHourYesterday {
			t.Errorf("%s: station %s from the store: total %d today %d recent %d last hour %d yesterday's %d; from the spool overlay: %d %d %d %d %d",
				name, p.Station, s.Completed, s.CompletedToday, s.RecentRecords, s.LastHour, s.LastHourYesterday,
				p.Completed, p.CompletedToday, p.RecentRecords, p.LastHour, p.LastHourYesterday)
		}
	}
}

func testLastHourEdge(t *testing.T, open Factory) {
	db := open(t)
	evs := []tiendo.Event{
		completion("old", "A", "2021-03-20 20:59:59", 100, 0),
		completion("edge", "A", "2021-03-20 21:00:00", 1, 0), // exactly now − 60 min
		completion("edge2", "A", "2021-03-20 21:00:40", 2, 0),
		completion("mid", "A", "2021-03-20 21:30:00", 4, 0),
		completion("now", "A", "2021-03-20 22:00:00", 8, 0),
		completion("edgeB", "B", "2021-03-20 21:00:05", 16, 0),
	}
	write(t, db, evs...)
	dayStart := at("2021-03-20 04:00:00")
	for _, c := range []struct {
		now  string
		a, b int64
	}{
		// On a whole minute, the minute of now − 60 min is the window's
		// first: 61 minute buckets, of which the last holds one instant.
		{"2021-03-20 22:00:00", 15, 16},
		// Mid-minute, the minute holding now − 1 h counts whole.
		{"2021-03-20 22:00:30", 15, 16},
		{"2021-03-20 22:01:00", 12, 0},
	} {
		q := tiendo.StatsQuery{DayStart: dayStart, Now: at(c.now), RecentFrom: dayStart}
		got := statsOf(t, db, q)
		if got["A"].LastHour != c.a || got["B"].LastHour != c.b {
			t.Errorf("now %s: last hour A %d, B %d; want %d, %d", c.now, got["A"].LastHour, got["B"].LastHour, c.a, c.b)
		}
		sameAsOverlay(t, "now "+c.now, got, evs, q)
	}
}

// sortedKeys lists a found set, for failure messages.
func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// The same hour yesterday (the slowdown alert's comparison) is the last
// hour's window 24 hours back, with the same minute edges: the minute
// holding now − 25 h counts whole, now − 24 h is its last instant. The
// store and the spool overlay count it alike, and neither mixes it up with
// the last hour.
func testLastHourYesterday(t *testing.T, open Factory) {
	db := open(t)
	evs := []tiendo.Event{
		completion("before", "A", "2021-03-19 20:59:59", 100, 0),
		completion("edge", "A", "2021-03-19 21:00:00", 1, 0), // exactly now − 25 h
		completion("edge2", "A", "2021-03-19 21:00:40", 2, 0),
		completion("mid", "A", "2021-03-19 21:30:00", 4, 0),
		completion("end", "A", "2021-03-19 22:00:00", 8, 0), // exactly now − 24 h
		completion("after", "A", "2021-03-19 22:01:00", 200, 0),
		completion("today", "A", "2021-03-20 21:30:00", 16, 0),
		completion("onlyB", "B", "2021-03-19 21:15:00", 32, 0),
	}
	write(t, db, evs...)
	dayStart := at("2021-03-20 04:00:00")
	for _, c := range []struct {
		now                string
		a, aLast, b, bLast int64
	}{
		{"2021-03-20 22:00:00", 15, 16, 32, 0},
		// Mid-minute, the minute holding now − 25 h counts whole, and
		// 22:00:00 yesterday is still before now − 24 h.
		{"2021-03-20 22:00:30", 15, 16, 32, 0},
		{"2021-03-20 22:01:00", 212, 16, 32, 0},
		// A day later, yesterday's hour is the one that had 16.
		{"2021-03-21 22:00:00", 16, 0, 0, 0},
	} {
		q := tiendo.StatsQuery{DayStart: dayStart, Now: at(c.now), RecentFrom: dayStart}
		got := statsOf(t, db, q)
		if a, b := got["A"], got["B"]; a.LastHourYesterday != c.a || a.LastHour != c.aLast || b.LastHourYesterday != c.b || b.LastHour != c.bLast {
			t.Errorf("now %s: A yesterday's hour %d, last hour %d; B %d, %d; want %d, %d; %d, %d", c.now,
				a.LastHourYesterday, a.LastHour, b.LastHourYesterday, b.LastHour, c.a, c.aLast, c.b, c.bLast)
		}
		sameAsOverlay(t, "now "+c.now, got, evs, q)
	}
	// Filtered by station, the window is the same.
	only := statsOf(t, db, tiendo.StatsQuery{Stations: []string{"B"}, DayStart: dayStart, Now: at("2021-03-20 22:00:00")})
	if len(only) != 1 || only["B"].LastHourYesterday != 32 {
		t.Errorf("stats for [B] = %+v, want yesterday's hour 32", only)
	}
}
