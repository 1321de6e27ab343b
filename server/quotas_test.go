package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"tiendo"
	"tiendo/store/local"
)

// call makes one request with a bearer token ("" for none) and returns
// the status and the body.
func call(t *testing.T, method, u, token, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// quotaSnap is what the quota tests read of a snapshot.
type quotaSnap struct {
	Totals    tiendo.Totals
	Pace      *tiendo.Pace
	Stations  []tiendo.StationState
	Districts []tiendo.DistrictState
}

func snapshotOf(t *testing.T, ts *testServer, scope string) quotaSnap {
	t.Helper()
	code, body := call(t, "GET", ts.url+"/api/v1/snapshot?scope="+scope, ts.admin, "", "")
	if code != 200 {
		t.Fatalf("snapshot %s: %d %s", scope, code, body)
	}
	var s quotaSnap
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func importQuotas(t *testing.T, ts *testServer, token, query, file string) (int, string) {
	t.Helper()
	return call(t, "POST", ts.url+"/api/v1/admin/quotas"+query, token, "text/csv", file)
}

// A quota import is the admin's; bad rows are named by index and field
// and change nothing; a good file moves the snapshot's targets and paces
// at once, open live pages' too, says old → new in its answer and in the
// audit trail, and is what the export then gives.
func TestQuotaImport(t *testing.T) {
	logs := &logBuffer{}
	ts, _ := bootTestServer(t, "quotas", logs, nil)
	tok := ts.token(t, `{"station":"S1"}`)
	// The replay clock stands at the evening of 20 March, ten days in.
	ts.post(t, tok, `{"id":"h1","type":"heartbeat","station":"S1","ts":"2021-03-20T20:00:00+07:00","queue":3,"staff":2,"status":"open"}
{"id":"c1","type":"completion","station":"S1","ts":"2021-03-20T20:01:00+07:00","count":40}`)

	good := "level,id,quota\ndistrict,D1,700\nstation,S1,700\nstation,S2,400\n"
	if code, _ := importQuotas(t, ts, "", "", good); code != 401 {
		t.Errorf("no token: %d, want 401", code)
	}
	if code, _ := importQuotas(t, ts, ts.token(t, `{"role":"leader"}`), "", good); code != 403 {
		t.Errorf("a leader's token: %d, want 403", code)
	}

	code, body := importQuotas(t, ts, ts.admin, "", "level,id,quota\nstation,S9,5\nstation,S1,-1\ndistrict,D2,4OO\n")
	var refusal tiendo.ErrorBody
	json.Unmarshal([]byte(body), &refusal)
	if code != 400 || len(refusal.Items) != 3 || refusal.Items[0] != (tiendo.FieldError{Index: 0, Field: "id", Reason: `unknown station "S9"`}) ||
		refusal.Items[1].Index != 1 || refusal.Items[1].Field != "quota" || refusal.Items[2].Index != 2 || refusal.Items[2].Field != "quota" {
		t.Fatalf("bad rows: %d %s", code, body)
	}
	// S1 alone would leave D1's stations at 700 against its 600.
	code, body = importQuotas(t, ts, ts.admin, "", "level,id,quota\nstation,S1,700\n")
	json.Unmarshal([]byte(body), &refusal)
	if code != 400 || len(refusal.Items) != 1 || refusal.Items[0].Index != 0 || !strings.Contains(refusal.Items[0].Reason, "D1") {
		t.Fatalf("a district broken: %d %s", code, body)
	}

	before := snapshotOf(t, ts, "district:D1")
	if before.Totals.Target != 600 || before.Pace == nil || before.Pace.ExpectedToDate == 0 {
		t.Fatalf("before: target %d pace %+v", before.Totals.Target, before.Pace)
	}
	code, body = importQuotas(t, ts, ts.admin, "?dry_run=1", good)
	if code != 200 || !strings.Contains(body, `"dry_run":true`) || snapshotOf(t, ts, "district:D1").Totals.Target != 600 {
		t.Fatalf("dry run: %d %s, or it changed the target", code, body)
	}

	ws, _, err := dial(t, ts, "scope=district:D1&lang=vi", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	read(t, ws)

	code, body = importQuotas(t, ts, ts.admin, "", good)
	var report struct {
		DryRun bool `json:"dry_run"`
		tiendo.QuotaReport
	}
	if err := json.Unmarshal([]byte(body), &report); code != 200 || err != nil {
		t.Fatalf("import: %d %s", code, body)
	}
	want := []tiendo.QuotaChange{{Level: tiendo.QuotaDistrict, ID: "D1", Old: 600, New: 700}, {Level: tiendo.QuotaStation, ID: "S1", Old: 600, New: 700}}
	if report.DryRun || len(report.Changed) != 2 || report.Changed[0] != want[0] || report.Changed[1] != want[1] || report.Unchanged != 1 ||
		report.Districts != (tiendo.QuotaTotal{Old: 1000, New: 1100}) || report.Stations != (tiendo.QuotaTotal{Old: 1000, New: 1100}) ||
		report.Target != 1000 || len(report.Warnings) != 1 {
		t.Fatalf("report %s", body)
	}

	after := snapshotOf(t, ts, "district:D1")
	if after.Totals.Target != 700 || after.Pace.Target != 700 {
		t.Fatalf("after: target %d, pace target %d; want 700", after.Totals.Target, after.Pace.Target)
	}
	// The plan to date scales with the target (rounding aside).
	if got, want := after.Pace.ExpectedToDate, before.Pace.ExpectedToDate*7/6; got < want-1 || got > want+1 {
		t.Errorf("expected to date %d after, %d before: want about %d", got, before.Pace.ExpectedToDate, want)
	}
	if after.Pace.Gap != after.Pace.Done-after.Pace.ExpectedToDate || after.Pace.Gap >= before.Pace.Gap {
		t.Errorf("gap %d after, %d before: a larger quota must widen it", after.Pace.Gap, before.Pace.Gap)
	}
	if st := after.Stations[0]; st.ID != "S1" || st.Quota != 700 || st.Pace == nil || st.Pace.Target != 700 {
		t.Errorf("station after: %+v", st)
	}
	if d := snapshotOf(t, ts, "province").Districts[0]; d.ID != "D1" || d.Quota != 700 || d.Pace.Target != 700 {
		t.Errorf("the province's district row: %+v", d)
	}

	// The open page gets the new pace in an update, without reconnecting.
	deadline := time.Now().Add(5 * time.Second)
	for {
		m := read(t, ws)
		var d struct{ Pace *tiendo.Pace }
		json.Unmarshal(m.Snapshot, &d)
		if m.Type == "update" && d.Pace != nil && d.Pace.Target == 700 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no live update with the new target within 5 s")
		}
	}

	lines := logs.audit("quotas imported")
	if len(lines) != 1 || !strings.Contains(lines[0], "district:D1 600→700, station:S1 600→700") ||
		!strings.Contains(lines[0], "districts_total=1000→1100") || !strings.Contains(lines[0], "by=token:") {
		t.Fatalf("audit lines %q", lines)
	}
	if code, body := call(t, "GET", ts.url+"/api/v1/admin/quotas", ts.admin, "", ""); code != 200 ||
		!strings.Contains(body, "district,D1,Một,700\n") || !strings.Contains(body, "station,S1,Trạm 1,700\n") {
		t.Fatalf("export: %d %s", code, body)
	}
}

// District quotas saved by an import are laid over the campaign file's
// whenever the registry is built: at start, and when a station import
// replaces the stations.
func TestQuotasAppliedWhenTheRegistryIsBuilt(t *testing.T) {
	ts, _ := bootTestServer(t, "quotas", io.Discard, func(db *local.DB) {
		if err := db.SaveQuotas(map[string]int64{"D2": 450}, nil); err != nil {
			t.Fatal(err)
		}
	})
	if got := snapshotOf(t, ts, "district:D2").Totals.Target; got != 450 {
		t.Fatalf("D2's target at start: %d, want the saved 450", got)
	}
	stations := "id,name,district,commune,kind,lanes,lat,lon,quota,synthetic\n" +
		"S1,Trạm 1,D1,,fixed,2,21.9,106.3,600,\nS2,Trạm 2,D2,,mobile,1,21.8,106.5,450,\n"
	if code, body := call(t, "POST", ts.url+"/api/v1/admin/stations", ts.admin, "text/csv", stations); code != 200 {
		t.Fatalf("station import: %d %s", code, body)
	}
	if got := snapshotOf(t, ts, "district:D2"); got.Totals.Target != 450 || got.Stations[0].Quota != 450 {
		t.Fatalf("after a station import: D2's target %d, S2's quota %d; want 450 and 450", got.Totals.Target, got.Stations[0].Quota)
	}
}
