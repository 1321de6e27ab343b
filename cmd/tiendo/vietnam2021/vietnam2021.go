// Package vietnam2021 is the national campaign tiendo ships beside
// langson-2021: the chip-based citizen ID card (CCCD) enrolment of the
// whole country, 50,000,000 records by 1 July 2021 (the source's national
// goal), as a tree nation → 63 provinces → districts → communes, with
// stations under the communes and districts.
//
// What is real and what is not:
//   - the 63 provinces, their names and their population (provinces.csv,
//     which names its source: the 2019 census);
//   - Lạng Sơn is the langson-2021 campaign itself: its quota (621,000),
//     its 11 districts with their names and quotas, its stations;
//   - every other province's quota is its share by population of the
//     rest of the 50 million;
//   - the other provinces' districts and communes, their number, names,
//     places and stations are synthetic, marked "giả lập" and Synthetic:
//     the project ships no national gazetteer. Their counts follow
//     population and sum to about the country's 705 districts and 10,600
//     communes of 2021.
//
// The tree is built from those inputs by fixed rules, so the same binary
// always gives the same campaign, ids and quotas.
package vietnam2021

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"

	"tiendo"
	"tiendo/cmd/tiendo/langson2021"
)

//go:embed provinces.csv
var provincesCSV []byte

// Target is the national goal of the source: 50 million cards by July 2021.
const Target = 50_000_000

// The synthetic tree's sizes, the country's in 2021: 705 district-level
// units, about 10,600 commune-level ones.
const (
	nationDistricts = 705
	nationCommunes  = 10_600
)

// Province is one row of provinces.csv.
type Province struct {
	Code       string
	Name       string
	Population int64
	Lat, Lon   float64
}

// Provinces returns the 63 provinces in the file's order (north to south).
func Provinces() []Province {
	cr := csv.NewReader(bytes.NewReader(provincesCSV))
	cr.Comment = '#'
	rows, err := cr.ReadAll()
	if err != nil {
		panic("vietnam2021: provinces.csv: " + err.Error())
	}
	var out []Province
	for _, r := range rows[1:] {
		pop, err1 := strconv.ParseInt(r[2], 10, 64)
		lat, err2 := strconv.ParseFloat(r[3], 64)
		lon, err3 := strconv.ParseFloat(r[4], 64)
		if err1 != nil || err2 != nil || err3 != nil {
			panic("vietnam2021: provinces.csv: bad row " + fmt.Sprint(r))
		}
		out = append(out, Province{Code: r[0], Name: r[1], Population: pop, Lat: lat, Lon: lon})
	}
	return out
}

var (
	once     sync.Once
	campaign *tiendo.Campaign
	stations []tiendo.Station
)

// Campaign returns the national campaign, validated.
func Campaign() *tiendo.Campaign {
	once.Do(build)
	c := *campaign
	return &c
}

// Stations returns the national station registry.
func Stations() []tiendo.Station {
	once.Do(build)
	return slices.Clone(stations)
}

