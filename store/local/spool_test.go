package local_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"tiendo"
	"tiendo/store/local"
)

func event(station, id string) tiendo.Event {
	return tiendo.Event{ID: id, Type: tiendo.TypeCompletion, Station: station,
		TS: time.Date(2021, 3, 20, 14, 0, 0, 0, time.UTC), Count: 2, FingerprintRetries: 1, Kind: tiendo.RecordStandard}
}

func ids(events []tiendo.Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Station+"/"+e.ID)
	}
	return out
}

func TestAcceptDedupesAcrossCallsAndWithinOne(t *testing.T) {
	db := mustOpen(t, t.TempDir())
	got, err := db.Accept([]tiendo.Event{event("A", "1"), event("A", "2"), event("A", "1"), event("B", "1")}, local.SpoolLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []bool{true, true, false, true}; !reflect.DeepEqual(got, want) {
		t.Errorf("first Accept = %v, want %v (a repeated id in one batch is a duplicate; B/1 is another station's)", got, want)
	}
	got, err = db.Accept([]tiendo.Event{event("A", "2"), event("A", "3")}, local.SpoolLimits{})
	if err != nil || !reflect.DeepEqual(got, []bool{false, true}) {
		t.Errorf("second Accept = %v, %v", got, err)
	}
	n, size, err := db.SpoolStats()
	if err != nil || n != 4 || size <= 0 {
		t.Errorf("SpoolStats = %d events, %d bytes, %v; want 4 events", n, size, err)
	}
}

func TestSpoolRoundTripKeepsEveryField(t *testing.T) {
	db := mustOpen(t, t.TempDir())
	hb := tiendo.Event{ID: "h", Type: tiendo.TypeHeartbeat, Station: "M", TS: time.Date(2021, 3, 20, 14, 0, 0, 0, time.UTC),
		Queue: 7, Staff: 3, Lanes: 2, Status: tiendo.StatusPaused, HasPos: true, Lat: 21.5, Lon: 106.25}
	c := event("M", "c")
	if _, err := db.Accept([]tiendo.Event{hb, c}, local.SpoolLimits{}); err != nil {
		t.Fatal(err)
	}
	b, err := db.ReadSpool(10)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Events) != 2 || b.First != 1 || b.Last != 2 {
		t.Fatalf("batch = %+v", b)
	}
	if !reflect.DeepEqual(b.Events[0], hb) || !reflect.DeepEqual(b.Events[1], c) {
		t.Errorf("round trip changed events:\n got %+v\nwant %+v", b.Events, []tiendo.Event{hb, c})
	}
}

func TestReadAck(t *testing.T) {
	db := mustOpen(t, t.TempDir())
	var evs []tiendo.Event
	for _, id := range []string{"1", "2", "3", "4", "5"} {
		evs = append(evs, event("A", id))
	}
	db.Accept(evs[:3], local.SpoolLimits{})
	b, _ := db.ReadSpool(2)
	if got := ids(b.Events); !reflect.DeepEqual(got, []string{"A/1", "A/2"}) || b.First != 1 || b.Last != 2 {
		t.Fatalf("ReadSpool(2) = %v [%d,%d]", got, b.First, b.Last)
	}
	db.Accept(evs[3:], local.SpoolLimits{})
	// Reading changes nothing: the same head comes back until it is acked.
	again, _ := db.ReadSpool(2)
	if got := ids(again.Events); !reflect.DeepEqual(got, []string{"A/1", "A/2"}) || again.First != b.First || again.Last != b.Last {
		t.Fatalf("second ReadSpool(2) = %v [%d,%d]", got, again.First, again.Last)
	}
	if err := db.AckSpool(b.First, b.Last); err != nil {
		t.Fatal(err)
	}
	rest, _ := db.ReadSpool(100)
	if got := ids(rest.Events); !reflect.DeepEqual(got, []string{"A/3", "A/4", "A/5"}) {
		t.Fatalf("after ack = %v", got)
	}
	if n, _, _ := db.SpoolStats(); n != 3 {
		t.Fatalf("spool count after ack = %d, want 3", n)
	}
	peek, complete, err := db.PeekSpool(2)
	if err != nil || complete || len(peek) != 2 {
		t.Fatalf("PeekSpool(2) = %d events, complete %v, %v", len(peek), complete, err)
	}
	// Acked events stay deduplicated: the ledger outlives the spool.
	if fresh, _ := db.Accept(evs[:1], local.SpoolLimits{}); fresh[0] {
		t.Fatal("an acked event was accepted again")
	}
}

