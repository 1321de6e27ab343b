package tiendo_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"tiendo"
)

// quotaRegistry is a province of two districts whose station quotas add
// up to their own (D1: 400 + 200 = 600, D2: 400) and a third, D3, whose
// stations carry no quotas.
func quotaRegistry(t *testing.T) *tiendo.Registry {
	t.Helper()
	c := &tiendo.Campaign{ID: "q", Name: "Quota", TimeZone: "Asia/Ho_Chi_Minh", Start: tiendo.DayOf(2021, 3, 10),
		Deadline: tiendo.DayOf(2021, 7, 1), Target: 1300, DayBoundaryHour: 4, OpenHour: 7, LateNightHour: 22, MinutesPerRecord: 6,
		Districts: []tiendo.District{{ID: "D1", Name: "Một", Quota: 600}, {ID: "D2", Name: "Hai", Quota: 400}, {ID: "D3", Name: "Ba", Quota: 300}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	st := func(id, d string, q int64) tiendo.Station {
		return tiendo.Station{ID: id, Name: "Trạm " + id, District: d, Kind: tiendo.KindFixed, Lanes: 1, Quota: q}
	}
	return tiendo.NewRegistry(c, c.Districts, []tiendo.Station{st("S1", "D1", 400), st("S2", "D1", 200), st("S3", "D2", 400),
		st("S4", "D3", 0), st("S5", "D3", 0)})
}

func parseQuotas(t *testing.T, reg *tiendo.Registry, file string) (*tiendo.QuotaPlan, []tiendo.FieldError) {
	t.Helper()
	plan, err := tiendo.ParseQuotasCSV(strings.NewReader(file), reg)
	if err == nil {
		return plan, nil
	}
	var e *tiendo.Error
	if !errors.As(err, &e) || e.Code != tiendo.EInvalid {
		t.Fatalf("error %v, want an EInvalid *Error", err)
	}
	if e.Fields == nil {
		t.Fatalf("error %v names no row", err)
	}
	return nil, e.Fields
}

// Every bad row is named by its index among the data rows and its field,
// all of them in one answer, and nothing of the file is planned.
func TestParseQuotasNamesBadRows(t *testing.T) {
	reg := quotaRegistry(t)
	file := "level,id,quota\n" +
		"district,D1,600\n" + // 0: fine
		"district,DX,10\n" + // 1: unknown district
		"station,SX,10\n" + // 2: unknown station
		"station,S1,-5\n" + // 3: negative
		"station,S2,12.5\n" + // 4: not whole
		"station,S3,12.500\n" + // 5: a thousands separator
		"station,S4,\n" + // 6: empty
		"commune,S5,1\n" + // 7: bad level
		"district,D1,600\n" + // 8: duplicate
		"station,S5,2000000000\n" + // 9: too large
		"station,,1\n" // 10: no id
	plan, fields := parseQuotas(t, reg, file)
	if plan != nil {
		t.Fatal("a file with bad rows was planned")
	}
	want := []tiendo.FieldError{{Index: 1, Field: "id"}, {Index: 2, Field: "id"}, {Index: 3, Field: "quota"}, {Index: 4, Field: "quota"},
		{Index: 5, Field: "quota"}, {Index: 6, Field: "quota"}, {Index: 7, Field: "level"}, {Index: 8, Field: "id"},
		{Index: 9, Field: "quota"}, {Index: 10, Field: "id"}}
	var got []tiendo.FieldError
	for _, f := range fields {
		if f.Reason == "" {
			t.Errorf("row %d %s: no reason", f.Index, f.Field)
		}
		got = append(got, tiendo.FieldError{Index: f.Index, Field: f.Field})
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("errors at %v,\nwant %v\n(all: %+v)", got, want, fields)
	}
	for i, sub := range map[int]string{1: `unknown district "DX"`, 2: `unknown station "SX"`, 3: "negative", 4: "whole number",
		5: "no separators", 6: "required", 8: "earlier row"} {
		if r := fieldAt(fields, i); !strings.Contains(r, sub) {
			t.Errorf("row %d: reason %q, want it to say %q", i, r, sub)
		}
	}
}

func fieldAt(fields []tiendo.FieldError, row int) string {
	for _, f := range fields {
		if f.Index == row {
			return f.Reason
		}
	}
	return ""
}

func TestParseQuotasFileShape(t *testing.T) {
	reg := quotaRegistry(t)
	for name, file := range map[string]string{
		"no quota column": "level,id\ndistrict,D1\n",
		"no id column":    "level,quota\ndistrict,1\n",
		"only a header":   "level,id,quota\n",
		"empty":           "",
	} {
		if _, err := tiendo.ParseQuotasCSV(strings.NewReader(file), reg); tiendo.ErrorCode(err) != tiendo.EInvalid {
			t.Errorf("%s: error %v, want invalid", name, err)
		}
	}
	// Columns in another order, a spreadsheet's byte-order mark, upper
	// case and a column for people to read are all fine.
	plan, fields := parseQuotas(t, reg, "\ufeffQuota,Name,ID,Level\n700,Một,D1,District\n500,Trạm S1,S1,station\n")
	if fields != nil {
		t.Fatalf("errors %+v", fields)
	}
	if plan.Districts["D1"] != 700 || plan.Stations == nil {
		t.Fatalf("plan districts %v, stations %v", plan.Districts, plan.Stations)
	}
}

// A district whose stations added up to it must still add up after the
// file: alone, a station's new quota is refused at its row; with the
// district's row, both go through, and the report says old → new.
func TestParseQuotasDistrictMustStillAddUp(t *testing.T) {
	reg := quotaRegistry(t)
	_, fields := parseQuotas(t, reg, "level,id,quota\nstation,S3,400\nstation,S1,500\n")
	if len(fields) != 1 || fields[0].Index != 1 || fields[0].Field != "quota" ||
		!strings.Contains(fields[0].Reason, "D1") || !strings.Contains(fields[0].Reason, "700") {
		t.Fatalf("errors %+v, want one at row 1 (S1's) naming D1 and the sum 700", fields)
	}
	// The district's own row is the one blamed when it is in the file.
	_, fields = parseQuotas(t, reg, "level,id,quota\nstation,S1,500\ndistrict,D1,650\n")
	if len(fields) != 1 || fields[0].Index != 1 {
		t.Fatalf("errors %+v, want one at row 1 (D1's)", fields)
	}

	plan, fields := parseQuotas(t, reg, "level,id,quota\nstation,S1,500\ndistrict,D1,700\nstation,S3,400\n")
	if fields != nil {
		t.Fatalf("errors %+v", fields)
	}
	r := plan.Report
	wantChanged := []tiendo.QuotaChange{{Level: tiendo.QuotaStation, ID: "S1", Old: 400, New: 500},
		{Level: tiendo.QuotaDistrict, ID: "D1", Old: 600, New: 700}}
	if !reflect.DeepEqual(r.Changed, wantChanged) || r.Unchanged != 1 {
		t.Fatalf("changed %+v unchanged %d, want %+v and 1", r.Changed, r.Unchanged, wantChanged)
	}
	if r.Districts != (tiendo.QuotaTotal{Old: 1300, New: 1400}) || r.Stations != (tiendo.QuotaTotal{Old: 1000, New: 1100}) || r.Target != 1300 {
		t.Fatalf("totals districts %+v stations %+v target %d", r.Districts, r.Stations, r.Target)
	}
	// The campaign's target is not this file's: a warning, not a refusal.
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "1400") || !strings.Contains(r.Warnings[0], "1300") {
		t.Fatalf("warnings %q, want one about 1400 against the target 1300", r.Warnings)
	}
	if !reflect.DeepEqual(plan.Districts, map[string]int64{"D1": 700}) {
		t.Errorf("district overrides %v", plan.Districts)
	}
	quotas := map[string]int64{}
	for _, st := range plan.Stations {
		quotas[st.ID] = st.Quota
	}
	if !reflect.DeepEqual(quotas, map[string]int64{"S1": 500, "S2": 200, "S3": 400, "S4": 0, "S5": 0}) {
		t.Errorf("planned stations %v", quotas)
	}
	if reg.Station("S1").Quota != 400 || reg.District("D1").Quota != 600 {
		t.Error("planning changed the registry it read")
	}
}

// Stations without quotas leave the district alone to have one; stations
// that did not add up before are the registry's, not this file's fault.
func TestParseQuotasWhereStationsDidNotAddUp(t *testing.T) {
	reg := quotaRegistry(t)
	plan, fields := parseQuotas(t, reg, "level,id,quota\ndistrict,D3,350\n")
	if fields != nil || len(plan.Report.Warnings) != 1 || plan.Stations != nil {
		t.Fatalf("D3 (no station quotas): errors %+v, warnings %q, stations %v; want only the target's warning and no station write",
			fields, plan.Report.Warnings, plan.Stations)
	}
	plan, fields = parseQuotas(t, reg, "level,id,quota\nstation,S4,100\ndistrict,D1,600\n")
	if fields != nil {
		t.Fatalf("errors %+v", fields)
	}
	if w := plan.Report.Warnings; len(w) != 1 || !strings.Contains(w[0], "D3") || !strings.Contains(w[0], "100") {
		t.Fatalf("warnings %q, want one about D3's stations adding up to 100", w)
	}
}

// An exported file imports again with nothing changed.
func TestQuotasCSVRoundTrip(t *testing.T) {
	reg := quotaRegistry(t)
	var b bytes.Buffer
	if err := tiendo.WriteQuotasCSV(&b, reg); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "level,id,name,quota\ndistrict,D1,Một,600\n") {
		t.Fatalf("export starts %q", b.String()[:40])
	}
	plan, fields := parseQuotas(t, reg, b.String())
	if fields != nil {
		t.Fatalf("errors %+v", fields)
	}
	if len(plan.Report.Changed) != 0 || plan.Report.Unchanged != 8 || len(plan.Report.Warnings) != 0 {
		t.Fatalf("report %+v, want 8 unchanged rows and nothing else", plan.Report)
	}
}

func TestWithDistrictQuotas(t *testing.T) {
	ds := []tiendo.District{{ID: "D1", Quota: 1}, {ID: "D2", Quota: 2}}
	got := tiendo.WithDistrictQuotas(ds, map[string]int64{"D2": 20, "GONE": 5})
	if got[0].Quota != 1 || got[1].Quota != 20 || len(got) != 2 {
		t.Fatalf("got %+v", got)
	}
	if ds[1].Quota != 2 {
		t.Error("the campaign's districts were changed in place")
	}
}
