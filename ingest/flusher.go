package ingest

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"tiendo"
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
	return f
}

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
	timer := time.NewTimer(f.cfg.Interval)
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
		case n >= f.cfg.MaxBatch:
			backoff = 0 // more is waiting: go again at once
		default:
			backoff = f.cfg.Interval
		}
		timer.Reset(backoff)
	}
}

func (f *Flusher) drain(timeout time.Duration) error {
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

// FlushOnce moves one batch from the spool into the store and returns how
// many events it inserted. An interrupted batch (in-flight range recorded,
// e.g. after kill -9 or a failed insert) is first resolved against the
// store, so events already there are not inserted twice.
func (f *Flusher) FlushOnce(ctx context.Context) (int, error) {
	inflightFirst, _, err := f.spool.Inflight()
	if err != nil {
		return 0, f.fail(err)
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
	if batch.First == 0 {
		if inflightFirst != 0 {
			// The range held only corrupt records: clear it.
			_, last, _ := f.spool.Inflight()
			return 0, f.spool.AckSpool(inflightFirst, last)
		}
		f.healthy.Store(true)
		return 0, nil
	}
	events := batch.Events
	if inflightFirst != 0 {
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
	} else if err := f.spool.SetInflight(batch.First, batch.Last); err != nil {
		return 0, f.fail(err)
	}
	start := time.Now()
	f.mu.Lock()
	ictx, cancel := context.WithTimeout(ctx, f.cfg.InsertTimeout)
	err = f.store.WriteEvents(ictx, events)
	cancel()
	if err == nil {
		err = f.spool.AckSpool(batch.First, batch.Last)
	}
	f.mu.Unlock()
	if err != nil {
		return 0, f.fail(err)
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
	return len(batch.Events), nil
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
