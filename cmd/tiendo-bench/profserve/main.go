// Command profserve is `tiendo serve` with a CPU profile, for diagnosing
// benchmark misses (the server has no pprof endpoint). It wires the same
// packages as cmd/tiendo's serve (state, engine, store, server) and takes the
// same flags; the profile goes to $TIENDO_CPUPROFILE (with ".PID" appended)
// and is written when the process stops; net/http/pprof listens on the
// loopback address it writes to DATA/pprof.addr. Run it in place of bin/tiendo:
//
//	TIENDO_CPUPROFILE=/tmp/srv.prof tiendo-bench bench --tiendo bin/tiendo-profserve ...
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"syscall"

	"tiendo/cmd/tiendo/langson2021"
	"tiendo/server"
	"tiendo/store"
	"tiendo/store/chdb"
	"tiendo/store/clickhouse"
	"tiendo/store/local"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "serve" {
		fmt.Fprintln(os.Stderr, "usage: profserve serve --data DIR [tiendo serve flags]")
		os.Exit(2)
	}
	if err := run(os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "profserve:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cfg := server.Default()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&cfg.DataDir, "data", "", "data directory")
	fs.StringVar(&cfg.ClickHouse, "clickhouse", "", "ClickHouse server DSN (default: embedded chDB)")
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address")
	fs.StringVar(&cfg.Clock, "clock", cfg.Clock, "wall or replay")
	fs.DurationVar(&cfg.Linger, "linger", cfg.Linger, "group-commit wait")
	fs.DurationVar(&cfg.FlushEvery, "flush-every", cfg.FlushEvery, "flush interval")
	fs.Int64Var(&cfg.SpoolMax, "spool-max", cfg.SpoolMax, "spool limit")
	fs.Float64Var(&cfg.RatePerSec, "rate", cfg.RatePerSec, "requests/s per token")
	fs.Float64Var(&cfg.RateBurst, "burst", cfg.RateBurst, "burst per token")
	fs.Float64Var(&cfg.EventsPerSec, "events-rate", cfg.EventsPerSec, "events/s per station token (-1: no limit)")
	fs.IntVar(&cfg.MaxConnsPerAddr, "max-conns-per-addr", cfg.MaxConnsPerAddr, "open connections per client address (0: no cap)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if p := os.Getenv("TIENDO_CPUPROFILE"); p != "" {
		f, err := os.Create(fmt.Sprintf("%s.%d", p, os.Getpid()))
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return err
	}
	// net/http/pprof on a loopback port written to DATA/pprof.addr, so that
	// tiendo-bench can take heap, goroutine and window CPU profiles.
	if ln, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		_ = os.WriteFile(filepath.Join(cfg.DataDir, "pprof.addr"), []byte(ln.Addr().String()), 0o644)
		go func() { _ = http.Serve(ln, nil) }()
		defer os.Remove(filepath.Join(cfg.DataDir, "pprof.addr"))
	}
	st, err := local.Open(cfg.DataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	var engine store.Engine
	database := "tiendo"
	if cfg.ClickHouse != "" {
		engine, database, err = clickhouse.Open(ctx, cfg.ClickHouse)
	} else {
		engine, err = chdb.Open(filepath.Join(cfg.DataDir, "chdb"))
	}
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, engine, database)
	if err != nil {
		engine.Close()
		return err
	}
	defer db.Close()
	if _, err := server.EnsureAdminToken(cfg.DataDir, st); err != nil {
		return err
	}
	c := langson2021.Campaign()
	srv, err := server.New(server.Deps{Config: cfg, Store: db, Local: st, Campaign: c, DefaultStations: langson2021.Stations(), Log: log, Build: "profserve"})
	if err != nil {
		return err
	}
	return srv.Run(ctx, nil)
}
