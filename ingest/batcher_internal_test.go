package ingest

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"tiendo/store/local"
)

// statfsCounter is a real spool that counts its free-space readings.
type statfsCounter struct {
	*local.DB
	calls int
}

func (s *statfsCounter) DiskSpace() (uint64, uint64, error) {
	s.calls++
	return s.DB.DiskSpace()
}

// The free-disk reading is a system call: a busy server makes at most one
// a second, whatever its request rate.
func TestFreeDiskReadAtMostOnceASecond(t *testing.T) {
	db, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	spool := &statfsCounter{DB: db}
	b := NewBatcher(BatcherConfig{}, spool, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	now := time.Date(2021, 3, 20, 12, 0, 0, 0, time.UTC)
	b.disk.now = func() time.Time { return now }
	for range 1000 {
		if low, avail, need := b.diskLow(); low || avail == 0 || need < 1<<30 {
			t.Fatalf("diskLow = %v, %d free, %d kept free; want not low, a reading and the 1 GiB default", low, avail, need)
		}
	}
	now = now.Add(diskCheckEvery - time.Millisecond)
	b.diskLow()
	if spool.calls != 1 {
		t.Fatalf("%d readings within a second, want 1", spool.calls)
	}
	now = now.Add(time.Millisecond)
	b.diskLow()
	if spool.calls != 2 {
		t.Fatalf("%d readings after a second, want 2", spool.calls)
	}
}
