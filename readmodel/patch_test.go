package readmodel

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// canon re-encodes JSON with sorted members, numbers as written.
func canon(t *testing.T, b []byte) string {
	t.Helper()
	v, err := decodeTree(b)
	if err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// roundTrip diffs prev into next, applies the patch to prev and checks
// that the result is next; it returns the patch.
func roundTrip(t *testing.T, prev, next []byte) []byte {
	t.Helper()
	patch, changed, err := Diff(prev, next)
	if err != nil {
		t.Fatal(err)
	}
	if same := canon(t, prev) == canon(t, next); changed == same {
		t.Fatalf("Diff says changed=%v for documents that are the same=%v", changed, same)
	}
	got, err := Apply(prev, patch)
	if err != nil {
		t.Fatalf("apply: %v\nprev %s\npatch %s", err, prev, patch)
	}
	if canon(t, got) != canon(t, next) {
		t.Fatalf("apply(prev, diff(prev, next)) != next\nprev  %s\nnext  %s\npatch %s\ngot   %s", prev, next, patch, got)
	}
	return patch
}

// randomDoc makes JSON documents of the shapes snapshots and chart
// options have: nested objects, nulls, numbers, lists of scalars, lists of
// lists, and lists of objects with ids.
type randomDoc struct{ r *rand.Rand }

var docKeys = []string{"a", "b", "c", "id2", "name", "queue", "pace", "data", "x"}

func (g randomDoc) scalar() any {
	switch g.r.IntN(6) {
	case 0:
		return nil
	case 1:
		return g.r.IntN(2) == 0
	case 2:
		return json.Number(strconv.Itoa(g.r.IntN(100) - 20))
	case 3:
		return json.Number(strconv.FormatFloat(float64(g.r.IntN(1000))/8, 'f', -1, 64))
	case 4:
		return []string{"", "open", "Lạng Sơn", `"q"`, "$x"}[g.r.IntN(5)]
	default:
		return fmt.Sprintf("s%d", g.r.IntN(5))
	}
}

func (g randomDoc) value(depth int) any {
	if depth <= 0 {
		return g.scalar()
	}
	switch g.r.IntN(6) {
	case 0, 1:
		return g.scalar()
	case 2:
		return g.object(depth - 1)
	case 3:
		return g.keyed(depth - 1)
	case 4:
		l := make([]any, g.r.IntN(5))
		for i := range l {
			l[i] = g.scalar()
		}
		return l
	default:
		l := make([]any, g.r.IntN(4))
		for i := range l {
			l[i] = g.value(depth - 1)
		}
		return l
	}
}

func (g randomDoc) object(depth int) map[string]any {
	o := map[string]any{}
	for range g.r.IntN(5) {
		o[docKeys[g.r.IntN(len(docKeys))]] = g.value(depth)
	}
	return o
}

func (g randomDoc) keyed(depth int) []any {
	ids := g.r.Perm(8)[:g.r.IntN(6)]
	l := make([]any, len(ids))
	for i, id := range ids {
		o := g.object(depth)
		o["id"] = fmt.Sprintf("S%d", id)
		l[i] = o
	}
	return l
}

// mutate returns a changed copy of v: members changed, added, deleted,
// elements of keyed lists changed, added, removed and reordered.
func (g randomDoc) mutate(v any, depth int) any {
	if g.r.IntN(8) == 0 {
		return g.value(depth)
	}
	switch x := v.(type) {
	case map[string]any:
		o := map[string]any{}
		for k, e := range x {
			switch g.r.IntN(6) {
			case 0: // deleted
			case 1:
				o[k] = g.mutate(e, depth-1)
			default:
				o[k] = e
			}
		}
		if g.r.IntN(3) == 0 {
			o[docKeys[g.r.IntN(len(docKeys))]] = g.value(depth - 1)
		}
		return o
	case []any:
		l := make([]any, 0, len(x)+1)
		for _, e := range x {
			switch g.r.IntN(6) {
			case 0: // removed
			case 1:
				m := g.mutate(e, depth-1)
				if eo, ok := e.(map[string]any); ok {
					if mo, ok := m.(map[string]any); ok {
						mo["id"] = eo["id"] // the same element, changed
					}
				}
				l = append(l, m)
			default:
				l = append(l, e)
			}
		}
		if g.r.IntN(3) == 0 {
			g.r.Shuffle(len(l), func(i, j int) { l[i], l[j] = l[j], l[i] })
		}
		if g.r.IntN(3) == 0 {
			if k := g.keyed(depth - 1); len(k) > 0 {
				l = append(l, k[0])
			}
		}
		return l
	default:
		return g.scalar()
	}
}

// randomPairs are n pairs of random documents, the second a mutation of the first.
func randomPairs(seed uint64, n int) [][2][]byte {
	g := randomDoc{rand.New(rand.NewPCG(seed, 13))}
	var out [][2][]byte
	for range n {
		a := g.object(4)
		a["stations"] = g.keyed(3)
		b := g.mutate(a, 4)
		if _, ok := b.(map[string]any); !ok {
			b = map[string]any{"whole": b}
		}
		pa, _ := json.Marshal(a)
		pb, _ := json.Marshal(b)
		out = append(out, [2][]byte{pa, pb})
	}
	return out
}

// For random pairs of documents, apply(prev, diff(prev, next)) is next,
// and a document's diff with itself is empty.
func TestPatchRoundTripRandom(t *testing.T) {
	for i, p := range randomPairs(1, 3000) {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			roundTrip(t, p[0], p[1])
			if patch, changed, _ := Diff(p[0], p[0]); changed || string(patch) != "{}" {
				t.Fatalf("a document's diff with itself: %s", patch)
			}
		})
	}
}

