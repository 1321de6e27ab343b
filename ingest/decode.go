package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"tiendo"
)

// MaxBatchEvents is the most events one request may carry.
const MaxBatchEvents = 10_000

// maxDepth is how deeply a JSON value may nest. It is encoding/json's
// limit, which the decoder used before it scanned bytes itself; keeping it
// keeps the same bodies acceptable.
const maxDepth = 10000

// Decode reads a batch of events from a JSON array (isNDJSON false) or from
// NDJSON, one object per line. It is strict where encoding/json is lenient:
// keys are case-sensitive, a key given twice (also in another case, as
// "station" and "Station") is an error, unknown keys are errors, integers
// must be integers, and times must carry an offset. All problems of all
// events are counted; the first MaxProblems are returned, each naming the
// event's index and the field (DecodeBatch also returns the total).
//
// Decoding is on the ingest hot path (it was a third of the server's CPU at
// peak), so it is a single pass over the bytes without encoding/json: no
// per-event decoder, maps or copies of values. An event costs one
// allocation, its id; the station string is shared by consecutive events
// that name the same station (a batch comes from one station), and the
// fixed values of type, status and kind are the package constants. The
// rules are those of the encoding/json based decoder it replaced, down to
// the error of every field; decode_ref_test.go keeps that decoder and
// compares the two. Every string of the events is a copy, never a view of
// body, so callers may keep the events after body's memory is reused.
func Decode(body []byte, isNDJSON bool) ([]tiendo.Event, []tiendo.FieldError, error) {
	events, problems, err := DecodeBatch(body, isNDJSON)
	return events, problems.Items, err
}

// MaxProblems is how many problems of a batch are kept with their reasons.
// A client fixes its encoder from the first few; listing every one let a
// 3 MB body of repeated keys turn into a 24 MB answer and 120 MB of server
// memory (M7). Past it problems are only counted.
const MaxProblems = 100

// Problems is what is wrong with a batch: its first MaxProblems problems
// and how many there are in all.
type Problems struct {
	Items []tiendo.FieldError
	Total int
	// fields has a bit per known key for each event index that some
	// problem names, counted ones included, so that a field found bad is
	// not also reported missing (by the decoder or the validation) and
	// Total counts exactly what an uncapped list would hold.
	fields []uint16
}

// Add counts p and keeps it if fewer than MaxProblems are kept.
func (ps *Problems) Add(p tiendo.FieldError) {
	ps.add(p.Index, knownKey([]byte(p.Field)), p.Field, p.Reason)
}

// Has reports whether a problem names the field of event index.
func (ps *Problems) Has(index int, field string) bool {
	if k := knownKey([]byte(field)); k >= 0 {
		return ps.hasKey(index, k)
	}
	// Not a known key ("event", an unknown name): only the kept items
	// tell. The validation names known keys only.
	for _, p := range ps.Items {
		if p.Index == index && p.Field == field {
			return true
		}
	}
	return false
}

// full reports whether no further problem is kept: past it, problems are
// counted without building their field names or reasons.
func (ps *Problems) full() bool { return len(ps.Items) >= MaxProblems }

func (ps *Problems) add(index, k int, field, reason string) {
	ps.count(index, k)
	if !ps.full() {
		ps.Items = append(ps.Items, tiendo.FieldError{Index: index, Field: field, Reason: reason})
	}
}

// count counts a problem of event index naming known key k (-1: another
// name) without keeping it.
func (ps *Problems) count(index, k int) {
	ps.Total++
	if k < 0 || index < 0 {
		return
	}
	for len(ps.fields) <= index {
		ps.fields = append(ps.fields, 0)
	}
	ps.fields[index] |= 1 << k
}

func (ps *Problems) hasKey(index, k int) bool {
	return index >= 0 && index < len(ps.fields) && ps.fields[index]&(1<<k) != 0
}

// DecodeBatch is Decode, returning the problems with their total.
func DecodeBatch(body []byte, isNDJSON bool) ([]tiendo.Event, Problems, error) {
	var d decoder
	var err error
	if isNDJSON {
		err = d.ndjson(body)
	} else {
		err = d.array(body)
	}
	if err != nil {
		return nil, Problems{}, err
	}
	return d.events, d.problems, nil
}

func bodyError(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &tiendo.Error{Code: tiendo.EInvalid, Message: "bad request body",
		Fields: []tiendo.FieldError{{Index: -1, Field: "body", Reason: msg}}}
}

