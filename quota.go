package tiendo

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// A quota file sets the quotas (chỉ tiêu) of districts and stations in
// one table, one row per id:
//
//	level,id,quota
//	district,LS-BS,57813
//	station,LS-BS-VULE,3400
//
// Other columns (a name, a remark) are allowed and ignored, so a file
// exported by WriteQuotasCSV can be edited and imported again. An id left
// out keeps its quota. The province's target is the campaign file's and is
// not set here.

// QuotaLevel is what a row of a quota file sets.
type QuotaLevel string

const (
	QuotaDistrict QuotaLevel = "district"
	QuotaStation  QuotaLevel = "station"
)

// QuotaCSVHeader is the column order WriteQuotasCSV writes; ParseQuotasCSV
// needs level, id and quota, in any order.
var QuotaCSVHeader = []string{"level", "id", "name", "quota"}

// MaxQuota bounds one quota: far above any province's population, low
// enough that sums of thousands of them cannot overflow.
const MaxQuota = 1_000_000_000

// QuotaChange is one quota an import changes.
type QuotaChange struct {
	Level QuotaLevel `json:"level"`
	ID    string     `json:"id"`
	Old   int64      `json:"old"`
	New   int64      `json:"new"`
}

// QuotaTotal is a sum of quotas before and after an import.
type QuotaTotal struct {
	Old int64 `json:"old"`
	New int64 `json:"new"`
}

// QuotaReport says what an import changes: each quota that moves (in the
// file's order), how many rows restate the quota in force, the sums of
// district and station quotas before and after, the campaign's target
// (which the import leaves as it is), and warnings that do not stop it.
type QuotaReport struct {
	Changed   []QuotaChange `json:"changed"`
	Unchanged int           `json:"unchanged"`
	Districts QuotaTotal    `json:"districts"`
	Stations  QuotaTotal    `json:"stations"`
	Target    int64         `json:"target"`
	Warnings  []string      `json:"warnings"`
}

// QuotaPlan is a quota file checked against a registry: what to store and
// what to tell the operator.
type QuotaPlan struct {
	Report QuotaReport
	// Districts are the file's district quotas, by id: what a server
	// keeps over the campaign file's (WithDistrictQuotas).
	Districts map[string]int64
	// Stations is the registry's stations with the file's quotas, or nil
	// when the file sets no station's.
	Stations []Station
}

// ParseQuotasCSV reads a quota file and checks it against reg, all rows
// before any is used. Each bad row is an item of the returned EInvalid
// *Error, by its index among the data rows (0 is the row after the header)
// and field: a level other than district or station, an id reg does not
// know, a quota that is not a whole number from 0 to MaxQuota, an id set
// twice.
//
// Then each district the file touches (its own row, or a station's) is
// checked as a whole. Where its stations' quotas added up to its quota
// before the import and would not after, the file is refused: the
// district's pace and its stations' would measure against different
// totals, and the fix is to send the district's row and its stations' in
// the same file. Where they did not add up before either, the import goes
// through with a warning (a registry may carry partial station quotas; this
// file did not make it so). Stations without quotas (all zero) are not
// checked: the district alone has one. The campaign's target is checked
// the same way but only warned about: it is the campaign file's, and
// district quotas above it are a province's choice.
func ParseQuotasCSV(r io.Reader, reg *Registry) (*QuotaPlan, error) {
	rows, err := readQuotaRows(r, reg)
	if err != nil {
		return nil, err
	}
	plan := &QuotaPlan{Districts: map[string]int64{}, Report: QuotaReport{Target: reg.Campaign.Target,
		Changed: []QuotaChange{}, Warnings: []string{}}}
	newStation := map[string]int64{}
	firstRow := map[string]int{} // district id -> the row to blame for its sum: its own, else its first station's
	for _, q := range rows {
		var old int64
		district := q.id
		if q.level == QuotaDistrict {
			old = reg.District(q.id).Quota
			plan.Districts[q.id] = q.quota
			firstRow[district] = q.row
		} else {
			st := reg.Station(q.id)
			old, district = st.Quota, st.District
			newStation[q.id] = q.quota
			if _, ok := firstRow[district]; !ok {
				firstRow[district] = q.row
			}
		}
		if old == q.quota {
			plan.Report.Unchanged++
		} else {
			plan.Report.Changed = append(plan.Report.Changed, QuotaChange{Level: q.level, ID: q.id, Old: old, New: q.quota})
		}
	}
	for _, d := range reg.Districts() {
		plan.Report.Districts.Old += d.Quota
		plan.Report.Districts.New += quotaOr(plan.Districts, d.ID, d.Quota)
	}
	if len(newStation) > 0 {
		plan.Stations = append([]Station(nil), reg.Stations()...)
	}
	for i, st := range reg.Stations() {
		plan.Report.Stations.Old += st.Quota
		q := quotaOr(newStation, st.ID, st.Quota)
		plan.Report.Stations.New += q
		if plan.Stations != nil {
			plan.Stations[i].Quota = q
		}
	}

	var bad []FieldError
	for _, d := range reg.Districts() {
		row, touched := firstRow[d.ID]
		if !touched {
			continue
		}
		var before, after int64
		for _, st := range reg.StationsIn(Scope{Kind: ScopeDistrict, ID: d.ID}) {
			before += st.Quota
			after += quotaOr(newStation, st.ID, st.Quota)
		}
		quota := quotaOr(plan.Districts, d.ID, d.Quota)
		switch {
		case after == 0 || after == quota:
		case before == d.Quota:
			bad = append(bad, FieldError{Index: row, Field: "quota", Reason: fmt.Sprintf(
				"district %s: its stations' quotas would add up to %d, not its quota %d (they agree now: set the district and its stations in one file)",
				d.ID, after, quota)})
		default:
			plan.Report.Warnings = append(plan.Report.Warnings, fmt.Sprintf(
				"district %s: its stations' quotas add up to %d, not its quota %d (they did not agree before this file either)", d.ID, after, quota))
		}
	}
	if len(bad) > 0 {
		return nil, &Error{Code: EInvalid, Message: "quota file would break a district's total", Fields: bad}
	}
	if t := plan.Report.Districts; len(plan.Districts) > 0 && t.New != plan.Report.Target {
		plan.Report.Warnings = append(plan.Report.Warnings, fmt.Sprintf(
			"district quotas add up to %d, the campaign's target is %d: the province's pace still measures against %d",
			t.New, plan.Report.Target, plan.Report.Target))
	}
	return plan, nil
}

