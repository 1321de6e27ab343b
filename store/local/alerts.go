package local

import (
	"encoding/binary"
	"encoding/json"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"tiendo"
)

// The alerts the server opened, resolved and people acknowledged: the open
// ones for the engine to carry on after a restart, every one for the
// record and the daily brief ("open at any time during day D"), and which
// new ones the webhook has still to deliver. Every change commits (fsync)
// before the caller goes on, so an acknowledgement answered 200 survives a
// kill -9.
var (
	bucketAlerts     = []byte("alerts")        // id -> tiendo.Alert JSON
	bucketAlertsOpen = []byte("alerts_open")   // id -> nothing: the alerts not resolved
	bucketAlertDays  = []byte("alert_days")    // UTC day (4 bytes, big-endian) + id -> nothing
	bucketAlertHook  = []byte("alerts_notify") // id -> nothing: opened, not yet delivered by the webhook
)

// The day index files an alert under every UTC calendar day it was open
// on: the day it opened, and when it resolves every day up to then. An
// alert still open is found through alerts_open instead, so a question
// about any span reads the index of the days the span touches and the open
// set, never the whole history.

func utcDay(t time.Time) uint32 { return uint32(t.UTC().Unix() / 86400) }

func dayKey(day uint32, id string) []byte {
	k := make([]byte, 4, 4+len(id))
	binary.BigEndian.PutUint32(k, day)
	return append(k, id...)
}

// SaveAlerts stores alerts as they stand now (opened, changed or
// resolved), in one transaction. An acknowledgement already stored is
// kept when the alert given has none, so that a round's copy of an alert
// made before someone acknowledged it cannot undo that. The alerts whose
// ids are in notify are marked for the webhook (AlertsToNotify).
func (db *DB) SaveAlerts(alerts []tiendo.Alert, notify []string) error {
	if len(alerts) == 0 && len(notify) == 0 {
		return nil
	}
	return db.update(func(w *writeTx) error {
		all := w.Bucket(bucketAlerts)
		for _, a := range alerts {
			if old := all.Get([]byte(a.ID)); old != nil && a.AckedAt == nil {
				var prev tiendo.Alert
				if err := json.Unmarshal(old, &prev); err != nil {
					return err
				}
				a.AckedBy, a.AckedAt = prev.AckedBy, prev.AckedAt
			}
			v, err := json.Marshal(a)
			if err != nil {
				return err
			}
			if err := w.put(bucketAlerts, []byte(a.ID), v); err != nil {
				return err
			}
			last := a.Since
			if a.Resolved == nil {
				err = w.put(bucketAlertsOpen, []byte(a.ID), []byte{})
			} else {
				last, err = *a.Resolved, w.del(bucketAlertsOpen, []byte(a.ID))
			}
			if err != nil {
				return err
			}
			for d := utcDay(a.Since); d <= utcDay(last); d++ {
				if k := dayKey(d, a.ID); w.Bucket(bucketAlertDays).Get(k) == nil {
					if err := w.put(bucketAlertDays, k, []byte{}); err != nil {
						return err
					}
				}
			}
		}
		for _, id := range notify {
			if err := w.put(bucketAlertHook, []byte(id), []byte{}); err != nil {
				return err
			}
		}
		return nil
	})
}

// OpenAlerts returns the alerts not resolved, ordered by id.
func (db *DB) OpenAlerts() ([]tiendo.Alert, error) {
	var out []tiendo.Alert
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		out, err = alertsOf(tx, tx.Bucket(bucketAlertsOpen))
		return err
	})
	return out, err
}

// AlertsToNotify returns the alerts marked for the webhook and not yet
// delivered, ordered by when they opened.
func (db *DB) AlertsToNotify() ([]tiendo.Alert, error) {
	var out []tiendo.Alert
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		out, err = alertsOf(tx, tx.Bucket(bucketAlertHook))
		return err
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Since.Before(out[j].Since) })
	return out, err
}

// AlertNotified clears an alert's webhook mark: delivered, or given up.
func (db *DB) AlertNotified(id string) error {
	return db.update(func(w *writeTx) error { return w.del(bucketAlertHook, []byte(id)) })
}

// alertsOf loads the alerts whose ids are the keys of set.
func alertsOf(tx *bolt.Tx, set *bolt.Bucket) ([]tiendo.Alert, error) {
	var out []tiendo.Alert
	all := tx.Bucket(bucketAlerts)
	err := set.ForEach(func(k, _ []byte) error {
		v := all.Get(k)
		if v == nil {
			return nil
		}
		var a tiendo.Alert
		if err := json.Unmarshal(v, &a); err != nil {
			return err
		}
		out = append(out, a)
		return nil
	})
	return out, err
}

// Alert returns the alert with id; ENotFound if there is none.
func (db *DB) Alert(id string) (tiendo.Alert, error) {
	var a tiendo.Alert
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketAlerts).Get([]byte(id))
		if v == nil {
			return tiendo.Errorf(tiendo.ENotFound, "no alert %q", id)
		}
		return json.Unmarshal(v, &a)
	})
	return a, err
}

// AckAlert records that by acknowledged alert id at at, and returns the
// alert as stored. The first acknowledgement stands: acking again changes
// nothing and acked is false. ENotFound if there is no such alert.
func (db *DB) AckAlert(id, by string, at time.Time) (a tiendo.Alert, acked bool, err error) {
	err = db.update(func(w *writeTx) error {
		v := w.Bucket(bucketAlerts).Get([]byte(id))
		if v == nil {
			return tiendo.Errorf(tiendo.ENotFound, "no alert %q", id)
		}
		if err := json.Unmarshal(v, &a); err != nil {
			return err
		}
		if a.AckedAt != nil {
			return nil
		}
		when := at.UTC()
		a.AckedBy, a.AckedAt, acked = by, &when, true
		nv, err := json.Marshal(a)
		if err != nil {
			return err
		}
		return w.put(bucketAlerts, []byte(id), nv)
	})
	return a, acked, err
}

// AlertsDuring returns every alert open at some instant of [from, to):
// opened before to, and not resolved before from. They come ordered by
// when they opened, then by id.
func (db *DB) AlertsDuring(from, to time.Time) ([]tiendo.Alert, error) {
	var out []tiendo.Alert
	if !from.Before(to) {
		return out, nil
	}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		ids := map[string]bool{}
		c := tx.Bucket(bucketAlertDays).Cursor()
		last := utcDay(to.Add(-time.Nanosecond))
		start := make([]byte, 4)
		binary.BigEndian.PutUint32(start, utcDay(from))
		for k, _ := c.Seek(start); k != nil && binary.BigEndian.Uint32(k[:4]) <= last; k, _ = c.Next() {
			ids[string(k[4:])] = true
		}
		if err := tx.Bucket(bucketAlertsOpen).ForEach(func(k, _ []byte) error {
			ids[string(k)] = true
			return nil
		}); err != nil {
			return err
		}
		all := tx.Bucket(bucketAlerts)
		for id := range ids {
			v := all.Get([]byte(id))
			if v == nil {
				continue
			}
			var a tiendo.Alert
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			if a.Since.Before(to) && (a.Resolved == nil || !a.Resolved.Before(from)) {
				out = append(out, a)
			}
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Since.Equal(out[j].Since) {
			return out[i].Since.Before(out[j].Since)
		}
		return out[i].ID < out[j].ID
	})
	return out, err
}
