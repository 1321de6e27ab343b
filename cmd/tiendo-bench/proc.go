package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Everything this program starts is registered here and stopped by
// cleanupAll, also when a run fails or is interrupted.
var (
	cleanupMu sync.Mutex
	cleanups  []func()
)

func atCleanup(f func()) {
	cleanupMu.Lock()
	cleanups = append(cleanups, f)
	cleanupMu.Unlock()
}

func cleanupAll() {
	cleanupMu.Lock()
	fs := cleanups
	cleanups = nil
	cleanupMu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

// raiseNoFile lifts the open-files limit (make bench also runs ulimit -n);
// children inherit it.
func raiseNoFile() uint64 {
	var r syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r) != nil {
		return 0
	}
	want := uint64(65536)
	if r.Cur < want {
		r.Cur = min(want, r.Max)
		if r.Max < want && os.Geteuid() == 0 {
			r.Cur, r.Max = want, want
		}
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r)
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r)
	}
	return r.Cur
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// proc is a child process in its own process group.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	once sync.Once
}

func startProc(name string, logPath string, env []string, bin string, args ...string) (*proc, error) {
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = append(os.Environ(), env...)
	if logPath != "" {
		f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		cmd.Stdout, cmd.Stderr = f, f
		defer f.Close()
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	atCleanup(func() { p.stop(10 * time.Second) })
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process group, waits up to grace, then SIGKILL.
func (p *proc) stop(grace time.Duration) {
	p.once.Do(func() {
		pgid := p.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.done
		}
		// Anything left in the group (there should be nothing).
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	})
}

// server is a running `tiendo serve`.
type server struct {
	*proc
	url     string
	data    string
	dsn     string
	admin   string
	started time.Time
	client  *http.Client
}

type serveOpts struct {
	bin   string
	data  string
	dsn   string // empty: embedded chDB
	extra []string
	env   []string // added to the server's environment
}

// startServer execs tiendo serve and waits for /healthz.
func startServer(ctx context.Context, o serveOpts) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "--data", o.data, "--addr", fmt.Sprintf("127.0.0.1:%d", port)}
	if o.dsn != "" {
		args = append(args, "--clickhouse", o.dsn)
	}
	args = append(args, o.extra...)
	if err := os.MkdirAll(o.data, 0o750); err != nil {
		return nil, err
	}
	started := time.Now()
	p, err := startProc("tiendo serve", filepath.Join(o.data, "serve.log"), o.env, o.bin, args...)
	if err != nil {
		return nil, err
	}
	s := &server{proc: p, url: fmt.Sprintf("http://127.0.0.1:%d", port), data: o.data, dsn: o.dsn, started: started,
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if p.exited() {
			return nil, fmt.Errorf("tiendo serve exited at start: %v (log %s)", p.err, filepath.Join(o.data, "serve.log"))
		}
		if resp, err := s.client.Get(s.url + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			p.stop(5 * time.Second)
			return nil, fmt.Errorf("tiendo serve did not answer /healthz within 3 min")
		}
		time.Sleep(10 * time.Millisecond)
	}
	b, err := os.ReadFile(filepath.Join(o.data, "admin.token"))
	if err != nil {
		p.stop(5 * time.Second)
		return nil, err
	}
	s.admin = strings.TrimSpace(string(b))
	return s, nil
}

// get does an authenticated GET (reads will need a token; the admin's works).
func (s *server) get(ctx context.Context, path string) ([]byte, int, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+s.admin)
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return b, resp.StatusCode, err
}

func (s *server) issueToken(ctx context.Context, station string) (string, error) {
	return s.postToken(ctx, `{"station":"`+station+`"}`)
}

func (s *server) issueRoleToken(ctx context.Context, role string) (string, error) {
	return s.postToken(ctx, `{"role":"`+role+`"}`)
}

func (s *server) postToken(ctx context.Context, body string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.url+"/api/v1/admin/tokens", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.admin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		return "", fmt.Errorf("issue token %s: status %d %v", body, resp.StatusCode, err)
	}
	return out.Token, nil
}

// metrics reads the unlabelled series of /metrics.
func (s *server) metrics(ctx context.Context) (map[string]float64, error) {
	b, code, err := s.get(ctx, "/metrics")
	if err != nil {
		return nil, err
	}
	if code != 200 {
		return nil, fmt.Errorf("/metrics: status %d", code)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		if f := strings.Fields(line); len(f) == 2 {
			if v, err := strconv.ParseFloat(f[1], 64); err == nil {
				out[f[0]] = v
			}
		}
	}
	return out, nil
}

func (s *server) metric(ctx context.Context, name string) (float64, error) {
	m, err := s.metrics(ctx)
	if err != nil {
		return 0, err
	}
	v, ok := m[name]
	if !ok {
		return 0, fmt.Errorf("metric %s not exported", name)
	}
	return v, nil
}

