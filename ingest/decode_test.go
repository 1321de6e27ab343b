package ingest_test

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"tiendo"
	"tiendo/ingest"
)

// The two events of the ingest contract (DESIGN.md).
const (
	contractHeartbeat = `{"id":"7f3c","type":"heartbeat","station":"LS-BS-VULE","ts":"2021-03-20T21:15:03+07:00",` +
		`"queue":37,"staff":4,"lanes":3,"status":"open","lat":21.90,"lon":106.31}`
	contractCompletion = `{"id":"9a1e","type":"completion","station":"LS-BS-VULE","ts":"2021-03-20T21:16:40+07:00",` +
		`"count":3,"fingerprint_retries":2,"kind":"standard"}`
)

var decodeICT = time.FixedZone("ICT", 7*3600)

func wantContractEvents() []tiendo.Event {
	return []tiendo.Event{
		{ID: "7f3c", Type: tiendo.TypeHeartbeat, Station: "LS-BS-VULE",
			TS:    time.Date(2021, time.March, 20, 21, 15, 3, 0, decodeICT),
			Queue: 37, Staff: 4, Lanes: 3, Status: tiendo.StatusOpen, HasPos: true, Lat: 21.90, Lon: 106.31},
		{ID: "9a1e", Type: tiendo.TypeCompletion, Station: "LS-BS-VULE",
			TS:    time.Date(2021, time.March, 20, 21, 16, 40, 0, decodeICT),
			Count: 3, FingerprintRetries: 2, Kind: tiendo.RecordStandard},
	}
}

// sameEvents compares events, timestamps by instant.
func sameEvents(tb testing.TB, got, want []tiendo.Event) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("got %d events, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range got {
		g, w := got[i], want[i]
		if !g.TS.Equal(w.TS) {
			tb.Errorf("event %d: TS = %v, want %v", i, g.TS, w.TS)
		}
		g.TS, w.TS = time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			tb.Errorf("event %d =\n%+v\nwant\n%+v", i, g, w)
		}
	}
}

func TestDecodeContract(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		ndjson bool
	}{
		{"array", "[" + contractHeartbeat + "," + contractCompletion + "]", false},
		{"array with whitespace", "\n [\n  " + contractHeartbeat + " ,\n\t" + contractCompletion + "\n ] \n", false},
		{"ndjson", contractHeartbeat + "\n" + contractCompletion + "\n", true},
		{"ndjson without final newline", contractHeartbeat + "\n" + contractCompletion, true},
		{"ndjson with CRLF and blank lines", "\r\n" + contractHeartbeat + "\r\n\r\n  \n" + contractCompletion + "\r\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, problems, err := ingest.Decode([]byte(tt.body), tt.ndjson)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if len(problems) > 0 {
				t.Fatalf("problems = %+v, want none", problems)
			}
			sameEvents(t, events, wantContractEvents())
		})
	}
}

func TestDecodeBodyErrors(t *testing.T) {
	hb, cp := contractHeartbeat, contractCompletion
	tests := []struct {
		name   string
		body   string
		ndjson bool
	}{
		{"empty body", "", false},
		{"blank body", " \n\t ", false},
		{"broken JSON", `[{"id":`, false},
		{"not JSON", `hello`, false},
		{"object, not an array", hb, false},
		{"string", `"events"`, false},
		{"number", `42`, false},
		{"null", `null`, false},
		{"empty array", `[]`, false},
		{"unterminated array", "[" + hb, false},
		{"unterminated array after comma", "[" + hb + ",", false},
		{"trailing comma", "[" + hb + "," + cp + ",]", false},
		{"missing comma", "[" + hb + " " + cp + "]", false},
		{"data after the array", "[" + hb + "] x", false},
		{"second array", "[" + hb + "][" + cp + "]", false},
		{"broken element", "[" + hb + `,{"id":}]`, false},
		{"empty ndjson", "", true},
		{"blank ndjson", "\n\r\n   \n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, problems, err := ingest.Decode([]byte(tt.body), tt.ndjson)
			var e *tiendo.Error
			if !errors.As(err, &e) {
				t.Fatalf("Decode = %d events, %+v, %v; want a *tiendo.Error", len(events), problems, err)
			}
			if got, want := e.Code, tiendo.EInvalid; got != want {
				t.Errorf("Code = %q, want %q", got, want)
			}
			if len(e.Fields) != 1 || e.Fields[0].Field != "body" || e.Fields[0].Index != -1 || e.Fields[0].Reason == "" {
				t.Errorf("Fields = %+v, want one with field body, index -1 and a reason", e.Fields)
			}
			if events != nil || problems != nil {
				t.Errorf("Decode returned events %+v and problems %+v with an error", events, problems)
			}
		})
	}
}

