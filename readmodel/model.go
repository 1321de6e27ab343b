package readmodel

import (
	"context"
	"fmt"
	"sync"
	"time"

	"tiendo"
	"tiendo/dashboards"
)

// Sources are what a Model reads from; the server wires them.
type Sources struct {
	// Store is ClickHouse's reading side.
	Store tiendo.StatsReader
	// Overlay holds the accepted events not yet in Store.
	Overlay Overlay
	// Registry is the current registry (an import replaces it).
	Registry func() *tiendo.Registry
	// Now is the campaign clock's now: the wall clock, or a replay's.
	Now func() time.Time
	// MoveAnswers (may be nil) are the chiefs' answers to staff moves
	// since an instant, so that an answered move is not suggested again.
	MoveAnswers func(since time.Time) ([]tiendo.MoveAnswer, error)
	// Alerts (may be nil) are the open alerts of a scope.
	Alerts func(scope tiendo.Scope) []tiendo.Alert
	// Notes (may be nil) are the timeline notes of a scope, for its charts.
	Notes func(scope tiendo.Scope) []tiendo.Note
}

// Model answers for figures: each scope's snapshot and chart input, from
// ClickHouse plus the overlay, each event counted once.
type Model struct {
	src   Sources
	cache figureCache

	profileMu sync.Mutex
	profile   tiendo.HourProfile
	profileAt time.Time  // when profile was measured
	profileOf tiendo.Day // the working day it was measured for

	hours hourMemory // each scope's totals of the last hour, for HourChange
}

// New makes a Model reading from src.
func New(src Sources) *Model { return &Model{src: src} }

// queryTimeout bounds one ClickHouse read, so that a hung engine turns
// into cached figures ("down") instead of a stuck round.
const queryTimeout = 10 * time.Second

// Snapshot builds the snapshot of scope now, as pages, screens and the API
// get it: ClickHouse's figures plus the events still in the overlay. Above
// province level (the nation), where pages show the units and not the
// stations, it is summed per unit from the store's rollups when the store
// keeps them (tiendo.UnitStatsReader): a few rows a province instead of
// every station's, by the same rules (tiendo.BuildUnitSnapshot), without
// the figures of each station's service (attention lists, idle officers,
// late stations, moves). It returns ENotFound for an unknown unit, district
// or station, and EUnavailable only when ClickHouse fails and no earlier
// figures of the scope are cached.
func (m *Model) Snapshot(ctx context.Context, scope tiendo.Scope) (*tiendo.Snapshot, error) {
	reg := m.src.Registry()
	if _, err := scopeStations(reg, scope); err != nil {
		return nil, err
	}
	if !m.byUnits(reg, scope) {
		return m.StationSnapshot(ctx, scope)
	}
	snap, err := m.unitSnapshot(ctx, reg, scope, m.src.Store.(tiendo.UnitStatsReader))
	if err != nil {
		return nil, err
	}
	m.hours.note(reg.Campaign, snap)
	return snap, nil
}

// byUnits reports whether Snapshot sums scope per unit.
func (m *Model) byUnits(reg *tiendo.Registry, scope tiendo.Scope) bool {
	_, ok := m.src.Store.(tiendo.UnitStatsReader)
	return ok && !reg.ListsStations(scope)
}

// unitSnapshot is Snapshot above province level: the units' stored sums
// read with the stations of pending heartbeats apart, so that those
// heartbeats replace their stations' stored states and the pending
// completions add to their units (tiendo.AddPendingUnits), each event
// counted once as on the per-station path.
func (m *Model) unitSnapshot(ctx context.Context, reg *tiendo.Registry, scope tiendo.Scope, units tiendo.UnitStatsReader) (*tiendo.Snapshot, error) {
	now := m.src.Now()
	c := reg.Campaign
	q := reg.UnitStatsQueryAt(scope, now)
	var figures tiendo.UnitFigures
	storage, err := m.withPending(ctx, "units|"+scope.String(), func(ctx context.Context, pending []tiendo.Event) (any, error) {
		q := q
		q.Apart = tiendo.HeartbeatStations(pending)
		return units.UnitStats(ctx, q)
	}, func(stored any, pending []tiendo.Event) {
		figures = tiendo.AddPendingUnits(stored.(tiendo.UnitFigures), pending, q)
	})
	if err != nil {
		return nil, err
	}
	profile, err := m.hourProfile(ctx, c, c.WorkingDay(now))
	if err != nil {
		return nil, err
	}
	snap := tiendo.BuildUnitSnapshot(reg, scope, figures, profile, now)
	snap.Storage = storage
	snap.Moves = []tiendo.StaffMove{} // moves are a district's (planMoves)
	if m.src.Alerts != nil {
		snap.SetAlerts(reg, m.src.Alerts(scope))
	}
	return snap, nil
}

