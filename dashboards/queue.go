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

// idleReserve is how many of the province's ProvinceLimit rows are kept for
// stations with idle staff. Sorting by wait alone would push every idle
// station off the bottom of a province-wide list, and seeing both ends at
// once is the point: staff move from where nobody waits to where many do.
const idleReserve = 5

// isIdle reports whether an open station has staff on duty and nobody
// waiting: staff a chief could send elsewhere. A paused station's staff are
// on a break, not idle; a stale station reports no staff at all (the
// snapshot zeroes it), so old information never makes a station idle.
func isIdle(s tiendo.StationState) bool {
	return s.Status == tiendo.StatusOpen && s.Staff > 0 && s.Queue == 0
}

// queueLess orders stations by estimated wait, longest first; then by queue
// length; stations with idle staff last, most staff first.
func queueLess(a, b tiendo.StationState) bool {
	if a.WaitMinutes != b.WaitMinutes {
		return a.WaitMinutes > b.WaitMinutes
	}
	if a.Queue != b.Queue {
		return a.Queue > b.Queue
	}
	if a.Staff != b.Staff {
		return a.Staff > b.Staff
	}
	return a.ID < b.ID
}

// queueStations picks and orders the stations of the queue chart: all of a
// district or station scope; for the province the ProvinceLimit longest
// waits, with up to idleReserve rows given to the idlest stations.
func queueStations(v *view) []tiendo.StationState {
	st := append([]tiendo.StationState(nil), v.snap.Stations...)
	sort.SliceStable(st, func(i, j int) bool { return queueLess(st[i], st[j]) })
	if v.snap.Scope.Kind != tiendo.ScopeProvince || len(st) <= ProvinceLimit {
		return st
	}
	var idle []tiendo.StationState
	for _, s := range st {
		if isIdle(s) {
			idle = append(idle, s) // already most staff first
		}
	}
	keepIdle := min(len(idle), idleReserve)
	sel := append([]tiendo.StationState(nil), st[:ProvinceLimit]...)
	have := 0
	for _, s := range sel {
		if isIdle(s) {
			have++
		}
	}
	if have < keepIdle {
		chosen := map[string]bool{}
		for _, s := range sel {
			chosen[s.ID] = true
		}
		// Replace the least urgent non-idle rows from the bottom up.
		j := len(sel) - 1
		for _, s := range idle {
			if have >= keepIdle {
				break
			}
			if chosen[s.ID] {
				continue
			}
			for j >= 0 && isIdle(sel[j]) {
				j--
			}
			if j < 0 {
				break
			}
			sel[j] = s
			j--
			have++
		}
		sort.SliceStable(sel, func(i, j int) bool { return queueLess(sel[i], sel[j]) })
	}
	return sel
}

