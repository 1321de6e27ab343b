package alerting

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"tiendo"
)

// The webhook posts each newly opened alert once to an operator's URL (a
// chat bot, a pager). Its queue is the store's webhook marks, written in
// the same transaction that stores the opening, so a round never waits for
// the receiver, and an alert opened just before a kill -9 is still posted
// after the restart. One worker posts them oldest first, one at a time,
// each until the receiver takes it (2xx), retrying a failure (no answer,
// 408, 429, 5xx) with a doubling backoff up to MaxBackoff (a Retry-After
// up to 5 minutes is followed), and giving up on a refusal (other 4xx:
// sending the same body again cannot help). At most MaxPending wait: past
// that the oldest are dropped, counted and logged, since the newest matter
// most to the command room.
//
// A receiver down for an hour: the first waiting alert is tried again
// every minute (the default MaxBackoff), the alerts of the hour wait in
// state.db (a province opens a few dozen an hour; 1,000 at most), and
// within a minute of the receiver's return they arrive in the order they
// opened, each once, carrying their state at delivery (resolved_at if
// they resolved meanwhile). Delivery is at least once: a receiver that
// took an alert but whose answer was lost gets it again, so each post
// carries the alert's id (in the body and as Idempotency-Key) to dedupe.

// WebhookStore is the webhook's queue (store/local.DB).
type WebhookStore interface {
	AlertsToNotify() ([]tiendo.Alert, error)
	AlertNotified(id string) error
}

// WebhookConfig is what a Webhook is made of.
type WebhookConfig struct {
	URL      string
	Store    WebhookStore
	Registry func() *tiendo.Registry
	Client   *http.Client  // default: a client with a 10 s timeout
	Backoff  time.Duration // first retry's wait (default 1 s)
	// MaxBackoff caps the wait between retries (default 1 min).
	MaxBackoff time.Duration
	// MaxPending is how many undelivered alerts are kept (default 1,000).
	MaxPending int
	// Leading (nil: always) says whether this node posts: in a cluster
	// the flush leader alone, from the shared queue.
	Leading func() bool
	Metrics prometheus.Registerer // may be nil
	Log     *slog.Logger
}

// Webhook delivers opened alerts; Run is its worker.
type Webhook struct {
	cfg     WebhookConfig
	wake    chan struct{}
	results *prometheus.CounterVec
}

// Notice is the JSON body of a post.
type Notice struct {
	Event        string       `json:"event"` // "alert_opened"
	Campaign     string       `json:"campaign"`
	Alert        tiendo.Alert `json:"alert"`
	StationName  string       `json:"station_name,omitempty"`
	DistrictName string       `json:"district_name,omitempty"`
	UnitName     string       `json:"unit_name,omitempty"`
}

// ValidWebhookURL checks an --alert-webhook value: an absolute http or
// https URL with a host.
func ValidWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("alert webhook %q: want an http:// or https:// URL", raw)
	}
	return nil
}

// NewWebhook makes a webhook; Run delivers.
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	if err := ValidWebhookURL(cfg.URL); err != nil {
		return nil, err
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = time.Minute
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 1000
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	w := &Webhook{cfg: cfg, wake: make(chan struct{}, 1),
		results: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tiendo_alert_webhook_posts_total",
			Help: "Alert webhook posts by result: delivered, retried (failed, tried again), refused (a 4xx: given up), dropped (past the pending limit)."},
			[]string{"result"})}
	for _, r := range []string{"delivered", "retried", "refused", "dropped"} {
		w.results.WithLabelValues(r)
	}
	if cfg.Metrics != nil {
		if err := cfg.Metrics.Register(w.results); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// Wake tells the worker that alerts wait; it never blocks.
func (w *Webhook) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends; what is undelivered then stays marked for
// the next start.
func (w *Webhook) Run(ctx context.Context) {
	for {
		if w.cfg.Leading != nil && !w.cfg.Leading() {
			// Another node posts (a cluster's flush leader): look again soon.
			select {
			case <-ctx.Done():
				return
			case <-w.wake:
			case <-time.After(time.Second):
			}
			continue
		}
		pending, err := w.cfg.Store.AlertsToNotify()
		if err != nil {
			w.cfg.Log.Error("alert webhook: read the queue", "err", err)
		}
		if extra := len(pending) - w.cfg.MaxPending; extra > 0 {
			for _, a := range pending[:extra] {
				w.cfg.Log.Warn("alert webhook: dropped, too many waiting", "id", a.ID, "waiting", len(pending))
				w.done(a.ID, "dropped")
			}
			pending = pending[extra:]
		}
		if len(pending) == 0 || err != nil {
			select {
			case <-ctx.Done():
				return
			case <-w.wake:
			case <-time.After(time.Minute): // a mark left by a failed AlertNotified
			}
			continue
		}
		if !w.deliver(ctx, pending[0]) {
			return
		}
	}
}

// deliver posts a until the receiver takes or refuses it; false when ctx
// ended first.
func (w *Webhook) deliver(ctx context.Context, a tiendo.Alert) bool {
	body, _ := json.Marshal(w.notice(a))
	wait := w.cfg.Backoff
	for attempt := 1; ; attempt++ {
		status, retryAfter, err := w.post(ctx, a.ID, body)
		switch {
		case ctx.Err() != nil:
			return false
		case err == nil && status >= 200 && status < 300:
			w.done(a.ID, "delivered")
			return true
		case err == nil && status >= 400 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests:
			w.cfg.Log.Error("alert webhook: refused, not retried", "id", a.ID, "status", status)
			w.done(a.ID, "refused")
			return true
		}
		w.results.WithLabelValues("retried").Inc()
		pause := wait
		if retryAfter > 0 {
			pause = min(retryAfter, 5*time.Minute)
		}
		// ±20 %, so that many servers' retries do not beat in step.
		pause = time.Duration(float64(pause) * (0.8 + 0.4*rand.Float64()))
		w.cfg.Log.Warn("alert webhook: failed, will retry", "id", a.ID, "attempt", attempt, "status", status, "err", err,
			"retry_in", pause.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return false
		case <-time.After(pause):
		}
		wait = min(2*wait, w.cfg.MaxBackoff)
	}
}

// done clears a's mark and counts the result.
func (w *Webhook) done(id, result string) {
	w.results.WithLabelValues(result).Inc()
	if err := w.cfg.Store.AlertNotified(id); err != nil {
		w.cfg.Log.Error("alert webhook: clear the mark", "id", id, "err", err)
	}
}

func (w *Webhook) post(ctx context.Context, id string, body []byte) (status int, retryAfter time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "tiendo-alerts")
	req.Header.Set("Idempotency-Key", id)
	resp, err := w.cfg.Client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && s > 0 {
		retryAfter = time.Duration(s) * time.Second
	}
	return resp.StatusCode, retryAfter, nil
}

// notice is a's post, with the names a receiver's message needs.
func (w *Webhook) notice(a tiendo.Alert) Notice {
	n := Notice{Event: "alert_opened", Alert: a}
	if w.cfg.Registry == nil {
		return n
	}
	reg := w.cfg.Registry()
	n.Campaign = reg.Campaign.ID
	if st := reg.Station(a.Station); st != nil {
		n.StationName = st.Name
	}
	if d := reg.District(a.District); d != nil {
		n.DistrictName = d.Name
	}
	if u := reg.Unit(a.Unit); u != nil {
		n.UnitName = u.Name
	}
	return n
}
