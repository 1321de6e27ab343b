package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// honestIP is where every honest station's connections come from; the
// attackers use other loopback addresses (see boundClient).
const honestIP = "127.0.0.1"

// fleet is the simulated stations and what they were acknowledged.
type fleet struct {
	url      string
	stations []*station
	mu       sync.Mutex
	acked    map[string]int // station\x00id -> count of the acknowledged event
	sent     atomic.Int64
	retries  atomic.Int64
}

type station struct {
	id      string
	token   string
	seq     int
	pending []event   // a batch not yet acknowledged: resent as is
	first   time.Time // when pending was first sent
}

type event struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Station string `json:"station"`
	TS      string `json:"ts"`
	Count   int    `json:"count"`
}

// pacing is how the stations post during a phase. The fault phases post
// back to back (as much load as the server takes, to catch a crash in the
// middle of everything); the hostile phase posts as stations really do, a
// few events every few seconds, so that their time to 202 measures the
// server's answer under attack, not a queue of their own making.
type pacing struct {
	every time.Duration // 0: back to back; else one batch per station every about this long (±1/3)
	batch int           // events per batch
	stats *honestStats  // nil: not measured
}

// drive posts from every station until ctx ends; a station whose request
// fails keeps its batch and resends the same ids.
func (f *fleet) drive(ctx context.Context, p pacing) <-chan struct{} {
	done := make(chan struct{})
	var wg sync.WaitGroup
	client := boundClient(honestIP, len(f.stations), 10*time.Second)
	sleep := func(d time.Duration) {
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
	for _, st := range f.stations {
		wg.Add(1)
		go func(st *station) {
			defer wg.Done()
			if p.every > 0 {
				sleep(rand.N(p.every)) // spread the stations over the period
			}
			for ctx.Err() == nil {
				if !f.post(client, st, p.batch, p.stats) {
					f.retries.Add(1)
					sleep(200 * time.Millisecond)
				} else if p.every > 0 {
					sleep(p.every*2/3 + rand.N(p.every*2/3))
				}
			}
		}(st)
	}
	go func() {
		wg.Wait()
		client.CloseIdleConnections()
		close(done)
	}()
	return done
}

var base = time.Date(2021, 3, 20, 8, 0, 0, 0, time.FixedZone("ICT", 7*3600))

// campaignTimes dates the events of the stations' seq-th event in the
// shipped 2021 campaign, one second apart (--event-time campaign), instead
// of at the wall clock. Against a server on the wall clock such events
// are years old: past the ledger's retention (campaign + 30 days), so once
// its first pruning pass has run (a minute after start) every batch takes
// the late path, a look-up in ClickHouse, and is refused (503) while
// ClickHouse is down or a pass is running. Live stations post events of
// now, which is the default.
var campaignTimes bool

// eventTime is the ts of a station's seq-th event.
func eventTime(seq int) string {
	if campaignTimes {
		return base.Add(time.Duration(seq) * time.Second).Format(time.RFC3339)
	}
	return time.Now().In(base.Location()).Format(time.RFC3339)
}

// post sends the station's pending batch, making a new one if none waits.
func (f *fleet) post(client *http.Client, st *station, batch int, stats *honestStats) bool {
	if st.pending == nil {
		for i := 0; i < batch; i++ {
			st.seq++
			st.pending = append(st.pending, event{ID: fmt.Sprintf("chaos-%d", st.seq), Type: "completion", Station: st.id,
				TS: eventTime(st.seq), Count: 1 + st.seq%3})
		}
		st.first = time.Now()
	}
	body, _ := json.Marshal(st.pending)
	req, _ := http.NewRequest(http.MethodPost, f.url+"/api/v1/events", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+st.token)
	req.Header.Set("Content-Type", "application/json")
	f.sent.Add(1)
	resp, err := client.Do(req)
	if err != nil {
		stats.answer(errClass(err))
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	stats.answer(fmt.Sprint(resp.StatusCode))
	if resp.StatusCode != http.StatusAccepted {
		if resp.StatusCode/100 == 4 && resp.StatusCode != 429 {
			fmt.Fprintf(os.Stderr, "station %s: unexpected %d\n", st.id, resp.StatusCode)
		}
		return false
	}
	stats.acknowledged(time.Since(st.first))
	f.ack(st.id, st.pending)
	st.pending = nil
	return true
}

// ack records events as acknowledged (202): they must be in ClickHouse
// exactly once.
func (f *fleet) ack(station string, events []event) {
	f.mu.Lock()
	for _, e := range events {
		f.acked[station+"\x00"+e.ID] = e.Count
	}
	f.mu.Unlock()
}

// flushRetries resends every station's unacknowledged batch until it is
// acknowledged, so the comparison covers a quiet, fully answered state.
func (f *fleet) flushRetries() {
	client := boundClient(honestIP, 4, 10*time.Second)
	defer client.CloseIdleConnections()
	for _, st := range f.stations {
		for st.pending != nil {
			if !f.post(client, st, 0, nil) {
				time.Sleep(200 * time.Millisecond)
			}
		}
	}
}

// honestStats is what the honest stations saw: every answer's status,
// and each batch's time from its first send to its 202 (retries
// included), split into before and during the attack.
type honestStats struct {
	attacking atomic.Bool
	mu        sync.Mutex
	answers   map[string]int
	before    []time.Duration
	during    []time.Duration
}

func newHonestStats() *honestStats { return &honestStats{answers: map[string]int{}} }

func (h *honestStats) answer(status string) {
	if h == nil {
		return
	}
	h.mu.Lock()
	h.answers[status]++
	h.mu.Unlock()
}

func (h *honestStats) acknowledged(d time.Duration) {
	if h == nil {
		return
	}
	h.mu.Lock()
	if h.attacking.Load() {
		h.during = append(h.during, d)
	} else {
		h.before = append(h.before, d)
	}
	h.mu.Unlock()
}

type result struct {
	acked, stored, lost, doubled int
	ackedRecords, rawRecords     int64
	rollupRecords, hourRecords   int64
	sent, retries                int64
}

func (r result) good() bool {
	return r.lost == 0 && r.doubled == 0 && r.rawRecords == r.ackedRecords && r.rollupRecords == r.rawRecords && r.hourRecords == r.rawRecords
}

func (r result) print(name string) {
	verdict := "PASS"
	if !r.good() {
		verdict = "FAIL"
	}
	fmt.Printf("%-24s %s  acknowledged events %d, stored events %d, lost = %d, double-counted = %d; records: acknowledged %d, raw %d, rollup station_totals %d, completions_hour %d; requests %d, retried %d\n",
		name+":", verdict, r.acked, r.stored, r.lost, r.doubled, r.ackedRecords, r.rawRecords, r.rollupRecords, r.hourRecords, r.sent, r.retries)
}

// verify waits for the spool to drain, then compares.
func verify(f *fleet, ch *clickhouse) (result, error) {
	var r result
	f.mu.Lock()
	r.acked = len(f.acked)
	for _, n := range f.acked {
		r.ackedRecords += int64(n)
	}
	f.mu.Unlock()
	r.sent, r.retries = f.sent.Load(), f.retries.Load()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		raw, err := ch.query("SELECT count() FROM tiendo.completions")
		if err == nil && raw == fmt.Sprint(r.acked) {
			break
		}
		if time.Now().After(deadline) {
			break // compare anyway: the difference is the finding
		}
		time.Sleep(time.Second)
	}
	out, err := ch.query("SELECT station, id FROM tiendo.completions")
	if err != nil {
		return r, err
	}
	seen := map[string]int{}
	for _, line := range strings.Split(out, "\n") {
		if line != "" {
			seen[strings.Replace(line, "\t", "\x00", 1)]++
		}
	}
	r.stored = len(seen)
	for _, n := range seen {
		if n > 1 {
			r.doubled += n - 1
		}
	}
	f.mu.Lock()
	for k := range f.acked {
		if seen[k] == 0 {
			r.lost++
		}
	}
	f.mu.Unlock()
	num := func(q string) int64 {
		s, err := ch.query(q)
		if err != nil {
			return -1
		}
		var n int64
		fmt.Sscan(s, &n)
		return n
	}
	r.rawRecords = num("SELECT sum(count) FROM tiendo.completions")
	r.rollupRecords = num("SELECT sum(records) FROM tiendo.station_totals")
	r.hourRecords = num("SELECT sum(records) FROM tiendo.completions_hour")
	return r, nil
}
