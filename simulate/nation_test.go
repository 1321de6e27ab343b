package simulate_test

import (
	"testing"

	"tiendo"
	"tiendo/cmd/tiendo/langson2021"
	"tiendo/cmd/tiendo/vietnam2021"
	"tiendo/simulate"
)

// In the national model Lạng Sơn's stations work the days they work in
// the province model: same records, heartbeats, opening and closing, so
// the province keeps its figures inside the nation; and the nation's
// expected total is its target, about 50 million by 1 July.
func TestLangSonKeepsItsDaysInTheNation(t *testing.T) {
	p := simulate.DefaultParams()
	ls, err := simulate.NewModel(langson2021.Campaign(), langson2021.Stations(), 1, p)
	if err != nil {
		t.Fatal(err)
	}
	vn, err := simulate.NewModel(vietnam2021.Campaign(), vietnam2021.Stations(), 1, p)
	if err != nil {
		t.Fatal(err)
	}
	at := map[string]int{}
	for i, s := range vn.Stations() {
		at[s.ID] = i
	}
	c := ls.Campaign()
	var lsTotal, vnTotal, same, days int
	for i, s := range ls.Stations() {
		j, ok := at[s.ID]
		if !ok {
			t.Fatalf("station %s of langson-2021 is not in vietnam-2021", s.ID)
		}
		for d := c.Start; d < c.Deadline; d += 9 {
			a, b := ls.Stats(i, d), vn.Stats(j, d)
			lsTotal += a.Records
			vnTotal += b.Records
			days++
			if a.Records == b.Records && a.Heartbeats == b.Heartbeats && a.Open.Equal(b.Open) && a.Close.Equal(b.Close) {
				same++
			}
		}
	}
	if lsTotal == 0 || lsTotal != vnTotal || same < days*99/100 {
		t.Fatalf("Lạng Sơn's sampled station-days: %d records alone, %d in the nation; %d of %d days the same", lsTotal, vnTotal, same, days)
	}
	var expected float64
	vc := vn.Campaign()
	for d := vc.Start; d < vc.Deadline; d++ {
		expected += vn.Expected(d)
	}
	if expected < 0.95*vietnam2021.Target || expected > 1.1*vietnam2021.Target {
		t.Fatalf("the nation's expected records by the deadline: %.0f, want about %d", expected, vietnam2021.Target)
	}
	// A synthetic province gets its quota's share, not its stations' share.
	reg := tiendo.NewRegistry(vc, vc.Districts, vn.Stations())
	quota := map[string]int64{}
	for _, u := range reg.Children(tiendo.ProvinceScope) {
		quota[u.ID] = u.Quota
	}
	got := map[string]int{}
	for j, s := range vn.Stations() {
		if d := reg.Unit(s.District); d != nil && (d.Parent == "HN" || d.Parent == "LS") {
			got[d.Parent] += vn.Stats(j, vc.Start+20).Records
		}
	}
	if len(got) != 2 {
		t.Fatalf("provinces sampled: %v", got)
	}
	ratio := float64(got["HN"]) / float64(got["LS"])
	want := float64(quota["HN"]) / float64(quota["LS"])
	if ratio < 0.8*want || ratio > 1.25*want {
		t.Fatalf("Hà Nội/Lạng Sơn records on a day: %.2f, their quotas %.2f", ratio, want)
	}
}
