package readmodel

import (
	"context"
	"fmt"
	"strings"
	"time"

	"tiendo"
)

// Figures as of a past instant: what the daily brief shows of a working
// day that is over. The store's StationStats count the campaign to date
// whatever the clock says, so a past instant's figures are read as windows
// of time instead (tiendo.WindowQuery), with the overlay's events laid over
// them by the same rule, each event counted once as everywhere else here.

// SnapshotAt is the snapshot of scope as it stood at instant at: every
// figure counts the records before at only (to date, at's working day so
// far, the last hour before it, the recent pace's complete days), the hour
// profile is the one planned with on at's working day, and the pace is
// judged at at. So SnapshotAt(end of a working day) is the snapshot a
// screen showed as that day ended, whatever came after. It rebuilds the
// progress figures only: the heartbeats of the time are not kept (the store
// keeps each station's newest), so its stations are offline with no
// service figures, and it plans no moves and names no alerts.
func (m *Model) SnapshotAt(ctx context.Context, scope tiendo.Scope, at time.Time) (*tiendo.Snapshot, error) {
	reg := m.src.Registry()
	if _, err := scopeStations(reg, scope); err != nil {
		return nil, err
	}
	c := reg.Campaign
	day := c.WorkingDay(at)
	recentFrom, _, _ := c.RecentWindow(day)
	const toDate, today, recent, lastHour = 0, 1, 2, 3
	windows := []tiendo.Window{
		toDate:   {To: at},
		today:    {From: c.DayStart(day), To: at},
		recent:   {From: recentFrom, To: c.DayStart(day)},
		lastHour: {From: tiendo.LastHourFrom(at), To: at},
	}
	counts, storage, err := m.StationWindows(ctx, scope, windows)
	if err != nil {
		return nil, err
	}
	stats := make([]tiendo.StationStats, len(counts))
	for i, w := range counts {
		stats[i] = tiendo.StationStats{Station: w.Station, Completed: w.Records[toDate], Retries: w.Retries[toDate],
			CompletedToday: w.Records[today], RecentRecords: w.Records[recent], LastHour: w.Records[lastHour]}
	}
	profile, err := m.profileOfDay(ctx, c, day)
	if err != nil {
		return nil, err
	}
	snap := tiendo.BuildSnapshot(reg, scope, stats, profile, at)
	snap.Storage = storage
	return snap, nil
}

// profileOfDay is the hour profile planned with on working day day, measured
// as hourProfile measures today's but kept apart from its cache: a brief of
// a past day must not make the next live round measure today's again.
func (m *Model) profileOfDay(ctx context.Context, c *tiendo.Campaign, day tiendo.Day) (tiendo.HourProfile, error) {
	q := tiendo.SeriesQuery{From: c.StartTime(), To: c.DayStart(day)}
	var hours []tiendo.HourCount
	if _, err := m.withPending(ctx, fmt.Sprintf("profile|%s", day), func(ctx context.Context, _ []tiendo.Event) (any, error) {
		return m.src.Store.HourlyCompletions(ctx, q)
	}, func(stored any, pending []tiendo.Event) {
		hours = tiendo.AddPendingHours(append([]tiendo.HourCount(nil), stored.([]tiendo.HourCount)...), pending, q)
	}); err != nil {
		return tiendo.HourProfile{}, err
	}
	return c.ProfileOf(hours, day), nil
}

// StationWindows counts the records of scope's stations in each window:
// ClickHouse's rollups and the overlay's events read together (withPending),
// every station of the scope present, in the registry's order. A window may
// reach into the future; it then holds what has come so far.
func (m *Model) StationWindows(ctx context.Context, scope tiendo.Scope, windows []tiendo.Window) ([]tiendo.StationWindows, tiendo.StorageState, error) {
	reg := m.src.Registry()
	stations, err := scopeStations(reg, scope)
	if err != nil {
		return nil, tiendo.StorageState{}, err
	}
	q := tiendo.WindowQuery{Stations: stationIDs(scope, stations), Windows: windows}
	key := []string{"windows", scope.String()}
	for _, w := range windows {
		key = append(key, fmt.Sprintf("%d-%d", w.From.Unix(), w.To.Unix()))
	}
	var counted []tiendo.StationWindows
	storage, err := m.withPending(ctx, strings.Join(key, "|"), func(ctx context.Context, _ []tiendo.Event) (any, error) {
		return m.src.Store.StationWindows(ctx, q)
	}, func(stored any, pending []tiendo.Event) {
		counted = AddPendingWindows(stored.([]tiendo.StationWindows), pending, q)
	})
	if err != nil {
		return nil, storage, err
	}
	byID := make(map[string]tiendo.StationWindows, len(counted))
	for _, w := range counted {
		byID[w.Station] = w
	}
	out := make([]tiendo.StationWindows, len(stations))
	for i, st := range stations {
		w, ok := byID[st.ID]
		if !ok {
			w = tiendo.StationWindows{Station: st.ID, Records: make([]int64, len(windows)), Retries: make([]int64, len(windows))}
		}
		out[i] = w
	}
	return out, storage, nil
}

// AddPendingWindows adds the overlay's completions to a StationWindows
// answer as the store counts them (tiendo.Window: by the minute an event
// falls in), only for the stations in q (all when nil). stored is not
// changed: it may be the cached answer of another read.
func AddPendingWindows(stored []tiendo.StationWindows, pending []tiendo.Event, q tiendo.WindowQuery) []tiendo.StationWindows {
	out := make([]tiendo.StationWindows, len(stored))
	byID := make(map[string]int, len(stored))
	for i, s := range stored {
		out[i] = tiendo.StationWindows{Station: s.Station, Records: append([]int64(nil), s.Records...),
			Retries: append([]int64(nil), s.Retries...)}
		byID[s.Station] = i
	}
	want := map[string]bool{}
	for _, id := range q.Stations {
		want[id] = true
	}
	for i := range pending {
		e := &pending[i]
		if e.Type != tiendo.TypeCompletion || q.Stations != nil && !want[e.Station] {
			continue
		}
		minute := e.TS.UTC().Truncate(time.Minute)
		for k, w := range q.Windows {
			if !w.From.IsZero() && minute.Before(w.From) || !minute.Before(w.To) {
				continue
			}
			j, ok := byID[e.Station]
			if !ok {
				out = append(out, tiendo.StationWindows{Station: e.Station, Records: make([]int64, len(q.Windows)),
					Retries: make([]int64, len(q.Windows))})
				j = len(out) - 1
				byID[e.Station] = j
			}
			out[j].Records[k] += int64(e.Count)
			out[j].Retries[k] += int64(e.FingerprintRetries)
		}
	}
	return out
}

// scopeStations are the registry's stations of scope, or ENotFound for an
// unknown unit or station.
func scopeStations(reg *tiendo.Registry, scope tiendo.Scope) ([]*tiendo.Station, error) {
	if !reg.Known(scope) {
		return nil, tiendo.Errorf(tiendo.ENotFound, "no %s with id %q", scope.Kind, scope.ID)
	}
	return reg.StationsIn(scope), nil
}
