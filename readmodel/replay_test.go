package readmodel_test

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"tiendo"
	"tiendo/cmd/tiendo/langson2021"
	"tiendo/dashboards"
	"tiendo/readmodel"
	"tiendo/simulate"
	"tiendo/store"
)

// noPending is the overlay of a store that every event was written to
// directly: nothing waits. This test is about the figures, not the spool.
type noPending struct{}

func (noPending) Read(query func([]tiendo.Event)) readmodel.Pending {
	query(nil)
	return readmodel.Pending{Complete: true}
}

// paceWords are the English words the progress chart's subtitle opens with.
var paceWords = map[tiendo.PaceState]string{
	tiendo.PaceNotStarted: "Not started", tiendo.PaceTooEarly: "Just started", tiendo.PaceDone: "Target reached",
	tiendo.PaceBehind: "Behind", tiendo.PaceOnTrack: "On track", tiendo.PaceAhead: "Ahead",
	tiendo.PaceEnded: "Deadline passed",
}

var behindCount = regexp.MustCompile(`(\d+) of (\d+) districts behind`)

// The replay: the simulated campaign is written into a real
// embedded ClickHouse hour by hour, and at the end of every hour the
// snapshot, its charts and its lists must tell one story: the progress
// chart's subtitle names the snapshot's pace state and its forecast ends on
// the projected finish, the districts chart counts as behind exactly the
// districts whose pace is behind or ended, no projection in the first three
// working days, no home-visit team among the longest waits, every late
// station's queue clearing after 02:00. In go test, 10–15 March: the first
// days without a projection and the first days with one; further with
// TIENDO_REPLAY_TO (make replay-check: to 20 March, then the whole campaign).
func TestReplayFiguresAgree(t *testing.T) {
	to := tiendo.DayOf(2021, time.March, 15)
	if s := os.Getenv("TIENDO_REPLAY_TO"); s != "" {
		d, err := tiendo.ParseDay(s)
		if err != nil {
			t.Fatal(err)
		}
		to = d
	}
	ctx := context.Background()
	engine := testEngine(t)
	db, err := store.Open(ctx, engine, "replay")
	if err != nil {
		t.Fatal(err)
	}
	// The engine is shared: TestMain closes it.
	c, stations := langson2021.Campaign(), langson2021.Stations()
	db.SetStations(stations)
	reg := tiendo.NewRegistry(c, c.Districts, stations)
	model, err := simulate.NewModel(c, stations, 1, simulate.Params{})
	if err != nil {
		t.Fatal(err)
	}
	var now time.Time
	m := readmodel.New(readmodel.Sources{Store: db, Overlay: noPending{}, Registry: func() *tiendo.Registry { return reg },
		Now: func() time.Time { return now }})

	checked := 0
	var buf []simulate.Event
	for d := c.Start; d <= to; d++ {
		var day []tiendo.Event
		for i := range stations {
			buf, _ = model.Day(i, d, buf[:0])
			for _, e := range buf {
				day = append(day, e.Event)
			}
		}
		sort.SliceStable(day, func(i, j int) bool { return day[i].TS.Before(day[j].TS) })
		for h := 0; h < 24; h++ {
			end := c.DayStart(d).Add(time.Duration(h+1) * time.Hour)
			n := sort.Search(len(day), func(i int) bool { return !day[i].TS.Before(end) })
			if n > 0 {
				if err := db.WriteEvents(ctx, day[:n]); err != nil {
					t.Fatal(err)
				}
				day = day[n:]
			}
			now = end.Add(-time.Second)
			checkAgreement(t, m, c, tiendo.ProvinceScope, now)
			if h%6 == 5 { // a district's own pace, four times a day
				checkAgreement(t, m, c, tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: "LS-HL"}, now)
			}
			checked++
		}
	}
	t.Logf("%d hours checked, %s to %s", checked, c.Start, to)
}

