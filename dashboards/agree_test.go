package dashboards

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"tiendo"
)

// districtPlan is one district's progress in a made-up snapshot: the share
// of its quota done, and the share of it made on each recent working day.
type districtPlan struct{ done, perDay float64 }

// plannedSnapshot is the province snapshot BuildSnapshot makes at now when
// district i (in campaign-file order) is at plan(i), spread over its
// stations by quota, with the campaign's configured hour profile.
func plannedSnapshot(tb testing.TB, reg *tiendo.Registry, now time.Time, plan func(i int) districtPlan) Input {
	tb.Helper()
	c := reg.Campaign
	today := c.WorkingDay(now)
	_, _, recentDays := c.RecentWindow(today)
	index := map[string]int{}
	for i, d := range reg.Districts() {
		index[d.ID] = i
	}
	var stats []tiendo.StationStats
	var total int64
	for _, s := range reg.Stations() {
		p := plan(index[s.District])
		st := tiendo.StationStats{Station: s.ID,
			Completed:     int64(math.Round(float64(s.Quota) * p.done)),
			RecentRecords: int64(math.Round(float64(s.Quota) * p.perDay * float64(recentDays)))}
		total += st.Completed
		stats = append(stats, st)
	}
	snap := tiendo.BuildSnapshot(reg, tiendo.ProvinceScope, stats, c.ConfiguredProfile(), now)
	// The hours only shape the running total; spread what was done before
	// today evenly over the days, today takes the rest.
	var hours []tiendo.HourCount
	if days := int64(today - c.Start); days > 0 {
		for d := c.Start; d < today; d++ {
			y, m, dd := d.Date()
			hours = append(hours, tiendo.HourCount{Hour: local(c, y, m, dd, 9, 0).UTC(), Records: total * 9 / 10 / (days + 1)})
		}
	}
	return Input{Campaign: c, Snapshot: snap, Hours: hours}
}

// agreementCases are moments of the campaign whose province Pace is in a
// given state, each with districts in several states.
func agreementCases(c *tiendo.Campaign) []struct {
	name  string
	now   time.Time
	state tiendo.PaceState
	plan  func(i int) districtPlan
} {
	return []struct {
		name  string
		now   time.Time
		state tiendo.PaceState
		plan  func(i int) districtPlan
	}{
		{"too early", local(c, 2021, time.March, 11, 10, 0), tiendo.PaceTooEarly, func(i int) districtPlan {
			return districtPlan{0.004 + 0.003*float64(i%4), 0.004 + 0.004*float64(i%3)}
		}},
		// 9 May: the province is past the plan but its recent pace does
		// not reach the target by 1 July (finding 1's "ahead by 30k").
		{"behind with a surplus", local(c, 2021, time.May, 9, 12, 0), tiendo.PaceBehind, func(i int) districtPlan {
			switch i % 4 {
			case 0:
				return districtPlan{0.60, 0.012} // ahead
			case 1:
				return districtPlan{0.53, 0.009} // on track
			}
			return districtPlan{0.60, 0.004} // a surplus, and behind
		}},
		{"on track", local(c, 2021, time.April, 20, 15, 0), tiendo.PaceOnTrack, func(i int) districtPlan {
			switch i % 3 {
			case 0:
				return districtPlan{0.37, 0.0100}
			case 1:
				return districtPlan{0.32, 0.0065}
			}
			return districtPlan{0.42, 0.0125}
		}},
		{"ahead", local(c, 2021, time.March, 20, 21, 30), tiendo.PaceAhead, func(i int) districtPlan {
			if i%4 == 3 {
				return districtPlan{0.06, 0.005}
			}
			return districtPlan{0.15, 0.013}
		}},
		{"done", local(c, 2021, time.June, 15, 12, 0), tiendo.PaceDone, func(i int) districtPlan {
			if i%4 == 0 {
				return districtPlan{0.90, 0.003}
			}
			return districtPlan{1.12, 0.01}
		}},
		{"ended", local(c, 2021, time.July, 3, 10, 0), tiendo.PaceEnded, func(i int) districtPlan {
			if i%2 == 0 {
				return districtPlan{1.01, 0.004}
			}
			return districtPlan{0.9, 0.004}
		}},
	}
}

