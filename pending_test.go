package tiendo

import (
	"testing"
	"time"
)

func TestAddPendingMatchesStoreBuckets(t *testing.T) {
	ict := time.FixedZone("ICT", 7*3600)
	now := time.Date(2021, 3, 20, 22, 0, 0, 0, ict)
	q := StatsQuery{DayStart: time.Date(2021, 3, 20, 4, 0, 0, 0, ict), Now: now}
	stored := []StationStats{{Station: "A", Completed: 10, CompletedToday: 4, LastHour: 1, HasHeartbeat: true,
		LastSeen: now.Add(-10 * time.Minute), Status: StatusOpen, Queue: 5, Staff: 2, Lanes: 2}}
	pending := []Event{
		{Type: TypeCompletion, Station: "A", TS: now.Add(-30 * time.Minute), Count: 3, FingerprintRetries: 2},
		{Type: TypeCompletion, Station: "A", TS: now.Add(-20 * time.Hour), Count: 5}, // yesterday's working day
		{Type: TypeCompletion, Station: "B", TS: now.Add(-2 * time.Hour), Count: 7},
		{Type: TypeHeartbeat, Station: "A", TS: now.Add(-20 * time.Minute), Queue: 99, Status: StatusOpen},        // older than stored
		{Type: TypeHeartbeat, Station: "A", TS: now.Add(-time.Minute), Queue: 11, Staff: 3, Status: StatusPaused}, // newer
	}
	got := AddPending(stored, pending, q)
	if len(got) != 2 || got[0].Station != "A" || got[1].Station != "B" {
		t.Fatalf("stations = %+v", got)
	}
	a, b := got[0], got[1]
	if a.Completed != 18 || a.CompletedToday != 7 || a.LastHour != 4 || a.Retries != 2 {
		t.Errorf("A = completed %d today %d last hour %d retries %d; want 18 7 4 2", a.Completed, a.CompletedToday, a.LastHour, a.Retries)
	}
	if a.Queue != 11 || a.Staff != 3 || a.Status != StatusPaused || !a.LastSeen.Equal(now.Add(-time.Minute)) {
		t.Errorf("A heartbeat = %+v; want the newest pending one", a)
	}
	if b.Completed != 7 || b.CompletedToday != 7 || b.LastHour != 0 || b.HasHeartbeat {
		t.Errorf("B = %+v", b)
	}
	onlyB := AddPending(nil, pending, StatsQuery{Stations: []string{"B"}, DayStart: q.DayStart, Now: now})
	if len(onlyB) != 1 || onlyB[0].Station != "B" {
		t.Errorf("filtered to B: %+v", onlyB)
	}
}

func TestAddPendingHours(t *testing.T) {
	from := time.Date(2021, 3, 20, 0, 0, 0, 0, time.UTC)
	hours := []HourCount{{Hour: from.Add(2 * time.Hour), Records: 1}}
	pending := []Event{
		{Type: TypeCompletion, Station: "A", TS: from.Add(2*time.Hour + 5*time.Minute), Count: 2, FingerprintRetries: 1},
		{Type: TypeCompletion, Station: "A", TS: from.Add(time.Hour), Count: 3},
		{Type: TypeCompletion, Station: "A", TS: from.Add(30 * time.Hour), Count: 100}, // outside
		{Type: TypeHeartbeat, Station: "A", TS: from.Add(time.Hour), Queue: 4},
	}
	got := AddPendingHours(hours, pending, SeriesQuery{From: from, To: from.Add(24 * time.Hour)})
	if len(got) != 2 || got[0].Hour != from.Add(time.Hour) || got[0].Records != 3 || got[1].Records != 3 || got[1].Retries != 1 {
		t.Errorf("hours = %+v", got)
	}
	per := AddPendingHours(nil, pending, SeriesQuery{From: from, To: from.Add(24 * time.Hour), ByStation: true})
	if len(per) != 2 || per[0].Station != "A" {
		t.Errorf("by station = %+v", per)
	}
}
