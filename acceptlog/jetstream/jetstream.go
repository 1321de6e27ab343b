// Package jetstream is the acceptance log of a cluster: a NATS JetStream
// stream that every tiendo node appends to, replicated on 3 servers, and
// deduplicated by the stream itself, so that a batch retried on another
// node is counted once (cluster.md C1, §5.3).
//
//   - Stream: TIENDO_EVENTS (Config.Stream), file storage, Config.Replicas
//     replicas (3 when the server is in a cluster, else 1), subjects
//     tiendo.ev.<station> (a station's '.' written '~', which no station id
//     holds), discard-new: the stream refuses rather than drops.
//   - Message: the event's spool record (store/local's checksummed binary
//     form), header Nats-Msg-Id = station/id. The stream's duplicate window
//     (Config.Duplicates, 48 h) answers a repeated id with Duplicate: true.
//   - Accept publishes each new event asynchronously and returns only when
//     every publish is acknowledged; a duplicate ack is a duplicate.
//   - Flush state: one key of a KV bucket (Config.Bucket, same replicas):
//     the cursor, the last sequence acknowledged as in ClickHouse, and the
//     insert window. Written by compare-and-swap on its revision, so a
//     second flusher's write fails instead of moving the cursor under the
//     first; read from the stream leader (direct gets off), so that a read
//     after an acknowledged write sees it on every node.
//   - Pending part (ReadSpool, PeekSpool, SpoolStats): the stream's
//     messages after the cursor.
//   - Retention: flushed messages stay for the duplicate window (the server
//     rebuilds its dedupe table from the stored messages when it restarts,
//     so purging them sooner would forget their ids), then AckSpool purges
//     them.
//
// Why the cursor is a KV key and not a durable consumer's ack floor: the
// flusher must read exactly the range after the cursor again after a
// failure (the insert window, and later byte-identical retries), which a
// consumer gives only after its ack wait and in redelivery order; every
// node's overlay reads the cursor with one get; and a CAS on the key's
// revision is the fence a leased flusher needs.
package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"tiendo"
	"tiendo/acceptlog"
	"tiendo/store/local"
)

// StoredKeys finds which events are in ClickHouse (store.DB).
type StoredKeys interface {
	StoredEventKeys(ctx context.Context, events []tiendo.Event) (map[string]bool, error)
}

// Config of a JetStream acceptance log. Zero fields take the defaults.
type Config struct {
	// Conn is the connection to the NATS servers (the caller's: Close
	// does not close it).
	Conn *nats.Conn
	// Stream and Subject name the stream and its subjects' prefix:
	// TIENDO_EVENTS and tiendo.ev.
	Stream  string
	Subject string
	// Bucket is the KV bucket of the flush state (tiendo_flush); its key
	// is the stream's name, so several streams may share one bucket.
	Bucket string
	// Replicas of the stream and the bucket: 3 when the connected server
	// is in a cluster, else 1.
	Replicas int
	// Duplicates is the stream's duplicate window (48 h): a repeated id
	// within it is a duplicate at the stream.
	Duplicates time.Duration
	// LateMargin (MaxClockSkew + 1 min) is how much sooner than the window
	// an event counts as late: its ts may be ahead of its first publish
	// by the clock skew a station is allowed, and servers' clocks differ.
	LateMargin time.Duration
	// Stored checks late events (ts older than the window less the margin)
	// against ClickHouse before they are published; without it late events
	// are refused.
	Stored StoredKeys
	// Timeout bounds each request to the servers and the wait for a
	// batch's acks (10 s); LateTimeout the ClickHouse look-up (5 s).
	Timeout     time.Duration
	LateTimeout time.Duration
	// MaxBytes, if positive, bounds the stream's bytes (pending and kept
	// for the window): past it the servers refuse publishes.
	MaxBytes int64
	// PurgeEvery is the least time between purges of flushed messages
	// older than the window (1 min).
	PurgeEvery time.Duration
	// Now is the wall clock (time.Now); lateness is judged on it, since
	// the duplicate window runs on the servers' clocks.
	Now func() time.Time
	Log *slog.Logger
}

// Defaults.
const (
	DefaultStream     = "TIENDO_EVENTS"
	DefaultSubject    = "tiendo.ev"
	DefaultBucket     = "tiendo_flush"
	DefaultDuplicates = 48 * time.Hour
	DefaultLateMargin = tiendo.MaxClockSkew + time.Minute
)

// ErrLateBacklog refuses late events while the oldest unflushed event is
// older than the duplicate window: the stream may have forgotten the id of
// an earlier publish that ClickHouse does not have yet, so neither can
// tell a retry from a new event. It ends when the flusher catches up.
var ErrLateBacklog = errors.New("late events cannot be checked: the log's oldest unflushed event is older than its duplicate window")

// ErrNoLateCheck refuses late events when the log has no Config.Stored.
var ErrNoLateCheck = errors.New("late events cannot be checked: no ClickHouse look-up configured")

