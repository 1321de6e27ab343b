package ingest_test

// The encoding/json based decoder of ingest.Decode as it was before the
// hand-written scanner replaced it, unchanged but for names. It is the
// reference of what Decode accepts, returns and reports: do not "fix" it.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"tiendo"
	"tiendo/ingest"
)

// refDecode is the decoder Decode replaced, kept as the reference that
// decode_diff_test.go compares Decode with. Its doc comment was:
//
// Decode reads a batch of events from a JSON array (isNDJSON false) or from
// NDJSON, one object per line. It is strict where encoding/json is lenient:
// keys are case-sensitive, a key given twice (also in another case, as
// "station" and "Station") is an error, unknown keys are errors, integers
// must be integers, and times must carry an offset. All problems of all
// events are returned, each naming the event's index and the field.
func refDecode(body []byte, isNDJSON bool) ([]tiendo.Event, []tiendo.FieldError, error) {
	var raws [][]byte
	if isNDJSON {
		for _, line := range bytes.Split(body, []byte("\n")) {
			if line = bytes.TrimSpace(line); len(line) > 0 {
				raws = append(raws, line)
			}
		}
	} else {
		dec := json.NewDecoder(bytes.NewReader(body))
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, refBodyError("not valid JSON: %v", err)
		}
		if d, ok := tok.(json.Delim); !ok || d != '[' {
			return nil, nil, refBodyError("want a JSON array of events (or NDJSON with Content-Type: application/x-ndjson)")
		}
		for dec.More() {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, nil, refBodyError("not valid JSON at event %d: %v", len(raws), err)
			}
			raws = append(raws, raw)
			if len(raws) > ingest.MaxBatchEvents {
				break
			}
		}
		if len(raws) <= ingest.MaxBatchEvents {
			if _, err := dec.Token(); err != nil {
				return nil, nil, refBodyError("not valid JSON: unterminated array: %v", err)
			}
			if _, err := dec.Token(); err != io.EOF {
				return nil, nil, refBodyError("unexpected data after the array")
			}
		}
	}
	if len(raws) == 0 {
		return nil, nil, refBodyError("no events in the batch")
	}
	if len(raws) > ingest.MaxBatchEvents {
		return nil, nil, &tiendo.Error{Code: tiendo.ETooLarge, Message: fmt.Sprintf("a batch holds at most %d events", ingest.MaxBatchEvents)}
	}
	events := make([]tiendo.Event, len(raws))
	var problems []tiendo.FieldError
	for i, raw := range raws {
		problems = append(problems, refDecodeEvent(raw, i, &events[i])...)
	}
	return events, problems, nil
}

func refBodyError(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &tiendo.Error{Code: tiendo.EInvalid, Message: "bad request body",
		Fields: []tiendo.FieldError{{Index: -1, Field: "body", Reason: msg}}}
}

// decodeEvent fills e from one JSON object and returns its shape errors
// (presence and types). Value rules are tiendo.Event.Validate's.
func refDecodeEvent(raw []byte, index int, e *tiendo.Event) []tiendo.FieldError {
	var errs []tiendo.FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, tiendo.FieldError{Index: index, Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		add("event", "want a JSON object")
		return errs
	}
	seen := map[string]string{}
	present := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			add("event", "not valid JSON: %v", err)
			return errs
		}
		key := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			add(key, "not valid JSON: %v", err)
			return errs
		}
		lower := strings.ToLower(key)
		if prev, dup := seen[lower]; dup {
			if prev == key {
				add(key, "given twice")
			} else {
				add(key, "given twice, as %q and %q (keys are case-sensitive)", prev, key)
			}
			continue
		}
		seen[lower] = key
		present[key] = true
		if err := refSetField(e, key, val); err != nil {
			add(key, "%v", err)
		}
	}
	if _, err := dec.Token(); err != nil {
		add("event", "not valid JSON: %v", err)
	} else if _, err := dec.Token(); err != io.EOF {
		// On an NDJSON line a second object would otherwise be dropped silently.
		add("event", "unexpected data after the object (one event per line)")
	}
	required := []string{"id", "type", "station", "ts"}
	switch e.Type {
	case tiendo.TypeHeartbeat:
		required = append(required, "queue", "staff", "status")
		if present["lat"] != present["lon"] {
			add("lat", "lat and lon must be given together")
		}
		e.HasPos = present["lat"] && present["lon"]
		for _, f := range []string{"count", "fingerprint_retries", "kind"} {
			if present[f] {
				add(f, "not a heartbeat field")
			}
		}
	case tiendo.TypeCompletion:
		required = append(required, "count")
		if !present["kind"] {
			e.Kind = tiendo.RecordStandard
		}
		for _, f := range []string{"queue", "staff", "lanes", "status", "lat", "lon"} {
			if present[f] {
				add(f, "not a completion field")
			}
		}
	}
	for _, f := range required {
		if !present[f] && !refHasError(errs, f) {
			add(f, "required")
		}
	}
	return errs
}