func repeatEvents(n int, ndjson bool) []byte {
	var b strings.Builder
	if !ndjson {
		b.WriteByte('[')
	}
	for i := 0; i < n; i++ {
		if i > 0 && !ndjson {
			b.WriteByte(',')
		}
		b.WriteString(contractCompletion)
		if ndjson {
			b.WriteByte('\n')
		}
	}
	if !ndjson {
		b.WriteByte(']')
	}
	return []byte(b.String())
}

func TestDecodeBatchSize(t *testing.T) {
	for _, ndjson := range []bool{false, true} {
		events, problems, err := ingest.Decode(repeatEvents(ingest.MaxBatchEvents, ndjson), ndjson)
		if err != nil || len(problems) != 0 {
			t.Fatalf("ndjson=%v: Decode of %d events: %v, %d problems", ndjson, ingest.MaxBatchEvents, err, len(problems))
		}
		if got, want := len(events), ingest.MaxBatchEvents; got != want {
			t.Errorf("ndjson=%v: %d events, want %d", ndjson, got, want)
		}

		events, problems, err = ingest.Decode(repeatEvents(ingest.MaxBatchEvents+1, ndjson), ndjson)
		if got, want := tiendo.ErrorCode(err), tiendo.ETooLarge; got != want {
			t.Errorf("ndjson=%v: Decode of %d events: code %q (%v), want %q", ndjson, ingest.MaxBatchEvents+1, got, err, want)
		}
		if events != nil || problems != nil {
			t.Errorf("ndjson=%v: too large batch returned %d events, %d problems", ndjson, len(events), len(problems))
		}
	}
	// A too large array is refused even when it is cut short.
	body := repeatEvents(ingest.MaxBatchEvents+1, false)
	if _, _, err := ingest.Decode(body[:len(body)-1], false); tiendo.ErrorCode(err) != tiendo.ETooLarge {
		t.Errorf("Decode of an unterminated too large array: %v, want %s", err, tiendo.ETooLarge)
	}
}

