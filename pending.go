package tiendo

import (
	"sort"
	"time"
)

// AddPending adds events accepted but not yet in ClickHouse (the spool) to
// stored per-station figures, so that screens keep counting while storage
// is behind. Only stations in q.Stations count (all when nil).
func AddPending(stats []StationStats, pending []Event, q StatsQuery) []StationStats {
	if len(pending) == 0 {
		return stats
	}
	want := map[string]bool{}
	for _, id := range q.Stations {
		want[id] = true
	}
	byID := make(map[string]int, len(stats))
	for i := range stats {
		byID[stats[i].Station] = i
	}
	yesterdayFrom, yesterdayTo := YesterdayHour(q.Now)
	for i := range pending {
		e := &pending[i]
		if q.Stations != nil && !want[e.Station] {
			continue
		}
		j, ok := byID[e.Station]
		if !ok {
			stats = append(stats, StationStats{Station: e.Station})
			j = len(stats) - 1
			byID[e.Station] = j
		}
		s := &stats[j]
		switch e.Type {
		case TypeCompletion:
			completionSums{&s.Completed, &s.Retries, &s.CompletedToday, &s.RecentRecords, &s.LastHour}.add(e, q.DayStart, q.Now, q.RecentFrom)
			if m := minuteStart(e.TS); !m.Before(yesterdayFrom) && !m.After(yesterdayTo) {
				s.LastHourYesterday += int64(e.Count)
			}
		case TypeHeartbeat:
			if !s.HasHeartbeat || !e.TS.Before(s.LastSeen) {
				s.HasHeartbeat, s.LastSeen = true, e.TS.UTC()
				s.Status, s.Queue, s.Staff, s.Lanes = e.Status, e.Queue, e.Staff, e.Lanes
				if e.HasPos {
					s.Lat, s.Lon = e.Lat, e.Lon
				}
			}
		}
	}
	sort.Slice(stats, func(a, b int) bool { return stats[a].Station < stats[b].Station })
	return stats
}

// completionSums are the stored completion figures that a pending
// completion adds to, a station's (StationStats) or a unit's (UnitStats).
type completionSums struct{ completed, retries, today, recent, lastHour *int64 }

// add counts completion e in the time windows it falls in, bucketed as the
// store buckets them, by the hour and the minute of its time: today (from
// dayStart to now), the recent pace's days (from recentFrom, when set, to
// dayStart) and the last hour (LastHourFrom to now).
func (c completionSums) add(e *Event, dayStart, now, recentFrom time.Time) {
	n := int64(e.Count)
	*c.completed += n
	*c.retries += int64(e.FingerprintRetries)
	if h := hourStart(e.TS); !h.Before(dayStart) && !h.After(now) {
		*c.today += n
	} else if !recentFrom.IsZero() && !h.Before(recentFrom) && h.Before(dayStart) {
		*c.recent += n
	}
	if m := minuteStart(e.TS); !m.Before(LastHourFrom(now)) && !m.After(now) {
		*c.lastHour += n
	}
}