func checkAgreement(t *testing.T, m *readmodel.Model, c *tiendo.Campaign, scope tiendo.Scope, now time.Time) {
	t.Helper()
	in, err := m.ChartInput(context.Background(), scope)
	if err != nil {
		t.Fatal(err)
	}
	in.Lang = "en"
	charts, err := dashboards.Build(in)
	if err != nil {
		t.Fatal(err)
	}
	snap := in.Snapshot
	at := now.In(c.Location()).Format("02/01 15:04") + " " + scope.String()
	p := snap.Pace
	if p == nil {
		t.Fatalf("%s: no pace", at)
	}
	if int(snap.Day-c.Start) < tiendo.TooEarlyDays && p.ProjectedFinish != nil {
		t.Errorf("%s: a projection (%v) in the first working days", at, *p.ProjectedFinish)
	}
	var progress struct {
		Title  struct{ Subtext string } `json:"title"`
		Series []struct {
			Name string
			Data []json.RawMessage
		} `json:"series"`
	}
	if err := json.Unmarshal(charts[dashboards.ChartProgress], &progress); err != nil {
		t.Fatal(err)
	}
	if sub := progress.Title.Subtext; !strings.HasPrefix(sub, paceWords[p.State]) {
		t.Errorf("%s: pace %s, but the progress chart says %q", at, p.State, sub)
	}
	if p.ProjectedFinish != nil {
		last := lastPoint(progress.Series)
		want := int64(*p.ProjectedFinish - c.Start)
		if len(last) != 2 || last[0] != want || last[1] != p.Target {
			t.Errorf("%s: the forecast ends at %v, want [%d %d] (projected finish %v)", at, last, want, p.Target, *p.ProjectedFinish)
		}
	}
	if scope == tiendo.ProvinceScope {
		var districts struct {
			Title struct{ Subtext string } `json:"title"`
		}
		if err := json.Unmarshal(charts[dashboards.ChartDistricts], &districts); err != nil {
			t.Fatal(err)
		}
		behind := 0
		for _, d := range snap.Districts {
			if d.Pace != nil && (d.Pace.State == tiendo.PaceBehind || d.Pace.State == tiendo.PaceEnded) {
				behind++
			}
			if int(snap.Day-c.Start) < tiendo.TooEarlyDays && d.Pace != nil && d.Pace.ProjectedFinish != nil {
				t.Errorf("%s: district %s projects in the first working days", at, d.ID)
			}
		}
		mm := behindCount.FindStringSubmatch(districts.Title.Subtext)
		if mm == nil || mm[1] != strconv.Itoa(behind) || mm[2] != strconv.Itoa(len(snap.Districts)) {
			t.Errorf("%s: %d of %d districts' paces are behind, the chart says %q", at, behind, len(snap.Districts), districts.Title.Subtext)
		}
	}
	for _, w := range snap.Attention.Waits {
		if w.Kind == tiendo.KindHomeVisit {
			t.Errorf("%s: home-visit team %s among the longest waits", at, w.ID)
		}
	}
	late := 0
	for _, s := range snap.Stations {
		if s.Late {
			late++
			if s.ClearsAt == nil || !s.ClearsAt.After(c.LateCloseTime(snap.Day)) {
				t.Errorf("%s: %s late, clearing at %v", at, s.ID, s.ClearsAt)
			}
		}
	}
	if late != snap.Totals.StationsLate {
		t.Errorf("%s: %d stations late, totals say %d", at, late, snap.Totals.StationsLate)
	}
}

// lastPoint is the last [x, y] point of the forecast series (the third).
func lastPoint(series []struct {
	Name string
	Data []json.RawMessage
}) []int64 {
	if len(series) < 3 || len(series[2].Data) == 0 {
		return nil
	}
	var item struct{ Value []int64 }
	if json.Unmarshal(series[2].Data[len(series[2].Data)-1], &item) != nil {
		return nil
	}
	return item.Value
}
