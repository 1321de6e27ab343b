package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"tiendo"
	"tiendo/cmd/tiendo/shipped"
	"tiendo/server"
	"tiendo/store"
	"tiendo/store/chdb"
	"tiendo/store/clickhouse"
	"tiendo/store/kvstate"
	"tiendo/store/local"
)

// Main is the serve command's wiring, separate from flag parsing so that
// end-to-end tests boot exactly what the binary boots, on port 0.
type Main struct {
	Config   server.Config
	Campaign *tiendo.Campaign
	Stations []tiendo.Station
	Log      *slog.Logger

	local   *local.DB
	store   *store.DB
	cluster *clusterLog // with Config.AcceptLog (--log nats://...)
	Server  *server.Server
	// AdminToken is the token in DIR/admin.token.
	AdminToken string
}

// Open opens the state, the ClickHouse engine (a server when Config.ClickHouse
// is set, embedded chDB in DATA/chdb otherwise), migrates, and builds the server.
func (m *Main) Open(ctx context.Context) (err error) {
	if m.Campaign == nil {
		if m.Campaign, m.Stations, err = shipped.Lookup(shipped.Default); err != nil {
			return err
		}
	}
	if m.Log == nil {
		m.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if err := m.Config.Validate(); err != nil {
		return err
	}
	if err := os.MkdirAll(m.Config.DataDir, 0o750); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	if m.local, err = local.Open(m.Config.DataDir); err != nil {
		return err
	}
	if err = m.local.BindCampaign(m.Campaign.ID, shipped.Default); err != nil {
		return err
	}
	var engine store.Engine
	database := "tiendo"
	if m.Config.ClickHouse != "" {
		engine, database, err = clickhouse.Open(ctx, m.Config.ClickHouse)
	} else {
		engine, err = chdb.Open(filepath.Join(m.Config.DataDir, "chdb"))
	}
	if err != nil {
		return err
	}
	migrate := func() (err error) {
		if _, err = migrateReplicas(ctx, m.Config.ClickHouse); err != nil {
			return err
		}
		m.store, err = store.Open(ctx, engine, database)
		return err
	}
	var nc *nats.Conn
	if m.Config.AcceptLog != "" {
		if nc, err = connectNATS(ctx, m.Config.AcceptLog, nodeName(m.Config), time.Minute, m.Log); err != nil {
			engine.Close()
			return err
		}
		err = migrateLocked(ctx, nc, nodeName(m.Config), m.Log, migrate)
	} else {
		err = migrate()
	}
	if err != nil {
		if nc != nil {
			nc.Close()
		}
		engine.Close()
		return err
	}
	deps := server.Deps{Config: m.Config, Store: m.store, Local: m.local,
		Campaign: m.Campaign, DefaultStations: m.Stations, Log: m.Log}
	if nc != nil {
		if m.cluster, err = openClusterLog(ctx, nc, m.Config, m.store, m.Log); err != nil {
			nc.Close()
			return err
		}
		m.cluster.deps(&deps)
		// The control-plane state every node shares, in step before the
		// admin token is read or made and before the server loads its
		// registry from it.
		if m.cluster.state, err = kvstate.Open(ctx, kvstate.Config{Conn: nc, DB: m.local, Log: m.Log,
			OnChange: m.cluster.stateChanged}); err != nil {
			m.cluster.close()
			return fmt.Errorf("shared state: %w", err)
		}
	}
	if m.AdminToken, err = server.EnsureAdminToken(m.Config.DataDir, m.local); err != nil {
		return fmt.Errorf("admin token: %w", err)
	}
	m.Server, err = server.New(deps)
	if err == nil && m.cluster != nil {
		m.cluster.server.Store(m.Server)
	}
	return err
}

// Run serves until ctx ends (nil ln: listen on Config.Addr). In a cluster
// the flush lease is kept from before serving until the server's flusher
// has drained and stopped, then released.
func (m *Main) Run(ctx context.Context, ln net.Listener) error {
	if m.cluster != nil {
		stop := m.cluster.run(ctx, m.Server)
		defer stop()
	}
	return m.Server.Run(ctx, ln)
}

// Close releases the store and the state.
func (m *Main) Close() error {
	var first error
	if m.cluster != nil {
		m.cluster.close()
	}
	if m.store != nil {
		first = m.store.Close()
	}
	if m.local != nil {
		if err := m.local.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	cfg := server.Default()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.DataDir, "data", "", "data directory (state, admin token, embedded ClickHouse files)")
	campaign := fs.String("campaign", envOr("TIENDO_CAMPAIGN", shipped.Default), "the campaign served: "+strings.Join(shipped.IDs(), " or ")+" (a data directory keeps the one it was first served with)")
	fs.StringVar(&cfg.ClickHouse, "clickhouse", os.Getenv("TIENDO_CLICKHOUSE"), "ClickHouse server DSN tcp://HOST:9000/DB (default: embedded chDB)")
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address")
	fs.StringVar(&cfg.AcceptLog, "log", os.Getenv("TIENDO_LOG"), "acceptance log: empty, the local spool in DIR/state.db; nats://H1:P1,H2:P2,... a JetStream log shared by the nodes of a cluster (tiendo log-server; needs --clickhouse)")
	fs.StringVar(&cfg.NodeName, "node-name", "", "this node's name to the others (default: host name and --addr)")
	fs.StringVar(&cfg.Clock, "clock", cfg.Clock, "wall: live campaign; replay: \"now\" follows the newest event (simulated campaigns)")
	fs.DurationVar(&cfg.Linger, "linger", cfg.Linger, "group-commit wait before a spool fsync")
	fs.DurationVar(&cfg.FlushEvery, "flush-every", cfg.FlushEvery, "interval of inserts from the spool into ClickHouse")
	fs.Int64Var(&cfg.SpoolMax, "spool-max", cfg.SpoolMax, "most accepted events kept while ClickHouse is away (then 503)")
	fs.Float64Var(&cfg.RatePerSec, "rate", cfg.RatePerSec, "ingest requests per second per station token")
	fs.Float64Var(&cfg.RateBurst, "burst", cfg.RateBurst, "ingest request burst per station token")
	fs.Float64Var(&cfg.EventsPerSec, "events-rate", cfg.EventsPerSec, "events per second per station token (0: 200; negative: no limit)")
	fs.Float64Var(&cfg.EventsBurst, "events-burst", cfg.EventsBurst, "event burst per station token (0: 20,000)")
	fs.Int64Var(&cfg.MinFreeBytes, "min-free-disk", cfg.MinFreeBytes, "free bytes the data directory keeps; below it ingest answers 503 (0: 1 GiB; negative: off)")
	fs.Float64Var(&cfg.MinFreeRatio, "min-free-disk-ratio", cfg.MinFreeRatio, "free share of the data directory's disk kept likewise (0: 0.02; negative: off)")
	fs.DurationVar(&cfg.LedgerRetention, "ledger-retention", cfg.LedgerRetention, "how long after an event's time its id stays in the local ledger; older retries are checked in ClickHouse (0: campaign length + 30 days; negative: never prune)")
	proxies := fs.String("trusted-proxies", "", "comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For/-Proto are believed")
	fs.StringVar(&cfg.MetricsAddr, "metrics-addr", cfg.MetricsAddr, "also serve /metrics without a token on this address, e.g. 127.0.0.1:9091 (the main /metrics needs an admin token)")
	fs.BoolVar(&cfg.SecureCookies, "secure-cookies", cfg.SecureCookies, "mark cookies Secure always (the site is served over HTTPS, e.g. behind a TLS proxy)")
	origins := fs.String("allowed-origins", "", "comma-separated extra origins (https://host) whose pages may open the live stream")
	fs.IntVar(&cfg.MaxConnsPerUser, "max-conns-per-user", cfg.MaxConnsPerUser, "live connections one account may hold")
	fs.IntVar(&cfg.MaxConnsPerAddr, "max-conns-per-addr", cfg.MaxConnsPerAddr, "open connections one client address may hold (trusted proxies exempt); 0: no cap")
	fs.IntVar(&cfg.MaxLiveConns, "max-live-conns", cfg.MaxLiveConns, "live connections in all (past it 503); 0: the open-files limit less 1,000")
	fs.StringVar(&cfg.AlertWebhook, "alert-webhook", cfg.AlertWebhook, "post each newly opened alert as JSON to this http(s) URL (retried with backoff; undelivered ones wait in DIR/state.db)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	cfg.TrustedProxies, cfg.AllowedOrigins = splitList(*proxies), splitList(*origins)
	m := &Main{Config: cfg, Log: slog.New(slog.NewTextHandler(stderr, nil))}
	var err error
	if m.Campaign, m.Stations, err = shipped.Lookup(*campaign); err != nil {
		return usageError{"--campaign: " + err.Error()}
	}
	start := time.Now()
	if err := m.Open(ctx); err != nil {
		m.Close()
		return err
	}
	defer m.Close()
	engine := "embedded chDB"
	if cfg.ClickHouse != "" {
		engine = "ClickHouse server"
	}
	acceptLog := "local spool"
	if cfg.AcceptLog != "" {
		acceptLog = "JetStream " + cfg.AcceptLog
	}
	version, _ := m.store.Version(ctx)
	m.Log.Info("tiendo ready", "campaign", m.Campaign.ID, "stations", len(m.Stations), "engine", engine, "log", acceptLog, "clickhouse", version, "data", cfg.DataDir,
		"admin_token_file", filepath.Join(cfg.DataDir, server.AdminTokenFile), "open_took", time.Since(start).Round(time.Millisecond))
	return m.Run(ctx, nil)
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// envOr is the environment variable name, or def when it is unset or empty.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
