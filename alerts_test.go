package tiendo_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"tiendo"
)

// alertNow is 21:00 of working day 20 March; its late hour is 02:00 of 21 March.
var alertNow = at(time.March, 20, 21, 0, 0)

func fptr(v float64) *float64 { return &v }

// alertStation is an open fixed station of LS-TP seen a minute ago, with
// nothing that alarms; each case changes what it tests.
func alertStation(change func(s *tiendo.StationState)) tiendo.StationState {
	seen := alertNow.Add(-time.Minute).UTC()
	s := tiendo.StationState{ID: "LS-TP-A", District: "LS-TP", Kind: tiendo.KindFixed, Status: tiendo.StatusOpen,
		ReportedStatus: tiendo.StatusOpen, LastSeen: &seen, Queue: 3, Staff: 2, Lanes: 2, PerHour: 20, PerHourYesterday: 20,
		WaitMinutes: fptr(9)}
	if change != nil {
		change(&s)
	}
	return s
}

func seenAgo(d time.Duration) *time.Time {
	t := alertNow.Add(-d).UTC()
	return &t
}

func clearsAt(local time.Time) *time.Time {
	t := local.UTC()
	return &t
}

// Each kind's condition at, below and above its thresholds, opening and
// keeping (an alert already open), with the severity and figure it gives.
func TestAlertConditionsStations(t *testing.T) {
	c := mustTestCampaign(t)
	type want struct {
		kind     tiendo.AlertKind
		severity string
		value    float64
	}
	none := []want(nil)
	cases := []struct {
		name   string
		open   tiendo.AlertKind // an alert of this kind is open on the station
		change func(s *tiendo.StationState)
		want   []want
	}{
		{"nothing wrong", "", nil, none},

		{"silent 16 min after saying open", "", func(s *tiendo.StationState) {
			s.LastSeen, s.Status, s.Queue, s.WaitMinutes = seenAgo(16*time.Minute), tiendo.StatusOffline, 0, nil
		}, []want{{tiendo.AlertSilent, "warning", 16}}},
		{"silent exactly 15 min", "", func(s *tiendo.StationState) { s.LastSeen = seenAgo(15 * time.Minute) },
			[]want{{tiendo.AlertSilent, "warning", 15}}},
		{"quiet 14 min 59 s", "", func(s *tiendo.StationState) { s.LastSeen = seenAgo(15*time.Minute - time.Second) }, none},
		{"silent 30 min: critical", "", func(s *tiendo.StationState) { s.LastSeen = seenAgo(30 * time.Minute) },
			[]want{{tiendo.AlertSilent, "critical", 30}}},
		{"silent after saying paused", "", func(s *tiendo.StationState) {
			s.LastSeen, s.ReportedStatus = seenAgo(40*time.Minute), tiendo.StatusPaused
		}, none},
		{"silent after saying closed", "", func(s *tiendo.StationState) {
			s.LastSeen, s.ReportedStatus = seenAgo(40*time.Minute), tiendo.StatusClosed
		}, none},
		// Its last word was of the working day before (03:00 belongs to 19 March).
		{"open yesterday, silent since", "", func(s *tiendo.StationState) {
			s.LastSeen = clearsAt(at(time.March, 20, 3, 0, 0))
		}, none},
		{"never seen", "", func(s *tiendo.StationState) { s.LastSeen, s.ReportedStatus = nil, "" }, none},

		{"wait 121", "", func(s *tiendo.StationState) { s.WaitMinutes = fptr(121) }, []want{{tiendo.AlertLongWait, "warning", 121}}},
		{"wait 120 opens nothing", "", func(s *tiendo.StationState) { s.WaitMinutes = fptr(120) }, none},
		{"wait 180: critical", "", func(s *tiendo.StationState) { s.WaitMinutes = fptr(180) }, []want{{tiendo.AlertLongWait, "critical", 180}}},
		{"open long wait holds at 110", tiendo.AlertLongWait, func(s *tiendo.StationState) { s.WaitMinutes = fptr(110) },
			[]want{{tiendo.AlertLongWait, "warning", 110}}},
		{"open long wait fails at 108", tiendo.AlertLongWait, func(s *tiendo.StationState) { s.WaitMinutes = fptr(108) }, none},
		{"no wait (closed)", tiendo.AlertLongWait, func(s *tiendo.StationState) { s.WaitMinutes = nil }, none},

		{"clears 02:10", "", func(s *tiendo.StationState) { s.ClearsAt = clearsAt(at(time.March, 21, 2, 10, 0)) },
			[]want{{tiendo.AlertLateClose, "warning", 10}}},
		{"clears 02:00 sharp", "", func(s *tiendo.StationState) { s.ClearsAt = clearsAt(at(time.March, 21, 2, 0, 0)) }, none},
		{"clears 03:00: critical", "", func(s *tiendo.StationState) { s.ClearsAt = clearsAt(at(time.March, 21, 3, 0, 0)) },
			[]want{{tiendo.AlertLateClose, "critical", 60}}},
		{"open late close holds at 01:50", tiendo.AlertLateClose, func(s *tiendo.StationState) {
			s.ClearsAt = clearsAt(at(time.March, 21, 1, 50, 0))
		}, []want{{tiendo.AlertLateClose, "warning", -10}}},
		{"open late close fails at 01:45", tiendo.AlertLateClose, func(s *tiendo.StationState) {
			s.ClearsAt = clearsAt(at(time.March, 21, 1, 45, 0))
		}, none},

		{"4 records against 10 yesterday", "", func(s *tiendo.StationState) { s.PerHour, s.PerHourYesterday = 4, 10 },
			[]want{{tiendo.AlertSlowdown, "warning", 0.4}}},
		{"2 against 10: critical", "", func(s *tiendo.StationState) { s.PerHour, s.PerHourYesterday = 2, 10 },
			[]want{{tiendo.AlertSlowdown, "critical", 0.2}}},
		{"half of yesterday opens nothing", "", func(s *tiendo.StationState) { s.PerHour, s.PerHourYesterday = 5, 10 }, none},
		{"open slowdown holds at half", tiendo.AlertSlowdown, func(s *tiendo.StationState) { s.PerHour, s.PerHourYesterday = 5, 10 },
			[]want{{tiendo.AlertSlowdown, "warning", 0.5}}},
		{"open slowdown fails at 0.6", tiendo.AlertSlowdown, func(s *tiendo.StationState) { s.PerHour, s.PerHourYesterday = 6, 10 }, none},
		{"a quiet yesterday (5) does not count", "", func(s *tiendo.StationState) { s.PerHour, s.PerHourYesterday = 0, 5 }, none},
		{"6 yesterday counts", "", func(s *tiendo.StationState) { s.PerHour, s.PerHourYesterday = 0, 6 },
			[]want{{tiendo.AlertSlowdown, "critical", 0}}},
		{"nobody waits", "", func(s *tiendo.StationState) { s.PerHour, s.PerHourYesterday, s.Queue = 0, 30, 0 }, none},
		{"closed with a queue", "", func(s *tiendo.StationState) {
			s.PerHour, s.PerHourYesterday, s.Status, s.WaitMinutes = 0, 30, tiendo.StatusClosed, nil
		}, none},

		{"long wait and late together", "", func(s *tiendo.StationState) {
			s.WaitMinutes, s.ClearsAt = fptr(300), clearsAt(at(time.March, 21, 2, 0, 1))
		}, []want{{tiendo.AlertLongWait, "critical", 300}, {tiendo.AlertLateClose, "warning", 0}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			snap := &tiendo.Snapshot{Now: alertNow.UTC(), Day: c.WorkingDay(alertNow),
				Stations: []tiendo.StationState{alertStation(tc.change)}}
			open := func(k tiendo.AlertKey) bool { return k.Kind == tc.open && k.Subject == "LS-TP-A" }
			var got []want
			for _, a := range c.AlertConditions(snap, open) {
				if a.Station != "LS-TP-A" || a.District != "LS-TP" || a.Subject() != "LS-TP-A" {
					t.Errorf("%s names station %q district %q", a.Kind, a.Station, a.District)
				}
				got = append(got, want{a.Kind, a.Severity, a.Value})
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("conditions = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestAlertConditionsBehind(t *testing.T) {
	c := mustTestCampaign(t)
	pace := func(state tiendo.PaceState, expected, gap int64) *tiendo.Pace {
		return &tiendo.Pace{State: state, ExpectedToDate: expected, Gap: gap}
	}
	snap := &tiendo.Snapshot{Now: alertNow.UTC(), Day: c.WorkingDay(alertNow), Districts: []tiendo.DistrictState{
		{ID: "LS-TP", Pace: pace(tiendo.PaceBehind, 1000, -50)},
		{ID: "LS-BS", Pace: pace(tiendo.PaceBehind, 1000, -101)},
		{ID: "LS-DL", Pace: pace(tiendo.PaceOnTrack, 1000, -300)},
		{ID: "LS-HL", Pace: pace(tiendo.PaceTooEarly, 1000, -900)},
		{ID: "LS-VQ"}, // no quota, no pace
	}}
	got := c.AlertConditions(snap, nil)
	want := []tiendo.AlertCondition{
		{Kind: tiendo.AlertBehind, District: "LS-BS", Severity: "critical", Value: -101},
		{Kind: tiendo.AlertBehind, District: "LS-TP", Severity: "warning", Value: -50},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("conditions = %+v, want %+v", got, want)
	}
	if got[0].Subject() != "LS-BS" {
		t.Errorf("a district's alert has subject %q", got[0].Subject())
	}
}

// The thresholds come from the campaign file.
func TestAlertThresholdsConfigured(t *testing.T) {
	c := mustTestCampaign(t)
	if c.SilentAfter() != 15*time.Minute || c.LongWait() != 120 || c.SlowdownBelow() != 0.5 || c.SlowdownMinimum() != 6 ||
		c.AlertClearAfter() != 5*time.Minute {
		t.Fatalf("defaults: silent %v wait %v slowdown %v/%v clear %v", c.SilentAfter(), c.LongWait(), c.SlowdownBelow(),
			c.SlowdownMinimum(), c.AlertClearAfter())
	}
	c.SilentMinutes, c.LongWaitMinutes, c.SlowdownShare, c.SlowdownMinRecords, c.AlertClearMinutes = 5, 60, 0.8, 3, 2
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.AlertClearAfter() != 2*time.Minute {
		t.Errorf("clear after %v, want 2m", c.AlertClearAfter())
	}
	st := alertStation(func(s *tiendo.StationState) {
		s.LastSeen, s.WaitMinutes, s.PerHour, s.PerHourYesterday = seenAgo(6*time.Minute), fptr(61), 2, 3
	})
	snap := &tiendo.Snapshot{Now: alertNow.UTC(), Day: c.WorkingDay(alertNow), Stations: []tiendo.StationState{st}}
	var kinds []tiendo.AlertKind
	for _, a := range c.AlertConditions(snap, nil) {
		kinds = append(kinds, a.Kind)
	}
	if want := []tiendo.AlertKind{tiendo.AlertSilent, tiendo.AlertLongWait, tiendo.AlertSlowdown}; !reflect.DeepEqual(kinds, want) {
		t.Errorf("with silent 5 min, long wait 60, slowdown 0.8 of at least 3: %v, want %v", kinds, want)
	}
}

func TestAlertThresholdsValidated(t *testing.T) {
	for _, tc := range []struct {
		field  string
		mutate func(c *tiendo.Campaign)
	}{
		{"silent_minutes", func(c *tiendo.Campaign) { c.SilentMinutes = -1 }},
		{"silent_minutes", func(c *tiendo.Campaign) { c.SilentMinutes = 24*60 + 1 }},
		{"slowdown_share", func(c *tiendo.Campaign) { c.SlowdownShare = 1 }},
		{"slowdown_share", func(c *tiendo.Campaign) { c.SlowdownShare = -0.1 }},
		{"slowdown_min_records", func(c *tiendo.Campaign) { c.SlowdownMinRecords = -1 }},
		{"alert_clear_minutes", func(c *tiendo.Campaign) { c.AlertClearMinutes = 121 }},
		{"alert_clear_minutes", func(c *tiendo.Campaign) { c.AlertClearMinutes = -1 }},
	} {
		c := mustTestCampaign(t)
		tc.mutate(c)
		var e *tiendo.Error
		if err := c.Validate(); !errors.As(err, &e) || len(e.Fields) != 1 || e.Fields[0].Field != tc.field {
			t.Errorf("%s: Validate = %v, want an error naming %s", tc.field, err, tc.field)
		}
	}
}

// From stored figures to alerts: a station whose heartbeat is older than
// StaleAfter shows offline, yet what it last said (open) reaches the
// silent rule; yesterday's hour reaches the slowdown rule; a queue of 41
// at 2 lanes at the nominal 6 minutes waits 123 minutes.
func TestAlertConditionsFromSnapshot(t *testing.T) {
	c := mustTestCampaign(t)
	reg := tiendo.NewRegistry(c, c.Districts, []tiendo.Station{
		{ID: "LS-TP-A", Name: "A", District: "LS-TP", Kind: tiendo.KindFixed, Lanes: 2},
		{ID: "LS-TP-B", Name: "B", District: "LS-TP", Kind: tiendo.KindFixed, Lanes: 2},
	})
	stats := []tiendo.StationStats{
		{Station: "LS-TP-A", HasHeartbeat: true, LastSeen: alertNow.Add(-20 * time.Minute), Status: tiendo.StatusOpen, Queue: 9, Staff: 2, Lanes: 2},
		{Station: "LS-TP-B", HasHeartbeat: true, LastSeen: alertNow.Add(-time.Minute), Status: tiendo.StatusOpen, Queue: 41, Staff: 2, Lanes: 2,
			LastHour: 3, LastHourYesterday: 12},
	}
	snap := tiendo.BuildSnapshot(reg, tiendo.ProvinceScope, stats, c.ConfiguredProfile(), alertNow)
	a := snap.Stations[0]
	if a.Status != tiendo.StatusOffline || a.ReportedStatus != tiendo.StatusOpen {
		t.Fatalf("stale station: status %s reported %s, want offline and open", a.Status, a.ReportedStatus)
	}
	if b := snap.Stations[1]; b.PerHourYesterday != 12 || b.PerHour != 3 {
		t.Fatalf("station B: per hour %d, yesterday %d; want 3 and 12", b.PerHour, b.PerHourYesterday)
	}
	var got []string
	for _, al := range c.AlertConditions(snap, nil) {
		got = append(got, string(al.Kind)+" "+al.Subject())
	}
	// Nothing done by 20 March: every district with a quota is behind.
	want := []string{"silent LS-TP-A", "long_wait LS-TP-B", "slowdown LS-TP-B", "behind LS-BS", "behind LS-DL", "behind LS-TP"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("alerts %q, want %q", got, want)
	}
}

func TestAlertInScopeAndOrder(t *testing.T) {
	c := mustTestCampaign(t)
	reg := tiendo.NewRegistry(c, c.Districts, []tiendo.Station{
		{ID: "LS-TP-A", Name: "A", District: "LS-TP", Kind: tiendo.KindFixed, Lanes: 1},
		{ID: "LS-BS-B", Name: "B", District: "LS-BS", Kind: tiendo.KindFixed, Lanes: 1},
	})
	t0 := alertNow.UTC()
	alerts := []tiendo.Alert{
		{ID: "1", Kind: tiendo.AlertSilent, Station: "LS-TP-A", District: "LS-TP", Since: t0, Severity: "warning"},
		{ID: "2", Kind: tiendo.AlertBehind, District: "LS-TP", Since: t0.Add(-time.Hour), Severity: "critical"},
		// Filed under LS-TP when it opened; the registry has it in LS-BS now.
		{ID: "3", Kind: tiendo.AlertLongWait, Station: "LS-BS-B", District: "LS-TP", Since: t0.Add(time.Minute), Severity: "warning"},
		// A station the registry no longer has: its district at the time.
		{ID: "4", Kind: tiendo.AlertLateClose, Station: "LS-TP-GONE", District: "LS-TP", Since: t0, Severity: "critical"},
	}
	in := func(scope tiendo.Scope) []string {
		var ids []string
		for i := range alerts {
			if tiendo.AlertInScope(reg, scope, &alerts[i]) {
				ids = append(ids, alerts[i].ID)
			}
		}
		return ids
	}
	for scope, want := range map[tiendo.Scope][]string{
		tiendo.ProvinceScope:                       {"1", "2", "3", "4"},
		{Kind: tiendo.ScopeDistrict, ID: "LS-TP"}:  {"1", "2", "4"},
		{Kind: tiendo.ScopeDistrict, ID: "LS-BS"}:  {"3"},
		{Kind: tiendo.ScopeStation, ID: "LS-TP-A"}: {"1"},
		{Kind: tiendo.ScopeStation, ID: "LS-BS-B"}: {"3"},
	} {
		if got := in(scope); !reflect.DeepEqual(got, want) {
			t.Errorf("%s shows %v, want %v", scope, got, want)
		}
	}
	tiendo.SortAlerts(alerts)
	var order []string
	for _, a := range alerts {
		order = append(order, a.ID)
	}
	if want := []string{"4", "2", "3", "1"}; !reflect.DeepEqual(order, want) {
		t.Errorf("order %v, want %v (critical first, then newest, then id)", order, want)
	}
}
