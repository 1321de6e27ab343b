package dashboards

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"tiendo"
)

// buildProgress answers "will we make it?": the running total per working
// day, the straight line the target needs, and where the recent pace leads.
//
// The x axis has one category per working day from the campaign start to the
// last day before the deadline (further if the campaign runs late). Every
// point is the total at the END of that working day, so the pace-needed line
// reaches the target on the last day, whose end is the deadline, and starts
// from zero at the campaign's start just before the first point. Working
// days come from Campaign.WorkingDay: 01:30 belongs to the day before.
func buildProgress(v *view) (json.RawMessage, error) {
	c, tx, th, p := v.c, v.tx, v.th, v.proj
	campaignDays := int(c.Deadline - c.Start)
	last := c.Deadline - 1
	if v.today > last {
		last = v.today
	}
	n := int(last-c.Start) + 1
	labels := make([]string, n)
	for i := range labels {
		labels[i] = v.fmtDay(c.Start + tiendo.Day(i))
	}
	neededAt := func(i int) int64 {
		if i >= campaignDays {
			return v.target
		}
		return int64(math.Round(float64(v.target) * float64(i+1) / float64(campaignDays)))
	}

	hasTarget := v.target > 0 // a station may have no quota of its own
	var needed []item
	for i := 0; hasTarget && i < n && i < campaignDays; i++ {
		needed = append(needed, item{Value: neededAt(i),
			Tooltip: tip(fmt.Sprintf(tx.neededByDay, labels[i], v.fmtInt(neededAt(i))))})
	}

	var actual []item
	var cum int64
	for d := c.Start; d <= v.today && d <= last; d++ {
		i := int(d - c.Start)
		day := v.dayTotals[d]
		cum += day
		lines := []string{labels[i], tx.done + ": " + v.fmtInt(cum), tx.dayRecords + ": " + v.fmtInt(day)}
		if hasTarget && i < campaignDays {
			need := neededAt(i)
			lines = append(lines, tx.needed+": "+v.fmtInt(need), tx.gap+": "+signed(cum-need, v.lang))
		}
		actual = append(actual, item{Value: cum, Tooltip: tip(lines...)})
	}

	// The projection runs from today's point towards the last day before
	// the deadline and stops where it meets the target, so the finish day
	// is where the dashed line crosses the target line (and a fast pace
	// does not stretch the y axis far past the target). Points are
	// [category index, value] pairs: no placeholders for the days before
	// today.
	var forecast []item
	if hasTarget && v.today >= c.Start && v.today < c.Deadline && p.PaceDays > 0 && p.Done < v.target {
		for d := v.today; d < c.Deadline; d++ {
			val := p.At(d)
			if d == v.today {
				val = p.Done
			}
			i := int(d - c.Start)
			forecast = append(forecast, item{Value: []int64{int64(i), val},
				Tooltip: tip(fmt.Sprintf(tx.forecastByDay, labels[i], v.fmtInt(val)))})
			if val >= v.target {
				break
			}
		}
	}
	forecastColor := th.forecastOK
	if !p.OnTrack {
		forecastColor = th.forecastLate
	}

	title := fmt.Sprintf(tx.progressNoTarget, v.fmtInt(p.Done))
	var targetLine []charts.SeriesOpts
	if hasTarget {
		title = fmt.Sprintf(tx.progressTitle, v.fmtInt(p.Done), v.fmtInt(v.target),
			v.fmtPct(percentOf(p.Done, v.target)))
		label := fmt.Sprintf(tx.targetLine, v.fmtInt(v.target))
		targetLine = []charts.SeriesOpts{
			charts.WithMarkLineNameYAxisItemOpts(opts.MarkLineNameYAxisItem{Name: label, YAxis: v.target}),
			charts.WithMarkLineStyleOpts(opts.MarkLineStyle{Symbol: []string{"none", "none"},
				Label:     &opts.Label{Show: opts.Bool(true), Formatter: label, Color: th.target, Position: "insideStartTop"},
				LineStyle: &opts.LineStyle{Color: th.target, Type: "solid", Width: 1}}),
		}
	}

	line := charts.NewLine()
	line.SetGlobalOptions(
		v.initOpts(ChartProgress),
		charts.WithColorsOpts(opts.Colors{th.done, th.needed, forecastColor}),
		charts.WithTitleOpts(th.title(title, progressSubtitle(v))),
		charts.WithLegendOpts(th.legend()),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithGridOpts(opts.Grid{Left: "12", Right: "24", Top: "84", Bottom: "40", ContainLabel: opts.Bool(true)}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", AxisLabel: th.axisLabel(), AxisLine: th.axisLine(),
			SplitLine: th.splitLine(false)}),
		charts.WithYAxisOpts(th.valueY(tx.records, 0)),
	)
	line.SetXAxis(labels)
	line.AddSeries(tx.done, nil, withData(actual),
		charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(true), Symbol: "circle", SymbolSize: 5}),
		charts.WithLineStyleOpts(opts.LineStyle{Width: 3, Color: th.done}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: th.done}),
		charts.WithAreaStyleOpts(opts.AreaStyle{Color: th.done, Opacity: opts.Float(0.12)}),
		charts.WithMarkLineNameXAxisItemOpts(opts.MarkLineNameXAxisItem{Name: tx.today, XAxis: v.fmtDay(v.today)}),
		charts.WithMarkLineStyleOpts(opts.MarkLineStyle{Symbol: []string{"none", "none"},
			Label:     &opts.Label{Show: opts.Bool(true), Formatter: tx.today, Color: th.subtext, Position: "end"},
			LineStyle: &opts.LineStyle{Color: th.axis, Type: "dotted", Width: 1}}),
	)
	line.AddSeries(tx.needed, nil, append([]charts.SeriesOpts{withData(needed),
		charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false), Symbol: "none"}),
		charts.WithLineStyleOpts(opts.LineStyle{Width: 2, Color: th.needed}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: th.needed}),
	}, targetLine...)...)
	line.AddSeries(tx.forecast, nil, withData(forecast),
		charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(true), Symbol: "circle", SymbolSize: 3}),
		charts.WithLineStyleOpts(opts.LineStyle{Width: 2, Type: "dashed", Color: forecastColor}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: forecastColor}),
	)
	return render(line, th, nil)
}

