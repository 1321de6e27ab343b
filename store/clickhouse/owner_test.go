package clickhouse_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tiendo/store/storetest"
)

// A test's server goes with the process that started it: killed with
// SIGKILL (no TestMain cleanup runs), the owner leaves no clickhouse-server
// running and no directory behind. Fuzz workers interrupted mid-input left
// servers running after make test before the watchdog.
func TestServerStopsWhenItsOwnerIsKilled(t *testing.T) {
	owner := exec.Command("sleep", "600")
	if err := owner.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = owner.Process.Kill(); _, _ = owner.Process.Wait() })
	dir := filepath.Join(t.TempDir(), "ch")
	var ports [2]int // native and HTTP: held together while picked, so they differ
	var held []net.Listener
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, l)
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	for _, l := range held {
		l.Close()
	}
	script := filepath.Join(storetest.RepoRoot(), "scripts", "clickhouse-server.sh")
	start := exec.Command(script, "start", dir, fmt.Sprint(ports[0]), fmt.Sprint(ports[1]))
	start.Env = append(os.Environ(), fmt.Sprintf("CH_OWNER_PID=%d", owner.Process.Pid), "CH_OWNER_TEMP=1")
	if out, err := start.CombinedOutput(); err != nil {
		t.Fatalf("start: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command(script, "stop", dir).Run() })
	pid, err := os.ReadFile(filepath.Join(dir, "clickhouse.pid"))
	if err != nil {
		t.Fatal(err)
	}
	server := strings.TrimSpace(string(pid))

	time.Sleep(2 * time.Second) // the watchdog's first checks see the owner alive
	if !alive(server) {
		t.Fatal("the server stopped while its owner was alive")
	}
	if err := owner.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_, _ = owner.Process.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for alive(server) {
		if time.Now().After(deadline) {
			t.Fatalf("clickhouse-server (pid %s) still runs 30 s after its owner was killed", server)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for {
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is still there after its owner was killed", dir)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// alive says whether process pid runs (and is no zombie).
func alive(pid string) bool {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] != "Z"
}
