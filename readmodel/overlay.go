// Package readmodel is what screens and the snapshot API read: ClickHouse's
// figures with the accepted events that ClickHouse does not have yet laid
// over them, the last good figures of each scope for when ClickHouse is
// away, and the live publisher that turns them into each topic's messages.
//
// It owns the invariant that every figure rests on: an accepted event is
// counted once, in ClickHouse or in the overlay, never in both and never in
// neither. Accepting an event (202) puts it in the spool; the flusher moves
// it into ClickHouse and only then out of the spool. A reader therefore
// holds the flusher off (its read lock) from before its ClickHouse query
// until it has read the spool: a flush that lands in between would count
// the flushed events in both answers, or, read in the other order, in
// neither. Nothing else in the module may combine stored and pending
// figures; everything goes through Model.
//
// The package knows no server: its inputs are interfaces and funcs (the
// store's reading side, an Overlay, the registry, the clock, a Hub, a hook
// run before each round), so that another node of a cluster can give it a
// different Overlay (a stream's tail read under a seqlock instead of the
// local spool under the flusher's lock) and keep the rest.
package readmodel

import (
	"context"
	"time"

	"tiendo"
)

// Overlay holds the accepted events that ClickHouse does not have yet.
type Overlay interface {
	// Read reads the overlay, calls query, which reads ClickHouse, with
	// the events it read (nil when not Complete), and returns them: from
	// before the overlay is read until query has returned, no event moves
	// from the overlay into ClickHouse. query may so read the stations of
	// pending heartbeats apart (UnitStatsQuery.Apart). Events accepted while
	// query runs are left to the next read. query may run more than once
	// (a cluster's read retries); its last run is the one that counts.
	Read(query func(pending []tiendo.Event)) Pending
}

// Pending is what an Overlay held at a read.
type Pending struct {
	// Events are the waiting events when Complete, else nil.
	Events []tiendo.Event
	// Count is how many events wait, whether or not Events holds them.
	Count int64
	// Complete is false when the overlay holds more events than a reader
	// adds (a long outage) or could not be read: figures then lag by Count.
	Complete bool
	// Behind says that moving events into ClickHouse fails for now: they
	// are counted nonetheless, and screens say that storage is behind.
	Behind bool
	// InDoubt is how many of the first Events may be in ClickHouse too: a
	// batch whose insert failed or was cut by a kill -9, not yet checked
	// against the store by a flush. Figures read from ClickHouse just now
	// may hold them, so they are not added to those (Model.withPending).
	InDoubt int64
}

// Spool is the server's local spool of accepted events (store/local.DB).
type Spool interface {
	// SpoolStats counts the spooled events without decoding them.
	SpoolStats() (events, bytes int64, err error)
	// PeekSpool decodes up to max spooled events, oldest first; complete
	// is false when there are more.
	PeekSpool(max int) (events []tiendo.Event, complete bool, err error)
}

// Flusher moves the spool into ClickHouse (ingest.Flusher).
type Flusher interface {
	// ReadLock holds flushes off until release is called.
	ReadLock() (release func())
	// Healthy is false while flushes fail.
	Healthy() bool
	// InDoubt is how many events at the head of the spool may be in
	// ClickHouse too (ingest.Flusher.InDoubt).
	InDoubt() int64
}

// MaxOverlay bounds how many spooled events a reader adds to ClickHouse's
// figures; past it (a long outage) screens show the stored figures and say
// how far storage is behind.
const MaxOverlay = 50_000

// SpoolOverlay is the Overlay of a single server: its spool, read under
// its flusher's read lock.
type SpoolOverlay struct {
	Spool   Spool
	Flusher Flusher
	// Stored (may be nil) tells which of the spool's head events in doubt
	// ClickHouse holds, so that they are counted once, from there, without
	// waiting for the flusher to resolve them. Without it, or when it
	// fails, they are left to the model (Pending.InDoubt).
	Stored StoredKeys
}

// StoredKeys tells which events ClickHouse holds (tiendo.EventWriter).
type StoredKeys interface {
	StoredEventKeys(ctx context.Context, events []tiendo.Event) (map[string]bool, error)
}

// doubtCheckTimeout bounds the check of the events in doubt; it runs with
// the flusher held off, so a slow store does not hold it off for long.
const doubtCheckTimeout = 5 * time.Second

var _ Overlay = SpoolOverlay{}

// Read holds the flusher off across the spool's read and query. The count
// is kept beside the spool, so a long outage's spool is not decoded on
// every round only to be found too large to add. Events in doubt (after a
// crash or a failed insert, until the next flush) are checked against
// ClickHouse under the same lock, so the check sees the store as query did.
func (o SpoolOverlay) Read(query func(pending []tiendo.Event)) Pending {
	release := o.Flusher.ReadLock()
	n, _, _ := o.Spool.SpoolStats()
	doubt := min(o.Flusher.InDoubt(), n)
	var events []tiendo.Event
	complete, err := n <= MaxOverlay, error(nil)
	if n > 0 && complete {
		events, complete, err = o.Spool.PeekSpool(MaxOverlay)
	}
	if complete && err == nil {
		query(events)
	} else {
		query(nil)
	}
	if doubt > 0 && complete && err == nil && o.Stored != nil {
		// Unresolved (the check failed): the model leaves the head out.
		if kept, stored, cerr := o.resolve(events, doubt); cerr == nil {
			events, n, doubt = kept, n-stored, 0
		}
	}
	release()
	p := Pending{Count: n, Complete: complete && err == nil, Behind: !o.Flusher.Healthy(), InDoubt: doubt}
	if p.Complete {
		p.Events = events
	}
	return p
}

// resolve drops from the first doubt events those ClickHouse holds.
func (o SpoolOverlay) resolve(events []tiendo.Event, doubt int64) ([]tiendo.Event, int64, error) {
	head := events[:min(doubt, int64(len(events)))]
	ctx, cancel := context.WithTimeout(context.Background(), doubtCheckTimeout)
	defer cancel()
	found, err := o.Stored.StoredEventKeys(ctx, head)
	if err != nil {
		return events, 0, err
	}
	kept := make([]tiendo.Event, 0, len(events))
	for _, e := range head {
		if !found[e.Key()] {
			kept = append(kept, e)
		}
	}
	stored := int64(len(head) - len(kept))
	return append(kept, events[len(head):]...), stored, nil
}
