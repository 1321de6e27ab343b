package readmodel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"tiendo"
	"tiendo/dashboards"
)

// testRegistry is a small campaign of two districts with a station each.
func testRegistry(t *testing.T) *tiendo.Registry {
	t.Helper()
	c := &tiendo.Campaign{ID: "t", Name: "Thử nghiệm", TimeZone: "Asia/Ho_Chi_Minh", Start: tiendo.DayOf(2021, 3, 10),
		Deadline: tiendo.DayOf(2021, 7, 1), Target: 1000, DayBoundaryHour: 4, OpenHour: 7, LateNightHour: 22, MinutesPerRecord: 6,
		Districts: []tiendo.District{{ID: "D1", Name: "Một", Quota: 600}, {ID: "D2", Name: "Hai", Quota: 400}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return tiendo.NewRegistry(c, c.Districts, []tiendo.Station{
		{ID: "S1", Name: "Trạm 1", District: "D1", Kind: tiendo.KindFixed, Lanes: 2, Quota: 600},
		{ID: "S2", Name: "Trạm 2", District: "D2", Kind: tiendo.KindMobile, Lanes: 1, Quota: 400},
	})
}

// eventFigures are a scope's figures from a list of events alone, through
// the same pure rules the Model applies to the spool's events (an empty
// ClickHouse): what the publisher is given, not a stand-in for a store.
type eventFigures struct {
	reg    *tiendo.Registry
	now    time.Time
	events []tiendo.Event
	fail   map[tiendo.Scope]bool
	// chartReads and snapReads count the calls, per scope.
	chartReads, snapReads map[tiendo.Scope]int
}

func (f *eventFigures) Snapshot(ctx context.Context, scope tiendo.Scope) (*tiendo.Snapshot, error) {
	if f.snapReads == nil {
		f.snapReads = map[tiendo.Scope]int{}
	}
	f.snapReads[scope]++
	in, err := f.input(scope)
	return in.Snapshot, err
}

func (f *eventFigures) ChartInput(_ context.Context, scope tiendo.Scope) (dashboards.Input, error) {
	if f.chartReads == nil {
		f.chartReads = map[tiendo.Scope]int{}
	}
	f.chartReads[scope]++
	return f.input(scope)
}

func (f *eventFigures) input(scope tiendo.Scope) (dashboards.Input, error) {
	if f.fail[scope] {
		return dashboards.Input{}, errors.New("storage cannot answer now and nothing is cached yet")
	}
	c := f.reg.Campaign
	q := tiendo.StatsQuery{DayStart: c.DayStart(c.WorkingDay(f.now)), Now: f.now, Stations: stationIDs(scope, f.reg.StationsIn(scope))}
	snap := tiendo.BuildSnapshot(f.reg, scope, tiendo.AddPending(nil, f.events, q), f.reg.Campaign.ConfiguredProfile(), f.now)
	snap.Storage = tiendo.StorageState{State: "ok"}
	hours := tiendo.SeriesQuery{Stations: q.Stations, From: c.StartTime(), To: f.now.Add(time.Hour)}
	return dashboards.Input{Campaign: c, Snapshot: snap, Hours: tiendo.AddPendingHours(nil, f.events, hours)}, nil
}

// recordingHub keeps what was published, per topic.
type recordingHub struct {
	mu     sync.Mutex
	topics []string
	got    map[string][][]byte
}

func (h *recordingHub) Topics() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.topics...)
}

func (h *recordingHub) Publish(topic string, msg []byte) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.got == nil {
		h.got = map[string][][]byte{}
	}
	h.got[topic] = append(h.got[topic], msg)
	return 1
}

func (h *recordingHub) last(t *testing.T, topic string) []byte {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	msgs := h.got[topic]
	if len(msgs) == 0 {
		t.Fatalf("nothing published on %s", topic)
	}
	return msgs[len(msgs)-1]
}

// since returns the messages published on topic after the first n.
func (h *recordingHub) since(topic string, n int) [][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([][]byte(nil), h.got[topic][n:]...)
}

func (h *recordingHub) count(topic string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.got[topic])
}

// message is a published message as a screen reads it.
type message struct {
	Type     string                     `json:"type"`
	Seq      uint64                     `json:"seq"`
	Build    string                     `json:"build"`
	Storage  string                     `json:"storage"`
	Snapshot json.RawMessage            `json:"snapshot"`
	Charts   map[string]json.RawMessage `json:"charts"`
}

