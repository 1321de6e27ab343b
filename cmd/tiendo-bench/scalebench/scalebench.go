// Package scalebench is the query benchmark at national scale (issue 6,
// part 3), shared by tiendo-bench (ClickHouse server) and its chDB helper
// (embedded engine): it generates a year of data inside ClickHouse with
// INSERT … SELECT FROM numbers() into the real schema (the rollups fill
// through the materialized views), then times the store's own snapshot and
// chart queries for one province, and the service window the live rounds
// read, against the same answers from the raw tables.
package scalebench

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"tiendo"
	"tiendo/cmd/tiendo/langson2021"
	"tiendo/store"
)

// Params size the generated data.
type Params struct {
	Provinces   int
	Stations    int
	Days        int
	Slots       int   // heartbeats per station per day (every 6 minutes from 07:00 local: 140 → 21:00)
	Completions int64 // completion events over the whole year
	Chunk       int64 // rows per INSERT … SELECT
	Province    int   // the province whose snapshot is measured
	Runs        int
	RawRuns     int // rounds that also time the nation's raw answers (each a scan of every raw row)
}

// Default is the scale: 63 provinces, 10,000 stations, a year,
// 60 million completion events and 511 million heartbeats.
var Default = Params{Provinces: 63, Stations: 10_000, Days: 365, Slots: 140, Completions: 60_000_000,
	Chunk: 20_000_000, Province: 17, Runs: 25, RawRuns: 3}

// Districts is the number of districts per province: 11, or fewer when a
// province has fewer stations.
func (p Params) Districts() int {
	return max(1, min(11, p.Stations/max(1, p.Provinces)))
}

// Heartbeats is the number of heartbeat rows generated.
func (p Params) Heartbeats() int64 { return int64(p.Stations) * int64(p.Days) * int64(p.Slots) }

// localMidnight is 2021-01-01 00:00 in Asia/Ho_Chi_Minh (UTC+7), as epoch seconds.
const localMidnight = 1609434000

func (p Params) sql(db, q string) string {
	r := strings.NewReplacer("{db}", "`"+db+"`", "{S}", fmt.Sprint(p.Stations), "{P}", fmt.Sprint(p.Provinces),
		"{SLOTS}", fmt.Sprint(p.Slots), "{DAY0}", fmt.Sprint(localMidnight), "{PERDAY}", fmt.Sprint(p.Completions/int64(p.Days)),
		"{DAYS}", fmt.Sprint(p.Days), "{D}", fmt.Sprint(p.Districts()))
	return r.Replace(q)
}

// Station s (0…S-1) belongs to province s % P; its id P<10+province>-S<10000+s>
// starts with its province, as real ids do (LS-…), so that a province's
// stations are neighbours in the tables' (station, time) order. Within its
// province it is in district P<10+province>-D<10+(s / P) % {D}>, about
// eleven per province as in Lạng Sơn; the district column is what store.DB
// writes from the registry.
const completionsSQL = `INSERT INTO {db}.completions (id, station, district, ts, count, fingerprint_retries, kind, received)
SELECT concat('c', toString(n)) AS id,
       concat('P', toString(10 + n % {S} % {P}), '-S', toString(10000 + n % {S})) AS station,
       concat('P', toString(10 + n % {S} % {P}), '-D', toString(10 + intDiv(n % {S}, {P}) % {D})) AS district,
       toDateTime({DAY0} + least(intDiv(n, {PERDAY}), toUInt64({DAYS} - 1)) * 86400 + 25200 + intDiv(h, 16777216) % 54000, 'UTC') AS ts,
       toUInt32(1 + h % 4) AS count,
       toUInt32(intDiv(h, 256) % 3) AS fingerprint_retries,
       ['standard', 'standard', 'standard', 'student', 'home_visit'][1 + intDiv(h, 65536) % 5] AS kind,
       ts AS received
FROM (SELECT number + {OFFSET} AS n, intHash64(number + {OFFSET}) AS h FROM system.numbers LIMIT {COUNT})`

