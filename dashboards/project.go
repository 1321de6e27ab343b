package dashboards

import (
	"math"
	"sort"

	"tiendo"
)

// PaceWindow is how many complete working days the projection averages. A
// week smooths out market days and Sundays without hiding a real slowdown.
const PaceWindow = 7

// ProjectionHorizon is how many days past the deadline a finish date is still
// worth naming; beyond it the projection says "not at this pace" instead of
// promising a date nobody will plan for.
const ProjectionHorizon = 365

// DayTotal is the number of records completed in one working day.
type DayTotal struct {
	Day     tiendo.Day `json:"day"`
	Records int64      `json:"records"`
}

// DailyTotals sums hourly completions into working days. It cuts days with
// Campaign.WorkingDay, not at midnight, so records made at 01:30 count for
// the session that began the previous morning. The result is sorted by day.
func DailyTotals(c *tiendo.Campaign, hours []tiendo.HourCount) []DayTotal {
	byDay := map[tiendo.Day]int64{}
	for _, h := range hours {
		byDay[c.WorkingDay(h.Hour)] += h.Records
	}
	out := make([]DayTotal, 0, len(byDay))
	for d, n := range byDay {
		out = append(out, DayTotal{Day: d, Records: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Day < out[j].Day })
	return out
}

// Projection says whether a campaign (or one district, given a campaign copy
// carrying its quota as Target) reaches its target by the deadline at the
// pace of its recent working days.
type Projection struct {
	Today           tiendo.Day `json:"today"`
	Target          int64      `json:"target"`
	Done            int64      `json:"done"`              // records so far, today's included
	DoneBeforeToday int64      `json:"done_before_today"` // records of complete working days
	DoneToday       int64      `json:"done_today"`

	// PacePerDay is the average of the last PaceDays complete working days
	// (up to PaceWindow; today is not complete and would drag it down).
	PacePerDay float64 `json:"pace_per_day"`
	PaceDays   int     `json:"pace_days"`
	// PlannedPerDay is the slope of the straight "pace needed" line: the
	// target spread evenly from the campaign start to the deadline.
	PlannedPerDay float64 `json:"planned_per_day"`
	// NeededPerDay is what each remaining working day (today included) must
	// bring to reach the target by the deadline; 0 when done or past it.
	NeededPerDay float64 `json:"needed_per_day"`
	DaysLeft     int     `json:"days_left"` // working days from today to the deadline, today included

	// ProjectedAtDeadline is the projected total at the deadline.
	ProjectedAtDeadline int64 `json:"projected_at_deadline"`
	// FinishDay is the working day at whose end the target is (projected to
	// be) reached; zero when the pace is zero or the day lies more than
	// ProjectionHorizon days after the deadline.
	FinishDay tiendo.Day `json:"finish_day"`
	// OnTrack is true when the target is (projected to be) reached before
	// the deadline, i.e. by the end of the last working day before it.
	OnTrack bool `json:"on_track"`
}

// Project projects c's progress from daily totals (any order; days outside
// [c.Start, today] are ignored) at the average pace of the last PaceWindow
// complete working days. The model: today ends at whichever is larger of what
// is already done today and a normal day's pace, and every later working day
// adds the pace. It is deliberately simple: a command room needs a date it can
// check by hand, not a forecast model.
func Project(c *tiendo.Campaign, daily []DayTotal, today tiendo.Day) Projection {
	p := Projection{Today: today, Target: c.Target}
	if campaignDays := int(c.Deadline - c.Start); campaignDays > 0 {
		p.PlannedPerDay = float64(c.Target) / float64(campaignDays)
	}
	sorted := append([]DayTotal(nil), daily...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Day < sorted[j].Day })

	from := today - PaceWindow
	if from < c.Start {
		from = c.Start
	}
	var paceSum int64
	for _, d := range sorted {
		if d.Day < c.Start || d.Day > today {
			continue
		}
		if d.Day == today {
			p.DoneToday += d.Records
		} else {
			p.DoneBeforeToday += d.Records
			if d.Day >= from {
				paceSum += d.Records
			}
		}
	}
	p.Done = p.DoneBeforeToday + p.DoneToday
	if today > from {
		// Days without any record count as zero: a day nobody worked is
		// exactly what the pace must show.
		p.PaceDays = int(today - from)
		p.PacePerDay = float64(paceSum) / float64(p.PaceDays)
	}
	if left := int(c.Deadline - today); left > 0 {
		p.DaysLeft = left
		if rem := c.Target - p.DoneBeforeToday; rem > 0 {
			p.NeededPerDay = float64(rem) / float64(left)
		}
	}

	switch {
	case p.Done >= c.Target:
		// Already there: name the day the running total crossed the target.
		var cum int64
		p.FinishDay = today
		for _, d := range sorted {
			if d.Day < c.Start || d.Day > today {
				continue
			}
			cum += d.Records
			if cum >= c.Target {
				p.FinishDay = d.Day
				break
			}
		}
	case p.PacePerDay > 0:
		endToday := p.endOfToday()
		if endToday >= float64(c.Target) {
			p.FinishDay = today
		} else {
			k := math.Ceil((float64(c.Target) - endToday) / p.PacePerDay)
			if finish := today + tiendo.Day(k); finish <= c.Deadline+ProjectionHorizon {
				p.FinishDay = finish
			}
		}
	}
	p.OnTrack = !p.FinishDay.IsZero() && p.FinishDay < c.Deadline
	if today < c.Deadline {
		p.ProjectedAtDeadline = p.At(c.Deadline - 1)
	} else {
		p.ProjectedAtDeadline = p.Done
	}
	return p
}

// endOfToday is the projected total when today's session ends.
func (p Projection) endOfToday() float64 {
	return float64(p.DoneBeforeToday) + math.Max(float64(p.DoneToday), p.PacePerDay)
}

// At is the projected total at the end of working day d. Days before today
// have no projection and return Done; FinishDay is the first day d with
// At(d) >= Target.
func (p Projection) At(d tiendo.Day) int64 {
	if d < p.Today {
		return p.Done
	}
	return int64(math.Round(p.endOfToday() + p.PacePerDay*float64(d-p.Today)))
}
