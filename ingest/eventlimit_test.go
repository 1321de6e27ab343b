package ingest_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"tiendo"
	"tiendo/ingest"
)

// completionsAt are n completions of station LS-A at ts, ids from prefix.
func completionsAt(prefix string, n int, ts time.Time) []tiendo.Event {
	evs := make([]tiendo.Event, n)
	for i := range evs {
		evs[i] = tiendo.Event{ID: fmt.Sprintf("%s-%d", prefix, i), Type: tiendo.TypeCompletion, Station: "LS-A",
			TS: ts.Add(time.Duration(i%3600) * time.Second), Count: 1 + i%3, Kind: tiendo.RecordStandard}
	}
	return evs
}

var morning = time.Date(2021, 3, 20, 8, 0, 0, 0, time.FixedZone("ICT", 7*3600))

func spooled(t *testing.T, a *ingestApp) int64 {
	t.Helper()
	n, _, err := a.spool.SpoolStats()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// M9: a token is limited in events, not only in requests. Past its burst a
// batch gets 429 with a Retry-After long enough for the batch, and nothing
// of it is stored; other tokens have their own bucket; after the wait the
// batch goes in.
func TestEventRateLimitPerToken(t *testing.T) {
	a := newIngestApp(t, nil, func(h *ingest.Handler) { h.EventsPerSec, h.EventsBurst = 100, 250 })
	if r := a.postEvents(t, completionsAt("a", 200, morning)); r.result(t).Accepted != 200 {
		t.Fatalf("within the burst: %s", r.raw)
	}
	r := a.postEvents(t, completionsAt("b", 200, morning))
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("past the burst: %d %s, want 429", r.status, r.raw)
	}
	// 50 tokens left, 200 wanted: 1.5 s at 100 a second.
	if ra, _ := strconv.Atoi(r.header.Get("Retry-After")); ra < 2 || ra > 3 {
		t.Errorf("Retry-After %q, want 2 (1.5 s rounded up)", r.header.Get("Retry-After"))
	}
	if !strings.Contains(r.body(t).Error, "nothing of this batch was stored") {
		t.Errorf("429 message %q", r.body(t).Error)
	}
	if n := spooled(t, a); n != 200 {
		t.Fatalf("%d events spooled, want only the first batch's 200", n)
	}
	// Another station's token is not held back by LS-A's.
	other, _, err := a.spool.IssueToken("station", "LS-B")
	if err != nil {
		t.Fatal(err)
	}
	evs := completionsAt("c", 200, morning)
	for i := range evs {
		evs[i].Station = "LS-B"
	}
	if r := a.postAs(t, other, encodeBatch(evs), false); r.status != http.StatusAccepted {
		t.Fatalf("another token: %d %s", r.status, r.raw)
	}
	time.Sleep(1600 * time.Millisecond)
	if r := a.postEvents(t, completionsAt("b", 200, morning)); r.result(t).Accepted != 200 {
		t.Fatalf("after the wait: %s", r.raw)
	}
}

// With no wiring the limit is the default one: 20,000 at once, then 200 a
// second, so the 10,000-event batches of a flood are refused by the third.
func TestEventRateLimitDefaults(t *testing.T) {
	a := newIngestApp(t, nil)
	for i := range 2 {
		if r := a.postEvents(t, completionsAt(fmt.Sprint("d", i), ingest.MaxBatchEvents, morning)); r.status != http.StatusAccepted {
			t.Fatalf("batch %d of 10,000: %d %.300s", i, r.status, r.raw)
		}
	}
	if r := a.postEvents(t, completionsAt("d2", ingest.MaxBatchEvents, morning)); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("third batch of 10,000: %d (Retry-After %q), want 429", r.status, r.header.Get("Retry-After"))
	}
	if n := spooled(t, a); n != 2*ingest.MaxBatchEvents {
		t.Fatalf("%d events spooled, want 20,000", n)
	}
	// A negative rate turns the limit off (a burst of 10 would refuse these).
	b := newIngestApp(t, nil, func(h *ingest.Handler) { h.EventsPerSec, h.EventsBurst = -1, 10 })
	for i := range 3 {
		if r := b.postEvents(t, completionsAt(fmt.Sprint("e", i), 100, morning)); r.status != http.StatusAccepted {
			t.Fatalf("no limit, batch %d: %d", i, r.status)
		}
	}
}

// A batch larger than the burst could never pass: 413, not a 429 to wait
// out for ever.
func TestEventRateLimitBatchOverBurst(t *testing.T) {
	a := newIngestApp(t, nil, func(h *ingest.Handler) { h.EventsPerSec, h.EventsBurst = 10, 50 })
	if r := a.postEvents(t, completionsAt("a", 51, morning)); r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("51 events with a burst of 50: %d %s, want 413", r.status, r.raw)
	}
}

// M9: below the free-disk watermark nothing is accepted: 503 with a
// Retry-After and a message that says it is disk space.
func TestFreeDiskWatermark(t *testing.T) {
	avail, total, err := openSpool(t).DiskSpace()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("test filesystem: %d MiB free of %d MiB", avail>>20, total>>20)
	for _, tt := range []struct {
		name string
		cfg  ingest.BatcherConfig
		want int
	}{
		{"more free bytes wanted than there are", ingest.BatcherConfig{MinFreeBytes: int64(avail) + 1<<30}, 503},
		{"more free share wanted than there is", ingest.BatcherConfig{MinFreeBytes: 1, MinFreeRatio: float64(avail)/float64(total) + 0.01}, 503},
		{"watermark off", ingest.BatcherConfig{MinFreeBytes: -1, MinFreeRatio: -1}, 202},
		{"within the watermark", ingest.BatcherConfig{MinFreeBytes: 1 << 20, MinFreeRatio: 0.0001}, 202},
	} {
		a := newIngestAppWith(t, nil, tt.cfg)
		r := a.postEvents(t, completionsAt("a", 10, morning))
		if r.status != tt.want {
			t.Fatalf("%s: status %d %s, want %d", tt.name, r.status, r.raw, tt.want)
		}
		if tt.want != 503 {
			continue
		}
		if ra, _ := strconv.Atoi(r.header.Get("Retry-After")); ra < 30 {
			t.Errorf("%s: Retry-After %q, want a minute or so", tt.name, r.header.Get("Retry-After"))
		}
		if msg := r.body(t).Error; !strings.Contains(msg, "disk space") {
			t.Errorf("%s: message %q does not name disk space", tt.name, msg)
		}
		if n := spooled(t, a); n != 0 {
			t.Errorf("%s: %d events spooled below the watermark", tt.name, n)
		}
	}
	// The defaults apply with no configuration (this machine has room).
	if avail >= 2<<30 && float64(avail) > 0.03*float64(total) {
		if r := newIngestApp(t, nil).postEvents(t, completionsAt("a", 10, morning)); r.status != 202 {
			t.Fatalf("default watermark with %d MiB free: %d", avail>>20, r.status)
		}
	}
}