const heartbeatsSQL = `INSERT INTO {db}.heartbeats (id, station, ts, queue, staff, lanes, status, has_pos, lat, lon, received)
SELECT concat('h', toString(n)) AS id,
       concat('P', toString(10 + s % {P}), '-S', toString(10000 + s)) AS station,
       toDateTime({DAY0} + intDiv(n, {S} * {SLOTS}) * 86400 + 25200 + slot * 360 + s % 360, 'UTC') AS ts,
       toUInt32(h % 60) AS queue,
       toUInt16(2 + intDiv(h, 256) % 4) AS staff,
       toUInt16(3) AS lanes,
       if(slot < {SLOTS} - 5, 'open', 'closed') AS status,
       toUInt8(1) AS has_pos,
       20.0 + (s % {P}) / 10.0 AS lat,
       104.0 + (s % 100) / 50.0 AS lon,
       ts AS received
FROM (SELECT n, n % ({S} * {SLOTS}) % {S} AS s, intDiv(n % ({S} * {SLOTS}), {S}) AS slot, intHash64(n) AS h
      FROM (SELECT number + {OFFSET} AS n FROM system.numbers LIMIT {COUNT}))`

// Generate fills db's raw tables (and through the views its rollups),
// chunk by chunk, printing progress and the insert rate.
func Generate(ctx context.Context, eng store.Engine, db string, p Params, out io.Writer) error {
	for _, t := range []struct {
		name  string
		total int64
		q     string
	}{{"completions", p.Completions, completionsSQL}, {"heartbeats", p.Heartbeats(), heartbeatsSQL}} {
		start := time.Now()
		for off := int64(0); off < t.total; off += p.Chunk {
			if err := ctx.Err(); err != nil {
				return err
			}
			n := min(p.Chunk, t.total-off)
			q := strings.NewReplacer("{OFFSET}", fmt.Sprint(off), "{COUNT}", fmt.Sprint(n)).Replace(p.sql(db, t.q))
			if err := eng.Exec(ctx, q); err != nil {
				return fmt.Errorf("generate %s at %d: %w", t.name, off, err)
			}
			done := off + n
			el := time.Since(start)
			fmt.Fprintf(out, "    %s: %d/%d rows, %.0f rows/s, %s\n", t.name, done, t.total, float64(done)/el.Seconds(), el.Round(time.Second))
		}
	}
	return nil
}

// Counts reads the raw row counts, to reuse data generated before.
func Counts(ctx context.Context, eng store.Engine, db string) (completions, heartbeats int64) {
	for _, t := range []struct {
		table string
		dst   *int64
	}{{"completions", &completions}, {"heartbeats", &heartbeats}} {
		rows, err := eng.Query(ctx, fmt.Sprintf("SELECT toInt64(count()) FROM `%s`.%s", db, t.table))
		if err == nil && len(rows) == 1 {
			*t.dst = rows[0][0].(int64)
		}
	}
	return
}

// Parts describes the active parts and rows of db's tables.
func Parts(ctx context.Context, eng store.Engine, db string) string {
	rows, err := eng.Query(ctx, fmt.Sprintf(`SELECT table, toInt64(count()), toInt64(sum(rows)), toInt64(sum(bytes))
		FROM system.parts WHERE active AND database = '%s' GROUP BY table ORDER BY table`, db))
	if err != nil {
		return "parts: " + err.Error()
	}
	var parts []string
	for _, r := range rows {
		parts = append(parts, fmt.Sprintf("%s %d rows/%d parts/%.1f GB", r[0], r[2], r[1], float64(r[3].(int64))/1e9))
	}
	return strings.Join(parts, "; ")
}

// WaitMerges waits (at most max) until ClickHouse has no merge running.
func WaitMerges(ctx context.Context, eng store.Engine, max time.Duration) time.Duration {
	start := time.Now()
	for time.Since(start) < max && ctx.Err() == nil {
		rows, err := eng.Query(ctx, "SELECT toInt64(count()) FROM system.merges")
		if err != nil || len(rows) == 0 || rows[0][0].(int64) == 0 {
			break
		}
		time.Sleep(2 * time.Second)
	}
	return time.Since(start)
}

// Query is one measured question, answered from the rollups (the store's
// code) and from the raw tables.
type Query struct {
	Name         string
	Rollup, Raw  []time.Duration
	Equal        bool
	Rows         int
	Differs      string // when not Equal and known: the first figure that differs
	RollupDetail string
	// Compare, when set, is the query this one replaces: Print gives the
	// speed-up from it under this one's row.
	Compare *Query
}

