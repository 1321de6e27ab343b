package jetstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// LeaseConfig configures a Lease. Zero fields take the defaults.
type LeaseConfig struct {
	// Conn is the connection to the NATS servers (the caller's).
	Conn *nats.Conn
	// Bucket is the KV bucket of leases (tiendo_lease), its keys expiring
	// TTL after their last write; Key the lease's key (flush). The TTL is
	// the bucket's: leases of different TTLs need buckets of their own
	// (opening one with another TTL changes every key's expiry).
	Bucket string
	Key    string
	// Holder names this node in the lease's value (logs, operators).
	Holder string
	// TTL is how long a lease lives without renewal (5 s); it is renewed
	// every TTL/4. Margin (TTL/5) is how much sooner than the servers'
	// expiry the holder stops trusting it; Settle (1 s) how long a new
	// holder waits after acquiring before it uses the lease.
	TTL    time.Duration
	Margin time.Duration
	Settle time.Duration
	// Replicas of the bucket: 3 when the server is in a cluster, else 1.
	Replicas int
	// OnChange, if set, is called (from Run's goroutine) when the lease is
	// won (term > 0) or lost (term 0).
	OnChange func(term uint64)
	Log      *slog.Logger
}

// Defaults of a lease.
const (
	DefaultLeaseBucket = "tiendo_lease"
	DefaultLeaseKey    = "flush"
	DefaultLeaseTTL    = 5 * time.Second
	DefaultLeaseSettle = time.Second
)

// Lease elects one holder among the nodes by a key of a JetStream KV
// bucket whose keys expire TTL after their last write: a node holds the
// lease from creating the key (which fails while it exists) for as long
// as it renews it by compare-and-swap on its revision.
//
// Term is the key's revision when it was created: the bucket's revisions
// only grow, so a later holder's term is always larger, and the term
// fences a holder that lost the lease without knowing (Log.Lead).
//
// Time bounds what a holder may still do, as in any lease: Term's until
// is the time the last successful renewal was sent, plus TTL, less
// Margin. The servers stored that write after it was sent and expire the
// key no sooner than TTL after storing it, so until passes at least
// Margin before any other node can create the key, as long as the clocks'
// rates agree within Margin/TTL. A new holder then waits Settle before
// Term reports the lease usable.
type Lease struct {
	cfg LeaseConfig
	kv  jetstream.KeyValue

	mu       sync.Mutex
	term     uint64    // 0: not held
	rev      uint64    // the key's revision as last written by us
	until    time.Time // local instant the lease stops being trusted
	usableAt time.Time // acquired + Settle
	holder   string    // who holds it, as last seen
}

// OpenLease creates or opens the lease bucket.
func OpenLease(ctx context.Context, cfg LeaseConfig) (*Lease, error) {
	if cfg.Conn == nil {
		return nil, errors.New("lease: no connection")
	}
	if cfg.Bucket == "" {
		cfg.Bucket = DefaultLeaseBucket
	}
	if cfg.Key == "" {
		cfg.Key = DefaultLeaseKey
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultLeaseTTL
	}
	if cfg.Margin <= 0 {
		cfg.Margin = cfg.TTL / 5
	}
	if cfg.Margin >= cfg.TTL/2 {
		return nil, fmt.Errorf("lease: margin %v must be under half the TTL %v", cfg.Margin, cfg.TTL)
	}
	if cfg.Settle <= 0 {
		cfg.Settle = DefaultLeaseSettle
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = Replicas(cfg.Conn)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	js, err := jetstream.New(cfg.Conn, jetstream.WithDefaultTimeout(10*time.Second))
	if err != nil {
		return nil, err
	}
	kv, err := RetryUnanswered(ctx, 10*time.Second, func(ctx context.Context) (jetstream.KeyValue, error) {
		return js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: cfg.Bucket, History: 1, TTL: cfg.TTL,
			Description: "tiendo: leases (the one flusher); a key expires TTL after its last renewal",
			Storage:     jetstream.FileStorage, Replicas: cfg.Replicas})
	})
	if err != nil {
		return nil, fmt.Errorf("lease: bucket %s: %w", cfg.Bucket, err)
	}
	return &Lease{cfg: cfg, kv: kv}, nil
}

// Term returns the lease's term and the instant by which whatever the
// holder does under it must be over; ok is false when this node does not
// hold it, its until has passed, or it was won less than Settle ago.
func (l *Lease) Term() (term uint64, until time.Time, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.term == 0 || !now.Before(l.until) || now.Before(l.usableAt) {
		return 0, time.Time{}, false
	}
	return l.term, l.until, true
}

