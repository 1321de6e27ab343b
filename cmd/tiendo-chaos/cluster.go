package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"tiendo/cmd/tiendo/langson2021"
)

// clusterInfo is scripts/cluster.sh's DIR/cluster.json.
type clusterInfo struct {
	Proxy      string `json:"proxy"`
	AdminToken string `json:"admin_token"`
	Nodes      []struct {
		URL string `json:"url"`
		PID int    `json:"pid"`
	} `json:"nodes"`
	NATS []struct {
		URL string `json:"url"`
		PID int    `json:"pid"`
	} `json:"nats"`
	ClickHouse []struct {
		TCP  string `json:"tcp"`
		HTTP string `json:"http"`
		PID  int    `json:"pid"`
	} `json:"clickhouse"`
}

// clusterRun is make chaos-cluster: the stations post through the proxy
// while one part after another is killed with SIGKILL and started again:
// a tiendo node, the flush leader, a log server, the ClickHouse replica the
// nodes use first. Then it compares what was acknowledged with each
// replica's rows and rollups, and with every node's snapshot.
type clusterRun struct {
	script, dir string
	info        clusterInfo
	fleet       *fleet
	rng         *rand.Rand
}

func runCluster(script string, nStations int, seed uint64, keep bool) error {
	work, err := os.MkdirTemp("", "tiendo-chaos-cluster-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Printf("chaos-cluster: work directory %s (kept; each part's log in its directory)\n", work)
	} else {
		defer os.RemoveAll(work)
	}
	c := &clusterRun{script: script, dir: work, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	began := time.Now()
	if err := c.sh("start"); err != nil {
		return err
	}
	defer func() { _ = c.sh("stop") }()
	if err := c.load(); err != nil {
		return err
	}
	fmt.Printf("chaos-cluster: seed %d, %d stations through %s; cluster up in %v (3 nodes, 3 log servers, 2 ClickHouse replicas, ZooKeeper, haproxy)\n",
		seed, nStations, c.info.Proxy, time.Since(began).Round(time.Second))

	// Station tokens are issued through the proxy, on whichever node it
	// picks: every node must take them (the shared state).
	all := langson2021.Stations()
	if nStations > len(all) {
		return fmt.Errorf("--stations %d: the campaign has %d", nStations, len(all))
	}
	c.fleet = &fleet{url: c.info.Proxy, acked: map[string]int{}}
	for i := range nStations {
		tok, err := issueToken(c.info.Proxy, c.info.AdminToken, all[i].ID)
		if err != nil {
			return err
		}
		c.fleet.stations = append(c.fleet.stations, &station{id: all[i].ID, token: tok})
	}

	ctx, stop := context.WithCancel(context.Background())
	done := c.fleet.drive(ctx, pacing{batch: 10})
	faults := []struct {
		name string
		do   func() error
	}{
		{"kill -9 a tiendo node (not the flush leader)", func() error { return c.killNode(false) }},
		{"kill -9 the flush leader while it inserts", func() error { return c.killNode(true) }},
		{"kill -9 a NATS log server", func() error { return c.killPart("nats", c.rng.IntN(len(c.info.NATS))) }},
		{"kill -9 the ClickHouse replica the nodes use first", func() error { return c.killPart("clickhouse", 0) }},
	}
	var failed error
	for _, f := range faults {
		time.Sleep(time.Duration(3000+c.rng.IntN(3000)) * time.Millisecond)
		t0 := time.Now()
		if err := f.do(); err != nil {
			failed = fmt.Errorf("%s: %w", f.name, err)
			break
		}
		fmt.Printf("  %s: done, restarted, in %v\n", f.name, time.Since(t0).Round(time.Millisecond))
	}
	time.Sleep(3 * time.Second)
	stop()
	<-done
	if failed != nil {
		return failed
	}
	return c.verify()
}

// sh runs scripts/cluster.sh with DIR and args, its output to ours.
func (c *clusterRun) sh(args ...string) error {
	cmd := exec.Command(c.script, append([]string{args[0], c.dir}, args[1:]...)...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", c.script, strings.Join(args, " "), err)
	}
	return nil
}

func (c *clusterRun) load() error {
	b, err := os.ReadFile(filepath.Join(c.dir, "cluster.json"))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, &c.info)
}

// killPart kills part INDEX with SIGKILL, waits, and restarts it.
func (c *clusterRun) killPart(part string, i int) error {
	var pid int
	switch part {
	case "node":
		pid = c.info.Nodes[i].PID
	case "nats":
		pid = c.info.NATS[i].PID
	case "clickhouse":
		pid = c.info.ClickHouse[i].PID
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill %s %d (pid %d): %w", part, i, pid, err)
	}
	for syscall.Kill(pid, 0) == nil {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Duration(2000+c.rng.IntN(3000)) * time.Millisecond)
	if err := c.sh("restart", part, fmt.Sprint(i)); err != nil {
		return err
	}
	return c.load()
}

// killNode kills the flush leader or another node: the leader is killed as
// soon as it is seen to have inserted since the last look, so that the
// kill falls in its insert cycle (it inserts about once a second).
func (c *clusterRun) killNode(leader bool) error {
	var who int
	deadline := time.Now().Add(30 * time.Second)
	for {
		lead := -1
		for i, n := range c.info.Nodes {
			if c.metric(n.URL, "tiendo_flush_leader") == 1 {
				lead = i
			}
		}
		if lead >= 0 {
			who = lead
			if !leader {
				who = (lead + 1 + c.rng.IntN(len(c.info.Nodes)-1)) % len(c.info.Nodes)
			}
			break
		}
		if time.Now().After(deadline) {
			return errors.New("no node holds the flush lease")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if leader {
		url := c.info.Nodes[who].URL
		before := c.metric(url, "tiendo_flush_events_count")
		for t := time.Now(); time.Since(t) < 10*time.Second && c.metric(url, "tiendo_flush_events_count") == before; {
			time.Sleep(20 * time.Millisecond)
		}
	}
	return c.killPart("node", who)
}

// metric reads one unlabelled series from a node's /metrics (-1: none).
func (c *clusterRun) metric(url, name string) float64 {
	req, _ := http.NewRequest(http.MethodGet, url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+c.info.AdminToken)
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == name {
			var v float64
			fmt.Sscan(f[1], &v)
			return v
		}
	}
	return -1
}

// completed is a node's snapshot of the province: records counted.
func (c *clusterRun) completed(url string) int64 {
	req, _ := http.NewRequest(http.MethodGet, url+"/api/v1/snapshot?scope=province", nil)
	req.Header.Set("Authorization", "Bearer "+c.info.AdminToken)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var snap struct {
		Totals struct {
			Completed int64 `json:"completed"`
		} `json:"totals"`
	}
	if json.NewDecoder(resp.Body).Decode(&snap) != nil {
		return -1
	}
	return snap.Totals.Completed
}

func (c *clusterRun) verify() error {
	c.fleet.flushRetries()
	ok := true
	var acked int64
	for i, r := range c.info.ClickHouse {
		port := r.TCP[strings.LastIndex(r.TCP, ":")+1:]
		var p int
		fmt.Sscan(port, &p)
		ch := &clickhouse{port: p}
		res, err := verify(c.fleet, ch)
		if err != nil {
			return fmt.Errorf("replica %d: %w", i, err)
		}
		res.print(fmt.Sprintf("replica r%d", i+1))
		ok = ok && res.good()
		acked = res.ackedRecords
	}
	deadline := time.Now().Add(30 * time.Second)
	for i, n := range c.info.Nodes {
		got := c.completed(n.URL)
		for got != acked && time.Now().Before(deadline) {
			time.Sleep(500 * time.Millisecond)
			got = c.completed(n.URL)
		}
		verdict := "PASS"
		if got != acked {
			verdict, ok = "FAIL", false
		}
		fmt.Printf("node %d snapshot:            %s  records %d, acknowledged %d\n", i, verdict, got, acked)
	}
	if !ok {
		return errors.New("FAILED: see above")
	}
	fmt.Println("chaos-cluster: passed: acknowledged = stored on both replicas = every node's snapshot, rollups = raw, nothing twice")
	return nil
}
