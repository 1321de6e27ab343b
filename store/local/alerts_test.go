package local_test

import (
	"reflect"
	"testing"
	"time"

	"tiendo"
)

var ict = time.FixedZone("ICT", 7*3600)

func ictAt(day, hour, minute int) time.Time {
	return time.Date(2021, 3, day, hour, minute, 0, 0, ict).UTC()
}

func ptr(t time.Time) *time.Time { return &t }

func alertIDs(alerts []tiendo.Alert) []string {
	ids := []string{}
	for _, a := range alerts {
		ids = append(ids, a.ID)
	}
	return ids
}

// An open alert and its acknowledgement are there after the state is
// closed and opened again; a second acknowledgement changes nothing; a
// resolve written from a copy made before the acknowledgement keeps it.
func TestAlertsPersistAndAck(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir)
	a := tiendo.Alert{ID: "silent~S1~1", Kind: tiendo.AlertSilent, Station: "S1", District: "D1", Since: ictAt(20, 21, 0),
		Severity: "warning", Value: 16}
	if err := db.SaveAlerts([]tiendo.Alert{a}, []string{a.ID}); err != nil {
		t.Fatal(err)
	}
	got, acked, err := db.AckAlert(a.ID, "user:lan", ictAt(20, 21, 5))
	if err != nil || !acked || got.AckedBy != "user:lan" || !got.AckedAt.Equal(ictAt(20, 21, 5)) {
		t.Fatalf("AckAlert = %+v, %v, %v", got, acked, err)
	}
	db.Close()

	db = mustOpen(t, dir)
	open, err := db.OpenAlerts()
	if err != nil || len(open) != 1 || open[0].AckedBy != "user:lan" || open[0].Value != 16 || open[0].Resolved != nil {
		t.Fatalf("after reopening: OpenAlerts = %+v, %v; want the alert, acknowledged by user:lan", open, err)
	}
	if again, acked, err := db.AckAlert(a.ID, "user:minh", ictAt(20, 21, 9)); err != nil || acked || again.AckedBy != "user:lan" {
		t.Errorf("second AckAlert = %+v, %v, %v; want the first acknowledgement unchanged", again, acked, err)
	}
	// The engine's copy from before the acknowledgement, now resolved.
	a.Resolved, a.Value = ptr(ictAt(20, 21, 30)), 22
	if err := db.SaveAlerts([]tiendo.Alert{a}, nil); err != nil {
		t.Fatal(err)
	}
	stored, err := db.Alert(a.ID)
	if err != nil || stored.AckedBy != "user:lan" || stored.Resolved == nil || stored.Value != 22 {
		t.Errorf("resolved alert = %+v, %v; want resolved at 21:30, value 22, still acknowledged", stored, err)
	}
	if open, _ := db.OpenAlerts(); len(open) != 0 {
		t.Errorf("OpenAlerts after resolving = %+v, want none", open)
	}
	if _, err := db.Alert("nope"); err == nil {
		t.Error("Alert of an unknown id: no error")
	} else {
		wantCode(t, err, tiendo.ENotFound)
	}
	_, _, err = db.AckAlert("nope", "user:lan", ictAt(20, 22, 0))
	wantCode(t, err, tiendo.ENotFound)
}

// AlertsDuring is "open at any instant of [from, to)": a working day of
// 04:00 to 04:00 ICT spans two UTC days, alerts that opened days before
// and are still open or resolved inside it count, those resolved before
// it or opened after it do not.
func TestAlertsDuringWorkingDay(t *testing.T) {
	db := mustOpen(t, t.TempDir())
	alerts := []tiendo.Alert{
		{ID: "before", Since: ictAt(19, 20, 0), Resolved: ptr(ictAt(20, 3, 59))},        // resolved a minute before day 20
		{ID: "spans", Since: ictAt(18, 9, 0), Resolved: ptr(ictAt(22, 9, 0))},           // open all through day 20
		{ID: "edge-start", Since: ictAt(19, 23, 0), Resolved: ptr(ictAt(20, 4, 0))},     // resolved at day 20's first instant
		{ID: "night", Since: ictAt(21, 1, 30), Resolved: ptr(ictAt(21, 2, 0))},          // 01:30 belongs to day 20
		{ID: "next-day", Since: ictAt(21, 4, 0)},                                        // day 21's first instant
		{ID: "old-open", Since: ictAt(10, 8, 0)},                                        // opened on day 10, still open
		{ID: "today", Since: ictAt(20, 10, 0), Resolved: ptr(ictAt(20, 11, 0))},         // inside day 20
		{ID: "late-resolved", Since: ictAt(15, 10, 0), Resolved: ptr(ictAt(20, 12, 0))}, // resolved during day 20
	}
	for i := range alerts {
		alerts[i].Kind, alerts[i].District, alerts[i].Severity = tiendo.AlertBehind, "D1", "warning"
	}
	// Saved open first and resolved later, as the engine does.
	for _, a := range alerts {
		open := a
		open.Resolved = nil
		if err := db.SaveAlerts([]tiendo.Alert{open}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SaveAlerts(alerts, nil); err != nil {
		t.Fatal(err)
	}
	got, err := db.AlertsDuring(ictAt(20, 4, 0), ictAt(21, 4, 0))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"old-open", "late-resolved", "spans", "edge-start", "today", "night"}
	if ids := alertIDs(got); !reflect.DeepEqual(ids, want) {
		t.Errorf("alerts during working day 20 = %v, want %v (by opening time)", ids, want)
	}
	// A day with nothing but the alert still open.
	if got, _ := db.AlertsDuring(ictAt(12, 4, 0), ictAt(13, 4, 0)); !reflect.DeepEqual(alertIDs(got), []string{"old-open"}) {
		t.Errorf("alerts during day 12 = %v, want [old-open]", alertIDs(got))
	}
	if got, _ := db.AlertsDuring(ictAt(9, 4, 0), ictAt(10, 4, 0)); len(got) != 0 {
		t.Errorf("alerts during day 9 = %v, want none", alertIDs(got))
	}
}

// The webhook's marks: set with the opening, listed oldest first, cleared
// once delivered, and kept across a restart until then.
func TestAlertsToNotify(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir)
	a := tiendo.Alert{ID: "b", Kind: tiendo.AlertLongWait, Station: "S1", Since: ictAt(20, 21, 0), Severity: "warning", Value: 130}
	b := tiendo.Alert{ID: "a", Kind: tiendo.AlertLongWait, Station: "S2", Since: ictAt(20, 21, 5), Severity: "warning", Value: 125}
	if err := db.SaveAlerts([]tiendo.Alert{a, b}, []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	if err := db.AlertNotified("b"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = mustOpen(t, dir)
	got, err := db.AlertsToNotify()
	if err != nil || !reflect.DeepEqual(alertIDs(got), []string{"a"}) {
		t.Fatalf("AlertsToNotify = %v, %v; want [a]", alertIDs(got), err)
	}
	c := b
	c.ID, c.Since = "c", ictAt(20, 20, 0)
	if err := db.SaveAlerts([]tiendo.Alert{c}, []string{"c"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.AlertsToNotify(); !reflect.DeepEqual(alertIDs(got), []string{"c", "a"}) {
		t.Errorf("AlertsToNotify = %v, want [c a] (oldest first)", alertIDs(got))
	}
}
