package simulate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"tiendo"
)

// Config is what Run needs: the server, the campaign, the stations to drive,
// the simulated range and the pace.
type Config struct {
	Server     string // base URL of the running tiendo server
	AdminToken string // to issue one station token per station
	Campaign   *tiendo.Campaign
	// Stations is the whole registry (the demand is split over all of it);
	// Drive, if set, limits the run to these station ids.
	Stations []tiendo.Station
	Drive    []string

	From tiendo.Day // first working day simulated (zero: the campaign start; live: today)
	// StartAt, if set, is the instant of From at which a paced run (Speed)
	// starts its clock: what comes before it is sent at once, and then the
	// day runs at Speed from there (a measurement in working hours need
	// not wait through the night first).
	StartAt time.Time
	To      tiendo.Day // the run ends at the start of this day (zero: live runs go on until ctx ends)

	// Pace: Max sends as fast as the server acknowledges; Live follows the
	// wall clock; otherwise Speed simulated seconds pass per real second.
	Max   bool
	Live  bool
	Speed float64

	Seed   uint64
	Params Params // the model's settings (DefaultParams for the calibrated model)

	// LoseAckRate is the share of requests whose 202 the simulated network
	// loses: the station sends the same batch again and the server must
	// recognise every event as a duplicate.
	LoseAckRate float64

	MaxStep  time.Duration // Max: simulated time per round (default 6h)
	Tick     time.Duration // Speed and Live: how often the simulated clock moves (default 1s)
	BatchMax int           // events per request (default 2000)

	// Marks are instants at which the summary states the simulated
	// cumulative records, e.g. records_by_20_march.
	Marks []Mark

	Progress        io.Writer     // a progress line now and then (nil: none)
	ProgressEvery   time.Duration // default 1s
	ProgressInPlace bool          // rewrite the line with \r (a terminal)

	HTTPClient *http.Client // default: one tuned for many stations
}

// Mark names an instant whose cumulative records the summary reports.
type Mark struct {
	Key string    // JSON key in the summary, e.g. "records_by_20_march"
	At  time.Time // records with a time before At count
}

// Summary is what a run did. Records and events are counted once per event
// id, when a 202 covered them, even if the server called some duplicates.
type Summary struct {
	From               string    `json:"from"`
	To                 string    `json:"to"`    // "" for a live run without an end
	Pace               string    `json:"speed"` // "max", "live" or simulated seconds per second
	Seed               uint64    `json:"seed"`
	Stations           int       `json:"stations"`
	RecordsAcked       int64     `json:"records_acked"`
	EventsAcked        int64     `json:"events_acked"`
	HeartbeatsAcked    int64     `json:"heartbeats_acked"`
	CompletionsAcked   int64     `json:"completions_acked"`
	FingerprintRetries int64     `json:"fingerprint_retries_acked"`
	EventsSent         int64     `json:"events_sent"` // including every resend
	Requests           int64     `json:"requests"`
	Duplicates         int64     `json:"duplicates"`
	Retries            int64     `json:"retries"`
	LostAcks           int64     `json:"lost_acks"`
	OfflineDays        int64     `json:"offline_days"`
	SignalDrops        int64     `json:"signal_drops"` // station-days with a short signal drop (Params.DropRate)
	BacklogEvents      int64     `json:"backlog_events"`
	SimulatedUntil     time.Time `json:"simulated_until"`
	WallSeconds        float64   `json:"wall_seconds"`
	EventsPerSecond    float64   `json:"events_per_second"`
	Interrupted        bool      `json:"interrupted,omitempty"`
	// Marks are written as top-level keys: "records_by_20_march": 79123 or null.
	Marks []MarkResult `json:"-"`
}

// MarkResult is a mark's cumulative records, nil when the run did not cover it.
type MarkResult struct {
	Key     string
	At      time.Time
	Records *int64
}

// MarshalJSON writes the summary with its marks as top-level keys.
func (s Summary) MarshalJSON() ([]byte, error) {
	type plain Summary
	b, err := json.Marshal(plain(s))
	if err != nil {
		return nil, err
	}
	b = b[:len(b)-1]
	for _, m := range s.Marks {
		b = append(b, ',')
		b = appendString(b, m.Key)
		b = append(b, ':')
		if m.Records == nil {
			b = append(b, "null"...)
		} else {
			b = strconv.AppendInt(b, *m.Records, 10)
		}
	}
	return append(b, '}'), nil
}

