package tiendo

import (
	"math"
	"sort"
	"time"
)

// The alert rules: when each kind's condition holds, how bad it is and the
// figure that says so, read from a province snapshot's decision figures so
// that an alert never disagrees with the numbers beside it on a screen.
// The server's alert engine (package alerting) runs them every live round
// and opens, keeps and resolves alerts as they say; nothing else decides
// whether an alert stands.
//
// Each kind opens at its threshold and, once open, holds a little below it
// (the keep threshold), so that a wait wavering at 120 minutes is one
// alert, not one every other heartbeat; the engine then resolves an alert
// only after even the keep threshold has failed for AlertClearAfter.

// Severities of an alert.
const (
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// The keep thresholds, as a part of each opening threshold, and what makes
// an alert critical.
const (
	// KeepWaitShare: an open long wait holds down to 90 % of the long wait.
	KeepWaitShare = 0.9
	// KeepSlowdownMargin: an open slowdown holds up to the slowdown share
	// plus 0.1 of yesterday (0.6 of it by default).
	KeepSlowdownMargin = 0.1
	// KeepLateClose: an open late close holds while the queue clears
	// within 15 minutes before the late hour.
	KeepLateClose = 15 * time.Minute
	// A silence of twice the silent threshold, a wait of 1.5 times the
	// long wait, a queue clearing an hour or more past the late hour, a
	// last hour under half the slowdown share, a district more than 10 %
	// of its expected records behind: critical; under these, a warning.
	criticalSilence  = 2.0
	criticalWait     = 1.5
	criticalLate     = time.Hour
	criticalSlowdown = 0.5
	criticalGapShare = 0.1
)

// AlertCondition is one alert's condition as it holds at an instant: its
// kind, what it is about (a station, with its district; or a district
// alone, for its pace), how bad, and the figure that crossed the threshold.
type AlertCondition struct {
	Kind     AlertKind
	Station  string
	District string
	Unit     string // a unit above the districts, for its pace
	Severity string
	Value    float64
}

// Subject is the id an alert is about: its station's, or its district's
// or unit's for the pace of one. Kind and Subject name one alert at a
// time (ids of stations and units never meet: the registry checks).
func (a AlertCondition) Subject() string { return alertSubject(a.Station, a.District, a.Unit) }

// Subject is the id the alert is about (see AlertCondition.Subject).
func (a *Alert) Subject() string { return alertSubject(a.Station, a.District, a.Unit) }

func alertSubject(station, district, unit string) string {
	switch {
	case station != "":
		return station
	case district != "":
		return district
	}
	return unit
}

// AlertKey names an alert's kind and subject, the pair of which at most
// one alert is open at a time.
type AlertKey struct {
	Kind    AlertKind
	Subject string
}

// AlertConditions returns the alerts whose conditions hold in snap, which
// should be a province snapshot (a smaller scope's gives its own stations'
// alerts only, and no district's). open names the alerts open now: for
// those the keep thresholds apply, for the others the opening ones. The
// result is ordered by kind, then subject.
func (c *Campaign) AlertConditions(snap *Snapshot, open func(AlertKey) bool) []AlertCondition {
	if open == nil {
		open = func(AlertKey) bool { return false }
	}
	var out []AlertCondition
	add := func(kind AlertKind, s *StationState, severity string, value float64) {
		out = append(out, AlertCondition{Kind: kind, Station: s.ID, District: s.District, Severity: severity, Value: value})
	}
	silentAfter, longWait := c.SilentAfter(), c.LongWait()
	lateClose := c.LateCloseTime(snap.Day)
	for i := range snap.Stations {
		s := &snap.Stations[i]
		isOpen := func(kind AlertKind) bool { return open(AlertKey{kind, s.ID}) }

		// Silent: its last word today was "open", and nothing since.
		if s.LastSeen != nil && s.ReportedStatus == StatusOpen && c.WorkingDay(*s.LastSeen) == snap.Day {
			if quiet := snap.Now.Sub(*s.LastSeen); quiet >= silentAfter {
				add(AlertSilent, s, severity(quiet.Minutes() >= criticalSilence*silentAfter.Minutes()), math.Floor(quiet.Minutes()))
			}
		}

		// Long wait: the wait of a citizen joining now.
		if s.WaitMinutes != nil {
			limit := longWait
			if isOpen(AlertLongWait) {
				limit = KeepWaitShare * longWait
			}
			if w := *s.WaitMinutes; w > limit {
				add(AlertLongWait, s, severity(w >= criticalWait*longWait), w)
			}
		}

		// Late close: the present queue clears after the late hour.
		if s.ClearsAt != nil {
			limit := lateClose
			if isOpen(AlertLateClose) {
				limit = lateClose.Add(-KeepLateClose)
			}
			if past := s.ClearsAt.Sub(lateClose); s.ClearsAt.After(limit) {
				add(AlertLateClose, s, severity(past >= criticalLate), math.Round(past.Minutes()))
			}
		}

		// Slowdown: people wait, and the last hour brought under the
		// share of the same hour yesterday, when that hour was not quiet.
		if s.Queue > 0 && (s.Status == StatusOpen || s.Status == StatusPaused) && s.PerHourYesterday > 0 &&
			s.PerHourYesterday >= c.SlowdownMinimum() {
			share := c.SlowdownBelow()
			limit := share
			if isOpen(AlertSlowdown) {
				limit = min(share+KeepSlowdownMargin, 1)
			}
			if ratio := float64(s.PerHour) / float64(s.PerHourYesterday); ratio < limit {
				add(AlertSlowdown, s, severity(ratio < criticalSlowdown*share), round2(ratio))
			}
		}
	}

	// Behind: a district's pace says it will not make its deadline; in a
	// national snapshot, a province's.
	behind := func(u *UnitState) (AlertCondition, bool) {
		if u.Pace == nil || u.Pace.State != PaceBehind {
			return AlertCondition{}, false
		}
		critical := u.Pace.ExpectedToDate > 0 && float64(-u.Pace.Gap) > criticalGapShare*float64(u.Pace.ExpectedToDate)
		return AlertCondition{Kind: AlertBehind, Severity: severity(critical), Value: float64(u.Pace.Gap)}, true
	}
	for i := range snap.Districts {
		if a, ok := behind(&snap.Districts[i]); ok {
			a.District = snap.Districts[i].ID
			out = append(out, a)
		}
	}
	for i := range snap.Units {
		if a, ok := behind(&snap.Units[i]); ok {
			a.Unit = snap.Units[i].ID
			out = append(out, a)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return alertKindOrder[out[i].Kind] < alertKindOrder[out[j].Kind]
		}
		return out[i].Subject() < out[j].Subject()
	})
	return out
}

