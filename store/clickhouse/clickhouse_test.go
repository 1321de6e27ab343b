package clickhouse_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"tiendo/store"
	"tiendo/store/clickhouse"
	"tiendo/store/storetest"
)

var server *storetest.ClickHouseServer

func TestMain(m *testing.M) { os.Exit(storetest.MainWithClickHouseServer(m, &server)) }

// Open connects a new store in a fresh database on the test server.
func Open(t *testing.T) *store.DB {
	t.Helper()
	engine, _, err := clickhouse.Open(context.Background(), server.DSN)
	if err != nil {
		t.Fatal(err)
	}
	name := storetest.NewDatabaseName("t")
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

func TestContract(t *testing.T) { storetest.Run(t, Open) }

func TestServerVersion(t *testing.T) {
	v, err := Open(t).Version(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("clickhouse-server %s", v)
}

func TestOpenRejectsHTTP(t *testing.T) {
	if _, _, err := clickhouse.Open(context.Background(), "http://127.0.0.1:8123/x"); err == nil {
		t.Fatal("Open accepted an HTTP DSN; 18.16 rejects clickhouse-go's HTTP settings, so only native is supported")
	}
}

func TestUnreachableIsUnavailable(t *testing.T) {
	_, _, err := clickhouse.Open(context.Background(), "tcp://127.0.0.1:1/x")
	if err == nil {
		t.Fatal("Open on a closed port succeeded")
	}
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("error %v does not wrap store.ErrUnavailable", err)
	}
}
