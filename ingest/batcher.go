// Package ingest accepts stations' events: the HTTP handler decodes and
// validates a batch, and the Batcher group-commits many requests into one
// ClickHouse insert per table, deduplicating by event id through a ledger,
// and answers each request only once its events are committed.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"tiendo"
	"tiendo/store"
)

// Ledger remembers which event keys (tiendo.Event.Key) were committed, and
// which were handed to the store with an unknown outcome. It is what makes
// a retried event a duplicate, also after a restart.
type Ledger interface {
	LedgerStates(keys []string) ([]byte, error) // 0, Pending or Committed per key
	MarkPending(keys []string) error
	Commit(keys []string) error
	Forget(keys []string) error
	PendingKeys() ([]string, error)
}

// Ledger states, as store/local defines them.
const (
	statePending   byte = 'p'
	stateCommitted byte = 'c'
)

// Result is what a request learns: how many of its events were new and how
// many had been accepted before.
type Result struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}

// BatcherConfig tunes group commit.
type BatcherConfig struct {
	// Linger is how long the first request of a batch waits for others to
	// join it. ClickHouse wants few, large inserts; this is their price.
	Linger time.Duration
	// MaxEvents flushes a batch early once it holds this many events.
	MaxEvents int
}

// DefaultBatcherConfig lingers 200 ms and flushes at 20,000 events.
var DefaultBatcherConfig = BatcherConfig{Linger: 200 * time.Millisecond, MaxEvents: 20_000}

