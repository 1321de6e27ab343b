package ingest_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"tiendo"
	"tiendo/ingest"
)

// Differential tests: Decode (the hand-written scanner) must do exactly
// what refDecode (the encoding/json decoder it replaced, decode_ref_test.go)
// does: the same events, the same problems with the same index, field and
// reason, the same body errors. The one freedom is the wording after "not
// valid JSON" (encoding/json's scanner messages), which must still name the
// same event.

// sameDecode fails t when Decode and refDecode disagree on body.
func sameDecode(t testing.TB, body []byte, ndjson bool) {
	t.Helper()
	wantEvents, wantProblems, wantErr := refDecode(body, ndjson)
	events, batch, err := ingest.DecodeBatch(body, ndjson)
	problems := batch.Items
	show := string(body)
	if len(show) > 300 {
		show = show[:300] + "…"
	}
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("Decode(%q, ndjson=%v): "+format, append([]any{show, ndjson}, args...)...)
	}
	if (err == nil) != (wantErr == nil) {
		fail("error %v, reference %v", err, wantErr)
	}
	if wantErr != nil {
		var got, want *tiendo.Error
		if !errors.As(err, &got) || !errors.As(wantErr, &want) {
			fail("errors %v and %v are not both *tiendo.Error", err, wantErr)
		}
		if got.Code != want.Code || got.Message != want.Message || len(got.Fields) != len(want.Fields) {
			fail("error %v, reference %v", err, wantErr)
		}
		for i := range want.Fields {
			if !sameProblem(got.Fields[i], want.Fields[i]) {
				fail("error %+v, reference %+v", got.Fields[i], want.Fields[i])
			}
		}
		if events != nil || problems != nil {
			fail("events %+v and problems %+v with an error", events, problems)
		}
		return
	}
	if len(events) != len(wantEvents) {
		fail("%d events, reference %d", len(events), len(wantEvents))
	}
	for i := range events {
		if diff := eventDiff(events[i], wantEvents[i]); diff != "" {
			fail("event %d: %s\n got %+v\nwant %+v", i, diff, events[i], wantEvents[i])
		}
	}
	// The reference lists every problem; Decode keeps the first
	// MaxProblems and counts the rest.
	if batch.Total != len(wantProblems) {
		fail("%d problems in all, reference %d", batch.Total, len(wantProblems))
	}
	if len(wantProblems) > ingest.MaxProblems {
		wantProblems = wantProblems[:ingest.MaxProblems]
	}
	if (problems == nil) != (wantProblems == nil) || len(problems) != len(wantProblems) {
		fail("problems\n%+v\nreference\n%+v", problems, wantProblems)
	}
	for i := range problems {
		if !sameProblem(problems[i], wantProblems[i]) {
			fail("problem %d: %+v, reference %+v\nall: %+v", i, problems[i], wantProblems[i], problems)
		}
	}
}

// invalidJSON matches the part of a "not valid JSON" reason that must
// agree: which event, or that the array is unterminated.
var invalidJSON = regexp.MustCompile(`^not valid JSON( at event \d+:|: unterminated array:)?`)

func sameProblem(got, want tiendo.FieldError) bool {
	if got.Index != want.Index || got.Field != want.Field {
		return false
	}
	if got.Reason == want.Reason {
		return true
	}
	w := invalidJSON.FindString(want.Reason)
	return w != "" && invalidJSON.FindString(got.Reason) == w
}

// eventDiff compares every field, the time by instant and zone and the
// coordinates bit for bit (so a -0 left as -0 would not be 0).
func eventDiff(got, want tiendo.Event) string {
	if !got.TS.Equal(want.TS) {
		return "TS " + got.TS.String() + " ≠ " + want.TS.String()
	}
	gn, go_ := got.TS.Zone()
	wn, wo := want.TS.Zone()
	if gn != wn || go_ != wo || got.TS.Location().String() != want.TS.Location().String() {
		return "TS zone " + got.TS.Location().String() + " " + gn + " ≠ " + want.TS.Location().String() + " " + wn
	}
	if math.Float64bits(got.Lat) != math.Float64bits(want.Lat) || math.Float64bits(got.Lon) != math.Float64bits(want.Lon) {
		return "coordinates differ in their bits"
	}
	got.TS, want.TS = time.Time{}, time.Time{}
	if got != want {
		return "fields differ"
	}
	return ""
}

