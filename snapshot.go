package tiendo

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// StaleAfter is how long a station may stay silent before the live state
// shows it as offline rather than trusting its last heartbeat.
const StaleAfter = 15 * time.Minute

// Snapshot is everything a page needs about one scope at one instant. The
// REST snapshot and the WebSocket's first message carry the same value.
type Snapshot struct {
	Scope     Scope           `json:"scope"`
	Campaign  CampaignInfo    `json:"campaign"`
	Now       time.Time       `json:"now"`
	Day       Day             `json:"day"` // current working day
	Totals    Totals          `json:"totals"`
	Pace      *Pace           `json:"pace"` // of the scope's target; null without one
	Stations  []StationState  `json:"stations"`
	Districts []DistrictState `json:"districts,omitempty"`
	// Units are the units right under a scope above province level (the
	// provinces of the nation), most urgent first (RankUnits); a scope at
	// province level lists its districts in Districts, in file order.
	Units []UnitState `json:"units,omitempty"`
	// Attention is null above province level: the nation's snapshot is
	// summed per unit (BuildUnitSnapshot) and judges no station's service;
	// its pages list the provinces' alerts instead.
	Attention *Attention `json:"attention"`
	// Moves are the staff moves suggested now: of every district in the
	// scope, or, for a station, those that send to or from it.
	Moves []StaffMove `json:"moves"`
	// Alerts are the open alerts of the scope (the read model adds them).
	Alerts []Alert `json:"alerts"`
	// HourChange is how the totals moved since an hour ago; null until
	// the server has seen the scope for an hour (the read model adds it).
	HourChange *HourChange  `json:"hour_change"`
	Storage    StorageState `json:"storage"`

	// unlisted: the scope is above province level, where pages get the
	// units and not the stations' own records (Sent).
	unlisted bool
}

// Attention lists the stations that need someone's attention now, each
// list ordered most urgent first and cut to AttentionSize. Screens show
// these lists as they are: the rule of who comes first lives here.
type Attention struct {
	// Waits: fixed stations and mobile teams with a queue, longest wait
	// first (home-visit teams have a list, not a queue, and are not here).
	Waits []StationBrief `json:"waits"`
	// Idle: open stations with officers free to help elsewhere, most first.
	Idle []StationBrief `json:"idle"`
	// Late: stations whose queue clears after the late hour, latest first.
	Late []StationBrief `json:"late"`
}

// AttentionSize is how many stations each Attention list keeps.
const AttentionSize = 7

// StationBrief is a station as an attention list names it.
type StationBrief struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	District    string      `json:"district"`
	Kind        StationKind `json:"kind"`
	Queue       int         `json:"queue"`
	WaitMinutes *float64    `json:"wait_minutes"`
	LongWait    bool        `json:"long_wait"`
	ClearsAt    *time.Time  `json:"clears_at"`
	Late        bool        `json:"late"`
	IdleStaff   int         `json:"idle_staff"`
}

// StorageState tells screens whether the figures are complete.
type StorageState struct {
	// State is "ok"; "behind" when accepted events wait in the spool because
	// ClickHouse inserts fail (they are counted nonetheless); or "down" when
	// ClickHouse cannot answer and the figures are its last answer plus the spool.
	State   string `json:"state"`
	Pending int64  `json:"pending"` // accepted events not yet in ClickHouse
	// Partial says some pending events are not in the figures: more than a
	// reader adds (a long outage), or a batch whose insert failed or was cut
	// by a crash and may be in ClickHouse already, until the flusher checks
	// it (counting it from both would count it twice). Uncounted says how many.
	Partial   bool  `json:"partial,omitempty"`
	Uncounted int64 `json:"uncounted,omitempty"`
}

// CampaignInfo is the part of the campaign a page shows.
type CampaignInfo struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	NameEN   string `json:"name_en,omitempty"`
	TimeZone string `json:"time_zone"`
	Start    Day    `json:"start"`
	Deadline Day    `json:"deadline"`
	Target   int64  `json:"target"`
	// WorkingDays is how many working days the plan spreads the target over.
	WorkingDays int `json:"working_days"`
	// LateClose is the clock time after which a station still serving is
	// late ("02:00"), LongWaitMinutes the wait a screen marks as long.
	LateClose       string  `json:"late_close"`
	LongWaitMinutes float64 `json:"long_wait_minutes"`
}

