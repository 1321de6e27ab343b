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
// the stations the snapshot lists first as having idle officers
// (Attention.Idle). Ordering by wait alone would push every idle station
// off the bottom of a province-wide list, and seeing both ends at once is
// the point: officers move from where nobody waits to where many do.
const idleReserve = 5

// queueLess orders the rows by the snapshot's wait, longest first, as
// Attention.Waits does (then the longer queue); stations without a wait
// (not open, or home-visit teams) come after every station with one.
func queueLess(a, b tiendo.StationState) bool {
	if (a.WaitMinutes != nil) != (b.WaitMinutes != nil) {
		return a.WaitMinutes != nil
	}
	if a.WaitMinutes != nil && *a.WaitMinutes != *b.WaitMinutes {
		return *a.WaitMinutes > *b.WaitMinutes
	}
	return a.Queue > b.Queue
}

// queueStations picks and orders the stations of the queue chart: all of a
// district or station scope; for the province the longest waits, with up to
// idleReserve rows given to the first stations of Attention.Idle. /screen
// shows ScreenQueueRows of any scope, the idle stations' share kept.
func queueStations(v *view) []tiendo.StationState {
	st := append([]tiendo.StationState(nil), v.snap.Stations...)
	sort.SliceStable(st, func(i, j int) bool { return queueLess(st[i], st[j]) })
	limit, reserve := ProvinceLimit, idleReserve
	switch {
	case v.screen:
		limit, reserve = ScreenQueueRows, idleReserve*ScreenQueueRows/ProvinceLimit
	case v.snap.Scope.Kind != tiendo.ScopeProvince:
		return st
	}
	if len(st) <= limit {
		return st
	}
	reserved := map[string]bool{}
	idle := v.attention().Idle
	for _, b := range idle[:min(len(idle), reserve)] {
		reserved[b.ID] = true
	}
	var sel []tiendo.StationState
	others := 0
	for _, s := range st {
		switch {
		case reserved[s.ID]:
			sel = append(sel, s)
		case others < limit-len(reserved):
			sel = append(sel, s)
			others++
		}
	}
	return sel
}

