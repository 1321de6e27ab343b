package tiendo_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"tiendo"
	"tiendo/cmd/tiendo/langson2021"
	"tiendo/cmd/tiendo/vietnam2021"
)

func nationRegistry() *tiendo.Registry {
	c := vietnam2021.Campaign()
	return tiendo.NewRegistry(c, c.Districts, vietnam2021.Stations())
}

func mustScope(t *testing.T, s string) tiendo.Scope {
	t.Helper()
	sc, err := tiendo.ParseScope(s)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// A province officer reads their province and everything under it, and
// nothing of another province or of the nation; a district account reads
// its district, its communes and its stations.
func TestUnitAccountsReadTheirSubtree(t *testing.T) {
	reg := nationRegistry()
	cases := []struct {
		role    tiendo.Role
		subject string
		scope   string
		want    bool
	}{
		{tiendo.RoleOfficer, "LS", "unit:LS", true},
		{tiendo.RoleOfficer, "LS", "district:LS-TP", true},
		{tiendo.RoleOfficer, "LS", "unit:LS-TP-X01", true},
		{tiendo.RoleOfficer, "LS", "station:LS-BS-VULE", true},
		{tiendo.RoleOfficer, "LS", "station:LS-TP-LD1", true},
		{tiendo.RoleOfficer, "LS", "province", false},
		{tiendo.RoleOfficer, "LS", "unit:HN", false},
		{tiendo.RoleOfficer, "LS", "district:HN-H01", false},
		{tiendo.RoleOfficer, "LS", "unit:HN-H01-X001", false},
		{tiendo.RoleOfficer, "LS", "station:HN-H01-X001-CA", false},
		{tiendo.RoleOfficer, "LS", "unit:LSX", false}, // a prefix is not a parent
		{tiendo.RoleOfficer, "HN-H01", "station:HN-H01-LD1", true},
		{tiendo.RoleOfficer, "HN-H01", "unit:HN", false},
		{tiendo.RoleDistrict, "LS-TP", "district:LS-TP", true},
		{tiendo.RoleDistrict, "LS-TP", "unit:LS-TP", true},
		{tiendo.RoleDistrict, "LS-TP", "unit:LS-TP-X01", true},
		{tiendo.RoleDistrict, "LS-TP", "station:LS-TP-CHILANG", true},
		{tiendo.RoleDistrict, "LS-TP", "unit:LS", false},
		{tiendo.RoleDistrict, "LS-TP", "district:LS-BS", false},
		{tiendo.RoleChief, "LS-TP-CHILANG", "unit:LS-TP-X01", false},
		{tiendo.RoleScreen, "", "unit:HN", true},
		{tiendo.RoleScreen, "", "station:HN-H01-LD1", false},
		{tiendo.RoleLeader, "", "province", true},
	}
	for _, c := range cases {
		scope := reg.Resolve(mustScope(t, c.scope))
		if got := c.role.CanRead(reg, c.subject, scope); got != c.want {
			t.Errorf("%s of %q reads %s: %v, want %v", c.role, c.subject, c.scope, got, c.want)
		}
	}
	if _, ok := tiendo.RoleOfficer.CheckSubject(reg, "LS"); !ok {
		t.Error("an officer of LS is refused")
	}
	if _, ok := tiendo.RoleOfficer.CheckSubject(reg, "XX"); ok {
		t.Error("an officer of an unknown unit is accepted")
	}
	if got := tiendo.RoleOfficer.HomeScope("LS"); reg.Resolve(got) != (tiendo.Scope{Kind: tiendo.ScopeUnit, ID: "LS"}) {
		t.Errorf("an LS officer's home is %v", got)
	}
}

// The scopes of a province campaign's links and tokens keep their meaning:
// province is the whole campaign, district:<id> a district, and unit:<id>
// of a district is that district.
func TestOldScopesStillWork(t *testing.T) {
	c := langson2021.Campaign()
	reg := tiendo.NewRegistry(c, c.Districts, langson2021.Stations())
	if got := reg.Resolve(mustScope(t, "unit:LS-TP")); got != (tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: "LS-TP"}) {
		t.Errorf("unit:LS-TP resolves to %v", got)
	}
	if got := reg.Resolve(mustScope(t, "district:LS-TP")); got.String() != "district:LS-TP" {
		t.Errorf("district:LS-TP resolves to %v", got)
	}
	if n := len(reg.StationsIn(tiendo.ProvinceScope)); n != len(langson2021.Stations()) {
		t.Errorf("province has %d stations", n)
	}
	if reg.LevelOf(tiendo.ProvinceScope) != tiendo.LevelProvince || !reg.ListsStations(tiendo.ProvinceScope) {
		t.Error("a province campaign's top is not a province listing its stations")
	}
	if !tiendo.RoleDistrict.CanRead(reg, "LS-TP", reg.Resolve(mustScope(t, "station:LS-TP-CHILANG"))) ||
		tiendo.RoleDistrict.CanRead(reg, "LS-TP", tiendo.ProvinceScope) {
		t.Error("a district account reads differently than before")
	}
	if len(reg.Children(tiendo.ProvinceScope)) != 11 {
		t.Errorf("%d units under the province", len(reg.Children(tiendo.ProvinceScope)))
	}

	nat := nationRegistry()
	if reg := nat; reg.ListsStations(tiendo.ProvinceScope) || !reg.ListsStations(tiendo.Scope{Kind: tiendo.ScopeUnit, ID: "LS"}) {
		t.Error("the nation lists its stations, or a province does not")
	}
	if got := nat.Resolve(mustScope(t, "district:LS")); got.Kind != tiendo.ScopeUnit {
		t.Errorf("district:LS (a province) resolves to %v", got)
	}
	if nat.Known(mustScope(t, "unit:NOPE")) || !nat.Known(mustScope(t, "unit:HCM")) {
		t.Error("Known is wrong")
	}
}

