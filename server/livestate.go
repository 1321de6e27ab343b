package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"tiendo"
	"tiendo/dashboards"
	"tiendo/server/live"
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
	Districts []tiendo.DistrictState `json:"districts,omitempty"`
	Stations  []tiendo.StationState  `json:"stations"`
	Storage   tiendo.StorageState    `json:"storage"`
}

// topic is what one set of screens watches: a scope in a language and
// theme, in full or as a command-room screen sees it (screen: the
// aggregates, each station reduced to what the room's lists show).
type topic struct {
	scope  tiendo.Scope
	lang   string
	dark   bool
	screen bool
}

func (t topic) String() string {
	theme, view := "light", "full"
	if t.dark {
		theme = "dark"
	}
	if t.screen {
		view = "screen"
	}
	return t.scope.String() + "|" + t.lang + "|" + theme + "|" + view
}

func parseTopic(s string) (topic, bool) {
	parts := strings.Split(s, "|")
	if len(parts) != 4 {
		return topic{}, false
	}
	sc, err := tiendo.ParseScope(parts[0])
	if err != nil {
		return topic{}, false
	}
	return topic{scope: sc, lang: parts[1], dark: parts[2] == "dark", screen: parts[3] == "screen"}, true
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

// liveState computes each watched scope once per round, serialises each
// topic's message once, and publishes the same bytes to every subscriber.
type liveState struct {
	srv   *Server
	hub   *live.Hub
	build string

	mu     sync.Mutex
	topics map[string]*topicState

	wake chan struct{}
	// MinInterval coalesces bursts: at most one round per interval.
	minInterval time.Duration
	// MaxInterval refreshes even without events (clocks move, stations go stale).
	maxInterval time.Duration
}

func newLiveState(srv *Server, build string) *liveState {
	l := &liveState{srv: srv, hub: live.NewHub(), build: build, topics: map[string]*topicState{},
		wake: make(chan struct{}, 1), minInterval: 500 * time.Millisecond, maxInterval: 5 * time.Second}
	l.hub.OnSubscribe = func(string) { l.Wake() }
	return l
}

// Wake asks for a round soon; calls while one is pending coalesce.
func (l *liveState) Wake() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Run computes rounds until ctx ends.
func (l *liveState) Run(ctx context.Context) error {
	timer := time.NewTimer(l.maxInterval)
	defer timer.Stop()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-l.wake:
		case <-timer.C:
		}
		if wait := l.minInterval - time.Since(last); wait > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
		}
		last = time.Now()
		l.round(ctx)
		timer.Reset(l.maxInterval)
	}
}

// snapshotFor returns the latest full snapshot message of a topic, or nil.
func (l *liveState) snapshotFor(name string) []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ts := l.topics[name]; ts != nil {
		return ts.snapshot
	}
	return nil
}

// round refreshes every topic that has subscribers.
func (l *liveState) round(ctx context.Context) {
	l.srv.recheckWatchers(time.Now())
	byScope := map[tiendo.Scope][]topic{}
	for _, name := range l.hub.Topics() {
		if t, ok := parseTopic(name); ok {
			byScope[t.scope] = append(byScope[t.scope], t)
		}
	}
	l.forget(byScope)
	for scope, topics := range byScope {
		in, err := l.srv.chartInput(ctx, scope)
		for _, t := range topics {
			if err != nil {
				l.publishStatus(t)
				continue
			}
			tin := in
			tin.Lang, tin.Dark = t.lang, t.dark
			charts, cerr := dashboards.Build(tin)
			if cerr != nil {
				l.srv.log.Error("build charts", "topic", t.String(), "err", cerr)
				continue
			}
			snap := in.Snapshot
			if t.screen {
				snap = snap.ForScreen()
			}
			l.publish(t, snap, charts)
		}
	}
}

