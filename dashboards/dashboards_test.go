package dashboards

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"tiendo"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the current output")

// mustCampaign loads the shipped Lạng Sơn campaign.
func mustCampaign(tb testing.TB) *tiendo.Campaign {
	tb.Helper()
	data, err := os.ReadFile("../cmd/tiendo/langson2021/campaign.json")
	if err != nil {
		tb.Fatal(err)
	}
	c, err := tiendo.ParseCampaign(data)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// mustRegistry loads the shipped campaign and its stations.
func mustRegistry(tb testing.TB) *tiendo.Registry {
	tb.Helper()
	c := mustCampaign(tb)
	f, err := os.Open("../cmd/tiendo/langson2021/stations.csv")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	st, err := tiendo.ParseStationsCSV(f, c.Districts)
	if err != nil {
		tb.Fatal(err)
	}
	return tiendo.NewRegistry(c, c.Districts, st)
}

// local is an instant on the campaign's wall clock.
func local(c *tiendo.Campaign, y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, c.Location())
}

// hourWeights is a station day's shape: a morning peak, an afternoon peak,
// and work tailing off past midnight (clock hour -> weight).
var hourWeights = map[int]int{7: 3, 8: 6, 9: 8, 10: 8, 11: 7, 12: 4, 13: 5, 14: 7, 15: 8, 16: 7,
	17: 5, 18: 4, 19: 5, 20: 5, 21: 4, 22: 3, 23: 2, 0: 1, 1: 1}

// fixture is the fixed input of the golden tests: the shipped campaign and
// stations, at 01:30 on 21 March 2021 (still the working day of 20 March),
// with about 80,000 records done — the figure the source gives for 20 March.
// The snapshot is the root package's BuildSnapshot of it, decision figures
// and all, with the hour profile measured from the fixture's own days.
type fixture struct {
	reg     *tiendo.Registry
	now     time.Time
	hours   []tiendo.HourCount
	stats   []tiendo.StationStats
	sh      []tiendo.HourCount
	profile tiendo.HourProfile
}