// Totals sums a scope's stations.
type Totals struct {
	Completed      int64   `json:"completed"`
	CompletedToday int64   `json:"completed_today"`
	Target         int64   `json:"target"`
	Queue          int     `json:"queue"`
	Staff          int     `json:"staff"`
	PerHour        int64   `json:"per_hour"`
	Stations       int     `json:"stations"`
	StationsOpen   int     `json:"stations_open"`
	RetriesPerRec  float64 `json:"retries_per_record"`
	PercentDone    float64 `json:"percent_done"`
	// ListVisits are the households still on home-visit teams' lists;
	// Queue counts people waiting at stations and mobile teams only.
	ListVisits int `json:"list_visits"`
	// StationsOffline counts stations silent for more than StaleAfter.
	StationsOffline int `json:"stations_offline"`
	IdleStaff       int `json:"idle_staff"`    // officers free to help elsewhere
	StationsIdle    int `json:"stations_idle"` // stations with idle officers
	StationsLate    int `json:"stations_late"` // stations whose queue clears after the late hour
}

// StationState is one station's live figures.
type StationState struct {
	ID             string        `json:"id"`
	Name           string        `json:"name"`
	District       string        `json:"district"`
	Commune        string        `json:"commune,omitempty"`
	Kind           StationKind   `json:"kind"`
	Status         StationStatus `json:"status"`
	Queue          int           `json:"queue"`
	Staff          int           `json:"staff"`
	Lanes          int           `json:"lanes"`
	Completed      int64         `json:"completed"`
	CompletedToday int64         `json:"completed_today"`
	PerHour        int64         `json:"per_hour"` // records in the last 60 minutes
	// PerHourYesterday is the records of the same 60 minutes a day
	// before (the slowdown alert's comparison).
	PerHourYesterday int64 `json:"per_hour_yesterday"`
	// ReportedStatus is what the station's last heartbeat said, however
	// old ("" without one): Status says offline once it is stale, and the
	// silent alert needs to know whether the station had said it was open.
	ReportedStatus StationStatus `json:"reported_status"`
	Quota          int64         `json:"quota"`
	RetriesPerRec  float64       `json:"retries_per_record"`
	LastSeen       *time.Time    `json:"last_seen"`
	Lat            float64       `json:"lat"`
	Lon            float64       `json:"lon"`
	// The service figures (see Service): the wait of a citizen joining now
	// (null when not open, and for home-visit teams), a home-visit team's
	// time to finish its list, the measured minutes per record per lane,
	// when the queue clears, whether that is after the late hour, and the
	// officers free to help elsewhere.
	WaitMinutes      *float64   `json:"wait_minutes"`
	ListMinutes      *float64   `json:"list_minutes"`
	MinutesPerRecord float64    `json:"minutes_per_record"`
	ClearsAt         *time.Time `json:"clears_at"`
	Late             bool       `json:"late"`
	LongWait         bool       `json:"long_wait"` // WaitMinutes over the campaign's long wait
	IdleStaff        int        `json:"idle_staff"`
	PercentDone      float64    `json:"percent_done"` // of its quota
	Pace             *Pace      `json:"pace"`         // of its quota; null without one
}

// DistrictState is a district's UnitState.
type DistrictState = UnitState

// UnitState is one unit's progress against its quota: a district of the
// province, a province of the nation.
type UnitState struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	Short          string    `json:"short,omitempty"`
	Level          UnitLevel `json:"level"`
	Quota          int64     `json:"quota"`
	Completed      int64     `json:"completed"`
	CompletedToday int64     `json:"completed_today"`
	Queue          int       `json:"queue"`       // people waiting (not home-visit lists)
	ListVisits     int       `json:"list_visits"` // households left on home-visit lists
	PerHour        int64     `json:"per_hour"`
	PercentDone    float64   `json:"percent_done"`
	IdleStaff      int       `json:"idle_staff"`
	StationsLate   int       `json:"stations_late"`
	Stations       int       `json:"stations"`
	StationsOpen   int       `json:"stations_open"`
	Pace           *Pace     `json:"pace"`
	// Alerts and AlertsCritical count the open alerts of the unit's
	// subtree, its stations' included (Snapshot.SetAlerts).
	Alerts         int `json:"alerts"`
	AlertsCritical int `json:"alerts_critical"`
}

// ForScreen is the snapshot as a command-room screen receives it: the
// aggregates and the attention lists, without any station's own record. A
// screen account may not open a station's page, so it gets no station's
// full record either; what the room shows of stations is in Attention.
func (s *Snapshot) ForScreen() *Snapshot {
	out := *s
	out.Stations = []StationState{}
	return &out
}

