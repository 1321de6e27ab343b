// Package ingest accepts stations' events. The HTTP handler decodes and
// validates a batch; the Batcher group-commits concurrent requests into the
// acceptance log (Spool; on one node the local spool, where deduplication
// and acceptance are one fsynced transaction) and answers 202 only after
// it; the Flusher then moves the log's events into ClickHouse in large
// batches, so that a ClickHouse outage delays the dashboards but loses and
// doubles nothing.
package ingest

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"tiendo"
	"tiendo/acceptlog"
)

// Spool is the acceptance log the batcher appends to and the flusher
// drains: store/local's bbolt spool on a single node, acceptlog/jetstream
// in a cluster. Its guarantees are acceptlog.Log's.
type Spool = acceptlog.Log

// Result is what a request learns: how many of its events were new and how
// many had been accepted before.
type Result struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}

// BatcherConfig tunes group commit into the spool.
type BatcherConfig struct {
	// Linger is how long the first request of a group waits for others, so
	// that many small requests share one fsync.
	Linger time.Duration
	// MaxEvents commits a group early once it holds this many events.
	MaxEvents int
	// Limits bound the spool; past them requests get 503 until it drains.
	Limits acceptlog.Limits
	// MinFreeBytes and MinFreeRatio are the free-disk watermark of the
	// filesystem that holds the spool (DIR, where the embedded ClickHouse
	// lives too): with less room than either, requests get 503 with
	// Retry-After and nothing is accepted, before a flood of events fills
	// the disk (M9: one token grew state.db by 86 MB in 3 s). Zero means
	// the default; a negative value turns that check off.
	MinFreeBytes int64
	MinFreeRatio float64
}

// DefaultBatcherConfig lingers 5 ms and bounds the spool at 5 million
// events or 2 GiB, about a day of a national campaign's events. The disk
// watermark is 1 GiB or 2 % of the filesystem, whichever is larger: bbolt
// grows state.db by up to 1 GiB at a time once it is past 1 GiB, and
// ClickHouse needs room to merge its parts; 2 % keeps a large disk's
// last 20 GB or more for the operator.
var DefaultBatcherConfig = BatcherConfig{Linger: 5 * time.Millisecond, MaxEvents: 20_000,
	Limits:       acceptlog.Limits{MaxEvents: 5_000_000, MaxBytes: 2 << 30},
	MinFreeBytes: 1 << 30, MinFreeRatio: 0.02}

// diskCheckEvery is how old a free-space reading may be: statfs is a
// system call, and a request every few milliseconds need not make one.
const diskCheckEvery = time.Second

// DiskSpacer is a spool that can report the room on its filesystem
// (local.DB does): avail is what may still be written, total the size.
type DiskSpacer interface {
	DiskSpace() (avail, total uint64, err error)
}

// unavailable is a refusal that asks for a Retry-After of its own.
type unavailable struct {
	err        *tiendo.Error
	retryAfter int // seconds
}

func (u *unavailable) Error() string { return u.err.Error() }
func (u *unavailable) Unwrap() error { return u.err }

// RetryAfter is the Retry-After (seconds) an error of Submit asks for, or 0.
func RetryAfter(err error) int {
	var u *unavailable
	if errors.As(err, &u) {
		return u.retryAfter
	}
	return 0
}

// Batcher group-commits accepted events into the spool.
type Batcher struct {
	cfg      BatcherConfig
	spool    Spool
	log      *slog.Logger
	requests chan *request
	done     chan struct{}
	metrics  *Metrics

	// OnAccept, if set, is called from the batcher's goroutine after each
	// group that accepted new events (e.g. to wake the live state).
	OnAccept func(events []tiendo.Event)

	disk diskGauge
}

// diskGauge caches the free-disk reading for diskCheckEvery.
type diskGauge struct {
	mu          sync.Mutex
	at          time.Time
	avail, need uint64
	err         error
	warned      bool
	now         func() time.Time // time.Now; tests move it
}

type request struct {
	events []tiendo.Event
	reply  chan reply
}

type reply struct {
	result Result
	err    error
}

// NewBatcher returns a batcher; it accepts nothing until Run is called.
func NewBatcher(cfg BatcherConfig, spool Spool, metrics *Metrics, log *slog.Logger) *Batcher {
	if cfg.Linger <= 0 {
		cfg.Linger = DefaultBatcherConfig.Linger
	}
	if cfg.MaxEvents <= 0 {
		cfg.MaxEvents = DefaultBatcherConfig.MaxEvents
	}
	if cfg.Limits == (acceptlog.Limits{}) {
		cfg.Limits = DefaultBatcherConfig.Limits
	}
	if cfg.MinFreeBytes == 0 {
		cfg.MinFreeBytes = DefaultBatcherConfig.MinFreeBytes
	}
	if cfg.MinFreeRatio == 0 {
		cfg.MinFreeRatio = DefaultBatcherConfig.MinFreeRatio
	}
	b := &Batcher{cfg: cfg, spool: spool, log: log, metrics: metrics,
		requests: make(chan *request, 4096), done: make(chan struct{})}
	b.disk.now = time.Now
	return b
}

