package local

import (
	"testing"
	"time"

	"tiendo"
)

// Answers survive a restart and come back from a given time on, in order.
func TestMoveAnswers(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2021, 3, 20, 14, 0, 0, 0, time.UTC)
	for i, o := range []string{"done", "not_possible", "done"} {
		a := tiendo.MoveAnswer{ID: "x", From: "A", To: "B", Staff: 2, Outcome: o, By: "user:lan", At: t0.Add(time.Duration(i) * time.Minute)}
		if err := db.RecordMoveAnswer(a); err != nil {
			t.Fatal(err)
		}
	}
	db.RecordMoveAnswer(tiendo.MoveAnswer{ID: "y", From: "C", To: "D", Outcome: "done", At: t0.Add(time.Minute)}) // same instant
	db.Close()
	if db, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.MoveAnswers(t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Outcome != "not_possible" || got[1].ID != "y" || got[2].At != t0.Add(2*time.Minute) {
		t.Fatalf("answers since 14:01: %+v", got)
	}
}
