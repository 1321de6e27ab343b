package ingest_test

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"tiendo"
	"tiendo/ingest"
)

// decodeSeeds are the seed inputs of FuzzDecode, shared with the
// differential tests of decode_diff_test.go.
var decodeSeeds = []struct {
	body   string
	ndjson bool
}{
	{"[" + contractHeartbeat + "," + contractCompletion + "]", false},
	{contractHeartbeat + "\n" + contractCompletion + "\n", true},
	{"[" + contractHeartbeat + "]", false},
	{contractCompletion, true},
	{`[{"id":"a","type":"completion","station":"S","ts":"2021-03-20T21:16:40+07:00","count":1}]`, false},
	{`[{"id":"a","type":"heartbeat","station":"S","ts":"2021-03-20T14:16:40Z","queue":0,"staff":0,"status":"closed","lat":0,"lon":0}]`, false},
	{`[{"id":"a","Station":"S","station":"T","count":2.5,"ts":"2021-03-20T21:16:40"}]`, false},
	{`[{"id":"a","id":"b","lat":1}]`, false},
	{`{"a":1}{"b":2}` + "\n" + `[1,2]`, true},
	{`[{}, 42, "x", null, [], {"kind":"student"}]`, false},
	{`[`, false},
	{`[]`, false},
	{``, true},
	{`{"ts":"2021-03-20T21:16:40.999999999-00:00","count":-0,"queue":2147483648}`, true},
	{`{"\u0069d":"\ud800","type":"completion","count":1e0}`, true},
}

// FuzzDecode checks that Decode never panics, that its result is well
// formed, that an event decoded without problems survives being written
// back out and decoded again unchanged, and that decoding plus validation
// never lets a malformed value through unreported.
func FuzzDecode(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s.body), s.ndjson)
	}
	f.Fuzz(func(t *testing.T, body []byte, ndjson bool) {
		events, problems, err := ingest.Decode(body, ndjson)
		if err != nil {
			if code := tiendo.ErrorCode(err); code != tiendo.EInvalid && code != tiendo.ETooLarge {
				t.Fatalf("error code %q (%v), want %q or %q", code, err, tiendo.EInvalid, tiendo.ETooLarge)
			}
			if events != nil || problems != nil {
				t.Fatalf("events %+v and problems %+v returned with error %v", events, problems, err)
			}
			return
		}
		if len(events) == 0 || len(events) > ingest.MaxBatchEvents {
			t.Fatalf("%d events without an error", len(events))
		}
		bad := map[int]map[string]bool{}
		broken := map[int]bool{} // events that are not valid JSON objects
		for _, p := range problems {
			if p.Index < 0 || p.Index >= len(events) {
				t.Fatalf("problem %+v: index out of range [0, %d)", p, len(events))
			}
			// Field names the key at fault, which is "" only for a key spelt "".
			if p.Reason == "" || (p.Field == "" && !bytes.Contains(body, []byte(`""`))) {
				t.Fatalf("problem %+v lacks a field or reason", p)
			}
			if bad[p.Index] == nil {
				bad[p.Index] = map[string]bool{}
			}
			bad[p.Index][p.Field] = true
			if p.Field == "event" || strings.HasPrefix(p.Reason, "not valid JSON") {
				broken[p.Index] = true
			}
		}
		for i := range events {
			e := events[i]
			// Decode and Validate together, as the handler does.
			all := map[string]bool{}
			for f := range bad[i] {
				all[f] = true
			}
			for _, p := range e.Validate(i, tiendo.EventRules{}) {
				if p.Index != i {
					t.Fatalf("Validate(%d) gave index %d", i, p.Index)
				}
				all[p.Field] = true
			}
			if !broken[i] {
				checkReported(t, i, e, all)
			}

			if len(bad[i]) > 0 {
				continue
			}
			// Decoded cleanly: write it back out and decode it again.
			line := encodeEvent(e)
			again, prob, err := ingest.Decode([]byte(line), true)
			if err != nil || len(prob) > 0 {
				t.Fatalf("event %d %+v re-encoded as %s: %v, %+v", i, e, line, err, prob)
			}
			if len(again) != 1 || !sameEvent(again[0], e) {
				t.Fatalf("event %d changed in a round trip through %s:\n%+v\n%+v", i, line, e, again[0])
			}
			if arr, prob, err := ingest.Decode([]byte("["+line+"]"), false); err != nil || len(prob) > 0 || !sameEvent(arr[0], e) {
				t.Fatalf("event %d as an array %s: %v, %+v", i, line, err, prob)
			}
		}
	})
}

