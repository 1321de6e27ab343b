// Package chdb is the store's embedded engine: ClickHouse running inside the
// tiendo process through chDB (github.com/chdb-io/chdb-go, which loads
// libchdb.so at start; CHDB_LIB_PATH points at it). It is the default of
// `tiendo serve`. chDB allows one session per process, so an Engine owns it.
package chdb

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	chdbgo "github.com/chdb-io/chdb-go/chdb"

	"tiendo/store"
)

// Engine is the process's chDB session. Queries are serialised: the session
// is one connection.
type Engine struct {
	mu      sync.Mutex
	session *chdbgo.Session
	path    string
}

var _ store.Engine = (*Engine)(nil)

var (
	openMu   sync.Mutex
	openPath string
)

// Open starts chDB with its files under dir. A process can hold one
// session only; opening a second directory is an error.
func Open(dir string) (*Engine, error) {
	openMu.Lock()
	defer openMu.Unlock()
	if openPath != "" && openPath != dir {
		return nil, fmt.Errorf("open chdb %s: this process already runs chdb on %s", dir, openPath)
	}
	s, err := chdbgo.NewSession(dir)
	if err != nil {
		return nil, fmt.Errorf("open chdb %s: %w", dir, err)
	}
	openPath = dir
	return &Engine{session: s, path: dir}, nil
}

func (e *Engine) run(ctx context.Context, query, format string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.session == nil {
		return nil, fmt.Errorf("chdb: %w: engine closed", store.ErrUnavailable)
	}
	res, err := e.session.Query(query, format)
	if err != nil {
		return nil, fmt.Errorf("chdb: %w", err)
	}
	if res == nil {
		return nil, nil
	}
	defer res.Free()
	if err := res.Error(); err != nil {
		return nil, fmt.Errorf("chdb: %w", err)
	}
	return bytes.Clone(res.Buf()), nil
}

// Exec runs one statement.
func (e *Engine) Exec(ctx context.Context, query string) error {
	_, err := e.run(ctx, query, "CSV")
	return err
}

// Query runs a SELECT and converts the values by their ClickHouse types to
// int64, float64 or string. Results come as TabSeparatedWithNamesAndTypes:
// chDB writes it faster than JSON and it is read here with a split and a
// few escapes, where JSONCompact took a JSON decode of every value (a chart
// over a year is thousands of rows, and chDB runs one query at a time).
func (e *Engine) Query(ctx context.Context, query string) ([][]any, error) {
	out, err := e.run(ctx, query, "TabSeparatedWithNamesAndTypes")
	if err != nil || len(out) == 0 {
		return nil, err
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) < 2 {
		return nil, fmt.Errorf("chdb: result without its names and types: %.200q", out)
	}
	names, types := strings.Split(lines[0], "\t"), strings.Split(lines[1], "\t")
	rows := make([][]any, 0, len(lines)-2)
	for _, line := range lines[2:] {
		fields := strings.Split(line, "\t")
		if len(fields) != len(types) {
			return nil, fmt.Errorf("chdb: a result row has %d values for %d columns", len(fields), len(types))
		}
		row := make([]any, len(fields))
		for j, f := range fields {
			if row[j], err = decodeValue(types[j], f); err != nil {
				return nil, fmt.Errorf("chdb: column %s: %w", names[j], err)
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// decodeValue reads one TabSeparated value of type typ.
func decodeValue(typ, field string) (any, error) {
	// The store's queries never select NULLs on purpose; a NULL from a
	// Nullable column (\N) decodes as its type's zero value.
	if inner, ok := strings.CutPrefix(typ, "Nullable("); ok {
		typ = strings.TrimSuffix(inner, ")")
		if field == `\N` {
			field = "0"
			if !strings.Contains(typ, "Int") && !strings.HasPrefix(typ, "Float") {
				field = ""
			}
		}
	}
	switch {
	case strings.HasPrefix(typ, "Int"):
		return strconv.ParseInt(field, 10, 64)
	case strings.HasPrefix(typ, "UInt"):
		u, err := strconv.ParseUint(field, 10, 64)
		return int64(u), err
	case strings.HasPrefix(typ, "Float"):
		switch field {
		case "nan", "-nan":
			return math.NaN(), nil
		case "inf", "+inf":
			return math.Inf(1), nil
		case "-inf":
			return math.Inf(-1), nil
		}
		return strconv.ParseFloat(field, 64)
	case strings.HasPrefix(typ, "DateTime"):
		t, err := time.ParseInLocation(time.DateTime, field, time.UTC)
		return t.Unix(), err
	default:
		return unescapeTSV(field), nil
	}
}

// unescapeTSV undoes TabSeparated's escaping (appendTSVString's inverse,
// plus the \' and \a, \v ClickHouse may also write).
func unescapeTSV(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b = append(b, c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			c = '\t'
		case 'n':
			c = '\n'
		case 'r':
			c = '\r'
		case '0':
			c = 0
		case 'b':
			c = '\b'
		case 'f':
			c = '\f'
		case 'a':
			c = '\a'
		case 'v':
			c = '\v'
		default: // \\, \', and anything else: the character itself
			c = s[i]
		}
		b = append(b, c)
	}
	return string(b)
}

// Insert sends rows as TabSeparated inline data: one query, one block.
// TSV is written by hand and is ClickHouse's cheapest text format to parse;
// the JSONEachRow it replaced (encoding/json over a map per row) was a
// quarter of the server's CPU at peak ingest on this engine.
func (e *Engine) Insert(ctx context.Context, table string, columns []string, rows [][]any) error {
	b := make([]byte, 0, 64+len(rows)*len(columns)*12)
	b = fmt.Appendf(b, "INSERT INTO %s (%s) FORMAT TabSeparated\n", table, strings.Join(columns, ", "))
	for _, r := range rows {
		if len(r) != len(columns) {
			return fmt.Errorf("chdb insert: row has %d values for %d columns", len(r), len(columns))
		}
		for i, v := range r {
			if i > 0 {
				b = append(b, '\t')
			}
			var err error
			if b, err = appendTSV(b, v); err != nil {
				return fmt.Errorf("chdb insert: column %s: %w", columns[i], err)
			}
		}
		b = append(b, '\n')
	}
	return e.Exec(ctx, string(b))
}

// appendTSV writes one value in ClickHouse's TabSeparated escaping. Times
// go as Unix seconds, which every DateTime column reads in any time zone.
func appendTSV(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		return appendTSVString(b, v), nil
	case time.Time:
		return strconv.AppendInt(b, v.Unix(), 10), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case int32:
		return strconv.AppendInt(b, int64(v), 10), nil
	case uint8:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint16:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint64:
		return strconv.AppendUint(b, v, 10), nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return b, fmt.Errorf("value %v is not a finite number", v)
		}
		return strconv.AppendFloat(b, v, 'g', -1, 64), nil
	case bool:
		if v {
			return append(b, '1'), nil
		}
		return append(b, '0'), nil
	default:
		return b, fmt.Errorf("cannot write a %T", v)
	}
}

// appendTSVString escapes what TabSeparated gives a meaning to: the
// separators, backslash and the control characters it names.
func appendTSVString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, '\\', '\\')
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case 0:
			b = append(b, '\\', '0')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		default:
			b = append(b, c)
		}
	}
	return b
}

// Close ends the session. chDB cannot be reopened on another directory
// within the same process.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.session != nil {
		e.session.Close()
		e.session = nil
	}
	return nil
}