func tooLarge() error {
	return &tiendo.Error{Code: tiendo.ETooLarge, Message: fmt.Sprintf("a batch holds at most %d events", MaxBatchEvents)}
}

// decoder holds the state of one Decode call.
type decoder struct {
	events   []tiendo.Event
	problems Problems
	station  string // the last station read, reused while the next events name it too
	buf      []byte // scratch for strings that need unescaping
}

// add records a problem of event index; k is the known key field names
// exactly, or -1.
func (d *decoder) add(index, k int, field, reason string) { d.problems.add(index, k, field, reason) }

// ndjson decodes one event per non-blank line. Lines are trimmed of
// Unicode white space (bytes.TrimSpace) as they always were, so a line of
// "\v" or a no-break space is blank.
func (d *decoder) ndjson(body []byte) error {
	// One allocation for the events: at most one per line.
	d.events = make([]tiendo.Event, 0, min(bytes.Count(body, []byte{'\n'})+1, MaxBatchEvents))
	for rest, more := body, true; more; {
		var line []byte
		line, rest, more = bytes.Cut(rest, []byte{'\n'})
		if line = bytes.TrimSpace(line); len(line) == 0 {
			continue
		}
		if len(d.events) == MaxBatchEvents {
			return tooLarge()
		}
		index := len(d.events)
		d.events = append(d.events, tiendo.Event{})
		d.ndjsonEvent(line, index)
	}
	if len(d.events) == 0 {
		return bodyError("no events in the batch")
	}
	return nil
}

// ndjsonEvent decodes one line. Malformed JSON is a problem of the event,
// not of the body: the other lines still get their own problems reported.
func (d *decoder) ndjsonEvent(line []byte, index int) {
	if line[0] != '{' {
		d.add(index, -1, "event", "want a JSON object")
		return
	}
	var st eventState
	end, serr := d.object(line, 0, index, maxDepth, &st)
	switch {
	case serr != nil && !serr.atClose:
		// Broken inside: what was read so far stays, nothing is required.
		d.add(index, serr.key, serr.field, "not valid JSON: "+serr.msg)
		return
	case serr != nil:
		d.add(index, -1, "event", "not valid JSON: "+serr.msg)
	case skipSpace(line, end) != len(line):
		// A second object on the line would otherwise be dropped silently.
		d.add(index, -1, "event", "unexpected data after the object (one event per line)")
	}
	d.finish(index, &st)
}

// array decodes a JSON array of events. The whole body must be valid JSON:
// a syntax error anywhere rejects the batch (with the index of the element
// at fault) even when events before it were fine.
func (d *decoder) array(body []byte) error {
	p := skipSpace(body, 0)
	if p == len(body) {
		return bodyError("not valid JSON: EOF")
	}
	if body[p] != '[' {
		return notAnArray(body, p)
	}
	// Sized by the objects in the body, so one allocation in practice.
	d.events = make([]tiendo.Event, 0, min(bytes.Count(body, []byte{'{'}), MaxBatchEvents+1))
	for p++; ; {
		p = skipSpace(body, p)
		if p == len(body) || body[p] == ']' || body[p] == '}' {
			break
		}
		index := len(d.events)
		if index > 0 {
			if body[p] != ',' {
				return bodyError("not valid JSON at event %d: expected comma after array element", index)
			}
			p = skipSpace(body, p+1)
		}
		d.events = append(d.events, tiendo.Event{})
		if p < len(body) && body[p] == '{' {
			var st eventState
			// The object itself is one level of nesting.
			end, serr := d.object(body, p, index, maxDepth-1, &st)
			if serr != nil {
				return bodyError("not valid JSON at event %d: %s", index, serr.msg)
			}
			d.finish(index, &st)
			p = end
		} else {
			end, err := skipValue(body, p, maxDepth)
			if err != nil {
				return bodyError("not valid JSON at event %d: %v", index, err)
			}
			d.add(index, -1, "event", "want a JSON object")
			p = end
		}
		if len(d.events) > MaxBatchEvents {
			// Refused as too large even if the rest is cut short or broken.
			return tooLarge()
		}
	}
	switch {
	case p == len(body):
		return bodyError("not valid JSON: unterminated array: EOF")
	case body[p] == '}':
		return bodyError("not valid JSON: unterminated array: invalid character '}' %s", arrayContext(len(d.events)))
	case skipSpace(body, p+1) != len(body):
		return bodyError("unexpected data after the array")
	case len(d.events) == 0:
		return bodyError("no events in the batch")
	}
	return nil
}