func decode(t *testing.T, b []byte) (message, map[string]json.RawMessage) {
	t.Helper()
	var m message
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	return m, raw
}

func (m message) snapshot(t *testing.T) (tiendo.Totals, []string) {
	t.Helper()
	var s struct {
		Totals   tiendo.Totals
		Stations []struct{ ID string }
	}
	if err := json.Unmarshal(m.Snapshot, &s); err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, st := range s.Stations {
		ids = append(ids, st.ID)
	}
	return s.Totals, ids
}

var evening = time.Date(2021, 3, 20, 20, 0, 0, 0, time.FixedZone("ICT", 7*3600))

func completion(id, station string, count int, ts time.Time) tiendo.Event {
	return tiendo.Event{ID: id, Type: tiendo.TypeCompletion, Station: station, TS: ts, Count: count, Kind: tiendo.RecordStandard}
}

// A topic's first round is a full snapshot; later rounds are updates with
// patches of what changed (only the stations that changed, only their
// changed members), charts at most every chartEvery; the latest full
// snapshot is kept for new and resyncing clients, and a client that
// applies every update holds it.
func TestPublisherSnapshotThenUpdates(t *testing.T) {
	reg := testRegistry(t)
	topic := Topic{Scope: tiendo.ProvinceScope, Lang: "vi"}.String()
	hub := &recordingHub{topics: []string{topic}}
	figs := &eventFigures{reg: reg, now: evening, events: []tiendo.Event{completion("c1", "S1", 4, evening.Add(-10*time.Minute))}}
	wall := evening
	var rounds []time.Time
	p := NewPublisher(PublisherConfig{Figures: figs, Hub: hub, Build: "b1", Now: func() time.Time { return wall },
		BeforeRound: func(now time.Time) { rounds = append(rounds, now) }, Updates: UpdatesPatch})

	p.round(context.Background())
	first, _ := decode(t, hub.last(t, topic))
	if first.Type != "snapshot" || first.Seq != 1 || first.Build != "b1" || first.Storage != "ok" {
		t.Fatalf("first message: %s seq %d build %q storage %q", first.Type, first.Seq, first.Build, first.Storage)
	}
	if totals, ids := first.snapshot(t); totals.Completed != 4 || len(ids) != 2 {
		t.Fatalf("snapshot: completed %d, stations %v", totals.Completed, ids)
	}
	for _, name := range []string{"progress", "throughput", "queue", "latenight", "districts"} {
		if len(first.Charts[name]) == 0 {
			t.Errorf("snapshot lacks chart %q", name)
		}
	}
	if got := p.SnapshotFor(topic); string(got) != string(hub.last(t, topic)) {
		t.Error("SnapshotFor is not the snapshot just published")
	}

	follow := &Follower{}
	feed := func(msg []byte) {
		t.Helper()
		if _, err := follow.Feed(msg); err != nil {
			t.Fatalf("follower: %v", err)
		}
		// What a client holds after each message is the snapshot a new
		// client would get now.
		full, _ := decode(t, p.SnapshotFor(topic))
		if got, want := canon(t, follow.Snapshot()), canon(t, full.Snapshot); got != want {
			t.Fatalf("the follower's snapshot at seq %d:\n%s\nwant\n%s", follow.Seq, got, want)
		}
		fullCharts, _ := json.Marshal(full.Charts)
		if got, want := canon(t, follow.Charts()), canon(t, fullCharts); got != want {
			t.Fatalf("the follower's charts at seq %d differ from the snapshot's", follow.Seq)
		}
	}
	feed(hub.last(t, topic))

	// S2 reports; a second later only S2 goes out, only its changed
	// members, and no charts yet.
	figs.events = append(figs.events, completion("c2", "S2", 2, evening.Add(-5*time.Minute)))
	wall = wall.Add(time.Second)
	p.round(context.Background())
	upd, raw := decode(t, hub.last(t, topic))
	if upd.Type != "update" || upd.Seq != 2 {
		t.Fatalf("second message: %s seq %d", upd.Type, upd.Seq)
	}
	if totals, ids := upd.snapshot(t); totals.Completed != 6 || len(ids) != 1 || ids[0] != "S2" {
		t.Fatalf("update: completed %d, stations %v; want 6 and only S2", totals.Completed, ids)
	}
	if _, ok := raw["charts"]; ok {
		t.Errorf("an update %v after the snapshot carries charts", time.Second)
	}
	var delta map[string]json.RawMessage
	json.Unmarshal(upd.Snapshot, &delta)
	for _, k := range []string{"scope", "now", "day", "campaign"} {
		if _, ok := delta[k]; ok {
			t.Errorf("update's patch carries the unchanged %q", k)
		}
	}
	var s2 []map[string]json.RawMessage
	json.Unmarshal(delta["stations"], &s2)
	if _, ok := s2[0]["name"]; ok || string(s2[0]["completed"]) != "2" {
		t.Errorf("S2's patch = %v, want its changed members only", s2[0])
	}
	if len(hub.last(t, topic))*4 > len(first.Snapshot) {
		t.Errorf("update of %d bytes for one station's records; the snapshot has %d", len(hub.last(t, topic)), len(first.Snapshot))
	}
	feed(hub.last(t, topic))
	if string(p.SnapshotFor(topic)) == string(hub.last(t, topic)) {
		t.Error("SnapshotFor returned the update, not a full snapshot")
	}
	if resync, _ := decode(t, p.SnapshotFor(topic)); resync.Type != "snapshot" || resync.Seq != 2 {
		t.Errorf("resync snapshot: %s seq %d, want snapshot seq 2", resync.Type, resync.Seq)
	}

	// Nothing changed: an update with an empty patch.
	wall = wall.Add(time.Second)
	p.round(context.Background())
	if got := string(hub.last(t, topic)); got != `{"type":"update","seq":3,"build":"b1","storage":"ok","snapshot":{}}` {
		t.Errorf("unchanged round's update = %s", got)
	}
	feed(hub.last(t, topic))

	// chartEvery after the snapshot, the charts that changed go out, as
	// patches of the charts last sent.
	// The figures go first (seq 4, no charts), the charts after (seq 5,
	// an empty snapshot patch).
	figs.events = append(figs.events, completion("c3", "S1", 1, evening.Add(-time.Minute)))
	wall = evening.Add(chartEvery)
	before := hub.count(topic)
	p.round(context.Background())
	round := hub.since(topic, before)
	if len(round) != 2 {
		t.Fatalf("a round with new figures and charts sent %d messages, want 2", len(round))
	}
	figures, _ := decode(t, round[0])
	withCharts, raw := decode(t, round[1])
	if figures.Seq != 4 || len(figures.Charts) != 0 {
		t.Errorf("first message at +%v: seq %d, %d charts; want seq 4, the figures alone", chartEvery, figures.Seq, len(figures.Charts))
	}
	if withCharts.Seq != 5 || len(withCharts.Charts["progress"]) == 0 || string(raw["snapshot"]) != "{}" {
		t.Errorf("second message at +%v: seq %d, charts %d, snapshot %s; want seq 5 with the progress chart and an empty snapshot patch",
			chartEvery, withCharts.Seq, len(withCharts.Charts), raw["snapshot"])
	}
	if len(withCharts.Charts["progress"]) >= len(first.Charts["progress"]) {
		t.Errorf("the progress chart's patch has %d bytes, the chart %d", len(withCharts.Charts["progress"]), len(first.Charts["progress"]))
	}
	// Between the two the client holds the new figures with the charts
	// before them; after the second, what a new client gets.
	if _, err := follow.Feed(round[0]); err != nil || follow.Seq != 4 {
		t.Fatalf("the figures' update: %v, seq %d", err, follow.Seq)
	}
	feed(round[1])
	if resync, _ := decode(t, p.SnapshotFor(topic)); resync.Seq != 5 {
		t.Errorf("the snapshot after the chart round is at seq %d, want 5 (after both)", resync.Seq)
	}
	if len(rounds) != 4 || !rounds[3].Equal(wall) {
		t.Errorf("BeforeRound ran at %v, want once per round with the wall clock", rounds)
	}
	// The chart series were read in the two rounds that sent charts (the
	// first and this one); the two between read the snapshot alone.
	if sc := tiendo.ProvinceScope; figs.chartReads[sc] != 2 || figs.snapReads[sc] != 2 {
		t.Errorf("4 rounds read the charts' input %d times and the snapshot alone %d times, want 2 and 2",
			figs.chartReads[sc], figs.snapReads[sc])
	}

	// A client that missed seq 6 is told to resync at seq 7, and the
	// snapshot it then gets takes it on.
	for range 2 {
		figs.events = append(figs.events, completion(fmt.Sprint("g", len(figs.events)), "S2", 1, evening.Add(-time.Minute)))
		wall = wall.Add(time.Second)
		p.round(context.Background())
	}
	if _, err := follow.Feed(hub.last(t, topic)); err != ErrResync {
		t.Fatalf("an update after a gap: %v, want ErrResync", err)
	}
	feed(p.SnapshotFor(topic))
	if follow.Seq != 7 {
		t.Errorf("after the resync the follower is at seq %d, want 7", follow.Seq)
	}
}