// Log is the JetStream acceptance log. Its methods are safe for concurrent
// use; ReadSpool, AckSpool and the insert window by one flusher at a time.
type Log struct {
	cfg    Config
	js     jetstream.JetStream
	stream jetstream.Stream
	kv     jetstream.KeyValue
	key    string

	// state is the flush state as this Log last read or wrote it, rev its
	// KV revision (0: no key yet). Guarded by stateMu.
	stateMu sync.Mutex
	state   flushState
	rev     uint64
	// term is the lease term this Log flushes under (Lead; 0: none, a
	// single flusher). Guarded by stateMu.
	term uint64

	// tail caches pending events for PeekSpool and ReadPending: every
	// event of seqs (tailFrom, tailEnd], those after the cursor it last
	// saw. Guarded by tailMu.
	tailMu   sync.Mutex
	tail     []entry
	tailFrom uint64
	tailEnd  uint64
	// fol fills the tail as the stream stores messages (tail.go);
	// tailMoved is closed (and replaced) whenever tailEnd grows. Guarded
	// by tailMu.
	fol       *follower
	tailMoved chan struct{}

	// read remembers the publish time of the last message of each range
	// ReadSpool returned, and flushed the acknowledged ones, for purging.
	purgeMu   sync.Mutex
	read      map[uint64]time.Time
	flushed   []entry
	lastPurge time.Time
}

type entry struct {
	seq     uint64
	at      time.Time // when the stream stored it
	ev      tiendo.Event
	corrupt bool // its record failed its checksum or body: ev is empty
}

// flushState is the KV value: the cursor and the insert window.
//
// Term and Intent serve a cluster's leased flusher (Lead, BeginInsert,
// ReadPending): Term is the lease term of the flusher that wrote it last,
// Intent the last sequence of the range it is inserting (0: no insert in
// flight), Doubt the last sequence of a range whose insert failed and may
// have landed in part (0: none), until an acknowledgement passes it.
type flushState struct {
	Cursor uint64 `json:"cursor"`
	Window int    `json:"window"`
	Term   uint64 `json:"term,omitempty"`
	Intent uint64 `json:"intent,omitempty"`
	Doubt  uint64 `json:"doubt,omitempty"`
}

var _ acceptlog.Log = (*Log)(nil)

// Open creates or updates the stream and the bucket and returns the log.
func Open(ctx context.Context, cfg Config) (*Log, error) {
	if cfg.Conn == nil {
		return nil, errors.New("jetstream log: no connection")
	}
	if cfg.Stream == "" {
		cfg.Stream = DefaultStream
	}
	if cfg.Subject == "" {
		cfg.Subject = DefaultSubject
	}
	if cfg.Bucket == "" {
		cfg.Bucket = DefaultBucket
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = Replicas(cfg.Conn)
	}
	if cfg.Duplicates <= 0 {
		cfg.Duplicates = DefaultDuplicates
	}
	if cfg.LateMargin <= 0 {
		cfg.LateMargin = DefaultLateMargin
	}
	if cfg.LateMargin >= cfg.Duplicates {
		return nil, fmt.Errorf("jetstream log: late margin %v must be shorter than the duplicate window %v", cfg.LateMargin, cfg.Duplicates)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.LateTimeout <= 0 {
		cfg.LateTimeout = 5 * time.Second
	}
	if cfg.PurgeEvery <= 0 {
		cfg.PurgeEvery = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	// A group commit may publish 20,000 events at once: let them all be in
	// flight, and bound each ack's wait.
	js, err := jetstream.New(cfg.Conn, jetstream.WithPublishAsyncMaxPending(32_768),
		jetstream.WithPublishAsyncTimeout(cfg.Timeout), jetstream.WithDefaultTimeout(cfg.Timeout))
	if err != nil {
		return nil, err
	}
	maxBytes := int64(-1)
	if cfg.MaxBytes > 0 {
		maxBytes = cfg.MaxBytes
	}
	stream, err := RetryUnanswered(ctx, cfg.Timeout, func(ctx context.Context) (jetstream.Stream, error) {
		return js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name:        cfg.Stream,
			Description: "tiendo: accepted events, deduplicated by Nats-Msg-Id = station/id",
			Subjects:    []string{cfg.Subject + ".>"},
			Retention:   jetstream.LimitsPolicy,
			Discard:     jetstream.DiscardNew,
			MaxBytes:    maxBytes,
			MaxMsgs:     -1,
			Storage:     jetstream.FileStorage,
			Replicas:    cfg.Replicas,
			Duplicates:  cfg.Duplicates,
		})
	})
	if err != nil {
		return nil, fmt.Errorf("jetstream log: stream %s: %w", cfg.Stream, err)
	}
	kv, err := RetryUnanswered(ctx, cfg.Timeout, func(ctx context.Context) (jetstream.KeyValue, error) {
		return openBucket(ctx, js, cfg)
	})
	if err != nil {
		return nil, err
	}
	l := &Log{cfg: cfg, js: js, stream: stream, kv: kv, key: cfg.Stream, read: make(map[uint64]time.Time),
		tailMoved: make(chan struct{})}
	// The bucket was just found or made, yet a server may answer its first
	// read "stream not found" while the cluster settles the bucket's
	// stream (seen in CI, a node opening the log right after another
	// created it): read again while so, as while unanswered.
	if _, err := retry(ctx, cfg.Timeout, func(err error) bool {
		return unanswered(err) || errors.Is(err, jetstream.ErrStreamNotFound)
	}, l.loadState); err != nil {
		return nil, err
	}
	return l, nil
}