func arrayContext(elements int) string {
	if elements == 0 {
		return "looking for beginning of value"
	}
	return "after array element"
}

// notAnArray explains a body that does not start with '[': a valid JSON
// value of another kind is the wrong shape, anything else is not JSON.
func notAnArray(body []byte, p int) error {
	if body[p] != '{' { // an object is the wrong shape however it goes on
		end, err := skipValue(body, p, maxDepth)
		if err != nil {
			return bodyError("not valid JSON: %v", err)
		}
		// encoding/json read such a value into an any, and a number
		// beyond float64 failed there.
		if num := body[p:end]; num[0] == '-' || (num[0] >= '0' && num[0] <= '9') {
			if _, err := strconv.ParseFloat(string(num), 64); err != nil {
				return bodyError("not valid JSON: json: cannot unmarshal number %s into Go value of type float64", num)
			}
		}
	}
	return bodyError("want a JSON array of events (or NDJSON with Content-Type: application/x-ndjson)")
}

// The known keys; a key's position is its bit in eventState's masks.
const (
	keyID = iota
	keyType
	keyStation
	keyTS
	keyQueue
	keyStaff
	keyLanes
	keyStatus
	keyLat
	keyLon
	keyCount
	keyRetries
	keyKind
	numKeys
)

var keyNames = [numKeys]string{"id", "type", "station", "ts", "queue", "staff", "lanes", "status", "lat", "lon", "count", "fingerprint_retries", "kind"}

// knownKey returns the index of the known key spelt exactly as b, or -1.
// (A switch on string(b) does not allocate.)
func knownKey(b []byte) int {
	switch string(b) {
	case "id":
		return keyID
	case "type":
		return keyType
	case "station":
		return keyStation
	case "ts":
		return keyTS
	case "queue":
		return keyQueue
	case "staff":
		return keyStaff
	case "lanes":
		return keyLanes
	case "status":
		return keyStatus
	case "lat":
		return keyLat
	case "lon":
		return keyLon
	case "count":
		return keyCount
	case "fingerprint_retries":
		return keyRetries
	case "kind":
		return keyKind
	}
	return -1
}

// eventState is what one event's decoding remembers about its keys.
// Duplicates are found by the key's lower case (strings.ToLower, so also
// "\u212aind" with a Kelvin sign collides with "kind"): for the known keys
// a bit each, for any other key a map made only when one turns up, since
// unknown keys are errors anyway.
type eventState struct {
	seen    uint16            // known keys in lower case, first spelling in seenAs
	present uint16            // known keys given exactly, first time
	seenAs  [numKeys]string   // first spelling of each key in seen
	unknown map[string]string // lower case of other keys → first spelling
}

// syntaxError is malformed JSON inside an event object. field is the key
// whose value was malformed, or "event"; key is its known key, or -1.
// atClose marks a members list that
// ended without a '}' (at the end of the line or at a ']'): the old
// decoder still checked the required fields of such an event.
type syntaxError struct {
	field, msg string
	key        int
	atClose    bool
}

// object decodes the object starting at b[p] == '{' into event index and
// returns the offset after its '}'. depth is how deeply each value may
// nest. Members are applied as they are read, so a syntax error leaves the
// event as far as it got, as the old decoder did.
func (d *decoder) object(b []byte, p, index, depth int, st *eventState) (int, *syntaxError) {
	fatal := func(k int, field string, err error) (int, *syntaxError) {
		return p, &syntaxError{field: field, key: k, msg: err.Error()}
	}
	p++
	for first := true; ; first = false {
		p = skipSpace(b, p)
		if p == len(b) {
			return p, &syntaxError{field: "event", key: -1, msg: "EOF", atClose: true}
		}
		c := b[p]
		if c == '}' {
			return p + 1, nil
		}
		context := "after object key:value pair"
		if first {
			context = "looking for beginning of object key string"
		}
		if c == ']' {
			return p, &syntaxError{field: "event", key: -1, msg: invalidChar(c, context).Error(), atClose: true}
		}
		if !first {
			if c != ',' {
				return fatal(-1, "event", invalidChar(c, context))
			}
			if p = skipSpace(b, p+1); p == len(b) {
				return fatal(-1, "event", errEOF)
			}
			c, context = b[p], "looking for beginning of object key string"
		}
		if c != '"' {
			return fatal(-1, "event", invalidChar(c, context))
		}
		keyEnd, plain, err := scanString(b, p)
		if err != nil {
			return fatal(-1, "event", err)
		}
		k, raw := d.key(b[p+1:keyEnd-1], plain)
		if p = skipSpace(b, keyEnd); p == len(b) {
			return fatal(k, keyName(k, raw), errEOF)
		}
		if b[p] != ':' {
			return fatal(k, keyName(k, raw), errors.New("expected colon after object key"))
		}
		p = skipSpace(b, p+1)
		valEnd, err := skipValue(b, p, depth)
		if err != nil {
			return fatal(k, keyName(k, raw), err)
		}
		d.member(index, st, k, raw, b[p:valEnd])
		p = valEnd
	}
}

