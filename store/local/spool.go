package local

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"

	bolt "go.etcd.io/bbolt"

	"tiendo"
)

// The spool is the write-ahead log between acceptance and ClickHouse: an
// event is acknowledged once it is in the spool (fsynced by bbolt's commit),
// and a flusher moves spooled events into ClickHouse in large batches.
// Acceptance and deduplication happen in the same transaction, so an event
// is either accepted once, with its key in the ledger, or not at all.
var (
	bucketSpool   = []byte("spool")   // seq (8 bytes big-endian) -> crc32c(4) + event JSON
	bucketMeta    = []byte("meta")    // spool counters and the in-flight range
	bucketCorrupt = []byte("corrupt") // records whose checksum failed, kept for inspection
	keyInflight   = []byte("inflight")
	keyNextSeq    = []byte("next_seq")
	keySpoolBytes = []byte("spool_bytes")
	keySpoolCount = []byte("spool_count") // kept beside the bucket: counting keys walks it
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrSpoolFull is returned by Accept when the spool holds more than its
// limit: ClickHouse has been away too long, and accepting more would risk
// the disk. Ingest answers 503 with Retry-After.
var ErrSpoolFull = errors.New("spool full")

// SpoolLimits bound the spool.
type SpoolLimits struct {
	MaxEvents int64
	MaxBytes  int64
}

// Accept spools the events not seen before and reports, per event, whether
// it was new. Keys already in the ledger, or repeated within events, are
// duplicates. One fsynced transaction: after it returns nil, the new events
// survive kill -9.
func (db *DB) Accept(events []tiendo.Event, limits SpoolLimits) ([]bool, error) {
	fresh := make([]bool, len(events))
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		ledger, spool, meta := tx.Bucket(bucketLedger), tx.Bucket(bucketSpool), tx.Bucket(bucketMeta)
		count, size := getUint(meta, keySpoolCount), getUint(meta, keySpoolBytes)
		if (limits.MaxEvents > 0 && int64(count)+int64(len(events)) > limits.MaxEvents) || (limits.MaxBytes > 0 && int64(size) >= limits.MaxBytes) {
			return ErrSpoolFull
		}
		seq := getUint(meta, keyNextSeq)
		for i := range events {
			key := []byte(events[i].Key())
			if ledger.Get(key) != nil {
				continue
			}
			if err := ledger.Put(key, []byte{Committed}); err != nil {
				return err
			}
			rec, err := encodeRecord(&events[i])
			if err != nil {
				return err
			}
			seq++
			if err := spool.Put(seqKey(seq), rec); err != nil {
				return err
			}
			size += uint64(len(rec))
			count++
			fresh[i] = true
		}
		if err := putUint(meta, keyNextSeq, seq); err != nil {
			return err
		}
		if err := putUint(meta, keySpoolCount, count); err != nil {
			return err
		}
		return putUint(meta, keySpoolBytes, size)
	})
	if err != nil {
		return nil, err
	}
	return fresh, nil
}

// SpoolBatch is a contiguous run of spooled events.
type SpoolBatch struct {
	First, Last uint64 // sequence numbers, inclusive; zero when empty
	Events      []tiendo.Event
	Corrupt     int // records skipped because their checksum or JSON failed
}

// ReadSpool returns up to max events from the head of the spool. When an
// in-flight range is recorded (a flush was interrupted), it returns exactly
// that range, so the retry and the resolution see the same events. Corrupt
// records are moved aside and counted, never returned, never fatal.
func (db *DB) ReadSpool(max int) (SpoolBatch, error) {
	var b SpoolBatch
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		spool, meta, corrupt := tx.Bucket(bucketSpool), tx.Bucket(bucketMeta), tx.Bucket(bucketCorrupt)
		first, last := inflight(meta)
		c := spool.Cursor()
		var bad [][]byte
		for k, v := c.First(); k != nil; k, v = c.Next() {
			seq := binary.BigEndian.Uint64(k)
			if last != 0 && seq > last {
				break
			}
			if last == 0 && len(b.Events) >= max {
				break
			}
			if first != 0 && seq < first {
				continue
			}
			if b.First == 0 {
				b.First = seq
			}
			b.Last = seq
			e, err := decodeRecord(v)
			if err != nil {
				bad = append(bad, append([]byte(nil), k...))
				if err := corrupt.Put(k, v); err != nil {
					return err
				}
				continue
			}
			b.Events = append(b.Events, e)
		}
		count, size := getUint(meta, keySpoolCount), getUint(meta, keySpoolBytes)
		for _, k := range bad {
			size -= min(size, uint64(len(spool.Get(k))))
			count -= min(count, 1)
			if err := spool.Delete(k); err != nil {
				return err
			}
		}
		if len(bad) > 0 {
			if err := putUint(meta, keySpoolCount, count); err != nil {
				return err
			}
			if err := putUint(meta, keySpoolBytes, size); err != nil {
				return err
			}
		}
		b.Corrupt = len(bad)
		return nil
	})
	return b, err
}

