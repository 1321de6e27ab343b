// Package alerting runs the alerts of DECISIONS.md: each live round it
// reads the province snapshot, opens the alerts whose conditions (the root
// package's AlertConditions) newly hold, keeps those that still hold,
// resolves those whose conditions have stopped holding for the campaign's
// clear time, persists every change in the server's state, counts open
// alerts for Prometheus and hands new ones to the webhook.
//
// It knows no HTTP framework: the server calls Round before each live
// round, Of for each snapshot's alerts, and Ack for an acknowledgement.
package alerting

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"tiendo"
)

// Snapshots are where the engine reads its figures (readmodel.Model): from
// each station's, as its conditions judge stations one by one.
type Snapshots interface {
	StationSnapshot(ctx context.Context, scope tiendo.Scope) (*tiendo.Snapshot, error)
}

// Store keeps alerts across restarts (store/local.DB).
type Store interface {
	OpenAlerts() ([]tiendo.Alert, error)
	SaveAlerts(alerts []tiendo.Alert, notify []string) error
	AckAlert(id, by string, at time.Time) (tiendo.Alert, bool, error)
	Alert(id string) (tiendo.Alert, error)
	AlertsDuring(from, to time.Time) ([]tiendo.Alert, error)
}

// Config is what an Engine is made of.
type Config struct {
	Figures  Snapshots
	Store    Store
	Registry func() *tiendo.Registry
	// Metrics (may be nil) registers tiendo_alerts_open{kind} and the
	// engine's other series.
	Metrics prometheus.Registerer
	// Notify (may be nil) is told after each round that opened alerts,
	// once they are stored with their webhook marks (Webhook.Wake).
	Notify func()
	// MinInterval spaces evaluations on the wall clock: Round called more
	// often does nothing (default 1 s; the publisher may run two rounds a
	// second under load, and each evaluation reads the province). A round
	// that took longer than a quarter of it spaces the next by four times
	// its own time, so that evaluating takes at most a quarter of the time:
	// the nation's per-station read is half a second at ten thousand
	// stations (bench/README.md), and an alert's conditions last minutes.
	MinInterval time.Duration
	// Leading (nil: always) says whether this node evaluates the alerts.
	// In a cluster only the flush leader does; the others, whose store is
	// a copy of the shared one (store/kvstate), take the open alerts from
	// it each round, so that every node shows the same alerts with the
	// same acknowledgements, and the webhook posts each once.
	Leading func() bool
	Log     *slog.Logger
}

// entry is an open alert and, once its condition stopped holding, since when.
type entry struct {
	alert      tiendo.Alert
	clearSince time.Time
}

// Engine holds the open alerts. Its methods are safe for concurrent use.
type Engine struct {
	cfg Config

	roundMu   sync.Mutex    // one evaluation at a time
	lastRound time.Time     // wall clock, under roundMu
	spacing   time.Duration // from lastRound to the next due one, under roundMu
	led       bool          // the last round evaluated (under roundMu)

	mu     sync.RWMutex
	open   map[tiendo.AlertKey]*entry
	byID   map[string]tiendo.AlertKey
	lastID map[tiendo.AlertKey]string // the newest id given to each key, so a reopening never reuses it
	// dirty are alerts changed in memory whose new state is not stored
	// yet (a failed save is retried next round); notify the new ones among
	// them, to be marked for the webhook in the same transaction.
	dirty  map[string]tiendo.Alert
	notify map[string]bool

	openGauge  *prometheus.GaugeVec
	opened     *prometheus.CounterVec
	roundTime  prometheus.Histogram
	roundFails prometheus.Counter
}