// diffSeeds add to FuzzDecode's seeds the corners where a hand-written
// scanner could part from encoding/json.
func diffSeeds() []decodeSeed {
	hb, cp := contractHeartbeat, contractCompletion
	cpWith := func(extra string) string { return strings.TrimSuffix(cp, "}") + "," + extra + "}" }
	var seeds []decodeSeed
	add := func(body string, ndjson bool) { seeds = append(seeds, decodeSeed{body, ndjson}) }
	both := func(event string) {
		add("["+hb+","+event+"]", false)
		add(hb+"\n"+event+"\n", true)
	}
	for _, s := range decodeSeeds {
		add(s.body, s.ndjson)
	}
	// Keys: escapes, case variants, Unicode case folding, unknown repeats.
	for _, extra := range []string{
		`"\u212aind":"x"`, `"\u212Aind":"x"`, `"\u0130d":"x"`, `"İD":"x"`, `"ſtation":"x"`, `"STATION":"x"`,
		`"colour":1,"colour":2`, `"Colour":1,"colour":2`, `"Count":1,"COUNT":2`, `"":1`, `"":1,"":2`,
		`"stat\u0069on":"X"`, `"k\u0069nd":"student"`, `"kind":"student","kind":"home_visit"`,
		`"\ud800":1`, `"\udc00\ud800":1`, "\"\xff\":1", "\"\xff\":1,\"\xfe\":2", `"\u00e9":1,"\u00c9":2`,
	} {
		both(cpWith(extra))
		both(`{` + extra + `}`)
	}
	// Strings.
	for _, s := range []string{
		`"\ud83d\ude00"`, `"\ud83d"`, `"\ude00"`, `"\ud83d\u0041"`, `"\ud83d\ud83d\ude00"`, `"\ud83dx"`,
		`"\"\\\/\b\f\n\r\t"`, `"\u0000"`, `"\u00E9\u00e9"`, "\"\xc3\xa9\"", "\"\xc3\"", "\"\xed\xa0\x80\"",
		"\"\xef\xbf\xbd\"", "\"a\xffb\"", "\"\xf4\x90\x80\x80\"", `"\x"`, `"\u12"`, `"\u12g4"`, "\"\t\"", "\"\x7f\"",
		`"LS-BS-VULE"`, `"open"`, `"standard"`, `""`,
	} {
		for _, k := range []string{"id", "station", "type", "status", "kind", "ts"} {
			both(cpWith(`"` + k + `":` + s))
		}
	}
	// Numbers.
	for _, n := range []string{
		"0", "-0", "1", "-1", "01", "-01", "00", "1.", "1.0", ".5", "-", "--1", "+1", "1e", "1e+", "1E5", "1e-5", "0e0",
		"2147483647", "2147483648", "-2147483648", "-2147483649", "99999999999", "12345678901234567890",
		"21.853", "-33.5", "106.761", "0.1", "0.30000000000000004", "123456789012345678", "1.7976931348623157e308",
		"1e400", "-1e400", "1e-400", "4.9e-324", "9007199254740993", "1e22", "1e23", "123456789012345e-22", "1e-22",
		"0.000000000000000000000000001", "1x", "1 2", "truex", "tru", "nul", "nulls", "true", "false", "null", "[]", "{}",
		`[1,]`, `{"a":}`, `{"a" 1}`, `{1:2}`,
	} {
		for _, k := range []string{"count", "lat", "lon", "fingerprint_retries"} {
			both(cpWith(`"` + k + `":` + n))
		}
		add(n, false)
		add("["+n+"]", false)
		add(n, true)
	}
	// Times.
	for _, ts := range []string{
		"2021-03-20T21:15:03+07:00", "2021-03-20T14:15:03Z", "2021-03-20T14:15:03.5Z", "2021-03-20T14:15:03.123456789Z",
		"2021-03-20T14:15:03.1234567891Z", "2021-03-20T14:15:03.Z", "2021-03-20T14:15:03,5Z", "2021-03-20T21:15:03+05:30",
		"2021-03-20T21:15:03-00:00", "2021-03-20T21:15:03+24:00", "2021-03-20T21:15:03+23:59", "2021-03-20T21:15:03+07:60",
		"2021-02-29T00:00:00Z", "2020-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2000-02-29T00:00:00Z", "2021-04-31T00:00:00Z",
		"0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2021-03-20T24:00:00Z", "2021-03-20T23:60:00Z", "2021-03-20T23:59:60Z",
		"2021-03-20t21:15:03z", "2021-03-20T21:15:03z", "2021-3-20T21:15:03Z", "2021-03-20T1:15:03Z", "2021-03-20T21:15:03+0700",
		"2021-03-20T21:15:03+07", "2021-03-20T21:15:03 +07:00", "2021-03-20T21:15:03ZZ", "+2021-03-20T21:15:03Z",
		"2021-03-20T21:15:03.000+07:00", "2021-03-20T21:15:03.1+07:00", `2021-03-20T21:15:03\u002B07:00`, "２021-03-20T21:15:03Z",
		"2021-03-20T21:15:03+07:00\x00", "2021-03-20", "", "yesterday",
		// Offsets at and past RFC 3339's ranges (M6), with and without a fraction.
		"2021-03-20T21:15:03-24:00", "2021-03-20T21:15:03+23:60", "2021-03-20T21:15:03-23:59", "2021-03-20T21:15:03+00:60",
		"2021-03-20T21:15:03+99:99", "2021-03-20T21:15:03-00:59", "2021-03-20T21:15:03+24:00", "2021-03-20T21:15:03.5+24:00",
		"2021-03-20T21:15:03.1234567891+24:00", "2021-03-20T21:15:03.1234567891+07:00", "2021-03-20T21:15:03.1234567891",
		"2021-03-20T21:15:03+2a:00", "2021-03-20T21:15:03+07:0a", "2021-02-30T21:15:03+24:00", "2021-03-20T21:15:03.999999999-23:59",
		"2021-03-20T14:15:03.000000000000000000001Z", "2021-03-20T21:15:03,5+07:00", "2021-03-20T21:15:03.+07:00",
	} {
		both(cpWith(`"ts":"` + ts + `"`))
		both(`{"ts":"` + ts + `"}`)
	}
	// Structure of objects, lines and arrays.
	for _, ev := range []string{
		`{`, `{]`, `{"id":"a"]`, `{"id":"a",}`, `{"id":"a",]`, `{"id":"a"`, `{"id":"a",`, `{"id"`, `{"id":`, `{"id" :`,
		`{"id"x`, `{"id":"a" "type":"x"}`, `{"id":"a"}}`, `{"id":"a"} {}`, `{"id":"a"},`, `{,}`, `{"a":1,,"b":2}`,
		`{"queue":007}`, `{"queue":1.}`, `{"queue":-}`, `{"lat":1,"lat":2,"lon":3}`, `{"type":"heartbeat","lat":1}`,
		`{"type":"heartbeat","lon":"x"}`, `{"type":"completion","kind":null}`, `{"type":"heartbeat","kind":1,"count":"x"}`,
		"{\"id\":\"a\"}\v", "\v{\"id\":\"a\"}", "{\"id\":\"a\"\v}", "\u00a0{\"id\":\"a\"}\u3000", "\ufeff{}",
		`{"a":{"b":[1,{"c":null}],"d":"}"},"id":"x"}`, `{"a":[}`, `{"a":{]}`, `{"a":{"b"}}`, `{"a":{"b":1,}}`,
		`{"id":"a","type":"heartbeat","station":"S","ts":"2021-03-20T21:15:03+07:00","queue":1,"staff":1,"status":"open","lanes":2.5}`,
		`[]`, `[{}]`, `"x"`, `42`, `null`, `true`, `}`, `]`, `,`, `:`, `x`,
	} {
		both(ev)
		add(ev, false)
	}
	for _, body := range []string{
		"", " ", "\t\r\n ", "[", "[ ", "[,", "[,]", "[1,]", "[1 2]", "[1,,2]", "[}", "[1}", "[{}}", "[{}]]", "[{}] ", "[{}] x",
		"[{}][]", "[{}]\x00", "[01]", "[-]", "[1.]", "[tru]", "[truex]", "[\"\\x\"]", "[\"a\nb\"]", "{", "{}", "{\"a\":1}x",
		"42x", "-", "nul", "\"abc", "\"abc\"", "\ufeff[]", "\v[]", "[\v]", "x", "[{\"id\":\"a\"},]", "[{\"id\":\"a\"} {}]",
	} {
		add(body, false)
		add(body, true)
	}
	// Nesting at encoding/json's limit of 10000 levels, from the element
	// (array) or from the value (NDJSON).
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	for _, n := range []int{9998, 9999, 10000, 10001} {
		add("["+nest(n)+"]", false)
		add(`[{"a":`+nest(n)+`}]`, false)
		add(`{"a":`+nest(n)+`}`, true)
		add(nest(n), false)
	}
	// More problems than MaxProblems: the cap falls inside an event, and
	// past it repeats, case variants ("Station", "\u212aind" then "kind"),
	// bad values and missing fields must still be counted exactly.
	var lots []string
	for i := range 70 {
		lots = append(lots, fmt.Sprintf(`"u%d":1`, i%50))
	}
	lots = append(lots, `"Station":"X"`, `"station":"Y"`, `"\u212aind":"x"`, `"kind":"student"`, `"count":"x"`, `"count":2`,
		`"STATION":1`, `"ts":"2021-03-20T21:15:03+24:00"`, `"queue":1`, `"id":7`)
	crowded := "{" + strings.Join(lots, ",") + `,"type":"completion"}`
	add("["+crowded+","+crowded+","+crowded+`,{},{"type":"heartbeat"}]`, false)
	add(crowded+"\n"+crowded+"\n{}\n"+crowded+"\n{\"type\":\"heartbeat\",\"lat\":1}\n", true)
	add("["+strings.TrimSuffix(strings.Repeat("{},", 130), ",")+"]", false)
	add(strings.Repeat("{\"a\":1,\"a\":2,\"A\":3}\n", 60), true)
	// Many events: interning, the size limit, a station change midway.
	var many strings.Builder
	for i := range 30 {
		st := "LS-BS-VULE"
		if i%7 == 3 {
			st = "LS-TP-CHILANG"
		}
		many.WriteString(strings.ReplaceAll(cp, "LS-BS-VULE", st) + "\n")
	}
	add(many.String(), true)
	add("["+strings.ReplaceAll(strings.TrimSpace(many.String()), "\n", ",")+"]", false)
	return seeds
}

