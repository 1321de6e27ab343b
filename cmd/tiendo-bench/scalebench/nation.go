package scalebench

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"time"

	"tiendo"
	"tiendo/cmd/tiendo/langson2021"
	"tiendo/store"
)

// NationTarget is the national goal the generated nation plans for.
const NationTarget = 50_000_000

// NationRegistry is the registry of the generated data's shape, a nation
// campaign (the Lạng Sơn campaign's settings and dates with another tree):
// p.Provinces province units P<10+k>, each with p.Districts() districts
// P<10+k>-D<10+j>, and the stations placed exactly as completionsSQL and
// heartbeatsSQL place them. So the nation snapshot that the benchmark
// builds from either path is the one a server on this data would build.
func NationRegistry(p Params) *tiendo.Registry {
	base := langson2021.Campaign()
	var units []tiendo.Unit
	per := int64(NationTarget / p.Provinces)
	for k := 0; k < p.Provinces; k++ {
		units = append(units, tiendo.Unit{ID: provinceID(k), Name: fmt.Sprintf("Tỉnh %d (giả lập)", k), Level: tiendo.LevelProvince, Quota: per})
	}
	for k := 0; k < p.Provinces; k++ {
		for j := 0; j < p.Districts(); j++ {
			units = append(units, tiendo.Unit{ID: districtID(k, j), Name: fmt.Sprintf("Huyện %d-%d (giả lập)", k, j),
				Level: tiendo.LevelDistrict, Parent: provinceID(k), Quota: per / int64(p.Districts())})
		}
	}
	c := base.WithUnits(tiendo.LevelNation, units)
	c.ID, c.Target = "bench-nation", int64(per)*int64(p.Provinces)
	if err := c.Validate(); err != nil {
		panic("scalebench: nation campaign: " + err.Error())
	}
	stations := make([]tiendo.Station, 0, p.Stations)
	perStation := per * int64(p.Provinces) / int64(max(1, p.Stations))
	for s := 0; s < p.Stations; s++ {
		k, j := s%p.Provinces, (s/p.Provinces)%p.Districts()
		stations = append(stations, tiendo.Station{ID: stationID(p, s), Name: fmt.Sprintf("Trạm %d (giả lập)", s),
			District: districtID(k, j), Kind: tiendo.KindFixed, Lanes: 3, Quota: perStation, Synthetic: true})
	}
	return tiendo.NewRegistry(c, c.Districts, stations)
}

// apartEvery: one station in 60 has a heartbeat in the spool when the
// nation's snapshot is read, as with a heartbeat a minute from every
// station and a flush every second.
const apartEvery = 60

func provinceID(k int) string    { return fmt.Sprintf("P%d", 10+k) }
func districtID(k, j int) string { return fmt.Sprintf("P%d-D%d", 10+k, 10+j) }
func stationID(p Params, s int) string {
	return fmt.Sprintf("P%d-S%d", 10+s%p.Provinces, 10000+s)
}

