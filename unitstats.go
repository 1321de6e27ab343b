package tiendo

import (
	"context"
	"sort"
	"time"
)

// Fresh reports whether a heartbeat seen at lastSeen still tells the
// station's state at now: within StaleAfter. Past that a snapshot shows
// the station offline. Both snapshot paths (per station, per unit) judge
// freshness here.
func Fresh(lastSeen, now time.Time) bool { return now.Sub(lastSeen) <= StaleAfter }

// FreshFrom is the oldest heartbeat time that is Fresh at now. A store
// that sums per unit gets it as a parameter, so that it returns only the
// stations Fresh may keep, and the rule itself stays here.
func FreshFrom(now time.Time) time.Time { return now.Add(-StaleAfter) }

// UnitStatsQuery asks for the stored figures of a scope's units at one
// instant, each unit summed over its stations.
type UnitStatsQuery struct {
	// Units maps each unit to its stations, as the registry places them
	// now; "" holds the scope's stations under none of the units.
	Units map[string][]string
	// All says the units hold every station of the campaign (the scope is
	// its top): the heartbeat read then needs no station list.
	All        bool
	DayStart   time.Time // start of the current working day
	Now        time.Time // the last hour is [minute of Now-1h, Now], as in StatsQuery
	RecentFrom time.Time // start of the recent pace's window, which ends at DayStart
	// LiveFrom is FreshFrom(Now): heartbeats older than it are stale.
	LiveFrom time.Time
	// Lists are the stations whose queue is a home-visit list, not people
	// waiting (splitQueue): a store summing queues per unit sums the two apart.
	Lists []string
	// Apart are stations whose fresh state comes back one by one (in
	// UnitFigures.Live) even where their unit's are summed: those with
	// heartbeats not yet in the store, which AddPendingUnits lays over
	// their stored state as AddPending does over a station's.
	Apart []string
}

// UnitStats are the stored completion figures of one unit's stations,
// summed; the fields mean what StationStats' do.
type UnitStats struct {
	Unit           string
	Completed      int64
	Retries        int64
	CompletedToday int64
	LastHour       int64
	RecentRecords  int64
}

// UnitFigures answer a UnitStatsQuery: the units' sums, and the stations
// heard from at or after LiveFrom, by the status of their newest heartbeat:
// summed per unit and status in Groups where the store can tell a station's
// unit, one by one in Live (HasHeartbeat, LastSeen, Status, Queue, Staff)
// otherwise. A station counts in one of the two at most.
type UnitFigures struct {
	Units  []UnitStats
	Groups []LiveGroup
	Live   []StationStats
	// Apart is the query's Apart: stations in Live, never in Groups.
	Apart []string
}

// LiveGroup sums the fresh stations of one unit whose newest heartbeat
// says Status: how many, the people waiting at them, the households left
// on home-visit lists, and their officers.
type LiveGroup struct {
	Unit     string
	Status   StationStatus
	Stations int
	Queue    int
	Visits   int
	Staff    int
}

// UnitStatsReader is implemented by stores that keep rollups per unit
// (store.DB does, per province).
type UnitStatsReader interface {
	UnitStats(ctx context.Context, q UnitStatsQuery) (UnitFigures, error)
}

// unitGroups places each of a scope's stations in the unit right under the
// scope it belongs to (the one BuildSnapshot sums it into), "" for none.
func (r *Registry) unitGroups(scope Scope) (map[string]*UnitState, []UnitState, map[string][]*Station) {
	unitOf, units := r.childUnits(scope)
	groups := map[string][]*Station{}
	for _, st := range r.StationsIn(scope) {
		id := ""
		if u := unitAmong(r, st, unitOf); u != nil {
			id = u.ID
		}
		groups[id] = append(groups[id], st)
	}
	return unitOf, units, groups
}

// childUnits are the units right under a scope, nothing counted yet, and
// an index of them by id (pointing into the slice).
func (r *Registry) childUnits(scope Scope) (map[string]*UnitState, []UnitState) {
	var units []UnitState
	for _, u := range r.Children(scope) {
		units = append(units, UnitState{ID: u.ID, Name: u.Name, Short: u.Short, Level: u.Level, Quota: u.Quota})
	}
	unitOf := make(map[string]*UnitState, len(units))
	for i := range units {
		unitOf[units[i].ID] = &units[i]
	}
	return unitOf, units
}

