package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"tiendo/server"
	"tiendo/store/local"
)

// logBuffer collects the server's log for the audit tests.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// audit returns the audit lines with message msg.
func (l *logBuffer) audit(msg string) []string {
	var out []string
	for _, line := range strings.Split(l.String(), "\n") {
		if strings.Contains(line, fmt.Sprintf("msg=%q", msg)) && strings.Contains(line, " audit=true") {
			out = append(out, line)
		}
	}
	return out
}

// signinServer is startTestServer with the log kept, and cheap password
// hashes unless slowHashes (the sign-in limits count tries, not CPU; a
// real hash takes 1.5 s under -race).
type signinServer struct {
	*testServer
	log   *logBuffer
	state *local.DB
}

func startSigninServer(t *testing.T, slowHashes bool, opts ...func(*server.Config)) *signinServer {
	t.Helper()
	logs := &logBuffer{}
	ts, state := bootTestServer(t, "signin", logs, func(state *local.DB) {
		if !slowHashes {
			state.SetPasswordIterations(1000)
		}
	}, opts...)
	return &signinServer{testServer: ts, log: logs, state: state}
}

func trustLoopbackProxy(c *server.Config) { c.TrustedProxies = []string{"127.0.0.1"} }

// reply is an answer read in full.
type reply struct {
	status  int
	header  http.Header
	cookies []*http.Cookie
	body    string
}

func (r reply) cookie(name string) *http.Cookie {
	for _, c := range r.cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// send makes one request without following redirects.
func send(t *testing.T, method, u string, form url.Values, h http.Header) reply {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, cookies: resp.Cookies(), body: string(b)}
}

// login posts the sign-in form as a browser on ts would (with its Origin);
// extra headers are added or override.
func (ts *testServer) login(t *testing.T, name, password string, extra http.Header) reply {
	t.Helper()
	h := http.Header{"Origin": {ts.url}}
	for k, v := range extra {
		h[k] = v
	}
	return send(t, "POST", ts.url+"/login", url.Values{"name": {name}, "password": {password}, "next": {"/"}}, h)
}

// addUser makes (or resets) a user through the admin API.
func (ts *testServer) addUser(t *testing.T, name, role, subject, password string) {
	t.Helper()
	body := fmt.Sprintf(`{"name":%q,"role":%q,"subject":%q,"password":%q}`, name, role, subject, password)
	if got := request(t, "POST", ts.url+"/api/v1/admin/users", ts.admin, body); got != 201 {
		t.Fatalf("add user %s: %d", name, got)
	}
}

func statuses(rs []reply) []int {
	out := make([]int, len(rs))
	for i, r := range rs {
		out[i] = r.status
	}
	return out
}

