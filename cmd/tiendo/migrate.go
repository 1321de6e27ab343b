package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"tiendo/store"
	"tiendo/store/clickhouse"
)

// migrateReplicas brings every server a ClickHouse DSN lists (the replicas
// of a replicated ClickHouse: tcp://R1:9000,R2:9000/DB) to the current
// schema in lockstep (store.MigrateReplicas). A DSN naming one server is
// left to store.Open, which migrates it. It returns the number of servers.
func migrateReplicas(ctx context.Context, dsn string) (int, error) {
	if dsn == "" {
		return 0, nil // the embedded engine
	}
	hosts, err := clickhouse.Hosts(dsn)
	if err != nil || len(hosts) < 2 {
		return len(hosts), err
	}
	var engines []store.Engine
	defer func() {
		for _, e := range engines {
			e.Close()
		}
	}()
	database := ""
	for _, h := range hosts {
		e, db, err := clickhouse.Open(ctx, h)
		if err != nil {
			return len(hosts), fmt.Errorf("replica %s: %w", clickhouse.RedactDSN(h), err)
		}
		engines, database = append(engines, e), db
	}
	return len(hosts), store.MigrateReplicas(ctx, engines, database)
}

// runMigrate is tiendo migrate: the schema step of an upgrade, run once
// for a cluster before its nodes start (tiendo serve migrates too, under
// the cluster's lock, so forgetting it is safe).
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("clickhouse", os.Getenv("TIENDO_CLICKHOUSE"), "the ClickHouse server, or every replica: tcp://R1:9000,R2:9000/DB")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *dsn == "" {
		return usageError{"migrate: --clickhouse is required (the embedded engine migrates when tiendo serve opens it)"}
	}
	began := time.Now()
	n, err := migrateReplicas(ctx, *dsn)
	if err == nil && n == 1 {
		var e *clickhouse.Engine
		var database string
		if e, database, err = clickhouse.Open(ctx, *dsn); err == nil {
			var db *store.DB
			if db, err = store.Open(ctx, e, database); err == nil {
				db.Close()
			} else {
				e.Close()
			}
		}
	}
	if err != nil {
		return errors.Join(errors.New("migrate"), err)
	}
	fmt.Fprintf(stdout, "schema up to date on %d ClickHouse server(s) of %s in %v\n", n, clickhouse.RedactDSN(*dsn), time.Since(began).Round(time.Millisecond))
	return nil
}
