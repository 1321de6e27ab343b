package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"tiendo"
	"tiendo/readmodel"
	"tiendo/store"
	"tiendo/store/clickhouse"
	"tiendo/store/storetest"
)

// briefEvents are completions of S1 (district D1) and S2 (D2) from 10 to
// 20 March 2021 (none on the 19th), 08:00 to 22:xx, S1's night of the 18th
// running to 01:30; the last is today's 21:00, the replay clock's now.
func briefEvents(t *testing.T) []tiendo.Event {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	var evs []tiendo.Event
	for d := 10; d <= 20; d++ {
		if d == 19 {
			continue
		}
		for i, st := range []string{"S1", "S2"} {
			last := 22
			if d == 18 && st == "S1" {
				last = 25
			}
			if d == 20 {
				last = 21
			}
			for h := 8; h <= last; h++ {
				m := 30 - 30*map[bool]int{true: 1}[d == 20 && h == 21]
				evs = append(evs, tiendo.Event{ID: fmt.Sprintf("b-%s-%d-%d", st, d, h), Type: tiendo.TypeCompletion, Station: st,
					TS: time.Date(2021, 3, d, h, m, i, 0, loc), Count: 2 + (h+d+i)%5, FingerprintRetries: (h + i) % 4, Kind: tiendo.RecordStandard})
			}
		}
	}
	return evs
}

func postEvents(t *testing.T, ts *testServer, evs []tiendo.Event) {
	t.Helper()
	for _, st := range []string{"S1", "S2"} {
		var b strings.Builder
		for _, e := range evs {
			if e.Station != st {
				continue
			}
			fmt.Fprintf(&b, `{"id":%q,"type":"completion","station":%q,"ts":%q,"count":%d,"fingerprint_retries":%d,"kind":"standard"}`+"\n",
				e.ID, e.Station, e.TS.Format(time.RFC3339), e.Count, e.FingerprintRetries)
		}
		ts.post(t, ts.token(t, fmt.Sprintf(`{"station":%q}`, st)), b.String())
	}
}

// fetch GETs u with a bearer token and returns the status, headers and body.
func fetch(t *testing.T, u, token string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, body
}

// sheetRows reads a sheet of the brief's workbook: its header's columns and
// each row's raw cells by its first cell (a name, or the total's label).
func sheetRows(t *testing.T, x *excelize.File, sheet string) (map[string]int, map[string][]string) {
	t.Helper()
	rows, err := x.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	head := -1
	for i, r := range rows {
		if len(r) > 3 {
			head = i
			break
		}
	}
	if head < 0 {
		t.Fatalf("sheet %s has no table: %q", sheet, rows)
	}
	cols := map[string]int{}
	for i, h := range rows[head] {
		cols[h] = i
	}
	byName := map[string][]string{}
	for _, r := range rows[head+1:] {
		for len(r) < len(rows[head]) {
			r = append(r, "")
		}
		byName[r[0]] = r
	}
	return cols, byName
}

// figure is what the brief's row says in the column named col, as the
// snapshot writes it (percentages back in points).
func figure(t *testing.T, cols map[string]int, row []string, col string) string {
	t.Helper()
	i, ok := cols[col]
	if !ok {
		t.Fatalf("no column %q in %v", col, cols)
	}
	return row[i]
}

var stateVI = map[tiendo.PaceState]string{tiendo.PaceNotStarted: "Chưa bắt đầu", tiendo.PaceTooEarly: "Mới bắt đầu",
	tiendo.PaceDone: "Đã đạt chỉ tiêu", tiendo.PaceBehind: "Chậm tiến độ", tiendo.PaceOnTrack: "Đúng tiến độ",
	tiendo.PaceAhead: "Vượt tiến độ", tiendo.PaceEnded: "Đã hết hạn, chưa đạt chỉ tiêu"}