type decodeSeed struct {
	body   string
	ndjson bool
}

// fuzzCorpus reads the failing inputs fuzzing has saved in testdata (the
// build cache's corpus is left out: a test must not depend on the machine).
func fuzzCorpus(t testing.TB) []decodeSeed {
	var dirs []string
	for _, name := range []string{"FuzzDecode", "FuzzDecodeDifferential"} {
		dirs = append(dirs, filepath.Join("testdata", "fuzz", name))
	}
	var seeds []decodeSeed
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, file := range files {
			if s, ok := readCorpusFile(file); ok {
				seeds = append(seeds, s)
			} else {
				t.Logf("skipping %s: not a ([]byte, bool) corpus file", file)
			}
		}
	}
	return seeds
}

// readCorpusFile reads a "go test fuzz v1" file of a []byte and a bool.
func readCorpusFile(file string) (decodeSeed, bool) {
	f, err := os.Open(file)
	if err != nil {
		return decodeSeed{}, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) != 3 || lines[0] != "go test fuzz v1" ||
		!strings.HasPrefix(lines[1], "[]byte(") || !strings.HasSuffix(lines[1], ")") {
		return decodeSeed{}, false
	}
	body, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
	if err != nil {
		return decodeSeed{}, false
	}
	switch lines[2] {
	case "bool(true)":
		return decodeSeed{body, true}, true
	case "bool(false)":
		return decodeSeed{body, false}, true
	}
	return decodeSeed{}, false
}

