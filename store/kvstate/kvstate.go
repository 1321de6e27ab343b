// Package kvstate keeps a cluster's control-plane state (the station
// registry, quotas, tokens, users, sessions, one-time screen links, notes
// and answers to moves) in one JetStream key-value bucket, replicated like
// the acceptance log, and every node's copy of it (store/local's shared
// buckets) in step with it.
//
// A node writes to the bucket first, inside the local transaction that
// makes the change (local.Shared), so that what one node issued, revoked
// or imported is in the bucket before the node answers; the bucket's
// watcher then brings every change to every node, within milliseconds, and
// OnChange tells the server (which reloads its registry and re-checks its
// open WebSockets). One key per record: "<bucket>.<hex of the local key>".
package kvstate

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	logjs "tiendo/acceptlog/jetstream"
	"tiendo/store/local"
)

// DefaultBucket is the key-value bucket of the shared state.
const DefaultBucket = "tiendo_state"

// Config configures a State.
type Config struct {
	Conn     *nats.Conn
	Bucket   string // default DefaultBucket
	Replicas int    // default 3 when connected to a NATS cluster, else 1
	DB       *local.DB
	// OnChange is called after changes that the bucket sent were applied to
	// DB, with the local buckets they touched (changes made on this node
	// come back too, and are not reported again).
	OnChange func(buckets map[string]bool)
	Log      *slog.Logger
	Timeout  time.Duration // of one write; default 10 s
}

// State is the shared state of one node: Publish for local.DB, and the
// watcher that applies everyone's changes.
type State struct {
	cfg Config
	kv  jetstream.KeyValue

	mu sync.Mutex
	// seen is each key's newest revision this node wrote or was sent (an
	// echo of its own write is not applied again); applied is the
	// revision its local copy holds, what a compare and swap is made
	// against: a change the watcher has but the local copy does not yet
	// (it waits for the write transaction that is asking) must fail it.
	seen, applied map[string]uint64

	watcher jetstream.KeyWatcher
	done    chan struct{}

	// afterApply, set by a test, runs once the local copy holds changes
	// the bucket sent: a pause there widens the instant in which a write
	// sees a key the copy holds, to show its revision is already noted.
	afterApply atomic.Pointer[func()]
}

var _ local.Shared = (*State)(nil)

// Open opens (creating) the bucket and brings DB in step with it: the
// first node of a cluster seeds an empty bucket with its own state; a node
// joining takes the bucket's state as it is, its own copy's keys that the
// bucket does not have deleted. Then it watches for changes until Close,
// and sets itself as DB's Shared.
func Open(ctx context.Context, cfg Config) (*State, error) {
	if cfg.Conn == nil || cfg.DB == nil {
		return nil, errors.New("kvstate: a connection and a local database are needed")
	}
	if cfg.Bucket == "" {
		cfg.Bucket = DefaultBucket
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = logjs.Replicas(cfg.Conn)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	js, err := jetstream.New(cfg.Conn, jetstream.WithDefaultTimeout(cfg.Timeout))
	if err != nil {
		return nil, err
	}
	kv, err := logjs.RetryUnanswered(ctx, cfg.Timeout, func(ctx context.Context) (jetstream.KeyValue, error) {
		return js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: cfg.Bucket, History: 1,
			Description: "tiendo: the control-plane state every node shares (registry, tokens, users, sessions, links, notes)",
			Storage:     jetstream.FileStorage, Replicas: cfg.Replicas})
	})
	if err != nil {
		return nil, fmt.Errorf("kvstate: bucket %s: %w", cfg.Bucket, err)
	}
	s := &State{cfg: cfg, kv: kv, seen: map[string]uint64{}, applied: map[string]uint64{}, done: make(chan struct{})}
	// The watcher first delivers every key's last entry (a deletion's
	// marker included), then nil, then the changes as they come.
	w, err := kv.WatchAll(context.WithoutCancel(ctx))
	if err != nil {
		return nil, fmt.Errorf("kvstate: watch %s: %w", cfg.Bucket, err)
	}
	s.watcher = w
	var initial []jetstream.KeyValueEntry
	for e := range w.Updates() {
		if e == nil {
			break
		}
		initial = append(initial, e)
	}
	if err := s.join(ctx, initial); err != nil {
		_ = w.Stop()
		return nil, err
	}
	cfg.DB.SetShared(s)
	go s.follow()
	return s, nil
}

