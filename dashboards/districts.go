package dashboards

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"tiendo"
)

// districtRow is one district's figures on the chart.
type districtRow struct {
	d        tiendo.DistrictState
	pct      float64 // percent of quota done
	gap      float64 // Pace.Gap in points of the quota, for the order
	retries  float64 // fingerprint retries per record, weighted by records
	hasRetry bool
}

// buildDistricts answers "which districts are behind?" with each district's
// Pace: its percent of quota done against what the plan expects by now, red
// exactly when the Pace's state is behind or ended (the deadline is or was
// missed at the recent pace), most behind the plan at the top. A district
// ahead of the plan today can be red (a surplus that the recent pace will
// not carry to the deadline), and one short of the plan green; the tooltip
// says why with the Pace's finish date. The expected share is one plan share
// for every district, drawn as a line. Districts without a quota have no
// Pace and are left out. A second panel shows fingerprint retries per
// record, a known cause of slow stations (worn fingerprints).
func buildDistricts(v *view) (json.RawMessage, error) {
	tx, th := v.tx, v.th

	type acc struct{ retries, records float64 }
	accs := map[string]*acc{}
	for _, s := range v.snap.Stations {
		a := accs[s.District]
		if a == nil {
			a = &acc{}
			accs[s.District] = a
		}
		a.retries += s.RetriesPerRec * float64(s.Completed)
		a.records += float64(s.Completed)
	}
	rows := make([]districtRow, 0, len(v.snap.Districts))
	for _, d := range v.snap.Districts {
		if d.Pace == nil || d.Pace.Target <= 0 {
			continue
		}
		r := districtRow{d: d, pct: percentOf(d.Pace.Done, d.Pace.Target),
			gap: percentOf(d.Pace.Gap, d.Pace.Target)}
		if a := accs[d.ID]; a != nil && a.records > 0 {
			r.retries, r.hasRetry = math.Round(100*a.retries/a.records)/100, true
		}
		rows = append(rows, r)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].gap != rows[j].gap {
			return rows[i].gap < rows[j].gap
		}
		return rows[i].d.ID < rows[j].d.ID
	})
	expected := v.expectedPercent(rows)

	names := make([]string, len(rows))
	var onPace, behind, retries []item
	hide := &opts.Label{Show: opts.Bool(false)}
	tips := tipBook{}
	behindCount := 0
	maxPct := expected
	for i, r := range rows {
		p := r.d.Pace
		names[i] = r.d.Name
		if names[i] == "" {
			names[i] = r.d.ID
		}
		maxPct = math.Max(maxPct, r.pct)
		lines := []string{names[i], v.stateWord(p.State),
			fmt.Sprintf(tx.distDone, v.fmtInt(p.Done), v.fmtInt(p.Target), v.fmtPct(r.pct)),
			fmt.Sprintf(tx.distExpected, v.fmtPct(percentOf(p.ExpectedToDate, p.Target)), v.fmtInt(p.ExpectedToDate)),
			tx.gap + ": " + signed(p.Gap, v.lang) + " " + tx.records,
		}
		if p.ProjectedFinish != nil {
			lines = append(lines, fmt.Sprintf(tx.finishOn, v.fmtDate(*p.ProjectedFinish)))
		}
		if s := v.recentPace(p); s != "" {
			lines = append(lines, s)
		}
		if p.NeededPerDay != nil {
			lines = append(lines, fmt.Sprintf(tx.neededPace, v.fmtInt(*p.NeededPerDay)))
		}
		if r.hasRetry {
			lines = append(lines, fmt.Sprintf(tx.retriesTip, v.fmtDec(r.retries, 2)))
		}
		key := tips.add(r.d.ID, tip(lines...))
		pct := math.Round(10*r.pct) / 10
		shown := item{Value: pct, Tip: key,
			Label: &opts.Label{Show: opts.Bool(true), Position: "right", Formatter: v.fmtPct(r.pct)}}
		// The other stack's zero-width bar cannot be pointed at: no tooltip.
		empty := item{Value: 0, Label: hide}
		// Two stacked series rather than one with per-bar colours, so that
		// the legend can say what the colours mean.
		if paceMissed(p.State) {
			behindCount++
			shown.Label.Color = th.behind
			onPace, behind = append(onPace, empty), append(behind, shown)
		} else {
			shown.Label.Color = th.ahead
			onPace, behind = append(onPace, shown), append(behind, empty)
		}
		retries = append(retries, item{Value: r.retries, Tip: key,
			Label: &opts.Label{Show: opts.Bool(true), Position: "right", Color: th.retries,
				Formatter: v.fmtDec(r.retries, 2)}})
	}
	// Leave room for the value labels and keep the expected line inside
	// the axis: ECharts does not widen an axis for a markLine.
	xMax := math.Ceil(maxPct*1.2/5) * 5
	if xMax < 5 {
		xMax = 5
	}

	sub := fmt.Sprintf(tx.distSub, v.fmtPct(expected), v.fmtInt(int64(behindCount)), v.fmtInt(int64(len(rows))))
	bar := charts.NewBar()
	bar.SetGlobalOptions(
		v.initOpts(ChartDistricts),
		charts.WithColorsOpts(opts.Colors{th.ahead, th.behind, th.retries}),
		charts.WithTitleOpts(th.title(tx.distTitle, sub)),
		charts.WithLegendOpts(th.legend()),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithGridOpts(
			opts.Grid{Left: "12", Right: "38%", Top: "28", Bottom: "56", ContainLabel: opts.Bool(true)},
			opts.Grid{Left: "66%", Right: "48", Top: "28", Bottom: "56", ContainLabel: opts.Bool(true)},
		),
		charts.WithXAxisOpts(opts.XAxis{Type: "value", Name: "%", Min: 0, Max: xMax,
			AxisLabel: th.axisLabel(), AxisLine: th.axisLine(), SplitLine: th.splitLine(true)}),
		charts.WithYAxisOpts(th.categoryY(names, 0)),
	)
	bar.ExtendXAxis(opts.XAxis{Type: "value", Name: tx.retries, NameLocation: "middle", NameGap: 28, GridIndex: 1, Min: 0,
		AxisLabel: th.axisLabel(), AxisLine: th.axisLine(), SplitLine: th.splitLine(true)})
	retryAxis := th.categoryY(names, 1)
	retryAxis.AxisLabel = &opts.AxisLabel{Show: opts.Bool(false)}
	bar.ExtendYAxis(retryAxis)
	bar.AddSeries(tx.notBehind, nil, withData(onPace),
		charts.WithBarChartOpts(opts.BarChart{Stack: "pct"}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: th.ahead}),
		charts.WithMarkLineNameXAxisItemOpts(opts.MarkLineNameXAxisItem{
			Name: fmt.Sprintf(tx.expectedLine, v.fmtPct(expected)), XAxis: math.Round(100*expected) / 100}),
		charts.WithMarkLineStyleOpts(opts.MarkLineStyle{Symbol: []string{"none", "none"},
			Label: &opts.Label{Show: opts.Bool(true), Position: "start", Color: th.text,
				Formatter: fmt.Sprintf(tx.expectedLine, v.fmtPct(expected))},
			LineStyle: &opts.LineStyle{Color: th.text, Type: "dashed", Width: 2}}),
	)
	bar.AddSeries(tx.behind, nil, withData(behind),
		charts.WithBarChartOpts(opts.BarChart{Stack: "pct"}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: th.behind}),
	)
	bar.AddSeries(tx.retries, nil, withData(retries),
		charts.WithBarChartOpts(opts.BarChart{XAxisIndex: 1, YAxisIndex: 1}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: th.retries}),
	)
	// A phone: the retries panel narrower and its axis named shortly (the
	// percent axis unnamed: its bars say "%"), two ticks an axis (the bars
	// carry their numbers), and room under the plots for the legend's lines.
	return render(bar, th, map[string]any{"tips": tips, "media": phone(map[string]any{
		"grid":  []any{map[string]any{"right": "40%", "bottom": 80}, map[string]any{"left": "64%", "right": 36, "bottom": 80}},
		"yAxis": []any{map[string]any{"axisLabel": map[string]any{"width": 80}}},
		"xAxis": []any{map[string]any{"splitNumber": 2, "name": ""}, map[string]any{"splitNumber": 1, "name": tx.retriesShort}},
	})})
}

// expectedPercent is the plan's share by now, in percent, for the line:
// the scope's Pace.ExpectedToDate over its target, which is the plan share
// every district's Pace uses too (a district's own figure differs from it
// only by the rounding of its ExpectedToDate to whole records). Without a
// scope Pace, the first district's.
func (v *view) expectedPercent(rows []districtRow) float64 {
	if p := v.snap.Pace; p != nil && p.Target > 0 {
		return percentOf(p.ExpectedToDate, p.Target)
	}
	if len(rows) > 0 {
		return percentOf(rows[0].d.Pace.ExpectedToDate, rows[0].d.Pace.Target)
	}
	return 0
}