// Sent is the snapshot as the API and the live stream send it: for a
// command-room screen ForScreen's; above province level without the
// stations' own records (some ten thousand of them for the nation; the
// units carry what its pages show). The read model
// and the alerts keep the whole snapshot.
// ListsStations reports whether pages get the scope's stations one by one
// (Registry.ListsStations): at province level and below.
func (s *Snapshot) ListsStations() bool { return !s.unlisted }

func (s *Snapshot) Sent(screen bool) *Snapshot {
	if s.unlisted {
		out := s.ForScreen()
		out.Districts = nil // judged for the alerts, not shown (some 700)
		return out
	}
	if screen {
		return s.ForScreen()
	}
	return s
}

// BuildSnapshot combines the registry with the stored figures into the
// snapshot of scope at instant now: the counts, every decision figure
// (pace of the scope, its districts and its stations with a quota; the
// service figures of each station; the attention lists), all from the same
// rules. profile is the campaign's hour profile (Campaign.ProfileOf).
// Stations without data appear with zeros.
func BuildSnapshot(reg *Registry, scope Scope, stats []StationStats, profile HourProfile, now time.Time) *Snapshot {
	c := reg.Campaign
	byStation := make(map[string]*StationStats, len(stats))
	for i := range stats {
		byStation[stats[i].Station] = &stats[i]
	}
	snap := newSnapshot(reg, scope, now)
	paceOf := paceFunc(c, profile, snap.Day, now)
	snap.Totals.Target = reg.Target(scope)
	var retries, recent int64
	// The units right under the scope, each station summed into the one
	// it belongs to: a province-level scope's districts, the nation's
	// provinces.
	unitOf, units := reg.childUnits(scope)
	unitRecent := map[string]int64{}
	snap.unlisted = !reg.ListsStations(scope)
	// Above the province level the districts are judged too, for the
	// alerts (a district behind opens as in a province's campaign); pages
	// get the units only (Sent drops them).
	var districtOf map[string]*UnitState
	var districts []UnitState
	if snap.unlisted {
		districtOf, districts = reg.districtUnits(scope)
	}
	for _, st := range reg.StationsIn(scope) {
		s := StationState{ID: st.ID, Name: st.Name, District: st.District, Commune: st.Commune, Kind: st.Kind,
			Status: StatusOffline, Lanes: st.Lanes, Quota: st.Quota, Lat: st.Lat, Lon: st.Lon}
		var served Served
		var stRecent int64
		if ss := byStation[st.ID]; ss != nil {
			s.Completed, s.CompletedToday, s.PerHour = ss.Completed, ss.CompletedToday, ss.LastHour
			s.PerHourYesterday = ss.LastHourYesterday
			stRecent, served = ss.RecentRecords, ss.Served
			if ss.Completed > 0 {
				s.RetriesPerRec = round2(float64(ss.Retries) / float64(ss.Completed))
			}
			retries += ss.Retries
			if ss.HasHeartbeat {
				seen := ss.LastSeen.UTC()
				s.LastSeen, s.ReportedStatus = &seen, ss.Status
				if ss.Lanes > 0 {
					s.Lanes = ss.Lanes
				}
				if ss.Lat != 0 || ss.Lon != 0 {
					s.Lat, s.Lon = ss.Lat, ss.Lon
				}
				if Fresh(ss.LastSeen, now) {
					s.Status, s.Queue, s.Staff = ss.Status, ss.Queue, ss.Staff
				}
			}
		}
		sv := c.ServiceOf(s.Kind, s.Status, s.Queue, s.Staff, s.Lanes, served, now)
		s.WaitMinutes, s.ListMinutes, s.MinutesPerRecord = sv.WaitMinutes, sv.ListMinutes, sv.MinutesPerRecord
		s.ClearsAt, s.Late, s.IdleStaff = sv.ClearsAt, sv.Late, sv.IdleStaff
		s.LongWait = s.WaitMinutes != nil && *s.WaitMinutes > c.LongWait()
		s.PercentDone = percent(s.Completed, s.Quota)
		s.Pace = paceOf(s.Quota, s.Completed, stRecent)
		snap.Stations = append(snap.Stations, s)
		recent += stRecent

		t := &snap.Totals
		t.Completed += s.Completed
		t.CompletedToday += s.CompletedToday
		queue, visits := splitQueue(s.Kind, s.Queue)
		t.Queue += queue
		t.ListVisits += visits
		t.Staff += s.Staff
		t.PerHour += s.PerHour
		t.Stations++
		t.IdleStaff += s.IdleStaff
		switch s.Status {
		case StatusOpen:
			t.StationsOpen++
		case StatusOffline:
			t.StationsOffline++
		}
		if s.IdleStaff > 0 {
			t.StationsIdle++
		}
		if s.Late {
			t.StationsLate++
		}
		if d := unitAmong(reg, st, unitOf); d != nil {
			d.Stations++
			if s.Status == StatusOpen {
				d.StationsOpen++
			}
			d.Completed += s.Completed
			d.CompletedToday += s.CompletedToday
			d.Queue += queue
			d.ListVisits += visits
			d.PerHour += s.PerHour
			d.IdleStaff += s.IdleStaff
			if s.Late {
				d.StationsLate++
			}
			unitRecent[d.ID] += stRecent
		}
		if d := unitAmong(reg, st, districtOf); d != nil {
			d.Stations++
			d.Completed += s.Completed
			d.CompletedToday += s.CompletedToday
			unitRecent[d.ID] += stRecent
		}
	}
	finishSnapshot(reg, snap, units, unitRecent, retries, recent, profile, now)
	if snap.unlisted {
		for i := range districts {
			d := &districts[i]
			d.PercentDone = percent(d.Completed, d.Quota)
			d.Pace = paceOf(d.Quota, d.Completed, unitRecent[d.ID])
		}
		snap.Districts = districts
	}
	att := attentionOf(snap.Stations)
	snap.Attention = &att
	return snap
}

