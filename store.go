package tiendo

import (
	"context"
	"time"
)

// EventWriter is the writing side of the store.
type EventWriter interface {
	// WriteEvents inserts a batch of events, heartbeats and completions
	// together, in as few insert queries as the engine allows (one per
	// table). It returns nil once every row is committed. On error some
	// tables may hold their rows and others not; callers find out which with
	// StoredEventKeys before they retry, so that no event is counted twice.
	WriteEvents(ctx context.Context, events []Event) error

	// StoredEventKeys returns, of the given events, the keys (Event.Key) of
	// those already stored.
	StoredEventKeys(ctx context.Context, events []Event) (map[string]bool, error)
}

// StatsReader is the reading side of the store: typed questions answered
// from the rollups, never from raw rows.
type StatsReader interface {
	// StationStats returns per-station figures for the stations named in q
	// (all stations with data when q.Stations is nil).
	StationStats(ctx context.Context, q StatsQuery) ([]StationStats, error)
	// HourlyCompletions returns completions per hour in [From, To), summed
	// over the stations named in q (all when nil), or per station and hour
	// when q.ByStation.
	HourlyCompletions(ctx context.Context, q SeriesQuery) ([]HourCount, error)
	// ServiceSamples returns the heartbeats of the stations named in q (all
	// when nil) in [From, To] as samples, at most one a minute (the latest),
	// and their completions by minute, each sorted by station and time.
	ServiceSamples(ctx context.Context, q ServiceQuery) ([]ServiceSample, []MinuteCount, error)
	// StationWindows returns, per station named in q (all with records
	// in a window when nil), its records and retries in each of q's
	// windows: the figures as of a past instant, and parts of a day.
	StationWindows(ctx context.Context, q WindowQuery) ([]StationWindows, error)
	// LatestEventTime is the newest event time stored (zero when empty): a
	// replay's clock resumes from it after a restart.
	LatestEventTime(ctx context.Context) (time.Time, error)
}

// Store is a ClickHouse engine holding the campaign's events and rollups.
type Store interface {
	EventWriter
	StatsReader
	// Ping checks that the engine answers; /readyz uses it.
	Ping(ctx context.Context) error
	// Version is the ClickHouse version string.
	Version(ctx context.Context) (string, error)
	Close() error
}

// StationDistricts is implemented by stores that keep rollups per district
// (store.DB does). The server hands them the registry's stations at start
// and after every import, so that completions are filed under the
// registry's districts; a store never told files a station under its id
// without the last "-" part, which is its district in the registry's naming.
type StationDistricts interface {
	SetStations(stations []Station)
}

// StatsQuery asks for per-station figures at one instant.
type StatsQuery struct {
	Stations []string  // nil: every station with data
	DayStart time.Time // start of the current working day
	Now      time.Time // "now" of the clock; the last hour is [minute of Now-1h, Now]
	// RecentFrom starts the recent pace's window, which ends at DayStart
	// (Campaign.RecentWindow); equal to DayStart: no recent records.
	RecentFrom time.Time
}

// StationStats are the stored figures of one station.
type StationStats struct {
	Station        string
	Completed      int64 // records, campaign to date
	Retries        int64 // fingerprint retries, campaign to date
	CompletedToday int64 // records since StatsQuery.DayStart
	LastHour       int64 // records in the hour up to StatsQuery.Now
	// LastHourYesterday is the records of the same hour a day before
	// (YesterdayHour of StatsQuery.Now), what the slowdown alert compares
	// the last hour with.
	LastHourYesterday int64
	RecentRecords     int64 // records in [StatsQuery.RecentFrom, StatsQuery.DayStart)
	// Served is what the station served in the service window; the read
	// model fills it from ServiceSamples, the store leaves it zero.
	Served       Served
	HasHeartbeat bool
	LastSeen     time.Time // newest heartbeat
	Status       StationStatus
	Queue        int
	Staff        int
	Lanes        int
	Lat, Lon     float64
}

// SeriesQuery asks for a time series over a set of stations.
type SeriesQuery struct {
	Stations  []string // nil: all
	From, To  time.Time
	ByStation bool // one series per station instead of their sum
}

// HourCount is the number of records completed in one hour (UTC start), by
// one station (when asked ByStation) or by all the query's stations.
type HourCount struct {
	Station string `json:"station,omitempty"`
	Hour    time.Time
	Records int64
	Retries int64
}

// WindowQuery asks for per-station records in spans of time: the campaign
// to a past instant, a working day, its late night (the daily brief).
type WindowQuery struct {
	Stations []string // nil: every station with records in a window
	Windows  []Window
}

// Window is the span [From, To) of record times, counted by whole minutes
// as the rollups keep them: a record counts when the minute it falls in
// starts at or after From and before To (on whole minutes: its time is in
// the span). A zero From has no lower bound.
type Window struct{ From, To time.Time }

// StationWindows are one station's records and retries in each window of a
// WindowQuery, in the query's order.
type StationWindows struct {
	Station string
	Records []int64
	Retries []int64
}