// quotaRow is one good row of a quota file.
type quotaRow struct {
	row   int
	level QuotaLevel
	id    string
	quota int64
}

// readQuotaRows reads and checks a quota file's rows one by one
// (ParseQuotasCSV says what a bad row is).
func readQuotaRows(r io.Reader, reg *Registry) ([]quotaRow, error) {
	t, err := openCSVTable(r, "quota file", []string{"level", "id", "quota"}, "level,id,quota")
	if err != nil {
		return nil, err
	}
	var (
		rows []quotaRow
		bad  []FieldError
		seen = map[string]bool{}
	)
	t.each(&bad, func(row int, get func(string) string) {
		fail := func(field, format string, args ...any) {
			bad = append(bad, FieldError{Index: row, Field: field, Reason: fmt.Sprintf(format, args...)})
		}
		q := quotaRow{row: row, level: QuotaLevel(strings.ToLower(get("level"))), id: get("id")}
		ok := true
		switch {
		case q.level != QuotaDistrict && q.level != QuotaStation:
			fail("level", "must be district or station, not %q", get("level"))
			ok = false
		case q.id == "":
			fail("id", "required")
			ok = false
		case q.level == QuotaDistrict && reg.District(q.id) == nil:
			fail("id", "unknown district %q", q.id)
			ok = false
		case q.level == QuotaStation && reg.Station(q.id) == nil:
			fail("id", "unknown station %q", q.id)
			ok = false
		case seen[string(q.level)+":"+q.id]:
			fail("id", "%s %s is set on an earlier row too", q.level, q.id)
			ok = false
		}
		if ok {
			seen[string(q.level)+":"+q.id] = true
		}
		var err error
		if q.quota, err = parseQuota(get("quota")); err != nil {
			fail("quota", "%v", err)
			ok = false
		}
		if ok {
			rows = append(rows, q)
		}
	})
	if len(bad) > 0 {
		return nil, &Error{Code: EInvalid, Message: "quota file has bad rows", Fields: bad}
	}
	if len(rows) == 0 {
		return nil, Errorf(EInvalid, "quota file has no rows")
	}
	return rows, nil
}

// parseQuota reads a quota cell: digits only. "12.500" is refused rather
// than read as 12500 or 12.5, since both readings are common.
func parseQuota(v string) (int64, error) {
	if v == "" {
		return 0, errors.New("required")
	}
	n, err := strconv.ParseInt(v, 10, 64)
	switch {
	case err != nil && strings.HasPrefix(v, "-"):
		return 0, fmt.Errorf("must not be negative: %q", v)
	case err != nil:
		return 0, fmt.Errorf("not a whole number: %q (digits only, no separators)", v)
	case n < 0:
		return 0, fmt.Errorf("must not be negative: %q", v)
	case n > MaxQuota:
		return 0, fmt.Errorf("at most %d", MaxQuota)
	}
	return n, nil
}

func quotaOr(m map[string]int64, id string, def int64) int64 {
	if q, ok := m[id]; ok {
		return q
	}
	return def
}

// WithDistrictQuotas returns a copy of districts with the quotas of
// overrides (by id) in place of their own; ids districts lack are ignored.
func WithDistrictQuotas(districts []District, overrides map[string]int64) []District {
	out := append([]District(nil), districts...)
	for i := range out {
		out[i].Quota = quotaOr(overrides, out[i].ID, out[i].Quota)
	}
	return out
}

// WriteQuotasCSV writes reg's quotas in QuotaCSVHeader's columns: the
// districts in campaign order, then the stations, each with its name for
// the reader (ParseQuotasCSV ignores it).
func WriteQuotasCSV(w io.Writer, reg *Registry) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(QuotaCSVHeader)
	for _, d := range reg.Districts() {
		_ = cw.Write([]string{string(QuotaDistrict), d.ID, neutraliseCell(d.Name), strconv.FormatInt(d.Quota, 10)})
	}
	for _, st := range reg.Stations() {
		_ = cw.Write([]string{string(QuotaStation), st.ID, neutraliseCell(st.Name), strconv.FormatInt(st.Quota, 10)})
	}
	cw.Flush()
	return cw.Error()
}
