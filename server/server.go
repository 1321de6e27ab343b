package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"tiendo"
	"tiendo/acceptlog"
	"tiendo/alerting"
	"tiendo/ingest"
	"tiendo/readmodel"
	"tiendo/server/live"
	"tiendo/static"
	"tiendo/store/local"
)

// Deps are what the server is built from; cmd/tiendo opens them.
type Deps struct {
	Config   Config
	Store    tiendo.Store
	Local    *local.DB
	Campaign *tiendo.Campaign
	// DefaultStations is the registry used until an operator imports one.
	DefaultStations []tiendo.Station
	Log             *slog.Logger
	// Build identifies this server's code and assets; screens reload when it changes.
	Build string

	// AcceptLog, if set, is the acceptance log in place of Local's spool: a
	// cluster's JetStream log, shared by every node (tiendo serve --log).
	// Its own late check replaces the local ledger's (ingest.Ledger works
	// on Local's ledger of ids, which a shared log does not use), and
	// there is no free-disk watermark (nothing is written to DIR).
	AcceptLog acceptlog.Log
	// Overlay makes the read model's overlay of AcceptLog, given the flusher
	// (nil: Local's spool under the flusher's lock, the single node's).
	Overlay func(*ingest.Flusher) readmodel.Overlay
	// FlushLease, with AcceptLog, elects the one flusher among the nodes.
	FlushLease ingest.Lease
}

// Server is the running application.
type Server struct {
	cfg   Config
	app   *fiber.App
	store tiendo.Store
	local *local.DB
	// defaultStations is the registry until an operator imports one.
	defaultStations []tiendo.Station
	campaign        *tiendo.Campaign
	registry        atomic.Pointer[tiendo.Registry]
	clock           tiendo.Clock
	replay          *tiendo.ReplayClock // non-nil in replay mode
	batcher         *ingest.Batcher
	flusher         *ingest.Flusher
	spool           acceptlog.Log  // Local, or Deps.AcceptLog
	ledger          *ingest.Ledger // prunes old ids, checks late retries against ClickHouse; nil with Deps.AcceptLog
	conns           connLimiter
	proxies         proxySet // --trusted-proxies, for clientIP
	listener        *guardedListener
	// watchers are the open live connections; credGen counts changes to
	// tokens, sessions, users and the registry, so that each round checks
	// again only what may have changed (see recheckWatchers).
	watchers      watcherSet
	credGen       atomic.Uint64
	lastFullCheck time.Time // of recheckWatchers; only the live loop touches it
	// signin limits password guessing and the password hashes it costs.
	signin *signinGuard
	// figures are what snapshots and screens show (ClickHouse plus the
	// spool, each event once); publisher turns them into each topic's
	// live messages, which hub delivers to the sockets.
	figures   *readmodel.Model
	publisher *readmodel.Publisher
	hub       *live.Hub
	build     string
	log       *slog.Logger
	metrics   *prometheus.Registry
	http      *prometheus.CounterVec

	// alerts opens and resolves alerts before each live round; webhook
	// (nil without --alert-webhook) posts the new ones.
	alerts  *alerting.Engine
	webhook *alerting.Webhook
}

// replayPeekMax bounds how many spooled events a replay's start reads for
// its clock: a crash leaves a second's worth; of a larger backlog the
// oldest 100,000 set it, and the next events accepted move it on.
const replayPeekMax = 100_000

