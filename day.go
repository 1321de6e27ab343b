package tiendo

import (
	"fmt"
	"time"
)

// Day is a calendar date without a time zone, counted in days since
// 1970-01-01. Working days are Days; Campaign maps them to instants.
type Day int32

// DayOf returns the Day of a calendar date; out-of-range parts normalise as in time.Date.
func DayOf(year int, month time.Month, day int) Day {
	t := time.Date(year, month, day, 0, 0, 0, 0, time.UTC)
	return Day(t.Unix() / 86400)
}

// ParseDay parses "2006-01-02".
func ParseDay(s string) (Day, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, fmt.Errorf("parse day %q: want YYYY-MM-DD", s)
	}
	return Day(t.Unix() / 86400), nil
}

// Date returns the year, month and day of d.
func (d Day) Date() (int, time.Month, int) {
	return time.Unix(int64(d)*86400, 0).UTC().Date()
}

// Weekday of d.
func (d Day) Weekday() time.Weekday { return time.Unix(int64(d)*86400, 0).UTC().Weekday() }

// IsZero reports whether d is the zero Day (1970-01-01), used as "unset".
func (d Day) IsZero() bool { return d == 0 }

func (d Day) String() string { return time.Unix(int64(d)*86400, 0).UTC().Format(time.DateOnly) }

// MarshalText writes d as YYYY-MM-DD.
func (d Day) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads YYYY-MM-DD.
func (d *Day) UnmarshalText(b []byte) error {
	v, err := ParseDay(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