// progressSubtitle names the finish date (or says there is none at this
// pace), the recent pace, what is needed per day, and the deadline.
func progressSubtitle(v *view) string {
	tx, p := v.tx, v.proj
	var parts []string
	switch {
	case v.target <= 0:
		// Nothing to finish: the subtitle gives the pace alone.
	case p.Done >= v.target:
		parts = append(parts, fmt.Sprintf(tx.reachedOn, v.fmtDay(p.FinishDay)))
	case p.PaceDays == 0:
		parts = append(parts, tx.finishNoData)
	case p.FinishDay.IsZero():
		parts = append(parts, tx.finishNever)
	case p.OnTrack:
		parts = append(parts, fmt.Sprintf(tx.finishOn, v.fmtDay(p.FinishDay)))
	default:
		parts = append(parts, fmt.Sprintf(tx.finishLate, v.fmtDay(p.FinishDay)))
	}
	if p.PaceDays > 0 {
		parts = append(parts, fmt.Sprintf(tx.pace7, v.fmtInt(int64(math.Round(p.PacePerDay)))))
	}
	if p.NeededPerDay > 0 {
		parts = append(parts, fmt.Sprintf(tx.neededPace, v.fmtInt(int64(math.Ceil(p.NeededPerDay)))))
	}
	if v.target > 0 {
		parts = append(parts, fmt.Sprintf(tx.deadline, v.fmtDay(v.c.Deadline)))
	}
	return strings.Join(parts, " · ")
}

// signed writes n with an explicit sign, so a gap reads as ahead or behind.
func signed(n int64, lang string) string {
	if n > 0 {
		return "+" + FormatInt(n, lang)
	}
	if n < 0 {
		return "−" + FormatInt(-n, lang)
	}
	return "0"
}

func percentOf(done, target int64) float64 {
	if target <= 0 {
		return 0
	}
	return 100 * float64(done) / float64(target)
}