// New builds the server and its routes; Run serves them.
func New(d Deps) (*Server, error) {
	if err := d.Config.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: d.Config, store: d.Store, local: d.Local, campaign: d.Campaign, log: d.Log,
		metrics: prometheus.NewRegistry(), clock: tiendo.WallClock{}}
	s.metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.http = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tiendo_http_requests_total",
		Help: "HTTP requests by route and status."}, []string{"route", "status"})
	s.metrics.MustRegister(s.http)
	if counted, ok := d.Store.(interface{ InsertQueries() int64 }); ok {
		s.metrics.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tiendo_store_insert_queries_total",
			Help: "Insert queries sent to ClickHouse (one per table per flush)."},
			func() float64 { return float64(counted.InsertQueries()) }))
	}
	if d.Config.Clock == "replay" {
		s.replay = &tiendo.ReplayClock{}
		s.clock = s.replay
	}

	stations, err := d.Local.Stations()
	if err != nil {
		return nil, err
	}
	s.defaultStations = d.DefaultStations
	if len(stations) == 0 {
		stations = d.DefaultStations
	}
	s.setStations(stations)

	im := ingest.NewMetrics(s.metrics)
	limits := ingest.DefaultBatcherConfig.Limits
	limits.MaxEvents = d.Config.SpoolMax
	s.spool = d.Local
	if d.AcceptLog != nil {
		s.spool = d.AcceptLog
	}
	s.batcher = ingest.NewBatcher(ingest.BatcherConfig{Linger: d.Config.Linger, Limits: limits,
		MinFreeBytes: d.Config.MinFreeBytes, MinFreeRatio: d.Config.MinFreeRatio}, s.spool, im, d.Log)
	s.flusher = ingest.NewFlusher(ingest.FlusherConfig{Interval: d.Config.FlushEvery, Lease: d.FlushLease}, s.spool, d.Store, im, d.Log)
	s.metrics.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tiendo_spool_events",
		Help: "Accepted events waiting in the spool for ClickHouse."}, func() float64 {
		n, _, _ := s.spool.SpoolStats()
		return float64(n)
	}), prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tiendo_flush_leader",
		Help: "1 while this node's flusher moves the acceptance log into ClickHouse (always on a single node)."}, func() float64 {
		if s.flusher.Leading() {
			return 1
		}
		return 0
	}))
	if d.AcceptLog == nil {
		if s.ledger, err = ingest.NewLedger(ingest.LedgerConfig{Retention: d.Config.LedgerRetention, Now: s.Now}, d.Local, d.Store,
			func() *tiendo.Campaign { return s.Registry().Campaign }, im, d.Log); err != nil {
			return nil, err
		}
	}
	events := &ingest.Handler{
		Batcher:      s.batcher,
		Tokens:       d.Local,
		Registry:     s.Registry,
		Limiter:      ingest.NewRateLimiter(d.Config.RatePerSec, d.Config.RateBurst),
		EventsPerSec: d.Config.EventsPerSec,
		EventsBurst:  d.Config.EventsBurst,
		Ledger:       s.ledger,
		Now:          time.Now,
		Metrics:      im,
	}
	if s.replay != nil {
		events.Observe = func(evs []tiendo.Event) {
			for i := range evs {
				s.replay.Observe(evs[i].TS)
			}
		}
	}

	var overlay readmodel.Overlay = readmodel.SpoolOverlay{Spool: d.Local, Flusher: s.flusher, Stored: d.Store}
	if d.AcceptLog != nil && d.Overlay != nil {
		overlay = d.Overlay(s.flusher)
	}
	s.figures = readmodel.New(readmodel.Sources{Store: d.Store, Overlay: overlay,
		Notes:    s.scopeNotes,
		Registry: s.Registry, Now: s.Now, MoveAnswers: d.Local.MoveAnswers, Alerts: s.scopeAlerts})
	// In a cluster the flush leader alone raises alerts and posts them; the
	// other nodes show them from the shared state.
	var leading func() bool
	if d.AcceptLog != nil {
		leading = s.flusher.Leading
	}
	if d.Config.AlertWebhook != "" {
		if s.webhook, err = alerting.NewWebhook(alerting.WebhookConfig{URL: d.Config.AlertWebhook, Store: d.Local,
			Registry: s.Registry, Metrics: s.metrics, Log: d.Log, Leading: leading}); err != nil {
			return nil, err
		}
	}
	alertCfg := alerting.Config{Figures: s.figures, Store: d.Local, Registry: s.Registry, Metrics: s.metrics, Log: d.Log,
		Leading: leading}
	if s.webhook != nil {
		alertCfg.Notify = s.webhook.Wake
	}
	if s.alerts, err = alerting.New(alertCfg); err != nil {
		return nil, err
	}
	s.build = d.Build
	if s.build == "" {
		// Assets are the part of a build a screen runs; when they change,
		// open screens must reload.
		s.build = static.BuildID()
	}
	s.hub = live.NewHub()
	s.publisher = readmodel.NewPublisher(readmodel.PublisherConfig{Figures: s.figures, Hub: s.hub, Build: s.build,
		BeforeRound: func(now time.Time) {
			s.recheckWatchers(now)
			// Alerts first, so that this round's snapshots carry them.
			s.alerts.MaybeRound(context.Background(), now)
		}, Log: d.Log})
	s.hub.OnSubscribe = func(string) { s.publisher.Wake() }
	s.batcher.OnAccept = func([]tiendo.Event) { s.publisher.Wake() }
	s.metrics.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tiendo_live_clients", Help: "Open live (WebSocket) connections."},
			func() float64 { return float64(s.hub.Stats().Clients) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tiendo_live_dropped_slow_total", Help: "Live connections dropped because they fell a whole queue behind."},
			func() float64 { return float64(s.hub.Stats().DroppedSlow) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tiendo_live_dropped_error_total", Help: "Live connections dropped on a write error or timeout."},
			func() float64 { return float64(s.hub.Stats().DroppedError) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tiendo_live_refused_total", Help: "Live connections refused (503) because the server held its most (--max-live-conns)."},
			func() float64 { return float64(s.conns.refusedAtCapacity()) }),
	)

	s.conns.max = d.Config.MaxConnsPerUser
	s.conns.maxTotal = d.Config.MaxLiveConns
	if s.conns.maxTotal == 0 {
		s.conns.maxTotal = LiveConnCapacity()
	}
	s.signin = newSigninGuard(runtime.GOMAXPROCS(0), limiterCapacity)
	// A pool always full is a password-guessing attack in progress (or a
	// pool too small for the morning's sign-ins): the operator sees it here.
	s.metrics.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tiendo_signin_hashes_in_progress",
		Help: "Sign-in password hashes running now; at GOMAXPROCS further sign-ins get 429."},
		func() float64 { return float64(s.signin.hashing()) }))
	if s.proxies, err = parseProxySet(d.Config.TrustedProxies); err != nil {
		return nil, err
	}

	s.app = fiber.New(fiber.Config{
		// X-Forwarded-Proto and -Host are believed only from these
		// proxies. Client addresses come from clientIP, never c.IP():
		// Fiber would return a whole client-written X-Forwarded-For.
		EnableTrustedProxyCheck: true,
		TrustedProxies:          d.Config.TrustedProxies,
		AppName:                 "tiendo",
		BodyLimit:               d.Config.BodyLimit,
		ErrorHandler:            errorHandler(d.Log),
		DisableStartupMessage:   true,
		ReadTimeout:             30 * time.Second,
		WriteTimeout:            30 * time.Second,
		IdleTimeout:             120 * time.Second,
		// Release a connection's 4 KB read buffer when nothing is buffered
		// after a request. Without it a WebSocket keeps the buffer of its
		// upgrade request for its whole life: 4 KB of every screen's ~30.
		ReduceMemoryUsage: true,
	})
	s.app.Server().HeaderReceived = refuseEarlyOverLimit(d.Config.BodyLimit)
	s.routes(events)
	return s, nil
}