// sameAsSnapshot compares a brief row with a snapshot's figures.
func sameAsSnapshot(t *testing.T, what string, cols map[string]int, row []string, quota, completed, day int64, percent float64, pace *tiendo.Pace) {
	t.Helper()
	num := func(col string) float64 {
		v, err := strconv.ParseFloat(figure(t, cols, row, col), 64)
		if err != nil {
			t.Fatalf("%s: %s = %q, not a number", what, col, figure(t, cols, row, col))
		}
		return v
	}
	if num("Chỉ tiêu") != float64(quota) || num("Đã thu nhận (lũy kế)") != float64(completed) || num("Hồ sơ trong ngày") != float64(day) ||
		math.Abs(num("% chỉ tiêu")-percent/100) > 1e-12 {
		t.Errorf("%s: brief %q; the snapshot: quota %d, completed %d, %d on the day, %.2f%%", what, row, quota, completed, day, percent)
	}
	if pace == nil {
		t.Fatalf("%s has no pace in the snapshot", what)
	}
	needed := ""
	if pace.NeededPerDay != nil {
		needed = strconv.FormatInt(*pace.NeededPerDay, 10)
	}
	if figure(t, cols, row, "Kế hoạch đến nay") != strconv.FormatInt(pace.ExpectedToDate, 10) || figure(t, cols, row, "So với kế hoạch") != strconv.FormatInt(pace.Gap, 10) ||
		figure(t, cols, row, "Tiến độ") != stateVI[pace.State] || figure(t, cols, row, "Cần mỗi ngày") != needed {
		t.Errorf("%s: brief %q; the snapshot's pace %+v", what, row, *pace)
	}
}

func readXLSX(t *testing.T, body []byte) *excelize.File {
	t.Helper()
	x, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("not a workbook: %v", err)
	}
	t.Cleanup(func() { x.Close() })
	return x
}

// Today's brief as a workbook, read back: every district's and the
// total's figures are those of GET /api/v1/snapshot.
func TestBriefTodayEqualsTheSnapshot(t *testing.T) {
	ts := startTestServer(t)
	postEvents(t, ts, briefEvents(t))
	code, h, body := fetch(t, ts.url+"/api/v1/brief?scope=province&format=xlsx", ts.admin)
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet") ||
		h.Get("Content-Disposition") != `attachment; filename="bao-cao-ngay-2021-03-20-province.xlsx"` {
		t.Fatalf("brief: %d %v %s", code, h, body)
	}
	_, snapBody := get(t, ts.url+"/api/v1/snapshot?scope=province", ts.admin)
	var snap tiendo.Snapshot
	if err := json.Unmarshal([]byte(snapBody), &snap); err != nil {
		t.Fatal(err)
	}
	x := readXLSX(t, body)
	if got := x.GetSheetList(); strings.Join(got, ",") != "Quận huyện,Điểm cấp" {
		t.Fatalf("sheets %q", got)
	}
	cols, rows := sheetRows(t, x, "Quận huyện")
	for _, d := range snap.Districts {
		sameAsSnapshot(t, "district "+d.ID, cols, rows[d.Name], d.Quota, d.Completed, d.CompletedToday, d.PercentDone, d.Pace)
	}
	sameAsSnapshot(t, "total", cols, rows["Tổng cộng"], snap.Totals.Target, snap.Totals.Completed, snap.Totals.CompletedToday, snap.Totals.PercentDone, snap.Pace)
	if v := figure(t, cols, rows["Tổng cộng"], "Lấy lại vân tay / hồ sơ"); v != strconv.FormatFloat(snap.Totals.RetriesPerRec, 'f', -1, 64) {
		t.Errorf("total retries per record %s, the snapshot's %v", v, snap.Totals.RetriesPerRec)
	}
	cols, rows = sheetRows(t, x, "Điểm cấp")
	for _, st := range snap.Stations {
		sameAsSnapshot(t, "station "+st.ID, cols, rows[st.Name], st.Quota, st.Completed, st.CompletedToday, st.PercentDone, st.Pace)
	}
}

