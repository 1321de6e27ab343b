package readmodel

import (
	"context"
	"sync"
	"time"

	"tiendo"
)

// EventLog is figures made of a list of events alone: a Model over it
// reads an empty store and finds every event in the overlay, so the
// figures come from the same pure rules that lay the spool over ClickHouse.
// tiendo-bench bandwidth replays the simulator through it without a
// ClickHouse, and the live patch tests build real snapshots with it.
type EventLog struct {
	mu     sync.Mutex
	events []tiendo.Event
	fresh  int // events added since the last read: what a spool would hold
}

// Add appends events (in any order).
func (l *EventLog) Add(events ...tiendo.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, events...)
	l.fresh += len(events)
}

// Len is how many events the log holds.
func (l *EventLog) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.events)
}

// Read is the Overlay's: every event. Its count of waiting events is those
// added since the previous read, as a server's spool flushed about once a
// round would show.
func (l *EventLog) Read(query func(pending []tiendo.Event)) Pending {
	l.mu.Lock()
	p := Pending{Events: l.events, Count: int64(l.fresh), Complete: true}
	l.mu.Unlock()
	query(p.Events)
	return p
}

// EndRound resets the count of waiting events (the spool was flushed).
func (l *EventLog) EndRound() {
	l.mu.Lock()
	l.fresh = 0
	l.mu.Unlock()
}

// Sources are a Model's sources over the log: the registry and the clock
// given, an empty store.
func (l *EventLog) Sources(reg *tiendo.Registry, now func() time.Time) Sources {
	return Sources{Store: emptyStore{}, Overlay: l, Registry: func() *tiendo.Registry { return reg }, Now: now}
}

// emptyStore is a ClickHouse that holds nothing.
type emptyStore struct{}

func (emptyStore) StationStats(context.Context, tiendo.StatsQuery) ([]tiendo.StationStats, error) {
	return nil, nil
}
func (emptyStore) HourlyCompletions(context.Context, tiendo.SeriesQuery) ([]tiendo.HourCount, error) {
	return nil, nil
}
func (emptyStore) ServiceSamples(context.Context, tiendo.ServiceQuery) ([]tiendo.ServiceSample, []tiendo.MinuteCount, error) {
	return nil, nil, nil
}
func (emptyStore) StationWindows(context.Context, tiendo.WindowQuery) ([]tiendo.StationWindows, error) {
	return nil, nil
}
func (emptyStore) LatestEventTime(context.Context) (time.Time, error) { return time.Time{}, nil }
