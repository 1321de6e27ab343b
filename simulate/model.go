// Package simulate is the campaign simulator: a deterministic model of every
// station's working days (Model) and a driver that replays them against the
// real ingest API with station tokens, as real stations would (Run).
//
// The model is pure: given the campaign, the station registry and a seed, the
// events of a station on a working day are always the same, whatever else is
// simulated, in whatever order. Event ids are made from the seed, the working
// day and a sequence number, so a batch sent again after a lost answer, or
// after a station comes back online, carries the same ids and is recognised
// by the server as a duplicate.
package simulate

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"tiendo"
)

// Params tunes the model.
type Params struct {
	// Heartbeat is how often a station reports: from the working day's start
	// (the day boundary) to its end, whatever its status, at a fixed offset of
	// 0–59 s per station. Each heartbeat states the moment: status, queue,
	// staff, lanes staffed and position; the state holds until the next one.
	Heartbeat time.Duration
	// OfflineRate is the chance that a station drops off the network for a
	// while on a given day (20 minutes to 3 hours: a cut line, a dead
	// modem); its events of that time are sent when it is back.
	OfflineRate float64
	// DropRate is the chance that a station's mobile-data link drops once
	// on a given day for dropMin–dropMax minutes while it is serving: the
	// short silence of a mountain commune's post (see signalDrop). Its
	// agent keeps working and sends what it held when the link is back.
	DropRate float64
	// EarlyDays and EarlyShare are the early calibration point: the share of
	// the target collected in the first EarlyDays days. The source (Lạng Sơn,
	// 2021) says almost 80,000 of 621,000 records in 10–20 March: 11 days.
	EarlyDays  int
	EarlyShare float64
	// Margin is the expected total at the deadline over the target (the
	// province met its target, so a little over 1).
	Margin float64
}

// DefaultParams are the model's calibrated settings.
func DefaultParams() Params {
	return Params{Heartbeat: 5 * time.Minute, OfflineRate: 0.03, DropRate: 0.06, EarlyDays: 11, EarlyShare: 80_000.0 / 621_000.0, Margin: 1.05}
}

// Event is one simulated event and the moment its station can send it: its
// own time, or, if the station was offline then, when it is back online.
type Event struct {
	tiendo.Event
	Deliver time.Time
}

// DayStats sums up one station's working day.
type DayStats struct {
	Records     int       // records completed
	Retries     int       // fingerprint retries of those records
	Completions int       // completion events
	Heartbeats  int       // heartbeat events
	SentHome    int       // citizens still waiting at the cut-off, asked to come back
	Open, Close time.Time // when the station opened and when it closed
	Last        time.Time // when its last record was done; zero without records
	LateRecords int       // records completed in the late-night window
	Offline     bool      // the station dropped off the network this day
	OfflineFrom time.Time // the outage, when Offline
	OfflineTo   time.Time
	SignalDrop  bool      // the station's link dropped for a short while this day
	DropFrom    time.Time // the drop, when SignalDrop: nothing is sent in it
	DropTo      time.Time // when the link is back and the held events go
}

// Model is the campaign's stations and their working days.
type Model struct {
	c        *tiendo.Campaign
	stations []tiendo.Station
	seed     uint64
	p        Params

	share  []float64 // each station's share of a day's provincial demand
	hash   []uint64  // per-station seed material
	jitter []float64 // per-station heartbeat offset, minutes
	base   float64   // provincial records per day at full intensity
	level  float64   // the later steady level, relative to base
	days   int       // campaign length in days
}

// Weights of a station's kind in the split of demand: a home-visit team
// cannot do what a post with the same quota does.
var kindWeight = map[tiendo.StationKind]float64{tiendo.KindFixed: 1, tiendo.KindMobile: 1, tiendo.KindHomeVisit: 0.4}

// NewModel builds the model. Zero Heartbeat, EarlyDays, EarlyShare and Margin
// take DefaultParams' values; OfflineRate and DropRate are taken as given.
func NewModel(c *tiendo.Campaign, stations []tiendo.Station, seed uint64, p Params) (*Model, error) {
	def := DefaultParams()
	if p.Heartbeat <= 0 {
		p.Heartbeat = def.Heartbeat
	}
	if p.EarlyDays <= 0 {
		p.EarlyDays = def.EarlyDays
	}
	if p.EarlyShare <= 0 {
		p.EarlyShare = def.EarlyShare
	}
	if p.Margin <= 0 {
		p.Margin = def.Margin
	}
	if p.OfflineRate < 0 || p.OfflineRate > 1 {
		return nil, fmt.Errorf("simulate: offline rate %v must be between 0 and 1", p.OfflineRate)
	}
	if p.DropRate < 0 || p.DropRate > 1 {
		return nil, fmt.Errorf("simulate: signal drop rate %v must be between 0 and 1", p.DropRate)
	}
	if p.Heartbeat < time.Minute || p.Heartbeat > time.Hour {
		return nil, fmt.Errorf("simulate: heartbeat interval %v must be between 1m and 1h", p.Heartbeat)
	}
	if len(stations) == 0 {
		return nil, fmt.Errorf("simulate: no stations")
	}
	m := &Model{c: c, stations: stations, seed: seed, p: p, days: int(c.Deadline - c.Start)}
	if p.EarlyDays >= m.days {
		return nil, fmt.Errorf("simulate: early calibration window of %d days is not shorter than the campaign (%d days)", p.EarlyDays, m.days)
	}
	var sum float64
	m.share = make([]float64, len(stations))
	m.hash = make([]uint64, len(stations))
	m.jitter = make([]float64, len(stations))
	for i, s := range stations {
		w := float64(s.Quota) * kindWeight[s.Kind]
		if w <= 0 {
			w = 1
		}
		m.share[i] = w
		sum += w
		h := fnv.New64a()
		h.Write([]byte(s.ID))
		m.hash[i] = h.Sum64()
		m.jitter[i] = float64(m.hash[i]%60) / 60 // 0–59 s after the interval
	}
	for i := range m.share {
		m.share[i] /= sum
	}
	m.calibrate()
	return m, nil
}