// New makes an engine and loads the open alerts from the store, so that
// an alert open before a restart goes on as the same alert (with its
// acknowledgement) when its condition still holds.
func New(cfg Config) (*Engine, error) {
	if cfg.MinInterval == 0 {
		cfg.MinInterval = time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	e := &Engine{cfg: cfg, spacing: cfg.MinInterval, open: map[tiendo.AlertKey]*entry{}, byID: map[string]tiendo.AlertKey{},
		lastID: map[tiendo.AlertKey]string{}, dirty: map[string]tiendo.Alert{}, notify: map[string]bool{}}
	e.openGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tiendo_alerts_open",
		Help: "Alerts open now, by kind."}, []string{"kind"})
	e.opened = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tiendo_alerts_opened_total",
		Help: "Alerts opened since the server started, by kind."}, []string{"kind"})
	e.roundTime = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tiendo_alert_round_seconds",
		Help:    "Time of one alert evaluation: the province snapshot, the rules, storing the changes.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)})
	e.roundFails = prometheus.NewCounter(prometheus.CounterOpts{Name: "tiendo_alert_round_failures_total",
		Help: "Alert evaluations that could not read the figures or store the changes."})
	for _, k := range tiendo.AlertKinds() {
		e.openGauge.WithLabelValues(string(k))
		e.opened.WithLabelValues(string(k))
	}
	if cfg.Metrics != nil {
		for _, c := range []prometheus.Collector{e.openGauge, e.opened, e.roundTime, e.roundFails} {
			if err := cfg.Metrics.Register(c); err != nil {
				return nil, fmt.Errorf("alert metrics: %w", err)
			}
		}
	}
	if err := e.load(); err != nil {
		return nil, err
	}
	return e, nil
}

