// Package clickhouse is the store's engine for a ClickHouse server, spoken to
// over the native protocol with clickhouse-go's batch API. It is the
// production path; the SQL it runs is store's, shared with the embedded engine.
package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"tiendo/store"
)

// Engine is a connection pool to one ClickHouse server.
type Engine struct {
	conn driver.Conn
}

var _ store.Engine = (*Engine)(nil)

// RedactDSN is dsn fit for logs and errors: its password, whether in the
// user-info or a password= parameter, replaced by "xxxxx".
func RedactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparseable dsn)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Open connects to the server named by dsn (tcp://HOST:PORT/DB) and returns
// the engine and the database named in the DSN ("tiendo" when none).
func Open(ctx context.Context, dsn string) (*Engine, string, error) {
	opts, err := ch.ParseDSN(dsn)
	if err != nil {
		// The parser's message may quote the DSN, password and all.
		return nil, "", fmt.Errorf("parse clickhouse dsn %q: %s", RedactDSN(dsn), strings.ReplaceAll(err.Error(), dsn, RedactDSN(dsn)))
	}
	if opts.Protocol != ch.Native {
		return nil, "", fmt.Errorf("clickhouse dsn %q: only the native protocol (tcp://HOST:9000/DB) works with every supported server version", RedactDSN(dsn))
	}
	database := opts.Auth.Database
	if database == "" || database == "default" {
		database = "tiendo"
	}
	// Connect to "default": the store's database may not exist yet, and
	// every query names its database explicitly anyway.
	opts.Auth.Database = "default"
	if opts.DialTimeout == 0 {
		opts.DialTimeout = 5 * time.Second
	}
	if opts.ReadTimeout == 0 {
		opts.ReadTimeout = 60 * time.Second
	}
	conn, err := ch.Open(opts)
	if err != nil {
		return nil, "", fmt.Errorf("open clickhouse: %w", err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, "", fmt.Errorf("ping clickhouse: %w", wrap(err))
	}
	return &Engine{conn: conn}, database, nil
}

// Concurrent reports that queries may run side by side: clickhouse-go keeps
// a pool of connections, and the server gives each query its own threads.
func (e *Engine) Concurrent() bool { return true }

// Exec runs one statement.
func (e *Engine) Exec(ctx context.Context, query string) error {
	return wrap(e.conn.Exec(ctx, query))
}

// Query runs a SELECT and converts every value to int64, float64 or string.
func (e *Engine) Query(ctx context.Context, query string) ([][]any, error) {
	rows, err := e.conn.Query(ctx, query)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	// One set of scan targets serves every row: canonical copies each value
	// out, and a year's hourly chart is thousands of rows.
	dest := make([]any, len(types))
	for i, t := range types {
		dest[i] = reflect.New(t.ScanType()).Interface()
	}
	var out [][]any
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("scan: %w", err)
		}
		row := make([]any, len(dest))
		for i, d := range dest {
			v, err := canonical(reflect.ValueOf(d).Elem().Interface())
			if err != nil {
				return nil, fmt.Errorf("column %s: %w", types[i].Name(), err)
			}
			row[i] = v
		}
		out = append(out, row)
	}
	return out, wrap(rows.Err())
}

func canonical(v any) (any, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int8:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint64:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case float64:
		return x, nil
	case time.Time:
		return x.Unix(), nil
	}
	return nil, fmt.Errorf("unsupported value type %T", v)
}

// Insert sends rows as one native-protocol block. A batch is rebuilt on every
// call: clickhouse-go marks a batch sent even when Send fails, so reusing one
// after an error would silently send nothing.
func (e *Engine) Insert(ctx context.Context, table string, columns []string, rows [][]any) error {
	batch, err := e.conn.PrepareBatch(ctx, fmt.Sprintf("INSERT INTO %s (%s)", table, strings.Join(columns, ", ")))
	if err != nil {
		return wrap(err)
	}
	for _, r := range rows {
		if err := batch.Append(r...); err != nil {
			_ = batch.Abort()
			return fmt.Errorf("append row: %w", err)
		}
	}
	return wrap(batch.Send())
}

// Close closes the pool.
func (e *Engine) Close() error { return e.conn.Close() }

// wrap marks network failures as store.ErrUnavailable so that ingest answers
// 503 with Retry-After instead of 500.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	var netErr net.Error
	var opErr *net.OpError
	if errors.As(err, &netErr) || errors.As(err, &opErr) ||
		errors.Is(err, ch.ErrAcquireConnTimeout) || strings.Contains(err.Error(), "connection refused") ||
		strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "broken pipe") {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

// Hosts splits a DSN that lists several servers (tcp://R1:9000,R2:9000/DB,
// the replicas of a replicated ClickHouse) into one DSN per server, in
// order; a DSN naming one server comes back as it is.
func Hosts(dsn string) ([]string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse clickhouse dsn %q: %v", RedactDSN(dsn), err)
	}
	var out []string
	for _, h := range strings.Split(u.Host, ",") {
		if h = strings.TrimSpace(h); h == "" {
			return nil, fmt.Errorf("clickhouse dsn %q: an empty host in the list", RedactDSN(dsn))
		}
		one := *u
		one.Host = h
		out = append(out, one.String())
	}
	return out, nil
}
