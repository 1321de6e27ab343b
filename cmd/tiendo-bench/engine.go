package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"tiendo/cmd/tiendo/langson2021"
	"tiendo/simulate"
	"tiendo/store"
	"tiendo/store/clickhouse"
)

type target struct {
	ok   bool
	text string
}

type engineReport struct {
	key     string
	targets []target
}

func (r *engineReport) check(ok bool, format string, args ...any) {
	r.targets = append(r.targets, target{ok: ok, text: fmt.Sprintf(format, args...)})
}

// ingestRow is one ingest run with the direct insert of its rows.
type ingestRow struct {
	name       string
	res        *loadResult
	directRate float64 // rows/s
}

func (row ingestRow) ratio() float64 {
	if row.directRate == 0 {
		return 0
	}
	return row.res.rateE2E() / row.directRate
}

// serveExtra are tiendo serve flags for the benchmark: the per-token and
// event rate limits are lifted (they would measure the limiter, not the
// ingest path), and so is the per-address connection cap (every client
// here is 127.0.0.1; the screens it stands for come from their own).
var serveExtra = []string{"--rate", "100000", "--burst", "100000", "--events-rate", "-1", "--max-conns-per-addr", "0"}

func runEngine(ctx context.Context, cfg *benchConfig, key string) (*engineReport, error) {
	rep := &engineReport{key: key}
	base := filepath.Join(cfg.work, key)
	data := filepath.Join(base, "data")
	var ch *clickhouseServer
	label := "embedded chDB"
	if key == "server" {
		var err error
		if ch, err = startClickHouse(cfg.repo, filepath.Join(base, "clickhouse")); err != nil {
			return nil, err
		}
		defer ch.stop()
		v, _ := ch.scalar(ctx, "SELECT version()")
		label = "ClickHouse server " + v + " (native protocol, clickhouse-go)"
	} else if key != "chdb" {
		return nil, fmt.Errorf("unknown engine %q (chdb or server)", key)
	}
	dsn := ""
	if ch != nil {
		dsn = ch.dsn("tiendo")
	}
	fmt.Printf("== Engine: %s ==\n", label)
	opts := serveOpts{bin: cfg.tiendo, data: data, dsn: dsn, extra: serveExtra}
	if cfg.updates != "" {
		opts.env = []string{"TIENDO_LIVE_UPDATES=" + cfg.updates}
	}

	campaign, all := langson2021.Campaign(), langson2021.Stations()
	model, err := simulate.NewModel(campaign, all, 42, simulate.DefaultParams())
	if err != nil {
		return rep, err
	}
	n := min(cfg.stations, len(all))
	// The fan-out's background simulator drives n stations spread over the
	// districts; the tag station is one it leaves alone.
	driven := map[string]bool{}
	for _, id := range simulate.SpreadStations(all, n) {
		driven[id] = true
	}
	tagIdx := -1
	for i, s := range all {
		if !driven[s.ID] {
			tagIdx = i
			break
		}
	}

	var expected int64 = -1
	if cfg.parts["ingest"] {
		srv, err := startServer(ctx, opts)
		if err != nil {
			return rep, err
		}
		stations := make([]loadStation, n)
		for i := range stations {
			tok, err := srv.issueToken(ctx, all[i].ID)
			if err != nil {
				srv.stop(30 * time.Second)
				return rep, err
			}
			stations[i] = loadStation{idx: i, id: all[i].ID, token: tok}
		}
		if err := ingestPart(ctx, cfg, rep, srv, ch, model, stations); err != nil {
			srv.stop(30 * time.Second)
			return rep, err
		}
		snap, err := srv.snapshot(ctx)
		if err != nil {
			srv.stop(30 * time.Second)
			return rep, err
		}
		expected = snap.Totals.Completed
		if ch != nil {
			parts, _ := ch.scalar(ctx, "SELECT count() FROM system.parts WHERE active AND database='tiendo'")
			fmt.Printf("active parts at the end (database tiendo): %s\n", parts)
		}
		t0 := time.Now()
		srv.stop(60 * time.Second)
		fmt.Printf("graceful stop of tiendo serve: %s\n", ms(time.Since(t0)))
		if ch == nil {
			b, err := runHelper(ctx, cfg.helper, "sql", "--dir", filepath.Join(data, "chdb"),
				"--query", "SELECT count() FROM system.parts WHERE active AND database='tiendo'")
			var out struct{ Rows [][]any }
			if err == nil && json.Unmarshal(b, &out) == nil && len(out.Rows) == 1 {
				fmt.Printf("active parts at the end (database tiendo, read by the chDB helper after the server stopped): %v\n", out.Rows[0][0])
			} else {
				fmt.Printf("active parts at the end: could not read (%v)\n", err)
			}
		}
		fmt.Println()
	}

	if cfg.parts["cold"] {
		if err := coldPart(ctx, cfg, opts, expected); err != nil {
			return rep, err
		}
	}

	if cfg.parts["fanout"] && tagIdx >= 0 {
		if err := fanoutPart(ctx, cfg, rep, opts, ch, model, all[tagIdx].ID, n); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func ingestPart(ctx context.Context, cfg *benchConfig, rep *engineReport, srv *server, ch *clickhouseServer, model *simulate.Model, stations []loadStation) error {
	isChDB := ch == nil
	chPID := 0
	if ch != nil {
		chPID = ch.pid()
	}
	if ch != nil {
		// The direct insert goes into a copy of the real schema, with its
		// materialized views, in database "direct".
		eng, _, err := clickhouse.Open(ctx, ch.dsn("direct"))
		if err != nil {
			return err
		}
		db, err := store.Open(ctx, eng, "direct")
		if err != nil {
			return err
		}
		db.Close()
	}
	// Warm-up, not reported: connections, first parts, caches.
	if _, err := runLoad(ctx, srv, model, stations, loadSpec{name: "warm-up", batch: 50, dur: 3 * time.Second, prefix: "w-"}); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	direct := func(res *loadResult, prefix string) (float64, error) {
		if isChDB {
			d, err := directChDB(ctx, cfg.helper, cfg.work, strings.TrimSuffix(prefix, "-"), res.events)
			res.events = nil
			if err != nil {
				return 0, err
			}
			return float64(d.Rows) / d.Seconds, nil
		}
		rows, took, err := directServer(ctx, ch, cfg.work, prefix)
		if err != nil {
			return 0, err
		}
		if rows != res.accepted {
			res.verify = fmt.Sprintf("ClickHouse holds %d rows of the run, %d were accepted", rows, res.accepted)
		}
		return float64(rows) / took.Seconds(), nil
	}
	sink, err := startSink(ctx, cfg.work)
	if err != nil {
		return err
	}
	defer sink.stop(5 * time.Second)
	var peak50, peak1, half50, floor50 []ingestRow
	for r := 1; r <= cfg.runs; r++ {
		res, err := runLoad(ctx, sink, model, stations, loadSpec{name: fmt.Sprintf("HTTP floor b50 #%d", r), batch: 50, dur: cfg.dur, prefix: fmt.Sprintf("f%d-", r), sink: true})
		if err != nil {
			return fmt.Errorf("HTTP floor: %w", err)
		}
		floor50 = append(floor50, ingestRow{name: res.spec.name, res: res})
		for _, batch := range []int{50, 1} {
			prefix := fmt.Sprintf("r%db%d-", r, batch)
			res, err := runLoad(ctx, srv, model, stations, loadSpec{name: fmt.Sprintf("peak b%d #%d", batch, r), batch: batch, dur: cfg.dur, prefix: prefix, keep: isChDB, chPID: chPID})
			if err != nil {
				return err
			}
			d, err := direct(res, prefix)
			if err != nil {
				return fmt.Errorf("direct insert: %w", err)
			}
			row := ingestRow{name: res.spec.name, res: res, directRate: d}
			if batch == 50 {
				// The floor's ratio is against the same round's direct insert.
				floor50[r-1].directRate = d
				peak50 = append(peak50, row)
			} else {
				peak1 = append(peak1, row)
			}
		}
	}
	var rates []float64
	for _, r := range peak50 {
		rates = append(rates, r.res.rate202())
	}
	half := median(rates) / 2
	perStation := half / float64(len(stations)*50)
	for r := 1; r <= cfg.runs; r++ {
		prefix := fmt.Sprintf("h%db50-", r)
		res, err := runLoad(ctx, srv, model, stations, loadSpec{name: fmt.Sprintf("half-peak b50 #%d", r), batch: 50, dur: cfg.dur, rate: perStation, prefix: prefix, keep: isChDB, chPID: chPID})
		if err != nil {
			return err
		}
		d, err := direct(res, prefix)
		if err != nil {
			return fmt.Errorf("direct insert: %w", err)
		}
		half50 = append(half50, ingestRow{name: res.spec.name, res: res, directRate: d})
	}

	fmt.Printf("(1) Ingest: %d concurrent simulated stations (simulate.Model events: heartbeats and completions), %v per run, closed loop (peak) or paced at half the median peak 202 rate (%.0f events/s offered)\n",
		len(stations), cfg.dur, half)
	directWhat := "clickhouse-client INSERT … FORMAT Native of the run's rows (exported from tiendo's tables) into a copy of the schema with its views; query time as clickhouse-client --time reports it"
	if isChDB {
		directWhat = "store/chdb WriteEvents of the run's events (chunks of 100k) into a fresh chDB with the schema, in its own process"
	}
	fmt.Printf("    direct = %s\n", directWhat)
	t := &table{head: []string{"run", "events", "compl", "202 ev/s", "e2e ev/s", "direct rows/s", "e2e/direct", "p50 202", "p99 202", "ins q/s", "q/s/table", "CPU srv/CH/gen", "errors"}}
	addRow := func(row ingestRow) {
		r := row.res
		errs := strconv.Itoa(r.failed)
		if r.failed > 0 {
			errs += " (" + statusList(r.statuses) + ")"
		}
		if r.verify != "" {
			errs += " VERIFY: " + r.verify
		}
		t.add(row.name, strconv.FormatInt(r.accepted, 10), strconv.FormatInt(r.completions, 10), num(r.rate202()), num(r.rateE2E()), num(row.directRate),
			fmt.Sprintf("%.0f%%", 100*row.ratio()), ms(pct(r.lat, 0.5)), ms(pct(r.lat, 0.99)),
			fmt.Sprintf("%.2f", r.insertsPerSec()), fmt.Sprintf("%.2f", r.insertsPerSec()/2),
			fmt.Sprintf("%.0f/%.0f/%.0f%%", 100*r.srvCPU, 100*r.chCPU, 100*r.genCPU), errs)
	}
	medianRow := func(name string, rows []ingestRow) (ratio, p99, qps float64) {
		var r202, re2e, rdir, rat, p50s, p99s, q []float64
		for _, row := range rows {
			r202 = append(r202, row.res.rate202())
			re2e = append(re2e, row.res.rateE2E())
			rdir = append(rdir, row.directRate)
			rat = append(rat, row.ratio())
			p50s = append(p50s, float64(pct(row.res.lat, 0.5)))
			p99s = append(p99s, float64(pct(row.res.lat, 0.99)))
			q = append(q, row.res.insertsPerSec()/2)
		}
		t.add("  median "+name, "", "", num(median(r202)), num(median(re2e)), num(median(rdir)), fmt.Sprintf("%.0f%%", 100*median(rat)),
			ms(time.Duration(median(p50s))), ms(time.Duration(median(p99s))), fmt.Sprintf("%.2f", 2*median(q)), fmt.Sprintf("%.2f", median(q)), "", "")
		return median(rat), median(p99s), slices.Max(q)
	}
	for _, row := range peak50 {
		addRow(row)
	}
	ratio50, _, q1 := medianRow("peak b50", peak50)
	for _, row := range half50 {
		addRow(row)
	}
	_, p99half, q2 := medianRow("half-peak b50", half50)
	for _, row := range peak1 {
		addRow(row)
	}
	ratio1, _, q3 := medianRow("peak b1", peak1)
	for _, row := range floor50 {
		addRow(row)
	}
	floorRatio, _, _ := medianRow("HTTP floor b50", floor50)
	var ofFloor []float64
	for i := range peak50 {
		ofFloor = append(ofFloor, peak50[i].res.rateE2E()/floor50[i].res.rateE2E())
	}
	fmt.Print(t.String())
	fmt.Printf("    HTTP floor = the same generator and batches against a Fiber handler that only reads the body and answers 202 (no decoding, no spool, no ClickHouse):\n")
	fmt.Printf("    the most any HTTP ingest reaches on this box, %.0f%% of the direct insert; tiendo's peak b50 e2e is %.0f%% of it (median of the rounds' ratios)\n", 100*floorRatio, 100*median(ofFloor))
	fmt.Println("    events = accepted events (202) in the run; compl = completions among them (the rest heartbeats); e2e = accepted events / time until the spool was empty (the last row in ClickHouse);")
	fmt.Println("    p50/p99 202 = request latency (paced runs: from the scheduled send time); ins q/s = tiendo_store_insert_queries_total per second of the e2e window, /table = /2 (heartbeats, completions);")
	fmt.Println("    CPU = cores used over the e2e window by tiendo serve / clickhouse-server / this load generator, in % of one core (the box has 2)")
	rep.check(ratio50 >= 0.5, "ingest batches of 50: e2e %.0f%% of the direct insert rate (target ≥ 50%%; batches of 1: %.0f%%)", 100*ratio50, 100*ratio1)
	rep.check(time.Duration(p99half) <= 250*time.Millisecond, "p99 time to 202 at half peak: %s (target ≤ 250 ms)", ms(time.Duration(p99half)))
	qmax := max(q1, q2, q3)
	rep.check(qmax <= 2, "insert queries per second per table, highest run: %.2f (target ≤ 2)", qmax)
	return nil
}

func statusList(m map[int]int) string {
	var parts []string
	for s, n := range m {
		if s != 202 {
			parts = append(parts, fmt.Sprintf("%d×%d", n, s))
		}
	}
	slices.Sort(parts)
	if len(parts) == 0 {
		return "network"
	}
	return strings.Join(parts, " ")
}

// coldPart restarts the server on the data of the ingest part and times
// the first snapshot that carries all of it.
func coldPart(ctx context.Context, cfg *benchConfig, opts serveOpts, expected int64) error {
	var times []time.Duration
	var notes []string
	for r := 1; r <= cfg.runs; r++ {
		srv, err := startServer(ctx, opts)
		if err != nil {
			return err
		}
		healthy := time.Since(srv.started)
		deadline := time.Now().Add(3 * time.Minute)
		var got int64
		for {
			snap, err := srv.snapshot(ctx)
			if err == nil && (expected < 0 || snap.Totals.Completed == expected) {
				got = snap.Totals.Completed
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				srv.stop(30 * time.Second)
				return fmt.Errorf("cold start: no snapshot with the data within 3 min (last %v, want %d)", err, expected)
			}
			time.Sleep(5 * time.Millisecond)
		}
		took := time.Since(srv.started)
		times = append(times, took)
		notes = append(notes, fmt.Sprintf("%s (/healthz at %s)", ms(took), ms(healthy)))
		srv.stop(30 * time.Second)
		if r == 1 {
			fmt.Printf("(3) Cold start: exec of tiendo serve → first /api/v1/snapshot?scope=province with all the data (totals.completed = %d)\n", got)
		}
	}
	fmt.Printf("    runs: %s; median %s\n\n", strings.Join(notes, ", "), ms(medianDur(times)))
	return nil
}

func fanoutPart(ctx context.Context, cfg *benchConfig, rep *engineReport, opts serveOpts, ch *clickhouseServer, model *simulate.Model, tagID string, driven int) error {
	chPID := 0
	if ch != nil {
		chPID = ch.pid()
	}
	fmt.Printf("(2) Fan-out: N WebSocket clients (tiendo-bench process, one goroutine each) on /ws?scope=province while `tiendo simulate --speed %s --stations %d --from %s` posts;\n", cfg.simSpeed, driven, cfg.simFrom)
	fmt.Printf("    the server on the replay clock (as make demo), a fresh store per run; the tag stamped with the server's now\n")
	fmt.Printf("    a completion for %s every ~%v; latency = its 202 → arrival at each client of the first message whose state counts it; server restarted per N;\n", tagID, cfg.tagEvery)
	fmt.Printf("    clients authenticate with leader tokens (the overview's topic, as the reference client), %d connections each (the server caps live connections per account at 50 by default)\n", cfg.perToken)
	updates := cfg.updates
	if updates == "" {
		updates = "the server's default"
	}
	if cfg.decode {
		fmt.Printf("    updates: %s; each client decodes every message (the whole JSON into a tree) before it counts as arrived\n", updates)
	} else {
		fmt.Printf("    updates: %s; each client reads every message and scans its head for the seq (no decoding)\n", updates)
	}
	t := &table{head: []string{"clients", "served", "dial err", "connect", "p50 e2s", "p99 e2s", "max e2s", "samples", "undeliv", "RSS/conn", "srv CPU", "CH CPU", "bench CPU", "disconn", "upd/s", "upd size", "charts", "snap size", "bg ev/s", "srv fds"}}
	results := map[int][]*fanoutResult{}
	failures := map[int]string{}
	for k, n := range cfg.clients {
		runs := cfg.fanoutRuns
		if n > 10000 {
			runs = 1
		}
		for r := 0; r < runs; r++ {
			// Each run on its own store, on the replay clock as make demo
			// runs (a wall clock in 2026 over 2021's events would put five
			// years of empty days into the progress chart), so that the
			// screens get what a screen of the campaign gets.
			o := opts
			o.data = fmt.Sprintf("%s-fanout-%d-%d", opts.data, n, r)
			o.extra = append(slices.Clone(opts.extra), "--clock", "replay")
			if ch != nil {
				o.dsn = ch.dsn(fmt.Sprintf("fanout_%d_%d", n, r))
			}
			srv, err := startServer(ctx, o)
			if err != nil {
				return err
			}
			tok, err := srv.issueToken(ctx, tagID)
			if err != nil {
				srv.stop(30 * time.Second)
				return err
			}
			seed := 100 + 10*k + r
			bg := func(ctx context.Context) (string, func(), error) {
				return startSimulator(ctx, cfg, srv, driven, seed)
			}
			res, err := runFanout(ctx, srv, fanoutSpec{clients: n, perToken: cfg.perToken, window: cfg.window, tagEvery: cfg.tagEvery, tag: loadStation{id: tagID, token: tok}, chPID: chPID, background: bg,
				decode: cfg.decode, patches: cfg.updates == "patch"})
			exited := srv.exited()
			srv.stop(30 * time.Second)
			if err != nil {
				msg := err.Error()
				if exited {
					b, _ := os.ReadFile(filepath.Join(srv.data, "serve.log"))
					msg += "; the server had exited: " + lastLines(string(b), 1)
				}
				fmt.Printf("    %d clients: %s\n", n, msg)
				failures[n] = msg
				if ctx.Err() != nil {
					return err
				}
				continue
			}
			results[n] = append(results[n], res)
			upd := float64(res.updates) / max(res.window.Seconds(), 1)
			avg, chartShare := int64(0), 0.0
			if res.updates > 0 {
				avg = res.updateBytes / int64(res.updates)
				chartShare = float64(res.chartBytes) / float64(res.updateBytes)
			}
			t.add(strconv.Itoa(n), strconv.Itoa(res.connected), strconv.Itoa(res.dialErrors), ms(res.connectTime),
				ms(pct(res.lat, 0.5)), ms(pct(res.lat, 0.99)), ms(pct(res.lat, 1)), strconv.Itoa(len(res.lat)), strconv.Itoa(res.undelivered),
				fmt.Sprintf("%.1f KB", res.rssPerConnKB()), fmt.Sprintf("%.0f%%", 100*res.serverCPU), fmt.Sprintf("%.0f%%", 100*res.chCPU),
				fmt.Sprintf("%.0f%%", 100*res.benchCPU), strconv.Itoa(res.disconnects), fmt.Sprintf("%.2f", upd),
				fmt.Sprintf("%.1f KB", float64(avg)/1024), fmt.Sprintf("%.0f%%", 100*chartShare), fmt.Sprintf("%.1f KB", float64(res.snapshotLen)/1024), num(res.bgEvents), strconv.Itoa(res.serverFDs))
			if cfg.perTag {
				for i, tg := range res.perTag {
					fmt.Printf("    %d clients: tag %2d at %s seq %d: reference %s, clients p50 %s p99 %s max %s\n", n, i+1,
						tg.at.Format("15:04:05.000"), tg.seq, ms(tg.ref), ms(pct(tg.lat, 0.5)), ms(pct(tg.lat, 0.99)), ms(pct(tg.lat, 1)))
				}
			}
			if res.refused > 0 {
				fmt.Printf("    %d clients: %d refused with 503 at the server's live-connection cap (open-files limit less 1,000)\n", n, res.refused)
			}
			if res.firstDialErr != "" {
				fmt.Printf("    %d clients: first dial error: %s\n", n, res.firstDialErr)
			}
			if strings.HasPrefix(res.background, "!") {
				fmt.Printf("    %d clients: %s\n", n, res.background)
			}
		}
		if rs := results[n]; len(rs) > 1 {
			var p50, p99, rss []float64
			for _, r := range rs {
				p50 = append(p50, float64(pct(r.lat, 0.5)))
				p99 = append(p99, float64(pct(r.lat, 0.99)))
				rss = append(rss, r.rssPerConnKB())
			}
			t.add(fmt.Sprintf("  median %d", n), "", "", "", ms(time.Duration(median(p50))), ms(time.Duration(median(p99))), "", "", "",
				fmt.Sprintf("%.1f KB", median(rss)))
		}
	}
	fmt.Print(t.String())
	fmt.Println("    served = clients that got their first snapshot; undeliv = (tag, client) pairs never delivered before the end; RSS/conn = server VmRSS growth / served;")
	fmt.Println("    CPU = share of one core over the window (server, clickhouse-server, the client worker processes); disconn = connections ended by the server;")
	fmt.Println("    upd/s, upd size = updates per second and their mean size (charts = the share of it that is chart options); bg ev/s = events accepted per second; srv fds = open files of the server")
	fmt.Println()
	if rs := results[10000]; len(rs) > 0 {
		var p99, rss []float64
		served, disc, dialErr, undeliv := 10000*len(rs), 0, 0, 0
		for _, r := range rs {
			p99 = append(p99, float64(pct(r.lat, 0.99)))
			rss = append(rss, r.rssPerConnKB())
			served = min(served, r.connected)
			disc += r.disconnects
			dialErr += r.dialErrors
			undeliv += r.undelivered
		}
		all := served == 10000
		rep.check(all && time.Duration(median(p99)) <= 1500*time.Millisecond && undeliv == 0, "10,000 clients: p99 event-to-screen %s (median of %d runs), %d undelivered, %d served (target ≤ 1.5 s)", ms(time.Duration(median(p99))), len(rs), undeliv, served)
		rep.check(disc == 0 && dialErr == 0, "10,000 clients: %d disconnects, %d dial errors in %d runs (target 0)", disc, dialErr, len(rs))
		rep.check(all && median(rss) <= 30, "10,000 clients: %.1f KB server RSS per connection (median; target ≤ 30 KB)", median(rss))
		if cfg.decode {
			rep.check(all && time.Duration(median(p99)) < time.Second && undeliv == 0, "10,000 clients that decode every message (%s updates): p99 event-to-screen %s (issue 13: < 1 s)", cfg.updates, ms(time.Duration(median(p99))))
		}
	} else if f := failures[10000]; f != "" {
		rep.check(false, "10,000 clients: %s", f)
	}
	if rs := results[20000]; len(rs) > 0 {
		r := rs[0]
		ok := r.dialErrors == 0 && r.refused == 0 && r.disconnects == 0 && r.connected == 20000 && r.undelivered == 0
		rep.check(ok, "20,000 clients served without errors: %d served, %d refused with 503 (capacity), %d dial errors, %d disconnects, %d undelivered", r.connected, r.refused, r.dialErrors, r.disconnects, r.undelivered)
	} else if f := failures[20000]; f != "" {
		rep.check(false, "20,000 clients: %s", f)
	}
	return nil
}

// startSimulator runs `tiendo simulate` against srv as the background load.
func startSimulator(ctx context.Context, cfg *benchConfig, srv *server, stations, seed int) (string, func(), error) {
	logPath := filepath.Join(srv.data, fmt.Sprintf("simulate-%d.log", seed))
	p, err := startProc("tiendo simulate", logPath, nil, cfg.simulator, "simulate", "--server", srv.url, "--data", srv.data,
		"--speed", cfg.simSpeed, "--stations", strconv.Itoa(stations), "--seed", strconv.Itoa(seed), "--lose-ack", "0",
		"--from", cfg.simFrom, "--to", "2021-06-30")
	if err != nil {
		return "", nil, err
	}
	// A simulator that dies at once (e.g. a bug) leaves no background load: say so.
	time.Sleep(2 * time.Second)
	if p.exited() {
		b, _ := os.ReadFile(logPath)
		return "!background simulator exited: " + lastLines(string(b), 3), func() {}, nil
	}
	return "tiendo simulate", func() { p.stop(10 * time.Second) }, nil
}
