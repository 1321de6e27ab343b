package jetstream

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"tiendo"
	"tiendo/store/local"
)

// The tail cache is filled by a follower: an ordered consumer of the
// stream (in memory, on one server, recreated by the client from the last
// sequence it delivered when its server goes) that pushes every message to
// the node as it is stored, so that a read of the overlay finds the
// pending events already there. Reads fall back to the requests of
// getRange and readRange when the follower is behind, gone, or has not
// started.
type follower struct {
	cc jetstream.ConsumeContext
}

// tailCap bounds the follower's cache: past it (a long ClickHouse outage)
// it stops, and reads answer incomplete (their max is smaller) until the
// flusher has caught up.
const tailCap = 200_000

// followWait is how long a read waits for the follower to deliver the
// messages the stream's leader has, before it asks for them itself.
const followWait = 500 * time.Millisecond

// startFollowerLocked starts a follower from tailEnd+1 (tailMu held),
// replacing any other.
func (l *Log) startFollowerLocked(ctx context.Context) {
	l.stopFollowerLocked()
	cons, err := l.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: l.tailEnd + 1,
		InactiveThreshold: time.Minute,
	})
	if err != nil {
		l.cfg.Log.Warn("jetstream log: tail follower not started; reads ask for new events", "err", err)
		return
	}
	f := &follower{}
	d := local.NewRecordDecoder()
	var evs []tiendo.Event
	cc, err := cons.Consume(func(m jetstream.Msg) {
		meta, err := m.Metadata()
		if err != nil {
			return
		}
		e := entry{seq: meta.Sequence.Stream, at: meta.Timestamp}
		evs = evs[:0]
		if d.Decode(m.Data(), &evs) {
			d.Finish(evs)
			e.ev = evs[0]
		} else {
			e.corrupt = true
		}
		l.tailMu.Lock()
		defer l.tailMu.Unlock()
		if l.fol != f {
			return // replaced
		}
		switch {
		case e.seq <= l.tailEnd:
			// Read meanwhile by a request, or below the cursor.
		case e.seq == l.tailEnd+1 && len(l.tail) < tailCap:
			if !e.corrupt {
				l.tail = append(l.tail, e)
			}
			l.tailEnd = e.seq
			close(l.tailMoved)
			l.tailMoved = make(chan struct{})
		default:
			// A gap (the cache was reset below where this follower is) or
			// the cap: stop; the next read starts one where it needs it.
			l.stopFollowerLocked()
		}
	}, jetstream.ConsumeErrHandler(func(jetstream.ConsumeContext, error) {}))
	if err != nil {
		l.cfg.Log.Warn("jetstream log: tail follower not started; reads ask for new events", "err", err)
		return
	}
	f.cc = cc
	l.fol = f
}

// stopFollowerLocked stops the follower, if any (tailMu held).
func (l *Log) stopFollowerLocked() {
	if l.fol != nil {
		if l.fol.cc != nil {
			l.fol.cc.Stop()
		}
		l.fol = nil
	}
}

// awaitFollowerLocked waits (tailMu held, released while waiting) until
// the tail holds every message up to last or followWait has passed, with
// a follower running. It reports whether the cache's range still starts
// at or below c (a concurrent read may have reset it).
func (l *Log) awaitFollowerLocked(ctx context.Context, c, last uint64) bool {
	if l.fol == nil && len(l.tail) < tailCap {
		l.startFollowerLocked(ctx)
	}
	if l.fol == nil {
		return true
	}
	deadline := time.After(followWait)
	for l.tailEnd < last {
		moved := l.tailMoved
		l.tailMu.Unlock()
		select {
		case <-moved:
		case <-deadline:
			l.tailMu.Lock()
			return c >= l.tailFrom
		case <-ctx.Done():
			l.tailMu.Lock()
			return c >= l.tailFrom
		}
		l.tailMu.Lock()
		if c < l.tailFrom || l.fol == nil {
			break
		}
	}
	return c >= l.tailFrom
}
