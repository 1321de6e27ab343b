// Package store keeps the campaign's events in ClickHouse. It holds what the
// two engines share: the schema and its migrations, every query, and DB, the
// tiendo.Store built on top of an Engine. The engines themselves live in
// store/clickhouse (a server, over the native protocol) and store/chdb
// (embedded, in-process); each only runs SQL text and moves rows.
package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"tiendo"
)

// Engine runs SQL on one ClickHouse engine. Implementations translate
// results into the canonical Go values int64, float64 and string; queries in
// this package select times as epoch seconds, so no time zone is involved.
type Engine interface {
	// Exec runs one statement that returns no rows.
	Exec(ctx context.Context, query string) error
	// Query runs one SELECT and returns its rows.
	Query(ctx context.Context, query string) ([][]any, error)
	// Insert writes rows into table in one insert query. Values are string,
	// int64, uint8..uint64, float64 or time.Time, matching columns in order.
	Insert(ctx context.Context, table string, columns []string, rows [][]any) error
	Close() error
}

// ErrUnavailable wraps engine errors that mean ClickHouse cannot be reached.
var ErrUnavailable = errors.New("clickhouse unavailable")

//go:embed schema/*.sql
var schemaFS embed.FS

var dbNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// ValidDatabaseName reports whether name is usable as the store's database.
func ValidDatabaseName(name string) bool { return dbNamePattern.MatchString(name) }

// DB is the tiendo.Store on a ClickHouse engine. Both engines run exactly the
// same SQL, which is written for ClickHouse 18.16 and later.
type DB struct {
	engine   Engine
	database string

	inserts atomic.Int64 // insert queries sent, for metrics and benchmarks

	// districts maps station id to district id, from the registry the
	// server hands over with SetStations (nil: none yet).
	districts atomic.Pointer[map[string]string]

	// pairs caches district_stations for planning hourly sums (see hourlyOver).
	pairs atomic.Pointer[districtPairs]
}

var (
	_ tiendo.Store            = (*DB)(nil)
	_ tiendo.StationDistricts = (*DB)(nil)
)

// Open migrates database on engine (creating it if needed) and returns the store.
func Open(ctx context.Context, engine Engine, database string) (*DB, error) {
	return open(ctx, engine, database, 0)
}

// OpenAtVersion is Open migrating no further than version. Tests use it to
// build a database as an older release left it, then Open it to check an
// upgrade (a backfill, for one) against what the raw rows say.
func OpenAtVersion(ctx context.Context, engine Engine, database string, version int) (*DB, error) {
	return open(ctx, engine, database, version)
}

func open(ctx context.Context, engine Engine, database string, upTo int) (*DB, error) {
	if !ValidDatabaseName(database) {
		return nil, fmt.Errorf("open store: invalid database name %q", database)
	}
	db := &DB{engine: engine, database: database}
	if err := db.migrate(ctx, upTo); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return db, nil
}

// Close closes the engine.
func (db *DB) Close() error { return db.engine.Close() }

// InsertQueries is the number of insert queries this store has sent.
func (db *DB) InsertQueries() int64 { return db.inserts.Load() }

// Database is the ClickHouse database the store lives in.
func (db *DB) Database() string { return db.database }

// Engine exposes the engine, for tests and benchmarks that compare the
// store's figures with direct queries.
func (db *DB) Engine() Engine { return db.engine }

// sql renders a query from a template and its values. {db} in template
// becomes the database's quoted name first; only then do the fmt verbs take
// args, which are SQL already rendered (Quote, InSet, numbers). So nothing a
// value holds is ever rewritten: substituting the name into the finished
// query once turned an event id "x{db}y" into "x`tiendo`y", and the
// interrupted-insert check (StoredEventKeys) missed it. A template used
// without args is not formatted, so a '%' in it needs no doubling then.
func (db *DB) sql(template string, args ...any) string {
	q := strings.ReplaceAll(template, "{db}", "`"+db.database+"`")
	if len(args) == 0 {
		return q
	}
	return fmt.Sprintf(q, args...)
}

// migration is one numbered schema file.
type migration struct {
	version    int
	name       string
	statements []string
}