// H2: an oversized name is refused like a wrong password without being
// kept: 400 names of 8 KiB leave the server's heap where it was (before,
// each stayed in the limiter's map for good), and an 8 KiB password is
// never hashed. Bodies past the forms' 16 KiB are refused before they are
// read (413; before, a 4 MB name was read, parsed and kept).
func TestSigninOversizedInputIsNotKept(t *testing.T) {
	ts := startSigninServer(t, true)
	ts.addUser(t, "lan", "leader", "", "correct horse battery")
	huge := strings.Repeat("n", 8<<10)
	t0 := time.Now()
	ts.login(t, "warm-up", "x", nil) // one real hash, for scale
	oneHash := time.Since(t0)
	runtime.GC()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	for i := 0; i < 400; i++ {
		r := ts.login(t, fmt.Sprintf("%s%d", huge, i), "wrong", nil)
		if r.status != 401 || !strings.Contains(r.body, "Sai tên đăng nhập hoặc mật khẩu") {
			t.Fatalf("8 KiB name: %d, want the wrong-password page", r.status)
		}
	}
	r := ts.login(t, "lan", strings.Repeat("p", 8<<10), nil)
	took := time.Since(start)
	if r.status != 401 {
		t.Fatalf("8 KiB password: %d, want 401", r.status)
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("401 requests of 8 KiB: heap %+.1f MB, %v", float64(grew)/(1<<20), took)
	if grew > 1<<20 {
		t.Errorf("the heap kept %.1f MB after 400 names of 8 KiB (3.2 MB)", float64(grew)/(1<<20))
	}
	// No hash was computed: 401 would take 401 times oneHash.
	if took > 10*oneHash {
		t.Errorf("401 oversized sign-ins took %v, one hash %v: were they hashed?", took, oneHash)
	}
	if r := ts.login(t, strings.Repeat("n", 1<<20), "wrong", nil); r.status != 413 {
		t.Errorf("a 1 MB name: %d, want 413 before the body is read", r.status)
	}
	if n := len(ts.log.audit("sign-in failed")); n < 401 || strings.Contains(ts.log.String(), "nnnnnnnnnn") {
		t.Errorf("%d audit lines, or the log holds the huge name", n)
	}
}

// M3(b), M4: behind a trusted proxy, limits follow the rightmost address
// that is not a proxy. An attacker who writes a new left-most
// X-Forwarded-For on every try is still one address, locked after 10;
// the real user from another address signs in straight afterwards.
func TestSigninLimitsFollowTheRealClientAddress(t *testing.T) {
	ts := startSigninServer(t, false, trustLoopbackProxy)
	ts.addUser(t, "chief1", "chief", "S1", "correct horse battery")
	var got []reply
	for i := 0; i < 11; i++ {
		// What nginx sends on for a client at 203.0.113.9 that wrote its own header.
		got = append(got, ts.login(t, "chief1", "wrong guess", http.Header{"X-Forwarded-For": {fmt.Sprintf("10.9.%d.1, 203.0.113.9", i)}}))
	}
	want := []int{401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 429}
	if fmt.Sprint(statuses(got)) != fmt.Sprint(want) {
		t.Fatalf("spoofing attacker: %v, want %v", statuses(got), want)
	}
	if ra := got[10].header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("429 without Retry-After: %q", ra)
	}
	if r := ts.login(t, "chief1", "correct horse battery", http.Header{"X-Forwarded-For": {"198.51.100.7"}}); r.status != 303 {
		t.Fatalf("the real user from another address: %d, want 303", r.status)
	}
	lines := ts.log.audit("sign-in failed")
	if len(lines) != 11 || !strings.Contains(lines[0], "addr=203.0.113.9") || !strings.Contains(lines[10], `reason="rate limited"`) {
		t.Errorf("audit of the attack:\n%s", strings.Join(lines, "\n"))
	}
}

// Without trusted proxies X-Forwarded-For is nobody's word: every try is
// the TCP peer's, however the header varies.
func TestSigninIgnoresForwardedForFromUntrustedPeers(t *testing.T) {
	ts := startSigninServer(t, false)
	var got []int
	for i := 0; i < 11; i++ {
		got = append(got, ts.login(t, "px", "wrong guess", http.Header{"X-Forwarded-For": {fmt.Sprintf("10.8.%d.1", i)}}).status)
	}
	if got[9] != 401 || got[10] != 429 {
		t.Fatalf("varying X-Forwarded-For from an untrusted peer: %v, want ten 401 then 429", got)
	}
}

// M5: one address spraying many names is held after 30, whatever names.
func TestSigninLimitPerAddress(t *testing.T) {
	ts := startSigninServer(t, false, trustLoopbackProxy)
	var got []int
	for i := 0; i < 31; i++ {
		got = append(got, ts.login(t, fmt.Sprintf("user%d", i), "Password1", http.Header{"X-Forwarded-For": {"192.0.2.1"}}).status)
	}
	if got[29] != 401 || got[30] != 429 {
		t.Fatalf("31 names from one address: %v, want 30 × 401 then 429", got)
	}
	if r := ts.login(t, "user31", "Password1", http.Header{"X-Forwarded-For": {"192.0.2.2"}}); r.status != 401 {
		t.Errorf("another address was held too: %d", r.status)
	}
	if l := ts.log.audit("sign-in failed"); !strings.Contains(l[30], "limit=address") {
		t.Errorf("the refusal does not name the address limit: %s", l[30])
	}
}

