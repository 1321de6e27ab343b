package readmodel

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"tiendo"
	"tiendo/dashboards"
)

// Live protocol messages (see README "Live protocol"). A snapshot carries
// the topic's snapshot and charts whole; an update carries, in the same
// members, patches (patch.go) of both against the previous seq.
type liveMessage struct {
	Type     string          `json:"type"` // "snapshot", "update" or "status"
	Seq      uint64          `json:"seq"`
	Build    string          `json:"build"`   // the server's build; a screen reloads when it changes
	Storage  string          `json:"storage"` // "ok", "behind" (events wait in the spool), "down" (figures from cache) or "unavailable"
	Snapshot json.RawMessage `json:"snapshot,omitempty"`
	Charts   json.RawMessage `json:"charts,omitempty"`
}

// Topic is what one set of screens watches: a scope in a language and
// theme, in full or as a command-room screen sees it (Screen: the
// aggregates, each station reduced to what the room's lists show). Its
// String is the hub's topic name.
type Topic struct {
	Scope  tiendo.Scope
	Lang   string // "vi" or "en"
	Dark   bool
	Screen bool
}

func (t Topic) String() string {
	theme, view := "light", "full"
	if t.Dark {
		theme = "dark"
	}
	if t.Screen {
		view = "screen"
	}
	return t.Scope.String() + "|" + t.Lang + "|" + theme + "|" + view
}

// ParseTopic reads a Topic's String; ok is false for anything else.
func ParseTopic(s string) (Topic, bool) {
	parts := strings.Split(s, "|")
	if len(parts) != 4 {
		return Topic{}, false
	}
	sc, err := tiendo.ParseScope(parts[0])
	if err != nil {
		return Topic{}, false
	}
	return Topic{Scope: sc, Lang: parts[1], Dark: parts[2] == "dark", Screen: parts[3] == "screen"}, true
}

// Hub delivers a topic's messages to its subscribers (server/live.Hub).
type Hub interface {
	// Topics lists the topics that have subscribers.
	Topics() []string
	// Publish sends msg to every subscriber of topic, waiting for none,
	// and says to how many.
	Publish(topic string, msg []byte) int
}

// Figures is where the publisher's figures come from (Model).
type Figures interface {
	// Snapshot is a scope's figures, for a round without charts.
	Snapshot(ctx context.Context, scope tiendo.Scope) (*tiendo.Snapshot, error)
	// ChartInput is the figures and what the charts need besides.
	ChartInput(ctx context.Context, scope tiendo.Scope) (dashboards.Input, error)
}

// PublisherConfig is what a Publisher is made of.
type PublisherConfig struct {
	Figures Figures
	Hub     Hub
	// Build identifies the server's code and assets; screens reload when it changes.
	Build string
	// BeforeRound, if set, runs at the start of every round with the wall
	// clock's time (the server closes live connections whose access ended).
	BeforeRound func(now time.Time)
	// Now is the wall clock (default time.Now): it spaces chart updates
	// and is what BeforeRound is given.
	Now func() time.Time
	Log *slog.Logger
	// Updates is what an update carries (zero: DefaultUpdates).
	Updates UpdateFormat
}

// UpdateFormat is what a live update carries.
type UpdateFormat int

const (
	// UpdatesDefault is DefaultUpdates.
	UpdatesDefault UpdateFormat = iota
	// UpdatesPatch: patches of the snapshot and the charts (patch.go),
	// which static/assets/livepatch.js applies.
	UpdatesPatch
	// UpdatesWhole: the protocol before patches, kept as tiendo-bench
	// bandwidth's baseline: the
	// snapshot's small members, every district and attention list in full,
	// the stations that changed whole (merged by id), changed charts whole.
	UpdatesWhole
)

// DefaultUpdates is what a Publisher sends unless told: patches, which
// static/assets/core.js applies with livepatch.js. The environment's
// TIENDO_LIVE_UPDATES=whole (or patch) overrides it, for tiendo-bench's
// baseline.
const DefaultUpdates = UpdatesPatch

// wholeDelta is an UpdatesWhole update's snapshot part.
type wholeDelta struct {
	Scope     tiendo.Scope           `json:"scope"`
	Now       time.Time              `json:"now"`
	Day       tiendo.Day             `json:"day"`
	Totals    tiendo.Totals          `json:"totals"`
	Pace      *tiendo.Pace           `json:"pace"`
	Districts []tiendo.DistrictState `json:"districts,omitempty"`
	Stations  []tiendo.StationState  `json:"stations"`
	Attention *tiendo.Attention      `json:"attention"`
	Moves     []tiendo.StaffMove     `json:"moves"`
	Alerts    []tiendo.Alert         `json:"alerts"`
	Storage   tiendo.StorageState    `json:"storage"`
}

