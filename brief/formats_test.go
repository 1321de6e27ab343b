package brief_test

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"tiendo"
	"tiendo/brief"
)

var headersVI = []string{"Chỉ tiêu", "Đã thu nhận (lũy kế)", "% chỉ tiêu", "Hồ sơ trong ngày", "Kế hoạch đến nay",
	"So với kế hoạch", "Tiến độ", "Cần mỗi ngày", "Tỷ lệ ban đêm (22:00–04:00)", "Lấy lại vân tay / hồ sơ", "Số điểm làm quá 01:00"}

var headersEN = []string{"Quota", "Completed to date", "% done", "Records on the day", "Expected to date", "Gap", "Pace",
	"Needed per day", "Late-night share (22:00–04:00)", "Retries per record", "Stations past 01:00"}

// expectedCells are a row's cells as the workbook must hold them: numbers
// (percentages as fractions) or text, nil for an empty cell.
func expectedCells(r brief.Row, words map[tiendo.PaceState]string, withDistrict bool) []any {
	cells := []any{r.Name}
	if withDistrict {
		cells = append(cells, r.District)
	}
	var expected, gap, needed, late, pct any
	state := ""
	if r.Pace != nil {
		expected, gap, state = float64(r.Pace.ExpectedToDate), float64(r.Pace.Gap), words[r.Pace.State]
		if r.Pace.NeededPerDay != nil {
			needed = float64(*r.Pace.NeededPerDay)
		}
	}
	if r.LateShare != nil {
		late = *r.LateShare / 100
	}
	if r.Quota > 0 {
		pct = r.PercentDone / 100
	}
	return append(cells, float64(r.Quota), float64(r.Completed), pct, float64(r.DayRecords), expected, gap, state, needed, late,
		r.RetriesPerRecord, float64(r.PastHour))
}

var statesVI = map[tiendo.PaceState]string{tiendo.PaceTooEarly: "Mới bắt đầu", tiendo.PaceBehind: "Chậm tiến độ",
	tiendo.PaceOnTrack: "Đúng tiến độ", tiendo.PaceAhead: "Vượt tiến độ", tiendo.PaceDone: "Đã đạt chỉ tiêu"}

var statesEN = map[tiendo.PaceState]string{tiendo.PaceTooEarly: "Just started", tiendo.PaceBehind: "Behind",
	tiendo.PaceOnTrack: "On track", tiendo.PaceAhead: "Ahead", tiendo.PaceDone: "Target reached"}

// The workbook read back: a sheet per level, the campaign, scope, day and
// "as of" on top, the header frozen, every figure a number cell with its
// number format (percentages as percent cells), text as text (a name that
// starts with "=" is no formula), the total last and in bold, columns as
// wide as their longest value.
func TestXLSX(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		lang           string
		sheets         []string
		meta           [][2]string
		headers        []string
		states         map[tiendo.PaceState]string
		intFmt, pctFmt string
	}{
		{"vi", []string{"Quận huyện", "Điểm cấp"}, [][2]string{{"Chiến dịch", "Thử nghiệm"}, {"Phạm vi", "Toàn tỉnh"},
			{"Ngày làm việc", "20/03/2021"}, {"Số liệu đến", "21:15 20/03/2021 (ngày đang diễn ra)"}}, headersVI, statesVI, "[$-42A]#,##0", "[$-42A]0.0%"},
		{"en", []string{"Districts", "Stations"}, [][2]string{{"Campaign", "Trial"}, {"Scope", "Province"},
			{"Working day", "20 Mar 2021"}, {"Figures as of", "21:15 20 Mar 2021 (day in progress)"}}, headersEN, statesEN, "#,##0", "0.0%"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			b := f.build(t, brief.Request{Scope: tiendo.ProvinceScope})
			var buf bytes.Buffer
			if err := b.WriteXLSX(&buf, tc.lang); err != nil {
				t.Fatal(err)
			}
			x, err := excelize.OpenReader(&buf)
			if err != nil {
				t.Fatal(err)
			}
			defer x.Close()
			if got := x.GetSheetList(); strings.Join(got, "|") != strings.Join(tc.sheets, "|") {
				t.Fatalf("sheets %q, want %q", got, tc.sheets)
			}
			for s, sheet := range tc.sheets {
				rows := b.Districts
				headers := append([]string{map[string]string{"vi": "Quận/huyện", "en": "District"}[tc.lang]}, tc.headers...)
				if s == 1 {
					rows = b.Stations
					headers = append([]string{map[string]string{"vi": "Điểm cấp", "en": "Station"}[tc.lang], headers[0]}, tc.headers...)
				}
				for i, m := range tc.meta {
					for j, want := range m {
						if got := cellText(t, x, sheet, j+1, 2+i); got != want {
							t.Errorf("%s: meta %d,%d = %q, want %q", sheet, i, j, got, want)
						}
					}
				}
				head := 2 + len(tc.meta) + 1
				for c, want := range headers {
					if got := cellText(t, x, sheet, c+1, head); got != want {
						t.Errorf("%s: header %d = %q, want %q", sheet, c+1, got, want)
					}
				}
				panes, err := x.GetPanes(sheet)
				if err != nil || !panes.Freeze || panes.YSplit != head || panes.TopLeftCell != cellName(t, 1, head+1) {
					t.Errorf("%s: panes %+v %v, want frozen below row %d", sheet, panes, err, head)
				}
				total := b.Total
				total.Name = map[string]string{"vi": "Tổng cộng", "en": "Total"}[tc.lang]
				total.District = ""
				all := append(append([]brief.Row(nil), rows...), total)
				for i, r := range all {
					row := head + 1 + i
					for c, want := range expectedCells(r, tc.states, s == 1) {
						checkCell(t, x, sheet, c+1, row, want, tc.intFmt, tc.pctFmt, headers[c])
					}
					if bold := cellBold(t, x, sheet, 1, row); bold != (i == len(all)-1) {
						t.Errorf("%s row %d: bold %v, want bold for the total only", sheet, row, bold)
					}
				}
				if got := cellText(t, x, sheet, 1, head+len(all)+1); got != "" {
					t.Errorf("%s: a row after the total: %q", sheet, got)
				}
				for c := range headers {
					col, _ := excelize.ColumnNumberToName(c + 1)
					width, err := x.GetColWidth(sheet, col)
					if err != nil {
						t.Fatal(err)
					}
					for i := range all {
						v := cellText(t, x, sheet, c+1, head+1+i)
						if _, err := strconv.ParseFloat(v, 64); err == nil {
							continue // a number's width is its formatted one, checked by eye
						}
						if n := len([]rune(v)); float64(n) > width {
							t.Errorf("%s column %s: width %.1f for a %d-character value", sheet, col, width, n)
						}
					}
				}
			}
			// "=Trạm 3" is a name, not a formula.
			st := b.Stations[1]
			if st.Name != "=Trạm 3" {
				t.Fatalf("station rows out of order: %+v", st)
			}
			if formula, _ := x.GetCellFormula(tc.sheets[1], cellName(t, 1, 2+len(tc.meta)+3)); formula != "" {
				t.Errorf("the name =Trạm 3 became the formula %q", formula)
			}
		})
	}
}

