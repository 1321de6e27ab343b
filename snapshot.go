package tiendo

import (
	"math"
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
	Stations  []StationState  `json:"stations"`
	Districts []DistrictState `json:"districts,omitempty"`
	Storage   StorageState    `json:"storage"`
}

// StorageState tells screens whether the figures are complete.
type StorageState struct {
	// State is "ok"; "behind" when accepted events wait in the spool because
	// ClickHouse inserts fail (they are counted nonetheless); or "down" when
	// ClickHouse cannot answer and the figures are its last answer plus the spool.
	State   string `json:"state"`
	Pending int64  `json:"pending"`           // accepted events not yet in ClickHouse
	Partial bool   `json:"partial,omitempty"` // too many pending to count: figures lag by Pending events
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
	Quota          int64         `json:"quota"`
	WaitMinutes    float64       `json:"wait_minutes"` // estimated wait for the last in the queue
	RetriesPerRec  float64       `json:"retries_per_record"`
	LastSeen       *time.Time    `json:"last_seen"`
	Lat            float64       `json:"lat"`
	Lon            float64       `json:"lon"`
}

// DistrictState is one district's progress against its quota.
type DistrictState struct {
	ID             string  `json:"id"`
	Name           string  `json:"name"`
	Quota          int64   `json:"quota"`
	Completed      int64   `json:"completed"`
	CompletedToday int64   `json:"completed_today"`
	Queue          int     `json:"queue"`
	PerHour        int64   `json:"per_hour"`
	PercentDone    float64 `json:"percent_done"`
}

// ForScreen is the snapshot as a command-room screen receives it: the
// aggregates in full, and each station reduced to what the room's lists
// show (name, district, state, queue, wait, staff, pace), without its
// coordinates, quota, totals or last heartbeat. A screen account may not
// open a station's own page, so it gets no station's full record either.
func (s *Snapshot) ForScreen() *Snapshot {
	out := *s
	out.Stations = make([]StationState, len(s.Stations))
	for i, st := range s.Stations {
		out.Stations[i] = StationState{ID: st.ID, Name: st.Name, District: st.District, Kind: st.Kind, Status: st.Status,
			Queue: st.Queue, Staff: st.Staff, PerHour: st.PerHour, WaitMinutes: st.WaitMinutes, CompletedToday: st.CompletedToday}
	}
	return &out
}

// BuildSnapshot combines the registry with the stored figures into the
// snapshot of scope at instant now. Stations without data appear with zeros.
func BuildSnapshot(reg *Registry, scope Scope, stats []StationStats, now time.Time) *Snapshot {
	c := reg.Campaign
	byStation := make(map[string]*StationStats, len(stats))
	for i := range stats {
		byStation[stats[i].Station] = &stats[i]
	}
	snap := &Snapshot{
		Scope: scope,
		Campaign: CampaignInfo{ID: c.ID, Name: c.Name, NameEN: c.NameEN, TimeZone: c.TimeZone,
			Start: c.Start, Deadline: c.Deadline, Target: c.Target},
		Now: now.UTC(),
		Day: c.WorkingDay(now),
	}
	snap.Totals.Target = reg.Target(scope)
	var retries int64
	districts := map[string]*DistrictState{}
	if scope.Kind == ScopeProvince {
		for _, d := range reg.Districts() {
			snap.Districts = append(snap.Districts, DistrictState{ID: d.ID, Name: d.Name, Quota: d.Quota})
		}
		for i := range snap.Districts {
			districts[snap.Districts[i].ID] = &snap.Districts[i]
		}
	}
	for _, st := range reg.StationsIn(scope) {
		s := StationState{ID: st.ID, Name: st.Name, District: st.District, Commune: st.Commune, Kind: st.Kind,
			Status: StatusOffline, Lanes: st.Lanes, Quota: st.Quota, Lat: st.Lat, Lon: st.Lon}
		if ss := byStation[st.ID]; ss != nil {
			s.Completed, s.CompletedToday, s.PerHour = ss.Completed, ss.CompletedToday, ss.LastHour
			if ss.Completed > 0 {
				s.RetriesPerRec = round2(float64(ss.Retries) / float64(ss.Completed))
			}
			retries += ss.Retries
			if ss.HasHeartbeat {
				seen := ss.LastSeen.UTC()
				s.LastSeen = &seen
				if ss.Lanes > 0 {
					s.Lanes = ss.Lanes
				}
				if ss.Lat != 0 || ss.Lon != 0 {
					s.Lat, s.Lon = ss.Lat, ss.Lon
				}
				if now.Sub(ss.LastSeen) <= StaleAfter {
					s.Status, s.Queue, s.Staff = ss.Status, ss.Queue, ss.Staff
				}
			}
		}
		s.WaitMinutes = EstimateWait(s.Queue, s.Lanes, s.Status, s.PerHour, c.MinutesPerRecord)
		snap.Stations = append(snap.Stations, s)

		t := &snap.Totals
		t.Completed += s.Completed
		t.CompletedToday += s.CompletedToday
		t.Queue += s.Queue
		t.Staff += s.Staff
		t.PerHour += s.PerHour
		t.Stations++
		if s.Status == StatusOpen {
			t.StationsOpen++
		}
		if d := districts[s.District]; d != nil {
			d.Completed += s.Completed
			d.CompletedToday += s.CompletedToday
			d.Queue += s.Queue
			d.PerHour += s.PerHour
		}
	}
	if snap.Totals.Completed > 0 {
		snap.Totals.RetriesPerRec = round2(float64(retries) / float64(snap.Totals.Completed))
	}
	snap.Totals.PercentDone = percent(snap.Totals.Completed, snap.Totals.Target)
	for i := range snap.Districts {
		snap.Districts[i].PercentDone = percent(snap.Districts[i].Completed, snap.Districts[i].Quota)
	}
	return snap
}

// EstimateWait is the minutes the last person in a queue waits: queue ×
// minutes per record ÷ lanes. The minutes per record are measured from the
// last hour's throughput when the station served anyone (lanes × 60 ÷
// records per hour), else the campaign's nominal figure. A station that is
// not open has no wait to estimate.
func EstimateWait(queue, lanes int, status StationStatus, perHour int64, nominalMinutes float64) float64 {
	if queue <= 0 || status != StatusOpen || lanes <= 0 {
		return 0
	}
	perRecord := nominalMinutes
	if perHour > 0 {
		perRecord = float64(lanes) * 60 / float64(perHour)
	}
	return math.Round(float64(queue) * perRecord / float64(lanes))
}

func percent(done, target int64) float64 {
	if target <= 0 {
		return 0
	}
	return round2(100 * float64(done) / float64(target))
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }
