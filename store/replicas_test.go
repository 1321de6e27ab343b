package store

import (
	"strings"
	"testing"
)

// Every table of the schema files becomes a replicated table under its own
// ZooKeeper path, its engine's arguments kept; views and ALTERs are left.
func TestCreateReplicated(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	tables := 0
	for _, m := range ms {
		for _, stmt := range m.statements {
			got := createReplicated(stmt, "tiendo")
			if !strings.HasPrefix(stmt, "CREATE TABLE") {
				if got != stmt {
					t.Errorf("%s: %.60q… rewritten", m.name, stmt)
				}
				continue
			}
			tables++
			name := strings.Fields(stmt)[5][len("{db}."):]
			path := "('/clickhouse/tables/{shard}/tiendo/" + name + "', '{replica}'"
			if !strings.Contains(got, "ENGINE = Replicated") || !strings.Contains(got, path) {
				t.Errorf("%s: table %s: %s", m.name, name, got)
			}
			if strings.Contains(stmt, "ReplacingMergeTree(ts)") && !strings.Contains(got, path+", ts)") {
				t.Errorf("%s: table %s lost its version column: %s", m.name, name, got)
			}
		}
	}
	if tables < 10 {
		t.Errorf("%d tables rewritten; the schema has more", tables)
	}
	q := "CREATE TABLE IF NOT EXISTS {db}.x (a UInt8) ENGINE = SummingMergeTree ORDER BY a"
	if got, want := createReplicated(q, "db1"), "CREATE TABLE IF NOT EXISTS {db}.x (a UInt8) ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/db1/x', '{replica}') ORDER BY a"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