// Mark returns the records of the mark with key, or nil.
func (s Summary) Mark(key string) *int64 {
	for _, m := range s.Marks {
		if m.Key == key {
			return m.Records
		}
	}
	return nil
}

// RejectedError is a 4xx answer other than 429: the simulator sent something
// the server will never take, which is a bug to report, not to retry.
type RejectedError struct {
	Station string
	Status  int
	Body    string
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("server rejected a batch of station %s with %d: %s", e.Station, e.Status, e.Body)
}

type runner struct {
	cfg   Config
	model *Model
	http  *http.Client
	start time.Time // DayStart(From)
	end   time.Time // DayStart(To); zero when open-ended
	toDay tiendo.Day

	cancel   context.CancelCauseFunc
	frontier atomic.Int64 // simulated now, unix ns

	eventsAcked, heartbeats, completions, records, fpRetries atomic.Int64
	eventsSent, requests, duplicates, retries, lostAcks      atomic.Int64
	offlineDays, signalDrops, backlog                        atomic.Int64
	marks                                                    []atomic.Int64
}

// Run drives the stations against the server until the range is done or
// ctx ends (then it stops after the requests in flight, and reports what was
// acknowledged). A rejected batch stops the run with a *RejectedError.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	began := time.Now()
	if cfg.Campaign == nil {
		return Summary{}, errors.New("simulate: no campaign")
	}
	c := cfg.Campaign
	if cfg.BatchMax <= 0 {
		cfg.BatchMax = 2000
	}
	if cfg.BatchMax > 10_000 {
		cfg.BatchMax = 10_000
	}
	if cfg.MaxStep <= 0 {
		cfg.MaxStep = 6 * time.Hour
	}
	if cfg.Tick <= 0 {
		cfg.Tick = time.Second
	}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = time.Second
	}
	if cfg.Live {
		cfg.Max = false
	}
	if !cfg.Max && !cfg.Live && cfg.Speed <= 0 {
		return Summary{}, errors.New("simulate: give a speed, max or live")
	}
	if cfg.LoseAckRate < 0 || cfg.LoseAckRate >= 1 {
		return Summary{}, fmt.Errorf("simulate: lost-answer rate %v must be in [0, 1)", cfg.LoseAckRate)
	}
	model, err := NewModel(c, cfg.Stations, cfg.Seed, cfg.Params)
	if err != nil {
		return Summary{}, err
	}
	now := time.Now()
	if cfg.From.IsZero() {
		cfg.From = c.Start
		if cfg.Live {
			cfg.From = c.WorkingDay(now)
		}
	}
	if cfg.From < c.Start {
		return Summary{}, fmt.Errorf("simulate: --from %s is before the campaign start %s (the server rejects such events)", cfg.From, c.Start)
	}
	r := &runner{cfg: cfg, model: model, start: c.DayStart(cfg.From), toDay: cfg.To}
	if !cfg.StartAt.IsZero() {
		if cfg.Max || cfg.Live {
			return Summary{}, errors.New("simulate: a start time within the day is for paced runs (--speed N)")
		}
		if cfg.StartAt.Before(r.start) || !cfg.StartAt.Before(c.DayStart(cfg.From+1)) {
			return Summary{}, fmt.Errorf("simulate: start %s is not within working day %s", cfg.StartAt.In(c.Location()).Format("2006-01-02 15:04"), cfg.From)
		}
	}
	if !cfg.To.IsZero() {
		if cfg.To <= cfg.From {
			return Summary{}, fmt.Errorf("simulate: --to %s must be after --from %s", cfg.To, cfg.From)
		}
		r.end = c.DayStart(cfg.To)
		if !cfg.Live && r.end.After(now) {
			return Summary{}, fmt.Errorf("simulate: --to %s is in the future; replay past days, or use --live", cfg.To)
		}
	} else if !cfg.Live {
		return Summary{}, errors.New("simulate: --to is required unless --live")
	}
	if cfg.Live && r.start.After(now) {
		return Summary{}, fmt.Errorf("simulate: --from %s is in the future", cfg.From)
	}
	r.marks = make([]atomic.Int64, len(cfg.Marks))
	r.http = cfg.HTTPClient
	if r.http == nil {
		r.http = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        512,
			MaxIdleConnsPerHost: 512,
			// All the stations post from this one address, which the server
			// lets hold 1,000 connections (--max-conns-per-addr): the
			// national campaign's 12,700 would be refused past that and
			// retry; they wait for a connection here instead.
			MaxConnsPerHost: 512,
			IdleConnTimeout: 90 * time.Second,
		}}
	}

	// The stations to drive, in registry order.
	var idx []int
	want := map[string]bool{}
	for _, id := range cfg.Drive {
		want[id] = true
	}
	for i, s := range cfg.Stations {
		if len(want) == 0 || want[s.ID] {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return Summary{}, errors.New("simulate: no station to drive")
	}

	sum := Summary{From: cfg.From.String(), Seed: cfg.Seed, Stations: len(idx)}
	if !cfg.To.IsZero() {
		sum.To = cfg.To.String()
	}
	switch {
	case cfg.Live:
		sum.Pace = "live"
	case cfg.Max:
		sum.Pace = "max"
	default:
		sum.Pace = strconv.FormatFloat(cfg.Speed, 'f', -1, 64)
	}

	tokens, err := r.issueTokens(ctx, idx)
	if err != nil {
		return sum, err
	}

	runCtx, cancel := context.WithCancelCause(ctx)
	r.cancel = cancel
	defer cancel(nil)
	r.frontier.Store(r.start.UnixNano())

	stations := make([]*stationRun, len(idx))
	acks := make(chan struct{}, len(idx))
	var wg sync.WaitGroup
	for k, i := range idx {
		s := &stationRun{r: r, i: i, token: tokens[k], next: cfg.From, in: make(chan step, 1), acks: acks,
			rng: rand.New(rand.NewPCG(splitmix(cfg.Seed^model.hash[i]^0x5eed), 7))}
		stations[k] = s
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.loop(runCtx); err != nil {
				r.fail(err)
			}
		}()
	}

	progressDone := make(chan struct{})
	var progressWG sync.WaitGroup
	if cfg.Progress != nil {
		progressWG.Add(1)
		go func() {
			defer progressWG.Done()
			r.progress(progressDone, began)
		}()
	}

	completed := r.coordinate(runCtx, stations, acks)
	for _, s := range stations {
		close(s.in)
	}
	wg.Wait()
	close(progressDone)
	progressWG.Wait()

	err = context.Cause(runCtx)
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		err = nil // interrupted by the caller: report what was acknowledged
		sum.Interrupted = true
	}
	if !completed && err == nil {
		sum.Interrupted = true
	}
	r.fill(&sum, began, completed)
	return sum, err
}