// topicState is the last thing published on a topic: what its clients
// hold at seq, as JSON and decoded, to patch it with the next round's.
type topicState struct {
	seq      uint64
	snapshot []byte // the full snapshot message at seq, for new and resyncing clients
	snap     tree   // the snapshot at seq
	// charts are the charts as last sent (clients keep them between
	// chart rounds), each also decoded.
	charts     dashboards.Charts
	chartTrees map[string]tree
	chartsAt   time.Time // when charts were last sent
	// stations are each station's JSON at seq (UpdatesWhole: to find
	// the stations that changed).
	stations map[string][]byte
}

// chartEvery spaces chart updates: a progress chart changes with every
// record, and its patch (the points that moved) is still most of an
// update's bytes, while the figures a screen reads first go out every
// round. A new or resyncing client's snapshot has the charts as last sent,
// so that the next chart patch applies to them.
const chartEvery = 5 * time.Second

// Publisher computes each watched scope once per round, serialises each
// topic's message once, and publishes the same bytes to every subscriber.
type Publisher struct {
	cfg PublisherConfig

	mu     sync.Mutex
	topics map[string]*topicState

	wake chan struct{}
	// minInterval coalesces bursts: at most one round per interval.
	minInterval time.Duration
	// maxInterval refreshes even without events (clocks move, stations go stale).
	maxInterval time.Duration
}

// NewPublisher makes a Publisher; Run starts its rounds.
func NewPublisher(cfg PublisherConfig) *Publisher {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Updates == UpdatesDefault {
		switch cfg.Updates = DefaultUpdates; os.Getenv("TIENDO_LIVE_UPDATES") {
		case "patch":
			cfg.Updates = UpdatesPatch
		case "whole":
			cfg.Updates = UpdatesWhole
		}
	}
	return &Publisher{cfg: cfg, topics: map[string]*topicState{},
		wake: make(chan struct{}, 1), minInterval: 500 * time.Millisecond, maxInterval: 5 * time.Second}
}

// Wake asks for a round soon; calls while one is pending coalesce.
func (p *Publisher) Wake() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run computes rounds until ctx ends.
func (p *Publisher) Run(ctx context.Context) error {
	timer := time.NewTimer(p.maxInterval)
	defer timer.Stop()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-p.wake:
		case <-timer.C:
		}
		if wait := p.minInterval - time.Since(last); wait > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
		}
		last = time.Now()
		p.round(ctx)
		timer.Reset(p.maxInterval)
	}
}

// SnapshotFor returns the latest full snapshot message of a topic, or nil
// before its first round.
func (p *Publisher) SnapshotFor(topic string) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ts := p.topics[topic]; ts != nil {
		return ts.snapshot
	}
	return nil
}

// round refreshes every topic that has subscribers. Charts go out at most
// every chartEvery, so a scope's chart series are read and its charts
// built only in a round where one of its topics has them due: the other
// rounds read the snapshot alone, and the figures an event changed reach
// the screens sooner (the charts took most of a round's time).
func (p *Publisher) round(ctx context.Context) {
	if p.cfg.BeforeRound != nil {
		p.cfg.BeforeRound(p.cfg.Now())
	}
	byScope := map[tiendo.Scope][]Topic{}
	for _, name := range p.cfg.Hub.Topics() {
		if t, ok := ParseTopic(name); ok {
			byScope[t.Scope] = append(byScope[t.Scope], t)
		}
	}
	p.forget(byScope)
	now := p.cfg.Now()
	for scope, topics := range byScope {
		due := make([]bool, len(topics))
		anyDue := false
		p.mu.Lock()
		for i, t := range topics {
			due[i] = chartsDue(p.topics[t.String()], now)
			anyDue = anyDue || due[i]
		}
		p.mu.Unlock()
		var in dashboards.Input
		var err error
		if anyDue {
			in, err = p.cfg.Figures.ChartInput(ctx, scope)
		} else {
			in.Snapshot, err = p.cfg.Figures.Snapshot(ctx, scope)
		}
		for i, t := range topics {
			if err != nil {
				p.publishStatus(t)
				continue
			}
			var charts dashboards.Charts
			if due[i] {
				tin := in
				tin.Lang, tin.Dark, tin.Screen = t.Lang, t.Dark, t.Screen
				var cerr error
				if charts, cerr = dashboards.Build(tin); cerr != nil {
					p.cfg.Log.Error("build charts", "topic", t.String(), "err", cerr)
					continue
				}
			}
			p.publish(t, in.Snapshot.Sent(t.Screen), charts)
		}
	}
}

