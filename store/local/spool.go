package local

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"math"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"tiendo"
	"tiendo/acceptlog"
)

// The spool is the write-ahead log between acceptance and ClickHouse: an
// event is acknowledged once it is in the spool (fsynced by bbolt's commit),
// and a flusher moves spooled events into ClickHouse in large batches.
// Acceptance and deduplication happen in the same transaction, so an event
// is either accepted once, with its key in the ledger, or not at all.
var (
	bucketSpool   = []byte("spool")   // seq (8 bytes big-endian) -> record (see appendRecord)
	bucketMeta    = []byte("meta")    // spool counters and the insert window
	bucketCorrupt = []byte("corrupt") // records whose checksum failed, kept for inspection
	keyNextSeq    = []byte("next_seq")
	keySpoolBytes = []byte("spool_bytes")
	keySpoolCount = []byte("spool_count") // kept beside the bucket: counting keys walks it
	// keyInsertWindow holds n: at most the first n events of the spool may
	// already be in ClickHouse. See OpenInsertWindow.
	keyInsertWindow = []byte("insert_window")
	// keyLegacyInflight is the in-flight range (first, last seq) that
	// versions before the insert window wrote before every insert. It is
	// read, converted and deleted by OpenInsertWindow, never written.
	keyLegacyInflight = []byte("inflight")
)

// ErrSpoolFull is returned by Accept when the spool holds more than its
// limit: ClickHouse has been away too long, and accepting more would risk
// the disk. Ingest answers 503 with Retry-After. It is the acceptance
// log's ErrFull: the spool is that log's single-node implementation.
var ErrSpoolFull = acceptlog.ErrFull

// DB is an acceptance log (see Accept and the insert window below).
var _ acceptlog.Log = (*DB)(nil)

// ErrUnspoolable is returned by Accept, which then stores nothing, for an
// event its own reader would refuse: a zone offset of a day or more. Ingest
// refuses such times before they get here (M6: they were acknowledged, then
// set aside as corrupt); this keeps a 202 from ever covering one.
var ErrUnspoolable = errors.New("event time zone offset out of range (must be within ±24h)")

// SpoolLimits bound the spool (the acceptance log's Limits).
type SpoolLimits = acceptlog.Limits

