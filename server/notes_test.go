package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"tiendo"
)

// postNote writes a note as token and returns the status and the note (or
// the error body's items).
func postNote(t *testing.T, ts *testServer, token, body string) (int, tiendo.Note, []tiendo.FieldError) {
	t.Helper()
	code, raw := call(t, "POST", ts.url+"/api/v1/notes", token, "application/json", body)
	var n tiendo.Note
	var e tiendo.ErrorBody
	if code == 201 {
		if err := json.Unmarshal([]byte(raw), &n); err != nil {
			t.Fatal(err)
		}
	} else {
		json.Unmarshal([]byte(raw), &e)
	}
	return code, n, e.Items
}

// noteBody is a note request for where ("district":"D1" or
// "station":"S1") on 20 March, 14–17 h.
func noteBody(where, text string) string {
	return fmt.Sprintf(`{%s,"from":"2021-03-20T14:00:00+07:00","to":"2021-03-20T17:00:00+07:00","text":%q}`, where, text)
}

func listNotes(t *testing.T, ts *testServer, token, scope string) (int, []tiendo.Note) {
	t.Helper()
	code, raw := call(t, "GET", ts.url+"/api/v1/notes?scope="+scope, token, "", "")
	var out struct{ Notes []tiendo.Note }
	json.Unmarshal([]byte(raw), &out)
	return code, out.Notes
}

func noteTexts(notes []tiendo.Note) string {
	var out []string
	for _, n := range notes {
		out = append(out, n.Text)
	}
	return strings.Join(out, ", ")
}

// Who may write, read and delete which notes: a district's officer its
// district and the stations in it, leaders and admins any; chiefs,
// screens and station agents none; a note is read by whoever reads its
// scope, and deleted by its author or an admin.
func TestNotesPermissions(t *testing.T) {
	ts := startTestServer(t)
	d1 := ts.token(t, `{"role":"district","subject":"D1"}`)
	d1b := ts.token(t, `{"role":"district","subject":"D1"}`) // another officer of D1
	leader := ts.token(t, `{"role":"leader"}`)
	chief := ts.token(t, `{"role":"chief","subject":"S1"}`)
	screen := ts.token(t, `{"role":"screen"}`)
	station := ts.token(t, `{"station":"S1"}`)

	for _, tt := range []struct {
		name, token, where string
		want               int
	}{
		{"district officer, own district", d1, `"district":"D1"`, 201},
		{"district officer, own station", d1, `"station":"S1"`, 201},
		{"district officer, other district", d1, `"district":"D2"`, 403},
		{"district officer, other district's station", d1, `"station":"S2"`, 403},
		{"leader, any district", leader, `"district":"D2"`, 201},
		{"admin, any station", ts.admin, `"station":"S2"`, 201},
		{"chief, own station", chief, `"station":"S1"`, 403},
		{"screen", screen, `"district":"D1"`, 403},
		{"station agent", station, `"station":"S1"`, 403},
		{"nobody", "", `"district":"D1"`, 401},
	} {
		if code, _, _ := postNote(t, ts, tt.token, noteBody(tt.where, tt.name)); code != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, code, tt.want)
		}
	}

	for _, tt := range []struct {
		name, token, scope string
		code               int
		texts              string
	}{
		{"officer, own district", d1, "district:D1", 200, "district officer, own district, district officer, own station"},
		{"officer, other district", d1, "district:D2", 403, ""},
		{"chief: the station's and its district's own", chief, "station:S1", 200, "district officer, own district, district officer, own station"},
		{"screen, province", screen, "province", 200, "district officer, own district, district officer, own station, leader, any district, admin, any station"},
		{"leader, other district", leader, "district:D2", 200, "leader, any district, admin, any station"},
		{"unknown district", ts.admin, "district:D9", 404, ""},
		{"nobody", "", "province", 401, ""},
	} {
		code, notes := listNotes(t, ts, tt.token, tt.scope)
		if code != tt.code || noteTexts(notes) != tt.texts {
			t.Errorf("%s: %d %q, want %d %q", tt.name, code, noteTexts(notes), tt.code, tt.texts)
		}
	}

	_, all := listNotes(t, ts, ts.admin, "province")
	byText := map[string]tiendo.Note{}
	for _, n := range all {
		byText[n.Text] = n
	}
	own, leaders := byText["district officer, own station"], byText["leader, any district"]
	if own.By == "" || own.District != "D1" || own.Station != "S1" || own.At.IsZero() {
		t.Fatalf("stored note %+v", own)
	}
	del := func(token, id string) int {
		code, _ := call(t, "DELETE", ts.url+"/api/v1/notes/"+id, token, "", "")
		return code
	}
	if got := del(d1, leaders.ID); got != 404 {
		t.Errorf("an officer deleting another district's note: %d, want 404 (it is not theirs to see)", got)
	}
	if got := del(d1b, own.ID); got != 403 {
		t.Errorf("another officer of the district: %d, want 403", got)
	}
	if got := del(chief, own.ID); got != 403 {
		t.Errorf("the station's chief: %d, want 403", got)
	}
	if got := del(leader, own.ID); got != 403 {
		t.Errorf("a leader, not the author: %d, want 403", got)
	}
	if got := del(d1, own.ID); got != 200 {
		t.Errorf("the author: %d, want 200", got)
	}
	if got := del(ts.admin, leaders.ID); got != 200 {
		t.Errorf("an admin: %d, want 200", got)
	}
	if got := del(ts.admin, leaders.ID); got != 404 {
		t.Errorf("deleted twice: %d, want 404", got)
	}
	if _, notes := listNotes(t, ts, ts.admin, "province"); noteTexts(notes) != "district officer, own district, admin, any station" {
		t.Errorf("left after deleting: %q", noteTexts(notes))
	}
}

