// Command tiendo-bench is Tiến Độ's load generator and measurer (issue 6).
//
//	tiendo-bench bench [flags]   ingest, fan-out and cold start on both engines (make bench)
//	tiendo-bench scale [flags]   queries at national scale on a ClickHouse server (make bench-scale)
//	tiendo-bench waits [flags]   the wait estimate against the simulated campaign's realised waits (make bench)
//	tiendo-bench bandwidth [flags]  bytes per screen at campaign speed, before and after patches (make bench)
//
// It starts what it measures (bin/tiendo serve, a clickhouse-server, the
// simulator, the chDB helper) as child processes on loopback, measures from
// outside, prints tables, and stops everything it started. Every number it
// prints is measured in that run. See bench/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	cmd, args := "bench", os.Args[1:]
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "bench":
		err = runBench(ctx, args)
	case "scale":
		err = runScale(ctx, args)
	case "waits":
		err = runWaits(args)
	case "bandwidth":
		err = runBandwidth(args)
	case "clients": // internal: a fan-out worker
		err = runClients(ctx, args)
	case "sink": // internal: the HTTP floor of ingest
		err = runSink(ctx, args)
	default:
		err = fmt.Errorf("unknown command %q (bench, scale, waits or bandwidth)", cmd)
	}
	stop()
	cleanupAll()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tiendo-bench:", err)
		os.Exit(1)
	}
}

// machineHeader describes the box: the numbers mean little without it.
func machineHeader() string {
	var b strings.Builder
	cpu := "?"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	mem := "?"
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, "MemTotal:") {
				f := strings.Fields(l)
				kb, _ := strconv.ParseFloat(f[1], 64)
				mem = fmt.Sprintf("%.1f GiB", kb/(1<<20))
			}
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Fprintf(&b, "machine: %d CPUs (nproc), %s, %s RAM, Linux %s, %s, load avg %s\n", runtime.NumCPU(), cpu, mem,
		strings.TrimSpace(string(kernel)), runtime.Version(), strings.Join(strings.Fields(string(load))[:3], " "))
	chPkg := "not installed"
	if out, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", "clickhouse-server").Output(); err == nil {
		chPkg = "Debian package " + string(out)
	}
	cli, _ := exec.Command("clickhouse-client", "--version").Output()
	fmt.Fprintf(&b, "clickhouse-server: %s; %s\n", chPkg, strings.TrimSpace(string(cli)))
	return b.String()
}

type benchConfig struct {
	repo, tiendo, helper, work string
	simulator                  string
	engines                    []string
	runs                       int
	dur                        time.Duration
	stations                   int
	clients                    []int
	window                     time.Duration
	tagEvery                   time.Duration
	perToken                   int
	perTag                     bool
	fanoutRuns                 int
	simSpeed                   string
	simFrom                    string
	parts                      map[string]bool
	keep                       bool
	updates                    string // TIENDO_LIVE_UPDATES for the server: "patch", "whole" or "" (its default)
	decode                     bool   // fan-out clients decode every message
}