// M3(b): everybody behind one address (a NAT, or a proxy without
// --trusted-proxies). An attacker there locks the name for that address,
// but a browser that signed in as that user before still gets in: its
// device cookie counts its tries on their own. Before, the real user got
// 429 after the attacker's eleventh try.
func TestKnownDeviceSignsInDuringLockout(t *testing.T) {
	ts := startSigninServer(t, false)
	ts.addUser(t, "chief1", "chief", "S1", "correct horse battery")
	first := ts.login(t, "chief1", "correct horse battery", nil)
	dev := first.cookie("tiendo_device")
	if first.status != 303 || dev == nil || !dev.HttpOnly || dev.Path != "/login" {
		t.Fatalf("first sign-in: %d, device cookie %+v", first.status, dev)
	}
	for i := 0; i < 11; i++ {
		ts.login(t, "chief1", "wrong guess", nil)
	}
	if r := ts.login(t, "chief1", "correct horse battery", nil); r.status != 429 {
		t.Fatalf("setup: a browser without the device cookie got %d, want 429", r.status)
	}
	cookie := http.Header{"Cookie": {dev.Name + "=" + dev.Value}}
	if r := ts.login(t, "chief1", "correct horse battery", cookie); r.status != 303 {
		t.Fatalf("the known device during the lockout: %d, want 303", r.status)
	}
	// The cookie is for that name only.
	for i := 0; i < 11; i++ {
		ts.login(t, "other", "wrong guess", nil)
	}
	if r := ts.login(t, "other", "wrong guess", cookie); r.status != 429 {
		t.Errorf("chief1's device cookie lifted the limit of another name: %d", r.status)
	}
}

// M5: past the pool of concurrent hashings (GOMAXPROCS) a sign-in gets
// 429 with Retry-After at once, never a queue. Real hashes here.
func TestSigninHashPoolAnswersBusyAtOnce(t *testing.T) {
	ts := startSigninServer(t, true, trustLoopbackProxy)
	n := 4*runtime.GOMAXPROCS(0) + 4
	type result struct {
		r    reply
		took time.Duration
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			t0 := time.Now()
			r := ts.login(t, fmt.Sprintf("busy%d", i), "Password1", http.Header{"X-Forwarded-For": {fmt.Sprintf("10.7.0.%d", i+1)}})
			results[i] = result{r, time.Since(t0)}
		}()
	}
	close(start)
	wg.Wait()
	var busy, hashed []time.Duration
	for _, res := range results {
		switch res.r.status {
		case 401:
			hashed = append(hashed, res.took)
		case 429:
			if res.r.header.Get("Retry-After") != "1" {
				t.Errorf("busy 429 with Retry-After %q, want 1", res.r.header.Get("Retry-After"))
			}
			busy = append(busy, res.took)
		default:
			t.Errorf("status %d, want 401 or 429", res.r.status)
		}
	}
	if len(busy) == 0 {
		t.Fatalf("%d concurrent sign-ins with a pool of %d: none was refused as busy", n, runtime.GOMAXPROCS(0))
	}
	sort.Slice(busy, func(i, j int) bool { return busy[i] < busy[j] })
	t.Logf("%d of %d refused busy; 429 latency p50 %v, max %v; hashed ones %v", len(busy), n, busy[len(busy)/2], busy[len(busy)-1], hashed)
	if l := ts.log.audit("sign-in failed"); !strings.Contains(strings.Join(l, "\n"), "reason=busy") {
		t.Errorf("no busy refusal in the audit trail")
	}

	// One at a time while the pool is held: a refusal does not wait for a
	// slot, so it comes back before the first hash holding one ends. (An
	// order, not a ratio of durations: on a loaded 2-core machine a refusal
	// can take as long as a hash, but it cannot end after a slot was freed
	// unless it waited for one.) The held hashes are made to last about a
	// second (600,000 iterations is the default cost), so three refusals fit
	// inside them however loaded the machine.
	sort.Slice(hashed, func(i, j int) bool { return hashed[i] < hashed[j] })
	factor := 1
	if len(hashed) > 0 && hashed[0] > 0 {
		factor = min(int(time.Second/hashed[0])+1, 20)
	}
	ts.state.SetPasswordIterations(factor * 600_000)
	var hold sync.WaitGroup
	heldEnd := make([]time.Time, runtime.GOMAXPROCS(0))
	for i := range heldEnd {
		hold.Add(1)
		go func() {
			defer hold.Done()
			ts.login(t, fmt.Sprintf("hold%d", i), "Password1", http.Header{"X-Forwarded-For": {fmt.Sprintf("10.6.0.%d", i+1)}})
			heldEnd[i] = time.Now()
		}()
	}
	// Wait until the holds have taken every slot (the operator's gauge),
	// not a fixed sleep: on a loaded machine a hold can reach the pool
	// after the first lone sign-in, which is then hashed, not refused.
	waitHashing(t, ts, runtime.GOMAXPROCS(0))
	var refusedEnd []time.Time
	var refusedTook []time.Duration
	held0 := time.Now()
	for i := 0; i < 3; i++ {
		t0 := time.Now()
		r := ts.login(t, fmt.Sprintf("alone%d", i), "Password1", http.Header{"X-Forwarded-For": {fmt.Sprintf("10.5.0.%d", i+1)}})
		if r.status == 429 {
			refusedEnd = append(refusedEnd, time.Now())
			refusedTook = append(refusedTook, time.Since(t0))
		}
	}
	hold.Wait()
	if len(refusedEnd) == 0 {
		t.Fatal("no request was refused while every slot was held")
	}
	firstFreed := heldEnd[0]
	for _, e := range heldEnd[1:] {
		if e.Before(firstFreed) {
			firstFreed = e
		}
	}
	t.Logf("with the pool held: %d busy refusals, the last %v before the first slot was freed", len(refusedEnd), firstFreed.Sub(refusedEnd[len(refusedEnd)-1]))
	for i, e := range refusedEnd {
		// A refusal observed by the client after a slot was freed did
		// wait: the handler answered 429 only once the hashes ended.
		if e.After(firstFreed) {
			t.Errorf("busy refusal %d came back %v after the first slot was freed: it waited for the hashes", i, e.Sub(firstFreed))
		}
		// Nor a shorter wait: a refusal takes a small part of a hash.
		if took, hash := refusedTook[i], firstFreed.Sub(held0); took > hash/4 {
			t.Errorf("busy refusal %d took %v while a held hash took over %v: it waited", i, took, hash)
		}
	}
}

