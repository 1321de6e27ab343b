package storetest

import (
	"context"
	"fmt"
	"math/rand"
	"reflect"
	"sort"
	"testing"
	"time"

	"tiendo"
	"tiendo/store"
)

// nationRegistry is a small nation: provinces AA, BB and CC (districts
// AA-D1, AA-D2, BB-D1, CC-D1), stations of every kind, one without any
// event, and ZZ-D9-S1 in a district the tree does not know (counted in
// the nation's totals, in no province). moved is the registry after
// BB-D1-S3 moved to CC-D1.
func nationRegistry(t *testing.T) (before, moved *tiendo.Registry) {
	t.Helper()
	c := &tiendo.Campaign{ID: "n", Name: "Toàn quốc (thử)", TimeZone: "Asia/Ho_Chi_Minh", Start: tiendo.DayOf(2021, 3, 10),
		Deadline: tiendo.DayOf(2021, 3, 30), Target: 9000, DayBoundaryHour: 4, OpenHour: 7, LateNightHour: 22, MinutesPerRecord: 6,
		Level: tiendo.LevelNation, Units: []tiendo.Unit{
			{ID: "AA", Name: "Tỉnh A", Level: tiendo.LevelProvince, Quota: 4000},
			{ID: "BB", Name: "Tỉnh B", Level: tiendo.LevelProvince, Quota: 3000},
			{ID: "CC", Name: "Tỉnh C", Level: tiendo.LevelProvince, Quota: 900},
			{ID: "DD", Name: "Tỉnh D, no station", Level: tiendo.LevelProvince, Quota: 100},
			{ID: "AA-D1", Name: "A1", Level: tiendo.LevelDistrict, Parent: "AA", Quota: 2500},
			{ID: "AA-D2", Name: "A2", Level: tiendo.LevelDistrict, Parent: "AA", Quota: 1500},
			{ID: "BB-D1", Name: "B1", Level: tiendo.LevelDistrict, Parent: "BB", Quota: 3000},
			{ID: "CC-D1", Name: "C1", Level: tiendo.LevelDistrict, Parent: "CC", Quota: 900},
		}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	st := func(id, district string, kind tiendo.StationKind) tiendo.Station {
		return tiendo.Station{ID: id, Name: id, District: district, Kind: kind, Lanes: 2, Quota: 500}
	}
	stations := []tiendo.Station{st("AA-D1-S1", "AA-D1", tiendo.KindFixed), st("AA-D1-S2", "AA-D1", tiendo.KindHomeVisit),
		st("AA-D2-S1", "AA-D2", tiendo.KindMobile), st("BB-D1-S1", "BB-D1", tiendo.KindFixed), st("BB-D1-S2", "BB-D1", tiendo.KindFixed),
		st("BB-D1-S3", "BB-D1", tiendo.KindMobile), st("CC-D1-S1", "CC-D1", tiendo.KindFixed), st("CC-D1-S2", "CC-D1", tiendo.KindHomeVisit),
		st("ZZ-D9-S1", "ZZ-D9", tiendo.KindFixed)}
	before = tiendo.NewRegistry(c, c.Districts, stations)
	stations[5].District = "CC-D1"
	return before, tiendo.NewRegistry(c, c.Districts, stations)
}

// nationEvents are a day's heartbeats and completions of the stations
// that send any (not CC-D1-S2): every station opens, some close or pause,
// some go silent for a while, from 07:00 to past midnight.
func nationEvents(rng *rand.Rand, c *tiendo.Campaign, day tiendo.Day, stations []string) []tiendo.Event {
	var evs []tiendo.Event
	start := c.DayStart(day).Add(3 * time.Hour) // 07:00 local
	statuses := []tiendo.StationStatus{tiendo.StatusOpen, tiendo.StatusOpen, tiendo.StatusOpen, tiendo.StatusPaused, tiendo.StatusClosed}
	for _, s := range stations {
		for m := rng.Intn(20); m < 18*60; m += 3 + rng.Intn(25) {
			at := start.Add(time.Duration(m)*time.Minute + time.Duration(rng.Intn(60))*time.Second)
			id := fmt.Sprintf("%s-%d-%d", s, day, m)
			if rng.Intn(3) == 0 {
				evs = append(evs, tiendo.Event{ID: "c" + id, Type: tiendo.TypeCompletion, Station: s, TS: at, Count: 1 + rng.Intn(4),
					FingerprintRetries: rng.Intn(3), Kind: tiendo.RecordStandard})
			} else if rng.Intn(4) > 0 { // gaps: a station may fall silent
				evs = append(evs, tiendo.Event{ID: "h" + id, Type: tiendo.TypeHeartbeat, Station: s, TS: at, Queue: rng.Intn(30),
					Staff: 1 + rng.Intn(4), Lanes: 2, Status: statuses[rng.Intn(len(statuses))]})
			}
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].TS.Before(evs[j].TS) })
	return evs
}

