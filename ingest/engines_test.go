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
	code := storetest.MainWithClickHouseServer(m, &chServer)
	chdbEng.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// engineOpeners open a fresh store in a database of its own on each engine.
var engineOpeners = []struct {
	name string
	open func(t testing.TB) *store.DB
}{
	{"clickhouse-server", openServerStore},
	{"chdb", openChDBStore},
}

// eachEngine runs test once per engine, as a subtest named after it.
func eachEngine(t *testing.T, test func(t *testing.T, open func(t testing.TB) *store.DB)) {
	for _, e := range engineOpeners {
		t.Run(e.name, func(t *testing.T) { test(t, e.open) })
	}
}

func openServerStore(t testing.TB) *store.DB {
	t.Helper()
	engine, _, err := clickhouse.Open(context.Background(), chServer.DSN)
	if err != nil {
		t.Fatal(err)
	}
	name := storetest.NewDatabaseName("ingest")
	db, err := store.Open(context.Background(), engine, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = engine.Exec(context.Background(), "DROP DATABASE IF EXISTS `"+name+"`")
		db.Close()
	})
	return db
}

func openChDBStore(t testing.TB) *store.DB {
	t.Helper()
	name := storetest.NewDatabaseName("ingest")
	db, err := store.Open(context.Background(), chdbEng, name)
	if err != nil {
		t.Fatal(err)
	}
	// Not db.Close: the session is the process's, shared by every test.
	t.Cleanup(func() { _ = chdbEng.Exec(context.Background(), "DROP DATABASE IF EXISTS `"+name+"`") })
	return db
}