// waitHashing polls /metrics until tiendo_signin_hashes_in_progress is n.
func waitHashing(t *testing.T, ts *signinServer, n int) {
	t.Helper()
	want := fmt.Sprintf("tiendo_signin_hashes_in_progress %d\n", n)
	var body string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, body = get(t, ts.url+"/metrics", ts.admin); strings.Contains(body, want) {
			return
		}
	}
	i := strings.Index(body, "tiendo_signin_hashes_in_progress ")
	t.Fatalf("the hash pool never held %d sign-ins; /metrics says %.40q", n, body[max(i, 0):])
}

// M3(c): every cookie the server sets gets Secure with --secure-cookies,
// or when a trusted proxy says the request came over HTTPS; never on a
// plain request, nor on an untrusted peer's word.
func TestCookiesSecure(t *testing.T) {
	check := func(name string, ts *signinServer, h http.Header, origin string, want bool) {
		t.Helper()
		user := "u-" + strings.ReplaceAll(name, " ", "-")
		ts.addUser(t, user, "leader", "", "correct horse battery")
		h.Set("Origin", origin)
		r := ts.login(t, user, "correct horse battery", h)
		if r.status != 303 {
			t.Fatalf("%s: sign-in %d %s", name, r.status, r.body)
		}
		page := send(t, "GET", ts.url+"/login?lang=en&theme=dark", nil, h)
		all := append(r.cookies, page.cookies...)
		seen := map[string]bool{}
		for _, c := range all {
			seen[c.Name] = true
			if c.Secure != want {
				t.Errorf("%s: cookie %s Secure=%v, want %v", name, c.Name, c.Secure, want)
			}
		}
		for _, n := range []string{"tiendo_session", "tiendo_device", "tiendo_lang", "tiendo_theme"} {
			if !seen[n] {
				t.Errorf("%s: no %s cookie set", name, n)
			}
		}
	}
	plain := startSigninServer(t, false, trustLoopbackProxy)
	check("plain", plain, http.Header{}, plain.url, false)
	https := "https://" + strings.TrimPrefix(plain.url, "http://")
	check("trusted proxy https", plain, http.Header{"X-Forwarded-Proto": {"https"}}, https, true)
	flag := startSigninServer(t, false, func(c *server.Config) { c.SecureCookies = true })
	check("secure-cookies", flag, http.Header{}, "https://"+strings.TrimPrefix(flag.url, "http://"), true)
	untrusted := startSigninServer(t, false)
	check("untrusted X-Forwarded-Proto", untrusted, http.Header{"X-Forwarded-Proto": {"https"}}, untrusted.url, false)
}