// A past day's brief equals a snapshot rebuilt at that day's end: a new
// database holding only the events before it, read with the clock there.
func TestBriefPastDayEqualsTheSnapshotRebuilt(t *testing.T) {
	ts := startTestServer(t)
	evs := briefEvents(t)
	postEvents(t, ts, evs)
	c, stations := testCampaign(t)
	ctx := context.Background()
	engine, _, err := clickhouse.Open(ctx, chServer.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()
	reg := tiendo.NewRegistry(c, c.Districts, stations)
	for _, tc := range []struct {
		day  tiendo.Day
		past string // the total's stations past 01:00
	}{
		{tiendo.DayOf(2021, 3, 18), "1"},
		{tiendo.DayOf(2021, 3, 19), "0"}, // no records at all
		{tiendo.DayOf(2021, 3, 12), "0"},
	} {
		end := c.DayEnd(tc.day)
		var before []tiendo.Event
		var day, late int64
		for _, e := range evs {
			if e.TS.Before(end) {
				before = append(before, e)
				if !e.TS.Before(c.DayStart(tc.day)) {
					day += int64(e.Count)
					if c.IsLateNight(e.TS) {
						late += int64(e.Count)
					}
				}
			}
		}
		db, err := store.Open(ctx, engine, storetest.NewDatabaseName("briefref"))
		if err != nil {
			t.Fatal(err)
		}
		db.SetStations(stations)
		if len(before) > 0 {
			if err := db.WriteEvents(ctx, before); err != nil {
				t.Fatal(err)
			}
		}
		at := end
		m := readmodel.New(readmodel.Sources{Store: db, Overlay: noneWaiting{}, Registry: func() *tiendo.Registry { return reg },
			Now: func() time.Time { return at }})
		ref, err := m.Snapshot(ctx, tiendo.ProvinceScope)
		if err != nil {
			t.Fatal(err)
		}
		at = end.Add(-time.Second) // the day's own records: a snapshot read just before its end
		lastSecond, err := m.Snapshot(ctx, tiendo.ProvinceScope)
		if err != nil {
			t.Fatal(err)
		}

		code, _, body := fetch(t, ts.url+"/api/v1/brief?scope=province&format=xlsx&day="+tc.day.String(), ts.admin)
		if code != 200 {
			t.Fatalf("%s: %d %s", tc.day, code, body)
		}
		x := readXLSX(t, body)
		if v, _ := x.GetCellValue("Quận huyện", "B5"); v != "04:00 "+(tc.day + 1).String()[8:10]+"/03/2021 (hết ngày làm việc)" {
			t.Errorf("%s: as of %q", tc.day, v)
		}
		cols, rows := sheetRows(t, x, "Quận huyện")
		for i, d := range ref.Districts {
			sameAsSnapshot(t, tc.day.String()+" district "+d.ID, cols, rows[d.Name], d.Quota, d.Completed, lastSecond.Districts[i].CompletedToday, d.PercentDone, d.Pace)
		}
		total := rows["Tổng cộng"]
		sameAsSnapshot(t, tc.day.String()+" total", cols, total, ref.Totals.Target, ref.Totals.Completed, lastSecond.Totals.CompletedToday, ref.Totals.PercentDone, ref.Pace)
		if lastSecond.Totals.CompletedToday != day {
			t.Errorf("%s: the rebuilt snapshot has %d records on the day, the events %d", tc.day, lastSecond.Totals.CompletedToday, day)
		}
		wantLate := ""
		if day > 0 {
			points := math.Round(100*float64(late)/float64(day)*100) / 100 // the snapshot's percentages: points, two decimals
			wantLate = strconv.FormatFloat(points/100, 'f', -1, 64)
		}
		if got := figure(t, cols, total, "Tỷ lệ ban đêm (22:00–04:00)"); got != wantLate || figure(t, cols, total, "Số điểm làm quá 01:00") != tc.past {
			t.Errorf("%s: late share %q past 01:00 %q; want %q and %s", tc.day, got, figure(t, cols, total, "Số điểm làm quá 01:00"), wantLate, tc.past)
		}
		if v := figure(t, cols, total, "Lấy lại vân tay / hồ sơ"); v != strconv.FormatFloat(ref.Totals.RetriesPerRec, 'f', -1, 64) {
			t.Errorf("%s: retries per record %s, the rebuilt snapshot's %v", tc.day, v, ref.Totals.RetriesPerRec)
		}
	}
}

// noneWaiting is the overlay of a database every event was written to.
type noneWaiting struct{}

func (noneWaiting) Read(query func([]tiendo.Event)) readmodel.Pending {
	query(nil)
	return readmodel.Pending{Complete: true}
}

// Who may read which brief, and what is refused.
func TestBriefAccessAndRequests(t *testing.T) {
	ts := startTestServer(t)
	postEvents(t, ts, briefEvents(t))
	u := ts.url + "/api/v1/brief?"
	d1 := ts.token(t, `{"role":"district","subject":"D1"}`)
	for _, tc := range []struct {
		query, token string
		want         int
	}{
		{"scope=province", "", 401},
		{"scope=province", d1, 403},
		{"scope=district:D2", d1, 403},
		{"scope=district:D1", d1, 200},
		{"scope=district:D9", ts.admin, 404},
		{"scope=station:S1", ts.admin, 400},
		{"scope=province&format=pdf", ts.admin, 400},
		{"scope=province&day=20-03-2021", ts.admin, 400},
		{"scope=province&day=2021-03-21", ts.admin, 400}, // tomorrow
		{"scope=province&day=2021-03-09", ts.admin, 400}, // before the start
		{"scope=province&day=2021-03-15&format=csv", ts.admin, 200},
	} {
		if code, _, body := fetch(t, u+tc.query, tc.token); code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.query, code, body, tc.want)
		}
	}
	// A district officer's brief lists the district's stations.
	_, _, body := fetch(t, u+"scope=district:D1&format=xlsx", d1)
	x := readXLSX(t, body)
	if got := x.GetSheetList(); len(got) != 1 || got[0] != "Điểm cấp" {
		t.Errorf("district brief sheets %q", got)
	}
	if _, rows := sheetRows(t, x, "Điểm cấp"); rows["Trạm 1"] == nil || rows["Trạm 2"] != nil {
		t.Errorf("district D1's brief rows: %v", rows)
	}
	// A command-room screen sees the aggregates: no station sheet.
	screen := ts.token(t, `{"role":"screen"}`)
	code, _, body := fetch(t, u+"scope=province&format=xlsx", screen)
	if code != 200 {
		t.Fatalf("screen: %d", code)
	}
	if got := readXLSX(t, body).GetSheetList(); len(got) != 1 || got[0] != "Quận huyện" {
		t.Errorf("a screen's brief has sheets %q, want the districts only", got)
	}
}