// openBucket creates the flush-state bucket, with gets served by its
// stream's leader only: a direct get may be answered by a replica that has
// not applied the last write, and a stale cursor would show a flushed
// event as pending next to ClickHouse's count of it.
//
// An existing bucket is opened, not created again: nats.go's create (and
// create-or-update) writes a KV's stream config with direct gets on, so
// every node that opened the log turned them on and then off again, two
// changes through the stream's group (slow while a restarted server
// catches up: opening timed out), and a node binding its handle in between
// would read the state from any replica.
func openBucket(ctx context.Context, js jetstream.JetStream, cfg Config) (jetstream.KeyValue, error) {
	name := "KV_" + cfg.Bucket
	s, err := js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: cfg.Bucket, History: 1,
			Description: "tiendo: the flusher's cursor and insert window per event stream",
			Storage:     jetstream.FileStorage, Replicas: cfg.Replicas})
		if err != nil && !errors.Is(err, jetstream.ErrBucketExists) {
			return nil, fmt.Errorf("jetstream log: bucket %s: %w", cfg.Bucket, err)
		}
		s, err = js.Stream(ctx, name)
	}
	if err != nil {
		return nil, fmt.Errorf("jetstream log: bucket %s: %w", cfg.Bucket, err)
	}
	if sc := s.CachedInfo().Config; sc.AllowDirect || sc.Replicas != cfg.Replicas {
		sc.AllowDirect, sc.Replicas = false, cfg.Replicas
		if _, err := js.UpdateStream(ctx, sc); err != nil {
			return nil, fmt.Errorf("jetstream log: bucket %s: leader reads: %w", cfg.Bucket, err)
		}
	}
	return js.KeyValue(ctx, cfg.Bucket)
}

// RetryUnanswered runs f, an idempotent request to the servers, again
// while it gets no answer (every node's opening of a shared stream or
// bucket goes through it). The servers leave some of several concurrent
// creates or updates of one stream unanswered (three nodes opening the log
// at once: one of them waited its whole timeout, the stream made), and a
// server just restarted may not answer its group's requests for a while.
// A try waits 1 s, then twice as long each time up to timeout; all of them
// together at most three timeouts.
func RetryUnanswered[T any](ctx context.Context, timeout time.Duration, f func(context.Context) (T, error)) (T, error) {
	return retry(ctx, timeout, unanswered, f)
}

// retry runs f again while its error is transient, as RetryUnanswered.
func retry[T any](ctx context.Context, timeout time.Duration, transient func(error) bool, f func(context.Context) (T, error)) (T, error) {
	deadline := time.Now().Add(3 * timeout)
	try := min(time.Second, timeout)
	for {
		tctx, cancel := context.WithTimeout(ctx, min(try, time.Until(deadline)))
		v, err := f(tctx)
		cancel()
		if err == nil || !transient(err) || ctx.Err() != nil || time.Until(deadline) <= 0 {
			return v, err
		}
		// An answer that came at once (stream not found) is asked again
		// after a pause, not in a busy loop.
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
		try = min(2*try, timeout)
	}
}

// unanswered tells a request the servers did not answer.
func unanswered(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrNoResponders)
}

// Close releases nothing of the connection (the caller's); it waits for no
// publish, since Accept returns only after its acks.
func (l *Log) Close() error {
	l.tailMu.Lock()
	defer l.tailMu.Unlock()
	l.stopFollowerLocked()
	return nil
}

func (l *Log) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), l.cfg.Timeout)
}

// Subject is the stream subject of a station's events.
func (l *Log) Subject(station string) string {
	return l.cfg.Subject + "." + strings.ReplaceAll(station, ".", "~")
}

// MsgID is the Nats-Msg-Id of an event: station/id (a station id holds no
// '/', so the pair is unambiguous).
func MsgID(e *tiendo.Event) string { return e.Station + "/" + e.ID }

// readState reads the flush state and its revision from the bucket (its
// leader), changing nothing of this Log's own.
func (l *Log) readState(ctx context.Context) (flushState, uint64, error) {
	e, err := l.kv.Get(ctx, l.key)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return flushState{}, 0, nil
	case err != nil:
		return flushState{}, 0, fmt.Errorf("jetstream log: flush state: %w", err)
	}
	return decodeState(e.Value(), e.Revision())
}

