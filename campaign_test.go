package tiendo_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"tiendo"
)

// testCampaignJSON carries the working-day rules of the shipped Lạng Sơn 2021
// campaign (cmd/tiendo/langson2021/campaign.json) with fewer districts.
const testCampaignJSON = `{
  "id": "langson-2021",
  "name": "Cấp CCCD gắn chip — Lạng Sơn 2021",
  "name_en": "Chip-based ID cards — Lạng Sơn 2021",
  "time_zone": "Asia/Ho_Chi_Minh",
  "start": "2021-03-10",
  "deadline": "2021-07-01",
  "target": 621000,
  "day_boundary_hour": 4,
  "open_hour": 7,
  "late_night_hour": 22,
  "minutes_per_record": 6,
  "districts": [
    {"id": "LS-TP", "name": "TP Lạng Sơn", "quota": 81274},
    {"id": "LS-BS", "name": "Bắc Sơn", "quota": 56813},
    {"id": "LS-DL", "name": "Đình Lập", "quota": 22883}
  ]
}`

// mustTestCampaign returns a validated campaign with the shipped rules.
func mustTestCampaign(tb testing.TB) *tiendo.Campaign {
	tb.Helper()
	c, err := tiendo.ParseCampaign([]byte(testCampaignJSON))
	if err != nil {
		tb.Fatalf("ParseCampaign: %v", err)
	}
	return c
}

// ict is the campaign's zone written as a fixed offset, independent of tzdata.
var ict = time.FixedZone("ICT", 7*3600)

// at is a local (+07:00) instant in 2021.
func at(month time.Month, day, hour, min, sec int) time.Time {
	return time.Date(2021, month, day, hour, min, sec, 0, ict)
}

func mustTime(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		tb.Fatalf("parse %q: %v", s, err)
	}
	return t
}

func TestParseCampaign(t *testing.T) {
	c := mustTestCampaign(t)
	if got, want := c.ID, "langson-2021"; got != want {
		t.Errorf("ID = %q, want %q", got, want)
	}
	if got, want := c.Start, tiendo.DayOf(2021, time.March, 10); got != want {
		t.Errorf("Start = %v, want %v", got, want)
	}
	if got, want := c.Deadline, tiendo.DayOf(2021, time.July, 1); got != want {
		t.Errorf("Deadline = %v, want %v", got, want)
	}
	if got, want := c.Target, int64(621000); got != want {
		t.Errorf("Target = %d, want %d", got, want)
	}
	if got, want := c.Location().String(), "Asia/Ho_Chi_Minh"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if got, want := len(c.Districts), 3; got != want {
		t.Fatalf("len(Districts) = %d, want %d", got, want)
	}
	if got, want := c.Districts[2], (tiendo.District{ID: "LS-DL", Name: "Đình Lập", Quota: 22883}); got != want {
		t.Errorf("Districts[2] = %+v, want %+v", got, want)
	}
	if got, want := c.MinutesPerRecord, 6.0; got != want {
		t.Errorf("MinutesPerRecord = %v, want %v", got, want)
	}
}

func TestParseCampaignErrors(t *testing.T) {
	tests := []struct {
		name string
		data string
	}{
		{"not json", `{"id":`},
		{"bad day", strings.Replace(testCampaignJSON, `"2021-03-10"`, `"10/03/2021"`, 1)},
		{"invalid campaign", strings.Replace(testCampaignJSON, `"target": 621000`, `"target": 0`, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tiendo.ParseCampaign([]byte(tt.data))
			if err == nil {
				t.Fatalf("ParseCampaign = %+v, nil; want an error", c)
			}
			if c != nil {
				t.Errorf("ParseCampaign returned a campaign with error %v", err)
			}
		})
	}
}

func TestCampaignLocationBeforeValidate(t *testing.T) {
	c := &tiendo.Campaign{TimeZone: "Asia/Ho_Chi_Minh"}
	if got, want := c.Location(), time.UTC; got != want {
		t.Errorf("Location before Validate = %v, want %v", got, want)
	}
}

func TestCampaignValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *tiendo.Campaign)
		field  string // "" means valid
	}{
		{"shipped rules", func(c *tiendo.Campaign) {}, ""},
		{"boundary 0", func(c *tiendo.Campaign) { c.DayBoundaryHour = 0 }, ""},
		{"boundary 12, open 12", func(c *tiendo.Campaign) { c.DayBoundaryHour, c.OpenHour = 12, 12 }, ""},
		{"late night 23", func(c *tiendo.Campaign) { c.LateNightHour = 23 }, ""},
		{"open 22 late 23", func(c *tiendo.Campaign) { c.OpenHour, c.LateNightHour = 22, 23 }, ""},
		{"zero quota", func(c *tiendo.Campaign) { c.Districts[0].Quota = 0 }, ""},
		{"UTC zone", func(c *tiendo.Campaign) { c.TimeZone = "UTC" }, ""},

		{"no id", func(c *tiendo.Campaign) { c.ID = "" }, "id"},
		{"no name", func(c *tiendo.Campaign) { c.Name = "" }, "name"},
		{"no time zone", func(c *tiendo.Campaign) { c.TimeZone = "" }, "time_zone"},
		{"unknown time zone", func(c *tiendo.Campaign) { c.TimeZone = "Asia/Lang_Son" }, "time_zone"},
		{"no start", func(c *tiendo.Campaign) { c.Start = 0 }, "start"},
		{"deadline equals start", func(c *tiendo.Campaign) { c.Deadline = c.Start }, "deadline"},
		{"deadline before start", func(c *tiendo.Campaign) { c.Deadline = c.Start - 1 }, "deadline"},
		{"target zero", func(c *tiendo.Campaign) { c.Target = 0 }, "target"},
		{"target negative", func(c *tiendo.Campaign) { c.Target = -5 }, "target"},
		{"boundary negative", func(c *tiendo.Campaign) { c.DayBoundaryHour = -1 }, "day_boundary_hour"},
		{"boundary 13", func(c *tiendo.Campaign) { c.DayBoundaryHour = 13; c.OpenHour = 14 }, "day_boundary_hour"},
		{"open before boundary", func(c *tiendo.Campaign) { c.OpenHour = 3 }, "open_hour"},
		{"open 24", func(c *tiendo.Campaign) { c.OpenHour = 24 }, "open_hour"},
		{"late night equals open", func(c *tiendo.Campaign) { c.LateNightHour = 7 }, "late_night_hour"},
		{"late night before open", func(c *tiendo.Campaign) { c.LateNightHour = 6 }, "late_night_hour"},
		{"late night 24", func(c *tiendo.Campaign) { c.LateNightHour = 24 }, "late_night_hour"},
		{"minutes per record zero", func(c *tiendo.Campaign) { c.MinutesPerRecord = 0 }, "minutes_per_record"},
		{"minutes per record negative", func(c *tiendo.Campaign) { c.MinutesPerRecord = -6 }, "minutes_per_record"},
		{"no districts", func(c *tiendo.Campaign) { c.Districts = nil }, "districts"},
		{"district bad id", func(c *tiendo.Campaign) { c.Districts[1].ID = "LS BS" }, "districts"},
		{"district empty id", func(c *tiendo.Campaign) { c.Districts[1].ID = "" }, "districts"},
		{"district repeated", func(c *tiendo.Campaign) { c.Districts[2].ID = c.Districts[0].ID }, "districts"},
		{"district negative quota", func(c *tiendo.Campaign) { c.Districts[1].Quota = -1 }, "districts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustTestCampaign(t)
			c.Districts = append([]tiendo.District(nil), c.Districts...)
			tt.mutate(c)
			err := c.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			var e *tiendo.Error
			if !errors.As(err, &e) {
				t.Fatalf("Validate = %v (%T), want a *tiendo.Error", err, err)
			}
			if got, want := e.Code, tiendo.EInvalid; got != want {
				t.Errorf("Code = %q, want %q", got, want)
			}
			if len(e.Fields) != 1 {
				t.Fatalf("Fields = %+v, want exactly one", e.Fields)
			}
			if got, want := e.Fields[0].Field, tt.field; got != want {
				t.Errorf("Fields[0].Field = %q, want %q (reason %q)", got, want, e.Fields[0].Reason)
			}
			if got, want := e.Fields[0].Index, -1; got != want {
				t.Errorf("Fields[0].Index = %d, want %d", got, want)
			}
			if e.Fields[0].Reason == "" {
				t.Error("Fields[0].Reason is empty")
			}
		})
	}
}

