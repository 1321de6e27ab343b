package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"tiendo"
)

// metricsHandler serves Prometheus metrics; on the main listener its
// route lets admin tokens only through. Checking for a loopback peer is not enough: behind the
// documented reverse proxy every request comes from 127.0.0.1. A scraper
// without the token uses the --metrics-addr listener instead.
func (s *Server) metricsHandler() fiber.Handler {
	h := fasthttpadaptor.NewFastHTTPHandler(s.metricsHTTP())
	return func(c *fiber.Ctx) error {
		h(c.Context())
		return nil
	}
}

func (s *Server) metricsHTTP() http.Handler {
	return promhttp.HandlerFor(s.metrics, promhttp.HandlerOpts{})
}

// serveMetrics serves /metrics alone, without a token, on addr (meant for
// a loopback address that only the host's scraper reaches), until ctx ends.
func (s *Server) serveMetrics(ctx context.Context, ln net.Listener) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", s.metricsHTTP())
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 16 << 10}
	go func() {
		<-ctx.Done()
		_ = hs.Close()
	}()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.log.Error("metrics listener", "err", err)
	}
}

// Snapshot builds the snapshot of scope now: ClickHouse's figures plus the
// events still in the spool. It returns ENotFound for an unknown district or
// station, and EUnavailable only when ClickHouse fails and no earlier
// figures of the scope are cached.
func (s *Server) Snapshot(ctx context.Context, scope tiendo.Scope) (*tiendo.Snapshot, error) {
	reg := s.Registry()
	stations := reg.StationsIn(scope)
	if scope.Kind != tiendo.ScopeProvince && len(stations) == 0 {
		if scope.Kind == tiendo.ScopeStation || reg.District(scope.ID) == nil {
			return nil, tiendo.Errorf(tiendo.ENotFound, "no %s with id %q", scope.Kind, scope.ID)
		}
	}
	now := s.Now()
	q := tiendo.StatsQuery{DayStart: reg.Campaign.DayStart(reg.Campaign.WorkingDay(now)), Now: now, Stations: stationIDs(scope, stations)}
	var stats []tiendo.StationStats
	storage, err := s.withPending(ctx, "stats|"+scope.String(), func(ctx context.Context) (any, error) {
		return s.store.StationStats(ctx, q)
	}, func(stored any, pending []tiendo.Event) {
		stats = tiendo.AddPending(append([]tiendo.StationStats(nil), stored.([]tiendo.StationStats)...), pending, q)
	})
	if err != nil {
		return nil, err
	}
	snap := tiendo.BuildSnapshot(reg, scope, stats, now)
	snap.Storage = storage
	return snap, nil
}

// stationIDs lists a scope's station ids for store queries (nil: all).
func stationIDs(scope tiendo.Scope, stations []*tiendo.Station) []string {
	if scope.Kind == tiendo.ScopeProvince {
		return nil
	}
	ids := make([]string, len(stations))
	for i, st := range stations {
		ids[i] = st.ID
	}
	return ids
}

// maxOverlay bounds how many spooled events a reader adds to ClickHouse's
// figures; past it (a long outage) screens show the stored figures and say
// how far storage is behind.
const maxOverlay = 50_000

// withPending runs read against ClickHouse and combines its result with the
// spool's events, holding the flusher off in between so no event is counted
// in both or in neither. When ClickHouse fails, the scope's last good result
// is used instead (cached under key), and the storage state says so.
func (s *Server) withPending(ctx context.Context, key string, read func(context.Context) (any, error),
	combine func(stored any, pending []tiendo.Event)) (tiendo.StorageState, error) {
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	release := s.flusher.ReadLock()
	stored, err := read(qctx)
	// The count is kept beside the spool, so a long outage's spool is not
	// decoded on every round only to be found too large to add.
	n, _, _ := s.local.SpoolStats()
	var pending []tiendo.Event
	complete, perr := n <= maxOverlay, error(nil)
	if n > 0 && complete {
		pending, complete, perr = s.local.PeekSpool(maxOverlay)
	}
	release()
	state := tiendo.StorageState{State: "ok", Pending: n}
	if !s.flusher.Healthy() {
		state.State = "behind"
	}
	if err != nil {
		cached, ok := s.cache.get(key)
		if !ok {
			return state, tiendo.Errorf(tiendo.EUnavailable, "storage cannot answer now and nothing is cached yet")
		}
		stored, state.State = cached, "down"
	} else {
		s.cache.put(key, stored)
	}
	if perr != nil || !complete {
		pending = nil
		state.Partial = true
	}
	combine(stored, pending)
	return state, nil
}

// figureCache keeps each scope's last good ClickHouse answer, so that
// screens keep their figures (plus the spool's) while ClickHouse is away.
type figureCache struct {
	mu sync.Mutex
	m  map[string]any
}

func (c *figureCache) get(key string) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	return v, ok
}

func (c *figureCache) put(key string, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]any{}
	}
	c.m[key] = v
}

func (s *Server) getSnapshot(c *fiber.Ctx) error {
	scope, err := tiendo.ParseScope(c.Query("scope"))
	if err != nil {
		return err
	}
	who, err := s.requireRead(c, scope)
	if err != nil {
		return err
	}
	snap, err := s.Snapshot(c.UserContext(), scope)
	if err != nil {
		return err
	}
	if who.Role.ScreenView() {
		snap = snap.ForScreen()
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(snap)
}
