package main

// End-to-end tests of the real binary as an operator and a station use it:
// serve on each ClickHouse engine, tokens from the CLI, events over HTTP,
// kill -9 and restart, bad input, a ClickHouse outage.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"tiendo/store/storetest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// tiendoBinary builds cmd/tiendo once per test run, as `make build` does.
func tiendoBinary(t testing.TB) string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tiendo-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "tiendo")
		cmd := exec.Command("go", "build", "-o", binPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// serverProc is a running `tiendo serve`.
type serverProc struct {
	t       testing.TB
	bin     string
	data    string
	addr    string
	chDSN   string
	cmd     *exec.Cmd
	logFile string
}

func readAdminToken(data string) (string, error) {
	b, err := os.ReadFile(filepath.Join(data, "admin.token"))
	return strings.TrimSpace(string(b)), err
}

func startClickHouseForBench(dir string) (*storetest.ClickHouseServer, error) {
	return storetest.StartClickHouseServer(dir)
}

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func startServer(t testing.TB, data, chDSN string, extra ...string) *serverProc {
	p := &serverProc{t: t, bin: tiendoBinary(t), data: data, addr: freeAddr(t), chDSN: chDSN}
	p.start(extra...)
	t.Cleanup(func() { p.kill() })
	return p
}

func (p *serverProc) url() string { return "http://" + p.addr }

func (p *serverProc) start(extra ...string) {
	p.t.Helper()
	args := []string{"serve", "--data", p.data, "--addr", p.addr}
	if p.chDSN != "" {
		args = append(args, "--clickhouse", p.chDSN)
	}
	args = append(args, extra...)
	p.cmd = exec.Command(p.bin, args...)
	p.logFile = filepath.Join(p.data, fmt.Sprintf("serve-%d.log", time.Now().UnixNano()))
	os.MkdirAll(p.data, 0o750)
	log, err := os.Create(p.logFile)
	if err != nil {
		p.t.Fatal(err)
	}
	p.cmd.Stdout, p.cmd.Stderr = log, log
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(p.url() + "/healthz"); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(p.logFile)
	p.t.Fatalf("server did not come up in 30 s; log:\n%s", b)
}

// kill sends SIGKILL: no shutdown hook runs, as in a crash or power cut.
func (p *serverProc) kill() {
	if p.cmd != nil && p.cmd.Process != nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
		p.cmd = nil
	}
}