// Accept spools the events not seen before and reports, per event, whether
// it was new. Keys already in the ledger, or repeated within events, are
// duplicates. One fsynced transaction: after it returns nil, the new events
// survive kill -9.
//
// Every key and value handed to bbolt lives in one arena allocated per call:
// bbolt keeps values (and, in older releases, keys) by reference until the
// commit, so they must stay valid for the transaction, and one allocation
// per transaction is much cheaper than one per key and record. The arena
// may grow by append; slices handed out before a growth keep the old array
// alive and are never written again, so they stay valid.
func (db *DB) Accept(events []tiendo.Event, limits SpoolLimits) ([]bool, error) {
	fresh := make([]bool, len(events))
	arena := make([]byte, 0, acceptArenaSize(events))
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		ledger, spool, meta := tx.Bucket(bucketLedger), tx.Bucket(bucketSpool), tx.Bucket(bucketMeta)
		count, size := getUint(meta, keySpoolCount), getUint(meta, keySpoolBytes)
		if (limits.MaxEvents > 0 && int64(count)+int64(len(events)) > limits.MaxEvents) || (limits.MaxBytes > 0 && int64(size) >= limits.MaxBytes) {
			return ErrSpoolFull
		}
		seq := getUint(meta, keyNextSeq)
		// Dedupe through one cursor: Seek reuses its search stack, where
		// Bucket.Get allocates a cursor per lookup.
		lc := ledger.Cursor()
		for i := range events {
			e := &events[i]
			if err := Spoolable(e); err != nil {
				return err
			}
			mark := len(arena)
			arena = append(arena, e.Station...)
			arena = append(arena, 0)
			arena = append(arena, e.ID...)
			key := arena[mark:len(arena):len(arena)]
			if k, _ := lc.Seek(key); bytes.Equal(k, key) {
				arena = arena[:mark] // not handed to bbolt: reuse the space
				continue
			}
			seq++
			mark = len(arena)
			arena = appendLedgerValue(arena, e.TS.Unix(), seq)
			if err := ledger.Put(key, arena[mark:len(arena):len(arena)]); err != nil {
				return err
			}
			mark = len(arena)
			arena = binary.BigEndian.AppendUint64(arena, seq)
			skey := arena[mark:len(arena):len(arena)]
			mark = len(arena)
			arena = appendRecord(arena, e)
			rec := arena[mark:len(arena):len(arena)]
			if err := spool.Put(skey, rec); err != nil {
				return err
			}
			size += uint64(len(rec))
			count++
			fresh[i] = true
		}
		for _, kv := range [...]struct {
			key []byte
			v   uint64
		}{{keyNextSeq, seq}, {keySpoolCount, count}, {keySpoolBytes, size}} {
			mark := len(arena)
			arena = binary.BigEndian.AppendUint64(arena, kv.v)
			if err := meta.Put(kv.key, arena[mark:len(arena):len(arena)]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return fresh, nil
}

// acceptArenaSize is enough arena for Accept to spool every event without
// growing: its ledger key and value, sequence key and record, and the
// three counters.
func acceptArenaSize(events []tiendo.Event) int {
	n := 3 * 8
	for i := range events {
		e := &events[i]
		n += len(e.Station) + 1 + len(e.ID) + ledgerValueSize + 8 + maxRecordSize(e)
	}
	return n
}

// SpoolBatch is a contiguous run of spooled events (the acceptance log's
// Batch); Corrupt counts records set aside because their checksum or body
// failed.
type SpoolBatch = acceptlog.Batch

// ReadSpool returns up to max events from the head of the spool, in
// sequence order. It reads in a read-only transaction, so it never waits
// for bbolt's single writer nor holds it up: Accept (and the 202 behind it)
// does not queue behind the flusher's read. Only when it met corrupt
// records does it open a write transaction, to move them aside (counted in
// Corrupt; never returned, never fatal).
func (db *DB) ReadSpool(max int) (SpoolBatch, error) {
	var b SpoolBatch
	var bad []uint64
	d := newRecordDecoder()
	err := db.bolt.View(func(tx *bolt.Tx) error {
		spool, meta := tx.Bucket(bucketSpool), tx.Bucket(bucketMeta)
		if count := getUint(meta, keySpoolCount); count > 0 && max > 0 {
			b.Events = make([]tiendo.Event, 0, min(uint64(max), count))
		}
		c := spool.Cursor()
		for k, v := c.First(); k != nil && len(b.Events) < max; k, v = c.Next() {
			seq := binary.BigEndian.Uint64(k)
			if b.First == 0 {
				b.First = seq
			}
			b.Last = seq
			if !d.decode(v, &b.Events) {
				bad = append(bad, seq)
			}
		}
		return nil
	})
	if err != nil {
		return SpoolBatch{}, err
	}
	d.finish(b.Events)
	if len(bad) > 0 {
		if b.Corrupt, err = db.setAside(bad); err != nil {
			return SpoolBatch{}, err
		}
	}
	return b, nil
}

// setAside moves the records at seqs from the spool to the corrupt bucket,
// in one write transaction, and returns how many it moved.
func (db *DB) setAside(seqs []uint64) (int, error) {
	moved := 0
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		spool, meta, corrupt := tx.Bucket(bucketSpool), tx.Bucket(bucketMeta), tx.Bucket(bucketCorrupt)
		count, size := getUint(meta, keySpoolCount), getUint(meta, keySpoolBytes)
		moved = 0
		for _, seq := range seqs {
			k := seqKey(seq)
			v := spool.Get(k)
			if v == nil {
				continue // gone since the read (acked): nothing to move
			}
			// Copied: v points into a page this transaction is about to change.
			if err := corrupt.Put(k, append([]byte(nil), v...)); err != nil {
				return err
			}
			size -= min(size, uint64(len(v)))
			count -= min(count, 1)
			if err := spool.Delete(k); err != nil {
				return err
			}
			moved++
		}
		if err := putUint(meta, keySpoolCount, count); err != nil {
			return err
		}
		return putUint(meta, keySpoolBytes, size)
	})
	return moved, err
}