func migrations() ([]migration, error) {
	files, err := fs.Glob(schemaFS, "schema/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []migration
	for _, f := range files {
		base := strings.TrimPrefix(f, "schema/")
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number", base)
		}
		body, _ := schemaFS.ReadFile(f)
		m := migration{version: v, name: base}
		for _, stmt := range strings.Split(string(body), ";\n") {
			if s := stripComments(stmt); s != "" {
				m.statements = append(m.statements, s)
			}
		}
		out = append(out, m)
	}
	return out, nil
}

func stripComments(stmt string) string {
	var b strings.Builder
	for _, line := range strings.Split(stmt, "\n") {
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return strings.TrimSpace(b.String())
}

// migrate applies the schema files not yet recorded in schema_migrations
// (those numbered up to upTo, when it is not 0); replicas.go has the rules.
func (db *DB) migrate(ctx context.Context, upTo int) error {
	return migrateReplicas(ctx, []*DB{db}, upTo)
}

var addColumnPattern = regexp.MustCompile(`^ALTER TABLE \{db\}\.(\w+) ADD COLUMN (\w+) `)

// columnExists reports whether stmt adds a column that is already there.
// ClickHouse 18.16 knows no ADD COLUMN IF NOT EXISTS, and a migration must
// be safe to run again after a crash.
func (db *DB) columnExists(ctx context.Context, stmt string) (bool, error) {
	m := addColumnPattern.FindStringSubmatch(stmt)
	if m == nil {
		return false, nil
	}
	rows, err := db.engine.Query(ctx, fmt.Sprintf("SELECT toInt64(count()) FROM system.columns WHERE database = %s AND table = %s AND name = %s",
		Quote(db.database), Quote(m[1]), Quote(m[2])))
	if err != nil {
		return false, err
	}
	return len(rows) == 1 && rows[0][0].(int64) > 0, nil
}

// SchemaVersion is the highest migration applied.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	rows, err := db.engine.Query(ctx, db.sql("SELECT toInt64(max(version)) FROM {db}.schema_migrations"))
	if err != nil {
		return 0, err
	}
	return int(rows[0][0].(int64)), nil
}

// Ping runs SELECT 1.
func (db *DB) Ping(ctx context.Context) error {
	_, err := db.engine.Query(ctx, "SELECT toInt64(1)")
	return err
}

// Version returns ClickHouse's version().
func (db *DB) Version(ctx context.Context) (string, error) {
	rows, err := db.engine.Query(ctx, "SELECT version()")
	if err != nil {
		return "", err
	}
	return rows[0][0].(string), nil
}

var (
	heartbeatColumns  = []string{"id", "station", "ts", "queue", "staff", "lanes", "status", "has_pos", "lat", "lon", "received"}
	completionColumns = []string{"id", "station", "district", "ts", "count", "fingerprint_retries", "kind", "received"}
)

// SetStations tells the store which district each station is in, for the
// district column of completions written from now on. Rows already stored
// keep the district they were written with; readers cope with that (see
// district_stations in schema/003). Without a registry, a station's
// district is its id without the last "-" part, as in the registry's ids.
func (db *DB) SetStations(stations []tiendo.Station) {
	m := make(map[string]string, len(stations))
	for _, s := range stations {
		m[s.ID] = s.District
	}
	db.districts.Store(&m)
}

// districtOf is the district written with a station's completions.
func (db *DB) districtOf(station string) string {
	if m := db.districts.Load(); m != nil {
		if d, ok := (*m)[station]; ok {
			return d
		}
	}
	if i := strings.LastIndexByte(station, '-'); i >= 0 {
		return station[:i]
	}
	return station
}

// WriteEvents inserts heartbeats and completions, one insert query per table.
func (db *DB) WriteEvents(ctx context.Context, events []tiendo.Event) error {
	var hb, comp [][]any
	now := time.Now().UTC()
	for i := range events {
		e := &events[i]
		switch e.Type {
		case tiendo.TypeHeartbeat:
			pos := uint8(0)
			if e.HasPos {
				pos = 1
			}
			hb = append(hb, []any{e.ID, e.Station, e.TS.UTC(), uint32(e.Queue), uint16(e.Staff), uint16(e.Lanes),
				string(e.Status), pos, e.Lat, e.Lon, now})
		case tiendo.TypeCompletion:
			comp = append(comp, []any{e.ID, e.Station, db.districtOf(e.Station), e.TS.UTC(), uint32(e.Count), uint32(e.FingerprintRetries),
				string(e.Kind), now})
		default:
			return fmt.Errorf("write events: unknown type %q", e.Type)
		}
	}
	if len(comp) > 0 {
		db.inserts.Add(1)
		if err := db.engine.Insert(ctx, db.database+".completions", completionColumns, comp); err != nil {
			return fmt.Errorf("insert completions: %w", err)
		}
	}
	if len(hb) > 0 {
		db.inserts.Add(1)
		if err := db.engine.Insert(ctx, db.database+".heartbeats", heartbeatColumns, hb); err != nil {
			return fmt.Errorf("insert heartbeats: %w", err)
		}
	}
	return nil
}