// load replaces the open alerts in memory with the store's (at start, and
// on a node that does not evaluate them); an alert kept open keeps when
// its condition stopped holding.
func (e *Engine) load() error {
	stored, err := e.cfg.Store.OpenAlerts()
	if err != nil {
		return fmt.Errorf("load open alerts: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	old := e.open
	e.open, e.byID = map[tiendo.AlertKey]*entry{}, map[string]tiendo.AlertKey{}
	for _, a := range stored {
		key := tiendo.AlertKey{Kind: a.Kind, Subject: a.Subject()}
		if prev, dup := e.open[key]; dup && prev.alert.Since.After(a.Since) {
			continue
		}
		en := &entry{alert: a}
		if o := old[key]; o != nil && o.alert.ID == a.ID {
			en.clearSince = o.clearSince
		}
		e.open[key] = en
		e.byID[a.ID] = key
		e.lastID[key] = a.ID
	}
	e.countOpen()
	return nil
}

// takeAcks copies into the open alerts the acknowledgements that other
// nodes stored (a cluster's shared store), which this node's Ack did not see.
func (e *Engine) takeAcks() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, en := range e.open {
		if en.alert.AckedAt != nil {
			continue
		}
		if st, err := e.cfg.Store.Alert(en.alert.ID); err == nil && st.AckedAt != nil {
			en.alert.AckedBy, en.alert.AckedAt = st.AckedBy, st.AckedAt
		}
	}
}

// leading reports whether this node evaluates the alerts now.
func (e *Engine) leading() bool { return e.cfg.Leading == nil || e.cfg.Leading() }

// MaybeRound runs Round unless one ran less than MinInterval ago, or less
// than four times its own duration if that is longer (on the wall clock
// wall). The publisher's before-round hook calls it, so that
// the round that follows carries what it found.
func (e *Engine) MaybeRound(ctx context.Context, wall time.Time) {
	e.roundMu.Lock()
	due := wall.Sub(e.lastRound) >= e.spacing || wall.Before(e.lastRound)
	if due {
		e.lastRound = wall
	}
	e.roundMu.Unlock()
	if due {
		if err := e.Round(ctx); err != nil {
			e.cfg.Log.Warn("alert round", "err", err)
		}
	}
}

// slowRoundSpacing is how many times its own duration a round spaces the
// next by, when that is longer than MinInterval.
const slowRoundSpacing = 4

// roundTimeout bounds one evaluation's read of the figures.
const roundTimeout = 10 * time.Second

// Round evaluates every alert once, at the province snapshot's now (the
// campaign clock: a replay's alerts open and resolve in replayed time).
// Figures that are incomplete (more spooled events than the read model
// adds) change nothing: a station would look silent only because its
// heartbeats wait in the spool.
func (e *Engine) Round(ctx context.Context) error {
	e.roundMu.Lock()
	defer e.roundMu.Unlock()
	lead := e.leading()
	if !lead || !e.led {
		// Not evaluating, or just become the one that does: the store
		// (the shared one, in a cluster) has the alerts as they are.
		e.led = lead
		if err := e.load(); err != nil {
			e.roundFails.Inc()
			return err
		}
		if !lead {
			return nil
		}
	}
	start := time.Now()
	defer func() {
		took := time.Since(start)
		e.roundTime.Observe(took.Seconds())
		e.spacing = max(e.cfg.MinInterval, slowRoundSpacing*took)
	}()
	ctx, cancel := context.WithTimeout(ctx, roundTimeout)
	defer cancel()
	// Read without e.mu: the snapshot asks Of for its alerts.
	snap, err := e.cfg.Figures.StationSnapshot(ctx, tiendo.ProvinceScope)
	if err != nil {
		e.roundFails.Inc()
		return fmt.Errorf("province snapshot: %w", err)
	}
	if snap.Storage.Partial {
		return nil
	}
	if e.cfg.Leading != nil {
		e.takeAcks()
	}
	reg := e.cfg.Registry()
	if err := e.apply(reg.Campaign, snap); err != nil {
		e.roundFails.Inc()
		return err
	}
	return nil
}

// apply turns the conditions holding in snap into opened, kept and
// resolved alerts, and stores what changed.
func (e *Engine) apply(c *tiendo.Campaign, snap *tiendo.Snapshot) error {
	now := snap.Now.UTC()
	e.mu.Lock()
	defer e.mu.Unlock()
	conds := c.AlertConditions(snap, func(k tiendo.AlertKey) bool { return e.open[k] != nil })
	holding := make(map[tiendo.AlertKey]bool, len(conds))
	var opened []tiendo.Alert
	for _, cond := range conds {
		key := tiendo.AlertKey{Kind: cond.Kind, Subject: cond.Subject()}
		holding[key] = true
		if en := e.open[key]; en != nil {
			// Kept: the figures are today's. Only lifecycle changes are
			// stored; a restart takes the figures from the next round.
			en.alert.Severity, en.alert.Value, en.clearSince = cond.Severity, cond.Value, time.Time{}
			continue
		}
		a := tiendo.Alert{ID: e.newID(key, now), Kind: cond.Kind, Station: cond.Station, District: cond.District, Unit: cond.Unit,
			Since: now, Severity: cond.Severity, Value: cond.Value}
		e.open[key] = &entry{alert: a}
		e.byID[a.ID] = key
		e.dirty[a.ID], e.notify[a.ID] = a, true
		opened = append(opened, a)
	}
	clearAfter := c.AlertClearAfter()
	for key, en := range e.open {
		if holding[key] {
			continue
		}
		switch {
		case en.clearSince.IsZero() || now.Before(en.clearSince):
			en.clearSince = now
		case now.Sub(en.clearSince) >= clearAfter:
			resolved := now
			en.alert.Resolved = &resolved
			e.dirty[en.alert.ID] = en.alert
			delete(e.open, key)
			delete(e.byID, en.alert.ID)
		}
	}
	for _, a := range opened {
		e.opened.WithLabelValues(string(a.Kind)).Inc()
		e.cfg.Log.Info("alert opened", "id", a.ID, "kind", a.Kind, "station", a.Station, "district", a.District, "unit", a.Unit,
			"severity", a.Severity, "value", a.Value)
	}
	e.countOpen()
	return e.flush()
}

// flush stores the dirty alerts and the webhook marks of the new ones in
// one transaction; on failure they stay dirty for the next round.
func (e *Engine) flush() error {
	if len(e.dirty) == 0 {
		return nil
	}
	alerts := make([]tiendo.Alert, 0, len(e.dirty))
	for _, a := range e.dirty {
		alerts = append(alerts, a)
	}
	notify := make([]string, 0, len(e.notify))
	for id := range e.notify {
		notify = append(notify, id)
	}
	if err := e.cfg.Store.SaveAlerts(alerts, notify); err != nil {
		return fmt.Errorf("store alerts: %w", err)
	}
	clear(e.dirty)
	clear(e.notify)
	if len(notify) > 0 && e.cfg.Notify != nil {
		e.cfg.Notify()
	}
	return nil
}

// newID is a stable id for an alert of key opening at now:
// kind~subject~unix seconds, unique even if the same key reopened within
// the second.
func (e *Engine) newID(key tiendo.AlertKey, now time.Time) string {
	id := fmt.Sprintf("%s~%s~%d", key.Kind, key.Subject, now.Unix())
	for n := 2; id == e.lastID[key] || e.dirty[id].ID != ""; n++ {
		id = fmt.Sprintf("%s~%s~%d-%d", key.Kind, key.Subject, now.Unix(), n)
	}
	e.lastID[key] = id
	return id
}

// countOpen sets the open gauge of every kind.
func (e *Engine) countOpen() {
	n := map[tiendo.AlertKind]int{}
	for key := range e.open {
		n[key.Kind]++
	}
	for _, k := range tiendo.AlertKinds() {
		e.openGauge.WithLabelValues(string(k)).Set(float64(n[k]))
	}
}

// Of returns the open alerts that scope shows (tiendo.AlertInScope), in
// the order screens list them (tiendo.SortAlerts); never nil.
func (e *Engine) Of(scope tiendo.Scope) []tiendo.Alert {
	reg := e.cfg.Registry()
	e.mu.RLock()
	out := make([]tiendo.Alert, 0, 4)
	for _, en := range e.open {
		if tiendo.AlertInScope(reg, scope, &en.alert) {
			out = append(out, en.alert)
		}
	}
	e.mu.RUnlock()
	tiendo.SortAlerts(out)
	return out
}

// Get returns alert id: open with its latest figures, or as stored.
func (e *Engine) Get(id string) (tiendo.Alert, error) {
	e.mu.RLock()
	if key, ok := e.byID[id]; ok {
		a := e.open[key].alert
		e.mu.RUnlock()
		return a, nil
	}
	e.mu.RUnlock()
	return e.cfg.Store.Alert(id)
}

// Ack records that by acknowledged alert id at at (stored before it
// returns) and returns the alert. The first acknowledgement stands;
// acked says whether this call made it. ENotFound for an unknown id.
func (e *Engine) Ack(id, by string, at time.Time) (tiendo.Alert, bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	stored, acked, err := e.cfg.Store.AckAlert(id, by, at)
	if err != nil {
		return tiendo.Alert{}, false, err
	}
	key, ok := e.byID[id]
	if !ok {
		return stored, acked, nil
	}
	en := e.open[key]
	en.alert.AckedBy, en.alert.AckedAt = stored.AckedBy, stored.AckedAt
	if d, ok := e.dirty[id]; ok {
		d.AckedBy, d.AckedAt = stored.AckedBy, stored.AckedAt
		e.dirty[id] = d
	}
	return en.alert, acked, nil
}

// During returns the alerts open at any instant of [from, to) that scope
// shows, by opening time: resolved ones as stored, open ones with their
// latest figures.
func (e *Engine) During(scope tiendo.Scope, from, to time.Time) ([]tiendo.Alert, error) {
	all, err := e.cfg.Store.AlertsDuring(from, to)
	if err != nil {
		return nil, err
	}
	reg := e.cfg.Registry()
	out := make([]tiendo.Alert, 0, len(all))
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, a := range all {
		if key, ok := e.byID[a.ID]; ok {
			a = e.open[key].alert
		}
		if tiendo.AlertInScope(reg, scope, &a) {
			out = append(out, a)
		}
	}
	return out, nil
}
