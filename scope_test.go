package tiendo_test

import (
	"encoding/json"
	"errors"
	"testing"

	"tiendo"
)

func TestParseScope(t *testing.T) {
	tests := []struct {
		in      string
		want    tiendo.Scope
		wantErr bool
	}{
		{"", tiendo.ProvinceScope, false},
		{"province", tiendo.ProvinceScope, false},
		{"district:LS-BS", tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: "LS-BS"}, false},
		{"station:LS-BS-VULE", tiendo.Scope{Kind: tiendo.ScopeStation, ID: "LS-BS-VULE"}, false},
		{"district:", tiendo.Scope{}, true},
		{"station:", tiendo.Scope{}, true},
		{"district", tiendo.Scope{}, true},
		{"district:LS BS", tiendo.Scope{}, true},
		{"district:LS-BS:x", tiendo.Scope{}, true},
		{"station:-x", tiendo.Scope{}, true},
		{"commune:LS-BS-VULE", tiendo.Scope{}, true},
		{"province:LS", tiendo.Scope{}, true},
		{"Province", tiendo.Scope{}, true},
		{"District:LS-BS", tiendo.Scope{}, true},
		{":LS-BS", tiendo.Scope{}, true},
	}
	for _, tt := range tests {
		got, err := tiendo.ParseScope(tt.in)
		if tt.wantErr {
			var e *tiendo.Error
			if !errors.As(err, &e) {
				t.Errorf("ParseScope(%q) = %+v, %v; want a *tiendo.Error", tt.in, got, err)
				continue
			}
			if e.Code != tiendo.EInvalid || len(e.Fields) != 1 || e.Fields[0].Field != "scope" {
				t.Errorf("ParseScope(%q) error = %+v, want EInvalid naming field scope", tt.in, e)
			}
			if got != (tiendo.Scope{}) {
				t.Errorf("ParseScope(%q) = %+v with an error, want the zero Scope", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseScope(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestScopeStringRoundTrip(t *testing.T) {
	tests := []struct {
		scope tiendo.Scope
		want  string
	}{
		{tiendo.ProvinceScope, "province"},
		{tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: "LS-TP"}, "district:LS-TP"},
		{tiendo.Scope{Kind: tiendo.ScopeStation, ID: "LS-BS-VULE"}, "station:LS-BS-VULE"},
	}
	for _, tt := range tests {
		if got := tt.scope.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
		back, err := tiendo.ParseScope(tt.scope.String())
		if err != nil || back != tt.scope {
			t.Errorf("ParseScope(%q) = %+v, %v; want %+v", tt.scope.String(), back, err, tt.scope)
		}
		b, err := json.Marshal(map[string]tiendo.Scope{"scope": tt.scope})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := string(b), `{"scope":"`+tt.want+`"}`; got != want {
			t.Errorf("Marshal = %s, want %s", got, want)
		}
		var m map[string]tiendo.Scope
		if err := json.Unmarshal(b, &m); err != nil || m["scope"] != tt.scope {
			t.Errorf("Unmarshal(%s) = %+v, %v; want %+v", b, m["scope"], err, tt.scope)
		}
	}
}

func TestScopeUnmarshalTextError(t *testing.T) {
	s := tiendo.Scope{Kind: tiendo.ScopeStation, ID: "LS-BS-VULE"}
	if err := s.UnmarshalText([]byte("galaxy:far")); tiendo.ErrorCode(err) != tiendo.EInvalid {
		t.Errorf("UnmarshalText(galaxy:far) = %v, want an %s error", err, tiendo.EInvalid)
	}
	if got, want := s, (tiendo.Scope{Kind: tiendo.ScopeStation, ID: "LS-BS-VULE"}); got != want {
		t.Errorf("after failed UnmarshalText = %+v, want unchanged %+v", got, want)
	}
}
