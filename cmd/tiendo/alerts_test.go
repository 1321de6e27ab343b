package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"tiendo"
)

// The silent-alert path on the real binary with a replay clock
// (the newest event's time is the campaign's now): Vũ Lễ says it is open
// and goes quiet while Chi Lăng keeps reporting, so the clock moves 16
// minutes on and a silent alert opens; Vũ Lễ's chief acknowledges it; the
// server is killed with SIGKILL and started again on the same DIR, and the
// same alert is still open with the same acknowledgement; Vũ Lễ's
// heartbeats return, the clock passes the campaign's clear time (5
// minutes) and the alert resolves, kept in the day's history.
func TestAlertAckSurvivesKill9(t *testing.T) {
	const silentStation, otherStation = "LS-BS-VULE", "LS-TP-CHILANG"
	replay := []string{"--clock", "replay", "--flush-every", "200ms"}
	p := startServer(t, t.TempDir(), "", replay...)
	vule, chilang := p.stationToken(silentStation), p.stationToken(otherStation)
	chief := p.roleToken("chief", silentStation)

	p.heartbeats(vule, silentStation, "v", 2, "20:00")
	// Chi Lăng reports every two minutes: the clock moves to 20:16.
	for m := 0; m <= 16; m += 2 {
		p.heartbeats(chilang, otherStation, "c", 0, fmt.Sprintf("20:%02d", m))
	}
	at2016 := ict(20, 16)

	var silent *tiendo.Alert
	waitFor(t, "a silent alert for "+silentStation, func() bool {
		silent = findAlert(p.alerts(t, p.admin(t), "scope=province"), tiendo.AlertSilent, silentStation)
		return silent != nil
	})
	if silent.District != "LS-BS" || !silent.Since.Equal(at2016) || silent.Value < 15 || silent.AckedAt != nil || silent.AckedBy != "" {
		t.Fatalf("silent alert = %+v; want LS-BS's, since 20:16, 15+ minutes, unacknowledged", silent)
	}
	if findAlert(p.alerts(t, p.admin(t), "scope=province"), tiendo.AlertSilent, otherStation) != nil {
		t.Fatalf("%s kept reporting and is silent too", otherStation)
	}

	code, acked := p.ackAlert(t, silent.ID, chief)
	if code != http.StatusOK || !strings.HasPrefix(acked.AckedBy, "token:") || acked.AckedAt == nil || !acked.AckedAt.Equal(at2016) || acked.ID != silent.ID {
		t.Fatalf("the chief's ack: %d %+v; want 200, by the chief's token, at 20:16", code, acked)
	}
	// The chief reads it acknowledged in their own scope too.
	if a := findAlert(p.alerts(t, chief, "scope=station:"+silentStation), tiendo.AlertSilent, silentStation); a == nil || a.AckedBy != acked.AckedBy {
		t.Fatalf("the chief's list after the ack: %+v", a)
	}

	// The acknowledgement is committed before it is answered: kill at once.
	// (The heartbeats are let reach ClickHouse first: a restart from the
	// spool is TestReplayClockResumesFromTheSpool's.)
	waitFor(t, "the spool to reach ClickHouse", func() bool { return p.storage()["pending"] == 0.0 })
	p.kill()
	p.start(replay...)

	sameAck := func(when string, a *tiendo.Alert) {
		t.Helper()
		if a == nil {
			t.Fatalf("%s: the silent alert is not open", when)
		}
		if a.ID != silent.ID || a.AckedBy != acked.AckedBy || a.AckedAt == nil || !a.AckedAt.Equal(*acked.AckedAt) || !a.Since.Equal(at2016) {
			t.Fatalf("%s: %+v; want id %s acknowledged by %s at %v", when, a, silent.ID, acked.AckedBy, acked.AckedAt)
		}
	}
	sameAck("after kill -9 and a restart", findAlert(p.alerts(t, p.admin(t), "scope=province"), tiendo.AlertSilent, silentStation))
	// The restarted engine's own rounds keep it (not reopened under a new
	// id, not resolved).
	n := p.alertRounds(t)
	waitFor(t, "two alert rounds after the restart", func() bool { return p.alertRounds(t) >= n+2 })
	sameAck("after two rounds of the restarted server", findAlert(p.alerts(t, p.admin(t), "scope=province"), tiendo.AlertSilent, silentStation))
	if got := p.snapshotNow(t); !got.Equal(at2016) {
		t.Fatalf("the replay clock after the restart: %v, want 20:16", got)
	}
	// A second acknowledgement (the admin's) changes nothing.
	if code, again := p.ackAlert(t, silent.ID, p.admin(t)); code != http.StatusOK || again.AckedBy != acked.AckedBy {
		t.Fatalf("the admin's ack after the restart: %d %+v", code, again)
	}

	// Vũ Lễ is back at 20:17: the clear time starts; it stays open through it.
	p.heartbeats(vule, silentStation, "v", 2, "20:17")
	n = p.alertRounds(t)
	waitFor(t, "two alert rounds after the heartbeat", func() bool { return p.alertRounds(t) >= n+2 })
	sameAck("back, within the clear time", findAlert(p.alerts(t, p.admin(t), "scope=province"), tiendo.AlertSilent, silentStation))

	// Both report at 20:23, past the 5 minutes: resolved.
	p.heartbeats(vule, silentStation, "v", 2, "20:23")
	p.heartbeats(chilang, otherStation, "c", 0, "20:23")
	waitFor(t, "the silent alert to resolve", func() bool {
		return findAlert(p.alerts(t, p.admin(t), "scope=province"), tiendo.AlertSilent, silentStation) == nil
	})
	day := p.alerts(t, p.admin(t), "scope=province&state=all&day=2021-03-20")
	a := findAlert(day, tiendo.AlertSilent, silentStation)
	if a == nil || a.ID != silent.ID || a.Resolved == nil || a.AckedBy != acked.AckedBy || a.AckedAt == nil || !a.AckedAt.Equal(*acked.AckedAt) {
		t.Fatalf("20 March's history: %+v; want %s resolved, acknowledged by %s", a, silent.ID, acked.AckedBy)
	}
	if r := *a.Resolved; r.Before(ict(20, 22)) || r.After(ict(20, 23)) {
		t.Errorf("resolved at %v; want 5 minutes clear after 20:17, at 20:23 the latest", r)
	}
	if other := p.alerts(t, p.admin(t), "scope=province&state=all&day=2021-03-19"); findAlert(other, tiendo.AlertSilent, silentStation) != nil {
		t.Errorf("19 March's history lists 20 March's alert: %+v", other)
	}
}

// A replay killed with events still in its spool resumes at the newest
// of them, not at the wall clock (nor at ClickHouse's newest): otherwise
// its alerts would resolve or open on 2026's clock after the restart.
func TestReplayClockResumesFromTheSpool(t *testing.T) {
	// The longest flush interval: the heartbeat stays in the spool for the
	// seconds the test takes.
	noFlush := []string{"--clock", "replay", "--flush-every", "1m"}
	p := startServer(t, t.TempDir(), "", noFlush...)
	tok := p.stationToken("LS-TP-CHILANG")
	p.heartbeats(tok, "LS-TP-CHILANG", "c", 0, "20:16")
	if got := p.snapshotNow(t); !got.Equal(ict(20, 16)) {
		t.Fatalf("the replay clock before the kill: %v, want 20:16", got)
	}
	if pending := p.storage()["pending"]; pending != 1.0 {
		t.Fatalf("%v events pending before the kill, want the heartbeat's 1", pending)
	}
	p.kill()
	p.start(noFlush...)
	if got := p.snapshotNow(t); !got.Equal(ict(20, 16)) {
		t.Fatalf("the replay clock after kill -9 with the heartbeat in the spool: %v, want 20:16", got)
	}
}

func ict(hour, minute int) time.Time {
	return time.Date(2021, 3, 20, hour, minute, 0, 0, time.FixedZone("ICT", 7*3600))
}

