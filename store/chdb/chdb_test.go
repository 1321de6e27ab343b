package chdb_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"testing"
	"time"

	"tiendo/store"
	"tiendo/store/chdb"
	"tiendo/store/storetest"
)

// engine is the process's one chDB session; each test gets its own database in it.
var engine *chdb.Engine

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tiendo-chdb-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	engine, err = chdb.Open(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	engine.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

func Open(t *testing.T) *store.DB {
	t.Helper()
	name := storetest.NewDatabaseName("t")
	db, err := store.Open(context.Background(), engine, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = engine.Exec(context.Background(), "DROP DATABASE IF EXISTS `"+name+"`") })
	return db
}

func TestContract(t *testing.T) { storetest.Run(t, Open) }

func TestVersionIsEmbedded26(t *testing.T) {
	v, err := Open(t).Version(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(v) < 3 || v[:3] != "26." {
		t.Fatalf("chDB version %q, want the pinned 26.x", v)
	}
}

func TestSecondDirectoryRefused(t *testing.T) {
	if _, err := chdb.Open(t.TempDir()); err == nil {
		t.Fatal("opened a second chDB directory in one process")
	}
}

// Insert writes TabSeparated by hand: every value must come back as given,
// separators, backslashes, control characters and non-ASCII included.
func TestInsertRoundTrip(t *testing.T) {
	ctx := context.Background()
	name := storetest.NewDatabaseName("tsv")
	for _, q := range []string{
		"CREATE DATABASE `" + name + "`",
		"CREATE TABLE `" + name + "`.t (s String, ts DateTime('UTC'), f Float64, u8 UInt8, u32 UInt32, i Int64) ENGINE = MergeTree ORDER BY s",
	} {
		if err := engine.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = engine.Exec(ctx, "DROP DATABASE IF EXISTS `"+name+"`") })
	strs := []string{"plain", "tab\there", "new\nline", `back\slash`, "cr\rlf", "nul\x00byte", "\\N", "quote'\"", "Lạng Sơn – Chi Lăng", "\b\f", ""}
	ts := time.Date(2021, 3, 20, 14, 15, 3, 0, time.UTC)
	var rows [][]any
	for i, s := range strs {
		rows = append(rows, []any{s, ts.Add(time.Duration(i) * time.Hour), float64(i) + 0.125, uint8(i), uint32(i * 1000), int64(-i)})
	}
	if err := engine.Insert(ctx, "`"+name+"`.t", []string{"s", "ts", "f", "u8", "u32", "i"}, rows); err != nil {
		t.Fatal(err)
	}
	got, err := engine.Query(ctx, "SELECT s, toInt64(toUnixTimestamp(ts)), f, toInt64(u8), toInt64(u32), i FROM `"+name+"`.t")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(strs) {
		t.Fatalf("%d rows back, want %d", len(got), len(strs))
	}
	byString := map[string][]any{}
	for _, r := range got {
		byString[fmt.Sprint(r[0])] = r
	}
	for i, s := range strs {
		r, ok := byString[s]
		if !ok {
			t.Errorf("string %q did not come back", s)
			continue
		}
		want := fmt.Sprint([]any{s, ts.Add(time.Duration(i) * time.Hour).Unix(), float64(i) + 0.125, i, i * 1000, -i})
		if fmt.Sprint(r) != want {
			t.Errorf("row %d = %v, want %v", i, r, want)
		}
	}
	if err := engine.Insert(ctx, "`"+name+"`.t", []string{"s", "f"}, [][]any{{"x", math.NaN()}}); err == nil {
		t.Error("a NaN was written; want an error naming the column")
	}
}

// BenchmarkQueryRows reads a year chart's worth of rows (5,469 × 3) through
// Query: chDB's formatting plus the engine's parsing of the result.
func BenchmarkQueryRows(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		rows, err := engine.Query(ctx, "SELECT toInt64(number), toInt64(number), toFloat64(number) FROM system.numbers LIMIT 5469")
		if err != nil || len(rows) != 5469 {
			b.Fatalf("%d rows, %v", len(rows), err)
		}
	}
}
