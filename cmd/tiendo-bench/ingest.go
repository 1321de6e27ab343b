package main

import (
	"bytes"
	"context"
	"encoding/gob"
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
	"time"

	"tiendo"
	"tiendo/simulate"
)

// eventGen yields one station's simulated events, day after day, with ids
// prefixed so that a run's rows can be found again in ClickHouse.
type eventGen struct {
	m      *simulate.Model
	idx    int
	day    tiendo.Day
	last   tiendo.Day
	buf    []simulate.Event
	pos    int
	prefix string
}

func newEventGen(m *simulate.Model, idx int, prefix string) *eventGen {
	c := m.Campaign()
	return &eventGen{m: m, idx: idx, day: c.Start, last: c.Deadline, prefix: prefix}
}

func (g *eventGen) next(n int, dst []simulate.Event) []simulate.Event {
	dst = dst[:0]
	for len(dst) < n {
		if g.pos >= len(g.buf) {
			g.buf, _ = g.m.Day(g.idx, g.day, g.buf[:0])
			g.pos = 0
			g.day++
			if g.day >= g.last {
				g.day = g.m.Campaign().Start
				g.prefix += "x" // a second lap gets new ids
			}
			continue
		}
		e := g.buf[g.pos]
		g.pos++
		e.ID = g.prefix + e.ID
		dst = append(dst, e)
	}
	return dst
}

type loadStation struct {
	idx   int
	id    string
	token string
}

// loadSpec is one ingest run: every station posts batches of batch events
// for dur, as fast as answered (rate 0) or paced at rate requests/s each.
type loadSpec struct {
	name   string
	batch  int
	dur    time.Duration
	rate   float64
	prefix string
	keep   bool // keep the acknowledged events (for the direct chDB insert)
	sink   bool // the target is the sink: nothing is stored, e2e = the last 202
	chPID  int  // clickhouse-server's pid (0: embedded), for its CPU
}

type loadResult struct {
	spec                   loadSpec
	requests, failed       int
	statuses               map[int]int
	firstErr               string
	accepted, duplicates   int64
	completions, heartbeat int64
	lat                    []time.Duration
	last202, e2e           time.Duration
	inserts                float64
	events                 []tiendo.Event
	verify                 string  // "" or a mismatch found when counting rows
	srvCPU, genCPU, chCPU  float64 // cores used over the e2e window
}

func (r *loadResult) rate202() float64 { return float64(r.accepted) / r.last202.Seconds() }
func (r *loadResult) rateE2E() float64 { return float64(r.accepted) / r.e2e.Seconds() }
func (r *loadResult) insertsPerSec() float64 {
	return r.inserts / r.e2e.Seconds()
}

func newLoadClient() *http.Client {
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: 30 * time.Second, DisableCompression: true}}
}

