package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"tiendo"
	"tiendo/store/local"
)

// LedgerConfig tunes how the ledger of accepted ids is kept bounded.
type LedgerConfig struct {
	// Retention is how long after an event's own ts its id stays in the
	// ledger, where a retry finds it in the server's own state; after
	// that a retry is checked against ClickHouse (see Ledger). Zero: the
	// campaign's length plus 30 days, so that every id is kept at least
	// until 30 days after the campaign's deadline. Negative: never prune.
	Retention time.Duration
	// Every is the time between pruning passes (zero: an hour). A pass
	// walks the whole ledger.
	Every time.Duration
	// Step is the most keys one pruning transaction looks at (zero:
	// 20,000, some milliseconds): accepts wait for it, bbolt having one
	// writer.
	Step int
	// Pause is the rest between two steps of a pass (zero: 50 ms).
	Pause time.Duration
	// LateTimeout bounds the ClickHouse look-up of late events (zero: 5 s).
	LateTimeout time.Duration
	// Now is the campaign's clock (nil: the wall clock). A replay of a past
	// campaign runs on the newest event's time: measured on the wall clock,
	// every replayed event would be years past the horizon, pruned at once,
	// and each of its retries looked up in ClickHouse.
	Now func() time.Time
}

// DefaultLedgerConfig is what zero fields of a LedgerConfig become.
var DefaultLedgerConfig = LedgerConfig{Every: time.Hour, Step: 20_000, Pause: 50 * time.Millisecond, LateTimeout: 5 * time.Second}

// RetentionGrace is what the default retention adds to the campaign's length.
const RetentionGrace = 30 * 24 * time.Hour

// LedgerSpool is the part of the spool the ledger works on (local.DB).
type LedgerSpool interface {
	LedgerPrunedBelow() (int64, error)
	PruneLedger(horizon time.Time, from []byte, maxScan int, now time.Time) (local.PruneResult, error)
}

// StoredKeys finds which events are in ClickHouse (store.DB).
type StoredKeys interface {
	StoredEventKeys(ctx context.Context, events []tiendo.Event) (map[string]bool, error)
}

// Ledger keeps the spool's ledger of accepted ids bounded without giving up
// exactly-once: it prunes ids of events older than the retention window, in
// the background (Run), and checks events older than what was pruned
// against ClickHouse before they are accepted (Submit), reporting those
// found there as duplicates.
//
// Why that is exactly-once. A key is pruned only when its event is before
// the horizon and has left the spool, so is in ClickHouse; the horizon is
// recorded (prunedBelow) in the same step, before any key goes. A request
// reads prunedBelow and submits under mu held for reading; a pruning step
// runs under mu held for writing. So for a retried event at ts:
//
//   - ts at or after prunedBelow: no step that could remove its key has
//     run, nor can one run before the request's spool transaction: the
//     ledger has the key, and the retry is a duplicate there;
//   - ts before prunedBelow: it is looked up in ClickHouse. If the key was
//     already gone, the event was in ClickHouse before the look-up, which
//     finds it. If the key was still there, it stays until the request is
//     done (no step runs meanwhile: see gen), and the ledger finds it.
//
// The ClickHouse look-up is made without holding mu (ClickHouse may be
// slow); a generation counter, moved by every step, tells the request that
// a step ran in between, and it looks again.
//
// Pruning starts only once a Handler has used the Ledger for its late
// checks: a ledger pruned behind a handler that does not check would let a
// late retry count twice.
//
// The Ledger is the single node's: it works on store/local's ledger of
// ids, kept with the bbolt spool. A cluster's shared JetStream log keeps
// no such ledger (the stream's duplicate window is its dedupe) and checks
// its late events itself, in Accept (acceptlog/jetstream); the server runs
// no Ledger over it, and --ledger-retention does not apply.
type Ledger struct {
	cfg      LedgerConfig
	spool    LedgerSpool
	store    StoredKeys
	campaign func() *tiendo.Campaign
	log      *slog.Logger
	metrics  *Metrics
	now      func() time.Time

	mu          sync.RWMutex
	gen         uint64 // pruning steps so far; guarded by mu
	prunedBelow int64  // Unix seconds (local.NotPruned: never); guarded by mu

	guarded atomic.Bool // a Handler checks late events through this Ledger
	pruned  atomic.Int64
}

// NewLedger returns the ledger keeper of spool; store answers the late
// check, campaign (may return nil) gives the default retention.
func NewLedger(cfg LedgerConfig, spool LedgerSpool, store StoredKeys, campaign func() *tiendo.Campaign, metrics *Metrics, log *slog.Logger) (*Ledger, error) {
	if cfg.Every <= 0 {
		cfg.Every = DefaultLedgerConfig.Every
	}
	if cfg.Step <= 0 {
		cfg.Step = DefaultLedgerConfig.Step
	}
	if cfg.Pause <= 0 {
		cfg.Pause = DefaultLedgerConfig.Pause
	}
	if cfg.LateTimeout <= 0 {
		cfg.LateTimeout = DefaultLedgerConfig.LateTimeout
	}
	below, err := spool.LedgerPrunedBelow()
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Ledger{cfg: cfg, spool: spool, store: store, campaign: campaign, metrics: metrics, log: log,
		now: now, prunedBelow: below}, nil
}