// The nation's snapshot from the unit rollups (UnitStats, BuildUnitSnapshot)
// is the one from every station's figures (StationStats, BuildSnapshot):
// the same totals, pace and provinces (records, today, last hour, queues,
// stations, open stations, percent, pace) in the same ranking, at instants
// through three days, before and after a station moves to another
// province (whose area rollups then hold another province's rows, so the
// reader must fall back to stations), on a store first written by the
// schema before the area rollups (their backfill counts), and for a
// province's scope too (its districts, read per station). At each instant
// the last events are still pending (as in a spool), laid over the stored
// figures both ways (AddPending, AddPendingUnits with their heartbeats'
// stations apart): a newer pending heartbeat replaces a station's stored
// state inside a province the store sums.
func testNationFromUnitRollups(t *testing.T, open Factory) {
	base := open(t)
	name := base.Database() + "_units"
	t.Cleanup(func() { _ = base.Engine().Exec(context.Background(), "DROP DATABASE IF EXISTS `"+name+"`") })
	reg, moved := nationRegistry(t)
	c := reg.Campaign
	var sending []string
	for _, st := range reg.Stations() {
		if st.ID != "CC-D1-S2" {
			sending = append(sending, st.ID)
		}
	}
	rng := rand.New(rand.NewSource(15))
	old, err := store.OpenAtVersion(ctx(t), base.Engine(), name, 4)
	if err != nil {
		t.Fatal(err)
	}
	old.SetStations(reg.Stations())
	write(t, old, nationEvents(rng, c, c.Start, sending)...)
	db, err := store.Open(ctx(t), base.Engine(), name)
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	db.SetStations(reg.Stations())
	compared, areas, open_, offline, apart := 0, 0, 0, 0, 0
	var pending []tiendo.Event
	for day := c.Start + 1; day < c.Start+4; day++ {
		if day == c.Start+3 {
			reg = moved
			db.SetStations(reg.Stations())
		}
		evs := nationEvents(rng, c, day, sending)
		for _, h := range []int{4, 9, 14, 19, 21} { // 08:00, 13:00, 18:00, 23:00, 01:00
			end := c.DayStart(day).Add(time.Duration(h)*time.Hour + 17*time.Minute)
			n := sort.Search(len(evs), func(i int) bool { return !evs[i].TS.Before(end) })
			// The previous instant's pending events are stored now; the
			// last few of this one wait.
			k := min(n, rng.Intn(12))
			write(t, db, append(pending, evs[:n-k]...)...)
			pending = append([]tiendo.Event(nil), evs[n-k:n]...)
			evs = evs[n:]
			apart += len(tiendo.HeartbeatStations(pending))
			now := end.Add(-1500 * time.Millisecond)
			at := now.In(c.Location()).Format("02/01 15:04:05.0")
			for _, scope := range []tiendo.Scope{tiendo.ProvinceScope, {Kind: tiendo.ScopeUnit, ID: "BB"}, {Kind: tiendo.ScopeUnit, ID: "CC"}} {
				want, got := nationBothWays(t, db, reg, scope, now, pending)
				checkUnitSnapshot(t, fmt.Sprintf("%s %s", at, scope), got, want)
				compared++
				if scope == tiendo.ProvinceScope {
					open_ += want.Totals.StationsOpen
					offline += want.Totals.StationsOffline
					if want.Totals.Completed == 0 || len(want.Units) != 4 {
						t.Fatalf("%s: %d completed, %d units: the comparison would be empty", at, want.Totals.Completed, len(want.Units))
					}
				}
			}
			rows, err := db.Engine().Query(ctx(t), "SELECT toInt64(count()) FROM `"+name+"`.completions_area_totals")
			if err != nil {
				t.Fatal(err)
			}
			areas += int(rows[0][0].(int64))
		}
	}
	if open_ == 0 || offline == 0 || areas == 0 || apart == 0 {
		t.Fatalf("open %d, offline %d, area rows %d, stations with pending heartbeats %d over the instants: the figures compared were not all exercised",
			open_, offline, areas, apart)
	}
	t.Logf("%d snapshots compared", compared)
}