// The insert window is what a restarted flusher must resolve against
// ClickHouse: the previous process's whole window if it died (whatever
// MaxBatch the new one has), what it left unresolved if it stopped.
func TestInsertWindow(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir)
	if n, err := db.OpenInsertWindow(100); err != nil || n != 0 {
		t.Fatalf("first OpenInsertWindow = %d, %v; want 0 on a new spool", n, err)
	}
	var evs []tiendo.Event
	for i := range 300 {
		evs = append(evs, event("A", fmt.Sprint(i)))
	}
	db.Accept(evs, local.SpoolLimits{})
	// "kill -9" with the window open: a new process with a smaller batch
	// must still resolve the old window (100), and keeps it recorded.
	db.Close()
	db = mustOpen(t, dir)
	if n, err := db.OpenInsertWindow(10); err != nil || n != 100 {
		t.Fatalf("OpenInsertWindow after a crash = %d, %v; want 100", n, err)
	}
	if n, _ := db.OpenInsertWindow(10); n != 100 {
		t.Fatalf("window shrank before it was closed: %d", n)
	}
	// A larger batch widens the window.
	if n, _ := db.OpenInsertWindow(1000); n != 100 {
		t.Fatalf("OpenInsertWindow(1000) = %d, want 100", n)
	}
	if n, _ := db.OpenInsertWindow(10); n != 1000 {
		t.Fatalf("after a 1000-event window: %d, want 1000", n)
	}
	if err := db.CloseInsertWindow(0); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.OpenInsertWindow(10); n != 0 {
		t.Fatalf("after a clean close = %d, want 0", n)
	}
	if err := db.CloseInsertWindow(7); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.OpenInsertWindow(10); n != 7 {
		t.Fatalf("after closing with 7 unresolved = %d, want 7", n)
	}
}

// A spool left by a version that marked an in-flight range before each
// insert: the range is honoured once as the window to resolve, then gone.
func TestLegacyInflightRangeBecomesWindow(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir)
	var evs []tiendo.Event
	for i := range 50 {
		evs = append(evs, event("A", fmt.Sprint(i)))
	}
	db.Accept(evs, local.SpoolLimits{})
	db.Close()
	rawUpdate(t, dir, func(tx *bolt.Tx) error {
		v := make([]byte, 16)
		binary.BigEndian.PutUint64(v, 1)
		binary.BigEndian.PutUint64(v[8:], 40)
		return tx.Bucket([]byte("meta")).Put([]byte("inflight"), v)
	})
	db = mustOpen(t, dir)
	if n, err := db.OpenInsertWindow(10); err != nil || n != 40 {
		t.Fatalf("OpenInsertWindow over a legacy range of 40 = %d, %v", n, err)
	}
	// Converted, not lost: a crash now still resolves 40.
	if n, _ := db.OpenInsertWindow(10); n != 40 {
		t.Fatalf("second OpenInsertWindow = %d, want 40", n)
	}
}

func TestSpoolLimitRefusesWholeBatch(t *testing.T) {
	db := mustOpen(t, t.TempDir())
	limits := local.SpoolLimits{MaxEvents: 2}
	if _, err := db.Accept([]tiendo.Event{event("A", "1"), event("A", "2")}, limits); err != nil {
		t.Fatal(err)
	}
	_, err := db.Accept([]tiendo.Event{event("A", "3")}, limits)
	if !errors.Is(err, local.ErrSpoolFull) {
		t.Fatalf("Accept past the limit = %v, want ErrSpoolFull", err)
	}
	// A batch that would cross the limit is refused whole, not cut.
	_, err = db.Accept([]tiendo.Event{event("B", "1"), event("B", "2"), event("B", "3")}, local.SpoolLimits{MaxEvents: 4})
	if !errors.Is(err, local.ErrSpoolFull) {
		t.Fatalf("Accept past the limit = %v, want ErrSpoolFull", err)
	}
	// Nothing of the refused batch entered the ledger: once there is room it is new.
	b, _ := db.ReadSpool(10)
	db.AckSpool(b.First, b.Last)
	fresh, err := db.Accept([]tiendo.Event{event("A", "3")}, limits)
	if err != nil || !fresh[0] {
		t.Fatalf("after draining: %v, %v; want accepted", fresh, err)
	}
}

