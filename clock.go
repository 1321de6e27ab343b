package tiendo

import (
	"sync/atomic"
	"time"
)

// Clock tells the live state what "now" is. On a live campaign it is the
// wall clock; in a replay of a past campaign it follows the data, so that
// "today", "last hour" and "late night" mean the simulated ones.
type Clock interface {
	Now() time.Time
}

// WallClock is the real time.
type WallClock struct{}

// Now returns time.Now().
func (WallClock) Now() time.Time { return time.Now() }

// ReplayClock is a clock that follows the newest event time it has seen.
// It never goes backwards.
type ReplayClock struct {
	unixNano atomic.Int64
}

// Now returns the newest instant observed, or the zero time before any.
func (c *ReplayClock) Now() time.Time {
	n := c.unixNano.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Observe moves the clock forward to t if t is newer.
func (c *ReplayClock) Observe(t time.Time) {
	n := t.UnixNano()
	for {
		cur := c.unixNano.Load()
		if n <= cur || c.unixNano.CompareAndSwap(cur, n) {
			return
		}
	}
}