// UnitStatsQueryAt is the query BuildUnitSnapshot needs for scope at now.
func (r *Registry) UnitStatsQueryAt(scope Scope, now time.Time) UnitStatsQuery {
	c := r.Campaign
	day := c.WorkingDay(now)
	recentFrom, _, _ := c.RecentWindow(day)
	_, _, groups := r.unitGroups(scope)
	q := UnitStatsQuery{Units: make(map[string][]string, len(groups)), All: scope.Kind == ScopeProvince,
		DayStart: c.DayStart(day), Now: now, RecentFrom: recentFrom, LiveFrom: FreshFrom(now)}
	for id, sts := range groups {
		ids := make([]string, len(sts))
		for i, st := range sts {
			ids[i] = st.ID
			if _, visits := splitQueue(st.Kind, 1); visits > 0 {
				q.Lists = append(q.Lists, st.ID)
			}
		}
		sort.Strings(ids)
		q.Units[id] = ids
	}
	sort.Strings(q.Lists)
	return q
}

// BuildUnitSnapshot is the snapshot of a scope above province level (the
// nation) from figures summed per unit: what BuildSnapshot gives for its
// totals, pace and units (records, today, last hour, people waiting,
// home-visit lists, staff, stations, open and offline stations, percent
// done, pace, the ranking), by the same rules, from a few stored rows per
// unit instead of several per station. What needs each station's service
// window (waits, idle officers, late queues, and so the attention lists
// and the idle and late counts) is left out (Attention nil, counts 0): station figures,
// whose inputs (ServiceSamples) are the largest read of a per-station
// nation snapshot (bench/README.md, "Whole snapshots"); a page above
// province level has them from a drill-down and the alerts.
func BuildUnitSnapshot(reg *Registry, scope Scope, f UnitFigures, profile HourProfile, now time.Time) *Snapshot {
	snap := newSnapshot(reg, scope, now)
	unitOf, units, stationsOf := reg.unitGroups(scope)
	groups := map[string][]LiveGroup{}
	for _, g := range f.Groups {
		groups[g.Unit] = append(groups[g.Unit], g)
	}
	fresh := 0
	byUnit := make(map[string]*UnitStats, len(f.Units))
	for i := range f.Units {
		byUnit[f.Units[i].Unit] = &f.Units[i]
	}
	live := make(map[string]*StationStats, len(f.Live))
	for i := range f.Live {
		live[f.Live[i].Station] = &f.Live[i]
	}
	t := &snap.Totals
	t.Target = reg.Target(scope)
	var retries, recent int64
	unitRecent := map[string]int64{}
	for id, sts := range stationsOf {
		d := unitOf[id] // nil for the stations under none of the units
		if us := byUnit[id]; us != nil {
			t.Completed += us.Completed
			t.CompletedToday += us.CompletedToday
			t.PerHour += us.LastHour
			retries += us.Retries
			recent += us.RecentRecords
			if d != nil {
				d.Completed, d.CompletedToday, d.PerHour = us.Completed, us.CompletedToday, us.LastHour
				unitRecent[id] = us.RecentRecords
			}
		}
		t.Stations += len(sts)
		if d != nil {
			d.Stations += len(sts)
		}
		add := func(status StationStatus, stations, queue, visits, staff int) {
			if status == StatusOffline {
				return
			}
			fresh += stations
			t.Queue += queue
			t.ListVisits += visits
			t.Staff += staff
			if status == StatusOpen {
				t.StationsOpen += stations
			}
			if d != nil {
				if status == StatusOpen {
					d.StationsOpen += stations
				}
				d.Queue += queue
				d.ListVisits += visits
			}
		}
		for _, st := range sts {
			if ss := live[st.ID]; ss != nil {
				status, queue, visits, staff := liveState(st, ss, now)
				add(status, 1, queue, visits, staff)
			}
		}
		for _, g := range groups[id] {
			add(g.Status, g.Stations, g.Queue, g.Visits, g.Staff)
		}
	}
	// A station neither fresh one by one nor in a group is offline.
	t.StationsOffline = t.Stations - fresh
	snap.Stations = []StationState{}
	snap.unlisted = !reg.ListsStations(scope)
	finishSnapshot(reg, snap, units, unitRecent, retries, recent, profile, now)
	return snap
}

// liveState is what a station's newest heartbeat says at now, as
// BuildSnapshot reads it: its status, people waiting, households left on
// a home-visit list and officers while the heartbeat is Fresh; offline and
// nothing once it is stale or when there is none.
func liveState(st *Station, ss *StationStats, now time.Time) (status StationStatus, queue, visits, staff int) {
	if ss == nil || !ss.HasHeartbeat || !Fresh(ss.LastSeen, now) {
		return StatusOffline, 0, 0, 0
	}
	queue, visits = splitQueue(st.Kind, ss.Queue)
	return ss.Status, queue, visits, ss.Staff
}

// splitQueue tells a queue of people (fixed stations, mobile teams) from a
// home-visit team's list of households, which a queue never counts.
func splitQueue(kind StationKind, q int) (queue, visits int) {
	if kind == KindHomeVisit {
		return 0, q
	}
	return q, 0
}
