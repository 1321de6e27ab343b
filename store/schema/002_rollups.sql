-- Rollups kept by materialized views, so that dashboards never scan raw rows
-- for totals. Each view fires once per inserted block of its source table.

-- Records per station per minute: throughput of the last hour.
CREATE TABLE IF NOT EXISTS {db}.completions_minute (
    station String,
    minute DateTime('UTC'),
    records UInt64,
    retries UInt64,
    events UInt64
) ENGINE = SummingMergeTree PARTITION BY toYYYYMM(minute) ORDER BY (station, minute);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.completions_minute_mv TO {db}.completions_minute AS
SELECT station, toStartOfMinute(ts) AS minute,
       sum(toUInt64(count)) AS records, sum(toUInt64(fingerprint_retries)) AS retries, count() AS events
FROM {db}.completions GROUP BY station, minute;

-- Records per station per hour and kind: today, trends, the late-night heatmap.
CREATE TABLE IF NOT EXISTS {db}.completions_hour (
    station String,
    hour DateTime('UTC'),
    kind String,
    records UInt64,
    retries UInt64,
    events UInt64
) ENGINE = SummingMergeTree PARTITION BY toYYYYMM(hour) ORDER BY (station, hour, kind);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.completions_hour_mv TO {db}.completions_hour AS
SELECT station, toStartOfHour(ts) AS hour, kind,
       sum(toUInt64(count)) AS records, sum(toUInt64(fingerprint_retries)) AS retries, count() AS events
FROM {db}.completions GROUP BY station, hour, kind;

-- Campaign-to-date records per station and kind: one small row each.
CREATE TABLE IF NOT EXISTS {db}.station_totals (
    station String,
    kind String,
    records UInt64,
    retries UInt64,
    events UInt64
) ENGINE = SummingMergeTree ORDER BY (station, kind);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.station_totals_mv TO {db}.station_totals AS
SELECT station, kind,
       sum(toUInt64(count)) AS records, sum(toUInt64(fingerprint_retries)) AS retries, count() AS events
FROM {db}.completions GROUP BY station, kind;

-- Heartbeat samples per station per minute: queue and staff averages and peaks.
CREATE TABLE IF NOT EXISTS {db}.heartbeats_minute (
    station String,
    minute DateTime('UTC'),
    samples AggregateFunction(sum, UInt64),
    queue_sum AggregateFunction(sum, UInt64),
    queue_max AggregateFunction(max, UInt32),
    staff_sum AggregateFunction(sum, UInt64),
    staff_max AggregateFunction(max, UInt16)
) ENGINE = AggregatingMergeTree PARTITION BY toYYYYMM(minute) ORDER BY (station, minute);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.heartbeats_minute_mv TO {db}.heartbeats_minute AS
SELECT station, toStartOfMinute(ts) AS minute,
       sumState(toUInt64(1)) AS samples,
       sumState(toUInt64(queue)) AS queue_sum, maxState(queue) AS queue_max,
       sumState(toUInt64(staff)) AS staff_sum, maxState(staff) AS staff_max
FROM {db}.heartbeats GROUP BY station, minute;

-- The newest heartbeat of each station: its status, queue and staff now.
-- Position comes from the newest heartbeat that had one (mobile teams move).
CREATE TABLE IF NOT EXISTS {db}.station_latest (
    station String,
    last_ts AggregateFunction(max, DateTime('UTC')),
    status AggregateFunction(argMax, String, DateTime('UTC')),
    queue AggregateFunction(argMax, UInt32, DateTime('UTC')),
    staff AggregateFunction(argMax, UInt16, DateTime('UTC')),
    lanes AggregateFunction(argMax, UInt16, DateTime('UTC')),
    lat AggregateFunction(argMax, Float64, DateTime('UTC')),
    lon AggregateFunction(argMax, Float64, DateTime('UTC'))
) ENGINE = AggregatingMergeTree ORDER BY station;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.station_latest_mv TO {db}.station_latest AS
SELECT station,
       maxState(ts) AS last_ts,
       argMaxState(status, ts) AS status,
       argMaxState(queue, ts) AS queue,
       argMaxState(staff, ts) AS staff,
       argMaxState(lanes, ts) AS lanes,
       argMaxState(lat, if(has_pos = 1, ts, toDateTime(0, 'UTC'))) AS lat,
       argMaxState(lon, if(has_pos = 1, ts, toDateTime(0, 'UTC'))) AS lon
FROM {db}.heartbeats GROUP BY station;
