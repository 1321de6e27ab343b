package tiendo_test

import (
	"testing"
	"time"

	"tiendo"
)

func ptrf(f float64) *float64 { return &f }

// A hand-made district at 21:00: Vũ Lễ has 40 waiting at one of its three
// machines, its neighbour 3 km away has two idle officers, a post 40 km off
// has one. The two neighbours' officers go to Vũ Lễ; the far one does not.
func TestPlanMoves(t *testing.T) {
	c := mustTestCampaign(t)
	reg := tiendo.NewRegistry(c, c.Districts, []tiendo.Station{
		{ID: "VULE", Name: "Vũ Lễ", District: "LS-BS", Kind: tiendo.KindFixed, Lanes: 3, Lat: 21.900, Lon: 106.300},
		{ID: "NEAR", Name: "Gần", District: "LS-BS", Kind: tiendo.KindFixed, Lanes: 2, Lat: 21.927, Lon: 106.300},
		{ID: "FAR", Name: "Xa", District: "LS-BS", Kind: tiendo.KindFixed, Lanes: 2, Lat: 22.260, Lon: 106.300},
		{ID: "OTHER", Name: "Huyện khác", District: "LS-TP", Kind: tiendo.KindFixed, Lanes: 2, Lat: 21.901, Lon: 106.301},
	})
	now := at(time.March, 20, 21, 0, 0)
	stations := []tiendo.StationState{
		{ID: "VULE", District: "LS-BS", Kind: tiendo.KindFixed, Status: tiendo.StatusOpen, Queue: 40, Staff: 1, Lanes: 1,
			MinutesPerRecord: 6, WaitMinutes: ptrf(240), Lat: 21.900, Lon: 106.300},
		{ID: "NEAR", District: "LS-BS", Kind: tiendo.KindFixed, Status: tiendo.StatusOpen, Staff: 3, Lanes: 2, IdleStaff: 2,
			MinutesPerRecord: 6, WaitMinutes: ptrf(0), Lat: 21.927, Lon: 106.300},
		{ID: "FAR", District: "LS-BS", Kind: tiendo.KindFixed, Status: tiendo.StatusOpen, Staff: 2, Lanes: 2, IdleStaff: 1,
			MinutesPerRecord: 6, WaitMinutes: ptrf(0), Lat: 22.260, Lon: 106.300},
		{ID: "OTHER", District: "LS-TP", Kind: tiendo.KindFixed, Status: tiendo.StatusOpen, Staff: 4, Lanes: 2, IdleStaff: 2,
			MinutesPerRecord: 6, WaitMinutes: ptrf(0), Lat: 21.901, Lon: 106.301},
	}
	moves := c.PlanMoves(reg, stations, now, nil)
	if len(moves) != 1 {
		t.Fatalf("moves %+v, want one", moves)
	}
	m := moves[0]
	if m.From != "NEAR" || m.To != "VULE" || m.Staff != 2 || m.District != "LS-BS" {
		t.Errorf("move %+v, want 2 officers NEAR → VULE", m)
	}
	if m.WaitBefore != 240 || m.WaitAfter != 80 || m.DistanceKm != 3 || m.TravelMinutes != 6 {
		t.Errorf("move %+v: want wait 240 → 80 min over 3 km (6 min)", m)
	}
	if !m.ClearsAtBefore.Equal(now.Add(240*time.Minute)) || !m.ClearsAtAfter.Equal(now.Add(80*time.Minute)) {
		t.Errorf("clears at %v → %v", m.ClearsAtBefore, m.ClearsAtAfter)
	}
	// An answered suggestion is not made again within the hour; another
	// district's officers are never sent.
	answered := tiendo.Answered([]tiendo.MoveAnswer{{From: "NEAR", To: "VULE", Outcome: "not_possible", At: now.Add(-10 * time.Minute)}}, now)
	if moves := c.PlanMoves(reg, stations, now, answered); len(moves) != 0 {
		t.Errorf("after 'not possible': moves %+v", moves)
	}
	old := tiendo.Answered([]tiendo.MoveAnswer{{From: "NEAR", To: "VULE", Outcome: "done", At: now.Add(-2 * time.Hour)}}, now)
	if moves := c.PlanMoves(reg, stations, now, old); len(moves) != 1 {
		t.Errorf("two hours after an answer: moves %+v", moves)
	}
	if m.ID != tiendo.MoveID("NEAR", "VULE", tiendo.DayOf(2021, time.March, 20)) {
		t.Errorf("id %q", m.ID)
	}
	// Nobody is sent where the machines are all staffed, or to a queue that
	// will have cleared before the officer arrives.
	stations[0].Lanes, stations[0].Staff = 3, 3
	if moves := c.PlanMoves(reg, stations, now, nil); moves == nil || len(moves) != 0 {
		t.Errorf("all machines staffed: moves %#v, want an empty list", moves)
	}
	stations[0].Lanes, stations[0].Queue = 1, 1 // 6 minutes' wait, 6 minutes away
	if moves := c.PlanMoves(reg, stations, now, nil); len(moves) != 0 {
		t.Errorf("a queue gone before the officer arrives: moves %+v", moves)
	}
}