const stationsDoc = `{"now":"2021-03-20T13:00:00Z","totals":{"completed":10,"queue":3},"pace":null,
"stations":[{"id":"S1","queue":1,"wait_minutes":null,"pace":{"state":"behind","gap":-5}},
{"id":"S2","queue":2,"wait_minutes":12.5,"pace":null},{"id":"S3","queue":0,"wait_minutes":null,"pace":null}],
"storage":{"state":"ok","pending":0,"partial":true}}`

func TestPatchKeyedLists(t *testing.T) {
	prev := []byte(stationsDoc)
	edit := func(f func(m map[string]any)) []byte {
		v, _ := decodeTree(prev)
		f(v.(map[string]any))
		b, _ := json.Marshal(v)
		return b
	}
	station := func(m map[string]any, i int) map[string]any { return m["stations"].([]any)[i].(map[string]any) }

	t.Run("unchanged", func(t *testing.T) {
		if patch := roundTrip(t, prev, prev); string(patch) != "{}" {
			t.Errorf("patch of an unchanged document = %s", patch)
		}
	})
	t.Run("one station changes", func(t *testing.T) {
		next := edit(func(m map[string]any) { station(m, 1)["queue"] = json.Number("7") })
		patch := roundTrip(t, prev, next)
		if want := `{"$keyed":{"stations":true},"stations":[{"id":"S2","queue":7}]}`; string(patch) != want {
			t.Errorf("patch = %s\nwant    %s", patch, want)
		}
	})
	t.Run("null is a value", func(t *testing.T) {
		next := edit(func(m map[string]any) {
			station(m, 1)["wait_minutes"] = nil
			station(m, 0)["pace"] = nil
		})
		patch := roundTrip(t, prev, next)
		if want := `{"$keyed":{"stations":true},"stations":[{"id":"S1","pace":null},{"id":"S2","wait_minutes":null}]}`; string(patch) != want {
			t.Errorf("patch = %s\nwant    %s", patch, want)
		}
	})
	t.Run("a station is removed", func(t *testing.T) {
		next := edit(func(m map[string]any) { l := m["stations"].([]any); m["stations"] = []any{l[0], l[2]} })
		patch := roundTrip(t, prev, next)
		if want := `{"$keyed":{"stations":[0,2]},"stations":[]}`; string(patch) != want {
			t.Errorf("patch = %s\nwant    %s", patch, want)
		}
	})
	t.Run("a station is added and the order changes", func(t *testing.T) {
		next := edit(func(m map[string]any) {
			l := m["stations"].([]any)
			m["stations"] = []any{l[2], map[string]any{"id": "S4", "queue": json.Number("9")}, l[0], l[1]}
		})
		patch := roundTrip(t, prev, next)
		if want := `{"$keyed":{"stations":[2,"S4",0,1]},"stations":[{"id":"S4","queue":9}]}`; string(patch) != want {
			t.Errorf("patch = %s\nwant    %s", patch, want)
		}
	})
	t.Run("a member is deleted", func(t *testing.T) {
		next := edit(func(m map[string]any) { delete(m["storage"].(map[string]any), "partial") })
		patch := roundTrip(t, prev, next)
		if want := `{"storage":{"$del":["partial"]}}`; string(patch) != want {
			t.Errorf("patch = %s\nwant    %s", patch, want)
		}
	})
	t.Run("every station changes: the list comes whole", func(t *testing.T) {
		next := edit(func(m map[string]any) {
			m["stations"] = []any{map[string]any{"id": "S9"}, map[string]any{"id": "S8"}}
		})
		patch := roundTrip(t, prev, next)
		if want := `{"stations":[{"id":"S9"},{"id":"S8"}]}`; string(patch) != want {
			t.Errorf("patch = %s\nwant    %s", patch, want)
		}
	})
	t.Run("the last point of a long series moves", func(t *testing.T) {
		var data []string
		for i := range 40 {
			data = append(data, strconv.Itoa(i*100))
		}
		a := `{"series":[{"name":"done","data":[` + strings.Join(data, ",") + `]}]}`
		data[39] = "3950"
		b := `{"series":[{"name":"done","data":[` + strings.Join(data, ",") + `,4000]}]}`
		patch := roundTrip(t, []byte(a), []byte(b))
		if want := `{"series":{"$at":{"0":{"data":{"$at":{"39":3950,"40":4000},"$len":41}}},"$len":1}}`; string(patch) != want {
			t.Errorf("patch = %s\nwant    %s", patch, want)
		}
	})
}

// Data with a member that the patch format reserves cannot be diffed.
func TestPatchRefusesReservedMembers(t *testing.T) {
	if _, _, err := Diff([]byte(`{"a":1}`), []byte(`{"a":{"$del":["b"]}}`)); err == nil {
		t.Error("Diff took a document with a $del member")
	}
}

// jsonSize counts what encoding/json writes (strings without escapes).
func TestJSONSize(t *testing.T) {
	for _, p := range randomPairs(3, 300) {
		v, _ := decodeTree(p[0])
		b, _ := json.Marshal(v)
		plain := strings.ReplaceAll(strings.ReplaceAll(string(b), `\"`, `"`), `\u0026`, "&")
		if got := jsonSize(v); got != len(plain) {
			t.Fatalf("jsonSize = %d, encoded %d: %s", got, len(plain), b)
		}
	}
}
