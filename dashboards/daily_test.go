package dashboards

import (
	"testing"

	"tiendo"
)

func TestDailyTotalsWorkingDay(t *testing.T) {
	c := mustCampaign(t)
	hours := []tiendo.HourCount{
		{Hour: local(c, 2021, 3, 20, 23, 0).UTC(), Records: 3},
		{Hour: local(c, 2021, 3, 21, 1, 0).UTC(), Records: 4}, // 01:00 on the 21st: the 20th's session
		{Hour: local(c, 2021, 3, 21, 4, 0).UTC(), Records: 5}, // the boundary: the 21st
	}
	got := DailyTotals(c, hours)
	want := []DayTotal{{Day: tiendo.DayOf(2021, 3, 20), Records: 7}, {Day: tiendo.DayOf(2021, 3, 21), Records: 5}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("DailyTotals = %v, want %v", got, want)
	}
}
