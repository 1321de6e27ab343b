package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// tally counts one attacker's outcomes (a status code, or a class of
// transport error) and the time each answer took.
type tally struct {
	name     string
	mu       sync.Mutex
	outcomes map[string]int
	lat      []time.Duration
	latOf    map[string][]time.Duration // lat by outcome
	maxBody  int                        // largest response body seen
}

func (t *tally) add(outcome string, took time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.outcomes[outcome]++
	t.lat = append(t.lat, took)
	t.latOf[outcome] = append(t.latOf[outcome], took)
}

// quantilesOf is the answer times of one outcome only.
func (t *tally) quantilesOf(outcome string) (p50, p99, mx time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return quantiles(t.latOf[outcome])
}

func (t *tally) body(n int) {
	t.mu.Lock()
	t.maxBody = max(t.maxBody, n)
	t.mu.Unlock()
}

// total is how many outcomes were counted.
func (t *tally) total() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, c := range t.outcomes {
		n += c
	}
	return n
}

func (t *tally) count(outcome string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.outcomes[outcome]
}

// only reports the outcomes outside allowed, with their counts ("" if none).
func (t *tally) only(allowed ...string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var bad []string
	for o, c := range t.outcomes {
		if !slices.Contains(allowed, o) {
			bad = append(bad, fmt.Sprintf("%s x%d", o, c))
		}
	}
	sort.Strings(bad)
	return strings.Join(bad, ", ")
}

func (t *tally) quantiles() (p50, p99, mx time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return quantiles(t.lat)
}

func (t *tally) String() string {
	t.mu.Lock()
	counts := countsString(t.outcomes)
	maxBody := t.maxBody
	t.mu.Unlock()
	p50, p99, mx := t.quantiles()
	s := fmt.Sprintf("%-34s %s; answer p50 %v p99 %v max %v", t.name+":", counts, ms(p50), ms(p99), ms(mx))
	if maxBody > 0 {
		s += fmt.Sprintf("; largest answer %s", bytesize(int64(maxBody)))
	}
	return s
}

// countsString is "a x1, b x2", sorted by outcome.
func countsString(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s x%d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// tallies keeps each attacker's tally.
type tallies struct {
	mu   sync.Mutex
	list []*tally
}

func (ts *tallies) get(name string) *tally {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, t := range ts.list {
		if t.name == name {
			return t
		}
	}
	t := &tally{name: name, outcomes: map[string]int{}, latOf: map[string][]time.Duration{}}
	ts.list = append(ts.list, t)
	return t
}

// sort orders the tallies by name, for a stable report.
func (ts *tallies) sort() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	slices.SortFunc(ts.list, func(a, b *tally) int { return strings.Compare(a.name, b.name) })
}

// quantiles of ds (sorted in place); zero for none.
func quantiles(ds []time.Duration) (p50, p99, mx time.Duration) {
	if len(ds) == 0 {
		return 0, 0, 0
	}
	slices.Sort(ds)
	at := func(q float64) time.Duration { return ds[min(len(ds)-1, int(q*float64(len(ds))))] }
	return at(0.50), at(0.99), ds[len(ds)-1]
}

// errClass names a transport error by what the client saw, so that "the
// connection was reset" is told from a timeout or a plain close.
func errClass(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "closed (EOF)"
	}
	s := err.Error()
	if strings.Contains(s, "connection reset") {
		return "reset"
	}
	if strings.Contains(s, "EOF") {
		return "closed (EOF)"
	}
	return "error: " + s
}

func ms(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	default:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
}

func bytesize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
