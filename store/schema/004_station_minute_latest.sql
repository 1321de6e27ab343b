-- The newest heartbeat of each station in each minute: the samples the
-- service figures (wait, clears-at, idle staff) integrate over the last
-- hour and a half, read every live round for every watched scope.
-- station_latest keeps only the newest heartbeat ever and heartbeats_minute
-- only averages, so neither can say what a station reported at 13:05; raw
-- heartbeats could, but dashboards never scan raw rows.
--
-- A ReplacingMergeTree on ts keeps the newest row of a minute when parts
-- merge; readers take argMax by ts over the rows not merged yet. Plain
-- columns, not argMax states as in station_latest: each state carries its
-- own copy of ts, which made the table 2.5 times as large (20.5 bytes a
-- heartbeat against 8, on the scale benchmark's data) for the same answers.
--
-- Ordered by the hour first: the read is a short window over many stations,
-- and a province's stations sort together (their ids share its prefix), so
-- within an hour their rows are a few neighbouring granules. Ordered by
-- station first, a station whose month fills more than a granule (a
-- heartbeat every 5 minutes all day, as the simulator sends) has its window
-- in a granule of its own, and a province reads at least one granule per
-- station. On the scale benchmark's sparser data (every 6 minutes from
-- 07:00 to 21:00) a province's 105 minutes read 12 granules station first
-- and 5 hour first.
-- hour is stored, not computed in the key, so that the reader can bound it
-- with a plain comparison on both engines.
CREATE TABLE IF NOT EXISTS {db}.station_minute_latest (
    hour DateTime('UTC'),
    station String,
    minute DateTime('UTC'),
    ts DateTime('UTC'),
    status String,
    queue UInt32,
    staff UInt16,
    lanes UInt16
) ENGINE = ReplacingMergeTree(ts) PARTITION BY toYYYYMM(minute) ORDER BY (hour, station, minute);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.station_minute_latest_mv TO {db}.station_minute_latest AS
SELECT toStartOfHour(ts) AS hour, station, toStartOfMinute(ts) AS minute, ts, status, queue, staff, lanes
FROM {db}.heartbeats;

-- Backfill from the heartbeats already stored. As in 003, Open migrates
-- before anything writes and a migration cut short runs again from the top,
-- so the rollup is emptied first and rerunning never holds a heartbeat
-- twice. No GROUP BY: the rollup has about a row per heartbeat, and
-- grouping a national year (half a billion) would hold every key in memory
-- at once, far past max_memory_usage; the rows stream, and merges and
-- readers keep each minute's newest.
TRUNCATE TABLE {db}.station_minute_latest;

INSERT INTO {db}.station_minute_latest (hour, station, minute, ts, status, queue, staff, lanes)
SELECT toStartOfHour(ts), station, toStartOfMinute(ts), ts, status, queue, staff, lanes
FROM {db}.heartbeats;
