package ingest

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"tiendo"
	"tiendo/acceptlog"
)

// FlusherConfig tunes how spooled events move into ClickHouse.
type FlusherConfig struct {
	// Interval between flushes. ClickHouse wants few large inserts: about
	// one per second per table.
	Interval time.Duration
	// MaxBatch is the most events in one insert.
	MaxBatch int
	// InsertTimeout bounds one insert, so a hung ClickHouse cannot stall
	// the snapshots that wait on the flush lock.
	InsertTimeout time.Duration
	// Lease, if set, makes this flusher one of several over a shared log
	// (a cluster's JetStream log, which must be a LeasedSpool): it flushes
	// only while it holds the lease. Nil: the only flusher of its spool.
	Lease Lease
}

// leasedGap is the least time between a leased flusher's inserts: the
// overlay of every node reads ClickHouse between two of them.
const leasedGap = 50 * time.Millisecond

// Lease elects the one flusher among the nodes of a cluster
// (acceptlog/jetstream.Lease).
type Lease interface {
	// Term returns the term of the lease this node holds and the instant
	// by which every insert made under it must be over; ok is false when
	// it holds none (or may not use it yet).
	Term() (term uint64, until time.Time, ok bool)
}

// LeasedSpool is a shared log that fences a leased flusher and lets other
// nodes read it while it flushes (acceptlog/jetstream.Log).
type LeasedSpool interface {
	// Lead makes the log's flush-state writes carry term, and refuse with
	// acceptlog.ErrFenced once a later term has written.
	Lead(term uint64)
	// BeginInsert records that the range first..last is being inserted;
	// AckSpool or EndInsert (the insert failed) record that it is over.
	BeginInsert(first, last uint64) error
	EndInsert() error
}

// DefaultFlusherConfig flushes every second, up to 100,000 events at a time.
var DefaultFlusherConfig = FlusherConfig{Interval: time.Second, MaxBatch: 100_000, InsertTimeout: 15 * time.Second}

// Flusher moves events from the spool into the store.
type Flusher struct {
	cfg     FlusherConfig
	spool   Spool
	store   tiendo.EventWriter
	log     *slog.Logger
	metrics *Metrics

	// mu is held for writing from an insert until its events leave the
	// spool; readers hold it while they combine ClickHouse's figures with
	// the spool's, so no event is seen in both or in neither.
	mu sync.RWMutex

	// flushing serialises FlushOnce and guards the insert window state:
	// windowOpen (OpenInsertWindow done) and unresolved (how many events at
	// the head of the spool may already be in the store; see FlushOnce).
	flushing   sync.Mutex
	windowOpen bool
	unresolved int
	// doubt is unresolved as readers see it (InDoubt): raised while mu is
	// held for writing, before a reader can see the spool the insert left.
	doubt atomic.Int64
	// term is the lease term this flusher last flushed under (0: none);
	// guarded by flushing. leading is whether it holds the lease now.
	term    uint64
	leading atomic.Bool

	healthy   atomic.Bool
	lastError atomic.Value // string
	wake      chan struct{}

	// OnFlush, if set, is called after events reached ClickHouse.
	OnFlush func(n int)
}

// NewFlusher returns a flusher; Run starts it.
func NewFlusher(cfg FlusherConfig, spool Spool, st tiendo.EventWriter, metrics *Metrics, log *slog.Logger) *Flusher {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultFlusherConfig.Interval
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultFlusherConfig.MaxBatch
	}
	if cfg.InsertTimeout <= 0 {
		cfg.InsertTimeout = DefaultFlusherConfig.InsertTimeout
	}
	f := &Flusher{cfg: cfg, spool: spool, store: st, log: log, metrics: metrics, wake: make(chan struct{}, 1)}
	f.healthy.Store(true)
	f.leading.Store(cfg.Lease == nil)
	if cfg.Lease == nil {
		f.doubt.Store(math.MaxInt64) // the window a previous process left is not read yet
	}
	return f
}