// chartsDue says whether a topic last published as prev sends its charts
// in a round at now: the first time, then every chartEvery.
func chartsDue(prev *topicState, now time.Time) bool {
	return prev == nil || now.Sub(prev.chartsAt) >= chartEvery
}

// forget drops state of topics nobody watches any more.
func (p *Publisher) forget(active map[tiendo.Scope][]Topic) {
	keep := map[string]bool{}
	for _, ts := range active {
		for _, t := range ts {
			keep[t.String()] = true
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for name := range p.topics {
		if !keep[name] {
			delete(p.topics, name)
		}
	}
}

// publishStatus tells a topic's screens that no figures could be had (the
// storage is unavailable and nothing is cached), at the seq they have.
func (p *Publisher) publishStatus(t Topic) {
	p.mu.Lock()
	ts := p.topics[t.String()]
	p.mu.Unlock()
	var seq uint64
	if ts != nil {
		seq = ts.seq
	}
	msg, _ := json.Marshal(liveMessage{Type: "status", Seq: seq, Build: p.cfg.Build, Storage: "unavailable"})
	p.cfg.Hub.Publish(t.String(), msg)
}

// publish turns a fresh snapshot into the topic's next message: a full
// snapshot the first time, then updates carrying patches of what changed.
func (p *Publisher) publish(t Topic, snap *tiendo.Snapshot, charts dashboards.Charts) {
	name := t.String()
	p.mu.Lock()
	prev := p.topics[name]
	p.mu.Unlock()
	next, msgs, err := p.nextState(prev, snap, charts)
	if err != nil {
		p.cfg.Log.Error("live message", "topic", name, "err", err)
		return
	}
	p.mu.Lock()
	p.topics[name] = next
	p.mu.Unlock()
	for _, m := range msgs {
		p.cfg.Hub.Publish(name, m)
	}
}

// nextState is the topic's state after this round and the messages that
// take its clients there: the full snapshot for a new topic (subscribers
// that came before the first round wait for it), else an update. Should a
// patch be impossible (data with a member the patch format reserves), the
// message is the full snapshot, which every client takes at any seq.
//
// When the figures and the charts both changed, they go as two updates,
// the figures first (seq N) and the charts after (seq N+1, its snapshot
// patch empty): a chart round's patch is most of a round's bytes, and a
// screen (or 10,000) reads and shows the new figures before it has
// decoded it.
func (p *Publisher) nextState(prev *topicState, snap *tiendo.Snapshot, charts dashboards.Charts) (*topicState, [][]byte, error) {
	next, upd, chartUpd, err := p.nextStateParts(prev, snap, charts)
	if err != nil || chartUpd == nil {
		return next, [][]byte{upd}, err
	}
	return next, [][]byte{upd, chartUpd}, nil
}

// nextStateParts is nextState's work: the message, and the charts' own
// update when it goes apart (then next.seq is the charts').
func (p *Publisher) nextStateParts(prev *topicState, snap *tiendo.Snapshot, charts dashboards.Charts) (*topicState, []byte, []byte, error) {
	snapJSON, err := json.Marshal(snap)
	if err != nil {
		return nil, nil, nil, err
	}
	next := &topicState{seq: 1}
	if prev != nil {
		next.seq = prev.seq + 1
		next.charts, next.chartTrees, next.chartsAt = prev.charts, prev.chartTrees, prev.chartsAt
	}
	// The round built charts when they were due (nil: not this round); a
	// clock read later than the round's cannot make them due before then.
	now := p.cfg.Now()
	sendCharts := charts != nil && chartsDue(prev, now)
	if p.cfg.Updates == UpdatesWhole {
		next, upd, err := p.wholeState(prev, next, snap, snapJSON, charts, sendCharts, now)
		return next, upd, nil, err
	}
	var treeErr error
	if sendCharts {
		next.charts, next.chartsAt = charts, now
		next.chartTrees = make(map[string]tree, len(charts))
		for k, v := range charts {
			if prev != nil && bytes.Equal(prev.charts[k], v) {
				next.chartTrees[k] = prev.chartTrees[k]
				continue
			}
			if next.chartTrees[k], err = decodeTree(v); err != nil {
				treeErr = fmt.Errorf("chart %s: %w", k, err)
			}
		}
	}
	if next.snap, err = decodeTree(snapJSON); err != nil {
		treeErr = fmt.Errorf("snapshot: %w", err)
	}
	var chartJSON json.RawMessage
	if len(next.charts) > 0 {
		chartJSON, _ = json.Marshal(next.charts)
	}
	next.snapshot, _ = json.Marshal(liveMessage{Type: "snapshot", Seq: next.seq, Build: p.cfg.Build, Storage: snap.Storage.State,
		Snapshot: snapJSON, Charts: chartJSON})
	if prev == nil || treeErr != nil || prev.snap == nil {
		if treeErr != nil {
			p.cfg.Log.Warn("live update sent as a snapshot", "err", treeErr)
			next.snap = nil // the next round starts over from a snapshot too
		}
		return next, next.snapshot, nil, nil
	}
	sp, figuresChanged := diffTree(prev.snap, next.snap)
	if sp == nil {
		sp = map[string]any{}
	}
	patch, err := json.Marshal(sp)
	if err != nil {
		return nil, nil, nil, err
	}
	var chartPatch json.RawMessage
	if sendCharts {
		cp := map[string]any{}
		for k, v := range next.charts {
			if old, ok := prev.charts[k]; ok && bytes.Equal(old, v) {
				continue
			}
			if d, changed := diffTree(prev.chartTrees[k], next.chartTrees[k]); changed {
				cp[k] = d
			}
		}
		var del []string
		for k := range prev.charts {
			if _, ok := next.charts[k]; !ok {
				del = append(del, k)
			}
		}
		if len(del) > 0 {
			sort.Strings(del)
			cp["$del"] = del
		}
		if len(cp) > 0 {
			if chartPatch, err = json.Marshal(cp); err != nil {
				return nil, nil, nil, err
			}
		}
	}
	if chartPatch == nil || !figuresChanged {
		upd, err := json.Marshal(liveMessage{Type: "update", Seq: next.seq, Build: p.cfg.Build, Storage: snap.Storage.State,
			Snapshot: patch, Charts: chartPatch})
		return next, upd, nil, err
	}
	upd, err := json.Marshal(liveMessage{Type: "update", Seq: next.seq, Build: p.cfg.Build, Storage: snap.Storage.State,
		Snapshot: patch})
	if err != nil {
		return nil, nil, nil, err
	}
	next.seq++
	chartUpd, err := json.Marshal(liveMessage{Type: "update", Seq: next.seq, Build: p.cfg.Build, Storage: snap.Storage.State,
		Snapshot: json.RawMessage("{}"), Charts: chartPatch})
	if err != nil {
		return nil, nil, nil, err
	}
	// The snapshot a new client gets is the state after both.
	next.snapshot, _ = json.Marshal(liveMessage{Type: "snapshot", Seq: next.seq, Build: p.cfg.Build, Storage: snap.Storage.State,
		Snapshot: snapJSON, Charts: chartJSON})
	return next, upd, chartUpd, nil
}

// Round computes one round now, as Run does on each wake: for tests and
// tiendo-bench bandwidth, which drive their own clocks.
func (p *Publisher) Round(ctx context.Context) { p.round(ctx) }

// wholeState is nextState for UpdatesWhole.
func (p *Publisher) wholeState(prev, next *topicState, snap *tiendo.Snapshot, snapJSON []byte, charts dashboards.Charts,
	sendCharts bool, now time.Time) (*topicState, []byte, error) {
	next.stations = make(map[string][]byte, len(snap.Stations))
	changed := []tiendo.StationState{}
	for _, st := range snap.Stations {
		b, _ := json.Marshal(st)
		next.stations[st.ID] = b
		if prev == nil || !bytes.Equal(prev.stations[st.ID], b) {
			changed = append(changed, st)
		}
	}
	changedCharts := dashboards.Charts{}
	if sendCharts {
		next.charts, next.chartsAt = charts, now
		for k, v := range charts {
			if prev == nil || !bytes.Equal(prev.charts[k], v) {
				changedCharts[k] = v
			}
		}
	}
	var chartJSON json.RawMessage
	if len(next.charts) > 0 {
		chartJSON, _ = json.Marshal(next.charts)
	}
	next.snapshot, _ = json.Marshal(liveMessage{Type: "snapshot", Seq: next.seq, Build: p.cfg.Build, Storage: snap.Storage.State,
		Snapshot: snapJSON, Charts: chartJSON})
	if prev == nil {
		return next, next.snapshot, nil
	}
	delta, err := json.Marshal(wholeDelta{Scope: snap.Scope, Now: snap.Now, Day: snap.Day, Totals: snap.Totals, Pace: snap.Pace,
		Districts: snap.Districts, Stations: changed, Attention: snap.Attention, Moves: snap.Moves, Alerts: snap.Alerts,
		Storage: snap.Storage})
	if err != nil {
		return nil, nil, err
	}
	chartJSON = nil
	if len(changedCharts) > 0 {
		chartJSON, _ = json.Marshal(changedCharts)
	}
	upd, err := json.Marshal(liveMessage{Type: "update", Seq: next.seq, Build: p.cfg.Build, Storage: snap.Storage.State,
		Snapshot: delta, Charts: chartJSON})
	return next, upd, err
}