// key decodes a member name (raw, between the quotes) and returns the
// index of the known key it spells exactly (or -1) and the name's bytes,
// which may be the decoder's scratch buffer: valid until the member's
// value is decoded. No string is made: an unknown name becomes one only
// if a problem is kept for it.
func (d *decoder) key(raw []byte, plain bool) (int, []byte) {
	if !plain {
		d.buf = appendUnquoted(d.buf[:0], raw)
		raw = d.buf
	}
	return knownKey(raw), raw
}

// keyName is the name to report for a key: the package's string for a
// known key, without allocating, else a copy of raw.
func keyName(k int, raw []byte) string {
	if k >= 0 {
		return keyNames[k]
	}
	return string(raw)
}

// knownLower returns the known key that raw spells in another case, as
// strings.ToLower folds it ("Station", "\u212aind" with a Kelvin sign), or
// -1. ASCII names, the usual case, are folded on the stack.
func knownLower(raw []byte) int {
	var buf [len("fingerprint_retries")]byte // the longest known key
	for _, c := range raw {
		if c >= utf8.RuneSelf {
			// Lower-casing keeps the number of runes.
			if utf8.RuneCount(raw) > len(buf) {
				return -1
			}
			return knownKey([]byte(strings.ToLower(string(raw))))
		}
	}
	if len(raw) > len(buf) {
		return -1
	}
	for i, c := range raw {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return knownKey(buf[:len(raw)])
}

// member applies one key (k as key returns it, raw its name) and its value
// (valid JSON) to event index. Once the problems are full, a bad member is
// only counted: no name, lower case, map entry or reason is made for it,
// so a body of 130,000 repeated keys costs no memory per key.
func (d *decoder) member(index int, st *eventState, k int, raw, v []byte) {
	lower := k
	if k < 0 {
		if lower = knownLower(raw); lower < 0 {
			// Unknown or given twice: one problem either way.
			if d.problems.full() {
				d.problems.count(index, -1)
				return
			}
			name := string(raw)
			lowerName := strings.ToLower(name)
			if prev, dup := st.unknown[lowerName]; dup {
				d.twice(index, -1, prev, name)
				return
			}
			if st.unknown == nil {
				st.unknown = map[string]string{}
			}
			st.unknown[lowerName] = name
			d.add(index, -1, name, "unknown field")
			return
		}
	}
	bit := uint16(1) << lower
	if st.seen&bit != 0 {
		if d.problems.full() {
			d.problems.count(index, k)
			return
		}
		d.twice(index, k, st.seenAs[lower], keyName(k, raw))
		return
	}
	st.seen |= bit
	if k < 0 { // a known key in another case, as "Station"
		if d.problems.full() {
			d.problems.count(index, -1)
			return
		}
		name := string(raw)
		st.seenAs[lower] = name
		d.add(index, -1, name, "unknown field")
		return
	}
	st.seenAs[lower] = keyNames[k]
	st.present |= bit
	if reason := d.setField(&d.events[index], k, v); reason != "" {
		d.add(index, k, keyNames[k], reason)
	}
}

func (d *decoder) twice(index, k int, prev, name string) {
	if prev == name {
		d.add(index, k, name, "given twice")
	} else {
		d.add(index, k, name, fmt.Sprintf("given twice, as %q and %q (keys are case-sensitive)", prev, name))
	}
}

const (
	reasonNotString  = "must be a string"
	reasonNotInteger = "must be an integer"
	reasonNotNumber  = "must be a number"
	reasonBadTime    = "must be an RFC 3339 time with offset, e.g. 2021-03-20T21:15:03+07:00"
	reasonBadOffset  = "the offset must be between -23:59 and +23:59 (hours 00-23, minutes 00-59)"
	reasonFraction   = "at most 9 fractional digits (nanoseconds)"
)

// setField stores value v (valid JSON) of known key k in e and returns the
// reason it cannot, or "". A field is only set from a good value.
func (d *decoder) setField(e *tiendo.Event, k int, v []byte) string {
	switch k {
	case keyQueue, keyStaff, keyLanes, keyCount, keyRetries:
		n, ok := parseInt32(v)
		if !ok {
			return reasonNotInteger
		}
		switch k {
		case keyQueue:
			e.Queue = n
		case keyStaff:
			e.Staff = n
		case keyLanes:
			e.Lanes = n
		case keyCount:
			e.Count = n
		default:
			e.FingerprintRetries = n
		}
		return ""
	case keyLat, keyLon:
		f, ok := parseNumber(v)
		if !ok {
			return reasonNotNumber
		}
		f = coordinate(f)
		if k == keyLat {
			e.Lat = f
		} else {
			e.Lon = f
		}
		return ""
	}
	s, ok := d.text(v)
	if !ok {
		return reasonNotString
	}
	switch k {
	case keyID:
		e.ID = string(s)
	case keyType:
		e.Type = eventType(s)
	case keyStation:
		if string(s) != d.station {
			d.station = string(s)
		}
		e.Station = d.station
	case keyTS:
		t, reason := parseTime(s)
		if reason != "" {
			return reason
		}
		e.TS = t
	case keyStatus:
		e.Status = stationStatus(s)
	case keyKind:
		e.Kind = recordKind(s)
	}
	return ""
}

// The values of type, status and kind are nearly always one of a few; they
// are returned as the package's constants instead of new strings.

func eventType(s []byte) tiendo.EventType {
	switch string(s) {
	case string(tiendo.TypeHeartbeat):
		return tiendo.TypeHeartbeat
	case string(tiendo.TypeCompletion):
		return tiendo.TypeCompletion
	}
	return tiendo.EventType(s)
}

func stationStatus(s []byte) tiendo.StationStatus {
	switch string(s) {
	case string(tiendo.StatusOpen):
		return tiendo.StatusOpen
	case string(tiendo.StatusPaused):
		return tiendo.StatusPaused
	case string(tiendo.StatusClosed):
		return tiendo.StatusClosed
	}
	return tiendo.StationStatus(s)
}

func recordKind(s []byte) tiendo.RecordKind {
	switch string(s) {
	case string(tiendo.RecordStandard):
		return tiendo.RecordStandard
	case string(tiendo.RecordStudent):
		return tiendo.RecordStudent
	case string(tiendo.RecordHomeVisit):
		return tiendo.RecordHomeVisit
	}
	return tiendo.RecordKind(s)
}

// text returns the contents of JSON string v decoded, or false when v is
// not a string. The result is v's own bytes when nothing needs decoding,
// else the decoder's scratch buffer: use it before the next call.
func (d *decoder) text(v []byte) ([]byte, bool) {
	if v[0] != '"' {
		return nil, false
	}
	s := v[1 : len(v)-1]
	if bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s) {
		return s, true
	}
	d.buf = appendUnquoted(d.buf[:0], s)
	return d.buf, true
}

