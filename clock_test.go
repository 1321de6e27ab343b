package tiendo_test

import (
	"sync"
	"testing"
	"time"

	"tiendo"
)

var _ tiendo.Clock = tiendo.WallClock{}
var _ tiendo.Clock = (*tiendo.ReplayClock)(nil)

func TestWallClock(t *testing.T) {
	before := time.Now()
	got := tiendo.WallClock{}.Now()
	after := time.Now()
	if got.Before(before) || got.After(after) {
		t.Errorf("WallClock.Now() = %v, want between %v and %v", got, before, after)
	}
}

func TestReplayClock(t *testing.T) {
	var c tiendo.ReplayClock
	if got := c.Now(); !got.IsZero() {
		t.Errorf("Now() before any event = %v, want the zero time", got)
	}
	t0 := time.Date(2021, time.March, 20, 21, 15, 3, 500, time.FixedZone("ICT", 7*3600))
	steps := []struct {
		observe time.Time
		want    time.Time
	}{
		{t0, t0},
		{t0.Add(time.Minute), t0.Add(time.Minute)},
		{t0, t0.Add(time.Minute)},                        // never backwards
		{t0.Add(time.Minute), t0.Add(time.Minute)},       // same instant
		{t0.Add(time.Minute).UTC(), t0.Add(time.Minute)}, // same instant in UTC
		{t0.Add(time.Hour + time.Nanosecond), t0.Add(time.Hour + time.Nanosecond)},
		{time.Unix(0, 0), t0.Add(time.Hour + time.Nanosecond)},
	}
	for i, s := range steps {
		c.Observe(s.observe)
		if got := c.Now(); !got.Equal(s.want) {
			t.Errorf("step %d: after Observe(%v) Now() = %v, want %v", i, s.observe, got, s.want)
		}
	}
}

func TestReplayClockConcurrent(t *testing.T) {
	var c tiendo.ReplayClock
	base := time.Date(2021, time.March, 20, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				c.Observe(base.Add(time.Duration(i*8+g) * time.Second))
				_ = c.Now()
			}
		}(g)
	}
	wg.Wait()
	if got, want := c.Now(), base.Add(7999*time.Second); !got.Equal(want) {
		t.Errorf("Now() = %v, want the newest observed %v", got, want)
	}
}
