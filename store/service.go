package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"tiendo"
)

// ServiceSamples answers from station_minute_latest (schema/004) and
// completions_minute, side by side like StationStats' parts. The read
// model asks every live round for each watched scope, over the service
// window and the stale allowance before it (about 105 minutes), so both
// reads are minute rollups, and the heartbeats' is keyed by hour first.
//
// A heartbeat sample is the newest heartbeat of its minute and counts when
// its own time is in [From, To]. At From that is exactly the newest of the
// minute's heartbeats in range; at To, a minute whose newest heartbeat is
// after To is left out, though an older one of it may be in range, as the
// rollup keeps only the newest. With To at the clock's now nothing is
// after it. Completions are by minute, the minutes holding From and To
// included whole, as LastHour counts its first minute.
func (db *DB) ServiceSamples(ctx context.Context, q tiendo.ServiceQuery) ([]tiendo.ServiceSample, []tiendo.MinuteCount, error) {
	if q.Stations != nil && len(q.Stations) == 0 || q.To.Before(q.From) {
		return nil, nil, nil
	}
	var station string
	if q.Stations != nil {
		station = "station IN " + InSet(q.Stations) + " AND "
	}
	from, to := q.From.Unix(), q.To.Unix()
	minutes := fmt.Sprintf("minute >= toDateTime(%d, 'UTC') AND minute <= toDateTime(%d, 'UTC')", q.From.UTC().Truncate(time.Minute).Unix(), to)
	// hour leads station_minute_latest's key: bounding it lets the index
	// skip every other hour's rows before it looks at stations.
	hours := fmt.Sprintf("hour >= toDateTime(%d, 'UTC') AND hour <= toDateTime(%d, 'UTC')", q.From.UTC().Truncate(time.Hour).Unix(), to)
	// Both branches yield (station, part, time, a, b, c, status).
	parts := []string{
		db.sql(`SELECT station, toInt64(0), toInt64(toUInt32(max(ts))) AS at, toInt64(argMax(queue, ts)),
			toInt64(argMax(staff, ts)), toInt64(argMax(lanes, ts)), argMax(status, ts)
			FROM {db}.station_minute_latest WHERE %s%s AND %s GROUP BY station, minute HAVING at >= %d AND at <= %d ORDER BY station, minute`,
			station, hours, minutes, from, to),
		db.sql(`SELECT station, toInt64(1), toInt64(toUInt32(minute)), toInt64(sum(records)), toInt64(0), toInt64(0), ''
			FROM {db}.completions_minute WHERE %s%s GROUP BY station, minute ORDER BY station, minute`, station, minutes),
	}
	rows, err := db.queryParts(ctx, parts)
	if err != nil {
		return nil, nil, fmt.Errorf("service samples: %w", err)
	}
	var samples []tiendo.ServiceSample
	var counts []tiendo.MinuteCount
	for _, r := range rows {
		id, t, a := r[0].(string), time.Unix(r[2].(int64), 0).UTC(), r[3].(int64)
		if r[1].(int64) == 0 {
			samples = append(samples, tiendo.ServiceSample{Station: id, At: t, Status: tiendo.StationStatus(r[6].(string)),
				Queue: int(a), Staff: int(r[4].(int64)), Lanes: int(r[5].(int64))})
		} else {
			counts = append(counts, tiendo.MinuteCount{Station: id, Minute: t, Records: a})
		}
	}
	// Each part comes ordered by ClickHouse, which sorts a few thousand
	// rows in well under a millisecond; sorting them here cost 2 ms of the
	// 15 a province's window took. Only an engine that interleaves a UNION
	// ALL's streams out of order would leave work for these.
	bySample := func(a, b tiendo.ServiceSample) int {
		return cmp.Or(strings.Compare(a.Station, b.Station), a.At.Compare(b.At))
	}
	if !slices.IsSortedFunc(samples, bySample) {
		slices.SortFunc(samples, bySample)
	}
	byMinute := func(a, b tiendo.MinuteCount) int {
		return cmp.Or(strings.Compare(a.Station, b.Station), a.Minute.Compare(b.Minute))
	}
	if !slices.IsSortedFunc(counts, byMinute) {
		slices.SortFunc(counts, byMinute)
	}
	return samples, counts, nil
}