// finish checks which fields the event's type needs and forbids, once all
// its members are read.
func (d *decoder) finish(index int, st *eventState) {
	const bit = uint16(1)
	e := &d.events[index]
	required := bit<<keyID | bit<<keyType | bit<<keyStation | bit<<keyTS
	has := func(k int) bool { return st.present&(bit<<k) != 0 }
	switch e.Type {
	case tiendo.TypeHeartbeat:
		required |= bit<<keyQueue | bit<<keyStaff | bit<<keyStatus
		if has(keyLat) != has(keyLon) {
			d.add(index, keyLat, "lat", "lat and lon must be given together")
		}
		e.HasPos = has(keyLat) && has(keyLon)
		for _, k := range [...]int{keyCount, keyRetries, keyKind} {
			if has(k) {
				d.add(index, k, keyNames[k], "not a heartbeat field")
			}
		}
	case tiendo.TypeCompletion:
		required |= bit << keyCount
		if !has(keyKind) {
			e.Kind = tiendo.RecordStandard
		}
		for _, k := range [...]int{keyQueue, keyStaff, keyLanes, keyStatus, keyLat, keyLon} {
			if has(k) {
				d.add(index, k, keyNames[k], "not a completion field")
			}
		}
	}
	// In key order, which is the order the required fields are reported in.
	for k := range numKeys {
		// A field given badly is not also reported as missing.
		if required&(bit<<k) != 0 && !has(k) && !d.problems.hasKey(index, k) {
			d.add(index, k, keyNames[k], "required")
		}
	}
}

