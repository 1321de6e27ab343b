package tiendo

import "time"

// HourChange is how a scope's headline figures moved over the last hour:
// what a command-room screen shows as an arrow and a delta next to each
// figure, instead of flashing on every round (a flash marks an update, not
// a change). Each field is the figure now less the figure an hour ago.
type HourChange struct {
	// Since is the instant of the earlier figures: within HourChangeSlack
	// of an hour before the snapshot's Now.
	Since          time.Time `json:"since"`
	Completed      int64     `json:"completed"`
	CompletedToday int64     `json:"completed_today"`
	Queue          int       `json:"queue"`
	PerHour        int64     `json:"per_hour"`
	StationsOpen   int       `json:"stations_open"`
	StationsIdle   int       `json:"stations_idle"`
	IdleStaff      int       `json:"idle_staff"`
	StationsLate   int       `json:"stations_late"`
}

// HourChangeSlack is how far from an hour ago the earlier figures may be
// (Since says exactly when): a live server has figures every few seconds,
// a replay at a day a minute every quarter of an hour of campaign time.
const HourChangeSlack = 10 * time.Minute

// ChangeSince is the change from before (the totals at since) to now (the
// totals at at). The working day's count restarts at the day's start:
// across it, the change of CompletedToday is today's count itself.
func (c *Campaign) ChangeSince(before Totals, since time.Time, now Totals, at time.Time) HourChange {
	today := now.CompletedToday - before.CompletedToday
	if c.WorkingDay(since) != c.WorkingDay(at) {
		today = now.CompletedToday
	}
	return HourChange{Since: since, Completed: now.Completed - before.Completed, CompletedToday: today,
		Queue: now.Queue - before.Queue, PerHour: now.PerHour - before.PerHour,
		StationsOpen: now.StationsOpen - before.StationsOpen, StationsIdle: now.StationsIdle - before.StationsIdle,
		IdleStaff: now.IdleStaff - before.IdleStaff, StationsLate: now.StationsLate - before.StationsLate}
}
