package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"tiendo"
	"tiendo/cmd/tiendo/vietnam2021"
)

// getNoFollow answers a GET with a bearer token, without following
// redirects: status, Location and body.
func getNoFollow(t *testing.T, u, token string) (int, string, string) {
	t.Helper()
	r := send(t, http.MethodGet, u, nil, http.Header{"Authorization": {"Bearer " + token}})
	return r.status, r.header.Get("Location"), r.body
}

// On the national campaign a province officer reads their province and
// below, over REST, the live stream and the pages, and nothing of another
// province or of the nation; the nation's overview carries its tile grid.
func TestProvinceOfficerOnTheNation(t *testing.T) {
	ts, _ := bootCampaignServer(t, "nation", io.Discard, nil, vietnam2021.Campaign(), vietnam2021.Stations())
	officer := ts.token(t, `{"role":"officer","subject":"LS"}`)
	for _, c := range []struct {
		scope string
		want  int
	}{
		{"unit:LS", 200}, {"district:LS-TP", 200}, {"station:LS-BS-VULE", 200},
		{"unit:HN", 403}, {"province", 403}, {"district:HN-H01", 403}, {"station:HN-H01-X001-CA", 403}, {"unit:NOPE", 403},
	} {
		if code, _, body := getNoFollow(t, ts.url+"/api/v1/snapshot?scope="+c.scope, officer); code != c.want {
			t.Errorf("snapshot %s: %d, want %d (%.200s)", c.scope, code, c.want, body)
		}
		for _, path := range []string{"/api/v1/alerts?scope=", "/api/v1/brief?format=csv&scope="} {
			if code, _, _ := getNoFollow(t, ts.url+path+c.scope, officer); (code == 403) != (c.want == 403) {
				t.Errorf("%s%s: %d, want %d", path, c.scope, code, c.want)
			}
		}
	}
	h := http.Header{"Authorization": {"Bearer " + officer}}
	if conn, resp, err := dial(t, ts, "scope=unit:HN", h); err == nil {
		conn.Close()
		t.Error("an LS officer opened the live stream of unit:HN")
	} else if resp == nil || resp.StatusCode != 403 {
		t.Errorf("live stream of unit:HN: %v %v, want 403", resp, err)
	}
	conn, _, err := dial(t, ts, "scope=unit:LS", http.Header{"Authorization": {"Bearer " + officer}})
	if err != nil {
		t.Fatalf("live stream of unit:LS: %v", err)
	}
	m := read(t, conn)
	conn.Close()
	var snap tiendo.Snapshot
	if err := json.Unmarshal(m.Snapshot, &snap); m.Type != "snapshot" || err != nil || snap.Totals.Target != 621_000 {
		t.Fatalf("unit:LS's first message: %s %v %+v", m.Type, err, snap.Totals)
	}

	// Pages: the officer's home is their province; another's is refused.
	if code, loc, _ := getNoFollow(t, ts.url+"/", officer); code != 303 || loc != "/unit/LS" {
		t.Errorf("/ for an LS officer: %d to %q, want 303 to /unit/LS", code, loc)
	}
	code, _, body := getNoFollow(t, ts.url+"/unit/LS", officer)
	if code != 200 || !strings.Contains(body, `data-scope="unit:LS"`) || !strings.Contains(body, "Toàn quốc") {
		t.Errorf("/unit/LS: %d %.300s", code, body)
	}
	// The nation above their province is said, not linked to a refusal.
	if !strings.Contains(body, `<span class="locked" title="Tài khoản này không mở được trang này">Toàn quốc`) {
		t.Errorf("/unit/LS: the nation's crumb is not marked locked for an LS officer")
	}
	if code, _, body := getNoFollow(t, ts.url+"/unit/HN", officer); code != 403 || !strings.Contains(body, `<p class="code">403</p>`) ||
		!strings.Contains(body, "Không có quyền xem") {
		t.Errorf("/unit/HN for an LS officer: %d, want a 403 page that says so", code)
	}
	code, _, body = getNoFollow(t, ts.url+"/station/LS-BS-VULE", officer)
	if code != 200 || !strings.Contains(body, `href="/unit/LS"`) || !strings.Contains(body, `href="/district/LS-BS"`) {
		t.Errorf("a station's breadcrumb does not climb to its district and province: %d", code)
	}
	chief := ts.token(t, `{"role":"chief","subject":"LS-BS-VULE"}`)
	code, _, body = getNoFollow(t, ts.url+"/station/LS-BS-VULE", chief)
	if code != 200 || strings.Contains(body, `href="/district/LS-BS"`) || strings.Count(body, `class="locked"`) < 3 {
		t.Errorf("a chief's breadcrumb links pages they cannot open: %d, %d locked", code, strings.Count(body, `class="locked"`))
	}
	leader := ts.token(t, `{"role":"leader"}`)
	code, _, body = getNoFollow(t, ts.url+"/", leader)
	if code != 200 || strings.Count(body, "&#34;col&#34;") != 63 {
		t.Errorf("the nation's overview: %d, %d tiles in data-tiles", code, strings.Count(body, "&#34;col&#34;"))
	}
	if code, _, _ := getNoFollow(t, ts.url+"/unit/HN-H01-X001", leader); code != 200 {
		t.Errorf("a commune's page: %d", code)
	}
}
