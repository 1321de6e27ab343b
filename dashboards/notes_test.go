package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tiendo"
)

// fixtureNotes are the golden fixture's notes (its now is 01:30 on 21
// March, the working day of 20 March): today a meeting before the rush,
// a mobile team's afternoon and a night that ran past midnight, and one
// before opening; yesterday a power cut whose text is markup and braces;
// a team planned for 25 March.
func fixtureNotes(c *tiendo.Campaign) []tiendo.Note {
	at := local(c, 2021, time.March, 18, 9, 0)
	n := func(district, station string, from, to time.Time, text string) tiendo.Note {
		return tiendo.Note{ID: text[:4], District: district, Station: station, From: from.UTC(), To: to.UTC(), Text: text, By: "user:lan", At: at}
	}
	return []tiendo.Note{
		n("LS-BS", "LS-BS-VULE", local(c, 2021, time.March, 20, 14, 0), local(c, 2021, time.March, 20, 17, 0), "Đội lưu động tại THPT Bắc Sơn"),
		n("LS-TP", "", local(c, 2021, time.March, 19, 8, 0), local(c, 2021, time.March, 19, 11, 30), "Mất điện <b>cả phường</b> {a}"),
		n("LS-TP", "", local(c, 2021, time.March, 25, 7, 0), local(c, 2021, time.March, 25, 17, 0), "Tổ cấp CCCD tại KCN Đồng Bành"),
		n("LS-TP", "", local(c, 2021, time.March, 20, 7, 0), local(c, 2021, time.March, 20, 7, 30), "Họp giao ban"),
		n("LS-BS", "LS-BS-VULE", local(c, 2021, time.March, 20, 23, 30), local(c, 2021, time.March, 21, 1, 30), "Làm thêm đến 1 giờ 30"),
		n("LS-BS", "", local(c, 2021, time.March, 20, 4, 0), local(c, 2021, time.March, 20, 5, 0), "Sớm trước giờ mở cửa"),
	}
}