func dayTotal(k int) int64 { return 5200 + 420*int64(k) }

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	reg := mustRegistry(tb)
	c := reg.Campaign
	fx := &fixture{reg: reg, now: local(c, 2021, time.March, 21, 1, 30)}
	today := c.WorkingDay(fx.now)
	clocks := make([]int, 0, len(hourWeights))
	for h := range hourWeights {
		clocks = append(clocks, h)
	}
	sort.Ints(clocks)
	var total, todayTotal, recent int64
	_, _, recentDays := c.RecentWindow(today)
	for d := c.Start; d <= today; d++ {
		k := int(d - c.Start)
		n := dayTotal(k)
		w := map[int]int{}
		sum := 0
		for h, x := range hourWeights {
			// Odd days run later into the night.
			if k%2 == 1 && (h >= 22 || h < 4) {
				x *= 2
			}
			w[h] = x
			sum += x
		}
		var given int64
		y, m, dd := d.Date()
		for _, h := range clocks {
			r := n * int64(w[h]) / int64(sum)
			if h == 9 {
				continue
			}
			given += r
			t := local(c, y, m, dd, h, 0)
			if h < c.DayBoundaryHour {
				t = local(c, y, m, dd+1, h, 0)
			}
			fx.hours = append(fx.hours, tiendo.HourCount{Hour: t.UTC(), Records: r})
		}
		fx.hours = append(fx.hours, tiendo.HourCount{Hour: local(c, y, m, dd, 9, 0).UTC(), Records: n - given})
		total += n
		if d == today {
			todayTotal = n
		}
		if d < today && d >= today-tiendo.Day(recentDays) {
			recent += n
		}
	}
	sort.Slice(fx.hours, func(i, j int) bool { return fx.hours[i].Hour.Before(fx.hours[j].Hour) })

	stations := reg.Stations()
	weights := make([]int64, len(stations))
	var wsum int64
	for i := range stations {
		weights[i] = 1 + int64(i*37%11)
		wsum += weights[i]
	}
	var given, givenToday int64
	for i, s := range stations {
		st := tiendo.StationStats{Station: s.ID,
			Completed:      total * weights[i] / wsum,
			CompletedToday: todayTotal * weights[i] / wsum,
			RecentRecords:  recent * weights[i] / wsum,
			LastHour:       int64(s.Lanes * (6 + i%5)), // 6 minutes a record is 10 an hour per lane
			HasHeartbeat:   i%9 != 4,
			LastSeen:       fx.now.Add(-time.Duration(i%19) * time.Minute),
			Status:         tiendo.StatusOpen,
			Queue:          i * 7 % 25,
			Staff:          1 + i%4,
			Lanes:          s.Lanes,
		}
		if i%5 == 0 || i%7 == 0 {
			st.Queue = 0
		}
		switch {
		case i%23 == 0:
			st.Status, st.LastHour = tiendo.StatusClosed, 0
		case i%17 == 0:
			st.Status = tiendo.StatusPaused
		}
		// What the station served in the window: a station with a queue
		// served through it at 6–8 minutes a record and lane; one without
		// a queue either kept its lanes busy lately (its officers are not
		// idle) or served nobody (they are); a home-visit team made three
		// visits in 90 minutes.
		lanes := float64(max(1, s.Lanes))
		switch {
		case s.Kind == tiendo.KindHomeVisit:
			st.Served = tiendo.Served{ActiveMinutes: 90, ActiveRecords: 3}
		case st.Queue > 0:
			st.Served = tiendo.Served{BusyLaneMinutes: 90 * lanes, BusyRecords: int64(90 * lanes / float64(6+i%3))}
		case i%3 != 0:
			st.Served = tiendo.Served{IdleRecords: int64(2 * lanes)}
		}
		st.Retries = st.Completed * int64(3+i%10) / 10
		given += st.Completed
		givenToday += st.CompletedToday
		fx.stats = append(fx.stats, st)
	}
	fx.stats[0].Completed += total - given
	fx.stats[0].CompletedToday += todayTotal - givenToday
	fx.profile = c.ProfileOf(fx.hours, today)

	// Today per station: every twentieth station is still working after
	// midnight; the others stop by 22:00.
	y, m, dd := today.Date()
	for i, s := range stations {
		if i%4 != 0 {
			continue
		}
		fx.sh = append(fx.sh, tiendo.HourCount{Station: s.ID, Hour: local(c, y, m, dd, 21, 0).UTC(), Records: 5})
		if i%10 == 0 {
			fx.sh = append(fx.sh, tiendo.HourCount{Station: s.ID, Hour: local(c, y, m, dd+1, 0, 0).UTC(), Records: 3})
		}
		if i%20 == 0 {
			fx.sh = append(fx.sh, tiendo.HourCount{Station: s.ID, Hour: local(c, y, m, dd+1, 1, 0).UTC(), Records: 1})
		}
	}
	return fx
}

func (fx *fixture) input(scope tiendo.Scope, lang string, dark bool) Input {
	snap := tiendo.BuildSnapshot(fx.reg, scope, fx.stats, fx.profile, fx.now)
	in := Input{Campaign: fx.reg.Campaign, Snapshot: snap, Lang: lang, Dark: dark, StationHours: fx.sh}
	if scope.Kind == tiendo.ScopeProvince {
		in.Hours = fx.hours
	} else {
		// A district's hours: scale the province's by its share.
		share := float64(snap.Totals.Completed) / float64(fx.reg.Campaign.Target)
		for _, h := range fx.hours {
			in.Hours = append(in.Hours, tiendo.HourCount{Hour: h.Hour, Records: int64(float64(h.Records) * share * 7.7)})
		}
	}
	return in
}

