package live_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"tiendo"
	"tiendo/readmodel"
	"tiendo/server/live"
)

// screen is a subscriber that decodes every message as a browser does
// (readmodel.Follower: livepatch.js's rules in Go) and asks the hub for
// the topic's snapshot after a gap, as the server's resync does.
type screen struct {
	follow  readmodel.Follower
	msgs    chan []byte
	skipSeq uint64 // a message of this seq is lost on the way
}

func newScreen() *screen { return &screen{msgs: make(chan []byte, 64)} }

func (s *screen) Write(msg []byte) error { s.msgs <- msg; return nil }
func (s *screen) Close() error           { return nil }

// take applies every message queued so far; resync is what the client
// gets when it asks for a snapshot.
func (s *screen) take(t *testing.T, client *live.Client, resync func() []byte) (got [][]byte) {
	t.Helper()
	wait := 2 * time.Second // for the round's message; then for a resync's snapshot
	for {
		select {
		case msg := <-s.msgs:
			wait = 50 * time.Millisecond
			got = append(got, msg)
			var head struct{ Seq uint64 }
			json.Unmarshal(msg, &head)
			if s.skipSeq != 0 && head.Seq == s.skipSeq {
				s.skipSeq = 0
				continue
			}
			if _, err := s.follow.Feed(msg); errors.Is(err, readmodel.ErrResync) {
				client.Send(resync())
			} else if err != nil {
				t.Fatal(err)
			}
		case <-time.After(wait):
			return got
		}
	}
}

// A publisher on a real hub: every subscriber of a topic is handed the
// same bytes, and each, applying the patches, holds after every round the
// snapshot a new subscriber would be given; a subscriber that lost an
// update resyncs and goes on; a round in which nothing changed is a
// message of a few dozen bytes.
func TestPatchedUpdatesThroughTheHub(t *testing.T) {
	c := &tiendo.Campaign{ID: "t", Name: "Thử", TimeZone: "Asia/Ho_Chi_Minh", Start: tiendo.DayOf(2021, 3, 10),
		Deadline: tiendo.DayOf(2021, 7, 1), Target: 1000, DayBoundaryHour: 4, OpenHour: 7, LateNightHour: 22, MinutesPerRecord: 6,
		Districts: []tiendo.District{{ID: "D1", Name: "Một", Quota: 600}, {ID: "D2", Name: "Hai", Quota: 400}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	reg := tiendo.NewRegistry(c, c.Districts, []tiendo.Station{
		{ID: "S1", Name: "Trạm 1", District: "D1", Kind: tiendo.KindFixed, Lanes: 2, Quota: 600},
		{ID: "S2", Name: "Trạm 2", District: "D2", Kind: tiendo.KindMobile, Lanes: 1, Quota: 400},
	})
	now := time.Date(2021, 3, 20, 20, 0, 0, 0, time.FixedZone("ICT", 7*3600))
	wall := now
	log := &readmodel.EventLog{}
	hub := live.NewHub()
	pub := readmodel.NewPublisher(readmodel.PublisherConfig{Figures: readmodel.New(log.Sources(reg, func() time.Time { return now })),
		Hub: hub, Build: "b", Now: func() time.Time { return wall }, Updates: readmodel.UpdatesPatch})
	topic := readmodel.Topic{Scope: tiendo.ProvinceScope, Lang: "vi"}.String()

	screens := make([]*screen, 5)
	clients := make([]*live.Client, 5)
	for i := range screens {
		screens[i] = newScreen()
		clients[i] = hub.Subscribe(topic, screens[i], nil)
	}
	screens[4].skipSeq = 3
	n := 0
	post := func(station string, queue int) {
		n++
		log.Add(tiendo.Event{ID: fmt.Sprint("h", n), Type: tiendo.TypeHeartbeat, Station: station, TS: now, Status: tiendo.StatusOpen,
			Queue: queue, Staff: 2, Lanes: 1},
			tiendo.Event{ID: fmt.Sprint("c", n), Type: tiendo.TypeCompletion, Station: station, TS: now, Count: 1, Kind: tiendo.RecordStandard})
	}
	var late *screen
	for round := 1; round <= 8; round++ {
		switch {
		case round == 6: // nothing happens, and the clock stands still
		case round%2 == 0:
			post("S1", round)
		default:
			post("S2", round)
		}
		if round != 6 {
			now = now.Add(time.Minute)
		}
		wall = wall.Add(2 * time.Second)
		pub.Round(context.Background())
		if round == 4 {
			late = newScreen()
			screens = append(screens, late)
			clients = append(clients, hub.Subscribe(topic, late, pub.SnapshotFor(topic)))
		}
		var want map[string]json.RawMessage
		json.Unmarshal(pub.SnapshotFor(topic), &want)
		var wantSeq uint64
		json.Unmarshal(want["seq"], &wantSeq)
		// A round is one update, or two when the charts changed too (the
		// figures, then the charts): screen 0 got what every screen
		// that neither joined late nor lost a message must get, byte for byte.
		var first [][]byte
		for i, s := range screens {
			got := s.take(t, clients[i], func() []byte { return pub.SnapshotFor(topic) })
			if len(got) == 0 {
				t.Fatalf("round %d: screen %d got nothing", round, i)
			}
			if s != late && s != screens[4] {
				if first == nil {
					first = got
				} else if len(got) != len(first) || &first[len(first)-1][0] != &got[len(got)-1][0] {
					t.Errorf("round %d: screen %d was handed other bytes than screen 0", round, i)
				}
			}
			if s == screens[4] && round == 3 && s.follow.Seq == 2 {
				// It lost seq 3, the round's only message, and cannot
				// know yet: the next update tells it. (Had the round
				// sent seq 4 too, the gap would have made it resync.)
				continue
			}
			if s.follow.Seq != wantSeq || canonical(s.follow.Snapshot()) != canonical(want["snapshot"]) {
				t.Fatalf("round %d: screen %d holds seq %d and not the topic's snapshot (seq %d)", round, i, s.follow.Seq, wantSeq)
			}
		}
		if round == 6 {
			t.Logf("a round in which nothing changed: %s", first[0])
			if len(first) != 1 || len(first[0]) > 80 {
				t.Errorf("a round in which nothing changed sent %d messages, the first of %d bytes: %s", len(first), len(first[0]), first[0])
			}
		} else if round > 1 && len(first)*2 > len(pub.SnapshotFor(topic)) {
			t.Errorf("round %d: an update of %d bytes, the snapshot has %d", round, len(first), len(pub.SnapshotFor(topic)))
		}
	}
}

func canonical(b []byte) string {
	var v any
	json.Unmarshal(b, &v)
	out, _ := json.Marshal(v)
	return string(out)
}
