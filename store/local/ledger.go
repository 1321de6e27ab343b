package local

import (
	"bytes"
	"encoding/binary"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"

	"tiendo"
)

// The ledger holds a key, station\x00id, for every accepted event: a retry
// is a duplicate because its key is there. Kept for ever it grows with
// every event (M9: one token grew state.db by 86 MB in 3 s), so keys are
// pruned once their event is older than a retention window (ingest.Ledger
// decides the window and checks late events against ClickHouse instead).
// A value says what pruning needs to know about its event:
//
//	Committed ('c')   1 byte
//	ts                8 bytes: the event's time, Unix seconds, big-endian int64
//	seq               8 bytes: its spool sequence number, big-endian
//
// A key may go only when its event is older than the horizon and has left
// the spool (its seq is below the spool's head): acked, so in ClickHouse,
// where the late check finds it. Versions before pruning wrote 'c' alone;
// PruneLedger gives such a value the time of the upgrade plus the largest
// clock skew ingest allows (no event accepted before can be later) and the
// last sequence number given, then treats it as any other.
const ledgerValueSize = 1 + 8 + 8

// keyLedgerPrunedBelow, in the meta bucket, is the greatest horizon any
// prune used: keys of events before it may be gone.
var keyLedgerPrunedBelow = []byte("ledger_pruned_below")

func appendLedgerValue(b []byte, ts int64, seq uint64) []byte {
	b = append(b, Committed)
	b = binary.BigEndian.AppendUint64(b, uint64(ts))
	return binary.BigEndian.AppendUint64(b, seq)
}

func parseLedgerValue(v []byte) (ts int64, seq uint64, ok bool) {
	if len(v) != ledgerValueSize || v[0] != Committed {
		return 0, 0, false
	}
	return int64(binary.BigEndian.Uint64(v[1:])), binary.BigEndian.Uint64(v[9:]), true
}

// NotPruned is what LedgerPrunedBelow returns before any prune.
const NotPruned = math.MinInt64

// LedgerPrunedBelow returns, as Unix seconds, the horizon below which the
// ledger may have lost keys (NotPruned if it never pruned): an event older
// than it may have been accepted and forgotten.
func (db *DB) LedgerPrunedBelow() (int64, error) {
	below := int64(NotPruned)
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyLedgerPrunedBelow); len(v) == 8 {
			below = int64(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	return below, err
}

// LedgerKeys counts the keys in the ledger.
func (db *DB) LedgerKeys() (int, error) {
	var n int
	err := db.bolt.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketLedger).Stats().KeyN
		return nil
	})
	return n, err
}

// PruneResult is what one PruneLedger step did.
type PruneResult struct {
	Scanned, Pruned, Upgraded int
	// Next is the key to resume the pass at, nil when the pass reached the
	// end of the ledger.
	Next []byte
}

// PruneLedger is one bounded step of a pass over the ledger: in one write
// transaction it looks at up to maxScan keys from from (the start when nil)
// and deletes those whose event is before horizon and has left the spool,
// upgrading values written before pruning (see ledgerValueSize; now is the
// upgrade's time). It records horizon as pruned below first, in the same
// transaction, so that no key goes before the horizon that late events are
// checked against has moved past it. Accept waits for the transaction
// (bbolt has one writer): maxScan bounds that wait.
func (db *DB) PruneLedger(horizon time.Time, from []byte, maxScan int, now time.Time) (PruneResult, error) {
	var res PruneResult
	h := horizon.Unix()
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		res = PruneResult{}
		ledger, spool, meta := tx.Bucket(bucketLedger), tx.Bucket(bucketSpool), tx.Bucket(bucketMeta)
		below := int64(NotPruned)
		if v := meta.Get(keyLedgerPrunedBelow); len(v) == 8 {
			below = int64(binary.BigEndian.Uint64(v))
		}
		if h > below {
			if err := meta.Put(keyLedgerPrunedBelow, binary.BigEndian.AppendUint64(nil, uint64(h))); err != nil {
				return err
			}
		}
		// Events numbered below head have left the spool.
		last := getUint(meta, keyNextSeq)
		head := last + 1
		if k, _ := spool.Cursor().First(); k != nil {
			head = binary.BigEndian.Uint64(k)
		}
		var doomed, legacy [][]byte
		c := ledger.Cursor()
		k, v := c.First()
		if from != nil {
			k, v = c.Seek(from)
		}
		for ; k != nil && res.Scanned < maxScan; k, v = c.Next() {
			res.Scanned++
			ts, seq, ok := parseLedgerValue(v)
			switch {
			case !ok:
				// Keys point into pages this transaction is about to change: copied.
				legacy = append(legacy, bytes.Clone(k))
			case ts < h && seq < head:
				doomed = append(doomed, bytes.Clone(k))
			}
		}
		if k != nil {
			res.Next = bytes.Clone(k)
		}
		// Delete after the walk (deleting under a cursor makes Next skip
		// keys), through one cursor re-positioned by Seek.
		for _, key := range doomed {
			if got, _ := c.Seek(key); bytes.Equal(got, key) {
				if err := c.Delete(); err != nil {
					return err
				}
				res.Pruned++
			}
		}
		upgraded := appendLedgerValue(nil, now.Add(tiendo.MaxClockSkew).Unix(), last)
		for _, key := range legacy {
			if err := ledger.Put(key, upgraded); err != nil {
				return err
			}
			res.Upgraded++
		}
		return nil
	})
	if err != nil {
		return PruneResult{}, err
	}
	return res, nil
}