// Batcher group-commits events into the store.
type Batcher struct {
	cfg      BatcherConfig
	store    tiendo.EventWriter
	ledger   Ledger
	log      *slog.Logger
	requests chan *request
	done     chan struct{}
	metrics  *Metrics

	// OnCommit, if set, is called from the batcher's goroutine with the
	// events of each committed flush (new ones only), e.g. to wake the live state.
	OnCommit func(events []tiendo.Event)
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
func NewBatcher(cfg BatcherConfig, st tiendo.EventWriter, ledger Ledger, metrics *Metrics, log *slog.Logger) *Batcher {
	if cfg.Linger <= 0 {
		cfg.Linger = DefaultBatcherConfig.Linger
	}
	if cfg.MaxEvents <= 0 {
		cfg.MaxEvents = DefaultBatcherConfig.MaxEvents
	}
	return &Batcher{cfg: cfg, store: st, ledger: ledger, log: log, metrics: metrics,
		requests: make(chan *request, 4096), done: make(chan struct{})}
}

var errStopped = tiendo.Errorf(tiendo.EUnavailable, "server is shutting down")

// Submit hands a validated batch to the group commit and waits for its
// outcome. The events are committed, or the error says nothing of them was
// acknowledged (an EUnavailable *tiendo.Error when storage is down).
func (b *Batcher) Submit(ctx context.Context, events []tiendo.Event) (Result, error) {
	r := &request{events: events, reply: make(chan reply, 1)}
	select {
	case b.requests <- r:
	case <-b.done:
		return Result{}, errStopped
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	// Once queued, wait for the answer even if the client goes away: the
	// flush decides, and a later retry will find the events in the ledger.
	select {
	case rep := <-r.reply:
		return rep.result, rep.err
	case <-b.done:
		return Result{}, errStopped
	}
}

// Run flushes batches until ctx ends, then flushes what is queued and returns.
func (b *Batcher) Run(ctx context.Context) error {
	defer close(b.done)
	if err := b.ResolvePending(ctx); err != nil {
		b.log.Warn("pending events not resolved at start; will retry on their next delivery", "err", err)
	}
	for {
		var first *request
		select {
		case first = <-b.requests:
		case <-ctx.Done():
			b.drain()
			return nil
		}
		batch := []*request{first}
		n := len(first.events)
		timer := time.NewTimer(b.cfg.Linger)
	collect:
		for n < b.cfg.MaxEvents {
			select {
			case r := <-b.requests:
				batch = append(batch, r)
				n += len(r.events)
			case <-timer.C:
				break collect
			case <-ctx.Done():
				break collect
			}
		}
		timer.Stop()
		b.flush(context.WithoutCancel(ctx), batch)
	}
}

// drain flushes requests already queued when the batcher stops, so that
// SIGTERM does not turn accepted-but-unanswered requests into errors.
func (b *Batcher) drain() {
	for {
		select {
		case r := <-b.requests:
			batch := []*request{r}
			for len(b.requests) > 0 {
				batch = append(batch, <-b.requests)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			b.flush(ctx, batch)
			cancel()
		default:
			return
		}
	}
}

// ResolvePending settles events whose insert outcome is unknown (the last
// run died mid-insert): those in ClickHouse become committed, the others are
// forgotten so that their retry is accepted.
func (b *Batcher) ResolvePending(ctx context.Context) error {
	keys, err := b.ledger.PendingKeys()
	if err != nil || len(keys) == 0 {
		return err
	}
	events := make([]tiendo.Event, len(keys))
	for i, k := range keys {
		events[i] = eventFromKey(k)
	}
	_, err = b.resolve(ctx, events)
	if err == nil {
		b.log.Info("resolved pending events", "count", len(keys))
	}
	return err
}

func eventFromKey(k string) tiendo.Event {
	for i := 0; i < len(k); i++ {
		if k[i] == 0 {
			return tiendo.Event{Station: k[:i], ID: k[i+1:]}
		}
	}
	return tiendo.Event{ID: k}
}

// resolve asks the store which pending events it holds, commits those in
// the ledger and forgets the rest. It returns the set found.
func (b *Batcher) resolve(ctx context.Context, pending []tiendo.Event) (map[string]bool, error) {
	found, err := b.store.StoredEventKeys(ctx, pending)
	if err != nil {
		return nil, err
	}
	var stored, absent []string
	for i := range pending {
		if k := pending[i].Key(); found[k] {
			stored = append(stored, k)
		} else {
			absent = append(absent, k)
		}
	}
	if err := b.ledger.Commit(stored); err != nil {
		return nil, err
	}
	if err := b.ledger.Forget(absent); err != nil {
		return nil, err
	}
	return found, nil
}

// flush commits the union of a batch of requests and answers each.
func (b *Batcher) flush(ctx context.Context, batch []*request) {
	start := time.Now()
	results, fresh, err := b.commit(ctx, batch)
	for i, r := range batch {
		if err != nil {
			r.reply <- reply{err: err}
		} else {
			r.reply <- reply{result: results[i]}
		}
	}
	if b.metrics != nil {
		b.metrics.observeFlush(len(batch), len(fresh), err, time.Since(start))
	}
	if err == nil && len(fresh) > 0 && b.OnCommit != nil {
		b.OnCommit(fresh)
	}
}

func (b *Batcher) commit(ctx context.Context, batch []*request) ([]Result, []tiendo.Event, error) {
	// Number the events: first occurrence of a key in the flush is the
	// candidate; later ones are duplicates of it.
	type ref struct{ req, idx int }
	firstOf := map[string]ref{}
	var keys []string
	for ri, r := range batch {
		for ei := range r.events {
			k := r.events[ei].Key()
			if _, ok := firstOf[k]; !ok {
				firstOf[k] = ref{ri, ei}
				keys = append(keys, k)
			}
		}
	}
	states, err := b.ledger.LedgerStates(keys)
	if err != nil {
		return nil, nil, unavailable("read ledger", err)
	}
	var pending []tiendo.Event
	isNew := make(map[string]bool, len(keys))
	for i, k := range keys {
		switch states[i] {
		case stateCommitted:
		case statePending:
			f := firstOf[k]
			pending = append(pending, batch[f.req].events[f.idx])
		default:
			isNew[k] = true
		}
	}
	if len(pending) > 0 {
		found, err := b.resolve(ctx, pending)
		if err != nil {
			return nil, nil, unavailable("resolve pending events", err)
		}
		for i := range pending {
			if k := pending[i].Key(); !found[k] {
				isNew[k] = true
			}
		}
	}
	var fresh []tiendo.Event
	var freshKeys []string
	for _, k := range keys {
		if isNew[k] {
			f := firstOf[k]
			fresh = append(fresh, batch[f.req].events[f.idx])
			freshKeys = append(freshKeys, k)
		}
	}
	if len(fresh) > 0 {
		if err := b.ledger.MarkPending(freshKeys); err != nil {
			return nil, nil, unavailable("write ledger", err)
		}
		if err := b.store.WriteEvents(ctx, fresh); err != nil {
			return nil, nil, unavailable("insert", err)
		}
		if err := b.ledger.Commit(freshKeys); err != nil {
			// The rows are in ClickHouse; the ledger still says pending, so a
			// retry resolves them as duplicates. Nothing is counted twice.
			return nil, nil, unavailable("commit ledger", err)
		}
	}
	results := make([]Result, len(batch))
	for ri, r := range batch {
		for ei := range r.events {
			k := r.events[ei].Key()
			if f := firstOf[k]; f.req == ri && f.idx == ei && isNew[k] {
				results[ri].Accepted++
			} else {
				results[ri].Duplicates++
			}
		}
	}
	return results, fresh, nil
}

func unavailable(what string, err error) error {
	msg := "storage cannot accept events now; retry later"
	if !errors.Is(err, store.ErrUnavailable) {
		msg = "storage failed to accept events; retry later"
	}
	return &tiendo.Error{Code: tiendo.EUnavailable, Message: msg + fmt.Sprintf(" (%s)", what)}
}
