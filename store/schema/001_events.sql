-- Raw events, one row per accepted event, as stations sent them.
-- Partitioned by month of the event time, ordered by station and time so that
-- a station's history and the dedupe look-ups read a narrow range.
CREATE TABLE IF NOT EXISTS {db}.heartbeats (
    id String,
    station String,
    ts DateTime('UTC'),
    queue UInt32,
    staff UInt16,
    lanes UInt16,
    status String,
    has_pos UInt8,
    lat Float64,
    lon Float64,
    received DateTime('UTC')
) ENGINE = MergeTree PARTITION BY toYYYYMM(ts) ORDER BY (station, ts);

CREATE TABLE IF NOT EXISTS {db}.completions (
    id String,
    station String,
    ts DateTime('UTC'),
    count UInt32,
    fingerprint_retries UInt32,
    kind String,
    received DateTime('UTC')
) ENGINE = MergeTree PARTITION BY toYYYYMM(ts) ORDER BY (station, ts);