// Retention is the window in force: the configured one, or the campaign's
// length plus RetentionGrace; negative when nothing is to be pruned.
func (l *Ledger) Retention() time.Duration {
	if l.cfg.Retention != 0 {
		return l.cfg.Retention
	}
	c := l.campaign()
	if c == nil {
		return -1 // no campaign, no default: keep everything
	}
	return c.DeadlineTime().Sub(c.StartTime()) + RetentionGrace
}

// Pruned is how many keys this Ledger has pruned.
func (l *Ledger) Pruned() int64 { return l.pruned.Load() }

// Submit hands events to b as Batcher.Submit does, after looking up in
// ClickHouse those older than what the ledger may have pruned: the ones
// found there are duplicates and are not submitted.
func (l *Ledger) Submit(ctx context.Context, b *Batcher, events []tiendo.Event) (Result, error) {
	if !l.guarded.Load() {
		l.guarded.Store(true)
	}
	// A pruning pass takes steps with pauses between them; a late check that
	// a step overtook looks again (it is cheap), for up to LateTimeout.
	deadline := time.Now().Add(l.cfg.LateTimeout)
	for tries := 0; tries == 0 || time.Now().Before(deadline); tries++ {
		l.mu.RLock()
		gen, below := l.gen, l.prunedBelow
		var late []tiendo.Event
		if below != local.NotPruned {
			for i := range events {
				if events[i].TS.Unix() < below {
					late = append(late, events[i])
				}
			}
		}
		if len(late) == 0 {
			res, err := b.Submit(ctx, events)
			l.mu.RUnlock()
			return res, err
		}
		l.mu.RUnlock()

		lctx, cancel := context.WithTimeout(ctx, l.cfg.LateTimeout)
		found, err := l.store.StoredEventKeys(lctx, late)
		cancel()
		if err != nil {
			l.log.Warn("late events could not be checked against ClickHouse", "events", len(late), "err", err)
			return Result{}, &unavailable{retryAfter: 10, err: tiendo.Errorf(tiendo.EUnavailable,
				"events not accepted: %d are older than the server's own ledger keeps and must be checked against ClickHouse, which did not answer; retry later", len(late))}
		}
		l.mu.RLock()
		if l.gen != gen { // a pruning step ran meanwhile: look again
			l.mu.RUnlock()
			time.Sleep(min(l.cfg.Pause/2, 20*time.Millisecond))
			continue
		}
		fresh := events
		if len(found) > 0 {
			fresh = make([]tiendo.Event, 0, len(events))
			for i := range events {
				if !found[events[i].Key()] {
					fresh = append(fresh, events[i])
				}
			}
		}
		var res Result
		if len(fresh) > 0 {
			res, err = b.Submit(ctx, fresh)
		}
		l.mu.RUnlock()
		if err != nil {
			return Result{}, err
		}
		res.Duplicates += len(events) - len(fresh)
		return res, nil
	}
	l.log.Warn("late events not accepted: pruning steps kept overtaking their check", "events", len(events))
	return Result{}, &unavailable{retryAfter: 1, err: tiendo.Errorf(tiendo.EUnavailable, "events not accepted: the ledger is being pruned; retry")}
}

// Run prunes every cfg.Every until ctx ends.
func (l *Ledger) Run(ctx context.Context) error {
	t := time.NewTimer(time.Minute) // the first pass soon after start
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if _, err := l.PruneOnce(ctx); err != nil && ctx.Err() == nil {
			l.log.Warn("ledger pruning failed; it is tried again at the next pass", "err", err)
		}
		t.Reset(l.cfg.Every)
	}
}

// PruneOnce makes one pass over the ledger, in steps of cfg.Step keys,
// and returns how many keys it pruned. It does nothing until a Handler
// checks late events through l, nor while the horizon (now less the
// retention) is before the campaign's start: no event accepted for the
// campaign is that old, and a pass would read every key for nothing.
func (l *Ledger) PruneOnce(ctx context.Context) (int, error) {
	retention := l.Retention()
	if retention < 0 || !l.guarded.Load() {
		return 0, nil
	}
	now := l.now()
	horizon := now.Add(-retention).Truncate(time.Second)
	if c := l.campaign(); c != nil && horizon.Before(c.StartTime()) && l.cfg.Retention == 0 {
		return 0, nil
	}
	total := 0
	var from []byte
	for {
		l.mu.Lock()
		res, err := l.spool.PruneLedger(horizon, from, l.cfg.Step, now)
		if err == nil {
			l.gen++
			l.prunedBelow = max(l.prunedBelow, horizon.Unix())
		}
		l.mu.Unlock()
		if err != nil {
			return total, err
		}
		total += res.Pruned
		l.pruned.Add(int64(res.Pruned))
		if l.metrics != nil && res.Pruned > 0 {
			l.metrics.LedgerPruned.Add(float64(res.Pruned))
		}
		if res.Upgraded > 0 {
			l.log.Info("ledger values from before pruning upgraded", "keys", res.Upgraded)
		}
		if from = res.Next; from == nil {
			break
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(l.cfg.Pause):
		}
	}
	if total > 0 {
		l.log.Info("ledger pruned", "keys", total, "horizon", horizon.UTC().Format(time.RFC3339))
	}
	return total, nil
}
