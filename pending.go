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
			if h := hourStart(e.TS); !h.Before(q.DayStart) && !h.After(q.Now) {
				s.CompletedToday += int64(e.Count)
			}
			if m := minuteStart(e.TS); m.After(q.Now.Add(-time.Hour)) && !m.After(q.Now) {
				s.LastHour += int64(e.Count)
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
