package ingest

import (
	"sync"
	"time"
)

// RateLimiter is a token bucket per key (per access token, not per IP:
// many stations share one carrier NAT address).
type RateLimiter struct {
	mu      sync.Mutex
	rate    float64 // tokens per second
	burst   float64
	buckets map[string]*bucket
	now     func() time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// NewRateLimiter allows perSecond requests per key on average, and bursts of burst.
func NewRateLimiter(perSecond, burst float64) *RateLimiter {
	return &RateLimiter{rate: perSecond, burst: burst, buckets: map[string]*bucket{}, now: time.Now}
}

// Allow takes one token for key. When none is left it returns false and how
// long until one will be.
func (l *RateLimiter) Allow(key string) (time.Duration, bool) { return l.AllowN(key, 1) }

// AllowN takes n tokens for key, all or none: a batch of events is let in
// whole or refused whole. When fewer than n are left it takes nothing and
// returns false and how long until n will be. n must not exceed the burst
// (Burst): such a request would wait forever.
func (l *RateLimiter) AllowN(key string, n float64) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key)
	if b.tokens >= n {
		b.tokens -= n
		return 0, true
	}
	return time.Duration((n - b.tokens) / l.rate * float64(time.Second)), false
}

// Refund gives back n tokens taken for work that was then not done (a
// batch the spool refused), up to the burst.
func (l *RateLimiter) Refund(key string, n float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key)
	b.tokens = min(l.burst, b.tokens+n)
}

// Burst is the most tokens a key can hold.
func (l *RateLimiter) Burst() float64 { return l.burst }

// refill returns key's bucket, made full if new, refilled to now.
func (l *RateLimiter) refill(key string) *bucket {
	now := l.now()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) > 100_000 {
			l.evictIdle(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	return b
}

// evictIdle drops buckets that have refilled completely: they hold no state.
func (l *RateLimiter) evictIdle(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}
