package vietnam2021

import (
	"strings"
	"testing"

	"tiendo"
	"tiendo/cmd/tiendo/langson2021"
)

func TestProvincesAreTheCensus(t *testing.T) {
	ps := Provinces()
	if len(ps) != 63 {
		t.Fatalf("%d provinces, want 63", len(ps))
	}
	var pop int64
	seen := map[string]bool{}
	for _, p := range ps {
		pop += p.Population
		if seen[p.Code] || !tiendo.ValidStationID(p.Code) {
			t.Errorf("province code %q repeated or invalid", p.Code)
		}
		seen[p.Code] = true
		if p.Lat < 8.5 || p.Lat > 23.4 || p.Lon < 102 || p.Lon > 109.5 {
			t.Errorf("%s at %.2f,%.2f is outside Viet Nam", p.Name, p.Lat, p.Lon)
		}
	}
	// The 2019 census' national total: a figure mistyped in the file shows here.
	if pop != 96_208_984 {
		t.Errorf("population sums to %d, want the census' 96,208,984", pop)
	}
}

func TestTheNationalTree(t *testing.T) {
	c := Campaign()
	sts := Stations()
	reg := tiendo.NewRegistry(c, c.Districts, sts)
	if c.ID != "vietnam-2021" || c.Target != 50_000_000 || c.TopLevel() != tiendo.LevelNation {
		t.Fatalf("campaign %s target %d level %s", c.ID, c.Target, c.TopLevel())
	}
	count := map[tiendo.UnitLevel]int{}
	children := map[string]int64{} // quota of each unit's children
	for _, u := range c.Units {
		count[u.Level]++
		children[u.Parent] += u.Quota
		if u.Level != tiendo.LevelProvince && u.Parent[:2] != "LS" && (!u.Synthetic || !strings.Contains(u.Name, "giả lập")) {
			t.Errorf("unit %s %q is synthetic but not marked so", u.ID, u.Name)
		}
	}
	if count[tiendo.LevelProvince] != 63 || count[tiendo.LevelDistrict] < 690 || count[tiendo.LevelDistrict] > 720 ||
		count[tiendo.LevelCommune] < 10_400 || count[tiendo.LevelCommune] > 10_800 {
		t.Errorf("levels: %v, want 63 provinces, about 705 districts and 10,600 communes", count)
	}
	if children[""] != c.Target {
		t.Errorf("province quotas sum to %d, want %d", children[""], c.Target)
	}
	for _, u := range c.Units {
		if kids, ok := children[u.ID]; ok && kids != u.Quota && u.Level == tiendo.LevelProvince {
			t.Errorf("province %s: districts sum to %d, quota %d", u.ID, kids, u.Quota)
		}
		var stations int64
		for _, st := range reg.StationsIn(tiendo.Scope{Kind: tiendo.ScopeUnit, ID: u.ID}) {
			stations += st.Quota
		}
		if stations != u.Quota {
			t.Fatalf("unit %s: stations' quotas sum to %d, quota %d", u.ID, stations, u.Quota)
		}
	}
	if ls := reg.Unit("LS"); ls == nil || ls.Quota != 621_000 {
		t.Errorf("Lạng Sơn = %+v, want the langson-2021 target 621,000", ls)
	}
	if hcm, bk := reg.Unit("HCM"), reg.Unit("BK"); hcm.Quota < 20*bk.Quota {
		t.Errorf("TP HCM %d, Bắc Kạn %d: quotas should follow population", hcm.Quota, bk.Quota)
	}
	if err := c.CheckStationUnits(sts); err != nil {
		t.Errorf("stations' units: %v", err)
	}
	if len(sts) < 12_000 || len(sts) > 13_500 {
		t.Errorf("%d stations", len(sts))
	}
	if problems := 0; true {
		districts := map[string]tiendo.District{}
		for _, d := range c.Districts {
			districts[d.ID] = d
		}
		for _, st := range sts {
			if fe := st.Validate(districts); len(fe) > 0 && problems < 5 {
				problems++
				t.Errorf("station %s: %v", st.ID, fe)
			}
		}
	}
}

// Lạng Sơn inside the nation is the langson-2021 campaign: its districts,
// quotas and stations.
func TestLangSonIsTheProvinceCampaign(t *testing.T) {
	nat := Campaign()
	reg := tiendo.NewRegistry(nat, nat.Districts, Stations())
	ls := langson2021.Campaign()
	lsReg := tiendo.NewRegistry(ls, ls.Districts, langson2021.Stations())
	var got []tiendo.District
	for _, u := range reg.Children(tiendo.Scope{Kind: tiendo.ScopeUnit, ID: "LS"}) {
		got = append(got, tiendo.District{ID: u.ID, Name: u.Name, Quota: u.Quota})
	}
	if len(got) != len(ls.Districts) {
		t.Fatalf("LS has %d districts, langson-2021 %d", len(got), len(ls.Districts))
	}
	for i := range got {
		if got[i] != ls.Districts[i] {
			t.Errorf("district %d: %+v, want %+v", i, got[i], ls.Districts[i])
		}
	}
	in := reg.StationsIn(tiendo.Scope{Kind: tiendo.ScopeUnit, ID: "LS"})
	want := lsReg.StationsIn(tiendo.ProvinceScope)
	if len(in) != len(want) {
		t.Fatalf("LS has %d stations, langson-2021 %d", len(in), len(want))
	}
	for i := range in {
		a, b := *in[i], *want[i]
		a.Unit = ""
		if a != b {
			t.Errorf("station %d: %+v, want %+v", i, a, b)
		}
	}
}