// A record whose bytes were flipped on disk is set aside and counted; the
// others are still delivered, and the database still opens.
func TestCorruptRecordSetAside(t *testing.T) {
	dir := t.TempDir()
	db, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	db.Accept([]tiendo.Event{event("A", "1"), event("A", "2"), event("A", "3")}, local.SpoolLimits{})
	db.Close()

	// Flip one byte inside record 2's value, through bbolt so the page stays valid.
	raw, err := bolt.Open(filepath.Join(dir, "state.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = raw.Update(func(tx *bolt.Tx) error {
		k := make([]byte, 8)
		binary.BigEndian.PutUint64(k, 2)
		v := append([]byte(nil), tx.Bucket([]byte("spool")).Get(k)...)
		v[len(v)-3] ^= 0x20
		return tx.Bucket([]byte("spool")).Put(k, v)
	})
	raw.Close()
	if err != nil {
		t.Fatal(err)
	}

	db = mustOpen(t, dir)
	b, err := db.ReadSpool(10)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(b.Events); !reflect.DeepEqual(got, []string{"A/1", "A/3"}) || b.Corrupt != 1 {
		t.Fatalf("ReadSpool = %v, corrupt %d; want A/1 and A/3 with one set aside", got, b.Corrupt)
	}
	if n, err := db.CorruptRecords(); err != nil || n != 1 {
		t.Fatalf("CorruptRecords = %d, %v", n, err)
	}
	if n, _, _ := db.SpoolStats(); n != 2 {
		t.Fatalf("spool count = %d, want 2", n)
	}
}

// A torn tail: the file cut short after the last commit. bbolt keeps two
// meta pages and opens from the last good one, or the open fails with an
// error; in no case does a half-written record come back as an event.
func TestTruncatedFileNeverYieldsHalfRecords(t *testing.T) {
	dir := t.TempDir()
	db, _ := local.Open(dir)
	for i := 0; i < 50; i++ {
		db.Accept([]tiendo.Event{event("A", string(rune('a'+i%26))+string(rune('A'+i/26)))}, local.SpoolLimits{})
	}
	db.Close()
	path := filepath.Join(dir, "state.db")
	fi, _ := os.Stat(path)
	if err := os.Truncate(path, fi.Size()-4096); err != nil {
		t.Fatal(err)
	}
	db2, err := local.Open(dir)
	if err != nil {
		return // refused cleanly: the operator restores state.db; nothing is misread
	}
	defer db2.Close()
	b, err := db2.ReadSpool(100)
	if err != nil {
		return
	}
	for _, e := range b.Events {
		if e.Station != "A" || e.Count != 2 || e.ID == "" {
			t.Fatalf("a damaged record came back as an event: %+v", e)
		}
	}
}

func rawUpdate(t *testing.T, dir string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	raw, err := bolt.Open(filepath.Join(dir, "state.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if err := raw.Update(fn); err != nil {
		t.Fatal(err)
	}
}

// legacyRecord is a spool record as versions before the binary format
// wrote it: CRC-32C, then the event's JSON with has_pos beside it.
func legacyRecord(t *testing.T, e tiendo.Event) []byte {
	t.Helper()
	body, err := json.Marshal(struct {
		tiendo.Event
		HasPos bool `json:"has_pos,omitempty"`
	}{e, e.HasPos})
	if err != nil {
		t.Fatal(err)
	}
	return withCRC(body)
}

func withCRC(body []byte) []byte {
	rec := binary.BigEndian.AppendUint32(nil, crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)))
	return append(rec, body...)
}