// storedKeysChunk bounds one look-up query: ClickHouse parses at most
// max_query_size (256 KiB by default) of query text, and ids are listed in it.
const storedKeysChunk = 2000

// StoredEventKeys looks the events up in both raw tables by station and id,
// a chunk of events per query.
func (db *DB) StoredEventKeys(ctx context.Context, events []tiendo.Event) (map[string]bool, error) {
	found := map[string]bool{}
	for start := 0; start < len(events); start += storedKeysChunk {
		chunk := events[start:min(start+storedKeysChunk, len(events))]
		stations := map[string]bool{}
		ids := map[string]bool{}
		for i := range chunk {
			stations[chunk[i].Station] = true
			ids[chunk[i].ID] = true
		}
		q := db.sql(`SELECT station, id FROM {db}.heartbeats WHERE station IN (%[1]s) AND id IN (%[2]s)
			UNION ALL SELECT station, id FROM {db}.completions WHERE station IN (%[1]s) AND id IN (%[2]s)`,
			quoteList(keys(stations)), quoteList(keys(ids)))
		rows, err := db.engine.Query(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("stored event keys: %w", err)
		}
		for _, r := range rows {
			found[tiendo.EventKey(r[0].(string), r[1].(string))] = true
		}
	}
	return found, nil
}

// StationStats answers from station_totals, completions_hour,
// completions_minute and station_latest: four small grouped reads, run side
// by side (see queryParts). At national scale each read costs a few
// milliseconds of fixed work (the station list, index analysis, parts), so
// four in a row cost four times that, and the recent pace's records come
// from the same read of completions_hour as today's rather than a fifth.
func (db *DB) StationStats(ctx context.Context, q tiendo.StatsQuery) ([]tiendo.StationStats, error) {
	where := ""
	if q.Stations != nil {
		if len(q.Stations) == 0 {
			return nil, nil
		}
		where = "station IN " + InSet(q.Stations)
	}
	and := func(conds ...string) string {
		var parts []string
		if where != "" {
			parts = append(parts, where)
		}
		parts = append(parts, conds...)
		if len(parts) == 0 {
			return ""
		}
		return " WHERE " + strings.Join(parts, " AND ")
	}
	now, dayStart := q.Now.Unix(), q.DayStart.Unix()
	// The recent window [RecentFrom, DayStart) sits right before today, so
	// one range of completions_hour holds both; without one, only today.
	recentFrom := dayStart
	if !q.RecentFrom.IsZero() && q.RecentFrom.Before(q.DayStart) {
		recentFrom = q.RecentFrom.Unix()
	}
	today := fmt.Sprintf("hour >= toDateTime(%d, 'UTC')", dayStart)
	minutes := func(from, to time.Time) string {
		return fmt.Sprintf("(minute >= toDateTime(%d, 'UTC') AND minute <= toDateTime(%d, 'UTC'))", from.Unix(), to.Unix())
	}
	lastHour := minutes(tiendo.LastHourFrom(q.Now), q.Now)
	yesterdayHour := minutes(tiendo.YesterdayHour(q.Now))
	// Every branch yields (station, part, a, b, c, d, status, lat, lon) with
	// the same types; part says which figures a row carries.
	const zeros = "toInt64(0), toInt64(0), '', toFloat64(0), toFloat64(0)"
	parts := []string{
		db.sql("SELECT station, toInt64(0), toInt64(sum(records)), toInt64(sum(retries)), "+zeros+
			" FROM {db}.station_totals%s GROUP BY station", and()),
		db.sql("SELECT station, toInt64(1), toInt64(sumIf(records, "+today+")), toInt64(sumIf(records, NOT ("+today+"))), "+zeros+
			" FROM {db}.completions_hour%s GROUP BY station",
			and(fmt.Sprintf("hour >= toDateTime(%d, 'UTC')", recentFrom), fmt.Sprintf("hour <= toDateTime(%d, 'UTC')", now))),
		// The minute holding now − 1 h counts whole (tiendo.LastHourFrom):
		// the window holds the whole hour and at most a minute more. The
		// same window a day before (tiendo.YesterdayHour) comes from the
		// same read: two ranges of the (station, minute) key, told apart
		// by sumIf, since they lie 23 hours apart and never overlap.
		db.sql("SELECT station, toInt64(2), toInt64(sumIf(records, "+lastHour+")), toInt64(sumIf(records, NOT ("+lastHour+"))), "+zeros+
			" FROM {db}.completions_minute%s GROUP BY station", and("("+lastHour+" OR "+yesterdayHour+")")),
		db.sql(`SELECT station, toInt64(3), toInt64(toUInt32(maxMerge(last_ts))), toInt64(argMaxMerge(queue)),
			toInt64(argMaxMerge(staff)), toInt64(argMaxMerge(lanes)), argMaxMerge(status), argMaxMerge(lat), argMaxMerge(lon)
			FROM {db}.station_latest%s GROUP BY station`, and()),
	}
	rows, err := db.queryParts(ctx, parts)
	if err != nil {
		return nil, fmt.Errorf("station stats: %w", err)
	}
	byStation := map[string]*tiendo.StationStats{}
	for _, r := range rows {
		id := r[0].(string)
		s := byStation[id]
		if s == nil {
			s = &tiendo.StationStats{Station: id}
			byStation[id] = s
		}
		a, b := r[2].(int64), r[3].(int64)
		switch r[1].(int64) {
		case 0:
			s.Completed, s.Retries = a, b
		case 1:
			s.CompletedToday, s.RecentRecords = a, b
		case 2:
			s.LastHour, s.LastHourYesterday = a, b
		case 3:
			s.HasHeartbeat = true
			s.LastSeen = time.Unix(a, 0).UTC()
			s.Queue, s.Staff, s.Lanes = int(b), int(r[4].(int64)), int(r[5].(int64))
			s.Status = tiendo.StationStatus(r[6].(string))
			s.Lat, s.Lon = r[7].(float64), r[8].(float64)
		}
	}
	out := make([]tiendo.StationStats, 0, len(byStation))
	for _, s := range byStation {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Station < out[j].Station })
	return out, nil
}