// TestChartsAgreeWithPace is the contract of DECISIONS.md for the charts:
// whatever the moment, the progress chart's subtitle, its forecast's end
// and colour, and the districts chart's red bars and count say exactly what
// snap.Pace and snap.Districts[].Pace say, in both languages.
func TestChartsAgreeWithPace(t *testing.T) {
	reg := mustRegistry(t)
	c := reg.Campaign
	for _, tc := range agreementCases(c) {
		in := plannedSnapshot(t, reg, tc.now, tc.plan)
		snap, p := in.Snapshot, in.Snapshot.Pace
		if p == nil || p.State != tc.state {
			t.Fatalf("%s: the case's province pace is %+v, want %s", tc.name, p, tc.state)
		}
		states := map[tiendo.PaceState]int{}
		wantRed := map[string]bool{}
		for _, d := range snap.Districts {
			states[d.Pace.State]++
			if d.Pace.State == tiendo.PaceBehind || d.Pace.State == tiendo.PaceEnded {
				wantRed[d.Name] = true
			}
		}
		if tc.state != tiendo.PaceTooEarly && (len(wantRed) == 0 || len(wantRed) == len(snap.Districts)) {
			t.Fatalf("%s: district states %v: the case needs red and other districts", tc.name, states)
		}
		if tc.state == tiendo.PaceBehind {
			// The surplus is the point: a pace ahead of the plan today
			// that does not reach the target in time is behind, in red.
			surplusRed := false
			for _, d := range snap.Districts {
				surplusRed = surplusRed || d.Pace.State == tiendo.PaceBehind && d.Pace.Gap > 0
			}
			if p.Gap <= 0 || !surplusRed {
				t.Fatalf("%s: gap %d, a district behind with a surplus %v: want both", tc.name, p.Gap, surplusRed)
			}
		}
		t.Logf("%s: province %s (finish %v), districts %v", tc.name, p.State, p.ProjectedFinish, states)
		for _, lang := range []string{LangVI, LangEN} {
			in.Lang = lang
			out := mustBuild(t, in)
			checkProgressAgrees(t, tc.name+"/"+lang, in, decode(t, out[ChartProgress]))
			checkDistrictsAgree(t, tc.name+"/"+lang, in, decode(t, out[ChartDistricts]), wantRed)
		}
	}
}

func checkProgressAgrees(t *testing.T, name string, in Input, o option) {
	t.Helper()
	c, p, tx, lang := in.Campaign, in.Snapshot.Pace, textFor(in.Lang), in.Lang
	_, sub := title(o)
	parts := strings.Split(sub, " · ")
	if parts[0] != tx.paceState[p.State] {
		t.Errorf("%s: subtitle %q does not open with the state %s", name, sub, p.State)
	}
	switch {
	case p.ProjectedFinish != nil:
		if want := fmt.Sprintf(tx.finishOn, FormatDate(*p.ProjectedFinish, lang)); parts[1] != want {
			t.Errorf("%s: subtitle %q, want the finish %q", name, sub, want)
		}
	case p.State == tiendo.PaceTooEarly:
		if parts[1] != tx.finishTooEarly {
			t.Errorf("%s: subtitle %q, want %q", name, sub, tx.finishTooEarly)
		}
	case p.State != tiendo.PaceDone:
		if parts[1] != tx.finishNever {
			t.Errorf("%s: subtitle %q, want %q", name, sub, tx.finishNever)
		}
	}
	if days, _ := methodDays(p.Method); days > 1 {
		if want := fmt.Sprintf(tx.paceLastDays, days, FormatInt(p.RecentPerDay, lang)); !strings.Contains(sub, want) {
			t.Errorf("%s: subtitle %q lacks the pace %q", name, sub, want)
		}
	}
	if want := strings.SplitN(tx.neededPace, "%s", 2)[0]; (p.NeededPerDay != nil) != strings.Contains(sub, want) {
		t.Errorf("%s: subtitle %q, needed per day %v", name, sub, p.NeededPerDay)
	} else if p.NeededPerDay != nil && !strings.Contains(sub, fmt.Sprintf(tx.neededPace, FormatInt(*p.NeededPerDay, lang))) {
		t.Errorf("%s: subtitle %q lacks needed %d", name, sub, *p.NeededPerDay)
	}

	s := o.series(t, 2)
	data, _ := s["data"].([]any)
	if p.ProjectedFinish == nil {
		if len(data) != 0 {
			t.Errorf("%s: %d forecast points without a projected finish", name, len(data))
		}
		return
	}
	if len(data) != 2 {
		t.Fatalf("%s: forecast has %d points, want 2", name, len(data))
	}
	end := data[1].(map[string]any)["value"].([]any)
	if tiendo.Day(end[0].(float64))+c.Start != *p.ProjectedFinish || int64(end[1].(float64)) != p.Target {
		t.Errorf("%s: forecast ends at %v, want the target %d on %s", name, end, p.Target, *p.ProjectedFinish)
	}
	wantColour := themeFor(false).forecastOK
	if p.State == tiendo.PaceBehind || p.State == tiendo.PaceEnded {
		wantColour = themeFor(false).forecastLate
	}
	if got := s["lineStyle"].(map[string]any)["color"]; got != wantColour {
		t.Errorf("%s: forecast colour %v for a %s pace, want %s", name, got, p.State, wantColour)
	}
}

