package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"tiendo"
	"tiendo/cmd/tiendo/shipped"
	"tiendo/simulate"
)

// runSimulate replays the campaign against a running server with station
// tokens from its admin API. Progress goes to stderr; the last line of stdout
// is the run's JSON summary.
func runSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	def := simulate.DefaultParams()
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	client := clientFlags(fs)
	campaign := fs.String("campaign", "", "the campaign the server must be serving ("+strings.Join(shipped.IDs(), ", ")+"); default: whichever it serves, read from its admin API")
	from := fs.String("from", "", "first working day to simulate (default: the campaign's first); with --speed N also DAYTHH:MM, the local time of that day at which the paced clock starts (what comes before is sent at once); resume: the working day of the server's newest event (a stopped run goes on; what it had sent of that day is sent again and counted once)")
	to := fs.String("to", "", "stop at the start of this working day (default: the campaign's deadline; live: never)")
	speed := fs.String("speed", "1440", "simulated seconds per real second, or max (as fast as the server acknowledges); 1440: a day a minute")
	live := fs.Bool("live", false, "follow the wall clock: stations report today's work as it happens")
	seed := fs.Uint64("seed", 1, "seed of the model: the same seed gives the same events and ids")
	limit := fs.Int("stations", 0, "drive only this many stations, spread over the districts (0: all)")
	offline := fs.Float64("offline", def.OfflineRate, "chance per station and day of dropping off the network for a while")
	loseAck := fs.Float64("lose-ack", 0.005, "share of requests whose 202 is lost on the way back (the batch is sent again)")
	heartbeat := fs.Duration("heartbeat", def.Heartbeat, "heartbeat interval (simulated)")
	step := fs.Duration("step", 6*time.Hour, "with --speed max: simulated time per round of requests")
	batch := fs.Int("batch", 2000, "most events per request")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("simulate takes no arguments, got %q", fs.Args())}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	ac, err := client()
	if err != nil {
		return err
	}
	// Model the campaign the server serves, as it serves it.
	var file bytes.Buffer
	if err := ac.do(ctx, http.MethodGet, "/api/v1/admin/campaign", "", nil, &file); err != nil {
		return fmt.Errorf("read the server's campaign: %w", err)
	}
	c, err := tiendo.ParseCampaign(file.Bytes())
	if err != nil {
		return fmt.Errorf("read the server's campaign: %w", err)
	}
	if *campaign != "" && *campaign != c.ID {
		return usageError{fmt.Sprintf("--campaign %s: the server at %s serves %s", *campaign, ac.server, c.ID)}
	}
	switch *from {
	case "":
		*from = c.Start.String()
	case "resume":
		day, err := resumeDay(ctx, ac, c)
		if err != nil {
			return err
		}
		*from = day.String()
		fmt.Fprintf(stderr, "resuming at %s, the working day of the server's newest figures\n", *from)
	}
	if *to == "" {
		*to = c.Deadline.String()
	}
	cfg := simulate.Config{Campaign: c, Live: *live, Seed: *seed, LoseAckRate: *loseAck, MaxStep: *step, BatchMax: *batch,
		Params: def, Progress: stderr, ProgressInPlace: isTerminal(stderr)}
	cfg.Params.OfflineRate = *offline
	cfg.Params.Heartbeat = *heartbeat
	if !*live || set["from"] {
		day, clock, timed := strings.Cut(*from, "T")
		if cfg.From, err = tiendo.ParseDay(day); err != nil {
			return usageError{"--from: " + err.Error()}
		}
		if timed {
			at, err := time.ParseInLocation("2006-01-02 15:04", day+" "+clock, c.Location())
			if err != nil {
				return usageError{fmt.Sprintf("--from %s: the time of day is HH:MM (local, %s)", *from, c.TimeZone)}
			}
			cfg.StartAt = at
		}
	}
	if !*live || set["to"] {
		if cfg.To, err = tiendo.ParseDay(*to); err != nil {
			return usageError{"--to: " + err.Error()}
		}
	}
	switch {
	case *live:
		if set["speed"] {
			return usageError{"give --live or --speed, not both"}
		}
	case *speed == "max":
		cfg.Max = true
	default:
		v, err := strconv.ParseFloat(*speed, 64)
		if err != nil || v <= 0 {
			return usageError{fmt.Sprintf("--speed %q: want a positive number of simulated seconds per second, or max", *speed)}
		}
		cfg.Speed = v
	}
	cfg.Marks = simulate.CalibrationMarks(c, cfg.Params)

	cfg.Server, cfg.AdminToken = ac.server, ac.token
	// Simulate the stations the server knows (an operator may have imported others).
	var csv bytes.Buffer
	if err := ac.do(ctx, http.MethodGet, "/api/v1/admin/stations", "", nil, &csv); err != nil {
		return fmt.Errorf("read the station registry: %w", err)
	}
	if cfg.Stations, err = tiendo.ParseStationsCSV(&csv, c.Districts); err != nil {
		return fmt.Errorf("read the station registry: %w", err)
	}
	if *limit > 0 {
		cfg.Drive = simulate.SpreadStations(cfg.Stations, *limit)
	}

	sum, runErr := simulate.Run(ctx, cfg)
	if sum.Stations > 0 {
		b, err := json.Marshal(sum)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, string(b))
	}
	var rej *simulate.RejectedError
	if errors.As(runErr, &rej) {
		return fmt.Errorf("%w (a simulator bug: the run stopped)", runErr)
	}
	return runErr
}

// resumeDay is the working day to resume a simulation from: that of the
// server's "now" (on a replay clock, its newest event), or the campaign's
// first day on a server without events; never past the deadline.
func resumeDay(ctx context.Context, ac *adminClient, c *tiendo.Campaign) (tiendo.Day, error) {
	var snap struct {
		Now    time.Time `json:"now"`
		Totals struct {
			Completed int64 `json:"completed"`
		} `json:"totals"`
	}
	var body bytes.Buffer
	if err := ac.do(ctx, http.MethodGet, "/api/v1/snapshot?scope=province", "", nil, &body); err != nil {
		return 0, fmt.Errorf("--from resume: read the server's figures: %w", err)
	}
	if err := json.Unmarshal(body.Bytes(), &snap); err != nil {
		return 0, fmt.Errorf("--from resume: read the server's figures: %w", err)
	}
	day := c.WorkingDay(snap.Now)
	if snap.Totals.Completed == 0 || day < c.Start {
		return c.Start, nil
	}
	return min(day, c.Deadline), nil
}

// isTerminal reports whether w is a terminal, where the progress line is
// rewritten in place rather than printed line after line.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