// M2: a session follows its user record. A password reset, a role change
// and a removal each end it at once (before, the old cookie kept reading
// the province for the rest of its 20 hours).
func TestSessionsFollowTheUserRecord(t *testing.T) {
	ts := startSigninServer(t, false)
	province := ts.url + "/api/v1/snapshot?scope=province"
	readsProvince := func(cookie string) int {
		return send(t, "GET", province, nil, http.Header{"Cookie": {cookie}}).status
	}
	signInCookie := func() string {
		r := ts.login(t, "revtest", "correct horse battery", nil)
		c := r.cookie("tiendo_session")
		if r.status != 303 || c == nil {
			t.Fatalf("sign-in: %d", r.status)
		}
		return c.Name + "=" + c.Value
	}
	ts.addUser(t, "revtest", "leader", "", "correct horse battery")
	old := signInCookie()
	if got := readsProvince(old); got != 200 {
		t.Fatalf("fresh session: %d", got)
	}
	ts.addUser(t, "revtest", "leader", "", "correct horse battery") // a reset, even to the same password
	if got := readsProvince(old); got != 401 {
		t.Errorf("session after a password reset: %d, want 401", got)
	}
	leader := signInCookie()
	ts.addUser(t, "revtest", "district", "D1", "correct horse battery")
	if got := readsProvince(leader); got != 401 {
		t.Errorf("leader session after the user became district:D1: %d, want 401", got)
	}
	district := signInCookie()
	if got := send(t, "GET", ts.url+"/api/v1/snapshot?scope=district:D1", nil, http.Header{"Cookie": {district}}).status; got != 200 {
		t.Fatalf("district session: %d", got)
	}
	remove := func(token, name string) int {
		return request(t, "POST", ts.url+"/api/v1/admin/users/remove", token, fmt.Sprintf(`{"name":%q}`, name))
	}
	if got := remove(ts.token(t, `{"role":"leader"}`), "revtest"); got != 403 {
		t.Errorf("remove with a leader token: %d, want 403", got)
	}
	if got := remove(ts.admin, "revtest"); got != 200 {
		t.Fatalf("remove: %d", got)
	}
	if got := send(t, "GET", ts.url+"/api/v1/snapshot?scope=district:D1", nil, http.Header{"Cookie": {district}}).status; got != 401 {
		t.Errorf("session of a removed user: %d, want 401", got)
	}
	if r := ts.login(t, "revtest", "correct horse battery", nil); r.status != 401 {
		t.Errorf("a removed user signed in: %d", r.status)
	}
	if got := remove(ts.admin, "revtest"); got != 404 {
		t.Errorf("removing a removed user: %d, want 404", got)
	}
}

