package tiendo

import (
	"math"
	"sort"
	"time"
)

// Staff moves: which officers a station chief could send where, so that a
// commune with a long queue borrows the idle officers of a neighbour. The
// server suggests, people decide: nothing moves by itself.

// StaffMove suggests sending Staff officers from one station to another of
// the same district, with what it does to the receiving station's wait and
// closing time (the sender has an empty queue: its wait stays 0).
type StaffMove struct {
	// ID names the suggestion for a chief's answer: the pair and the day,
	// so that the same pair suggested again later that day is the same one.
	ID             string     `json:"id"`
	From           string     `json:"from"`
	FromName       string     `json:"from_name"`
	To             string     `json:"to"`
	ToName         string     `json:"to_name"`
	District       string     `json:"district"`
	Staff          int        `json:"staff"`
	DistanceKm     float64    `json:"distance_km"`
	TravelMinutes  float64    `json:"travel_minutes"`
	WaitBefore     float64    `json:"wait_before"`
	WaitAfter      float64    `json:"wait_after"`
	ClearsAtBefore *time.Time `json:"clears_at_before"`
	ClearsAtAfter  *time.Time `json:"clears_at_after"`
}

// TravelKmPerHour is the speed officers are assumed to travel at between
// communes: mountain roads, a motorbike.
const TravelKmPerHour = 30

// MoveMaxKm is the campaign's move distance, or its default of 15 km.
func (c *Campaign) MoveMaxKm() float64 { return orDefault(c.MoveDistanceKm, 15) }

// moveSide is one station as the planner sees it while it assigns officers.
type moveSide struct {
	st       *StationState
	machines int // enrolment machines (registry lanes)
	lanes    int // lanes staffed now, as moves add officers
	idle     int // officers still free to send
}

// waitWith is the wait at a station with lanes staffed.
func (m *moveSide) waitWith(lanes int) float64 {
	return math.Round(float64(m.st.Queue) * m.st.MinutesPerRecord / float64(lanes))
}

// PlanMoves suggests moves within each district of stations (one scope's
// snapshot stations, with their service figures) at instant now.
//
// Greedy, one officer at a time: of all pairs of a station with idle
// officers and a station with a queue, a spare machine and a queue that
// will not have cleared by the time the officer arrives, within the
// campaign's distance, take the one whose wait drops the most with one more
// lane; repeat until no officer would shorten a wait. Officers sent along
// one pair become one move. Each step is the best single officer, not the
// best plan; on a district at 21:00 of a busy day (a dozen stations, a few
// with idle day-shift officers, several queues) it sends the free officers
// to the nearest long queues first and stops when the spare machines are
// staffed, which is what a district officer would do by hand. Moves are
// ordered by the wait they remove, largest first.
//
// skip (nil: none) names pairs not to suggest, such as those answered.
func (c *Campaign) PlanMoves(reg *Registry, stations []StationState, now time.Time, skip func(from, to string) bool) []StaffMove {
	byDistrict := map[string][]*moveSide{}
	for i := range stations {
		s := &stations[i]
		if s.Status != StatusOpen || s.Kind == KindHomeVisit {
			continue
		}
		machines := s.Lanes
		if st := reg.Station(s.ID); st != nil {
			machines = max(machines, st.Lanes)
		}
		byDistrict[s.District] = append(byDistrict[s.District], &moveSide{st: s, machines: machines, lanes: s.Lanes, idle: s.IdleStaff})
	}
	moves := []StaffMove{} // never null in the JSON: "no suggestion" is an empty list
	districts := make([]string, 0, len(byDistrict))
	for d := range byDistrict {
		districts = append(districts, d)
	}
	sort.Strings(districts)
	for _, d := range districts {
		moves = append(moves, c.planDistrict(byDistrict[d], now, skip)...)
	}
	sort.SliceStable(moves, func(i, j int) bool {
		return moves[i].WaitBefore-moves[i].WaitAfter > moves[j].WaitBefore-moves[j].WaitAfter
	})
	return moves
}

