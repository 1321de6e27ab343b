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
			s.Completed += int64(e.Count)
			s.Retries += int64(e.FingerprintRetries)
			// Bucketed as the store buckets them: by the hour and minute the event falls in.
			h := hourStart(e.TS)
			if !h.Before(q.DayStart) && !h.After(q.Now) {
				s.CompletedToday += int64(e.Count)
			}
			if !q.RecentFrom.IsZero() && !h.Before(q.RecentFrom) && h.Before(q.DayStart) {
				s.RecentRecords += int64(e.Count)
			}
			if m := minuteStart(e.TS); !m.Before(LastHourFrom(q.Now)) && !m.After(q.Now) {
				s.LastHour += int64(e.Count)
			}
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
