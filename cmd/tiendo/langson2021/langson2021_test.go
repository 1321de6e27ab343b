package langson2021

import (
	"testing"

	"tiendo"
)

func TestShippedCampaignMatchesTheSource(t *testing.T) {
	c := Campaign()
	if c.Target != 621000 || c.Start.String() != "2021-03-10" || c.Deadline.String() != "2021-07-01" || c.TimeZone != "Asia/Ho_Chi_Minh" {
		t.Errorf("campaign = %+v", c)
	}
	if len(c.Districts) != 11 {
		t.Errorf("%d districts, want 11", len(c.Districts))
	}
	var districtSum int64
	for _, d := range c.Districts {
		districtSum += d.Quota
	}
	stations := Stations()
	var stationSum int64
	fixed := 0
	for _, s := range stations {
		stationSum += s.Quota
		if s.Kind == tiendo.KindFixed {
			fixed++
		}
	}
	if districtSum != c.Target || stationSum != c.Target {
		t.Errorf("district quotas sum to %d, station quotas to %d; want both %d", districtSum, stationSum, c.Target)
	}
	if fixed < 190 || fixed > 215 {
		t.Errorf("%d fixed stations, want about 200 communes", fixed)
	}
	reg := tiendo.NewRegistry(c, c.Districts, stations)
	if reg.Station("LS-BS-VULE") == nil {
		t.Error("Vũ Lễ (Bắc Sơn), named in the source, is missing")
	}
	hl, dl := reg.District("LS-HL"), reg.District("LS-DL")
	for _, d := range c.Districts {
		if d.Quota > hl.Quota || d.Quota < dl.Quota {
			t.Errorf("district %s quota %d: Hữu Lũng should be largest and Đình Lập smallest", d.ID, d.Quota)
		}
	}
}
