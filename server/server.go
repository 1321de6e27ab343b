package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"tiendo"
	"tiendo/ingest"
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
}

// Server is the running application.
type Server struct {
	cfg      Config
	app      *fiber.App
	store    tiendo.Store
	local    *local.DB
	campaign *tiendo.Campaign
	registry atomic.Pointer[tiendo.Registry]
	clock    tiendo.Clock
	replay   *tiendo.ReplayClock // non-nil in replay mode
	batcher  *ingest.Batcher
	log      *slog.Logger
	metrics  *prometheus.Registry
	http     *prometheus.CounterVec
}

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
	if d.Config.Clock == "replay" {
		s.replay = &tiendo.ReplayClock{}
		s.clock = s.replay
	}

	stations, err := d.Local.Stations()
	if err != nil {
		return nil, err
	}
	if len(stations) == 0 {
		stations = d.DefaultStations
	}
	s.registry.Store(tiendo.NewRegistry(d.Campaign, d.Campaign.Districts, stations))

	im := ingest.NewMetrics(s.metrics)
	s.batcher = ingest.NewBatcher(ingest.BatcherConfig{Linger: d.Config.Linger}, d.Store, d.Local, im, d.Log)
	events := &ingest.Handler{
		Batcher:  s.batcher,
		Tokens:   d.Local,
		Registry: s.Registry,
		Limiter:  ingest.NewRateLimiter(d.Config.RatePerSec, d.Config.RateBurst),
		Now:      time.Now,
		Metrics:  im,
	}
	if s.replay != nil {
		events.Observe = func(evs []tiendo.Event) {
			for i := range evs {
				s.replay.Observe(evs[i].TS)
			}
		}
	}

	s.app = fiber.New(fiber.Config{
		AppName:               "tiendo",
		BodyLimit:             d.Config.BodyLimit,
		ErrorHandler:          errorHandler(d.Log),
		DisableStartupMessage: true,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           120 * time.Second,
	})
	s.routes(events)
	return s, nil
}

// Registry is the current campaign registry (replaced on station import).
func (s *Server) Registry() *tiendo.Registry { return s.registry.Load() }

// App exposes the Fiber app, for tests that drive it with app.Test.
func (s *Server) App() *fiber.App { return s.app }

// Batcher exposes the group commit, for benchmarks that read its counters.
func (s *Server) Batcher() *ingest.Batcher { return s.batcher }

// Now is the server clock's "now": the wall clock, or in replay mode the newest event time.
func (s *Server) Now() time.Time {
	if t := s.clock.Now(); !t.IsZero() {
		return t
	}
	return time.Now()
}

func (s *Server) routes(events *ingest.Handler) {
	s.app.Use(s.countRequests)
	s.app.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	s.app.Get("/readyz", s.readyz)
	s.app.Get("/metrics", s.metricsHandler())

	api := s.app.Group("/api/v1")
	api.Post("/events", events.Post)
	api.Get("/snapshot", s.getSnapshot)

	admin := api.Group("/admin", s.requireRole("admin"))
	admin.Post("/tokens", s.issueToken)
	admin.Get("/tokens", s.listTokens)
	admin.Post("/tokens/revoke", s.revokeToken)
	admin.Get("/stations", s.exportStations)
	admin.Post("/stations", s.importStations)
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

// Run serves on ln (or cfg.Addr when ln is nil) and runs the batcher until
// ctx ends; then it stops taking requests, drains those in flight and the
// batcher within 25 s, and returns.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", s.cfg.Addr); err != nil {
			return err
		}
	}
	batchCtx, stopBatcher := context.WithCancel(context.WithoutCancel(ctx))
	batchDone := make(chan error, 1)
	go func() { batchDone <- s.batcher.Run(batchCtx) }()

	serveErr := make(chan error, 1)
	go func() { serveErr <- s.app.Listener(ln) }()
	s.log.Info("serving", "addr", ln.Addr().String())

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
	}
	// In-flight requests finish first: they may still be waiting for the batcher.
	if serr := s.app.ShutdownWithTimeout(25 * time.Second); serr != nil && err == nil {
		err = serr
	}
	stopBatcher()
	<-batchDone
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}
