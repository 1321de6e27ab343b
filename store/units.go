package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"tiendo"
)

var _ tiendo.UnitStatsReader = (*DB)(nil)

// UnitStats sums each unit's completion figures from the area rollups of
// migrations 003, 005 and 006 (completions_area_hour, completions_area_totals,
// completions_minute_area), an area being a province in the registry's
// naming: for the nation, a few rows per province instead of StationStats'
// rows per station. An area's sums count for a unit only when the
// district_stations pairs say that every station with rows under it is one
// of the unit's and has rows under no other district (cover, as for
// HourlyCompletions); the unit's stations left over (a station moved in
// from another province, say) are read per station with StationStats and
// added. So the sums never depend on the registry being the same now as
// when the rows were written, and they equal StationStats' summed in Go.
//
// The fresh stations (newest heartbeat at or after q.LiveFrom) are counted
// and their queues and staff summed per province and status, so that the
// nation's open stations and queues are some two hundred rows, not ten
// thousand. A count cannot be judged again once summed, so the threshold
// is a parameter the domain computes (tiendo.FreshFrom, the instant its
// rule tiendo.Fresh starts at) rather than a constant here; the rows of
// stations in no usable area stay per station and the domain judges them
// with tiendo.Fresh itself, as do those of q.Apart (stations with
// heartbeats still pending, which the read model lays over them). Which
// status counts as open, and that a home-visit list is no queue, are the
// domain's too: rows are grouped by status, and q.Lists names the stations
// whose queue is a list. Stored
// times are whole seconds, so comparing with LiveFrom rounded up to the
// second keeps exactly the heartbeats Fresh keeps. They come from station_minute_latest, whose
// key starts with the hour: the last quarter of an hour is a few granules,
// where station_latest would merge every station's argMax states (at the
// nation's ten thousand stations, the bulk of this read). A station that
// has a heartbeat at or after LiveFrom has its newest of all among them, so
// for the fresh stations these rows are station_latest's.
func (db *DB) UnitStats(ctx context.Context, q tiendo.UnitStatsQuery) (tiendo.UnitFigures, error) {
	var all []string
	for _, ids := range q.Units {
		all = append(all, ids...)
	}
	if len(all) == 0 {
		return tiendo.UnitFigures{}, nil
	}
	now, dayStart := q.Now.Unix(), q.DayStart.Unix()
	recentFrom := dayStart
	if !q.RecentFrom.IsZero() && q.RecentFrom.Before(q.DayStart) {
		recentFrom = q.RecentFrom.Unix()
	}
	liveFrom := q.LiveFrom.Unix()
	if q.LiveFrom.Nanosecond() > 0 {
		liveFrom++
	}
	today := fmt.Sprintf("hour >= toDateTime(%d, 'UTC')", dayStart)
	lastFrom := tiendo.LastHourFrom(q.Now).Unix()
	liveWhere := ""
	if !q.All {
		sort.Strings(all)
		liveWhere = " AND station IN " + InSet(all)
	}
	for attempt := 0; ; attempt++ {
		p := db.pairs.Load()
		if p == nil || attempt > 0 {
			var err error
			if p, err = db.loadPairs(ctx); err != nil {
				return tiendo.UnitFigures{}, fmt.Errorf("unit stats: %w", err)
			}
		}
		unitOfArea := map[string]string{}
		rest := map[string][]string{} // unit → its stations read one by one
		for unit, ids := range q.Units {
			areas, _, _ := p.cover(ids)
			covered := map[string]bool{}
			for _, a := range areas {
				unitOfArea[a] = unit
				for _, s := range p.byArea[a] {
					covered[s] = true
				}
			}
			for _, s := range ids {
				// A station without a pair has no completion stored: its
				// figures are zeros, and reading them costs a query.
				if !covered[s] && p.homes[s] > 0 {
					rest[unit] = append(rest[unit], s)
				}
			}
		}
		// Every branch yields (key, part, a, b, c, d, status); part says
		// which figures a row carries, as in StationStats.
		const zeros = "toInt64(0), toInt64(0), ''"
		areas := make([]string, 0, len(unitOfArea))
		for a := range unitOfArea {
			areas = append(areas, a)
		}
		sort.Strings(areas)
		usable := "0"
		if len(areas) > 0 {
			usable = "area IN " + InSet(areas)
			if len(q.Apart) > 0 {
				apart := append([]string(nil), q.Apart...)
				sort.Strings(apart)
				usable = "(" + usable + " AND station NOT IN " + InSet(apart) + ")"
			}
		}
		lists := "0"
		if len(q.Lists) > 0 {
			lists = "station IN " + InSet(q.Lists)
		}
		parts := []string{
			// The fresh stations by the status of their newest heartbeat:
			// summed per area (part 4: stations, queue, list, staff) where
			// the area is one a unit takes whole, one by one otherwise (part
			// 3: seen, queue as a queue, queue as a list, staff). A station's area is its only
			// district's in district_stations; one with none or several is
			// in no usable area (cover), so its row stays its own.
			db.sql(`SELECT if(whole, area, station) AS key, toInt64(if(whole, 4, 3)),
				toInt64(if(whole, count(), max(toUInt32(seen)))), toInt64(sum(if(list, 0, queue))),
				toInt64(sum(if(list, queue, 0))), toInt64(sum(staff)), status
				FROM (SELECT station, seen, status, queue, staff, area, `+usable+` AS whole, `+lists+` AS list
					FROM (SELECT station, max(ts) AS seen, argMax(status, ts) AS status, toInt64(argMax(queue, ts)) AS queue,
						toInt64(argMax(staff, ts)) AS staff
						FROM {db}.station_minute_latest WHERE hour >= toDateTime(%d, 'UTC') AND ts >= toDateTime(%d, 'UTC')%s GROUP BY station) AS l
					ANY LEFT JOIN (SELECT station, substring(any(district), 1, length(any(district)) - position(reverse(any(district)), '-')) AS area
						FROM {db}.district_stations GROUP BY station HAVING uniqExact(district) = 1) AS d USING station)
				GROUP BY key, whole, area, status`, liveFrom-liveFrom%3600, liveFrom, liveWhere),
			db.sql("SELECT '', toInt64(-1), toInt64(uniqExact(district, station)), toInt64(0), " + zeros + " FROM {db}.district_stations"),
		}
		if len(areas) > 0 {
			in := InSet(areas)
			parts = append(parts,
				db.sql("SELECT area, toInt64(0), toInt64(sum(records)), toInt64(sum(retries)), "+zeros+
					" FROM {db}.completions_area_totals WHERE area IN %s GROUP BY area", in),
				db.sql("SELECT area, toInt64(1), toInt64(sumIf(records, "+today+")), toInt64(sumIf(records, NOT ("+today+"))), "+zeros+
					" FROM {db}.completions_area_hour WHERE area IN %s AND hour >= toDateTime(%d, 'UTC') AND hour <= toDateTime(%d, 'UTC') GROUP BY area",
					in, recentFrom, now),
				db.sql("SELECT area, toInt64(2), toInt64(sum(records)), toInt64(0), "+zeros+
					" FROM {db}.completions_minute_area WHERE minute >= toDateTime(%d, 'UTC') AND minute <= toDateTime(%d, 'UTC') AND area IN %s GROUP BY area",
					lastFrom, now, in))
		}
		rows, err := db.queryParts(ctx, parts)
		if err != nil {
			return tiendo.UnitFigures{}, fmt.Errorf("unit stats: %w", err)
		}
		var version int64 = -1
		f := tiendo.UnitFigures{Apart: q.Apart}
		byUnit := map[string]*tiendo.UnitStats{}
		unit := func(id string) *tiendo.UnitStats {
			if byUnit[id] == nil {
				byUnit[id] = &tiendo.UnitStats{Unit: id}
			}
			return byUnit[id]
		}
		for _, r := range rows {
			key, a, b := r[0].(string), r[2].(int64), r[3].(int64)
			switch r[1].(int64) {
			case -1:
				version = a
			case 0:
				u := unit(unitOfArea[key])
				u.Completed += a
				u.Retries += b
			case 1:
				u := unit(unitOfArea[key])
				u.CompletedToday += a
				u.RecentRecords += b
			case 2:
				unit(unitOfArea[key]).LastHour += a
			case 3:
				f.Live = append(f.Live, tiendo.StationStats{Station: key, HasHeartbeat: true, LastSeen: time.Unix(a, 0).UTC(),
					Queue: int(b + r[4].(int64)), Staff: int(r[5].(int64)), Status: tiendo.StationStatus(r[6].(string))})
			case 4:
				f.Groups = append(f.Groups, tiendo.LiveGroup{Unit: unitOfArea[key], Status: tiendo.StationStatus(r[6].(string)),
					Stations: int(a), Queue: int(b), Visits: int(r[4].(int64)), Staff: int(r[5].(int64))})
			}
		}
		if version != p.version {
			if attempt > 2 {
				return tiendo.UnitFigures{}, fmt.Errorf("unit stats: district_stations keeps changing")
			}
			continue
		}
		for id, ids := range rest {
			stats, err := db.StationStats(ctx, tiendo.StatsQuery{Stations: ids, DayStart: q.DayStart, Now: q.Now, RecentFrom: q.RecentFrom})
			if err != nil {
				return tiendo.UnitFigures{}, fmt.Errorf("unit stats: %w", err)
			}
			u := unit(id)
			for _, s := range stats {
				u.Completed += s.Completed
				u.Retries += s.Retries
				u.CompletedToday += s.CompletedToday
				u.LastHour += s.LastHour
				u.RecentRecords += s.RecentRecords
			}
		}
		for _, u := range byUnit {
			f.Units = append(f.Units, *u)
		}
		sort.Slice(f.Units, func(i, j int) bool { return f.Units[i].Unit < f.Units[j].Unit })
		sort.Slice(f.Live, func(i, j int) bool { return f.Live[i].Station < f.Live[j].Station })
		sort.Slice(f.Groups, func(i, j int) bool {
			if f.Groups[i].Unit != f.Groups[j].Unit {
				return f.Groups[i].Unit < f.Groups[j].Unit
			}
			return f.Groups[i].Status < f.Groups[j].Status
		})
		return f, nil
	}
}
