package tiendo_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"tiendo"
)

// counts is a station's state without its decision figures, which the
// service and pace tests check: the counts BuildSnapshot passes through.
func counts(s tiendo.StationState) tiendo.StationState {
	s.WaitMinutes, s.ListMinutes, s.MinutesPerRecord, s.ClearsAt, s.Late, s.IdleStaff, s.Pace = nil, nil, 0, nil, false, 0, nil
	s.LongWait, s.PercentDone = false, 0
	return s
}

func countsAll(ss []tiendo.StationState) []tiendo.StationState {
	out := make([]tiendo.StationState, len(ss))
	for i, s := range ss {
		out[i] = counts(s)
	}
	return out
}

// snapshotNow is 01:30 on 21 March, local: still working day 20 March.
var snapshotNow = time.Date(2021, time.March, 21, 1, 30, 0, 0, time.FixedZone("ICT", 7*3600))

func snapshotRegistry(tb testing.TB) *tiendo.Registry {
	c := mustTestCampaign(tb)
	return tiendo.NewRegistry(c, c.Districts, []tiendo.Station{
		{ID: "LS-TP-B", Name: "TP B", District: "LS-TP", Kind: tiendo.KindFixed, Lanes: 4, Quota: 1000, Lat: 21.85, Lon: 106.76},
		{ID: "LS-BS-VULE", Name: "Vũ Lễ", District: "LS-BS", Commune: "Vũ Lễ", Kind: tiendo.KindMobile, Lanes: 2, Quota: 500, Lat: 21.9, Lon: 106.3},
		{ID: "LS-TP-A", Name: "TP A", District: "LS-TP", Kind: tiendo.KindFixed, Lanes: 3, Quota: 2000, Lat: 21.84, Lon: 106.75},
		{ID: "LS-DL-X", Name: "Đình Lập X", District: "LS-DL", Kind: tiendo.KindHomeVisit, Lanes: 1, Quota: 100, Lat: 21.5, Lon: 107.1},
	})
}

func snapshotStats() []tiendo.StationStats {
	return []tiendo.StationStats{
		{Station: "LS-TP-A", Completed: 1000, Retries: 250, CompletedToday: 120, LastHour: 30,
			HasHeartbeat: true, LastSeen: snapshotNow.Add(-2 * time.Minute), Status: tiendo.StatusOpen, Queue: 20, Staff: 5},
		{Station: "LS-TP-B", Completed: 500, CompletedToday: 50,
			HasHeartbeat: true, LastSeen: snapshotNow.Add(-tiendo.StaleAfter - time.Second), Status: tiendo.StatusOpen,
			Queue: 40, Staff: 3, Lanes: 5, Lat: 21.8, Lon: 106.7},
		{Station: "LS-BS-VULE", Completed: 300, Retries: 90, CompletedToday: 40, LastHour: 12,
			HasHeartbeat: true, LastSeen: snapshotNow.Add(-tiendo.StaleAfter), Status: tiendo.StatusPaused,
			Queue: 8, Staff: 2, Lanes: 2},
		{Station: "LS-XX-GONE", Completed: 9999, CompletedToday: 9999, LastHour: 9999, HasHeartbeat: true,
			LastSeen: snapshotNow, Status: tiendo.StatusOpen, Queue: 9999},
	}
}

func ptime(t time.Time) *time.Time { u := t.UTC(); return &u }

func wantSnapshotStations() map[string]tiendo.StationState {
	return map[string]tiendo.StationState{
		"LS-BS-VULE": {ID: "LS-BS-VULE", Name: "Vũ Lễ", District: "LS-BS", Commune: "Vũ Lễ", Kind: tiendo.KindMobile,
			Status: tiendo.StatusPaused, ReportedStatus: tiendo.StatusPaused, Queue: 8, Staff: 2, Lanes: 2, Completed: 300, CompletedToday: 40, PerHour: 12,
			Quota: 500, RetriesPerRec: 0.3, LastSeen: ptime(snapshotNow.Add(-tiendo.StaleAfter)), Lat: 21.9, Lon: 106.3},
		"LS-TP-A": {ID: "LS-TP-A", Name: "TP A", District: "LS-TP", Kind: tiendo.KindFixed,
			Status: tiendo.StatusOpen, ReportedStatus: tiendo.StatusOpen, Queue: 20, Staff: 5, Lanes: 3, Completed: 1000, CompletedToday: 120, PerHour: 30,
			Quota: 2000, RetriesPerRec: 0.25, LastSeen: ptime(snapshotNow.Add(-2 * time.Minute)), Lat: 21.84, Lon: 106.75},
		// Silent for longer than StaleAfter: offline, no queue, no staff,
		// though what it last said (open) is kept apart for the silent alert.
		"LS-TP-B": {ID: "LS-TP-B", Name: "TP B", District: "LS-TP", Kind: tiendo.KindFixed,
			Status: tiendo.StatusOffline, ReportedStatus: tiendo.StatusOpen, Queue: 0, Staff: 0, Lanes: 5, Completed: 500, CompletedToday: 50, PerHour: 0,
			Quota: 1000, LastSeen: ptime(snapshotNow.Add(-tiendo.StaleAfter - time.Second)), Lat: 21.8, Lon: 106.7},
		// No data at all.
		"LS-DL-X": {ID: "LS-DL-X", Name: "Đình Lập X", District: "LS-DL", Kind: tiendo.KindHomeVisit,
			Status: tiendo.StatusOffline, Lanes: 1, Quota: 100, Lat: 21.5, Lon: 107.1},
	}
}

