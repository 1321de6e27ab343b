package dashboards

import (
	"strings"
	"testing"
	"time"

	"tiendo"
)

func TestProgressCumulative(t *testing.T) {
	fx := newFixture(t)
	in := fx.input(tiendo.ProvinceScope, "vi", false)
	c := in.Campaign
	o := decode(t, mustBuild(t, in)[ChartProgress])
	done := values(t, o.series(t, 0))
	if want := int(in.Snapshot.Day-c.Start) + 1; len(done) != want {
		t.Fatalf("cumulative has %d points, want one per working day so far (%d)", len(done), want)
	}
	for i := 1; i < len(done); i++ {
		if done[i] < done[i-1] {
			t.Fatalf("cumulative decreases at day %d: %v -> %v", i, done[i-1], done[i])
		}
	}
	if got, want := done[len(done)-1], float64(in.Snapshot.Totals.Completed); got != want {
		t.Errorf("cumulative ends at %v, want the snapshot total %v", got, want)
	}
	// The fixture's hours run to 01:00 of 21 March: that late work belongs
	// to 20 March, so 20 March's point is the full total and no 21 March
	// point exists.
	labels := o.categories(t, "xAxis", 0)
	if labels[len(done)-1] != "20/3" {
		t.Errorf("last point is %q, want 20/3", labels[len(done)-1])
	}
}

// TestProgressPlanLine checks that the plan line is the Pace's plan: at the
// end of every working day, through the deadline day, it equals the
// ExpectedToDate a Pace computes at that instant, whatever the hour profile.
func TestProgressPlanLine(t *testing.T) {
	fx := newFixture(t)
	in := fx.input(tiendo.ProvinceScope, "vi", false)
	c := in.Campaign
	o := decode(t, mustBuild(t, in)[ChartProgress])
	plan := values(t, o.series(t, 1))
	if len(plan) != c.WorkingDays() {
		t.Fatalf("plan line has %d points, want one per working day (%d)", len(plan), c.WorkingDays())
	}
	labels := o.categories(t, "xAxis", 0)
	if last := len(plan) - 1; plan[last] != float64(c.Target) || labels[last] != "1/7" {
		t.Errorf("plan line ends at %v on %q, want the target %d on the deadline day 1/7", plan[last], labels[last], c.Target)
	}
	for _, profile := range []tiendo.HourProfile{fx.profile, c.ConfiguredProfile()} {
		for i, v := range plan {
			end := c.DayEnd(c.Start + tiendo.Day(i))
			want := c.PaceOf(profile, c.Target, 0, tiendo.RecentRecords{}, end).ExpectedToDate
			if v != float64(want) {
				t.Fatalf("plan at the end of %s = %v, want the Pace's expected_to_date %d", labels[i], v, want)
			}
		}
	}
}

func TestProgressWorkingDayCut(t *testing.T) {
	c := mustCampaign(t)
	now := local(c, 2021, time.March, 11, 2, 0) // still the working day of 10 March
	snap := &tiendo.Snapshot{Scope: tiendo.ProvinceScope, Now: now.UTC(), Day: c.WorkingDay(now),
		Totals: tiendo.Totals{Completed: 150, Target: c.Target}}
	in := Input{Campaign: c, Snapshot: snap, Hours: []tiendo.HourCount{
		{Hour: local(c, 2021, time.March, 10, 8, 0).UTC(), Records: 100},
		{Hour: local(c, 2021, time.March, 11, 1, 0).UTC(), Records: 50}, // 01:00-02:00, the day before's session
	}}
	o := decode(t, mustBuild(t, in)[ChartProgress])
	done := values(t, o.series(t, 0))
	if len(done) != 1 || done[0] != 150 {
		t.Errorf("cumulative = %v, want [150]: work at 01:00 belongs to 10 March", done)
	}
}

func TestProgressTitle(t *testing.T) {
	fx := newFixture(t)
	// Vietnamese readers get "." thousands and "," decimals.
	for lang, want := range map[string]string{
		"vi": "Đã thu nhận 80.300 / 621.000 hồ sơ (12,9%)",
		"en": "Collected 80,300 / 621,000 records (12.9%)",
	} {
		text, _ := title(decode(t, mustBuild(t, fx.input(tiendo.ProvinceScope, lang, false))[ChartProgress]))
		if text != want {
			t.Errorf("%s title %q, want %q", lang, text, want)
		}
	}
}

