package tiendo_test

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"tiendo"
)

func TestValidEventID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"7f3c9a1e", true},
		{"a", true},
		{strings.Repeat("x", 64), true},
		{strings.Repeat("x", 65), false},
		{"", false},
		{"with space", false},
		{" lead", false},
		{"tab\there", false},
		{"new\nline", false},
		{"nul\x00", false},
		{"del\x7f", false},
		{"café", false},
		{"!#$%&'()*+,-./:;<=>?@[]^_`{|}~", true},
		{"LS-BS-VULE:2021-03-20T21:15:03+07:00#1", true},
	}
	for _, tt := range tests {
		if got := tiendo.ValidEventID(tt.id); got != tt.want {
			t.Errorf("ValidEventID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestEventKey(t *testing.T) {
	a := tiendo.Event{ID: "e1", Station: "LS-BS-VULE"}
	if got, want := a.Key(), tiendo.EventKey("LS-BS-VULE", "e1"); got != want {
		t.Errorf("Key() = %q, want %q", got, want)
	}
	b := tiendo.Event{ID: "e1", Station: "LS-BS-OTHER"}
	if a.Key() == b.Key() {
		t.Errorf("same id at two stations share the key %q", a.Key())
	}
	// The separator cannot occur in a station id or an event id, so no two
	// (station, id) pairs share a key.
	if tiendo.EventKey("LS-A", "B-x") == tiendo.EventKey("LS-A-B", "x") {
		t.Error("keys of different (station, id) pairs collide")
	}
}

// eventNow is the server clock of the event tests: 21:20 on 20 March 2021, local.
var eventNow = time.Date(2021, time.March, 20, 21, 20, 0, 0, time.FixedZone("ICT", 7*3600))

func eventRules(tb testing.TB) tiendo.EventRules {
	known := map[string]bool{"LS-BS-VULE": true, "LS-TP-CHILANG": true}
	return tiendo.EventRules{
		Campaign: mustTestCampaign(tb),
		Now:      eventNow,
		Known:    func(s string) bool { return known[s] },
	}
}

func validHeartbeat() tiendo.Event {
	return tiendo.Event{ID: "7f3c", Type: tiendo.TypeHeartbeat, Station: "LS-BS-VULE",
		TS:    eventNow.Add(-5 * time.Minute),
		Queue: 37, Staff: 4, Lanes: 3, Status: tiendo.StatusOpen, HasPos: true, Lat: 21.90, Lon: 106.31}
}

func validCompletion() tiendo.Event {
	return tiendo.Event{ID: "9a1e", Type: tiendo.TypeCompletion, Station: "LS-BS-VULE",
		TS:    eventNow.Add(-4 * time.Minute),
		Count: 3, FingerprintRetries: 2, Kind: tiendo.RecordStandard}
}

func TestEventValidate(t *testing.T) {
	hb, cp := validHeartbeat, validCompletion
	tests := []struct {
		name   string
		base   func() tiendo.Event
		mutate func(e *tiendo.Event, r *tiendo.EventRules)
		want   []string // fields named, in order
	}{
		{"valid heartbeat", hb, func(e *tiendo.Event, r *tiendo.EventRules) {}, nil},
		{"valid completion", cp, func(e *tiendo.Event, r *tiendo.EventRules) {}, nil},
		{"heartbeat without position", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.HasPos, e.Lat, e.Lon = false, 0, 0 }, nil},
		{"zero queue, staff and lanes", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.Queue, e.Staff, e.Lanes = 0, 0, 0 }, nil},

		// id
		{"empty id", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.ID = "" }, []string{"id"}},
		{"64 char id", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.ID = strings.Repeat("a", 64) }, nil},
		{"65 char id", cp, func(e *tiendo.Event, r *tiendo.EventRules) { e.ID = strings.Repeat("a", 65) }, []string{"id"}},
		{"id with space", cp, func(e *tiendo.Event, r *tiendo.EventRules) { e.ID = "a b" }, []string{"id"}},
		{"id with non-ASCII", cp, func(e *tiendo.Event, r *tiendo.EventRules) { e.ID = "hồ-sơ-1" }, []string{"id"}},

		// station
		{"no station", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.Station = "" }, []string{"station"}},
		{"unknown station", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.Station = "LS-XX-NOWHERE" }, []string{"station"}},
		{"malformed station", cp, func(e *tiendo.Event, r *tiendo.EventRules) { e.Station = "LS BS" }, []string{"station"}},
		{"other known station", cp, func(e *tiendo.Event, r *tiendo.EventRules) { e.Station = "LS-TP-CHILANG" }, nil},
		{"no registry: any well-formed station", cp, func(e *tiendo.Event, r *tiendo.EventRules) {
			e.Station, r.Known = "LS-XX-NOWHERE", nil
		}, nil},
		{"no registry: malformed station", cp, func(e *tiendo.Event, r *tiendo.EventRules) {
			e.Station, r.Known = "-bad", nil
		}, []string{"station"}},

		// ts
		{"no ts", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.TS = time.Time{} }, []string{"ts"}},
		{"ts before campaign start", hb, func(e *tiendo.Event, r *tiendo.EventRules) {
			e.TS = time.Date(2021, time.March, 10, 3, 59, 59, 0, ict)
		}, []string{"ts"}},
		{"ts at campaign start", hb, func(e *tiendo.Event, r *tiendo.EventRules) {
			e.TS = time.Date(2021, time.March, 10, 4, 0, 0, 0, ict)
		}, nil},
		{"ts long before campaign start", cp, func(e *tiendo.Event, r *tiendo.EventRules) {
			e.TS = time.Date(2019, time.January, 1, 0, 0, 0, 0, time.UTC)
		}, []string{"ts"}},
		{"ts exactly 10 min ahead", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.TS = eventNow.Add(10 * time.Minute) }, nil},
		{"ts 10 min 1 ns ahead", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.TS = eventNow.Add(10*time.Minute + 1) }, []string{"ts"}},
		{"ts an hour ahead", cp, func(e *tiendo.Event, r *tiendo.EventRules) { e.TS = eventNow.Add(time.Hour) }, []string{"ts"}},
		{"ts ahead given in UTC", cp, func(e *tiendo.Event, r *tiendo.EventRules) { e.TS = eventNow.Add(11 * time.Minute).UTC() }, []string{"ts"}},
		{"ts in the future, no server clock", cp, func(e *tiendo.Event, r *tiendo.EventRules) {
			e.TS, r.Now = eventNow.Add(time.Hour), time.Time{}
		}, nil},
		{"ts before start, no campaign", cp, func(e *tiendo.Event, r *tiendo.EventRules) {
			e.TS, r.Campaign = time.Date(2019, time.January, 1, 0, 0, 0, 0, time.UTC), nil
		}, nil},

		// type
		{"no type", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.Type = "" }, []string{"type"}},
		{"unknown type", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.Type = "Heartbeat" }, []string{"type"}},

		// heartbeat fields
		{"negative queue", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.Queue = -1 }, []string{"queue"}},
		{"max queue", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.Queue = tiendo.MaxQueue }, nil},
		{"queue over max", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.Queue = tiendo.MaxQueue + 1 }, []string{"queue"}},
		{"negative staff", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.Staff = -1 }, []string{"staff"}},
		{"staff over max", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.Staff = tiendo.MaxStaff + 1 }, []string{"staff"}},
		{"negative lanes", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.Lanes = -1 }, []string{"lanes"}},
		{"max lanes", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.Lanes = tiendo.MaxLanes }, nil},
		{"lanes over max", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.Lanes = tiendo.MaxLanes + 1 }, []string{"lanes"}},
		{"status paused", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.Status = tiendo.StatusPaused }, nil},
		{"status closed", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.Status = tiendo.StatusClosed }, nil},
		{"no status", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.Status = "" }, []string{"status"}},
		{"status offline is never sent", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.Status = tiendo.StatusOffline }, []string{"status"}},
		{"status in capitals", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.Status = "OPEN" }, []string{"status"}},
		{"lat 90", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.Lat = 90 }, nil},
		{"lat -90", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.Lat = -90 }, nil},
		{"lat 90.01", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.Lat = 90.01 }, []string{"lat"}},
		{"lat -91", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.Lat = -91 }, []string{"lat"}},
		{"lat NaN", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.Lat = math.NaN() }, []string{"lat"}},
		{"lon 180", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.Lon = 180 }, nil},
		{"lon 181", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.Lon = 181 }, []string{"lon"}},
		{"lon -180.5", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.Lon = -180.5 }, []string{"lon"}},
		{"lon +Inf", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.Lon = math.Inf(1) }, []string{"lon"}},
		{"lon NaN", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.Lon = math.NaN() }, []string{"lon"}},
		{"both out of range", hb, func(e *tiendo.Event, r *tiendo.EventRules) { e.Lat, e.Lon = 100, 200 }, []string{"lat", "lon"}},
		{"out of range without position", hb, func(e *tiendo.Event, r *tiendo.EventRules) {
			e.HasPos, e.Lat, e.Lon = false, 100, 200
		}, nil},

		// completion fields
		{"count 0", cp, func(e *tiendo.Event, r *tiendo.EventRules) { e.Count = 0 }, []string{"count"}},
		{"count negative", cp, func(e *tiendo.Event, r *tiendo.EventRules) { e.Count = -3 }, []string{"count"}},
		{"count 1", cp, func(e *tiendo.Event, r *tiendo.EventRules) { e.Count = 1 }, nil},
		{"count max", cp, func(e *tiendo.Event, r *tiendo.EventRules) { e.Count = tiendo.MaxCount }, nil},
		{"count over max", cp, func(e *tiendo.Event, r *tiendo.EventRules) { e.Count = tiendo.MaxCount + 1 }, []string{"count"}},
		{"no retries", cp, func(e *tiendo.Event, r *tiendo.EventRules) { e.FingerprintRetries = 0 }, nil},
		{"negative retries", cp, func(e *tiendo.Event, r *tiendo.EventRules) { e.FingerprintRetries = -1 }, []string{"fingerprint_retries"}},
		{"retries over max", cp, func(e *tiendo.Event, r *tiendo.EventRules) { e.FingerprintRetries = tiendo.MaxRetries + 1 }, []string{"fingerprint_retries"}},
		{"kind student", cp, func(e *tiendo.Event, r *tiendo.EventRules) { e.Kind = tiendo.RecordStudent }, nil},
		{"kind home_visit", cp, func(e *tiendo.Event, r *tiendo.EventRules) { e.Kind = tiendo.RecordHomeVisit }, nil},
		{"no kind", cp, func(e *tiendo.Event, r *tiendo.EventRules) { e.Kind = "" }, []string{"kind"}},
		{"unknown kind", cp, func(e *tiendo.Event, r *tiendo.EventRules) { e.Kind = "vip" }, []string{"kind"}},

		{"everything missing", func() tiendo.Event { return tiendo.Event{} }, func(e *tiendo.Event, r *tiendo.EventRules) {},
			[]string{"id", "station", "ts", "type"}},
		{"several completion problems", cp, func(e *tiendo.Event, r *tiendo.EventRules) {
			e.ID, e.Count, e.Kind = "", 0, "x"
		}, []string{"id", "count", "kind"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, rules := tt.base(), eventRules(t)
			tt.mutate(&e, &rules)
			const index = 7
			errs := e.Validate(index, rules)
			var got []string
			for _, fe := range errs {
				got = append(got, fe.Field)
				if fe.Index != index {
					t.Errorf("%s: Index = %d, want %d", fe.Field, fe.Index, index)
				}
				if fe.Reason == "" {
					t.Errorf("%s: empty reason", fe.Field)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Validate fields = %q, want %q (%+v)", got, tt.want, errs)
			}
		})
	}
}