// WakeLive asks for a live round soon (another node accepted events).
func (s *Server) WakeLive() { s.publisher.Wake() }

// Registry is the current campaign registry (replaced on station import).
func (s *Server) Registry() *tiendo.Registry { return s.registry.Load() }

// setStations makes stations the registry, and tells a store that keeps
// rollups per district (store.DB) which district each station is in.
func (s *Server) setStations(stations []tiendo.Station) {
	s.registry.Store(s.registryOf(stations))
	if sd, ok := s.store.(tiendo.StationDistricts); ok {
		sd.SetStations(stations)
	}
}

// App exposes the Fiber app, for tests that drive it with app.Test.
func (s *Server) App() *fiber.App { return s.app }

// Now is the server clock's "now": the wall clock, or in replay mode the newest event time.
func (s *Server) Now() time.Time {
	if t := s.clock.Now(); !t.IsZero() {
		return t
	}
	return time.Now()
}

func (s *Server) routes(events *ingest.Handler) {
	s.app.Use(s.countRequests, refuseEncodedBodies)
	s.app.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	s.app.Get("/readyz", s.readyz)
	s.app.Get("/metrics", s.requireRole(tiendo.RoleAdmin), s.metricsHandler())

	s.loginRoutes()
	s.pageRoutes()
	s.app.Get("/ws", s.wsUpgrade, s.wsRoute())

	api := s.app.Group("/api/v1")
	api.Post("/events", events.Post)
	api.Get("/snapshot", s.getSnapshot)
	api.Post("/moves/:id", s.answerMove)
	s.alertRoutes(api)
	s.briefRoutes(api)
	s.noteRoutes(api)

	admin := api.Group("/admin", s.requireRole(tiendo.RoleAdmin))
	admin.Post("/tokens", s.issueToken)
	admin.Get("/tokens", s.listTokens)
	admin.Post("/tokens/revoke", s.revokeToken)
	admin.Get("/campaign", s.exportCampaign)
	admin.Get("/stations", s.exportStations)
	admin.Post("/stations", s.importStations)
	admin.Post("/users", s.addUser)
	admin.Post("/users/remove", s.removeUser)
	s.quotaRoutes(admin)
	admin.Post("/screen-links", s.screenLink)
}

