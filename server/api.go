package server

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"tiendo"
)

func (s *Server) metricsHandler() fiber.Handler {
	h := fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(s.metrics, promhttp.HandlerOpts{}))
	return func(c *fiber.Ctx) error {
		h(c.Context())
		return nil
	}
}

// Snapshot builds the snapshot of scope now. It returns ENotFound for an
// unknown district or station.
func (s *Server) Snapshot(ctx context.Context, scope tiendo.Scope) (*tiendo.Snapshot, error) {
	reg := s.Registry()
	stations := reg.StationsIn(scope)
	if scope.Kind != tiendo.ScopeProvince && len(stations) == 0 {
		if scope.Kind == tiendo.ScopeStation || reg.District(scope.ID) == nil {
			return nil, tiendo.Errorf(tiendo.ENotFound, "no %s with id %q", scope.Kind, scope.ID)
		}
	}
	now := s.Now()
	q := tiendo.StatsQuery{DayStart: reg.Campaign.DayStart(reg.Campaign.WorkingDay(now)), Now: now}
	if scope.Kind != tiendo.ScopeProvince {
		q.Stations = make([]string, len(stations))
		for i, st := range stations {
			q.Stations[i] = st.ID
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	stats, err := s.store.StationStats(ctx, q)
	if err != nil {
		return nil, &tiendo.Error{Code: tiendo.EUnavailable, Message: "storage cannot answer now: " + err.Error()}
	}
	return tiendo.BuildSnapshot(reg, scope, stats, now), nil
}

func (s *Server) getSnapshot(c *fiber.Ctx) error {
	scope, err := tiendo.ParseScope(c.Query("scope"))
	if err != nil {
		return err
	}
	snap, err := s.Snapshot(c.UserContext(), scope)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(snap)
}
