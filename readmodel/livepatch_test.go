package readmodel

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"tiendo"
	"tiendo/cmd/tiendo/langson2021"
	"tiendo/dashboards"
	"tiendo/simulate"
)

var updateFixtures = flag.Bool("update", false, "rewrite testdata/livepatch.json.gz (the browser's patch test reads it)")

// replayRig is the shipped campaign's simulated events fed, as they are
// delivered, into a Model over an EventLog, and a Publisher on a
// recording hub: real snapshots and charts, no ClickHouse.
type replayRig struct {
	sim    *simulate.Model
	model  *Model
	log    *EventLog
	events []simulate.Event // every event of the days replayed, by delivery
	next   int
	now    time.Time
	wall   time.Time
	hub    *recordingHub
	pub    *Publisher
}

func newReplayRig(t testing.TB, from, to tiendo.Day, topics []string) *replayRig {
	c, stations := langson2021.Campaign(), langson2021.Stations()
	m, err := simulate.NewModel(c, stations, 1, simulate.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	r := &replayRig{sim: m, log: &EventLog{}, now: c.DayStart(from), wall: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
		hub: &recordingHub{topics: topics}}
	for d := from; d <= to; d++ {
		for i := range stations {
			evs, _ := m.Day(i, d, nil)
			r.events = append(r.events, evs...)
		}
	}
	sort.SliceStable(r.events, func(i, j int) bool { return r.events[i].Deliver.Before(r.events[j].Deliver) })
	reg := tiendo.NewRegistry(c, c.Districts, stations)
	r.model = New(r.log.Sources(reg, func() time.Time { return r.now }))
	r.pub = NewPublisher(PublisherConfig{Figures: r.model, Hub: r.hub, Build: "b", Now: func() time.Time { return r.wall },
		Updates: UpdatesPatch})
	return r
}

// round moves the campaign clock by sim and the wall clock by wall,
// delivers what was sent meanwhile, and runs a publisher round.
func (r *replayRig) round(sim, wall time.Duration) {
	r.now, r.wall = r.now.Add(sim), r.wall.Add(wall)
	var batch []tiendo.Event
	for r.next < len(r.events) && !r.events[r.next].Deliver.After(r.now) {
		batch = append(batch, r.events[r.next].Event)
		r.next++
	}
	r.log.Add(batch...)
	r.pub.Round(context.Background())
	r.log.EndRound()
}

// fixtureCase is one update of the browser's fixture: the state a client
// held, the update message, and the state it must hold after it.
type fixtureCase struct {
	Name   string          `json:"name"`
	Prev   json.RawMessage `json:"prev"` // {"snapshot": …, "charts": …}
	Update json.RawMessage `json:"update"`
	Next   json.RawMessage `json:"next"`
}

func state(t *testing.T, f *Follower) json.RawMessage {
	t.Helper()
	b, _ := json.Marshal(map[string]json.RawMessage{"snapshot": f.Snapshot(), "charts": f.Charts()})
	return b
}

// Over an evening of the simulated campaign (real BuildSnapshot output, a
// round every 10 simulated minutes for 4 hours, charts every round), a client that
// applies every update holds, at each seq, the snapshot and charts a new
// client would be given; and the patches are small. With -update, some of
// these updates (a district's and /screen's, whose snapshots are small)
// and random document pairs are written to testdata/livepatch.json.gz, which
// static/e2e/livepatch.test.mjs applies in node.
func TestLivePatchReplay(t *testing.T) {
	district := Topic{Scope: tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: "LS-VL"}, Lang: "vi"}.String()
	screen := Topic{Scope: tiendo.ProvinceScope, Lang: "vi", Dark: true, Screen: true}.String()
	province := Topic{Scope: tiendo.ProvinceScope, Lang: "en"}.String()
	topics := []string{district, screen, province}
	day := tiendo.DayOf(2021, 3, 12)
	r := newReplayRig(t, day, day, topics)
	// Up to 17:00 in three steps, then every 10 minutes to 21:00.
	for range 3 {
		r.round(4*time.Hour+20*time.Minute, 5*time.Second)
	}
	followers := map[string]*Follower{}
	sent := map[string]int{}
	patchBytes, snapBytes := map[string]int{}, map[string]int{}
	var cases []fixtureCase
	for _, tp := range topics {
		followers[tp] = &Follower{}
		if _, err := followers[tp].Feed(r.pub.SnapshotFor(tp)); err != nil {
			t.Fatal(err)
		}
		sent[tp] = r.hub.count(tp)
	}
	for i := range 24 {
		r.round(10*time.Minute, 5*time.Second)
		for _, tp := range topics {
			f := followers[tp]
			// One update a round, or two when the charts changed too:
			// the figures first, then the charts.
			msgs := r.hub.since(tp, sent[tp])
			if len(msgs) != 1 && len(msgs) != 2 {
				t.Fatalf("%s: %d messages in a round", tp, len(msgs))
			}
			sent[tp] += len(msgs)
			prev := state(t, f)
			for _, m := range msgs[:len(msgs)-1] {
				if kind, err := f.Feed(m); err != nil || kind != "update" {
					t.Fatalf("%s round %d: %s %v", tp, i, kind, err)
				}
			}
			msg := msgs[len(msgs)-1]
			if kind, err := f.Feed(msg); err != nil || kind != "update" {
				t.Fatalf("%s round %d: %s %v", tp, i, kind, err)
			}
			full, _ := decode(t, r.pub.SnapshotFor(tp))
			fullCharts, _ := json.Marshal(full.Charts)
			if canon(t, f.Snapshot()) != canon(t, full.Snapshot) || canon(t, f.Charts()) != canon(t, fullCharts) {
				t.Fatalf("%s round %d: the patched state is not the snapshot's", tp, i)
			}
			um, _ := decode(t, msg)
			if len(um.Snapshot) >= len(full.Snapshot) {
				t.Errorf("%s round %d: a snapshot patch of %d bytes, the snapshot %d", tp, i, len(um.Snapshot), len(full.Snapshot))
			}
			patchBytes[tp] += len(um.Snapshot)
			snapBytes[tp] += len(full.Snapshot)
			for k, c := range um.Charts {
				if len(c) >= len(full.Charts[k]) {
					t.Errorf("%s round %d: chart %s's patch of %d bytes, the chart %d", tp, i, k, len(c), len(full.Charts[k]))
				}
			}
			if tp != province && i%12 == 5 {
				cases = append(cases, fixtureCase{Name: tp + " at " + r.now.Format(time.RFC3339), Prev: prev, Update: msg, Next: state(t, f)})
			}
			if i == 23 {
				t.Logf("%s: update %d bytes (snapshot patch %d), snapshot %d", tp, len(msg), len(um.Snapshot), len(r.pub.SnapshotFor(tp)))
			}
		}
	}
	for _, tp := range topics {
		// In 10 simulated minutes of an evening much moves (on /screen's
		// small snapshot about half of it: attention lists, moves, every
		// district's figures); a patch still leaves out what did not.
		if patchBytes[tp]*3 > snapBytes[tp]*2 {
			t.Errorf("%s: snapshot patches of %d bytes in all, snapshots of %d", tp, patchBytes[tp], snapBytes[tp])
		}
		t.Logf("%s: snapshot patches of %d bytes in all, snapshots of %d", tp, patchBytes[tp], snapBytes[tp])
	}
	for i, p := range randomPairs(7, 200) {
		patch, _, err := Diff(p[0], p[1])
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := json.Marshal(map[string]any{"type": "update", "snapshot": json.RawMessage(patch)})
		cases = append(cases, fixtureCase{Name: "random " + itoa(i),
			Prev: wrapSnapshot(p[0]), Update: msg, Next: wrapSnapshot(p[1])})
	}
	file := filepath.Join("testdata", "livepatch.json.gz")
	if *updateFixtures {
		b, _ := json.Marshal(cases)
		var buf bytes.Buffer
		z, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		z.Write(append(b, '\n'))
		z.Close()
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The committed fixture holds what the Go side says: each update
	// applied in Go to prev gives next.
	zb, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (go test ./readmodel -run TestLivePatchReplay -update writes it)", err)
	}
	z, err := gzip.NewReader(bytes.NewReader(zb))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	var saved []fixtureCase
	if err := json.Unmarshal(b, &saved); err != nil {
		t.Fatal(err)
	}
	for _, c := range saved {
		var prev, next struct{ Snapshot, Charts json.RawMessage }
		var upd struct{ Snapshot, Charts json.RawMessage }
		json.Unmarshal(c.Prev, &prev)
		json.Unmarshal(c.Next, &next)
		json.Unmarshal(c.Update, &upd)
		got, err := Apply(prev.Snapshot, upd.Snapshot)
		if err != nil || canon(t, got) != canon(t, next.Snapshot) {
			t.Errorf("fixture %s: the snapshot patch does not give next (%v)", c.Name, err)
		}
		if len(upd.Charts) > 0 {
			got, err := Apply(prev.Charts, upd.Charts)
			if err != nil || canon(t, got) != canon(t, next.Charts) {
				t.Errorf("fixture %s: the charts patch does not give next (%v)", c.Name, err)
			}
		}
	}
	if len(saved) < 200 {
		t.Errorf("the fixture has %d cases", len(saved))
	}
}