// TestProgressSubtitleWords pins the fixture's subtitle in both languages:
// on 20 March, well ahead of the plan at the last 7 days' pace.
func TestProgressSubtitleWords(t *testing.T) {
	fx := newFixture(t)
	in := fx.input(tiendo.ProvinceScope, "en", false)
	p := in.Snapshot.Pace
	if p.State != tiendo.PaceAhead || p.ProjectedFinish == nil || p.Method != "last_7_working_days" {
		t.Fatalf("fixture pace %+v: want ahead with a finish over the last 7 working days", p)
	}
	for lang, want := range map[string]string{
		"en": "Ahead · Projected finish: " + FormatDate(*p.ProjectedFinish, "en") +
			" · At the last 7 working days' pace: " + FormatInt(p.RecentPerDay, "en") + " records/day" +
			" · Needed: " + FormatInt(*p.NeededPerDay, "en") + " records/day · Deadline: 1 Jul 2021",
		"vi": "Vượt tiến độ · Dự báo hoàn thành: " + FormatDate(*p.ProjectedFinish, "vi") +
			" · Theo tốc độ 7 ngày làm việc gần nhất: " + FormatInt(p.RecentPerDay, "vi") + " hồ sơ/ngày" +
			" · Cần: " + FormatInt(*p.NeededPerDay, "vi") + " hồ sơ/ngày · Hạn: 01/07/2021",
	} {
		_, sub := title(decode(t, mustBuild(t, fx.input(tiendo.ProvinceScope, lang, false))[ChartProgress]))
		if sub != want {
			t.Errorf("%s subtitle\n got %q\nwant %q", lang, sub, want)
		}
	}
}

// TestProgressForecastLine checks the dashed line: from today's total
// straight to the target on the Pace's projected finish, two points.
func TestProgressForecastLine(t *testing.T) {
	fx := newFixture(t)
	in := fx.input(tiendo.ProvinceScope, "vi", false)
	c, p := in.Campaign, in.Snapshot.Pace
	o := decode(t, mustBuild(t, in)[ChartProgress])
	s := o.series(t, 2)
	data := s["data"].([]any)
	if len(data) != 2 {
		t.Fatalf("forecast has %d points, want 2 (today, finish)", len(data))
	}
	first := data[0].(map[string]any)["value"].([]any)
	last := data[1].(map[string]any)["value"].([]any)
	if int(first[0].(float64)) != int(in.Snapshot.Day-c.Start) || first[1].(float64) != float64(in.Snapshot.Totals.Completed) {
		t.Errorf("forecast starts at %v, want today's point", first)
	}
	if int(last[0].(float64)) != int(*p.ProjectedFinish-c.Start) || last[1].(float64) != float64(c.Target) {
		t.Errorf("forecast ends at %v, want (%d, %d): the target on the projected finish", last, *p.ProjectedFinish-c.Start, c.Target)
	}
	if s["lineStyle"].(map[string]any)["type"] != "dashed" {
		t.Error("forecast is not dashed")
	}
	if got := s["lineStyle"].(map[string]any)["color"]; got != themeFor(false).forecastOK {
		t.Errorf("forecast of an ahead pace is %v, want the ok colour", got)
	}
}

