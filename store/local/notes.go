package local

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"sort"

	bolt "go.etcd.io/bbolt"

	"tiendo"
)

// bucketNotes keeps the timeline notes people write on the charts.
var bucketNotes = []byte("notes") // note id -> tiendo.Note JSON

// AddNote stores n under a new random id and returns it with that id. A
// district holds at most limit notes (every chart of its scopes draws
// them): past it, AddNote returns EConflict.
func (db *DB) AddNote(n tiendo.Note, limit int) (tiendo.Note, error) {
	raw := make([]byte, 8)
	if _, err := rand.Read(raw); err != nil {
		return n, err
	}
	n.ID = hex.EncodeToString(raw)
	v, err := json.Marshal(n)
	if err != nil {
		return n, err
	}
	err = db.update(func(w *writeTx) error {
		b := w.Bucket(bucketNotes)
		held := 0
		if err := b.ForEach(func(_, v []byte) error {
			var o tiendo.Note
			if err := json.Unmarshal(v, &o); err != nil {
				return err
			}
			if o.District == n.District {
				held++
			}
			return nil
		}); err != nil {
			return err
		}
		if held >= limit {
			return tiendo.Errorf(tiendo.EConflict, "district %s has %d notes, the most it may hold: delete some first", n.District, held)
		}
		return w.put(bucketNotes, []byte(n.ID), v)
	})
	return n, err
}

// Notes returns every note, by start time (then by when it was written).
func (db *DB) Notes() ([]tiendo.Note, error) {
	var out []tiendo.Note
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketNotes).ForEach(func(_, v []byte) error {
			var n tiendo.Note
			if err := json.Unmarshal(v, &n); err != nil {
				return err
			}
			out = append(out, n)
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].From.Equal(out[j].From) {
			return out[i].From.Before(out[j].From)
		}
		return out[i].At.Before(out[j].At)
	})
	return out, err
}

// Note returns the note with id; ENotFound if there is none.
func (db *DB) Note(id string) (tiendo.Note, error) {
	var n tiendo.Note
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketNotes).Get([]byte(id))
		if v == nil {
			return tiendo.Errorf(tiendo.ENotFound, "no note %q", id)
		}
		return json.Unmarshal(v, &n)
	})
	return n, err
}

// DeleteNote removes the note with id if allow, given the note, says yes
// (checked in the same transaction, so the note judged is the one
// deleted). It returns the note, ENotFound if there is none, or allow's
// error.
func (db *DB) DeleteNote(id string, allow func(tiendo.Note) error) (tiendo.Note, error) {
	var n tiendo.Note
	err := db.update(func(w *writeTx) error {
		v := w.Bucket(bucketNotes).Get([]byte(id))
		if v == nil {
			return tiendo.Errorf(tiendo.ENotFound, "no note %q", id)
		}
		if err := json.Unmarshal(v, &n); err != nil {
			return err
		}
		if err := allow(n); err != nil {
			return err
		}
		return w.del(bucketNotes, []byte(id))
	})
	return n, err
}