func (r *runner) fail(err error) {
	r.cancel(err)
}

type step struct {
	f     time.Time
	final bool // send everything pending, offline backlogs included, then stop
	ack   bool // report on acks when done (max pace)
}

// coordinate moves the simulated clock and tells the stations; it returns
// whether the whole range was delivered.
func (r *runner) coordinate(ctx context.Context, stations []*stationRun, acks chan struct{}) bool {
	cfg := r.cfg
	send := func(st step) {
		for _, s := range stations {
			select { // the newest step replaces one not yet taken
			case s.in <- st:
			default:
				select {
				case <-s.in:
				default:
				}
				s.in <- st
			}
		}
	}
	waitAll := func() bool {
		for range stations {
			select {
			case <-acks:
			case <-ctx.Done():
				return false
			}
		}
		return true
	}
	if cfg.Max {
		f := r.start
		for {
			f = f.Add(cfg.MaxStep)
			if f.After(r.end) {
				f = r.end
			}
			final := !f.Before(r.end)
			send(step{f: f, final: final, ack: true})
			if !waitAll() {
				return false
			}
			r.frontier.Store(f.UnixNano())
			if final {
				return true
			}
		}
	}
	began := time.Now()
	ticker := time.NewTicker(cfg.Tick)
	defer ticker.Stop()
	paced := r.start
	if !cfg.StartAt.IsZero() {
		paced = cfg.StartAt
	}
	for {
		var f time.Time
		if cfg.Live {
			f = time.Now()
		} else {
			el := time.Since(began).Seconds() * cfg.Speed
			f = paced.Add(time.Duration(min(el, 1e9) * float64(time.Second)))
		}
		final := !r.end.IsZero() && !f.Before(r.end)
		if final {
			f = r.end
		}
		r.frontier.Store(f.UnixNano())
		send(step{f: f, final: final, ack: final})
		if final {
			return waitAll()
		}
		select {
		case <-ticker.C:
		case <-ctx.Done():
			return false
		}
	}
}

