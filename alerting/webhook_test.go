package alerting_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"tiendo"
	"tiendo/alerting"
)

// receiver is a real HTTP server on loopback that records what it gets
// and answers each post as answer says (by the alert's id and the attempt).
type receiver struct {
	srv *httptest.Server

	mu        sync.Mutex
	attempts  map[string]int
	delivered map[string]int // 2xx answers per id
	notices   map[string]alerting.Notice
	answer    func(id string, attempt int) int
}

func newReceiver(t *testing.T, answer func(id string, attempt int) int) *receiver {
	r := &receiver{attempts: map[string]int{}, delivered: map[string]int{}, notices: map[string]alerting.Notice{}, answer: answer}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var n alerting.Notice
		if err := json.Unmarshal(body, &n); err != nil || req.Method != http.MethodPost ||
			req.Header.Get("Content-Type") != "application/json" || req.Header.Get("Idempotency-Key") != n.Alert.ID {
			t.Errorf("bad post: %s %q %v headers %v", req.Method, body, err, req.Header)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.attempts[n.Alert.ID]++
		status := r.answer(n.Alert.ID, r.attempts[n.Alert.ID])
		if status < 300 {
			r.delivered[n.Alert.ID]++
			r.notices[n.Alert.ID] = n
		}
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) count(m map[string]int) (ids, total int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range m {
		ids++
		total += n
	}
	return ids, total
}

func (f *fixture) webhook(url string, maxPending int) (*alerting.Webhook, *prometheus.Registry) {
	f.t.Helper()
	reg := prometheus.NewRegistry()
	w, err := alerting.NewWebhook(alerting.WebhookConfig{URL: url, Store: f.db, Registry: func() *tiendo.Registry { return f.reg },
		Backoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond, MaxPending: maxPending, Metrics: reg})
	if err != nil {
		f.t.Fatal(err)
	}
	return w, reg
}

func results(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			out[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	return out
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// openThree opens three alerts a minute apart: S1 silent, S2's long
// wait, D2 behind.
func openThree(f *fixture) {
	f.p.heartbeat("S1", at(20, 20, 0), tiendo.StatusOpen, 3)
	f.p.heartbeat("S2", at(20, 20, 16), tiendo.StatusOpen, 2)
	if got := f.round(at(20, 20, 16)); len(got) != 1 {
		f.t.Fatalf("first round: %v", kinds(got))
	}
	f.p.heartbeat("S2", at(20, 20, 17), tiendo.StatusOpen, 50)
	if got := f.round(at(20, 20, 17)); len(got) != 2 {
		f.t.Fatalf("second round: %v", kinds(got))
	}
	f.p.set("S2", func(s *tiendo.StationStats) { s.Completed = 0 })
	if got := f.round(at(20, 20, 18)); len(got) != 3 {
		f.t.Fatalf("third round: %v", kinds(got))
	}
}

// Each opened alert reaches a real receiver exactly once though the
// receiver fails every first post with a 500: retried after a backoff,
// delivered, its mark cleared, later rounds posting nothing again.
func TestWebhookEachAlertOnceRetriedAfter500(t *testing.T) {
	f := newFixture(t, at(20, 20, 0))
	rcv := newReceiver(t, func(_ string, attempt int) int {
		if attempt == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	w, metrics := f.webhook(rcv.srv.URL, 0)
	f.notify = w.Wake
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	openThree(f)
	eventually(t, "three alerts delivered", func() bool { ids, _ := rcv.count(rcv.delivered); return ids == 3 })
	// Rounds go on with the same alerts open: nothing more is posted.
	f.round(at(20, 20, 19))
	f.round(at(20, 20, 20))
	time.Sleep(200 * time.Millisecond)
	if ids, total := rcv.count(rcv.delivered); ids != 3 || total != 3 {
		t.Errorf("delivered %d posts of %d alerts, want each of 3 once", total, ids)
	}
	if ids, total := rcv.count(rcv.attempts); ids != 3 || total != 6 {
		t.Errorf("%d attempts for %d alerts, want 2 each (a 500, then a 200)", total, ids)
	}
	if marks, _ := f.db.AlertsToNotify(); len(marks) != 0 {
		t.Errorf("marks left: %v", kinds(marks))
	}
	if r := results(t, metrics); r["delivered"] != 3 || r["retried"] != 3 || r["refused"] != 0 || r["dropped"] != 0 {
		t.Errorf("webhook results %v", r)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	for _, a := range f.e.Of(tiendo.ProvinceScope) {
		n := rcv.notices[a.ID]
		if n.Event != "alert_opened" || n.Campaign != "t" || n.Alert.Kind != a.Kind || !n.Alert.Since.Equal(a.Since) {
			t.Errorf("notice of %s = %+v", a.ID, n)
		}
		switch a.Subject() {
		case "S1":
			if n.StationName != "Trạm 1" || n.DistrictName != "Một" {
				t.Errorf("names of S1's notice: %q %q", n.StationName, n.DistrictName)
			}
		case "D2":
			if n.StationName != "" || n.DistrictName != "Hai" {
				t.Errorf("names of D2's notice: %q %q", n.StationName, n.DistrictName)
			}
		}
	}
}

// A refusal (a 4xx other than 408 and 429) is not retried: the next alert
// goes on.
func TestWebhookRefusalNotRetried(t *testing.T) {
	f := newFixture(t, at(20, 20, 0))
	rcv := newReceiver(t, func(id string, _ int) int {
		if id[:6] == "silent" {
			return http.StatusUnprocessableEntity
		}
		return http.StatusNoContent
	})
	w, metrics := f.webhook(rcv.srv.URL, 0)
	openThree(f)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	eventually(t, "two delivered", func() bool { ids, _ := rcv.count(rcv.delivered); return ids == 2 })
	time.Sleep(100 * time.Millisecond)
	if _, total := rcv.count(rcv.attempts); total != 3 {
		t.Errorf("%d attempts, want 3 (the refused one once)", total)
	}
	if r := results(t, metrics); r["refused"] != 1 || r["delivered"] != 2 || r["retried"] != 0 {
		t.Errorf("results %v", r)
	}
}

// A receiver that does not answer never holds a round up; what it has not
// taken stays marked when the server stops, and the next start's webhook
// delivers it. Past MaxPending the oldest are dropped.
func TestWebhookNeverBlocksAndOutlastsRestarts(t *testing.T) {
	f := newFixture(t, at(20, 20, 0))
	hang := make(chan struct{})
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer stuck.Close()
	defer close(hang)
	w, _ := f.webhook(stuck.URL, 0)
	f.notify = w.Wake
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	start := time.Now()
	openThree(f)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("three rounds took %v with the receiver hanging", d)
	}
	time.Sleep(50 * time.Millisecond) // the worker is inside its first post
	cancel()
	<-done
	if marks, _ := f.db.AlertsToNotify(); len(marks) != 3 {
		t.Fatalf("marks after stopping: %v, want all 3", kinds(marks))
	}

	rcv := newReceiver(t, func(string, int) int { return http.StatusOK })
	w2, metrics := f.webhook(rcv.srv.URL, 2)
	ctx2, cancel2 := context.WithCancel(context.Background())
	done2 := make(chan struct{})
	go func() { w2.Run(ctx2); close(done2) }()
	defer func() { cancel2(); <-done2 }()
	eventually(t, "the two newest delivered", func() bool { ids, _ := rcv.count(rcv.delivered); return ids == 2 })
	time.Sleep(50 * time.Millisecond)
	rcv.mu.Lock()
	for id := range rcv.delivered {
		if id[:6] == "silent" {
			t.Errorf("the oldest (%s) was delivered; want it dropped past MaxPending 2", id)
		}
	}
	rcv.mu.Unlock()
	if r := results(t, metrics); r["dropped"] != 1 || r["delivered"] != 2 {
		t.Errorf("results %v", r)
	}
}

func TestWebhookURLChecked(t *testing.T) {
	for _, bad := range []string{"", "ftp://x/y", "localhost:9000/hook", "http://", "://x"} {
		if alerting.ValidWebhookURL(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if err := alerting.ValidWebhookURL("https://hooks.example.vn/tiendo?k=1"); err != nil {
		t.Error(err)
	}
}

// In a cluster the flush leader alone posts: a webhook whose node does not
// lead posts nothing and leaves the marks; once it leads, it posts each.
func TestWebhookPostsOnlyWhileLeading(t *testing.T) {
	f := newFixture(t, at(20, 20, 0))
	rcv := newReceiver(t, func(string, int) int { return http.StatusOK })
	var leads atomic.Bool
	w, err := alerting.NewWebhook(alerting.WebhookConfig{URL: rcv.srv.URL, Store: f.db, Registry: func() *tiendo.Registry { return f.reg },
		Backoff: 10 * time.Millisecond, Leading: leads.Load})
	if err != nil {
		t.Fatal(err)
	}
	f.notify = w.Wake
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	openThree(f)
	time.Sleep(300 * time.Millisecond)
	if ids, _ := rcv.count(rcv.attempts); ids != 0 {
		t.Fatalf("a node that does not lead posted %d alerts", ids)
	}
	if marks, _ := f.db.AlertsToNotify(); len(marks) != 3 {
		t.Fatalf("%d marks while not leading, want the 3 kept for the leader", len(marks))
	}
	leads.Store(true)
	eventually(t, "the three posted once the node leads", func() bool { ids, _ := rcv.count(rcv.delivered); return ids == 3 })
	if ids, total := rcv.count(rcv.delivered); ids != 3 || total != 3 {
		t.Errorf("delivered %d posts of %d alerts, want each of 3 once", total, ids)
	}
}
