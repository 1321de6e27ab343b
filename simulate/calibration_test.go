package simulate

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"tiendo"
)

// dayFacts is what one station's working day looks like from its events, the
// way the server sees them: completion counts at their ts, heartbeats.
type dayFacts struct {
	records     int
	retries     int
	byHour      [24]int   // records by local hour of the completion's ts
	first, last time.Time // first and last completion; zero without records
	maxQueue    int
}

func factsOf(c *tiendo.Campaign, evs []Event) dayFacts {
	loc := c.Location()
	var f dayFacts
	for _, e := range evs {
		switch e.Type {
		case tiendo.TypeCompletion:
			f.records += e.Count
			f.retries += e.FingerprintRetries
			f.byHour[e.TS.In(loc).Hour()] += e.Count
			if f.first.IsZero() {
				f.first = e.TS
			}
			f.last = e.TS
		case tiendo.TypeHeartbeat:
			f.maxQueue = max(f.maxQueue, e.Queue)
		}
	}
	return f
}

// afterClock reports whether t falls after hh:00 of the next morning, in the
// working day that began the day before (hh below the day boundary).
func afterClock(c *tiendo.Campaign, t time.Time, hh int) bool {
	if t.IsZero() {
		return false
	}
	h := t.In(c.Location()).Hour()
	return h < c.DayBoundaryHour && h >= hh
}

// lateCount counts station-days with records after midnight, 02:00, 03:00.
type lateCount struct {
	days, withRecords, midnight, two, three int
}

func (l *lateCount) add(c *tiendo.Campaign, f dayFacts) {
	l.days++
	if f.records > 0 {
		l.withRecords++
	}
	if afterClock(c, f.last, 0) {
		l.midnight++
	}
	if afterClock(c, f.last, 2) {
		l.two++
	}
	if afterClock(c, f.last, 3) {
		l.three++
	}
}

func (l lateCount) String() string {
	pc := func(n int) string { return fmt.Sprintf("%5d (%4.1f%%)", n, 100*float64(n)/float64(max(l.days, 1))) }
	return fmt.Sprintf("%6d station-days, after 00:00 %s, after 02:00 %s, after 03:00 %s", l.days, pc(l.midnight), pc(l.two), pc(l.three))
}

// clockOf is t in minutes after the calendar midnight that begins working
// day d: 01:30 the next morning is 25*60+30.
func clockOf(c *tiendo.Campaign, d tiendo.Day, t time.Time) float64 {
	y, mo, dd := d.Date()
	return t.Sub(time.Date(y, mo, dd, 0, 0, 0, 0, c.Location())).Minutes()
}