func decodeState(v []byte, rev uint64) (flushState, uint64, error) {
	var st flushState
	if err := json.Unmarshal(v, &st); err != nil {
		return flushState{}, 0, fmt.Errorf("jetstream log: flush state: %w", err)
	}
	return st, rev, nil
}

// loadState makes the bucket's flush state this Log's (the flusher's
// starting point; its revision the one the next swap expects).
func (l *Log) loadState(ctx context.Context) (flushState, error) {
	l.stateMu.Lock()
	defer l.stateMu.Unlock()
	return l.loadStateLocked(ctx)
}

func (l *Log) loadStateLocked(ctx context.Context) (flushState, error) {
	st, rev, err := l.readState(ctx)
	if err != nil {
		return flushState{}, err
	}
	l.state, l.rev = st, rev
	return st, nil
}

// cursor is the flushed cursor as the bucket's leader has it now.
func (l *Log) cursor(ctx context.Context) (uint64, error) {
	st, _, err := l.readState(ctx)
	return st.Cursor, err
}

// updateState changes the flush state by compare-and-swap on the revision
// this Log last saw. A failed swap means another flusher wrote it: the
// change is not made, the state is read again, and the error returned.
//
// Under a lease (Lead), the write carries this Log's term and is refused
// with acceptlog.ErrFenced when the state holds a later one: a flusher
// whose lease passed to another node can no longer move the cursor, even
// after re-reading the state and its revision.
func (l *Log) updateState(change func(*flushState)) (flushState, error) {
	l.stateMu.Lock()
	defer l.stateMu.Unlock()
	st := l.state
	if st.Term > l.term {
		return flushState{}, fmt.Errorf("jetstream log: flush state of term %d, this flusher's is %d: %w", st.Term, l.term, acceptlog.ErrFenced)
	}
	if l.term > 0 {
		st.Term = l.term
	}
	change(&st)
	v, err := json.Marshal(st)
	if err != nil {
		return flushState{}, err
	}
	ctx, cancel := l.ctx()
	defer cancel()
	var rev uint64
	if l.rev == 0 {
		rev, err = l.kv.Create(ctx, l.key, v)
	} else {
		rev, err = l.kv.Update(ctx, l.key, v, l.rev)
	}
	if err != nil {
		// The write may have landed with its answer lost (a timeout, a
		// leader change): then the bucket holds exactly st, and it is
		// done. Anything else was written by another flusher.
		rctx, rcancel := l.ctx()
		got, gerr := l.loadStateLocked(rctx)
		rcancel()
		if gerr == nil && got == st {
			return st, nil
		}
		if gerr == nil && got.Term > l.term {
			return flushState{}, fmt.Errorf("jetstream log: flush state taken by term %d: %w", got.Term, acceptlog.ErrFenced)
		}
		return flushState{}, fmt.Errorf("jetstream log: flush state not written (another flusher?): %w", err)
	}
	l.state, l.rev = st, rev
	return st, nil
}

// Lead makes this Log flush under lease term term (acceptlog/jetstream's
// Lease: its revision at acquisition, which grows with every new term).
// The next OpenInsertWindow reads the state afresh and writes the term
// into it; from then on no flusher of an earlier term writes the state.
func (l *Log) Lead(term uint64) {
	l.stateMu.Lock()
	defer l.stateMu.Unlock()
	l.term = term
}

// BeginInsert records, before the flusher inserts the range first..last
// into ClickHouse, that an insert is in flight (ReadPending waits for it to
// end, as a reader of a seqlock waits for an odd count). AckSpool and
// EndInsert clear it.
func (l *Log) BeginInsert(first, last uint64) error {
	_, err := l.updateState(func(st *flushState) { st.Intent = last })
	return err
}

// EndInsert records that the insert BeginInsert announced has returned
// without its range being acknowledged (it failed: the range stays at the
// head, possibly partly stored, for the next flush to resolve). The range
// stays in doubt for readers (Pending.InDoubt) until an ack passes it.
func (l *Log) EndInsert() error {
	_, err := l.updateState(func(st *flushState) {
		st.Doubt = max(st.Doubt, st.Intent)
		st.Intent = 0
	})
	return err
}

// streamState is the stream's last sequence and size, from its leader.
func (l *Log) streamState(ctx context.Context) (jetstream.StreamState, error) {
	info, err := l.stream.Info(ctx)
	if err != nil {
		return jetstream.StreamState{}, fmt.Errorf("jetstream log: stream state: %w", err)
	}
	return info.State, nil
}

// pending is how many events follow the cursor, and their bytes: the
// stream's size scaled by their share of its messages (flushed messages
// stay for the duplicate window).
func pending(st jetstream.StreamState, cursor uint64) (events, bytes int64) {
	if st.LastSeq <= cursor {
		return 0, 0
	}
	events = int64(st.LastSeq - cursor)
	if st.Msgs > 0 {
		bytes = int64(float64(st.Bytes) * float64(min(uint64(events), st.Msgs)) / float64(st.Msgs))
	}
	return events, bytes
}

