package ingest_test

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"tiendo/ingest"
)

// The finding's shapes (M7): a body of keys that are each a problem.

// unknownKeys is events objects of keys distinct unknown keys each.
func unknownKeys(events, keys int, ndjson bool) []byte {
	var b bytes.Buffer
	for i := range events {
		if ndjson {
			if i > 0 {
				b.WriteByte('\n')
			}
		} else if i == 0 {
			b.WriteByte('[')
		} else {
			b.WriteByte(',')
		}
		b.WriteByte('{')
		for k := range keys {
			if k > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"k%d":1`, k)
		}
		b.WriteByte('}')
	}
	if !ndjson {
		b.WriteByte(']')
	}
	return b.Bytes()
}

// repeatedKey is events objects of one key given repeats times.
func repeatedKey(events, repeats int, key string, ndjson bool) []byte {
	one := "{" + strings.TrimSuffix(strings.Repeat(`"`+key+`":1,`, repeats), ",") + "}"
	if ndjson {
		return []byte(strings.TrimSuffix(strings.Repeat(one+"\n", events), "\n"))
	}
	return []byte("[" + strings.TrimSuffix(strings.Repeat(one+",", events), ",") + "]")
}

type problemShape struct {
	name  string
	body  func(ndjson bool) []byte
	total int // problems in all
}

var problemShapes = []problemShape{
	// Each event: its keys unknown, and id, type, station, ts required.
	{"6 events x 60,000 unknown keys", func(nd bool) []byte { return unknownKeys(6, 60_000, nd) }, 6 * (60_000 + 4)},
	// One "unknown field", then "given twice" for each repeat, then required.
	{"4 events x 130,000 repeats of an unknown key", func(nd bool) []byte { return repeatedKey(4, 130_000, "a", nd) }, 4 * (130_000 + 4)},
	// A known key: "type":1 is not a string, then given twice 129,999
	// times; a type given badly is not also required, id, station and ts are.
	{"4 events x 130,000 repeats of a known key", func(nd bool) []byte { return repeatedKey(4, 130_000, "type", nd) }, 4 * (130_000 + 3)},
	// Case variants of a known key, each after the first a repeat.
	{"4 events x 130,000 repeats of a known key in another case", func(nd bool) []byte { return repeatedKey(4, 130_000, "Station", nd) }, 4 * (130_000 + 4)},
}

// The decoder keeps MaxProblems problems and counts the rest exactly, and
// does no work that grows with the problems past the cap: no name, reason
// or map entry per key.
func TestDecodeCapsProblems(t *testing.T) {
	for _, sh := range problemShapes {
		for _, ndjson := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/ndjson=%v", sh.name, ndjson), func(t *testing.T) {
				body := sh.body(ndjson)
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				_, problems, err := ingest.DecodeBatch(body, ndjson)
				runtime.ReadMemStats(&after)
				if err != nil {
					t.Fatal(err)
				}
				if len(problems.Items) != ingest.MaxProblems || problems.Total != sh.total {
					t.Fatalf("%d items, total %d; want %d items and total %d", len(problems.Items), problems.Total, ingest.MaxProblems, sh.total)
				}
				// The events slice is sized by the body's '{' count; the
				// rest is the kept problems. Before the cap this was
				// 100-300 MB for these bodies.
				if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256<<10 {
					t.Errorf("decoding %d bytes allocated %d bytes; want under 256 KiB", len(body), alloc)
				}
			})
		}
	}
}

// Through the handler the answer stays small and says how many problems
// there were: the first 100 items and "items_total".
func TestValidationErrorsCapped(t *testing.T) {
	a := newIngestApp(t, nil)
	for i, sh := range problemShapes {
		{ // each shape in one encoding (the decoder's test has both)
			ndjson := i%2 == 1
			body := sh.body(ndjson)
			r := a.post(t, body, ndjson)
			if r.status != 400 {
				t.Fatalf("%s: status %d %.300s", sh.name, r.status, r.raw)
			}
			eb := r.body(t)
			if len(eb.Items) != ingest.MaxProblems || eb.ItemsTotal != sh.total {
				t.Errorf("%s, ndjson=%v: %d items, items_total %d; want %d and %d", sh.name, ndjson, len(eb.Items), eb.ItemsTotal, ingest.MaxProblems, sh.total)
			}
			if len(r.raw) > 32<<10 {
				t.Errorf("%s, ndjson=%v: a %d-byte request got a %d-byte answer; want at most 32 KiB", sh.name, ndjson, len(body), len(r.raw))
			}
		}
	}
	if n, _, _ := a.spool.SpoolStats(); n != 0 {
		t.Fatalf("%d events spooled from rejected batches", n)
	}
}

// A few problems are all listed, with their total; validation problems
// past the decoder's are counted too, and a field the decoder found bad is
// not also reported by the validation.
func TestValidationErrorsListedWhole(t *testing.T) {
	a := newIngestApp(t, nil)
	body := `[{"id":"a","type":"completion","station":"LS-A","ts":"2021-03-20T21:15:03+24:00","count":1},` +
		`{"id":"b","type":"completion","station":"LS-NOPE","ts":"2021-03-20T10:15:03+07:00","count":0}]`
	eb := a.post(t, []byte(body), false).body(t)
	var got []string
	for _, it := range eb.Items {
		got = append(got, fmt.Sprintf("%d/%s", it.Index, it.Field))
	}
	if strings.Join(got, " ") != "0/ts 1/station 1/count" || eb.ItemsTotal != 3 {
		t.Fatalf("items %v, total %d; want 0/ts 1/station 1/count, 3", got, eb.ItemsTotal)
	}
	// Past the cap, validation problems still count: 150 events of count 0.
	var many []string
	for i := range 150 {
		many = append(many, fmt.Sprintf(`{"id":"c%d","type":"completion","station":"LS-A","ts":"2021-03-20T10:15:03+07:00","count":0}`, i))
	}
	eb = a.post(t, []byte("["+strings.Join(many, ",")+"]"), false).body(t)
	if len(eb.Items) != ingest.MaxProblems || eb.ItemsTotal != 150 {
		t.Fatalf("150 bad counts: %d items, total %d", len(eb.Items), eb.ItemsTotal)
	}
}

// A key a megabyte long is repeated back cut short: the answer's size does
// not follow the client's key lengths.
func TestLongFieldNamesCut(t *testing.T) {
	a := newIngestApp(t, nil)
	long := strings.Repeat("é", 200_000)
	var keys []string
	for i := range 8 {
		keys = append(keys, fmt.Sprintf(`"%s%d":1,"%s%d":2`, long, i, strings.ToUpper(long), i))
	}
	body := []byte("[{" + strings.Join(keys, ",") + "}]")
	r := a.post(t, body, false)
	eb := r.body(t)
	if r.status != 400 || eb.ItemsTotal != 16+4 {
		t.Fatalf("status %d, items_total %d", r.status, eb.ItemsTotal)
	}
	if len(r.raw) > 16<<10 {
		t.Fatalf("a %d-byte request got a %d-byte answer", len(body), len(r.raw))
	}
	if f := eb.Items[0].Field; !strings.HasSuffix(f, "…") || !strings.HasPrefix(long, strings.TrimSuffix(f, "…")) {
		t.Fatalf("first item's field %q, want a cut prefix of the key", f)
	}
}