// A signed-in browser writes notes from the server's own pages only.
func TestNotesFromBrowsersNeedTheOwnOrigin(t *testing.T) {
	ts := startSigninServer(t, false)
	ts.addUser(t, "lan", "district", "D1", "correct horse battery")
	r := ts.login(t, "lan", "correct horse battery", nil)
	cookie := r.cookie("tiendo_session")
	if cookie == nil {
		t.Fatalf("sign-in: %d, no session cookie", r.status)
	}
	post := func(origin string) int {
		req, _ := http.NewRequest("POST", ts.url+"/api/v1/notes", strings.NewReader(noteBody(`"district":"D1"`, "từ trình duyệt")))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Cookie", cookie.Name+"="+cookie.Value)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post("http://evil.example"); got != 403 {
		t.Errorf("a foreign page: %d, want 403", got)
	}
	if got := post(""); got != 403 {
		t.Errorf("no Origin: %d, want 403", got)
	}
	if got := post(ts.url); got != 201 {
		t.Errorf("the server's own page: %d, want 201", got)
	}
	_, notes := listNotes(t, ts.testServer, ts.admin, "district:D1")
	if len(notes) != 1 || notes[0].By != "user:lan" {
		t.Fatalf("notes %+v, want one by user:lan", notes)
	}
}

// Each bad field of a note is named; a text of exactly 200 characters,
// trimmed, is fine.
func TestNoteValidation(t *testing.T) {
	ts := startTestServer(t)
	at := func(from, to string) string { return fmt.Sprintf(`"from":%q,"to":%q`, from, to) }
	ok := at("2021-03-20T14:00:00+07:00", "2021-03-20T17:00:00+07:00")
	for _, tt := range []struct {
		name, body, field string
	}{
		{"empty text", `{"district":"D1",` + ok + `,"text":"   "}`, "text"},
		{"201 characters", `{"district":"D1",` + ok + `,"text":"` + strings.Repeat("ồ", 201) + `"}`, "text"},
		{"a control character", `{"district":"D1",` + ok + `,"text":"a\u0007b"}`, "text"},
		{"a line break", `{"district":"D1",` + ok + `,"text":"a\nb"}`, "text"},
		{"a direction override", `{"district":"D1",` + ok + `,"text":"a\u202eb"}`, "text"},
		{"a zero-width space", `{"district":"D1",` + ok + `,"text":"a\u200bb"}`, "text"},
		{"to before from", `{"district":"D1",` + at("2021-03-20T17:00:00+07:00", "2021-03-20T14:00:00+07:00") + `,"text":"x"}`, "to"},
		{"over 31 days", `{"district":"D1",` + at("2021-03-20T14:00:00+07:00", "2021-04-21T14:00:00+07:00") + `,"text":"x"}`, "to"},
		{"before the campaign", `{"district":"D1",` + at("2021-03-01T14:00:00+07:00", "2021-03-01T17:00:00+07:00") + `,"text":"x"}`, "from"},
		{"not a time", `{"district":"D1",` + at("20/3 14h", "2021-03-20T17:00:00+07:00") + `,"text":"x"}`, "from"},
		{"no time", `{"district":"D1","from":"2021-03-20T14:00:00+07:00","text":"x"}`, "to"},
		{"unknown district", `{"district":"D9",` + ok + `,"text":"x"}`, "district"},
		{"unknown station", `{"station":"S9",` + ok + `,"text":"x"}`, "station"},
		{"station of another district", `{"district":"D2","station":"S1",` + ok + `,"text":"x"}`, "district"},
		{"neither", `{` + ok + `,"text":"x"}`, "district"},
	} {
		code, _, items := postNote(t, ts, ts.admin, tt.body)
		if code != 400 || len(items) != 1 || items[0].Field != tt.field || items[0].Reason == "" {
			t.Errorf("%s: %d %+v, want 400 naming %s alone", tt.name, code, items, tt.field)
		}
	}
	if code, _, _ := postNote(t, ts, ts.admin, `not json`); code != 400 {
		t.Errorf("not JSON: %d", code)
	}
	text := strings.Repeat("ồ", 200)
	code, n, _ := postNote(t, ts, ts.admin, `{"station":"S1","district":"D1",`+ok+`,"text":"  `+text+` "}`)
	if code != 201 || n.Text != text || n.District != "D1" || n.Station != "S1" || n.ID == "" {
		t.Fatalf("200 characters: %d %+v", code, n)
	}
	if want := time.Date(2021, 3, 20, 7, 0, 0, 0, time.UTC); !n.From.Equal(want) || n.From.Location() != time.UTC {
		t.Errorf("from %v, want %v in UTC", n.From, want)
	}
}