// districtUnits are the district-level units under scope, indexed by id.
func (r *Registry) districtUnits(scope Scope) (map[string]*UnitState, []UnitState) {
	var out []UnitState
	for _, u := range r.units {
		if u.Level == LevelDistrict && (scope.Kind == ScopeProvince || r.Within(Scope{Kind: ScopeUnit, ID: u.ID}, scope.ID)) {
			out = append(out, UnitState{ID: u.ID, Name: u.Name, Short: u.Short, Level: u.Level, Quota: u.Quota})
		}
	}
	byID := make(map[string]*UnitState, len(out))
	for i := range out {
		byID[out[i].ID] = &out[i]
	}
	return byID, out
}

// newSnapshot is a snapshot of scope at now with the campaign's figures
// and nothing counted yet.
func newSnapshot(reg *Registry, scope Scope, now time.Time) *Snapshot {
	c := reg.Campaign
	return &Snapshot{
		Scope: scope,
		Campaign: CampaignInfo{ID: c.ID, Name: c.Name, NameEN: c.NameEN, TimeZone: c.TimeZone,
			Start: c.Start, Deadline: c.Deadline, Target: c.Target, WorkingDays: c.WorkingDays(),
			LateClose: fmt.Sprintf("%02d:00", c.LateClose()), LongWaitMinutes: c.LongWait()},
		Now: now.UTC(),
		Day: c.WorkingDay(now),
	}
}

// paceFunc judges a target with done records so far and recent records
// of the recent window of working day day; nil without a target.
func paceFunc(c *Campaign, profile HourProfile, day Day, now time.Time) func(target, done, recent int64) *Pace {
	_, _, recentDays := c.RecentWindow(day)
	return func(target, done, recent int64) *Pace {
		if target <= 0 {
			return nil
		}
		p := c.PaceOf(profile, target, done, RecentRecords{Records: recent, Days: recentDays}, now)
		return &p
	}
}

// finishSnapshot derives what both snapshot paths derive from the sums:
// the scope's retries per record, percent done and pace, each unit's
// percent and pace, and where the units go (a province's districts in
// file order, the nation's provinces ranked).
func finishSnapshot(reg *Registry, snap *Snapshot, units []UnitState, unitRecent map[string]int64, retries, recent int64,
	profile HourProfile, now time.Time) {
	paceOf := paceFunc(reg.Campaign, profile, snap.Day, now)
	if snap.Totals.Completed > 0 {
		snap.Totals.RetriesPerRec = round2(float64(retries) / float64(snap.Totals.Completed))
	}
	snap.Totals.PercentDone = percent(snap.Totals.Completed, snap.Totals.Target)
	for i := range units {
		d := &units[i]
		d.PercentDone = percent(d.Completed, d.Quota)
		d.Pace = paceOf(d.Quota, d.Completed, unitRecent[d.ID])
	}
	switch level := reg.LevelOf(snap.Scope); {
	case level == LevelProvince:
		snap.Districts = units
	case level.Above(LevelProvince):
		RankUnits(units)
		snap.Units = units
	}
	snap.Pace = paceOf(snap.Totals.Target, snap.Totals.Completed, recent)
	snap.Moves = []StaffMove{} // the read model plans them, with the chiefs' answers
	snap.Alerts = []Alert{}    // and adds the open alerts
}