// heartbeats posts one heartbeat of station at hh:mm on 20 March,
// "open" with queue people waiting.
func (p *serverProc) heartbeats(token, station, prefix string, queue int, hhmm string) {
	p.t.Helper()
	body := fmt.Sprintf(`[{"id":"%s-%s","type":"heartbeat","station":%q,"ts":"2021-03-20T%s:00+07:00","queue":%d,"staff":2,"lanes":1,"status":"open"}]`,
		prefix, hhmm, station, hhmm, queue)
	if r := p.post(token, "application/json", []byte(body)); r.status != http.StatusAccepted || r.body["accepted"] != 1.0 {
		p.t.Fatalf("heartbeat %s %s: %d %s", station, hhmm, r.status, r.raw)
	}
}

// roleToken issues a person-role token (chief of a station, a district's
// officer) through the CLI.
func (p *serverProc) roleToken(role, subject string) string {
	p.t.Helper()
	out, err := p.cli("token", "issue", "--role", role, "--subject", subject)
	if err != nil {
		p.t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

func (p *serverProc) admin(t *testing.T) string {
	t.Helper()
	tok, err := readAdminToken(p.data)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// request sends method path as token and returns the status and body.
func (p *serverProc) request(t *testing.T, method, path, token string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, p.url()+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// alerts GETs /api/v1/alerts?query as token; anything but 200 fails.
func (p *serverProc) alerts(t *testing.T, token, query string) []tiendo.Alert {
	t.Helper()
	code, body := p.request(t, http.MethodGet, "/api/v1/alerts?"+query, token)
	var out struct {
		Alerts []tiendo.Alert `json:"alerts"`
	}
	if err := json.Unmarshal(body, &out); code != http.StatusOK || err != nil || out.Alerts == nil {
		t.Fatalf("GET alerts?%s: %d %v %s", query, code, err, body)
	}
	return out.Alerts
}

func (p *serverProc) ackAlert(t *testing.T, id, token string) (int, tiendo.Alert) {
	t.Helper()
	code, body := p.request(t, http.MethodPost, "/api/v1/alerts/"+url.PathEscape(id)+"/ack", token)
	var a tiendo.Alert
	if code == http.StatusOK {
		if err := json.Unmarshal(body, &a); err != nil {
			t.Fatalf("ack %s: %v %s", id, err, body)
		}
	}
	return code, a
}

// alertRounds is how many alert evaluations this server process has run.
func (p *serverProc) alertRounds(t *testing.T) int {
	t.Helper()
	code, body := p.request(t, http.MethodGet, "/metrics", p.admin(t))
	if code != http.StatusOK {
		t.Fatalf("metrics: %d", code)
	}
	for _, l := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(l, "tiendo_alert_round_seconds_count "); ok {
			var n int
			fmt.Sscan(v, &n)
			return n
		}
	}
	t.Fatal("no tiendo_alert_round_seconds_count in /metrics")
	return 0
}

// snapshotNow is the province snapshot's now: the replay clock.
func (p *serverProc) snapshotNow(t *testing.T) time.Time {
	t.Helper()
	code, body := p.request(t, http.MethodGet, "/api/v1/snapshot?scope=province", p.admin(t))
	var snap struct {
		Now time.Time `json:"now"`
	}
	if err := json.Unmarshal(body, &snap); code != http.StatusOK || err != nil {
		t.Fatalf("snapshot: %d %v", code, err)
	}
	return snap.Now
}

func findAlert(alerts []tiendo.Alert, kind tiendo.AlertKind, subject string) *tiendo.Alert {
	for i := range alerts {
		if alerts[i].Kind == kind && alerts[i].Subject() == subject {
			return &alerts[i]
		}
	}
	return nil
}