// Accept publishes the events not seen before (acceptlog.Log). Refusals
// decided before publishing store nothing: an unstorable event, the
// limits, late events that cannot be checked. Then each new event is
// published with its Msg-Id, and Accept waits for every ack; an error from
// any publish fails the whole Accept (nothing reported accepted), and the
// events that did land are duplicates to the retry.
//
// Exactly-once for late events, those with ts before now − (Duplicates −
// LateMargin), whose first publish may be older than the window: they
// are looked up in ClickHouse (found: duplicate), the cursor having been
// read before the look-up, and after it the oldest message past that
// cursor must be younger than the same bound. An earlier publish P of a
// late event e not found then either sits at or below the cursor, i.e.
// was in ClickHouse before the look-up, which would have found it; or
// follows it, so is younger than the bound and still in the stream's
// window, which reports e's publish as a duplicate. A fresh event (ts
// after the bound) was first published no earlier than its ts less the
// allowed clock skew, so its id is in the window whenever it is retried.
func (l *Log) Accept(events []tiendo.Event, limits acceptlog.Limits) ([]bool, error) {
	for i := range events {
		if err := local.Spoolable(&events[i]); err != nil {
			return nil, err
		}
	}
	ctx, cancel := l.ctx()
	defer cancel()
	if limits.MaxEvents > 0 || limits.MaxBytes > 0 {
		c, err := l.cursor(ctx)
		if err != nil {
			return nil, err
		}
		st, err := l.streamState(ctx)
		if err != nil {
			return nil, err
		}
		n, size := pending(st, c)
		if (limits.MaxEvents > 0 && n+int64(len(events)) > limits.MaxEvents) || (limits.MaxBytes > 0 && size >= limits.MaxBytes) {
			return nil, acceptlog.ErrFull
		}
	}
	fresh := make([]bool, len(events))
	publish := make([]int, 0, len(events)) // indexes of the first occurrence of each key
	seen := make(map[string]struct{}, len(events))
	var late []tiendo.Event
	bound := l.cfg.Now().Add(-(l.cfg.Duplicates - l.cfg.LateMargin))
	for i := range events {
		k := events[i].Key()
		if _, dup := seen[k]; dup {
			continue
		}
		seen[k] = struct{}{}
		publish = append(publish, i)
		if events[i].TS.Before(bound) {
			late = append(late, events[i])
		}
	}
	if len(late) > 0 {
		found, err := l.checkLate(late, bound)
		if err != nil {
			return nil, err
		}
		if len(found) > 0 {
			kept := publish[:0]
			for _, i := range publish {
				if !found[events[i].Key()] {
					kept = append(kept, i)
				}
			}
			publish = kept
		}
	}
	futures := make([]jetstream.PubAckFuture, len(publish))
	buf := make([]byte, 0, 128*len(publish))
	for j, i := range publish {
		e := &events[i]
		mark := len(buf)
		buf = local.AppendRecord(buf, e)
		m := &nats.Msg{Subject: l.Subject(e.Station), Header: nats.Header{}, Data: buf[mark:len(buf):len(buf)]}
		f, err := l.js.PublishMsgAsync(m, jetstream.WithMsgID(MsgID(e)), jetstream.WithExpectStream(l.cfg.Stream),
			jetstream.WithStallWait(l.cfg.Timeout))
		if err != nil {
			l.awaitAll(ctx, futures[:j])
			return nil, fmt.Errorf("jetstream log: publish: %w", err)
		}
		futures[j] = f
	}
	var firstErr error
	for j, f := range futures {
		select {
		case ack := <-f.Ok():
			fresh[publish[j]] = !ack.Duplicate
		case err := <-f.Err():
			if inProcess(err) {
				// Another request (on this node or another) is publishing
				// the same id right now: wait for the stream's verdict on
				// it, which is then a duplicate for this request.
				var ack *jetstream.PubAck
				if ack, err = l.republish(ctx, f.Msg()); err == nil {
					fresh[publish[j]] = !ack.Duplicate
					continue
				}
			}
			if firstErr == nil {
				firstErr = err
			}
		case <-ctx.Done():
			if firstErr == nil {
				firstErr = ctx.Err()
			}
		}
	}
	if firstErr != nil {
		return nil, fmt.Errorf("jetstream log: %d events not acknowledged: %w", len(publish), firstErr)
	}
	for _, ok := range fresh {
		if ok {
			l.announce()
			break
		}
	}
	return fresh, nil
}

// errMsgIDInProcess is JetStream's answer (409, err_code 10158) to a
// publish whose message id another publish of the same id is still being
// stored under: neither accepted nor a duplicate yet.
const errMsgIDInProcess jetstream.ErrorCode = 10158

// inProcess reports whether err is errMsgIDInProcess.
func inProcess(err error) bool {
	var api *jetstream.APIError
	return errors.As(err, &api) && api.ErrorCode == errMsgIDInProcess
}

