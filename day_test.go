package tiendo_test

import (
	"encoding/json"
	"testing"
	"time"

	"tiendo"
)

func TestDayOf(t *testing.T) {
	tests := []struct {
		y    int
		m    time.Month
		d    int
		want tiendo.Day
	}{
		{1970, time.January, 1, 0},
		{1970, time.January, 2, 1},
		{1969, time.December, 31, -1},
		{2021, time.January, 1, 18628},
		{2021, time.March, 20, 18706},
		{2021, time.February, 29, tiendo.DayOf(2021, time.March, 1)}, // normalised as time.Date does
		{2021, time.March, 0, tiendo.DayOf(2021, time.February, 28)},
		{2020, time.February, 29, tiendo.DayOf(2020, time.March, 1) - 1},
	}
	for _, tt := range tests {
		if got := tiendo.DayOf(tt.y, tt.m, tt.d); got != tt.want {
			t.Errorf("DayOf(%d, %v, %d) = %d, want %d", tt.y, tt.m, tt.d, got, tt.want)
		}
	}
}

func TestParseDay(t *testing.T) {
	tests := []struct {
		in      string
		want    tiendo.Day
		wantErr bool
	}{
		{"2021-03-20", tiendo.DayOf(2021, time.March, 20), false},
		{"1970-01-01", 0, false},
		{"1969-12-31", -1, false},
		{"2020-02-29", tiendo.DayOf(2020, time.February, 29), false},
		{"2021-07-01", tiendo.DayOf(2021, time.July, 1), false},
		{"", 0, true},
		{"2021-3-20", 0, true},
		{"20/03/2021", 0, true},
		{"2021-02-29", 0, true},
		{"2021-13-01", 0, true},
		{"2021-03-20T00:00:00Z", 0, true},
		{" 2021-03-20", 0, true},
		{"2021-03-20 ", 0, true},
	}
	for _, tt := range tests {
		got, err := tiendo.ParseDay(tt.in)
		if gotErr := err != nil; gotErr != tt.wantErr {
			t.Errorf("ParseDay(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseDay(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestDayDateStringWeekday(t *testing.T) {
	tests := []struct {
		d       tiendo.Day
		str     string
		y       int
		m       time.Month
		dd      int
		weekday time.Weekday
	}{
		{tiendo.DayOf(2021, time.March, 20), "2021-03-20", 2021, time.March, 20, time.Saturday},
		{tiendo.DayOf(2021, time.March, 21), "2021-03-21", 2021, time.March, 21, time.Sunday},
		{tiendo.DayOf(2021, time.March, 10), "2021-03-10", 2021, time.March, 10, time.Wednesday},
		{tiendo.DayOf(2021, time.July, 1), "2021-07-01", 2021, time.July, 1, time.Thursday},
		{0, "1970-01-01", 1970, time.January, 1, time.Thursday},
		{-1, "1969-12-31", 1969, time.December, 31, time.Wednesday},
		{tiendo.DayOf(2020, time.December, 31) + 1, "2021-01-01", 2021, time.January, 1, time.Friday},
		{tiendo.DayOf(2020, time.February, 28) + 1, "2020-02-29", 2020, time.February, 29, time.Saturday},
	}
	for _, tt := range tests {
		if got := tt.d.String(); got != tt.str {
			t.Errorf("Day(%d).String() = %q, want %q", tt.d, got, tt.str)
		}
		y, m, dd := tt.d.Date()
		if y != tt.y || m != tt.m || dd != tt.dd {
			t.Errorf("Day(%d).Date() = %d-%v-%d, want %d-%v-%d", tt.d, y, m, dd, tt.y, tt.m, tt.dd)
		}
		if got := tt.d.Weekday(); got != tt.weekday {
			t.Errorf("Day(%s).Weekday() = %v, want %v", tt.str, got, tt.weekday)
		}
		if got, err := tiendo.ParseDay(tt.d.String()); err != nil || got != tt.d {
			t.Errorf("ParseDay(%q) = %d, %v, want %d", tt.d.String(), got, err, tt.d)
		}
	}
}

func TestDayIsZero(t *testing.T) {
	if !tiendo.Day(0).IsZero() {
		t.Error("Day(0).IsZero() = false, want true")
	}
	if tiendo.DayOf(2021, time.March, 20).IsZero() {
		t.Error("2021-03-20 IsZero() = true, want false")
	}
	if tiendo.Day(-1).IsZero() {
		t.Error("Day(-1).IsZero() = true, want false")
	}
}

func TestDayJSON(t *testing.T) {
	type doc struct {
		Day  tiendo.Day         `json:"day"`
		Days map[tiendo.Day]int `json:"days"`
	}
	in := doc{Day: tiendo.DayOf(2021, time.March, 20), Days: map[tiendo.Day]int{tiendo.DayOf(2021, time.March, 21): 7}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"day":"2021-03-20","days":{"2021-03-21":7}}`; got != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
	var out doc
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Day != in.Day || len(out.Days) != 1 || out.Days[tiendo.DayOf(2021, time.March, 21)] != 7 {
		t.Errorf("round trip = %+v, want %+v", out, in)
	}

	for _, bad := range []string{`{"day":"2021-3-20"}`, `{"day":""}`, `{"day":"yesterday"}`, `{"day":18706}`} {
		var d doc
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("Unmarshal(%s) = %+v, want an error", bad, d)
		}
	}
}

func TestDayUnmarshalTextKeepsValueOnError(t *testing.T) {
	d := tiendo.DayOf(2021, time.March, 20)
	if err := d.UnmarshalText([]byte("nope")); err == nil {
		t.Fatal("UnmarshalText(nope) = nil, want an error")
	}
	if got, want := d, tiendo.DayOf(2021, time.March, 20); got != want {
		t.Errorf("after failed UnmarshalText d = %v, want %v", got, want)
	}
}