func build() {
	ls := langson2021.Campaign()
	c := ls.WithUnits(tiendo.LevelNation, nil)
	c.ID, c.Name, c.NameEN, c.Target = "vietnam-2021", "Cấp CCCD gắn chip — toàn quốc 2021", "Chip-based ID cards — Viet Nam 2021", Target

	provinces := Provinces()
	lsQuota := ls.Target
	var others []float64
	for _, p := range provinces {
		if p.Code != "LS" {
			others = append(others, float64(p.Population))
		}
	}
	quotas := Split(Target-lsQuota, others)
	// The synthetic districts and communes are shared out by population
	// among the provinces other than Lạng Sơn, whose own are real.
	lsUnits, lsStations := langSon(ls)
	var lsCommunes int64
	for _, u := range lsUnits {
		if u.Level == tiendo.LevelCommune {
			lsCommunes++
		}
	}
	districtCounts := Split(nationDistricts-int64(len(ls.Districts)), others)
	communeCounts := Split(nationCommunes-lsCommunes, others)
	var out []tiendo.Station
	k := 0
	for _, p := range provinces {
		if p.Code == "LS" {
			c.Units = append(c.Units, tiendo.Unit{ID: "LS", Name: p.Name, Level: tiendo.LevelProvince, Quota: lsQuota, Short: "LSN", Lat: p.Lat, Lon: p.Lon})
			c.Units = append(c.Units, lsUnits...)
			out = append(out, lsStations...)
			continue
		}
		c.Units = append(c.Units, tiendo.Unit{ID: p.Code, Name: p.Name, Level: tiendo.LevelProvince, Quota: quotas[k], Lat: p.Lat, Lon: p.Lon})
		units, sts := synthetic(p, quotas[k], int(max(3, districtCounts[k])), int(max(districtCounts[k], communeCounts[k])))
		c.Units = append(c.Units, units...)
		out = append(out, sts...)
		k++
	}
	if err := c.Validate(); err != nil {
		panic("vietnam2021: built campaign is invalid: " + err.Error())
	}
	campaign, stations = c, out
}

// langSon is Lạng Sơn as langson-2021 has it, its districts under the
// province LS, and a commune unit for each commune its stations name
// (quota: its stations'); mobile and home-visit teams, which name no
// commune, hang under their district.
func langSon(ls *tiendo.Campaign) ([]tiendo.Unit, []tiendo.Station) {
	var units []tiendo.Unit
	for _, d := range ls.Districts {
		units = append(units, tiendo.Unit{ID: d.ID, Name: d.Name, Level: tiendo.LevelDistrict, Parent: "LS", Quota: d.Quota})
	}
	sts := langson2021.Stations()
	communes := map[string]int{} // district|commune → index in units
	perDistrict := map[string]int{}
	for i := range sts {
		st := &sts[i]
		if st.Commune == "" {
			continue
		}
		key := st.District + "|" + st.Commune
		at, ok := communes[key]
		if !ok {
			perDistrict[st.District]++
			units = append(units, tiendo.Unit{ID: fmt.Sprintf("%s-X%02d", st.District, perDistrict[st.District]),
				Name: st.Commune, Level: tiendo.LevelCommune, Parent: st.District, Synthetic: st.Synthetic})
			at = len(units) - 1
			communes[key] = at
		}
		units[at].Quota += st.Quota
		st.Unit = units[at].ID
	}
	return units, sts
}

// The shares of a synthetic district's quota, as in Lạng Sơn: its two
// mobile teams about a tenth, its home-visit team 4 %, its communes'
// fixed posts the rest.
const (
	mobileShare    = 0.05
	homeVisitShare = 0.04
)