// Measure times each query p.Runs times, rollup and raw interleaved.
func Measure(ctx context.Context, sdb *store.DB, eng store.Engine, db string, p Params) ([]*Query, error) {
	var stations []string
	for s := p.Province; s < p.Stations; s += p.Provinces {
		stations = append(stations, fmt.Sprintf("P%d-S%d", 10+p.Province, 10000+s))
	}
	c := langson2021.Campaign()
	now := time.Unix(localMidnight, 0).UTC().Add(time.Duration(p.Days-1)*24*time.Hour + 15*time.Hour) // last day, 15:00 local
	dayStart := c.DayStart(c.WorkingDay(now))
	yearStart := time.Unix(localMidnight, 0).UTC()
	recentFrom, _, _ := c.RecentWindow(c.WorkingDay(now))
	sq := tiendo.StatsQuery{Stations: stations, DayStart: dayStart, Now: now, RecentFrom: recentFrom}
	svc := tiendo.ServiceQueryAt(stations, now)
	// The raw queries name the stations the way the store does, so that the
	// ratio compares reading, not parsing.
	in := store.InSet(stations)
	inProvince := "station IN " + in
	raw := func(q string) ([][]any, error) {
		return eng.Query(ctx, strings.ReplaceAll(q, "{db}", "`"+db+"`"))
	}

	snapshot := &Query{Name: fmt.Sprintf("province snapshot (StationStats, %d stations)", len(stations))}
	hourly := &Query{Name: "chart: hourly completions over the year (province)"}
	perStation := &Query{Name: "chart: per station per hour, one day"}
	service := &Query{Name: fmt.Sprintf("service window (ServiceSamples, %.0f min)", svc.To.Sub(svc.From).Minutes())}
	type job struct {
		q      *Query
		rollup func() (any, error)
		raw    func() (any, error)
	}
	jobs := []job{
		{snapshot, func() (any, error) { return sdb.StationStats(ctx, sq) }, func() (any, error) { return rawStationStats(raw, inProvince, recentFrom, dayStart, now) }},
		{service, func() (any, error) {
			s, m, err := sdb.ServiceSamples(ctx, svc)
			return serviceAnswer{s, m}, err
		}, func() (any, error) { return rawService(raw, inProvince, svc) }},
		{hourly, func() (any, error) {
			return sdb.HourlyCompletions(ctx, tiendo.SeriesQuery{Stations: stations, From: yearStart, To: now.Add(time.Hour)})
		}, func() (any, error) { return rawHourly(raw, inProvince, yearStart, now.Add(time.Hour), false) }},
		{perStation, func() (any, error) {
			return sdb.HourlyCompletions(ctx, tiendo.SeriesQuery{Stations: stations, From: dayStart, To: now.Add(time.Hour), ByStation: true})
		}, func() (any, error) { return rawHourly(raw, inProvince, dayStart, now.Add(time.Hour), true) }},
	}
	// The floor: what any query costs through the same client, however
	// little it reads. A chart whose raw answer takes a few times this can
	// never be 25× faster from a rollup.
	floors := []*Query{{Name: "floor: SELECT 1"}, {Name: "floor: 1-row rollup read (station_totals, 1 station)"},
		{Name: fmt.Sprintf("floor: 1-row sum over %d stations (station_totals)", len(stations))}}
	floorSQL := []string{"SELECT toInt64(1)", "SELECT toInt64(sum(records)) FROM {db}.station_totals WHERE station = " + store.Quote(stations[0]),
		"SELECT toInt64(sum(records)) FROM {db}.station_totals WHERE station IN " + in}
	// Two warm-up rounds, then the measured runs.
	for r := -2; r < p.Runs; r++ {
		for _, j := range jobs {
			t0 := time.Now()
			a, err := j.rollup()
			d1 := time.Since(t0)
			if err != nil {
				return nil, fmt.Errorf("%s (rollups): %w", j.q.Name, err)
			}
			if j.raw == nil { // measured in Go only
				if r >= 0 {
					j.q.Rollup = append(j.q.Rollup, d1)
				}
				continue
			}
			t0 = time.Now()
			b, err := j.raw()
			d2 := time.Since(t0)
			if err != nil {
				return nil, fmt.Errorf("%s (raw): %w", j.q.Name, err)
			}
			if r < 0 {
				if r == -2 {
					j.q.Equal, j.q.Rows = same(a, b)
				}
				continue
			}
			j.q.Rollup = append(j.q.Rollup, d1)
			j.q.Raw = append(j.q.Raw, d2)
		}
	}
	// The year chart's answer is thousands of rows: what returning that many
	// rows of three numbers costs with no table read at all.
	floors = append(floors, &Query{Name: fmt.Sprintf("floor: %d rows × 3 Int64 from system.numbers", hourly.Rows)})
	floorSQL = append(floorSQL, fmt.Sprintf("SELECT toInt64(number), toInt64(number), toInt64(number) FROM system.numbers LIMIT %d", hourly.Rows))
	for r := -2; r < p.Runs; r++ {
		for i, f := range floors {
			t0 := time.Now()
			if _, err := raw(floorSQL[i]); err != nil {
				return nil, fmt.Errorf("%s: %w", f.Name, err)
			}
			if r >= 0 {
				f.Rollup = append(f.Rollup, time.Since(t0))
			}
		}
	}
	for _, f := range floors {
		jobs = append(jobs, job{q: f})
	}
	for _, j := range jobs {
		sort.Slice(j.q.Rollup, func(a, b int) bool { return j.q.Rollup[a] < j.q.Rollup[b] })
		sort.Slice(j.q.Raw, func(a, b int) bool { return j.q.Raw[a] < j.q.Raw[b] })
	}
	snaps, err := measureSnapshots(ctx, sdb, raw, p, now)
	if err != nil {
		return nil, err
	}
	return append(append([]*Query{snapshot, service, hourly, perStation}, snaps...), floors...), nil
}

