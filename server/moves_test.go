package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"tiendo"
)

// A district where one station has a long queue at one of its three
// machines and its neighbour 2 km away has officers and no queue: the
// district's and the station's snapshots suggest the move, the station's
// chief marks it done, and it is not suggested again; the chief of another
// district may not answer it.
func TestStaffMoveSuggestedAndAnswered(t *testing.T) {
	ts := startTestServer(t)
	csv := "id,name,district,commune,kind,lanes,lat,lon,quota,synthetic\n" +
		"S1,Trạm 1,D1,,fixed,3,21.90,106.30,300,\n" +
		"S3,Trạm 3,D1,,fixed,2,21.918,106.30,300,\n" +
		"S2,Trạm 2,D2,,mobile,1,21.80,106.50,400,\n"
	req, _ := http.NewRequest(http.MethodPost, ts.url+"/api/v1/admin/stations", strings.NewReader(csv))
	req.Header.Set("Authorization", "Bearer "+ts.admin)
	req.Header.Set("Content-Type", "text/csv")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("import: %v %v", resp, err)
	}
	ts.post(t, ts.token(t, `{"station":"S1"}`), `{"id":"h1","type":"heartbeat","station":"S1","ts":"2021-03-20T20:00:00+07:00","queue":40,"staff":1,"lanes":1,"status":"open"}`)
	ts.post(t, ts.token(t, `{"station":"S3"}`), `{"id":"h3","type":"heartbeat","station":"S3","ts":"2021-03-20T20:00:00+07:00","queue":0,"staff":3,"lanes":2,"status":"open"}`)

	moves := func(scope string) []tiendo.StaffMove {
		t.Helper()
		code, body := get(t, ts.url+"/api/v1/snapshot?scope="+url.QueryEscape(scope), ts.admin)
		var snap struct{ Moves []tiendo.StaffMove }
		if err := json.Unmarshal([]byte(body), &snap); code != 200 || err != nil {
			t.Fatalf("snapshot %s: %d %v", scope, code, err)
		}
		return snap.Moves
	}
	m := moves("district:D1")
	if len(m) != 1 || m[0].From != "S3" || m[0].To != "S1" || m[0].Staff != 2 || m[0].WaitBefore != 240 || m[0].WaitAfter != 80 {
		t.Fatalf("district moves %+v, want 2 officers S3 → S1, 240 → 80 min", m)
	}
	if st := moves("station:S1"); len(st) != 1 || st[0].ID != m[0].ID {
		t.Fatalf("the station's page lacks its move: %+v", st)
	}
	if st := moves("station:S2"); len(st) != 0 {
		t.Fatalf("another district's station sees %+v", st)
	}
	answer := func(token, outcome string) int {
		return request(t, http.MethodPost, ts.url+"/api/v1/moves/"+url.PathEscape(m[0].ID), token, `{"outcome":"`+outcome+`"}`)
	}
	if code := answer(ts.token(t, `{"role":"chief","subject":"S2"}`), "done"); code != http.StatusForbidden {
		t.Errorf("another district's chief answered: %d", code)
	}
	chief := ts.token(t, `{"role":"chief","subject":"S1"}`)
	if code := answer(chief, "maybe"); code != http.StatusBadRequest {
		t.Errorf("a bad outcome: %d", code)
	}
	if code := answer(chief, "done"); code != 200 {
		t.Fatalf("the chief's answer: %d", code)
	}
	if m := moves("district:D1"); len(m) != 0 {
		t.Errorf("an answered move is suggested again: %+v", m)
	}
	if code := answer(chief, "done"); code != http.StatusConflict {
		t.Errorf("answering again: %d, want 409", code)
	}
}