// The nation ranks its provinces by pace state, then gap.
func TestRankUnits(t *testing.T) {
	p := func(s tiendo.PaceState, gap int64) *tiendo.Pace { return &tiendo.Pace{State: s, Gap: gap} }
	units := []tiendo.UnitState{
		{ID: "A", Pace: p(tiendo.PaceAhead, 900)}, {ID: "B", Pace: p(tiendo.PaceBehind, -10)},
		{ID: "C", Pace: p(tiendo.PaceBehind, -500)}, {ID: "D"}, {ID: "E", Pace: p(tiendo.PaceOnTrack, -3)},
		{ID: "F", Pace: p(tiendo.PaceDone, 0)}, {ID: "G", Pace: p(tiendo.PaceEnded, 0)},
	}
	tiendo.RankUnits(units)
	got := ""
	for _, u := range units {
		got += u.ID
	}
	if got != "GCBEAFD" {
		t.Errorf("ranked %s, want GCBEAFD", got)
	}
}

// A campaign file's tree is checked: each parent known and one level up,
// and a nation lists its units.
func TestCampaignUnitsAreChecked(t *testing.T) {
	base := langson2021.Campaign()
	for _, c := range []struct {
		name  string
		level tiendo.UnitLevel
		units []tiendo.Unit
	}{
		{"unknown parent", tiendo.LevelNation, []tiendo.Unit{{ID: "P", Name: "P", Level: tiendo.LevelProvince}, {ID: "D", Name: "D", Level: tiendo.LevelDistrict, Parent: "Q"}}},
		{"parent not above", tiendo.LevelNation, []tiendo.Unit{{ID: "P", Name: "P", Level: tiendo.LevelDistrict}, {ID: "D", Name: "D", Level: tiendo.LevelDistrict, Parent: "P"}}},
		{"level at the top's", tiendo.LevelProvince, []tiendo.Unit{{ID: "P", Name: "P", Level: tiendo.LevelProvince}}},
		{"repeated id", tiendo.LevelNation, []tiendo.Unit{{ID: "P", Name: "P", Level: tiendo.LevelProvince}, {ID: "P", Name: "P2", Level: tiendo.LevelProvince}}},
		{"no units", tiendo.LevelNation, nil},
		{"no districts", tiendo.LevelNation, []tiendo.Unit{{ID: "P", Name: "P", Level: tiendo.LevelProvince}}},
	} {
		err := base.WithUnits(c.level, c.units).Validate()
		e, ok := err.(*tiendo.Error)
		if !ok || len(e.Fields) != 1 || (e.Fields[0].Field != "units" && e.Fields[0].Field != "districts") {
			t.Errorf("%s: Validate = %v, want an error naming units or districts", c.name, err)
		}
	}
	ok := base.WithUnits(tiendo.LevelNation, []tiendo.Unit{{ID: "P", Name: "P", Level: tiendo.LevelProvince, Quota: 5},
		{ID: "D", Name: "D", Level: tiendo.LevelDistrict, Parent: "P", Quota: 5}})
	if err := ok.Validate(); err != nil || len(ok.Districts) != 1 || ok.Districts[0].ID != "D" {
		t.Errorf("a valid tree: %v, districts %+v", err, ok.Districts)
	}
}

func TestCheckStationUnits(t *testing.T) {
	c := vietnam2021.Campaign()
	good := tiendo.Station{ID: "S", District: "HN-H01", Unit: "HN-H01-X001"}
	for _, bad := range []tiendo.Station{
		{ID: "S", District: "HN-H02", Unit: "HN-H01-X001"}, // a commune of another district
		{ID: "S", District: "HN-H01", Unit: "HN-H01"},      // the district itself is no unit below it
		{ID: "S", District: "HN-H01", Unit: "NOPE"},
	} {
		err := c.CheckStationUnits([]tiendo.Station{good, bad})
		e, ok := err.(*tiendo.Error)
		if !ok || len(e.Fields) != 1 || e.Fields[0].Index != 1 || e.Fields[0].Field != "unit" {
			t.Errorf("%+v: %v, want row 1's unit named", bad, err)
		}
	}
	if err := c.CheckStationUnits([]tiendo.Station{good, {ID: "T", District: "HN-H01"}}); err != nil {
		t.Errorf("good stations: %v", err)
	}
}

