package dashboards

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"tiendo"
)

func stationsByName(snap *tiendo.Snapshot) map[string]tiendo.StationState {
	m := map[string]tiendo.StationState{}
	for _, s := range snap.Stations {
		m[stationLabel(s)] = s
	}
	return m
}

// TestQueueRows checks every row of the queue chart against the station's
// service figures: the wait bar is WaitMinutes (none when null), a
// home-visit team has no wait and no queue bar but its list time, the
// staff bar splits into officers needed and StationState.IdleStaff, and
// only stations with idle officers are flagged.
func TestQueueRows(t *testing.T) {
	fx := newFixture(t)
	for _, scope := range []tiendo.Scope{tiendo.ProvinceScope, {Kind: tiendo.ScopeDistrict, ID: "LS-DL"}} {
		in := fx.input(scope, "vi", false)
		o := decode(t, mustBuild(t, in)[ChartQueue])
		names := o.categories(t, "yAxis", 0)
		byName := stationsByName(in.Snapshot)
		if scope.Kind == tiendo.ScopeProvince && len(names) != ProvinceLimit {
			t.Errorf("province: %d rows, want %d", len(names), ProvinceLimit)
		}
		if scope.Kind == tiendo.ScopeDistrict && len(names) != len(in.Snapshot.Stations) {
			t.Errorf("district: %d rows, want all %d stations", len(names), len(in.Snapshot.Stations))
		}
		wait, list := values(t, o.series(t, 0)), values(t, o.series(t, 1))
		queue, staff, idle := values(t, o.series(t, 2)), values(t, o.series(t, 3)), values(t, o.series(t, 4))
		cats := o.axis(t, "yAxis", 0)["data"].([]any)
		var seen struct{ idle, serving, homeVisit int }
		waitsEnded := false
		for i, name := range names {
			s, ok := byName[name]
			if !ok {
				t.Fatalf("row %q is no station", name)
			}
			if s.WaitMinutes == nil {
				waitsEnded = true
				if wait[i] != 0 {
					t.Errorf("%s: wait bar %v without a wait", name, wait[i])
				}
			} else {
				if waitsEnded {
					t.Errorf("%s has a wait but comes after a station without one", name)
				}
				if wait[i] != *s.WaitMinutes {
					t.Errorf("%s: wait %v, want %v", name, wait[i], *s.WaitMinutes)
				}
				if i > 0 && wait[i] > wait[i-1] {
					t.Errorf("row %d (%s) waits longer than the row above", i, name)
				}
			}
			if s.Kind == tiendo.KindHomeVisit {
				if s.ListMinutes != nil && *s.ListMinutes > 0 {
					seen.homeVisit++
					if list[i] != *s.ListMinutes {
						t.Errorf("%s: list time %v, want %v", name, list[i], *s.ListMinutes)
					}
				}
				if wait[i] != 0 || queue[i] != 0 {
					t.Errorf("home-visit team %s drawn with a wait %v or a queue %v", name, wait[i], queue[i])
				}
			} else if list[i] != 0 || queue[i] != float64(s.Queue) {
				t.Errorf("%s: list %v queue %v, want no list and the queue %d", name, list[i], queue[i], s.Queue)
			}
			_, coloured := cats[i].(map[string]any)["textStyle"]
			if idle[i] != float64(s.IdleStaff) || staff[i] != float64(s.Staff-s.IdleStaff) || coloured != (s.IdleStaff > 0) {
				t.Errorf("%s: idle %v staff %v coloured %v, want idle %d of %d", name, idle[i], staff[i], coloured, s.IdleStaff, s.Staff)
			}
			if s.IdleStaff > 0 {
				seen.idle++
			}
			if s.Status == tiendo.StatusOpen && s.Queue == 0 && s.Staff > 0 && s.IdleStaff < s.Staff {
				seen.serving++ // finding 5: no queue, but its officers are serving
			}
		}
		if seen.idle == 0 {
			t.Errorf("%v: no row with idle officers; the fixture has some and they must stay visible", scope)
		}
		if scope.Kind == tiendo.ScopeDistrict && (seen.homeVisit == 0 || seen.serving == 0) {
			t.Errorf("%v: %d home-visit teams with a list, %d stations serving with no queue; the fixture must show both", scope, seen.homeVisit, seen.serving)
		}
		if scope.Kind == tiendo.ScopeProvince {
			for _, b := range in.Snapshot.Attention.Idle[:min(idleReserve, len(in.Snapshot.Attention.Idle))] {
				if _, ok := byName[b.Name]; !ok || !contains(names, b.Name) {
					t.Errorf("%s leads the idle list but has no row", b.Name)
				}
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestQueueSubtitle: the counts are the snapshot's, the longest wait is
// Attention.Waits[0].
func TestQueueSubtitle(t *testing.T) {
	fx := newFixture(t)
	in := fx.input(tiendo.ProvinceScope, "en", false)
	snap := in.Snapshot
	_, sub := title(decode(t, mustBuild(t, in)[ChartQueue]))
	w := snap.Attention.Waits[0]
	want := fmt.Sprintf("Waiting: %s people · Longest wait: %s (%s min) · %d stations with %d idle staff",
		FormatInt(int64(snap.Totals.Queue), "en"), w.Name, FormatInt(int64(*w.WaitMinutes), "en"),
		snap.Totals.StationsIdle, snap.Totals.IdleStaff)
	if snap.Totals.StationsLate > 0 {
		want += fmt.Sprintf(" · %d stations working past 02:00", snap.Totals.StationsLate)
	}
	if sub != want {
		t.Errorf("subtitle\n got %q\nwant %q", sub, want)
	}
}

// TestQueueHomeVisitNeverLongest is finding 2's "7 h 0 min": a home-visit
// team with seven visits left and one record in the last hour is not the
// longest wait, and its row says "time to finish the list".
func TestQueueHomeVisitNeverLongest(t *testing.T) {
	c := mustCampaign(t)
	reg := tiendo.NewRegistry(c, c.Districts, []tiendo.Station{
		{ID: "LS-TP-TN1", Name: "Tổ cấp tại nhà — TP Lạng Sơn", District: "LS-TP", Kind: tiendo.KindHomeVisit, Lanes: 1, Quota: 500},
		{ID: "LS-TP-A", Name: "TP A", District: "LS-TP", Kind: tiendo.KindFixed, Lanes: 2, Quota: 5000},
	})
	now := local(c, 2021, time.March, 11, 8, 20)
	seen := now.Add(-time.Minute)
	stats := []tiendo.StationStats{
		{Station: "LS-TP-TN1", HasHeartbeat: true, LastSeen: seen, Status: tiendo.StatusOpen, Queue: 7, Staff: 2, Lanes: 1,
			LastHour: 1, Served: tiendo.Served{ActiveMinutes: 70, ActiveRecords: 1}},
		{Station: "LS-TP-A", HasHeartbeat: true, LastSeen: seen, Status: tiendo.StatusOpen, Queue: 10, Staff: 2, Lanes: 2,
			LastHour: 12, Served: tiendo.Served{BusyLaneMinutes: 120, BusyRecords: 20}},
	}
	snap := tiendo.BuildSnapshot(reg, tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: "LS-TP"}, stats, c.ConfiguredProfile(), now)
	o := decode(t, mustBuild(t, Input{Campaign: c, Snapshot: snap, Lang: "en"})[ChartQueue])
	if _, sub := title(o); !strings.Contains(sub, "Longest wait: TP A (") {
		t.Errorf("subtitle %q: the longest wait must be the fixed station", sub)
	}
	names := o.categories(t, "yAxis", 0)
	if names[0] != "TP A" || names[1] != "Tổ cấp tại nhà — TP Lạng Sơn" {
		t.Fatalf("rows %v: the station with a wait comes first", names)
	}
	tn1 := stationsByName(snap)["Tổ cấp tại nhà — TP Lạng Sơn"]
	if tn1.ListMinutes == nil {
		t.Fatalf("home-visit team %+v has no list time", tn1)
	}
	if got := values(t, o.series(t, 1))[1]; got != *tn1.ListMinutes {
		t.Errorf("list time bar %v, want %v", got, *tn1.ListMinutes)
	}
	if got := values(t, o.series(t, 0))[1]; got != 0 {
		t.Errorf("home-visit team has a wait bar of %v", got)
	}
	tipText := o.tooltipOf(t, o.series(t, 1)["data"].([]any)[1].(map[string]any))
	if !strings.Contains(tipText, "Home-visit team: a list of households, not a queue") ||
		!strings.Contains(tipText, "Time to finish the list: "+FormatInt(int64(*tn1.ListMinutes), "en")+" minutes") || strings.Contains(tipText, "Wait") {
		t.Errorf("home-visit tooltip %q", tipText)
	}
	if o.series(t, 1)["name"] != "Time to finish the list (home visits, minutes)" {
		t.Errorf("list series named %v", o.series(t, 1)["name"])
	}
}

// TestScreenQueueRows: /screen's queue chart keeps ScreenQueueRows rows, the
// longest waits first and the first idle stations kept, of the province and
// of a district; pages keep theirs (ProvinceLimit, every station of a
// district).
func TestScreenQueueRows(t *testing.T) {
	fx := newFixture(t)
	for _, scope := range []tiendo.Scope{tiendo.ProvinceScope, {Kind: tiendo.ScopeDistrict, ID: "LS-DL"}} {
		in := fx.input(scope, "vi", true)
		page := decode(t, mustBuild(t, in)[ChartQueue]).categories(t, "yAxis", 0)
		in.Screen = true
		screen := decode(t, mustBuild(t, in)[ChartQueue]).categories(t, "yAxis", 0)
		if want := min(ScreenQueueRows, len(in.Snapshot.Stations)); len(screen) != want {
			t.Errorf("%s: /screen has %d rows, want %d", scope, len(screen), want)
		}
		if len(page) <= len(screen) {
			t.Errorf("%s: the page has %d rows, /screen %d: the page keeps its own", scope, len(page), len(screen))
		}
		if len(screen) > 0 && screen[0] != page[0] {
			t.Errorf("%s: /screen's first row %s, the page's %s: both begin with the longest wait", scope, screen[0], page[0])
		}
		byName := stationsByName(in.Snapshot)
		idle := map[string]bool{}
		for _, s := range in.Snapshot.Attention.Idle[:min(len(in.Snapshot.Attention.Idle), idleReserve*ScreenQueueRows/ProvinceLimit)] {
			idle[s.ID] = true
		}
		for _, name := range screen {
			delete(idle, byName[name].ID)
		}
		if len(idle) > 0 && scope.Kind == tiendo.ScopeProvince {
			t.Errorf("%s: idle stations %v left off /screen", scope, idle)
		}
	}
}