func ts(t time.Time) string { return fmt.Sprintf("toDateTime(%d, 'UTC')", t.Unix()) }

// rawStationStats answers StationStats from the raw tables: the same
// figures per station, scanning completions and heartbeats.
func rawStationStats(raw func(string) ([][]any, error), where string, recentFrom, dayStart, now time.Time) ([]tiendo.StationStats, error) {
	by := map[string]*tiendo.StationStats{}
	get := func(id string) *tiendo.StationStats {
		if by[id] == nil {
			by[id] = &tiendo.StationStats{Station: id}
		}
		return by[id]
	}
	hourStart := now.Truncate(time.Hour)
	queries := []struct {
		q    string
		scan func([]any)
	}{
		{"SELECT station, toInt64(sum(count)), toInt64(sum(fingerprint_retries)) FROM {db}.completions WHERE " + where + " GROUP BY station",
			func(r []any) { s := get(r[0].(string)); s.Completed, s.Retries = r[1].(int64), r[2].(int64) }},
		// The rollup counts whole hours from the day start up to now's hour.
		{"SELECT station, toInt64(sum(count)) FROM {db}.completions WHERE " + where + " AND ts >= " + ts(dayStart) +
			" AND ts < " + ts(hourStart.Add(time.Hour)) + " GROUP BY station",
			func(r []any) { get(r[0].(string)).CompletedToday = r[1].(int64) }},
		// The recent window's ends are day starts, whole hours.
		{"SELECT station, toInt64(sum(count)) FROM {db}.completions WHERE " + where + " AND ts >= " + ts(recentFrom) +
			" AND ts < " + ts(dayStart) + " GROUP BY station",
			func(r []any) { get(r[0].(string)).RecentRecords = r[1].(int64) }},
		// The rollup counts whole minutes from the one holding now − 1 h.
		{"SELECT station, toInt64(sum(count)) FROM {db}.completions WHERE " + where + " AND ts >= " + ts(tiendo.LastHourFrom(now)) +
			" AND ts < " + ts(now.Truncate(time.Minute).Add(time.Minute)) + " GROUP BY station",
			func(r []any) { get(r[0].(string)).LastHour = r[1].(int64) }},
		{`SELECT station, toInt64(toUInt32(max(ts))), argMax(status, ts), toInt64(argMax(queue, ts)), toInt64(argMax(staff, ts)),
			toInt64(argMax(lanes, ts)), argMax(lat, if(has_pos = 1, ts, toDateTime(0, 'UTC'))), argMax(lon, if(has_pos = 1, ts, toDateTime(0, 'UTC')))
			FROM {db}.heartbeats WHERE ` + where + " GROUP BY station",
			func(r []any) {
				s := get(r[0].(string))
				s.HasHeartbeat = true
				s.LastSeen = time.Unix(r[1].(int64), 0).UTC()
				s.Status = tiendo.StationStatus(r[2].(string))
				s.Queue, s.Staff, s.Lanes = int(r[3].(int64)), int(r[4].(int64)), int(r[5].(int64))
				s.Lat, s.Lon = r[6].(float64), r[7].(float64)
			}},
	}
	for _, q := range queries {
		rows, err := raw(q.q)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			q.scan(r)
		}
	}
	out := make([]tiendo.StationStats, 0, len(by))
	for _, s := range by {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Station < out[j].Station })
	return out, nil
}

