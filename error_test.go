package tiendo

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// The error body names the problems kept and how many there were: a
// client that sees items_total > len(items) knows the list was cut (M7).
func TestBodyOfCountsItems(t *testing.T) {
	kept := []FieldError{{Index: 0, Field: "a", Reason: "unknown field"}, {Index: 1, Field: "ts", Reason: "required"}}
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"cut", &Error{Code: EInvalid, Message: "batch rejected", Fields: kept, Total: 360004},
			`{"error":"batch rejected","code":"invalid","items":[{"index":0,"field":"a","reason":"unknown field"},{"index":1,"field":"ts","reason":"required"}],"items_total":360004}`},
		{"whole list, total unset", &Error{Code: EInvalid, Message: "bad", Fields: kept},
			`{"error":"bad","code":"invalid","items":[{"index":0,"field":"a","reason":"unknown field"},{"index":1,"field":"ts","reason":"required"}],"items_total":2}`},
		{"no items", Errorf(ETooLarge, "too big"), `{"error":"too big","code":"too_large"}`},
		{"wrapped", fmt.Errorf("ctx: %w", &Error{Code: EForbidden, Message: "no", Fields: kept[:1], Total: 7}),
			`{"error":"no","code":"forbidden","items":[{"index":0,"field":"a","reason":"unknown field"}],"items_total":7}`},
		{"internal", errors.New("disk on fire"), `{"error":"internal error","code":"internal"}`},
	} {
		b, err := json.Marshal(BodyOf(tt.err))
		if err != nil || string(b) != tt.want {
			t.Errorf("%s: %s, %v\nwant %s", tt.name, b, err, tt.want)
		}
	}
}

func TestErrorTextCountsTheRest(t *testing.T) {
	e := &Error{Code: EInvalid, Message: "batch rejected", Fields: []FieldError{{Index: 3, Field: "ts", Reason: "required"}}, Total: 101}
	if s := e.Error(); !strings.Contains(s, "item 3, ts: required and 100 more") {
		t.Errorf("Error() = %q", s)
	}
}