// AddPendingUnits adds the events not yet in ClickHouse to figures summed
// per unit (UnitStats' answer to q), as AddPending adds them to a
// station's: a completion to its station's unit, in the same windows. A
// heartbeat replaces its station's stored state when it is newer, which
// only a station the figures hold one by one can show (f.Apart: the
// query's Apart, the stations with heartbeats pending when it read; their
// fresh states are in f.Live). A pending heartbeat of a station summed into
// a group is left out, its group keeping the stored state: that happens only
// when the figures are older than the events (cached while ClickHouse is
// away), and it counts the station once rather than twice. f is not
// changed: its slices may be a cache's.
func AddPendingUnits(f UnitFigures, pending []Event, q UnitStatsQuery) UnitFigures {
	if len(pending) == 0 {
		return f
	}
	unitOf := map[string]string{}
	for unit, ids := range q.Units {
		for _, id := range ids {
			unitOf[id] = unit
		}
	}
	apart := make(map[string]bool, len(f.Apart))
	for _, id := range f.Apart {
		apart[id] = true
	}
	out := UnitFigures{Groups: f.Groups, Apart: f.Apart,
		Units: append([]UnitStats(nil), f.Units...), Live: append([]StationStats(nil), f.Live...)}
	units := make(map[string]int, len(out.Units))
	for i := range out.Units {
		units[out.Units[i].Unit] = i
	}
	live := make(map[string]int, len(out.Live))
	for i := range out.Live {
		live[out.Live[i].Station] = i
	}
	for i := range pending {
		e := &pending[i]
		unit, ok := unitOf[e.Station]
		if !ok {
			continue // not in the scope
		}
		switch e.Type {
		case TypeCompletion:
			j, ok := units[unit]
			if !ok {
				out.Units = append(out.Units, UnitStats{Unit: unit})
				j = len(out.Units) - 1
				units[unit] = j
			}
			u := &out.Units[j]
			completionSums{&u.Completed, &u.Retries, &u.CompletedToday, &u.RecentRecords, &u.LastHour}.add(e, q.DayStart, q.Now, q.RecentFrom)
		case TypeHeartbeat:
			if !apart[e.Station] {
				continue
			}
			j, ok := live[e.Station]
			if !ok {
				out.Live = append(out.Live, StationStats{Station: e.Station})
				j = len(out.Live) - 1
				live[e.Station] = j
			}
			s := &out.Live[j]
			if !s.HasHeartbeat || !e.TS.Before(s.LastSeen) {
				s.HasHeartbeat, s.LastSeen = true, e.TS.UTC()
				s.Status, s.Queue, s.Staff = e.Status, e.Queue, e.Staff
			}
		}
	}
	sort.Slice(out.Units, func(a, b int) bool { return out.Units[a].Unit < out.Units[b].Unit })
	sort.Slice(out.Live, func(a, b int) bool { return out.Live[a].Station < out.Live[b].Station })
	return out
}

// HeartbeatStations are the stations with a heartbeat among events, sorted:
// a UnitStatsQuery's Apart for the events pending at its read.
func HeartbeatStations(events []Event) []string {
	seen := map[string]bool{}
	var out []string
	for i := range events {
		if e := &events[i]; e.Type == TypeHeartbeat && !seen[e.Station] {
			seen[e.Station] = true
			out = append(out, e.Station)
		}
	}
	sort.Strings(out)
	return out
}

// LastHourFrom is where "the last 60 minutes" up to now start, at the
// minute granularity of the rollups: the minute that holds now − 1 h, so
// the window covers 60 minutes and at most a minute more, never less.
func LastHourFrom(now time.Time) time.Time { return minuteStart(now.Add(-time.Hour)) }

// YesterdayHour is the window of "the same hour yesterday" at now: the
// last hour's window (LastHourFrom) moved back 24 hours, from the minute
// holding now − 25 h to now − 24 h, counted in whole minutes as the
// last hour is, so that the two counts compare like with like.
func YesterdayHour(now time.Time) (from, to time.Time) {
	day := now.Add(-24 * time.Hour)
	return LastHourFrom(day), day
}