// StationSnapshot builds the snapshot of scope now from every station's
// figures, at any level: what judges each station (the alerts, the daily
// brief's nights) reads; below the nation it is Snapshot.
func (m *Model) StationSnapshot(ctx context.Context, scope tiendo.Scope) (*tiendo.Snapshot, error) {
	reg := m.src.Registry()
	stations, err := scopeStations(reg, scope)
	if err != nil {
		return nil, err
	}
	now := m.src.Now()
	c := reg.Campaign
	day := c.WorkingDay(now)
	recentFrom, _, _ := c.RecentWindow(day)
	ids := stationIDs(scope, stations)
	q := tiendo.StatsQuery{DayStart: c.DayStart(day), Now: now, Stations: ids, RecentFrom: recentFrom}
	sq := tiendo.ServiceQueryAt(ids, now)
	type figures struct {
		stats   []tiendo.StationStats
		samples []tiendo.ServiceSample
		minutes []tiendo.MinuteCount
	}
	var stats []tiendo.StationStats
	var served map[string]tiendo.Served
	storage, err := m.withPending(ctx, "stats|"+scope.String(), func(ctx context.Context, _ []tiendo.Event) (any, error) {
		var f figures
		var err error
		if f.stats, err = m.src.Store.StationStats(ctx, q); err != nil {
			return nil, err
		}
		f.samples, f.minutes, err = m.src.Store.ServiceSamples(ctx, sq)
		return f, err
	}, func(stored any, pending []tiendo.Event) {
		f := stored.(figures)
		stats = tiendo.AddPending(append([]tiendo.StationStats(nil), f.stats...), pending, q)
		samples, minutes := tiendo.AddPendingService(append([]tiendo.ServiceSample(nil), f.samples...),
			append([]tiendo.MinuteCount(nil), f.minutes...), pending, sq)
		served = tiendo.ServedByStation(samples, minutes, now)
	})
	if err != nil {
		return nil, err
	}
	for i := range stats {
		stats[i].Served = served[stats[i].Station]
	}
	profile, err := m.hourProfile(ctx, c, day)
	if err != nil {
		return nil, err
	}
	snap := tiendo.BuildSnapshot(reg, scope, stats, profile, now)
	snap.Storage = storage
	if err := m.planMoves(ctx, snap, now); err != nil {
		return nil, err
	}
	if m.src.Alerts != nil {
		snap.SetAlerts(reg, m.src.Alerts(scope))
	}
	if !m.byUnits(reg, scope) {
		// Else the totals an hour ago are Snapshot's, which lacks some.
		m.hours.note(c, snap)
	}
	return snap, nil
}

// planMoves suggests the staff moves of snap's scope: of its districts, or
// for a station those of its district that involve it, leaving out the
// pairs the chiefs answered within the hour.
func (m *Model) planMoves(ctx context.Context, snap *tiendo.Snapshot, now time.Time) error {
	reg := m.src.Registry()
	if snap.Scope.Kind == tiendo.ScopeStation {
		st := reg.Station(snap.Scope.ID)
		if st == nil {
			return nil
		}
		district, err := m.Snapshot(ctx, tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: st.District})
		if err != nil {
			return err
		}
		snap.Moves = tiendo.MovesOf(district.Moves, st.ID)
		return nil
	}
	var skip func(from, to string) bool
	if m.src.MoveAnswers != nil {
		answers, err := m.src.MoveAnswers(now.Add(-tiendo.MoveQuiet))
		if err != nil {
			return err
		}
		skip = tiendo.Answered(answers, now)
	}
	snap.Moves = reg.Campaign.PlanMoves(reg, snap.Stations, now, skip)
	return nil
}

// profileEvery is how often the hour profile is measured again within a
// working day: it rests on finished days only, so only late events of
// earlier days change it.
const profileEvery = 15 * time.Minute

// hourProfile is the campaign's hour profile for working day day
// (Campaign.ProfileOf), from the whole campaign's hourly records of the
// days before it, measured once per day and every profileEvery.
func (m *Model) hourProfile(ctx context.Context, c *tiendo.Campaign, day tiendo.Day) (tiendo.HourProfile, error) {
	m.profileMu.Lock()
	defer m.profileMu.Unlock()
	if m.profileOf == day && time.Since(m.profileAt) < profileEvery {
		return m.profile, nil
	}
	q := tiendo.SeriesQuery{From: c.StartTime(), To: c.DayStart(day)}
	var hours []tiendo.HourCount
	if _, err := m.withPending(ctx, "profile", func(ctx context.Context, _ []tiendo.Event) (any, error) {
		return m.src.Store.HourlyCompletions(ctx, q)
	}, func(stored any, pending []tiendo.Event) {
		hours = tiendo.AddPendingHours(append([]tiendo.HourCount(nil), stored.([]tiendo.HourCount)...), pending, q)
	}); err != nil {
		return tiendo.HourProfile{}, err
	}
	m.profile, m.profileAt, m.profileOf = c.ProfileOf(hours, day), time.Now(), day
	return m.profile, nil
}

