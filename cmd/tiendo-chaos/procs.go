package main

import (
	"bufio"
	"encoding/json"
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

// The server's limits that the hostile phase checks against. They are
// passed on the command line (serve flags), so that what the checks
// expect is what the server was told, not a guess at its defaults.
const (
	maxConnsPerAddr = 1000   // --max-conns-per-addr
	eventsPerSec    = 200    // --events-rate: per station token
	eventsBurst     = 20_000 // --events-burst
	// firstByteTimeout is the server's built-in deadline for a connection's
	// first byte (server.Config.FirstByteTimeout; there is no flag).
	firstByteTimeout = 10 * time.Second
	// bodyLimit is the server's default request body limit (4 MiB), and
	// formBodyLimit that of the sign-in forms (16 KiB).
	bodyLimit     = 4 << 20
	formBodyLimit = 16 << 10
)

type clickhouse struct {
	script, dir string
	port, http  int
}

func (c *clickhouse) start() error {
	out, err := exec.Command(c.script, "start", c.dir, fmt.Sprint(c.port), fmt.Sprint(c.http)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("start clickhouse: %v: %s", err, out)
	}
	return nil
}

func (c *clickhouse) stop() error {
	out, err := exec.Command(c.script, "stop", c.dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("stop clickhouse: %v: %s", err, out)
	}
	return nil
}

func (c *clickhouse) query(q string) (string, error) {
	out, err := exec.Command("clickhouse-client", "--port", fmt.Sprint(c.port), "--query", q).Output()
	return strings.TrimSpace(string(out)), err
}

func (c *clickhouse) version() string {
	v, _ := c.query("SELECT version()")
	return v
}

type server struct {
	bin, data, addr, dsn string
	cmd                  *exec.Cmd
	log                  *os.File
}

func (s *server) start() error {
	if s.log == nil {
		os.MkdirAll(s.data, 0o750)
		var err error
		if s.log, err = os.Create(filepath.Join(s.data, "..", "serve.log")); err != nil {
			return err
		}
	}
	s.cmd = exec.Command(s.bin, "serve", "--data", s.data, "--addr", s.addr, "--clickhouse", s.dsn,
		"--rate", "1000", "--burst", "1000",
		"--events-rate", fmt.Sprint(eventsPerSec), "--events-burst", fmt.Sprint(eventsBurst),
		"--max-conns-per-addr", fmt.Sprint(maxConnsPerAddr))
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		return err
	}
	return s.ensureUp()
}

func (s *server) ensureUp() error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + s.addr + "/healthz"); err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("tiendo did not answer on %s within 60 s (log: %s)", s.addr, s.log.Name())
}

// logProblems counts the server log's WARN and ERROR lines written since
// offset by message, e.g. `WARN "late events could not be checked" x12`:
// when a check fails, the server's own account of why.
func (s *server) logProblems(offset int64) string {
	f, err := os.Open(s.log.Name())
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	f.Seek(offset, io.SeekStart)
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		level := ""
		for _, l := range []string{"WARN", "ERROR"} {
			if strings.Contains(line, "level="+l) {
				level = l
			}
		}
		if level == "" {
			continue
		}
		msg := line
		if i := strings.Index(line, "msg="); i >= 0 {
			msg = line[i+4:]
			if strings.HasPrefix(msg, `"`) {
				if j := strings.Index(msg[1:], `"`); j >= 0 {
					msg = msg[:j+2]
				}
			} else if j := strings.IndexByte(msg, ' '); j >= 0 {
				msg = msg[:j]
			}
		}
		counts[level+" "+msg]++
	}
	if len(counts) == 0 {
		return "none"
	}
	return countsString(counts)
}

// logSize is how far the server log has been written.
func (s *server) logSize() int64 {
	fi, err := s.log.Stat()
	if err != nil {
		return 0
	}
	return fi.Size()
}

// pid is the running server's process id, or 0.
func (s *server) pid() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// kill signals the server and waits for it to exit.
func (s *server) kill(sig syscall.Signal) {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(sig)
	s.cmd.Wait()
	s.cmd = nil
}

func issueToken(url, admin, station string) (string, error) {
	req, _ := http.NewRequest(http.MethodPost, url+"/api/v1/admin/tokens", strings.NewReader(`{"station":"`+station+`"}`))
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		return "", fmt.Errorf("issue token for %s: %d %v", station, resp.StatusCode, err)
	}
	return out.Token, nil
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// boundClient is an HTTP client whose connections leave from ip. All of
// chaos runs on loopback, and the server caps connections per client
// address: honest stations (127.0.0.1) and each attacker (127.0.0.2…9)
// get their own addresses so that the cap falls on the attackers, as it
// would for clients on separate hosts. Compression is off: the client
// must send exactly the bytes and headers it is told to.
func boundClient(ip string, conns int, timeout time.Duration) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConns: conns, MaxIdleConnsPerHost: conns,
			IdleConnTimeout: 60 * time.Second, DisableCompression: true},
		// A sign-in that succeeded would answer 303: keep it as the answer.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// procSample is one look at the server process.
type procSample struct {
	at        time.Time
	rss       int64 // bytes resident in all
	anon      int64 // of which anonymous (heap, stacks): what a client can make grow
	file, shm int64 // of which file-backed (state.db's mmap, the binary) and shared
	fds       int
}

// readProc reads a process's resident memory, open descriptors and state
// letter (R, S, Z…) from /proc.
func readProc(pid int) (procSample, string, error) {
	s := procSample{at: time.Now()}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, "", err
	}
	defer f.Close()
	state := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		fields := strings.Fields(v)
		switch {
		case k == "State" && len(fields) > 0:
			state = fields[0]
		case len(fields) > 0:
			kb, _ := strconv.ParseInt(fields[0], 10, 64)
			switch k {
			case "VmRSS":
				s.rss = kb << 10
			case "RssAnon":
				s.anon = kb << 10
			case "RssFile":
				s.file = kb << 10
			case "RssShmem":
				s.shm = kb << 10
			}
		}
	}
	d, err := os.Open(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return s, state, err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	s.fds = len(names)
	return s, state, err
}

// sampler records the server's RSS and descriptors every interval, and
// notices if the process dies (a zombie: chaos has not waited for it yet).
type sampler struct {
	pid     int
	mu      sync.Mutex
	samples []procSample
	died    string
	stop    chan struct{}
	done    chan struct{}
}

func startSampler(pid int, every time.Duration) *sampler {
	s := &sampler{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	s.sample()
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

// sample takes one sample now and returns it.
func (s *sampler) sample() procSample {
	p, state, err := readProc(s.pid)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil || state == "Z" || state == "X" {
		if s.died == "" {
			s.died = fmt.Sprintf("server process %d gone (state %q, %v)", s.pid, state, err)
		}
		return p
	}
	s.samples = append(s.samples, p)
	return p
}

// maxAnon is the largest anonymous RSS sampled.
func (s *sampler) maxAnon() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var m int64
	for _, p := range s.samples {
		m = max(m, p.anon)
	}
	return m
}

func (s *sampler) finish() {
	close(s.stop)
	<-s.done
}

// summary is the first and last samples, and the sample of largest RSS
// and the largest descriptor count.
func (s *sampler) summary() (first, last, maxRSS procSample, maxFDs int, n int, died string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.samples) > 0 {
		first, last = s.samples[0], s.samples[len(s.samples)-1]
	}
	for _, p := range s.samples {
		if p.rss > maxRSS.rss {
			maxRSS = p
		}
		maxFDs = max(maxFDs, p.fds)
	}
	return first, last, maxRSS, maxFDs, len(s.samples), s.died
}