// measureSnapshots times whole snapshots, the store's reads and the
// domain's build together, as readmodel.Model reads them (less the
// overlay and the alerts): the nation from its unit rollups as a live
// server reads it (Snapshot: a round's stations with heartbeats pending,
// apartEvery-th of them, read apart) and from every station's figures (as
// StationSnapshot, which the alerts read), and one province (a unit scope
// at province level, its stations listed). Raw answers scan the
// completions and heartbeats tables; for the nation one such scan takes
// tens of seconds at full size, so only the first p.RawRuns rounds run it.
//
// They are taken at 21:10 of the last day, after its last heartbeat, as a
// server's now is: at the 15:00 of the queries above, six hours of later
// heartbeats would be fresh (tiendo.Fresh keeps a station's newest, however
// far ahead), and reading them is work no live server does.
func measureSnapshots(ctx context.Context, sdb *store.DB, raw func(string) ([][]any, error), p Params, at15 time.Time) ([]*Query, error) {
	now := at15.Add(6*time.Hour + 10*time.Minute)
	reg := NationRegistry(p)
	c := reg.Campaign
	day := c.WorkingDay(now)
	dayStart := c.DayStart(day)
	recentFrom, _, _ := c.RecentWindow(day)
	profile := c.ProfileOf(nil, day)
	province := tiendo.Scope{Kind: tiendo.ScopeUnit, ID: provinceID(p.Province)}
	var provinceIDs []string
	for _, st := range reg.StationsIn(province) {
		provinceIDs = append(provinceIDs, st.ID)
	}
	inProvince := "station IN " + store.InSet(provinceIDs)

	var apart []string
	for i, st := range reg.Stations() {
		if i%apartEvery == 0 {
			apart = append(apart, st.ID)
		}
	}
	units := &Query{Name: fmt.Sprintf("nation snapshot from unit rollups (%d provinces, %d stations apart)", p.Provinces, len(apart))}
	today := &Query{Name: fmt.Sprintf("nation snapshot per station, as the alerts read it (%d)", p.Stations)}
	units.Compare = today
	stats := &Query{Name: "  its StationStats, every station"}
	service := &Query{Name: "  its ServiceSamples, every station"}
	build := &Query{Name: "  its BuildSnapshot in Go (and ServedByStation)"}
	prov := &Query{Name: fmt.Sprintf("province snapshot, whole (%d stations)", len(provinceIDs))}

	// perStation is a snapshot the way the model builds one today.
	perStation := func(scope tiendo.Scope, st []tiendo.StationStats, samples []tiendo.ServiceSample, minutes []tiendo.MinuteCount) *tiendo.Snapshot {
		served := tiendo.ServedByStation(samples, minutes, now)
		for i := range st {
			st[i].Served = served[st[i].Station]
		}
		return tiendo.BuildSnapshot(reg, scope, st, profile, now)
	}
	stationSide := func(scope tiendo.Scope, ids []string) (*tiendo.Snapshot, [3]time.Duration, error) {
		var d [3]time.Duration
		t0 := time.Now()
		st, err := sdb.StationStats(ctx, tiendo.StatsQuery{Stations: ids, DayStart: dayStart, Now: now, RecentFrom: recentFrom})
		if err != nil {
			return nil, d, err
		}
		d[0] = time.Since(t0)
		t0 = time.Now()
		samples, minutes, err := sdb.ServiceSamples(ctx, tiendo.ServiceQueryAt(ids, now))
		if err != nil {
			return nil, d, err
		}
		d[1] = time.Since(t0)
		t0 = time.Now()
		snap := perStation(scope, st, samples, minutes)
		d[2] = time.Since(t0)
		return snap, d, nil
	}
	rawSide := func(scope tiendo.Scope, where string) (*tiendo.Snapshot, [3]time.Duration, error) {
		var d [3]time.Duration
		t0 := time.Now()
		st, err := rawStationStats(raw, where, recentFrom, dayStart, now)
		if err != nil {
			return nil, d, err
		}
		d[0] = time.Since(t0)
		t0 = time.Now()
		var ids []string
		if scope != tiendo.ProvinceScope {
			ids = provinceIDs
		}
		sv, err := rawService(raw, where, tiendo.ServiceQueryAt(ids, now))
		if err != nil {
			return nil, d, err
		}
		d[1] = time.Since(t0)
		t0 = time.Now()
		snap := perStation(scope, st, sv.samples, sv.minutes)
		d[2] = time.Since(t0)
		return snap, d, nil
	}
	for r := -1; r < p.Runs; r++ {
		t0 := time.Now()
		q := reg.UnitStatsQueryAt(tiendo.ProvinceScope, now)
		q.Apart = apart
		f, err := sdb.UnitStats(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("nation (unit rollups): %w", err)
		}
		fromUnits := tiendo.BuildUnitSnapshot(reg, tiendo.ProvinceScope, f, profile, now)
		dUnits := time.Since(t0)
		fromStations, d, err := stationSide(tiendo.ProvinceScope, nil)
		if err != nil {
			return nil, fmt.Errorf("nation (station rollups): %w", err)
		}
		provSnap, dp, err := stationSide(province, provinceIDs)
		if err != nil {
			return nil, fmt.Errorf("province (station rollups): %w", err)
		}
		provRaw, dpr, err := rawSide(province, inProvince)
		if err != nil {
			return nil, fmt.Errorf("province (raw): %w", err)
		}
		if r < 0 {
			continue
		}
		units.Rollup = append(units.Rollup, dUnits)
		today.Rollup = append(today.Rollup, d[0]+d[1]+d[2])
		stats.Rollup, service.Rollup, build.Rollup = append(stats.Rollup, d[0]), append(service.Rollup, d[1]), append(build.Rollup, d[2])
		prov.Rollup, prov.Raw = append(prov.Rollup, dp[0]+dp[1]+dp[2]), append(prov.Raw, dpr[0]+dpr[1]+dpr[2])
		if r == 0 {
			prov.Differs = snapshotDiff(provSnap, provRaw, false)
			prov.Equal, prov.Rows = prov.Differs == "", len(provSnap.Stations)
		}
		if r >= p.RawRuns {
			continue
		}
		fromRaw, dr, err := rawSide(tiendo.ProvinceScope, "1")
		if err != nil {
			return nil, fmt.Errorf("nation (raw): %w", err)
		}
		// The unit snapshot needs no service window: its raw side is the
		// stations' raw figures and the build.
		units.Raw = append(units.Raw, dr[0]+dr[2])
		today.Raw = append(today.Raw, dr[0]+dr[1]+dr[2])
		stats.Raw, service.Raw = append(stats.Raw, dr[0]), append(service.Raw, dr[1])
		if r == 0 {
			units.Differs, today.Differs = snapshotDiff(fromUnits, fromRaw, true), snapshotDiff(fromStations, fromRaw, false)
			units.Equal, units.Rows = units.Differs == "", len(fromUnits.Units)
			today.Equal, today.Rows = today.Differs == "", p.Stations
			stats.Equal, stats.Rows = today.Equal, p.Stations
			service.Equal, service.Rows = today.Equal, p.Stations
		}
	}
	out := []*Query{units, today, stats, service, build, prov}
	for _, q := range out {
		sort.Slice(q.Rollup, func(a, b int) bool { return q.Rollup[a] < q.Rollup[b] })
		sort.Slice(q.Raw, func(a, b int) bool { return q.Raw[a] < q.Raw[b] })
	}
	return out, nil
}