// TestGoldenNotes pins the two charts that draw notes, with the
// fixture's notes, in both languages and on the dark screen. Run with
// -update after a deliberate change and review the diff.
func TestGoldenNotes(t *testing.T) {
	fx := newFixture(t)
	for _, vr := range []struct {
		suffix, lang string
		dark         bool
	}{{"vi", "vi", false}, {"en", "en", false}, {"vi-dark", "vi", true}} {
		in := fx.input(tiendo.ProvinceScope, vr.lang, vr.dark)
		in.Notes = fixtureNotes(in.Campaign)
		out := mustBuild(t, in)
		for _, name := range []string{ChartProgress, ChartThroughputTrend} {
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, out[name], "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			path := filepath.Join("testdata", name+".notes."+vr.suffix+".golden.json")
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

// seriesNamed finds a series by name.
func (o option) seriesNamed(tb testing.TB, name string) map[string]any {
	tb.Helper()
	for _, s := range o["series"].([]any) {
		if m := s.(map[string]any); m["name"] == name {
			return m
		}
	}
	tb.Fatalf("no series %q", name)
	return nil
}

func tooltipOf(d any) string {
	t, _ := d.(map[string]any)["tooltip"].(map[string]any)
	f, _ := t["formatter"].(string)
	return f
}

// A pin stands on each day notes start on: on the records-done line for
// a day gone by, on the plan for one ahead; its tooltip lists the day's
// notes by start time, escaped, braces and all.
func TestProgressNotePins(t *testing.T) {
	fx := newFixture(t)
	in := fx.input(tiendo.ProvinceScope, "vi", false)
	in.Notes = fixtureNotes(in.Campaign)
	o := decode(t, mustBuild(t, in)[ChartProgress])
	labels := o.categories(t, "xAxis", 0)
	done, plan := values(t, o.series(t, 0)), values(t, o.series(t, 1))
	pins := o.seriesNamed(t, "Ghi chú")
	if pins["type"] != "scatter" || pins["symbol"] != "pin" {
		t.Fatalf("pins series: %v", pins)
	}
	data := pins["data"].([]any)
	var days []string
	for _, d := range data {
		v := d.(map[string]any)["value"].([]any)
		i, y := int(v[0].(float64)), v[1].(float64)
		days = append(days, labels[i])
		want := plan[i]
		if i < len(done) {
			want = done[i]
		}
		if y != want {
			t.Errorf("pin of %s at %v, want %v", labels[i], y, want)
		}
	}
	if strings.Join(days, " ") != "19/3 20/3 25/3" {
		t.Fatalf("pins on %v, want 19/3 20/3 25/3", days)
	}
	today := tooltipOf(data[1])
	order := []string{"Ghi chú · 20/3", "04:00–05:00 · Bắc Sơn: Sớm", "07:00–07:30 · TP Lạng Sơn: Họp giao ban",
		"14:00–17:00 · Công an Xã Vũ Lễ: Đội lưu động", "23:30–01:30 · Công an Xã Vũ Lễ: Làm thêm"}
	at := -1
	for _, s := range order {
		i := strings.Index(today, s)
		if i <= at {
			t.Fatalf("20/3's tooltip lacks %q after the line before:\n%s", s, today)
		}
		at = i
	}
	cut := tooltipOf(data[0])
	if !strings.Contains(cut, "Mất điện &lt;b&gt;cả phường&lt;/b&gt; &#123;a&#125;") || strings.Contains(cut, "<b>") || strings.Contains(cut, "{a}") {
		t.Errorf("19/3's tooltip is not escaped: %s", cut)
	}

	// More notes on a day than a tooltip lists: the rest are counted.
	var many []tiendo.Note
	for k := 0; k < maxNotesPerTip+3; k++ {
		from := local(in.Campaign, 2021, time.March, 18, 8+k, 0)
		many = append(many, tiendo.Note{District: "LS-TP", From: from, To: from.Add(time.Hour), Text: fmt.Sprintf("ghi chú %d", k)})
	}
	in.Notes = many
	o = decode(t, mustBuild(t, in)[ChartProgress])
	tipText := tooltipOf(o.seriesNamed(t, "Ghi chú")["data"].([]any)[0])
	if !strings.Contains(tipText, "ghi chú 5") || strings.Contains(tipText, "ghi chú 6") || !strings.Contains(tipText, "và 3 ghi chú khác") {
		t.Errorf("a crowded day's tooltip: %s", tipText)
	}
	in.Notes = nil
	if s := decode(t, mustBuild(t, in)[ChartProgress])["series"].([]any); len(s) != 3 {
		t.Errorf("without notes the chart has %d series, want 3 (no empty pins)", len(s))
	}
}

// areas returns a series' mark areas as [from, to] hour labels, with the
// first end's tooltip.
func areas(tb testing.TB, s map[string]any) (spans [][2]string, tips []string) {
	tb.Helper()
	ma, _ := s["markArea"].(map[string]any)
	data, _ := ma["data"].([]any)
	for _, d := range data {
		pair := d.([]any)
		a, b := pair[0].(map[string]any), pair[1].(map[string]any)
		spans = append(spans, [2]string{a["xAxis"].(string), b["xAxis"].(string)})
		tips = append(tips, tooltipOf(a))
	}
	return spans, tips
}

// The hourly chart shades each note's hours on its day's line, rounded
// out to the hour labels, cut at the axis's first hour.
func TestThroughputTrendNoteAreas(t *testing.T) {
	fx := newFixture(t)
	in := fx.input(tiendo.ProvinceScope, "en", false)
	in.Notes = fixtureNotes(in.Campaign)
	o := decode(t, mustBuild(t, in)[ChartThroughputTrend])
	spans, tips := areas(t, o.series(t, 0))
	want := [][2]string{{"07:00", "08:00"}, {"14:00", "17:00"}, {"23:00", "02:00"}}
	if fmt.Sprint(spans) != fmt.Sprint(want) {
		t.Fatalf("today's areas %v, want %v (the 04:00 note lies before the axis)", spans, want)
	}
	if !strings.HasPrefix(tips[1], "Notes · 20 Mar<br/>14:00–17:00 · Công an Xã Vũ Lễ: Đội lưu động") {
		t.Errorf("tooltip %q", tips[1])
	}
	spans, tips = areas(t, o.series(t, 1))
	if fmt.Sprint(spans) != "[[08:00 12:00]]" || !strings.Contains(tips[0], "&lt;b&gt;") {
		t.Fatalf("yesterday's areas %v, tooltips %q", spans, tips)
	}
	labels := o.categories(t, "xAxis", 0)
	for _, sp := range append(want, [2]string{"08:00", "12:00"}) {
		if !strings.Contains(strings.Join(labels, " "), sp[0]) || !strings.Contains(strings.Join(labels, " "), sp[1]) {
			t.Errorf("area %v names an hour the axis lacks (%v)", sp, labels)
		}
	}
}

// A note names where it is, except when that is the chart's own scope.
func TestNotesNameWhereUnlessTheScope(t *testing.T) {
	fx := newFixture(t)
	c := fx.reg.Campaign
	for _, tt := range []struct {
		scope tiendo.Scope
		want  string
	}{
		{tiendo.Scope{Kind: tiendo.ScopeStation, ID: "LS-BS-VULE"}, "14:00–17:00: Đội lưu động"},
		{tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: "LS-BS"}, "14:00–17:00 · Công an Xã Vũ Lễ: Đội lưu động"},
	} {
		in := fx.input(tt.scope, "vi", false)
		in.Notes = fixtureNotes(c)[:1]
		_, tips := areas(t, decode(t, mustBuild(t, in)[ChartThroughputTrend]).series(t, 0))
		if len(tips) != 1 || !strings.Contains(tips[0], tt.want) {
			t.Errorf("%s: tooltips %q, want %q", tt.scope, tips, tt.want)
		}
	}
	in := fx.input(tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: "LS-TP"}, "vi", false)
	in.Notes = fixtureNotes(c)[3:4]
	_, tips := areas(t, decode(t, mustBuild(t, in)[ChartThroughputTrend]).series(t, 0))
	if len(tips) != 1 || !strings.Contains(tips[0], "07:00–07:30: Họp giao ban") {
		t.Errorf("the district's own note: %q", tips)
	}
}

// A note over several days names its dates, and shades each day's line
// for the part of it that day holds.
func TestNoteOverDays(t *testing.T) {
	fx := newFixture(t)
	in := fx.input(tiendo.ProvinceScope, "vi", false)
	c := in.Campaign
	in.Notes = []tiendo.Note{{District: "LS-TP", From: local(c, 2021, time.March, 19, 14, 0), To: local(c, 2021, time.March, 20, 17, 0), Text: "Hai ngày"}}
	out := mustBuild(t, in)
	pin := tooltipOf(decode(t, out[ChartProgress]).seriesNamed(t, "Ghi chú")["data"].([]any)[0])
	if !strings.Contains(pin, "Ghi chú · 19/3<br/>19/3 14:00 – 20/3 17:00 · TP Lạng Sơn: Hai ngày") {
		t.Errorf("pin %q", pin)
	}
	o := decode(t, out[ChartThroughputTrend])
	today, _ := areas(t, o.series(t, 0))
	yesterday, _ := areas(t, o.series(t, 1))
	if fmt.Sprint(today) != "[[07:00 17:00]]" || fmt.Sprint(yesterday) != "[[14:00 03:00]]" {
		t.Errorf("today's areas %v, yesterday's %v; want 07:00–17:00 and 14:00 to the axis's end", today, yesterday)
	}
}