// republish publishes m again, waiting a little longer each time, until
// the stream says whether its id was new or a duplicate (or ctx ends).
func (l *Log) republish(ctx context.Context, m *nats.Msg) (*jetstream.PubAck, error) {
	wait := 2 * time.Millisecond
	for {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		ack, err := l.js.PublishMsg(ctx, m, jetstream.WithMsgID(m.Header.Get(jetstream.MsgIDHeader)),
			jetstream.WithExpectStream(l.cfg.Stream))
		if !inProcess(err) {
			return ack, err
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// awaitAll waits (bounded by ctx) for futures already published, so that a
// failed Accept does not return while its publishes still land.
func (l *Log) awaitAll(ctx context.Context, futures []jetstream.PubAckFuture) {
	for _, f := range futures {
		select {
		case <-f.Ok():
		case <-f.Err():
		case <-ctx.Done():
			return
		}
	}
}

// checkLate looks late events up in ClickHouse and makes sure the log's
// backlog is younger than bound (see Accept).
func (l *Log) checkLate(late []tiendo.Event, bound time.Time) (map[string]bool, error) {
	if l.cfg.Stored == nil {
		return nil, ErrNoLateCheck
	}
	ctx, cancel := l.ctx()
	defer cancel()
	c0, err := l.cursor(ctx)
	if err != nil {
		return nil, err
	}
	lctx, lcancel := context.WithTimeout(context.Background(), l.cfg.LateTimeout)
	found, err := l.cfg.Stored.StoredEventKeys(lctx, late)
	lcancel()
	if err != nil {
		return nil, fmt.Errorf("jetstream log: %d late events not checked against ClickHouse: %w", len(late), err)
	}
	m, err := l.stream.GetMsg(ctx, c0+1)
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		// Nothing after the cursor read before the look-up.
	case err != nil:
		return nil, fmt.Errorf("jetstream log: late check: %w", err)
	case m.Time.Before(bound):
		l.cfg.Log.Warn("late events refused: the oldest unflushed event is older than the duplicate window", "events", len(late), "oldest", m.Time)
		return nil, ErrLateBacklog
	}
	return found, nil
}

// readRange reads up to max messages with sequences from..to, in order.
// An ephemeral consumer of the range, in memory, on one server, without
// acks: reading changes nothing in the stream.
func (l *Log) readRange(ctx context.Context, from, to uint64, max int) ([]entry, int, error) {
	if from > to || max <= 0 {
		return nil, 0, nil
	}
	// A consumer just created in a cluster takes a moment before the
	// server that holds it hears its requests (more so under load): while
	// nobody answers, read again, a little later each time.
	wait := 5 * time.Millisecond
	for {
		out, corrupt, err := l.readRangeOnce(ctx, from, to, max)
		if !errors.Is(err, nats.ErrNoResponders) {
			return out, corrupt, err
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, 0, err
		}
		wait = min(2*wait, 250*time.Millisecond)
	}
}

// getMax is the most messages a read of the tail gets one by one from the
// stream's leader (a request each, no consumer); more are read through a
// consumer. A node's overlay reads the tail several times a second, and a
// consumer is created through the cluster's meta leader: every node's
// reads would otherwise load it.
const getMax = 64

// getRange reads the messages from..to one by one from the stream's leader,
// in order, stopping at the first it cannot read.
func (l *Log) getRange(ctx context.Context, from, to uint64) ([]entry, error) {
	out := make([]entry, 0, to-from+1)
	d := local.NewRecordDecoder()
	var evs []tiendo.Event
	for seq := from; seq <= to; seq++ {
		m, err := l.stream.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("jetstream log: read %d: %w", seq, err)
		}
		evs = evs[:0]
		if !d.Decode(m.Data, &evs) {
			out = append(out, entry{seq: seq, at: m.Time, corrupt: true})
			continue
		}
		d.Finish(evs)
		out = append(out, entry{seq: seq, at: m.Time, ev: evs[0]})
	}
	return out, nil
}

// lagWait bounds how long a read waits for messages the stream's leader
// has and the consumer's server not yet; lagTries is in how many steps.
const (
	lagWait  = 2 * time.Second
	lagTries = 40
)

// readRangeOnce is one attempt of readRange, through its own ephemeral
// consumer.
func (l *Log) readRangeOnce(ctx context.Context, from, to uint64, max int) ([]entry, int, error) {
	cons, err := l.stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: from,
		AckPolicy: jetstream.AckNonePolicy, MemoryStorage: true, Replicas: 1,
		InactiveThreshold: time.Minute,
	})
	if err != nil {
		return nil, 0, fmt.Errorf("jetstream log: read from %d: %w", from, err)
	}
	defer func() {
		dctx, cancel := l.ctx()
		_ = l.stream.DeleteConsumer(dctx, cons.CachedInfo().Name)
		cancel()
	}()
	want := int(min(uint64(max), to-from+1))
	out := make([]entry, 0, want)
	corrupt := 0
	d := local.NewRecordDecoder()
	var evs []tiendo.Event
	lagged := 0
	for len(out)+corrupt < want {
		batch, err := cons.FetchNoWait(min(want-len(out)-corrupt, 4096))
		if err != nil {
			return nil, 0, fmt.Errorf("jetstream log: read from %d: %w", from, err)
		}
		got := 0
		last := uint64(0)
		for m := range batch.Messages() {
			got++
			meta, err := m.Metadata()
			if err != nil {
				return nil, 0, err
			}
			seq := meta.Sequence.Stream
			if seq > to {
				continue
			}
			last = seq
			evs = evs[:0]
			if !d.Decode(m.Data(), &evs) {
				corrupt++
				out = append(out, entry{seq: seq, at: meta.Timestamp, corrupt: true})
				continue
			}
			d.Finish(evs)
			out = append(out, entry{seq: seq, at: meta.Timestamp, ev: evs[0]})
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return nil, 0, fmt.Errorf("jetstream log: read from %d: %w", from, err)
		}
		if last >= to {
			break
		}
		if got == 0 {
			// The consumer's server may not have the stream's newest
			// messages yet (a follower a moment behind the leader that
			// acknowledged them): wait for them, within lagWait.
			if lagged++; lagged > lagTries {
				break
			}
			select {
			case <-time.After(lagWait / lagTries):
			case <-ctx.Done():
				return nil, 0, ctx.Err()
			}
		}
	}
	return out, corrupt, nil
}