// The source: stations serve "until no citizen present is left; a working
// day ends very late, usually at about 1–2 a.m." In the busy weeks most
// fixed posts and mobile teams work past midnight, their last records about
// 1 a.m. and rarely after 02:30; home-visit teams keep day hours; no record
// comes after 03:30 and no station is still at work at the day boundary
// (04:00). The late nights follow the demand, as invitations do, so the
// slack weeks have fewer. (The model before the evening invitations had 6 %
// of busy-week fixed post-days past midnight, 1 % after 03:00.)
func TestSimulatorLateNightsAreTheHabitInTheBusyWeeks(t *testing.T) {
	m := newModel(t, 1, DefaultParams())
	c := m.Campaign()
	type tally struct {
		days, midnight, late int // station-days; with records after 00:00; after 02:30
		lasts                []float64
	}
	busy := map[tiendo.StationKind]*tally{tiendo.KindFixed: {}, tiendo.KindMobile: {}}
	var slack tally // fixed posts at the steady level, between the decline and the final push
	for d := c.Start; d < c.Deadline; d++ {
		k := int(d - c.Start)
		isBusy, isSlack := m.Busy(d), k >= m.p.EarlyDays+declineDays && k < m.days-pushDays
		for i, st := range m.Stations() {
			s := m.Stats(i, d)
			if lim := c.DayEnd(d).Add(-30 * time.Minute); !s.Close.Before(lim) {
				t.Fatalf("%s %s closes at %s, within half an hour of the day boundary", st.ID, d, s.Close.In(c.Location()))
			}
			last := 0.0 // no records: not a late night
			if !s.Last.IsZero() {
				last = clockOf(c, d, s.Last)
			}
			if last > 27*60+30 {
				t.Fatalf("%s %s: a record at %s, after 03:30", st.ID, d, s.Last.In(c.Location()))
			}
			if st.Kind == tiendo.KindHomeVisit && last > 18*60 {
				t.Fatalf("home-visit team %s %s: a visit ending at %s, after daylight", st.ID, d, s.Last.In(c.Location()))
			}
			var tl *tally
			switch {
			case isBusy:
				tl = busy[st.Kind]
			case isSlack && st.Kind == tiendo.KindFixed:
				tl = &slack
			}
			if tl == nil {
				continue
			}
			tl.days++
			if last >= 24*60 {
				tl.midnight++
				tl.lasts = append(tl.lasts, last)
			}
			if last > 26*60+30 {
				tl.late++
			}
		}
	}
	share := func(tl *tally) float64 { return float64(tl.midnight) / float64(max(tl.days, 1)) }
	fixed, mobile := busy[tiendo.KindFixed], busy[tiendo.KindMobile]
	sort.Float64s(fixed.lasts)
	median := fixed.lasts[len(fixed.lasts)/2]
	t.Logf("busy weeks: fixed %d/%d past midnight (%.0f%%, median last record %02d:%02d, %d after 02:30), mobile %d/%d (%.0f%%); slack weeks fixed %.0f%%",
		fixed.midnight, fixed.days, 100*share(fixed), int(median/60)%24, int(median)%60, fixed.late, mobile.midnight, mobile.days, 100*share(mobile), 100*share(&slack))
	if share(fixed) <= 0.5 {
		t.Errorf("%.0f%% of busy-week fixed post-days have records after midnight, want a majority", 100*share(fixed))
	}
	if share(mobile) < 0.45 {
		t.Errorf("%.0f%% of busy-week mobile team-days have records after midnight, want about half or more", 100*share(mobile))
	}
	if median < 24*60+30 || median > 26*60 {
		t.Errorf("busy-week fixed posts working past midnight end at %02d:%02d (median), want about 1 a.m.", int(median/60)%24, int(median)%60)
	}
	if fixed.late*100 > fixed.days {
		t.Errorf("%d of %d busy-week fixed post-days end after 02:30, want rarely", fixed.late, fixed.days)
	}
	if s := share(&slack); s > share(fixed)-0.1 || s < 0.1 {
		t.Errorf("slack weeks: %.0f%% of fixed post-days past midnight against %.0f%% in the busy weeks; late nights must follow the demand", 100*s, 100*share(fixed))
	}
}

