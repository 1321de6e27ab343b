package tiendo

import (
	"math"
	"time"
)

// Service figures of a station: how long a citizen joining the queue now
// waits, when the queue will be served, whether that runs past the late
// hour, and which officers are free to help elsewhere. They are measured
// from the minutes the station really served (its heartbeats), not from a
// clock window, so that opening, lunch and travel do not inflate them.

const (
	// ServiceWindow is how far back the pace of service is measured.
	ServiceWindow = 90 * time.Minute
	// IdleWindow is how far back "officers in use" is measured when the
	// queue is empty: long enough for a few records at each lane.
	IdleWindow = 15 * time.Minute
	// ServicePrior is how many records at the nominal pace the measured
	// pace is smoothed with: with none measured the nominal 6 minutes
	// stand, with a few the two mix, with many the measurement rules.
	ServicePrior = 5
)

// ServiceSample is a station's state as one heartbeat reported it; it holds
// until the next heartbeat, or StaleAfter at most.
type ServiceSample struct {
	Station string
	At      time.Time
	Status  StationStatus
	Queue   int
	Staff   int
	Lanes   int
}

// MinuteCount is the records a station completed in one minute (UTC start).
type MinuteCount struct {
	Station string
	Minute  time.Time
	Records int64
}

// ServiceQuery asks for the heartbeats and minutes of completions of the
// stations named (all when nil) in [From, To].
type ServiceQuery struct {
	Stations []string
	From, To time.Time
}

// ServiceQueryAt is the query the service figures at now need: the window,
// and StaleAfter before it for the state the window starts in.
func ServiceQueryAt(stations []string, now time.Time) ServiceQuery {
	return ServiceQuery{Stations: stations, From: now.Add(-ServiceWindow - StaleAfter), To: now}
}

// Served is what one station did in the service window up to an instant.
type Served struct {
	// BusyLaneMinutes are the lane-minutes open with citizens waiting, and
	// BusyRecords the records completed in them: their ratio is the pace of
	// a lane that always has someone to serve. Minutes with an empty queue
	// say how many came, not how fast a lane works, and are left out.
	BusyLaneMinutes float64
	BusyRecords     int64
	// ActiveMinutes are the minutes open or paused (a home-visit round,
	// travel between houses included) and ActiveRecords the records in them.
	ActiveMinutes float64
	ActiveRecords int64
	IdleRecords   int64 // records in the last IdleWindow
}

// MeasureServed integrates one station's heartbeats (sorted by time, the
// last one before the window included) and minutes of completions over the
// service window ending at now. A stretch between two heartbeats is busy
// when the station was open with lanes and a queue.
func MeasureServed(samples []ServiceSample, minutes []MinuteCount, now time.Time) Served {
	from := now.Add(-ServiceWindow)
	var w Served
	recordsIn := func(a, b time.Time) int64 {
		var n int64
		for _, m := range minutes {
			if !m.Minute.Before(a.Truncate(time.Minute)) && m.Minute.Before(b) {
				n += m.Records
			}
		}
		return n
	}
	for _, m := range minutes {
		if !m.Minute.Before(now.Add(-IdleWindow).Truncate(time.Minute)) && !m.Minute.After(now) {
			w.IdleRecords += m.Records
		}
	}
	for i, s := range samples {
		start, end := s.At, s.At.Add(StaleAfter)
		if i+1 < len(samples) && samples[i+1].At.Before(end) {
			end = samples[i+1].At
		}
		if start.Before(from) {
			start = from
		}
		if end.After(now) {
			end = now
		}
		if !end.After(start) {
			continue
		}
		span, records := end.Sub(start).Minutes(), recordsIn(start, end)
		if s.Status == StatusOpen || s.Status == StatusPaused {
			w.ActiveMinutes += span
			w.ActiveRecords += records
		}
		if s.Status == StatusOpen && s.Lanes > 0 && s.Queue > 0 {
			w.BusyLaneMinutes += span * float64(s.Lanes)
			w.BusyRecords += records
		}
	}
	return w
}

// Service is a station's service figures (the StationState fields).
type Service struct {
	// WaitMinutes is the wait of a citizen joining the queue now: queue ×
	// minutes per record per lane ÷ lanes in service. Null when the
	// station is not open, and for home-visit teams.
	WaitMinutes *float64
	// ListMinutes is a home-visit team's time to finish today's list.
	ListMinutes *float64
	// MinutesPerRecord is the measured (smoothed) minutes one lane spends
	// on a record, or per visit for a home-visit team.
	MinutesPerRecord float64
	// ClearsAt is when the present queue (or list) will have been served
	// at that pace; null with nothing to serve.
	ClearsAt *time.Time
	// Late is true when ClearsAt is after the campaign's late hour of the
	// working day (02:00 of the next morning).
	Late bool
	// IdleStaff is the officers present and not needed at the measured
	// pace: staff less the lanes in use, 0 while anyone waits.
	IdleStaff int
}

// ServiceOf derives a station's service figures from its latest state
// (status, queue, staff, lanes; offline stations come as StatusOffline)
// and what it served in the window, at instant now.
func (c *Campaign) ServiceOf(kind StationKind, status StationStatus, queue, staff, lanes int, w Served, now time.Time) Service {
	var out Service
	var minutes float64
	switch kind {
	case KindHomeVisit:
		out.MinutesPerRecord = smoothed(w.ActiveMinutes, w.ActiveRecords, c.VisitMinutes())
		if status == StatusOpen || status == StatusPaused {
			m := math.Round(float64(queue) * out.MinutesPerRecord)
			out.ListMinutes, minutes = &m, m
		}
	default:
		out.MinutesPerRecord = smoothed(w.BusyLaneMinutes, w.BusyRecords, c.MinutesPerRecord)
		if status == StatusOpen && lanes > 0 {
			m := math.Round(float64(queue) * out.MinutesPerRecord / float64(lanes))
			out.WaitMinutes, minutes = &m, m
		}
		if status == StatusOpen && queue == 0 {
			inUse := min(lanes, int(math.Ceil(float64(w.IdleRecords)*out.MinutesPerRecord/IdleWindow.Minutes()-0.05)))
			out.IdleStaff = max(0, staff-inUse)
		}
	}
	if queue > 0 && minutes > 0 {
		t := now.Add(time.Duration(minutes * float64(time.Minute))).UTC()
		out.ClearsAt = &t
		out.Late = t.After(c.LateCloseTime(c.WorkingDay(now)))
	}
	return out
}

// smoothed is minutes per record measured over records, pulled toward
// nominal by ServicePrior records at the nominal pace.
func smoothed(minutes float64, records int64, nominal float64) float64 {
	return math.Round(10*(minutes+ServicePrior*nominal)/(float64(records)+ServicePrior)) / 10
}