// parseInt32 parses an integer field: a JSON number without fraction or
// exponent that fits in 32 bits ("1.0" and "1e3" are not integers).
func parseInt32(v []byte) (int, bool) {
	digits := v
	if v[0] == '-' {
		digits = v[1:]
	}
	// Valid JSON has no leading zeros, so 11 digits are beyond 32 bits.
	if len(digits) == 0 || len(digits) > 10 {
		return 0, false
	}
	var n int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if v[0] == '-' {
		n = -n
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return 0, false
	}
	return int(n), true
}

// smallestNormal is the least positive float64 with full precision.
const smallestNormal = 0x1p-1022

// coordinate is f as a coordinate is kept: -0 and the subnormal numbers
// (closer to 0 than 2.2e-308 degrees) are 0. The property test found both
// changed on the way through ClickHouse: -0 came back from the server as 0,
// and chDB read 5e-324 as 0; a degree's 1e-308th is 0 on any map.
func coordinate(f float64) float64 {
	if math.Abs(f) < smallestNormal {
		return 0
	}
	return f
}

// float64pow10 holds the powers of ten that float64 represents exactly.
var float64pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseNumber parses a coordinate: any JSON number (v is valid JSON) that
// float64 holds. Coordinates have few digits, and for those the result is
// one exact operation on exact operands, which IEEE 754 rounds correctly,
// as strconv.ParseFloat does; other numbers go to strconv.ParseFloat.
func parseNumber(v []byte) (float64, bool) {
	if v[0] != '-' && (v[0] < '0' || v[0] > '9') {
		return 0, false
	}
	if f, ok := parseShortNumber(v); ok {
		return f, true
	}
	f, err := strconv.ParseFloat(string(v), 64)
	return f, err == nil
}

