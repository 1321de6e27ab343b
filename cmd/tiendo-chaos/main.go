// Command tiendo-chaos checks, end to end against a real ClickHouse server,
// the promise of ingest: nothing acknowledged is lost, nothing is counted
// twice, and no single client can take the server down. 200 simulated
// stations post completions with retries (same ids) while the server is
// killed with SIGKILL at random 20 times, ClickHouse is stopped for two
// minutes, the server gets a SIGTERM under load, and hostile clients
// attack it (gzip bombs, idle sockets, 2 MB sign-ins, oversized error
// bodies, an event flood from one token, oversized bodies sent whole).
// After each phase it compares the ids the stations got 202 for with what
// ClickHouse holds, and the rollup totals with the raw totals; the hostile
// phase also bounds the honest stations' time to 202 and the server's RSS
// and descriptors.
//
//	make chaos   (or: tiendo-chaos --tiendo bin/tiendo --kills 20 --outage 2m)
//	tiendo-chaos --phases hostile   (one phase alone)
//	make chaos-cluster   (or: tiendo-chaos --cluster-script scripts/cluster.sh; cluster.go)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"tiendo/cmd/tiendo/langson2021"
)

// allPhases in the order they run.
var allPhases = []string{"kill", "outage", "sigterm", "hostile"}

func main() {
	bin := flag.String("tiendo", "bin/tiendo", "the tiendo binary")
	script := flag.String("clickhouse-script", "scripts/clickhouse-server.sh", "starts and stops the ClickHouse server")
	stations := flag.Int("stations", 200, "simulated stations posting at once")
	kills := flag.Int("kills", 20, "SIGKILLs of the server")
	outage := flag.Duration("outage", 2*time.Minute, "how long ClickHouse is stopped")
	seed := flag.Uint64("seed", uint64(time.Now().UnixNano()), "random seed (kill times)")
	phases := flag.String("phases", strings.Join(allPhases, ","), "phases to run, comma-separated: "+strings.Join(allPhases, ", "))
	hostileFor := flag.Duration("hostile-for", time.Minute, "how long the hostile clients attack")
	hostileAnon := flag.Int64("hostile-max-anon", 512<<20, "bytes of anonymous server RSS (heap, stacks) the hostile phase may reach")
	hostileRSS := flag.Int64("hostile-max-rss", 1536<<20, "bytes of server RSS in all (with state.db's mapped pages) the hostile phase may reach")
	eventTimes := flag.String("event-time", "now", "ts of the stations' events: now (live stations), or campaign (2021, one second apart: the ledger's late path, see campaignTimes)")
	keep := flag.Bool("keep", false, "keep the work directory (server log, state, ClickHouse data) and print its path")
	cluster := flag.String("cluster-script", "", "run the cluster's chaos instead (make chaos-cluster): scripts/cluster.sh starts the whole cluster, the stations post through its proxy while a node, the flush leader, a log server and a ClickHouse replica are killed")
	flag.Parse()
	if *cluster != "" {
		if err := runCluster(*cluster, *stations, *seed, *keep); err != nil {
			fmt.Fprintln(os.Stderr, "chaos-cluster:", err)
			os.Exit(1)
		}
		return
	}
	switch *eventTimes {
	case "now":
	case "campaign":
		campaignTimes = true
	default:
		fmt.Fprintf(os.Stderr, "chaos: --event-time %q: now or campaign\n", *eventTimes)
		os.Exit(2)
	}
	want := map[string]bool{}
	for _, p := range strings.Split(*phases, ",") {
		if p = strings.TrimSpace(p); !slices.Contains(allPhases, p) {
			fmt.Fprintf(os.Stderr, "chaos: unknown phase %q (phases: %s)\n", p, strings.Join(allPhases, ", "))
			os.Exit(2)
		}
		want[p] = true
	}
	e := &env{bin: *bin, script: *script, nStations: *stations, seed: *seed, keep: *keep}
	if err := e.run(want, *kills, *outage, hostileOpts{duration: *hostileFor, maxAnon: *hostileAnon, maxRSS: *hostileRSS}); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
}

// env is one chaos run: ClickHouse, the server and the stations.
type env struct {
	bin, script string
	nStations   int
	seed        uint64
	keep        bool
	ch          *clickhouse
	srv         *server
	fleet       *fleet
	extra       []*station // stations with tokens that no honest station uses (the attackers')
}

