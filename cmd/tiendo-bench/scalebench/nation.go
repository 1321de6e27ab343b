package scalebench

import (
	"fmt"

	"tiendo"
	"tiendo/cmd/tiendo/langson2021"
)

// NationTarget is the national goal the generated nation plans for.
const NationTarget = 50_000_000

// NationRegistry is the registry of the generated data's shape, a nation
// campaign (the Lạng Sơn campaign's settings and dates with another tree):
// p.Provinces province units P<10+k>, each with p.Districts() districts
// P<10+k>-D<10+j>, and the stations placed exactly as completionsSQL and
// heartbeatsSQL place them. So the nation snapshot that the benchmark
// builds from either path is the one a server on this data would build.
func NationRegistry(p Params) *tiendo.Registry {
	base := langson2021.Campaign()
	var units []tiendo.Unit
	per := int64(NationTarget / p.Provinces)
	for k := 0; k < p.Provinces; k++ {
		units = append(units, tiendo.Unit{ID: provinceID(k), Name: fmt.Sprintf("Tỉnh %d (giả lập)", k), Level: tiendo.LevelProvince, Quota: per})
	}
	for k := 0; k < p.Provinces; k++ {
		for j := 0; j < p.Districts(); j++ {
			units = append(units, tiendo.Unit{ID: districtID(k, j), Name: fmt.Sprintf("Huyện %d-%d (giả lập)", k, j),
				Level: tiendo.LevelDistrict, Parent: provinceID(k), Quota: per / int64(p.Districts())})
		}
	}
	c := base.WithUnits(tiendo.LevelNation, units)
	c.ID, c.Target = "bench-nation", int64(per)*int64(p.Provinces)
	if err := c.Validate(); err != nil {
		panic("scalebench: nation campaign: " + err.Error())
	}
	stations := make([]tiendo.Station, 0, p.Stations)
	perStation := per * int64(p.Provinces) / int64(max(1, p.Stations))
	for s := 0; s < p.Stations; s++ {
		k, j := s%p.Provinces, (s/p.Provinces)%p.Districts()
		stations = append(stations, tiendo.Station{ID: stationID(p, s), Name: fmt.Sprintf("Trạm %d (giả lập)", s),
			District: districtID(k, j), Kind: tiendo.KindFixed, Lanes: 3, Quota: perStation, Synthetic: true})
	}
	return tiendo.NewRegistry(c, c.Districts, stations)
}

func provinceID(k int) string    { return fmt.Sprintf("P%d", 10+k) }
func districtID(k, j int) string { return fmt.Sprintf("P%d-D%d", 10+k, 10+j) }
func stationID(p Params, s int) string {
	return fmt.Sprintf("P%d-S%d", 10+s%p.Provinces, 10000+s)
}
