// Package server is tiendo's Fiber application: configuration, the route
// table, authentication, the admin API, snapshots, and (through live.go) the
// WebSocket hub that pushes live state to screens.
package server

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"tiendo/alerting"
)

// Config is the server's configuration, filled from flags by cmd/tiendo.
type Config struct {
	Addr       string // listen address, e.g. ":8080"
	DataDir    string // the server's state and, on the embedded engine, ClickHouse's files
	ClickHouse string // tcp://HOST:PORT/DB of a ClickHouse server; empty: embedded chDB in DataDir
	// AcceptLog is where accepted events go before ClickHouse: empty, the
	// local spool in DataDir/state.db (one node); nats://H1:P1,H2:P2,...,
	// a JetStream log shared by every node of a cluster (needs ClickHouse).
	AcceptLog string
	// NodeName names this node to the others (the flush lease's holder).
	NodeName   string
	BodyLimit  int           // largest request body, bytes
	Linger     time.Duration // group-commit wait before a spool fsync
	FlushEvery time.Duration // interval of inserts from the spool into ClickHouse
	SpoolMax   int64         // most events the spool holds while ClickHouse is away; past it, 503
	RatePerSec float64       // ingest requests per second per station token
	RateBurst  float64
	// EventsPerSec and EventsBurst limit events (not requests) per station
	// token; 0 takes ingest's defaults, a negative rate turns it off.
	EventsPerSec float64
	EventsBurst  float64
	// MinFreeBytes and MinFreeRatio are the free-disk watermark of the data
	// directory: below either, ingest answers 503 before the disk fills
	// (0: ingest's defaults; negative: off).
	MinFreeBytes int64
	MinFreeRatio float64
	// LedgerRetention is how long after an event's own time its id stays in
	// the local ledger; older retries are checked against ClickHouse. 0:
	// the campaign's length plus 30 days; negative: never prune.
	LedgerRetention time.Duration
	Clock           string // "wall" or "replay"
	// AllowedOrigins are the origins whose pages may open WebSockets, besides the server's own.
	AllowedOrigins []string
	// TrustedProxies may set X-Forwarded-For and X-Forwarded-Proto; from
	// anyone else those headers are ignored.
	TrustedProxies []string
	// MetricsAddr, if set, serves /metrics without a token on its own
	// listener (a loopback address for the host's scraper); the main
	// listener's /metrics needs an admin token.
	MetricsAddr string
	// SecureCookies marks every cookie Secure whatever the request's
	// protocol: for a server reached only over HTTPS through a proxy.
	SecureCookies bool
	// FirstByteTimeout is how long a new connection may stay silent
	// before its first request.
	FirstByteTimeout time.Duration
	// MaxConnsPerAddr caps open connections from one client address
	// (trusted proxies are exempt); 0 means no cap.
	MaxConnsPerAddr int
	// MaxConnsPerUser caps one account's concurrent live connections.
	MaxConnsPerUser int
	// MaxLiveConns caps all live connections together; past it an upgrade
	// gets 503 and Retry-After. 0 derives it from the open-files limit
	// (see LiveConnCapacity).
	MaxLiveConns int
	// AlertWebhook, if set, is an http(s) URL that each newly opened
	// alert is posted to as JSON (package alerting, Webhook).
	AlertWebhook string
}

// Default returns the configuration `tiendo serve` starts from.
func Default() Config {
	return Config{Addr: ":8080", BodyLimit: 4 << 20, Linger: 5 * time.Millisecond, FlushEvery: time.Second, SpoolMax: 5_000_000,
		RatePerSec: 50, RateBurst: 200, Clock: "wall", MaxConnsPerUser: 50, MaxConnsPerAddr: 1000,
		FirstByteTimeout: 10 * time.Second}
}

// Validate reports the first bad setting.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("config: --data DIR is required")
	}
	if c.BodyLimit < 1024 {
		return fmt.Errorf("config: body limit %d is too small", c.BodyLimit)
	}
	if c.Linger < 0 || c.Linger > time.Second {
		return fmt.Errorf("config: linger %v must be between 0 and 1s", c.Linger)
	}
	if c.FlushEvery < 10*time.Millisecond || c.FlushEvery > time.Minute {
		return fmt.Errorf("config: flush interval %v must be between 10ms and 1m", c.FlushEvery)
	}
	if c.SpoolMax < 1 {
		return errors.New("config: spool limit must be positive")
	}
	if c.RatePerSec <= 0 || c.RateBurst < 1 {
		return errors.New("config: rate limit must be positive")
	}
	if c.EventsBurst < 0 || c.MinFreeRatio >= 1 {
		return errors.New("config: events burst must not be negative, free-disk ratio must be under 1")
	}
	if c.MaxConnsPerUser < 1 {
		return errors.New("config: connections per user must be at least 1")
	}
	if c.FirstByteTimeout < 100*time.Millisecond || c.FirstByteTimeout > time.Minute {
		return fmt.Errorf("config: first-byte timeout %v must be between 100ms and 1m", c.FirstByteTimeout)
	}
	if c.MaxConnsPerAddr < 0 {
		return errors.New("config: connections per address must not be negative")
	}
	if c.MaxLiveConns < 0 {
		return errors.New("config: live connection limit must not be negative")
	}
	if _, err := parseProxySet(c.TrustedProxies); err != nil {
		return fmt.Errorf("config: --trusted-proxies: %v (want addresses or CIDRs, e.g. 127.0.0.1,10.0.0.0/8)", err)
	}
	if c.AlertWebhook != "" {
		if err := alerting.ValidWebhookURL(c.AlertWebhook); err != nil {
			return fmt.Errorf("config: --alert-webhook: %v", err)
		}
	}
	if c.AcceptLog != "" {
		if _, err := NATSURLs(c.AcceptLog); err != nil {
			return err
		}
		if c.ClickHouse == "" {
			return errors.New("config: --log nats://... needs --clickhouse: every node of a cluster must write to the same ClickHouse, not an embedded one of its own")
		}
		if c.LedgerRetention != 0 {
			return errors.New("config: --ledger-retention is the local spool's; a --log nats://... log keeps ids for its duplicate window (48 h) and checks older events in ClickHouse")
		}
	}
	switch c.Clock {
	case "wall", "replay":
	default:
		return fmt.Errorf("config: clock %q must be wall or replay", c.Clock)
	}
	return nil
}

// NATSURLs splits --log nats://H1:P1,H2:P2,... into one nats:// URL per
// server (the scheme may be left off after the first).
func NATSURLs(s string) ([]string, error) {
	var out []string
	for i, u := range strings.Split(s, ",") {
		u = strings.TrimSpace(u)
		if i > 0 && u != "" && !strings.Contains(u, "://") {
			u = "nats://" + u
		}
		host, ok := strings.CutPrefix(u, "nats://")
		if !ok || host == "" || strings.ContainsAny(host, "/ ") {
			return nil, fmt.Errorf("config: --log %q: want nats://HOST:PORT[,HOST:PORT...] (or nothing: the local spool)", s)
		}
		out = append(out, u)
	}
	return out, nil
}