// After an upgrade, the spool written by the previous version (JSON
// records) drains: old and new records come back in order, every field
// intact, and acking them keeps the counters right.
func TestLegacyJSONRecordsDrainAfterUpgrade(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir)
	db.Close()
	hb := tiendo.Event{ID: "h1", Type: tiendo.TypeHeartbeat, Station: "M", TS: time.Date(2021, 3, 20, 21, 15, 3, 0, time.FixedZone("", 7*3600)),
		Queue: 37, Staff: 4, Lanes: 3, Status: tiendo.StatusOpen, HasPos: true, Lat: 21.9, Lon: 106.31}
	old := []tiendo.Event{hb, event("M", "c1"), event("N", "c2")}
	rawUpdate(t, dir, func(tx *bolt.Tx) error {
		spool, meta, ledger := tx.Bucket([]byte("spool")), tx.Bucket([]byte("meta")), tx.Bucket([]byte("ledger"))
		var size uint64
		for i, e := range old {
			rec := legacyRecord(t, e)
			size += uint64(len(rec))
			if err := spool.Put(binary.BigEndian.AppendUint64(nil, uint64(i+1)), rec); err != nil {
				return err
			}
			if err := ledger.Put([]byte(e.Key()), []byte{local.Committed}); err != nil {
				return err
			}
		}
		for k, v := range map[string]uint64{"next_seq": 3, "spool_count": 3, "spool_bytes": size} {
			if err := meta.Put([]byte(k), binary.BigEndian.AppendUint64(nil, v)); err != nil {
				return err
			}
		}
		return nil
	})
	db = mustOpen(t, dir)
	fresh, err := db.Accept([]tiendo.Event{event("M", "c1"), event("M", "new")}, local.SpoolLimits{})
	if err != nil || !reflect.DeepEqual(fresh, []bool{false, true}) {
		t.Fatalf("Accept after upgrade = %v, %v; want the old event a duplicate", fresh, err)
	}
	b, err := db.ReadSpool(10)
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]tiendo.Event(nil), old...), event("M", "new"))
	if b.Corrupt != 0 || b.First != 1 || b.Last != 4 || len(b.Events) != 4 {
		t.Fatalf("ReadSpool = %d events [%d,%d], %d corrupt", len(b.Events), b.First, b.Last, b.Corrupt)
	}
	for i := range want {
		if !sameEvent(b.Events[i], want[i]) {
			t.Errorf("event %d = %+v, want %+v", i, b.Events[i], want[i])
		}
	}
	if err := db.AckSpool(b.First, b.Last); err != nil {
		t.Fatal(err)
	}
	if n, size, _ := db.SpoolStats(); n != 0 || size != 0 {
		t.Fatalf("after draining: %d events, %d bytes", n, size)
	}
}

// sameEvent compares events with times compared as instants and offsets,
// not *time.Location pointers.
func sameEvent(a, b tiendo.Event) bool {
	_, oa := a.TS.Zone()
	_, ob := b.TS.Zone()
	if !a.TS.Equal(b.TS) || oa != ob {
		return false
	}
	a.TS, b.TS = time.Time{}, time.Time{}
	return a == b
}

// Binary records keep every field, including unusual values: zones other
// than UTC, fractional seconds, negative numbers, enum values this version
// does not know, empty strings, NaN-free floats with lat/lon but no HasPos.
func TestBinaryRecordRoundTripsOddValues(t *testing.T) {
	db := mustOpen(t, t.TempDir())
	evs := []tiendo.Event{
		{ID: "a", Type: tiendo.TypeHeartbeat, Station: "S", TS: time.Date(2021, 3, 20, 8, 0, 0, 123456789, time.FixedZone("ICT", 7*3600)),
			Queue: 1 << 40, Staff: -3, Lanes: 0, Status: tiendo.StatusClosed, Lat: -0.5, Lon: 0},
		{ID: "b", Type: "future_type", Station: "S", TS: time.Date(1969, 12, 31, 23, 59, 59, 1, time.FixedZone("", -9*3600-1800)),
			Status: "maintenance", Kind: "diplomatic", Count: -1, FingerprintRetries: 1_000_000},
		{ID: "c", Type: tiendo.TypeCompletion, Station: "", TS: time.Time{}, Kind: tiendo.RecordHomeVisit, Count: 10_000},
		{ID: "d", Type: tiendo.TypeHeartbeat, Station: "T", TS: time.Date(2021, 7, 1, 0, 0, 0, 0, time.UTC), HasPos: true, Status: tiendo.StatusOffline},
	}
	if _, err := db.Accept(evs, local.SpoolLimits{}); err != nil {
		t.Fatal(err)
	}
	b, err := db.ReadSpool(10)
	if err != nil || len(b.Events) != len(evs) || b.Corrupt != 0 {
		t.Fatalf("ReadSpool = %d events, %d corrupt, %v", len(b.Events), b.Corrupt, err)
	}
	for i := range evs {
		if !sameEvent(b.Events[i], evs[i]) {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, b.Events[i], evs[i])
		}
	}
	if !reflect.DeepEqual(b.Events[3], evs[3]) {
		t.Errorf("a UTC time did not come back as UTC: %+v", b.Events[3].TS)
	}
}