// serviceAnswer is what ServiceSamples returns, as one value.
type serviceAnswer struct {
	samples []tiendo.ServiceSample
	minutes []tiendo.MinuteCount
}

// rawService answers ServiceSamples from the raw tables: each station's
// newest heartbeat of every minute, kept when it lies in [From, To], and
// completions by minute, from the minute holding From to the one holding To.
func rawService(raw func(string) ([][]any, error), where string, q tiendo.ServiceQuery) (serviceAnswer, error) {
	lo, hi := ts(q.From.Truncate(time.Minute)), ts(q.To.Truncate(time.Minute).Add(time.Minute))
	var a serviceAnswer
	rows, err := raw(`SELECT station, toInt64(toUInt32(max(ts))) AS at, argMax(status, ts), toInt64(argMax(queue, ts)), toInt64(argMax(staff, ts)),
		toInt64(argMax(lanes, ts)) FROM {db}.heartbeats WHERE ` + where + ` AND ts >= ` + lo + ` AND ts < ` + hi + `
		GROUP BY station, toStartOfMinute(ts) HAVING at >= ` + fmt.Sprint(q.From.Unix()) + ` AND at <= ` + fmt.Sprint(q.To.Unix()) + ` ORDER BY station, at`)
	if err != nil {
		return a, err
	}
	for _, r := range rows {
		a.samples = append(a.samples, tiendo.ServiceSample{Station: r[0].(string), At: time.Unix(r[1].(int64), 0).UTC(),
			Status: tiendo.StationStatus(r[2].(string)), Queue: int(r[3].(int64)), Staff: int(r[4].(int64)), Lanes: int(r[5].(int64))})
	}
	rows, err = raw(`SELECT station, toInt64(toUInt32(toStartOfMinute(ts))) AS m, toInt64(sum(count)) FROM {db}.completions
		WHERE ` + where + ` AND ts >= ` + lo + ` AND ts < ` + hi + ` GROUP BY station, m ORDER BY station, m`)
	if err != nil {
		return a, err
	}
	for _, r := range rows {
		a.minutes = append(a.minutes, tiendo.MinuteCount{Station: r[0].(string), Minute: time.Unix(r[1].(int64), 0).UTC(), Records: r[2].(int64)})
	}
	return a, nil
}

func rawHourly(raw func(string) ([][]any, error), where string, from, to time.Time, byStation bool) ([]tiendo.HourCount, error) {
	group, station := "", "''"
	if byStation {
		group, station = "station, ", "station"
	}
	rows, err := raw(`SELECT ` + station + ` AS s, toInt64(toUInt32(toStartOfHour(ts))) AS h, toInt64(sum(count)), toInt64(sum(fingerprint_retries))
		FROM {db}.completions WHERE ` + where + ` AND ts >= ` + ts(from) + ` AND ts < ` + ts(to) + ` GROUP BY ` + group + `h ORDER BY ` + group + `h`)
	if err != nil {
		return nil, err
	}
	out := make([]tiendo.HourCount, len(rows))
	for i, r := range rows {
		out[i] = tiendo.HourCount{Station: r[0].(string), Hour: time.Unix(r[1].(int64), 0).UTC(), Records: r[2].(int64), Retries: r[3].(int64)}
	}
	return out, nil
}

// same compares a rollup answer with the raw one.
func same(a, b any) (bool, int) {
	switch x := a.(type) {
	case []tiendo.StationStats:
		y := b.([]tiendo.StationStats)
		if len(x) != len(y) {
			return false, len(x)
		}
		for i := range x {
			p, q := x[i], y[i]
			if p.Station != q.Station || p.Completed != q.Completed || p.Retries != q.Retries || p.CompletedToday != q.CompletedToday ||
				p.LastHour != q.LastHour || p.RecentRecords != q.RecentRecords || !p.LastSeen.Equal(q.LastSeen) || p.Status != q.Status || p.Queue != q.Queue || p.Staff != q.Staff {
				return false, len(x)
			}
		}
		return true, len(x)
	case serviceAnswer:
		y := b.(serviceAnswer)
		return fmt.Sprint(x) == fmt.Sprint(y), len(x.samples) + len(x.minutes)
	case []tiendo.HourCount:
		y := b.([]tiendo.HourCount)
		if len(x) != len(y) {
			return false, len(x)
		}
		for i := range x {
			if x[i].Station != y[i].Station || !x[i].Hour.Equal(y[i].Hour) || x[i].Records != y[i].Records || x[i].Retries != y[i].Retries {
				return false, len(x)
			}
		}
		return true, len(x)
	}
	return false, 0
}

