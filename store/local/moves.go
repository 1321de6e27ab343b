package local

import (
	"encoding/binary"
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"

	"tiendo"
)

// bucketMoveAnswers keeps the chiefs' answers to suggested staff moves, by
// time: who answered what and when, for the planner (not to ask again
// within the hour) and for the record.
var bucketMoveAnswers = []byte("move_answers") // unix nanos (8 bytes, big-endian) -> MoveAnswer JSON

// RecordMoveAnswer stores a chief's answer.
func (db *DB) RecordMoveAnswer(a tiendo.MoveAnswer) error {
	v, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return db.update(func(w *writeTx) error {
		b := w.Bucket(bucketMoveAnswers)
		k := make([]byte, 8)
		ns := uint64(a.At.UnixNano())
		for { // two answers in one nanosecond keep both
			binary.BigEndian.PutUint64(k, ns)
			if b.Get(k) == nil {
				break
			}
			ns++
		}
		return w.put(bucketMoveAnswers, k, v)
	})
}

// MoveAnswers returns the answers given at or after since, oldest first.
func (db *DB) MoveAnswers(since time.Time) ([]tiendo.MoveAnswer, error) {
	var out []tiendo.MoveAnswer
	from := make([]byte, 8)
	binary.BigEndian.PutUint64(from, uint64(max(since.UnixNano(), 0)))
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketMoveAnswers).Cursor()
		for k, v := c.Seek(from); k != nil; k, v = c.Next() {
			var a tiendo.MoveAnswer
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			out = append(out, a)
		}
		return nil
	})
	return out, err
}