// join brings the local copy in step with the bucket's initial entries.
func (s *State) join(ctx context.Context, initial []jetstream.KeyValueEntry) error {
	if len(initial) == 0 {
		var seed []local.Change
		err := s.cfg.DB.SharedKeys(func(bucket string, key, value []byte) error {
			seed = append(seed, local.Change{Bucket: bucket, Key: append([]byte{}, key...), Value: append([]byte{}, value...)})
			return nil
		})
		if err != nil {
			return err
		}
		s.cfg.Log.Info("shared state: an empty bucket, seeded from this node", "bucket", s.cfg.Bucket, "keys", len(seed))
		return s.Publish(seed)
	}
	inBucket := map[string]bool{}
	var apply []local.Change
	var revs []jetstream.KeyValueEntry
	for _, e := range initial {
		c, ok := s.change(e)
		if !ok {
			continue
		}
		inBucket[c.Bucket+"\x00"+string(c.Key)] = true
		apply = append(apply, c)
		revs = append(revs, e)
	}
	err := s.cfg.DB.SharedKeys(func(bucket string, key, _ []byte) error {
		if !inBucket[bucket+"\x00"+string(key)] {
			apply = append(apply, local.Change{Bucket: bucket, Key: append([]byte{}, key...)})
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.cfg.Log.Info("shared state: joined", "bucket", s.cfg.Bucket, "keys", len(inBucket))
	return s.apply(apply, revs)
}

// apply writes the changes to the local copy and notes the entries'
// revisions as applied inside the same write transaction (ApplyShared's
// held). Noted after it, a write waiting for that transaction could see a
// key and find no revision for it: a one-time link's compare and swap
// against revision 0 is a plain delete, and the link was used on two nodes
// (seen once in 320 rounds). Should the commit fail after that, the
// revisions noted are taken back.
func (s *State) apply(changes []local.Change, entries []jetstream.KeyValueEntry) error {
	var before map[string]uint64
	err := s.cfg.DB.ApplyShared(changes, func() { before = s.markApplied(entries) })
	if f := s.afterApply.Load(); f != nil {
		(*f)()
	}
	if err != nil && before != nil {
		s.mu.Lock()
		for k, rev := range before {
			s.applied[k] = rev
		}
		s.mu.Unlock()
	}
	return err
}

// markApplied notes that the local copy holds these entries and returns
// the revisions it noted before.
func (s *State) markApplied(entries []jetstream.KeyValueEntry) map[string]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	before := make(map[string]uint64, len(entries))
	for _, e := range entries {
		if _, ok := before[e.Key()]; !ok {
			before[e.Key()] = s.applied[e.Key()]
		}
		s.applied[e.Key()] = max(s.applied[e.Key()], e.Revision())
	}
	return before
}

// change turns a bucket entry into the local change it stands for, and
// notes its revision; ok is false for an entry already applied here (or
// not ours).
func (s *State) change(e jetstream.KeyValueEntry) (local.Change, bool) {
	bucket, hexKey, found := strings.Cut(e.Key(), ".")
	key, err := hex.DecodeString(hexKey)
	if !found || err != nil {
		s.cfg.Log.Warn("shared state: a key not written by tiendo, ignored", "key", e.Key())
		return local.Change{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.Revision() <= s.seen[e.Key()] {
		return local.Change{}, false
	}
	s.seen[e.Key()] = e.Revision()
	c := local.Change{Bucket: bucket, Key: key}
	if e.Operation() == jetstream.KeyValuePut {
		c.Value = e.Value()
		if c.Value == nil {
			c.Value = []byte{}
		}
	}
	return c, true
}

// follow applies the changes the bucket sends until Close, a burst (an
// import) in one local transaction.
func (s *State) follow() {
	defer close(s.done)
	updates := s.watcher.Updates()
	for e := range updates {
		batch := []jetstream.KeyValueEntry{e}
	more:
		for len(batch) < 4096 {
			select {
			case e, ok := <-updates:
				if !ok {
					break more
				}
				batch = append(batch, e)
			default:
				break more
			}
		}
		var changes []local.Change
		var entries []jetstream.KeyValueEntry
		touched := map[string]bool{}
		for _, e := range batch {
			if e == nil {
				continue
			}
			if c, ok := s.change(e); ok {
				changes, entries = append(changes, c), append(entries, e)
				touched[c.Bucket] = true
			}
		}
		if len(changes) == 0 {
			continue
		}
		if err := s.apply(changes, entries); err != nil {
			s.cfg.Log.Error("shared state: applying changes from other nodes failed", "changes", len(changes), "err", err)
			continue
		}
		if s.cfg.OnChange != nil {
			s.cfg.OnChange(touched)
		}
	}
}

// Publish writes changes to the bucket, in order (local.Shared).
func (s *State) Publish(changes []local.Change) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
	defer cancel()
	for _, c := range changes {
		key := c.Bucket + "." + hex.EncodeToString(c.Key)
		if c.Value == nil {
			var opts []jetstream.KVDeleteOpt
			if c.Once {
				s.mu.Lock()
				rev := s.applied[key]
				s.mu.Unlock()
				if rev == 0 {
					// Every key of the copy came from the bucket (join), so
					// none is without a revision; and LastRevision(0) would
					// be no condition at all.
					return local.ErrConflict
				}
				opts = append(opts, jetstream.LastRevision(rev))
			}
			if err := s.kv.Delete(ctx, key, opts...); err != nil {
				if c.Once && isWrongRevision(err) {
					return local.ErrConflict
				}
				return fmt.Errorf("delete %s: %w", key, err)
			}
			continue
		}
		rev, err := s.kv.Put(ctx, key, c.Value)
		if err != nil {
			return fmt.Errorf("put %s: %w", key, err)
		}
		s.mu.Lock()
		s.seen[key], s.applied[key] = max(s.seen[key], rev), max(s.applied[key], rev)
		s.mu.Unlock()
	}
	return nil
}

// Close stops following the bucket.
func (s *State) Close() error {
	err := s.watcher.Stop()
	<-s.done
	return err
}

// isWrongRevision is JetStream's answer to a compare-and-swap on a
// revision that is no longer the key's last.
func isWrongRevision(err error) bool {
	var api *jetstream.APIError
	return errors.Is(err, jetstream.ErrKeyExists) ||
		(errors.As(err, &api) && (api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant))
}
