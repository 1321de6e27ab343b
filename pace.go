package tiendo

import (
	"fmt"
	"math"
	"time"
)

// The pace model: one rule for "are we going to make it?", computed here
// and nowhere else. Badges, cards, chart subtitles, district lists and the
// command-room screen all show the Pace the server sends (DECISIONS.md).

// PaceState is the verdict on a target.
type PaceState string

const (
	PaceNotStarted PaceState = "not_started" // before the campaign's first working day
	PaceTooEarly   PaceState = "too_early"   // the first working days: no projection yet
	PaceDone       PaceState = "done"        // the target is met
	PaceBehind     PaceState = "behind"      // no finish by the deadline at the recent pace
	PaceOnTrack    PaceState = "on_track"    // a finish by the deadline
	PaceAhead      PaceState = "ahead"       // a finish by the deadline and well ahead of the plan
	PaceEnded      PaceState = "ended"       // past the deadline with the target missed
)

const (
	// TooEarlyDays is how many first working days have no projection: a
	// day or two of opening rush, or of a slow start, says nothing yet.
	TooEarlyDays = 3
	// AheadMargin is how far ahead of the plan (a share of what it expects
	// by now) "ahead" starts; below it, on track.
	AheadMargin = 0.05
	// FinishHorizonDays is how far past the deadline a projected finish is
	// still named; beyond it "at this pace, not this year" is the answer.
	FinishHorizonDays = 365
)

// Pace is the progress of one target (the campaign, a district's or a
// station's quota) against the plan, and where the recent pace takes it.
type Pace struct {
	State  PaceState `json:"state"`
	Target int64     `json:"target"`
	Done   int64     `json:"completed"`
	// ExpectedToDate is what the plan expects by now: the target spread over
	// the working days, and within today along the hour-of-day profile.
	ExpectedToDate int64 `json:"expected_to_date"`
	// PlanShare is the share of any target the plan expects by now (0–1):
	// the same for every district, so a chart draws it as one line.
	PlanShare float64 `json:"plan_share"`
	Gap       int64   `json:"gap"` // Done − ExpectedToDate
	// NeededPerDay is what each working day left must bring, today counting
	// only for the share of its profile still ahead; null past the deadline
	// or once done.
	NeededPerDay *int64 `json:"needed_per_day"`
	// RecentPerDay is the pace the projection uses, Method names it
	// ("last_7_working_days") so a screen can say which pace it means.
	RecentPerDay int64  `json:"recent_per_day"`
	Method       string `json:"method"`
	RecentDays   int    `json:"recent_days"` // the N of Method
	// ProjectedFinish is the working day at whose end the target is
	// reached at RecentPerDay; null too early, at a zero pace, past the
	// horizon, or once done.
	ProjectedFinish *Day `json:"projected_finish"`
}

// RecentRecords are the records of a target's last complete working days.
type RecentRecords struct {
	Records int64
	Days    int // complete working days counted; 0 on the first day
}

// RecentWindow is the span of the recent pace when today is working day
// today: the last PaceDays complete working days, fewer at the start.
func (c *Campaign) RecentWindow(today Day) (from, to time.Time, days int) {
	first := today - Day(c.PaceDays())
	if first < c.Start {
		first = c.Start
	}
	if today <= first {
		return c.DayStart(today), c.DayStart(today), 0
	}
	return c.DayStart(first), c.DayStart(today), int(today - first)
}

// WorkingDays is how many working days the plan spreads the target over:
// every day from the start to the deadline, both included (stations work
// every day of the week).
func (c *Campaign) WorkingDays() int { return int(c.Deadline-c.Start) + 1 }

// PlanShare is the share of any target the plan expects done by now (0–1).
func (c *Campaign) PlanShare(profile HourProfile, now time.Time) float64 {
	if now.Before(c.StartTime()) {
		return 0
	}
	today := c.WorkingDay(now)
	if today > c.Deadline {
		return 1
	}
	return (float64(today-c.Start) + profile.ShareBy(c, now)) / float64(c.WorkingDays())
}