// issueTokens asks the admin API for one station token per driven station.
func (r *runner) issueTokens(ctx context.Context, idx []int) ([]string, error) {
	tokens := make([]string, len(idx))
	errs := make([]error, len(idx))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for k, i := range idx {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			tokens[k], errs[k] = r.issueToken(ctx, r.cfg.Stations[i].ID)
		}()
	}
	wg.Wait()
	return tokens, errors.Join(errs...)
}

func (r *runner) issueToken(ctx context.Context, station string) (string, error) {
	body, _ := json.Marshal(map[string]string{"station": station})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(r.cfg.Server, "/")+"/api/v1/admin/tokens", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+r.cfg.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("issue token for %s: %w (is tiendo serve running?)", station, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("issue token for %s: server answered %s: %s", station, resp.Status, strings.TrimSpace(string(data)))
	}
	var out struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(data, &out); err != nil || out.Token == "" {
		return "", fmt.Errorf("issue token for %s: no token in the answer %q", station, data)
	}
	return out.Token, nil
}

// stationRun is one station's agent: it keeps what it has not delivered
// yet and sends it, in order, when its clock says so and it is online.
type stationRun struct {
	r       *runner
	i       int
	token   string
	next    tiendo.Day // next working day to generate
	pending []Event    // generated, not acknowledged; ordered by Deliver
	body    []byte
	rng     *rand.Rand // which answers the network loses
	in      chan step
	acks    chan struct{}
}

func (s *stationRun) loop(ctx context.Context) error {
	for st := range s.in {
		if ctx.Err() != nil {
			return nil
		}
		if err := s.advance(ctx, st); err != nil {
			return err
		}
		if st.ack {
			s.acks <- struct{}{}
		}
		if st.final {
			return nil
		}
	}
	return nil
}

// advance generates the working days that have begun by st.f and sends the
// events the station can deliver by then.
func (s *stationRun) advance(ctx context.Context, st step) error {
	r := s.r
	c := r.model.c
	added := false
	for (r.toDay.IsZero() || s.next < r.toDay) && !c.DayStart(s.next).After(st.f) {
		var ds DayStats
		// Generated straight into pending: a second buffer of a day's
		// events per station was half a gigabyte at the nation's 12,700.
		s.pending, ds = r.model.Day(s.i, s.next, s.pending)
		if ds.Offline {
			r.offlineDays.Add(1)
		}
		if ds.SignalDrop {
			r.signalDrops.Add(1)
		}
		s.next++
		added = true
	}
	if added {
		slices.SortStableFunc(s.pending, func(a, b Event) int { return a.Deliver.Compare(b.Deliver) })
	}
	n := len(s.pending)
	if !st.final {
		n, _ = slices.BinarySearchFunc(s.pending, st.f, func(e Event, f time.Time) int {
			if e.Deliver.After(f) {
				return 1
			}
			return -1
		})
	}
	for k := 0; k < n; k += r.cfg.BatchMax {
		batch := s.pending[k:min(n, k+r.cfg.BatchMax)]
		if err := s.post(ctx, batch); err != nil {
			s.pending = append(s.pending[:0], s.pending[k:]...)
			if errors.Is(err, errStopping) {
				return nil
			}
			return err
		}
	}
	s.pending = append(s.pending[:0], s.pending[n:]...)
	return nil
}

// errStopping says the run is ending and the batch was left unacknowledged.
var errStopping = errors.New("simulate: stopping")

type ingestAnswer struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}