func mustBuild(tb testing.TB, in Input) Charts {
	tb.Helper()
	out, err := Build(in)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// option is a decoded ECharts option.
type option map[string]any

func decode(tb testing.TB, raw json.RawMessage) option {
	tb.Helper()
	var o option
	if err := json.Unmarshal(raw, &o); err != nil {
		tb.Fatalf("option is not JSON: %v", err)
	}
	return o
}

func (o option) series(tb testing.TB, i int) map[string]any {
	tb.Helper()
	s, ok := o["series"].([]any)
	if !ok || i >= len(s) {
		tb.Fatalf("no series %d in %v", i, o["series"])
	}
	return s[i].(map[string]any)
}

// tooltipOf is the text a reader sees over a data item: its own tooltip,
// or the one its key names in the chart's tips (see tipBook).
func (o option) tooltipOf(tb testing.TB, it map[string]any) string {
	tb.Helper()
	if t, ok := it["tooltip"].(map[string]any); ok {
		return t["formatter"].(string)
	}
	key, ok := it["tip"].(string)
	if !ok {
		return ""
	}
	tips, _ := o["tips"].(map[string]any)
	text, ok := tips[key].(string)
	if !ok {
		tb.Fatalf("item %v names tip %q, which the chart's tips %v do not have", it, key, tips)
	}
	return text
}

func (o option) axis(tb testing.TB, key string, i int) map[string]any {
	tb.Helper()
	a, ok := o[key].([]any)
	if !ok || i >= len(a) {
		tb.Fatalf("no %s[%d]", key, i)
	}
	return a[i].(map[string]any)
}

// categories returns an axis's category labels (plain strings or {value}).
func (o option) categories(tb testing.TB, key string, i int) []string {
	tb.Helper()
	var out []string
	for _, x := range o.axis(tb, key, i)["data"].([]any) {
		switch v := x.(type) {
		case string:
			out = append(out, v)
		case map[string]any:
			out = append(out, v["value"].(string))
		}
	}
	return out
}

// values returns a series' values; a pair value [x, y] gives y.
func values(tb testing.TB, s map[string]any) []float64 {
	tb.Helper()
	var out []float64
	data, _ := s["data"].([]any)
	for _, d := range data {
		v := d.(map[string]any)["value"]
		switch x := v.(type) {
		case float64:
			out = append(out, x)
		case []any:
			out = append(out, x[len(x)-1].(float64))
		default:
			tb.Fatalf("unexpected value %#v", v)
		}
	}
	return out
}

func title(o option) (string, string) {
	t := o["title"].(map[string]any)
	text, _ := t["text"].(string)
	sub, _ := t["subtext"].(string)
	return text, sub
}

// TestGolden pins every chart's option, in both languages and on the dark
// screen. Run with -update after a deliberate change and review the diff.
func TestGolden(t *testing.T) {
	fx := newFixture(t)
	variants := []struct {
		suffix string
		lang   string
		dark   bool
	}{{"vi", "vi", false}, {"en", "en", false}, {"vi-dark", "vi", true}}
	for _, vr := range variants {
		out := mustBuild(t, fx.input(tiendo.ProvinceScope, vr.lang, vr.dark))
		want := []string{ChartProgress, ChartThroughput, ChartThroughputTrend, ChartQueue, ChartLateNight, ChartDistricts, ChartStationMap}
		if len(out) != len(want) {
			t.Errorf("%s: got %d charts, want %d", vr.suffix, len(out), len(want))
		}
		for _, name := range want {
			raw, ok := out[name]
			if !ok {
				t.Errorf("%s: chart %q missing", vr.suffix, name)
				continue
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, raw, "", "  "); err != nil {
				t.Fatalf("%s %s: %v", vr.suffix, name, err)
			}
			pretty.WriteByte('\n')
			path := filepath.Join("testdata", name+"."+vr.suffix+".golden.json")
			if *update {
				if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			golden, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./dashboards/ -update to create it)", err)
			}
			if !bytes.Equal(golden, pretty.Bytes()) {
				t.Errorf("%s differs from the golden file; run with -update if the change is intended", path)
			}
		}
	}
}