// Campaign is the model's campaign.
func (m *Model) Campaign() *tiendo.Campaign { return m.c }

// Stations are the model's stations, in the order Day's index refers to.
func (m *Model) Stations() []tiendo.Station { return m.stations }

// Params are the model's settings.
func (m *Model) Params() Params { return m.p }

// Seed is the model's seed.
func (m *Model) Seed() uint64 { return m.seed }

// The province's demand curve, relative to its full intensity: a ramp over
// the first days, a plateau through the early window, a decline over three
// weeks to a steady level, and a final push in the last two weeks. Weekends
// bring a little more, as people are free.
const (
	rampDays    = 4
	declineDays = 21
	pushDays    = 14
	pushFactor  = 1.2
)

func weekdayFactor(d tiendo.Day) float64 {
	switch d.Weekday() {
	case time.Saturday:
		return 1.1
	case time.Sunday:
		return 1.15
	}
	return 0.95
}

// shape is the curve at day index k for a given steady level.
func (m *Model) shape(k int, level float64) float64 {
	var f float64
	early := m.p.EarlyDays
	switch {
	case k < 0:
		return 0
	case k < early:
		f = min(1, 0.4+0.6*float64(k)/float64(rampDays-1))
	case k < early+declineDays:
		f = 1 + (level-1)*float64(k-early+1)/declineDays
	case k >= m.days-pushDays && k < m.days:
		f = level * pushFactor
	default:
		f = level
	}
	return f * weekdayFactor(m.c.Start+tiendo.Day(k))
}

// calibrate sets base from the early point and solves the steady level so
// that the expected total at the deadline is Target × Margin.
func (m *Model) calibrate() {
	var early float64
	for k := 0; k < m.p.EarlyDays; k++ {
		early += m.shape(k, 1)
	}
	m.base = float64(m.c.Target) * m.p.EarlyShare / early
	// The total is linear in the level: a + b·level.
	total := func(level float64) float64 {
		var s float64
		for k := 0; k < m.days; k++ {
			s += m.shape(k, level)
		}
		return s
	}
	a := total(0)
	b := total(1) - a
	want := float64(m.c.Target) * m.p.Margin / m.base
	m.level = (want - a) / b
	if m.level < 0.1 {
		m.level = 0.1
	}
}

// Expected is the model's expected provincial records on working day d.
func (m *Model) Expected(d tiendo.Day) float64 {
	k := int(d - m.c.Start)
	if k >= m.days {
		// A live run after the deadline keeps the steady level.
		return m.base * m.level * weekdayFactor(d)
	}
	return m.base * m.shape(k, m.level)
}

// busyShare is the demand, relative to the early plateau, at and above which
// a day belongs to the busy weeks.
const busyShare = 0.9

// Busy reports whether working day d is in the busy weeks, the campaign's
// peak (the source's "cao điểm"): the province's demand that day, weekday
// aside, is at least busyShare of the early plateau's. In Lạng Sơn 2021 they
// are 13 to 25 March: the plateau after the three days' ramp and the first
// days of the decline. The final push in June, at about three quarters of
// the plateau, is not among them.
func (m *Model) Busy(d tiendo.Day) bool {
	k := int(d - m.c.Start)
	if k < 0 || k >= m.days {
		return false
	}
	return m.shape(k, m.level)/weekdayFactor(d) >= busyShare
}

// Level is the steady level after the early rush, relative to its peak.
func (m *Model) Level() float64 { return m.level }

// --- one station's working day -------------------------------------------

// Times inside a day are minutes since local midnight of the working day's
// calendar date: the working day runs from the boundary hour (240 for 4:00)
// to the next day's (1680), so 01:30 the next morning is 1530.

type citizen struct {
	arrive, start, end float64
	retries            int
	kind               tiendo.RecordKind
	served             bool
}

// seg is a stretch of the day with a number of working lanes, staff beside
// them, and a position moving from (lat0, lon0) to (lat1, lon1).
type seg struct {
	from, to   float64
	lanes      int
	helpers    int
	lat0, lon0 float64
	lat1, lon1 float64
}

type dayPlan struct {
	open, close float64
	cits        []citizen // by arrival; start times do not decrease
	segs        []seg
	busyExtra   bool // one more helper when the queue is long
}