// mutationTokens are spliced into inputs: JSON's delimiters, escapes,
// numbers, case variants of keys, odd bytes.
var mutationTokens = []string{
	`"`, `\`, `\u`, `\ud800`, `\udc00`, `\u0069`, `{`, `}`, `[`, `]`, `,`, `:`, " ", "\n", "\r\n", "\v", "\t",
	`1e3`, `-0`, `01`, `1.0`, `.5`, `-`, `null`, `true`, `"id"`, `"Station"`, `"\u212aind"`, `"colour":1`,
	"\xff", "\xc3\xa9", "\xe2\x80\xa8", "\u00a0", `Z`, `+07:00`, `.123456789`, `2021-03-20T21:15:03`, `"x"`,
	`"count":2147483648`, `"lat":1e400`, `""`,
}

// mutate changes body a little, at random.
func mutate(r *rand.Rand, body []byte) []byte {
	b := append([]byte(nil), body...)
	for range 1 + r.IntN(3) {
		pos := 0
		if len(b) > 0 {
			pos = r.IntN(len(b) + 1)
		}
		switch r.IntN(6) {
		case 0: // flip a byte
			if pos < len(b) {
				b[pos] = byte(r.IntN(256))
			}
		case 1: // delete a run
			if pos < len(b) {
				b = append(b[:pos], b[min(len(b), pos+1+r.IntN(8)):]...)
			}
		case 2, 3: // insert a token
			tok := mutationTokens[r.IntN(len(mutationTokens))]
			b = append(b[:pos], append([]byte(tok), b[pos:]...)...)
		case 4: // duplicate a run
			end := min(len(b), pos+1+r.IntN(40))
			b = append(b[:end], append(bytes.Clone(b[pos:end]), b[end:]...)...)
		case 5: // cut short
			b = b[:pos]
		}
	}
	return b
}

// TestDecodeDifferential compares Decode with the reference on the seeds,
// the kept fuzz corpus and random mutations of them, under the local time
// zone and under zones with +07:00, where time.Parse gives times the Local
// location.
func TestDecodeDifferential(t *testing.T) {
	seeds := append(diffSeeds(), fuzzCorpus(t)...)
	t.Logf("%d seeds", len(seeds))
	mutations := 30_000
	if testing.Short() {
		mutations = 3_000
	}
	zones := []*time.Location{time.Local, time.FixedZone("ICT", 7*3600)}
	if hcm, err := time.LoadLocation("Asia/Ho_Chi_Minh"); err == nil {
		zones = append(zones, hcm)
	}
	defer func(local *time.Location) { time.Local = local }(time.Local)
	for _, zone := range zones {
		time.Local = zone
		for _, s := range seeds {
			sameDecode(t, []byte(s.body), s.ndjson)
			sameDecode(t, []byte(s.body), !s.ndjson)
		}
	}
	time.Local = zones[0]
	r := rand.New(rand.NewPCG(2021, 621000))
	for range mutations {
		s := seeds[r.IntN(len(seeds))]
		sameDecode(t, mutate(r, []byte(s.body)), r.IntN(2) == 0)
	}
}

// FuzzDecodeDifferential is TestDecodeDifferential under the fuzzer.
func FuzzDecodeDifferential(f *testing.F) {
	for _, s := range diffSeeds() {
		if len(s.body) < 4096 { // the fuzzer mutates short inputs better
			f.Add([]byte(s.body), s.ndjson)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, ndjson bool) {
		sameDecode(t, body, ndjson)
	})
}

// TestDecodeAllocs holds the decoder to its allocation budget: about one
// allocation per event (its id), the events slice, the shared station.
func TestDecodeAllocs(t *testing.T) {
	evs := benchEvents("LS-TP-CHILANG", 50, 0)
	for _, ndjson := range []bool{false, true} {
		body := benchBody(evs, ndjson)
		allocs := testing.AllocsPerRun(20, func() {
			if _, problems, err := ingest.Decode(body, ndjson); err != nil || len(problems) > 0 {
				t.Fatalf("Decode: %v %+v", err, problems)
			}
		})
		if perEvent := allocs / 50; perEvent > 1.1 {
			t.Errorf("ndjson=%v: %.0f allocations for 50 events (%.2f an event), want at most 1.1 an event", ndjson, allocs, perEvent)
		}
	}
}

// BenchmarkDecodeReference is BenchmarkDecode on the reference decoder, to
// compare the two on the same machine at the same moment.
func BenchmarkDecodeReference(b *testing.B) { benchmarkDecoder(b, refDecode) }