// TestOptionsComplete checks what setOption needs from every option: a
// series list, no go-echarts JavaScript-function markers (the browser
// evaluates nothing), and the same bytes on every build.
func TestOptionsComplete(t *testing.T) {
	fx := newFixture(t)
	for _, dark := range []bool{false, true} {
		in := fx.input(tiendo.ProvinceScope, "vi", dark)
		a, b := mustBuild(t, in), mustBuild(t, in)
		for name, raw := range a {
			if !bytes.Equal(raw, b[name]) {
				t.Errorf("%s: two builds of one input differ", name)
			}
			if strings.Contains(string(raw), "__f__") || strings.Contains(string(raw), "function") {
				t.Errorf("%s: option carries JavaScript", name)
			}
			o := decode(t, raw)
			if _, ok := o["series"].([]any); !ok {
				t.Errorf("%s: series is %v, want a list", name, o["series"])
			}
			for _, key := range []string{"title", "tooltip", "textStyle"} {
				if _, ok := o[key]; !ok {
					t.Errorf("%s: no %s", name, key)
				}
			}
			// The page draws the title as the panel's heading.
			if tt, _ := o["title"].(map[string]any); tt["show"] != false || tt["text"] == "" {
				t.Errorf("%s: title %v, want its text with show false", name, tt)
			}
		}
	}
}

func heatCell(tb testing.TB, o option, day, hour string) (float64, bool) {
	tb.Helper()
	days := o.categories(tb, "xAxis", 0)
	hours := o.categories(tb, "yAxis", 0)
	for _, d := range o.series(tb, 0)["data"].([]any) {
		v := d.(map[string]any)["value"].([]any)
		x, y := int(v[0].(float64)), int(v[1].(float64))
		if days[x] == day && hours[y] == hour {
			return v[2].(float64), true
		}
	}
	return 0, false
}

func TestLateNightPreviousDay(t *testing.T) {
	c := mustCampaign(t)
	now := local(c, 2021, time.March, 21, 2, 0)
	snap := &tiendo.Snapshot{Scope: tiendo.Scope{Kind: tiendo.ScopeStation, ID: "LS-BS-VULE"}, Now: now.UTC(), Day: c.WorkingDay(now),
		Totals: tiendo.Totals{Completed: 12, Target: 1000}}
	in := Input{Campaign: c, Snapshot: snap, Hours: []tiendo.HourCount{
		// A record stamped 01:30 (not hour-aligned, to be strict).
		{Hour: local(c, 2021, time.March, 21, 1, 30).UTC(), Records: 5},
		{Hour: local(c, 2021, time.March, 20, 1, 30).UTC(), Records: 7},
	}}
	o := decode(t, mustBuild(t, in)[ChartLateNight])
	if n, ok := heatCell(t, o, "20/3", "01:00"); !ok || n != 5 {
		t.Errorf("01:30 on 21/3: cell (20/3, 01:00) = %v, %v; want 5 in the previous working day's column", n, ok)
	}
	if n, ok := heatCell(t, o, "19/3", "01:00"); !ok || n != 7 {
		t.Errorf("01:30 on 20/3: cell (19/3, 01:00) = %v, %v; want 7", n, ok)
	}
	if _, ok := heatCell(t, o, "21/3", "01:00"); ok {
		t.Error("a cell for 21/3 exists; the working day of 21/3 has not begun at 02:00")
	}
	hours := o.categories(t, "yAxis", 0)
	if hours[0] != "07:00" || hours[len(hours)-1] != "03:00" {
		t.Errorf("hour rows run %s…%s, want 07:00…03:00", hours[0], hours[len(hours)-1])
	}
}

