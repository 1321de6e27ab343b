package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"tiendo/cmd/tiendo/langson2021"
)

// BenchmarkIngest drives the real binary on each engine with 200 concurrent
// stations posting small batches, and reports events/s accepted end to end
// (202 means committed to ClickHouse), request latency, and how many insert
// queries the group commit needed. Run: make bench-ingest.
func BenchmarkIngest(b *testing.B) {
	for _, eng := range []string{"chdb", "clickhouse-server"} {
		for _, batch := range []int{1, 10} {
			b.Run(fmt.Sprintf("engine=%s/batch=%d", eng, batch), func(b *testing.B) {
				dsn := ""
				if eng == "clickhouse-server" {
					dsn = startBenchClickHouse(b)
				}
				p := startServer(b, b.TempDir(), dsn, "--rate", "1000", "--burst", "1000", "--events-rate", "-1")
				benchIngest(b, p, 200, batch, 40)
			})
		}
	}
}

func benchIngest(b *testing.B, p *serverProc, stations, batch, requestsPerStation int) {
	admin, err := readAdminToken(p.data)
	if err != nil {
		b.Fatal(err)
	}
	ids := langson2021.Stations()[:stations]
	tokens := make([]string, stations)
	for i, st := range ids {
		tokens[i] = issueToken(b, p, admin, st.ID)
	}
	insertsBefore := metric(b, p, "tiendo_store_insert_queries_total")
	var mu sync.Mutex
	var latencies []time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	for i := range ids {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			base := time.Date(2021, 3, 20, 8, 0, 0, 0, time.FixedZone("ICT", 7*3600))
			for r := 0; r < requestsPerStation; r++ {
				var sb strings.Builder
				for e := 0; e < batch; e++ {
					n := r*batch + e
					fmt.Fprintf(&sb, `{"id":"b-%d","type":"completion","station":"%s","ts":"%s","count":1}`+"\n",
						n, ids[i].ID, base.Add(time.Duration(n)*time.Second).Format(time.RFC3339))
				}
				t0 := time.Now()
				req, _ := http.NewRequest(http.MethodPost, p.url()+"/api/v1/events", strings.NewReader(sb.String()))
				req.Header.Set("Authorization", "Bearer "+tokens[i])
				req.Header.Set("Content-Type", "application/x-ndjson")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != 202 {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
				mu.Lock()
				latencies = append(latencies, time.Since(t0))
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	took := time.Since(start)
	events := float64(stations * batch * requestsPerStation)
	inserts := metric(b, p, "tiendo_store_insert_queries_total") - insertsBefore
	slices.Sort(latencies)
	pct := func(q float64) float64 { return float64(latencies[int(q*float64(len(latencies)-1))].Milliseconds()) }
	b.ReportMetric(events/took.Seconds(), "events/s")
	b.ReportMetric(inserts, "insert-queries")
	b.ReportMetric(inserts/took.Seconds(), "inserts/s")
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	if got := p.completed("province"); got != events {
		b.Fatalf("snapshot says %v records, posted %v", got, events)
	}
}

func startBenchClickHouse(b *testing.B) string {
	ch, err := startClickHouseForBench(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ch.Stop() })
	return ch.DSN + "tiendo"
}

func issueToken(tb testing.TB, p *serverProc, admin, station string) string {
	req, _ := http.NewRequest(http.MethodPost, p.url()+"/api/v1/admin/tokens", strings.NewReader(`{"station":"`+station+`"}`))
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		tb.Fatalf("issue token for %s: %d %v", station, resp.StatusCode, err)
	}
	return out.Token
}

// metric reads one unlabelled counter from /metrics.
func metric(tb testing.TB, p *serverProc, name string) float64 {
	admin, err := readAdminToken(p.data)
	if err != nil {
		tb.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, p.url()+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == name {
			v, _ := strconv.ParseFloat(f[1], 64)
			return v
		}
	}
	tb.Fatalf("metric %s not found", name)
	return 0
}