// ReadSpool reads up to max events after the cursor (acceptlog.Log). The
// cursor is this Log's own (the flusher's), read from the bucket at Open
// and moved by its AckSpool.
func (l *Log) ReadSpool(max int) (acceptlog.Batch, error) {
	ctx, cancel := l.ctx()
	defer cancel()
	l.stateMu.Lock()
	c := l.state.Cursor
	l.stateMu.Unlock()
	st, err := l.streamState(ctx)
	if err != nil {
		return acceptlog.Batch{}, err
	}
	if st.LastSeq <= c || max <= 0 {
		return acceptlog.Batch{}, nil
	}
	es, corrupt, err := l.readRange(ctx, c+1, st.LastSeq, max)
	if err != nil {
		return acceptlog.Batch{}, err
	}
	b := acceptlog.Batch{Corrupt: corrupt}
	if len(es) == 0 {
		return b, nil
	}
	b.First, b.Last = es[0].seq, es[len(es)-1].seq
	b.Events = make([]tiendo.Event, 0, len(es)-corrupt)
	for i := range es {
		if !es[i].corrupt {
			b.Events = append(b.Events, es[i].ev)
		}
	}
	l.purgeMu.Lock()
	l.read[b.Last] = es[len(es)-1].at
	l.purgeMu.Unlock()
	return b, nil
}

// AckSpool moves the cursor to last (acceptlog.Log). It refuses a range
// that starts past the event after the cursor: acknowledging it would skip
// events ClickHouse does not have.
func (l *Log) AckSpool(first, last uint64) error {
	var skip bool
	_, err := l.updateState(func(st *flushState) {
		if first > st.Cursor+1 {
			skip = true
			return
		}
		st.Cursor = max(st.Cursor, last)
		st.Intent = 0
		if st.Doubt <= st.Cursor {
			st.Doubt = 0
		}
	})
	if skip {
		return fmt.Errorf("jetstream log: ack of %d..%d would skip events after the cursor", first, last)
	}
	if err != nil {
		return err
	}
	l.dropTail(last)
	l.purge(last)
	return nil
}

// purge removes flushed messages older than the duplicate window (and the
// margin), at most every PurgeEvery. Best effort: a failed purge is tried
// again at the next one.
func (l *Log) purge(acked uint64) {
	l.purgeMu.Lock()
	defer l.purgeMu.Unlock()
	for seq, at := range l.read {
		if seq <= acked {
			l.flushed = append(l.flushed, entry{seq: seq, at: at})
			delete(l.read, seq)
		}
	}
	now := l.cfg.Now()
	if now.Sub(l.lastPurge) < l.cfg.PurgeEvery || len(l.flushed) == 0 {
		return
	}
	horizon := now.Add(-(l.cfg.Duplicates + l.cfg.LateMargin))
	var upTo uint64
	kept := l.flushed[:0]
	for _, f := range l.flushed {
		if f.at.Before(horizon) {
			upTo = max(upTo, f.seq)
		} else {
			kept = append(kept, f)
		}
	}
	l.flushed = kept
	if upTo == 0 {
		return
	}
	l.lastPurge = now
	ctx, cancel := l.ctx()
	defer cancel()
	if err := l.stream.Purge(ctx, jetstream.WithPurgeSequence(upTo+1)); err != nil {
		l.cfg.Log.Warn("purging flushed events failed; tried again later", "below", upTo+1, "err", err)
	}
}

