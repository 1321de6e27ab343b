package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"tiendo"
	"tiendo/server"
	"tiendo/store"
	"tiendo/store/clickhouse"
	"tiendo/store/local"
	"tiendo/store/storetest"
)

// These tests boot the real server on a ClickHouse server engine (the
// embedded one allows a single data directory per process and belongs to
// cmd/tiendo's tests) and speak the live protocol over a real socket.

var chServer *storetest.ClickHouseServer

func TestMain(m *testing.M) { os.Exit(storetest.MainWithClickHouseServer(m, &chServer)) }

type testServer struct {
	url    string
	admin  string
	srv    *server.Server
	cancel context.CancelFunc
	done   chan error
}

func testCampaign(t *testing.T) (*tiendo.Campaign, []tiendo.Station) {
	c := &tiendo.Campaign{ID: "t", Name: "Thử nghiệm", TimeZone: "Asia/Ho_Chi_Minh", Start: tiendo.DayOf(2021, 3, 10),
		Deadline: tiendo.DayOf(2021, 7, 1), Target: 1000, DayBoundaryHour: 4, OpenHour: 7, LateNightHour: 22, MinutesPerRecord: 6,
		Districts: []tiendo.District{{ID: "D1", Name: "Một", Quota: 600}, {ID: "D2", Name: "Hai", Quota: 400}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c, []tiendo.Station{
		{ID: "S1", Name: "Trạm 1", District: "D1", Kind: tiendo.KindFixed, Lanes: 2, Lat: 21.9, Lon: 106.3, Quota: 600},
		{ID: "S2", Name: "Trạm 2", District: "D2", Kind: tiendo.KindMobile, Lanes: 1, Lat: 21.8, Lon: 106.5, Quota: 400},
	}
}

// startTestServer runs a server on a fresh database; opts adjust its configuration.
func startTestServer(t *testing.T, opts ...func(*server.Config)) *testServer {
	t.Helper()
	ts, _ := bootTestServer(t, "srv", io.Discard, nil, opts...)
	return ts
}

// bootTestServer runs a server on a fresh database named after prefix,
// logging to log; prepare, if set, sees its state before the server starts.
// It returns the server and its state.
func bootTestServer(t *testing.T, prefix string, log io.Writer, prepare func(*local.DB), opts ...func(*server.Config)) (*testServer, *local.DB) {
	t.Helper()
	c, stations := testCampaign(t)
	return bootCampaignServer(t, prefix, log, prepare, c, stations, opts...)
}

// bootCampaignServer is bootTestServer with another campaign.
func bootCampaignServer(t *testing.T, prefix string, log io.Writer, prepare func(*local.DB), c *tiendo.Campaign, stations []tiendo.Station,
	opts ...func(*server.Config)) (*testServer, *local.DB) {
	t.Helper()
	ctx := context.Background()
	engine, _, err := clickhouse.Open(ctx, chServer.DSN)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, engine, storetest.NewDatabaseName(prefix))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	state, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(state)
	}
	admin, err := server.EnsureAdminToken(dir, state)
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Default()
	cfg.DataDir, cfg.Clock, cfg.Linger = dir, "replay", 20*time.Millisecond
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := server.New(server.Deps{Config: cfg, Store: db, Local: state, Campaign: c, DefaultStations: stations,
		Log: slog.New(slog.NewTextHandler(log, nil)), Build: "test-build"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	ts := &testServer{url: "http://" + ln.Addr().String(), admin: admin, srv: srv, cancel: cancel, done: make(chan error, 1)}
	go func() { ts.done <- srv.Run(rctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-ts.done
		state.Close()
		db.Close()
	})
	return ts, state
}

func (ts *testServer) token(t *testing.T, body string) string {
	t.Helper()
	secret, _ := ts.issue(t, body)
	return secret
}

// issue makes a token through the admin API and returns its secret and id.
func (ts *testServer) issue(t *testing.T, body string) (string, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, ts.url+"/api/v1/admin/tokens", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+ts.admin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Token, ID string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		t.Fatalf("issue token: %d %v", resp.StatusCode, err)
	}
	return out.Token, out.ID
}

func (ts *testServer) post(t *testing.T, token, ndjson string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, ts.url+"/api/v1/events", strings.NewReader(ndjson))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("post: %d %s", resp.StatusCode, body)
	}
}

type wsMessage struct {
	Type     string                     `json:"type"`
	Seq      uint64                     `json:"seq"`
	Build    string                     `json:"build"`
	Storage  string                     `json:"storage"`
	Snapshot json.RawMessage            `json:"snapshot"`
	Charts   map[string]json.RawMessage `json:"charts"`
}

func (m wsMessage) totals(t *testing.T) tiendo.Totals {
	var s struct{ Totals tiendo.Totals }
	if err := json.Unmarshal(m.Snapshot, &s); err != nil {
		t.Fatal(err)
	}
	return s.Totals
}

