package dashboards

import (
	"strings"
	"testing"

	"tiendo"
)

// Every station of a district is on the map once, at its longitude and
// latitude, in the series of the state its snapshot figures give it, sized
// by its queue; the snapshot's moves are arrows from the sender's dot to
// the receiver's; a station's page has no map.
func TestStationMap(t *testing.T) {
	fx := newFixture(t)
	in := fx.input(tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: "LS-TP"}, "vi", false)
	st := in.Snapshot.Stations
	if len(st) < 3 {
		t.Fatalf("fixture district has %d stations", len(st))
	}
	in.Snapshot.Moves = []tiendo.StaffMove{{ID: "m1", From: st[0].ID, FromName: st[0].Name, To: st[1].ID, ToName: st[1].Name,
		District: "LS-TP", Staff: 2, DistanceKm: 3.4}}
	o := decode(t, mustBuild(t, in)[ChartStationMap])

	byName := stationsByName(in.Snapshot)
	seen := map[string]bool{}
	series := o["series"].([]any)
	var arrows map[string]any
	for _, s := range series {
		sm := s.(map[string]any)
		if sm["type"] == "lines" {
			arrows = sm
			continue
		}
		for _, d := range sm["data"].([]any) {
			dm := d.(map[string]any)
			name := dm["name"].(string)
			s, ok := byName[name]
			if !ok || seen[name] {
				t.Fatalf("dot %q: a station of the scope (%v), once (seen %v)", name, ok, seen[name])
			}
			seen[name] = true
			val := dm["value"].([]any)
			if val[0].(float64) != s.Lon || val[1].(float64) != s.Lat || int(val[2].(float64)) != s.Queue {
				t.Errorf("%s at %v, want [%v %v %d]", name, val, s.Lon, s.Lat, s.Queue)
			}
			if want := mapText[LangVI].states[mapStateOf(s)]; sm["name"] != want {
				t.Errorf("%s (status %s, long wait %v, late %v, idle %d) in series %q, want %q",
					name, s.Status, s.LongWait, s.Late, s.IdleStaff, sm["name"], want)
			}
			if got := dm["symbolSize"].(float64); got != mapSymbolSize(s.Queue) {
				t.Errorf("%s: size %v for a queue of %d, want %v", name, got, s.Queue, mapSymbolSize(s.Queue))
			}
		}
	}
	if len(seen) != len(st) {
		t.Errorf("%d dots for %d stations", len(seen), len(st))
	}
	if arrows == nil {
		t.Fatal("no arrows for the snapshot's move")
	}
	data := arrows["data"].([]any)
	if len(data) != 1 {
		t.Fatalf("%d arrows, want 1", len(data))
	}
	a := data[0].(map[string]any)
	coords := a["coords"].([]any)
	from, to := coords[0].([]any), coords[1].([]any)
	if from[0].(float64) != st[0].Lon || from[1].(float64) != st[0].Lat || to[0].(float64) != st[1].Lon || to[1].(float64) != st[1].Lat {
		t.Errorf("arrow %v → %v, want from %s to %s", from, to, st[0].ID, st[1].ID)
	}
	if tipText := a["tooltip"].(map[string]any)["formatter"].(string); !strings.Contains(tipText, "Điều 2 cán bộ") || !strings.Contains(tipText, "3,4 km") {
		t.Errorf("arrow tooltip %q", tipText)
	}

	// Sizes grow with the queue and stay within bounds.
	if !(mapSymbolSize(0) < mapSymbolSize(10) && mapSymbolSize(10) < mapSymbolSize(60) && mapSymbolSize(10_000) == 40 && mapSymbolSize(0) == 8) {
		t.Errorf("sizes 0:%v 10:%v 60:%v 10000:%v", mapSymbolSize(0), mapSymbolSize(10), mapSymbolSize(60), mapSymbolSize(10_000))
	}

	if _, ok := mustBuild(t, fx.input(tiendo.Scope{Kind: tiendo.ScopeStation, ID: st[0].ID}, "vi", false))[ChartStationMap]; ok {
		t.Error("a station's page has a map")
	}
}

// The state a dot is coloured by is the most urgent of its figures.
func TestMapStateOrder(t *testing.T) {
	open := tiendo.StationState{Status: tiendo.StatusOpen}
	cases := []struct {
		s    tiendo.StationState
		want mapState
	}{
		{tiendo.StationState{Status: tiendo.StatusOffline, LongWait: true}, mapOffline},
		{tiendo.StationState{Status: tiendo.StatusOpen, LongWait: true, Late: true, IdleStaff: 1}, mapLongWait},
		{tiendo.StationState{Status: tiendo.StatusOpen, Late: true, IdleStaff: 1}, mapLate},
		{tiendo.StationState{Status: tiendo.StatusOpen, IdleStaff: 2}, mapIdle},
		{open, mapOpen},
		{tiendo.StationState{Status: tiendo.StatusPaused}, mapResting},
		{tiendo.StationState{Status: tiendo.StatusClosed}, mapResting},
	}
	for _, c := range cases {
		if got := mapStateOf(c.s); got != c.want {
			t.Errorf("%+v: %v, want %v", c.s, got, c.want)
		}
	}
}

// A named dot's label goes to the side with room: to the right west of the
// map's middle, to the left east of it, so no name runs past the right edge.
func TestMapLabelsFaceInward(t *testing.T) {
	fx := newFixture(t)
	in := fx.input(tiendo.ProvinceScope, "vi", false)
	lo, hi := 1e9, -1e9
	for i := range in.Snapshot.Stations {
		s := &in.Snapshot.Stations[i]
		if s.Lat == 0 && s.Lon == 0 {
			continue
		}
		lo, hi = min(lo, s.Lon), max(hi, s.Lon)
		s.LongWait = true // every dot named
	}
	mid := (lo + hi) / 2
	o := decode(t, mustBuild(t, in)[ChartStationMap])
	left, right := 0, 0
	for _, s := range o["series"].([]any) {
		sm := s.(map[string]any)
		if sm["type"] == "lines" {
			continue
		}
		for _, d := range sm["data"].([]any) {
			dm := d.(map[string]any)
			l, ok := dm["label"].(map[string]any)
			if !ok {
				continue
			}
			lon := dm["value"].([]any)[0].(float64)
			want := "right"
			if lon > mid {
				want = "left"
			}
			if l["position"] != want {
				t.Errorf("%s at %v (middle %v): label %v, want %s", dm["name"], lon, mid, l["position"], want)
			}
			if want == "left" {
				left++
			} else {
				right++
			}
		}
	}
	if left == 0 || right == 0 {
		t.Errorf("labels left %d, right %d: the fixture should have named dots on both sides", left, right)
	}
}