// SetInflight records that events First..Last are being inserted into
// ClickHouse. If the process dies before AckSpool, the next flush resolves
// that range against ClickHouse instead of inserting it blindly again.
func (db *DB) SetInflight(first, last uint64) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		v := make([]byte, 16)
		binary.BigEndian.PutUint64(v, first)
		binary.BigEndian.PutUint64(v[8:], last)
		return tx.Bucket(bucketMeta).Put(keyInflight, v)
	})
}

// Inflight returns the recorded in-flight range, if any.
func (db *DB) Inflight() (first, last uint64, err error) {
	err = db.bolt.View(func(tx *bolt.Tx) error {
		first, last = inflight(tx.Bucket(bucketMeta))
		return nil
	})
	return first, last, err
}

// AckSpool removes events first..last from the spool (they are in
// ClickHouse now) and clears the in-flight range.
func (db *DB) AckSpool(first, last uint64) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		spool, meta := tx.Bucket(bucketSpool), tx.Bucket(bucketMeta)
		count, size := getUint(meta, keySpoolCount), getUint(meta, keySpoolBytes)
		// Walk the range once, then delete: deleting under a cursor makes
		// bbolt's Next skip keys, and re-seeking after each delete is quadratic.
		var doomed [][]byte
		c := spool.Cursor()
		for k, v := c.Seek(seqKey(first)); k != nil && binary.BigEndian.Uint64(k) <= last; k, v = c.Next() {
			size -= min(size, uint64(len(v)))
			count -= min(count, 1)
			doomed = append(doomed, bytes.Clone(k))
		}
		for _, k := range doomed {
			if err := spool.Delete(k); err != nil {
				return err
			}
		}
		if err := meta.Delete(keyInflight); err != nil {
			return err
		}
		if err := putUint(meta, keySpoolCount, count); err != nil {
			return err
		}
		return putUint(meta, keySpoolBytes, size)
	})
}

// SpoolStats reports how many events wait in the spool and their size.
func (db *DB) SpoolStats() (events int64, bytes int64, err error) {
	err = db.bolt.View(func(tx *bolt.Tx) error {
		events = int64(getUint(tx.Bucket(bucketMeta), keySpoolCount))
		bytes = int64(getUint(tx.Bucket(bucketMeta), keySpoolBytes))
		return nil
	})
	return events, bytes, err
}

// CorruptRecords counts spool records set aside as corrupt, ever.
func (db *DB) CorruptRecords() (int, error) {
	var n int
	err := db.bolt.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketCorrupt).Stats().KeyN
		return nil
	})
	return n, err
}

func encodeRecord(e *tiendo.Event) ([]byte, error) {
	body, err := json.Marshal(spoolEvent{Event: *e, HasPos: e.HasPos})
	if err != nil {
		return nil, fmt.Errorf("encode spool record: %w", err)
	}
	rec := make([]byte, 4+len(body))
	binary.BigEndian.PutUint32(rec, crc32.Checksum(body, crcTable))
	copy(rec[4:], body)
	return rec, nil
}

// spoolEvent carries the fields tiendo.Event keeps out of its JSON.
type spoolEvent struct {
	tiendo.Event
	HasPos bool `json:"has_pos,omitempty"`
}

func decodeRecord(rec []byte) (tiendo.Event, error) {
	if len(rec) < 4 || binary.BigEndian.Uint32(rec) != crc32.Checksum(rec[4:], crcTable) {
		return tiendo.Event{}, errors.New("spool record checksum mismatch")
	}
	var se spoolEvent
	if err := json.Unmarshal(rec[4:], &se); err != nil {
		return tiendo.Event{}, fmt.Errorf("spool record: %w", err)
	}
	se.Event.HasPos = se.HasPos
	return se.Event, nil
}

func seqKey(seq uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, seq)
	return k
}

func inflight(meta *bolt.Bucket) (first, last uint64) {
	if v := meta.Get(keyInflight); len(v) == 16 {
		return binary.BigEndian.Uint64(v), binary.BigEndian.Uint64(v[8:])
	}
	return 0, 0
}

func getUint(b *bolt.Bucket, key []byte) uint64 {
	if v := b.Get(key); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func putUint(b *bolt.Bucket, key []byte, v uint64) error {
	buf := make([]byte, 8)
	binary.BigEndian.PutUint64(buf, v)
	return b.Put(key, buf)
}

// PeekSpool returns up to max spooled events without changing anything,
// for readers that combine the spool with ClickHouse's figures. complete is
// false when more were waiting than max. Corrupt records are skipped.
func (db *DB) PeekSpool(max int) (events []tiendo.Event, complete bool, err error) {
	complete = true
	err = db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSpool).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(events) >= max {
				complete = false
				return nil
			}
			if e, err := decodeRecord(v); err == nil {
				events = append(events, e)
			}
		}
		return nil
	})
	return events, complete, err
}
