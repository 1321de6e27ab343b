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
// and their queues and staff summed per unit and status, so that the
// nation's open stations and queues reach the domain as some two hundred
// groups, not ten thousand stations. A count cannot be judged again once
// summed, so the threshold is a parameter the domain computes
// (tiendo.FreshFrom, the instant its rule tiendo.Fresh starts at) rather
// than a constant here; the stations in no usable area stay per station
// and the domain judges them with tiendo.Fresh itself, as do those of
// q.Apart (stations with heartbeats still pending, which the read model
// lays over them). Which status counts as open, and that a home-visit list
// is no queue, are the domain's too: groups are per status, and q.Lists
// names the stations whose queue is a list. Stored times are whole
// seconds, so comparing with LiveFrom rounded up to the second keeps
// exactly the heartbeats Fresh keeps. They come from
// station_minute_latest, whose key starts with the hour: the last quarter
// of an hour is a few granules, where station_latest would merge every
// station's argMax states (at the
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
			for _, a := range areas {
				unitOfArea[a] = unit
			}
			for _, s := range ids {
				// A station of an area the unit takes whole is in its sums
				// (it has rows under that area's district only); one without
				// a pair has no completion stored: its figures are zeros,
				// and reading them costs a query.
				if a, ok := p.soleArea[s]; !(ok && unitOfArea[a] == unit) && p.homes[s] > 0 {
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
		parts := []string{
			// The fresh stations, one row each (part 3: seen, queue, staff,
			// status of the newest heartbeat), summed per unit in Go below
			// with the pairs this round's version check covers. Summing
			// them in SQL joined the whole of district_stations, grouped
			// per station, to these rows on every read: 5-7 ms of the
			// nation snapshot's 30 at ten thousand stations.
			// The hour bounds the key; the minute, which the partitions go
			// by (toYYYYMM), leaves every other month's parts unread (the
			// ts bound implies it: minute is ts's).
			db.sql(`SELECT station, toInt64(3), toInt64(max(toUInt32(ts))), toInt64(argMax(queue, ts)), toInt64(0),
				toInt64(argMax(staff, ts)), argMax(status, ts)
				FROM {db}.station_minute_latest WHERE hour >= toDateTime(%d, 'UTC') AND minute >= toDateTime(%d, 'UTC')
					AND ts >= toDateTime(%d, 'UTC')%s GROUP BY station`,
				liveFrom-liveFrom%3600, liveFrom-liveFrom%60, liveFrom, liveWhere),
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
		var fresh []freshStation
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
				if fresh == nil {
					fresh = make([]freshStation, 0, len(rows))
				}
				fresh = append(fresh, freshStation{station: key, seen: a, queue: int(b), staff: int(r[5].(int64)),
					status: tiendo.StationStatus(r[6].(string))})
			}
		}
		if version != p.version {
			if attempt > 2 {
				return tiendo.UnitFigures{}, fmt.Errorf("unit stats: district_stations keeps changing")
			}
			continue
		}
		f.Live, f.Groups = groupFresh(fresh, p, unitOfArea, q.Apart, q.Lists)
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

// freshStation is a fresh station's newest heartbeat, as UnitStats reads it.
type freshStation struct {
	station      string
	seen         int64 // Unix seconds
	queue, staff int
	status       tiendo.StationStatus
}

// groupFresh sums the fresh stations per unit and status (stations,
// people queueing, home-visit lists, staff) where a station's area, that
// of its only district in the pairs, is one a unit takes whole
// (unitOfArea) and the station is not apart; the others stay one by one,
// whole queue and all, for the domain to judge: a station with no pairs
// or several, one of an area no unit takes whole, and one whose
// heartbeats the read model lays over it.
func groupFresh(fresh []freshStation, p *districtPairs, unitOfArea map[string]string, apart, lists []string) ([]tiendo.StationStats, []tiendo.LiveGroup) {
	isApart, isList := make(map[string]bool, len(apart)), make(map[string]bool, len(lists))
	for _, s := range apart {
		isApart[s] = true
	}
	for _, s := range lists {
		isList[s] = true
	}
	type key struct {
		unit   string
		status tiendo.StationStatus
	}
	sums := map[key]*tiendo.LiveGroup{}
	var live []tiendo.StationStats
	for _, s := range fresh {
		unit, whole := "", false
		if a, ok := p.soleArea[s.station]; ok && !isApart[s.station] {
			unit, whole = unitOfArea[a]
		}
		if !whole {
			live = append(live, tiendo.StationStats{Station: s.station, HasHeartbeat: true, LastSeen: time.Unix(s.seen, 0).UTC(),
				Queue: s.queue, Staff: s.staff, Status: s.status})
			continue
		}
		g := sums[key{unit, s.status}]
		if g == nil {
			g = &tiendo.LiveGroup{Unit: unit, Status: s.status}
			sums[key{unit, s.status}] = g
		}
		g.Stations++
		g.Staff += s.staff
		if isList[s.station] {
			g.Visits += s.queue
		} else {
			g.Queue += s.queue
		}
	}
	groups := make([]tiendo.LiveGroup, 0, len(sums))
	for _, g := range sums {
		groups = append(groups, *g)
	}
	return live, groups
}