// InDoubt is how many events at the head of the spool may be in the store
// too: a batch whose insert failed (it may have landed) or was cut by a
// kill -9, until a flush checks it against the store; every event before
// the first flush has read the insert window. A reader adding the spool to
// fresh ClickHouse figures leaves these out (readmodel.Pending.InDoubt).
// Always 0 under a Lease: the shared log fences such reads itself
// (jetstream.Log.ReadPending).
func (f *Flusher) InDoubt() int64 { return f.doubt.Load() }

// setUnresolved records how many head events may be in the store, for the
// next flush and for readers. Raising it must happen under mu.
func (f *Flusher) setUnresolved(n int) {
	f.unresolved = n
	if f.cfg.Lease == nil {
		f.doubt.Store(int64(n))
	}
}

// Leading reports whether this flusher moves the log: always without a
// Lease, else while it holds the lease.
func (f *Flusher) Leading() bool { return f.leading.Load() }

// Healthy reports whether the last flush attempt succeeded.
func (f *Flusher) Healthy() bool { return f.healthy.Load() }

// LastError is the last flush error's text, or "".
func (f *Flusher) LastError() string {
	s, _ := f.lastError.Load().(string)
	return s
}

// Wake asks for a flush now (e.g. the spool grew large).
func (f *Flusher) Wake() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// ReadLock holds flushes off while a reader combines the store with the
// spool; the returned function releases it.
func (f *Flusher) ReadLock() func() {
	f.mu.RLock()
	return f.mu.RUnlock
}

// Run flushes on every interval until ctx ends, then keeps flushing until
// the spool is empty or drainTimeout passes (graceful shutdown).
func (f *Flusher) Run(ctx context.Context, drainTimeout time.Duration) error {
	backoff := f.cfg.Interval
	// The first flush is at once: it reads the insert window a previous
	// process left, and until then readers leave the whole spool out.
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return f.drain(drainTimeout)
		case <-timer.C:
		case <-f.wake:
		}
		n, err := f.FlushOnce(context.WithoutCancel(ctx))
		switch {
		case err != nil:
			backoff = min(2*backoff, 10*time.Second)
		case n >= f.cfg.MaxBatch && f.cfg.Lease != nil:
			// More is waiting; other nodes' readers need a moment with no
			// insert in flight (jetstream.Log.ReadPending).
			backoff = leasedGap
		case n >= f.cfg.MaxBatch:
			backoff = 0 // more is waiting: go again at once
		default:
			backoff = f.cfg.Interval
		}
		timer.Reset(backoff)
	}
}

func (f *Flusher) drain(timeout time.Duration) error {
	defer f.closeWindow()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		n, err := f.FlushOnce(context.Background())
		if err != nil {
			f.log.Warn("shutdown: spool not drained; it will be flushed at the next start", "err", err)
			return nil
		}
		if n == 0 {
			return nil
		}
	}
	return nil
}

