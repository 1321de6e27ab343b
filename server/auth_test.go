package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"tiendo/server"
)

// principals of every role, as bearer tokens, plus nobody.
func principals(t *testing.T, ts *testServer) map[string]string {
	return map[string]string{
		"anonymous":   "",
		"admin":       ts.admin,
		"leader":      ts.token(t, `{"role":"leader"}`),
		"screen":      ts.token(t, `{"role":"screen"}`),
		"district:D1": ts.token(t, `{"role":"district","subject":"D1"}`),
		"chief:S1":    ts.token(t, `{"role":"chief","subject":"S1"}`),
		"station:S1":  ts.token(t, `{"station":"S1"}`),
	}
}

func request(t *testing.T, method, u, token, body string) int {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// Every role against every read scope, over REST and over the WebSocket:
// each combination is allowed or refused exactly as CanRead says.
func TestRoleScopeMatrix(t *testing.T) {
	ts := startTestServer(t)
	who := principals(t, ts)
	scopes := []string{"province", "district:D1", "district:D2", "station:S1", "station:S2"}
	allowed := map[string][]string{
		"admin":       scopes,
		"leader":      scopes,
		"screen":      {"province", "district:D1", "district:D2"},
		"district:D1": {"district:D1", "station:S1"},
		"chief:S1":    {"station:S1"},
	}
	for name, tok := range who {
		ok := map[string]bool{}
		for _, s := range allowed[name] {
			ok[s] = true
		}
		for _, scope := range scopes {
			want := 200
			switch {
			case name == "anonymous":
				want = 401
			case !ok[scope]:
				want = 403
			}
			if got := request(t, http.MethodGet, ts.url+"/api/v1/snapshot?scope="+url.QueryEscape(scope), tok, ""); got != want {
				t.Errorf("%s GET snapshot %s = %d, want %d", name, scope, got, want)
			}
			h := http.Header{}
			if tok != "" {
				h.Set("Authorization", "Bearer "+tok)
			} else {
				h.Set("X-Anonymous", "1")
			}
			conn, resp, err := dial(t, ts, "scope="+url.QueryEscape(scope), h)
			got := 101
			if err != nil {
				got = 0
				if resp != nil {
					got = resp.StatusCode
				}
			} else {
				conn.Close()
			}
			wantWS := want
			if want == 200 {
				wantWS = 101
			}
			if got != wantWS {
				t.Errorf("%s /ws %s = %d, want %d", name, scope, got, wantWS)
			}
		}
	}
}

// The admin API checks a token's or a user's role and subject against the
// policy table and the registry, with the same answers as before the table:
// which field was wrong and why, and a subject dropped for roles without one.
func TestAdminChecksRoleAndSubject(t *testing.T) {
	ts := startTestServer(t)
	cases := []struct {
		path, body    string
		status        int
		field, why    string // of the 400's one item
		role, subject string // of the 201's record
	}{
		{"tokens", `{"role":"root"}`, 400, "role", "must be one of admin, leader, officer, district, chief, screen, station", "", ""},
		{"tokens", `{}`, 400, "role", "must be one of admin, leader, officer, district, chief, screen, station", "", ""},
		{"tokens", `{"station":"NOPE"}`, 400, "station", "unknown station NOPE", "", ""},
		{"tokens", `{"role":"chief","subject":"NOPE"}`, 400, "station", "unknown station NOPE", "", ""},
		{"tokens", `{"role":"chief","subject":"D1"}`, 400, "station", "unknown station D1", "", ""},
		{"tokens", `{"role":"district","subject":"D9"}`, 400, "subject", "unknown district D9", "", ""},
		{"tokens", `{"station":"S1"}`, 201, "", "", "station", "S1"},
		{"tokens", `{"role":"chief","subject":"S2"}`, 201, "", "", "chief", "S2"},
		{"tokens", `{"role":"district","subject":"D2"}`, 201, "", "", "district", "D2"},
		{"tokens", `{"role":"screen","subject":"D1"}`, 201, "", "", "screen", ""},
		{"users", `{"name":"u1","role":"station","subject":"S1"}`, 400, "role", "must be admin, leader, officer, district, chief or screen", "", ""},
		{"users", `{"name":"u2","role":"chief","subject":"NOPE"}`, 400, "subject", "unknown station NOPE", "", ""},
		{"users", `{"name":"u3","role":"district","subject":"S1"}`, 400, "subject", "unknown district S1", "", ""},
		{"users", `{"name":"u4","role":"chief","subject":"S1"}`, 201, "", "", "chief", "S1"},
		{"users", `{"name":"u5","role":"leader","subject":"D1"}`, 201, "", "", "leader", ""},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(http.MethodPost, ts.url+"/api/v1/admin/"+c.path, strings.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer "+ts.admin)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Items         []struct{ Field, Reason string }
			Role, Subject string
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil || resp.StatusCode != c.status {
			t.Errorf("POST %s %s = %d (%v), want %d", c.path, c.body, resp.StatusCode, err, c.status)
			continue
		}
		if c.status == 400 && (len(out.Items) != 1 || out.Items[0].Field != c.field || out.Items[0].Reason != c.why) {
			t.Errorf("POST %s %s: items %+v, want %s: %s", c.path, c.body, out.Items, c.field, c.why)
		}
		if c.status == 201 && (out.Role != c.role || out.Subject != c.subject) {
			t.Errorf("POST %s %s: made %q %q, want %q %q", c.path, c.body, out.Role, out.Subject, c.role, c.subject)
		}
	}
}

// Admin routes take the admin token only; ingest takes station tokens only.
func TestRoleRouteMatrix(t *testing.T) {
	ts := startTestServer(t)
	who := principals(t, ts)
	routes := []struct {
		method, path, body string
		okFor              string
		okStatus           int
	}{
		{"GET", "/api/v1/admin/tokens", "", "admin", 200},
		{"GET", "/api/v1/admin/stations", "", "admin", 200},
		{"POST", "/api/v1/admin/tokens", `{"role":"leader"}`, "admin", 201},
		{"POST", "/api/v1/admin/users", `{"name":"u1","role":"leader"}`, "admin", 201},
		{"POST", "/api/v1/events", `[{"id":"m1","type":"completion","station":"S1","ts":"2021-03-20T10:00:00+07:00","count":1}]`, "station:S1", 202},
	}
	for _, r := range routes {
		for name, tok := range who {
			want := r.okStatus
			if name != r.okFor {
				want = 403
				if name == "anonymous" {
					want = 401
				}
			}
			if got := request(t, r.method, ts.url+r.path, tok, r.body); got != want {
				t.Errorf("%s %s %s = %d, want %d", name, r.method, r.path, got, want)
			}
		}
	}
	// A revoked token is refused everywhere at once.
	leader, id := ts.issue(t, `{"role":"leader"}`)
	if got := request(t, "GET", ts.url+"/api/v1/snapshot?scope=province", leader, ""); got != 200 {
		t.Fatalf("live leader token: %d", got)
	}
	if got := request(t, "POST", ts.url+"/api/v1/admin/tokens/revoke", ts.admin, fmt.Sprintf(`{"id":%q}`, id)); got != 200 {
		t.Fatalf("revoke = %d", got)
	}
	if got := request(t, "GET", ts.url+"/api/v1/snapshot?scope=province", leader, ""); got != 401 {
		t.Fatalf("revoked leader token: %d, want 401", got)
	}
}

// Cookie sessions are browsers: their upgrade needs our own Origin; a
// missing, foreign or "null" Origin is refused. Bearer clients may omit it.
func TestWebSocketOriginRules(t *testing.T) {
	ts := startTestServer(t)
	cookie := signIn(t, ts, "watcher", "leader", "")
	cases := []struct {
		name   string
		header http.Header
		want   int
	}{
		{"cookie, own origin", http.Header{"Cookie": {cookie}, "Origin": {ts.url}}, 101},
		{"cookie, no origin", http.Header{"Cookie": {cookie}}, 403},
		{"cookie, foreign origin", http.Header{"Cookie": {cookie}, "Origin": {"http://evil.example"}}, 403},
		{"cookie, null origin", http.Header{"Cookie": {cookie}, "Origin": {"null"}}, 403},
		{"bearer, no origin", http.Header{"Authorization": {"Bearer " + ts.admin}}, 101},
		{"bearer, foreign origin", http.Header{"Authorization": {"Bearer " + ts.admin}, "Origin": {"http://evil.example"}}, 403},
	}
	for _, c := range cases {
		conn, resp, err := dial(t, ts, "scope=province", c.header)
		got := 101
		if err != nil {
			got = 0
			if resp != nil {
				got = resp.StatusCode
			}
		} else {
			conn.Close()
		}
		if got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

// One account cannot hold more live connections than the cap; others are unaffected.
func TestConnectionsPerUserCapped(t *testing.T) {
	ts := startTestServer(t)
	h := func() http.Header { return http.Header{"Authorization": {"Bearer " + ts.admin}} }
	var open []interface{ Close() error }
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	refused := 0
	for i := 0; i < 60; i++ {
		conn, resp, err := dial(t, ts, "scope=province", h())
		if err != nil {
			if resp == nil || resp.StatusCode != 429 {
				t.Fatalf("connection %d: %v %v", i, resp, err)
			}
			refused++
			continue
		}
		open = append(open, conn)
	}
	if len(open) != 50 || refused != 10 {
		t.Fatalf("%d open, %d refused; want the cap of 50 and 10 refused with 429", len(open), refused)
	}
	leader := ts.token(t, `{"role":"leader"}`)
	conn, _, err := dial(t, ts, "scope=province", http.Header{"Authorization": {"Bearer " + leader}})
	if err != nil {
		t.Fatalf("another account was refused: %v", err)
	}
	conn.Close()
}

// Past the server-wide cap an upgrade gets 503 with Retry-After (a screen
// retries), not a failed accept; a closed connection frees its slot.
func TestLiveConnectionsCappedInTotal(t *testing.T) {
	ts := startTestServer(t, func(c *server.Config) { c.MaxLiveConns = 3 })
	var open []interface{ Close() error }
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	accounts := []string{ts.admin, ts.token(t, `{"role":"leader"}`)}
	for i := 0; i < 3; i++ {
		conn, _, err := dial(t, ts, "scope=province", http.Header{"Authorization": {"Bearer " + accounts[i%2]}})
		if err != nil {
			t.Fatalf("connection %d refused under the cap: %v", i, err)
		}
		open = append(open, conn)
	}
	_, resp, err := dial(t, ts, "scope=province", http.Header{"Authorization": {"Bearer " + accounts[1]}})
	if err == nil || resp == nil || resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("fourth connection: %v %v; want 503 with Retry-After", resp, err)
	}
	mreq, _ := http.NewRequest(http.MethodGet, ts.url+"/metrics", nil)
	mreq.Header.Set("Authorization", "Bearer "+ts.admin)
	metrics, err := http.DefaultClient.Do(mreq)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(metrics.Body)
	metrics.Body.Close()
	if !strings.Contains(string(body), "\ntiendo_live_refused_total 1\n") {
		t.Errorf("/metrics does not count the refusal:\n%s", body)
	}
	open[0].Close()
	open = open[1:]
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn, _, err := dial(t, ts, "scope=province", http.Header{"Authorization": {"Bearer " + accounts[0]}})
		if err == nil {
			open = append(open, conn)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a closed connection did not free its slot: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// signIn creates a user and signs in through the form, returning the cookie.
func signIn(t *testing.T, ts *testServer, name, role, subject string) string {
	t.Helper()
	body := fmt.Sprintf(`{"name":%q,"role":%q,"subject":%q,"password":"correct horse battery"}`, name, role, subject)
	if got := request(t, "POST", ts.url+"/api/v1/admin/users", ts.admin, body); got != 201 {
		t.Fatalf("add user: %d", got)
	}
	form := url.Values{"name": {name}, "password": {"correct horse battery"}, "next": {"/"}}
	req, _ := http.NewRequest("POST", ts.url+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", ts.url) // as a browser does; sign-in without it is refused
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 303 {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "tiendo_session" {
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
				t.Errorf("session cookie not HttpOnly/SameSite=Lax: %+v", c)
			}
			return c.Name + "=" + c.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}