func pct(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func msf(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }

// Print writes the results table with the targets: rollups p95 ≤ 50 ms
// and ≥ 25× faster than raw (compared at p50 and at p95).
func Print(out io.Writer, engine string, qs []*Query, runs int) (allPass bool) {
	fmt.Fprintf(out, "%-52s %10s %10s %10s %10s %8s %8s  %-6s %s\n", "query ("+engine+", "+fmt.Sprint(runs)+" runs each)", "rollup p50", "rollup p95", "raw p50", "raw p95", "×p50", "×p95", "equal", "targets: p95 ≤ 50 ms, ≥ 25× faster")
	allPass = true
	for _, q := range qs {
		if len(q.Raw) == 0 {
			fmt.Fprintf(out, "%-52s %10s %10s\n", q.Name, msf(pct(q.Rollup, .5)), msf(pct(q.Rollup, .95)))
			continue
		}
		r50, r95, w50, w95 := pct(q.Rollup, .5), pct(q.Rollup, .95), pct(q.Raw, .5), pct(q.Raw, .95)
		x50, x95 := float64(w50)/float64(r50), float64(w95)/float64(r95)
		ok1 := r95 <= 50*time.Millisecond
		ok2 := x50 >= 25 && x95 >= 25
		allPass = allPass && ok1 && ok2
		eq := "yes"
		if !q.Equal {
			eq = "NO"
		}
		fmt.Fprintf(out, "%-52s %10s %10s %10s %10s %7.1f× %7.1f×  %-6s %s %s\n", q.Name, msf(r50), msf(r95), msf(w50), msf(w95), x50, x95,
			fmt.Sprintf("%s/%d", eq, q.Rows), pm(ok1, "p95"), pm(ok2, "ratio"))
		if !q.Equal && q.Differs != "" {
			fmt.Fprintf(out, "%-52s %s\n", "  differs at", q.Differs)
		}
		if c := q.Compare; c != nil {
			c50, c95 := pct(c.Rollup, .5), pct(c.Rollup, .95)
			fmt.Fprintf(out, "%-52s %10s %10s %32s %7.1f× %7.1f×  (%s)\n", "  against the path it replaces", msf(c50), msf(c95), "",
				float64(c50)/float64(r50), float64(c95)/float64(r95), strings.TrimSpace(c.Name))
		}
	}
	return allPass
}

func pm(ok bool, what string) string {
	if ok {
		return "PASS(" + what + ")"
	}
	return "MISS(" + what + ")"
}

// Run generates the data on eng (or reuses data of the same sizes), waits
// for merges, measures and prints the table.
func Run(ctx context.Context, eng store.Engine, label string, p Params, out io.Writer, after func()) error {
	sdb, err := store.Open(ctx, eng, "scale")
	if err != nil {
		return err
	}
	defer func() { sdb.Close() }()
	c, h := Counts(ctx, eng, "scale")
	if c != p.Completions || h != p.Heartbeats() {
		if c+h > 0 {
			fmt.Fprintf(out, "    found %d completions and %d heartbeats, not the sizes asked: regenerating\n", c, h)
			if err := eng.Exec(ctx, "DROP DATABASE scale"); err != nil {
				return err
			}
			if sdb, err = store.Open(ctx, eng, "scale"); err != nil {
				return err
			}
		}
		fmt.Fprintln(out, "    generating with INSERT … SELECT FROM system.numbers into the real schema (the views fill the rollups):")
		t0 := time.Now()
		if err := Generate(ctx, eng, "scale", p, out); err != nil {
			return err
		}
		fmt.Fprintf(out, "    generated in %s\n", time.Since(t0).Round(time.Second))
	} else {
		fmt.Fprintln(out, "    reusing the data generated before (same sizes)")
	}
	waited := WaitMerges(ctx, eng, 10*time.Minute)
	fmt.Fprintf(out, "    waited %s for background merges; %s\n", waited.Round(time.Second), Parts(ctx, eng, "scale"))
	if after != nil {
		after()
	}
	qs, err := Measure(ctx, sdb, eng, "scale", p)
	if err != nil {
		return err
	}
	Print(out, label, qs, p.Runs)
	fmt.Fprintln(out)
	return nil
}
