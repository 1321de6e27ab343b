package local

import (
	"bytes"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// The control-plane state of a cluster lives in one shared place (a
// JetStream key-value bucket, store/kvstate) and every node keeps a copy in
// its own state.db: the nodes read their copy, as a single node does, and
// every write goes to the shared place first, inside the bbolt transaction
// that makes it, so that a write the shared place refused is not made at
// all. The shared place sends each node every change (its own included),
// which the node applies to its copy (ApplyShared).
//
// What is shared: the station registry and the district quotas, tokens,
// users, sessions, one-time screen links, notes, answers to moves, and the
// alerts (raised by the flush leader alone, acknowledged on any node) with
// the webhook's queue. What is not: the spool and the ledger (the
// cluster's acceptance log replaces them).

// SharedBuckets are the buckets of state.db that a cluster shares.
var SharedBuckets = [][]byte{bucketStations, bucketDistrictQuotas, bucketTokens, bucketUsers, bucketSessions, bucketOneTime,
	bucketNotes, bucketMoveAnswers, bucketAlerts, bucketAlertsOpen, bucketAlertDays, bucketAlertHook}

func isShared(bucket []byte) bool {
	for _, b := range SharedBuckets {
		if bytes.Equal(b, bucket) {
			return true
		}
	}
	return false
}

// Change is one key of a shared bucket written or deleted.
type Change struct {
	Bucket string
	Key    []byte
	Value  []byte // nil: deleted
	// Once asks for the change only if the key is still as this node last
	// saw it (compare and swap): a one-time link used on two nodes at once
	// is used once.
	Once bool
}

// Shared is the place a cluster keeps the shared buckets (store/kvstate).
type Shared interface {
	// Publish stores the changes (in order) and returns once the shared
	// place holds them all; ErrConflict when a Once change lost its race.
	Publish(changes []Change) error
}

// ErrConflict is a Once change made on another node first.
var ErrConflict = errors.New("changed on another node")

// SetShared makes every later write to a shared bucket go through s first.
// Call it before the server starts (not safe with writes in flight).
func (db *DB) SetShared(s Shared) { db.shared = s }

// writeTx is a bbolt write transaction that collects the changes to the
// shared buckets it makes.
type writeTx struct {
	*bolt.Tx
	changes []Change
}

func (w *writeTx) put(bucket, key, value []byte) error {
	if err := w.Bucket(bucket).Put(key, value); err != nil {
		return err
	}
	w.record(bucket, key, value, false)
	return nil
}

func (w *writeTx) del(bucket, key []byte) error {
	return w.delOnce(bucket, key, false)
}

// delOnce deletes key; once: only if no other node changed it first.
func (w *writeTx) delOnce(bucket, key []byte, once bool) error {
	if err := w.Bucket(bucket).Delete(key); err != nil {
		return err
	}
	w.record(bucket, key, nil, once)
	return nil
}

func (w *writeTx) record(bucket, key, value []byte, once bool) {
	if !isShared(bucket) {
		return
	}
	var v []byte
	if value != nil {
		v = append([]byte{}, value...)
	}
	w.changes = append(w.changes, Change{Bucket: string(bucket), Key: append([]byte{}, key...), Value: v, Once: once})
}

// update runs fn in a write transaction; with a Shared set, the changes fn
// made to shared buckets are published before the transaction commits, and
// a refused publication rolls it back.
func (db *DB) update(fn func(w *writeTx) error) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		w := &writeTx{Tx: tx}
		if err := fn(w); err != nil {
			return err
		}
		if db.shared == nil || len(w.changes) == 0 {
			return nil
		}
		if err := db.shared.Publish(w.changes); err != nil {
			if errors.Is(err, ErrConflict) {
				return err
			}
			return fmt.Errorf("shared state: %w", err)
		}
		return nil
	})
}

// ApplyShared writes changes that the shared place sent (made on any node)
// to this node's copy, without publishing them again. held, when not nil,
// runs inside the write transaction once the changes are written and
// before they commit: no other write (and so no Publish) runs then, and
// every write after it sees the changes, so what held notes (the shared
// place's revisions of the keys) is never behind what the copy holds.
func (db *DB) ApplyShared(changes []Change, held func()) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		for _, c := range changes {
			b := tx.Bucket([]byte(c.Bucket))
			if b == nil || !isShared([]byte(c.Bucket)) {
				return fmt.Errorf("shared state: %q is not a shared bucket", c.Bucket)
			}
			var err error
			if c.Value == nil {
				err = b.Delete(c.Key)
			} else {
				err = b.Put(c.Key, c.Value)
			}
			if err != nil {
				return err
			}
		}
		if held != nil {
			held()
		}
		return nil
	})
}

// SharedKeys calls fn with every key and value of the shared buckets: what
// the first node of a cluster seeds the shared place with, and what a node
// compares with it when it joins.
func (db *DB) SharedKeys(fn func(bucket string, key, value []byte) error) error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		for _, name := range SharedBuckets {
			err := tx.Bucket(name).ForEach(func(k, v []byte) error { return fn(string(name), k, v) })
			if err != nil {
				return err
			}
		}
		return nil
	})
}
