package dashboards

import (
	"math"
	"testing"

	"tiendo"
)

// steady is n working days of perDay records from the campaign start.
func steady(c *tiendo.Campaign, n int, perDay int64) []DayTotal {
	out := make([]DayTotal, n)
	for i := range out {
		out[i] = DayTotal{Day: c.Start + tiendo.Day(i), Records: perDay}
	}
	return out
}

func TestProjectOnTrack(t *testing.T) {
	c := mustCampaign(t) // 621,000 from 10/3 to 1/7: 113 days, about 5,496 a day
	daily := steady(c, 10, 7000)
	today := c.Start + 10 // nothing yet today
	p := Project(c, daily, today)
	if p.PacePerDay != 7000 || p.PaceDays != PaceWindow {
		t.Errorf("pace %v over %d days, want 7000 over %d", p.PacePerDay, p.PaceDays, PaceWindow)
	}
	if p.Done != 70000 || p.DoneBeforeToday != 70000 || p.DoneToday != 0 {
		t.Errorf("done %d/%d/%d", p.Done, p.DoneBeforeToday, p.DoneToday)
	}
	// 551,000 left at 7,000 a day: 78.7 -> 79 days, today being the first.
	if want := today + 78; p.FinishDay != want {
		t.Errorf("finish %v, want %v", p.FinishDay, want)
	}
	if !p.OnTrack {
		t.Error("7,000 a day against 5,496 needed should be on track")
	}
	if p.At(p.FinishDay) < c.Target || p.At(p.FinishDay-1) >= c.Target {
		t.Errorf("At around the finish day: %d, %d", p.At(p.FinishDay-1), p.At(p.FinishDay))
	}
	if want := float64(621000) / 113; math.Abs(p.PlannedPerDay-want) > 1e-9 {
		t.Errorf("planned %v, want %v", p.PlannedPerDay, want)
	}
	if p.DaysLeft != 103 {
		t.Errorf("days left %d, want 103", p.DaysLeft)
	}
	if want := 551000.0 / 103; math.Abs(p.NeededPerDay-want) > 1e-9 {
		t.Errorf("needed %v, want %v", p.NeededPerDay, want)
	}
	if want := int64(70000 + 7000*103); p.ProjectedAtDeadline != want {
		t.Errorf("projected at deadline %d, want %d", p.ProjectedAtDeadline, want)
	}
}

func TestProjectBehind(t *testing.T) {
	c := mustCampaign(t)
	daily := steady(c, 10, 4000)
	today := c.Start + 10
	daily = append(daily, DayTotal{Day: today, Records: 1000}) // today so far
	p := Project(c, daily, today)
	if p.PacePerDay != 4000 {
		t.Errorf("pace %v: today's partial day must not count", p.PacePerDay)
	}
	if p.Done != 41000 {
		t.Errorf("done %d", p.Done)
	}
	if p.OnTrack {
		t.Error("4,000 a day against 5,496 needed is not on track")
	}
	if p.FinishDay.IsZero() || p.FinishDay < c.Deadline {
		t.Errorf("finish %v: want a day after the deadline %v", p.FinishDay, c.Deadline)
	}
	// End of today: 40,000 + max(1,000, 4,000); then 4,000 a day.
	if got, want := p.At(today), int64(44000); got != want {
		t.Errorf("At(today) = %d, want %d", got, want)
	}
	if p.ProjectedAtDeadline >= c.Target {
		t.Errorf("projected at deadline %d, want below target", p.ProjectedAtDeadline)
	}
}

func TestProjectPaceWindow(t *testing.T) {
	c := mustCampaign(t)
	// 20 slow days, then 7 fast ones: only the last 7 count.
	daily := append(steady(c, 20, 1000), steady(c, 27, 9000)[20:]...)
	p := Project(c, daily, c.Start+27)
	if p.PacePerDay != 9000 || p.PaceDays != 7 {
		t.Errorf("pace %v over %d days, want 9000 over 7", p.PacePerDay, p.PaceDays)
	}
	// A day with no record at all is a zero day in the window.
	daily = steady(c, 6, 7000)
	p = Project(c, daily, c.Start+7) // day 6 missing
	if want := 6 * 7000.0 / 7; p.PacePerDay != want {
		t.Errorf("pace %v, want %v (a missing day counts as zero)", p.PacePerDay, want)
	}
	// Early in the campaign the window is shorter.
	p = Project(c, steady(c, 3, 3000), c.Start+3)
	if p.PaceDays != 3 || p.PacePerDay != 3000 {
		t.Errorf("pace %v over %d days, want 3000 over 3", p.PacePerDay, p.PaceDays)
	}
}

func TestProjectZeroPace(t *testing.T) {
	c := mustCampaign(t)
	p := Project(c, nil, c.Start+5)
	if p.PacePerDay != 0 || !p.FinishDay.IsZero() || p.OnTrack {
		t.Errorf("no records: %+v, want zero pace, no finish, not on track", p)
	}
	if p.PaceDays != 5 {
		t.Errorf("pace days %d, want 5", p.PaceDays)
	}
	// First day: no complete day to average.
	p = Project(c, []DayTotal{{Day: c.Start, Records: 500}}, c.Start)
	if p.PaceDays != 0 || !p.FinishDay.IsZero() || p.Done != 500 {
		t.Errorf("first day: %+v", p)
	}
}

func TestProjectBeyondHorizon(t *testing.T) {
	c := mustCampaign(t)
	// One record a day would take 1,700 years.
	p := Project(c, steady(c, 10, 1), c.Start+10)
	if !p.FinishDay.IsZero() || p.OnTrack {
		t.Errorf("finish %v, want none within the horizon", p.FinishDay)
	}
}

func TestProjectAlreadyDone(t *testing.T) {
	c := mustCampaign(t)
	c.Target = 50000
	daily := steady(c, 10, 6000) // crosses 50,000 on day 8 (index 8: 54,000)
	p := Project(c, daily, c.Start+10)
	if p.FinishDay != c.Start+8 || !p.OnTrack {
		t.Errorf("finish %v on track %v, want %v and true", p.FinishDay, p.OnTrack, c.Start+8)
	}
	if p.NeededPerDay != 0 {
		t.Errorf("needed %v, want 0 once done", p.NeededPerDay)
	}
}

func TestProjectIgnoresOutsideDays(t *testing.T) {
	c := mustCampaign(t)
	daily := []DayTotal{{Day: c.Start - 1, Records: 1e6}, {Day: c.Start, Records: 10}, {Day: c.Start + 5, Records: 1e6}}
	p := Project(c, daily, c.Start+1)
	if p.Done != 10 {
		t.Errorf("done %d, want 10: days before the start or after today are ignored", p.Done)
	}
}

func TestDailyTotalsWorkingDay(t *testing.T) {
	c := mustCampaign(t)
	hours := []tiendo.HourCount{
		{Hour: local(c, 2021, 3, 20, 23, 0).UTC(), Records: 3},
		{Hour: local(c, 2021, 3, 21, 1, 0).UTC(), Records: 4}, // 01:00 on the 21st: the 20th's session
		{Hour: local(c, 2021, 3, 21, 4, 0).UTC(), Records: 5}, // the boundary: the 21st
	}
	got := DailyTotals(c, hours)
	want := []DayTotal{{Day: tiendo.DayOf(2021, 3, 20), Records: 7}, {Day: tiendo.DayOf(2021, 3, 21), Records: 5}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("DailyTotals = %v, want %v", got, want)
	}
}
