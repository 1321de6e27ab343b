package simulate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tiendo"
	"tiendo/cmd/tiendo/langson2021"
	"tiendo/server"
	"tiendo/store"
	"tiendo/store/chdb"
	"tiendo/store/local"
)

// The embedded engine allows one data directory per process: the tests share
// one chDB session, and each gets its own database and server state in it.
var engine *chdb.Engine

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tiendo-simulate-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	engine, err = chdb.Open(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chDB:", err, "(set CHDB_LIB_PATH to libchdb.so)")
		os.Exit(1)
	}
	code := m.Run()
	engine.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

var dbSeq atomic.Int64

type testServer struct {
	url, admin string
}

// startServer boots the real server (routes, ingest, group commit, ledger,
// store) on 127.0.0.1:0 with a fresh database and state.
func startServer(t *testing.T) *testServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	name := fmt.Sprintf("sim_%d_%d", time.Now().UnixNano()%1e9, dbSeq.Add(1))
	db, err := store.Open(ctx, engine, name)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	state, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := server.EnsureAdminToken(dir, state)
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Default()
	cfg.DataDir = dir
	cfg.Linger = 20 * time.Millisecond
	srv, err := server.New(server.Deps{Config: cfg, Store: db, Local: state, Campaign: langson2021.Campaign(),
		DefaultStations: langson2021.Stations(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
		state.Close()
		_ = engine.Exec(context.Background(), "DROP DATABASE IF EXISTS `"+name+"`")
	})
	return &testServer{url: "http://" + ln.Addr().String(), admin: admin}
}

type snapshot struct {
	Totals struct {
		Completed int64 `json:"completed"`
	} `json:"totals"`
	Stations []struct {
		ID        string `json:"id"`
		Completed int64  `json:"completed"`
	} `json:"stations"`
}

// snapshot reads the province snapshot, waiting while the server answers
// 503 (its store busy catching up, nothing cached yet).
func (s *testServer) snapshot(t *testing.T) snapshot {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		req, _ := http.NewRequest(http.MethodGet, s.url+"/api/v1/snapshot?scope=province", nil)
		req.Header.Set("Authorization", "Bearer "+s.admin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("snapshot: %s %s", resp.Status, b)
		}
		var snap snapshot
		if err := json.Unmarshal(b, &snap); err != nil {
			t.Fatal(err)
		}
		return snap
	}
}

func (s *testServer) config(t *testing.T, from, to string, drive int) Config {
	c := langson2021.Campaign()
	st := langson2021.Stations()
	cfg := Config{Server: s.url, AdminToken: s.admin, Campaign: c, Stations: st, Drive: SpreadStations(st, drive),
		Max: true, Seed: 1, Params: DefaultParams(), Marks: CalibrationMarks(c, DefaultParams())}
	if from != "" {
		cfg.From = day(t, from)
	}
	if to != "" {
		cfg.To = day(t, to)
	}
	return cfg
}

// expected is what the pure model says the driven stations complete.
func expected(t *testing.T, cfg Config) (records map[string]int64, events int64) {
	m, err := NewModel(cfg.Campaign, cfg.Stations, cfg.Seed, cfg.Params)
	if err != nil {
		t.Fatal(err)
	}
	drive := map[string]bool{}
	for _, id := range cfg.Drive {
		drive[id] = true
	}
	records = map[string]int64{}
	var buf []Event
	for i, st := range cfg.Stations {
		if !drive[st.ID] {
			continue
		}
		for d := cfg.From; d < cfg.To; d++ {
			var s DayStats
			buf, s = m.Day(i, d, buf[:0])
			records[st.ID] += int64(s.Records)
			events += int64(len(buf))
		}
	}
	return records, events
}

func checkAgainstServer(t *testing.T, srv *testServer, cfg Config, sum Summary, before int64) {
	t.Helper()
	want, events := expected(t, cfg)
	var wantTotal int64
	for _, n := range want {
		wantTotal += n
	}
	snap := srv.snapshot(t)
	if got := snap.Totals.Completed - before; got != sum.RecordsAcked || got != wantTotal {
		t.Errorf("server counts %d records, the simulator %d acknowledged, the model made %d", got, sum.RecordsAcked, wantTotal)
	}
	if sum.EventsAcked != events {
		t.Errorf("%d events acknowledged, the model made %d", sum.EventsAcked, events)
	}
	if before == 0 {
		for _, s := range snap.Stations {
			if s.Completed != want[s.ID] {
				t.Errorf("station %s: server %d records, model %d", s.ID, s.Completed, want[s.ID])
			}
		}
	}
}

