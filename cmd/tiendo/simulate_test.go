package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"tiendo/server"
)

// simSummary is the part of `tiendo simulate`'s last stdout line the tests read.
type simSummary struct {
	From             string `json:"from"`
	To               string `json:"to"`
	Speed            string `json:"speed"`
	Stations         int    `json:"stations"`
	RecordsAcked     int64  `json:"records_acked"`
	EventsAcked      int64  `json:"events_acked"`
	Duplicates       *int64 `json:"duplicates"`
	Retries          *int64 `json:"retries"`
	RecordsBy20March *int64 `json:"records_by_20_march"`
	RecordsBy1July   *int64 `json:"records_by_1_july"`
}

func runSimulateCLI(t *testing.T, args ...string) (simSummary, string) {
	t.Helper()
	var out, errb bytes.Buffer
	if err := run(context.Background(), append([]string{"simulate"}, args...), &out, &errb); err != nil {
		t.Fatalf("tiendo simulate %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	var sum simSummary
	if err := json.Unmarshal([]byte(last), &sum); err != nil {
		t.Fatalf("last line of stdout is not the JSON summary: %q", last)
	}
	if sum.Duplicates == nil || sum.Retries == nil {
		t.Fatalf("summary without duplicates or retries: %s", last)
	}
	return sum, errb.String()
}

// provinceCompleted reads the province snapshot's total, waiting while the
// server answers 503 (its store busy catching up, nothing cached yet).
func provinceCompleted(t *testing.T, url, token string) int64 {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		req, _ := http.NewRequest(http.MethodGet, url+"/api/v1/snapshot?scope=province", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("snapshot: %s %s", resp.Status, b)
		}
		var snap struct {
			Totals struct {
				Completed int64 `json:"completed"`
			} `json:"totals"`
		}
		if err := json.Unmarshal(b, &snap); err != nil {
			t.Fatal(err)
		}
		return snap.Totals.Completed
	}
}

// `tiendo simulate` against the server `tiendo serve` boots (in process, on
// the embedded engine): the snapshot's total is the summary's records_acked.
func TestSimulateCommandAgainstTheServer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cfg := server.Default()
	cfg.DataDir = t.TempDir()
	cfg.Clock = "replay"
	m := &Main{Config: cfg, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		m.Close()
	}()
	url := "http://" + ln.Addr().String()

	sum, progress := runSimulateCLI(t, "--server", url, "--admin-token", m.AdminToken,
		"--from", "2021-03-10", "--to", "2021-03-12", "--speed", "max", "--stations", "30")
	if got := provinceCompleted(t, url, m.AdminToken); got != sum.RecordsAcked || got == 0 {
		t.Fatalf("snapshot total %d, records_acked %d", got, sum.RecordsAcked)
	}
	if sum.From != "2021-03-10" || sum.To != "2021-03-12" || sum.Speed != "max" || sum.Stations != 30 ||
		sum.EventsAcked == 0 || sum.RecordsBy20March != nil || sum.RecordsBy1July != nil {
		t.Errorf("summary %+v", sum)
	}
	if !strings.Contains(progress, "simulated 2021-03-1") {
		t.Errorf("no progress line on stderr:\n%s", progress)
	}

	// Another seed, with the admin token read from --data, at a pace: the
	// run ends with 20 March, so records_by_20_march is stated.
	began := time.Now()
	sum2, _ := runSimulateCLI(t, "--server", url, "--data", cfg.DataDir,
		"--from", "2021-03-20", "--to", "2021-03-21", "--speed", "86400", "--seed", "2", "--stations", "5")
	if time.Since(began) < 800*time.Millisecond {
		t.Errorf("a simulated day at --speed 86400 took %v", time.Since(began))
	}
	if sum2.RecordsBy20March == nil || *sum2.RecordsBy20March != sum2.RecordsAcked {
		t.Errorf("records_by_20_march %v, records_acked %d", sum2.RecordsBy20March, sum2.RecordsAcked)
	}
	if got := provinceCompleted(t, url, m.AdminToken); got != sum.RecordsAcked+sum2.RecordsAcked {
		t.Fatalf("snapshot total %d after both runs, want %d + %d", got, sum.RecordsAcked, sum2.RecordsAcked)
	}

	// --from resume goes on from the working day of the newest figures
	// (20 March): the same seed's events again, each counted once.
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"simulate", "--server", url, "--data", cfg.DataDir, "--from", "resume", "--to", "2021-03-21",
		"--speed", "max", "--seed", "2", "--stations", "5"}, &out, &errb); err != nil {
		t.Fatalf("simulate --from resume: %v\n%s", err, errb.String())
	}
	if !strings.Contains(errb.String(), "resuming at 2021-03-20") {
		t.Errorf("--from resume did not resume at 20 March:\n%.500s", errb.String())
	}
	if got := provinceCompleted(t, url, m.AdminToken); got != sum.RecordsAcked+sum2.RecordsAcked {
		t.Fatalf("snapshot total %d after the resumed run, want %d (nothing new)", got, sum.RecordsAcked+sum2.RecordsAcked)
	}

	for _, args := range [][]string{
		{"--speed", "fast"},
		{"--live", "--speed", "10"},
		{"--from", "10/03/2021"},
		{"extra"},
		{"--campaign", "vietnam-2021"}, // the server serves langson-2021
	} {
		err := run(context.Background(), append([]string{"simulate", "--server", url, "--admin-token", m.AdminToken}, args...), io.Discard, io.Discard)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("simulate %v: err %v, want a usage error", args, err)
		}
	}
}