// Concurrent is implemented by engines that run queries side by side (a
// server, over a pool of connections).
type Concurrent interface{ Concurrent() bool }

// queryParts runs SELECTs (rendered by db.sql) whose rows have the same columns. An engine that
// runs queries side by side gets them as separate queries at once: on a
// server each then has its own threads for parsing, index analysis and
// reading, where one UNION ALL shares max_threads. Others (chDB: one
// session) get one UNION ALL, so they pay one call, not one per part.
func (db *DB) queryParts(ctx context.Context, parts []string) ([][]any, error) {
	if c, ok := db.engine.(Concurrent); !ok || !c.Concurrent() || len(parts) < 2 {
		return db.engine.Query(ctx, strings.Join(parts, " UNION ALL "))
	}
	results := make([][][]any, len(parts))
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = db.engine.Query(ctx, p)
		}()
	}
	wg.Wait()
	var rows [][]any
	for i := range parts {
		if errs[i] != nil {
			return nil, errs[i]
		}
		rows = append(rows, results[i]...)
	}
	return rows, nil
}

// HourlyCompletions sums completions per hour. Per station it reads
// completions_hour. Summed over stations it reads completions_area_hour for
// every area, and completions_district_hour for every further district,
// whose rows all come from the asked stations, and completions_hour only
// for the stations left over: a province's year is then one row an hour
// instead of close to a million station-hours.
func (db *DB) HourlyCompletions(ctx context.Context, q tiendo.SeriesQuery) ([]tiendo.HourCount, error) {
	hours := fmt.Sprintf("hour >= toDateTime(%d, 'UTC') AND hour < toDateTime(%d, 'UTC')", q.From.Unix(), q.To.Unix())
	if q.Stations != nil && len(q.Stations) == 0 {
		return nil, nil
	}
	var query string
	switch {
	case q.ByStation:
		where := hours
		if q.Stations != nil {
			where += " AND station IN " + InSet(q.Stations)
		}
		query = db.sql(`SELECT station AS s, toInt64(toUInt32(hour)) AS h, toInt64(sum(records)), toInt64(sum(retries))
			FROM {db}.completions_hour WHERE %s GROUP BY s, h ORDER BY s, h`, where)
	case q.Stations == nil:
		query = db.sql(`SELECT '' AS s, toInt64(toUInt32(hour)) AS h, toInt64(sum(records)), toInt64(sum(retries))
			FROM {db}.completions_area_hour WHERE %s GROUP BY h ORDER BY h`, hours)
	default:
		return db.hourlyOver(ctx, q.Stations, hours)
	}
	rows, err := db.engine.Query(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("hourly completions: %w", err)
	}
	return hourCounts(rows), nil
}

