package readmodel

import (
	"testing"
	"time"

	"tiendo"
	"tiendo/cmd/tiendo/langson2021"
)

// The change is against the totals nearest to an hour ago, within the
// slack; none before the memory reaches back an hour, none across a clock
// that went back; the day's count restarts at the working day's start.
func TestHourMemory(t *testing.T) {
	c := langson2021.Campaign() // the working day starts at 04:00
	loc := c.Location()
	at := func(d, h, m int) time.Time { return time.Date(2021, 3, d, h, m, 0, 0, loc) }
	h := &hourMemory{}
	scope := tiendo.ProvinceScope
	snapAt := func(now time.Time, queue, open int, done, today int64) *tiendo.Snapshot {
		s := &tiendo.Snapshot{Scope: scope, Now: now, Totals: tiendo.Totals{Queue: queue, StationsOpen: open, Completed: done, CompletedToday: today}}
		h.note(c, s)
		return s
	}
	if s := snapAt(at(20, 20, 0), 100, 30, 1000, 500); s.HourChange != nil {
		t.Fatalf("first snapshot has a change: %+v", s.HourChange)
	}
	for m := 1; m < 50; m++ {
		if s := snapAt(at(20, 20, m), 100+m, 30, 1000+int64(m), 500+int64(m)); s.HourChange != nil {
			t.Fatalf("at 20:%02d, under 40 minutes of memory, a change: %+v", m, s.HourChange)
		}
	}
	// 21:05: an hour ago is 20:05, kept.
	s := snapAt(at(20, 21, 5), 80, 25, 1200, 700)
	if s.HourChange == nil {
		t.Fatal("no change with the memory an hour back")
	}
	want := tiendo.HourChange{Since: at(20, 20, 5), Completed: 1200 - 1005, CompletedToday: 700 - 505, Queue: 80 - 105, StationsOpen: -5}
	if *s.HourChange != want {
		t.Errorf("change %+v, want %+v", *s.HourChange, want)
	}
	// Across the working day's start (04:00), today's count restarted.
	h = &hourMemory{}
	snapAt(at(21, 3, 30), 5, 3, 5000, 900)
	s = snapAt(at(21, 4, 30), 0, 0, 5010, 10)
	if s.HourChange == nil || s.HourChange.CompletedToday != 10 || s.HourChange.Completed != 10 {
		t.Errorf("across the day's start: %+v, want today's 10 and 10 in all", s.HourChange)
	}
	// A replay started again earlier: the memory starts over.
	if s := snapAt(at(20, 9, 0), 1, 1, 10, 10); s.HourChange != nil {
		t.Errorf("after the clock went back: %+v", s.HourChange)
	}
	// Out of the slack: nothing near an hour ago.
	h = &hourMemory{}
	snapAt(at(20, 10, 0), 1, 1, 1, 1)
	if s := snapAt(at(20, 11, 30), 1, 1, 1, 1); s.HourChange != nil {
		t.Errorf("90 minutes after the only figures: %+v", s.HourChange)
	}
}