func runBench(ctx context.Context, args []string) error {
	wd, _ := os.Getwd()
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	cfg := benchConfig{}
	fs.StringVar(&cfg.repo, "repo", wd, "the tiendo checkout (scripts/, bin/)")
	fs.StringVar(&cfg.tiendo, "tiendo", "", "the tiendo binary (default REPO/bin/tiendo)")
	fs.StringVar(&cfg.simulator, "simulator", "", "the binary whose simulate command makes the fan-out's background load (default REPO/bin/tiendo)")
	fs.StringVar(&cfg.helper, "helper", "", "the chDB helper binary (default REPO/bin/tiendo-bench-chdb)")
	fs.StringVar(&cfg.work, "work", "", "work directory (default a new one under REPO/.cache/bench, removed at the end)")
	engines := fs.String("engines", "chdb,server", "engines to measure: chdb (embedded), server (clickhouse-server)")
	fs.IntVar(&cfg.runs, "runs", 3, "repetitions of each ingest run and cold start (medians are printed)")
	fs.DurationVar(&cfg.dur, "dur", 10*time.Second, "length of one ingest run")
	fs.IntVar(&cfg.stations, "stations", 200, "concurrent simulated stations posting")
	clients := fs.String("clients", "1000,10000,19500,20000", "WebSocket client counts for the fan-out (19,500: just under this box's open-files limit)")
	fs.IntVar(&cfg.fanoutRuns, "fanout-runs", 3, "fan-out runs per client count up to 10,000 (larger counts run once)")
	// 60 s: about 40 tags, so that the p99 of a run is not the latency of
	// its one or two slowest tags.
	fs.DurationVar(&cfg.window, "window", 60*time.Second, "fan-out measuring window per client count")
	fs.DurationVar(&cfg.tagEvery, "tag-every", 1500*time.Millisecond, "fan-out: one tagged completion this often")
	fs.IntVar(&cfg.perToken, "per-token", 50, "fan-out: clients per screen token (the server's cap on live connections per account)")
	// The fan-out's screens see the campaign at its real rate, as screens in
	// the field do (200 stations, about one event a second). make demo's
	// replay (1440, a day a minute, ~1,000 events/s: five times the national
	// campaign's rate) sends each screen ~60 KB/s of JSON to decode, which
	// 10,000 decoding clients on this box's two cores cannot keep up with
	// whatever the server does; --sim-speed 1440 measures that.
	fs.StringVar(&cfg.simSpeed, "sim-speed", "1", "fan-out background: tiendo simulate --speed (1: the campaign's real rate)")
	fs.StringVar(&cfg.simFrom, "sim-from", "2021-03-22T09:00", "fan-out background: tiendo simulate --from (a Monday's working hours: the night before is sent at once)")
	parts := fs.String("parts", "ingest,cold,fanout,cluster", "which parts to run (cluster: once, after the engines; scripts/cluster.sh)")
	fs.StringVar(&cfg.updates, "updates", "patch", "live updates the server sends: patch, whole (before patches) or \"\" (its default)")
	fs.BoolVar(&cfg.perTag, "per-tag", false, "fan-out: print each tag's latencies (the reference client's, the clients' p50/p99/max)")
	fs.BoolVar(&cfg.decode, "decode", true, "fan-out: every client decodes every message (false: scans the seq only)")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the work directory")
	timeout := fs.Duration("timeout", 60*time.Minute, "stop everything after this long")
	cpuprofile := fs.String("cpuprofile", "", "write this process's CPU profile (the load generator's own cost)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.tiendo == "" {
		cfg.tiendo = filepath.Join(cfg.repo, "bin", "tiendo")
	}
	if cfg.simulator == "" {
		cfg.simulator = filepath.Join(cfg.repo, "bin", "tiendo")
	}
	if cfg.helper == "" {
		cfg.helper = filepath.Join(cfg.repo, "bin", "tiendo-bench-chdb")
	}
	cfg.engines = strings.Split(*engines, ",")
	cfg.parts = map[string]bool{}
	for _, p := range strings.Split(*parts, ",") {
		cfg.parts[p] = true
	}
	for _, c := range strings.Split(*clients, ",") {
		if c = strings.TrimSpace(c); c != "" {
			n, err := strconv.Atoi(c)
			if err != nil {
				return fmt.Errorf("--clients: %v", err)
			}
			cfg.clients = append(cfg.clients, n)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		_ = pprof.StartCPUProfile(f)
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	if cfg.work == "" {
		base := filepath.Join(cfg.repo, ".cache", "bench")
		if err := os.MkdirAll(base, 0o755); err != nil {
			return err
		}
		w, err := os.MkdirTemp(base, "run-")
		if err != nil {
			return err
		}
		cfg.work = w
	}
	if !cfg.keep {
		atCleanup(func() { os.RemoveAll(cfg.work) })
	}
	for _, f := range []string{cfg.tiendo, cfg.helper} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("%s: %v (make build; go build -o bin/tiendo-bench-chdb ./cmd/tiendo-bench/chdbhelper)", f, err)
		}
	}
	nofile := raiseNoFile()

	fmt.Printf("Tiến Độ benchmark — %s\n", time.Now().Format("2006-01-02 15:04 MST"))
	fmt.Print(machineHeader())
	chdbVersion := "?"
	if b, err := runHelper(ctx, cfg.helper, "sql", "--dir", filepath.Join(cfg.work, "version-chdb"), "--query", "SELECT version()"); err == nil {
		chdbVersion = strings.Trim(string(b), `{}"rows:[]`)
	}
	os.RemoveAll(filepath.Join(cfg.work, "version-chdb"))
	fmt.Printf("chDB (embedded): ClickHouse %s via %s\n", chdbVersion, os.Getenv("CHDB_LIB_PATH"))
	fmt.Printf("open files limit %d; every figure below is measured in this run; medians of %d runs where marked\n\n", nofile, cfg.runs)

	var reports []*engineReport
	for _, e := range cfg.engines {
		rep, err := runEngine(ctx, &cfg, strings.TrimSpace(e))
		if rep != nil {
			reports = append(reports, rep)
		}
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return err
			}
			fmt.Printf("!! engine %s: %v\n\n", e, err)
		}
	}
	if cfg.parts["cluster"] {
		if err := clusterPart(ctx, &cfg); err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return err
			}
			fmt.Printf("!! cluster: %v\n\n", err)
		}
	}
	fmt.Println("== Targets (issue 6) ==")
	for _, r := range reports {
		for _, t := range r.targets {
			fmt.Printf("%-4s  %-10s %s\n", passMiss(t.ok), r.key, t.text)
		}
	}
	return nil
}
