package readmodel

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"time"

	"tiendo"
	"tiendo/dashboards"
)

// Live protocol messages (see README "Live protocol").
type liveMessage struct {
	Type     string            `json:"type"` // "snapshot" or "update"
	Seq      uint64            `json:"seq"`
	Build    string            `json:"build"`   // the server's build; a screen reloads when it changes
	Storage  string            `json:"storage"` // "ok", "behind" (events wait in the spool), "down" (figures from cache) or "unavailable"
	Snapshot any               `json:"snapshot,omitempty"`
	Charts   dashboards.Charts `json:"charts,omitempty"`
}

// liveDelta is an update's snapshot part: everything small in full, and
// only the stations that changed since the previous seq (merged by id).
type liveDelta struct {
	Scope     tiendo.Scope           `json:"scope"`
	Now       time.Time              `json:"now"`
	Day       tiendo.Day             `json:"day"`
	Totals    tiendo.Totals          `json:"totals"`
	Pace      *tiendo.Pace           `json:"pace"`
	Districts []tiendo.DistrictState `json:"districts,omitempty"`
	Stations  []tiendo.StationState  `json:"stations"`
	Attention tiendo.Attention       `json:"attention"`
	Moves     []tiendo.StaffMove     `json:"moves"`
	Alerts    []tiendo.Alert         `json:"alerts"`
	Storage   tiendo.StorageState    `json:"storage"`
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
}

// topicState is the last thing published on a topic.
type topicState struct {
	seq      uint64
	snapshot []byte            // the full snapshot message at seq, for new and resyncing clients
	stations map[string][]byte // station id -> its JSON at seq, to find changes
	charts   map[string][]byte // the charts as last sent in an update (or snapshot)
	chartsAt time.Time         // when charts were last sent
}

// chartEvery spaces chart updates: chart options are most of an update's
// bytes (a progress chart changes with every record), while the figures a
// screen reads first — totals, stations — go out every round. New and
// resyncing clients always get current charts in their snapshot.
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

// round refreshes every topic that has subscribers.
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
	for scope, topics := range byScope {
		in, err := p.cfg.Figures.ChartInput(ctx, scope)
		for _, t := range topics {
			if err != nil {
				p.publishStatus(t)
				continue
			}
			tin := in
			tin.Lang, tin.Dark = t.Lang, t.Dark
			charts, cerr := dashboards.Build(tin)
			if cerr != nil {
				p.cfg.Log.Error("build charts", "topic", t.String(), "err", cerr)
				continue
			}
			snap := in.Snapshot
			if t.Screen {
				snap = snap.ForScreen()
			}
			p.publish(t, snap, charts)
		}
	}
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
// snapshot the first time, then updates carrying what changed.
func (p *Publisher) publish(t Topic, snap *tiendo.Snapshot, charts dashboards.Charts) {
	name := t.String()
	stations := make(map[string][]byte, len(snap.Stations))
	var changed []tiendo.StationState
	p.mu.Lock()
	prev := p.topics[name]
	for _, st := range snap.Stations {
		b, _ := json.Marshal(st)
		stations[st.ID] = b
		if prev == nil || !bytes.Equal(prev.stations[st.ID], b) {
			changed = append(changed, st)
		}
	}
	chartBytes := make(map[string][]byte, len(charts))
	changedCharts := dashboards.Charts{}
	chartsAt := p.cfg.Now()
	if prev != nil && chartsAt.Sub(prev.chartsAt) < chartEvery {
		// Not yet: keep comparing against what the clients have.
		chartBytes, chartsAt = prev.charts, prev.chartsAt
	} else {
		for k, v := range charts {
			chartBytes[k] = v
			if prev == nil || !bytes.Equal(prev.charts[k], v) {
				changedCharts[k] = v
			}
		}
	}
	seq := uint64(1)
	if prev != nil {
		seq = prev.seq + 1
	}
	full, _ := json.Marshal(liveMessage{Type: "snapshot", Seq: seq, Build: p.cfg.Build, Storage: snap.Storage.State, Snapshot: snap, Charts: charts})
	p.topics[name] = &topicState{seq: seq, snapshot: full, stations: stations, charts: chartBytes, chartsAt: chartsAt}
	p.mu.Unlock()

	if prev == nil {
		// Subscribers that came before the first round wait for this snapshot.
		p.cfg.Hub.Publish(name, full)
		return
	}
	if changed == nil {
		changed = []tiendo.StationState{}
	}
	if len(changedCharts) == 0 {
		changedCharts = nil
	}
	upd, _ := json.Marshal(liveMessage{Type: "update", Seq: seq, Build: p.cfg.Build, Storage: snap.Storage.State, Charts: changedCharts,
		Snapshot: liveDelta{Scope: snap.Scope, Now: snap.Now, Day: snap.Day, Totals: snap.Totals, Pace: snap.Pace,
			Districts: snap.Districts, Stations: changed, Attention: snap.Attention, Moves: snap.Moves, Alerts: snap.Alerts,
			Storage: snap.Storage}})
	p.cfg.Hub.Publish(name, upd)
}
