package tiendo_test

import (
	"math"
	"testing"
	"time"

	"tiendo"
)

// findingShape is the hourly shape of the simulated campaign's records
// (findings/figures.md, finding 8), by clock hour: opening rush at 08:00,
// a quiet noon, an evening peak, work until 02:00.
var findingShape = map[int]float64{7: 5.0, 8: 11.0, 9: 8.6, 10: 5.4, 11: 2.1, 12: 0.5, 13: 2.5, 14: 2.5, 15: 2.5, 16: 2.5,
	17: 4.6, 18: 11.4, 19: 12.0, 20: 9.2, 21: 6.8, 22: 4.4, 23: 3.4, 0: 2.5, 1: 1.6, 2: 0.9, 3: 0.1}

// shapedHours is days working days of perDay records from first, spread
// over the hours as findingShape.
func shapedHours(c *tiendo.Campaign, first tiendo.Day, days int, perDay float64) []tiendo.HourCount {
	var total float64
	for _, w := range findingShape {
		total += w
	}
	var out []tiendo.HourCount
	for d := first; d < first+tiendo.Day(days); d++ {
		for i := 0; i < 24; i++ {
			h := c.DayStart(d).Add(time.Duration(i) * time.Hour)
			if w := findingShape[h.In(c.Location()).Hour()]; w > 0 {
				out = append(out, tiendo.HourCount{Hour: h.UTC(), Records: int64(math.Round(perDay * w / total))})
			}
		}
	}
	return out
}

func ptrDay(d tiendo.Day) *tiendo.Day { return &d }

func TestHourProfile(t *testing.T) {
	c := mustTestCampaign(t)
	// Before three finished days: the configured profile (even from 07:00
	// to 02:00 when none is configured), nothing before opening.
	conf := c.ProfileOf(shapedHours(c, c.Start, 2, 5000), c.Start+2)
	if got := conf.ShareBy(c, at(time.March, 12, 6, 59, 0)); got != 0 {
		t.Errorf("configured profile: %v of the day done before opening", got)
	}
	if got, want := conf.ShareBy(c, at(time.March, 12, 14, 30, 0)), 7.5/19; math.Abs(got-want) > 1e-9 {
		t.Errorf("configured profile at 14:30: %v, want %v", got, want)
	}
	if got := conf.ShareBy(c, at(time.March, 13, 3, 0, 0)); math.Abs(got-1) > 1e-9 {
		t.Errorf("configured profile at 03:00: %v, want the whole day", got)
	}
	// From three finished days on: the campaign's own. At 08:20 about 9 %
	// of a day is done, not the 18 % a line from 04:00 would expect
	// (finding 4).
	own := c.ProfileOf(shapedHours(c, c.Start, 3, 5000), c.Start+3)
	if got := own.ShareBy(c, at(time.March, 13, 8, 20, 0)); got < 0.08 || got > 0.095 {
		t.Errorf("measured profile at 08:20: %.3f of the day, want about 0.087", got)
	}
	// Today's partial hours do not enter the profile.
	withToday := c.ProfileOf(append(shapedHours(c, c.Start, 3, 5000),
		tiendo.HourCount{Hour: at(time.March, 13, 5, 0, 0).UTC(), Records: 1e6}), c.Start+3)
	if withToday != own {
		t.Error("today's records changed the profile")
	}
}

