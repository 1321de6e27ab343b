package static

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// TestBrowser builds the real binary and runs the browser tests in
// static/e2e/ (node's test runner driving Debian's Chromium through
// playwright-core). Each test file starts its own `tiendo serve` on the
// embedded engine. Screenshots go to test-artifacts/. The test needs what
// scripts/install-deps.sh installs, and fails (rather than skips) without it.
func TestBrowser(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root not found from %s: %v", root, err)
	}
	for _, need := range []struct{ path, what string }{
		{"/usr/bin/chromium", "Debian's chromium"},
		{filepath.Join(root, "node_modules/playwright-core/package.json"), "npm playwright-core"},
	} {
		if _, err := os.Stat(need.path); err != nil {
			t.Fatalf("%s is missing (%s): run scripts/install-deps.sh", need.what, need.path)
		}
	}
	if !HasECharts() {
		t.Fatal("ECharts not installed: run scripts/install-deps.sh, which copies it to static/vendor/, then rerun")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not on PATH: install Node ≥ 20")
	}
	files, err := filepath.Glob(filepath.Join(root, "static/e2e/*.test.mjs"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no browser tests in static/e2e/ (%v)", err)
	}
	sort.Strings(files)

	// The suite's budget is go test's -timeout (make test gives 30 min),
	// less a minute to print what ran: a slower machine than this one (CI's,
	// with the other packages' race tests beside it) takes longer than its
	// usual 9 min, and a fixed budget of its own killed it there at 12 min
	// with three files to go, every test passing.
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if deadline, ok := t.Deadline(); ok {
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-time.Minute))
	}
	defer cancel()

	bin := filepath.Join(t.TempDir(), "tiendo")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/tiendo")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/tiendo: %v\n%s", err, out)
	}

	artifacts := filepath.Join(root, "test-artifacts")
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "TIENDO_BIN="+bin, "TIENDO_ARTIFACTS="+artifacts)
	if os.Getenv("CHDB_LIB_PATH") == "" {
		env = append(env, "CHDB_LIB_PATH="+filepath.Join(root, "node_modules/@chdb/lib-linux-x64-gnu/libchdb.so"))
	}
	// One file at a time: each starts a server with an embedded ClickHouse
	// and a browser, and the timing checks (an update within 3 s) should
	// not compete with the others for the machine.
	args := append([]string{"--test", "--test-concurrency=1", "--test-reporter=spec"}, files...)
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = root
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 10 * time.Second
	err = cmd.Run()
	if err != nil {
		t.Fatalf("node --test static/e2e/: %v\n%s", err, out.String())
	}
	t.Logf("node --test static/e2e/:\n%s", out.String())
	t.Logf("screenshots in %s", artifacts)
}