// buildQueue answers "where do people wait, and where do officers stand
// idle?" with each station's service figures from the snapshot: the wait of
// a citizen joining now (top axis, minutes; StationState.WaitMinutes), the
// queue, and the officers on duty split into those needed and those free to
// help elsewhere (bottom axis, people; StationState.IdleStaff).
//
// Home-visit teams have a visit list, not people standing in a queue: they
// get no wait bar and no queue bar, which would read as citizens waiting
// hours (finding 2's "7 h 0 min"). Their row shows instead, in its own
// colour and legend entry on the minutes axis, the time to finish the list
// (StationState.ListMinutes), so a district chief still sees how far a
// team's day runs. They sort after every station with a wait, as they are
// never the longest wait.
func buildQueue(v *view) (json.RawMessage, error) {
	tx, th := v.tx, v.th
	st := queueStations(v)
	names := make([]category, len(st))
	var queue, staff, idle, wait, list []item
	hide := &opts.Label{Show: opts.Bool(false)}
	tips := tipBook{}
	// A zero-width bar cannot be pointed at: it has no tooltip.
	zero := item{Value: 0, Label: hide}
	minutes := func(m float64, color string) item {
		// Shown by the series (so that a short chart can hide it), in the bar's colour.
		return item{Value: m, Label: &opts.Label{Color: color, Formatter: v.fmtInt(int64(m))}}
	}
	var mostPeople, mostMinutes float64
	for i, s := range st {
		mostPeople = math.Max(mostPeople, float64(max(s.Queue, s.Staff)))
		if s.WaitMinutes != nil {
			mostMinutes = math.Max(mostMinutes, *s.WaitMinutes)
		}
		if s.Kind == tiendo.KindHomeVisit && s.ListMinutes != nil {
			mostMinutes = math.Max(mostMinutes, *s.ListMinutes)
		}
		name := stationLabel(s)
		names[i] = category{Value: name}
		homeVisit := s.Kind == tiendo.KindHomeVisit
		t := tip(v.queueTip(s)...)
		if s.IdleStaff > 0 {
			names[i].TextStyle = &opts.TextStyle{Color: th.idleText, FontWeight: "bold"}
		}

		w, l := zero, zero
		if s.WaitMinutes != nil && *s.WaitMinutes > 0 {
			w = minutes(*s.WaitMinutes, th.wait)
			w.Tip = tips.add(s.ID, t)
		}
		if homeVisit && s.ListMinutes != nil && *s.ListMinutes > 0 {
			l = minutes(*s.ListMinutes, th.list)
			l.Tip = tips.add(s.ID, t)
		}

		q := zero
		if !homeVisit && s.Queue > 0 {
			q = item{Value: s.Queue, Tip: tips.add(s.ID, t)}
		}
		// Officers needed and officers free are stacked: each station has
		// one staff bar, its idle part in the idle colour.
		busy, free := zero, zero
		if s.Staff-s.IdleStaff > 0 {
			busy = item{Value: s.Staff - s.IdleStaff, Tip: tips.add(s.ID, t)}
		}
		if s.IdleStaff > 0 {
			free = item{Value: s.IdleStaff, Tip: tips.add(s.ID, t), ItemStyle: &opts.ItemStyle{Color: th.idle}}
		}
		w.ID, l.ID, q.ID, busy.ID, free.ID = s.ID, s.ID, s.ID, s.ID, s.ID
		wait, list, queue = append(wait, w), append(list, l), append(queue, q)
		staff, idle = append(staff, busy), append(idle, free)
	}

	unlabelled := map[string]any{"show": false}
	shortNames := make([]category, len(names))
	for i, n := range names {
		shortNames[i] = category{Value: phoneLabel(n.Value), TextStyle: n.TextStyle}
	}

	tot := v.snap.Totals
	sub := fmt.Sprintf(tx.queueSubNo, v.fmtInt(int64(tot.Queue)),
		v.fmtInt(int64(tot.StationsIdle)), v.fmtInt(int64(tot.IdleStaff)))
	if waits := v.attention().Waits; len(waits) > 0 && waits[0].WaitMinutes != nil {
		longest := waits[0].Name
		if longest == "" {
			longest = waits[0].ID
		}
		sub = fmt.Sprintf(tx.queueSub, v.fmtInt(int64(tot.Queue)), longest, v.fmtInt(int64(*waits[0].WaitMinutes)),
			v.fmtInt(int64(tot.StationsIdle)), v.fmtInt(int64(tot.IdleStaff)))
	}
	if tot.StationsLate > 0 {
		sub += " · " + fmt.Sprintf(tx.queueSubLate, v.fmtInt(int64(tot.StationsLate)), hourLabel(v.c.LateClose()))
	}

	bar := charts.NewBar()
	bar.SetGlobalOptions(
		v.initOpts(ChartQueue),
		charts.WithColorsOpts(opts.Colors{th.wait, th.list, th.queue, th.staff, th.idle}),
		charts.WithTitleOpts(th.title(tx.queueTitle, sub)),
		charts.WithLegendOpts(th.legend()),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		// Room at the bottom for the legend's two lines on a half-width panel.
		charts.WithGridOpts(opts.Grid{Left: "12", Right: "64", Top: "44", Bottom: "64", ContainLabel: opts.Bool(true)}),
		// Bottom axis: people (queue, staff). Top axis: minutes.
		charts.WithXAxisOpts(opts.XAxis{Type: "value", Name: tx.people, MinInterval: 1, Position: "bottom", Max: headroom(mostPeople),
			AxisLabel: th.axisLabel(), AxisLine: th.axisLine(), SplitLine: th.splitLine(true)}),
		charts.WithYAxisOpts(th.categoryY(names, 0)),
	)
	bar.ExtendXAxis(opts.XAxis{Type: "value", Name: tx.minutes, MinInterval: 1, Position: "top", Max: headroom(mostMinutes),
		AxisLabel: &opts.AxisLabel{Color: th.wait}, AxisLine: &opts.AxisLine{Show: opts.Bool(true),
			LineStyle: &opts.LineStyle{Color: th.wait}}, SplitLine: th.splitLine(false)})
	// The wait and the list time share a slot on the minutes axis: a row
	// has one or the other, never both.
	bar.AddSeries(tx.wait, nil, withData(wait),
		charts.WithBarChartOpts(opts.BarChart{XAxisIndex: 1, Stack: "minutes"}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: th.wait}),
		charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Position: "right"}),
		hideOverlap(),
	)
	bar.AddSeries(tx.listTime, nil, withData(list),
		charts.WithBarChartOpts(opts.BarChart{XAxisIndex: 1, Stack: "minutes"}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: th.list}),
		charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Position: "right"}),
		hideOverlap(),
	)
	bar.AddSeries(tx.queue, nil, withData(queue),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: th.queue}),
		charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Position: "right", Color: th.text}),
		hideOverlap(),
	)
	bar.AddSeries(tx.staffBusy, nil, withData(staff),
		charts.WithBarChartOpts(opts.BarChart{Stack: "staff"}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: th.staff}),
		charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Position: "right", Color: th.text}),
		hideOverlap(),
	)
	bar.AddSeries(tx.idleStaff, nil, withData(idle),
		charts.WithBarChartOpts(opts.BarChart{Stack: "staff"}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: th.idle}),
		charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Position: "right", Color: th.idleText}),
		hideOverlap(),
	)
	// A phone: shorter names, two ticks an axis, the axis names under and
	// over their ticks, and room under the plot for the legend's lines. Its
	// rows are too thin for four numbers each: the wait and the idle
	// officers keep theirs (the question this chart answers), the queue
	// and the busy officers are read off the people axis or the tooltip.
	// A chart too short for a line of text a row (the wall's, under an
	// alert band) shows no numbers at all: its side list has them.
	short := map[string]any{"query": map[string]any{"maxHeight": queueRowsFrom + queueRowHeight*len(st)},
		"option": map[string]any{"series": []any{
			map[string]any{"label": unlabelled}, map[string]any{"label": unlabelled}, map[string]any{"label": unlabelled},
			map[string]any{"label": unlabelled}, map[string]any{"label": unlabelled}}}}
	return render(bar, th, map[string]any{"tips": tips, "media": append(phone(map[string]any{
		"grid":   []any{map[string]any{"top": 48, "bottom": 136}},
		"legend": map[string]any{"itemGap": 8, "itemWidth": 14, "textStyle": map[string]any{"fontSize": 11}},
		"yAxis":  []any{map[string]any{"data": shortNames, "axisLabel": map[string]any{"width": 120}}},
		"series": []any{map[string]any{}, map[string]any{}, map[string]any{"label": unlabelled}, map[string]any{"label": unlabelled}},
		"xAxis": []any{map[string]any{"splitNumber": 2, "nameLocation": "middle", "nameGap": 24},
			map[string]any{"splitNumber": 2, "nameLocation": "middle", "nameGap": 22}},
	}), short)})
}

