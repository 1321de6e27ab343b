package store

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// A replicated ClickHouse (1 shard × N replicas on ZooKeeper or Keeper) is
// recognised by the "replica" macro of each server: its tables are then
// Replicated*MergeTree, each under /clickhouse/tables/{shard}/DB/TABLE,
// so that every row inserted on one replica reaches the others, and an
// identical block inserted again is dropped (block dedupe). The schema
// files stay those of a single server; createReplicated rewrites their
// engines.
//
// ClickHouse 18.16 replicates data and ALTERs, not CREATEs, and a replica
// created from a table's definition must match what ZooKeeper holds. So
// the migrations run in lockstep over all replicas, statement by
// statement: a CREATE on every replica, an ALTER ADD COLUMN on one
// (ZooKeeper takes it to the others, which are waited for). Each replica
// keeps its own schema_migrations (a plain MergeTree: its record of what
// ran on it). Every statement is idempotent (IF NOT EXISTS; an ADD COLUMN
// is skipped when the column exists; a backfill empties its table first),
// so a migration cut short by a crash is simply run again.

// MigrateReplicas brings every replica of one database to the current
// schema (tiendo migrate; tiendo serve with a host list). Each engine is a
// connection to one server.
func MigrateReplicas(ctx context.Context, replicas []Engine, database string) error {
	if !ValidDatabaseName(database) {
		return fmt.Errorf("migrate: invalid database name %q", database)
	}
	dbs := make([]*DB, len(replicas))
	for i, e := range replicas {
		dbs[i] = &DB{engine: e, database: database}
	}
	return migrateReplicas(ctx, dbs, 0)
}

// replicated reports whether the server has the replica macro.
func (db *DB) replicated(ctx context.Context) (bool, error) {
	rows, err := db.engine.Query(ctx, "SELECT toInt64(count()) FROM system.macros WHERE macro = 'replica'")
	if err != nil {
		return false, fmt.Errorf("read system.macros: %w", err)
	}
	return len(rows) == 1 && rows[0][0].(int64) > 0, nil
}

var createTablePattern = regexp.MustCompile(`(?s)^(CREATE TABLE IF NOT EXISTS \{db\}\.(\w+) .*\) ENGINE = )(\w*)MergeTree(\(([^)]*)\))?`)

// createReplicated turns a schema file's CREATE TABLE into its replicated
// form (any other statement is returned as it is).
func createReplicated(stmt, database string) string {
	m := createTablePattern.FindStringSubmatchIndex(stmt)
	if m == nil {
		return stmt
	}
	table, kind := stmt[m[4]:m[5]], stmt[m[6]:m[7]]
	args := fmt.Sprintf("'/clickhouse/tables/{shard}/%s/%s', '{replica}'", database, table)
	if m[10] >= 0 && strings.TrimSpace(stmt[m[10]:m[11]]) != "" {
		args += ", " + stmt[m[10]:m[11]]
	}
	return stmt[:m[3]] + "Replicated" + kind + "MergeTree(" + args + ")" + stmt[m[1]:]
}

func migrateReplicas(ctx context.Context, dbs []*DB, upTo int) error {
	applied := make([]map[int64]bool, len(dbs))
	replicated := make([]bool, len(dbs))
	for i, db := range dbs {
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
		applied[i] = map[int64]bool{}
		for _, r := range rows {
			applied[i][r[0].(int64)] = true
		}
		if replicated[i], err = db.replicated(ctx); err != nil {
			return err
		}
	}
	ms, err := migrations()
	if err != nil {
		return err
	}
	for _, m := range ms {
		if upTo > 0 && m.version > upTo {
			continue
		}
		var todo []int // the replicas that have not recorded m
		for i := range dbs {
			if !applied[i][int64(m.version)] {
				todo = append(todo, i)
			}
		}
		if len(todo) == 0 {
			continue
		}
		for _, stmt := range m.statements {
			if err := applyEverywhere(ctx, dbs, todo, replicated, stmt); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
		}
		for _, i := range todo {
			db := dbs[i]
			if err := db.engine.Insert(ctx, db.database+".schema_migrations", []string{"version", "name", "applied"},
				[][]any{{uint32(m.version), m.name, time.Now().UTC()}}); err != nil {
				return fmt.Errorf("record migration %s: %w", m.name, err)
			}
		}
	}
	return nil
}

// applyEverywhere runs one statement on the replicas in todo: an ADD COLUMN
// where the column is missing, once only for replicated tables (the others
// get it from ZooKeeper, and are waited for); anything else on each.
func applyEverywhere(ctx context.Context, dbs []*DB, todo []int, replicated []bool, stmt string) error {
	if addColumnPattern.MatchString(stmt) {
		altered := false // a replicated ALTER sent to one replica already
		for _, i := range todo {
			db := dbs[i]
			exists, err := db.columnExists(ctx, stmt)
			if err != nil {
				return err
			}
			if exists {
				continue
			}
			if replicated[i] && altered {
				if err := db.waitColumn(ctx, stmt, time.Minute); err != nil {
					return err
				}
				continue
			}
			if err := db.engine.Exec(ctx, db.sql(stmt)); err != nil {
				return err
			}
			altered = altered || replicated[i]
		}
		return nil
	}
	for _, i := range todo {
		db, q := dbs[i], stmt
		if replicated[i] {
			q = createReplicated(stmt, db.database)
		}
		if err := db.engine.Exec(ctx, db.sql(q)); err != nil {
			return err
		}
	}
	return nil
}

// waitColumn waits until the column stmt adds is on this replica.
func (db *DB) waitColumn(ctx context.Context, stmt string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		exists, err := db.columnExists(ctx, stmt)
		if err != nil || exists {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the column of %q did not reach this replica within %v", stmt, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
