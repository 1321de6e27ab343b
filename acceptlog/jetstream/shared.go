package jetstream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"tiendo"
)

// Pending is what ReadPending found after the cursor.
type Pending struct {
	// Events are the pending events, oldest first, when Complete.
	Events []tiendo.Event
	// Count is how many events follow the cursor.
	Count int64
	// Complete is false when more than the reader's max are pending, when
	// a flush stayed in flight for the whole wait, or the log could not be
	// read: Events is then nil and the reader's figures lag by Count.
	Complete bool
	// Stale is true when events are pending and the flush state has not
	// been written for StaleAfter: no flusher is moving the log (its leader
	// died and no other has taken over yet, or ClickHouse is away).
	Stale bool
	// InDoubt is how many of the first Events may be in ClickHouse too:
	// the range of an insert that failed (it may have landed in part) and
	// that no flush has resolved yet (readmodel.Pending.InDoubt).
	InDoubt int64
}

// Overlay reads: how long ReadPending waits for a flush in flight, after
// how long an insert still announced is not waited for, and when a flush
// state unchanged with events pending counts as stale.
const (
	pendingWait = time.Second
	intentStale = 2 * time.Second
	StaleAfter  = 10 * time.Second
)

// ReadPending calls query, which reads ClickHouse, and returns the events
// after the cursor as of that query, on any node, whichever node flushes:
// the read model's overlay of a cluster (readmodel.Overlay), where the
// single node's holds its own flusher off with a lock.
//
// It is a seqlock on the flush state. The leased flusher writes Intent
// (BeginInsert) before every insert into ClickHouse and clears it, in the
// same write that moves the cursor (AckSpool) or alone (EndInsert), only
// after the insert has returned. So while the state shows no intent, the
// log's events in ClickHouse are those at or below the cursor, and perhaps
// some up to Doubt (a failed insert may have landed in part; EndInsert
// records its range there, the next ack past it clears it; the reader
// leaves them out of fresh figures, Pending.InDoubt). A read takes the
// state S0 (no intent: else it waits, up to pendingWait), reads the events
// after S0's cursor up to the stream's last sequence (so every event
// accepted before ReadPending was called), runs query with them, and reads
// the state again: the same revision means no write, so no insert began or
// ended between, and ClickHouse answered with the events at or below S0's
// cursor; the overlay is the events read. A changed revision: read again
// (query runs again).
//
// A flusher that dies mid-insert leaves its intent: reads stay incomplete
// (Complete false, figures lagging, never double) until the next leader
// has resolved and acknowledged that range. A ClickHouse outage: each
// failed insert's intent lasts as long as the insert, so reads go on,
// with query's error left to the caller (the read model then adds these
// events to its last good figures, as on a single node).
func (l *Log) ReadPending(query func(pending []tiendo.Event), max int) Pending {
	ctx, cancel := l.ctx()
	defer cancel()
	deadline := time.Now().Add(pendingWait)
	wait := 2 * time.Millisecond
	queried := false
	for {
		st0, rev0, at0, err := l.readStateAt(ctx)
		if err != nil {
			if !queried {
				query(nil)
			}
			return Pending{}
		}
		if st0.Intent != 0 && !at0.IsZero() && time.Since(at0) > intentStale {
			// A flush announced long ago and not over: its flusher died
			// mid-insert (the next leader resolves it) or ClickHouse
			// hangs. Waiting would only slow every read down.
			deadline = time.Now()
		}
		if st0.Intent == 0 {
			s, err := l.streamState(ctx)
			if err != nil {
				if !queried {
					query(nil)
				}
				return Pending{}
			}
			evs, oldest, complete, err := l.tailAfter(ctx, st0.Cursor, s.LastSeq, max)
			complete = complete && err == nil
			if !complete {
				evs = nil
			}
			query(evs)
			queried = true
			st1, rev1, _, err := l.readStateAt(ctx)
			if err != nil {
				return Pending{}
			}
			if rev1 == rev0 && st1 == st0 {
				n, _ := pending(s, st0.Cursor)
				p := Pending{Count: n, Events: evs, Complete: complete}
				if st0.Doubt > st0.Cursor {
					p.InDoubt = int64(min(st0.Doubt, s.LastSeq) - st0.Cursor)
				}
				// Behind: events wait and no flusher wrote for a while. (An
				// idle log's state is old when a new event comes; that is
				// not behind until the event has waited as long.)
				p.Stale = n > 0 && !at0.IsZero() && time.Since(at0) > StaleAfter &&
					(oldest.IsZero() || time.Since(oldest) > StaleAfter)
				return p
			}
		}
		if time.Now().After(deadline) {
			if !queried {
				query(nil)
			}
			p := Pending{Stale: !at0.IsZero() && time.Since(at0) > StaleAfter}
			if s, err := l.streamState(ctx); err == nil {
				p.Count, _ = pending(s, st0.Cursor)
			}
			return p
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return Pending{}
		}
		wait = min(2*wait, 10*time.Millisecond)
	}
}

// readStateAt is readState with the time the state was written.
func (l *Log) readStateAt(ctx context.Context) (flushState, uint64, time.Time, error) {
	e, err := l.kv.Get(ctx, l.key)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return flushState{}, 0, time.Time{}, nil
	case err != nil:
		return flushState{}, 0, time.Time{}, fmt.Errorf("jetstream log: flush state: %w", err)
	}
	st, rev, err := decodeState(e.Value(), e.Revision())
	return st, rev, e.Created(), err
}

// wakeSubject is the core NATS subject a Log announces accepted events on,
// so that other nodes' live rounds start at once instead of at their next
// timer (at most once: a lost announcement costs only that wait).
func (l *Log) wakeSubject() string { return l.cfg.Subject + "-wake" }

// announce tells the other nodes that events were accepted.
func (l *Log) announce() {
	_ = l.cfg.Conn.Publish(l.wakeSubject(), nil)
}

// OnAccepted calls f (on the connection's goroutine; f must not block)
// whenever any node's Log of this stream accepted new events. The
// returned function stops it.
func (l *Log) OnAccepted(f func()) (stop func(), err error) {
	sub, err := l.cfg.Conn.Subscribe(l.wakeSubject(), func(*nats.Msg) { f() })
	if err != nil {
		return nil, err
	}
	return func() { _ = sub.Unsubscribe() }, nil
}
