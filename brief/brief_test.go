package brief_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"tiendo"
	"tiendo/brief"
	"tiendo/ingest"
	"tiendo/readmodel"
	"tiendo/store"
	"tiendo/store/chdb"
	"tiendo/store/local"
	"tiendo/store/storetest"
)

// engine is the process's one embedded ClickHouse; each test has its own
// databases in it.
var engine *chdb.Engine

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tiendo-brief-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if engine, err = chdb.Open(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	engine.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

func openDB(t *testing.T, prefix string) *store.DB {
	t.Helper()
	name := storetest.NewDatabaseName(prefix)
	db, err := store.Open(context.Background(), engine, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = engine.Exec(context.Background(), "DROP DATABASE IF EXISTS `"+name+"`") })
	return db
}

// storedOnly is the overlay of a store that every event was written to:
// nothing waits. The reference snapshots read through it.
type storedOnly struct{}

func (storedOnly) Read(query func([]tiendo.Event)) readmodel.Pending {
	query(nil)
	return readmodel.Pending{Complete: true}
}

var loc = func() *time.Location {
	l, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		panic(err)
	}
	return l
}()

// local time in Lạng Sơn; hour may be 24 or more (after midnight).
func lt(day, hour, minute, second int) time.Time {
	return time.Date(2021, time.March, day, hour, minute, second, 0, loc)
}

// now is the campaign clock in these tests: 20 March 2021, 21:15.
var now = lt(20, 21, 15, 0)

