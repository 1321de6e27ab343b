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
}

var _ tiendo.Store = (*DB)(nil)

// Open migrates database on engine (creating it if needed) and returns the store.
func Open(ctx context.Context, engine Engine, database string) (*DB, error) {
	if !ValidDatabaseName(database) {
		return nil, fmt.Errorf("open store: invalid database name %q", database)
	}
	db := &DB{engine: engine, database: database}
	if err := db.migrate(ctx); err != nil {
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

func (db *DB) sql(q string) string { return strings.ReplaceAll(q, "{db}", "`"+db.database+"`") }

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

// migrate applies the schema files not yet recorded in schema_migrations.
// Every statement is idempotent (IF NOT EXISTS), so a migration cut short by
// a crash is simply run again.
func (db *DB) migrate(ctx context.Context) error {
	if err := db.engine.Exec(ctx, db.sql("CREATE DATABASE IF NOT EXISTS {db}")); err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	if err := db.engine.Exec(ctx, db.sql(`CREATE TABLE IF NOT EXISTS {db}.schema_migrations
		(version UInt32, name String, applied DateTime('UTC')) ENGINE = MergeTree ORDER BY version`)); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	rows, err := db.engine.Query(ctx, db.sql("SELECT toInt64(version) FROM {db}.schema_migrations"))
	if err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	applied := map[int64]bool{}
	for _, r := range rows {
		applied[r[0].(int64)] = true
	}
	ms, err := migrations()
	if err != nil {
		return err
	}
	for _, m := range ms {
		if applied[int64(m.version)] {
			continue
		}
		for _, stmt := range m.statements {
			if err := db.engine.Exec(ctx, db.sql(stmt)); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
		}
		if err := db.engine.Insert(ctx, db.database+".schema_migrations", []string{"version", "name", "applied"},
			[][]any{{uint32(m.version), m.name, time.Now().UTC()}}); err != nil {
			return fmt.Errorf("record migration %s: %w", m.name, err)
		}
	}
	return nil
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
	completionColumns = []string{"id", "station", "ts", "count", "fingerprint_retries", "kind", "received"}
)

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
			comp = append(comp, []any{e.ID, e.Station, e.TS.UTC(), uint32(e.Count), uint32(e.FingerprintRetries),
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
		q := fmt.Sprintf(`SELECT station, id FROM {db}.heartbeats WHERE station IN (%[1]s) AND id IN (%[2]s)
			UNION ALL SELECT station, id FROM {db}.completions WHERE station IN (%[1]s) AND id IN (%[2]s)`,
			quoteList(keys(stations)), quoteList(keys(ids)))
		rows, err := db.engine.Query(ctx, db.sql(q))
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
// completions_minute and station_latest: four small grouped reads.
func (db *DB) StationStats(ctx context.Context, q tiendo.StatsQuery) ([]tiendo.StationStats, error) {
	where := ""
	if q.Stations != nil {
		if len(q.Stations) == 0 {
			return nil, nil
		}
		where = "station IN (" + quoteList(q.Stations) + ")"
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
	byStation := map[string]*tiendo.StationStats{}
	get := func(id string) *tiendo.StationStats {
		s := byStation[id]
		if s == nil {
			s = &tiendo.StationStats{Station: id}
			byStation[id] = s
		}
		return s
	}
	now := q.Now.Unix()
	queries := []struct {
		sql  string
		scan func(r []any)
	}{
		{"SELECT station, toInt64(sum(records)), toInt64(sum(retries)) FROM {db}.station_totals" + and() + " GROUP BY station",
			func(r []any) { s := get(r[0].(string)); s.Completed, s.Retries = r[1].(int64), r[2].(int64) }},
		{"SELECT station, toInt64(sum(records)) FROM {db}.completions_hour" +
			and(fmt.Sprintf("hour >= toDateTime(%d, 'UTC')", q.DayStart.Unix()), fmt.Sprintf("hour <= toDateTime(%d, 'UTC')", now)) +
			" GROUP BY station",
			func(r []any) { get(r[0].(string)).CompletedToday = r[1].(int64) }},
		{"SELECT station, toInt64(sum(records)) FROM {db}.completions_minute" +
			and(fmt.Sprintf("minute > toDateTime(%d, 'UTC')", now-3600), fmt.Sprintf("minute <= toDateTime(%d, 'UTC')", now)) +
			" GROUP BY station",
			func(r []any) { get(r[0].(string)).LastHour = r[1].(int64) }},
		{`SELECT station, toInt64(toUInt32(maxMerge(last_ts))), argMaxMerge(status), toInt64(argMaxMerge(queue)),
			toInt64(argMaxMerge(staff)), toInt64(argMaxMerge(lanes)), argMaxMerge(lat), argMaxMerge(lon)
			FROM {db}.station_latest` + and() + " GROUP BY station",
			func(r []any) {
				s := get(r[0].(string))
				s.HasHeartbeat = true
				s.LastSeen = time.Unix(r[1].(int64), 0).UTC()
				s.Status = tiendo.StationStatus(r[2].(string))
				s.Queue, s.Staff, s.Lanes = int(r[3].(int64)), int(r[4].(int64)), int(r[5].(int64))
				s.Lat, s.Lon = r[6].(float64), r[7].(float64)
			}},
	}
	for _, qq := range queries {
		rows, err := db.engine.Query(ctx, db.sql(qq.sql))
		if err != nil {
			return nil, fmt.Errorf("station stats: %w", err)
		}
		for _, r := range rows {
			qq.scan(r)
		}
	}
	out := make([]tiendo.StationStats, 0, len(byStation))
	for _, s := range byStation {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Station < out[j].Station })
	return out, nil
}

// HourlyCompletions sums completions_hour over the chosen stations.
func (db *DB) HourlyCompletions(ctx context.Context, q tiendo.SeriesQuery) ([]tiendo.HourCount, error) {
	conds := []string{fmt.Sprintf("hour >= toDateTime(%d, 'UTC')", q.From.Unix()), fmt.Sprintf("hour < toDateTime(%d, 'UTC')", q.To.Unix())}
	if q.Stations != nil {
		if len(q.Stations) == 0 {
			return nil, nil
		}
		conds = append(conds, "station IN ("+quoteList(q.Stations)+")")
	}
	group, station := "", "''"
	if q.ByStation {
		group, station = "station, ", "station"
	}
	rows, err := db.engine.Query(ctx, db.sql(`SELECT `+station+` AS s, toInt64(toUInt32(hour)) AS h, toInt64(sum(records)), toInt64(sum(retries))
		FROM {db}.completions_hour WHERE `+strings.Join(conds, " AND ")+" GROUP BY "+group+"h ORDER BY "+group+"h"))
	if err != nil {
		return nil, fmt.Errorf("hourly completions: %w", err)
	}
	out := make([]tiendo.HourCount, len(rows))
	for i, r := range rows {
		out[i] = tiendo.HourCount{Station: r[0].(string), Hour: time.Unix(r[1].(int64), 0).UTC(), Records: r[2].(int64), Retries: r[3].(int64)}
	}
	return out, nil
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