// dial opens /ws with the admin token unless header already carries credentials.
func dial(t *testing.T, ts *testServer, query string, header http.Header) (*websocket.Conn, *http.Response, error) {
	if header == nil {
		header = http.Header{}
	}
	if header.Get("Authorization") == "" && header.Get("Cookie") == "" && header.Get("X-Anonymous") == "" {
		header.Set("Authorization", "Bearer "+ts.admin)
	}
	header.Del("X-Anonymous")
	u := strings.Replace(ts.url, "http://", "ws://", 1) + "/ws?" + query
	return websocket.DefaultDialer.Dial(u, header)
}

func read(t *testing.T, c *websocket.Conn) wsMessage {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var m wsMessage
	if err := c.ReadJSON(&m); err != nil {
		t.Fatalf("read: %v", err)
	}
	return m
}

func TestLiveSnapshotThenUpdatesAfterIngest(t *testing.T) {
	ts := startTestServer(t)
	tok := ts.token(t, `{"station":"S1"}`)
	ts.post(t, tok, `{"id":"h1","type":"heartbeat","station":"S1","ts":"2021-03-20T20:00:00+07:00","queue":9,"staff":2,"status":"open"}`)

	c, _, err := dial(t, ts, "scope=province&lang=vi", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	first := read(t, c)
	if first.Type != "snapshot" || first.Build != "test-build" || first.Storage != "ok" {
		t.Fatalf("first message = %s seq %d build %q storage %q", first.Type, first.Seq, first.Build, first.Storage)
	}
	if got := first.totals(t); got.Target != 1000 || got.Queue != 9 || got.Completed != 0 {
		t.Fatalf("snapshot totals = %+v", got)
	}
	for _, name := range []string{"progress", "throughput", "queue", "latenight", "districts"} {
		if len(first.Charts[name]) == 0 {
			t.Errorf("snapshot lacks chart %q", name)
		}
	}

	posted := time.Now()
	ts.post(t, tok, `{"id":"c1","type":"completion","station":"S1","ts":"2021-03-20T20:01:00+07:00","count":4}`)
	for {
		m := read(t, c)
		if m.Type != "update" {
			t.Fatalf("got %s after the snapshot, want updates", m.Type)
		}
		if m.Seq <= first.Seq {
			t.Fatalf("update seq %d not after snapshot seq %d", m.Seq, first.Seq)
		}
		if m.totals(t).Completed == 4 {
			if took := time.Since(posted); took > 3*time.Second {
				t.Fatalf("update arrived %v after the 202", took)
			}
			var delta struct{ Stations []tiendo.StationState }
			json.Unmarshal(m.Snapshot, &delta)
			if len(delta.Stations) != 1 || delta.Stations[0].ID != "S1" {
				t.Fatalf("update carries stations %+v, want only the changed S1", delta.Stations)
			}
			break
		}
	}

	// A resync request gets the current full snapshot.
	if err := c.WriteJSON(map[string]string{"type": "resync"}); err != nil {
		t.Fatal(err)
	}
	for {
		m := read(t, c)
		if m.Type == "snapshot" {
			if m.totals(t).Completed != 4 {
				t.Fatalf("resync snapshot completed = %d", m.totals(t).Completed)
			}
			break
		}
	}
}

func TestLiveRefusals(t *testing.T) {
	ts := startTestServer(t)
	cases := []struct {
		name   string
		query  string
		origin string
		status int
	}{
		{"foreign origin", "scope=province", "http://evil.example", 403},
		{"bad scope", "scope=galaxy:1", "", 400},
		{"unknown station", "scope=station:NOPE", "", 404},
		{"no credentials", "scope=province", "", 401},
	}
	for _, c := range cases {
		h := http.Header{}
		if c.origin != "" {
			h.Set("Origin", c.origin)
		}
		if c.status == 401 {
			h.Set("X-Anonymous", "1")
		}
		conn, resp, err := dial(t, ts, c.query, h)
		if err == nil {
			conn.Close()
			t.Errorf("%s: upgrade succeeded", c.name)
			continue
		}
		if resp == nil || resp.StatusCode != c.status {
			t.Errorf("%s: response %v, want %d", c.name, resp, c.status)
		}
	}
	// Same-origin browsers are welcome.
	h := http.Header{}
	h.Set("Origin", ts.url)
	conn, _, err := dial(t, ts, "scope=district:D1&lang=en", h)
	if err != nil {
		t.Fatalf("same-origin upgrade: %v", err)
	}
	defer conn.Close()
	if m := read(t, conn); m.Type != "snapshot" || len(m.Charts["districts"]) != 0 {
		t.Fatalf("district snapshot: type %s, districts chart %d bytes (want none outside the province)", m.Type, len(m.Charts["districts"]))
	}
}

// An oversized client frame closes that connection only.
func TestLiveOversizedFrameClosesConnection(t *testing.T) {
	ts := startTestServer(t)
	c, _, err := dial(t, ts, "scope=province", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	read(t, c)
	c.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("x", 64<<10)))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			break
		}
	}
	other, _, err := dial(t, ts, "scope=province", nil)
	if err != nil {
		t.Fatalf("server stopped serving others: %v", err)
	}
	defer other.Close()
	if m := read(t, other); m.Type != "snapshot" {
		t.Fatalf("got %s", m.Type)
	}
}