// Holder is who holds the lease, as this node last saw it ("" unknown).
func (l *Lease) Holder() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.holder
}

// Run tries to win the lease and, once won, renews it, until ctx ends;
// then it releases the lease if it holds it (so another node takes over
// without waiting for the TTL). Call Release first if the holder must
// stop using the lease before Run returns.
func (l *Lease) Run(ctx context.Context) {
	tick := time.NewTicker(l.cfg.TTL / 4)
	defer tick.Stop()
	for {
		l.step(ctx)
		select {
		case <-ctx.Done():
			l.Release()
			return
		case <-tick.C:
		}
	}
}

// step is one attempt: renew a lease held, or create it.
func (l *Lease) step(ctx context.Context) {
	l.mu.Lock()
	term, rev, until := l.term, l.rev, l.until
	l.mu.Unlock()
	if term != 0 && !time.Now().Before(until) {
		l.lose("its renewals did not land in time")
		term = 0
	}
	sent := time.Now()
	rctx, cancel := context.WithTimeout(ctx, l.cfg.TTL/4)
	defer cancel()
	if term != 0 {
		nrev, err := l.kv.Update(rctx, l.cfg.Key, []byte(l.cfg.Holder), rev)
		if err == nil {
			l.mu.Lock()
			if l.term == term {
				l.rev, l.until = nrev, sent.Add(l.cfg.TTL-l.cfg.Margin)
			}
			l.mu.Unlock()
			return
		}
		if isWrongSequence(err) {
			l.lose("another node holds it")
			return
		}
		// A timeout or a lost connection: keep trying until until.
		l.cfg.Log.Warn("flush lease renewal failed", "err", err)
		return
	}
	nrev, err := l.kv.Create(rctx, l.cfg.Key, []byte(l.cfg.Holder))
	if err != nil {
		if e, gerr := l.kv.Get(rctx, l.cfg.Key); gerr == nil {
			l.mu.Lock()
			l.holder = string(e.Value())
			l.mu.Unlock()
		}
		return
	}
	l.mu.Lock()
	l.term, l.rev, l.until, l.usableAt, l.holder = nrev, nrev, sent.Add(l.cfg.TTL-l.cfg.Margin), time.Now().Add(l.cfg.Settle), l.cfg.Holder
	l.mu.Unlock()
	l.cfg.Log.Info("flush lease won", "term", nrev, "holder", l.cfg.Holder)
	if l.cfg.OnChange != nil {
		l.cfg.OnChange(nrev)
	}
}

func (l *Lease) lose(why string) {
	l.mu.Lock()
	term := l.term
	l.term, l.rev, l.until = 0, 0, time.Time{}
	l.mu.Unlock()
	if term == 0 {
		return
	}
	l.cfg.Log.Warn("flush lease lost", "term", term, "why", why)
	if l.cfg.OnChange != nil {
		l.cfg.OnChange(0)
	}
}

// Release gives the lease up (deleting the key if it is still ours), so
// that another node wins it at its next try. The caller must have
// stopped using it: Term reports it not held from the start of Release.
func (l *Lease) Release() {
	l.mu.Lock()
	term, rev := l.term, l.rev
	l.term, l.rev, l.until = 0, 0, time.Time{}
	l.mu.Unlock()
	if term == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.cfg.TTL/4)
	defer cancel()
	if err := l.kv.Delete(ctx, l.cfg.Key, jetstream.LastRevision(rev)); err != nil {
		l.cfg.Log.Warn("flush lease not released; it expires by itself", "err", err)
		return
	}
	l.cfg.Log.Info("flush lease released", "term", term)
	if l.cfg.OnChange != nil {
		l.cfg.OnChange(0)
	}
}

// isWrongSequence reports JetStream's answer to a compare-and-swap on a
// revision that is no longer the key's last.
func isWrongSequence(err error) bool {
	var api *jetstream.APIError
	return errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) ||
		errors.Is(err, jetstream.ErrKeyNotFound) ||
		(errors.As(err, &api) && (api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant))
}

// Replicas is how many copies the log's streams and buckets keep: 3 on a
// NATS cluster (a quorum survives one server), 1 on a server alone.
func Replicas(nc *nats.Conn) int {
	if nc.ConnectedClusterName() != "" {
		return 3
	}
	return 1
}