// forget drops state of topics nobody watches any more.
func (l *liveState) forget(active map[tiendo.Scope][]topic) {
	keep := map[string]bool{}
	for _, ts := range active {
		for _, t := range ts {
			keep[t.String()] = true
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for name := range l.topics {
		if !keep[name] {
			delete(l.topics, name)
		}
	}
}

func (l *liveState) publishStatus(t topic) {
	l.mu.Lock()
	ts := l.topics[t.String()]
	l.mu.Unlock()
	var seq uint64
	if ts != nil {
		seq = ts.seq
	}
	msg, _ := json.Marshal(liveMessage{Type: "status", Seq: seq, Build: l.build, Storage: "unavailable"})
	l.hub.Publish(t.String(), msg)
}

// publish turns a fresh snapshot into the topic's next message: a full
// snapshot the first time, then updates carrying what changed.
func (l *liveState) publish(t topic, snap *tiendo.Snapshot, charts dashboards.Charts) {
	name := t.String()
	stations := make(map[string][]byte, len(snap.Stations))
	var changed []tiendo.StationState
	l.mu.Lock()
	prev := l.topics[name]
	for _, st := range snap.Stations {
		b, _ := json.Marshal(st)
		stations[st.ID] = b
		if prev == nil || !bytes.Equal(prev.stations[st.ID], b) {
			changed = append(changed, st)
		}
	}
	chartBytes := make(map[string][]byte, len(charts))
	changedCharts := dashboards.Charts{}
	chartsAt := time.Now()
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
	full, _ := json.Marshal(liveMessage{Type: "snapshot", Seq: seq, Build: l.build, Storage: snap.Storage.State, Snapshot: snap, Charts: charts})
	l.topics[name] = &topicState{seq: seq, snapshot: full, stations: stations, charts: chartBytes, chartsAt: chartsAt}
	l.mu.Unlock()

	if prev == nil {
		// Subscribers that came before the first round wait for this snapshot.
		l.hub.Publish(name, full)
		return
	}
	if changed == nil {
		changed = []tiendo.StationState{}
	}
	if len(changedCharts) == 0 {
		changedCharts = nil
	}
	upd, _ := json.Marshal(liveMessage{Type: "update", Seq: seq, Build: l.build, Storage: snap.Storage.State, Charts: changedCharts,
		Snapshot: liveDelta{Scope: snap.Scope, Now: snap.Now, Day: snap.Day, Totals: snap.Totals, Districts: snap.Districts,
			Stations: changed, Storage: snap.Storage}})
	l.hub.Publish(name, upd)
}

// chartInput gathers what the dashboards need for scope: the snapshot, the
// scope's hourly completions since the campaign start, and today's per
// station, each with the spool's events added.
func (s *Server) chartInput(ctx context.Context, scope tiendo.Scope) (dashboards.Input, error) {
	snap, err := s.Snapshot(ctx, scope)
	if err != nil {
		return dashboards.Input{}, err
	}
	reg := s.Registry()
	c := reg.Campaign
	ids := stationIDs(scope, reg.StationsIn(scope))
	end := snap.Now.Add(time.Hour)
	in := dashboards.Input{Campaign: c, Snapshot: snap}
	for _, series := range []struct {
		q   tiendo.SeriesQuery
		dst *[]tiendo.HourCount
	}{
		{tiendo.SeriesQuery{Stations: ids, From: c.StartTime(), To: end}, &in.Hours},
		{tiendo.SeriesQuery{Stations: ids, From: c.DayStart(snap.Day), To: end, ByStation: true}, &in.StationHours},
	} {
		q := series.q
		key := fmt.Sprintf("hours|%s|%v|%d", scope, q.ByStation, q.From.Unix())
		_, err := s.withPending(ctx, key, func(ctx context.Context) (any, error) {
			return s.store.HourlyCompletions(ctx, q)
		}, func(stored any, pending []tiendo.Event) {
			*series.dst = tiendo.AddPendingHours(append([]tiendo.HourCount(nil), stored.([]tiendo.HourCount)...), pending, q)
		})
		if err != nil {
			return dashboards.Input{}, err
		}
	}
	return in, nil
}