type snapshotHead struct {
	Seq    uint64 `json:"seq"`
	Totals struct {
		Completed int64 `json:"completed"`
	} `json:"totals"`
	Storage struct {
		State   string `json:"state"`
		Pending int64  `json:"pending"`
	} `json:"storage"`
}

func (s *server) snapshot(ctx context.Context) (snapshotHead, error) {
	var h snapshotHead
	b, code, err := s.get(ctx, "/api/v1/snapshot?scope=province")
	if err != nil {
		return h, err
	}
	if code != 200 {
		return h, fmt.Errorf("snapshot: status %d: %.200s", code, b)
	}
	return h, json.Unmarshal(b, &h)
}

// waitSpoolEmpty polls the spool gauge until every accepted event is in
// ClickHouse and returns when it saw it empty.
func (s *server) waitSpoolEmpty(ctx context.Context, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	for {
		v, err := s.metric(ctx, "tiendo_spool_events")
		if err == nil && v == 0 {
			return time.Now(), nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("spool not empty after %v (%v events, err %v)", timeout, v, err)
		}
		if ctx.Err() != nil {
			return time.Time{}, ctx.Err()
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// --- /proc ---

func rssKB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				return strconv.ParseInt(f[1], 10, 64)
			}
		}
	}
	return 0, errors.New("no VmRSS")
}

// cpuSeconds is user+system CPU time of a process (clock ticks at 100 Hz).
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	// fields after ")": state(0) ppid(1) ... utime(11) stime(12)
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (u + st) / 100
}

func selfCPU() float64 { return cpuSeconds(os.Getpid()) }

// clickhouseServer is a clickhouse-server started by scripts/clickhouse-server.sh.
type clickhouseServer struct {
	dir       string
	tcp, http int
	script    string
}

func startClickHouse(repo, dir string) (*clickhouseServer, error) {
	tcp, err := freePort()
	if err != nil {
		return nil, err
	}
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	c := &clickhouseServer{dir: dir, tcp: tcp, http: httpPort, script: filepath.Join(repo, "scripts", "clickhouse-server.sh")}
	out, err := exec.Command(c.script, "start", dir, strconv.Itoa(tcp), strconv.Itoa(httpPort)).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("start clickhouse-server: %v\n%s", err, out)
	}
	atCleanup(c.stop)
	return c, nil
}

func (c *clickhouseServer) stop() {
	_ = exec.Command(c.script, "stop", c.dir).Run()
}

func (c *clickhouseServer) pid() int {
	b, _ := os.ReadFile(filepath.Join(c.dir, "clickhouse.pid"))
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

func (c *clickhouseServer) dsn(db string) string {
	return fmt.Sprintf("tcp://127.0.0.1:%d/%s", c.tcp, db)
}

// client runs clickhouse-client with a query, stdin and stdout as given.
func (c *clickhouseServer) client(ctx context.Context, query string, stdin io.Reader, stdout io.Writer, extra ...string) error {
	args := append([]string{"--host", "127.0.0.1", "--port", strconv.Itoa(c.tcp), "--query", query}, extra...)
	cmd := exec.CommandContext(ctx, "clickhouse-client", args...)
	cmd.Stdin, cmd.Stdout = stdin, stdout
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("clickhouse-client %q: %v: %s", query, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// scalar runs a query that returns one value.
func (c *clickhouseServer) scalar(ctx context.Context, query string) (string, error) {
	var out bytes.Buffer
	if err := c.client(ctx, query, nil, &out); err != nil {
		return "", err
	}
	return strings.TrimSpace(out.String()), nil
}

// timedClient runs clickhouse-client --time and returns the query time the
// client reports (its own start-up excluded) and the wall time.
func (c *clickhouseServer) timedClient(ctx context.Context, query string, stdin io.Reader) (queryTime, wall time.Duration, err error) {
	args := []string{"--host", "127.0.0.1", "--port", strconv.Itoa(c.tcp), "--time", "--query", query}
	cmd := exec.CommandContext(ctx, "clickhouse-client", args...)
	cmd.Stdin = stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, 0, fmt.Errorf("clickhouse-client %q: %v: %s", query, err, strings.TrimSpace(stderr.String()))
	}
	wall = time.Since(t0)
	f := strings.Fields(stderr.String())
	if len(f) == 0 {
		return 0, wall, fmt.Errorf("clickhouse-client --time printed nothing")
	}
	secs, err := strconv.ParseFloat(f[len(f)-1], 64)
	if err != nil {
		return 0, wall, fmt.Errorf("clickhouse-client --time: %q", stderr.String())
	}
	return time.Duration(secs * float64(time.Second)), wall, nil
}