// UpdatesWhole, the protocol before patches: totals and districts in full,
// the stations that changed whole, an empty list when none did.
func TestPublisherWholeUpdates(t *testing.T) {
	reg := testRegistry(t)
	topic := Topic{Scope: tiendo.ProvinceScope, Lang: "vi"}.String()
	hub := &recordingHub{topics: []string{topic}}
	figs := &eventFigures{reg: reg, now: evening, events: []tiendo.Event{completion("c1", "S1", 4, evening.Add(-10*time.Minute))}}
	wall := evening
	p := NewPublisher(PublisherConfig{Figures: figs, Hub: hub, Build: "b1", Now: func() time.Time { return wall }, Updates: UpdatesWhole})
	p.round(context.Background())
	figs.events = append(figs.events, completion("c2", "S2", 2, evening.Add(-5*time.Minute)))
	wall = wall.Add(time.Second)
	p.round(context.Background())
	upd, raw := decode(t, hub.last(t, topic))
	if totals, ids := upd.snapshot(t); upd.Type != "update" || totals.Completed != 6 || len(ids) != 1 || ids[0] != "S2" {
		t.Fatalf("update: %s completed %d, stations %v; want 6 and only S2", upd.Type, totals.Completed, ids)
	}
	if _, ok := raw["charts"]; ok {
		t.Errorf("an update %v after the snapshot carries charts", time.Second)
	}
	var delta map[string]json.RawMessage
	json.Unmarshal(upd.Snapshot, &delta)
	for _, k := range []string{"scope", "now", "day", "totals", "districts", "stations", "storage"} {
		if _, ok := delta[k]; !ok {
			t.Errorf("update's snapshot lacks %q", k)
		}
	}
	var s2 []tiendo.StationState
	json.Unmarshal(delta["stations"], &s2)
	if s2[0].Name != "Trạm 2" {
		t.Errorf("S2 came as %+v, want the whole station", s2[0])
	}
	wall = wall.Add(time.Second)
	p.round(context.Background())
	_, raw = decode(t, hub.last(t, topic))
	json.Unmarshal(raw["snapshot"], &delta)
	if string(delta["stations"]) != "[]" {
		t.Errorf("unchanged round's stations = %s, want []", delta["stations"])
	}
	wall = evening.Add(chartEvery)
	p.round(context.Background())
	if m, _ := decode(t, hub.last(t, topic)); len(m.Charts["progress"]) == 0 || strings.Contains(string(m.Charts["progress"]), `"$`) {
		t.Errorf("update at +%v: charts %d; want the progress chart whole", chartEvery, len(m.Charts))
	}
}

