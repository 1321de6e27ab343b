package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
)

// The sink is the HTTP floor of ingest: the same Fiber server and the same
// load generator, with a handler that only receives the body and answers 202.
// No ingest path can beat it on this box, so it says how much of the gap to
// the direct insert is HTTP, JSON on the wire and the generator itself, and
// how much is tiendo's decoding, spool and flush.

// runSink serves POST /api/v1/events until ctx ends (tiendo-bench sink --addr A).
func runSink(ctx context.Context, args []string) error {
	addr := "127.0.0.1:0"
	for i := 0; i+1 < len(args); i += 2 {
		if args[i] == "--addr" {
			addr = args[i+1]
		}
	}
	app := fiber.New(fiber.Config{BodyLimit: 4 << 20, DisableStartupMessage: true})
	idKey := []byte(`{"id":`)
	app.Post("/api/v1/events", func(c *fiber.Ctx) error {
		// Count the events the way the generator writes them, so the
		// run's accepted figure is comparable; nothing is decoded.
		n := bytes.Count(c.Body(), idKey)
		return c.Status(fiber.StatusAccepted).SendString(`{"accepted":` + strconv.Itoa(n) + `,"duplicates":0}`)
	})
	app.Get("/healthz", func(c *fiber.Ctx) error { return c.SendString("ok") })
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	go func() { <-ctx.Done(); _ = app.Shutdown() }()
	return app.Listener(ln)
}

// startSink runs the sink in its own process (like tiendo serve, so the
// generator's and the server's CPU stay apart) and waits until it answers.
func startSink(ctx context.Context, work string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	p, err := startProc("tiendo-bench sink", filepath.Join(work, "sink.log"), nil, self, "sink", "--addr", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, err
	}
	s := &server{proc: p, url: fmt.Sprintf("http://127.0.0.1:%d", port), client: newLoadClient()}
	for deadline := time.Now().Add(30 * time.Second); ; {
		if resp, err := s.client.Get(s.url + "/healthz"); err == nil {
			resp.Body.Close()
			return s, nil
		}
		if p.exited() || time.Now().After(deadline) || ctx.Err() != nil {
			p.stop(time.Second)
			return nil, fmt.Errorf("the sink did not start (log %s)", filepath.Join(work, "sink.log"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