// diskLow reports whether the spool's filesystem is below the watermark,
// with the room left and the room wanted, from a reading at most
// diskCheckEvery old. A spool that cannot say (not a DiskSpacer, or an
// error) is never low: the watermark is a guard, not a new way to fail.
func (b *Batcher) diskLow() (low bool, avail, need uint64) {
	ds, ok := b.spool.(DiskSpacer)
	if !ok || (b.cfg.MinFreeBytes < 0 && b.cfg.MinFreeRatio < 0) {
		return false, 0, 0
	}
	g := &b.disk
	g.mu.Lock()
	defer g.mu.Unlock()
	if now := g.now(); g.at.IsZero() || now.Sub(g.at) >= diskCheckEvery {
		g.at = now
		var total uint64
		g.avail, total, g.err = ds.DiskSpace()
		g.need = 0
		if b.cfg.MinFreeBytes > 0 {
			g.need = uint64(b.cfg.MinFreeBytes)
		}
		if b.cfg.MinFreeRatio > 0 {
			g.need = max(g.need, uint64(b.cfg.MinFreeRatio*float64(total)))
		}
		if g.err != nil && !g.warned {
			g.warned = true
			b.log.Warn("cannot measure free disk space; the free-disk watermark is not applied", "err", g.err)
		}
	}
	return g.err == nil && g.avail < g.need, g.avail, g.need
}

var errStopped = tiendo.Errorf(tiendo.EUnavailable, "server is shutting down; retry")

// Submit hands a validated batch to the group commit and waits for its
// outcome: accepted (durable in the spool) or an error saying nothing of
// it was acknowledged (EUnavailable when the spool is full or failing).
func (b *Batcher) Submit(ctx context.Context, events []tiendo.Event) (Result, error) {
	if low, avail, need := b.diskLow(); low {
		if b.metrics != nil {
			b.metrics.Events.WithLabelValues("refused_disk").Add(float64(len(events)))
		}
		return Result{}, &unavailable{retryAfter: 60, err: tiendo.Errorf(tiendo.EUnavailable,
			"events not accepted: the server is low on disk space (%d MiB free, %d MiB kept free); retry later", avail>>20, need>>20)}
	}
	r := &request{events: events, reply: make(chan reply, 1)}
	select {
	case b.requests <- r:
	case <-b.done:
		return Result{}, errStopped
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	// Once queued, wait for the answer even if the client goes away: the
	// commit decides, and a retry will find the events in the ledger.
	select {
	case rep := <-r.reply:
		return rep.result, rep.err
	case <-b.done:
		return Result{}, errStopped
	}
}

// Run commits groups until ctx ends, then commits what is queued and returns.
func (b *Batcher) Run(ctx context.Context) error {
	defer close(b.done)
	for {
		var first *request
		select {
		case first = <-b.requests:
		case <-ctx.Done():
			b.drain()
			return nil
		}
		group := []*request{first}
		n := len(first.events)
		timer := time.NewTimer(b.cfg.Linger)
	collect:
		for n < b.cfg.MaxEvents {
			select {
			case r := <-b.requests:
				group = append(group, r)
				n += len(r.events)
			case <-timer.C:
				break collect
			case <-ctx.Done():
				break collect
			}
		}
		timer.Stop()
		b.commit(group)
	}
}

// drain commits requests already queued when the batcher stops, so that
// SIGTERM does not turn accepted-but-unanswered requests into errors.
func (b *Batcher) drain() {
	for {
		select {
		case r := <-b.requests:
			group := []*request{r}
			for len(b.requests) > 0 {
				group = append(group, <-b.requests)
			}
			b.commit(group)
		default:
			return
		}
	}
}

// commit spools the union of a group in one transaction and answers each request.
func (b *Batcher) commit(group []*request) {
	start := time.Now()
	n := 0
	for _, r := range group {
		n += len(r.events)
	}
	all := group[0].events
	if len(group) > 1 {
		all = make([]tiendo.Event, 0, n)
		for _, r := range group {
			all = append(all, r.events...)
		}
	}
	fresh, err := b.spool.Accept(all, b.cfg.Limits)
	if err != nil {
		msg := "events not accepted: local storage failed; retry later"
		if errors.Is(err, acceptlog.ErrFull) {
			msg = "events not accepted: storage is behind and the spool is full; retry later"
		}
		b.log.Error("spool accept failed", "err", err, "requests", len(group))
		for _, r := range group {
			r.reply <- reply{err: tiendo.Errorf(tiendo.EUnavailable, "%s", msg)}
		}
		if b.metrics != nil {
			b.metrics.Commits.WithLabelValues("error").Inc()
		}
		return
	}
	var accepted []tiendo.Event
	if b.OnAccept != nil {
		accepted = make([]tiendo.Event, 0, n)
	}
	i := 0
	for _, r := range group {
		var res Result
		for range r.events {
			if fresh[i] {
				res.Accepted++
				if b.OnAccept != nil {
					accepted = append(accepted, all[i])
				}
			} else {
				res.Duplicates++
			}
			i++
		}
		r.reply <- reply{result: res}
	}
	if b.metrics != nil {
		b.metrics.Commits.WithLabelValues("ok").Inc()
		b.metrics.CommitTime.Observe(time.Since(start).Seconds())
		b.metrics.CommitRequests.Observe(float64(len(group)))
	}
	if len(accepted) > 0 && b.OnAccept != nil {
		b.OnAccept(accepted)
	}
}
