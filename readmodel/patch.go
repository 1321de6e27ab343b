package readmodel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// A live update carries a patch: what changed in the snapshot (and in the
// charts) since the previous seq of its topic. The format is a JSON merge
// patch (RFC 7396) with three departures, so that an unchanged element of
// a list is not sent again and a null is a value like any other:
//
//   - An object patch holds only the members that changed; a member's value
//     is the patch of the old member (an object patch is merged into the old
//     object, anything else replaces it). Members it deletes are listed in
//     "$del" (null sets a member to null, it does not delete it).
//   - Lists of objects with a unique string "id" (stations, districts, the
//     attention lists, moves, alerts) are patched by id: the member's patch
//     is a list of element patches, each an object patch carrying the
//     element's "id" (a new element comes whole), and "$keyed" names the
//     member, with true when the ids keep their order, or else with the new
//     list in order: the index in the old list of an element kept, the id
//     of a new one (elements of the old list not in it are removed).
//   - Any other list either comes whole or, when shorter, as an index patch
//     {"$len": n, "$at": {"i": patch of element i}} (a chart's series whose
//     last point moved).
//
// Members starting with "$" are the patch's own: data that has one cannot
// be patched (Diff says so and the publisher sends a full snapshot).
// static/assets/livepatch.js applies the same format in the browser.

// tree is a decoded JSON value: map[string]any, []any, json.Number,
// string, bool or nil.
type tree = any

// decodeTree reads JSON into a tree, numbers as written (json.Number), and
// refuses object members that start with "$".
func decodeTree(b []byte) (tree, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if err := checkKeys(v); err != nil {
		return nil, err
	}
	return v, nil
}