// snapshotDiff compares a snapshot with the one built from raw answers:
// the totals, pace, units and districts, and (unless fromUnits, whose
// path leaves each station's service figures out) the attention lists and
// every station. It names the first figure that differs, "" when none.
// A unit snapshot lists its child units only (the nation's provinces,
// not their 693 districts, which BuildSnapshot lists at every scope):
// those are what it is compared on.
func snapshotDiff(got, want *tiendo.Snapshot, fromUnits bool) string {
	gt, wt := got.Totals, want.Totals
	gu := append(append([]tiendo.UnitState(nil), got.Units...), got.Districts...)
	wu := append(append([]tiendo.UnitState(nil), want.Units...), want.Districts...)
	if fromUnits {
		if len(got.Districts) > 0 {
			return fmt.Sprintf("%d districts in a unit snapshot, which lists its child units only", len(got.Districts))
		}
		wu = append([]tiendo.UnitState(nil), want.Units...)
		wt.IdleStaff, wt.StationsIdle, wt.StationsLate = 0, 0, 0
		for i := range wu {
			wu[i].IdleStaff, wu[i].StationsLate = 0, 0
		}
	}
	if gt != wt {
		return fmt.Sprintf("totals: %+v, raw %+v", gt, wt)
	}
	if !reflect.DeepEqual(got.Pace, want.Pace) {
		return fmt.Sprintf("pace: %+v, raw %+v", got.Pace, want.Pace)
	}
	if d := firstDiff("unit", gu, wu, func(u tiendo.UnitState) string { return u.ID }); d != "" || fromUnits {
		return d
	}
	// The raw side does not compute the slowdown alert's hour of
	// yesterday (rawStationStats), the one station figure left out.
	gs, ws := append([]tiendo.StationState(nil), got.Stations...), append([]tiendo.StationState(nil), want.Stations...)
	for i := range gs {
		gs[i].PerHourYesterday = 0
	}
	if !reflect.DeepEqual(got.Attention, want.Attention) {
		return fmt.Sprintf("attention: %+v, raw %+v", got.Attention, want.Attention)
	}
	return firstDiff("station", gs, ws, func(s tiendo.StationState) string { return s.ID })
}

// firstDiff names the first row of got that differs from want's, or their
// lengths when they differ; "" when they are equal.
func firstDiff[T any](what string, got, want []T, id func(T) string) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d %ss, raw %d", len(got), what, len(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			return fmt.Sprintf("%s %s: %+v, raw %+v", what, id(got[i]), got[i], want[i])
		}
	}
	return ""
}