// dropTail forgets cached pending events at or below cursor.
func (l *Log) dropTail(cursor uint64) {
	l.tailMu.Lock()
	defer l.tailMu.Unlock()
	l.dropTailLocked(cursor)
}

func (l *Log) dropTailLocked(cursor uint64) {
	i := 0
	for i < len(l.tail) && l.tail[i].seq <= cursor {
		i++
	}
	l.tail = append(l.tail[:0], l.tail[i:]...)
	l.tailFrom = max(l.tailFrom, cursor)
	if l.tailEnd < cursor {
		l.tail, l.tailEnd = l.tail[:0], cursor
	}
}

// OpenInsertWindow records max(window, maxBatch) and returns the window
// before (acceptlog.Log); the flusher's state is read from the bucket
// first, so it starts from what the last flusher left.
func (l *Log) OpenInsertWindow(maxBatch int) (int, error) {
	ctx, cancel := l.ctx()
	defer cancel()
	if _, err := l.loadState(ctx); err != nil {
		return 0, err
	}
	var before int
	_, err := l.updateState(func(st *flushState) {
		before = st.Window
		st.Window = max(st.Window, maxBatch)
	})
	return before, err
}

// CloseInsertWindow records the flusher's unresolved count (acceptlog.Log).
func (l *Log) CloseInsertWindow(unresolved int) error {
	_, err := l.updateState(func(st *flushState) { st.Window = max(unresolved, 0) })
	return err
}

// SpoolStats counts the events after the cursor (acceptlog.Log); bytes is
// their share of the stream's size.
func (l *Log) SpoolStats() (int64, int64, error) {
	ctx, cancel := l.ctx()
	defer cancel()
	c, err := l.cursor(ctx)
	if err != nil {
		return 0, 0, err
	}
	st, err := l.streamState(ctx)
	if err != nil {
		return 0, 0, err
	}
	n, b := pending(st, c)
	return n, b, nil
}

// PeekSpool returns the events after the cursor, up to max (acceptlog.Log):
// the stream's tail. The cursor and the stream's last sequence are read
// from their leaders when it is called, so every event acknowledged before
// is included and none acknowledged as flushed; the events read are kept
// (at most max) so the next call reads only the new ones.
func (l *Log) PeekSpool(max int) ([]tiendo.Event, bool, error) {
	ctx, cancel := l.ctx()
	defer cancel()
	c, err := l.cursor(ctx)
	if err != nil {
		return nil, false, err
	}
	st, err := l.streamState(ctx)
	if err != nil {
		return nil, false, err
	}
	evs, _, complete, err := l.tailAfter(ctx, c, st.LastSeq, max)
	return evs, complete, err
}

// tailAfter returns the events of sequences c+1..last, up to max (complete
// false and nothing when there are more), and when the stream stored the
// oldest of them, from the tail cache, reading only what it does not hold
// yet.
func (l *Log) tailAfter(ctx context.Context, c, last uint64, max int) (events []tiendo.Event, oldest time.Time, complete bool, err error) {
	l.tailMu.Lock()
	defer l.tailMu.Unlock()
again:
	if c < l.tailFrom {
		// A reader whose cursor is older than the cache's (a concurrent
		// read saw a later one): the cache no longer holds what lies
		// between; read it all again.
		l.tail, l.tailFrom, l.tailEnd = nil, c, c
	}
	l.dropTailLocked(c)
	if last <= c {
		return nil, oldest, true, nil
	}
	if last-c > uint64(max) {
		// A long outage: decode nothing, keep nothing; readers say they lag.
		l.tail, l.tailFrom, l.tailEnd = nil, c, c
		return nil, oldest, false, nil
	}
	if l.tailEnd < last && !l.awaitFollowerLocked(ctx, c, last) {
		goto again // another read reset the cache below c meanwhile
	}
	if l.tailEnd < last {
		var es []entry
		var err error
		if last-l.tailEnd <= getMax {
			es, err = l.getRange(ctx, l.tailEnd+1, last)
		} else {
			es, _, err = l.readRange(ctx, l.tailEnd+1, last, int(last-l.tailEnd))
		}
		if err != nil {
			return nil, oldest, false, err
		}
		for _, e := range es {
			if e.seq > last {
				break
			}
			if !e.corrupt {
				l.tail = append(l.tail, e)
			}
			l.tailEnd = e.seq
		}
		if l.tailEnd < last {
			// The read stopped short (a server behind the leader, for
			// longer than the read waits): what it read is kept, and
			// this answer lags; the next read goes on from there.
			return nil, oldest, false, nil
		}
	}
	events = make([]tiendo.Event, 0, len(l.tail))
	for i := range l.tail {
		if l.tail[i].seq <= last {
			events = append(events, l.tail[i].ev)
		}
	}
	if len(l.tail) > 0 {
		oldest = l.tail[0].at
	}
	return events, oldest, true, nil
}
