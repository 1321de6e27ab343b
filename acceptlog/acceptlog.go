// Package acceptlog is the contract of the acceptance log: the durable,
// deduplicating log between a station's 202 and ClickHouse. Ingest appends
// to it (Accept), the flusher moves it into ClickHouse in ranges from its
// head (ReadSpool, AckSpool, the insert window), and the read model lays
// what it still holds over ClickHouse's figures (PeekSpool, SpoolStats).
//
// Two implementations pass one conformance suite (acceptlog/logtest):
// store/local's bbolt spool, the log of a single node, and
// acceptlog/jetstream, a NATS JetStream stream shared by the nodes of a
// cluster. The method names are the ones ingest and the read model called
// on the spool before the log had an interface; "spool" here means the
// part of the log not yet acknowledged as in ClickHouse.
package acceptlog

import (
	"errors"

	"tiendo"
)

// Log is an acceptance log. Events are keyed by station and id
// (tiendo.Event.Key); each key is accepted at most once, ever (within the
// implementation's stated horizon: see each one's doc), and an accepted
// event stays in the log's pending part, in acceptance order, until a
// flusher acknowledges it as stored.
//
// Only one flusher may use ReadSpool, AckSpool and the insert window at a
// time; Accept, PeekSpool and SpoolStats may be called concurrently with
// each other and with the flusher.
type Log interface {
	// Accept appends the events whose key the log has not accepted before
	// and reports, per event, whether it was new. A key repeated within
	// events is new at its first occurrence only. When Accept returns nil,
	// every new event is durable (it survives the process's death and, for
	// a replicated log, the loss of a minority of its servers) and no
	// later Accept, by this process or another, reports its key new.
	//
	// A refusal the log can decide before appending (ErrFull, an event it
	// cannot store) stores nothing. A failure while appending returns an
	// error and reports nothing as accepted: the bbolt spool then stored
	// nothing (one transaction); a JetStream log may have stored some of
	// the events, and a retry of the batch reports exactly those as
	// duplicates, so every event is counted once. Callers answer 202 only
	// on nil and never count an event of a failed Accept.
	//
	// limits bound the pending part: past them, ErrFull and nothing stored.
	Accept(events []tiendo.Event, limits Limits) (fresh []bool, err error)

	// ReadSpool returns up to max events from the head of the pending part,
	// in acceptance order, with the sequence numbers of the range it read
	// (First..Last, inclusive; both zero when nothing is pending). Reading
	// changes nothing: until AckSpool, the next ReadSpool returns the same
	// range (or a longer one, when max grew). Records that cannot be read
	// back are counted in Corrupt and left out of Events; they are part of
	// the range.
	ReadSpool(max int) (Batch, error)
	// AckSpool records that events First..Last of a batch ReadSpool
	// returned are in ClickHouse: they leave the pending part (PeekSpool,
	// SpoolStats, the limits) as AckSpool returns, durably, and ReadSpool
	// continues after Last. Acknowledging a range already acknowledged is
	// a no-op.
	AckSpool(first, last uint64) error

	// OpenInsertWindow and CloseInsertWindow keep, durably, how many events
	// at the head of the pending part may already be in ClickHouse without
	// having been acknowledged (the flusher's exactly-once argument,
	// ingest.Flusher.FlushOnce). OpenInsertWindow returns the window a
	// previous flusher left (after a crash: its MaxBatch) and records
	// max(that, maxBatch) before the caller inserts anything;
	// CloseInsertWindow records the caller's unresolved count when it
	// stops (0 after a clean drain).
	OpenInsertWindow(maxBatch int) (unresolved int, err error)
	CloseInsertWindow(unresolved int) error

	// PeekSpool returns up to max pending events, oldest first, changing
	// nothing; complete is false when more were pending. Every event whose
	// Accept returned before PeekSpool was called is in the answer until
	// the AckSpool that covers it returns, and in no answer of a PeekSpool
	// called after that. So a reader that holds the flusher off from
	// before its ClickHouse query until PeekSpool returns counts each
	// event once (readmodel.SpoolOverlay).
	PeekSpool(max int) (events []tiendo.Event, complete bool, err error)
	// SpoolStats counts the pending events, and their size in bytes, without
	// decoding them (for /metrics, the limits and the overlay's bound).
	SpoolStats() (events, bytes int64, err error)
}

// Limits bound a log's pending part (the events ClickHouse does not have
// yet): zero fields are no bound.
type Limits struct {
	MaxEvents int64
	MaxBytes  int64
}

// Batch is a contiguous run of pending events.
type Batch struct {
	First, Last uint64 // sequence numbers, inclusive; zero when empty
	Events      []tiendo.Event
	Corrupt     int // records in First..Last that could not be read back
}

// ErrFull is returned by Accept, which then stores nothing, when the
// pending part is at its Limits: ClickHouse has been away too long, and
// accepting more would risk the disk. Ingest answers 503 with Retry-After.
var ErrFull = errors.New("spool full")

// ErrFenced is returned by a shared log's flush-state writes (AckSpool,
// the insert window) when the flusher's lease term has passed to another
// node: it must stop flushing, acknowledging nothing (ingest.Flusher
// under a lease; acceptlog/jetstream.Lease).
var ErrFenced = errors.New("flusher fenced: its lease passed to another node")