func (m *Model) rng(i int, d tiendo.Day) *rand.Rand {
	return rand.New(rand.NewPCG(splitmix(m.seed^m.hash[i]), splitmix(uint64(int64(d))^0x9e3779b97f4a7c15^m.seed)))
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Day appends the events of station i on working day d to buf, in time
// order, and returns them with the day's figures. It depends on nothing but
// the model, i and d.
func (m *Model) Day(i int, d tiendo.Day, buf []Event) ([]Event, DayStats) {
	return m.day(i, d, buf, true)
}

// Stats is Day's figures without the events: the same day, cheaper, for
// questions about records alone (calibration over a whole campaign).
func (m *Model) Stats(i int, d tiendo.Day) DayStats {
	_, s := m.day(i, d, nil, false)
	return s
}

func (m *Model) day(i int, d tiendo.Day, buf []Event, events bool) ([]Event, DayStats) {
	st := &m.stations[i]
	r := m.rng(i, d)
	mean := m.Expected(d) * m.share[i]
	openMin := float64(m.c.OpenHour * 60)
	var plan dayPlan
	switch st.Kind {
	case tiendo.KindMobile:
		plan = m.mobileDay(st, r, d, mean, openMin)
	case tiendo.KindHomeVisit:
		plan = m.homeVisitDay(st, r, mean, openMin)
	default:
		plan = m.fixedDay(st, r, d, mean, openMin)
	}
	return m.emit(i, d, r, &plan, buf, events)
}

// serviceTime draws one record's time in minutes: five steps (declare,
// fingerprints, photo, check, sign), about 6 minutes in all, plus the
// repeated fingerprint captures of worn or scratched fingers.
func serviceTime(r *rand.Rand, worn float64) (float64, int) {
	steps := [5]float64{1.0, 1.5, 0.8, 1.7, 1.0}
	var t float64
	for _, s := range steps {
		t += s * (0.75 + 0.5*r.Float64())
	}
	retries := 0
	switch u := r.Float64(); {
	case u < worn:
		retries = 2
		for retries < 15 && r.Float64() < 0.6 {
			retries++
		}
	case u < worn+0.15:
		retries = 1
	}
	return t + 0.75*float64(retries), retries
}

func poisson(r *rand.Rand, mu float64) int {
	if mu <= 0 {
		return 0
	}
	if mu < 30 {
		l, k, p := math.Exp(-mu), 0, 1.0
		for {
			p *= r.Float64()
			if p <= l {
				return k
			}
			k++
		}
	}
	n := math.Round(mu + math.Sqrt(mu)*r.NormFloat64())
	if n < 0 {
		return 0
	}
	return int(n)
}

func truncNormal(r *rand.Rand, mean, sd, lo, hi float64) float64 {
	for range 16 {
		if x := mean + sd*r.NormFloat64(); x >= lo && x <= hi {
			return x
		}
	}
	return lo + (hi-lo)*r.Float64()
}

// --- how a working day goes --------------------------------------------------
//
// The source says stations work "outside office hours, every day, from 7:00,
// serving until no citizen present is left; a working day ends very late,
// usually at about 1–2 a.m.", and that communes "invite citizens by notice
// for a time and a place" and arrange venue, machines and officers "so that
// nobody waits too long", under COVID-19 distancing. The model takes those
// as its mechanism; the late nights come out of it, not out of a later clock:
//
//   - People are at work in the day: in the fields, at the border markets, in
//     factories and offices. A fixed post gets some walk-ins (fixedWalkShare
//     of its records: the morning, students and the retired in the
//     afternoon, a few on the way home), but most of its records come by
//     evening invitation: the commune invites groups of households by name
//     for slots after the evening meal (the first at 20:00–20:30, a group
//     every 45 minutes, the last regular one at 22:00), and one in ten of the
//     invited come after their late shift. The hall lets nobody new in after
//     23:00; whoever is inside is served.
//   - Officers, not machines, are the limit. A commune post has a handful of
//     officers for everything: they staff every machine in the day shift,
//     7:00–17:00, but cannot do so until 2 a.m. every day for weeks. From
//     17:00 an evening crew serves: one machine (two at the four-lane ward
//     posts), one more for each eveningMaxLane invited beyond that. So the
//     invited queue lasts: 46 people on one machine from 20:00 take it past
//     midnight, to about 1 a.m.
//   - A post's demand does not fill an evening every day. A busy two-lane
//     post expects about 30 records a day, three hours of one machine; if
//     every evening brought its share, it would close at 22–23 h. The commune
//     instead invites a full evening's list (sessionPerLane people per crew
//     machine) on as many evenings as its demand fills, and serves the
//     walk-ins on the others. So the share of evenings with an invitation,
//     and of late nights, follows the demand: about two evenings in three at
//     a two-lane post in the busy weeks, two in five in the slack weeks;
//     small communes (one-lane posts, about 20 records a day) have fewer.
//   - Nobody is called to a machine after lastCall (02:30): who still waits
//     then is given a number for another evening (DayStats.SentHome). With
//     the crew rule that is rare, and no record ends after about 02:50.
//
// Mobile teams work the same way: a daytime place or two (schools on
// weekdays, agencies, companies; mobileDayShare of their records) and, on
// most busy evenings, a village invited after the fields, served by an
// evening crew of one machine; on such days the team rests at its base
// between the daytime place and the drive to the village. Home-visit teams
// keep day hours: the elderly and sick are visited in daylight.
//
// What a command room sees of this comes out of the mechanism; nothing is
// staged for it:
//
//   - A staff move, every evening in every district. A commune with an
//     invitation tonight has its invited queue from about 19:45 on the one
//     machine (two at a ward) of its evening crew, of the two to four it
//     has, while a neighbouring post without one tonight keeps its walk-in
//     desk open until 21:00 with an officer at the machine, one beside it
//     and nobody waiting; the posts of a district are 1–15 km apart. That
//     is the decision model's move (idle officers, a queue, a machine
//     nobody staffs, a wait longer than the ride), mostly from about 19:45
//     to 21:15, and again after midnight, when a post's last invited are at
//     its machine and its guide is free while a neighbour's list runs on.
//     On 10–12 March, 31–38 of the day's 252 rounds of heartbeats from
//     07:00 give one (TestFirstWorkingDaysGiveMovesAndSilentStations).
//   - Silent stations: the short signal drops of serving posts (signalDrop)
//     and the rarer long outages (Params.OfflineRate).
//   - Long waits: an invited evening on one machine waits hours at 22:00.
//     Queues clearing after 02:00: the rare list that runs late.
//     Slowdowns: a post whose invited evening began later today than
//     yesterday (slots at 20:00, 20:15 or 20:30), or a mobile team that
//     reaches its daytime place later than yesterday, has its queue and
//     fewer records than yesterday's same hour.
const (
	shiftEnd        = 17 * 60    // the day shift hands over to the evening crew
	slotFirst       = 20 * 60    // the earliest first invitation slot, after the evening meal
	slotEvery       = 45         // minutes between the invited groups of an evening
	slotLast        = 22 * 60    // the last regular slot
	doorClose       = 23 * 60    // nobody new is let in after 23:00
	lastCall        = 26*60 + 30 // 02:30: no record is begun after this
	groupPerLane    = 12         // people per invited group and evening machine
	sessionPerLane  = 46         // an evening's list per crew machine: 20:00 to about 1 a.m.
	eveningMaxLane  = 60         // more invited than this per machine: the chief staffs another
	invitedMax      = 0.95       // at most this share of evenings have an invitation
	showRate        = 0.9        // of the invited, this share comes
	studentEvenings = 0.15       // weekday invitations that are a school's final-year students
	fixedWalkShare  = 0.12       // a fixed post's records from walk-ins; the rest by invitation
	mobileDayShare  = 0.3        // a mobile team's records at its daytime places
	postOpenUntil   = 21 * 60    // a post without an invitation stays open this long for walk-ins
	homeVisitLatest = 16*60 + 30 // home-visit teams begin no visit later
	lunchFrom       = 11*60 + 30 // lunch, for everyone
	lunchTo         = 13 * 60    // the end of lunch at posts and for home-visit teams
	mobileLunchTo   = 12*60 + 30 // mobile teams eat with their hosts, one hour
)

// invitation decides whether a station-day's evening has an invited group,
// and how many of it come: the evening share of the day's demand is spread
// over evenings of about perEvening people each (more per evening when even
// invitedMax of the evenings would not hold it). The commune invites a list
// of households by name, so the group is the list less those who do not
// come (one in ten), not a random crowd.
func invitation(r *rand.Rand, evening, perEvening float64) int {
	if evening <= 0 {
		return 0
	}
	p := evening / perEvening
	if p > invitedMax {
		perEvening, p = evening/invitedMax, invitedMax
	}
	if r.Float64() >= p {
		return 0
	}
	listed := int(math.Round(perEvening * (0.95 + 0.1*r.Float64()) / showRate))
	come := 0
	for range listed {
		if r.Float64() < showRate {
			come++
		}
	}
	return come
}

// eveningCrew is how many machines are staffed after the day shift for n
// invited people: crew, and one more for each eveningMaxLane beyond it, up
// to the station's lanes.
func eveningCrew(n, crew, lanes int) int {
	for crew < lanes && n > crew*eveningMaxLane {
		crew++
	}
	return min(crew, lanes)
}

// invite appends n invited people: groups of groupPerLane per machine at
// slots from first, each person coming in the half hour around the slot,
// one in ten after the late shift (21:30–23:00); nobody after doorClose.
func invite(r *rand.Rand, cits []citizen, n, lanes int, first float64, kind tiendo.RecordKind) []citizen {
	per := groupPerLane * max(lanes, 1)
	for k := range n {
		slot := min(first+slotEvery*float64(k/per), slotLast)
		a := slot - 15 + r.ExpFloat64()*20
		if r.Float64() < 0.1 {
			a = 21*60 + 30 + 90*r.Float64()
		}
		cits = append(cits, citizen{arrive: min(a, doorClose), kind: kind})
	}
	return cits
}

// fixedDay is a commune or ward post: walk-ins in the day, an evening
// invitation on some evenings, an evening crew from 17:00.
func (m *Model) fixedDay(st *tiendo.Station, r *rand.Rand, d tiendo.Day, mean, open float64) dayPlan {
	lanes := st.Lanes
	crew := 1
	if lanes >= 4 {
		crew = 2
	}
	invited := invitation(r, (1-fixedWalkShare)*mean, float64(sessionPerLane*crew))
	crew = eveningCrew(invited, crew, lanes)
	weekday := d.Weekday() != time.Saturday && d.Weekday() != time.Sunday

	walk := poisson(r, fixedWalkShare*mean)
	cits := make([]citizen, 0, walk+invited)
	for range walk {
		c := citizen{kind: tiendo.RecordStandard}
		switch u := r.Float64(); {
		case u < 0.5: // the morning, before the fields and the market
			c.arrive = truncNormal(r, 8*60+45, 70, open-20, lunchFrom)
		case u < 0.7: // the afternoon: final-year students after school, the retired
			c.arrive = lunchTo + 240*r.Float64()
			if weekday && r.Float64() < 0.4 {
				c.kind = tiendo.RecordStudent
			}
		default: // on the way home from work
			c.arrive = truncNormal(r, 18*60+30, 45, shiftEnd, postOpenUntil)
		}
		cits = append(cits, c)
	}
	group := tiendo.RecordStandard
	if weekday && r.Float64() < studentEvenings { // the commune school's final-year students, after classes
		group = tiendo.RecordStudent
	}
	cits = invite(r, cits, invited, crew, slotFirst+15*float64(r.IntN(3)), group)
	for k := range cits {
		cits[k].arrive = max(cits[k].arrive, open-20) // early birds wait at the door
	}
	slices.SortFunc(cits, func(a, b citizen) int { return cmp.Compare(a.arrive, b.arrive) })

	lunch := (lanes + 1) / 2 // officers eat in turns; a one-lane post closes its desk
	if lanes == 1 {
		lunch = 0
	}
	afternoon := lanes
	if lanes > 1 && r.Float64() < 0.3 { // an officer called away to other duties
		afternoon--
	}
	h := func() int { return 1 + r.IntN(2) }
	evening := 1
	if invited > 0 {
		evening = 2 // one guides the invited and checks their papers
	}
	segs := []seg{
		{from: open, to: lunchFrom, lanes: lanes, helpers: h()},
		{from: lunchFrom, to: lunchTo, lanes: lunch, helpers: 1},
		{from: lunchTo, to: shiftEnd, lanes: afternoon, helpers: h()},
		{from: shiftEnd, to: math.Inf(1), lanes: crew, helpers: evening},
	}
	for k := range segs {
		segs[k].lat0, segs[k].lon0, segs[k].lat1, segs[k].lon1 = st.Lat, st.Lon, st.Lat, st.Lon
	}
	last := serve(cits, lanes, segs, r, 0.12)
	return dayPlan{open: open, close: max(last, postOpenUntil), cits: cits, segs: segs, busyExtra: true}
}

// serve runs the queue first come, first served over the lanes working in
// segs, and returns when the last record was done. Who has not been called
// by lastCall is sent home with a number for another evening.
func serve(cits []citizen, lanes int, segs []seg, r *rand.Rand, worn float64) float64 {
	free := make([]float64, lanes)
	prev, last := 0.0, 0.0
	for k := range cits {
		c := &cits[k]
		best, bestLane := math.Inf(1), -1
		for j := range free {
			if t := nextActive(segs, j, max(free[j], c.arrive, prev)); t < best {
				best, bestLane = t, j
			}
		}
		if bestLane < 0 || best > lastCall {
			for q := k; q < len(cits); q++ { // they leave at the last call
				cits[q].start = max(lastCall, cits[q].arrive)
			}
			break
		}
		w := worn
		if c.kind == tiendo.RecordStudent {
			w = 0.03
		}
		dur, retries := serviceTime(r, w)
		c.start, c.end, c.retries, c.served = best, best+dur, retries, true
		free[bestLane] = c.end
		prev = best
		last = max(last, c.end)
	}
	return last
}

// nextActive is the first time from t at which lane j works.
func nextActive(segs []seg, j int, t float64) float64 {
	for _, s := range segs {
		if s.to <= t || s.lanes <= j {
			continue
		}
		return max(t, s.from)
	}
	return math.Inf(1)
}

// travelSeg is a trip of a team of staff: paused (no lane works), the
// position moving.
func travelSeg(from, to float64, staff int, lat0, lon0, lat1, lon1 float64) seg {
	return seg{from: from, to: to, lanes: 0, helpers: staff, lat0: lat0, lon0: lon0, lat1: lat1, lon1: lon1}
}

// atPlace serves the citizens of one place from arrive with lanes, and a
// lunch break from lunchFrom to lunchEnd (paused) if the work reaches it.
// It returns the stretches of the stay, the last ending when the last record
// is done (at least stay minutes after arrive).
func atPlace(cits []citizen, lanes, helpers int, arrive, lunchEnd, stay, lat, lon float64, r *rand.Rand, worn float64) ([]seg, float64) {
	work := []seg{{from: arrive, to: math.Inf(1), lanes: lanes}}
	if arrive < lunchEnd {
		work = []seg{
			{from: arrive, to: max(arrive, lunchFrom), lanes: lanes},
			{from: max(arrive, lunchFrom), to: lunchEnd, lanes: 0},
			{from: lunchEnd, to: math.Inf(1), lanes: lanes},
		}
	}
	end := max(serve(cits, lanes, work, r, worn), arrive+stay)
	var out []seg
	for _, s := range work {
		if s.from >= end || s.to <= s.from {
			continue
		}
		h := helpers
		if s.lanes == 0 {
			h = lanes + helpers // everyone at lunch: staff present, nobody at a machine
		}
		out = append(out, seg{from: s.from, to: min(s.to, end), lanes: s.lanes, helpers: h, lat0: lat, lon0: lon, lat1: lat, lon1: lon})
	}
	return out, end
}

// mobileDay is a mobile team: one or two daytime places (schools on
// weekdays, agencies and companies), each with its citizens invited for the
// team's arrival, lunch with the hosts; on an invitation evening, a village
// invited after the fields, served by an evening crew of one machine; then
// the drive back. Travel is paused.
func (m *Model) mobileDay(st *tiendo.Station, r *rand.Rand, d tiendo.Day, mean, open float64) dayPlan {
	weekend := d.Weekday() == time.Saturday || d.Weekday() == time.Sunday
	n := poisson(r, mobileDayShare*mean*(0.7+0.6*r.Float64()))
	invited := invitation(r, (1-mobileDayShare)*mean, sessionPerLane)
	crew := eveningCrew(invited, 1, st.Lanes)
	places := 1
	if invited == 0 && r.Float64() < 0.5 {
		places = 2
	}
	team := st.Lanes + 1 // an officer per machine and one who guides
	var cits []citizen
	var segs []seg
	t, lat, lon := open, st.Lat, st.Lon
	left := n
	for p := range places {
		size := left
		if p < places-1 {
			size = int(float64(left) * (0.3 + 0.4*r.Float64()))
		}
		left -= size
		kind := tiendo.RecordStandard
		if !weekend && r.Float64() < 0.45 {
			kind = tiendo.RecordStudent
		}
		plat, plon := st.Lat+(r.Float64()-0.5)*0.1, st.Lon+(r.Float64()-0.5)*0.1
		arrive := t + 20 + 40*r.Float64()
		if arrive >= lunchFrom && arrive < mobileLunchTo {
			arrive = mobileLunchTo // they eat before they set up
		}
		segs = append(segs, travelSeg(t, arrive, team, lat, lon, plat, plon))
		first := len(cits)
		for range size {
			a := arrive + r.ExpFloat64()*25
			if r.Float64() < 0.4 {
				a = arrive - 10*r.Float64() // already waiting
			}
			cits = append(cits, citizen{arrive: min(a, doorClose), kind: kind})
		}
		here := cits[first:]
		slices.SortFunc(here, func(a, b citizen) int { return cmp.Compare(a.arrive, b.arrive) })
		stay, end := atPlace(here, st.Lanes, 1+r.IntN(2), arrive, mobileLunchTo, 30, plat, plon, r, 0.12)
		segs = append(segs, stay...)
		t, lat, lon = end, plat, plon
	}
	if invited > 0 {
		// Back to base to rest and eat (paused: the team is not serving),
		// then to the village, set up before the first slot.
		leave := max(t, 18*60)
		if leave-t > 90 {
			home := t + 15 + 25*r.Float64()
			segs = append(segs, travelSeg(t, home, team, lat, lon, st.Lat, st.Lon))
			t, lat, lon = home, st.Lat, st.Lon
		}
		if leave > t {
			segs = append(segs, seg{from: t, to: leave, lanes: 0, helpers: team, lat0: lat, lon0: lon, lat1: lat, lon1: lon})
		}
		vlat, vlon := st.Lat+(r.Float64()-0.5)*0.1, st.Lon+(r.Float64()-0.5)*0.1
		arrive := leave + 20 + 40*r.Float64()
		segs = append(segs, travelSeg(leave, arrive, team, lat, lon, vlat, vlon))
		first := len(cits)
		cits = invite(r, cits, invited, crew, max(slotFirst+15*float64(r.IntN(3)), arrive+15), tiendo.RecordStandard)
		here := cits[first:]
		slices.SortFunc(here, func(a, b citizen) int { return cmp.Compare(a.arrive, b.arrive) })
		stay, end := atPlace(here, crew, 1, arrive, 0, 30, vlat, vlon, r, 0.12)
		segs = append(segs, stay...)
		t, lat, lon = end, vlat, vlon
	}
	back := t + 15 + 25*r.Float64()
	segs = append(segs, travelSeg(t, back, team, lat, lon, st.Lat, st.Lon))
	return dayPlan{open: open, close: back, cits: cits, segs: segs}
}

// homeVisitDay is a home-visit team (two people, one machine) going from
// house to house through its list of the elderly, sick and lonely, in
// daylight: the list is what the team can visit by homeVisitLatest, the
// rest are on later days' lists. The list is the team's queue: a household
// leaves it when its visit begins, as a citizen leaves a post's queue when
// called to a machine, and its record follows when the visit ends. Between
// houses, at lunch and on the way back the team is paused.
func (m *Model) homeVisitDay(st *tiendo.Station, r *rand.Rand, mean, open float64) dayPlan {
	n := poisson(r, mean)
	var cits []citizen
	var segs []seg
	t, lat, lon := open+15, st.Lat, st.Lon
	segs = append(segs, seg{from: open, to: t, lanes: 0, helpers: 2, lat0: lat, lon0: lon, lat1: lat, lon1: lon})
	for range n {
		if t >= lunchFrom && t < lunchTo {
			segs = append(segs, seg{from: t, to: lunchTo, lanes: 0, helpers: 2, lat0: lat, lon0: lon, lat1: lat, lon1: lon})
			t = lunchTo
		}
		if t > homeVisitLatest {
			break
		}
		hlat, hlon := st.Lat+(r.Float64()-0.5)*0.06, st.Lon+(r.Float64()-0.5)*0.06
		start := t + 10 + 25*r.Float64()
		segs = append(segs, travelSeg(t, start, 2, lat, lon, hlat, hlon))
		dur, retries := serviceTime(r, 0.35) // the elderly: worn fingerprints
		dur *= 1.2
		cits = append(cits, citizen{arrive: open, start: start, end: start + dur, retries: retries, kind: tiendo.RecordHomeVisit, served: true})
		segs = append(segs, seg{from: start, to: start + dur, lanes: 1, helpers: 1, lat0: hlat, lon0: hlon, lat1: hlat, lon1: hlon})
		t, lat, lon = start+dur, hlat, hlon
	}
	back := t + 10 + 20*r.Float64()
	segs = append(segs, travelSeg(t, back, 2, lat, lon, st.Lat, st.Lon))
	return dayPlan{open: open, close: back, cits: cits, segs: segs}
}

// emit turns a day plan into events: completions in small batches,
// heartbeats on the interval, an outage, ids.
func (m *Model) emit(i int, d tiendo.Day, r *rand.Rand, plan *dayPlan, buf []Event, events bool) ([]Event, DayStats) {
	st := &m.stations[i]
	loc := m.c.Location()
	y, mo, dd := d.Date()
	midnight := time.Date(y, mo, dd, 0, 0, 0, 0, loc)
	at := func(min float64) time.Time {
		return midnight.Add(time.Duration(math.Round(min*60)) * time.Second)
	}
	dayStart := float64(m.c.DayBoundaryHour * 60)
	dayEnd := dayStart + 24*60
	lateFrom := float64(m.c.LateNightHour * 60)
	stats := DayStats{Open: at(plan.open), Close: at(plan.close)}

	// Completions: records finish in end order; the agent sends them in
	// batches of one to five, sooner if the station falls quiet.
	ends := make([]int, 0, len(plan.cits))
	for k := range plan.cits {
		if plan.cits[k].served {
			ends = append(ends, k)
		}
	}
	slices.SortFunc(ends, func(a, b int) int { return cmp.Compare(plan.cits[a].end, plan.cits[b].end) })
	type comp struct {
		t       float64
		count   int
		retries int
		kind    tiendo.RecordKind
	}
	var comps []comp
	var cur comp
	target := 1 + r.IntN(5)
	firstEnd := 0.0
	flush := func() {
		if cur.count > 0 {
			comps = append(comps, cur)
			cur = comp{}
			target = 1 + r.IntN(5)
		}
	}
	for _, k := range ends {
		c := &plan.cits[k]
		if cur.count > 0 && (c.kind != cur.kind || c.end-firstEnd > 10) {
			flush()
		}
		if cur.count == 0 {
			firstEnd, cur.kind = c.end, c.kind
		}
		cur.count++
		cur.retries += c.retries
		cur.t = c.end
		stats.Records++
		stats.Retries += c.retries
		stats.Last = at(c.end)
		if c.end >= lateFrom {
			stats.LateRecords++
		}
		if cur.count >= target {
			flush()
		}
	}
	flush()
	stats.Completions = len(comps)
	for k := range plan.cits {
		if !plan.cits[k].served {
			stats.SentHome++
		}
	}

	// The outage, if any: from some time in the open day for 20 minutes to 3 hours.
	if r.Float64() < m.p.OfflineRate && plan.close-plan.open > 30 {
		offFrom := plan.open + (plan.close-plan.open-15)*r.Float64()
		offTo := offFrom + 20 + 160*r.Float64()
		stats.Offline, stats.OfflineFrom, stats.OfflineTo = true, at(offFrom), at(offTo)
	}
	if from, to, ok := m.signalDrop(i, d, plan, dayStart+m.jitter[i]); ok {
		stats.SignalDrop, stats.DropFrom, stats.DropTo = true, at(from), at(to)
	}
	if !events {
		return buf, stats
	}

	// Queue at t: arrived and not yet called (or sent home). Arrivals and
	// calls are both in order, so two counters walk them.
	ai, si := 0, 0
	starts := make([]float64, len(plan.cits))
	for k := range plan.cits {
		starts[k] = plan.cits[k].start
	}
	arrivals := make([]float64, len(plan.cits))
	for k := range plan.cits {
		arrivals[k] = plan.cits[k].arrive
	}
	slices.Sort(arrivals) // mobile places are each sorted; keep the whole day sorted
	slices.Sort(starts)

	prefix := strconv.FormatUint(m.seed, 16) + "-" + fmt.Sprintf("%04d%02d%02d", y, int(mo), dd) + "-"
	seq := 0
	add := func(e tiendo.Event, t float64) {
		e.ID = prefix + strconv.Itoa(seq)
		seq++
		e.Station = st.ID
		e.TS = at(t)
		ev := Event{Event: e, Deliver: e.TS}
		// Judged on the times sent and reported (whole seconds): an event
		// half a second before the outage is not taken for one in it.
		if stats.Offline && !e.TS.Before(stats.OfflineFrom) && e.TS.Before(stats.OfflineTo) {
			ev.Deliver = stats.OfflineTo
		}
		// In a signal drop too; when both hold it, the later return.
		if stats.SignalDrop && !e.TS.Before(stats.DropFrom) && e.TS.Before(stats.DropTo) && stats.DropTo.After(ev.Deliver) {
			ev.Deliver = stats.DropTo
		}
		buf = append(buf, ev)
	}

	iv := m.p.Heartbeat.Minutes()
	ci := 0
	for t := dayStart + m.jitter[i]; t < dayEnd || ci < len(comps); t += iv {
		// Completions due before this heartbeat go first.
		for ci < len(comps) && (comps[ci].t <= t || t >= dayEnd) {
			c := comps[ci]
			add(tiendo.Event{Type: tiendo.TypeCompletion, Count: c.count, FingerprintRetries: c.retries, Kind: c.kind}, c.t)
			ci++
		}
		if t >= dayEnd {
			break
		}
		for ai < len(arrivals) && arrivals[ai] <= t {
			ai++
		}
		for si < len(starts) && starts[si] <= t {
			si++
		}
		queue := max(ai-si, 0)
		hb := tiendo.Event{Type: tiendo.TypeHeartbeat, Status: tiendo.StatusClosed, HasPos: true, Lat: st.Lat, Lon: st.Lon}
		if s, atWork := plan.stretchAt(t, st); atWork {
			hb.Status = tiendo.StatusOpen
			if s.lanes == 0 {
				hb.Status = tiendo.StatusPaused
			}
			hb.Lanes = s.lanes
			hb.Staff = s.lanes + s.helpers
			if plan.busyExtra && queue > 30 {
				hb.Staff++ // reinforcement when the queue is long
			}
			hb.Queue = queue
			f := 0.0
			if s.to > s.from && !math.IsInf(s.to, 1) {
				f = min(max((t-s.from)/(s.to-s.from), 0), 1)
			}
			hb.Lat = round5(s.lat0 + (s.lat1-s.lat0)*f)
			hb.Lon = round5(s.lon0 + (s.lon1-s.lon0)*f)
		}
		add(hb, t)
		stats.Heartbeats++
	}
	return buf, stats
}

// stretchAt is the stretch of the day that a heartbeat at t reports, and
// whether the station is at work then (from its opening to its closing).
// Before its first stretch it is there and not serving.
func (p *dayPlan) stretchAt(t float64, st *tiendo.Station) (seg, bool) {
	if t < p.open || t >= p.close || len(p.segs) == 0 {
		return seg{}, false
	}
	k := 0
	for k < len(p.segs)-1 && p.segs[k].to <= t {
		k++
	}
	if s := p.segs[k]; t >= s.from {
		return s, true
	}
	return seg{lanes: 0, helpers: 1, lat0: st.Lat, lon0: st.Lon, lat1: st.Lat, lon1: st.Lon}, true
}

// A signal drop lasts dropMin to dropMax minutes.
const (
	dropMin = 20
	dropMax = 40
)

// signalDrop decides whether station i's link drops on working day d, and
// when: the commune posts and teams of Lạng Sơn's mountain districts send
// over mobile data, and a link that drops for half an hour (a tower on
// battery after a power cut in the valley, a storm, an evening's crowded
// cell) is a common day there; the source says nothing of it, so its rate
// (Params.DropRate, about one station-day in sixteen) is the model's own.
//
// The drop begins between two heartbeats of a station that is serving (the
// one before it says open, with lanes) and lasts dropMin–dropMax minutes,
// ending while the station is still at work, so the server hears nothing
// from an open station for 20 minutes or more: its silent alert opens after
// 15, and closes when the heartbeats resume. Only the link is down: the
// machines work, the queue moves, and the agent does what any store-and-
// forward agent does (and what ingest expects of one, which takes a
// backlog at once): it keeps every heartbeat and completion made in the
// drop and sends them, with their own times, as soon as the link is back.
// A power cut at the post itself, which would stop the machines, is not
// modelled.
//
// Its own random stream (from the seed, the station and the day) leaves
// every other draw of the day as it was without drops.
func (m *Model) signalDrop(i int, d tiendo.Day, plan *dayPlan, first float64) (from, to float64, ok bool) {
	if m.p.DropRate <= 0 {
		return 0, 0, false
	}
	r := rand.New(rand.NewPCG(splitmix(m.seed^m.hash[i]^0x6c696e6b), splitmix(uint64(int64(d))^0x64726f70^m.seed)))
	if r.Float64() >= m.p.DropRate {
		return 0, 0, false
	}
	iv := m.p.Heartbeat.Minutes()
	var serving []float64 // heartbeats after which a drop may begin
	for t := first; t < plan.close; t += iv {
		if s, atWork := plan.stretchAt(t, &m.stations[i]); atWork && s.lanes > 0 && t+iv+dropMax <= plan.close {
			serving = append(serving, t)
		}
	}
	if len(serving) == 0 {
		return 0, 0, false
	}
	t := serving[r.IntN(len(serving))]
	from = t + iv*(0.1+0.8*r.Float64())
	return from, from + dropMin + (dropMax-dropMin)*r.Float64(), true
}

func round5(x float64) float64 { return math.Round(x*1e5) / 1e5 }