// A record with a valid checksum but a malformed body (a bug, or a record
// from a newer version) is set aside like a corrupt one and never panics
// the reader: every truncation and every single-byte change of a binary
// record, re-checksummed.
func TestMalformedBodiesSetAside(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir)
	hb := tiendo.Event{ID: "h", Type: tiendo.TypeHeartbeat, Station: "M", TS: time.Date(2021, 3, 20, 14, 0, 0, 5, time.FixedZone("", 7*3600)),
		Queue: 300, Staff: 3, Lanes: 2, Status: "odd", HasPos: true, Lat: 21.5, Lon: 106.25}
	db.Accept([]tiendo.Event{hb}, local.SpoolLimits{})
	db.Close()
	var good []byte
	rawUpdate(t, dir, func(tx *bolt.Tx) error {
		good = append([]byte(nil), tx.Bucket([]byte("spool")).Get(binary.BigEndian.AppendUint64(nil, 1))...)
		return nil
	})
	body := good[4:]
	var variants [][]byte
	for n := 0; n < len(body); n++ {
		variants = append(variants, withCRC(append([]byte(nil), body[:n]...)))
	}
	for i := range body {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			v := append([]byte(nil), body...)
			v[i] ^= x
			variants = append(variants, withCRC(v))
		}
	}
	variants = append(variants, withCRC([]byte{2, 0}), withCRC([]byte("{not json")), withCRC(append(append([]byte(nil), body...), 0)))
	rawUpdate(t, dir, func(tx *bolt.Tx) error {
		spool, meta := tx.Bucket([]byte("spool")), tx.Bucket([]byte("meta"))
		for i, v := range variants {
			if err := spool.Put(binary.BigEndian.AppendUint64(nil, uint64(i+2)), v); err != nil {
				return err
			}
		}
		meta.Put([]byte("next_seq"), binary.BigEndian.AppendUint64(nil, uint64(len(variants)+1)))
		return meta.Put([]byte("spool_count"), binary.BigEndian.AppendUint64(nil, uint64(len(variants)+1)))
	})
	db = mustOpen(t, dir)
	b, err := db.ReadSpool(len(variants) + 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Events)+b.Corrupt != len(variants)+1 || b.Corrupt < len(body)+3 {
		t.Fatalf("%d events and %d corrupt of %d records; want every truncation and the junk set aside", len(b.Events), b.Corrupt, len(variants)+1)
	}
	if !sameEvent(b.Events[0], hb) {
		t.Fatalf("the intact record came back as %+v", b.Events[0])
	}
	if n, _, _ := db.SpoolStats(); n != int64(len(b.Events)) {
		t.Fatalf("spool count %d, want %d", n, len(b.Events))
	}
}

// M6, belt and braces: Accept refuses, whole, a batch with an event whose
// zone offset its own reader would reject (a day or more), instead of
// acknowledging what the flusher would set aside as corrupt; offsets just
// inside a day go in and come back.
func TestAcceptRefusesUnreadableOffsets(t *testing.T) {
	db := mustOpen(t, t.TempDir())
	at := time.Date(2021, 3, 20, 14, 0, 0, 0, time.UTC)
	for _, offset := range []int{24 * 3600, -24 * 3600, 24*3600 + 60} {
		bad := event("A", "bad")
		bad.TS = at.In(time.FixedZone("", offset))
		_, err := db.Accept([]tiendo.Event{event("A", "ok"), bad}, local.SpoolLimits{})
		if !errors.Is(err, local.ErrUnspoolable) {
			t.Fatalf("offset %d s: Accept = %v, want ErrUnspoolable", offset, err)
		}
	}
	if n, _, _ := db.SpoolStats(); n != 0 {
		t.Fatalf("%d events spooled from refused batches", n)
	}
	var evs []tiendo.Event
	for i, offset := range []int{24*3600 - 60, -(24*3600 - 60), 0, 7 * 3600} {
		e := event("A", fmt.Sprint("ok", i))
		e.TS = at.In(time.FixedZone("", offset))
		evs = append(evs, e)
	}
	if fresh, err := db.Accept(evs, local.SpoolLimits{}); err != nil || !fresh[0] || !fresh[3] {
		t.Fatalf("Accept = %v, %v", fresh, err)
	}
	b, err := db.ReadSpool(10)
	if err != nil || b.Corrupt != 0 || len(b.Events) != len(evs) {
		t.Fatalf("ReadSpool: %d events, %d corrupt, %v", len(b.Events), b.Corrupt, err)
	}
	for i := range evs {
		_, want := evs[i].TS.Zone()
		if _, got := b.Events[i].TS.Zone(); got != want || !b.Events[i].TS.Equal(evs[i].TS) {
			t.Errorf("event %d: %v, want %v", i, b.Events[i].TS, evs[i].TS)
		}
	}
}