func checkKeys(v any) error {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if strings.HasPrefix(k, "$") {
				return fmt.Errorf("member %q: names starting with $ are the patch format's own", k)
			}
			if err := checkKeys(e); err != nil {
				return err
			}
		}
	case []any:
		for _, e := range x {
			if err := checkKeys(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// Diff returns the patch that turns prev into next (both JSON documents
// whose top level is an object), and whether they differ at all.
func Diff(prev, next []byte) (patch []byte, changed bool, err error) {
	a, err := decodeTree(prev)
	if err != nil {
		return nil, false, fmt.Errorf("diff: previous: %w", err)
	}
	b, err := decodeTree(next)
	if err != nil {
		return nil, false, fmt.Errorf("diff: next: %w", err)
	}
	p, changed := diffTree(a, b)
	if !changed {
		return []byte("{}"), false, nil
	}
	out, err := json.Marshal(p)
	return out, true, err
}

// Apply applies patch to doc (JSON documents) and returns the result.
func Apply(doc, patch []byte) ([]byte, error) {
	a, err := decodeTree(doc)
	if err != nil {
		return nil, fmt.Errorf("apply: document: %w", err)
	}
	p, err := decodePatch(patch)
	if err != nil {
		return nil, err
	}
	r, err := applyTree(a, p)
	if err != nil {
		return nil, err
	}
	return json.Marshal(r)
}

func decodePatch(b []byte) (tree, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var p any
	if err := d.Decode(&p); err != nil {
		return nil, fmt.Errorf("apply: patch: %w", err)
	}
	return p, nil
}

// diffTree is the patch from a to b; changed is false when they are equal.
// b is never modified, and the patch may share parts of it.
func diffTree(a, b tree) (p any, changed bool) {
	switch bv := b.(type) {
	case map[string]any:
		if av, ok := a.(map[string]any); ok {
			return diffObject(av, bv)
		}
		return bv, true // merged into nothing: the object itself
	case []any:
		if av, ok := a.([]any); ok {
			if treeEqual(av, bv) {
				return nil, false
			}
			if ip, ok := indexPatch(av, bv); ok && jsonSize(ip) < jsonSize(bv) {
				return ip, true
			}
		}
		return bv, true
	default:
		if treeEqual(a, b) {
			return nil, false
		}
		return b, true
	}
}

func diffObject(a, b map[string]any) (map[string]any, bool) {
	p := map[string]any{}
	keyed := map[string]any{}
	for k, bv := range b {
		av, ok := a[k]
		if !ok {
			p[k] = bv
			continue
		}
		if ka, kb := keyedList(av), keyedList(bv); ka != nil && kb != nil {
			elems, order, changed := diffKeyed(ka, kb)
			if !changed {
				continue
			}
			if jsonSize(elems)+jsonSize(order) < jsonSize(bv) {
				p[k], keyed[k] = elems, order
			} else {
				p[k] = bv
			}
			continue
		}
		if sub, changed := diffTree(av, bv); changed {
			p[k] = sub
		}
	}
	var del []string
	for k := range a {
		if _, ok := b[k]; !ok {
			del = append(del, k)
		}
	}
	if len(del) > 0 {
		sort.Strings(del)
		p["$del"] = del
	}
	if len(keyed) > 0 {
		p["$keyed"] = keyed
	}
	return p, len(p) > 0
}

// keyedEntry is an element of a list patched by id.
type keyedEntry struct {
	id  string
	obj map[string]any
}

// keyedList is v as a list of objects with unique string ids, or nil when
// v is not one (an empty list is not: it is replaced whole).
func keyedList(v any) []keyedEntry {
	l, ok := v.([]any)
	if !ok || len(l) == 0 {
		return nil
	}
	out := make([]keyedEntry, len(l))
	seen := make(map[string]bool, len(l))
	for i, e := range l {
		o, ok := e.(map[string]any)
		if !ok {
			return nil
		}
		id, ok := o["id"].(string)
		if !ok || seen[id] {
			return nil
		}
		seen[id] = true
		out[i] = keyedEntry{id, o}
	}
	return out
}

// diffKeyed gives the element patches of the elements of b that are new or
// changed, in b's order, and b's order of ids (true when it is a's).
func diffKeyed(a, b []keyedEntry) (elems []any, order any, changed bool) {
	old := make(map[string]map[string]any, len(a))
	for _, e := range a {
		old[e.id] = e.obj
	}
	elems = []any{}
	for _, e := range b {
		ao, ok := old[e.id]
		if !ok {
			elems = append(elems, e.obj)
			continue
		}
		if p, changed := diffObject(ao, e.obj); changed {
			p["id"] = e.id
			elems = append(elems, p)
		}
	}
	same := len(a) == len(b)
	for i := 0; same && i < len(a); i++ {
		same = a[i].id == b[i].id
	}
	if same {
		return elems, true, len(elems) > 0
	}
	at := make(map[string]int, len(a))
	for i, e := range a {
		at[e.id] = i
	}
	list := make([]any, len(b))
	for i, e := range b {
		if j, ok := at[e.id]; ok {
			list[i] = j
		} else {
			list[i] = e.id
		}
	}
	return elems, list, true
}

// indexPatch patches list a into b element by element.
func indexPatch(a, b []any) (map[string]any, bool) {
	at := map[string]any{}
	for i, bv := range b {
		if i >= len(a) {
			at[strconv.Itoa(i)] = bv
			continue
		}
		if p, changed := diffTree(a[i], bv); changed {
			at[strconv.Itoa(i)] = p
		}
	}
	return map[string]any{"$len": len(b), "$at": at}, true
}

// applyTree applies patch p to a and returns the result; a is not modified.
func applyTree(a tree, p any) (tree, error) {
	po, ok := p.(map[string]any)
	if !ok {
		return p, nil // a value replaces what was there
	}
	if n, ok := po["$len"]; ok {
		return applyIndex(a, n, po["$at"])
	}
	ao, _ := a.(map[string]any)
	out := make(map[string]any, len(ao)+len(po))
	for k, v := range ao {
		out[k] = v
	}
	if del, ok := po["$del"]; ok {
		l, ok := del.([]any)
		if !ok {
			return nil, fmt.Errorf("apply: $del is %T, not a list", del)
		}
		for _, k := range l {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("apply: $del holds %T", k)
			}
			delete(out, ks)
		}
	}
	keyed, _ := po["$keyed"].(map[string]any)
	if _, ok := po["$keyed"]; ok && keyed == nil {
		return nil, fmt.Errorf("apply: $keyed is %T, not an object", po["$keyed"])
	}
	for k, v := range po {
		if k == "$del" || k == "$keyed" {
			continue
		}
		if order, ok := keyed[k]; ok {
			r, err := applyKeyed(ao[k], v, order)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = r
			continue
		}
		r, err := applyTree(ao[k], v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = r
	}
	return out, nil
}

func applyKeyed(a tree, elems any, order any) (tree, error) {
	el, ok := elems.([]any)
	if !ok {
		return nil, fmt.Errorf("apply: a keyed patch is %T, not a list", elems)
	}
	old, _ := a.([]any)
	byID := make(map[string]any, len(old))
	for _, e := range old {
		if o, ok := e.(map[string]any); ok {
			if id, ok := o["id"].(string); ok {
				byID[id] = o
			}
		}
	}
	patched := make(map[string]any, len(el))
	for _, e := range el {
		o, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("apply: a keyed element patch is %T", e)
		}
		id, ok := o["id"].(string)
		if !ok {
			return nil, fmt.Errorf("apply: a keyed element patch without an id")
		}
		r, err := applyTree(byID[id], o)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		patched[id] = r
	}
	if order == true {
		out := make([]any, len(old))
		for i, e := range old {
			out[i] = e
			if o, ok := e.(map[string]any); ok {
				id, _ := o["id"].(string)
				if r, ok := patched[id]; ok {
					out[i] = r
				}
			}
		}
		return out, nil
	}
	list, ok := order.([]any)
	if !ok {
		return nil, fmt.Errorf("apply: a keyed order is %T", order)
	}
	out := make([]any, len(list))
	for i, x := range list {
		var id string
		switch v := x.(type) {
		case string: // a new element
			id = v
		case json.Number: // the index of an element kept
			j, err := strconv.Atoi(string(v))
			if err != nil || j < 0 || j >= len(old) {
				return nil, fmt.Errorf("apply: keyed index %v of %d", v, len(old))
			}
			o, _ := old[j].(map[string]any)
			id, _ = o["id"].(string)
		default:
			return nil, fmt.Errorf("apply: a keyed order holds %T", x)
		}
		if r, ok := patched[id]; ok {
			out[i] = r
		} else if r, ok := byID[id]; ok {
			out[i] = r
		} else {
			return nil, fmt.Errorf("apply: id %q is neither kept nor sent", id)
		}
	}
	return out, nil
}

func applyIndex(a tree, n any, at any) (tree, error) {
	length, err := strconv.Atoi(fmt.Sprint(n))
	if err != nil || length < 0 {
		return nil, fmt.Errorf("apply: $len %v", n)
	}
	old, _ := a.([]any)
	out := make([]any, length)
	copy(out, old)
	ats, _ := at.(map[string]any)
	for k, v := range ats {
		i, err := strconv.Atoi(k)
		if err != nil || i < 0 || i >= length {
			return nil, fmt.Errorf("apply: $at index %q", k)
		}
		var prev tree
		if i < len(old) {
			prev = old[i]
		}
		r, err := applyTree(prev, v)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out[i] = r
	}
	return out, nil
}

// treeEqual compares decoded JSON values (numbers as written).
func treeEqual(a, b tree) bool {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for k, x := range av {
			y, ok := bv[k]
			if !ok || !treeEqual(x, y) {
				return false
			}
		}
		return true
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for i := range av {
			if !treeEqual(av[i], bv[i]) {
				return false
			}
		}
		return true
	case string:
		bv, ok := b.(string)
		return ok && av == bv
	case json.Number:
		bv, ok := b.(json.Number)
		return ok && av == bv
	case bool:
		bv, ok := b.(bool)
		return ok && av == bv
	case nil:
		return b == nil
	default:
		return reflect.DeepEqual(a, b)
	}
}

// jsonSize is about how many bytes v takes as JSON (strings counted
// without their escapes): enough to choose the shorter of two encodings
// without encoding either.
func jsonSize(v any) int {
	switch x := v.(type) {
	case nil:
		return 4
	case bool:
		if x {
			return 4
		}
		return 5
	case json.Number:
		return len(x)
	case string:
		return len(x) + 2
	case int:
		return len(strconv.Itoa(x))
	case map[string]any:
		n := 1 + len(x)
		for k, e := range x {
			n += len(k) + 3 + jsonSize(e)
		}
		return max(n, 2)
	case []any:
		n := 1 + len(x)
		for _, e := range x {
			n += jsonSize(e)
		}
		return max(n, 2)
	case []string:
		n := 1 + len(x)
		for _, e := range x {
			n += len(e) + 2
		}
		return max(n, 2)
	default:
		b, _ := json.Marshal(v)
		return len(b)
	}
}