// A short run at max speed: the server's total is the simulator's own count
// of acknowledged records, and both are what the pure model made.
func TestRunAtMaxSpeedMatchesTheServer(t *testing.T) {
	srv := startServer(t)
	cfg := srv.config(t, "2021-03-10", "2021-03-12", 12)
	cfg.LoseAckRate = 0.2
	var progress bytes.Buffer
	cfg.Progress, cfg.ProgressEvery = &progress, 50*time.Millisecond
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("summary %+v", sum)
	checkAgainstServer(t, srv, cfg, sum, 0)
	if sum.Stations != 12 || sum.From != "2021-03-10" || sum.To != "2021-03-12" || sum.Pace != "max" || sum.Interrupted {
		t.Errorf("summary %+v", sum)
	}
	if sum.LostAcks == 0 || sum.Duplicates == 0 || sum.Retries < sum.LostAcks {
		t.Errorf("with a lost-answer rate of 0.2: %d lost answers, %d duplicates, %d retries", sum.LostAcks, sum.Duplicates, sum.Retries)
	}
	b, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"records_acked":`, `"events_acked":`, `"duplicates":`, `"retries":`, `"from":"2021-03-10"`, `"to":"2021-03-12"`,
		`"records_by_20_march":null`, `"records_by_1_july":null`} {
		if !bytes.Contains(b, []byte(k)) {
			t.Errorf("summary %s lacks %s", b, k)
		}
	}
	if !strings.Contains(progress.String(), "simulated 2021-03-1") || !strings.Contains(progress.String(), "ev/s") {
		t.Errorf("progress:\n%s", progress.String())
	}
}

// flakyProxy stands between the stations and the server: it answers some
// requests 503 without passing them on, and for others passes them on and
// then drops the connection, so the server has the events but the station
// never hears so.
type flakyProxy struct {
	target         string
	n              atomic.Int64
	refused, drops atomic.Int64
}

func (p *flakyProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	n := p.n.Add(1)
	events := r.URL.Path == "/api/v1/events"
	if events && n%5 == 2 {
		p.refused.Add(1)
		w.Header().Set("Retry-After", "0")
		http.Error(w, `{"error":"storage unavailable"}`, http.StatusServiceUnavailable)
		return
	}
	req, _ := http.NewRequest(r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if events && n%5 == 4 && resp.StatusCode == http.StatusAccepted {
		p.drops.Add(1)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(data)
}

// Stations that drop off the network send their backlog later, with the same
// ids; batches whose answer was lost, or refused, are sent again. Every event
// is counted once: by the server, and by the simulator.
func TestOfflineBacklogIsDeliveredOnce(t *testing.T) {
	srv := startServer(t)
	proxy := &flakyProxy{target: srv.url}
	ps := httptest.NewServer(proxy)
	defer ps.Close()

	cfg := srv.config(t, "2021-03-15", "2021-03-16", 4)
	cfg.Server = ps.URL
	cfg.Params.OfflineRate = 1 // every station drops off the network once
	cfg.Params.DropRate = 1    // and loses its signal for a short while
	cfg.LoseAckRate = 0.3
	cfg.MaxStep = 2 * time.Hour
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("summary %+v; proxy refused %d, dropped %d", sum, proxy.refused.Load(), proxy.drops.Load())
	if sum.OfflineDays != 4 || sum.SignalDrops != 4 || sum.BacklogEvents == 0 {
		t.Errorf("%d offline station-days, %d signal drops, %d backlog events; want 4, 4 and some", sum.OfflineDays, sum.SignalDrops, sum.BacklogEvents)
	}
	if proxy.refused.Load() == 0 || proxy.drops.Load() == 0 {
		t.Fatal("the proxy did not interfere: the test proves nothing")
	}
	if sum.Duplicates == 0 || sum.Retries < proxy.refused.Load()+proxy.drops.Load() {
		t.Errorf("%d duplicates, %d retries after %d refusals and %d dropped answers", sum.Duplicates, sum.Retries, proxy.refused.Load(), proxy.drops.Load())
	}
	checkAgainstServer(t, srv, cfg, sum, 0)

	// The same run again: same ids, all duplicates, nothing counted twice.
	before := srv.snapshot(t).Totals.Completed
	cfg.Server = srv.url
	cfg.LoseAckRate = 0
	again, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if again.EventsAcked != sum.EventsAcked || again.Duplicates != again.EventsAcked {
		t.Errorf("replayed run: %d events acknowledged, %d duplicates; want %d and all of them", again.EventsAcked, again.Duplicates, sum.EventsAcked)
	}
	if after := srv.snapshot(t).Totals.Completed; after != before {
		t.Errorf("replaying the same ids moved the total from %d to %d", before, after)
	}
}

// A paced run moves the simulated clock with the wall clock; the marks are
// stated when the run covers them.
func TestPacedRunStatesTheEarlyMark(t *testing.T) {
	srv := startServer(t)
	cfg := srv.config(t, "2021-03-20", "2021-03-21", 3)
	cfg.Max = false
	cfg.Speed = 86400 / 1.5 // a day in 1.5 s
	cfg.Tick = 100 * time.Millisecond
	began := time.Now()
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took < time.Second {
		t.Errorf("a day at %v× took %v: not paced", cfg.Speed, took)
	}
	checkAgainstServer(t, srv, cfg, sum, 0)
	if v := sum.Mark("records_by_20_march"); v == nil || *v != sum.RecordsAcked {
		t.Errorf("records_by_20_march = %v, want %d (the run ends with 20 March)", v, sum.RecordsAcked)
	}
	if sum.Mark("records_by_1_july") != nil {
		t.Error("records_by_1_july stated for a run that ends in March")
	}
	if sum.Requests < 3*5 {
		t.Errorf("%d requests: a paced run posts as the day goes, not all at once", sum.Requests)
	}
}

// A paced run may start its clock within the first day: the hours before
// are sent at once (the server has them all, counted once), then the clock
// runs at Speed from there.
func TestPacedRunStartsWithinTheDay(t *testing.T) {
	srv := startServer(t)
	cfg := srv.config(t, "2021-03-20", "2021-03-21", 3)
	cfg.Max = false
	cfg.Speed = 3600 // an hour a second
	cfg.Tick = 100 * time.Millisecond
	cfg.StartAt = time.Date(2021, 3, 20, 9, 0, 0, 0, cfg.Campaign.Location())
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	sum, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Interrupted {
		t.Fatalf("the run finished a day at an hour a second within 1.5 s: %+v", sum)
	}
	if got := srv.snapshot(t).Totals.Completed; got != sum.RecordsAcked || got == 0 {
		t.Errorf("server %d records, simulator %d (want equal, and the morning's records there)", got, sum.RecordsAcked)
	}
	until := sum.SimulatedUntil.In(cfg.Campaign.Location())
	if until.Before(cfg.StartAt) || until.After(cfg.StartAt.Add(3*time.Hour)) {
		t.Errorf("simulated until %s: the clock did not start at 09:00 and run an hour a second", until)
	}
	for name, at := range map[string]time.Time{
		"before the day": time.Date(2021, 3, 20, 2, 0, 0, 0, cfg.Campaign.Location()),
		"the next day":   time.Date(2021, 3, 21, 9, 0, 0, 0, cfg.Campaign.Location()),
	} {
		bad := cfg
		bad.StartAt = at
		if _, err := Run(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "not within working day") {
			t.Errorf("%s: err = %v, want a start outside the day refused", name, err)
		}
	}
}

// Live mode follows the wall clock from the start of today's working day;
// stopping it reports what was acknowledged, and that is what the server has.
func TestLiveRunStopsCleanly(t *testing.T) {
	srv := startServer(t)
	cfg := srv.config(t, "", "", 2)
	cfg.Max, cfg.Live, cfg.Tick = false, true, 200*time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	sum, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Campaign
	if !sum.Interrupted || sum.Pace != "live" || sum.From != c.WorkingDay(time.Now()).String() {
		t.Errorf("summary %+v", sum)
	}
	if got := srv.snapshot(t).Totals.Completed; got != sum.RecordsAcked {
		t.Errorf("server %d records, simulator %d", got, sum.RecordsAcked)
	}
	t.Logf("live: %+v", sum)
	if sum.SimulatedUntil.After(time.Now()) {
		t.Errorf("live run simulated until %s, in the future", sum.SimulatedUntil)
	}
}

// A 400 is a bug in the simulator: the run stops and says why.
func TestRejectedBatchStopsTheRun(t *testing.T) {
	srv := startServer(t)
	cfg := srv.config(t, "2021-03-05", "2021-03-06", 2)
	early := *cfg.Campaign
	early.Start = day(t, "2021-03-01") // the server's campaign starts on 10 March
	cfg.Campaign = &early
	_, err := Run(context.Background(), cfg)
	var rej *RejectedError
	if !errors.As(err, &rej) || rej.Status != http.StatusBadRequest || !strings.Contains(rej.Body, "before the campaign start") {
		t.Fatalf("err = %v, want a 400 about the campaign start", err)
	}
}

func TestConfigErrors(t *testing.T) {
	c := langson2021.Campaign()
	base := Config{Server: "http://127.0.0.1:1", Campaign: c, Stations: langson2021.Stations(), Max: true}
	for name, mod := range map[string]func(*Config){
		"before start": func(cfg *Config) { cfg.From, cfg.To = c.Start-1, c.Start+1 },
		"to <= from":   func(cfg *Config) { cfg.From, cfg.To = c.Start+2, c.Start+2 },
		"no to":        func(cfg *Config) { cfg.From = c.Start },
		"future":       func(cfg *Config) { cfg.From, cfg.To = c.Start, tiendo.DayOf(2200, 1, 1) },
		"no pace":      func(cfg *Config) { cfg.Max, cfg.From, cfg.To = false, c.Start, c.Start+1 },
		"no station":   func(cfg *Config) { cfg.From, cfg.To, cfg.Drive = c.Start, c.Start+1, []string{"nope"} },
	} {
		cfg := base
		mod(&cfg)
		if _, err := Run(context.Background(), cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