// A national snapshot opens "behind" on a province whose pace is behind,
// and lists only the alerts about provinces, counting the others on the
// province they lie in; a province's snapshot lists its stations' alerts.
func TestNationAlertsAreAboutProvinces(t *testing.T) {
	reg := nationRegistry()
	c := reg.Campaign
	now := time.Date(2021, 5, 20, 12, 0, 0, 0, c.Location())
	var stats []tiendo.StationStats
	for _, st := range reg.StationsIn(mustScope(t, "unit:HN")) {
		stats = append(stats, tiendo.StationStats{Station: st.ID, Completed: 10, RecentRecords: 1})
	}
	for _, st := range reg.StationsIn(mustScope(t, "unit:LS")) {
		stats = append(stats, tiendo.StationStats{Station: st.ID, Completed: st.Quota, RecentRecords: st.Quota / 10})
	}
	nation := tiendo.BuildSnapshot(reg, tiendo.ProvinceScope, stats, c.ConfiguredProfile(), now)
	var behind, districts []string
	for _, a := range c.AlertConditions(nation, nil) {
		if a.Kind != tiendo.AlertBehind {
			continue
		}
		switch {
		case a.Unit != "" && a.District == "" && a.Station == "":
			behind = append(behind, a.Unit)
		case a.District != "" && a.Unit == "" && a.Station == "":
			districts = append(districts, a.District)
		default:
			t.Fatalf("a behind alert about neither a province nor a district: %+v", a)
		}
	}
	if !slices.Contains(behind, "HN") || slices.Contains(behind, "LS") {
		t.Fatalf("provinces behind: %v (want HN, not LS)", behind)
	}
	// The districts are judged as in a province's campaign: Hà Nội's
	// behind, none of Lạng Sơn's; and pages are not sent the 700 of them.
	if !slices.Contains(districts, "HN-H01") || slices.ContainsFunc(districts, func(id string) bool { return strings.HasPrefix(id, "LS-") }) {
		t.Fatalf("districts behind: %d, HN-H01 among them %v, any of LS %v", len(districts), slices.Contains(districts, "HN-H01"), districts)
	}
	if sent := nation.Sent(false); len(sent.Districts) != 0 || len(sent.Stations) != 0 || len(sent.Units) != 63 {
		t.Fatalf("the nation sent: %d districts, %d stations, %d units", len(sent.Districts), len(sent.Stations), len(sent.Units))
	}
	province := tiendo.Alert{ID: "behind~HN~1", Kind: tiendo.AlertBehind, Unit: "HN", Severity: tiendo.SeverityCritical}
	station := tiendo.Alert{ID: "silent~LS-BS-VULE~1", Kind: tiendo.AlertSilent, Station: "LS-BS-VULE", District: "LS-BS", Severity: tiendo.SeverityWarning}
	district := tiendo.Alert{ID: "behind~LS-BS~1", Kind: tiendo.AlertBehind, District: "LS-BS", Severity: tiendo.SeverityCritical}
	all := []tiendo.Alert{province, station, district}
	for _, a := range all {
		if !tiendo.AlertInScope(reg, tiendo.ProvinceScope, &a) {
			t.Errorf("the nation does not see %s", a.ID)
		}
	}
	if tiendo.AlertInScope(reg, mustScope(t, "unit:LS"), &province) || !tiendo.AlertInScope(reg, mustScope(t, "unit:HN"), &province) ||
		tiendo.AlertInScope(reg, mustScope(t, "district:HN-H01"), &province) {
		t.Error("a province's alert is seen outside the province, or not in it")
	}
	nation.SetAlerts(reg, all)
	if len(nation.Alerts) != 1 || nation.Alerts[0].ID != province.ID {
		t.Fatalf("the nation lists %v, want the province's alert only", nation.Alerts)
	}
	counts := map[string][2]int{}
	for _, u := range nation.Units {
		counts[u.ID] = [2]int{u.Alerts, u.AlertsCritical}
	}
	if counts["HN"] != [2]int{1, 1} || counts["LS"] != [2]int{2, 1} || counts["HCM"] != [2]int{0, 0} {
		t.Fatalf("alerts per province (open, critical): HN %v, LS %v, HCM %v", counts["HN"], counts["LS"], counts["HCM"])
	}
	ls := tiendo.BuildSnapshot(reg, mustScope(t, "unit:LS"), stats, c.ConfiguredProfile(), now)
	ls.SetAlerts(reg, []tiendo.Alert{station, district})
	if len(ls.Alerts) != 2 {
		t.Fatalf("Lạng Sơn lists %v, want its station's and district's", ls.Alerts)
	}
	for _, d := range ls.Districts {
		if want := map[bool]int{true: 2, false: 0}[d.ID == "LS-BS"]; d.Alerts != want {
			t.Errorf("district %s counts %d alerts, want %d", d.ID, d.Alerts, want)
		}
	}
}
