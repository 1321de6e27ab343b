package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"tiendo/cmd/tiendo-bench/scalebench"
	"tiendo/store/chdb"
)

// scale runs the query benchmark at scale on the embedded engine, printing
// as it goes (tiendo-bench scale --engines chdb passes the output through).
func scale(args []string) error {
	p := scalebench.Default
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	dir := fs.String("dir", "", "chDB directory")
	fs.IntVar(&p.Provinces, "provinces", p.Provinces, "provinces")
	fs.IntVar(&p.Stations, "stations", p.Stations, "stations")
	fs.IntVar(&p.Days, "days", p.Days, "days")
	fs.IntVar(&p.Slots, "slots", p.Slots, "heartbeats per station per day")
	fs.Int64Var(&p.Completions, "completions", p.Completions, "completion events")
	fs.Int64Var(&p.Chunk, "chunk", p.Chunk, "rows per INSERT … SELECT")
	fs.IntVar(&p.Province, "province", p.Province, "the province measured")
	fs.IntVar(&p.Runs, "runs", p.Runs, "measured runs of each query")
	fs.IntVar(&p.RawRuns, "raw-runs", p.RawRuns, "runs that also time the nation's raw answers")
	if err := fs.Parse(args); err != nil {
		return err
	}
	eng, err := chdb.Open(*dir)
	if err != nil {
		return err
	}
	ctx := context.Background()
	version := "?"
	if rows, err := eng.Query(ctx, "SELECT version()"); err == nil && len(rows) == 1 {
		version = fmt.Sprint(rows[0][0])
	}
	fmt.Printf("== embedded chDB (ClickHouse %s, in-process; this helper process) ==\n", version)
	return scalebench.Run(ctx, eng, "chDB "+version, p, os.Stdout, nil)
}
