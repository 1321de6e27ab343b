package ingest_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"tiendo/store"
	"tiendo/store/chdb"
	"tiendo/store/clickhouse"
	"tiendo/store/storetest"
)

// Both ClickHouse engines, real: the server this package's TestMain starts
// (Debian's clickhouse-server 18.16) and the process's one chDB session
// (26.x). Tests whose promise is about what lands in ClickHouse run on both
// through eachEngine; neither is ever faked or skipped.
var (
	chServer *storetest.ClickHouseServer
	chdbEng  *chdb.Engine
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tiendo-ingest-chdb-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if chdbEng, err = chdb.Open(dir); err != nil {
		fmt.Fprintln(os.Stderr, "chDB (set CHDB_LIB_PATH; make test installs libchdb):", err)
		os.Exit(1)
	}
	code := storetest.MainWithClickHouseServer(runAndCloseShared{m}, &chServer)
	chdbEng.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runAndCloseShared runs the tests, then drops what tests share across the
// process (the round-trip property's stores), while ClickHouse still runs.
type runAndCloseShared struct{ m *testing.M }

func (r runAndCloseShared) Run() int {
	code := r.m.Run()
	closeRoundTrip()
	return code
}

var engineNames = []string{"clickhouse-server", "chdb"}

// eachEngine runs test once per engine, as a subtest named after it, with
// an opener of fresh stores (a database of their own) on that engine.
func eachEngine(t *testing.T, test func(t *testing.T, open func(t testing.TB) *store.DB)) {
	for _, name := range engineNames {
		t.Run(name, func(t *testing.T) {
			test(t, func(t testing.TB) *store.DB {
				t.Helper()
				db, drop, err := newEngineStore(name)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(drop)
				return db
			})
		})
	}
}

// newEngineStore opens a store in a new database on the named engine, and
// returns a function that drops the database.
func newEngineStore(engine string) (*store.DB, func(), error) {
	ctx := context.Background()
	name := storetest.NewDatabaseName("ingest")
	switch engine {
	case "clickhouse-server":
		eng, _, err := clickhouse.Open(ctx, chServer.DSN)
		if err != nil {
			return nil, nil, err
		}
		db, err := store.Open(ctx, eng, name)
		if err != nil {
			eng.Close()
			return nil, nil, err
		}
		return db, func() {
			_ = eng.Exec(ctx, "DROP DATABASE IF EXISTS `"+name+"`")
			db.Close()
		}, nil
	case "chdb":
		db, err := store.Open(ctx, chdbEng, name)
		if err != nil {
			return nil, nil, err
		}
		// Not db.Close: the session is the process's, shared by every test.
		return db, func() { _ = chdbEng.Exec(ctx, "DROP DATABASE IF EXISTS `"+name+"`") }, nil
	}
	return nil, nil, fmt.Errorf("no engine %q", engine)
}