// headroom is a value axis's end a little past its longest bar, at a round
// number: the bar's number then stands inside the plot, clear of the axis
// names at its ends (a queue as long as the axis put its "70" on "phút").
// Nil leaves an empty axis to ECharts.
func headroom(most float64) any {
	if most <= 0 {
		return nil
	}
	want := most * 1.15
	step := math.Pow(10, math.Floor(math.Log10(want)))
	for _, m := range []float64{1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10} {
		if m*step >= want {
			return m * step
		}
	}
	return 10 * step
}

// A queue chart's rows need queueRowHeight pixels each for their numbers,
// over the queueRowsFrom its axes and legend take.
const (
	queueRowsFrom  = 108
	queueRowHeight = 16
)

// queueTip is a station's tooltip: its service figures as the snapshot
// gives them, named for what they are.
func (v *view) queueTip(s tiendo.StationState) []string {
	tx := v.tx
	lines := []string{stationLabel(s), v.statusWord(s.Status)}
	if s.Kind == tiendo.KindHomeVisit {
		lines = append(lines, tx.homeVisit, tx.listLeft+": "+v.fmtInt(int64(s.Queue)))
		if s.ListMinutes != nil {
			lines = append(lines, tx.listWord+": "+v.fmtInt(int64(*s.ListMinutes))+" "+tx.minutes)
		}
	} else {
		lines = append(lines, tx.queue+": "+v.fmtInt(int64(s.Queue))+" "+tx.people)
		if s.WaitMinutes != nil {
			lines = append(lines, tx.waitWord+": "+v.fmtInt(int64(*s.WaitMinutes))+" "+tx.minutes)
		}
	}
	if s.ClearsAt != nil {
		at := fmt.Sprintf(tx.clearsAt, s.ClearsAt.In(v.c.Location()).Format("15:04"))
		if s.Late {
			at += " · " + fmt.Sprintf(tx.lateNote, hourLabel(v.c.LateClose()))
		}
		lines = append(lines, at)
	}
	lines = append(lines, tx.staff+": "+v.fmtInt(int64(s.Staff)))
	if s.IdleStaff > 0 {
		lines = append(lines, fmt.Sprintf(tx.idleNote, v.fmtInt(int64(s.IdleStaff))))
	}
	return lines
}

// attention is the snapshot's attention lists; none for a snapshot without
// them (above province level, where no queue chart is drawn).
func (v *view) attention() tiendo.Attention {
	if v.snap.Attention == nil {
		return tiendo.Attention{}
	}
	return *v.snap.Attention
}