// eventWith builds a contract event with some keys replaced or
// added: each pair is `"key":value` text; a value of "" drops the key.
func eventWith(base string, pairs ...string) string {
	type kv struct{ k, v string }
	var order []kv
	switch base {
	case "heartbeat":
		order = []kv{{"id", `"7f3c"`}, {"type", `"heartbeat"`}, {"station", `"LS-BS-VULE"`}, {"ts", `"2021-03-20T21:15:03+07:00"`},
			{"queue", `37`}, {"staff", `4`}, {"lanes", `3`}, {"status", `"open"`}, {"lat", `21.90`}, {"lon", `106.31`}}
	case "completion":
		order = []kv{{"id", `"9a1e"`}, {"type", `"completion"`}, {"station", `"LS-BS-VULE"`}, {"ts", `"2021-03-20T21:16:40+07:00"`},
			{"count", `3`}, {"fingerprint_retries", `2`}, {"kind", `"standard"`}}
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		k, v := pairs[i], pairs[i+1]
		found := false
		for j := range order {
			if order[j].k == k {
				order[j].v, found = v, true
				break
			}
		}
		if !found {
			order = append(order, kv{k, v})
		}
	}
	var parts []string
	for _, p := range order {
		if p.v != "" {
			parts = append(parts, `"`+p.k+`":`+p.v)
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func TestDecodeEventProblems(t *testing.T) {
	hb := func(p ...string) string { return eventWith("heartbeat", p...) }
	cp := func(p ...string) string { return eventWith("completion", p...) }
	tests := []struct {
		name  string
		event string
		want  []string // fields named, in order
	}{
		{"heartbeat", hb(), nil},
		{"completion", cp(), nil},
		{"heartbeat without lanes and position", hb("lanes", "", "lat", "", "lon", ""), nil},
		{"completion without optional fields", cp("fingerprint_retries", "", "kind", ""), nil},
		{"ts in UTC", cp("ts", `"2021-03-20T14:16:40Z"`), nil},
		{"ts with fraction", cp("ts", `"2021-03-20T21:16:40.123456789+07:00"`), nil},
		{"unicode escapes", cp("id", `"\u0039a1e"`), nil},
		{"negative integers are integers", hb("queue", "-1"), nil}, // Validate's business
		{"unknown type is Validate's business", cp("type", `"photo"`), nil},

		{"same key twice", strings.TrimSuffix(hb(), "}") + `,"queue":38}`, []string{"queue"}},
		{"key twice in another case", strings.TrimSuffix(cp(), "}") + `,"Station":"LS-BS-OTHER"}`, []string{"Station"}},
		{"case variant first", `{"Station":"X","id":"a","type":"completion","station":"LS-BS-VULE","ts":"2021-03-20T21:16:40+07:00","count":1}`,
			[]string{"Station", "station"}},
		{"unknown field", cp("colour", `"blue"`), []string{"colour"}},
		{"unknown field in another case", cp("Count", `3`), []string{"Count"}},

		{"count 2.5", cp("count", `2.5`), []string{"count"}},
		{"count 2.0", cp("count", `2.0`), []string{"count"}},
		{"count 1e2", cp("count", `1e2`), []string{"count"}},
		{"count as string", cp("count", `"3"`), []string{"count"}},
		{"count null", cp("count", `null`), []string{"count"}},
		{"count beyond int32", cp("count", `3000000000`), []string{"count"}},
		{"queue as bool", hb("queue", `true`), []string{"queue"}},
		{"staff as object", hb("staff", `{"n":4}`), []string{"staff"}},
		{"retries float", cp("fingerprint_retries", `0.5`), []string{"fingerprint_retries"}},
		{"lat as string", hb("lat", `"21.9"`), []string{"lat"}},
		{"lon as null", hb("lon", `null`), []string{"lon"}},
		{"lat too big for float64", hb("lat", `1e400`), []string{"lat"}},
		{"id as number", cp("id", `123`), []string{"id"}},
		{"station as array", cp("station", `["LS-BS-VULE"]`), []string{"station"}},
		{"status as number", hb("status", `1`), []string{"status"}},
		{"kind as null", cp("kind", `null`), []string{"kind"}},
		{"type as number", cp("type", `2`), []string{"type"}},

		{"ts without offset", cp("ts", `"2021-03-20T21:16:40"`), []string{"ts"}},
		{"ts date only", cp("ts", `"2021-03-20"`), []string{"ts"}},
		{"ts with space", cp("ts", `"2021-03-20 21:16:40+07:00"`), []string{"ts"}},
		{"ts as unix seconds", cp("ts", `1616249800`), []string{"ts"}},
		{"ts garbage", cp("ts", `"yesterday"`), []string{"ts"}},
		{"ts offset +24:00", cp("ts", `"2021-03-20T21:16:40+24:00"`), []string{"ts"}},
		{"ts offset -24:00", cp("ts", `"2021-03-20T21:16:40-24:00"`), []string{"ts"}},
		{"ts offset +23:60", cp("ts", `"2021-03-20T21:16:40+23:60"`), []string{"ts"}},
		{"ts offset +00:60", cp("ts", `"2021-03-20T21:16:40+00:60"`), []string{"ts"}},
		{"ts with 10 fractional digits", cp("ts", `"2021-03-20T21:16:40.1234567891+07:00"`), []string{"ts"}},
		{"ts with a comma fraction", cp("ts", `"2021-03-20T21:16:40,5+07:00"`), []string{"ts"}},

		{"heartbeat without queue", hb("queue", ""), []string{"queue"}},
		{"heartbeat without staff", hb("staff", ""), []string{"staff"}},
		{"heartbeat without status", hb("status", ""), []string{"status"}},
		{"heartbeat without queue, staff, status", hb("queue", "", "staff", "", "status", ""), []string{"queue", "staff", "status"}},
		{"completion without count", cp("count", ""), []string{"count"}},
		{"without id", cp("id", ""), []string{"id"}},
		{"without type", cp("type", ""), []string{"type"}},
		{"without station", hb("station", ""), []string{"station"}},
		{"without ts", hb("ts", ""), []string{"ts"}},
		{"empty object", `{}`, []string{"id", "type", "station", "ts"}},
		{"bad count is not also required", cp("count", `"x"`), []string{"count"}},

		{"lat without lon", hb("lon", ""), []string{"lat"}},
		{"lon without lat", hb("lat", ""), []string{"lat"}},
		{"count on a heartbeat", hb("count", `3`), []string{"count"}},
		{"kind on a heartbeat", hb("kind", `"standard"`), []string{"kind"}},
		{"retries on a heartbeat", hb("fingerprint_retries", `1`), []string{"fingerprint_retries"}},
		{"queue on a completion", cp("queue", `3`), []string{"queue"}},
		{"staff on a completion", cp("staff", `3`), []string{"staff"}},
		{"lanes on a completion", cp("lanes", `3`), []string{"lanes"}},
		{"status on a completion", cp("status", `"open"`), []string{"status"}},
		{"position on a completion", cp("lat", `21.9`, "lon", `106.3`), []string{"lat", "lon"}},

		{"number, not an object", `42`, []string{"event"}},
		{"array, not an object", `[` + cp() + `]`, []string{"event"}},
		{"string, not an object", `"event"`, []string{"event"}},
		{"null, not an object", `null`, []string{"event"}},
	}
	for _, tt := range tests {
		for _, ndjson := range []bool{false, true} {
			name := tt.name + map[bool]string{false: "/array", true: "/ndjson"}[ndjson]
			t.Run(name, func(t *testing.T) {
				// Two good events first: the problems must carry index 2.
				items := []string{contractCompletion, contractHeartbeat, tt.event}
				body := "[" + strings.Join(items, ",") + "]"
				if ndjson {
					body = strings.Join(items, "\n")
				}
				events, problems, err := ingest.Decode([]byte(body), ndjson)
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if got, want := len(events), 3; got != want {
					t.Fatalf("%d events, want %d", got, want)
				}
				var got []string
				for _, p := range problems {
					if p.Index != 2 {
						t.Errorf("problem %+v: index %d, want 2", p, p.Index)
					}
					if p.Reason == "" {
						t.Errorf("problem %+v has no reason", p)
					}
					got = append(got, p.Field)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("problem fields = %q, want %q\n%+v", got, tt.want, problems)
				}
			})
		}
	}
}

func TestDecodeValues(t *testing.T) {
	tests := []struct {
		name  string
		event string
		check func(e tiendo.Event) bool
	}{
		{"kind defaults to standard", `{"id":"a","type":"completion","station":"S","ts":"2021-03-20T21:16:40+07:00","count":1}`,
			func(e tiendo.Event) bool { return e.Kind == tiendo.RecordStandard }},
		{"kind given", `{"id":"a","type":"completion","station":"S","ts":"2021-03-20T21:16:40+07:00","count":1,"kind":"home_visit"}`,
			func(e tiendo.Event) bool { return e.Kind == tiendo.RecordHomeVisit }},
		{"heartbeat has no kind", `{"id":"a","type":"heartbeat","station":"S","ts":"2021-03-20T21:16:40+07:00","queue":0,"staff":0,"status":"closed"}`,
			func(e tiendo.Event) bool { return e.Kind == "" && e.Status == tiendo.StatusClosed && !e.HasPos }},
		{"position at 0,0 is a position", `{"id":"a","type":"heartbeat","station":"S","ts":"2021-03-20T21:16:40+07:00","queue":1,"staff":1,"status":"open","lat":0,"lon":0}`,
			func(e tiendo.Event) bool { return e.HasPos && e.Lat == 0 && e.Lon == 0 }},
		{"negative coordinates", `{"id":"a","type":"heartbeat","station":"S","ts":"2021-03-20T21:16:40+07:00","queue":1,"staff":1,"status":"open","lat":-33.5,"lon":-70.25}`,
			func(e tiendo.Event) bool { return e.HasPos && e.Lat == -33.5 && e.Lon == -70.25 }},
		{"ts keeps its instant", `{"id":"a","type":"completion","station":"S","ts":"2021-03-20T14:16:40Z","count":1}`,
			func(e tiendo.Event) bool {
				return e.TS.Equal(time.Date(2021, time.March, 20, 21, 16, 40, 0, decodeICT))
			}},
		// ClickHouse keeps whole seconds; the spool and the live counts
		// must see the instant it will hold.
		{"ts fraction dropped", `{"id":"a","type":"completion","station":"S","ts":"2021-03-20T14:16:40.999999999Z","count":1}`,
			func(e tiendo.Event) bool {
				return e.TS.Equal(time.Date(2021, time.March, 20, 14, 16, 40, 0, time.UTC)) && e.TS.Nanosecond() == 0
			}},
		{"ts fraction dropped under an offset", `{"id":"a","type":"completion","station":"S","ts":"2021-03-20T21:16:40.5-23:59","count":1}`,
			func(e tiendo.Event) bool {
				_, off := e.TS.Zone()
				return e.TS.Equal(time.Date(2021, time.March, 21, 21, 15, 40, 0, time.UTC)) && off == -(23*3600+59*60)
			}},
		{"ts at the largest offset", `{"id":"a","type":"completion","station":"S","ts":"2021-03-20T21:16:40+23:59","count":1}`,
			func(e tiendo.Event) bool {
				return e.TS.Equal(time.Date(2021, time.March, 19, 21, 17, 40, 0, time.UTC))
			}},
		{"escaped strings", `{"id":"a\"b","type":"completion","station":"S\u00e9","ts":"2021-03-20T21:16:40+07:00","count":1}`,
			func(e tiendo.Event) bool { return e.ID == `a"b` && e.Station == "Sé" }},
		{"large integers in range", `{"id":"a","type":"completion","station":"S","ts":"2021-03-20T21:16:40+07:00","count":2147483647,"fingerprint_retries":-2147483648}`,
			func(e tiendo.Event) bool { return e.Count == 2147483647 && e.FingerprintRetries == -2147483648 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, problems, err := ingest.Decode([]byte("["+tt.event+"]"), false)
			if err != nil || len(problems) > 0 {
				t.Fatalf("Decode: %v, %+v", err, problems)
			}
			if !tt.check(events[0]) {
				t.Errorf("decoded %+v", events[0])
			}
		})
	}
}

// Problems of several events each carry that event's position.
func TestDecodeProblemIndexes(t *testing.T) {
	items := []string{
		contractHeartbeat,
		eventWith("completion", "count", `2.5`),
		contractCompletion,
		eventWith("heartbeat", "ts", `"2021-03-20T21:15:03"`, "colour", `"red"`),
		contractCompletion,
		`{}`,
	}
	want := []tiendo.FieldError{
		{Index: 1, Field: "count"},
		{Index: 3, Field: "ts"}, {Index: 3, Field: "colour"},
		{Index: 5, Field: "id"}, {Index: 5, Field: "type"}, {Index: 5, Field: "station"}, {Index: 5, Field: "ts"},
	}
	for _, ndjson := range []bool{false, true} {
		body := "[" + strings.Join(items, ",") + "]"
		if ndjson {
			body = strings.Join(items, "\n")
		}
		_, problems, err := ingest.Decode([]byte(body), ndjson)
		if err != nil {
			t.Fatal(err)
		}
		var got []tiendo.FieldError
		for _, p := range problems {
			got = append(got, tiendo.FieldError{Index: p.Index, Field: p.Field})
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ndjson=%v: problems = %+v, want %+v", ndjson, got, want)
		}
	}
}

func TestDecodeDuplicateKeyReason(t *testing.T) {
	body := "[" + contractCompletion[:len(contractCompletion)-1] + `,"Station":"LS-BS-OTHER"}]`
	events, problems, err := ingest.Decode([]byte(body), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 {
		t.Fatalf("problems = %+v, want one", problems)
	}
	if r := problems[0].Reason; !strings.Contains(r, `"station"`) || !strings.Contains(r, `"Station"`) {
		t.Errorf("reason %q does not name both spellings", r)
	}
	if got, want := events[0].Station, "LS-BS-VULE"; got != want {
		t.Errorf("Station = %q, want the first value %q", got, want)
	}
}

// Two objects on one NDJSON line must not lose the second one silently.
func TestDecodeNDJSONTrailingData(t *testing.T) {
	tests := []string{
		contractCompletion + contractHeartbeat,
		contractCompletion + " " + contractHeartbeat,
		contractCompletion + ",",
		contractCompletion + " x",
		contractCompletion + "]",
		`{"id":"a"`,
	}
	for _, line := range tests {
		body := contractHeartbeat + "\n" + line + "\n"
		events, problems, err := ingest.Decode([]byte(body), true)
		if err != nil {
			t.Errorf("Decode(%q): %v", line, err)
			continue
		}
		if len(events) != 2 {
			t.Errorf("Decode(%q): %d events, want 2", line, len(events))
		}
		found := false
		for _, p := range problems {
			if p.Index == 1 && p.Field == "event" {
				found = true
			}
			if p.Index != 1 {
				t.Errorf("Decode(%q): problem %+v at the wrong event", line, p)
			}
		}
		if !found {
			t.Errorf("Decode(%q): problems = %+v, want one for field event at index 1", line, problems)
		}
	}
}

// The handler keeps decoded events after Fiber reuses the request's memory,
// so no string of an event may be a view of the body.
func TestDecodeOwnsItsStrings(t *testing.T) {
	for _, ndjson := range []bool{false, true} {
		body := repeatEvents(3, ndjson)
		events, problems, err := ingest.Decode(body, ndjson)
		if err != nil || len(problems) > 0 {
			t.Fatalf("decode: %v %v", err, problems)
		}
		want := make([]tiendo.Event, len(events))
		for i, e := range events {
			want[i] = e
			want[i].ID, want[i].Station = strings.Clone(e.ID), strings.Clone(e.Station)
		}
		for i := range body {
			body[i] = 'X'
		}
		sameEvents(t, events, want)
	}
}

// M6: an offset outside -23:59..+23:59 is refused with a reason naming
// the offset, not accepted (the spool cannot hold it: the event was set
// aside as corrupt after its 202); the limits themselves are accepted.
func TestDecodeOffsetRange(t *testing.T) {
	for _, tt := range []struct {
		offset string
		reason string // "" when accepted
	}{
		{"+23:59", ""}, {"-23:59", ""}, {"+00:00", ""}, {"-00:00", ""}, {"+14:00", ""}, {"-12:00", ""}, {"+05:45", ""},
		{"+24:00", "offset"}, {"-24:00", "offset"}, {"+23:60", "offset"}, {"-23:60", "offset"}, {"+00:60", "offset"},
		{"+99:99", "offset"}, {"-25:00", "offset"},
	} {
		body := `[{"id":"a","type":"completion","station":"S","ts":"2021-03-20T21:16:40` + tt.offset + `","count":1}]`
		events, problems, err := ingest.Decode([]byte(body), false)
		if err != nil {
			t.Fatalf("%s: %v", tt.offset, err)
		}
		if tt.reason == "" {
			if len(problems) > 0 {
				t.Errorf("%s refused: %+v", tt.offset, problems)
			} else if _, off := events[0].TS.Zone(); off <= -24*3600 || off >= 24*3600 {
				t.Errorf("%s: zone offset %d s", tt.offset, off)
			}
			continue
		}
		if len(problems) != 1 || problems[0].Field != "ts" || !strings.Contains(problems[0].Reason, tt.reason) {
			t.Errorf("%s: problems %+v, want one for ts naming the %s", tt.offset, problems, tt.reason)
		}
	}
}

// Coordinates are kept as ClickHouse keeps them: -0 and subnormal numbers
// are 0 (the round-trip property found -0 and 5e-324 changed in storage);
// the smallest normal number and everything larger are kept exactly.
func TestDecodeCoordinatesAsStored(t *testing.T) {
	for _, tt := range []struct {
		lat  string
		want float64
	}{
		{"-0", 0}, {"-0.0", 0}, {"0e5", 0}, {"5e-324", 0}, {"-4.9e-324", 0}, {"2.225073858507201e-308", 0},
		{"2.2250738585072014e-308", 2.2250738585072014e-308}, {"-1e-300", -1e-300}, {"21.853", 21.853}, {"-90", -90},
	} {
		body := `[{"id":"a","type":"heartbeat","station":"S","ts":"2021-03-20T21:16:40+07:00","queue":1,"staff":1,"status":"open","lat":` + tt.lat + `,"lon":1}]`
		events, problems, err := ingest.Decode([]byte(body), false)
		if err != nil || len(problems) > 0 {
			t.Fatalf("lat %s: %v %+v", tt.lat, err, problems)
		}
		if got := events[0].Lat; math.Float64bits(got) != math.Float64bits(tt.want) {
			t.Errorf("lat %s decoded as %v (bits %x), want %v", tt.lat, got, math.Float64bits(got), tt.want)
		}
	}
}