// plainJSON is a chart option as JSON without the live messages' HTML
// escapes (\u003c for <), so that tests read tooltips as ECharts gets them.
func plainJSON(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// tooltips are the tooltip texts of a chart option (plainJSON), one a line.
func tooltips(t *testing.T, option string) string {
	t.Helper()
	var v any
	if option == "" {
		return ""
	}
	if err := json.Unmarshal([]byte(option), &v); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if tip, ok := x["tooltip"].(map[string]any); ok {
				if f, ok := tip["formatter"].(string); ok {
					out = append(out, f)
				}
			}
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(v)
	return strings.Join(out, "\n")
}

// A note reaches the charts of its scopes: an open page's next charts
// carry it, escaped, on the progress and the hourly chart; a deleted note
// leaves them.
func TestNotesReachTheCharts(t *testing.T) {
	ts := startTestServer(t)
	tok := ts.token(t, `{"station":"S1"}`)
	ts.post(t, tok, `{"id":"h1","type":"heartbeat","station":"S1","ts":"2021-03-20T20:00:00+07:00","queue":3,"staff":2,"status":"open"}`)
	ws, _, err := dial(t, ts, "scope=district:D1&lang=vi", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if m := read(t, ws); strings.Contains(string(m.Charts["progress"]), "Ghi chú") || len(m.Charts["throughput_trend"]) == 0 {
		t.Fatal("notes on the charts before any was written, or no charts")
	}
	code, n, _ := postNote(t, ts, ts.admin, noteBody(`"station":"S1"`, `Đội lưu động <script>x</script>`))
	if code != 201 {
		t.Fatalf("post: %d", code)
	}
	escaped := "Đội lưu động &lt;script&gt;x&lt;/script&gt;"
	// Updates carry the charts that changed, at most every 5 s, and come
	// at least every 5 s: read with more time than read gives.
	var progress, trend string
	waitCharts := func(what string, ok func(progress, trend string) bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		ws.SetReadDeadline(deadline)
		for {
			var m wsMessage
			if err := ws.ReadJSON(&m); err != nil {
				t.Fatalf("no charts %s within 20 s: %v", what, err)
			}
			if c := m.Charts["progress"]; c != nil {
				progress = plainJSON(t, c)
			}
			if c := m.Charts["throughput_trend"]; c != nil {
				trend = plainJSON(t, c)
			}
			if ok(progress, trend) {
				return
			}
		}
	}
	waitCharts("with the note", func(p, tr string) bool {
		if strings.Contains(p, "<script>") || strings.Contains(tooltips(t, tr), "<script>") {
			t.Fatalf("a tooltip carries the note's markup unescaped")
		}
		return strings.Contains(p, "14:00–17:00 · Trạm 1: "+escaped) && strings.Contains(tr, `"markArea"`) &&
			strings.Contains(tooltips(t, tr), escaped)
	})
	// Another district's page never gets it.
	other, _, err := dial(t, ts, "scope=district:D2&lang=vi", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if m := read(t, other); strings.Contains(plainJSON(t, m.Charts["progress"]), "Đội lưu động") {
		t.Error("D2's charts show D1's note")
	}
	if code, _ := call(t, "DELETE", ts.url+"/api/v1/notes/"+n.ID, ts.admin, "", ""); code != 200 {
		t.Fatalf("delete: %d", code)
	}
	waitCharts("without the note", func(p, tr string) bool {
		return !strings.Contains(p, "Đội lưu động") && !strings.Contains(tr, "Đội lưu động")
	})
}
