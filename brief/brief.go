// Package brief is the daily brief for leadership (DECISIONS.md, "The
// daily brief"): for one working day, each district of the province (each
// station of a district) and the scope's total, with quota, progress, the
// day's records, the plan, the pace and the night's work, as an XLSX
// workbook, a CSV table or a page that prints on A4.
//
// Its figures are the snapshot's figures of that working day, never worked
// out again: for today the live snapshot's, for a day that is over the
// snapshot as it stood at the day's end (readmodel.Model.SnapshotAt). What
// the snapshot does not carry (the day's late-night share, the stations
// that worked past 01:00, a district's retries) is counted from the same
// read model, stored and pending events together. The package knows no
// HTTP framework: server/brief.go serves what it writes.
package brief

import (
	"context"
	"math"
	"time"

	"tiendo"
)

// PastHour is the clock hour after which a station still recording is
// named in the brief ("worked past 01:00"): a night that long is one the
// leadership asks about the next morning.
const PastHour = 1

// Figures are where the brief's figures come from (readmodel.Model).
type Figures interface {
	// StationSnapshot is the live snapshot of scope from each station's
	// figures (the brief sums the stations' nights, also for the nation).
	StationSnapshot(ctx context.Context, scope tiendo.Scope) (*tiendo.Snapshot, error)
	// SnapshotAt is the snapshot of scope as it stood at instant at.
	SnapshotAt(ctx context.Context, scope tiendo.Scope, at time.Time) (*tiendo.Snapshot, error)
	// StationWindows counts each station's records in windows of time.
	StationWindows(ctx context.Context, scope tiendo.Scope, windows []tiendo.Window) ([]tiendo.StationWindows, tiendo.StorageState, error)
}

// Request is what a brief is asked for.
type Request struct {
	Scope tiendo.Scope // the province or a district
	Day   tiendo.Day   // the working day; zero: today's
	Now   time.Time    // the campaign clock's now, which says what today is
	// Aggregates leaves the station rows out, for accounts that see the
	// command room's aggregates only (tiendo.Role.ScreenView).
	Aggregates bool
}

// Brief is the daily brief of one scope and working day.
type Brief struct {
	Campaign   tiendo.CampaignInfo
	Scope      tiendo.Scope
	ScopeName  string // the district's name; empty for the province
	Day        tiendo.Day
	AsOf       time.Time // the instant the figures stand at (the snapshot's now)
	Live       bool      // today's brief: the figures so far
	Storage    tiendo.StorageState
	Location   *time.Location
	LateFrom   int // clock hour the late night starts (the campaign's LateNightHour)
	DayEndHour int // clock hour the working day ends (the campaign's day boundary)
	// TopLevel is the campaign's own level (the nation or a province), for
	// naming a brief of the whole campaign.
	TopLevel tiendo.UnitLevel
	// Districts are the units right under the scope, at UnitLevel: a
	// province's districts, the nation's provinces (empty for a district
	// brief). Stations are the scope's stations, without the Aggregates
	// and above the province level (the nation's would be some 12,700
	// rows: each province's brief has them); Total is the scope.
	Districts []Row
	UnitLevel tiendo.UnitLevel
	Stations  []Row
	Total     Row
}

// Row is one line of the brief: a district, a station or the scope's total.
type Row struct {
	ID       string
	Name     string
	District string // a station's district name
	Quota    int64
	// Completed is the records to date (to the end of the day, or now for
	// today), PercentDone its share of Quota in points (12.86 for 12.86 %).
	Completed   int64
	PercentDone float64
	DayRecords  int64 // records of the working day
	// Pace is the snapshot's pace of the row's target (expected_to_date,
	// gap, state, needed_per_day); nil without a quota.
	Pace *tiendo.Pace
	// LateShare is the day's records from the late-night hour to the day's
	// end, in points of the day's records; nil with no records on the day.
	LateShare *float64
	// RetriesPerRecord are fingerprint retries per record, to date (the
	// snapshot's retries_per_record).
	RetriesPerRecord float64
	// PastHour counts the stations with records after PastHour o'clock on
	// the day's night (for a station: 1 or 0).
	PastHour int
}

// The windows of a day that Build counts, in this order.
const (
	winToDate = iota // the campaign to the day's end
	winDay           // the working day
	winLate          // from the late-night hour to the day's end
	winPast          // from PastHour to the day's end
)

// Windows are the spans of time the brief of working day d counts.
func Windows(c *tiendo.Campaign, d tiendo.Day) []tiendo.Window {
	end := c.DayEnd(d)
	y, m, dd := d.Date()
	clip := func(t time.Time) time.Time { // a span that would start after the day's end is empty
		if t.After(end) {
			return end
		}
		return t
	}
	w := make([]tiendo.Window, 4)
	w[winToDate] = tiendo.Window{To: end}
	w[winDay] = tiendo.Window{From: c.DayStart(d), To: end}
	w[winLate] = tiendo.Window{From: clip(time.Date(y, m, dd, c.LateNightHour, 0, 0, 0, c.Location())), To: end}
	w[winPast] = tiendo.Window{From: clip(time.Date(y, m, dd+1, PastHour, 0, 0, 0, c.Location())), To: end}
	return w
}