// ChartInput gathers what the dashboards need for scope: the snapshot, the
// scope's hourly completions since the campaign start, and today's per
// station, each with the overlay's events added.
func (m *Model) ChartInput(ctx context.Context, scope tiendo.Scope) (dashboards.Input, error) {
	snap, err := m.Snapshot(ctx, scope)
	if err != nil {
		return dashboards.Input{}, err
	}
	reg := m.src.Registry()
	c := reg.Campaign
	ids := stationIDs(scope, reg.StationsIn(scope))
	end := snap.Now.Add(time.Hour)
	in := dashboards.Input{Campaign: c, Snapshot: snap}
	if m.src.Notes != nil {
		in.Notes = m.src.Notes(scope)
	}
	type series struct {
		q   tiendo.SeriesQuery
		dst *[]tiendo.HourCount
	}
	queries := []series{{tiendo.SeriesQuery{Stations: ids, From: c.StartTime(), To: end}, &in.Hours}}
	if snap.ListsStations() {
		// Per station only where the charts draw stations one by one.
		queries = append(queries, series{tiendo.SeriesQuery{Stations: ids, From: c.DayStart(snap.Day), To: end, ByStation: true}, &in.StationHours})
	}
	for _, series := range queries {
		q := series.q
		key := fmt.Sprintf("hours|%s|%v|%d", scope, q.ByStation, q.From.Unix())
		_, err := m.withPending(ctx, key, func(ctx context.Context, _ []tiendo.Event) (any, error) {
			return m.src.Store.HourlyCompletions(ctx, q)
		}, func(stored any, pending []tiendo.Event) {
			*series.dst = tiendo.AddPendingHours(append([]tiendo.HourCount(nil), stored.([]tiendo.HourCount)...), pending, q)
		})
		if err != nil {
			return dashboards.Input{}, err
		}
	}
	return in, nil
}

// stationIDs lists a scope's station ids for store queries (nil: all).
func stationIDs(scope tiendo.Scope, stations []*tiendo.Station) []string {
	if scope.Kind == tiendo.ScopeProvince {
		return nil
	}
	ids := make([]string, len(stations))
	for i, st := range stations {
		ids[i] = st.ID
	}
	return ids
}

// withPending runs read against ClickHouse inside an overlay read, so that
// no event is counted in both or in neither, and combines its result with
// the overlay's events. read gets the overlay's events too (Overlay.Read).
// When ClickHouse fails, the scope's last good result is used instead
// (cached under key), and the storage state says so.
func (m *Model) withPending(ctx context.Context, key string, read func(ctx context.Context, pending []tiendo.Event) (any, error),
	combine func(stored any, pending []tiendo.Event)) (tiendo.StorageState, error) {
	qctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var stored any
	var err error
	p := m.src.Overlay.Read(func(pending []tiendo.Event) { stored, err = read(qctx, pending) })
	state := tiendo.StorageState{State: "ok", Pending: p.Count}
	if p.Behind {
		state.State = "behind"
	}
	events := p.Events
	switch {
	case err != nil:
		cached, ok := m.cache.get(key)
		if !ok {
			return state, tiendo.Errorf(tiendo.EUnavailable, "storage cannot answer now and nothing is cached yet")
		}
		stored, state.State = cached, "down"
	case p.InDoubt > 0:
		// ClickHouse may already hold the spool's first InDoubt events (an
		// insert failed or was cut by a crash, and no flush has checked it
		// yet): adding them would count them twice. They are left out until
		// the flusher resolves them, the figures marked partial, and this
		// answer is not cached: the cache holds only answers that share no
		// event with the spool, so the cache plus the spool never counts one
		// twice while ClickHouse is away.
		left := min(p.InDoubt, int64(len(events)))
		events = events[left:]
		state.Partial, state.Uncounted = true, left
	default:
		m.cache.put(key, stored)
	}
	if !p.Complete {
		state.Partial, state.Uncounted = true, p.Count
	}
	combine(stored, events)
	return state, nil
}

// figureCache keeps each scope's last good ClickHouse answer, so that
// screens keep their figures (plus the overlay's) while ClickHouse is away.
type figureCache struct {
	mu sync.Mutex
	m  map[string]any
}

func (c *figureCache) get(key string) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	return v, ok
}

func (c *figureCache) put(key string, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]any{}
	}
	c.m[key] = v
}