// FlushOnce moves one batch from the head of the spool into the store and
// returns how many events it took from the spool. Events that may already
// be in the store (after kill -9, a failed insert or a failed ack) are
// first resolved against it, so none is inserted twice.
//
// Exactly-once without a write transaction before the insert: the flusher
// inserts only from the head of the spool, at most MaxBatch events, and
// acks them (AckSpool deletes them from the head) before it reads further;
// Accept appends behind. So the events that may be in the store and still
// in the spool are always among the first unresolved events of the spool:
//
//   - at the first flush, unresolved is what OpenInsertWindow returns: the
//     window a previous process left (its MaxBatch, if it died mid-flush;
//     a smaller number if it stopped cleanly), or an older version's
//     in-flight range. OpenInsertWindow also records max(unresolved,
//     MaxBatch) durably before anything is inserted, so a crash in any
//     insert of this process is covered at the next start, whatever
//     MaxBatch that one runs with;
//   - while unresolved > 0, the batch read (the first MaxBatch events) is
//     checked with StoredEventKeys and only the missing events inserted.
//     If unresolved > MaxBatch, the next batches are checked too until the
//     whole window has been acked;
//   - a failed insert or ack leaves the batch at the head, possibly in the
//     store, so unresolved becomes at least its size; a successful ack
//     removes the first len(batch) events, so unresolved shrinks by that
//     (to 0 when the batch was the whole spool: nothing older is left).
//
// Records set aside as corrupt only shrink the head, which keeps "among the
// first unresolved" true. FlushOnce calls are serialised: two concurrent
// flushes would both read the same head.
//
// Under a Lease (a cluster: one shared log, a flusher on every node, one
// of them flushing), the same argument holds across nodes and terms:
//
//   - one writer of the log's flush state per term: every write (the
//     window, BeginInsert, AckSpool) is a compare-and-swap that carries
//     the term (LeasedSpool.Lead), and once a later term has written, the
//     earlier one's writes fail with acceptlog.ErrFenced. A new term's
//     first write is its OpenInsertWindow, so it starts from the cursor
//     and window the last acknowledged write of any earlier term left;
//   - no insert of an earlier term is still running when a new term
//     resolves the window: every insert's deadline is the lease's until,
//     which passes before the servers can let another node win the lease
//     (jetstream.Lease), and the new holder waits Settle more before it
//     uses it (for an insert ClickHouse was still committing as its
//     client's deadline cut it off);
//   - so the events an earlier term may have inserted without
//     acknowledging are among the first unresolved events of the window
//     the new term reads back (each term records max(window, MaxBatch)
//     before inserting and inserts only from the head), and the new term
//     checks them against ClickHouse before inserting, as after a crash.
//
// A node that lost its lease therefore acknowledges nothing, and nothing
// it inserted is inserted again. The lease is checked again right before
// each insert, and BeginInsert is fenced too, so a flusher that lost it
// while checking the head does not start an insert.
func (f *Flusher) FlushOnce(ctx context.Context) (int, error) {
	f.flushing.Lock()
	defer f.flushing.Unlock()
	var leased LeasedSpool
	if f.cfg.Lease != nil {
		var ok bool
		if leased, ok = f.spool.(LeasedSpool); !ok {
			return 0, f.fail(errors.New("flusher: a leased flusher needs a log that fences (LeasedSpool)"))
		}
		var term uint64
		if term, _, ok = f.cfg.Lease.Term(); !ok {
			f.follow("the flush lease is not held")
			return 0, nil
		}
		if term != f.term {
			leased.Lead(term)
			f.term, f.windowOpen = term, false
			f.leading.Store(true)
			f.log.Info("flusher: this node now moves the log into ClickHouse", "term", term)
		}
	}
	if !f.windowOpen {
		n, err := f.spool.OpenInsertWindow(f.cfg.MaxBatch)
		if errors.Is(err, acceptlog.ErrFenced) {
			f.follow("another node's term wrote the flush state")
			return 0, nil
		}
		if err != nil {
			return 0, f.fail(err)
		}
		f.setUnresolved(n)
		f.windowOpen = true
	}
	batch, err := f.spool.ReadSpool(f.cfg.MaxBatch)
	if err != nil {
		return 0, f.fail(err)
	}
	if batch.Corrupt > 0 {
		f.log.Error("spool records failed their checksum and were set aside", "count", batch.Corrupt)
		if f.metrics != nil {
			f.metrics.SpoolCorrupt.Add(float64(batch.Corrupt))
		}
	}
	if len(batch.Events) == 0 {
		// Nothing valid is left in the spool (corrupt records at the head
		// were just set aside): nothing in it can be in the store.
		f.setUnresolved(0)
		f.healthy.Store(true)
		return 0, nil
	}
	n := len(batch.Events)
	events := batch.Events
	if f.unresolved > 0 {
		found, err := f.store.StoredEventKeys(ctx, events)
		if err != nil {
			return 0, f.fail(err)
		}
		kept := events[:0:0]
		for i := range events {
			if !found[events[i].Key()] {
				kept = append(kept, events[i])
			}
		}
		if skipped := len(events) - len(kept); skipped > 0 {
			f.log.Info("resolved an interrupted flush", "already_stored", skipped, "to_insert", len(kept))
		}
		events = kept
	}
	deadline := time.Now().Add(f.cfg.InsertTimeout)
	if leased != nil {
		// The check above took time: insert only if the lease still holds,
		// and only within it.
		term, until, ok := f.cfg.Lease.Term()
		if !ok || term != f.term {
			f.follow("the flush lease ended before the insert")
			return 0, nil
		}
		if until.Before(deadline) {
			deadline = until
		}
		if err := leased.BeginInsert(batch.First, batch.Last); err != nil {
			if errors.Is(err, acceptlog.ErrFenced) {
				f.follow("another node's term wrote the flush state")
				return 0, nil
			}
			return 0, f.fail(err)
		}
	}
	start := time.Now()
	f.mu.Lock()
	ictx, cancel := context.WithDeadline(ctx, deadline)
	err = f.store.WriteEvents(ictx, events)
	cancel()
	if err == nil {
		err = f.spool.AckSpool(batch.First, batch.Last)
	} else if leased != nil {
		// The insert is over (failed): readers on other nodes may read on.
		// A fenced or failed write leaves the intent for the next flush.
		_ = leased.EndInsert()
	}
	if err != nil && !errors.Is(err, acceptlog.ErrFenced) {
		// Some or all of the batch may be in the store now, and it is still
		// the head of the spool: the next flush resolves it. Readers are
		// told before they can read again.
		f.setUnresolved(max(f.unresolved, n))
	}
	f.mu.Unlock()
	if errors.Is(err, acceptlog.ErrFenced) {
		// Inserted, not acknowledged: the next term resolves the range.
		f.follow("another node's term wrote the flush state")
		return 0, nil
	}
	if err != nil {
		return 0, f.fail(err)
	}
	if n < f.cfg.MaxBatch {
		f.setUnresolved(0) // the batch was everything the spool held
	} else {
		f.setUnresolved(max(f.unresolved-n, 0))
	}
	f.healthy.Store(true)
	f.lastError.Store("")
	if f.metrics != nil {
		f.metrics.Flushes.WithLabelValues("ok").Inc()
		f.metrics.FlushTime.Observe(time.Since(start).Seconds())
		f.metrics.FlushEvents.Observe(float64(len(events)))
	}
	if f.OnFlush != nil {
		f.OnFlush(len(events))
	}
	return n, nil
}

// closeWindow records, after the last flush, how many head events may still
// be in the store unacked (0 after a clean drain), so the next start need
// not resolve a batch that was never interrupted.
func (f *Flusher) closeWindow() {
	f.flushing.Lock()
	defer f.flushing.Unlock()
	if !f.windowOpen {
		return
	}
	if err := f.spool.CloseInsertWindow(f.unresolved); err != nil {
		f.log.Warn("shutdown: could not record the flush state; the next start checks the spool head against ClickHouse", "err", err)
		return
	}
	f.windowOpen = false
}

// follow records that this flusher no longer holds the lease: it stops
// flushing, and reads the window afresh when it wins the lease again.
func (f *Flusher) follow(why string) {
	if f.term != 0 {
		f.log.Info("flusher: this node stopped moving the log", "term", f.term, "why", why)
	}
	f.term, f.windowOpen = 0, false
	f.leading.Store(false)
}

func (f *Flusher) fail(err error) error {
	if f.healthy.Swap(false) {
		f.log.Warn("flush to ClickHouse failed; events stay in the spool", "err", err)
	}
	f.lastError.Store(err.Error())
	if f.metrics != nil {
		f.metrics.Flushes.WithLabelValues("error").Inc()
	}
	return err
}