// parseShortNumber handles JSON numbers of at most 15 significant digits
// (so the mantissa is exact) whose power of ten is within ±22.
func parseShortNumber(v []byte) (float64, bool) {
	i, neg := 0, v[0] == '-'
	if neg {
		i++
	}
	var mant uint64
	sig, exp := 0, 0
	digit := func() bool { return i < len(v) && v[i] >= '0' && v[i] <= '9' }
	for ; digit(); i++ {
		if mant != 0 || v[i] != '0' {
			sig++
		}
		mant = mant*10 + uint64(v[i]-'0')
	}
	if i < len(v) && v[i] == '.' {
		for i++; digit(); i++ {
			if mant != 0 || v[i] != '0' {
				sig++
			}
			mant = mant*10 + uint64(v[i]-'0')
			exp--
		}
	}
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
		eneg := i < len(v) && v[i] == '-'
		if i < len(v) && (v[i] == '-' || v[i] == '+') {
			i++
		}
		e := 0
		for ; digit(); i++ {
			if e > 1000 {
				return 0, false
			}
			e = e*10 + int(v[i]-'0')
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	if i != len(v) || sig > 15 {
		return 0, false
	}
	f := float64(mant)
	switch {
	case mant == 0 || exp == 0:
	case exp > 0 && exp <= 22:
		f *= float64pow10[exp]
	case exp < 0 && exp >= -22:
		f /= float64pow10[-exp]
	default:
		return 0, false
	}
	if neg {
		f = -f // also -0, as strconv gives
	}
	return f, true
}

// parseTime reads an RFC 3339 date-time with an explicit offset or Z, and
// only that: 2006-01-02T15:04:05[.fraction of 1–9 digits] then Z or ±hh:mm
// with hh 00–23 and mm 00–59. It returns the reason when s is not one. A
// time without a zone is ambiguous (station clock or UTC?) and refused.
//
// It once fell back to time.Parse, which also takes +24:00, -24:00 and
// +23:60 (a whole day of offset), a comma before the fraction and more
// than nine fractional digits. The spool cannot hold an offset of a day:
// such an event got its 202, then failed the spool's reader and was set
// aside as corrupt, never counted, its retry a duplicate (M6). Every time
// accepted here is one the spool and ClickHouse hold exactly.
//
// The fraction is checked and dropped: ClickHouse keeps ts as DateTime,
// whole seconds, and the spool, the live counts read beside ClickHouse and
// ClickHouse itself must all see the same instant, or a completion at
// 09:59:59.5 counts in one hour on a screen and in the next when flushed.
//
// The zone is the one time.Parse would give: UTC for Z, for an offset the
// local zone if it has that offset at that instant, else a fixed zone
// without a name.
func parseTime(s []byte) (time.Time, string) {
	if len(s) < len("2006-01-02T15:04:05Z") {
		return time.Time{}, reasonBadTime
	}
	ok := true
	digits := func(b []byte) int {
		n := 0
		for _, c := range b {
			if c < '0' || c > '9' {
				ok = false
				return 0
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	num := func(b []byte, lo, hi int) int {
		n := digits(b)
		if n < lo || n > hi {
			ok = false
		}
		return n
	}
	year := num(s[0:4], 0, 9999)
	month := num(s[5:7], 1, 12)
	day := num(s[8:10], 1, 31)
	hour := num(s[11:13], 0, 23)
	minute := num(s[14:16], 0, 59)
	sec := num(s[17:19], 0, 59)
	if !ok || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || day > daysIn(month, year) {
		return time.Time{}, reasonBadTime
	}
	s = s[19:]
	fraction := 0
	if s[0] == '.' {
		n := 1
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		if fraction = n - 1; fraction == 0 {
			return time.Time{}, reasonBadTime
		}
		s = s[n:]
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	offset := 0
	switch {
	case len(s) == 1 && s[0] == 'Z':
	case len(s) == len("+07:00") && (s[0] == '+' || s[0] == '-') && s[3] == ':':
		hh, mm := digits(s[1:3]), digits(s[4:6])
		if !ok {
			return time.Time{}, reasonBadTime
		}
		if fraction > 9 {
			return time.Time{}, reasonFraction
		}
		if hh > 23 || mm > 59 {
			return time.Time{}, reasonBadOffset
		}
		if offset = (hh*60 + mm) * 60; s[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, reasonBadTime
	}
	if fraction > 9 {
		return time.Time{}, reasonFraction
	}
	if offset == 0 && s[0] == 'Z' {
		return t, ""
	}
	t = t.Add(-time.Duration(offset) * time.Second)
	if _, local := t.In(time.Local).Zone(); local == offset {
		return t.In(time.Local), ""
	}
	return t.In(time.FixedZone("", offset)), "" // no allocation for whole hours
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// The JSON scanner. It accepts exactly what encoding/json accepts (RFC 8259
// grammar, no UTF-8 check inside strings, nesting up to maxDepth), and
// words its errors as encoding/json does where that is simple.

var errEOF = errors.New("unexpected EOF")

func invalidChar(c byte, context string) error {
	return errors.New("invalid character " + quoteChar(c) + " " + context)
}

// quoteChar formats c for an error message as encoding/json does, in single quotes.
func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

// skipSpace returns the offset of the first byte at or after p that is
// not JSON white space.
func skipSpace(b []byte, p int) int {
	for p < len(b) {
		switch b[p] {
		case ' ', '\t', '\n', '\r':
			p++
		default:
			return p
		}
	}
	return p
}

// skipValue scans the JSON value starting at b[p] and returns the offset
// just after it. A number or literal ends where its grammar does, whatever
// follows ("0123" is the value 0 followed by "123"); the caller judges
// what comes next. depth is how many levels of arrays and objects the
// value may nest.
func skipValue(b []byte, p, depth int) (int, error) {
	if p == len(b) {
		return p, errEOF
	}
	switch c := b[p]; {
	case c == '"':
		end, _, err := scanString(b, p)
		return end, err
	case c == '{' || c == '[':
		return skipContainer(b, p, depth)
	case c == '-' || (c >= '0' && c <= '9'):
		return scanNumber(b, p)
	case c == 't':
		return scanLiteral(b, p, "true")
	case c == 'f':
		return scanLiteral(b, p, "false")
	case c == 'n':
		return scanLiteral(b, p, "null")
	default:
		return p, invalidChar(c, "looking for beginning of value")
	}
}

// skipContainer scans the object or array starting at b[p]. It recurses
// per level; maxDepth bounds the stack.
func skipContainer(b []byte, p, depth int) (int, error) {
	if depth <= 0 {
		return p, errors.New("exceeded max depth")
	}
	isObject := b[p] == '{'
	closer, after := byte(']'), "after array element"
	if isObject {
		closer, after = '}', "after object key:value pair"
	}
	p = skipSpace(b, p+1)
	if p < len(b) && b[p] == closer {
		return p + 1, nil
	}
	for {
		var err error
		if isObject {
			if p == len(b) {
				return p, errEOF
			}
			if b[p] != '"' {
				return p, invalidChar(b[p], "looking for beginning of object key string")
			}
			if p, _, err = scanString(b, p); err != nil {
				return p, err
			}
			if p = skipSpace(b, p); p == len(b) {
				return p, errEOF
			}
			if b[p] != ':' {
				return p, invalidChar(b[p], "after object key")
			}
			p = skipSpace(b, p+1)
		}
		if p, err = skipValue(b, p, depth-1); err != nil {
			return p, err
		}
		if p = skipSpace(b, p); p == len(b) {
			return p, errEOF
		}
		switch b[p] {
		case ',':
			p = skipSpace(b, p+1)
		case closer:
			return p + 1, nil
		default:
			return p, invalidChar(b[p], after)
		}
	}
}

// scanString scans the JSON string starting at b[p] == '"' and returns the
// offset after its closing quote, and whether its contents are their own
// value (no escapes, valid UTF-8), which is the usual case.
func scanString(b []byte, p int) (end int, plain bool, err error) {
	start := p + 1
	escaped, high := false, false
	for p = start; p < len(b); {
		c := b[p]
		switch {
		case c == '"':
			plain = !escaped && (!high || utf8.Valid(b[start:p]))
			return p + 1, plain, nil
		case c == '\\':
			escaped = true
			if p++; p == len(b) {
				return p, false, errEOF
			}
			switch b[p] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p++
			case 'u':
				for range 4 {
					if p++; p == len(b) {
						return p, false, errEOF
					}
					if !isHex(b[p]) {
						return p, false, invalidChar(b[p], `in \u hexadecimal character escape`)
					}
				}
				p++
			default:
				return p, false, invalidChar(b[p], "in string escape code")
			}
		case c < ' ':
			return p, false, invalidChar(c, "in string literal")
		default:
			if c >= utf8.RuneSelf {
				high = true
			}
			p++
		}
	}
	return p, false, errEOF
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// scanNumber scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at b[p].
func scanNumber(b []byte, p int) (int, error) {
	digits := func(context string) error {
		if p == len(b) {
			return errEOF
		}
		if b[p] < '0' || b[p] > '9' {
			return invalidChar(b[p], context)
		}
		for p < len(b) && b[p] >= '0' && b[p] <= '9' {
			p++
		}
		return nil
	}
	if b[p] == '-' {
		p++
	}
	if p < len(b) && b[p] == '0' {
		p++
	} else if err := digits("in numeric literal"); err != nil {
		return p, err
	}
	if p < len(b) && b[p] == '.' {
		p++
		if err := digits("after decimal point in numeric literal"); err != nil {
			return p, err
		}
	}
	if p < len(b) && (b[p] == 'e' || b[p] == 'E') {
		p++
		if p < len(b) && (b[p] == '+' || b[p] == '-') {
			p++
		}
		if err := digits("in exponent of numeric literal"); err != nil {
			return p, err
		}
	}
	return p, nil
}

// scanLiteral scans true, false or null at b[p].
func scanLiteral(b []byte, p int, lit string) (int, error) {
	for i := 1; i < len(lit); i++ {
		if p+i == len(b) {
			return p + i, errEOF
		}
		if b[p+i] != lit[i] {
			return p + i, invalidChar(b[p+i], fmt.Sprintf("in literal %s (expecting %s)", lit, quoteChar(lit[i])))
		}
	}
	return p + len(lit), nil
}

// appendUnquoted appends the value of a JSON string's contents s (valid,
// between the quotes) to dst, as encoding/json decodes it: escapes
// resolved, a UTF-16 surrogate pair joined, a lone surrogate and every
// byte of invalid UTF-8 replaced by U+FFFD.
func appendUnquoted(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\' && s[i+1] == 'u':
			r := hex4(s[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				next := rune(-1)
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					next = hex4(s[i+2:])
				}
				if pair := utf16.DecodeRune(r, next); pair != utf8.RuneError {
					dst = utf8.AppendRune(dst, pair)
					i += 6
					continue
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
		case c == '\\':
			switch e := s[i+1]; e {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			default: // '"', '\\', '/'
				dst = append(dst, e)
			}
			i += 2
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, size := utf8.DecodeRune(s[i:])
			dst = utf8.AppendRune(dst, r)
			i += size
		}
	}
	return dst
}

// hex4 reads the four hex digits that follow a \u (already checked).
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}
