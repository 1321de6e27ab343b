package simulate

import (
	"bytes"
	"hash/fnv"
	"testing"
	"time"

	"tiendo"
	"tiendo/cmd/tiendo/langson2021"
	"tiendo/ingest"
)

func newModel(t testing.TB, seed uint64, p Params) *Model {
	t.Helper()
	m, err := NewModel(langson2021.Campaign(), langson2021.Stations(), seed, p)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func day(t testing.TB, s string) tiendo.Day {
	t.Helper()
	d, err := tiendo.ParseDay(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The source: "from 10 March to 20 March the province collected almost
// 80,000 records", and the goal of more than 621,000 by 1 July 2021.
func TestCalibrationOverTheWholeCampaign(t *testing.T) {
	m := newModel(t, 1, DefaultParams())
	c := m.Campaign()
	marks := CalibrationMarks(c, m.Params())
	if marks[0].Key != "records_by_20_march" || marks[1].Key != "records_by_1_july" {
		t.Fatalf("marks %+v", marks)
	}
	began := time.Now()
	var total, byEarly int64
	perDay := map[tiendo.Day]int64{}
	for d := c.Start; d < c.Deadline; d++ {
		for i := range m.Stations() {
			s := m.Stats(i, d)
			total += int64(s.Records)
			perDay[d] += int64(s.Records)
			// A working day's records all fall inside it, so the mark at the
			// end of 20 March splits the campaign by working days.
			if c.DayEnd(d).Compare(marks[0].At) <= 0 {
				byEarly += int64(s.Records)
			}
		}
	}
	took := time.Since(began)
	t.Logf("whole campaign in %v: %d records by the end of 20 March, %d by 1 July", took, byEarly, total)
	if byEarly < 72_000 || byEarly > 88_000 {
		t.Errorf("%d records by the end of 20 March, want 80,000 ± 10%%", byEarly)
	}
	if total < 621_000 {
		t.Errorf("%d records by 1 July, want at least 621,000", total)
	}
	if total > 700_000 {
		t.Errorf("%d records by 1 July: far over the target, the model is off", total)
	}
	// Early days ramp up.
	if !(perDay[c.Start] < perDay[c.Start+2] && perDay[c.Start+2] < perDay[c.Start+5]) {
		t.Errorf("no ramp-up: day 1 %d, day 3 %d, day 6 %d", perDay[c.Start], perDay[c.Start+2], perDay[c.Start+5])
	}
	// Stats counts what Day sends.
	var buf []Event
	for _, d := range []tiendo.Day{c.Start, c.Start + 10, c.Deadline - 1} {
		for i := 0; i < len(m.Stations()); i += 7 {
			var sent int
			buf, _ = m.Day(i, d, buf[:0])
			for _, e := range buf {
				sent += e.Count
				if !e.TS.Before(marks[1].At) {
					t.Fatalf("a record at %s, after the deadline", e.TS)
				}
			}
			if s := m.Stats(i, d); s.Records != sent {
				t.Fatalf("station %d on %s: Stats says %d records, Day sends %d", i, d, s.Records, sent)
			}
		}
	}
	if took > 30*time.Second {
		t.Errorf("the pure model took %v over the campaign; it must take seconds", took)
	}
}

// Every station opens at 7:00 every day, Saturdays and Sundays included;
// before that its heartbeats say closed and nothing is completed.
func TestStationsOpenAtSevenEveryDayIncludingWeekends(t *testing.T) {
	m := newModel(t, 3, DefaultParams())
	c := m.Campaign()
	loc := c.Location()
	var buf []Event
	// 13 and 14 March 2021 are a Saturday and a Sunday; 15 March a Monday.
	for _, ds := range []string{"2021-03-13", "2021-03-14", "2021-03-15", "2021-05-01", "2021-05-02"} {
		d := day(t, ds)
		var records int
		openStations := 0
		for i, st := range m.Stations() {
			var stats DayStats
			buf, stats = m.Day(i, d, buf[:0])
			if got := stats.Open.In(loc); got.Hour() != 7 || got.Minute() != 0 || c.WorkingDay(got) != d {
				t.Fatalf("%s %s opens at %s, want 7:00 of that day", st.ID, ds, got)
			}
			var firstOpen time.Time
			for _, e := range buf {
				at := e.TS.In(loc)
				beforeOpen := c.WorkingDay(e.TS) == d && at.Hour() >= c.DayBoundaryHour && at.Hour() < 7
				if e.Type == tiendo.TypeCompletion {
					records += e.Count
					if beforeOpen {
						t.Fatalf("%s %s: a record at %s, before 7:00", st.ID, ds, at)
					}
				}
				if e.Type == tiendo.TypeHeartbeat {
					if beforeOpen && e.Status != tiendo.StatusClosed {
						t.Fatalf("%s %s: status %s at %s, before 7:00", st.ID, ds, e.Status, at)
					}
					if e.Status != tiendo.StatusClosed && firstOpen.IsZero() {
						firstOpen = at
					}
				}
			}
			if firstOpen.IsZero() {
				t.Fatalf("%s never opened on %s", st.ID, ds)
			}
			if firstOpen.Hour() != 7 || firstOpen.Minute() >= 5 {
				t.Errorf("%s %s: first heartbeat of the open station at %s, want in 7:00–7:05", st.ID, ds, firstOpen)
			}
			openStations++
		}
		if openStations != len(m.Stations()) || records == 0 {
			t.Errorf("%s (%s): %d stations open, %d records", ds, d.Weekday(), openStations, records)
		}
		t.Logf("%s %-9s %6d records", ds, d.Weekday(), records)
	}
}

// Stations serve until their queue is empty, often past midnight; that work
// belongs to the working day that began at 7:00 the day before.
func TestLateNightWorkBelongsToThePreviousWorkingDay(t *testing.T) {
	m := newModel(t, 1, DefaultParams())
	c := m.Campaign()
	loc := c.Location()
	var buf []Event
	var stationDays, pastMidnight, lateRecords int
	for d := c.Start; d < c.Start+11; d++ {
		y, mo, dd := d.Date()
		for i, st := range m.Stations() {
			var stats DayStats
			buf, stats = m.Day(i, d, buf[:0])
			for _, e := range buf {
				if got := c.WorkingDay(e.TS); got != d {
					t.Fatalf("%s: event at %s generated for working day %s falls in %s", st.ID, e.TS.In(loc), d, got)
				}
				if e.TS.Before(c.DayStart(d)) || !e.TS.Before(c.DayEnd(d)) {
					t.Fatalf("%s: event at %s outside working day %s", st.ID, e.TS.In(loc), d)
				}
				at := e.TS.In(loc)
				if e.Type == tiendo.TypeCompletion && at.Hour() < c.DayBoundaryHour {
					// After midnight: the next calendar day, the same working day.
					if at.Day() == dd && at.Month() == mo && at.Year() == y {
						t.Fatalf("%s: record at %s is not on the next calendar day", st.ID, at)
					}
					lateRecords += e.Count
				}
			}
			if st.Kind == tiendo.KindFixed {
				stationDays++
				if h := stats.Close.In(loc).Hour(); h < c.DayBoundaryHour {
					pastMidnight++
				}
			}
			if !stats.Close.Before(c.DayEnd(d)) {
				t.Fatalf("%s closes at %s, after the working day", st.ID, stats.Close.In(loc))
			}
		}
	}
	share := float64(pastMidnight) / float64(stationDays)
	t.Logf("10–20 March: %d of %d fixed station-days end after midnight (%.1f%%); %d records after midnight", pastMidnight, stationDays, 100*share, lateRecords)
	if share < 0.04 || lateRecords < 1000 {
		t.Errorf("late nights too rare: %.1f%% of station-days past midnight, %d records", 100*share, lateRecords)
	}
}

// Heartbeats come on the interval all day; completions in batches of 1–5;
// worn fingerprints show as retries; mobile teams move; home-visit teams are small.
func TestHeartbeatsCompletionsAndTeams(t *testing.T) {
	m := newModel(t, 5, DefaultParams())
	c := m.Campaign()
	var buf []Event
	movedMobile, mobiles := 0, 0
	var records, retries int
	kinds := map[tiendo.RecordKind]int{}
	statuses := map[tiendo.StationStatus]int{}
	for d := day(t, "2021-03-16"); d < day(t, "2021-03-20"); d++ {
		for i, st := range m.Stations() {
			buf, _ = m.Day(i, d, buf[:0])
			var hbs []Event
			pos := map[[2]float64]bool{}
			for _, e := range buf {
				switch e.Type {
				case tiendo.TypeHeartbeat:
					hbs = append(hbs, e)
					statuses[e.Status]++
					if e.Lanes > st.Lanes || e.Queue < 0 || e.Staff < 0 {
						t.Fatalf("%s: heartbeat %+v beyond the station's %d lanes", st.ID, e.Event, st.Lanes)
					}
					if e.Status == tiendo.StatusOpen && (e.Lanes < 1 || e.Staff < e.Lanes) {
						t.Fatalf("%s: open with %d lanes and %d staff", st.ID, e.Lanes, e.Staff)
					}
					if st.Kind == tiendo.KindHomeVisit && e.Staff > 3 {
						t.Fatalf("home-visit team %s with %d staff", st.ID, e.Staff)
					}
					if !e.HasPos {
						t.Fatalf("%s: heartbeat without position", st.ID)
					}
					pos[[2]float64{e.Lat, e.Lon}] = true
				case tiendo.TypeCompletion:
					if e.Count < 1 || e.Count > 5 {
						t.Fatalf("%s: completion of %d records, want 1–5", st.ID, e.Count)
					}
					records += e.Count
					retries += e.FingerprintRetries
					kinds[e.Kind]++
					if st.Kind == tiendo.KindHomeVisit && e.Kind != tiendo.RecordHomeVisit {
						t.Fatalf("%s: home-visit team completes %s records", st.ID, e.Kind)
					}
				}
			}
			if len(hbs) != 288 {
				t.Fatalf("%s: %d heartbeats in a day, want 288 (every 5 minutes)", st.ID, len(hbs))
			}
			for k := 1; k < len(hbs); k++ {
				if gap := hbs[k].TS.Sub(hbs[k-1].TS); gap != 5*time.Minute {
					t.Fatalf("%s: heartbeats %v apart", st.ID, gap)
				}
			}
			if st.Kind == tiendo.KindMobile {
				mobiles++
				if len(pos) > 2 {
					movedMobile++
				}
			}
		}
	}
	perRecord := float64(retries) / float64(records)
	t.Logf("%d records, %.2f fingerprint retries per record, kinds %v, statuses %v", records, perRecord, kinds, statuses)
	if perRecord < 0.2 || perRecord > 1.5 {
		t.Errorf("%.2f fingerprint retries per record, want some worn fingerprints but not most", perRecord)
	}
	if movedMobile < mobiles*9/10 {
		t.Errorf("only %d of %d mobile team-days changed place", movedMobile, mobiles)
	}
	if kinds[tiendo.RecordStudent] == 0 || kinds[tiendo.RecordHomeVisit] == 0 || kinds[tiendo.RecordStandard] == 0 {
		t.Errorf("record kinds %v: want standard, student and home_visit", kinds)
	}
	if statuses[tiendo.StatusPaused] == 0 || statuses[tiendo.StatusOpen] == 0 || statuses[tiendo.StatusClosed] == 0 {
		t.Errorf("statuses %v: want open, paused and closed", statuses)
	}
	_ = c
}

// Staff change during the day: a station's staff is not one number all day.
func TestStaffChangesDuringTheDay(t *testing.T) {
	m := newModel(t, 1, DefaultParams())
	var buf []Event
	changed, stations := 0, 0
	for i, st := range m.Stations() {
		if st.Kind != tiendo.KindFixed {
			continue
		}
		stations++
		buf, _ = m.Day(i, day(t, "2021-03-18"), buf[:0])
		seen := map[int]bool{}
		for _, e := range buf {
			if e.Type == tiendo.TypeHeartbeat && e.Status != tiendo.StatusClosed {
				seen[e.Staff] = true
			}
		}
		if len(seen) >= 2 {
			changed++
		}
	}
	if changed < stations*9/10 {
		t.Errorf("staff changed during the day at %d of %d fixed stations", changed, stations)
	}
}

func digest(t testing.TB, m *Model, days []tiendo.Day) uint64 {
	h := fnv.New64a()
	var buf []Event
	var body []byte
	for _, d := range days {
		for i := 0; i < len(m.Stations()); i += 3 {
			buf, _ = m.Day(i, d, buf[:0])
			body = AppendBatch(body[:0], buf)
			h.Write(body)
			for _, e := range buf {
				h.Write([]byte(e.Deliver.String()))
			}
		}
	}
	return h.Sum64()
}

// The same seed gives the same events, ids and delivery times, whatever
// order days are simulated in; another seed gives others.
func TestDeterministicWithASeed(t *testing.T) {
	p := DefaultParams()
	days := []tiendo.Day{day(t, "2021-03-10"), day(t, "2021-03-20"), day(t, "2021-06-30")}
	a := digest(t, newModel(t, 7, p), days)
	b := digest(t, newModel(t, 7, p), []tiendo.Day{days[2], days[0], days[1]})
	b2 := digest(t, newModel(t, 7, p), days)
	if a != b2 {
		t.Fatal("two models with seed 7 differ")
	}
	if b == a {
		t.Fatal("digest does not depend on order: the test is broken")
	}
	// Order independence, per day.
	m1, m2 := newModel(t, 7, p), newModel(t, 7, p)
	for _, d := range days {
		x := digest(t, m1, []tiendo.Day{d})
		_ = digest(t, m2, []tiendo.Day{d + 1})
		if y := digest(t, m2, []tiendo.Day{d}); x != y {
			t.Fatalf("day %s depends on what was simulated before it", d)
		}
	}
	if digest(t, newModel(t, 8, p), days) == a {
		t.Fatal("seeds 7 and 8 give the same events")
	}
	// Ids are unique per station across days.
	m := newModel(t, 7, p)
	ids := map[string]bool{}
	var buf []Event
	for d := days[0]; d < days[0]+3; d++ {
		buf, _ = m.Day(0, d, buf[:0])
		for _, e := range buf {
			if ids[e.ID] {
				t.Fatalf("id %s repeated", e.ID)
			}
			ids[e.ID] = true
		}
	}
}

// What the simulator sends passes the server's own decoder and validation.
func TestEventsPassTheIngestValidation(t *testing.T) {
	m := newModel(t, 11, Params{OfflineRate: 0.5})
	c := m.Campaign()
	reg := tiendo.NewRegistry(c, c.Districts, m.Stations())
	rules := tiendo.EventRules{Campaign: c, Now: time.Now(), Known: func(id string) bool { return reg.Station(id) != nil }}
	var buf []Event
	var body []byte
	for k, d := range []tiendo.Day{c.Start, day(t, "2021-04-04"), c.Deadline - 1} {
		for i := k; i < len(m.Stations()); i += 5 {
			buf, _ = m.Day(i, d, buf[:0])
			body = AppendBatch(body[:0], buf)
			events, problems, err := ingest.Decode(body, false)
			if err != nil || len(problems) > 0 {
				t.Fatalf("decode: %v %v", err, problems)
			}
			for k := range events {
				if errs := events[k].Validate(k, rules); len(errs) > 0 {
					t.Fatalf("event %s: %v", body, errs)
				}
				got, want := events[k], buf[k].Event
				if got.ID != want.ID || !got.TS.Equal(want.TS) || got.Count != want.Count || got.Queue != want.Queue ||
					got.Status != want.Status || got.Lat != want.Lat || got.Kind != want.Kind && want.Type == tiendo.TypeCompletion {
					t.Fatalf("round trip: got %+v, want %+v", got, want)
				}
			}
		}
	}
	if !bytes.Contains(body, []byte(`"queue":0`)) {
		t.Error("a zero queue must be sent, not left out")
	}
}

// A station that drops off the network keeps its events and sends them
// when it is back: their delivery time is the end of the outage.
func TestOfflineStationsDeliverTheirBacklogLater(t *testing.T) {
	m := newModel(t, 2, Params{OfflineRate: 1})
	var buf []Event
	var backlog int
	for i := range m.Stations()[:20] {
		var stats DayStats
		buf, stats = m.Day(i, day(t, "2021-03-18"), buf[:0])
		if !stats.Offline {
			t.Fatalf("station %d not offline with rate 1", i)
		}
		for _, e := range buf {
			in := !e.TS.Before(stats.OfflineFrom) && e.TS.Before(stats.OfflineTo)
			switch {
			case in && !e.Deliver.Equal(stats.OfflineTo.Truncate(time.Second)) && !e.Deliver.Equal(stats.OfflineTo):
				t.Fatalf("event at %s during the outage %s–%s delivered at %s", e.TS, stats.OfflineFrom, stats.OfflineTo, e.Deliver)
			case !in && !e.Deliver.Equal(e.TS):
				t.Fatalf("event at %s outside the outage delivered at %s", e.TS, e.Deliver)
			}
			if in {
				backlog++
			}
		}
	}
	if backlog == 0 {
		t.Fatal("no event held back")
	}
	m0 := newModel(t, 2, Params{OfflineRate: 0})
	buf, stats := m0.Day(0, day(t, "2021-03-18"), buf[:0])
	if stats.Offline {
		t.Fatal("offline with rate 0")
	}
	for _, e := range buf {
		if !e.Deliver.Equal(e.TS) {
			t.Fatal("an event held back with rate 0")
		}
	}
}

func TestSpreadStations(t *testing.T) {
	st := langson2021.Stations()
	ids := SpreadStations(st, 33)
	if len(ids) != 33 {
		t.Fatalf("%d ids", len(ids))
	}
	reg := map[string]tiendo.Station{}
	for _, s := range st {
		reg[s.ID] = s
	}
	dists, kinds, seen := map[string]bool{}, map[tiendo.StationKind]bool{}, map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("%s twice", id)
		}
		seen[id] = true
		dists[reg[id].District] = true
		kinds[reg[id].Kind] = true
	}
	if len(dists) != 11 || len(kinds) != 3 {
		t.Errorf("33 stations cover %d districts and %d kinds", len(dists), len(kinds))
	}
	if len(SpreadStations(st, 0)) != len(st) {
		t.Error("0 means all")
	}
}

// A signal drop (Params.DropRate) begins after a heartbeat that says open
// with lanes, lasts 20–40 minutes and ends before the station closes: the
// server hears nothing from a serving station for at least 20 minutes, then
// everything made meanwhile at once, with its own times. Nothing is lost:
// the day still has its 288 heartbeats and Day's records. Stats tells the
// same drop without the events; rate 0 has none; the default rate gives a
// handful of drops every day over the province, on every day's draw.
func TestSignalDropsSilenceAServingStationForTwentyToFortyMinutes(t *testing.T) {
	c := newModel(t, 1, DefaultParams()).Campaign()
	all := newModel(t, 6, Params{DropRate: 1})
	d := day(t, "2021-03-18")
	var buf []Event
	kinds := map[tiendo.StationKind]int{}
	for i, st := range all.Stations() {
		var stats DayStats
		buf, stats = all.Day(i, d, buf[:0])
		if !stats.SignalDrop {
			t.Fatalf("%s: no drop with rate 1", st.ID)
		}
		if s := all.Stats(i, d); s.SignalDrop != stats.SignalDrop || !s.DropFrom.Equal(stats.DropFrom) || !s.DropTo.Equal(stats.DropTo) {
			t.Fatalf("%s: Stats says drop %v %s–%s, Day %s–%s", st.ID, s.SignalDrop, s.DropFrom, s.DropTo, stats.DropFrom, stats.DropTo)
		}
		if l := stats.DropTo.Sub(stats.DropFrom); l < 20*time.Minute || l > 40*time.Minute {
			t.Fatalf("%s: a drop of %v", st.ID, l)
		}
		if stats.DropTo.After(stats.Close) {
			t.Fatalf("%s: the link is back at %s, after closing at %s", st.ID, stats.DropTo, stats.Close)
		}
		var before *Event // the last heartbeat before the drop
		var heartbeats, held int
		for k := range buf {
			e := &buf[k]
			in := !e.TS.Before(stats.DropFrom) && e.TS.Before(stats.DropTo)
			switch {
			case in && !e.Deliver.Equal(stats.DropTo):
				t.Fatalf("%s: event at %s in the drop %s–%s sent at %s", st.ID, e.TS, stats.DropFrom, stats.DropTo, e.Deliver)
			case !in && !e.Deliver.Equal(e.TS):
				t.Fatalf("%s: event at %s outside the drop sent at %s", st.ID, e.TS, e.Deliver)
			}
			if in {
				held++
			}
			if e.Type == tiendo.TypeHeartbeat {
				heartbeats++
				if e.TS.Before(stats.DropFrom) {
					before = e
				}
			}
		}
		if before == nil || before.Status != tiendo.StatusOpen || before.Lanes < 1 {
			t.Fatalf("%s: the drop at %s follows heartbeat %+v, not an open station's", st.ID, stats.DropFrom, before)
		}
		if silent := stats.DropTo.Sub(before.TS); silent < 20*time.Minute {
			t.Fatalf("%s: heard last at %s, back at %s: silent only %v", st.ID, before.TS, stats.DropTo, silent)
		}
		if heartbeats != 288 || held < 4 {
			t.Fatalf("%s: %d heartbeats, %d events held in the drop", st.ID, heartbeats, held)
		}
		kinds[st.Kind]++
	}
	t.Logf("drops at every station with rate 1: %v", kinds)

	none := newModel(t, 6, Params{})
	for i := range none.Stations() {
		if none.Stats(i, d).SignalDrop {
			t.Fatal("a drop with rate 0")
		}
	}
	def := newModel(t, 1, DefaultParams())
	for d := c.Start; d < c.Start+7; d++ {
		n := 0
		for i := range def.Stations() {
			if def.Stats(i, d).SignalDrop {
				n++
			}
		}
		t.Logf("%s: %d signal drops", d, n)
		if n < 5 || n > 30 {
			t.Errorf("%s: %d signal drops over %d stations at rate %v", d, n, len(def.Stations()), def.Params().DropRate)
		}
	}
}
