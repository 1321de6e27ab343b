package storetest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"tiendo/store"
	"tiendo/store/clickhouse"
)

// RepoRoot is the module's root directory, found from this file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// ClickHouseServer is a Debian clickhouse-server started for tests.
type ClickHouseServer struct {
	Dir      string
	Port     int
	HTTPPort int
	DSN      string // tcp://127.0.0.1:PORT/
}

// StartClickHouseServer starts clickhouse-server on a free loopback port with
// the project's config (scripts/clickhouse-server.sh) and data under dir.
// It fails, never skips, when the server is not installed: make test installs it.
func StartClickHouseServer(dir string) (*ClickHouseServer, error) {
	if dsn := os.Getenv("TIENDO_TEST_CLICKHOUSE"); dsn != "" {
		return &ClickHouseServer{DSN: strings.TrimSuffix(dsn, "/") + "/"}, nil
	}
	tcp, err := freePort()
	if err != nil {
		return nil, err
	}
	http, err := freePort()
	if err != nil {
		return nil, err
	}
	script := filepath.Join(RepoRoot(), "scripts", "clickhouse-server.sh")
	cmd := exec.Command(script, "start", dir, fmt.Sprint(tcp), fmt.Sprint(http))
	cmd.Env = ownedByThisProcess()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("start clickhouse-server (install it with scripts/install-deps.sh): %v\n%s", err, out)
	}
	return &ClickHouseServer{Dir: dir, Port: tcp, HTTPPort: http, DSN: fmt.Sprintf("tcp://127.0.0.1:%d/", tcp)}, nil
}

// ownedByThisProcess is the environment of a server start that stops the
// server, and removes its directory, once this process is gone: a test
// binary killed at its timeout, or a fuzz worker that the fuzzer
// interrupts in the middle of an input (its TestMain never reaches Stop),
// left servers running after make test.
func ownedByThisProcess() []string {
	return append(os.Environ(), fmt.Sprintf("CH_OWNER_PID=%d", os.Getpid()), "CH_OWNER_TEMP=1")
}

// Stop stops a server this process started.
func (s *ClickHouseServer) Stop() error {
	if s.Dir == "" {
		return nil
	}
	script := filepath.Join(RepoRoot(), "scripts", "clickhouse-server.sh")
	out, err := exec.Command(script, "stop", s.Dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("stop clickhouse-server: %v\n%s", err, out)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// RestartClickHouseServer starts a stopped server again on the same
// directory and port, keeping its data.
func RestartClickHouseServer(s *ClickHouseServer) (*ClickHouseServer, error) {
	script := filepath.Join(RepoRoot(), "scripts", "clickhouse-server.sh")
	cmd := exec.Command(script, "start", s.Dir, fmt.Sprint(s.Port), fmt.Sprint(s.HTTPPort))
	cmd.Env = ownedByThisProcess()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("restart clickhouse-server: %v\n%s", err, out)
	}
	return s, nil
}

// MainWithClickHouseServer is a TestMain body for packages whose tests need
// a ClickHouse server: it starts one in a temporary directory, stores it in
// *srv, runs the tests, stops it, and returns the exit code.
func MainWithClickHouseServer(m interface{ Run() int }, srv **ClickHouseServer) int {
	dir, err := os.MkdirTemp("", "tiendo-ch-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if *srv, err = StartClickHouseServer(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if err := (*srv).Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	return code
}

// OpenDB opens a fresh database named after prefix on the server through
// the native protocol, with the schema migrated, and drops it when the
// test ends: the store of a test that needs a real ClickHouse beside what
// it tests (a log's flusher, a cluster's nodes).
func (s *ClickHouseServer) OpenDB(t testing.TB, prefix string) *store.DB {
	t.Helper()
	engine, _, err := clickhouse.Open(context.Background(), s.DSN)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), engine, NewDatabaseName(prefix))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = engine.Exec(context.Background(), "DROP DATABASE IF EXISTS `"+db.Database()+"`")
		db.Close()
	})
	return db
}
