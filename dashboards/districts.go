package dashboards

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"tiendo"
)

// ExpectedPercent is the share of a quota that the straight pace-needed line
// asks for at instant now: the elapsed fraction of the campaign, from its
// start to its deadline, in percent (0–100). The same for every district,
// because every quota runs over the same dates.
func ExpectedPercent(c *tiendo.Campaign, now time.Time) float64 {
	start, end := c.StartTime(), c.DeadlineTime()
	if !now.After(start) {
		return 0
	}
	if !now.Before(end) {
		return 100
	}
	return 100 * float64(now.Sub(start)) / float64(end.Sub(start))
}

// districtRow is one district's figures on the chart.
type districtRow struct {
	d        tiendo.DistrictState
	pct, gap float64 // percent done; percent done minus expected
	retries  float64 // fingerprint retries per record, weighted by records
	hasRetry bool
}

// buildDistricts answers "which districts are behind?": each district's
// percent of quota done, green when at or past the percent the pace-needed
// line expects by now and red when behind, most behind at the top, with the
// expected percent as a vertical line. A second panel shows fingerprint
// retries per record, a known cause of slow stations (worn fingerprints).
func buildDistricts(v *view) (json.RawMessage, error) {
	tx, th := v.tx, v.th
	expected := ExpectedPercent(v.c, v.snap.Now)

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
		r := districtRow{d: d, pct: percentOf(d.Completed, d.Quota)}
		r.gap = r.pct - expected
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

	names := make([]string, len(rows))
	var ahead, behind, retries []item
	hide := &opts.Label{Show: opts.Bool(false)}
	behindCount := 0
	maxPct := expected
	for i, r := range rows {
		names[i] = r.d.Name
		if names[i] == "" {
			names[i] = r.d.ID
		}
		maxPct = math.Max(maxPct, r.pct)
		expRecords := int64(math.Round(float64(r.d.Quota) * expected / 100))
		lines := []string{names[i],
			fmt.Sprintf(tx.distDone, v.fmtInt(r.d.Completed), v.fmtInt(r.d.Quota), v.fmtPct(r.pct)),
			fmt.Sprintf(tx.distExpected, v.fmtPct(expected), v.fmtInt(expRecords)),
			tx.gap + ": " + signed(r.d.Completed-expRecords, v.lang) + " " + tx.records,
		}
		if r.hasRetry {
			lines = append(lines, fmt.Sprintf(tx.retriesTip, v.fmtDec(r.retries, 2)))
		}
		t := tip(lines...)
		pct := math.Round(10*r.pct) / 10
		shown := item{Value: pct, Tooltip: t,
			Label: &opts.Label{Show: opts.Bool(true), Position: "right", Formatter: v.fmtPct(r.pct)}}
		empty := item{Value: 0, Label: hide, Tooltip: t}
		// Ahead and behind are two stacked series rather than one series
		// with per-bar colours, so that the legend can say what the colours
		// mean.
		if r.pct >= expected {
			shown.Label.Color = th.ahead
			ahead, behind = append(ahead, shown), append(behind, empty)
		} else {
			behindCount++
			shown.Label.Color = th.behind
			ahead, behind = append(ahead, empty), append(behind, shown)
		}
		retries = append(retries, item{Value: r.retries, Tooltip: t,
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
			opts.Grid{Left: "12", Right: "38%", Top: "72", Bottom: "40", ContainLabel: opts.Bool(true)},
			opts.Grid{Left: "66%", Right: "48", Top: "72", Bottom: "40", ContainLabel: opts.Bool(true)},
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
	bar.AddSeries(tx.ahead, nil, withData(ahead),
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
	return render(bar, th, nil)
}