func campaign(t *testing.T) (*tiendo.Campaign, []tiendo.Station) {
	t.Helper()
	c := &tiendo.Campaign{ID: "t", Name: "Thử nghiệm", NameEN: "Trial", TimeZone: "Asia/Ho_Chi_Minh", Start: tiendo.DayOf(2021, 3, 10),
		Deadline: tiendo.DayOf(2021, 7, 1), Target: 2000, DayBoundaryHour: 4, OpenHour: 7, LateNightHour: 22, MinutesPerRecord: 6,
		Districts: []tiendo.District{{ID: "D1", Name: "Một", Quota: 1200}, {ID: "D2", Name: "Hai", Quota: 800}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c, []tiendo.Station{
		{ID: "S1", Name: "Trạm 1", District: "D1", Kind: tiendo.KindFixed, Lanes: 2, Quota: 600},
		{ID: "S3", Name: "=Trạm 3", District: "D1", Kind: tiendo.KindFixed, Lanes: 2, Quota: 600},
		{ID: "S2", Name: "Trạm 2", District: "D2", Kind: tiendo.KindMobile, Lanes: 1, Quota: 800},
		{ID: "S4", Name: "Tổ 4", District: "D2", Kind: tiendo.KindMobile, Lanes: 1}, // no quota
	}
}

// campaignEvents are completions from 10 March to now: every station from
// 07:00, S1 to 01:xx every third night, S3 to 02:xx every fourth, S2 to
// 23:xx, S4 (no quota) by day only; today up to 21:10.
func campaignEvents() []tiendo.Event {
	last := map[string]func(d int) int{
		"S1": func(d int) int { return map[bool]int{true: 25, false: 22}[d%3 == 0] },
		"S3": func(d int) int { return map[bool]int{true: 26, false: 21}[d%4 == 0] },
		"S2": func(int) int { return 23 },
		"S4": func(int) int { return 18 },
	}
	var evs []tiendo.Event
	for d := 10; d <= 20; d++ {
		for i, st := range []string{"S1", "S2", "S3", "S4"} {
			for h := 7; h <= last[st](d); h++ {
				ts := lt(d, h, 10+7*i, i)
				if !ts.Before(now.Add(-5 * time.Minute)) {
					break
				}
				evs = append(evs, tiendo.Event{ID: fmt.Sprintf("%s-%d-%d", st, d, h), Type: tiendo.TypeCompletion, Station: st, TS: ts,
					Count: 1 + (i+h+d)%4, FingerprintRetries: (h + d) % 3, Kind: tiendo.RecordStandard})
			}
		}
	}
	return evs
}

// fixture is a campaign's events, a quarter of them (and the last hour's)
// still in the spool, read by the read model the server uses.
type fixture struct {
	c       *tiendo.Campaign
	reg     *tiendo.Registry
	events  []tiendo.Event
	model   *readmodel.Model
	flusher *ingest.Flusher
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	c, stations := campaign(t)
	db := openDB(t, "brief")
	db.SetStations(stations)
	spool, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { spool.Close() })
	f := &fixture{c: c, reg: tiendo.NewRegistry(c, c.Districts, stations), events: campaignEvents()}
	var stored, pending []tiendo.Event
	for i, e := range f.events {
		if i%4 == 0 || e.TS.After(now.Add(-time.Hour)) {
			pending = append(pending, e)
		} else {
			stored = append(stored, e)
		}
	}
	if err := db.WriteEvents(context.Background(), stored); err != nil {
		t.Fatal(err)
	}
	if _, err := spool.Accept(pending, local.SpoolLimits{MaxEvents: 1 << 30, MaxBytes: 1 << 40}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.flusher = ingest.NewFlusher(ingest.FlusherConfig{}, spool, db, ingest.NewMetrics(prometheus.NewRegistry()), log)
	f.model = readmodel.New(readmodel.Sources{Store: db, Overlay: readmodel.SpoolOverlay{Spool: spool, Flusher: f.flusher, Stored: db},
		Registry: func() *tiendo.Registry { return f.reg }, Now: func() time.Time { return now }})
	return f
}

// reference is the snapshot of scope rebuilt at instant at from scratch:
// a database holding only the events before at, read live with the clock
// at at, so that nothing after at can be in it.
func (f *fixture) reference(t *testing.T, scope tiendo.Scope, at time.Time) *tiendo.Snapshot {
	t.Helper()
	db := openDB(t, "ref")
	var before []tiendo.Event
	for _, e := range f.events {
		if e.TS.Before(at) {
			before = append(before, e)
		}
	}
	if err := db.WriteEvents(context.Background(), before); err != nil {
		t.Fatal(err)
	}
	m := readmodel.New(readmodel.Sources{Store: db, Overlay: storedOnly{}, Registry: func() *tiendo.Registry { return f.reg },
		Now: func() time.Time { return at }})
	snap, err := m.Snapshot(context.Background(), scope)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func (f *fixture) build(t *testing.T, r brief.Request) *brief.Brief {
	t.Helper()
	if r.Now.IsZero() {
		r.Now = now
	}
	b, err := brief.Build(context.Background(), f.model, f.reg, r)
	if err != nil {
		t.Fatalf("brief %+v: %v", r, err)
	}
	return b
}

// night is what the events say of working day d by the brief's rules,
// counted here from the events themselves: per station the day's records,
// those from 22:00 to the 04:00 boundary, whether any came after 01:00,
// and the records and retries to the day's end.
type night struct {
	day, late, toDate, retries int64
	past                       bool
}

func (f *fixture) nights(d tiendo.Day) map[string]*night {
	out := map[string]*night{}
	start, end := f.c.DayStart(d), f.c.DayEnd(d)
	y, m, dd := d.Date()
	late := time.Date(y, m, dd, 22, 0, 0, 0, loc)
	past := time.Date(y, m, dd+1, 1, 0, 0, 0, loc)
	for _, e := range f.events {
		n := out[e.Station]
		if n == nil {
			n = &night{}
			out[e.Station] = n
		}
		if !e.TS.Before(end) {
			continue
		}
		n.toDate += int64(e.Count)
		n.retries += int64(e.FingerprintRetries)
		if e.TS.Before(start) {
			continue
		}
		n.day += int64(e.Count)
		if !e.TS.Before(late) {
			n.late += int64(e.Count)
		}
		if !e.TS.Before(past) {
			n.past = true
		}
	}
	return out
}

func pct(part, whole int64) *float64 {
	if whole == 0 {
		return nil
	}
	v := math.Round(10000*float64(part)/float64(whole)) / 100
	return &v
}

func sameShare(a, b *float64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }

func fmtShare(p *float64) string {
	if p == nil {
		return "none"
	}
	return fmt.Sprint(*p)
}

// checkAgainst compares a brief with the snapshot of its day (snap) and
// with the night's figures counted from the events. dayRecords are the
// day's records of each station and district as a snapshot gives them.
func checkAgainst(t *testing.T, f *fixture, b *brief.Brief, snap *tiendo.Snapshot, dayRecords func(id string) int64) {
	t.Helper()
	nights := f.nights(b.Day)
	if !b.AsOf.Equal(snap.Now) {
		t.Errorf("as of %v, the snapshot's now is %v", b.AsOf, snap.Now)
	}
	if len(b.Stations) != len(snap.Stations) {
		t.Fatalf("%d station rows, the snapshot has %d stations", len(b.Stations), len(snap.Stations))
	}
	byDistrict := map[string]*night{}
	var all night
	pastOf := map[string]int{}
	for i, st := range snap.Stations {
		r := b.Stations[i]
		n := nights[st.ID]
		if r.ID != st.ID || r.Quota != st.Quota || r.Completed != st.Completed || r.PercentDone != st.PercentDone ||
			r.RetriesPerRecord != st.RetriesPerRec || !reflect.DeepEqual(r.Pace, st.Pace) {
			t.Errorf("station %s: brief %+v pace %+v\nsnapshot completed %d %.2f%% retries %.2f pace %+v", st.ID, r, r.Pace, st.Completed, st.PercentDone, st.RetriesPerRec, st.Pace)
		}
		if r.DayRecords != dayRecords(st.ID) || r.DayRecords != n.day {
			t.Errorf("station %s: %d records on the day; the snapshot says %d, the events %d", st.ID, r.DayRecords, dayRecords(st.ID), n.day)
		}
		if !sameShare(r.LateShare, pct(n.late, n.day)) || r.PastHour != map[bool]int{true: 1}[n.past] {
			t.Errorf("station %s: late share %s, past 01:00 %d; the events: %s, %v", st.ID, fmtShare(r.LateShare), r.PastHour, fmtShare(pct(n.late, n.day)), n.past)
		}
		if n.toDate != st.Completed {
			t.Errorf("station %s: the snapshot has %d records to date, the events %d", st.ID, st.Completed, n.toDate)
		}
		d := byDistrict[st.District]
		if d == nil {
			d = &night{}
			byDistrict[st.District] = d
		}
		for _, to := range []*night{d, &all} {
			to.day, to.late, to.toDate, to.retries = to.day+n.day, to.late+n.late, to.toDate+n.toDate, to.retries+n.retries
		}
		if n.past {
			pastOf[st.District]++
			pastOf[""]++
		}
	}
	if len(b.Districts) != len(snap.Districts) {
		t.Fatalf("%d district rows, the snapshot has %d districts", len(b.Districts), len(snap.Districts))
	}
	for i, d := range snap.Districts {
		r := b.Districts[i]
		n := byDistrict[d.ID]
		if r.ID != d.ID || r.Quota != d.Quota || r.Completed != d.Completed || r.PercentDone != d.PercentDone || !reflect.DeepEqual(r.Pace, d.Pace) {
			t.Errorf("district %s: brief %+v pace %+v\nsnapshot %+v pace %+v", d.ID, r, r.Pace, d, d.Pace)
		}
		if r.DayRecords != dayRecords(d.ID) || r.DayRecords != n.day || !sameShare(r.LateShare, pct(n.late, n.day)) || r.PastHour != pastOf[d.ID] {
			t.Errorf("district %s: day %d late %s past %d; the snapshot's day %d, the events' %d, %s, %d", d.ID, r.DayRecords, fmtShare(r.LateShare),
				r.PastHour, dayRecords(d.ID), n.day, fmtShare(pct(n.late, n.day)), pastOf[d.ID])
		}
		if want := math.Round(100*float64(n.retries)/float64(n.toDate)) / 100; r.RetriesPerRecord != want {
			t.Errorf("district %s: %.2f retries per record, the events say %.2f", d.ID, r.RetriesPerRecord, want)
		}
	}
	tot := b.Total
	if tot.Quota != snap.Totals.Target || tot.Completed != snap.Totals.Completed || tot.PercentDone != snap.Totals.PercentDone ||
		tot.RetriesPerRecord != snap.Totals.RetriesPerRec || !reflect.DeepEqual(tot.Pace, snap.Pace) {
		t.Errorf("total %+v pace %+v\nsnapshot totals %+v pace %+v", tot, tot.Pace, snap.Totals, snap.Pace)
	}
	if tot.DayRecords != dayRecords("") || tot.DayRecords != all.day || !sameShare(tot.LateShare, pct(all.late, all.day)) || tot.PastHour != pastOf[""] {
		t.Errorf("total: day %d late %s past %d; the snapshot's day %d, the events' %d, %s, %d", tot.DayRecords, fmtShare(tot.LateShare), tot.PastHour,
			dayRecords(""), all.day, fmtShare(pct(all.late, all.day)), pastOf[""])
	}
}

// todays are the records of the day as a live snapshot counts them.
func todays(snap *tiendo.Snapshot) func(id string) int64 {
	m := map[string]int64{"": snap.Totals.CompletedToday}
	for _, s := range snap.Stations {
		m[s.ID] = s.CompletedToday
	}
	for _, d := range snap.Districts {
		m[d.ID] = d.CompletedToday
	}
	return func(id string) int64 { return m[id] }
}

// Today's brief is the live snapshot's, events in the spool included, and
// stays so when the flusher moves them into ClickHouse.
func TestTodayIsTheLiveSnapshot(t *testing.T) {
	f := newFixture(t)
	for _, scope := range []tiendo.Scope{tiendo.ProvinceScope, {Kind: tiendo.ScopeDistrict, ID: "D1"}} {
		b := f.build(t, brief.Request{Scope: scope})
		snap, err := f.model.Snapshot(context.Background(), scope)
		if err != nil {
			t.Fatal(err)
		}
		if !b.Live || b.Day != tiendo.DayOf(2021, 3, 20) || snap.Storage.Pending == 0 {
			t.Fatalf("%s: live %v day %s, %d events pending; want today's live brief over a spool", scope, b.Live, b.Day, snap.Storage.Pending)
		}
		checkAgainst(t, f, b, snap, todays(snap))
		if scope.Kind == tiendo.ScopeDistrict && (len(b.Districts) != 0 || len(b.Stations) != 2 || b.ScopeName != "Một") {
			t.Errorf("district brief: %d district rows, %d station rows, named %q", len(b.Districts), len(b.Stations), b.ScopeName)
		}
	}
	before := f.build(t, brief.Request{Scope: tiendo.ProvinceScope})
	if n, err := f.flusher.FlushOnce(context.Background()); err != nil || n == 0 {
		t.Fatalf("flush: %d, %v", n, err)
	}
	after := f.build(t, brief.Request{Scope: tiendo.ProvinceScope})
	before.Storage, after.Storage = tiendo.StorageState{}, tiendo.StorageState{}
	if !reflect.DeepEqual(before, after) {
		t.Errorf("the brief changed when its events moved from the spool into ClickHouse:\nbefore %+v\nafter  %+v", before, after)
	}
}

// A past day's brief is the snapshot as it stood at the day's end, rebuilt
// from scratch (a store holding only the events before it), whatever came
// after: the pace judged at the end of the day, the recent window and hour
// profile as of then. Its records of the day are what a snapshot read just
// before the day's end counts as today's.
func TestPastDayIsTheSnapshotAtItsEnd(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		day   tiendo.Day
		scope tiendo.Scope
	}{
		{tiendo.DayOf(2021, 3, 18), tiendo.ProvinceScope}, // S1 worked past 01:00
		{tiendo.DayOf(2021, 3, 16), tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: "D1"}},
		{tiendo.DayOf(2021, 3, 12), tiendo.ProvinceScope}, // the third day, S1 and S3 past 01:00
		{tiendo.DayOf(2021, 3, 10), tiendo.ProvinceScope}, // the first
	} {
		t.Run(tc.day.String()+"/"+tc.scope.String(), func(t *testing.T) {
			b := f.build(t, brief.Request{Scope: tc.scope, Day: tc.day})
			end := f.c.DayEnd(tc.day)
			if b.Live || !b.AsOf.Equal(end) {
				t.Fatalf("live %v as of %v; want the day's end %v", b.Live, b.AsOf, end)
			}
			ref := f.reference(t, tc.scope, end)
			lastSecond := f.reference(t, tc.scope, end.Add(-time.Second))
			checkAgainst(t, f, b, ref, todays(lastSecond))
		})
	}
	// The first days' pace has no projection.
	first := f.build(t, brief.Request{Scope: tiendo.ProvinceScope, Day: tiendo.DayOf(2021, 3, 10)})
	if first.Total.Pace == nil || first.Total.Pace.State != tiendo.PaceTooEarly {
		t.Errorf("the first day's pace %+v, want too_early", first.Total.Pace)
	}
}

// The read model's SnapshotAt at any instant, within a day too (where the
// hour profile of that day decides what the plan expects), gives the
// progress figures of a snapshot rebuilt from the events before it.
func TestSnapshotAtEqualsRebuilt(t *testing.T) {
	f := newFixture(t)
	for _, at := range []time.Time{lt(18, 14, 37, 30), lt(16, 23, 10, 0), lt(13, 1, 45, 0), lt(20, 21, 15, 0)} {
		for _, scope := range []tiendo.Scope{tiendo.ProvinceScope, {Kind: tiendo.ScopeDistrict, ID: "D2"}} {
			got, err := f.model.SnapshotAt(context.Background(), scope, at)
			if err != nil {
				t.Fatal(err)
			}
			want := f.reference(t, scope, at)
			if got.Day != want.Day || !got.Now.Equal(want.Now) || !reflect.DeepEqual(got.Pace, want.Pace) ||
				got.Totals.Completed != want.Totals.Completed || got.Totals.CompletedToday != want.Totals.CompletedToday ||
				got.Totals.PerHour != want.Totals.PerHour || got.Totals.RetriesPerRec != want.Totals.RetriesPerRec ||
				got.Totals.PercentDone != want.Totals.PercentDone {
				t.Errorf("%s at %v: totals %+v pace %+v\nrebuilt %+v pace %+v", scope, at, got.Totals, got.Pace, want.Totals, want.Pace)
			}
			for i, d := range want.Districts {
				g := got.Districts[i]
				if g.Completed != d.Completed || g.CompletedToday != d.CompletedToday || g.PerHour != d.PerHour || !reflect.DeepEqual(g.Pace, d.Pace) {
					t.Errorf("%s at %v: district %s %+v, rebuilt %+v", scope, at, d.ID, g, d)
				}
			}
			for i, st := range want.Stations {
				g := got.Stations[i]
				if g.Completed != st.Completed || g.CompletedToday != st.CompletedToday || g.PerHour != st.PerHour ||
					g.RetriesPerRec != st.RetriesPerRec || !reflect.DeepEqual(g.Pace, st.Pace) {
					t.Errorf("%s at %v: station %s %+v, rebuilt %+v", scope, at, st.ID, g, st)
				}
			}
		}
	}
}

func TestRefusals(t *testing.T) {
	f := newFixture(t)
	for _, r := range []brief.Request{
		{Scope: tiendo.Scope{Kind: tiendo.ScopeStation, ID: "S1"}},
		{Scope: tiendo.ProvinceScope, Day: tiendo.DayOf(2021, 3, 21)}, // tomorrow
		{Scope: tiendo.ProvinceScope, Day: tiendo.DayOf(2021, 3, 9)},  // before the start
	} {
		r.Now = now
		if _, err := brief.Build(context.Background(), f.model, f.reg, r); tiendo.ErrorCode(err) != tiendo.EInvalid {
			t.Errorf("%+v: %v, want EInvalid", r, err)
		}
	}
	if _, err := brief.Build(context.Background(), f.model, f.reg, brief.Request{Scope: tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: "D9"}, Now: now}); tiendo.ErrorCode(err) != tiendo.ENotFound {
		t.Errorf("an unknown district: %v, want ENotFound", err)
	}
	// At 01:30 the working day is still yesterday's, and its brief is live.
	late := f.build(t, brief.Request{Scope: tiendo.ProvinceScope, Now: lt(21, 1, 30, 0)})
	if late.Day != tiendo.DayOf(2021, 3, 20) {
		t.Errorf("at 01:30 the brief's day is %s, want 2021-03-20", late.Day)
	}
	// Aggregates only: the districts and the total, no station.
	agg := f.build(t, brief.Request{Scope: tiendo.ProvinceScope, Aggregates: true})
	full := f.build(t, brief.Request{Scope: tiendo.ProvinceScope})
	if len(agg.Stations) != 0 || !reflect.DeepEqual(agg.Districts, full.Districts) || !reflect.DeepEqual(agg.Total, full.Total) {
		t.Errorf("aggregates: %d station rows; districts and total equal to the full brief's: %v %v", len(agg.Stations),
			reflect.DeepEqual(agg.Districts, full.Districts), reflect.DeepEqual(agg.Total, full.Total))
	}
}

// Windows' late night and past-01:00 spans: from 22:00 and 01:00 of the
// night to the 04:00 boundary.
func TestWindows(t *testing.T) {
	c, _ := campaign(t)
	w := brief.Windows(c, tiendo.DayOf(2021, 3, 20))
	want := [][2]time.Time{{{}, lt(21, 4, 0, 0)}, {lt(20, 4, 0, 0), lt(21, 4, 0, 0)}, {lt(20, 22, 0, 0), lt(21, 4, 0, 0)}, {lt(21, 1, 0, 0), lt(21, 4, 0, 0)}}
	for i := range want {
		if !w[i].From.Equal(want[i][0]) || !w[i].To.Equal(want[i][1]) {
			t.Errorf("window %d = [%v, %v), want [%v, %v)", i, w[i].From, w[i].To, want[i][0], want[i][1])
		}
	}
	// A working day that ends at 01:00 has no night past 01:00.
	c.DayBoundaryHour, c.LateCloseHour = 1, 23
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if w := brief.Windows(c, tiendo.DayOf(2021, 3, 20)); w[3].From.Before(w[3].To) {
		t.Errorf("past-01:00 window of a day ending at 01:00: [%v, %v), want empty", w[3].From, w[3].To)
	}
}