// Screens of one scope in another language, theme or view each get their
// own topic; a screen topic gets the command room's snapshot; a scope whose
// figures cannot be had gets a status message and keeps its seq.
func TestPublisherTopicsAndStatus(t *testing.T) {
	reg := testRegistry(t)
	screen := Topic{Scope: tiendo.ProvinceScope, Lang: "en", Dark: true, Screen: true}.String()
	full := Topic{Scope: tiendo.ProvinceScope, Lang: "vi"}.String()
	district := Topic{Scope: tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: "D1"}, Lang: "vi"}.String()
	hub := &recordingHub{topics: []string{screen, full, district, "not a topic"}}
	figs := &eventFigures{reg: reg, now: evening, events: []tiendo.Event{completion("c1", "S1", 4, evening.Add(-10*time.Minute))},
		fail: map[tiendo.Scope]bool{}}
	p := NewPublisher(PublisherConfig{Figures: figs, Hub: hub, Build: "b1"})
	p.round(context.Background())

	in, _ := figs.ChartInput(context.Background(), tiendo.ProvinceScope)
	want, _ := json.Marshal(in.Snapshot.ForScreen())
	if m, _ := decode(t, hub.last(t, screen)); string(m.Snapshot) != string(want) {
		t.Errorf("screen topic's snapshot is not ForScreen's:\n%s\nwant\n%s", m.Snapshot, want)
	}
	if m, _ := decode(t, hub.last(t, full)); string(m.Snapshot) == string(want) {
		t.Error("the full topic got the screen's snapshot")
	}
	if m, _ := decode(t, hub.last(t, district)); m.Type != "snapshot" || len(m.Charts["districts"]) != 0 {
		t.Errorf("district topic: %s with a districts chart of %d bytes (none outside the province)", m.Type, len(m.Charts["districts"]))
	}

	figs.fail[tiendo.ProvinceScope] = true
	p.round(context.Background())
	if got := string(hub.last(t, screen)); got != `{"type":"status","seq":1,"build":"b1","storage":"unavailable"}` {
		t.Errorf("status message = %s", got)
	}
	if m, _ := decode(t, hub.last(t, district)); m.Type != "update" || m.Seq != 2 {
		t.Errorf("the district went on with %s seq %d", m.Type, m.Seq)
	}
	figs.fail[tiendo.ProvinceScope] = false
	p.round(context.Background())
	if m, _ := decode(t, hub.last(t, full)); m.Type != "update" || m.Seq != 2 {
		t.Errorf("after the outage: %s seq %d, want update seq 2", m.Type, m.Seq)
	}
}