func TestBuildSnapshotProvince(t *testing.T) {
	reg := snapshotRegistry(t)
	snap := tiendo.BuildSnapshot(reg, tiendo.ProvinceScope, snapshotStats(), reg.Campaign.ConfiguredProfile(), snapshotNow)

	if got, want := snap.Scope, tiendo.ProvinceScope; got != want {
		t.Errorf("Scope = %v, want %v", got, want)
	}
	if got, want := snap.Day, tiendo.DayOf(2021, time.March, 20); got != want {
		t.Errorf("Day = %v, want %v (01:30 belongs to the previous working day)", got, want)
	}
	if got, want := snap.Now, snapshotNow.UTC(); got != want {
		t.Errorf("Now = %v, want %v in UTC", got, want)
	}
	wantInfo := tiendo.CampaignInfo{ID: "langson-2021", Name: "Cấp CCCD gắn chip — Lạng Sơn 2021",
		NameEN: "Chip-based ID cards — Lạng Sơn 2021", TimeZone: "Asia/Ho_Chi_Minh",
		Start: tiendo.DayOf(2021, time.March, 10), Deadline: tiendo.DayOf(2021, time.July, 1), Target: 621000,
		WorkingDays: 114, LateClose: "02:00", LongWaitMinutes: 120}
	if got := snap.Campaign; got != wantInfo {
		t.Errorf("Campaign = %+v, want %+v", got, wantInfo)
	}

	var ids []string
	for _, s := range snap.Stations {
		ids = append(ids, s.ID)
	}
	if want := []string{"LS-BS-VULE", "LS-DL-X", "LS-TP-A", "LS-TP-B"}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("stations = %q, want %q (registry order; stats of unknown stations ignored)", ids, want)
	}
	want := wantSnapshotStations()
	for _, got := range snap.Stations {
		if w := want[got.ID]; !reflect.DeepEqual(counts(got), w) {
			t.Errorf("station %s =\n%+v\nwant\n%+v", got.ID, got, w)
		}
	}

	wantTotals := tiendo.Totals{
		Completed: 1800, CompletedToday: 210, Target: 621000, Queue: 28, Staff: 7, PerHour: 42,
		Stations: 4, StationsOpen: 1, StationsOffline: 2,
		RetriesPerRec: 0.19, // 340 / 1800
		PercentDone:   0.29, // 1800 / 621000
		StationsLate:  1,    // LS-TP-A: 20 waiting at 3 lanes, 6 min each, clear at 02:10
	}
	if snap.Totals != wantTotals {
		t.Errorf("Totals =\n%+v\nwant\n%+v", snap.Totals, wantTotals)
	}

	wantDistricts := []tiendo.DistrictState{
		{ID: "LS-TP", Name: "TP Lạng Sơn", Level: tiendo.LevelDistrict, Quota: 81274, Completed: 1500, CompletedToday: 170, Queue: 20, PerHour: 30, PercentDone: 1.85, Stations: 2, StationsOpen: 1},
		{ID: "LS-BS", Name: "Bắc Sơn", Level: tiendo.LevelDistrict, Quota: 56813, Completed: 300, CompletedToday: 40, Queue: 8, PerHour: 12, PercentDone: 0.53, Stations: 1},
		{ID: "LS-DL", Name: "Đình Lập", Level: tiendo.LevelDistrict, Quota: 22883, Stations: 1},
	}
	wantDistricts[0].StationsLate = 1
	for i := range snap.Districts {
		if snap.Districts[i].Pace == nil || snap.Districts[i].Pace.Target != snap.Districts[i].Quota {
			t.Errorf("district %s: pace %+v, want one for its quota", snap.Districts[i].ID, snap.Districts[i].Pace)
		}
		snap.Districts[i].Pace = nil
	}
	if !reflect.DeepEqual(snap.Districts, wantDistricts) {
		t.Errorf("Districts =\n%+v\nwant\n%+v", snap.Districts, wantDistricts)
	}

	// Totals are the sums of the stations shown.
	var sum tiendo.Totals
	for _, s := range snap.Stations {
		sum.Completed += s.Completed
		sum.CompletedToday += s.CompletedToday
		sum.Queue += s.Queue
		sum.Staff += s.Staff
		sum.PerHour += s.PerHour
	}
	if sum.Completed != snap.Totals.Completed || sum.CompletedToday != snap.Totals.CompletedToday ||
		sum.Queue != snap.Totals.Queue || sum.Staff != snap.Totals.Staff || sum.PerHour != snap.Totals.PerHour {
		t.Errorf("Totals %+v are not the sums of the stations %+v", snap.Totals, sum)
	}
}