func TestLateNightShareAndStations(t *testing.T) {
	fx := newFixture(t)
	in := fx.input(tiendo.ProvinceScope, "vi", false)
	c := in.Campaign
	o := decode(t, mustBuild(t, in)[ChartLateNight])
	days := o.categories(t, "xAxis", 1)
	share := values(t, o.series(t, 1))
	if len(days) != LateNightDays && len(days) != int(in.Snapshot.Day-c.Start)+1 {
		t.Fatalf("%d day columns", len(days))
	}
	// Recompute today's share from the raw hours.
	var late, total int64
	for _, h := range in.Hours {
		if c.WorkingDay(h.Hour) != in.Snapshot.Day {
			continue
		}
		total += h.Records
		if c.IsLateNight(h.Hour) {
			late += h.Records
		}
	}
	want := math.Round(1000*float64(late)/float64(total)) / 10
	if got := share[len(share)-1]; got != want {
		t.Errorf("today's late share = %v, want %v", got, want)
	}
	after := map[string]bool{}
	for _, h := range in.StationHours {
		if h.Hour.In(c.Location()).Hour() < c.DayBoundaryHour {
			after[h.Station] = true
		}
	}
	_, sub := title(o)
	if w := fmt.Sprintf("%d điểm còn làm việc sau nửa đêm", len(after)); !strings.Contains(sub, w) || len(after) == 0 {
		t.Errorf("subtitle %q, want %q", sub, w)
	}
	if w := FormatPercent(want, "vi") + " hồ sơ sau 22:00"; !strings.Contains(sub, w) {
		t.Errorf("subtitle %q, want %q", sub, w)
	}
}

func TestThroughputSortedAndLimited(t *testing.T) {
	fx := newFixture(t)
	in := fx.input(tiendo.ProvinceScope, "en", false)
	o := decode(t, mustBuild(t, in)[ChartThroughput])
	per := values(t, o.series(t, 0))
	if len(per) != ProvinceLimit {
		t.Fatalf("province shows %d stations, want %d", len(per), ProvinceLimit)
	}
	var best int64
	for _, s := range in.Snapshot.Stations {
		best = max(best, s.PerHour)
	}
	if per[0] != float64(best) {
		t.Errorf("first bar %v, want the best station's %d", per[0], best)
	}
	for i := 1; i < len(per); i++ {
		if per[i] > per[i-1] {
			t.Fatalf("bars not descending at %d", i)
		}
	}
	in = fx.input(tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: "LS-HL"}, "en", false)
	o = decode(t, mustBuild(t, in)[ChartThroughput])
	if n := len(values(t, o.series(t, 0))); n != len(in.Snapshot.Stations) {
		t.Errorf("district shows %d stations, want all %d", n, len(in.Snapshot.Stations))
	}
}

func TestThroughputTrendStopsNow(t *testing.T) {
	fx := newFixture(t)
	in := fx.input(tiendo.ProvinceScope, "vi", false)
	o := decode(t, mustBuild(t, in)[ChartThroughputTrend])
	labels := o.categories(t, "xAxis", 0)
	today := values(t, o.series(t, 0))
	// Now is 01:30: today's line runs 07:00 … 01:00.
	if got := labels[len(today)-1]; got != "01:00" {
		t.Errorf("today's line ends at %s, want 01:00", got)
	}
	if len(values(t, o.series(t, 1))) != len(labels) {
		t.Error("yesterday's line should cover every hour")
	}
}

func TestDarkTheme(t *testing.T) {
	fx := newFixture(t)
	light, dark := themeFor(false), themeFor(true)
	out := mustBuild(t, fx.input(tiendo.ProvinceScope, "vi", true))
	for name, raw := range out {
		o := decode(t, raw)
		if o["darkMode"] != true {
			t.Errorf("%s: darkMode not set", name)
		}
		tt := o["title"].(map[string]any)
		if c := tt["textStyle"].(map[string]any)["color"]; c != dark.text {
			t.Errorf("%s: title colour %v, want %s", name, c, dark.text)
		}
		for _, c := range []string{light.text, light.subtext} {
			if strings.Contains(string(raw), c) {
				t.Errorf("%s: dark option uses the light theme's text colour %s", name, c)
			}
		}
	}
}

func TestBuildRejectsIncompleteInput(t *testing.T) {
	if _, err := Build(Input{}); err == nil {
		t.Error("Build without campaign succeeded")
	}
	if _, err := Build(Input{Campaign: mustCampaign(t)}); err == nil {
		t.Error("Build without snapshot succeeded")
	}
}