func cellName(t *testing.T, col, row int) string {
	t.Helper()
	n, err := excelize.CoordinatesToCellName(col, row)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func cellText(t *testing.T, x *excelize.File, sheet string, col, row int) string {
	t.Helper()
	v, err := x.GetCellValue(sheet, cellName(t, col, row), excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func cellStyle(t *testing.T, x *excelize.File, sheet string, col, row int) *excelize.Style {
	t.Helper()
	id, err := x.GetCellStyle(sheet, cellName(t, col, row))
	if err != nil {
		t.Fatal(err)
	}
	s, err := x.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func cellBold(t *testing.T, x *excelize.File, sheet string, col, row int) bool {
	s := cellStyle(t, x, sheet, col, row)
	return s.Font != nil && s.Font.Bold
}

// checkCell checks one cell's type, value and number format.
func checkCell(t *testing.T, x *excelize.File, sheet string, col, row int, want any, intFmt, pctFmt, head string) {
	t.Helper()
	at := cellName(t, col, row)
	typ, err := x.GetCellType(sheet, at)
	if err != nil {
		t.Fatal(err)
	}
	raw := cellText(t, x, sheet, col, row)
	switch w := want.(type) {
	case nil:
		if raw != "" {
			t.Errorf("%s %s (%s): %q, want an empty cell", sheet, at, head, raw)
		}
	case string:
		if w == "" {
			if raw != "" {
				t.Errorf("%s %s (%s): %q, want empty", sheet, at, head, raw)
			}
			return
		}
		if typ != excelize.CellTypeSharedString && typ != excelize.CellTypeInlineString || raw != w {
			t.Errorf("%s %s (%s): %q of type %v, want the text %q", sheet, at, head, raw, typ, w)
		}
	case float64:
		// A number cell has no type attribute or t="n" (OOXML's default).
		if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
			t.Errorf("%s %s (%s): type %v, want a number", sheet, at, head, typ)
		}
		got, err := strconv.ParseFloat(raw, 64)
		if err != nil || got != w && !(abs(got-w) < 1e-12) {
			t.Errorf("%s %s (%s): %q, want %v", sheet, at, head, raw, w)
		}
		format := ""
		if s := cellStyle(t, x, sheet, col, row); s.CustomNumFmt != nil {
			format = *s.CustomNumFmt
		}
		wantFmt := intFmt
		switch {
		case strings.Contains(head, "%") || strings.Contains(head, "share") || strings.Contains(head, "Tỷ lệ"):
			wantFmt = pctFmt
		case strings.Contains(head, "/") || strings.Contains(head, "per record"):
			wantFmt = strings.Replace(intFmt, "#,##0", "#,##0.00", 1)
		}
		if format != wantFmt {
			t.Errorf("%s %s (%s): number format %q, want %q", sheet, at, head, format, wantFmt)
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// The CSV: a BOM, one header row, a row per district, station and the
// total, numbers plain, and text that would be a formula neutralised as
// the stations export neutralises it.
func TestCSV(t *testing.T) {
	f := newFixture(t)
	b := f.build(t, brief.Request{Scope: tiendo.ProvinceScope})
	var buf bytes.Buffer
	if err := b.WriteCSV(&buf, "vi"); err != nil {
		t.Fatal(err)
	}
	body, ok := strings.CutPrefix(buf.String(), "\ufeff")
	if !ok {
		t.Fatalf("no BOM: %q", buf.String()[:20])
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHead := append([]string{"Cấp", "Mã", "Tên", "Quận/huyện"}, headersVI...)
	if strings.Join(recs[0], "|") != strings.Join(wantHead, "|") {
		t.Fatalf("header %q\nwant   %q", recs[0], wantHead)
	}
	if len(recs) != 1+len(b.Districts)+len(b.Stations)+1 {
		t.Fatalf("%d records, want a header, %d districts, %d stations and a total", len(recs), len(b.Districts), len(b.Stations))
	}
	var stationsCSV bytes.Buffer
	if err := tiendo.WriteStationsCSV(&stationsCSV, []tiendo.Station{{ID: "S3", Name: "=Trạm 3", District: "D1", Kind: tiendo.KindFixed, Lanes: 2}}); err != nil {
		t.Fatal(err)
	}
	exported, err := csv.NewReader(&stationsCSV).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows := append(append(append([]brief.Row(nil), b.Districts...), b.Stations...), b.Total)
	for i, r := range rows {
		rec := recs[1+i]
		level := map[bool]string{true: "Quận/huyện", false: "Điểm cấp"}[i < len(b.Districts)]
		name := r.Name
		switch {
		case i == len(rows)-1:
			level, name = "Tổng cộng", "Toàn tỉnh"
		case r.Name == "=Trạm 3":
			name = exported[1][1] // as the stations export writes it
			if name != "'=Trạm 3" {
				t.Errorf("the stations export wrote %q", name)
			}
		}
		if rec[0] != level || rec[1] != r.ID || rec[2] != name || rec[3] != r.District {
			t.Errorf("record %d starts %q, want %q %q %q %q", i, rec[:4], level, r.ID, name, r.District)
		}
		if rec[4] != strconv.FormatInt(r.Quota, 10) || rec[5] != strconv.FormatInt(r.Completed, 10) || rec[7] != strconv.FormatInt(r.DayRecords, 10) ||
			rec[13] != strconv.FormatFloat(r.RetriesPerRecord, 'f', 2, 64) || rec[14] != strconv.Itoa(r.PastHour) {
			t.Errorf("record %d figures %q, want %+v", i, rec[4:], r)
		}
		if r.Quota > 0 && rec[6] != strconv.FormatFloat(r.PercentDone, 'f', 2, 64) || r.Quota == 0 && rec[6] != "" {
			t.Errorf("record %d percent %q, want %.2f", i, rec[6], r.PercentDone)
		}
		if r.Pace != nil && (rec[8] != strconv.FormatInt(r.Pace.ExpectedToDate, 10) || rec[9] != strconv.FormatInt(r.Pace.Gap, 10) || rec[10] != statesVI[r.Pace.State]) {
			t.Errorf("record %d pace %q, want %+v", i, rec[8:11], r.Pace)
		}
	}
}

// The page: Vietnamese by default, numbers for Vietnamese readers, an A4
// portrait print stylesheet that repeats the header row and splits no
// row, the links left off the paper, and no script.
func TestHTML(t *testing.T) {
	f := newFixture(t)
	b := f.build(t, brief.Request{Scope: tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: "D1"}, Day: tiendo.DayOf(2021, 3, 18)})
	var buf bytes.Buffer
	links := []brief.Link{{Label: "Tải về Excel (XLSX)", Href: "/x.xlsx", Download: true}}
	if err := b.WriteHTML(&buf, "vi", links); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{`<html lang="vi">`, "@page { size: A4 portrait;", "display: table-header-group", "break-inside: avoid",
		".actions { display: none; }", `<a href="/x.xlsx" download>Tải về Excel (XLSX)</a>`, "Báo cáo ngày · Một · 18/03/2021",
		"04:00 19/03/2021 (hết ngày làm việc)", "<th scope=\"col\">Tỷ lệ ban đêm (22:00–04:00)</th>", "=Trạm 3",
		dashFormatInt(b.Total.Completed), "Tổng cộng"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(strings.ToLower(page), "<script") {
		t.Error("the page has a script")
	}
	if b.Total.Pace == nil || !strings.Contains(page, `class="state state-`+string(b.Total.Pace.State)+`">`+statesVI[b.Total.Pace.State]) {
		t.Errorf("the total's pace %+v is not named", b.Total.Pace)
	}
}

// dashFormatInt is 1234 as a Vietnamese reader writes it, 1.234.
func dashFormatInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "." + s[i:]
	}
	return s
}