// SetAlerts puts the open alerts of the snapshot's scope in it and counts
// them on its districts or units. Above the province level the list keeps
// only the alerts about its units (a province behind its pace): a nation
// has thousands of stations, and on a quiet night thousands of their
// alerts, which no one in a national room calls about; the counts per
// province say where they are, and the province's page lists them.
func (s *Snapshot) SetAlerts(reg *Registry, alerts []Alert) {
	units := s.Units
	if len(units) == 0 {
		units = s.Districts
	}
	byID := make(map[string]*UnitState, len(units))
	for i := range units {
		byID[units[i].ID] = &units[i]
	}
	s.Alerts = make([]Alert, 0, min(len(alerts), 64))
	for i := range alerts {
		a := &alerts[i]
		if !s.unlisted || (a.Station == "" && a.District == "" && a.Unit != "") {
			s.Alerts = append(s.Alerts, *a)
		}
		if u := byID[reg.unitOfAlert(a, byID)]; u != nil {
			u.Alerts++
			if a.Severity == SeverityCritical {
				u.AlertsCritical++
			}
		}
	}
}

// unitOfAlert is the id, among units, of the unit alert a lies in: its
// station's units, or those above its district or unit; "" if none.
func (r *Registry) unitOfAlert(a *Alert, units map[string]*UnitState) string {
	chain, ok := r.chain[a.Station]
	if !ok || a.Station == "" {
		at := a.District
		if at == "" {
			at = a.Unit
		}
		chain = r.UnitChain(at)
	}
	for _, id := range chain {
		if units[id] != nil {
			return id
		}
	}
	return ""
}

// unitAmong is the unit of units that station st belongs to, or nil.
func unitAmong(reg *Registry, st *Station, units map[string]*UnitState) *UnitState {
	if len(units) == 0 {
		return nil
	}
	for _, id := range reg.chain[st.ID] {
		if u := units[id]; u != nil {
			return u
		}
	}
	return nil
}

// attentionOf picks the stations each attention list names.
func attentionOf(stations []StationState) Attention {
	var waits, idle, late []*StationState
	for i := range stations {
		s := &stations[i]
		if s.WaitMinutes != nil && s.Queue > 0 {
			waits = append(waits, s)
		}
		if s.IdleStaff > 0 {
			idle = append(idle, s)
		}
		if s.Late {
			late = append(late, s)
		}
	}
	sort.SliceStable(waits, func(i, j int) bool {
		if *waits[i].WaitMinutes != *waits[j].WaitMinutes {
			return *waits[i].WaitMinutes > *waits[j].WaitMinutes
		}
		return waits[i].Queue > waits[j].Queue
	})
	sort.SliceStable(idle, func(i, j int) bool {
		if idle[i].IdleStaff != idle[j].IdleStaff {
			return idle[i].IdleStaff > idle[j].IdleStaff
		}
		return idle[i].PerHour < idle[j].PerHour
	})
	sort.SliceStable(late, func(i, j int) bool { return late[i].ClearsAt.After(*late[j].ClearsAt) })
	brief := func(list []*StationState) []StationBrief {
		out := make([]StationBrief, 0, min(len(list), AttentionSize))
		for _, s := range list[:min(len(list), AttentionSize)] {
			out = append(out, StationBrief{ID: s.ID, Name: s.Name, District: s.District, Kind: s.Kind, Queue: s.Queue,
				WaitMinutes: s.WaitMinutes, LongWait: s.LongWait, ClearsAt: s.ClearsAt, Late: s.Late, IdleStaff: s.IdleStaff})
		}
		return out
	}
	return Attention{Waits: brief(waits), Idle: brief(idle), Late: brief(late)}
}

func percent(done, target int64) float64 {
	if target <= 0 {
		return 0
	}
	return round2(100 * float64(done) / float64(target))
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }
