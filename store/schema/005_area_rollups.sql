-- Rollups per area (a province, in the registry's naming: the district id
-- without its last "-" part, as completions_area_hour in 003), so that a
-- snapshot above province level sums a few rows per province instead of
-- one per station: the nation's campaign-to-date records are 63 rows, not
-- station_totals' ten thousand stations, and its last hour is 63 short
-- ranges of minutes. Today's and the recent days' records come from
-- completions_area_hour. Readers take an area's sums for a unit only when
-- district_stations says every station with rows under it is the unit's
-- (store.DB.UnitStats, with the same cover as HourlyCompletions).

-- Campaign-to-date records per area: one small row each.
CREATE TABLE IF NOT EXISTS {db}.completions_area_totals (
    area String,
    records UInt64,
    retries UInt64,
    events UInt64
) ENGINE = SummingMergeTree ORDER BY area;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.completions_area_totals_mv TO {db}.completions_area_totals AS
SELECT substring(district, 1, length(district) - position(reverse(district), '-')) AS area,
       sum(toUInt64(count)) AS records, sum(toUInt64(fingerprint_retries)) AS retries, count() AS events
FROM {db}.completions GROUP BY area;

-- Records per area per minute: the last hour of a province.
CREATE TABLE IF NOT EXISTS {db}.completions_area_minute (
    area String,
    minute DateTime('UTC'),
    records UInt64,
    retries UInt64,
    events UInt64
) ENGINE = SummingMergeTree PARTITION BY toYYYYMM(minute) ORDER BY (area, minute);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.completions_area_minute_mv TO {db}.completions_area_minute AS
SELECT substring(district, 1, length(district) - position(reverse(district), '-')) AS area, toStartOfMinute(ts) AS minute,
       sum(toUInt64(count)) AS records, sum(toUInt64(fingerprint_retries)) AS retries, count() AS events
FROM {db}.completions GROUP BY area, minute;

-- Backfill from the raw rows already stored; as in 003, each rollup is
-- emptied first, so a migration cut short and run again counts no row twice.
TRUNCATE TABLE {db}.completions_area_totals;

INSERT INTO {db}.completions_area_totals (area, records, retries, events)
SELECT substring(district, 1, length(district) - position(reverse(district), '-')) AS area,
       sum(toUInt64(count)) AS records, sum(toUInt64(fingerprint_retries)) AS retries, count() AS events
FROM {db}.completions GROUP BY area;

TRUNCATE TABLE {db}.completions_area_minute;

INSERT INTO {db}.completions_area_minute (area, minute, records, retries, events)
SELECT substring(district, 1, length(district) - position(reverse(district), '-')) AS area, toStartOfMinute(ts) AS minute,
       sum(toUInt64(count)) AS records, sum(toUInt64(fingerprint_retries)) AS retries, count() AS events
FROM {db}.completions GROUP BY area, minute;