// The HTML brief is served with the site's CSP, in Vietnamese unless asked
// otherwise; the CSV with its BOM; the overview's and a district's page
// link to their brief, a station's does not.
func TestBriefPageAndLinks(t *testing.T) {
	ts := startTestServer(t)
	postEvents(t, ts, briefEvents(t))
	code, h, body := fetch(t, ts.url+"/api/v1/brief?scope=province", ts.admin)
	page := string(body)
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") ||
		!strings.Contains(page, `<html lang="vi">`) || !strings.Contains(page, "Báo cáo ngày") || strings.Contains(page, "<script") {
		t.Fatalf("html brief: %d %v\n%.400s", code, h, page)
	}
	for _, link := range []string{`href="/api/v1/brief?day=2021-03-20&amp;format=xlsx&amp;lang=vi&amp;scope=province" download`,
		`href="/api/v1/brief?day=2021-03-20&amp;format=html&amp;lang=en&amp;scope=province"`, `href="/"`} {
		if !strings.Contains(page, link) {
			t.Errorf("the page lacks the link %s", link)
		}
	}
	if _, _, body := fetch(t, ts.url+"/api/v1/brief?scope=province&lang=en", ts.admin); !strings.Contains(string(body), `<html lang="en">`) ||
		!strings.Contains(string(body), "Daily brief") {
		t.Errorf("lang=en: %.300s", body)
	}
	code, h, body = fetch(t, ts.url+"/api/v1/brief?scope=district:D1&format=csv", ts.admin)
	if code != 200 || !strings.HasPrefix(string(body), "\ufeffCấp,Mã,Tên") || h.Get("Content-Disposition") != `attachment; filename="bao-cao-ngay-2021-03-20-D1.csv"` {
		t.Errorf("csv: %d %v %.80q", code, h, body)
	}
	for path, want := range map[string]string{
		"/?lang=vi":            `href="/api/v1/brief?scope=province&amp;lang=vi">Báo cáo ngày</a>`,
		"/district/D1?lang=en": `href="/api/v1/brief?scope=district%3aD1&amp;lang=en">Daily brief</a>`,
		"/station/S1?lang=vi":  "",
	} {
		_, _, body := fetch(t, ts.url+path, ts.admin)
		has := strings.Contains(string(body), "brief-link")
		if want == "" && has || want != "" && !strings.Contains(string(body), want) {
			t.Errorf("%s: link %v, want %q in\n%.2000s", path, has, want, body)
		}
	}
}