func hourCounts(rows [][]any) []tiendo.HourCount {
	out := make([]tiendo.HourCount, len(rows))
	for i, r := range rows {
		out[i] = tiendo.HourCount{Station: r[0].(string), Hour: time.Unix(r[1].(int64), 0).UTC(), Records: r[2].(int64), Retries: r[3].(int64)}
	}
	return out
}

// hourlyOver sums completions per hour over a list of stations. The
// district_stations pairs it plans with are cached (reading them all costs
// more than the answer); a second query, run beside the answer's, counts
// the pairs, and when the count differs from the cached one (a station's
// first completion, another writer) it reloads them and asks again. Pairs
// are never removed, so an equal count means the same pairs.
func (db *DB) hourlyOver(ctx context.Context, stations []string, hours string) ([]tiendo.HourCount, error) {
	for attempt := 0; ; attempt++ {
		p := db.pairs.Load()
		if p == nil || attempt > 0 {
			var err error
			if p, err = db.loadPairs(ctx); err != nil {
				return nil, fmt.Errorf("hourly completions: %w", err)
			}
		}
		areas, districts, rest := p.cover(stations)
		var branches []string
		if len(areas) > 0 {
			branches = append(branches, db.sql("SELECT hour, records, retries FROM {db}.completions_area_hour WHERE area IN %s AND %s", InSet(areas), hours))
		}
		if len(districts) > 0 {
			branches = append(branches, db.sql("SELECT hour, records, retries FROM {db}.completions_district_hour WHERE district IN %s AND %s", InSet(districts), hours))
		}
		if len(rest) > 0 {
			branches = append(branches, db.sql("SELECT hour, records, retries FROM {db}.completions_hour WHERE station IN %s AND %s", InSet(rest), hours))
		}
		// The answer, and one row with hour -1 holding the number of pairs
		// now. Rows come unordered (sorted below): a thousands-row answer is
		// cheaper to sort here than to order in a second step there.
		from := "FROM (" + strings.Join(branches, " UNION ALL ") + ")"
		if len(branches) == 1 { // the usual case, a province or a district: no subquery
			from = strings.TrimPrefix(branches[0], "SELECT hour, records, retries ")
		}
		rows, err := db.queryParts(ctx, []string{
			"SELECT toInt64(toUInt32(hour)) AS h, toInt64(sum(records)), toInt64(sum(retries)) " + from + " GROUP BY h",
			db.sql("SELECT toInt64(-1), toInt64(uniqExact(district, station)), toInt64(0) FROM {db}.district_stations"),
		})
		if err != nil {
			return nil, fmt.Errorf("hourly completions: %w", err)
		}
		var version int64 = -1
		out := make([]tiendo.HourCount, 0, len(rows))
		for _, r := range rows {
			if h := r[0].(int64); h < 0 {
				version = r[1].(int64)
			} else {
				out = append(out, tiendo.HourCount{Hour: time.Unix(h, 0).UTC(), Records: r[1].(int64), Retries: r[2].(int64)})
			}
		}
		if version == p.version {
			sort.Slice(out, func(i, j int) bool { return out[i].Hour.Before(out[j].Hour) })
			return out, nil
		}
		if attempt > 2 {
			return nil, fmt.Errorf("hourly completions: district_stations keeps changing")
		}
	}
}

// districtPairs are the (district, station) pairs of district_stations.
type districtPairs struct {
	version  int64               // number of pairs
	byArea   map[string][]string // area → the stations of its districts' pairs
	byDist   map[string][]string // district → stations
	homes    map[string]int      // station → number of districts it has rows under
	distsOf  map[string][]string // station → the districts it has rows under
	soleArea map[string]string   // station with rows under one district only → that district's area
}