func (c *Campaign) planDistrict(sides []*moveSide, now time.Time, skip func(from, to string) bool) []StaffMove {
	type pair struct{ from, to *moveSide }
	sent := map[pair]int{}
	var order []pair
	for {
		var best pair
		bestGain := 0.0
		for _, from := range sides {
			if from.idle <= 0 {
				continue
			}
			for _, to := range sides {
				if to == from || to.st.Queue <= 0 || to.lanes >= to.machines || to.lanes <= 0 ||
					skip != nil && skip(from.st.ID, to.st.ID) {
					continue
				}
				km := distanceKm(from.st.Lat, from.st.Lon, to.st.Lat, to.st.Lon)
				if km > c.MoveMaxKm() {
					continue
				}
				// An officer arriving after the queue has cleared helps no one.
				if to.waitWith(to.lanes) <= km/TravelKmPerHour*60 {
					continue
				}
				gain := to.waitWith(to.lanes) - to.waitWith(to.lanes+1)
				if gain > bestGain || gain == bestGain && gain > 0 && km < distanceKm(best.from.st.Lat, best.from.st.Lon, to.st.Lat, to.st.Lon) {
					best, bestGain = pair{from, to}, gain
				}
			}
		}
		if bestGain <= 0 {
			break
		}
		if sent[best] == 0 {
			order = append(order, best)
		}
		sent[best]++
		best.from.idle--
		best.to.lanes++
	}
	var moves []StaffMove
	for _, p := range order {
		n := sent[p]
		km := distanceKm(p.from.st.Lat, p.from.st.Lon, p.to.st.Lat, p.to.st.Lon)
		m := StaffMove{ID: MoveID(p.from.st.ID, p.to.st.ID, c.WorkingDay(now)), From: p.from.st.ID, FromName: p.from.st.Name,
			To: p.to.st.ID, ToName: p.to.st.Name,
			District: p.to.st.District, Staff: n,
			DistanceKm: math.Round(km*10) / 10, TravelMinutes: math.Round(km / TravelKmPerHour * 60)}
		before := p.to.st.Lanes
		m.WaitBefore = p.to.waitWith(before)
		m.WaitAfter = p.to.waitWith(before + n)
		at := func(minutes float64) *time.Time {
			t := now.Add(time.Duration(minutes * float64(time.Minute))).UTC()
			return &t
		}
		m.ClearsAtBefore, m.ClearsAtAfter = at(m.WaitBefore), at(m.WaitAfter)
		moves = append(moves, m)
	}
	return moves
}

// MoveID is the id of the suggestion to move officers from one station to
// another on working day d.
func MoveID(from, to string, d Day) string { return d.String() + "~" + from + "~" + to }

// MoveAnswer is a chief's answer to a suggested move, recorded with who
// gave it and when.
type MoveAnswer struct {
	ID      string    `json:"id"`
	From    string    `json:"from"`
	To      string    `json:"to"`
	Staff   int       `json:"staff"`
	Outcome string    `json:"outcome"` // "done" or "not_possible"
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// MoveQuiet is how long an answered suggestion is not made again: after
// "done", the officers' new heartbeats show its effect; after "not
// possible", the chief is not asked again within the hour.
const MoveQuiet = time.Hour

// Answered tells the pairs of stations whose suggestion was answered less
// than MoveQuiet ago: PlanMoves does not suggest them again.
func Answered(answers []MoveAnswer, now time.Time) func(from, to string) bool {
	recent := map[[2]string]bool{}
	for _, a := range answers {
		if now.Sub(a.At) < MoveQuiet {
			recent[[2]string{a.From, a.To}] = true
		}
	}
	return func(from, to string) bool { return recent[[2]string{from, to}] }
}

// MovesOf are the moves that send to or from station.
func MovesOf(moves []StaffMove, station string) []StaffMove {
	out := []StaffMove{}
	for _, m := range moves {
		if m.From == station || m.To == station {
			out = append(out, m)
		}
	}
	return out
}

// distanceKm is the great-circle distance between two points.
func distanceKm(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371.0
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(a)))
}
