package tiendo

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// Campaign describes one enrolment campaign: where its clock runs, when it
// starts and ends, what it must reach, and how its working days are cut.
type Campaign struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	NameEN   string `json:"name_en,omitempty"`
	TimeZone string `json:"time_zone"` // IANA name, e.g. Asia/Ho_Chi_Minh
	Start    Day    `json:"start"`     // first working day
	Deadline Day    `json:"deadline"`  // last working day: the target is met in time by its end
	Target   int64  `json:"target"`    // records (hồ sơ) to collect in all

	// DayBoundaryHour is the local hour at which one working day ends and the
	// next begins. Stations serve until the last citizen present, often until
	// 1–2 a.m., so a boundary of 4 keeps 01:30 in the previous day's session.
	DayBoundaryHour int `json:"day_boundary_hour"`
	// OpenHour is when stations usually open (7:00); charts start their day there.
	OpenHour int `json:"open_hour"`
	// LateNightHour starts the late-night window, which runs to the day boundary.
	LateNightHour int `json:"late_night_hour"`
	// MinutesPerRecord is the nominal service time of one record (about 6).
	MinutesPerRecord float64 `json:"minutes_per_record"`
	// HomeVisitMinutes is the nominal time of one home visit, travel to the
	// house included (default 25).
	HomeVisitMinutes float64 `json:"home_visit_minutes,omitempty"`
	// HourShares is the configured share of a day's records in each clock
	// hour (24 weights, index 0 = 00:00), the plan's hour profile until the
	// campaign has finished days of its own; empty: even from OpenHour to
	// 02:00.
	HourShares []float64 `json:"hour_shares,omitempty"`
	// PaceWindow is how many complete working days the recent pace
	// averages (default 7: a week smooths market days and Sundays).
	PaceWindow int `json:"pace_window_days,omitempty"`
	// LateCloseHour is the clock hour after which a station still serving
	// its queue is running late (default 2: 02:00 of the next morning).
	LateCloseHour int `json:"late_close_hour,omitempty"`
	// LongWaitMinutes is the wait over which a queue is long: screens mark
	// it and the long_wait alert opens (default 120).
	LongWaitMinutes float64 `json:"long_wait_minutes,omitempty"`
	// MoveDistanceKm is how far (straight line) a staff move may send
	// officers (default 15 km).
	MoveDistanceKm float64 `json:"move_distance_km,omitempty"`
	// SilentMinutes is how long a station that said it was open may send
	// no heartbeat before the silent alert opens (default 15).
	SilentMinutes float64 `json:"silent_minutes,omitempty"`
	// SlowdownShare is the share of the same hour yesterday under which
	// the last hour's records open the slowdown alert, while people wait
	// (default 0.5: half).
	SlowdownShare float64 `json:"slowdown_share,omitempty"`
	// SlowdownMinRecords is the fewest records the same hour yesterday
	// must have held for the comparison to count (default 6: an hour with
	// a record every 10 minutes): half of a quiet hour is noise.
	SlowdownMinRecords int64 `json:"slowdown_min_records,omitempty"`
	// AlertClearMinutes is how long an alert's condition must have stopped
	// holding before the alert resolves (default 5), so that a figure
	// wavering at its threshold does not open and resolve it by turns.
	AlertClearMinutes float64 `json:"alert_clear_minutes,omitempty"`
	// Level is the campaign's own level, the top of its tree: province
	// (the default) or nation.
	Level UnitLevel `json:"level,omitempty"`
	// Units are the campaign's tree below its top (provinces, districts,
	// communes), each with its quota. A province campaign may give its
	// districts only (Districts); Validate fills each from the other.
	Units []Unit `json:"units,omitempty"`
	// Districts are the district-level units, each with its quota.
	Districts []District `json:"districts,omitempty"`

	loc *time.Location
	// unitsOfDistricts: the file listed districts only and Units was made
	// from them, so a later Validate makes it again from Districts.
	unitsOfDistricts bool
}