func (db *DB) loadPairs(ctx context.Context) (*districtPairs, error) {
	rows, err := db.engine.Query(ctx, db.sql("SELECT district, station FROM {db}.district_stations GROUP BY district, station"))
	if err != nil {
		return nil, err
	}
	p := &districtPairs{version: int64(len(rows)), byArea: map[string][]string{}, byDist: map[string][]string{},
		homes: map[string]int{}, distsOf: map[string][]string{}}
	for _, r := range rows {
		d, s := r[0].(string), r[1].(string)
		p.byDist[d] = append(p.byDist[d], s)
		p.byArea[areaOf(d)] = append(p.byArea[areaOf(d)], s)
		p.distsOf[s] = append(p.distsOf[s], d)
		p.homes[s]++
	}
	p.soleArea = make(map[string]string, len(p.homes))
	for s, n := range p.homes {
		if n == 1 {
			p.soleArea[s] = areaOf(p.distsOf[s][0])
		}
	}
	db.pairs.Store(p)
	return p, nil
}

// areaOf is a district id without its last "-" part, as schema/003 computes it.
func areaOf(district string) string {
	if i := strings.LastIndexByte(district, '-'); i >= 0 {
		return district[:i]
	}
	return district
}

// cover splits stations into the areas, then the districts, whose rollup
// rows come from those stations only, and the stations left over. An area
// or district qualifies when every station with rows under it is asked for
// and has rows under no other district, so that no row is counted twice and
// none of another station's rows is counted; stations without rows at all
// stay in rest, where they cost nothing.
func (p *districtPairs) cover(stations []string) (areas, districts, rest []string) {
	asked := make(map[string]bool, len(stations))
	for _, s := range stations {
		asked[s] = true
	}
	usable := func(members []string) bool {
		for _, s := range members {
			if !asked[s] || p.homes[s] != 1 {
				return false
			}
		}
		return true
	}
	// Only the areas and districts of asked stations can qualify.
	candAreas, candDists := map[string]bool{}, map[string]bool{}
	for _, s := range stations {
		for _, d := range p.distsOf[s] {
			candAreas[areaOf(d)], candDists[d] = true, true
		}
	}
	covered := map[string]bool{}
	for a := range candAreas {
		if usable(p.byArea[a]) {
			areas = append(areas, a)
			for _, s := range p.byArea[a] {
				covered[s] = true
			}
		}
	}
	for d := range candDists {
		if members := p.byDist[d]; !covered[members[0]] && usable(members) {
			districts = append(districts, d)
			for _, s := range members {
				covered[s] = true
			}
		}
	}
	for _, s := range stations {
		if !covered[s] {
			rest = append(rest, s)
		}
	}
	sort.Strings(areas)
	sort.Strings(districts)
	return areas, districts, rest
}

// LatestEventTime reads the newest minute of completions and the newest
// heartbeat from the rollups.
func (db *DB) LatestEventTime(ctx context.Context) (time.Time, error) {
	var latest int64
	for _, q := range []string{
		"SELECT toInt64(toUInt32(max(minute))) FROM {db}.completions_minute",
		"SELECT toInt64(toUInt32(maxMerge(last_ts))) FROM {db}.station_latest",
	} {
		rows, err := db.engine.Query(ctx, db.sql(q))
		if err != nil {
			return time.Time{}, fmt.Errorf("latest event time: %w", err)
		}
		if len(rows) == 1 {
			latest = max(latest, rows[0][0].(int64))
		}
	}
	if latest <= 0 {
		return time.Time{}, nil
	}
	return time.Unix(latest, 0).UTC(), nil
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// InSet renders the right side of IN for a list of strings. Long lists go
// as one array literal unnested in a subquery: ClickHouse 18.16 parses a
// tuple of 159 string literals in about a millisecond, an array literal in
// a fraction of that, and the primary key is used either way. The scale
// benchmark's raw queries use it too, so its ratios compare reading, not parsing.
func InSet(items []string) string {
	if len(items) <= 16 {
		return "(" + quoteList(items) + ")"
	}
	return "(SELECT arrayJoin([" + quoteList(items) + "]))"
}

// quoteList renders strings as a comma-separated list of ClickHouse string literals.
func quoteList(items []string) string {
	var b strings.Builder
	for i, s := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(Quote(s))
	}
	return b.String()
}

// Quote renders s as a ClickHouse string literal, escaping backslashes and quotes.
func Quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		case 0:
			b.WriteString(`\0`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
