package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"tiendo/cmd/tiendo/langson2021"
	"tiendo/simulate"
)

// The cluster rows of make bench (issue 14): the same ingest load, 200
// stations posting 20-event batches back to back, against one node (its
// spool, one clickhouse-server) and through haproxy into the cluster of
// scripts/cluster.sh (3 nodes, 3 log servers, 2 ClickHouse replicas);
// and, while the cluster takes that load, the time from a completion's
// 202 on one node to a live message that counts it on another.

type clusterJSON struct {
	Proxy      string `json:"proxy"`
	AdminToken string `json:"admin_token"`
	Nodes      []struct {
		URL string `json:"url"`
	} `json:"nodes"`
}

type ingestFigures struct {
	events   int64
	took     time.Duration
	lat      []time.Duration
	failed   int
	firstErr string
}

func (f ingestFigures) rate() float64 { return float64(f.events) / f.took.Seconds() }

// postLoad runs the stations against url for dur; each station's batches
// are the simulated campaign's events under a prefix of its own.
func postLoad(ctx context.Context, url string, m *simulate.Model, stations []loadStation, prefix string, dur time.Duration) ingestFigures {
	client := newLoadClient()
	defer client.CloseIdleConnections()
	var mu sync.Mutex
	var out ingestFigures
	var wg sync.WaitGroup
	start := time.Now()
	for _, st := range stations {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gen := newEventGen(m, st.idx, prefix)
			var evs []simulate.Event
			var body []byte
			for ctx.Err() == nil && time.Since(start) < dur {
				evs = gen.next(20, evs)
				body = simulate.AppendBatch(body[:0], evs)
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/api/v1/events", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+st.token)
				req.Header.Set("Content-Type", "application/json")
				sent := time.Now()
				resp, err := client.Do(req)
				var b []byte
				if err == nil {
					b, _ = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				mu.Lock()
				switch {
				case err != nil || resp.StatusCode != http.StatusAccepted:
					out.failed++
					if out.firstErr == "" {
						if err != nil {
							out.firstErr = err.Error()
						} else {
							out.firstErr = fmt.Sprintf("status %d: %.200s", resp.StatusCode, b)
						}
					}
				default:
					var ans struct{ Accepted int64 }
					_ = json.Unmarshal(b, &ans)
					out.events += ans.Accepted
					out.lat = append(out.lat, time.Since(sent))
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(100 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	out.took = time.Since(start)
	sort.Slice(out.lat, func(i, j int) bool { return out.lat[i] < out.lat[j] })
	return out
}

// issueStationTokens issues tokens for the campaign's first n stations
// through target (a node, or the cluster's proxy).
func issueStationTokens(ctx context.Context, target *server, n int) ([]loadStation, error) {
	all := langson2021.Stations()
	var out []loadStation
	for i := 0; i < n && i < len(all); i++ {
		tok, err := target.issueToken(ctx, all[i].ID)
		if err != nil {
			return nil, err
		}
		out = append(out, loadStation{idx: i, id: all[i].ID, token: tok})
	}
	return out, nil
}

func clusterPart(ctx context.Context, cfg *benchConfig) error {
	fmt.Println("== Cluster (issue 14): scripts/cluster.sh — 3 tiendo nodes behind haproxy, 3 NATS JetStream log servers (R3), 2 ClickHouse 18.16 replicas on ZooKeeper ==")
	campaign, all := langson2021.Campaign(), langson2021.Stations()
	model, err := simulate.NewModel(campaign, all, 42, simulate.DefaultParams())
	if err != nil {
		return err
	}
	n := min(cfg.stations, len(all)-1)

	// One node: the product as a province runs it, on a clickhouse-server.
	ch, err := startClickHouse(cfg.repo, filepath.Join(cfg.work, "cluster-single-ch"))
	if err != nil {
		return err
	}
	srv, err := startServer(ctx, serveOpts{bin: cfg.tiendo, data: filepath.Join(cfg.work, "cluster-single"), dsn: ch.dsn("tiendo"), extra: serveExtra})
	if err != nil {
		ch.stop()
		return err
	}
	stations, err := issueStationTokens(ctx, srv, n)
	if err != nil {
		srv.stop(30 * time.Second)
		ch.stop()
		return err
	}
	single := postLoad(ctx, srv.url, model, stations, "s-", cfg.dur)
	srv.stop(30 * time.Second)
	ch.stop()

	// The cluster, with the benchmark's serve flags (no rate limits).
	dir := filepath.Join(cfg.work, "cluster")
	script := filepath.Join(cfg.repo, "scripts", "cluster.sh")
	up := exec.CommandContext(ctx, script, "start", dir)
	up.Env = append(os.Environ(), "TIENDO_SERVE_FLAGS="+strings.Join(serveExtra, " "))
	if out, err := up.CombinedOutput(); err != nil {
		return fmt.Errorf("cluster start: %v: %s", err, lastLines(string(out), 5))
	}
	defer func() { _ = exec.Command(script, "stop", dir).Run() }()
	b, err := os.ReadFile(filepath.Join(dir, "cluster.json"))
	if err != nil {
		return err
	}
	var cl clusterJSON
	if err := json.Unmarshal(b, &cl); err != nil {
		return err
	}
	proxy := &server{url: cl.Proxy, admin: cl.AdminToken, client: &http.Client{Timeout: 30 * time.Second}}
	stations, err = issueStationTokens(ctx, proxy, n+1)
	if err != nil {
		return err
	}
	tag := stations[n] // posts its tags to node 0 alone
	stations = stations[:n]

	// While the load runs: tags posted to node 0, watched on node 1.
	wsURL := "ws" + strings.TrimPrefix(cl.Nodes[1].URL, "http") + "/ws?scope=province"
	ref, err := dialRef(ctx, wsURL, cl.AdminToken, tag.id, true)
	if err != nil {
		return fmt.Errorf("WebSocket on node 1: %w", err)
	}
	defer ref.conn.Close()
	node0 := &server{url: cl.Nodes[0].URL, client: &http.Client{Timeout: 30 * time.Second}}
	var e2n []time.Duration
	var tagErr atomic.Value
	tagsDone := make(chan struct{})
	go func() {
		defer close(tagsDone)
		time.Sleep(time.Second)
		for k := int64(1); time.Duration(k)*time.Second < cfg.dur-time.Second; k++ {
			at, err := postTag(ctx, node0, tag, time.Now())
			if err != nil {
				tagErr.Store(err)
				return
			}
			for ref.value() < k && time.Since(at) < 10*time.Second {
				time.Sleep(5 * time.Millisecond)
			}
			if ref.value() >= k {
				e2n = append(e2n, time.Since(at))
			}
			time.Sleep(time.Until(at.Add(time.Second)))
		}
	}()
	clustered := postLoad(ctx, cl.Proxy, model, stations, "c-", cfg.dur)
	<-tagsDone
	sort.Slice(e2n, func(i, j int) bool { return e2n[i] < e2n[j] })

	t := &table{head: []string{"target", "events/s to 202", "p50 to 202", "p99 to 202", "requests", "failed"}}
	row := func(name string, f ingestFigures) {
		t.add(name, num(f.rate()), ms(pct(f.lat, 0.5)), ms(pct(f.lat, 0.99)), fmt.Sprint(len(f.lat)+f.failed), fmt.Sprint(f.failed))
	}
	row("one node (spool, clickhouse-server)", single)
	row("cluster through haproxy (3 nodes)", clustered)
	fmt.Printf("    %d stations, 20-event batches back to back for %v, the simulated campaign's events\n", n, cfg.dur)
	fmt.Print(t.String())
	fmt.Printf("    cluster / one node: %.2f× the events/s, p99 to 202 %.2f×\n", clustered.rate()/single.rate(),
		float64(pct(clustered.lat, 0.99))/float64(max(pct(single.lat, 0.99), 1)))
	if single.firstErr != "" || clustered.firstErr != "" {
		fmt.Printf("    first errors: one node %q, cluster %q\n", single.firstErr, clustered.firstErr)
	}
	if err, _ := tagErr.Load().(error); err != nil {
		fmt.Printf("    tags: %v\n", err)
	}
	fmt.Printf("    event to screen on another node (202 on node 0 → node 1's live message counts it), under that load: %d samples, p50 %s, p99 %s, max %s\n\n",
		len(e2n), ms(pct(e2n, 0.5)), ms(pct(e2n, 0.99)), ms(pct(e2n, 1)))
	return nil
}
