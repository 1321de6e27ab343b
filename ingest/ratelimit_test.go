package ingest

import (
	"strconv"
	"testing"
	"time"
)

// rlClock is a settable clock for the limiter.
type rlClock struct{ t time.Time }

func (c *rlClock) now() time.Time          { return c.t }
func (c *rlClock) advance(d time.Duration) { c.t = c.t.Add(d) }
func rlLimiter(perSecond, burst float64) (*RateLimiter, *rlClock) {
	clk := &rlClock{t: time.Date(2021, time.March, 20, 21, 0, 0, 0, time.UTC)}
	l := NewRateLimiter(perSecond, burst)
	l.now = clk.now
	return l, clk
}

func TestRateLimiterSteps(t *testing.T) {
	// 2 requests a second on average, bursts of 3.
	l, clk := rlLimiter(2, 3)
	steps := []struct {
		advance  time.Duration
		key      string
		wantOK   bool
		wantWait time.Duration
	}{
		{0, "tok-a", true, 0},
		{0, "tok-a", true, 0},
		{0, "tok-a", true, 0},
		{0, "tok-a", false, 500 * time.Millisecond}, // burst spent: one token in 1/2 s
		{0, "tok-a", false, 500 * time.Millisecond}, // a refusal takes nothing
		{0, "tok-b", true, 0},                       // other keys have their own bucket
		{200 * time.Millisecond, "tok-a", false, 300 * time.Millisecond},
		{300 * time.Millisecond, "tok-a", true, 0}, // refilled exactly one token
		{0, "tok-a", false, 500 * time.Millisecond},
		{time.Second, "tok-a", true, 0}, // two tokens back
		{0, "tok-a", true, 0},
		{0, "tok-a", false, 500 * time.Millisecond},
		{time.Hour, "tok-a", true, 0}, // refill stops at the burst
		{0, "tok-a", true, 0},
		{0, "tok-a", true, 0},
		{0, "tok-a", false, 500 * time.Millisecond},
	}
	for i, s := range steps {
		clk.advance(s.advance)
		wait, ok := l.Allow(s.key)
		if ok != s.wantOK {
			t.Fatalf("step %d (%s after %v): ok = %v, want %v", i, s.key, s.advance, ok, s.wantOK)
		}
		if ok && wait != 0 {
			t.Errorf("step %d: allowed with wait %v, want 0", i, wait)
		}
		if !ok {
			if wait <= 0 {
				t.Errorf("step %d: refused with wait %v, want a positive wait", i, wait)
			}
			if d := wait - s.wantWait; d < -time.Microsecond || d > time.Microsecond {
				t.Errorf("step %d: wait = %v, want %v", i, wait, s.wantWait)
			}
		}
	}
}

// Waiting the wait a refusal gives is enough to be allowed.
func TestRateLimiterWaitIsEnough(t *testing.T) {
	for _, rate := range []float64{0.1, 1, 3, 7, 50} {
		l, clk := rlLimiter(rate, 1)
		if _, ok := l.Allow("k"); !ok {
			t.Fatalf("rate %v: first request refused", rate)
		}
		for i := 0; i < 20; i++ {
			wait, ok := l.Allow("k")
			if ok {
				t.Fatalf("rate %v, round %d: allowed with an empty bucket", rate, i)
			}
			if wait <= 0 || wait > time.Duration(float64(time.Second)/rate)+time.Microsecond {
				t.Fatalf("rate %v, round %d: wait %v, want in (0, %v]", rate, i, wait, time.Duration(float64(time.Second)/rate))
			}
			clk.advance(wait + time.Nanosecond)
			if _, ok := l.Allow("k"); !ok {
				t.Fatalf("rate %v, round %d: refused after waiting %v", rate, i, wait)
			}
		}
	}
}

func TestRateLimiterManyKeys(t *testing.T) {
	l, _ := rlLimiter(1, 2)
	for i := 0; i < 100; i++ {
		key := "tok-" + strconv.Itoa(i)
		for j := 0; j < 2; j++ {
			if _, ok := l.Allow(key); !ok {
				t.Fatalf("%s request %d refused", key, j)
			}
		}
		if _, ok := l.Allow(key); ok {
			t.Fatalf("%s: third request in a burst of 2 allowed", key)
		}
	}
}

func TestRateLimiterEvictIdle(t *testing.T) {
	l, clk := rlLimiter(1, 2)
	l.Allow("busy")
	l.Allow("busy")
	l.Allow("idle")
	clk.advance(1500 * time.Millisecond) // idle is full again, busy has 1.5 of 2
	l.Allow("fresh")                     // a new key that took one: 1 of 2
	l.evictIdle(clk.now())
	if _, ok := l.buckets["idle"]; ok {
		t.Error("a full bucket was kept")
	}
	for _, k := range []string{"busy", "fresh"} {
		if _, ok := l.buckets[k]; !ok {
			t.Errorf("bucket %s that is not full was evicted", k)
		}
	}
	// An evicted key starts again with a full burst.
	for j := 0; j < 2; j++ {
		if _, ok := l.Allow("idle"); !ok {
			t.Fatalf("idle request %d after eviction refused", j)
		}
	}
}

// The table of buckets does not grow without bound: past 100,000 keys the
// idle ones are dropped.
func TestRateLimiterBoundsBuckets(t *testing.T) {
	l, clk := rlLimiter(1000, 1)
	for i := 0; i <= 100_000; i++ {
		l.Allow(strconv.Itoa(i))
	}
	clk.advance(time.Second)
	l.Allow("new")
	if got := len(l.buckets); got != 1 {
		t.Errorf("%d buckets after eviction, want 1", got)
	}
}

func TestRateLimiterConcurrent(t *testing.T) {
	l := NewRateLimiter(1e-6, 50) // real clock; effectively no refill
	done := make(chan int)
	for g := 0; g < 8; g++ {
		go func() {
			n := 0
			for i := 0; i < 20; i++ {
				if _, ok := l.Allow("shared"); ok {
					n++
				}
			}
			done <- n
		}()
	}
	total := 0
	for g := 0; g < 8; g++ {
		total += <-done
	}
	if total != 50 {
		t.Errorf("%d of 160 concurrent requests allowed, want the burst of 50", total)
	}
}

// AllowN takes a batch's events all or none, and Refund gives back what a
// refused batch took, never past the burst.
func TestRateLimiterAllowNAndRefund(t *testing.T) {
	l, clk := rlLimiter(100, 250)
	if _, ok := l.AllowN("t", 200); !ok {
		t.Fatal("200 of a burst of 250 refused")
	}
	wait, ok := l.AllowN("t", 200)
	if ok || wait != 1500*time.Millisecond {
		t.Fatalf("200 more = %v, %v; want refused, 1.5 s", wait, ok)
	}
	if _, ok := l.AllowN("t", 50); !ok {
		t.Fatal("the 50 left refused: a refusal must take nothing")
	}
	l.Refund("t", 200)
	if _, ok := l.AllowN("t", 200); !ok {
		t.Fatal("refunded tokens not usable")
	}
	l.Refund("t", 10_000)
	if _, ok := l.AllowN("t", 251); ok {
		t.Fatal("a refund filled the bucket past its burst")
	}
	clk.advance(time.Hour)
	if _, ok := l.AllowN("t", 250); !ok {
		t.Fatal("full bucket refused its burst")
	}
}
