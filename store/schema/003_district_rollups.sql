-- Rollups coarser than a station, so that a long chart over many stations
-- reads thousands of rows, not one per station-hour: at national scale a
-- station completes about one event an hour, so completions_hour is nearly
-- as large as completions itself and summing a province's year from it is
-- hardly faster than from raw rows.

-- Each completion carries the district its station belonged to when it was
-- written (store.DB fills it from the station registry). Rows written
-- before this column existed, and writers that know no registry, get the
-- station id without its last "-" part, which is the district id in the
-- registry's naming (LS-TP-CHILANG is in LS-TP). Readers never trust the
-- grouping blindly: district_stations below records which stations each
-- district's sums really contain.
-- ClickHouse 18.16 has no ADD COLUMN IF NOT EXISTS: the migration runner
-- skips this statement when the column is already there.
ALTER TABLE {db}.completions ADD COLUMN district String DEFAULT substring(station, 1, length(station) - position(reverse(station), '-')) AFTER station;

-- Records per district per hour: the province's and a district's hourly
-- chart over the whole campaign.
CREATE TABLE IF NOT EXISTS {db}.completions_district_hour (
    district String,
    hour DateTime('UTC'),
    records UInt64,
    retries UInt64,
    events UInt64
) ENGINE = SummingMergeTree PARTITION BY toYear(hour) ORDER BY (district, hour);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.completions_district_hour_mv TO {db}.completions_district_hour AS
SELECT district, toStartOfHour(ts) AS hour,
       sum(toUInt64(count)) AS records, sum(toUInt64(fingerprint_retries)) AS retries, count() AS events
FROM {db}.completions GROUP BY district, hour;

-- Records per area per hour, an area being a district id without its last
-- "-" part: the province in the registry's naming (LS-TP is in LS). The
-- province's year is then one row an hour, about five thousand rows.
CREATE TABLE IF NOT EXISTS {db}.completions_area_hour (
    area String,
    hour DateTime('UTC'),
    records UInt64,
    retries UInt64,
    events UInt64
) ENGINE = SummingMergeTree PARTITION BY toYear(hour) ORDER BY (area, hour);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.completions_area_hour_mv TO {db}.completions_area_hour AS
SELECT substring(district, 1, length(district) - position(reverse(district), '-')) AS area, toStartOfHour(ts) AS hour,
       sum(toUInt64(count)) AS records, sum(toUInt64(fingerprint_retries)) AS retries, count() AS events
FROM {db}.completions GROUP BY area, hour;

-- Which stations' rows each district's (and so each area's) sums hold. A
-- reader may take a district's or an area's sums for a set of stations
-- only when every station listed here under it is in the set and belongs
-- to no other district (a station that moved has rows under two), so the
-- answer never depends on the registry being the same now as when the rows
-- were written. Rows are never removed (events is at least 1), so the
-- number of pairs grows whenever the table changes: readers cache the
-- pairs and check that number in the same query.
CREATE TABLE IF NOT EXISTS {db}.district_stations (
    district String,
    station String,
    events UInt64
) ENGINE = SummingMergeTree ORDER BY (district, station);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.district_stations_mv TO {db}.district_stations AS
SELECT district, station, count() AS events FROM {db}.completions GROUP BY district, station;

-- Backfill from the raw rows already stored. Open migrates before anything
-- writes, and a migration cut short is run again from the top, so each
-- rollup is emptied first: rerunning never counts a row twice.
TRUNCATE TABLE {db}.completions_district_hour;

INSERT INTO {db}.completions_district_hour (district, hour, records, retries, events)
SELECT district, toStartOfHour(ts) AS hour,
       sum(toUInt64(count)) AS records, sum(toUInt64(fingerprint_retries)) AS retries, count() AS events
FROM {db}.completions GROUP BY district, hour;

TRUNCATE TABLE {db}.completions_area_hour;

INSERT INTO {db}.completions_area_hour (area, hour, records, retries, events)
SELECT substring(district, 1, length(district) - position(reverse(district), '-')) AS area, toStartOfHour(ts) AS hour,
       sum(toUInt64(count)) AS records, sum(toUInt64(fingerprint_retries)) AS retries, count() AS events
FROM {db}.completions GROUP BY area, hour;

TRUNCATE TABLE {db}.district_stations;

INSERT INTO {db}.district_stations (district, station, events)
SELECT district, station, count() AS events FROM {db}.completions GROUP BY district, station;
