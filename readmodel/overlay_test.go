package readmodel

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"tiendo"
	"tiendo/store/local"
)

// lockLog is a flusher's read lock that writes down who held it when, so
// that a test sees the order of the overlay's steps.
type lockLog struct {
	mu      sync.Mutex
	held    bool
	steps   []string
	healthy bool
	doubt   int64
}

func (l *lockLog) step(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held {
		s += " (flusher held off)"
	}
	l.steps = append(l.steps, s)
}

func (l *lockLog) ReadLock() func() {
	l.mu.Lock()
	l.held = true
	l.steps = append(l.steps, "lock")
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		l.held = false
		l.steps = append(l.steps, "release")
		l.mu.Unlock()
	}
}

func (l *lockLog) Healthy() bool { l.step("healthy?"); return l.healthy }

func (l *lockLog) InDoubt() int64 { return l.doubt }

// loggedSpool is the real spool, with its reads written into the log.
type loggedSpool struct {
	*local.DB
	log *lockLog
}

func (s loggedSpool) SpoolStats() (int64, int64, error) {
	s.log.step("count")
	return s.DB.SpoolStats()
}

func (s loggedSpool) PeekSpool(max int) ([]tiendo.Event, bool, error) {
	s.log.step("peek")
	return s.DB.PeekSpool(max)
}

func openSpool(t *testing.T) *local.DB {
	t.Helper()
	db, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func accept(t *testing.T, db *local.DB, events []tiendo.Event) {
	t.Helper()
	if _, err := db.Accept(events, local.SpoolLimits{MaxEvents: 1 << 30, MaxBytes: 1 << 40}); err != nil {
		t.Fatal(err)
	}
}

// Both reads of the spool and the ClickHouse query happen under the
// flusher's read lock, so no flush lands between them ("counted once"),
// and the overlay hands the query and its caller exactly the spooled
// events, read before the query (which may read their stations apart).
func TestSpoolOverlayReadsUnderTheFlusherLock(t *testing.T) {
	db := openSpool(t)
	evs := []tiendo.Event{
		completion("c1", "S1", 3, evening),
		{ID: "h1", Type: tiendo.TypeHeartbeat, Station: "S2", TS: evening.Add(time.Minute), Queue: 5, Staff: 1, Lanes: 1, Status: tiendo.StatusOpen},
	}
	accept(t, db, evs)
	log := &lockLog{healthy: true}
	o := SpoolOverlay{Spool: loggedSpool{DB: db, log: log}, Flusher: log}
	var queried []tiendo.Event
	p := o.Read(func(pending []tiendo.Event) { log.step("query"); queried = pending })
	want := []string{"lock", "count (flusher held off)", "peek (flusher held off)", "query (flusher held off)", "release", "healthy?"}
	if !reflect.DeepEqual(log.steps, want) {
		t.Errorf("steps = %q\nwant    %q", log.steps, want)
	}
	if !reflect.DeepEqual(queried, p.Events) {
		t.Errorf("the query got %d events, the caller %d", len(queried), len(p.Events))
	}
	if p.Count != 2 || !p.Complete || p.Behind || len(p.Events) != 2 {
		t.Fatalf("pending = count %d, complete %v, behind %v, %d events", p.Count, p.Complete, p.Behind, len(p.Events))
	}
	for i, e := range p.Events {
		if e.Key() != evs[i].Key() || e.Count != evs[i].Count || e.Queue != evs[i].Queue {
			t.Errorf("event %d = %+v, want %+v", i, e, evs[i])
		}
	}
}

// An empty spool is not decoded; a failing flusher makes readers say
// storage is behind, with the spool's events still counted.
func TestSpoolOverlayEmptyAndBehind(t *testing.T) {
	db := openSpool(t)
	log := &lockLog{healthy: false}
	o := SpoolOverlay{Spool: loggedSpool{DB: db, log: log}, Flusher: log}
	p := o.Read(func([]tiendo.Event) {})
	if p.Count != 0 || !p.Complete || p.Events != nil || !p.Behind {
		t.Errorf("empty spool, failing flusher: %+v", p)
	}
	for _, s := range log.steps {
		if s == "peek (flusher held off)" {
			t.Error("an empty spool was decoded")
		}
	}
	accept(t, db, []tiendo.Event{completion("c1", "S1", 1, evening)})
	if p := o.Read(func([]tiendo.Event) {}); p.Count != 1 || len(p.Events) != 1 || !p.Behind {
		t.Errorf("one event behind a failing flusher: %+v", p)
	}
}

// Past MaxOverlay events (a long outage) the spool is counted but not
// decoded: readers add nothing and say their figures lag.
func TestSpoolOverlayPastItsBound(t *testing.T) {
	db := openSpool(t)
	evs := make([]tiendo.Event, MaxOverlay+1)
	for i := range evs {
		evs[i] = completion(fmt.Sprintf("c%d", i), "S1", 1, evening)
	}
	accept(t, db, evs)
	log := &lockLog{healthy: true}
	p := SpoolOverlay{Spool: loggedSpool{DB: db, log: log}, Flusher: log}.Read(func([]tiendo.Event) {})
	if p.Count != MaxOverlay+1 || p.Complete || p.Events != nil {
		t.Errorf("past the bound: count %d, complete %v, %d events", p.Count, p.Complete, len(p.Events))
	}
	for _, s := range log.steps {
		if s == "peek (flusher held off)" {
			t.Error("a spool past MaxOverlay was decoded")
		}
	}
}