// Build gathers the brief of r from f. It refuses a station scope, a day
// before the campaign's first or after today (EInvalid), and passes on the
// read model's errors (an unknown district is ENotFound).
func Build(ctx context.Context, f Figures, reg *tiendo.Registry, r Request) (*Brief, error) {
	c := reg.Campaign
	if r.Scope.Kind == tiendo.ScopeStation {
		return nil, invalid("scope", "the daily brief is of the province or a district: want province or district:<id>")
	}
	today := c.WorkingDay(r.Now)
	day := r.Day
	if day.IsZero() {
		day = today
	}
	if day > today {
		return nil, invalid("day", "the working day "+day.String()+" has not begun (today is "+today.String()+")")
	}
	if day < c.Start {
		return nil, invalid("day", "the campaign's first working day is "+c.Start.String())
	}
	var snap *tiendo.Snapshot
	live := false
	if day == today {
		s, err := f.StationSnapshot(ctx, r.Scope)
		if err != nil {
			return nil, err
		}
		// The clock may have passed the day's end since r.Now was read:
		// then the day is over, and its brief is the one of its end.
		snap, live = s, s.Day == day
	}
	if !live {
		s, err := f.SnapshotAt(ctx, r.Scope, c.DayEnd(day))
		if err != nil {
			return nil, err
		}
		snap = s
	}
	counts, storage, err := f.StationWindows(ctx, r.Scope, Windows(c, day))
	if err != nil {
		return nil, err
	}
	b := &Brief{Campaign: snap.Campaign, Scope: r.Scope, Day: day, AsOf: snap.Now, Live: live, Storage: worse(snap.Storage, storage),
		Location: c.Location(), LateFrom: c.LateNightHour, DayEndHour: c.DayBoundaryHour, TopLevel: c.TopLevel()}
	if u := reg.Unit(r.Scope.ID); r.Scope.Kind != tiendo.ScopeProvince && r.Scope.Kind != tiendo.ScopeStation && u != nil {
		b.ScopeName = u.Name
	}
	byStation := make(map[string]tiendo.StationWindows, len(counts))
	for _, w := range counts {
		byStation[w.Station] = w
	}
	districtNames := map[string]string{}
	for _, d := range reg.Districts() {
		districtNames[d.ID] = d.Name
	}
	// The rows under the scope: its districts, or above the province
	// level its units; each station counts in the one it lies in.
	groups := snap.Districts
	if len(snap.Units) > 0 {
		groups = snap.Units
	}
	inGroup := make(map[string]bool, len(groups))
	for _, g := range groups {
		inGroup[g.ID] = true
		b.UnitLevel = g.Level
	}
	groupOf := func(st *tiendo.StationState) string {
		for _, id := range reg.UnitsOf(st.ID) {
			if inGroup[id] {
				return id
			}
		}
		return st.District // a district the tree does not know (an import's)
	}
	stationRows := !r.Aggregates && snap.ListsStations()
	// The night's figures, summed over any set of stations.
	type night struct{ day, late, toDate, retries int64 }
	var total night
	districts := map[string]*night{}
	past := map[string]int{}
	pastTotal := 0
	for i := range snap.Stations {
		st := &snap.Stations[i]
		w := byStation[st.ID]
		if w.Records == nil {
			continue
		}
		n := night{w.Records[winDay], w.Records[winLate], w.Records[winToDate], w.Retries[winToDate]}
		add := func(to *night) {
			to.day, to.late, to.toDate, to.retries = to.day+n.day, to.late+n.late, to.toDate+n.toDate, to.retries+n.retries
		}
		add(&total)
		g := groupOf(st)
		if districts[g] == nil {
			districts[g] = &night{}
		}
		add(districts[g])
		if w.Records[winPast] > 0 {
			past[g]++
			pastTotal++
		}
		if !stationRows {
			continue
		}
		row := Row{ID: st.ID, Name: st.Name, District: districtNames[st.District], Quota: st.Quota, Completed: st.Completed,
			PercentDone: st.PercentDone, DayRecords: n.day, Pace: st.Pace, LateShare: share(n.late, n.day),
			RetriesPerRecord: st.RetriesPerRec}
		if live {
			row.DayRecords = st.CompletedToday
		}
		if w.Records[winPast] > 0 {
			row.PastHour = 1
		}
		b.Stations = append(b.Stations, row)
	}
	for _, d := range groups {
		n := districts[d.ID]
		if n == nil {
			n = &night{}
		}
		row := Row{ID: d.ID, Name: d.Name, Quota: d.Quota, Completed: d.Completed, PercentDone: d.PercentDone, DayRecords: n.day,
			Pace: d.Pace, LateShare: share(n.late, n.day), PastHour: past[d.ID]}
		if live {
			row.DayRecords = d.CompletedToday
		}
		if n.toDate > 0 {
			row.RetriesPerRecord = round2(float64(n.retries) / float64(n.toDate))
		}
		b.Districts = append(b.Districts, row)
	}
	b.Total = Row{Name: b.ScopeName, Quota: snap.Totals.Target, Completed: snap.Totals.Completed, PercentDone: snap.Totals.PercentDone,
		DayRecords: total.day, Pace: snap.Pace, LateShare: share(total.late, total.day), RetriesPerRecord: snap.Totals.RetriesPerRec,
		PastHour: pastTotal}
	if live {
		b.Total.DayRecords = snap.Totals.CompletedToday
	}
	return b, nil
}

// share is part of whole in points, two decimals; nil without a whole.
func share(part, whole int64) *float64 {
	if whole <= 0 {
		return nil
	}
	s := round2(100 * float64(part) / float64(whole))
	return &s
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// worse is the storage state to report of two reads: the one that says
// the figures are less complete.
func worse(a, b tiendo.StorageState) tiendo.StorageState {
	rank := map[string]int{"ok": 0, "behind": 1, "down": 2}
	out := a
	if rank[b.State] > rank[a.State] {
		out.State = b.State
	}
	out.Pending = max(a.Pending, b.Pending)
	out.Partial = a.Partial || b.Partial
	return out
}

func invalid(field, reason string) error {
	return &tiendo.Error{Code: tiendo.EInvalid, Message: "invalid brief request",
		Fields: []tiendo.FieldError{{Index: -1, Field: field, Reason: reason}}}
}
