package local_test

import (
	"testing"
	"time"

	"tiendo"
)

// Notes keep their JSON through the store and a restart, come back by
// start time, and are deleted only when the caller's check allows it.
func TestNotes(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir)
	t0 := time.Date(2021, 3, 20, 7, 0, 0, 0, time.UTC)
	late, err := db.AddNote(tiendo.Note{District: "D1", Station: "S1", From: t0.Add(2 * time.Hour), To: t0.Add(5 * time.Hour),
		Text: "đội lưu động tại THPT Bắc Sơn", By: "user:lan", At: t0}, 10)
	if err != nil {
		t.Fatal(err)
	}
	early, err := db.AddNote(tiendo.Note{District: "D1", From: t0, To: t0.Add(time.Hour), Text: "mất điện", By: "user:lan", At: t0}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if late.ID == "" || late.ID == early.ID {
		t.Fatalf("ids %q and %q", late.ID, early.ID)
	}
	db.Close()
	db = mustOpen(t, dir)
	all, err := db.Notes()
	if err != nil || len(all) != 2 || all[0].ID != early.ID || all[1] != late {
		t.Fatalf("notes after reopen: %+v %v, want [early, late] as written", all, err)
	}
	if got, err := db.Note(late.ID); err != nil || got != late {
		t.Fatalf("Note(%s) = %+v %v", late.ID, got, err)
	}
	_, err = db.Note("nope")
	wantCode(t, err, tiendo.ENotFound)

	refuse := tiendo.Errorf(tiendo.EForbidden, "not yours")
	_, err = db.DeleteNote(late.ID, func(tiendo.Note) error { return refuse })
	wantCode(t, err, tiendo.EForbidden)
	if _, err := db.Note(late.ID); err != nil {
		t.Fatalf("a refused delete removed the note: %v", err)
	}
	var judged tiendo.Note
	if got, err := db.DeleteNote(late.ID, func(n tiendo.Note) error { judged = n; return nil }); err != nil || got != late || judged != late {
		t.Fatalf("DeleteNote = %+v %v (judged %+v)", got, err, judged)
	}
	_, err = db.DeleteNote(late.ID, func(tiendo.Note) error { return nil })
	wantCode(t, err, tiendo.ENotFound)
}

// A district holds at most the limit; other districts are not counted.
func TestAddNoteLimit(t *testing.T) {
	db := mustOpen(t, t.TempDir())
	n := tiendo.Note{District: "D1", Text: "x"}
	for i := 0; i < 2; i++ {
		if _, err := db.AddNote(n, 2); err != nil {
			t.Fatal(err)
		}
	}
	_, err := db.AddNote(n, 2)
	wantCode(t, err, tiendo.EConflict)
	if _, err := db.AddNote(tiendo.Note{District: "D2", Text: "y"}, 2); err != nil {
		t.Fatalf("another district's note: %v", err)
	}
	if all, _ := db.Notes(); len(all) != 3 {
		t.Fatalf("%d notes stored, want 3", len(all))
	}
}