// Night work is the queue present, not a clock. After the door closes at
// 23:00 nobody new comes, so what a station completes after its first
// heartbeat past 23:00 is at most the queue it reported plus the citizens at
// its lanes; a station open after midnight is serving (a queue, or records
// within minutes); it stops within minutes of its last record; and every
// station is closed in the half hour before the day boundary, so its work
// never crosses into the next working day.
func TestSimulatorWorksUntilTheLastCitizenPresent(t *testing.T) {
	m := newModel(t, 4, Params{OfflineRate: 0.2})
	c := m.Campaign()
	var buf []Event
	var nights, checked int
	for _, ds := range []string{"2021-03-16", "2021-03-20", "2021-06-24"} {
		d := day(t, ds)
		for i, st := range m.Stations() {
			buf, _ = m.Day(i, d, buf[:0])
			var hb23 *Event
			var after23 int
			var last time.Time
			for k := range buf {
				e := &buf[k]
				if got := c.WorkingDay(e.TS); got != d {
					t.Fatalf("%s %s: event at %s falls in working day %s", st.ID, ds, e.TS, got)
				}
				switch e.Type {
				case tiendo.TypeHeartbeat:
					if hb23 == nil && clockOf(c, d, e.TS) >= 23*60 {
						hb23 = e
					}
					if clockOf(c, d, e.TS) >= 27*60+30 && e.Status != tiendo.StatusClosed {
						t.Fatalf("%s %s: %s at %s, half an hour before the day boundary", st.ID, ds, e.Status, e.TS.In(c.Location()))
					}
				case tiendo.TypeCompletion:
					last = e.TS
					// A completion's records all ended in the 10 minutes
					// before its ts, so these ended after hb23.
					if hb23 != nil && e.TS.After(hb23.TS.Add(10*time.Minute)) {
						after23 += e.Count
					}
				}
			}
			if hb23 != nil && after23 > hb23.Queue+hb23.Lanes {
				t.Fatalf("%s %s: %d records after %s, when %d waited at %d lanes", st.ID, ds, after23, hb23.TS.In(c.Location()), hb23.Queue, hb23.Lanes)
			}
			if last.IsZero() || clockOf(c, d, last) < 24*60 {
				continue
			}
			nights++
			for k := range buf {
				e := &buf[k]
				if e.Type != tiendo.TypeHeartbeat || clockOf(c, d, e.TS) < 24*60 {
					continue
				}
				if e.Status == tiendo.StatusOpen && e.Queue == 0 && e.TS.Before(last.Add(-20*time.Minute)) {
					t.Fatalf("%s %s: open with nobody waiting at %s, %v before its last record", st.ID, ds, e.TS.In(c.Location()), last.Sub(e.TS))
				}
				if e.TS.After(last.Add(45*time.Minute)) && e.Status != tiendo.StatusClosed {
					t.Fatalf("%s %s: %s at %s, %v after its last record", st.ID, ds, e.Status, e.TS.In(c.Location()), e.TS.Sub(last))
				}
				checked++
			}
		}
	}
	t.Logf("%d station-nights past midnight, %d heartbeats after midnight checked", nights, checked)
	if nights < 200 {
		t.Errorf("only %d station-nights past midnight on three busy days", nights)
	}
}

// What the decision model reads from heartbeats, every Params.Heartbeat (5
// minutes), the state holding until the next one: open is serving with
// lanes ≥ 1 staffed and lanes ≤ staff; paused is present and not serving
// (no lane): lunch at one-lane posts and for mobile teams, and the travel of
// mobile and home-visit teams (their position moves only while paused);
// closed is the day over or not begun, nothing staffed and no queue. A
// home-visit team's queue is its day's list: it starts at the day's visits
// and only shrinks, by one as each visit begins, to nothing at the end.
func TestSimulatorHeartbeatsForTheDecisionModel(t *testing.T) {
	m := newModel(t, 9, DefaultParams())
	c := m.Campaign()
	var buf []Event
	for _, ds := range []string{"2021-03-18", "2021-05-16"} {
		d := day(t, ds)
		for i, st := range m.Stations() {
			buf, _ = m.Day(i, d, buf[:0])
			var prev *Event
			var records, list, lunchOpen int
			moved := 0
			for k := range buf {
				e := &buf[k]
				if e.Type == tiendo.TypeCompletion {
					records += e.Count
					continue
				}
				at := clockOf(c, d, e.TS)
				switch e.Status {
				case tiendo.StatusOpen:
					if e.Lanes < 1 || e.Lanes > e.Staff || e.Lanes > st.Lanes {
						t.Fatalf("%s %s: open with %d lanes, %d staff at %s (station lanes %d)", st.ID, ds, e.Lanes, e.Staff, e.TS, st.Lanes)
					}
				case tiendo.StatusPaused:
					if e.Lanes != 0 || e.Staff < 1 {
						t.Fatalf("%s %s: paused with %d lanes, %d staff at %s", st.ID, ds, e.Lanes, e.Staff, e.TS)
					}
				case tiendo.StatusClosed:
					if e.Lanes != 0 || e.Staff != 0 || e.Queue != 0 {
						t.Fatalf("%s %s: closed with %d lanes, %d staff, queue %d at %s", st.ID, ds, e.Lanes, e.Staff, e.Queue, e.TS)
					}
				default:
					t.Fatalf("%s %s: status %q", st.ID, ds, e.Status)
				}
				if at >= lunchFrom+5 && at < mobileLunchTo-5 && e.Status == tiendo.StatusOpen &&
					(st.Kind == tiendo.KindMobile || st.Kind == tiendo.KindFixed && st.Lanes == 1) {
					lunchOpen++
				}
				if prev != nil && (prev.Lat != e.Lat || prev.Lon != e.Lon) {
					moved++
					if prev.Status == tiendo.StatusOpen && e.Status == tiendo.StatusOpen {
						t.Fatalf("%s %s: moved while serving, %s to %s", st.ID, ds, prev.TS, e.TS)
					}
				}
				if st.Kind == tiendo.KindHomeVisit {
					if prev != nil && prev.Status != tiendo.StatusClosed && e.Queue > prev.Queue {
						t.Fatalf("%s %s: the day's list grew from %d to %d at %s", st.ID, ds, prev.Queue, e.Queue, e.TS)
					}
					if list == 0 && e.Status != tiendo.StatusClosed {
						list = e.Queue
					}
					if at > 18*60 && e.Status != tiendo.StatusClosed {
						t.Fatalf("home-visit team %s %s: %s at %s", st.ID, ds, e.Status, e.TS)
					}
				}
				prev = e
			}
			if lunchOpen > 0 {
				t.Fatalf("%s %s: %d heartbeats open at lunch", st.ID, ds, lunchOpen)
			}
			if st.Kind != tiendo.KindFixed && moved == 0 {
				t.Errorf("%s %s: a %s team that never moved", st.ID, ds, st.Kind)
			}
			if st.Kind == tiendo.KindHomeVisit && list != records {
				t.Errorf("%s %s: the day's list was %d households, %d were visited", st.ID, ds, list, records)
			}
		}
	}
}