func checkDistrictsAgree(t *testing.T, name string, in Input, o option, wantRed map[string]bool) {
	t.Helper()
	tx, lang := textFor(in.Lang), in.Lang
	names := o.categories(t, "yAxis", 0)
	notBehind, behind := values(t, o.series(t, 0)), values(t, o.series(t, 1))
	gotRed := map[string]bool{}
	for i, n := range names {
		if behind[i] > 0 && notBehind[i] == 0 {
			gotRed[n] = true
		} else if behind[i] != 0 {
			t.Errorf("%s: %s is in both series", name, n)
		}
	}
	for n := range wantRed {
		if !gotRed[n] {
			t.Errorf("%s: %s is behind in its pace but not red", name, n)
		}
	}
	for n := range gotRed {
		if !wantRed[n] {
			t.Errorf("%s: %s is red but its pace is not behind or ended", name, n)
		}
	}
	_, sub := title(o)
	count := FormatInt(int64(len(wantRed)), lang)
	all := FormatInt(int64(len(in.Snapshot.Districts)), lang)
	want := count + "/" + all + " huyện chậm tiến độ"
	if lang == LangEN {
		want = count + " of " + all + " districts behind"
	}
	if !strings.HasSuffix(sub, want) {
		t.Errorf("%s: subtitle %q, want it to end %q", name, sub, want)
	}
	if !strings.HasPrefix(sub, strings.SplitN(tx.distSub, "%", 2)[0]) {
		t.Errorf("%s: subtitle %q", name, sub)
	}
	// Most behind the plan first.
	gap := map[string]float64{}
	for _, d := range in.Snapshot.Districts {
		gap[d.Name] = float64(d.Pace.Gap) / float64(d.Pace.Target)
	}
	if !sort.SliceIsSorted(names, func(i, j int) bool { return gap[names[i]] < gap[names[j]] }) {
		t.Errorf("%s: districts not sorted by gap: %v", name, names)
	}
}

// TestDistrictsMorningNotRed is finding 4: at 08:20 a district exactly on
// the plan has done a few percent of a day's work, not the 18 % a line
// from 04:00 expects, and is not red; the old rule painted 11/11 red.
func TestDistrictsMorningNotRed(t *testing.T) {
	fx := newFixture(t)
	c := fx.reg.Campaign
	now := local(c, 2021, time.April, 2, 8, 20)
	share := c.PlanShare(fx.profile, now)
	if linear := float64(now.Sub(c.StartTime())) / float64(c.DeadlineTime().Sub(c.StartTime())); linear-share < 0.001 {
		t.Fatalf("plan share %v against %v from 04:00: the case needs the morning difference", share, linear)
	}
	var stats []tiendo.StationStats
	_, _, days := c.RecentWindow(c.WorkingDay(now))
	for _, s := range fx.reg.Stations() {
		stats = append(stats, tiendo.StationStats{Station: s.ID, Completed: int64(math.Ceil(float64(s.Quota) * share)),
			RecentRecords: int64(float64(s.Quota) * 1.02 / float64(c.WorkingDays()) * float64(days))})
	}
	snap := tiendo.BuildSnapshot(fx.reg, tiendo.ProvinceScope, stats, fx.profile, now)
	o := decode(t, mustBuild(t, Input{Campaign: c, Snapshot: snap, Lang: "en"})[ChartDistricts])
	for i, v := range values(t, o.series(t, 1)) {
		if v != 0 {
			t.Errorf("%s is red at 08:20 while on the plan", o.categories(t, "yAxis", 0)[i])
		}
	}
	if _, sub := title(o); !strings.HasSuffix(sub, " · 0 of 11 districts behind") {
		t.Errorf("subtitle %q", sub)
	}
}

// TestProgressFinishOnDeadlineDay: the deadline day is a working day of the
// plan, so a projection that finishes on it is in time (finding 3: one rule
// called a finish on 1 July late, the other not). The chart follows the
// Pace: the ok colour, the line ending on 1 July.
func TestProgressFinishOnDeadlineDay(t *testing.T) {
	c := mustCampaign(t)
	now := local(c, 2021, time.April, 20, 15, 0)
	pace := c.PaceOf(c.ConfiguredProfile(), c.Target, 231874, tiendo.RecentRecords{Records: 7 * 5400, Days: 7}, now)
	if pace.State != tiendo.PaceOnTrack || pace.ProjectedFinish == nil || *pace.ProjectedFinish != c.Deadline {
		t.Fatalf("pace %+v: want on track, finishing on the deadline day", pace)
	}
	snap := &tiendo.Snapshot{Scope: tiendo.ProvinceScope, Now: now.UTC(), Day: c.WorkingDay(now),
		Totals: tiendo.Totals{Completed: pace.Done, Target: c.Target}, Pace: &pace}
	for _, lang := range []string{LangVI, LangEN} {
		in := Input{Campaign: c, Snapshot: snap, Lang: lang}
		o := decode(t, mustBuild(t, in)[ChartProgress])
		checkProgressAgrees(t, "deadline day/"+lang, in, o)
		if labels := o.categories(t, "xAxis", 0); labels[len(labels)-1] != FormatDay(c.Deadline, lang) {
			t.Errorf("%s: axis ends on %s, want the deadline day", lang, labels[len(labels)-1])
		}
	}
}