func TestWorkingDay(t *testing.T) {
	c := mustTestCampaign(t)
	mar := func(d int) tiendo.Day { return tiendo.DayOf(2021, time.March, d) }
	tests := []struct {
		name string
		t    time.Time
		want tiendo.Day
	}{
		{"01:30 belongs to the previous day", at(time.March, 21, 1, 30, 0), mar(20)},
		{"03:59:59 belongs to the previous day", at(time.March, 21, 3, 59, 59), mar(20)},
		{"03:59 belongs to the previous day", at(time.March, 21, 3, 59, 0), mar(20)},
		{"04:00 starts the day", at(time.March, 21, 4, 0, 0), mar(21)},
		{"midnight belongs to the previous day", at(time.March, 21, 0, 0, 0), mar(20)},
		{"opening hour", at(time.March, 20, 7, 0, 0), mar(20)},
		{"late evening", at(time.March, 20, 23, 59, 59), mar(20)},
		{"UTC 18:30 is 01:30 local", mustTime(t, "2021-03-20T18:30:00Z"), mar(20)},
		{"UTC 20:59 is 03:59 local", mustTime(t, "2021-03-20T20:59:00Z"), mar(20)},
		{"UTC 21:00 is 04:00 local", mustTime(t, "2021-03-20T21:00:00Z"), mar(21)},
		{"UTC midday", mustTime(t, "2021-03-20T05:00:00Z"), mar(20)},
		{"offset -05:00", mustTime(t, "2021-03-20T13:30:00-05:00"), mar(20)}, // 01:30 local on the 21st
		{"across a month", at(time.April, 1, 2, 0, 0), mar(31)},
		{"across a year", time.Date(2022, time.January, 1, 3, 0, 0, 0, ict), tiendo.DayOf(2021, time.December, 31)},
		{"campaign start", at(time.March, 10, 4, 0, 0), mar(10)},
		{"just before campaign start", at(time.March, 10, 3, 59, 59), mar(9)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.WorkingDay(tt.t); got != tt.want {
				t.Errorf("WorkingDay(%s) = %v, want %v", tt.t.Format(time.RFC3339), got, tt.want)
			}
		})
	}
}

// Every quarter hour around the campaign, an instant given in UTC, in +07:00
// and in the campaign's named zone is the same working day, and that day's
// [DayStart, DayEnd) contains it.
func TestWorkingDayZonesAgree(t *testing.T) {
	c := mustTestCampaign(t)
	start := mustTime(t, "2021-03-08T00:00:00Z")
	for i := 0; i < 4*24*10; i++ {
		u := start.Add(time.Duration(i) * 15 * time.Minute)
		d := c.WorkingDay(u)
		if got := c.WorkingDay(u.In(ict)); got != d {
			t.Fatalf("WorkingDay(%v) = %v in +07:00, %v in UTC", u, got, d)
		}
		if got := c.WorkingDay(u.In(c.Location())); got != d {
			t.Fatalf("WorkingDay(%v) = %v in %v, %v in UTC", u, got, c.Location(), d)
		}
		if u.Before(c.DayStart(d)) || !u.Before(c.DayEnd(d)) {
			t.Fatalf("%v is working day %v, outside [%v, %v)", u, d, c.DayStart(d), c.DayEnd(d))
		}
	}
}

// A zone with daylight saving: each day's start and last instant must map
// back to that day, also on the days the clocks change.
func TestWorkingDayDaylightSaving(t *testing.T) {
	for _, zone := range []string{"Europe/Berlin", "America/New_York", "Australia/Sydney"} {
		t.Run(zone, func(t *testing.T) {
			c := mustTestCampaign(t)
			c.TimeZone = zone
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			first := tiendo.DayOf(2021, time.January, 1)
			for d := first; d < first+365; d++ {
				start, end := c.DayStart(d), c.DayEnd(d)
				if got := c.WorkingDay(start); got != d {
					t.Errorf("WorkingDay(DayStart(%v) = %v) = %v", d, start, got)
				}
				if got := c.WorkingDay(end.Add(-time.Second)); got != d {
					t.Errorf("WorkingDay(DayEnd(%v) - 1s = %v) = %v", d, end.Add(-time.Second), got)
				}
				if got, want := c.HourOfDay(start), 0; got != want {
					t.Errorf("HourOfDay(DayStart(%v)) = %d, want %d", d, got, want)
				}
			}
		})
	}
}