// post delivers one batch: until a 202, resending the same events (the
// same ids) after a network error, 429 or 503, with backoff.
func (s *stationRun) post(ctx context.Context, batch []Event) error {
	r := s.r
	s.body = AppendBatch(s.body[:0], batch)
	lose := r.cfg.LoseAckRate > 0 && s.rng.Float64() < r.cfg.LoseAckRate
	for attempt := 0; ; attempt++ {
		if ctx.Err() != nil {
			return errStopping
		}
		if attempt > 0 {
			r.retries.Add(1)
		}
		r.requests.Add(1)
		r.eventsSent.Add(int64(len(batch)))
		status, ans, wait, body, err := s.send(ctx)
		switch {
		case err == nil && status == http.StatusAccepted:
			if lose && attempt == 0 && ctx.Err() == nil {
				r.lostAcks.Add(1) // the answer never reached the station: it sends again
				continue
			}
			r.duplicates.Add(int64(ans.Duplicates))
			s.account(batch)
			return nil
		case err == nil && status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable &&
			status != http.StatusBadGateway && status != http.StatusGatewayTimeout && !(status >= 500 && attempt < 5):
			return &RejectedError{Station: batch[0].Station, Status: status, Body: strings.TrimSpace(body)}
		}
		if ctx.Err() != nil {
			return errStopping // this batch stays unacknowledged
		}
		if wait <= 0 {
			wait = time.Duration(math.Min(float64(100*time.Millisecond)*math.Pow(2, float64(min(attempt, 6))), float64(5*time.Second)))
			wait += time.Duration(rand.Int64N(int64(wait)/2 + 1))
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return errStopping
		}
	}
}

// send makes one request. It is not cancelled with the run: a request in
// flight finishes, so that what the server took is also counted here.
func (s *stationRun) send(ctx context.Context) (status int, ans ingestAnswer, retryAfter time.Duration, body string, err error) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, strings.TrimSuffix(s.r.cfg.Server, "/")+"/api/v1/events", bytes.NewReader(s.body))
	if err != nil {
		return 0, ans, 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.r.http.Do(req)
	if err != nil {
		return 0, ans, 0, "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, ans, 0, "", err
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if n, perr := strconv.Atoi(ra); perr == nil && n >= 0 {
			retryAfter = time.Duration(min(n, 30)) * time.Second
		}
	}
	if resp.StatusCode == http.StatusAccepted {
		if err := json.Unmarshal(data, &ans); err != nil {
			return 0, ans, 0, "", fmt.Errorf("202 with a body that is not the ingest answer: %q", data)
		}
	}
	return resp.StatusCode, ans, retryAfter, string(data), nil
}

// account counts an acknowledged batch, once.
func (s *stationRun) account(batch []Event) {
	r := s.r
	var hb, comp, rec, fp, backlog int64
	marks := make([]int64, len(r.cfg.Marks))
	for k := range batch {
		e := &batch[k]
		if e.Deliver.After(e.TS) {
			backlog++
		}
		switch e.Type {
		case tiendo.TypeHeartbeat:
			hb++
		case tiendo.TypeCompletion:
			comp++
			rec += int64(e.Count)
			fp += int64(e.FingerprintRetries)
			for m, mk := range r.cfg.Marks {
				if e.TS.Before(mk.At) {
					marks[m] += int64(e.Count)
				}
			}
		}
	}
	r.eventsAcked.Add(int64(len(batch)))
	r.heartbeats.Add(hb)
	r.completions.Add(comp)
	r.records.Add(rec)
	r.fpRetries.Add(fp)
	r.backlog.Add(backlog)
	for m := range marks {
		r.marks[m].Add(marks[m])
	}
}

func (r *runner) progress(done chan struct{}, began time.Time) {
	cfg := r.cfg
	t := time.NewTicker(cfg.ProgressEvery)
	defer t.Stop()
	lastEv, lastT := int64(0), began
	loc := r.model.c.Location()
	line := func(final bool) {
		ev := r.eventsAcked.Load()
		now := time.Now()
		rate := float64(ev-lastEv) / max(now.Sub(lastT).Seconds(), 1e-9)
		if final {
			rate = float64(ev) / max(now.Sub(began).Seconds(), 1e-9)
		}
		lastEv, lastT = ev, now
		sim := time.Unix(0, r.frontier.Load()).In(loc).Format("2006-01-02 15:04")
		msg := fmt.Sprintf("simulated %s  events sent %d, acked %d  %.0f ev/s  records %d  retries %d  duplicates %d",
			sim, r.eventsSent.Load(), ev, rate, r.records.Load(), r.retries.Load(), r.duplicates.Load())
		switch {
		case cfg.ProgressInPlace && final:
			fmt.Fprintf(cfg.Progress, "\r%-100s\n", msg)
		case cfg.ProgressInPlace:
			fmt.Fprintf(cfg.Progress, "\r%-100s", msg)
		default:
			fmt.Fprintln(cfg.Progress, msg)
		}
	}
	for {
		select {
		case <-t.C:
			line(false)
		case <-done:
			line(true)
			return
		}
	}
}