// cli runs a tiendo admin command against the server and returns stdout.
func (p *serverProc) cli(args ...string) (string, error) {
	args = append(args, "--server", p.url(), "--data", p.data)
	cmd := exec.Command(p.bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("tiendo %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

func (p *serverProc) stationToken(station string) string {
	p.t.Helper()
	out, err := p.cli("token", "issue", "--station", station)
	if err != nil {
		p.t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (p *serverProc) post(token, contentType string, body []byte) response {
	p.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, p.url()+"/api/v1/events", bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func (p *serverProc) completed(scope string) float64 {
	p.t.Helper()
	resp, err := p.read("/api/v1/snapshot?scope=" + scope)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	var snap struct {
		Totals struct {
			Completed float64 `json:"completed"`
		} `json:"totals"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&snap); err != nil {
		p.t.Fatal(err)
	}
	return snap.Totals.Completed
}

// announceBody sends the headers of a POST whose Content-Length is size and
// returns the status the server answers before any of the body is sent: a
// server that refuses an oversized body must not read it first. (Sending
// the body too would race the early answer against the upload.)
func (p *serverProc) announceBody(token string, size int) int {
	p.t.Helper()
	conn, err := net.Dial("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/events HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n[",
		p.addr, token, size)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		p.t.Fatalf("no answer to a %d-byte body announcement: %v", size, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// read GETs a path as the administrator (reads need an identity).
func (p *serverProc) read(path string) (*http.Response, error) {
	admin, err := readAdminToken(p.data)
	if err != nil {
		return nil, err
	}
	req, _ := http.NewRequest(http.MethodGet, p.url()+path, nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	return http.DefaultClient.Do(req)
}

func completionBatch(station string, from, n int) []byte {
	var evs []map[string]any
	ts := time.Date(2021, 3, 20, 21, 0, 0, 0, time.FixedZone("ICT", 7*3600))
	for i := from; i < from+n; i++ {
		evs = append(evs, map[string]any{"id": fmt.Sprintf("c-%05d", i), "type": "completion", "station": station,
			"ts": ts.Add(time.Duration(i) * time.Second).Format(time.RFC3339), "count": 1, "fingerprint_retries": i % 3, "kind": "standard"})
	}
	b, _ := json.Marshal(evs)
	return b
}

// engines runs f against the embedded engine and against a ClickHouse server.
func engines(t *testing.T, f func(t *testing.T, dsn string)) {
	t.Run("chdb", func(t *testing.T) { f(t, "") })
	t.Run("clickhouse-server", func(t *testing.T) {
		ch, err := storetest.StartClickHouseServer(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ch.Stop() })
		f(t, ch.DSN+"tiendo")
	})
}

// The acceptance run: 1,000 completions in 10 batches, each posted
// twice, count 1,000; after kill -9 and a restart, still 1,000.
func TestExactlyOnceAcrossRetriesAndKill9(t *testing.T) {
	engines(t, func(t *testing.T, dsn string) {
		p := startServer(t, t.TempDir(), dsn)
		tok := p.stationToken("LS-BS-VULE")
		accepted, dups := 0.0, 0.0
		for b := 0; b < 10; b++ {
			body := completionBatch("LS-BS-VULE", b*100, 100)
			for try := 0; try < 2; try++ {
				r := p.post(tok, "application/json", body)
				if r.status != 202 {
					t.Fatalf("batch %d try %d: %d %s", b, try, r.status, r.raw)
				}
				accepted += r.body["accepted"].(float64)
				dups += r.body["duplicates"].(float64)
			}
		}
		if accepted != 1000 || dups != 1000 {
			t.Errorf("accepted %v duplicates %v, want 1000 and 1000", accepted, dups)
		}
		if got := p.completed("province"); got != 1000 {
			t.Fatalf("snapshot completed = %v, want 1000", got)
		}
		p.kill()
		p.start()
		if got := p.completed("station:LS-BS-VULE"); got != 1000 {
			t.Fatalf("after kill -9 and restart: completed = %v, want 1000", got)
		}
		// The ledger survived: a retry after the restart is still a duplicate.
		r := p.post(tok, "application/json", completionBatch("LS-BS-VULE", 500, 100))
		if r.status != 202 || r.body["duplicates"].(float64) != 100 {
			t.Fatalf("retry after restart: %d %s, want all 100 duplicates", r.status, r.raw)
		}
		if got := p.completed("province"); got != 1000 {
			t.Fatalf("after retry: completed = %v, want 1000", got)
		}
	})
}

// Bad input as a station would get it wrong: each gets its status, a 400
// names the field, and nothing of a rejected batch is stored.
func TestBadInputRejectedAndNothingStored(t *testing.T) {
	engines(t, func(t *testing.T, dsn string) {
		p := startServer(t, t.TempDir(), dsn)
		tok := p.stationToken("LS-BS-VULE")
		good := `{"id":"g1","type":"completion","station":"LS-BS-VULE","ts":"2021-03-20T21:16:40+07:00","count":2}`
		yearAhead := time.Now().AddDate(1, 0, 0).Format(time.RFC3339)
		cases := []struct {
			name, token, ctype, body string
			status                   int
			field                    string
		}{
			{"broken JSON", tok, "application/json", `[{"id":`, 400, "body"},
			{"not an array", tok, "application/json", good, 400, "body"},
			{"missing count", tok, "application/json", `[{"id":"m1","type":"completion","station":"LS-BS-VULE","ts":"2021-03-20T21:16:40+07:00"}]`, 400, "count"},
			{"zero count", tok, "application/json", `[{"id":"z1","type":"completion","station":"LS-BS-VULE","ts":"2021-03-20T21:16:40+07:00","count":0}]`, 400, "count"},
			{"negative count", tok, "application/json", `[{"id":"n1","type":"completion","station":"LS-BS-VULE","ts":"2021-03-20T21:16:40+07:00","count":-3}]`, 400, "count"},
			{"unknown station", tok, "application/json", `[{"id":"u1","type":"completion","station":"NO-SUCH","ts":"2021-03-20T21:16:40+07:00","count":1}]`, 400, "station"},
			{"ts a year ahead", tok, "application/json", `[{"id":"f1","type":"completion","station":"LS-BS-VULE","ts":"` + yearAhead + `","count":1}]`, 400, "ts"},
			{"ts before the campaign", tok, "application/json", `[{"id":"b1","type":"completion","station":"LS-BS-VULE","ts":"2021-03-01T10:00:00+07:00","count":1}]`, 400, "ts"},
			{"one bad among good", tok, "application/json", `[` + good + `,{"id":"g2","type":"completion","station":"LS-BS-VULE","ts":"2021-03-20T21:16:40+07:00","count":"three"}]`, 400, "count"},
			{"case-variant duplicate keys", tok, "application/json", `[{"id":"d1","type":"completion","station":"LS-BS-VULE","Station":"LS-HL-TN1","ts":"2021-03-20T21:16:40+07:00","count":1}]`, 400, "Station"},
			{"other station's event", tok, "application/json", `[{"id":"o1","type":"completion","station":"LS-HL-TN1","ts":"2021-03-20T21:16:40+07:00","count":1}]`, 403, "station"},
			{"no token", "", "application/json", `[` + good + `]`, 401, ""},
			{"bad token", "tdo_not-a-real-token", "application/json", `[` + good + `]`, 401, ""},
			{"wrong content type", tok, "text/plain", `[` + good + `]`, 415, ""},
		}
		for _, c := range cases {
			r := p.post(c.token, c.ctype, []byte(c.body))
			if r.status != c.status {
				t.Errorf("%s: status %d, want %d (%s)", c.name, r.status, c.status, r.raw)
				continue
			}
			if msg, _ := r.body["error"].(string); msg == "" {
				t.Errorf("%s: no error message in %s", c.name, r.raw)
			}
			if c.field != "" {
				items, _ := r.body["items"].([]any)
				found := false
				for _, it := range items {
					m := it.(map[string]any)
					if m["field"] == c.field && m["reason"] != "" {
						found = true
					}
				}
				if !found {
					t.Errorf("%s: no item names field %q: %s", c.name, c.field, r.raw)
				}
			}
		}
		if status := p.announceBody(tok, 10<<20); status != 413 {
			t.Errorf("10 MB body: status %d, want 413", status)
		}
		if got := p.completed("province"); got != 0 {
			t.Fatalf("rejected batches stored %v records", got)
		}
		// Replaying another station's event ids under one's own token makes
		// new events of one's own station; the other station's count is untouched.
		other := p.stationToken("LS-HL-TN1")
		if r := p.post(other, "application/json", []byte(`[{"id":"same-id","type":"completion","station":"LS-HL-TN1","ts":"2021-03-20T21:16:40+07:00","count":5}]`)); r.status != 202 {
			t.Fatalf("other station: %d %s", r.status, r.raw)
		}
		r0 := p.post(tok, "application/json", []byte(`[{"id":"same-id","type":"completion","station":"LS-BS-VULE","ts":"2021-03-20T21:16:40+07:00","count":1}]`))
		if r0.status != 202 || r0.body["accepted"].(float64) != 1 {
			t.Fatalf("same id, own station: %d %s; want accepted as its own event", r0.status, r0.raw)
		}
		if got := p.completed("station:LS-HL-TN1"); got != 5 {
			t.Fatalf("other station's count changed to %v", got)
		}
		// NDJSON is accepted too, and the good event of the rejected batch is new.
		r := p.post(tok, "application/x-ndjson", []byte(good+"\n"))
		if r.status != 202 || r.body["accepted"].(float64) != 1 {
			t.Fatalf("NDJSON: %d %s", r.status, r.raw)
		}
		if got := p.completed("province"); got != 8 {
			t.Fatalf("completed = %v, want 8 (5 + 1 + 2)", got)
		}
	})
}

// While ClickHouse is down, events are still accepted into the spool (202)
// and screens keep counting them, saying storage is behind; past the spool
// limit the server answers 503 with Retry-After and acknowledges nothing.
// When ClickHouse is back, the spool drains into it exactly once.
func TestClickHouseOutageSpoolsThenDrains(t *testing.T) {
	ch, err := storetest.StartClickHouseServer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Stop() })
	p := startServer(t, t.TempDir(), ch.DSN+"tiendo", "--spool-max", "120", "--flush-every", "200ms")
	tok := p.stationToken("LS-BS-VULE")
	if r := p.post(tok, "application/json", completionBatch("LS-BS-VULE", 0, 10)); r.status != 202 {
		t.Fatalf("before the outage: %d %s", r.status, r.raw)
	}
	waitFor(t, "the first batch to reach ClickHouse", func() bool { return p.storage()["pending"] == 0.0 })
	if err := ch.Stop(); err != nil {
		t.Fatal(err)
	}
	if r := p.post(tok, "application/json", completionBatch("LS-BS-VULE", 10, 100)); r.status != 202 || r.body["accepted"].(float64) != 100 {
		t.Fatalf("with ClickHouse down: %d %s; want 202, spooled", r.status, r.raw)
	}
	if got := p.completed("province"); got != 110 {
		t.Fatalf("with ClickHouse down the snapshot says %v, want 110 (stored + spooled)", got)
	}
	if st := p.storage(); st["state"] == "ok" || st["pending"].(float64) != 100 {
		t.Fatalf("storage state with ClickHouse down = %v; want not ok, 100 pending", st)
	}
	r := p.post(tok, "application/json", completionBatch("LS-BS-VULE", 110, 50))
	if r.status != 503 || r.header.Get("Retry-After") == "" {
		t.Fatalf("past the spool limit: %d Retry-After=%q %s; want 503 with Retry-After", r.status, r.header.Get("Retry-After"), r.raw)
	}
	if resp, err := http.Get(p.url() + "/readyz"); err != nil || resp.StatusCode != 503 {
		t.Fatalf("readyz with ClickHouse down: %v %v", resp, err)
	}
	if _, err := storetest.RestartClickHouseServer(ch); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the spool to drain", func() bool { return p.storage()["pending"] == 0.0 && p.storage()["state"] == "ok" })
	// The refused batch is new once there is room; the rest are duplicates.
	r = p.post(tok, "application/json", completionBatch("LS-BS-VULE", 60, 100))
	if r.status != 202 || r.body["accepted"].(float64) != 50 || r.body["duplicates"].(float64) != 50 {
		t.Fatalf("after recovery: %d %s; want 50 accepted, 50 duplicates", r.status, r.raw)
	}
	waitFor(t, "the last batch to reach ClickHouse", func() bool { return p.storage()["pending"] == 0.0 })
	if got := p.completed("province"); got != 160 {
		t.Fatalf("completed = %v, want 160", got)
	}
	if raw := p.clickhouseCount(t, ch, "SELECT sum(count) FROM tiendo.completions"); raw != "160" {
		t.Fatalf("ClickHouse raw table holds %s records, want 160", raw)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *serverProc) storage() map[string]any {
	p.t.Helper()
	resp, err := p.read("/api/v1/snapshot?scope=province")
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	var snap struct {
		Storage map[string]any `json:"storage"`
	}
	json.NewDecoder(resp.Body).Decode(&snap)
	return snap.Storage
}

func (p *serverProc) clickhouseCount(t *testing.T, ch *storetest.ClickHouseServer, query string) string {
	out, err := exec.Command("clickhouse-client", "--port", fmt.Sprint(ch.Port), "--query", query).CombinedOutput()
	if err != nil {
		t.Fatalf("clickhouse-client: %v %s", err, out)
	}
	return strings.TrimSpace(string(out))
}