func TestBuildSnapshotDistrict(t *testing.T) {
	reg := snapshotRegistry(t)
	scope := tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: "LS-TP"}
	snap := tiendo.BuildSnapshot(reg, scope, snapshotStats(), reg.Campaign.ConfiguredProfile(), snapshotNow)
	if snap.Districts != nil {
		t.Errorf("Districts = %+v in a district scope, want none", snap.Districts)
	}
	want := wantSnapshotStations()
	if got, w := countsAll(snap.Stations), []tiendo.StationState{want["LS-TP-A"], want["LS-TP-B"]}; !reflect.DeepEqual(got, w) {
		t.Errorf("Stations =\n%+v\nwant\n%+v", got, w)
	}
	wantTotals := tiendo.Totals{Completed: 1500, CompletedToday: 170, Target: 81274, Queue: 20, Staff: 5, PerHour: 30,
		Stations: 2, StationsOpen: 1, StationsOffline: 1, StationsLate: 1, RetriesPerRec: 0.17, PercentDone: 1.85}
	if snap.Totals != wantTotals {
		t.Errorf("Totals =\n%+v\nwant\n%+v", snap.Totals, wantTotals)
	}
}

func TestBuildSnapshotStation(t *testing.T) {
	reg := snapshotRegistry(t)
	snap := tiendo.BuildSnapshot(reg, tiendo.Scope{Kind: tiendo.ScopeStation, ID: "LS-BS-VULE"}, snapshotStats(), reg.Campaign.ConfiguredProfile(), snapshotNow)
	want := wantSnapshotStations()
	if got, w := countsAll(snap.Stations), []tiendo.StationState{want["LS-BS-VULE"]}; !reflect.DeepEqual(got, w) {
		t.Errorf("Stations =\n%+v\nwant\n%+v", got, w)
	}
	wantTotals := tiendo.Totals{Completed: 300, CompletedToday: 40, Target: 500, Queue: 8, Staff: 2, PerHour: 12,
		Stations: 1, StationsOpen: 0, RetriesPerRec: 0.3, PercentDone: 60}
	if snap.Totals != wantTotals {
		t.Errorf("Totals =\n%+v\nwant\n%+v", snap.Totals, wantTotals)
	}
}

func TestBuildSnapshotNoData(t *testing.T) {
	reg := snapshotRegistry(t)
	for _, scope := range []tiendo.Scope{
		tiendo.ProvinceScope,
		{Kind: tiendo.ScopeDistrict, ID: "LS-DL"},
		{Kind: tiendo.ScopeStation, ID: "LS-TP-A"},
	} {
		snap := tiendo.BuildSnapshot(reg, scope, nil, reg.Campaign.ConfiguredProfile(), snapshotNow)
		if got, want := snap.Totals.Stations, len(reg.StationsIn(scope)); got != want {
			t.Errorf("%v: Totals.Stations = %d, want %d", scope, got, want)
		}
		for _, s := range snap.Stations {
			if s.Status != tiendo.StatusOffline || s.Completed != 0 || s.Queue != 0 || s.LastSeen != nil || s.WaitMinutes != nil {
				t.Errorf("%v: station without data = %+v, want offline with zeros", scope, s)
			}
		}
		if snap.Totals.Completed != 0 || snap.Totals.PercentDone != 0 || snap.Totals.RetriesPerRec != 0 || snap.Totals.StationsOpen != 0 {
			t.Errorf("%v: Totals = %+v, want zeros", scope, snap.Totals)
		}
	}
}

// A fresh heartbeat of an open station with nobody served in the service
// window falls back on the campaign's nominal minutes per record.
func TestBuildSnapshotNominalWait(t *testing.T) {
	reg := snapshotRegistry(t)
	stats := []tiendo.StationStats{{Station: "LS-TP-A", HasHeartbeat: true, LastSeen: snapshotNow,
		Status: tiendo.StatusOpen, Queue: 9, Staff: 3, Lanes: 3}}
	snap := tiendo.BuildSnapshot(reg, tiendo.Scope{Kind: tiendo.ScopeStation, ID: "LS-TP-A"}, stats, reg.Campaign.ConfiguredProfile(), snapshotNow)
	if got := snap.Stations[0].WaitMinutes; got == nil || *got != 18 { // 9 × 6 ÷ 3
		t.Errorf("WaitMinutes = %v, want 18", got)
	}
}

func TestSnapshotJSON(t *testing.T) {
	reg := snapshotRegistry(t)
	snap := tiendo.BuildSnapshot(reg, tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: "LS-DL"}, nil, reg.Campaign.ConfiguredProfile(), snapshotNow)
	b, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"scope":"district:LS-DL"`, `"day":"2021-03-20"`, `"start":"2021-03-10"`,
		`"last_seen":null`, `"status":"offline"`, `"now":"2021-03-20T18:30:00Z"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("snapshot JSON lacks %s: %s", want, b)
		}
	}
	if strings.Contains(string(b), `"districts"`) {
		t.Errorf("district-scope snapshot JSON has districts: %s", b)
	}
}