// AddPendingService adds the spool's heartbeats and completions to a
// service query's answer, as the store would give them: each heartbeat a
// sample, completions summed by station and minute. Both come back sorted
// by station and time.
func AddPendingService(samples []ServiceSample, minutes []MinuteCount, pending []Event, q ServiceQuery) ([]ServiceSample, []MinuteCount) {
	want := map[string]bool{}
	for _, id := range q.Stations {
		want[id] = true
	}
	type key struct {
		station string
		minute  int64
	}
	idx := make(map[key]int, len(minutes))
	for i, m := range minutes {
		idx[key{m.Station, m.Minute.Unix()}] = i
	}
	added := false
	for i := range pending {
		e := &pending[i]
		if q.Stations != nil && !want[e.Station] {
			continue
		}
		switch e.Type {
		case TypeHeartbeat:
			if e.TS.Before(q.From) || e.TS.After(q.To) {
				continue
			}
			added = true
			samples = append(samples, ServiceSample{Station: e.Station, At: e.TS.UTC(), Status: e.Status,
				Queue: e.Queue, Staff: e.Staff, Lanes: e.Lanes})
		case TypeCompletion:
			// Whole minutes, as the store counts them: the minute holding
			// From up to To.
			if m := minuteStart(e.TS); m.Before(minuteStart(q.From)) || m.After(q.To) {
				continue
			}
			added = true
			k := key{e.Station, minuteStart(e.TS).Unix()}
			j, ok := idx[k]
			if !ok {
				minutes = append(minutes, MinuteCount{Station: e.Station, Minute: minuteStart(e.TS)})
				j = len(minutes) - 1
				idx[k] = j
			}
			minutes[j].Records += int64(e.Count)
		}
	}
	if added {
		sort.SliceStable(samples, func(a, b int) bool {
			if samples[a].Station != samples[b].Station {
				return samples[a].Station < samples[b].Station
			}
			return samples[a].At.Before(samples[b].At)
		})
		sort.Slice(minutes, func(a, b int) bool {
			if minutes[a].Station != minutes[b].Station {
				return minutes[a].Station < minutes[b].Station
			}
			return minutes[a].Minute.Before(minutes[b].Minute)
		})
	}
	return samples, minutes
}

// ServedByStation measures every station's service window from a service
// query's answer (sorted by station and time), keyed by station.
func ServedByStation(samples []ServiceSample, minutes []MinuteCount, now time.Time) map[string]Served {
	out := map[string]Served{}
	for i := 0; i < len(samples); {
		j := i
		for j < len(samples) && samples[j].Station == samples[i].Station {
			j++
		}
		st := samples[i].Station
		out[st] = MeasureServed(samples[i:j], minutesOf(minutes, st), now)
		i = j
	}
	for _, m := range minutes {
		if _, ok := out[m.Station]; !ok {
			out[m.Station] = MeasureServed(nil, minutesOf(minutes, m.Station), now)
		}
	}
	return out
}

// minutesOf is the run of station's minutes in a sorted slice.
func minutesOf(minutes []MinuteCount, station string) []MinuteCount {
	i := sort.Search(len(minutes), func(k int) bool { return minutes[k].Station >= station })
	j := i
	for j < len(minutes) && minutes[j].Station == station {
		j++
	}
	return minutes[i:j]
}

// AddPendingHours adds pending completions to hourly series as the store
// would bucket them (UTC hours in [q.From, q.To), per station when q.ByStation).
func AddPendingHours(hours []HourCount, pending []Event, q SeriesQuery) []HourCount {
	want := map[string]bool{}
	for _, id := range q.Stations {
		want[id] = true
	}
	type key struct {
		station string
		hour    int64
	}
	idx := make(map[key]int, len(hours))
	for i, h := range hours {
		idx[key{h.Station, h.Hour.Unix()}] = i
	}
	added := false
	for i := range pending {
		e := &pending[i]
		if e.Type != TypeCompletion || (q.Stations != nil && !want[e.Station]) {
			continue
		}
		h := hourStart(e.TS)
		if h.Before(q.From) || !h.Before(q.To) {
			continue
		}
		k := key{hour: h.Unix()}
		if q.ByStation {
			k.station = e.Station
		}
		j, ok := idx[k]
		if !ok {
			hours = append(hours, HourCount{Station: k.station, Hour: h})
			j = len(hours) - 1
			idx[k] = j
		}
		hours[j].Records += int64(e.Count)
		hours[j].Retries += int64(e.FingerprintRetries)
		added = true
	}
	if added {
		sort.Slice(hours, func(a, b int) bool {
			if hours[a].Station != hours[b].Station {
				return hours[a].Station < hours[b].Station
			}
			return hours[a].Hour.Before(hours[b].Hour)
		})
	}
	return hours
}

func hourStart(t time.Time) time.Time   { return t.UTC().Truncate(time.Hour) }
func minuteStart(t time.Time) time.Time { return t.UTC().Truncate(time.Minute) }