// TestProgressLateFinishWidensAxis: a finish after the deadline lies past
// the deadline day, and the axis reaches it so that the dashed line still
// meets the target on the finish date.
func TestProgressLateFinishWidensAxis(t *testing.T) {
	c := mustCampaign(t)
	now := local(c, 2021, time.May, 9, 12, 0)
	pace := c.PaceOf(c.ConfiguredProfile(), c.Target, 330000, tiendo.RecentRecords{Records: 7 * 4000, Days: 7}, now)
	if pace.State != tiendo.PaceBehind || pace.ProjectedFinish == nil || *pace.ProjectedFinish <= c.Deadline {
		t.Fatalf("pace %+v: want behind with a finish after the deadline", pace)
	}
	snap := &tiendo.Snapshot{Scope: tiendo.ProvinceScope, Now: now.UTC(), Day: c.WorkingDay(now),
		Totals: tiendo.Totals{Completed: pace.Done, Target: c.Target}, Pace: &pace}
	o := decode(t, mustBuild(t, Input{Campaign: c, Snapshot: snap, Lang: "en"})[ChartProgress])
	labels := o.categories(t, "xAxis", 0)
	if got, want := labels[len(labels)-1], FormatDay(*pace.ProjectedFinish, "en"); got != want {
		t.Errorf("axis ends on %s, want the projected finish %s", got, want)
	}
	s := o.series(t, 2)
	last := s["data"].([]any)[1].(map[string]any)["value"].([]any)
	if labels[int(last[0].(float64))] != FormatDay(*pace.ProjectedFinish, "en") {
		t.Errorf("forecast ends on %s", labels[int(last[0].(float64))])
	}
	if got := s["lineStyle"].(map[string]any)["color"]; got != themeFor(false).forecastLate {
		t.Errorf("forecast of a behind pace is %v, want the late colour", got)
	}
	if _, sub := title(o); !strings.HasPrefix(sub, "Behind · Projected finish: "+FormatDate(*pace.ProjectedFinish, "en")) {
		t.Errorf("subtitle %q", sub)
	}
}

func TestProgressStationWithoutQuota(t *testing.T) {
	fx := newFixture(t)
	in := fx.input(tiendo.Scope{Kind: tiendo.ScopeStation, ID: "LS-TP-CHILANG"}, "en", false)
	in.Snapshot.Totals.Target, in.Snapshot.Pace = 0, nil
	o := decode(t, mustBuild(t, in)[ChartProgress])
	if n := len(values(t, o.series(t, 1))); n != 0 {
		t.Errorf("plan line with %d points for a station without a quota", n)
	}
	if n := len(values(t, o.series(t, 2))); n != 0 {
		t.Errorf("forecast with %d points for a station without a quota", n)
	}
	text, sub := title(o)
	if strings.Contains(text, "621,000") || !strings.HasPrefix(text, "Collected ") {
		t.Errorf("title %q compares a station with the province target", text)
	}
	if sub != "" {
		t.Errorf("subtitle %q for a scope without a Pace", sub)
	}
}

// TestProgressNoFinishAtThisPace: a pace too slow to finish within the
// horizon has no projected finish; the chart says so and draws no line.
func TestProgressNoFinishAtThisPace(t *testing.T) {
	c := mustCampaign(t)
	now := local(c, 2021, time.March, 20, 12, 0)
	pace := c.PaceOf(c.ConfiguredProfile(), c.Target, 10, tiendo.RecentRecords{Records: 7, Days: 7}, now)
	if pace.State != tiendo.PaceBehind || pace.ProjectedFinish != nil {
		t.Fatalf("pace %+v: want behind without a finish", pace)
	}
	snap := &tiendo.Snapshot{Scope: tiendo.ProvinceScope, Now: now.UTC(), Day: c.WorkingDay(now),
		Totals: tiendo.Totals{Completed: 10, Target: c.Target}, Pace: &pace}
	for lang, want := range map[string]string{"vi": "Chậm tiến độ · Không có ngày hoàn thành với tốc độ này",
		"en": "Behind · No finish date at this pace"} {
		o := decode(t, mustBuild(t, Input{Campaign: c, Snapshot: snap, Lang: lang})[ChartProgress])
		if _, sub := title(o); !strings.HasPrefix(sub, want) {
			t.Errorf("%s subtitle %q, want it to start %q", lang, sub, want)
		}
		if n := len(values(t, o.series(t, 2))); n != 0 {
			t.Errorf("%s: forecast with %d points without a projected finish", lang, n)
		}
	}
}

func TestRecentPaceWords(t *testing.T) {
	v := &view{lang: LangEN, tx: textEN}
	for _, tc := range []struct {
		method string
		perDay int64
		want   string
	}{
		{"last_7_working_days", 7942, "At the last 7 working days' pace: 7,942 records/day"},
		{"last_1_working_days", 5100, "At the last working day's pace: 5,100 records/day"},
		{"last_0_working_days", 0, ""},
		{"median_of_week", 6000, "At the recent pace: 6,000 records/day"},
		{"", 0, ""},
	} {
		if got := v.recentPace(&tiendo.Pace{Method: tc.method, RecentPerDay: tc.perDay}); got != tc.want {
			t.Errorf("%s at %d: %q, want %q", tc.method, tc.perDay, got, tc.want)
		}
	}
}