func refHasError(errs []tiendo.FieldError, field string) bool {
	for _, e := range errs {
		if e.Field == field {
			return true
		}
	}
	return false
}

var errRefNotString = errors.New("must be a string")

func refSetField(e *tiendo.Event, key string, val json.RawMessage) error {
	str := func() (string, error) {
		var s string
		if len(val) == 0 || val[0] != '"' || json.Unmarshal(val, &s) != nil {
			return "", errRefNotString
		}
		return s, nil
	}
	integer := func(dst *int) error {
		n, err := strconv.ParseInt(string(val), 10, 64)
		if err != nil || n < math.MinInt32 || n > math.MaxInt32 {
			return errors.New("must be an integer")
		}
		*dst = int(n)
		return nil
	}
	number := func(dst *float64) error {
		if len(val) == 0 || !(val[0] == '-' || (val[0] >= '0' && val[0] <= '9')) {
			return errors.New("must be a number")
		}
		f, err := strconv.ParseFloat(string(val), 64)
		if err != nil {
			return errors.New("must be a number")
		}
		// Changed since the scanner replaced this decoder, and mirrored
		// there: -0 and subnormal coordinates are 0, as ClickHouse keeps them.
		if f > -2.2250738585072014e-308 && f < 2.2250738585072014e-308 {
			f = 0
		}
		*dst = f
		return nil
	}
	var err error
	var s string
	switch key {
	case "id":
		e.ID, err = str()
	case "type":
		s, err = str()
		e.Type = tiendo.EventType(s)
	case "station":
		e.Station, err = str()
	case "ts":
		if s, err = str(); err == nil {
			e.TS, err = refParseTime(s)
		}
	case "queue":
		err = integer(&e.Queue)
	case "staff":
		err = integer(&e.Staff)
	case "lanes":
		err = integer(&e.Lanes)
	case "status":
		s, err = str()
		e.Status = tiendo.StationStatus(s)
	case "lat":
		err = number(&e.Lat)
	case "lon":
		err = number(&e.Lon)
	case "count":
		err = integer(&e.Count)
	case "fingerprint_retries":
		err = integer(&e.FingerprintRetries)
	case "kind":
		s, err = str()
		e.Kind = tiendo.RecordKind(s)
	default:
		return errors.New("unknown field")
	}
	return err
}

// parseTime accepts RFC 3339 with an explicit offset or Z; a time without
// a zone is ambiguous (station clock or UTC?) and refused.
//
// Changed since the scanner replaced this decoder, and mirrored there:
// offsets must be within -23:59..+23:59 (time.Parse took +24:00 and
// +23:60, which the spool cannot hold: M6), the fraction has '.' and at
// most nine digits, and it is dropped (ClickHouse keeps whole seconds).
// The checks are written here from the RFC 3339 grammar, apart from the
// scanner's code, so that the differential test compares two readings.
func refParseTime(s string) (time.Time, error) {
	bad := errors.New("must be an RFC 3339 time with offset, e.g. 2021-03-20T21:15:03+07:00")
	m := refTimeForm.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, bad
	}
	// The date and time of day, judged apart from the zone.
	if _, err := time.Parse(time.RFC3339, m[1]+"Z"); err != nil {
		return time.Time{}, bad
	}
	if len(m[2]) > 10 {
		return time.Time{}, errors.New("at most 9 fractional digits (nanoseconds)")
	}
	if zone := m[3]; zone != "Z" {
		hh, _ := strconv.Atoi(zone[1:3])
		mm, _ := strconv.Atoi(zone[4:6])
		if hh > 23 || mm > 59 {
			return time.Time{}, errors.New("the offset must be between -23:59 and +23:59 (hours 00-23, minutes 00-59)")
		}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, bad
	}
	return t.Truncate(time.Second), nil
}

// refTimeForm is RFC 3339's date-time with digits where the grammar has
// them: date and time, an optional fraction, Z or a numeric offset.
var refTimeForm = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$`)