func (e *env) run(want map[string]bool, kills int, outage time.Duration, ho hostileOpts) error {
	work, err := os.MkdirTemp("", "tiendo-chaos-")
	if err != nil {
		return err
	}
	if e.keep {
		fmt.Printf("chaos: work directory %s (kept; server log serve.log)\n", work)
	} else {
		defer os.RemoveAll(work)
	}
	chPort, chHTTP, addrPort := freePort(), freePort(), freePort()
	e.ch = &clickhouse{script: e.script, dir: filepath.Join(work, "clickhouse"), port: chPort, http: chHTTP}
	if err := e.ch.start(); err != nil {
		return err
	}
	defer e.ch.stop()
	e.srv = &server{bin: e.bin, data: filepath.Join(work, "data"), addr: fmt.Sprintf("127.0.0.1:%d", addrPort),
		dsn: fmt.Sprintf("tcp://127.0.0.1:%d/tiendo", chPort)}
	if err := e.srv.start(); err != nil {
		return err
	}
	defer func() { e.srv.kill(syscall.SIGKILL) }()
	times := "wall clock"
	if campaignTimes {
		times = "the 2021 campaign"
	}
	fmt.Printf("chaos: seed %d, %d stations, events dated at %s, ClickHouse %s on :%d, tiendo on %s\n", e.seed, e.nStations, times, e.ch.version(), chPort, e.srv.addr)

	admin, err := os.ReadFile(filepath.Join(e.srv.data, "admin.token"))
	if err != nil {
		return err
	}
	all := langson2021.Stations()
	const nExtra = 4
	if e.nStations+nExtra > len(all) {
		return fmt.Errorf("--stations %d: the campaign has %d stations and the attackers need %d of their own", e.nStations, len(all), nExtra)
	}
	e.fleet = &fleet{url: "http://" + e.srv.addr, acked: map[string]int{}}
	for i := 0; i < e.nStations+nExtra; i++ {
		tok, err := issueToken(e.fleet.url, strings.TrimSpace(string(admin)), all[i].ID)
		if err != nil {
			return err
		}
		st := &station{id: all[i].ID, token: tok}
		if i < e.nStations {
			e.fleet.stations = append(e.fleet.stations, st)
		} else {
			e.extra = append(e.extra, st)
		}
	}
	rng := rand.New(rand.NewPCG(e.seed, e.seed^0x9e3779b97f4a7c15))
	ok := true
	phase := func(name string, fault func() error) {
		if !ok {
			return
		}
		ctx, stop := context.WithCancel(context.Background())
		done := e.fleet.drive(ctx, pacing{batch: 10})
		if err := fault(); err != nil {
			fmt.Printf("%s: fault failed: %v\n", name, err)
			ok = false
		}
		stop()
		<-done
		ok = e.settleAndVerify(name) && ok
	}

	if want["kill"] {
		phase(fmt.Sprintf("kill -9 x%d", kills), func() error {
			for i := 0; i < kills; i++ {
				time.Sleep(time.Duration(500+rng.IntN(2500)) * time.Millisecond)
				e.srv.kill(syscall.SIGKILL)
				if err := e.srv.start(); err != nil {
					return err
				}
			}
			time.Sleep(2 * time.Second)
			return nil
		})
	}
	if want["outage"] {
		phase(fmt.Sprintf("ClickHouse stopped %v", outage), func() error {
			time.Sleep(2 * time.Second)
			if err := e.ch.stop(); err != nil {
				return err
			}
			time.Sleep(outage)
			if err := e.ch.start(); err != nil {
				return err
			}
			time.Sleep(5 * time.Second)
			return nil
		})
	}
	if want["sigterm"] {
		phase("SIGTERM under load", func() error {
			time.Sleep(3 * time.Second)
			start := time.Now()
			e.srv.kill(syscall.SIGTERM)
			fmt.Printf("SIGTERM under load: server exited after %v\n", time.Since(start).Round(time.Millisecond))
			if took := time.Since(start); took > 30*time.Second {
				return fmt.Errorf("shutdown took %v, more than 30 s", took)
			}
			if err := e.srv.start(); err != nil {
				return err
			}
			time.Sleep(2 * time.Second)
			return nil
		})
	}
	if want["hostile"] && ok {
		ok = e.hostile(ho)
	}
	if !ok {
		return errors.New("FAILED: see above")
	}
	fmt.Println("chaos: all phases passed: lost = 0, double-counted = 0, rollups = raw")
	return nil
}

// settleAndVerify brings the fleet to a fully answered state after a
// phase and compares what was acknowledged with what ClickHouse holds.
func (e *env) settleAndVerify(name string) bool {
	if err := e.srv.ensureUp(); err != nil {
		fmt.Printf("%s: server did not come back: %v\n", name, err)
		return false
	}
	e.fleet.flushRetries()
	r, err := verify(e.fleet, e.ch)
	if err != nil {
		fmt.Printf("%s: verify: %v\n", name, err)
		return false
	}
	r.print(name)
	return r.good()
}