func TestEmptyScope(t *testing.T) {
	// A campaign's first minutes: no station, no hour, nothing done.
	c := mustCampaign(t)
	now := local(c, 2021, time.March, 10, 7, 5)
	pace := c.PaceOf(c.ConfiguredProfile(), c.Target, 0, tiendo.RecentRecords{}, now)
	snap := &tiendo.Snapshot{Scope: tiendo.ProvinceScope, Now: now.UTC(), Day: c.WorkingDay(now),
		Totals: tiendo.Totals{Target: c.Target}, Pace: &pace}
	out := mustBuild(t, Input{Campaign: c, Snapshot: snap})
	for name, raw := range out {
		o := decode(t, raw)
		if _, ok := o["series"].([]any); !ok {
			t.Errorf("%s: no series list", name)
		}
	}
	o := decode(t, out[ChartProgress])
	if _, sub := title(o); sub != "Mới bắt đầu · Còn quá sớm để dự báo · Cần: 5.448 hồ sơ/ngày · Hạn: 01/07/2021" {
		t.Errorf("first-day subtitle %q", sub)
	}
	if n := len(values(t, o.series(t, 2))); n != 0 {
		t.Errorf("first-day forecast has %d points, want none", n)
	}
}

// TestPhoneLayouts checks that the charts a phone cannot draw as they are
// carry their narrow layout, for charts at most PhoneWidth wide.
func TestPhoneLayouts(t *testing.T) {
	fx := newFixture(t)
	out := mustBuild(t, fx.input(tiendo.ProvinceScope, "vi", false))
	for _, name := range []string{ChartLateNight, ChartThroughput, ChartDistricts, ChartQueue} {
		o := decode(t, out[name])
		media, _ := o["media"].([]any)
		if len(media) < 1 {
			t.Fatalf("%s: media %v, want a phone rule first", name, o["media"])
		}
		m := media[0].(map[string]any)
		if q := m["query"].(map[string]any); q["maxWidth"] != float64(PhoneWidth) {
			t.Errorf("%s: query %v", name, q)
		}
		if _, ok := m["option"].(map[string]any); !ok {
			t.Errorf("%s: no phone option", name)
		}
	}
	// A queue chart too short for a line a row hides its numbers.
	{
		o := decode(t, out[ChartQueue])
		media := o["media"].([]any)
		rows := len(o.categories(t, "yAxis", 0))
		if len(media) != 2 {
			t.Fatalf("queue: %d media rules, want the phone's and the short chart's", len(media))
		}
		short := media[1].(map[string]any)
		if got := short["query"].(map[string]any)["maxHeight"]; got != float64(queueRowsFrom+queueRowHeight*rows) {
			t.Errorf("queue: short below %v px, want %d for %d rows", got, queueRowsFrom+queueRowHeight*rows, rows)
		}
		series := short["option"].(map[string]any)["series"].([]any)
		if len(series) != len(o["series"].([]any)) {
			t.Errorf("queue: the short rule hides %d series' labels of %d", len(series), len(o["series"].([]any)))
		}
		for i, x := range series {
			if x.(map[string]any)["label"].(map[string]any)["show"] != false {
				t.Errorf("queue: series %d keeps its labels on a short chart", i)
			}
		}
	}
	// On a phone the station axes drop the "Công an " every police unit's name starts with.
	for _, name := range []string{ChartThroughput, ChartQueue} {
		o := decode(t, out[name])
		long := o.categories(t, "yAxis", 0)
		y := o["media"].([]any)[0].(map[string]any)["option"].(map[string]any)["yAxis"].([]any)[0].(map[string]any)
		data := y["data"].([]any)
		if len(data) != len(long) {
			t.Fatalf("%s: %d short names for %d stations", name, len(data), len(long))
		}
		for i, d := range data {
			s, ok := d.(string)
			if !ok {
				s = d.(map[string]any)["value"].(string)
			}
			if s != phoneLabel(long[i]) {
				t.Errorf("%s: phone name %d is %q, want %q", name, i, s, phoneLabel(long[i]))
			}
		}
	}
}
