package main

// The cluster preview of `tiendo serve --log nats://...`: the acceptance
// log is a JetStream stream shared by every node (acceptlog/jetstream),
// one node's flusher moves it into the shared ClickHouse under a lease,
// and every node lays the stream's unflushed events over ClickHouse's
// figures. Tokens, sessions, users, the registry and alerts are still each
// node's own (DIR/state.db): shared control-plane state is the next step
// of issue 14.

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"tiendo"
	"tiendo/acceptlog/jetstream"
	"tiendo/ingest"
	"tiendo/readmodel"
	"tiendo/server"
	"tiendo/store"
	"tiendo/store/kvstate"
)

// clusterLog is a node's part of the shared log: its connection, the log,
// the flush lease.
type clusterLog struct {
	nc    *nats.Conn
	log   *jetstream.Log
	lease *jetstream.Lease
	state *kvstate.State // the shared control-plane state
	// server is told of shared state changes once it exists.
	server atomic.Pointer[server.Server]
	slog   *slog.Logger
}

// connectNATS connects to the log's servers (--log), failing over between
// them and reconnecting for ever, and waits (up to wait) for JetStream to
// answer: three log servers started together elect their leader first.
func connectNATS(ctx context.Context, urls, name string, wait time.Duration, log *slog.Logger) (*nats.Conn, error) {
	list, err := server.NATSURLs(urls)
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(strings.Join(list, ","), nats.Name("tiendo "+name), nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond), nats.RetryOnFailedConnect(true),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("log servers: disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("log servers: reconnected", "server", c.ConnectedUrlRedacted()) }))
	if err != nil {
		return nil, fmt.Errorf("log servers %s: %w", urls, err)
	}
	deadline := time.Now().Add(wait)
	for {
		// Open waits for nothing: ask JetStream until it answers.
		if nc.IsConnected() {
			if js, err := nc.JetStream(); err == nil {
				if _, err = js.AccountInfo(nats.Context(ctx)); err == nil {
					return nc, nil
				}
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			nc.Close()
			return nil, fmt.Errorf("log servers %s: JetStream did not answer within %v", urls, wait)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// nodeName is --node-name, or the host's name and the listen address.
func nodeName(cfg server.Config) string {
	if cfg.NodeName != "" {
		return cfg.NodeName
	}
	host, _ := os.Hostname()
	return host + cfg.Addr
}

// migrateLocked runs open (the store's migrations) while holding a lease
// of its own, so that nodes started together on a fresh database do not
// race their schema changes (one of them died with "column already
// exists" in the study, cluster.md).
func migrateLocked(ctx context.Context, nc *nats.Conn, name string, log *slog.Logger, open func() error) error {
	// A bucket of its own: a bucket's TTL is its leases' (the flush
	// lease's is 5 s).
	lock, err := jetstream.OpenLease(ctx, jetstream.LeaseConfig{Conn: nc, Bucket: "tiendo_lock_migrate", Key: "migrate", Holder: name,
		TTL: 30 * time.Second, Settle: time.Millisecond, Log: log})
	if err != nil {
		return err
	}
	lctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { lock.Run(lctx); close(done) }()
	defer func() { stop(); <-done }()
	for {
		if _, _, ok := lock.Term(); ok {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return open()
}

// openClusterLog opens the shared log and the flush lease on nc.
func openClusterLog(ctx context.Context, nc *nats.Conn, cfg server.Config, st *store.DB, log *slog.Logger) (*clusterLog, error) {
	l, err := jetstream.Open(ctx, jetstream.Config{Conn: nc, Stored: st, Log: log})
	if err != nil {
		return nil, err
	}
	lease, err := jetstream.OpenLease(ctx, jetstream.LeaseConfig{Conn: nc, Holder: nodeName(cfg), Log: log})
	if err != nil {
		return nil, err
	}
	return &clusterLog{nc: nc, log: l, lease: lease, slog: log}, nil
}

// deps fills the server's dependencies that the shared log replaces.
func (c *clusterLog) deps(d *server.Deps) {
	d.AcceptLog, d.FlushLease = c.log, c.lease
	d.Overlay = func(f *ingest.Flusher) readmodel.Overlay { return clusterOverlay{log: c.log, flusher: f} }
}

// run keeps the lease (won, renewed) and wakes the live rounds when any
// node accepts events, until ctx ends; then it releases the lease. Call
// it once the server's flusher has stopped for good, never before: the
// lease must outlive every insert made under it.
func (c *clusterLog) run(ctx context.Context, s *server.Server) (stop func()) {
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { c.lease.Run(lctx); close(done) }()
	unsub, err := c.log.OnAccepted(s.WakeLive)
	if err != nil {
		c.slog.Warn("live rounds will not wake on other nodes' events (they still run every few seconds)", "err", err)
		unsub = func() {}
	}
	return func() {
		unsub()
		cancel()
		<-done
	}
}

// stateChanged passes the shared state's changes to the server.
func (c *clusterLog) stateChanged(buckets map[string]bool) {
	if s := c.server.Load(); s != nil {
		s.SharedStateChanged(buckets)
	}
}

func (c *clusterLog) close() {
	if c.state != nil {
		_ = c.state.Close()
	}
	_ = c.log.Close()
	c.nc.Close()
}

// clusterOverlay is the read model's overlay of the shared log: the
// stream's events after the shared cursor, read under the flush state's
// seqlock (jetstream.Log.ReadPending), on the flushing node and the
// others alike.
type clusterOverlay struct {
	log     *jetstream.Log
	flusher *ingest.Flusher
}

func (o clusterOverlay) Read(query func(pending []tiendo.Event)) readmodel.Pending {
	p := o.log.ReadPending(query, readmodel.MaxOverlay)
	return readmodel.Pending{Events: p.Events, Count: p.Count, Complete: p.Complete, InDoubt: p.InDoubt,
		Behind: p.Stale || (o.flusher.Leading() && !o.flusher.Healthy())}
}
