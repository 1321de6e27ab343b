package server

import (
	"context"
	"errors"
	"net"
	"net/http"
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

func (s *Server) getSnapshot(c *fiber.Ctx) error {
	scope, err := s.scopeQuery(c)
	if err != nil {
		return err
	}
	who, err := s.requireRead(c, scope)
	if err != nil {
		return err
	}
	snap, err := s.figures.Snapshot(c.UserContext(), scope)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(snap.Sent(who.Role.ScreenView()))
}

// scopeQuery reads the request's scope parameter in its canonical form
// (Registry.Resolve): unit:LS-TP and district:LS-TP are one scope, with
// one topic, one cache entry and one set of alerts.
func (s *Server) scopeQuery(c *fiber.Ctx) (tiendo.Scope, error) {
	scope, err := tiendo.ParseScope(c.Query("scope"))
	if err != nil {
		return scope, err
	}
	return s.Registry().Resolve(scope), nil
}
