package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"tiendo"
	"tiendo/server"
)

// The server's alerts end to end, on a replay clock (the newest event's
// time): events move the campaign's clock, the live rounds open and
// resolve alerts, the API lists and acknowledges them.

// alertsOf GETs the alerts API as token; it fails the test unless 200.
func alertsOf(t *testing.T, ts *testServer, token, query string) []tiendo.Alert {
	t.Helper()
	code, body := get(t, ts.url+"/api/v1/alerts?"+query, token)
	if code != 200 {
		t.Fatalf("GET alerts?%s: %d %s", query, code, body)
	}
	var out struct {
		Alerts []tiendo.Alert `json:"alerts"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil || out.Alerts == nil {
		t.Fatalf("alerts?%s: %v %s", query, err, body)
	}
	return out.Alerts
}

// snapshotAlerts are the alerts a scope's snapshot carries for token.
func snapshotAlerts(t *testing.T, ts *testServer, token, scope string) []tiendo.Alert {
	t.Helper()
	code, body := get(t, ts.url+"/api/v1/snapshot?scope="+url.QueryEscape(scope), token)
	var snap struct {
		Alerts []tiendo.Alert `json:"alerts"`
	}
	if err := json.Unmarshal([]byte(body), &snap); code != 200 || err != nil {
		t.Fatalf("snapshot %s: %d %v", scope, code, err)
	}
	return snap.Alerts
}

func alertOfKind(alerts []tiendo.Alert, kind tiendo.AlertKind, subject string) *tiendo.Alert {
	for i := range alerts {
		if alerts[i].Kind == kind && alerts[i].Subject() == subject {
			return &alerts[i]
		}
	}
	return nil
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func heartbeat(id, station, ts string, queue int, status string) string {
	return fmt.Sprintf(`{"id":%q,"type":"heartbeat","station":%q,"ts":"2021-03-20T%s+07:00","queue":%d,"staff":2,"lanes":1,"status":%q}`+"\n",
		id, station, ts, queue, status)
}

func ack(t *testing.T, ts *testServer, id, token string, header http.Header) (int, tiendo.Alert) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, ts.url+"/api/v1/alerts/"+url.PathEscape(id)+"/ack", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a tiendo.Alert
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &a)
	return resp.StatusCode, a
}

// A station that said it was open falls silent: within a round the alert
// is in the API, in the snapshots of its station, its district and the
// province (a screen's too) and not in the other district's, and counted
// in /metrics; a chief acknowledges it (audited); heartbeats return and it
// resolves, staying in the day's history with who acknowledged it.
func TestSilentAlertThroughTheServer(t *testing.T) {
	logs := &logBuffer{}
	ts, _ := bootTestServer(t, "alerts", logs, nil)
	s1, s2 := ts.token(t, `{"station":"S1"}`), ts.token(t, `{"station":"S2"}`)
	screen := ts.token(t, `{"role":"screen"}`)
	ts.post(t, s1, heartbeat("h1", "S1", "20:00:00", 3, "open"))
	ts.post(t, s2, heartbeat("h2", "S2", "20:16:00", 0, "open")) // the clock is 20:16 now

	var silent *tiendo.Alert
	waitUntil(t, "a silent alert for S1", func() bool {
		silent = alertOfKind(alertsOf(t, ts, ts.admin, "scope=province"), tiendo.AlertSilent, "S1")
		return silent != nil
	})
	since := time.Date(2021, 3, 20, 20, 16, 0, 0, time.FixedZone("ICT", 7*3600))
	if silent.District != "D1" || !silent.Since.Equal(since) || silent.Value != 16 || silent.Severity != "warning" || silent.AckedAt != nil {
		t.Errorf("silent alert = %+v", silent)
	}
	for scope, want := range map[string]bool{"province": true, "district:D1": true, "station:S1": true, "district:D2": false, "station:S2": false} {
		if got := alertOfKind(snapshotAlerts(t, ts, ts.admin, scope), tiendo.AlertSilent, "S1") != nil; got != want {
			t.Errorf("snapshot of %s carries the alert: %v, want %v", scope, got, want)
		}
		if got := alertOfKind(alertsOf(t, ts, ts.admin, "scope="+scope), tiendo.AlertSilent, "S1") != nil; got != want {
			t.Errorf("alerts of %s list it: %v, want %v", scope, got, want)
		}
	}
	if alertOfKind(snapshotAlerts(t, ts, screen, "province"), tiendo.AlertSilent, "S1") == nil {
		t.Error("a screen's province snapshot lacks the alert")
	}
	// Nothing was done on 20 March: both districts are behind.
	if alertOfKind(alertsOf(t, ts, ts.admin, "scope=district:D2"), tiendo.AlertBehind, "D2") == nil {
		t.Error("no behind alert for D2")
	}
	if m := metricsText(t, ts); !strings.Contains(m, `tiendo_alerts_open{kind="silent"} 1`) ||
		!strings.Contains(m, `tiendo_alerts_open{kind="behind"} 2`) || !strings.Contains(m, `tiendo_alerts_open{kind="long_wait"} 0`) {
		t.Errorf("metrics lack the open alerts by kind:\n%s", grepLines(m, "tiendo_alerts_open"))
	}

	chief := ts.token(t, `{"role":"chief","subject":"S1"}`)
	code, acked := ack(t, ts, silent.ID, chief, nil)
	if code != 200 || acked.AckedBy == "" || !strings.HasPrefix(acked.AckedBy, "token:") || acked.AckedAt == nil || !acked.AckedAt.Equal(since) {
		t.Fatalf("chief's ack: %d %+v", code, acked)
	}
	if lines := logs.audit("alert acknowledged"); len(lines) != 1 || !strings.Contains(lines[0], "id="+silent.ID) ||
		!strings.Contains(lines[0], "by="+acked.AckedBy) || !strings.Contains(lines[0], "station=S1") {
		t.Errorf("audit lines %q", lines)
	}
	if a := alertOfKind(snapshotAlerts(t, ts, ts.admin, "station:S1"), tiendo.AlertSilent, "S1"); a == nil || a.AckedBy != acked.AckedBy {
		t.Errorf("the station's snapshot after the ack: %+v", a)
	}
	// Acknowledging again changes nothing and is not audited again.
	if code, again := ack(t, ts, silent.ID, ts.admin, nil); code != 200 || again.AckedBy != acked.AckedBy {
		t.Errorf("second ack: %d %+v", code, again)
	}
	if n := len(logs.audit("alert acknowledged")); n != 1 {
		t.Errorf("%d audit lines after a second ack, want 1", n)
	}

	// S1 is back; the clock moves on 6 minutes: resolved.
	ts.post(t, s1, heartbeat("h3", "S1", "20:17:00", 3, "open"))
	// Two evaluations later one has surely read the heartbeat: at 20:17 the
	// clear time starts; the alert stays open through it.
	n := evaluations(t, ts)
	waitUntil(t, "two alert evaluations", func() bool { return evaluations(t, ts) >= n+2 })
	if alertOfKind(alertsOf(t, ts, ts.admin, "scope=station:S1"), tiendo.AlertSilent, "S1") == nil {
		t.Fatal("resolved at once, without the clear time")
	}
	ts.post(t, s1, heartbeat("h4", "S1", "20:23:00", 3, "open"))
	ts.post(t, s2, heartbeat("h5", "S2", "20:23:00", 0, "open"))
	waitUntil(t, "the silent alert to resolve", func() bool {
		return alertOfKind(alertsOf(t, ts, ts.admin, "scope=province"), tiendo.AlertSilent, "S1") == nil
	})
	day := alertsOf(t, ts, ts.admin, "scope=district:D1&state=all&day=2021-03-20")
	a := alertOfKind(day, tiendo.AlertSilent, "S1")
	if a == nil || a.ID != silent.ID || a.Resolved == nil || a.AckedBy != acked.AckedBy {
		t.Errorf("the day's history: %+v", day)
	}
	if today := alertsOf(t, ts, ts.admin, "scope=province&state=all"); alertOfKind(today, tiendo.AlertSilent, "S1") == nil {
		t.Errorf("state=all without a day (today's) lacks the alert: %+v", today)
	}
	if other := alertsOf(t, ts, ts.admin, "scope=province&state=all&day=2021-03-19"); len(other) != 0 {
		t.Errorf("19 March's alerts: %+v, want none", other)
	}
	if m := metricsText(t, ts); !strings.Contains(m, `tiendo_alerts_open{kind="silent"} 0`) {
		t.Errorf("metrics after resolving:\n%s", grepLines(m, "tiendo_alerts_open"))
	}
}

func metricsText(t *testing.T, ts *testServer) string {
	t.Helper()
	code, body := get(t, ts.url+"/metrics", ts.admin)
	if code != 200 {
		t.Fatalf("metrics: %d", code)
	}
	return body
}

// evaluations is how many alert evaluations the server has run.
func evaluations(t *testing.T, ts *testServer) int {
	t.Helper()
	for _, l := range strings.Split(metricsText(t, ts), "\n") {
		if v, ok := strings.CutPrefix(l, "tiendo_alert_round_seconds_count "); ok {
			var n int
			fmt.Sscan(v, &n)
			return n
		}
	}
	t.Fatal("no tiendo_alert_round_seconds_count in /metrics")
	return 0
}

func grepLines(s, word string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Who may acknowledge which alert: a station's alert its chief, its
// district's officer, leaders and admins; a district's alert its officer,
// leaders and admins; never a screen, a station token, another district
// or another station's chief; nobody signed in is 401. Refusals leave the
// alert unacknowledged.
func TestAlertAckPermissions(t *testing.T) {
	ts := startTestServer(t)
	ts.post(t, ts.token(t, `{"station":"S1"}`), heartbeat("h1", "S1", "20:00:00", 50, "open")) // a wait of 300 minutes
	var wait, behind *tiendo.Alert
	waitUntil(t, "S1's long wait and D1 behind", func() bool {
		all := alertsOf(t, ts, ts.admin, "scope=province")
		wait, behind = alertOfKind(all, tiendo.AlertLongWait, "S1"), alertOfKind(all, tiendo.AlertBehind, "D1")
		return wait != nil && behind != nil
	})
	p := principals(t, ts)
	p["chief:S2"] = ts.token(t, `{"role":"chief","subject":"S2"}`)
	p["district:D2"] = ts.token(t, `{"role":"district","subject":"D2"}`)
	for _, c := range []struct {
		alert   *tiendo.Alert
		allowed []string
		refused map[string]int
	}{
		{wait, []string{"chief:S1", "district:D1", "leader", "admin"},
			map[string]int{"anonymous": 401, "screen": 403, "station:S1": 403, "chief:S2": 403, "district:D2": 403}},
		{behind, []string{"district:D1", "leader", "admin"},
			map[string]int{"anonymous": 401, "screen": 403, "station:S1": 403, "chief:S1": 403, "district:D2": 403}},
	} {
		for who, want := range c.refused {
			if code, _ := ack(t, ts, c.alert.ID, p[who], nil); code != want {
				t.Errorf("%s acknowledging %s: %d, want %d", who, c.alert.ID, code, want)
			}
		}
		if a := alertOfKind(alertsOf(t, ts, ts.admin, "scope=province"), c.alert.Kind, c.alert.Subject()); a == nil || a.AckedAt != nil {
			t.Fatalf("after the refusals %s is %+v, want unacknowledged", c.alert.ID, a)
		}
		var first string
		for _, who := range c.allowed {
			code, a := ack(t, ts, c.alert.ID, p[who], nil)
			if code != 200 {
				t.Errorf("%s acknowledging %s: %d, want 200", who, c.alert.ID, code)
			}
			if first == "" {
				first = a.AckedBy
			}
			if a.AckedBy != first {
				t.Errorf("%s's ack made acked_by %q, want the first one's %q", who, a.AckedBy, first)
			}
		}
	}
	if code, _ := ack(t, ts, "silent~S9~1", ts.admin, nil); code != 404 {
		t.Errorf("an unknown alert: %d, want 404", code)
	}
	// Reading follows the scope's readers: a chief its station, a screen
	// the district, no station token, and bad queries are 400.
	for _, c := range []struct {
		who, query string
		want       int
	}{
		{"chief:S1", "scope=station:S1", 200}, {"chief:S1", "scope=district:D1", 403}, {"screen", "scope=district:D2", 200},
		{"screen", "scope=station:S1", 403}, {"station:S1", "scope=station:S1", 403}, {"anonymous", "scope=province", 401},
		{"admin", "scope=province&state=closed", 400}, {"admin", "scope=province&day=2021-03-20", 400},
		{"admin", "scope=province&state=all&day=20-03-2021", 400}, {"admin", "scope=station:S9", 404},
	} {
		if code, body := get(t, ts.url+"/api/v1/alerts?"+c.query, p[c.who]); code != c.want {
			t.Errorf("%s GET alerts?%s: %d, want %d (%s)", c.who, c.query, code, c.want, body)
		}
	}
}

// A signed-in chief acknowledges from the site's own page (the browser
// sends its Origin); a foreign page's post with the same cookie is refused.
func TestAlertAckByCookieNeedsOwnOrigin(t *testing.T) {
	ss := startSigninServer(t, false)
	ts := ss.testServer
	ts.post(t, ts.token(t, `{"station":"S1"}`), heartbeat("h1", "S1", "20:00:00", 50, "open"))
	var wait *tiendo.Alert
	waitUntil(t, "S1's long wait", func() bool {
		wait = alertOfKind(alertsOf(t, ts, ts.admin, "scope=station:S1"), tiendo.AlertLongWait, "S1")
		return wait != nil
	})
	cookie := signIn(t, ts, "chief1", "chief", "S1")
	if code, _ := ack(t, ts, wait.ID, "", http.Header{"Cookie": {cookie}, "Origin": {"https://evil.example"}}); code != 403 {
		t.Errorf("foreign origin: %d, want 403", code)
	}
	if code, _ := ack(t, ts, wait.ID, "", http.Header{"Cookie": {cookie}}); code != 403 {
		t.Errorf("a cookie without Origin: %d, want 403", code)
	}
	code, a := ack(t, ts, wait.ID, "", http.Header{"Cookie": {cookie}, "Origin": {ts.url}})
	if code != 200 || a.AckedBy != "user:chief1" {
		t.Errorf("own origin: %d %+v, want acked by user:chief1", code, a)
	}
}

// --alert-webhook: the server posts each new alert to a real receiver once.
func TestAlertWebhookFromTheServer(t *testing.T) {
	var mu sync.Mutex
	got := map[string]int{}
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n struct {
			Event string       `json:"event"`
			Alert tiendo.Alert `json:"alert"`
		}
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil || n.Event != "alert_opened" {
			t.Errorf("post: %v %+v", err, n)
		}
		mu.Lock()
		got[n.Alert.ID]++
		mu.Unlock()
	}))
	defer rcv.Close()
	ts := startTestServer(t, func(c *server.Config) { c.AlertWebhook = rcv.URL })
	ts.post(t, ts.token(t, `{"station":"S1"}`), heartbeat("h1", "S1", "20:00:00", 50, "open"))
	waitUntil(t, "three posts (S1's long wait, D1 and D2 behind)", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 3
	})
	time.Sleep(1500 * time.Millisecond) // more rounds
	mu.Lock()
	defer mu.Unlock()
	for id, n := range got {
		if n != 1 {
			t.Errorf("%s posted %d times", id, n)
		}
	}
	cfg := server.Default()
	cfg.DataDir, cfg.AlertWebhook = t.TempDir(), "https://hooks.example.vn/x"
	if err := cfg.Validate(); err != nil {
		t.Errorf("an https webhook: %v", err)
	}
	if cfg.AlertWebhook = "ftp://x"; cfg.Validate() == nil {
		t.Error("an ftp webhook URL passed Validate")
	}
}