// nationBothWays builds scope's snapshot at now from the stations' figures
// and from the units', with the events pending laid over each.
func nationBothWays(t *testing.T, db *store.DB, reg *tiendo.Registry, scope tiendo.Scope, now time.Time,
	pending []tiendo.Event) (fromStations, fromUnits *tiendo.Snapshot) {
	t.Helper()
	c := reg.Campaign
	day := c.WorkingDay(now)
	recentFrom, _, _ := c.RecentWindow(day)
	var ids []string
	if scope != tiendo.ProvinceScope {
		for _, st := range reg.StationsIn(scope) {
			ids = append(ids, st.ID)
		}
	}
	profile := c.ProfileOf(nil, day)
	sq := tiendo.StatsQuery{Stations: ids, DayStart: c.DayStart(day), Now: now, RecentFrom: recentFrom}
	stats, err := db.StationStats(ctx(t), sq)
	if err != nil {
		t.Fatal(err)
	}
	q := reg.UnitStatsQueryAt(scope, now)
	q.Apart = tiendo.HeartbeatStations(pending)
	figures, err := db.UnitStats(ctx(t), q)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range figures.Groups {
		if g.Stations <= 0 {
			t.Fatalf("%s: a group of %d stations", scope, g.Stations)
		}
	}
	live := map[string]bool{}
	for _, s := range figures.Live {
		live[s.Station] = true
	}
	// A station apart is in Live when fresh, never in a group: the groups
	// and Live together count each fresh station once.
	fresh := 0
	for _, s := range stats {
		if s.HasHeartbeat && tiendo.Fresh(s.LastSeen, now) {
			fresh++
		}
	}
	grouped := 0
	for _, g := range figures.Groups {
		grouped += g.Stations
	}
	if grouped+len(figures.Live) != fresh {
		t.Errorf("%s: %d stations grouped and %d one by one, want the %d fresh", scope, grouped, len(figures.Live), fresh)
	}
	for _, id := range q.Apart {
		for _, s := range stats {
			if s.Station == id && s.HasHeartbeat && tiendo.Fresh(s.LastSeen, now) && !live[id] {
				t.Errorf("%s: station %s is apart and fresh, and not among the stations one by one", scope, id)
			}
		}
	}
	stats = tiendo.AddPending(stats, pending, sq)
	figures = tiendo.AddPendingUnits(figures, pending, q)
	return tiendo.BuildSnapshot(reg, scope, stats, profile, now), tiendo.BuildUnitSnapshot(reg, scope, figures, profile, now)
}

// checkUnitSnapshot compares what BuildUnitSnapshot promises to equal.
func checkUnitSnapshot(t *testing.T, at string, got, want *tiendo.Snapshot) {
	t.Helper()
	gt, wt := got.Totals, want.Totals
	// Figures of each station's service window: not in the unit path.
	wt.IdleStaff, wt.StationsIdle, wt.StationsLate = 0, 0, 0
	if gt != wt {
		t.Errorf("%s: totals\n got %+v\nwant %+v", at, gt, wt)
	}
	if !reflect.DeepEqual(got.Pace, want.Pace) {
		t.Errorf("%s: pace\n got %+v\nwant %+v", at, got.Pace, want.Pace)
	}
	// The units pages get: above the province level the units alone (the
	// per-station path also judges the districts, for the alerts, which
	// the unit path does not serve), else the districts.
	units := func(s *tiendo.Snapshot) []tiendo.UnitState {
		out := append([]tiendo.UnitState(nil), s.Units...)
		if len(out) == 0 {
			out = append(out, s.Districts...)
		}
		for i := range out {
			out[i].IdleStaff, out[i].StationsLate = 0, 0
		}
		return out
	}
	gu, wu := units(got), units(want)
	if len(gu) != len(wu) || len(gu) == 0 {
		t.Fatalf("%s: %d units, want %d (and some)", at, len(gu), len(wu))
	}
	for i := range wu {
		if !reflect.DeepEqual(gu[i], wu[i]) {
			t.Errorf("%s: unit %d\n got %+v pace %+v\nwant %+v pace %+v", at, i, gu[i], gu[i].Pace, wu[i], wu[i].Pace)
		}
	}
}