// buildQueue answers "where do people wait, and where do staff idle?": per
// station the estimated wait (top axis, minutes), the queue and the staff on
// duty (bottom axis, people), ordered by wait. Staff of a station nobody is
// waiting at are drawn in the idle colour, in their own legend entry, and the
// station's name is coloured the same.
func buildQueue(v *view) (json.RawMessage, error) {
	tx, th := v.tx, v.th
	st := queueStations(v)
	names := make([]category, len(st))
	var queue, staff, idle, wait []item
	hide := &opts.Label{Show: opts.Bool(false)}
	for i, s := range st {
		name := stationLabel(s)
		names[i] = category{Value: name}
		lines := []string{name,
			tx.queue + ": " + v.fmtInt(int64(s.Queue)) + " " + tx.people,
			tx.staff + ": " + v.fmtInt(int64(s.Staff)),
			tx.wait + ": " + v.fmtInt(int64(math.Round(s.WaitMinutes))),
			v.statusWord(s.Status),
		}
		if isIdle(s) {
			names[i].TextStyle = &opts.TextStyle{Color: th.idle, FontWeight: "bold"}
			lines = append(lines, tx.idleNote)
		}
		t := tip(lines...)
		q := item{Value: s.Queue, Tooltip: t}
		if s.Queue == 0 {
			q.Label = hide
		}
		queue = append(queue, q)
		w := item{Value: math.Round(s.WaitMinutes), Tooltip: t,
			Label: &opts.Label{Show: opts.Bool(true), Position: "right", Color: th.wait,
				Formatter: v.fmtInt(int64(math.Round(s.WaitMinutes)))}}
		if s.WaitMinutes <= 0 {
			w.Label = hide
		}
		wait = append(wait, w)
		// Staff go to the idle series or the staff series, never both: the
		// two are stacked, so each station still has one staff bar.
		if isIdle(s) {
			staff = append(staff, item{Value: 0, Label: hide, Tooltip: t})
			idle = append(idle, item{Value: s.Staff, Tooltip: t,
				ItemStyle: &opts.ItemStyle{Color: th.idle}})
		} else {
			it := item{Value: s.Staff, Tooltip: t}
			if s.Staff == 0 {
				it.Label = hide
			}
			staff = append(staff, it)
			idle = append(idle, item{Value: 0, Label: hide, Tooltip: t})
		}
	}

	var waiting int64
	idleCount := 0
	for _, s := range v.snap.Stations {
		waiting += int64(s.Queue)
		if isIdle(s) {
			idleCount++
		}
	}
	sub := fmt.Sprintf(tx.queueSubNo, v.fmtInt(waiting), v.fmtInt(int64(idleCount)))
	if len(st) > 0 && st[0].WaitMinutes > 0 {
		sub = fmt.Sprintf(tx.queueSub, v.fmtInt(waiting), stationLabel(st[0]),
			v.fmtInt(int64(math.Round(st[0].WaitMinutes))), v.fmtInt(int64(idleCount)))
	}

	bar := charts.NewBar()
	bar.SetGlobalOptions(
		v.initOpts(ChartQueue),
		charts.WithColorsOpts(opts.Colors{th.wait, th.queue, th.staff, th.idle}),
		charts.WithTitleOpts(th.title(tx.queueTitle, sub)),
		charts.WithLegendOpts(th.legend()),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithGridOpts(opts.Grid{Left: "12", Right: "64", Top: "96", Bottom: "40", ContainLabel: opts.Bool(true)}),
		// Bottom axis: people (queue, staff). Top axis: minutes of wait.
		charts.WithXAxisOpts(opts.XAxis{Type: "value", Name: tx.people, MinInterval: 1, Position: "bottom",
			AxisLabel: th.axisLabel(), AxisLine: th.axisLine(), SplitLine: th.splitLine(true)}),
		charts.WithYAxisOpts(th.categoryY(names, 0)),
	)
	bar.ExtendXAxis(opts.XAxis{Type: "value", Name: tx.minutes, MinInterval: 1, Position: "top",
		AxisLabel: &opts.AxisLabel{Color: th.wait}, AxisLine: &opts.AxisLine{Show: opts.Bool(true),
			LineStyle: &opts.LineStyle{Color: th.wait}}, SplitLine: th.splitLine(false)})
	bar.AddSeries(tx.wait, nil, withData(wait),
		charts.WithBarChartOpts(opts.BarChart{XAxisIndex: 1}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: th.wait}),
	)
	bar.AddSeries(tx.queue, nil, withData(queue),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: th.queue}),
		charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Position: "right", Color: th.text}),
	)
	bar.AddSeries(tx.staff, nil, withData(staff),
		charts.WithBarChartOpts(opts.BarChart{Stack: "staff"}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: th.staff}),
		charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Position: "right", Color: th.text}),
	)
	bar.AddSeries(tx.idleStaff, nil, withData(idle),
		charts.WithBarChartOpts(opts.BarChart{Stack: "staff"}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: th.idle}),
		charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Position: "right", Color: th.idle}),
	)
	return render(bar, th, nil)
}