// I4: each security event leaves one audit line naming who and where,
// and no line holds a secret.
func TestAuditTrail(t *testing.T) {
	ts := startSigninServer(t, false, trustLoopbackProxy)
	at := http.Header{"X-Forwarded-For": {"198.51.100.20"}}
	ts.addUser(t, "lan", "leader", "", "correct horse battery")
	ts.login(t, "lan", "not the password", at)
	ts.login(t, "nobody", "not the password", at)
	ts.login(t, "bad name!", "x", at)
	ok := ts.login(t, "lan", "correct horse battery", at)
	session := ok.cookie("tiendo_session")
	logout := send(t, "POST", ts.url+"/logout", url.Values{}, http.Header{"Origin": {ts.url}, "Cookie": {session.Name + "=" + session.Value}})
	if logout.status != 303 {
		t.Fatalf("logout: %d", logout.status)
	}
	ts.addUser(t, "lan", "leader", "", "another good password")
	if got := request(t, "POST", ts.url+"/api/v1/admin/users/remove", ts.admin, `{"name":"lan"}`); got != 200 {
		t.Fatalf("remove: %d", got)
	}
	secret, id := ts.issue(t, `{"role":"screen"}`)
	link := screenLink(t, ts.testServer, id)
	used := send(t, "POST", ts.url+link, url.Values{}, http.Header{"Origin": {ts.url}, "X-Forwarded-For": {"198.51.100.30"}})
	if used.status != 303 {
		t.Fatalf("screen link: %d", used.status)
	}
	if got := request(t, "POST", ts.url+"/api/v1/admin/tokens/revoke", ts.admin, fmt.Sprintf(`{"id":%q}`, id)); got != 200 {
		t.Fatalf("revoke: %d", got)
	}
	csv := "id,name,district,commune,kind,lanes,lat,lon,quota,synthetic\nS1,Trạm 1,D1,,fixed,2,21.9,106.3,600,false\n"
	req, _ := http.NewRequest("POST", ts.url+"/api/v1/admin/stations", strings.NewReader(csv))
	req.Header.Set("Authorization", "Bearer "+ts.admin)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("import: %d", resp.StatusCode)
	}

	adminID := ""
	for _, l := range ts.log.audit("token issued") {
		if strings.Contains(l, "role=screen") {
			adminID = l[strings.Index(l, "by=token:")+len("by=token:"):]
		}
	}
	if len(adminID) != 12 {
		t.Fatalf("token issue names no admin token id: %q", adminID)
	}
	by := "by=token:" + adminID
	want := []struct{ msg, has string }{
		{"sign-in failed", `user=lan addr=198.51.100.20 reason="wrong password"`},
		{"sign-in failed", `user=nobody addr=198.51.100.20 reason="unknown user"`},
		{"sign-in failed", `addr=198.51.100.20 reason="invalid input"`},
		{"signed in", "user=lan role=leader"},
		{"signed out", "who=user:lan"},
		{"user added", "name=lan role=leader"},
		{"user reset", "name=lan role=leader subject=\"\" " + by},
		{"user removed", "name=lan " + by},
		{"token issued", "id=" + id + " role=screen"},
		{"screen link created", "token=" + id},
		{"screen link used", "token=" + id + " addr=198.51.100.30"},
		{"token revoked", "id=" + id + " role=screen subject=\"\" " + by},
		{"stations imported", "count=1 " + by},
	}
	for _, w := range want {
		found := false
		for _, l := range ts.log.audit(w.msg) {
			found = found || strings.Contains(l, w.has)
		}
		if !found {
			t.Errorf("no audit line %q with %q; have:\n%s", w.msg, w.has, strings.Join(ts.log.audit(w.msg), "\n"))
		}
	}
	all := ts.log.String()
	for _, s := range []string{"correct horse battery", "another good password", "not the password", secret, ts.admin,
		session.Value, strings.TrimPrefix(link, "/screen/activate/")} {
		if strings.Contains(all, s) {
			t.Errorf("the log holds a secret: %q", s)
		}
	}
}