func TestDayStartEnd(t *testing.T) {
	c := mustTestCampaign(t)
	d := tiendo.DayOf(2021, time.March, 20)
	tests := []struct {
		name      string
		got, want time.Time
	}{
		{"DayStart local", c.DayStart(d), at(time.March, 20, 4, 0, 0)},
		{"DayStart UTC", c.DayStart(d), mustTime(t, "2021-03-19T21:00:00Z")},
		{"DayEnd", c.DayEnd(d), at(time.March, 21, 4, 0, 0)},
		{"DayEnd is next DayStart", c.DayEnd(d), c.DayStart(d + 1)},
		{"StartTime", c.StartTime(), mustTime(t, "2021-03-10T04:00:00+07:00")},
		{"DeadlineTime: the end of the deadline day", c.DeadlineTime(), mustTime(t, "2021-07-02T04:00:00+07:00")},
		{"DayEnd across month", c.DayEnd(tiendo.DayOf(2021, time.March, 31)), at(time.April, 1, 4, 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.got.Equal(tt.want) {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
	if got, want := c.DayEnd(d).Sub(c.DayStart(d)), 24*time.Hour; got != want {
		t.Errorf("length of a working day = %v, want %v", got, want)
	}
}

func TestIsLateNight(t *testing.T) {
	c := mustTestCampaign(t)
	tests := []struct {
		t    time.Time
		want bool
	}{
		{at(time.March, 20, 4, 0, 0), false},
		{at(time.March, 20, 7, 0, 0), false},
		{at(time.March, 20, 12, 0, 0), false},
		{at(time.March, 20, 21, 59, 0), false},
		{at(time.March, 20, 21, 59, 59), false},
		{at(time.March, 20, 22, 0, 0), true},
		{at(time.March, 20, 23, 59, 59), true},
		{at(time.March, 21, 0, 0, 0), true},
		{at(time.March, 21, 1, 30, 0), true},
		{at(time.March, 21, 3, 59, 0), true},
		{at(time.March, 21, 3, 59, 59), true},
		{at(time.March, 21, 4, 0, 0), false},
		{mustTime(t, "2021-03-20T14:59:00Z"), false}, // 21:59 local
		{mustTime(t, "2021-03-20T15:00:00Z"), true},  // 22:00 local
		{mustTime(t, "2021-03-20T20:59:00Z"), true},  // 03:59 local
		{mustTime(t, "2021-03-20T21:00:00Z"), false}, // 04:00 local
	}
	for _, tt := range tests {
		if got := c.IsLateNight(tt.t); got != tt.want {
			t.Errorf("IsLateNight(%s) = %v, want %v", tt.t.Format(time.RFC3339), got, tt.want)
		}
	}
}

func TestHourOfDay(t *testing.T) {
	c := mustTestCampaign(t)
	tests := []struct {
		t    time.Time
		want int
	}{
		{at(time.March, 20, 4, 0, 0), 0},
		{at(time.March, 20, 4, 59, 59), 0},
		{at(time.March, 20, 7, 0, 0), 3},
		{at(time.March, 20, 12, 30, 0), 8},
		{at(time.March, 20, 23, 0, 0), 19},
		{at(time.March, 21, 0, 30, 0), 20},
		{at(time.March, 21, 1, 30, 0), 21},
		{at(time.March, 21, 3, 59, 0), 23},
		{mustTime(t, "2021-03-20T18:30:00Z"), 21}, // 01:30 local
	}
	for _, tt := range tests {
		if got := c.HourOfDay(tt.t); got != tt.want {
			t.Errorf("HourOfDay(%s) = %d, want %d", tt.t.Format(time.RFC3339), got, tt.want)
		}
	}
	if a, b := c.HourOfDay(at(time.March, 20, 23, 0, 0)), c.HourOfDay(at(time.March, 21, 1, 0, 0)); a >= b {
		t.Errorf("HourOfDay(23:00) = %d is not before HourOfDay(01:00) = %d", a, b)
	}
}

func TestClockHourRoundTrip(t *testing.T) {
	c := mustTestCampaign(t)
	want := []int{4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 0, 1, 2, 3}
	for i := 0; i < 24; i++ {
		h := c.ClockHour(i)
		if h != want[i] {
			t.Errorf("ClockHour(%d) = %d, want %d", i, h, want[i])
		}
		if got := c.HourOfDay(at(time.March, 20, h, 15, 0)); got != i {
			t.Errorf("HourOfDay(%02d:15) = %d, want %d", h, got, i)
		}
		if got := c.HourOfDay(c.DayStart(c.Start).Add(time.Duration(i) * time.Hour)); got != i {
			t.Errorf("HourOfDay(DayStart + %dh) = %d, want %d", i, got, i)
		}
	}
}
