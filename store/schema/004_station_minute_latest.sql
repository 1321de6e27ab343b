-- The newest heartbeat of each station in each minute: the samples the
-- service figures (wait, clears-at, idle staff) integrate over the last
-- hour and a half, read every live round for every watched scope.
-- station_latest keeps only the newest heartbeat ever and heartbeats_minute
-- only averages, so neither can say what a station reported at 13:05; raw
-- heartbeats could, but dashboards never scan raw rows.
--
-- Ordered by the hour first: the read is a short window over many stations,
-- and a province's stations sort together (their ids share its prefix), so
-- within an hour their rows are a few neighbouring granules. Ordered by
-- station first, each station's window lay in a granule of its own, among
-- a month of its minutes, and a province read one granule per station.
-- hour is stored, not computed in the key, so that the reader can bound it
-- with a plain comparison on both engines.
--
-- Each column's argMax is taken over the same ts, so with two heartbeats in
-- the same second every column still comes from one of them: the states of
-- a row are built and merged in the same order.
CREATE TABLE IF NOT EXISTS {db}.station_minute_latest (
    hour DateTime('UTC'),
    station String,
    minute DateTime('UTC'),
    last_ts AggregateFunction(max, DateTime('UTC')),
    status AggregateFunction(argMax, String, DateTime('UTC')),
    queue AggregateFunction(argMax, UInt32, DateTime('UTC')),
    staff AggregateFunction(argMax, UInt16, DateTime('UTC')),
    lanes AggregateFunction(argMax, UInt16, DateTime('UTC'))
) ENGINE = AggregatingMergeTree PARTITION BY toYYYYMM(minute) ORDER BY (hour, station, minute);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.station_minute_latest_mv TO {db}.station_minute_latest AS
SELECT toStartOfHour(ts) AS hour, station, toStartOfMinute(ts) AS minute,
       maxState(ts) AS last_ts,
       argMaxState(status, ts) AS status,
       argMaxState(queue, ts) AS queue,
       argMaxState(staff, ts) AS staff,
       argMaxState(lanes, ts) AS lanes
FROM {db}.heartbeats GROUP BY hour, station, minute;

-- Backfill from the heartbeats already stored. As in 003, Open migrates
-- before anything writes and a migration cut short runs again from the top,
-- so the rollup is emptied first and rerunning never holds a heartbeat
-- twice. Unlike 003's, this rollup has about one row per heartbeat: a
-- GROUP BY over all of them would hold every key in memory at once (a
-- national year is half a billion, far past max_memory_usage), so each
-- heartbeat becomes a one-row state of its own (arrayReduce, streamed) and
-- the table's merges, and every read's GROUP BY, combine a minute's rows.
TRUNCATE TABLE {db}.station_minute_latest;

INSERT INTO {db}.station_minute_latest (hour, station, minute, last_ts, status, queue, staff, lanes)
SELECT toStartOfHour(ts), station, toStartOfMinute(ts),
       arrayReduce('maxState', [ts]),
       arrayReduce('argMaxState', [status], [ts]),
       arrayReduce('argMaxState', [queue], [ts]),
       arrayReduce('argMaxState', [staff], [ts]),
       arrayReduce('argMaxState', [lanes], [ts])
FROM {db}.heartbeats;
