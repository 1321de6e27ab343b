package local_test

import (
	"encoding/binary"
	"errors"
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

func TestReadInflightAck(t *testing.T) {
	db := mustOpen(t, t.TempDir())
	var evs []tiendo.Event
	for _, id := range []string{"1", "2", "3", "4", "5"} {
		evs = append(evs, event("A", id))
	}
	db.Accept(evs[:3], local.SpoolLimits{})
	b, _ := db.ReadSpool(2)
	if got := ids(b.Events); !reflect.DeepEqual(got, []string{"A/1", "A/2"}) {
		t.Fatalf("ReadSpool(2) = %v", got)
	}
	if err := db.SetInflight(b.First, b.Last); err != nil {
		t.Fatal(err)
	}
	db.Accept(evs[3:], local.SpoolLimits{})
	// While a range is in flight, reads return exactly that range, whatever max says.
	again, _ := db.ReadSpool(100)
	if got := ids(again.Events); !reflect.DeepEqual(got, []string{"A/1", "A/2"}) || again.First != b.First || again.Last != b.Last {
		t.Fatalf("ReadSpool while in flight = %v [%d,%d]", got, again.First, again.Last)
	}
	if f, l, _ := db.Inflight(); f != b.First || l != b.Last {
		t.Fatalf("Inflight = %d,%d", f, l)
	}
	if err := db.AckSpool(b.First, b.Last); err != nil {
		t.Fatal(err)
	}
	if f, l, _ := db.Inflight(); f != 0 || l != 0 {
		t.Fatalf("Inflight after ack = %d,%d", f, l)
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
	db.SetInflight(b.First, b.Last)
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