// synthetic makes province p's districts, communes and stations, marked
// "giả lập": nd districts, nc communes shared among them, one fixed post
// per commune, two mobile teams and a home-visit team per district, each
// place a little way from the province's capital.
func synthetic(p Province, quota int64, nd, nc int) ([]tiendo.Unit, []tiendo.Station) {
	var units []tiendo.Unit
	var sts []tiendo.Station
	dw := make([]float64, nd)
	for i := range dw {
		dw[i] = 0.6 + 0.8*unitHash(p.Code, i, 0)
	}
	dq := Split(quota, dw)
	cn := Split(int64(nc), dw)
	for i := range nd {
		did := fmt.Sprintf("%s-H%02d", p.Code, i+1)
		dname := fmt.Sprintf("Huyện %02d, %s", i+1, p.Name) + tiendo.SyntheticMark
		units = append(units, tiendo.Unit{ID: did, Name: dname, Level: tiendo.LevelDistrict, Parent: p.Code, Quota: dq[i], Synthetic: true})
		// The district's centre lies within about 35 km of the capital.
		ang := 2 * math.Pi * unitHash(p.Code, i, 1)
		r := 0.32 * math.Sqrt(unitHash(p.Code, i, 2))
		dlat, dlon := p.Lat+r*math.Sin(ang), p.Lon+r*math.Cos(ang)
		teams := Split(dq[i], []float64{1 - 2*mobileShare - homeVisitShare, mobileShare, mobileShare, homeVisitShare})
		ncom := int(max(1, cn[i]))
		cw := make([]float64, ncom)
		for j := range cw {
			cw[j] = 0.5 + unitHash(did, j, 3)
		}
		cq := Split(teams[0], cw)
		for j := range ncom {
			cid := fmt.Sprintf("%s-X%03d", did, j+1)
			cname := fmt.Sprintf("Xã %03d", j+1) + tiendo.SyntheticMark
			units = append(units, tiendo.Unit{ID: cid, Name: cname, Level: tiendo.LevelCommune, Parent: did, Quota: cq[j], Synthetic: true})
			a := 2 * math.Pi * unitHash(cid, j, 4)
			rr := 0.09 * math.Sqrt(unitHash(cid, j, 5))
			lanes := 1
			switch h := unitHash(cid, j, 6); {
			case h > 0.97:
				lanes = 4
			case h > 0.92:
				lanes = 3
			case h > 0.37:
				lanes = 2
			}
			sts = append(sts, tiendo.Station{ID: cid + "-CA", Name: "Công an " + cname, District: did, Unit: cid,
				Commune: cname, Kind: tiendo.KindFixed, Lanes: lanes, Lat: round5(dlat + rr*math.Sin(a)), Lon: round5(dlon + rr*math.Cos(a)),
				Quota: cq[j], Synthetic: true})
		}
		for t, team := range []struct {
			id, name string
			kind     tiendo.StationKind
			lanes    int
		}{{"LD1", "Tổ lưu động 1", tiendo.KindMobile, 2}, {"LD2", "Tổ lưu động 2", tiendo.KindMobile, 2}, {"TN1", "Tổ cấp tại nhà", tiendo.KindHomeVisit, 1}} {
			sts = append(sts, tiendo.Station{ID: did + "-" + team.id, Name: team.name + " — " + dname, District: did,
				Kind: team.kind, Lanes: team.lanes, Lat: round5(dlat + 0.01*float64(t)), Lon: round5(dlon - 0.01*float64(t)),
				Quota: teams[1+t], Synthetic: true})
		}
	}
	return units, sts
}

// Split shares total out in proportion to weights, in whole records that
// sum to total exactly (largest remainders, ties to the first).
func Split(total int64, weights []float64) []int64 {
	out := make([]int64, len(weights))
	var sum float64
	for _, w := range weights {
		sum += w
	}
	if sum <= 0 || total <= 0 {
		return out
	}
	type rem struct {
		i int
		r float64
	}
	rems := make([]rem, len(weights))
	var given int64
	for i, w := range weights {
		exact := float64(total) * w / sum
		out[i] = int64(math.Floor(exact))
		given += out[i]
		rems[i] = rem{i, exact - float64(out[i])}
	}
	slices.SortStableFunc(rems, func(a, b rem) int {
		switch {
		case a.r > b.r:
			return -1
		case a.r < b.r:
			return 1
		}
		return 0
	})
	for j := 0; given < total; j++ {
		out[rems[j%len(rems)].i]++
		given++
	}
	return out
}

// unitHash is a fixed pseudo-random number in [0, 1) for (id, i, salt):
// the synthetic tree's sizes and places, the same on every build.
func unitHash(id string, i, salt int) float64 {
	h := uint64(14695981039346656037)
	for _, b := range []byte(id) {
		h = (h ^ uint64(b)) * 1099511628211
	}
	h ^= uint64(i)*0x9E3779B97F4A7C15 + uint64(salt)*0xBF58476D1CE4E5B9
	h ^= h >> 31
	h *= 0x94D049BB133111EB
	h ^= h >> 29
	return float64(h>>11) / float64(1<<53)
}

func round5(x float64) float64 { return math.Round(x*1e5) / 1e5 }