// checkReported asserts that a field of which nothing was reported holds
// an acceptable value.
func checkReported(t *testing.T, i int, e tiendo.Event, reported map[string]bool) {
	t.Helper()
	ok := func(field string, valid bool) {
		if !reported[field] && !valid {
			t.Fatalf("event %d: bad %s not reported: %+v", i, field, e)
		}
	}
	ok("id", tiendo.ValidEventID(e.ID) && e.ID != "")
	ok("station", tiendo.ValidStationID(e.Station))
	ok("ts", !e.TS.IsZero())
	ok("type", e.Type == tiendo.TypeHeartbeat || e.Type == tiendo.TypeCompletion)
	switch e.Type {
	case tiendo.TypeHeartbeat:
		ok("status", e.Status == tiendo.StatusOpen || e.Status == tiendo.StatusPaused || e.Status == tiendo.StatusClosed)
		ok("queue", e.Queue >= 0 && e.Queue <= tiendo.MaxQueue)
		ok("staff", e.Staff >= 0 && e.Staff <= tiendo.MaxStaff)
		ok("lanes", e.Lanes >= 0 && e.Lanes <= tiendo.MaxLanes)
		ok("count", e.Count == 0)
		ok("kind", e.Kind == "")
		if e.HasPos {
			ok("lat", e.Lat >= -90 && e.Lat <= 90)
			ok("lon", e.Lon >= -180 && e.Lon <= 180)
		} else {
			ok("lat", e.Lat == 0 && e.Lon == 0)
		}
	case tiendo.TypeCompletion:
		ok("count", e.Count >= 1 && e.Count <= tiendo.MaxCount)
		ok("fingerprint_retries", e.FingerprintRetries >= 0 && e.FingerprintRetries <= tiendo.MaxRetries)
		ok("kind", e.Kind == tiendo.RecordStandard || e.Kind == tiendo.RecordStudent || e.Kind == tiendo.RecordHomeVisit)
		ok("queue", e.Queue == 0)
		ok("status", e.Status == "")
		ok("lat", !e.HasPos && e.Lat == 0)
		ok("lon", e.Lon == 0)
	}
}

// encodeEvent writes e in the contract's form: the fields its type needs,
// and any other field that is set.
func encodeEvent(e tiendo.Event) string {
	var parts []string
	str := func(k, v string) {
		b, _ := json.Marshal(v)
		parts = append(parts, strconv.Quote(k)+":"+string(b))
	}
	num := func(k string, v int, always bool) {
		if always || v != 0 {
			parts = append(parts, strconv.Quote(k)+":"+strconv.Itoa(v))
		}
	}
	float := func(k string, v float64) {
		parts = append(parts, strconv.Quote(k)+":"+strconv.FormatFloat(v, 'g', -1, 64))
	}
	str("id", e.ID)
	str("type", string(e.Type))
	str("station", e.Station)
	str("ts", e.TS.Format(time.RFC3339Nano))
	hb, cp := e.Type == tiendo.TypeHeartbeat, e.Type == tiendo.TypeCompletion
	num("queue", e.Queue, hb)
	num("staff", e.Staff, hb)
	num("lanes", e.Lanes, false)
	if hb || e.Status != "" {
		str("status", string(e.Status))
	}
	if e.HasPos || e.Lat != 0 || e.Lon != 0 {
		float("lat", e.Lat)
		float("lon", e.Lon)
	}
	num("count", e.Count, cp)
	num("fingerprint_retries", e.FingerprintRetries, false)
	if cp || e.Kind != "" {
		str("kind", string(e.Kind))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func sameEvent(a, b tiendo.Event) bool {
	if !a.TS.Equal(b.TS) {
		return false
	}
	a.TS, b.TS = time.Time{}, time.Time{}
	return a == b
}
