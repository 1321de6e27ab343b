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

// buildProgress answers "will we make it?" by drawing the scope's Pace: the
// running total per working day, the plan the Pace measures against, and
// where the Pace's projection leads.
//
// The x axis has one category per working day from the campaign start
// through the deadline day (further when today or the projected finish lies
// past it). Every point of a finished day is the total at the END of that
// day; today's is the total now. The plan line is the target spread evenly
// over Campaign.WorkingDays, read at each day's end: the instant where the
// Pace's own plan (Campaign.PlanShare) no longer depends on the hour
// profile, so the line and Pace.ExpectedToDate are one plan. The forecast
// is a straight dashed line from today's total to the target on
// Pace.ProjectedFinish, so it crosses the target exactly on the date the
// subtitle names; its colour is the Pace's state. Nothing here projects.
func buildProgress(v *view) (json.RawMessage, error) {
	c, tx, th, p := v.c, v.tx, v.th, v.snap.Pace
	workingDays := c.WorkingDays()
	last := max(c.Deadline, v.today)
	if p != nil && p.ProjectedFinish != nil {
		last = max(last, *p.ProjectedFinish)
	}
	n := int(last-c.Start) + 1
	labels := make([]string, n)
	for i := range labels {
		labels[i] = v.fmtDay(c.Start + tiendo.Day(i))
	}
	var target int64
	if p != nil {
		target = p.Target
	}
	// planAt is the plan's total at the end of working day i (0-based),
	// rounded as Pace.ExpectedToDate is.
	planAt := func(i int) int64 {
		return int64(math.Round(float64(target) * (float64(i+1) / float64(workingDays))))
	}

	var plan []item
	for i := 0; p != nil && i < workingDays; i++ {
		plan = append(plan, item{Value: planAt(i),
			Tooltip: tip(fmt.Sprintf(tx.planByDay, labels[i], v.fmtInt(planAt(i))))})
	}

	var actual []item
	var cum int64
	for d := c.Start; d <= v.today && d <= last; d++ {
		i := int(d - c.Start)
		day := v.dayTotals[d]
		cum += day
		lines := []string{labels[i], tx.done + ": " + v.fmtInt(cum), tx.dayRecords + ": " + v.fmtInt(day)}
		switch {
		case p == nil:
		case d == v.today:
			// Today is not over: compare with what the plan expects by
			// now, the Pace's own figures.
			lines = append(lines, tx.expectedNow+": "+v.fmtInt(p.ExpectedToDate), tx.gap+": "+signed(p.Gap, v.lang))
		case i < workingDays:
			lines = append(lines, tx.planDayEnd+": "+v.fmtInt(planAt(i)), tx.gap+": "+signed(cum-planAt(i), v.lang))
		}
		actual = append(actual, item{Value: cum, Tooltip: tip(lines...)})
	}

	// Points are [category index, value] pairs: no placeholders for the
	// days before today.
	var forecast []item
	forecastColor := th.forecastOK
	if p != nil && p.ProjectedFinish != nil && v.today >= c.Start {
		finish := *p.ProjectedFinish
		forecast = []item{
			{Value: []int64{int64(v.today - c.Start), p.Done},
				Tooltip: tip(fmt.Sprintf(tx.forecastFrom, v.fmtDay(v.today), v.fmtInt(p.Done)))},
			{Value: []int64{int64(finish - c.Start), p.Target},
				Tooltip: tip(fmt.Sprintf(tx.finishOn, v.fmtDay(finish)), v.recentPace(p))},
		}
		if paceMissed(p.State) {
			forecastColor = th.forecastLate
		}
	}

	title := fmt.Sprintf(tx.progressNoTarget, v.fmtInt(v.snap.Totals.Completed))
	var targetLine []charts.SeriesOpts
	if p != nil {
		title = fmt.Sprintf(tx.progressTitle, v.fmtInt(p.Done), v.fmtInt(p.Target),
			v.fmtPct(percentOf(p.Done, p.Target)))
		label := fmt.Sprintf(tx.targetLine, v.fmtInt(p.Target))
		targetLine = []charts.SeriesOpts{
			charts.WithMarkLineNameYAxisItemOpts(opts.MarkLineNameYAxisItem{Name: label, YAxis: p.Target}),
			charts.WithMarkLineStyleOpts(opts.MarkLineStyle{Symbol: []string{"none", "none"},
				Label:     &opts.Label{Show: opts.Bool(true), Formatter: label, Color: th.target, Position: "insideStartTop"},
				LineStyle: &opts.LineStyle{Color: th.target, Type: "solid", Width: 1}}),
		}
	}
	var todayLine []charts.SeriesOpts
	if v.today >= c.Start {
		todayLine = []charts.SeriesOpts{
			charts.WithMarkLineNameXAxisItemOpts(opts.MarkLineNameXAxisItem{Name: tx.today, XAxis: v.fmtDay(v.today)}),
			charts.WithMarkLineStyleOpts(opts.MarkLineStyle{Symbol: []string{"none", "none"},
				Label:     &opts.Label{Show: opts.Bool(true), Formatter: tx.today, Color: th.subtext, Position: "end"},
				LineStyle: &opts.LineStyle{Color: th.axis, Type: "dotted", Width: 1}}),
		}
	}

	line := charts.NewLine()
	line.SetGlobalOptions(
		v.initOpts(ChartProgress),
		charts.WithColorsOpts(opts.Colors{th.done, th.plan, forecastColor}),
		charts.WithTitleOpts(th.title(title, progressSubtitle(v))),
		charts.WithLegendOpts(th.legend()),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithGridOpts(opts.Grid{Left: "12", Right: "24", Top: "84", Bottom: "40", ContainLabel: opts.Bool(true)}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", AxisLabel: th.axisLabel(), AxisLine: th.axisLine(),
			SplitLine: th.splitLine(false)}),
		charts.WithYAxisOpts(th.valueY(tx.records, 0)),
	)
	line.SetXAxis(labels)
	line.AddSeries(tx.done, nil, append([]charts.SeriesOpts{withData(actual),
		charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(true), Symbol: "circle", SymbolSize: 5}),
		charts.WithLineStyleOpts(opts.LineStyle{Width: 3, Color: th.done}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: th.done}),
		charts.WithAreaStyleOpts(opts.AreaStyle{Color: th.done, Opacity: opts.Float(0.12)}),
	}, todayLine...)...)
	line.AddSeries(tx.plan, nil, append([]charts.SeriesOpts{withData(plan),
		charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false), Symbol: "none"}),
		charts.WithLineStyleOpts(opts.LineStyle{Width: 2, Color: th.plan}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: th.plan}),
	}, targetLine...)...)
	line.AddSeries(tx.forecast, nil, withData(forecast),
		charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(true), Symbol: "circle", SymbolSize: 3}),
		charts.WithLineStyleOpts(opts.LineStyle{Width: 2, Type: "dashed", Color: forecastColor}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: forecastColor}),
	)
	return render(line, th, nil)
}

// progressSubtitle says what the scope's Pace says, and only that: the
// state, the projected finish (or why there is none), the pace the
// projection uses, what each day left must bring, and the deadline. A
// scope without a target has no Pace and gets no subtitle.
func progressSubtitle(v *view) string {
	tx, p := v.tx, v.snap.Pace
	if p == nil {
		return ""
	}
	parts := []string{v.stateWord(p.State)}
	switch {
	case p.ProjectedFinish != nil:
		parts = append(parts, fmt.Sprintf(tx.finishOn, v.fmtDay(*p.ProjectedFinish)))
	case p.State == tiendo.PaceTooEarly, p.State == tiendo.PaceNotStarted:
		parts = append(parts, tx.finishTooEarly)
	case p.State != tiendo.PaceDone:
		parts = append(parts, tx.finishNever)
	}
	if s := v.recentPace(p); s != "" {
		parts = append(parts, s)
	}
	if p.NeededPerDay != nil {
		parts = append(parts, fmt.Sprintf(tx.neededPace, v.fmtInt(*p.NeededPerDay)))
	}
	parts = append(parts, fmt.Sprintf(tx.deadline, v.fmtDay(v.c.Deadline)))
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