// runLoad runs spec against srv and waits until the spool is empty, i.e.
// every accepted event is in ClickHouse.
func runLoad(ctx context.Context, srv *server, m *simulate.Model, stations []loadStation, spec loadSpec) (*loadResult, error) {
	res := &loadResult{spec: spec, statuses: map[int]int{}}
	var insBefore float64
	var err error
	if !spec.sink {
		if insBefore, err = srv.metric(ctx, "tiendo_store_insert_queries_total"); err != nil {
			return nil, err
		}
	}
	client := newLoadClient()
	defer client.CloseIdleConnections()
	srvCPU0, genCPU0, chCPU0 := cpuSeconds(srv.pid()), selfCPU(), cpuSeconds(spec.chPID)
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(spec.dur)
	for k, st := range stations {
		wg.Add(1)
		go func(k int, st loadStation) {
			defer wg.Done()
			gen := newEventGen(m, st.idx, spec.prefix)
			var evs []simulate.Event
			var body []byte
			var lat []time.Duration
			var kept []tiendo.Event
			var accepted, dups, comp, hb int64
			var requests, failed int
			statuses := map[int]int{}
			var firstErr string
			var last time.Time
			var interval time.Duration
			var due time.Time
			if spec.rate > 0 {
				interval = time.Duration(float64(time.Second) / spec.rate)
				// Spread the stations' first requests over one interval.
				due = start.Add(time.Duration(int64(interval) * int64(k) / int64(len(stations))))
			}
			for ctx.Err() == nil {
				sendAt := time.Now()
				if spec.rate > 0 {
					if !due.Before(end) {
						break
					}
					if d := time.Until(due); d > 0 {
						time.Sleep(d)
					}
					sendAt = due // latency from the intended send time: queueing counts
					due = due.Add(interval)
				} else if !sendAt.Before(end) {
					break
				}
				evs = gen.next(spec.batch, evs)
				body = simulate.AppendBatch(body[:0], evs)
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.url+"/api/v1/events", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+st.token)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				requests++
				if err != nil {
					failed++
					if firstErr == "" {
						firstErr = err.Error()
					}
					time.Sleep(100 * time.Millisecond)
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				statuses[resp.StatusCode]++
				if resp.StatusCode != http.StatusAccepted {
					failed++
					if firstErr == "" {
						firstErr = fmt.Sprintf("status %d: %.200s", resp.StatusCode, b)
					}
					time.Sleep(100 * time.Millisecond)
					continue
				}
				now := time.Now()
				lat = append(lat, now.Sub(sendAt))
				last = now
				var ans struct{ Accepted, Duplicates int64 }
				_ = json.Unmarshal(b, &ans)
				accepted += ans.Accepted
				dups += ans.Duplicates
				for i := range evs {
					if evs[i].Type == tiendo.TypeCompletion {
						comp++
					} else {
						hb++
					}
				}
				if spec.keep {
					for i := range evs {
						kept = append(kept, evs[i].Event)
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			res.requests += requests
			res.failed += failed
			for s, n := range statuses {
				res.statuses[s] += n
			}
			if res.firstErr == "" {
				res.firstErr = firstErr
			}
			res.accepted += accepted
			res.duplicates += dups
			res.completions += comp
			res.heartbeat += hb
			res.lat = append(res.lat, lat...)
			res.events = append(res.events, kept...)
			if d := last.Sub(start); d > res.last202 {
				res.last202 = d
			}
		}(k, st)
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	res.e2e = res.last202
	if !spec.sink {
		emptyAt, err := srv.waitSpoolEmpty(ctx, 3*time.Minute)
		if err != nil {
			return nil, err
		}
		res.e2e = emptyAt.Sub(start)
	}
	res.srvCPU = (cpuSeconds(srv.pid()) - srvCPU0) / res.e2e.Seconds()
	res.genCPU = (selfCPU() - genCPU0) / res.e2e.Seconds()
	if spec.chPID > 0 {
		res.chCPU = (cpuSeconds(spec.chPID) - chCPU0) / res.e2e.Seconds()
	}
	if !spec.sink {
		insAfter, err := srv.metric(ctx, "tiendo_store_insert_queries_total")
		if err != nil {
			return nil, err
		}
		res.inserts = insAfter - insBefore
	}
	sort.Slice(res.lat, func(i, j int) bool { return res.lat[i] < res.lat[j] })
	if res.accepted == 0 {
		return res, fmt.Errorf("%s: no event accepted (%d requests, first error %s)", spec.name, res.requests, res.firstErr)
	}
	return res, nil
}

// directServer inserts the run's rows, exported from tiendo's tables in
// Native format, into a copy of the schema (database direct, with the same
// materialized views) with clickhouse-client, and returns rows and the
// query time clickhouse-client reports (its own start-up excluded).
func directServer(ctx context.Context, ch *clickhouseServer, work, prefix string) (rows int64, took time.Duration, err error) {
	for _, t := range []struct{ table, cols string }{
		{"completions", "id, station, district, ts, count, fingerprint_retries, kind, received"},
		{"heartbeats", "id, station, ts, queue, staff, lanes, status, has_pos, lat, lon, received"},
	} {
		file := filepath.Join(work, prefix+t.table+".native")
		f, err := os.Create(file)
		if err != nil {
			return 0, 0, err
		}
		err = ch.client(ctx, fmt.Sprintf("SELECT %s FROM tiendo.%s WHERE id LIKE '%s%%' FORMAT Native", t.cols, t.table, prefix), nil, f)
		f.Close()
		if err != nil {
			return 0, 0, err
		}
		n, err := ch.scalar(ctx, fmt.Sprintf("SELECT count() FROM tiendo.%s WHERE id LIKE '%s%%'", t.table, prefix))
		if err != nil {
			return 0, 0, err
		}
		var cnt int64
		fmt.Sscan(n, &cnt)
		if cnt == 0 {
			os.Remove(file)
			continue
		}
		in, err := os.Open(file)
		if err != nil {
			return 0, 0, err
		}
		q, _, err := ch.timedClient(ctx, fmt.Sprintf("INSERT INTO direct.%s (%s) FORMAT Native", t.table, t.cols), in)
		in.Close()
		os.Remove(file)
		if err != nil {
			return 0, 0, err
		}
		rows += cnt
		took += q
	}
	return rows, took, nil
}

// chdbDirect is the answer of the chDB helper's direct insert.
type chdbDirect struct {
	Rows    int64   `json:"rows"`
	Seconds float64 `json:"seconds"`
	Inserts int64   `json:"inserts"`
	Version string  `json:"version"`
	Error   string  `json:"error,omitempty"`
}

// directChDB writes the events to a file and has the chDB helper (its own
// process: one chDB per process) insert them through store/chdb into a
// fresh embedded ClickHouse with the same schema.
func directChDB(ctx context.Context, helper, work, name string, events []tiendo.Event) (chdbDirect, error) {
	var out chdbDirect
	file := filepath.Join(work, name+".gob")
	f, err := os.Create(file)
	if err != nil {
		return out, err
	}
	if err := gob.NewEncoder(f).Encode(events); err != nil {
		f.Close()
		return out, err
	}
	f.Close()
	defer os.Remove(file)
	dir := filepath.Join(work, name+"-chdb")
	defer os.RemoveAll(dir)
	b, err := runHelper(ctx, helper, "direct", "--dir", dir, "--events", file)
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return out, fmt.Errorf("chdb helper: %v: %s", err, b)
	}
	if out.Error != "" {
		return out, fmt.Errorf("chdb helper: %s", out.Error)
	}
	return out, nil
}

// runHelper runs the chDB helper binary and returns the last line of its stdout.
func runHelper(ctx context.Context, helper string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, helper, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %v: %s", filepath.Base(helper), args[0], err, lastLines(stderr.String(), 5))
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	return []byte(lines[len(lines)-1]), nil
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}
