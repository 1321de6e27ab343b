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

// The last hour starts at the minute holding now − 1 h (finding 7: the
// minute of now − 60 min was dropped), and the recent window is
// [RecentFrom, DayStart).
func TestAddPendingLastHourAndRecent(t *testing.T) {
	ict := time.FixedZone("ICT", 7*3600)
	now := time.Date(2021, 3, 20, 21, 30, 0, 0, ict)
	dayStart := time.Date(2021, 3, 20, 4, 0, 0, 0, ict)
	q := StatsQuery{DayStart: dayStart, Now: now, RecentFrom: dayStart.Add(-7 * 24 * time.Hour)}
	got := AddPending(nil, []Event{
		{Type: TypeCompletion, Station: "A", TS: now.Add(-time.Hour), Count: 1},               // 20:30:00: in
		{Type: TypeCompletion, Station: "A", TS: now.Add(-time.Hour - time.Second), Count: 2}, // 20:29:59: out
		{Type: TypeCompletion, Station: "A", TS: dayStart.Add(-time.Minute), Count: 4},        // yesterday: recent
		{Type: TypeCompletion, Station: "A", TS: q.RecentFrom.Add(-time.Minute), Count: 8},    // before the window
		{Type: TypeCompletion, Station: "A", TS: q.RecentFrom, Count: 16},                     // its first instant
	}, q)
	if got[0].LastHour != 1 || got[0].RecentRecords != 20 {
		t.Errorf("last hour %d (want 1), recent %d (want 20)", got[0].LastHour, got[0].RecentRecords)
	}
}

// Spooled heartbeats and completions join the service samples as the store
// gives them, and each station is measured on its own.
func TestAddPendingService(t *testing.T) {
	ict := time.FixedZone("ICT", 7*3600)
	now := time.Date(2021, 3, 20, 21, 30, 0, 0, ict)
	q := ServiceQueryAt([]string{"A", "B"}, now)
	samples := []ServiceSample{{Station: "A", At: now.Add(-60 * time.Minute), Status: StatusOpen, Queue: 10, Lanes: 2}}
	minutes := []MinuteCount{{Station: "A", Minute: now.Add(-50 * time.Minute), Records: 3}}
	samples, minutes = AddPendingService(samples, minutes, []Event{
		{Type: TypeHeartbeat, Station: "A", TS: now.Add(-50 * time.Minute), Status: StatusOpen, Queue: 8, Lanes: 2},
		{Type: TypeHeartbeat, Station: "B", TS: now.Add(-5 * time.Minute), Status: StatusOpen, Queue: 1, Lanes: 1},
		{Type: TypeHeartbeat, Station: "C", TS: now.Add(-5 * time.Minute), Status: StatusOpen, Queue: 1, Lanes: 1}, // not asked
		{Type: TypeCompletion, Station: "A", TS: now.Add(-50*time.Minute + 10*time.Second), Count: 2},
		{Type: TypeCompletion, Station: "A", TS: now.Add(-3 * time.Hour), Count: 100}, // before the window
	}, q)
	if len(samples) != 3 || samples[0].Station != "A" || samples[1].Queue != 8 || samples[2].Station != "B" {
		t.Fatalf("samples %+v", samples)
	}
	if len(minutes) != 1 || minutes[0].Records != 5 {
		t.Fatalf("minutes %+v", minutes)
	}
	served := ServedByStation(samples, minutes, now)
	// A: 10 min at 2 lanes, then 15 (stale) at 2 lanes: 50 lane-minutes, 5 records.
	if a := served["A"]; a.BusyLaneMinutes != 50 || a.BusyRecords != 5 {
		t.Errorf("A served %+v", a)
	}
	if b := served["B"]; b.BusyLaneMinutes != 5 {
		t.Errorf("B served %+v", b)
	}
}

// Figures summed per unit take a pending heartbeat only for a station they
// hold apart: one summed into a group keeps its stored state there (figures
// cached before the heartbeat came), rather than counting in both. The
// figures passed in are not changed (they may be a cache's).
func TestAddPendingUnitsReplacesOnlyStationsApart(t *testing.T) {
	ict := time.FixedZone("ICT", 7*3600)
	now := time.Date(2021, 3, 20, 22, 0, 0, 0, ict)
	q := UnitStatsQuery{Units: map[string][]string{"P1": {"A", "B"}, "P2": {"C"}}, DayStart: time.Date(2021, 3, 20, 4, 0, 0, 0, ict),
		Now: now, LiveFrom: FreshFrom(now)}
	stored := UnitFigures{
		Units:  []UnitStats{{Unit: "P1", Completed: 10, CompletedToday: 4}},
		Groups: []LiveGroup{{Unit: "P1", Status: StatusOpen, Stations: 1, Queue: 5, Staff: 2}}, // B
		Live:   []StationStats{{Station: "A", HasHeartbeat: true, LastSeen: now.Add(-5 * time.Minute), Status: StatusOpen, Queue: 3, Staff: 1}},
		Apart:  []string{"A", "C"},
	}
	pending := []Event{
		{Type: TypeHeartbeat, Station: "A", TS: now.Add(-time.Minute), Queue: 9, Staff: 4, Status: StatusPaused},   // newer: replaces
		{Type: TypeHeartbeat, Station: "A", TS: now.Add(-30 * time.Minute), Queue: 99, Status: StatusOpen},         // older: ignored
		{Type: TypeHeartbeat, Station: "B", TS: now.Add(-time.Minute), Queue: 50, Staff: 1, Status: StatusOpen},    // in a group: ignored
		{Type: TypeHeartbeat, Station: "C", TS: now.Add(-2 * time.Minute), Queue: 7, Staff: 2, Status: StatusOpen}, // apart, not stored
		{Type: TypeHeartbeat, Station: "X", TS: now.Add(-time.Minute), Queue: 1, Status: StatusOpen},               // not in the scope
		{Type: TypeCompletion, Station: "C", TS: now.Add(-10 * time.Minute), Count: 3, FingerprintRetries: 1},
		{Type: TypeCompletion, Station: "B", TS: now.Add(-20 * time.Hour), Count: 5}, // yesterday's working day
	}
	got := AddPendingUnits(stored, pending, q)
	if len(got.Live) != 2 || got.Live[0].Station != "A" || got.Live[1].Station != "C" {
		t.Fatalf("live = %+v; want A and C", got.Live)
	}
	if a := got.Live[0]; a.Queue != 9 || a.Staff != 4 || a.Status != StatusPaused {
		t.Errorf("A = %+v; want its newest pending heartbeat", a)
	}
	if c := got.Live[1]; c.Queue != 7 || !c.HasHeartbeat {
		t.Errorf("C = %+v; want its pending heartbeat", c)
	}
	if len(got.Groups) != 1 || got.Groups[0].Queue != 5 {
		t.Errorf("groups = %+v; want B's stored state", got.Groups)
	}
	want := []UnitStats{{Unit: "P1", Completed: 15, CompletedToday: 4}, {Unit: "P2", Completed: 3, Retries: 1, CompletedToday: 3, LastHour: 3}}
	if len(got.Units) != 2 || got.Units[0] != want[0] || got.Units[1] != want[1] {
		t.Errorf("units = %+v; want %+v", got.Units, want)
	}
	if stored.Live[0].Queue != 3 || len(stored.Live) != 1 || stored.Units[0].Completed != 10 {
		t.Errorf("the figures passed in changed: %+v", stored)
	}
}