// The insert window makes a flush exactly-once without a write transaction
// before each insert (older versions recorded an in-flight range; a third
// fsync per flush, queued in front of Accept). It rests on how the flusher
// works:
//
//   - it inserts only events read from the head of the spool, at most its
//     MaxBatch at a time, and deletes (acks) them from the head before it
//     reads further; new events always get higher sequence numbers;
//   - so the events that may be in ClickHouse but are still in the spool
//     are always among the first n events of the spool, where n is at most
//     the largest batch a flusher inserted since the last successful ack,
//     or a larger number it has not resolved yet;
//   - the window is that n, stored durably. OpenInsertWindow raises it to
//     cover the new flusher's MaxBatch before the flusher's first insert,
//     and returns the previous window, which the flusher must resolve
//     (StoredEventKeys) before inserting those events; CloseInsertWindow
//     lowers it when the flusher stops (to 0 after a clean drain).
//
// Setting records aside as corrupt only removes events from the head,
// which keeps "among the first n" true.

// OpenInsertWindow is called once by a flusher before its first insert,
// with the most events it will insert at once. It returns how many events
// at the head of the spool may already be in ClickHouse without having been
// acked: the window a previous flusher left open (after kill -9, or a stop
// with an unresolved failed insert), or the size of an in-flight range
// recorded by a version before the window. It durably records a window of
// max(that, maxBatch), so that if this process dies in any later insert the
// next one resolves enough.
func (db *DB) OpenInsertWindow(maxBatch int) (unresolved int, err error) {
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		spool, meta := tx.Bucket(bucketSpool), tx.Bucket(bucketMeta)
		unresolved = int(getUint(meta, keyInsertWindow))
		if v := meta.Get(keyLegacyInflight); len(v) == 16 {
			// The old flusher inserted only that range, read from the head;
			// count every record up to its end, whatever precedes it.
			last := binary.BigEndian.Uint64(v[8:])
			n := 0
			c := spool.Cursor()
			for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) <= last; k, _ = c.Next() {
				n++
			}
			unresolved = max(unresolved, n)
			if err := meta.Delete(keyLegacyInflight); err != nil {
				return err
			}
		}
		// Not capped by the spool's size: the flusher's first batch that
		// is not full shows it reached the end, and clears the rest then,
		// without trusting a counter.
		return putUint(meta, keyInsertWindow, uint64(max(unresolved, maxBatch)))
	})
	return unresolved, err
}

// CloseInsertWindow records, when a flusher stops, that at most the first
// unresolved events of the spool may be in ClickHouse: 0 after a clean
// drain, so the next start resolves nothing. The flusher must not insert
// again without OpenInsertWindow.
func (db *DB) CloseInsertWindow(unresolved int) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		return putUint(tx.Bucket(bucketMeta), keyInsertWindow, uint64(max(unresolved, 0)))
	})
}

// AckSpool removes events first..last from the spool: they are in
// ClickHouse now.
func (db *DB) AckSpool(first, last uint64) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		spool, meta := tx.Bucket(bucketSpool), tx.Bucket(bucketMeta)
		count, size := getUint(meta, keySpoolCount), getUint(meta, keySpoolBytes)
		// Walk the range once, then delete: deleting under a cursor makes
		// bbolt's Next skip keys, and re-seeking after each delete is
		// quadratic. Delete does not keep its key, so one buffer serves all.
		var doomed []uint64
		if last >= first {
			doomed = make([]uint64, 0, min(last-first+1, count))
		}
		c := spool.Cursor()
		for k, v := c.Seek(seqKey(first)); k != nil && binary.BigEndian.Uint64(k) <= last; k, v = c.Next() {
			size -= min(size, uint64(len(v)))
			count -= min(count, 1)
			doomed = append(doomed, binary.BigEndian.Uint64(k))
		}
		// One cursor, repositioned by Seek for each delete, reuses its
		// search stack; Bucket.Delete would allocate a cursor per key.
		var key [8]byte
		for _, seq := range doomed {
			binary.BigEndian.PutUint64(key[:], seq)
			if k, _ := c.Seek(key[:]); bytes.Equal(k, key[:]) {
				if err := c.Delete(); err != nil {
					return err
				}
			}
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

// PeekSpool returns up to max spooled events without changing anything,
// for readers that combine the spool with ClickHouse's figures. complete is
// false when more were waiting than max. Corrupt records are skipped.
func (db *DB) PeekSpool(max int) (events []tiendo.Event, complete bool, err error) {
	complete = true
	d := newRecordDecoder()
	err = db.bolt.View(func(tx *bolt.Tx) error {
		if count := getUint(tx.Bucket(bucketMeta), keySpoolCount); count > 0 && max > 0 {
			events = make([]tiendo.Event, 0, min(uint64(max), count))
		}
		c := tx.Bucket(bucketSpool).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(events) >= max {
				complete = false
				return nil
			}
			d.decode(v, &events)
		}
		return nil
	})
	d.finish(events)
	return events, complete, err
}

