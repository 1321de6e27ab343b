package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"tiendo/cmd/tiendo-bench/scalebench"
	"tiendo/store/clickhouse"
)

// scaleFlags are shared with the chDB helper's scale command.
func scaleFlags(fs *flag.FlagSet, p *scalebench.Params) {
	fs.IntVar(&p.Provinces, "provinces", p.Provinces, "provinces")
	fs.IntVar(&p.Stations, "stations", p.Stations, "stations (ids P<province>-S<n>)")
	fs.IntVar(&p.Days, "days", p.Days, "days of data from 2021-01-01")
	fs.IntVar(&p.Slots, "slots", p.Slots, "heartbeats per station per day")
	fs.Int64Var(&p.Completions, "completions", p.Completions, "completion events")
	fs.Int64Var(&p.Chunk, "chunk", p.Chunk, "rows per INSERT … SELECT")
	fs.IntVar(&p.Province, "province", p.Province, "the province measured")
	fs.IntVar(&p.Runs, "runs", p.Runs, "measured runs of each query")
	fs.IntVar(&p.RawRuns, "raw-runs", p.RawRuns, "runs that also time the nation's raw answers (each scans every raw row)")
}

func freeGB(dir string) float64 {
	var st syscall.Statfs_t
	for d := dir; ; d = filepath.Dir(d) {
		if syscall.Statfs(d, &st) == nil {
			return float64(st.Bavail) * float64(st.Bsize) / 1e9
		}
		if d == "/" {
			return 0
		}
	}
}

// needGB is a generous estimate of the disk the data takes while merging.
func needGB(p scalebench.Params) float64 {
	return (float64(p.Completions)*60 + float64(p.Heartbeats())*40) / 1e9
}

func runScale(ctx context.Context, args []string) error {
	wd, _ := os.Getwd()
	p := scalebench.Default
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	scaleFlags(fs, &p)
	repo := fs.String("repo", wd, "the tiendo checkout")
	engines := fs.String("engines", "server", "server, chdb or server,chdb")
	dir := fs.String("dir", "", "data directory (default REPO/.cache/bench-scale)")
	keep := fs.Bool("keep", false, "keep the generated data (a later run with the same sizes reuses it)")
	helper := fs.String("helper", "", "the chDB helper (default REPO/bin/tiendo-bench-chdb)")
	timeout := fs.Duration("timeout", 4*time.Hour, "stop everything after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		*dir = filepath.Join(*repo, ".cache", "bench-scale")
	}
	if *helper == "" {
		*helper = filepath.Join(*repo, "bin", "tiendo-bench-chdb")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	fmt.Printf("Tiến Độ benchmark at national scale — %s\n", time.Now().Format("2006-01-02 15:04 MST"))
	fmt.Print(machineHeader())
	fmt.Printf("data: %d provinces, %d stations, %d days from 2021-01-01, %d completion events, %d heartbeats (every %d min, 07:00–21:00); measured province %d (%d stations in %d districts)\n",
		p.Provinces, p.Stations, p.Days, p.Completions, p.Heartbeats(), 14*60/p.Slots, p.Province, (p.Stations-p.Province+p.Provinces-1)/p.Provinces, p.Districts())
	fmt.Println("rollups = the store's own code (store.DB.StationStats: station_totals, completions_hour, completions_minute, station_latest as four concurrent queries on a server, one UNION ALL on chDB;")
	fmt.Println("          HourlyCompletions: completions_area_hour/completions_district_hour for the areas and districts the stations cover, completions_hour per station);")
	fmt.Println("raw = the same answers computed from the completions and heartbeats tables (equal = the answers match, / rows)")
	fmt.Println("snapshots = store reads and the domain's build together, at 21:10 of the last day: the nation from its unit rollups as the live server reads it")
	fmt.Println("          (UnitStats with a spool's stations apart, BuildUnitSnapshot) and per station as the alerts read it (StationStats, ServiceSamples,")
	fmt.Println("          BuildSnapshot); raw nation rounds: --raw-runs")
	fmt.Println()
	for _, e := range strings.Split(*engines, ",") {
		var err error
		switch strings.TrimSpace(e) {
		case "server":
			err = scaleServer(ctx, *repo, filepath.Join(*dir, "clickhouse"), p, *keep)
		case "chdb":
			err = scaleChDB(ctx, *helper, filepath.Join(*dir, "chdb"), p, *keep)
		default:
			err = fmt.Errorf("unknown engine %q", e)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func scaleServer(ctx context.Context, repo, dir string, p scalebench.Params, keep bool) error {
	if free, need := freeGB(dir), needGB(p); free < need {
		return fmt.Errorf("%.0f GB free under %s, the data needs about %.0f GB: free some space or scale down (--stations, --days, --completions)", free, dir, need)
	}
	ch, err := startClickHouse(repo, dir)
	if err != nil {
		return err
	}
	defer func() {
		ch.stop()
		if !keep {
			os.RemoveAll(dir)
		}
	}()
	version, _ := ch.scalar(ctx, "SELECT version()")
	fmt.Printf("== ClickHouse server %s (clickhouse-go, native protocol) ==\n", version)
	eng, _, err := clickhouse.Open(ctx, ch.dsn("scale"))
	if err != nil {
		return err
	}
	return scalebench.Run(ctx, eng, "ClickHouse server "+version, p, os.Stdout, func() {
		fmt.Printf("    disk: %.1f GB free after generating\n", freeGB(dir))
	})
}

// scaleChDB runs the same in the chDB helper (one chDB per process) and
// passes its output through.
func scaleChDB(ctx context.Context, helper, dir string, p scalebench.Params, keep bool) error {
	if free, need := freeGB(dir), needGB(p); free < need {
		return fmt.Errorf("%.0f GB free under %s, the data needs about %.0f GB", free, dir, need)
	}
	defer func() {
		if !keep {
			os.RemoveAll(dir)
		}
	}()
	args := []string{"scale", "--dir", dir, "--provinces", strconv.Itoa(p.Provinces), "--stations", strconv.Itoa(p.Stations),
		"--days", strconv.Itoa(p.Days), "--slots", strconv.Itoa(p.Slots), "--completions", strconv.FormatInt(p.Completions, 10),
		"--chunk", strconv.FormatInt(p.Chunk, 10), "--province", strconv.Itoa(p.Province), "--runs", strconv.Itoa(p.Runs), "--raw-runs", strconv.Itoa(p.RawRuns)}
	cmd := exec.CommandContext(ctx, helper, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	atCleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		fmt.Println(sc.Text())
	}
	return cmd.Wait()
}