// ParseCampaign decodes and validates a campaign file.
func ParseCampaign(data []byte) (*Campaign, error) {
	var c Campaign
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("parse campaign: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate checks the campaign and loads its time zone. It returns an
// EInvalid *Error naming the first bad field.
func (c *Campaign) Validate() error {
	bad := func(field, reason string) error {
		return &Error{Code: EInvalid, Message: "invalid campaign", Fields: []FieldError{{Index: -1, Field: field, Reason: reason}}}
	}
	if c.ID == "" {
		return bad("id", "required")
	}
	if c.Name == "" {
		return bad("name", "required")
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil || c.TimeZone == "" {
		return bad("time_zone", "not a known IANA time zone")
	}
	c.loc = loc
	if c.Start.IsZero() {
		return bad("start", "required")
	}
	if c.Deadline <= c.Start {
		return bad("deadline", "must be after start")
	}
	if c.Target <= 0 {
		return bad("target", "must be positive")
	}
	if c.DayBoundaryHour < 0 || c.DayBoundaryHour > 12 {
		return bad("day_boundary_hour", "must be between 0 and 12")
	}
	if c.OpenHour < c.DayBoundaryHour || c.OpenHour > 23 {
		return bad("open_hour", "must be between the day boundary and 23")
	}
	if c.LateNightHour <= c.OpenHour || c.LateNightHour > 23 {
		return bad("late_night_hour", "must be after open_hour and at most 23")
	}
	if c.MinutesPerRecord <= 0 {
		return bad("minutes_per_record", "must be positive")
	}
	if c.HomeVisitMinutes < 0 {
		return bad("home_visit_minutes", "must be positive")
	}
	if len(c.HourShares) != 0 && len(c.HourShares) != 24 {
		return bad("hour_shares", "must hold 24 weights, one per clock hour from 00:00")
	}
	var shares float64
	for _, w := range c.HourShares {
		if w < 0 || math.IsNaN(w) {
			return bad("hour_shares", "weights must not be negative")
		}
		shares += w
	}
	if len(c.HourShares) == 24 && shares <= 0 {
		return bad("hour_shares", "some hour must have a positive weight")
	}
	if c.LongWaitMinutes < 0 {
		return bad("long_wait_minutes", "must not be negative")
	}
	if c.MoveDistanceKm < 0 {
		return bad("move_distance_km", "must not be negative")
	}
	if c.SilentMinutes < 0 || c.SilentMinutes > 24*60 || math.IsNaN(c.SilentMinutes) {
		return bad("silent_minutes", "must be between 1 and 1440")
	}
	if c.SlowdownShare < 0 || c.SlowdownShare >= 1 || math.IsNaN(c.SlowdownShare) {
		return bad("slowdown_share", "must be a share between 0 and 1 (0.5: half of the same hour yesterday)")
	}
	if c.SlowdownMinRecords < 0 {
		return bad("slowdown_min_records", "must not be negative")
	}
	if c.AlertClearMinutes < 0 || c.AlertClearMinutes > 120 || math.IsNaN(c.AlertClearMinutes) {
		return bad("alert_clear_minutes", "must be between 0 and 120")
	}
	if c.PaceWindow < 0 || c.PaceWindow > 28 {
		return bad("pace_window_days", "must be between 1 and 28")
	}
	if h := c.LateClose(); h < 0 || h > 23 || h >= c.DayBoundaryHour && h <= c.OpenHour {
		return bad("late_close_hour", "must be an hour after opening, or after midnight before the day boundary")
	}
	if err := c.validateUnits(bad); err != nil {
		return err
	}
	if len(c.Districts) == 0 {
		return bad("districts", "at least one district is required")
	}
	seen := map[string]bool{}
	for _, d := range c.Districts {
		if !ValidStationID(d.ID) || seen[d.ID] {
			return bad("districts", fmt.Sprintf("district id %q is invalid or repeated", d.ID))
		}
		if d.Quota < 0 {
			return bad("districts", fmt.Sprintf("district %s: quota must not be negative", d.ID))
		}
		seen[d.ID] = true
	}
	return nil
}

// Location is the campaign's time zone (UTC before Validate).
func (c *Campaign) Location() *time.Location {
	if c.loc == nil {
		return time.UTC
	}
	return c.loc
}

// StartTime is the instant the campaign opens: the boundary hour of its first day.
func (c *Campaign) StartTime() time.Time { return c.DayStart(c.Start) }

// DeadlineTime is the instant by which the target must be met: the end of
// the deadline's working day.
func (c *Campaign) DeadlineTime() time.Time { return c.DayEnd(c.Deadline) }

// LongWait is LongWaitMinutes or its default, 120.
func (c *Campaign) LongWait() float64 {
	return orDefault(c.LongWaitMinutes, 120)
}

// SilentAfter is SilentMinutes or its default, 15 minutes.
func (c *Campaign) SilentAfter() time.Duration {
	return time.Duration(orDefault(c.SilentMinutes, 15) * float64(time.Minute))
}

// SlowdownBelow is SlowdownShare or its default, 0.5.
func (c *Campaign) SlowdownBelow() float64 {
	return orDefault(c.SlowdownShare, 0.5)
}

// SlowdownMinimum is SlowdownMinRecords or its default, 6.
func (c *Campaign) SlowdownMinimum() int64 {
	return orDefault(c.SlowdownMinRecords, 6)
}

// AlertClearAfter is AlertClearMinutes or its default, 5 minutes.
func (c *Campaign) AlertClearAfter() time.Duration {
	return time.Duration(orDefault(c.AlertClearMinutes, 5) * float64(time.Minute))
}

// VisitMinutes is HomeVisitMinutes or its default, 25.
func (c *Campaign) VisitMinutes() float64 {
	return orDefault(c.HomeVisitMinutes, 25)
}

// PaceDays is PaceWindow or its default, 7.
func (c *Campaign) PaceDays() int {
	return orDefault(c.PaceWindow, 7)
}

// LateClose is LateCloseHour or its default: 02:00, or 23:00 when the
// working day ends before 02:00.
func (c *Campaign) LateClose() int {
	switch {
	case c.LateCloseHour > 0:
		return c.LateCloseHour
	case c.DayBoundaryHour <= 2:
		return 23
	}
	return 2
}

// LateCloseTime is the instant of working day d after which a station still
// serving is running late (LateCloseHour, of the next morning when it is
// before the day boundary).
func (c *Campaign) LateCloseTime(d Day) time.Time {
	h := c.LateClose()
	if h < c.DayBoundaryHour {
		d++
	}
	y, m, dd := d.Date()
	return time.Date(y, m, dd, h, 0, 0, 0, c.Location())
}

// WorkingDay returns the working day that instant t belongs to: the local
// calendar day, shifted back by one before the day boundary hour. The shift
// is done on the wall clock, not by subtracting hours from the instant, so
// that it agrees with DayStart on days when daylight saving changes.
func (c *Campaign) WorkingDay(t time.Time) Day {
	local := t.In(c.Location())
	y, m, d := local.Date()
	if local.Hour() < c.DayBoundaryHour {
		d--
	}
	return DayOf(y, m, d)
}

// DayStart is the instant working day d begins (its boundary hour, local time).
func (c *Campaign) DayStart(d Day) time.Time {
	y, m, dd := d.Date()
	return time.Date(y, m, dd, c.DayBoundaryHour, 0, 0, 0, c.Location())
}

// DayEnd is the instant working day d ends, which is when the next one begins.
func (c *Campaign) DayEnd(d Day) time.Time { return c.DayStart(d + 1) }

// IsLateNight reports whether t falls in the late-night window: from
// LateNightHour until the day boundary of the next morning.
func (c *Campaign) IsLateNight(t time.Time) bool {
	h := t.In(c.Location()).Hour()
	return h >= c.LateNightHour || h < c.DayBoundaryHour
}

// HourOfDay gives the position of t's local hour within its working day:
// 0 is the boundary hour, 23 the hour before the next boundary. Charts use it
// so that 01:00 of the next morning sits after 23:00, not before 07:00.
func (c *Campaign) HourOfDay(t time.Time) int {
	h := t.In(c.Location()).Hour()
	return (h - c.DayBoundaryHour + 24) % 24
}

// ClockHour is the inverse of HourOfDay: the local clock hour at position i.
func (c *Campaign) ClockHour(i int) int { return (i + c.DayBoundaryHour) % 24 }

// orDefault is a campaign setting, or def when the file leaves it out (or
// sets it to zero or less, which Validate refuses where it matters).
func orDefault[T int | int64 | float64](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}