func wrapSnapshot(doc []byte) json.RawMessage {
	b, _ := json.Marshal(map[string]json.RawMessage{"snapshot": doc, "charts": json.RawMessage("{}")})
	return b
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// BenchmarkNextState is one topic's message per round from the figures of
// a busy evening (the province at a desk, all 237 stations): the cost the
// publisher adds per topic and round, patches against whole updates.
func BenchmarkNextState(b *testing.B) {
	province := Topic{Scope: tiendo.ProvinceScope, Lang: "vi"}
	day := tiendo.DayOf(2021, 3, 12)
	r := newReplayRig(b, day, day, nil)
	r.round(13*time.Hour, time.Second)
	var ins []dashboardsInput
	for range 8 {
		r.round(2*time.Minute, time.Second)
		in, err := r.model.ChartInput(context.Background(), province.Scope)
		if err != nil {
			b.Fatal(err)
		}
		charts, err := dashboards.Build(in)
		if err != nil {
			b.Fatal(err)
		}
		ins = append(ins, dashboardsInput{in.Snapshot, charts})
	}
	for _, mode := range []struct {
		name string
		u    UpdateFormat
	}{{"patch", UpdatesPatch}, {"whole", UpdatesWhole}} {
		b.Run(mode.name, func(b *testing.B) {
			wall := time.Now()
			p := NewPublisher(PublisherConfig{Figures: nil, Hub: r.hub, Now: func() time.Time { return wall }, Updates: mode.u})
			var prev *topicState
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				wall = wall.Add(time.Second)
				x := ins[i%len(ins)]
				next, _, err := p.nextState(prev, x.snap, x.charts)
				if err != nil {
					b.Fatal(err)
				}
				prev = next
			}
		})
	}
}

type dashboardsInput struct {
	snap   *tiendo.Snapshot
	charts dashboards.Charts
}