func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq)
}

func getUint(b *bolt.Bucket, key []byte) uint64 {
	if v := b.Get(key); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func putUint(b *bolt.Bucket, key []byte, v uint64) error {
	return b.Put(key, binary.BigEndian.AppendUint64(make([]byte, 0, 8), v))
}

// A spool record is a CRC-32C (Castagnoli, big-endian) of the body, then
// the body. Bodies written since version 1 are binary, because encoding and
// decoding JSON was a third of ingest's CPU at peak:
//
//	version   1 byte, 1 (older versions wrote a JSON object: '{')
//	flags     1 byte: recHasPos, recLatLon, recUTC
//	ID        uvarint length, bytes
//	Station   uvarint length, bytes
//	Type      enum (below)
//	TS        varint Unix seconds, uvarint nanoseconds,
//	          varint zone offset in seconds unless recUTC
//	Queue, Staff, Lanes             varints
//	Status    enum
//	Lat, Lon  8 bytes each, IEEE 754 bits big-endian, only with recLatLon
//	Count, FingerprintRetries       varints
//	Kind      enum
//
// An enum is one byte: the index of a known value in its table, or 0
// followed by the string (uvarint length, bytes), so that a value this
// version does not know still round-trips. A body must be consumed exactly;
// anything else is corrupt, as is a checksum mismatch.
const (
	recVersion1 = 1
	recJSON     = '{'

	recHasPos = 1 << 0
	recLatLon = 1 << 1 // Lat or Lon is not zero
	recUTC    = 1 << 2 // TS is in UTC; otherwise its zone offset follows

	recHeaderSize = 4
)

var (
	crcTable = crc32.MakeTable(crc32.Castagnoli)

	// Index 0 means "literal follows", so real values start at 1. Values
	// may be added at the end, never reordered: records on disk hold indexes.
	typeEnum   = []string{"", string(tiendo.TypeHeartbeat), string(tiendo.TypeCompletion)}
	statusEnum = []string{"", "", string(tiendo.StatusOpen), string(tiendo.StatusPaused), string(tiendo.StatusClosed), string(tiendo.StatusOffline)}
	kindEnum   = []string{"", "", string(tiendo.RecordStandard), string(tiendo.RecordStudent), string(tiendo.RecordHomeVisit)}
)

// maxRecordSize bounds len(appendRecord(nil, e)), for sizing arenas.
func maxRecordSize(e *tiendo.Event) int {
	const fixed = recHeaderSize + 2 + 3*binary.MaxVarintLen64 + 3*(1+binary.MaxVarintLen64) + // header, string lengths, enums
		3*binary.MaxVarintLen64 + 3*binary.MaxVarintLen64 + 16 + 2*binary.MaxVarintLen64 // TS, heartbeat ints, lat/lon, completion ints
	return fixed + len(e.ID) + len(e.Station) + len(e.Type) + len(e.Status) + len(e.Kind)
}

// appendRecord appends e's spool record to buf. It allocates only if buf
// has too little room (maxRecordSize is always enough).
func appendRecord(buf []byte, e *tiendo.Event) []byte {
	start := len(buf)
	buf = append(buf, 0, 0, 0, 0, recVersion1, 0)
	var flags byte
	if e.HasPos {
		flags |= recHasPos
	}
	if e.Lat != 0 || e.Lon != 0 {
		flags |= recLatLon
	}
	utc := e.TS.Location() == time.UTC
	if utc {
		flags |= recUTC
	}
	buf[start+recHeaderSize+1] = flags
	buf = appendString(buf, e.ID)
	buf = appendString(buf, e.Station)
	buf = appendEnum(buf, typeEnum, string(e.Type))
	buf = binary.AppendVarint(buf, e.TS.Unix())
	buf = binary.AppendUvarint(buf, uint64(e.TS.Nanosecond()))
	if !utc {
		_, offset := e.TS.Zone()
		buf = binary.AppendVarint(buf, int64(offset))
	}
	buf = binary.AppendVarint(buf, int64(e.Queue))
	buf = binary.AppendVarint(buf, int64(e.Staff))
	buf = binary.AppendVarint(buf, int64(e.Lanes))
	buf = appendEnum(buf, statusEnum, string(e.Status))
	if flags&recLatLon != 0 {
		buf = binary.BigEndian.AppendUint64(buf, math.Float64bits(e.Lat))
		buf = binary.BigEndian.AppendUint64(buf, math.Float64bits(e.Lon))
	}
	buf = binary.AppendVarint(buf, int64(e.Count))
	buf = binary.AppendVarint(buf, int64(e.FingerprintRetries))
	buf = appendEnum(buf, kindEnum, string(e.Kind))
	binary.BigEndian.PutUint32(buf[start:], crc32.Checksum(buf[start+recHeaderSize:], crcTable))
	return buf
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

func appendEnum(buf []byte, table []string, s string) []byte {
	for i := 1; i < len(table); i++ {
		if table[i] == s {
			return append(buf, byte(i))
		}
	}
	return appendString(append(buf, 0), s)
}

// recordDecoder decodes a run of records with few allocations: station
// names are interned (a batch holds a few thousand stations at most), and
// event IDs are gathered in one buffer and made strings with one copy when
// the run is finished. Enum values are the package's constant strings.
type recordDecoder struct {
	stations map[string]string
	ids      []byte
	idEnds   []int // end of each decoded event's ID in ids
}

func newRecordDecoder() *recordDecoder {
	return &recordDecoder{stations: make(map[string]string)}
}

// decode appends the event in rec to *out and reports whether rec was
// intact. rec is only read during the call (it may point into bbolt's map).
// The event's ID is set by finish.
func (d *recordDecoder) decode(rec []byte, out *[]tiendo.Event) bool {
	if len(rec) <= recHeaderSize || binary.BigEndian.Uint32(rec) != crc32.Checksum(rec[recHeaderSize:], crcTable) {
		return false
	}
	body := rec[recHeaderSize:]
	var e tiendo.Event
	var id []byte
	var ok bool
	switch body[0] {
	case recVersion1:
		id, ok = d.decodeV1(body[1:], &e)
	case recJSON:
		ok = decodeJSON(body, &e)
		id = []byte(e.ID)
	}
	if !ok {
		return false
	}
	d.ids = append(d.ids, id...)
	d.idEnds = append(d.idEnds, len(d.ids))
	*out = append(*out, e)
	return true
}

// finish sets the IDs of the events decode appended; they are the last
// len(d.idEnds) of events.
func (d *recordDecoder) finish(events []tiendo.Event) {
	if len(d.idEnds) == 0 {
		return
	}
	all := string(d.ids)
	events = events[len(events)-len(d.idEnds):]
	start := 0
	for i, end := range d.idEnds {
		events[i].ID = all[start:end]
		start = end
	}
	d.ids, d.idEnds = d.ids[:0], d.idEnds[:0]
}

func (d *recordDecoder) decodeV1(b []byte, e *tiendo.Event) (id []byte, ok bool) {
	r := recReader{b: b}
	flags := r.byte()
	id = r.bytes()
	station := r.bytes()
	e.Type = tiendo.EventType(r.enum(typeEnum))
	sec, nsec := r.varint(), r.uvarint()
	offset := int64(0)
	if flags&recUTC == 0 {
		offset = r.varint()
	}
	e.Queue, e.Staff, e.Lanes = int(r.varint()), int(r.varint()), int(r.varint())
	e.Status = tiendo.StationStatus(r.enum(statusEnum))
	if flags&recLatLon != 0 {
		e.Lat, e.Lon = math.Float64frombits(r.uint64()), math.Float64frombits(r.uint64())
	}
	e.Count, e.FingerprintRetries = int(r.varint()), int(r.varint())
	e.Kind = tiendo.RecordKind(r.enum(kindEnum))
	if r.bad || len(r.b) != 0 || nsec >= 1e9 || flags&^(recHasPos|recLatLon|recUTC) != 0 ||
		offset <= -24*3600 || offset >= 24*3600 {
		return nil, false
	}
	e.HasPos = flags&recHasPos != 0
	e.TS = time.Unix(sec, int64(nsec))
	if flags&recUTC != 0 {
		e.TS = e.TS.UTC()
	} else {
		e.TS = e.TS.In(fixedZone(int(offset)))
	}
	if s, ok := d.stations[string(station)]; ok {
		e.Station = s
	} else {
		e.Station = string(station)
		d.stations[e.Station] = e.Station
	}
	return id, true
}

// recReader reads a v1 body. Any read past the end, or a malformed varint,
// sets bad and yields zeros, so decodeV1 checks once at the end.
type recReader struct {
	b   []byte
	bad bool
}

func (r *recReader) byte() byte {
	if len(r.b) < 1 {
		r.bad = true
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *recReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recReader) uint64() uint64 {
	if len(r.b) < 8 {
		r.bad, r.b = true, nil
		return 0
	}
	v := binary.BigEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

// bytes returns a length-prefixed string's bytes, aliasing the record.
func (r *recReader) bytes() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.bad, r.b = true, nil
		return nil
	}
	s := r.b[:n:n]
	r.b = r.b[n:]
	return s
}

func (r *recReader) enum(table []string) string {
	i := int(r.byte())
	if i == 0 {
		return string(r.bytes())
	}
	if i >= len(table) {
		r.bad = true
		return ""
	}
	return table[i]
}

// zones caches one *time.Location per zone offset: time.FixedZone
// allocates, and a batch's events share a handful of offsets.
var zones sync.Map // int -> *time.Location

func fixedZone(offset int) *time.Location {
	if loc, ok := zones.Load(offset); ok {
		return loc.(*time.Location)
	}
	loc, _ := zones.LoadOrStore(offset, time.FixedZone("", offset))
	return loc.(*time.Location)
}

// jsonRecord is the body older versions wrote: the event's JSON plus the
// field tiendo.Event keeps out of it. Records in that form are still read,
// so a spool left by an older version drains after an upgrade.
type jsonRecord struct {
	tiendo.Event
	HasPos bool `json:"has_pos,omitempty"`
}

func decodeJSON(body []byte, e *tiendo.Event) bool {
	var r jsonRecord
	if err := json.Unmarshal(body, &r); err != nil {
		return false
	}
	*e = r.Event
	e.HasPos = r.HasPos
	return true
}

// AppendRecord appends e's spool record (the checksummed binary body
// described above) to buf. Other acceptance logs store events in the same
// form, so that every log reads back exactly what the spool does. An event
// whose zone offset is a day or more cannot be read back (ErrUnspoolable):
// check with Spoolable first.
func AppendRecord(buf []byte, e *tiendo.Event) []byte { return appendRecord(buf, e) }

// Spoolable is nil when e can be stored as a record, else ErrUnspoolable.
func Spoolable(e *tiendo.Event) error {
	if _, offset := e.TS.Zone(); offset <= -24*3600 || offset >= 24*3600 {
		return ErrUnspoolable
	}
	return nil
}

// RecordDecoder decodes a run of records written by AppendRecord (or by
// older versions of the spool) with few allocations; see recordDecoder.
type RecordDecoder struct{ d *recordDecoder }

// NewRecordDecoder returns a decoder for one run of records.
func NewRecordDecoder() RecordDecoder { return RecordDecoder{newRecordDecoder()} }

// Decode appends the event in rec to *out and reports whether rec was
// intact (its checksum and body). rec is only read during the call. The
// event's ID is set by Finish, which must be called before the events are
// used.
func (d RecordDecoder) Decode(rec []byte, out *[]tiendo.Event) bool { return d.d.decode(rec, out) }

// Finish sets the IDs of the events Decode appended to events since the
// last Finish; they are the last ones of events.
func (d RecordDecoder) Finish(events []tiendo.Event) { d.d.finish(events) }
