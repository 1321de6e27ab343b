package dashboards

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"tiendo"
)

// LateNightDays is how many working days the late-night heatmap covers: two
// weeks show a habit without shrinking the cells.
const LateNightDays = 14

// buildLateNight answers "how late into the night do we work?". The heatmap
// has one column per working day (the last LateNightDays, today last) and
// one row per hour of the working day, from opening time down to the day
// boundary (07:00 … 03:00), in the campaign's time zone. A record made at
// 01:30 is in the previous day's column, in the 01:00 row: that is the
// working-day rule the whole product follows. Below it, a bar per day gives
// the share of that day's records made after LateNightHour; the subtitle
// adds how many stations are still working after midnight today.
func buildLateNight(v *view) (json.RawMessage, error) {
	tx, th, c := v.tx, v.th, v.c
	from := v.today - LateNightDays + 1
	if from < c.Start && v.today >= c.Start {
		from = c.Start
	}
	var days []tiendo.Day
	for d := from; d <= v.today; d++ {
		days = append(days, d)
	}
	first := v.firstHour(days...)
	dayLabels := make([]string, len(days))
	for i, d := range days {
		dayLabels[i] = v.fmtDay(d)
	}
	lateFrom := hourLabel(c.LateNightHour)
	shareName := fmt.Sprintf(tx.lateShare, lateFrom)

	var cells, share []item
	var maxCell int64
	for i, d := range days {
		row := v.byHour[d]
		var total int64
		if row != nil {
			for pos := 0; pos < 24; pos++ {
				total += row[pos]
			}
			for pos := first; pos < 24; pos++ {
				n := row[pos]
				if n <= 0 {
					continue // an empty cell means nobody worked that hour
				}
				maxCell = max(maxCell, n)
				clock := c.ClockHour(pos)
				cells = append(cells, item{Value: []int64{int64(i), int64(pos - first), n},
					Tooltip: tip(dayLabels[i]+" · "+hourSpan(clock), v.fmtInt(n)+" "+tx.records)})
			}
		}
		late := v.late[d]
		pct := 0.0
		if total > 0 {
			pct = math.Round(1000*float64(late)/float64(total)) / 10
		}
		share = append(share, item{Value: pct,
			Label: &opts.Label{Color: th.lateText, Formatter: v.fmtPct(pct)}, // shown by the series, hidden on a phone
			Tooltip: tip(dayLabels[i], fmt.Sprintf(tx.lateTip, v.fmtPct(pct), lateFrom,
				v.fmtInt(late), v.fmtInt(total)))})
	}

	todayPct := 0.0
	if n := len(share); n > 0 && days[n-1] == v.today {
		todayPct = share[n-1].Value.(float64)
	}
	sub := fmt.Sprintf(tx.lateSub, v.fmtPct(todayPct), lateFrom, v.fmtInt(int64(v.stationsAfterMidnight())))

	hm := charts.NewHeatMap()
	hm.SetGlobalOptions(
		v.initOpts(ChartLateNight),
		charts.WithColorsOpts(opts.Colors{th.heat[len(th.heat)-1], th.late}),
		charts.WithTitleOpts(th.title(fmt.Sprintf(tx.lateTitle, len(days)), sub)),
		// The legend names only the share bars: the heatmap explains itself
		// through its colour scale.
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Bottom: "0", Left: "center",
			Data: []string{shareName}, TextStyle: &opts.TextStyle{Color: th.text}}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithGridOpts(
			opts.Grid{Left: "12", Right: "90", Top: "16", Bottom: "34%", ContainLabel: opts.Bool(true)},
			opts.Grid{Left: "12", Right: "90", Top: "72%", Bottom: "40", ContainLabel: opts.Bool(true)},
		),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Data: dayLabels, AxisLabel: th.axisLabel(),
			AxisLine: th.axisLine(), SplitArea: &opts.SplitArea{Show: opts.Bool(true),
				AreaStyle: &opts.AreaStyle{Opacity: opts.Float(0)}}}),
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Data: v.hourCategories(first), Inverse: opts.Bool(true),
			AxisLabel: th.axisLabel(), AxisLine: th.axisLine(), SplitArea: &opts.SplitArea{Show: opts.Bool(true),
				AreaStyle: &opts.AreaStyle{Opacity: opts.Float(0)}}}),
	)
	hm.ExtendXAxis(th.categoryX(dayLabels, 1))
	// The share panel is a quarter of the chart's height, on a short
	// screen 45 px: its axis says 0 and a round top, no ticks between to
	// stand on each other (each bar carries its own figure).
	top := 5.0
	for _, it := range share {
		top = math.Max(top, math.Ceil(it.Value.(float64)/5)*5)
	}
	hm.ExtendYAxis(opts.YAxis{Type: "value", Name: "%", GridIndex: 1, Min: 0, Max: top, MinInterval: top,
		AxisLabel: th.axisLabel(), AxisLine: th.axisLine(), SplitLine: th.splitLine(true)})
	hm.AddSeries(tx.records, nil, withData(cells),
		charts.WithLabelOpts(opts.Label{Show: opts.Bool(false)}),
		charts.WithEmphasisOpts(opts.Emphasis{ItemStyle: &opts.ItemStyle{BorderColor: th.text, BorderWidth: 1}}),
	)
	shareBar := charts.NewBar()
	shareBar.AddSeries(shareName, nil, withData(share),
		charts.WithBarChartOpts(opts.BarChart{XAxisIndex: 1, YAxisIndex: 1, BarWidth: "50%"}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: th.late}),
		charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Position: "top"}),
		hideOverlap(),
	)
	hm.Overlap(shareBar)

	// go-echarts' VisualMap has no seriesIndex; without it the colour scale
	// would repaint the share bars too.
	visualMap := []map[string]any{{
		"type": "continuous", "seriesIndex": 0, "min": 0, "max": max(maxCell, 1), "calculable": false,
		"orient": "vertical", "right": 8, "top": 16, "itemHeight": 120,
		"inRange":   map[string]any{"color": th.heat},
		"textStyle": map[string]any{"color": th.subtext},
		"text":      []string{v.fmtInt(max(maxCell, 1)), "0"},
	}}
	// A phone: two weeks of share labels do not fit side by side (a bar is
	// about 20 px wide, "13,9%" 35), so the bars are read off their axis and
	// today's share is in the subtitle; the tooltip has each day's.
	return render(hm, th, map[string]any{"visualMap": visualMap, "media": phone(map[string]any{
		"series": []any{map[string]any{}, map[string]any{"label": map[string]any{"show": false}}},
	})})
}

// stationsAfterMidnight counts the stations with records today between
// midnight and the day boundary: the teams still serving citizens at 1 a.m.
func (v *view) stationsAfterMidnight() int {
	seen := map[string]bool{}
	for _, h := range v.stationHours {
		if h.Records <= 0 || h.Station == "" || v.c.WorkingDay(h.Hour) != v.today {
			continue
		}
		if h.Hour.In(v.c.Location()).Hour() < v.c.DayBoundaryHour {
			seen[h.Station] = true
		}
	}
	return len(seen)
}