// A topic nobody watches is forgotten: when screens come back it starts
// again from a full snapshot at seq 1.
func TestPublisherForgetsUnwatchedTopics(t *testing.T) {
	reg := testRegistry(t)
	topic := Topic{Scope: tiendo.ProvinceScope, Lang: "vi"}.String()
	hub := &recordingHub{topics: []string{topic}}
	p := NewPublisher(PublisherConfig{Figures: &eventFigures{reg: reg, now: evening}, Hub: hub, Build: "b1"})
	p.round(context.Background())
	p.round(context.Background())
	hub.topics = nil
	p.round(context.Background())
	if p.SnapshotFor(topic) != nil {
		t.Fatal("an unwatched topic kept its snapshot")
	}
	if hub.count(topic) != 2 {
		t.Errorf("published %d messages to a topic nobody watched", hub.count(topic)-2)
	}
	hub.topics = []string{topic}
	p.round(context.Background())
	if m, _ := decode(t, hub.last(t, topic)); m.Type != "snapshot" || m.Seq != 1 {
		t.Errorf("a watched-again topic got %s seq %d, want snapshot seq 1", m.Type, m.Seq)
	}
}

// Wake coalesces: many calls while a round is pending make one round.
func TestPublisherWakeCoalesces(t *testing.T) {
	reg := testRegistry(t)
	topic := Topic{Scope: tiendo.ProvinceScope, Lang: "vi"}.String()
	hub := &recordingHub{topics: []string{topic}}
	var mu sync.Mutex
	rounds := 0
	p := NewPublisher(PublisherConfig{Figures: &eventFigures{reg: reg, now: evening}, Hub: hub, Build: "b1",
		BeforeRound: func(time.Time) { mu.Lock(); rounds++; mu.Unlock() }})
	p.minInterval, p.maxInterval = 50*time.Millisecond, time.Hour
	for range 10 {
		p.Wake()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for hub.count(topic) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if rounds != 1 || hub.count(topic) != 1 {
		t.Errorf("10 wakes made %d rounds and %d messages, want 1", rounds, hub.count(topic))
	}
}

func TestTopicString(t *testing.T) {
	for _, tt := range []struct {
		t    Topic
		name string
	}{
		{Topic{Scope: tiendo.ProvinceScope, Lang: "vi"}, "province|vi|light|full"},
		{Topic{Scope: tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: "D1"}, Lang: "en", Dark: true}, "district:D1|en|dark|full"},
		{Topic{Scope: tiendo.Scope{Kind: tiendo.ScopeStation, ID: "S1"}, Lang: "vi", Screen: true}, "station:S1|vi|light|screen"},
	} {
		if got := tt.t.String(); got != tt.name {
			t.Errorf("%+v.String() = %q, want %q", tt.t, got, tt.name)
		}
		if back, ok := ParseTopic(tt.name); !ok || back != tt.t {
			t.Errorf("ParseTopic(%q) = %+v, %v", tt.name, back, ok)
		}
	}
	for _, bad := range []string{"", "province", "province|vi|light", "galaxy:1|vi|light|full", "province|vi|light|full|x"} {
		if _, ok := ParseTopic(bad); ok {
			t.Errorf("ParseTopic(%q) accepted", bad)
		}
	}
}