// countRequests runs the error handler itself so the status it records is
// the one the client gets.
func (s *Server) countRequests(c *fiber.Ctx) error {
	err := c.Next()
	if err != nil {
		if herr := s.app.ErrorHandler(c, err); herr != nil {
			return herr
		}
	}
	route := "other"
	if r := c.Route(); r != nil && r.Path != "/" {
		route = r.Path
	}
	s.http.WithLabelValues(route, strconv.Itoa(c.Response().StatusCode())).Inc()
	return nil
}

func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		return tiendo.Errorf(tiendo.EUnavailable, "clickhouse not reachable")
	}
	return c.JSON(fiber.Map{"status": "ready"})
}

// Run serves on ln (or cfg.Addr when ln is nil), with the batcher, the
// flusher and the live state, until ctx ends. Then, within 30 s as systemd
// and orchestrators expect: stop taking requests and answer those in flight
// (10 s), commit what the batcher holds, and flush the spool to ClickHouse
// (15 s; what is left stays spooled for the next start).
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", s.cfg.Addr); err != nil {
			return err
		}
	}
	var metricsLn net.Listener
	if s.cfg.MetricsAddr != "" {
		var err error
		if metricsLn, err = net.Listen("tcp", s.cfg.MetricsAddr); err != nil {
			return fmt.Errorf("metrics listener: %w", err)
		}
	}
	s.listener = newGuardedListener(ln, s.log, s.cfg, s.proxies)
	ln = s.listener
	if s.replay != nil {
		// A replay resumes where its data stopped, not at the wall clock.
		if t, err := s.store.LatestEventTime(ctx); err == nil {
			s.replay.Observe(t)
		} else {
			s.log.Warn("replay clock: cannot read the newest event time", "err", err)
		}
		// Events accepted before a crash and not yet flushed are part of
		// where the data stopped too.
		if evs, _, err := s.spool.PeekSpool(replayPeekMax); err == nil {
			for i := range evs {
				s.replay.Observe(evs[i].TS)
			}
		} else {
			s.log.Warn("replay clock: cannot read the spool", "err", err)
		}
	}
	background := context.WithoutCancel(ctx)
	batchCtx, stopBatcher := context.WithCancel(background)
	batchDone := make(chan error, 1)
	go func() { batchDone <- s.batcher.Run(batchCtx) }()
	flushCtx, stopFlusher := context.WithCancel(background)
	flushDone := make(chan error, 1)
	go func() { flushDone <- s.flusher.Run(flushCtx, 15*time.Second) }()
	liveCtx, stopLive := context.WithCancel(ctx)
	defer stopLive()
	go func() { _ = s.publisher.Run(liveCtx) }()
	if s.ledger != nil {
		go func() { _ = s.ledger.Run(liveCtx) }()
	}
	if s.webhook != nil {
		go s.webhook.Run(liveCtx)
	}

	if metricsLn != nil {
		go s.serveMetrics(liveCtx, metricsLn)
		s.log.Info("serving metrics", "addr", metricsLn.Addr().String())
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- s.app.Listener(ln) }()
	s.log.Info("serving", "addr", ln.Addr().String())

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
	}
	start := time.Now()
	if serr := s.app.ShutdownWithTimeout(10 * time.Second); serr != nil && err == nil {
		err = serr
	}
	stopBatcher()
	<-batchDone
	stopFlusher()
	<-flushDone
	n, _, _ := s.spool.SpoolStats()
	s.log.Info("stopped", "took", time.Since(start).Round(time.Millisecond), "spooled_events_left", n)
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// SharedStateChanged is told, in a cluster, that changes made on other
// nodes reached this node's state (store/kvstate): a registry or quota
// import becomes this node's registry, and a change to who may read what
// (tokens, users, sessions, the registry) has every open live connection
// checked again at the next round: a token revoked, a user reset or
// removed, a session ended elsewhere closes its sockets here too. Alerts,
// notes and answers to moves need no re-check, only a round soon: each
// round reads them.
func (s *Server) SharedStateChanged(buckets map[string]bool) {
	registry := buckets["stations"] || buckets["district_quotas"]
	if registry {
		stations, err := s.local.Stations()
		if err != nil {
			s.log.Error("shared state: the registry from another node is unreadable; keeping this node's", "err", err)
		} else {
			if len(stations) == 0 {
				stations = s.defaultStations
			}
			s.setStations(stations)
		}
	}
	if registry || buckets["tokens"] || buckets["users"] || buckets["sessions"] {
		s.credentialsChanged()
		return
	}
	s.publisher.Wake() // an acknowledgement or a note made elsewhere: on screens within a round
}