func TestPace(t *testing.T) {
	c := mustTestCampaign(t)
	profile := c.ProfileOf(shapedHours(c, c.Start, 10, 7000), tiendo.DayOf(2021, time.March, 20))
	conf := c.ConfiguredProfile()
	recent := func(perDay int64) tiendo.RecentRecords { return tiendo.RecentRecords{Records: 7 * perDay, Days: 7} }
	tests := []struct {
		name      string
		profile   tiendo.HourProfile
		target    int64
		done      int64
		recent    tiendo.RecentRecords
		now       time.Time
		state     tiendo.PaceState
		finish    *tiendo.Day
		checkNeed int64 // 0: not checked
	}{
		{"before the start", conf, 621000, 0, tiendo.RecentRecords{}, at(time.March, 10, 3, 0, 0), tiendo.PaceNotStarted, nil, 0},
		// Day 1 at 07:30, 55 records: no projection (it was 2052), not "on pace".
		{"day 1: too early, no 2052", conf, 621000, 55, tiendo.RecentRecords{}, at(time.March, 10, 7, 30, 0), tiendo.PaceTooEarly, nil, 0},
		// 11 March 08:20 (the badge said "on pace" at 62 % of the plan).
		{"day 2: too early", conf, 621000, 3500, tiendo.RecentRecords{Records: 3397, Days: 1}, at(time.March, 11, 8, 20, 0), tiendo.PaceTooEarly, nil, 0},
		// 20 March 21:30 at the 7-day pace of 7,942: a finish on 28 May.
		{"20 March: ahead", profile, 621000, 78012, recent(7942), at(time.March, 20, 21, 30, 0), tiendo.PaceAhead, ptrDay(tiendo.DayOf(2021, time.May, 28)), 0},
		// 9 May: 30k ahead of the plan in total, but the last week's pace
		// (4,692 a day) finishes on 4 July: behind, whatever the surplus
		// (the badge said "ahead by 30k").
		{"9 May: surplus but late", profile, 621000, 357000, recent(4692), at(time.May, 9, 8, 0, 0), tiendo.PaceBehind, ptrDay(tiendo.DayOf(2021, time.July, 4)), 0},
		{"zero pace: behind, no date", profile, 621000, 357000, tiendo.RecentRecords{Days: 7}, at(time.May, 9, 8, 0, 0), tiendo.PaceBehind, nil, 0},
		{"done", profile, 1000, 1000, recent(10), at(time.May, 9, 8, 0, 0), tiendo.PaceDone, nil, 0},
		{"past the deadline, missed", profile, 621000, 600000, recent(1000), at(time.July, 2, 8, 0, 0), tiendo.PaceEnded, ptrDay(tiendo.DayOf(2021, time.July, 23)), 0},
		// The deadline day itself is in time: 1,000 left at 1,000 a day on 30 June at 04:00.
		{"finish on the deadline day meets it", profile, 10000, 8000, recent(1000), at(time.June, 30, 4, 30, 0), tiendo.PaceOnTrack, ptrDay(tiendo.DayOf(2021, time.July, 1)), 1000},
		{"a day after the deadline does not", profile, 10000, 7000, recent(1000), at(time.June, 30, 4, 30, 0), tiendo.PaceBehind, ptrDay(tiendo.DayOf(2021, time.July, 2)), 1500},
	}
	for _, tt := range tests {
		p := c.PaceOf(tt.profile, tt.target, tt.done, tt.recent, tt.now)
		if p.State != tt.state {
			t.Errorf("%s: state %s, want %s (%+v)", tt.name, p.State, tt.state, p)
		}
		if (p.ProjectedFinish == nil) != (tt.finish == nil) || p.ProjectedFinish != nil && *p.ProjectedFinish != *tt.finish {
			t.Errorf("%s: projected finish %v, want %v", tt.name, p.ProjectedFinish, tt.finish)
		}
		if p.Gap != p.Done-p.ExpectedToDate {
			t.Errorf("%s: gap %d is not completed − expected (%d − %d)", tt.name, p.Gap, p.Done, p.ExpectedToDate)
		}
		if tt.checkNeed != 0 && (p.NeededPerDay == nil || *p.NeededPerDay != tt.checkNeed) {
			t.Errorf("%s: needed per day %v, want %d", tt.name, p.NeededPerDay, tt.checkNeed)
		}
		if p.Method != "last_7_working_days" && tt.recent.Days == 7 {
			t.Errorf("%s: method %q", tt.name, p.Method)
		}
	}
}

// The plan expects along the day's profile: nothing before opening, the
// whole day by its end, and "needed per day" counts today only for the
// part of its profile still ahead (finding 3: it counted today twice).
func TestPacePlanWithinADay(t *testing.T) {
	c := mustTestCampaign(t)
	profile := c.ProfileOf(shapedHours(c, c.Start, 10, 7000), tiendo.DayOf(2021, time.March, 20))
	perDay := 621000.0 / float64(c.WorkingDays())
	for _, tc := range []struct {
		at   time.Time
		want float64 // working days of the plan elapsed
	}{
		{at(time.March, 20, 6, 0, 0), 10},
		{at(time.March, 20, 8, 20, 0), 10 + profile.ShareBy(c, at(time.March, 20, 8, 20, 0))},
		{at(time.March, 21, 3, 59, 0), 10 + profile.ShareBy(c, at(time.March, 21, 3, 59, 0))},
		{at(time.March, 21, 4, 0, 0), 11},
	} {
		p := c.PaceOf(profile, 621000, 60000, tiendo.RecentRecords{Records: 49000, Days: 7}, tc.at)
		if want := int64(math.Round(perDay * tc.want)); p.ExpectedToDate != want {
			t.Errorf("%v: expected %d, want %d", tc.at, p.ExpectedToDate, want)
		}
	}
	now := at(time.March, 20, 12, 0, 0)
	p := c.PaceOf(profile, 621000, 60000, tiendo.RecentRecords{Records: 49000, Days: 7}, now)
	left := float64(c.Deadline-c.WorkingDay(now)) + 1 - profile.ShareBy(c, now)
	if want := int64(math.Ceil(561000 / left)); p.NeededPerDay == nil || *p.NeededPerDay != want {
		t.Errorf("needed per day %v, want %d", p.NeededPerDay, want)
	}
}

// "ahead" starts at +5 % of what the plan expects.
func TestPaceAheadMargin(t *testing.T) {
	c := mustTestCampaign(t)
	profile := c.ConfiguredProfile()
	now := at(time.April, 1, 4, 0, 0)
	expected := c.PaceOf(profile, 621000, 0, tiendo.RecentRecords{}, now).ExpectedToDate
	fast := tiendo.RecentRecords{Records: 7 * 20000, Days: 7}
	margin := int64(math.Ceil(0.05 * float64(expected)))
	if p := c.PaceOf(profile, 621000, expected+margin, fast, now); p.State != tiendo.PaceAhead {
		t.Errorf("at +5 %%: %s", p.State)
	}
	if p := c.PaceOf(profile, 621000, expected+margin-2, fast, now); p.State != tiendo.PaceOnTrack {
		t.Errorf("under +5 %%: %s", p.State)
	}
}
