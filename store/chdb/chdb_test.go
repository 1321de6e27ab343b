package chdb_test

import (
	"context"
	"fmt"
	"os"
	"testing"

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
