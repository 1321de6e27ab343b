package dashboards

import (
	"sort"

	"tiendo"
)

// DayTotal is the number of records completed in one working day.
type DayTotal struct {
	Day     tiendo.Day `json:"day"`
	Records int64      `json:"records"`
}

// DailyTotals sums hourly completions into working days. It cuts days with
// Campaign.WorkingDay, not at midnight, so records made at 01:30 count for
// the session that began the previous morning. The result is sorted by day.
func DailyTotals(c *tiendo.Campaign, hours []tiendo.HourCount) []DayTotal {
	byDay := map[tiendo.Day]int64{}
	for _, h := range hours {
		byDay[c.WorkingDay(h.Hour)] += h.Records
	}
	out := make([]DayTotal, 0, len(byDay))
	for d, n := range byDay {
		out = append(out, DayTotal{Day: d, Records: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Day < out[j].Day })
	return out
}