// PaceOf judges a target of done records so far, at instant now, with the
// campaign's hour profile and the target's recent records.
func (c *Campaign) PaceOf(profile HourProfile, target, done int64, recent RecentRecords, now time.Time) Pace {
	p := Pace{Target: target, Done: done, Method: fmt.Sprintf("last_%d_working_days", recent.Days), RecentDays: recent.Days}
	if recent.Days > 0 {
		p.RecentPerDay = int64(math.Round(float64(recent.Records) / float64(recent.Days)))
	}
	share := c.PlanShare(profile, now)
	p.ExpectedToDate = int64(math.Round(float64(target) * share))
	// Four decimals (a hundredth of a percent) are what any screen shows,
	// and keep each station's figures from changing on every live round.
	p.PlanShare = math.Round(share*1e4) / 1e4
	p.Gap = done - p.ExpectedToDate
	today := c.WorkingDay(now)
	started := !now.Before(c.StartTime())
	todayLeft := 1 - profile.ShareBy(c, now) // of today's profile, still ahead
	if started && today <= c.Deadline && done < target {
		if days := float64(c.Deadline-today) + todayLeft; days > 0 {
			n := int64(math.Ceil(float64(target-done) / days))
			p.NeededPerDay = &n
		}
	}
	if started && recent.Days > 0 && recent.Records > 0 && done < target {
		perDay := float64(recent.Records) / float64(recent.Days)
		left := float64(target-done) - perDay*todayLeft
		finish := today
		if left > 0 {
			finish += Day(math.Ceil(left / perDay))
		}
		if finish <= c.Deadline+FinishHorizonDays {
			p.ProjectedFinish = &finish
		}
	}
	switch {
	case target > 0 && done >= target:
		p.State = PaceDone
	case !started:
		p.State = PaceNotStarted
	case today > c.Deadline:
		p.State = PaceEnded
	case int(today-c.Start) < TooEarlyDays:
		p.State, p.ProjectedFinish = PaceTooEarly, nil
	case p.ProjectedFinish == nil || *p.ProjectedFinish > c.Deadline:
		p.State = PaceBehind
	case float64(p.Gap) >= AheadMargin*float64(p.ExpectedToDate):
		p.State = PaceAhead
	default:
		p.State = PaceOnTrack
	}
	return p
}

// HourProfile is the share of a working day's records made in each of its
// hours: index 0 is the day boundary hour (04:00), 23 the hour before the
// next one. The shares sum to 1.
type HourProfile [24]float64

// MinProfileDays is how many finished working days the campaign's own
// profile needs before it replaces the configured one.
const MinProfileDays = 3

// ShareBy is the share of its working day's profile that has passed at t.
func (p HourProfile) ShareBy(c *Campaign, t time.Time) float64 {
	h := c.HourOfDay(t)
	local := t.In(c.Location())
	within := float64(local.Minute()*60+local.Second()) / 3600
	var s float64
	for i := 0; i < h; i++ {
		s += p[i]
	}
	return math.Min(1, s+p[h]*within)
}

// ConfiguredProfile is the campaign's configured hour profile (HourShares,
// by clock hour), used until the campaign has finished MinProfileDays days.
func (c *Campaign) ConfiguredProfile() HourProfile {
	var p HourProfile
	var sum float64
	for clock, w := range c.HourShares {
		p[(clock-c.DayBoundaryHour+24)%24] = w
		sum += w
	}
	if sum <= 0 {
		return uniformProfile(c, c.OpenHour, (c.DayBoundaryHour+22)%24)
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}

// uniformProfile spreads a day evenly over the clock hours from open to
// close (close may be past midnight).
func uniformProfile(c *Campaign, open, close int) HourProfile {
	var p HourProfile
	from, to := (open-c.DayBoundaryHour+24)%24, (close-c.DayBoundaryHour+24)%24
	for i := from; i < to; i++ {
		p[i] = 1 / float64(to-from)
	}
	return p
}

// ProfileOf is the hour profile to plan with at working day today: the
// campaign's own, measured from its finished working days (hours of
// records, from the campaign's start up to today's start), once there are
// MinProfileDays of them with records; the configured one before that.
func (c *Campaign) ProfileOf(hours []HourCount, today Day) HourProfile {
	var p HourProfile
	days := map[Day]bool{}
	var sum float64
	for _, h := range hours {
		d := c.WorkingDay(h.Hour)
		if d < c.Start || d >= today || h.Records <= 0 {
			continue
		}
		days[d] = true
		p[c.HourOfDay(h.Hour)] += float64(h.Records)
		sum += float64(h.Records)
	}
	if len(days) < MinProfileDays || sum <= 0 {
		return c.ConfiguredProfile()
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}
