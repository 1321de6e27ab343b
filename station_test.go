package tiendo_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"tiendo"
)

func TestValidStationID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"LS-BS-VULE", true},
		{"ls.tp_01", true},
		{"9", true},
		{strings.Repeat("a", 48), true},
		{strings.Repeat("a", 49), false},
		{"", false},
		{"-LS", false},
		{".LS", false},
		{"_LS", false},
		{"LS BS", false},
		{"LS:BS", false},
		{"LS/BS", false},
		{"Vũ-Lễ", false},
		{"LS-BS\n", false},
	}
	for _, tt := range tests {
		if got := tiendo.ValidStationID(tt.id); got != tt.want {
			t.Errorf("ValidStationID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func testStation() tiendo.Station {
	return tiendo.Station{ID: "LS-BS-VULE", Name: "Công an xã Vũ Lễ", District: "LS-BS", Commune: "Vũ Lễ",
		Kind: tiendo.KindMobile, Lanes: 3, Lat: 21.90123, Lon: 106.31456, Quota: 4200}
}

func TestStationValidate(t *testing.T) {
	districts := map[string]tiendo.District{"LS-BS": {ID: "LS-BS"}, "LS-TP": {ID: "LS-TP"}}
	tests := []struct {
		name   string
		mutate func(s *tiendo.Station)
		want   []string
	}{
		{"valid", func(s *tiendo.Station) {}, nil},
		{"fixed", func(s *tiendo.Station) { s.Kind = tiendo.KindFixed }, nil},
		{"home visit", func(s *tiendo.Station) { s.Kind = tiendo.KindHomeVisit }, nil},
		{"lanes 1", func(s *tiendo.Station) { s.Lanes = 1 }, nil},
		{"lanes 50", func(s *tiendo.Station) { s.Lanes = 50 }, nil},
		{"zero quota", func(s *tiendo.Station) { s.Quota = 0 }, nil},
		{"bad id", func(s *tiendo.Station) { s.ID = "LS BS" }, []string{"id"}},
		{"blank name", func(s *tiendo.Station) { s.Name = "  " }, []string{"name"}},
		{"unknown district", func(s *tiendo.Station) { s.District = "LS-XX" }, []string{"district"}},
		{"unknown kind", func(s *tiendo.Station) { s.Kind = "boat" }, []string{"kind"}},
		{"no kind", func(s *tiendo.Station) { s.Kind = "" }, []string{"kind"}},
		{"lanes 0", func(s *tiendo.Station) { s.Lanes = 0 }, []string{"lanes"}},
		{"lanes 51", func(s *tiendo.Station) { s.Lanes = 51 }, []string{"lanes"}},
		{"lat 91", func(s *tiendo.Station) { s.Lat = 91 }, []string{"lat"}},
		{"lat NaN", func(s *tiendo.Station) { s.Lat = math.NaN() }, []string{"lat"}},
		{"lon -181", func(s *tiendo.Station) { s.Lon = -181 }, []string{"lon"}},
		{"negative quota", func(s *tiendo.Station) { s.Quota = -1 }, []string{"quota"}},
		{"all wrong", func(s *tiendo.Station) { *s = tiendo.Station{Lat: 100, Lon: 200, Quota: -1} },
			[]string{"id", "name", "district", "kind", "lanes", "lat", "lon", "quota"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testStation()
			tt.mutate(&s)
			var got []string
			for _, fe := range s.Validate(districts) {
				got = append(got, fe.Field)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Validate fields = %q, want %q", got, tt.want)
			}
		})
	}
}

var testDistricts = []tiendo.District{
	{ID: "LS-TP", Name: "TP Lạng Sơn", Quota: 81274},
	{ID: "LS-BS", Name: "Bắc Sơn", Quota: 56813},
	{ID: "LS-DL", Name: "Đình Lập", Quota: 22883},
}

func TestParseStationsCSV(t *testing.T) {
	in := "\ufeffid,name,district,commune,kind,lanes,lat,lon,quota,synthetic\n" +
		"LS-BS-VULE,Công an xã Vũ Lễ,LS-BS,Vũ Lễ,mobile,3,21.90123,106.31456,4200,0\n" +
		"LS-TP-CHILANG, \"Công an Phường Chi Lăng\",LS-TP,Phường Chi Lăng,fixed,4,21.79779,106.75501,13168,1\n" +
		"LS-DL-X,Xã X (giả lập),LS-DL,X,home_visit,1,21.5,107.1,10,true\n"
	got, err := tiendo.ParseStationsCSV(strings.NewReader(in), testDistricts)
	if err != nil {
		t.Fatal(err)
	}
	want := []tiendo.Station{
		testStation(),
		{ID: "LS-TP-CHILANG", Name: "Công an Phường Chi Lăng", District: "LS-TP", Commune: "Phường Chi Lăng",
			Kind: tiendo.KindFixed, Lanes: 4, Lat: 21.79779, Lon: 106.75501, Quota: 13168, Synthetic: true},
		{ID: "LS-DL-X", Name: "Xã X (giả lập)", District: "LS-DL", Commune: "X",
			Kind: tiendo.KindHomeVisit, Lanes: 1, Lat: 21.5, Lon: 107.1, Quota: 10, Synthetic: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseStationsCSV =\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseStationsCSVColumnOrder(t *testing.T) {
	in := "Quota, Lon ,lat,LANES,kind,commune,district,name,id\n" +
		"4200,106.31456,21.90123,3,mobile,Vũ Lễ,LS-BS,Công an xã Vũ Lễ,LS-BS-VULE\n"
	got, err := tiendo.ParseStationsCSV(strings.NewReader(in), testDistricts)
	if err != nil {
		t.Fatal(err)
	}
	if want := []tiendo.Station{testStation()}; !reflect.DeepEqual(got, want) {
		t.Errorf("ParseStationsCSV = %+v, want %+v", got, want)
	}
}

func TestParseStationsCSVErrors(t *testing.T) {
	const header = "id,name,district,commune,kind,lanes,lat,lon,quota,synthetic\n"
	const good = "LS-BS-VULE,Vũ Lễ,LS-BS,Vũ Lễ,mobile,3,21.9,106.3,4200,0\n"
	tests := []struct {
		name string
		in   string
		want []tiendo.FieldError // nil: only check that it fails with EInvalid
	}{
		{"empty file", "", nil},
		{"header only", header, nil},
		{"missing column", "id,name,district,commune,kind,lanes,lat,lon\n" + good, nil},
		{"bad number", header + good + "LS-BS-B,B,LS-BS,B,fixed,three,21.9,106.3,10,0\n",
			[]tiendo.FieldError{{Index: 1, Field: "lanes"}}},
		{"unknown district", header + "LS-XX-A,A,LS-XX,A,fixed,2,21.9,106.3,10,0\n" + good,
			[]tiendo.FieldError{{Index: 0, Field: "district"}}},
		{"duplicate id", header + good + good,
			[]tiendo.FieldError{{Index: 1, Field: "id"}}},
		{"wrong field count", header + good + "LS-BS-C,C,LS-BS\n",
			[]tiendo.FieldError{{Index: 1, Field: "row"}}},
		{"several rows", header + "LS BS,,LS-BS,A,fixed,2,21.9,106.3,10,0\n" + good + "LS-BS-D,D,LS-BS,D,car,2,21.9,106.3,x,0\n",
			[]tiendo.FieldError{{Index: 0, Field: "id"}, {Index: 0, Field: "name"}, {Index: 2, Field: "quota"}, {Index: 2, Field: "kind"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := tiendo.ParseStationsCSV(strings.NewReader(tt.in), testDistricts)
			if err == nil {
				t.Fatalf("ParseStationsCSV = %+v, nil; want an error", st)
			}
			if st != nil {
				t.Errorf("stations = %+v with an error, want nil", st)
			}
			var e *tiendo.Error
			if !errors.As(err, &e) || e.Code != tiendo.EInvalid {
				t.Fatalf("error = %v, want an EInvalid *tiendo.Error", err)
			}
			if tt.want == nil {
				return
			}
			var got []tiendo.FieldError
			for _, fe := range e.Fields {
				if fe.Reason == "" {
					t.Errorf("%+v: empty reason", fe)
				}
				got = append(got, tiendo.FieldError{Index: fe.Index, Field: fe.Field})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Fields = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestStationsCSVRoundTrip(t *testing.T) {
	want := []tiendo.Station{
		testStation(),
		{ID: "LS-TP-CHILANG", Name: "Công an Phường Chi Lăng, TP \"Lạng Sơn\"", District: "LS-TP", Commune: "Chi Lăng",
			Kind: tiendo.KindFixed, Lanes: 4, Lat: -21.79779, Lon: 106.75501, Quota: 13168, Synthetic: true},
	}
	var buf bytes.Buffer
	if err := tiendo.WriteStationsCSV(&buf, want); err != nil {
		t.Fatal(err)
	}
	if got, wantHeader := strings.SplitN(buf.String(), "\n", 2)[0], strings.Join(tiendo.StationCSVHeader, ","); got != wantHeader {
		t.Errorf("header = %q, want %q", got, wantHeader)
	}
	got, err := tiendo.ParseStationsCSV(&buf, testDistricts)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip =\n%+v\nwant\n%+v", got, want)
	}
}

func testRegistry(tb testing.TB) *tiendo.Registry {
	tb.Helper()
	c := mustTestCampaign(tb)
	stations := []tiendo.Station{
		{ID: "LS-TP-B", Name: "TP B", District: "LS-TP", Kind: tiendo.KindFixed, Lanes: 4, Quota: 1000},
		{ID: "LS-BS-VULE", Name: "Vũ Lễ", District: "LS-BS", Kind: tiendo.KindMobile, Lanes: 2, Quota: 500},
		{ID: "LS-TP-A", Name: "TP A", District: "LS-TP", Kind: tiendo.KindFixed, Lanes: 3, Quota: 2000},
	}
	return tiendo.NewRegistry(c, c.Districts, stations)
}

func stationIDs(ss []*tiendo.Station) []string {
	var ids []string
	for _, s := range ss {
		ids = append(ids, s.ID)
	}
	return ids
}

func TestRegistry(t *testing.T) {
	r := testRegistry(t)
	var all []string
	for _, s := range r.Stations() {
		all = append(all, s.ID)
	}
	if want := []string{"LS-BS-VULE", "LS-TP-A", "LS-TP-B"}; !reflect.DeepEqual(all, want) {
		t.Errorf("Stations() = %q, want %q (by district, then id)", all, want)
	}
	var dists []string
	for _, d := range r.Districts() {
		dists = append(dists, d.ID)
	}
	if want := []string{"LS-TP", "LS-BS", "LS-DL"}; !reflect.DeepEqual(dists, want) {
		t.Errorf("Districts() = %q, want %q (campaign order)", dists, want)
	}
	if s := r.Station("LS-TP-A"); s == nil || s.Quota != 2000 {
		t.Errorf("Station(LS-TP-A) = %+v, want quota 2000", s)
	}
	if s := r.Station("LS-XX"); s != nil {
		t.Errorf("Station(LS-XX) = %+v, want nil", s)
	}
	if d := r.District("LS-DL"); d == nil || d.Quota != 22883 {
		t.Errorf("District(LS-DL) = %+v, want quota 22883", d)
	}
	if d := r.District("LS-XX"); d != nil {
		t.Errorf("District(LS-XX) = %+v, want nil", d)
	}

	scopes := []struct {
		scope  tiendo.Scope
		ids    []string
		target int64
	}{
		{tiendo.ProvinceScope, []string{"LS-BS-VULE", "LS-TP-A", "LS-TP-B"}, 621000},
		{tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: "LS-TP"}, []string{"LS-TP-A", "LS-TP-B"}, 81274},
		{tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: "LS-DL"}, nil, 22883},
		{tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: "LS-XX"}, nil, 0},
		{tiendo.Scope{Kind: tiendo.ScopeStation, ID: "LS-BS-VULE"}, []string{"LS-BS-VULE"}, 500},
		{tiendo.Scope{Kind: tiendo.ScopeStation, ID: "LS-XX"}, nil, 0},
		{tiendo.Scope{Kind: "commune", ID: "LS-TP"}, nil, 0},
	}
	for _, tt := range scopes {
		if got := stationIDs(r.StationsIn(tt.scope)); !reflect.DeepEqual(got, tt.ids) {
			t.Errorf("StationsIn(%v) = %q, want %q", tt.scope, got, tt.ids)
		}
		if got := r.Target(tt.scope); got != tt.target {
			t.Errorf("Target(%v) = %d, want %d", tt.scope, got, tt.target)
		}
	}
}

func TestNewRegistryCopiesInput(t *testing.T) {
	c := mustTestCampaign(t)
	stations := []tiendo.Station{{ID: "LS-TP-A", District: "LS-TP", Quota: 1}}
	districts := append([]tiendo.District(nil), c.Districts...)
	r := tiendo.NewRegistry(c, districts, stations)
	stations[0].Quota = 99
	districts[0].Quota = 99
	if got, want := r.Station("LS-TP-A").Quota, int64(1); got != want {
		t.Errorf("station quota after caller's change = %d, want %d", got, want)
	}
	if got, want := r.District("LS-TP").Quota, int64(81274); got != want {
		t.Errorf("district quota after caller's change = %d, want %d", got, want)
	}
}

// L4: names and communes are bounded and free of characters that break
// pages and files or disguise what a reader sees.
func TestStationLabelsRefused(t *testing.T) {
	districts := map[string]tiendo.District{"D": {ID: "D"}}
	base := tiendo.Station{ID: "S", Name: "Trạm Vũ Lễ", District: "D", Commune: "Vũ Lễ", Kind: tiendo.KindFixed, Lanes: 1, Lat: 21, Lon: 106}
	if errs := base.Validate(districts); len(errs) != 0 {
		t.Fatalf("a plain Vietnamese station: %v", errs)
	}
	for _, tc := range []struct{ field, value string }{
		{"name", strings.Repeat("ạ", tiendo.MaxLabelRunes+1)},
		{"commune", strings.Repeat("x", 5000)},
		{"name", "Trạm\x00"},
		{"name", "Trạm\x07"},
		{"name", "a\nb"},
		{"name", "a\tb"},
		{"commune", "\u0085next line"},
		{"name", "\u202Eexe.gnp"},
		{"name", "x\u2067y"},
		{"name", "Vu\u200BLe"},
		{"commune", "\ufeffVũ Lễ"},
		{"name", "bad \xff utf-8"},
	} {
		st := base
		if tc.field == "name" {
			st.Name = tc.value
		} else {
			st.Commune = tc.value
		}
		errs := st.Validate(districts)
		if len(errs) != 1 || errs[0].Field != tc.field {
			t.Errorf("%s %q: %v; want one error naming %s", tc.field, tc.value, errs, tc.field)
		}
	}
	st := base
	st.Name = strings.Repeat("ạ", tiendo.MaxLabelRunes)
	if errs := st.Validate(districts); len(errs) != 0 {
		t.Errorf("a name of exactly %d runes: %v", tiendo.MaxLabelRunes, errs)
	}
}

// L4: an export opened in a spreadsheet shows formulas as text, and
// imports back to the same names.
func TestStationsCSVNeutralisesFormulas(t *testing.T) {
	districts := []tiendo.District{{ID: "D"}}
	in := []tiendo.Station{
		{ID: "A", Name: `=HYPERLINK("http://x","y")`, District: "D", Commune: "=cmd|' /C calc'!A0", Kind: tiendo.KindFixed, Lanes: 1, Lat: 21, Lon: 106},
		{ID: "B", Name: "+1 trạm", District: "D", Commune: "-x", Kind: tiendo.KindFixed, Lanes: 1, Lat: 21, Lon: 106},
		{ID: "C", Name: "@SUM(1)", District: "D", Commune: "'quoted", Kind: tiendo.KindFixed, Lanes: 1, Lat: 21, Lon: 106},
	}
	var b strings.Builder
	if err := tiendo.WriteStationsCSV(&b, in); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows[1:] {
		for _, cell := range []string{r[1], r[3]} {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("exported cell %q starts a formula", cell)
			}
		}
	}
	back, err := tiendo.ParseStationsCSV(strings.NewReader(b.String()), districts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if back[i].Name != in[i].Name || back[i].Commune != in[i].Commune {
			t.Errorf("round trip: %q/%q -> %q/%q", in[i].Name, in[i].Commune, back[i].Name, back[i].Commune)
		}
	}
}