// screenLink makes a one-time link for screen token id and returns its path.
func screenLink(t *testing.T, ts *testServer, id string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", ts.url+"/api/v1/admin/screen-links", strings.NewReader(fmt.Sprintf(`{"id":%q}`, id)))
	req.Header.Set("Authorization", "Bearer "+ts.admin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Path string }
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 || !strings.Contains(string(b), `"path"`) {
		t.Fatalf("screen link: %d %s", resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out.Path
}

// I1: a station token on / gets a 403 page, not a redirect to itself.
func TestStationTokenOnOverviewIsForbidden(t *testing.T) {
	ts := startSigninServer(t, false)
	station := ts.token(t, `{"station":"S1"}`)
	r := send(t, "GET", ts.url+"/", nil, http.Header{"Authorization": {"Bearer " + station}})
	if r.status != 403 || !strings.Contains(r.body, "chỉ dùng để gửi số liệu") {
		t.Fatalf("station token on /: %d (Location %q), want the 403 page", r.status, r.header.Get("Location"))
	}
	// Others still land on their home.
	district := ts.token(t, `{"role":"district","subject":"D1"}`)
	if r := send(t, "GET", ts.url+"/", nil, http.Header{"Authorization": {"Bearer " + district}}); r.status != 303 || r.header.Get("Location") != "/district/D1" {
		t.Errorf("district token on /: %d %q", r.status, r.header.Get("Location"))
	}
}

// I2: the origin of a form post or an upgrade matches the request's own
// on scheme, host and port; sign-in and sign-out without Origin are
// refused (browsers always send it on POST).
func TestOriginComparesSchemeHostAndPort(t *testing.T) {
	ts := startSigninServer(t, false)
	ts.addUser(t, "lan", "leader", "", "correct horse battery")
	hostport := strings.TrimPrefix(ts.url, "http://")
	host, port, _ := net.SplitHostPort(hostport)
	other := fmt.Sprintf("http://%s:%d", host, 1+atoi(t, port))
	cases := []struct {
		origin []string
		want   int
	}{
		{[]string{ts.url}, 303},
		{[]string{strings.ToUpper(ts.url[:4]) + ts.url[4:]}, 303}, // scheme and host are case-insensitive
		{[]string{"https://" + hostport}, 403},                    // another scheme (was accepted)
		{[]string{other}, 403},                                    // another port
		{[]string{"http://evil.example"}, 403},
		{[]string{"null"}, 403},
		{nil, 403}, // no Origin at all (was accepted)
	}
	for _, c := range cases {
		h := http.Header{"Origin": c.origin}
		if c.origin == nil {
			h = http.Header{"Origin": nil}
		}
		form := url.Values{"name": {"lan"}, "password": {"correct horse battery"}}
		req := send(t, "POST", ts.url+"/login", form, dropEmpty(h))
		if req.status != c.want {
			t.Errorf("login with Origin %v: %d, want %d", c.origin, req.status, c.want)
		}
	}
	// Sign-out: the same rule.
	for _, c := range []struct {
		origin string
		want   int
	}{{"", 403}, {"http://evil.example", 403}, {"https://" + hostport, 403}, {ts.url, 303}} {
		h := http.Header{}
		if c.origin != "" {
			h.Set("Origin", c.origin)
		}
		if got := send(t, "POST", ts.url+"/logout", url.Values{}, h).status; got != c.want {
			t.Errorf("logout with Origin %q: %d, want %d", c.origin, got, c.want)
		}
	}
	// The live stream shares the rule: a cookie upgrade from the https
	// origin of our host is another site.
	r := ts.login(t, "lan", "correct horse battery", nil)
	cookie := r.cookie("tiendo_session")
	for origin, want := range map[string]int{ts.url: 101, "https://" + hostport: 403, other: 403} {
		conn, resp, err := dial(t, ts.testServer, "scope=province", http.Header{"Cookie": {cookie.Name + "=" + cookie.Value}, "Origin": {origin}})
		got := 101
		if err != nil {
			got = 0
			if resp != nil {
				got = resp.StatusCode
			}
		} else {
			conn.Close()
		}
		if got != want {
			t.Errorf("/ws with a cookie from %s: %d, want %d", origin, got, want)
		}
	}
}

func dropEmpty(h http.Header) http.Header {
	for k, v := range h {
		if len(v) == 0 {
			delete(h, k)
		}
	}
	return h
}

func atoi(t *testing.T, s string) int {
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// L3: whether a station or district exists is told only to those who may
// see it: anonymous browsers are sent to sign-in, and an account without
// the right gets 403, for known and unknown ids alike.
func TestPagesSayNothingOfTheRegistryToOutsiders(t *testing.T) {
	ts := startSigninServer(t, false)
	district := http.Header{"Authorization": {"Bearer " + ts.token(t, `{"role":"district","subject":"D1"}`)}}
	admin := http.Header{"Authorization": {"Bearer " + ts.admin}}
	cases := []struct {
		who    string
		h      http.Header
		known  string
		absent string
		want   int
	}{
		{"anonymous", http.Header{}, "/station/S1", "/station/LS-NOPE-X", 303},
		{"anonymous", http.Header{}, "/district/D1", "/district/NOPE", 303},
		{"district:D1", district, "/station/S2", "/station/LS-NOPE-X", 403},
		{"district:D1", district, "/district/D2", "/district/NOPE", 403},
	}
	for _, c := range cases {
		k, a := send(t, "GET", ts.url+c.known, nil, c.h), send(t, "GET", ts.url+c.absent, nil, c.h)
		if k.status != c.want || a.status != c.want {
			t.Errorf("%s: %s %d, %s %d; want %d for both", c.who, c.known, k.status, c.absent, a.status, c.want)
		}
		if c.want == 303 && !strings.HasPrefix(a.header.Get("Location"), "/login?next=") {
			t.Errorf("%s %s: Location %q", c.who, c.absent, a.header.Get("Location"))
		}
	}
	if got := send(t, "GET", ts.url+"/station/LS-NOPE-X", nil, admin).status; got != 404 {
		t.Errorf("admin, unknown station: %d, want 404", got)
	}
	// The public report form fills any well-formed id in, known or not.
	known := send(t, "GET", ts.url+"/report?station=S1", nil, nil)
	absent := send(t, "GET", ts.url+"/report?station=LS-NOPE-X", nil, nil)
	if !strings.Contains(known.body, `data-station="S1"`) || !strings.Contains(absent.body, `data-station="LS-NOPE-X"`) {
		t.Errorf("/report tells known from unknown stations apart")
	}
}

// L6: opening a one-time screen link shows a confirmation; only its
// button (a POST from our own page) uses the code, so a link preview that
// fetches the URL cannot burn it.
func TestScreenLinkIsUsedOnlyByItsButton(t *testing.T) {
	ts := startSigninServer(t, false)
	_, id := ts.issue(t, `{"role":"screen"}`)
	link := screenLink(t, ts.testServer, id)
	for i := 0; i < 2; i++ { // a previewer, then the person
		r := send(t, "GET", ts.url+link, nil, nil)
		if r.status != 200 || !strings.Contains(r.body, `<form method="post" action="`+link+`"`) || r.cookie("tiendo_session") != nil {
			t.Fatalf("GET %d of the link: %d, session %v; want the confirmation page\n%s", i+1, r.status, r.cookie("tiendo_session"), r.body)
		}
	}
	if r := send(t, "POST", ts.url+link, url.Values{}, http.Header{"Origin": {"http://evil.example"}}); r.status != 403 {
		t.Fatalf("POST from another site: %d, want 403", r.status)
	}
	if r := send(t, "POST", ts.url+link, url.Values{}, nil); r.status != 403 {
		t.Fatalf("POST without Origin: %d, want 403", r.status)
	}
	r := send(t, "POST", ts.url+link, url.Values{}, http.Header{"Origin": {ts.url}})
	session := r.cookie("tiendo_session")
	if r.status != 303 || r.header.Get("Location") != "/screen" || session == nil {
		t.Fatalf("the button: %d %q, session %v", r.status, r.header.Get("Location"), session)
	}
	if got := send(t, "GET", ts.url+"/screen", nil, http.Header{"Cookie": {session.Name + "=" + session.Value}}).status; got != 200 {
		t.Errorf("/screen with the new session: %d", got)
	}
	if again := send(t, "POST", ts.url+link, url.Values{}, http.Header{"Origin": {ts.url}}); again.status != 401 || again.cookie("tiendo_session") != nil {
		t.Errorf("second use: %d, want 401 and no session", again.status)
	}
}

// M2 with the live stream: a reset, a removal or a sign-out closes the
// person's open sockets at once (the server closes the TCP connection),
// not only their next request.
func TestAccountChangesCloseOpenSockets(t *testing.T) {
	ts := startSigninServer(t, false)
	cases := []struct {
		name   string
		change func(user, cookie string)
	}{
		{"password reset", func(user, _ string) { ts.addUser(t, user, "leader", "", "a new password!") }},
		{"removal", func(user, _ string) {
			if got := request(t, "POST", ts.url+"/api/v1/admin/users/remove", ts.admin, fmt.Sprintf(`{"name":%q}`, user)); got != 200 {
				t.Fatalf("remove: %d", got)
			}
		}},
		{"sign-out", func(_, cookie string) {
			if r := send(t, "POST", ts.url+"/logout", url.Values{}, http.Header{"Origin": {ts.url}, "Cookie": {cookie}}); r.status != 303 {
				t.Fatalf("logout: %d", r.status)
			}
		}},
	}
	for i, c := range cases {
		user := fmt.Sprintf("live%d", i)
		ts.addUser(t, user, "leader", "", "correct horse battery")
		r := ts.login(t, user, "correct horse battery", nil)
		sc := r.cookie("tiendo_session")
		cookie := sc.Name + "=" + sc.Value
		_, raw := rawWS(t, ts.testServer, "scope=province", http.Header{"Cookie": {cookie}, "Origin": {ts.url}}, 0)
		time.Sleep(200 * time.Millisecond) // subscribed, first snapshot on its way
		c.change(user, cookie)
		if err := serverClosed(raw, 5*time.Second); err != nil {
			t.Errorf("%s: the session's socket stayed open: %v", c.name, err)
		}
	}
}