// The whole-campaign report: every station's every working day through Day,
// as the driver sends it, measured the way finding 8 of the figures review
// measured the replay. It runs only when asked, for the numbers it prints:
//
//	SIM_REPORT=1 go test ./simulate/ -run TestModelReport -v
func TestModelReport(t *testing.T) {
	if os.Getenv("SIM_REPORT") == "" {
		t.Skip("set SIM_REPORT=1 to print the whole-campaign report")
	}
	m := newModel(t, 1, DefaultParams())
	c := m.Campaign()
	loc := c.Location()
	early := c.Start + tiendo.Day(m.Params().EarlyDays) // first day after the early window
	began := time.Now()

	var buf []Event
	var total, byEarly, retries int64
	perDay := map[tiendo.Day]int64{}
	var hours, hoursEarly [24]int64
	all, busy := map[tiendo.StationKind]*lateCount{}, map[tiendo.StationKind]*lateCount{}
	var allTot, busyTot lateCount
	for _, k := range []tiendo.StationKind{tiendo.KindFixed, tiendo.KindMobile, tiendo.KindHomeVisit} {
		all[k], busy[k] = &lateCount{}, &lateCount{}
	}
	// Finding 8's table, 10–20 March.
	lastHour := map[int]int{}
	var f8 lateCount
	var firstAtSeven, maxQueue int
	afterMidnightPerDay := map[tiendo.Day]int{}
	lateShare := map[tiendo.Day][2]int64{}
	for d := c.Start; d < c.Deadline; d++ {
		isBusy := m.Busy(d)
		for i, st := range m.Stations() {
			buf, _ = m.Day(i, d, buf[:0])
			f := factsOf(c, buf)
			total += int64(f.records)
			retries += int64(f.retries)
			perDay[d] += int64(f.records)
			for h, n := range f.byHour {
				hours[h] += int64(n)
				if d < early {
					hoursEarly[h] += int64(n)
				}
			}
			all[st.Kind].add(c, f)
			allTot.add(c, f)
			if isBusy {
				busy[st.Kind].add(c, f)
				busyTot.add(c, f)
			}
			if d < early {
				byEarly += int64(f.records)
				f8.add(c, f)
				if !f.last.IsZero() {
					lastHour[f.last.In(loc).Hour()]++
				}
				if !f.first.IsZero() && f.first.In(loc).Hour() == 7 {
					firstAtSeven++
				}
				maxQueue = max(maxQueue, f.maxQueue)
				if afterClock(c, f.last, 0) {
					afterMidnightPerDay[d]++
				}
				var late int64
				for h, n := range f.byHour {
					if h >= c.LateNightHour || h < c.DayBoundaryHour {
						late += int64(n)
					}
				}
				ls := lateShare[d]
				lateShare[d] = [2]int64{ls[0] + late, ls[1] + int64(f.records)}
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "whole campaign through Day in %v (seed 1)\n", time.Since(began).Round(time.Millisecond))
	fmt.Fprintf(&b, "records by the end of 20 March: %d; by 1 July: %d; retries per record %.2f\n", byEarly, total, float64(retries)/float64(total))
	var cum int64
	for d := c.Start; d < c.Deadline; d++ {
		if cum += perDay[d]; cum >= int64(c.Target) {
			fmt.Fprintf(&b, "621,000 reached on working day %s\n", d)
			break
		}
	}
	busyDays := 0
	for d := c.Start; d < c.Deadline; d++ {
		if m.Busy(d) {
			busyDays++
		}
	}
	fmt.Fprintf(&b, "busy weeks (Model.Busy): %d working days\n", busyDays)
	fmt.Fprintf(&b, "last record of the station-day, all days:  %v\n", allTot)
	fmt.Fprintf(&b, "last record of the station-day, busy days: %v\n", busyTot)
	for _, k := range []tiendo.StationKind{tiendo.KindFixed, tiendo.KindMobile, tiendo.KindHomeVisit} {
		fmt.Fprintf(&b, "  %-10s all  %v\n  %-10s busy %v\n", k, all[k], k, busy[k])
	}
	shape := func(name string, h [24]int64) {
		var sum int64
		for _, n := range h {
			sum += n
		}
		fmt.Fprintf(&b, "hourly shape, %s (share of records by local hour):\n", name)
		for i := range 24 {
			hh := (i + c.DayBoundaryHour) % 24
			fmt.Fprintf(&b, "  %02d %5.1f%%", hh, 100*float64(h[hh])/float64(max(sum, 1)))
			if i%6 == 5 {
				b.WriteByte('\n')
			}
		}
	}
	shape("whole campaign", hours)
	shape("10–20 March", hoursEarly)

	fmt.Fprintf(&b, "finding 8's table, 10–20 March:\n")
	fmt.Fprintf(&b, "  records %d; station-days %d; first record in the 07 hour %d\n", byEarly, f8.days, firstAtSeven)
	fmt.Fprintf(&b, "  last record by hour:")
	var hs []int
	for h := range lastHour {
		hs = append(hs, (h-c.DayBoundaryHour+24)%24)
	}
	sort.Ints(hs)
	for _, i := range hs {
		h := (i + c.DayBoundaryHour) % 24
		fmt.Fprintf(&b, " %02d:%d", h, lastHour[h])
	}
	fmt.Fprintf(&b, "\n  %v\n", f8)
	lo, hi, loS, hiS := 1<<30, 0, 1.0, 0.0
	for d := c.Start; d < early; d++ {
		lo, hi = min(lo, afterMidnightPerDay[d]), max(hi, afterMidnightPerDay[d])
		s := float64(lateShare[d][0]) / float64(max(lateShare[d][1], 1))
		loS, hiS = min(loS, s), max(hiS, s)
	}
	fmt.Fprintf(&b, "  stations with records after midnight per day %d–%d (20 March: %d); share after 22:00 per day %.1f–%.1f%%; largest queue %d\n",
		lo, hi, afterMidnightPerDay[early-1], 100*loS, 100*hiS, maxQueue)
	t.Log("\n" + b.String())
}