func (r *runner) fill(sum *Summary, began time.Time, completed bool) {
	sum.RecordsAcked = r.records.Load()
	sum.EventsAcked = r.eventsAcked.Load()
	sum.HeartbeatsAcked = r.heartbeats.Load()
	sum.CompletionsAcked = r.completions.Load()
	sum.FingerprintRetries = r.fpRetries.Load()
	sum.EventsSent = r.eventsSent.Load()
	sum.Requests = r.requests.Load()
	sum.Duplicates = r.duplicates.Load()
	sum.Retries = r.retries.Load()
	sum.LostAcks = r.lostAcks.Load()
	sum.OfflineDays = r.offlineDays.Load()
	sum.SignalDrops = r.signalDrops.Load()
	sum.BacklogEvents = r.backlog.Load()
	reached := time.Unix(0, r.frontier.Load())
	if completed && !r.end.IsZero() {
		reached = r.end
	}
	sum.SimulatedUntil = reached.In(r.model.c.Location())
	sum.WallSeconds = math.Round(time.Since(began).Seconds()*100) / 100
	if sum.WallSeconds > 0 {
		sum.EventsPerSecond = math.Round(float64(sum.EventsAcked) / sum.WallSeconds)
	}
	for m, mk := range r.cfg.Marks {
		res := MarkResult{Key: mk.Key, At: mk.At}
		if mk.At.After(r.start) && !mk.At.After(reached) {
			v := r.marks[m].Load()
			res.Records = &v
		}
		sum.Marks = append(sum.Marks, res)
	}
}

// CalibrationMarks are the instants the source gives figures for: the end of
// the early window (20 March 2021 for Lạng Sơn: almost 80,000 records) and
// the deadline (1 July 2021: 621,000). Their keys name the day:
// "records_by_20_march", "records_by_1_july".
func CalibrationMarks(c *tiendo.Campaign, p Params) []Mark {
	if p.EarlyDays <= 0 {
		p.EarlyDays = DefaultParams().EarlyDays
	}
	key := func(d tiendo.Day) string {
		_, m, dd := d.Date()
		return fmt.Sprintf("records_by_%d_%s", dd, strings.ToLower(m.String()))
	}
	early := c.Start + tiendo.Day(p.EarlyDays-1)
	return []Mark{
		{Key: key(early), At: c.DayEnd(early)},
		{Key: key(c.Deadline), At: c.DeadlineTime()},
	}
}

// SpreadStations picks n stations for a short run, taking districts in turn
// (and, within a district, fixed stations, mobile and home-visit teams in
// registry order), so that a small run still covers the province.
func SpreadStations(stations []tiendo.Station, n int) []string {
	if n <= 0 || n >= len(stations) {
		ids := make([]string, len(stations))
		for k, s := range stations {
			ids[k] = s.ID
		}
		return ids
	}
	var order []string
	byDist := map[string][]tiendo.Station{}
	for _, s := range stations {
		if _, ok := byDist[s.District]; !ok {
			order = append(order, s.District)
		}
		byDist[s.District] = append(byDist[s.District], s)
	}
	// Within a district: alternate kinds so mobile and home-visit teams come early.
	for _, d := range order {
		list := byDist[d]
		var kinds [3][]tiendo.Station
		for _, s := range list {
			switch s.Kind {
			case tiendo.KindMobile:
				kinds[1] = append(kinds[1], s)
			case tiendo.KindHomeVisit:
				kinds[2] = append(kinds[2], s)
			default:
				kinds[0] = append(kinds[0], s)
			}
		}
		list = make([]tiendo.Station, 0, len(list))
		for k := 0; len(list) < len(byDist[d]); k++ {
			for _, ks := range kinds {
				if k < len(ks) {
					list = append(list, ks[k])
				}
			}
		}
		byDist[d] = list
	}
	var ids []string
	for k := 0; len(ids) < n; k++ {
		for _, d := range order {
			if k < len(byDist[d]) && len(ids) < n {
				ids = append(ids, byDist[d][k].ID)
			}
		}
	}
	return ids
}