// AlertKinds lists the kinds, in the order lists and metrics name them.
func AlertKinds() []AlertKind {
	return []AlertKind{AlertSilent, AlertLongWait, AlertLateClose, AlertSlowdown, AlertBehind}
}

var alertKindOrder = map[AlertKind]int{AlertSilent: 0, AlertLongWait: 1, AlertLateClose: 2, AlertSlowdown: 3, AlertBehind: 4}

func severity(critical bool) string {
	if critical {
		return SeverityCritical
	}
	return SeverityWarning
}

// AlertInScope reports whether scope shows alert a: the province every
// alert; a district its own alerts and those of the stations reg files
// under it (a station reg no longer knows by the district it had); a
// station its own.
func AlertInScope(reg *Registry, scope Scope, a *Alert) bool {
	if a.Unit != "" && a.Station == "" && a.District == "" {
		switch scope.Kind {
		case ScopeProvince:
			return true
		case ScopeUnit:
			return reg.Within(Scope{Kind: ScopeUnit, ID: a.Unit}, scope.ID)
		}
		return false
	}
	switch scope.Kind {
	case ScopeProvince:
		return true
	case ScopeStation:
		return a.Station == scope.ID
	case ScopeDistrict:
		if a.Station == "" {
			return a.District == scope.ID
		}
		if st := reg.Station(a.Station); st != nil {
			return st.District == scope.ID
		}
		return a.District == scope.ID
	case ScopeUnit:
		if st := reg.Station(a.Station); a.Station != "" && st != nil {
			return reg.Within(Scope{Kind: ScopeStation, ID: st.ID}, scope.ID)
		}
		return reg.Within(Scope{Kind: ScopeDistrict, ID: a.District}, scope.ID)
	}
	return false
}

// SortAlerts orders alerts as lists and screens show them: critical
// first, then the newest, then by id.
func SortAlerts(alerts []Alert) {
	sort.SliceStable(alerts, func(i, j int) bool {
		a, b := &alerts[i], &alerts[j]
		if (a.Severity == SeverityCritical) != (b.Severity == SeverityCritical) {
			return a.Severity == SeverityCritical
		}
		if !a.Since.Equal(b.Since) {
			return a.Since.After(b.Since)
		}
		return a.ID < b.ID
	})
}
