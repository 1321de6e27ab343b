package alerting_test

import (
	"context"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"tiendo"
	"tiendo/alerting"
	"tiendo/store/local"
)

// The engine is tested on the real state database and on snapshots that
// the root package builds from stored figures (tiendo.BuildSnapshot), as
// the read model does; only where those figures come from is the test's:
// a province whose stations' StationStats the test sets, at a clock it moves.

var ict = time.FixedZone("ICT", 7*3600)

func at(day, hour, minute int) time.Time { return time.Date(2021, 3, day, hour, minute, 0, 0, ict) }

func testRegistry(t testing.TB) *tiendo.Registry {
	t.Helper()
	c := &tiendo.Campaign{ID: "t", Name: "Thử", TimeZone: "Asia/Ho_Chi_Minh", Start: tiendo.DayOf(2021, 3, 10),
		Deadline: tiendo.DayOf(2021, 7, 1), Target: 2000, DayBoundaryHour: 4, OpenHour: 7, LateNightHour: 22, MinutesPerRecord: 6,
		Districts: []tiendo.District{{ID: "D1", Name: "Một", Quota: 1000}, {ID: "D2", Name: "Hai", Quota: 1000}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return tiendo.NewRegistry(c, c.Districts, []tiendo.Station{
		{ID: "S1", Name: "Trạm 1", District: "D1", Kind: tiendo.KindFixed, Lanes: 2},
		{ID: "S2", Name: "Trạm 2", District: "D2", Kind: tiendo.KindFixed, Lanes: 2},
	})
}

// province is the figures' source: each station's stored figures at now.
type province struct {
	reg *tiendo.Registry

	mu      sync.Mutex
	now     time.Time
	stats   map[string]tiendo.StationStats
	partial bool
	reads   int
	alerts  func(tiendo.Scope) []tiendo.Alert // as readmodel.Sources.Alerts
	took    time.Duration                     // how long a read takes (a national campaign's is half a second)
}

// newProvince has both districts done (so that no behind alert opens
// unless a test asks) and no heartbeats.
func newProvince(reg *tiendo.Registry, now time.Time) *province {
	return &province{reg: reg, now: now, stats: map[string]tiendo.StationStats{
		"S1": {Station: "S1", Completed: 1000}, "S2": {Station: "S2", Completed: 1000}}}
}

func (p *province) StationSnapshot(_ context.Context, scope tiendo.Scope) (*tiendo.Snapshot, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reads++
	time.Sleep(p.took)
	var stats []tiendo.StationStats
	for _, s := range p.stats {
		stats = append(stats, s)
	}
	snap := tiendo.BuildSnapshot(p.reg, scope, stats, p.reg.Campaign.ConfiguredProfile(), p.now)
	snap.Storage.Partial = p.partial
	if p.alerts != nil {
		snap.Alerts = p.alerts(scope)
	}
	return snap, nil
}

// set changes a station's figures.
func (p *province) set(id string, change func(s *tiendo.StationStats)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats[id]
	change(&s)
	p.stats[id] = s
}

// heartbeat makes the station's newest heartbeat one at t.
func (p *province) heartbeat(id string, t time.Time, status tiendo.StationStatus, queue int) {
	p.set(id, func(s *tiendo.StationStats) {
		s.HasHeartbeat, s.LastSeen, s.Status, s.Queue, s.Staff, s.Lanes = true, t.UTC(), status, queue, 2, 2
	})
}

func (p *province) at(t time.Time) {
	p.mu.Lock()
	p.now = t
	p.mu.Unlock()
}

type fixture struct {
	t       *testing.T
	dir     string
	db      *local.DB
	reg     *tiendo.Registry
	p       *province
	e       *alerting.Engine
	metrics *prometheus.Registry
	notify  func() // the engine's Notify, if set before open
}

func newFixture(t *testing.T, now time.Time) *fixture {
	f := &fixture{t: t, dir: t.TempDir(), reg: testRegistry(t)}
	f.p = newProvince(f.reg, now)
	f.open()
	return f
}

// open opens the state and an engine on it, as a server start does.
func (f *fixture) open() {
	f.t.Helper()
	db, err := local.Open(f.dir)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { db.Close() })
	f.db, f.metrics = db, prometheus.NewRegistry()
	f.e, err = alerting.New(alerting.Config{Figures: f.p, Store: db, Registry: func() *tiendo.Registry { return f.reg },
		Metrics: f.metrics, MinInterval: time.Hour, Notify: func() {
			if f.notify != nil {
				f.notify()
			}
		}})
	if err != nil {
		f.t.Fatal(err)
	}
	f.p.alerts = f.e.Of
}

// restart closes the state and opens it and a new engine again.
func (f *fixture) restart() {
	f.db.Close()
	f.open()
}

// round evaluates at t.
func (f *fixture) round(t time.Time) []tiendo.Alert {
	f.t.Helper()
	f.p.at(t)
	if err := f.e.Round(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	return f.e.Of(tiendo.ProvinceScope)
}

func kinds(alerts []tiendo.Alert) []string {
	out := []string{}
	for _, a := range alerts {
		out = append(out, string(a.Kind)+" "+a.Subject())
	}
	return out
}

// metric is the value of series name{kind} as the registry exports it.
func (f *fixture) metric(name string, kind tiendo.AlertKind) float64 {
	f.t.Helper()
	mfs, err := f.metrics.Gather()
	if err != nil {
		f.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == string(kind) {
				if m.GetGauge() != nil {
					return m.GetGauge().GetValue()
				}
				return m.GetCounter().GetValue()
			}
		}
	}
	f.t.Fatalf("no %s{kind=%q}", name, kind)
	return 0
}

func (f *fixture) openGauge(kind tiendo.AlertKind) float64 {
	return f.metric("tiendo_alerts_open", kind)
}

// A station that said it was open and fell silent: the alert opens once
// the silence reaches 15 minutes, is stored with its webhook mark, shows in
// the station's, its district's and the province's alerts but not another
// district's, and resolves 5 minutes after the heartbeats return.
func TestSilentStationOpensAndResolves(t *testing.T) {
	f := newFixture(t, at(20, 20, 0))
	f.p.heartbeat("S1", at(20, 20, 0), tiendo.StatusOpen, 3)
	if got := f.round(at(20, 20, 14)); len(got) != 0 {
		t.Fatalf("14 minutes quiet: %v", kinds(got))
	}
	got := f.round(at(20, 20, 15))
	if want := []string{"silent S1"}; !reflect.DeepEqual(kinds(got), want) {
		t.Fatalf("15 minutes quiet: %v, want %v", kinds(got), want)
	}
	a := got[0]
	if a.ID != "silent~S1~"+strconv.FormatInt(at(20, 20, 15).Unix(), 10) || a.District != "D1" || !a.Since.Equal(at(20, 20, 15)) ||
		a.Value != 15 || a.Severity != "warning" || a.AckedAt != nil || a.Resolved != nil {
		t.Errorf("alert = %+v", a)
	}
	if f.openGauge(tiendo.AlertSilent) != 1 || f.openGauge(tiendo.AlertLongWait) != 0 {
		t.Errorf("open gauge: silent %v, long_wait %v; want 1, 0", f.openGauge(tiendo.AlertSilent), f.openGauge(tiendo.AlertLongWait))
	}
	if n := f.metric("tiendo_alerts_opened_total", tiendo.AlertSilent); n != 1 {
		t.Errorf("opened_total{silent} = %v, want 1", n)
	}
	for scope, want := range map[string]int{"province": 1, "district:D1": 1, "station:S1": 1, "district:D2": 0, "station:S2": 0} {
		sc, _ := tiendo.ParseScope(scope)
		if n := len(f.e.Of(sc)); n != want {
			t.Errorf("%s shows %d alerts, want %d", scope, n, want)
		}
	}
	if stored, err := f.db.OpenAlerts(); err != nil || len(stored) != 1 || stored[0].ID != a.ID {
		t.Errorf("stored open alerts = %+v, %v", stored, err)
	}
	if marks, _ := f.db.AlertsToNotify(); len(marks) != 1 || marks[0].ID != a.ID {
		t.Errorf("webhook marks = %v, want the new alert", kinds(marks))
	}
	// Still silent, more so: the same alert, its figure and severity move.
	got = f.round(at(20, 20, 31))
	if len(got) != 1 || got[0].ID != a.ID || got[0].Value != 31 || got[0].Severity != "critical" {
		t.Fatalf("31 minutes quiet: %+v", got)
	}
	// Heartbeats return; the alert holds for the clear time, then resolves.
	f.p.heartbeat("S1", at(20, 20, 32), tiendo.StatusOpen, 3)
	if got := f.round(at(20, 20, 33)); len(got) != 1 || got[0].Value != 31 {
		t.Fatalf("a minute after the heartbeat came back: %+v, want the alert still open, its figure kept", got)
	}
	if got := f.round(at(20, 20, 37)); len(got) != 1 {
		t.Fatalf("4 minutes after: %v, want still open", kinds(got))
	}
	if got := f.round(at(20, 20, 38)); len(got) != 0 {
		t.Fatalf("5 minutes after: %v, want resolved", kinds(got))
	}
	stored, err := f.db.Alert(a.ID)
	if err != nil || stored.Resolved == nil || !stored.Resolved.Equal(at(20, 20, 38)) || stored.Value != 31 {
		t.Errorf("stored after resolving: %+v, %v", stored, err)
	}
	if f.openGauge(tiendo.AlertSilent) != 0 {
		t.Errorf("open gauge after resolving: %v", f.openGauge(tiendo.AlertSilent))
	}
	// Silent again: a new alert, with its own id.
	got = f.round(at(20, 20, 48))
	if len(got) != 1 || got[0].ID == a.ID || got[0].Kind != tiendo.AlertSilent {
		t.Errorf("silent again: %+v, want a new alert", got)
	}
}

// An acknowledgement is stored at once: after a restart (a new engine on
// the state opened again) the alert, still holding, goes on with the same
// id and its acknowledgement, and is not counted as opened again.
func TestAckSurvivesRestart(t *testing.T) {
	f := newFixture(t, at(20, 20, 0))
	f.p.heartbeat("S1", at(20, 20, 0), tiendo.StatusOpen, 3)
	a := f.round(at(20, 20, 20))[0]
	got, acked, err := f.e.Ack(a.ID, "user:lan", at(20, 20, 21))
	if err != nil || !acked || got.AckedBy != "user:lan" || !got.AckedAt.Equal(at(20, 20, 21)) || got.Value != 20 {
		t.Fatalf("Ack = %+v, %v, %v", got, acked, err)
	}
	if again, acked, _ := f.e.Ack(a.ID, "user:minh", at(20, 20, 22)); acked || again.AckedBy != "user:lan" {
		t.Errorf("second Ack = %+v, %v; want the first one kept", again, acked)
	}
	if _, _, err := f.e.Ack("silent~S9~1", "user:lan", at(20, 20, 22)); err == nil {
		t.Error("Ack of an unknown alert: no error")
	}
	f.restart()
	open := f.e.Of(tiendo.ProvinceScope)
	if len(open) != 1 || open[0].ID != a.ID || open[0].AckedBy != "user:lan" {
		t.Fatalf("after a restart: %+v, want the acknowledged alert", open)
	}
	if f.openGauge(tiendo.AlertSilent) != 1 {
		t.Errorf("open gauge after a restart = %v, want 1 (loaded)", f.openGauge(tiendo.AlertSilent))
	}
	got2 := f.round(at(20, 20, 25))
	if len(got2) != 1 || got2[0].ID != a.ID || got2[0].AckedBy != "user:lan" || got2[0].Value != 25 {
		t.Errorf("first round after the restart: %+v", got2)
	}
	if n := f.metric("tiendo_alerts_opened_total", tiendo.AlertSilent); n != 0 {
		t.Errorf("opened after the restart = %v, want 0: it is the same alert", n)
	}
	// Resolving keeps the acknowledgement in the record.
	f.p.heartbeat("S1", at(20, 20, 26), tiendo.StatusOpen, 3)
	f.round(at(20, 20, 27))
	f.round(at(20, 20, 33))
	stored, err := f.db.Alert(a.ID)
	if err != nil || stored.Resolved == nil || stored.AckedBy != "user:lan" {
		t.Errorf("resolved: %+v, %v", stored, err)
	}
}

// A wait wavering around 120 minutes is one alert: it opens over 120,
// holds down to 108 and through a dip under that shorter than the clear
// time; it resolves after 5 minutes under 108, and a new one opens over
// 120 again.
func TestLongWaitHysteresis(t *testing.T) {
	f := newFixture(t, at(20, 20, 0))
	// Queue q at 2 lanes at the nominal 6 minutes: a wait of 3q.
	wait := func(minute, queue int) []tiendo.Alert {
		f.p.heartbeat("S1", at(20, 20, minute), tiendo.StatusOpen, queue)
		return f.round(at(20, 20, minute))
	}
	if got := wait(0, 40); len(got) != 0 {
		t.Fatalf("wait 120: %v", kinds(got))
	}
	first := wait(2, 41) // 123
	if len(first) != 1 || first[0].Kind != tiendo.AlertLongWait || first[0].Value != 123 {
		t.Fatalf("wait 123: %+v", first)
	}
	for i, q := range []int{39, 41, 37, 40, 36, 41} { // 117, 123, 111, 120, 108 (under the keep), 123
		got := wait(4+2*i, q)
		if len(got) != 1 || got[0].ID != first[0].ID {
			t.Fatalf("queue %d at minute %d: %+v, want the first alert still", q, 4+2*i, got)
		}
	}
	wait(16, 30) // 90
	if got := wait(20, 30); len(got) != 1 {
		t.Fatalf("4 minutes at 90: %v, want still open", kinds(got))
	}
	if got := wait(21, 30); len(got) != 0 {
		t.Fatalf("5 minutes at 90: %v, want resolved", kinds(got))
	}
	again := wait(22, 42)
	if len(again) != 1 || again[0].ID == first[0].ID {
		t.Fatalf("over 120 again: %+v, want a new alert", again)
	}
	if n := f.metric("tiendo_alerts_opened_total", tiendo.AlertLongWait); n != 2 {
		t.Errorf("opened long waits = %v, want 2", n)
	}
}

// Each kind on a hand-made situation: it opens, it is counted under its
// kind, and when the situation is mended it resolves after the clear time.
func TestEachKindOpensAndResolves(t *testing.T) {
	cases := []struct {
		kind       tiendo.AlertKind
		subject    string
		now        time.Time
		bad, mend  func(p *province, now time.Time)
		wantValue  float64
		otherKinds []tiendo.AlertKind
	}{
		{tiendo.AlertSilent, "S1", at(20, 20, 0),
			func(p *province, now time.Time) { p.heartbeat("S1", now.Add(-16*time.Minute), tiendo.StatusOpen, 3) },
			func(p *province, now time.Time) { p.heartbeat("S1", now, tiendo.StatusClosed, 0) }, 16, nil},
		{tiendo.AlertLongWait, "S1", at(20, 20, 0),
			func(p *province, now time.Time) { p.heartbeat("S1", now, tiendo.StatusOpen, 50) }, // 150 min
			func(p *province, now time.Time) { p.heartbeat("S1", now, tiendo.StatusOpen, 5) }, 150, nil},
		// At 01:00 a queue of 22 at 2 lanes (66 minutes) clears at 02:06.
		{tiendo.AlertLateClose, "S1", at(21, 1, 0),
			func(p *province, now time.Time) { p.heartbeat("S1", now, tiendo.StatusOpen, 22) },
			func(p *province, now time.Time) { p.heartbeat("S1", now, tiendo.StatusOpen, 2) }, 6, nil},
		{tiendo.AlertSlowdown, "S2", at(20, 20, 0),
			func(p *province, now time.Time) {
				p.heartbeat("S2", now, tiendo.StatusOpen, 4)
				p.set("S2", func(s *tiendo.StationStats) { s.LastHour, s.LastHourYesterday = 3, 10 })
			},
			func(p *province, now time.Time) {
				p.heartbeat("S2", now, tiendo.StatusOpen, 4)
				p.set("S2", func(s *tiendo.StationStats) { s.LastHour = 9 })
			}, 0.3, nil},
		// D2 with nothing done on 20 March: at this pace, never.
		{tiendo.AlertBehind, "D2", at(20, 20, 0),
			func(p *province, now time.Time) { p.set("S2", func(s *tiendo.StationStats) { s.Completed = 0 }) },
			func(p *province, now time.Time) { p.set("S2", func(s *tiendo.StationStats) { s.Completed = 1000 }) }, 0, nil},
	}
	for _, tc := range cases {
		t.Run(string(tc.kind), func(t *testing.T) {
			f := newFixture(t, tc.now)
			tc.bad(f.p, tc.now)
			got := f.round(tc.now)
			if len(got) != 1 || got[0].Kind != tc.kind || got[0].Subject() != tc.subject {
				t.Fatalf("open: %v, want %s %s", kinds(got), tc.kind, tc.subject)
			}
			if tc.kind != tiendo.AlertBehind && got[0].Value != tc.wantValue {
				t.Errorf("value %v, want %v", got[0].Value, tc.wantValue)
			}
			if tc.kind == tiendo.AlertBehind && (got[0].Value >= 0 || got[0].Station != "" || got[0].District != "D2") {
				t.Errorf("behind: %+v, want the district's negative gap", got[0])
			}
			for _, k := range tiendo.AlertKinds() {
				want := 0.0
				if k == tc.kind {
					want = 1
				}
				if n := f.openGauge(k); n != want {
					t.Errorf("tiendo_alerts_open{kind=%s} = %v, want %v", k, n, want)
				}
			}
			later := tc.now.Add(time.Minute)
			tc.mend(f.p, later)
			if got := f.round(later); len(got) != 1 {
				t.Fatalf("just mended: %v, want still open (clear time)", kinds(got))
			}
			done := later.Add(5 * time.Minute)
			tc.mend(f.p, done)
			if got := f.round(done); len(got) != 0 {
				t.Fatalf("mended 5 minutes: %v, want resolved", kinds(got))
			}
			if f.openGauge(tc.kind) != 0 {
				t.Errorf("open gauge after resolving: %v", f.openGauge(tc.kind))
			}
		})
	}
}

// Figures that lag behind the spool (Partial) change nothing: neither
// open nor resolve.
func TestPartialFiguresChangeNothing(t *testing.T) {
	f := newFixture(t, at(20, 20, 0))
	f.p.heartbeat("S1", at(20, 20, 0), tiendo.StatusOpen, 3)
	f.p.partial = true
	if got := f.round(at(20, 20, 30)); len(got) != 0 {
		t.Fatalf("partial figures opened %v", kinds(got))
	}
	f.p.partial = false
	if got := f.round(at(20, 20, 31)); len(got) != 1 {
		t.Fatalf("complete figures: %v, want the silent alert", kinds(got))
	}
	f.p.heartbeat("S1", at(20, 20, 31), tiendo.StatusOpen, 3)
	f.p.partial = true
	if got := f.round(at(20, 20, 50)); len(got) != 1 {
		t.Fatalf("partial figures resolved %v", kinds(got))
	}
}

// MaybeRound spaces evaluations on the wall clock; the snapshot that the
// engine reads asks the engine for its alerts without deadlocking.
func TestMaybeRoundSpacing(t *testing.T) {
	reg := testRegistry(t)
	p := newProvince(reg, at(20, 20, 0))
	db, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e, err := alerting.New(alerting.Config{Figures: p, Store: db, Registry: func() *tiendo.Registry { return reg }, MinInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	p.alerts = e.Of
	wall := time.Now()
	e.MaybeRound(context.Background(), wall)
	e.MaybeRound(context.Background(), wall.Add(999*time.Millisecond))
	if p.reads != 1 {
		t.Fatalf("two calls within a second read %d snapshots, want 1", p.reads)
	}
	e.MaybeRound(context.Background(), wall.Add(time.Second))
	if p.reads != 2 {
		t.Fatalf("a second later: %d reads, want 2", p.reads)
	}
}

// A round whose read is slow spaces the next by four times its duration,
// not by MinInterval only: at a national campaign's size the engine would
// otherwise read the whole campaign, per station, every second.
func TestSlowRoundsSpaceTheNext(t *testing.T) {
	reg := testRegistry(t)
	p := newProvince(reg, at(20, 20, 0))
	p.took = 100 * time.Millisecond
	db, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e, err := alerting.New(alerting.Config{Figures: p, Store: db, Registry: func() *tiendo.Registry { return reg },
		MinInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	wall := time.Now()
	e.MaybeRound(context.Background(), wall)
	e.MaybeRound(context.Background(), wall.Add(350*time.Millisecond))
	if p.reads != 1 {
		t.Fatalf("a round of 100 ms, and another called 350 ms after it: %d reads, want 1 (the next is due 400 ms after)", p.reads)
	}
	e.MaybeRound(context.Background(), wall.Add(2*time.Second))
	if p.reads != 2 {
		t.Fatalf("2 s after a round of 100 ms: %d reads, want 2", p.reads)
	}
	p.took = 0
	e.MaybeRound(context.Background(), wall.Add(3*time.Second))
	e.MaybeRound(context.Background(), wall.Add(3*time.Second+300*time.Millisecond))
	if p.reads != 4 {
		t.Fatalf("300 ms after a fast round (the slow ones spaced by 400 ms): %d reads, want 4", p.reads)
	}
}

// During: the day's alerts of a scope, resolved ones as stored and open
// ones with their latest figures.
func TestDuringDay(t *testing.T) {
	f := newFixture(t, at(20, 20, 0))
	f.p.heartbeat("S1", at(20, 20, 0), tiendo.StatusOpen, 3)
	f.p.heartbeat("S2", at(20, 20, 0), tiendo.StatusOpen, 50)
	f.round(at(20, 20, 16)) // S1 silent; S2's heartbeat is stale too by now: offline, no wait
	f.p.heartbeat("S2", at(20, 20, 17), tiendo.StatusOpen, 50)
	f.round(at(20, 20, 17)) // S2 long wait 150
	f.p.heartbeat("S2", at(20, 20, 18), tiendo.StatusOpen, 2)
	f.round(at(20, 20, 18))
	f.round(at(20, 20, 23)) // resolved
	f.p.heartbeat("S2", at(20, 20, 39), tiendo.StatusClosed, 0)
	f.round(at(20, 20, 40)) // S1's silence grows to 40
	c := f.reg.Campaign
	day := tiendo.DayOf(2021, 3, 20)
	all, err := f.e.During(tiendo.ProvinceScope, c.DayStart(day), c.DayEnd(day))
	if err != nil {
		t.Fatal(err)
	}
	if got := kinds(all); !reflect.DeepEqual(got, []string{"silent S1", "silent S2", "long_wait S2"}) {
		t.Fatalf("day 20: %v", got)
	}
	if all[0].Value != 40 || all[0].Resolved != nil || all[2].Resolved == nil {
		t.Errorf("day 20: %+v", all)
	}
	d2, _ := f.e.During(tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: "D2"}, c.DayStart(day), c.DayEnd(day))
	if got := kinds(d2); !reflect.DeepEqual(got, []string{"silent S2", "long_wait S2"}) {
		t.Errorf("district D2, day 20: %v", got)
	}
	if next, _ := f.e.During(tiendo.ProvinceScope, c.DayStart(day+1), c.DayEnd(day+1)); len(next) != 1 || next[0].Station != "S1" {
		t.Errorf("day 21: %v, want only S1's alert, still open", kinds(next))
	}
}

// In a cluster only the flush leader evaluates; another node shows the
// alerts of the shared store, acknowledges them there (the leader takes
// the acknowledgement), and carries on the same alerts when it becomes
// the leader. Both engines here read one state.db, which stands for the
// shared state every node's copy follows (store/kvstate, tested there).
func TestOnlyTheLeaderEvaluates(t *testing.T) {
	f := newFixture(t, at(20, 20, 0))
	var aLeads atomic.Bool
	aLeads.Store(true)
	engine := func(leading func() bool) *alerting.Engine {
		e, err := alerting.New(alerting.Config{Figures: f.p, Store: f.db, Registry: func() *tiendo.Registry { return f.reg },
			Metrics: prometheus.NewRegistry(), MinInterval: time.Hour, Leading: leading})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	a, b := engine(aLeads.Load), engine(func() bool { return !aLeads.Load() })
	round := func(e *alerting.Engine, when time.Time) []tiendo.Alert {
		t.Helper()
		f.p.at(when)
		if err := e.Round(context.Background()); err != nil {
			t.Fatal(err)
		}
		return e.Of(tiendo.ProvinceScope)
	}
	f.p.heartbeat("S1", at(20, 20, 0), tiendo.StatusOpen, 3)
	if got := round(b, at(20, 20, 20)); len(got) != 0 {
		t.Fatalf("the follower evaluated: %v", kinds(got))
	}
	opened := round(a, at(20, 20, 20))
	if len(opened) != 1 {
		t.Fatalf("the leader: %v, want the silent station", kinds(opened))
	}
	id := opened[0].ID
	if got := round(b, at(20, 20, 21)); len(got) != 1 || got[0].ID != id {
		t.Fatalf("the follower shows %+v, want the leader's alert %s", got, id)
	}
	if _, acked, err := b.Ack(id, "user:lan", at(20, 20, 22)); err != nil || !acked {
		t.Fatalf("ack on the follower: %v, %v", acked, err)
	}
	if got := round(a, at(20, 20, 23)); len(got) != 1 || got[0].AckedBy != "user:lan" {
		t.Fatalf("the leader after the follower's ack: %+v", got)
	}
	aLeads.Store(false) // the lease moves to b
	got := round(b, at(20, 20, 24))
	if len(got) != 1 || got[0].ID != id || got[0].AckedBy != "user:lan" || got[0].Value != 24 {
		t.Fatalf("b leading: %+v, want the same alert, acknowledged, evaluated now", got)
	}
	if marks, _ := f.db.AlertsToNotify(); len(marks) != 1 {
		t.Errorf("%d webhook marks, want 1: the alert opened once", len(marks))
	}
}
