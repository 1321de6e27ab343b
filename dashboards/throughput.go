package dashboards

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"tiendo"
)

// buildThroughput answers "who is producing right now?": records of the last
// 60 minutes per station, most first. The province shows its top
// ProvinceLimit; a district or station scope shows all of its stations.
// Stations that are not open are greyed so a zero reads as "closed", not as
// "slow". Today's hourly line is the separate chart throughput_trend, so each
// panel can be placed and sized on its own.
func buildThroughput(v *view) (json.RawMessage, error) {
	tx, th := v.tx, v.th
	st := append([]tiendo.StationState(nil), v.snap.Stations...)
	sort.SliceStable(st, func(i, j int) bool {
		a, b := st[i], st[j]
		if a.PerHour != b.PerHour {
			return a.PerHour > b.PerHour
		}
		if a.CompletedToday != b.CompletedToday {
			return a.CompletedToday > b.CompletedToday
		}
		return a.ID < b.ID
	})
	truncated := false
	if v.snap.Scope.Kind == tiendo.ScopeProvince && len(st) > ProvinceLimit {
		st, truncated = st[:ProvinceLimit], true
	}
	names := make([]string, len(st))
	short := make([]string, len(st))
	data := make([]item, len(st))
	for i, s := range st {
		names[i] = stationLabel(s)
		short[i] = phoneLabel(names[i])
		it := item{ID: s.ID, Value: s.PerHour, Tooltip: tip(
			names[i],
			tx.lastHour+": "+v.fmtInt(s.PerHour)+" "+tx.records,
			tx.todayTotal+": "+v.fmtInt(s.CompletedToday)+" "+tx.records,
			tx.queue+": "+v.fmtInt(int64(s.Queue))+" · "+tx.staff+": "+v.fmtInt(int64(s.Staff))+" · "+v.statusWord(s.Status),
		)}
		if s.Status != tiendo.StatusOpen {
			it.ItemStyle = &opts.ItemStyle{Color: th.offline}
		}
		data[i] = it
	}
	sub := fmt.Sprintf(tx.throughputSub, v.fmtInt(v.snap.Totals.PerHour),
		v.fmtInt(int64(v.snap.Totals.StationsOpen)), v.fmtInt(int64(v.snap.Totals.Stations)))
	if truncated {
		sub += " · " + fmt.Sprintf(tx.topN, ProvinceLimit)
	}

	bar := charts.NewBar()
	bar.SetGlobalOptions(
		v.initOpts(ChartThroughput),
		charts.WithColorsOpts(opts.Colors{th.perHour}),
		charts.WithTitleOpts(th.title(tx.throughputTitle, sub)),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithGridOpts(opts.Grid{Left: "12", Right: "48", Top: "16", Bottom: "36", ContainLabel: opts.Bool(true)}),
		charts.WithXAxisOpts(opts.XAxis{Type: "value", Name: tx.recordsPerHour, NameLocation: "middle", NameGap: 26, MinInterval: 1,
			AxisLabel: th.axisLabel(), AxisLine: th.axisLine(), SplitLine: th.splitLine(true)}),
		charts.WithYAxisOpts(th.categoryY(names, 0)),
	)
	bar.AddSeries(tx.lastHour, nil, withData(data),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: th.perHour}),
		charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Position: "right", Color: th.text}),
		hideOverlap(),
	)
	// A phone: names cut shorter, so the bars have room; fewer ticks, as
	// every bar carries its number.
	return render(bar, th, map[string]any{"media": phone(map[string]any{
		"yAxis": []any{map[string]any{"data": short, "axisLabel": map[string]any{"width": 120}}},
		"xAxis": []any{map[string]any{"splitNumber": 2}},
	})})
}

// buildThroughputTrend answers "how is today going, hour by hour?": the
// scope's records per hour of today's working day against yesterday's. Hours
// run from opening (7:00) past midnight to the day boundary, in the
// campaign's time zone, so a 01:00 hour sits after 23:00, not before 7:00.
func buildThroughputTrend(v *view) (json.RawMessage, error) {
	tx, th, c := v.tx, v.th, v.c
	yesterday := v.today - 1
	first := v.firstHour(v.today, yesterday)
	// Today's hours stop at the current one: later hours have not happened
	// and must not read as zero.
	nowPos := 23
	if c.WorkingDay(v.snap.Now) == v.today {
		nowPos = c.HourOfDay(v.snap.Now)
	}
	var labels []string
	var todayData, yestData []item
	peakPos := -1
	var peak int64
	todayRow, yestRow := v.byHour[v.today], v.byHour[yesterday]
	for pos := first; pos < 24; pos++ {
		clock := c.ClockHour(pos)
		labels = append(labels, hourLabel(clock))
		var y int64
		if yestRow != nil {
			y = yestRow[pos]
		}
		yestData = append(yestData, item{Value: y,
			Tooltip: tip(v.fmtDay(yesterday)+" · "+hourSpan(clock), v.fmtInt(y)+" "+tx.records)})
		if pos <= nowPos && v.today >= c.Start {
			var t int64
			if todayRow != nil {
				t = todayRow[pos]
			}
			if t > peak {
				peak, peakPos = t, pos
			}
			todayData = append(todayData, item{Value: t,
				Tooltip: tip(v.fmtDay(v.today)+" · "+hourSpan(clock), v.fmtInt(t)+" "+tx.records)})
		}
	}
	sub := fmt.Sprintf(tx.trendSubNoPeak, v.fmtInt(v.snap.Totals.CompletedToday))
	if peakPos >= 0 {
		sub = fmt.Sprintf(tx.trendSub, v.fmtInt(v.snap.Totals.CompletedToday), hourLabel(c.ClockHour(peakPos)), v.fmtInt(peak))
	}

	line := charts.NewLine()
	line.SetGlobalOptions(
		v.initOpts(ChartThroughputTrend),
		charts.WithColorsOpts(opts.Colors{th.today, th.yesterday}),
		charts.WithTitleOpts(th.title(tx.trendTitle, sub)),
		charts.WithLegendOpts(th.legend()),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithGridOpts(opts.Grid{Left: "12", Right: "24", Top: "40", Bottom: "40", ContainLabel: opts.Bool(true)}),
		charts.WithXAxisOpts(v.hourAxisX()),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: tx.recordsPerHour, MinInterval: 1,
			AxisLabel: th.axisLabel(), AxisLine: th.axisLine(), SplitLine: th.splitLine(true)}),
	)
	line.SetXAxis(v.hourCategories(first))
	line.AddSeries(fmt.Sprintf(tx.todaySeries, v.fmtDay(v.today)), nil, withData(todayData),
		charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(true), Symbol: "circle", SymbolSize: 6}),
		charts.WithLineStyleOpts(opts.LineStyle{Width: 3, Color: th.today}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: th.today}),
		charts.WithAreaStyleOpts(opts.AreaStyle{Color: th.today, Opacity: opts.Float(0.15)}),
		v.noteAreas(v.today, first, th.note()),
	)
	line.AddSeries(fmt.Sprintf(tx.yesterdaySerie, v.fmtDay(yesterday)), nil, withData(yestData),
		charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(true), Symbol: "circle", SymbolSize: 3}),
		charts.WithLineStyleOpts(opts.LineStyle{Width: 2, Type: "dashed", Color: th.yesterday}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: th.yesterday}),
		v.noteAreas(yesterday, first, th.yesterday),
	)
	return render(line, th, nil)
}

// maxNoteAreas is how many notes one day's hourly line shades; the
// progress chart's pin of that day lists them all.
const maxNoteAreas = 8

// noteLabelRunes is how much of a note's text labels its area; the
// tooltip has the whole of it.
const noteLabelRunes = 24

// noteArea is one end of a note's mark area on the hour axis; the first
// carries the label and the tooltip.
type noteArea struct {
	Name    string       `json:"name,omitempty"`
	XAxis   string       `json:"xAxis"`
	Tooltip *itemTooltip `json:"tooltip,omitempty"`
}

// noteAreas shades, on a day's series of the hourly chart, the hours each
// of its notes covers, from the hour it starts to the one it ends in,
// rounded out to whole hours: the axis labels are hours, so a note of
// 14:00–17:00 runs from the 14:00 label to the 17:00 one, and one of
// 14:20–14:50 from 14:00 to 15:00. Hours before the axis's first (the
// day's opening) are cut off; a note wholly before it has no area.
func (v *view) noteAreas(day tiendo.Day, first int, color string) charts.SeriesOpts {
	c := v.c
	start, end := c.DayStart(day), c.DayEnd(day)
	var data []any
	for _, n := range v.sortedNotes() {
		if len(data) == maxNoteAreas {
			break
		}
		if !n.From.Before(end) || !n.To.After(start) {
			continue
		}
		from, to := maxTime(n.From, start), minTime(n.To, end)
		pos0, pos1 := max(c.HourOfDay(from), first), 23
		if to.Before(end) {
			pos1 = c.HourOfDay(to)
			if local := to.In(c.Location()); local.Minute() > 0 || local.Second() > 0 || local.Nanosecond() > 0 {
				pos1++ // ends within an hour: the area runs to the next label
			}
			pos1 = min(pos1, 23)
		}
		if pos1 <= pos0 {
			continue
		}
		label := n.Text
		if r := []rune(label); len(r) > noteLabelRunes {
			label = string(r[:noteLabelRunes-1]) + "…"
		}
		data = append(data, [2]noteArea{
			{Name: label, XAxis: hourLabel(c.ClockHour(pos0)),
				Tooltip: noteTip(noteTextFor(v.lang).series+" · "+v.fmtDay(day), v.noteLine(n))},
			{XAxis: hourLabel(c.ClockHour(pos1))},
		})
	}
	return charts.WithSeriesOpts(func(s *charts.SingleSeries) {
		if len(data) == 0 {
			return
		}
		s.MarkAreas = &opts.MarkAreas{Data: data, MarkAreaStyle: opts.MarkAreaStyle{
			Label:     &opts.Label{Show: opts.Bool(true), Position: "insideTop", Color: v.th.subtext, FontSize: 11},
			ItemStyle: &opts.ItemStyle{Color: color, Opacity: opts.Float(0.14)},
		}}
	})
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// firstHour is the first hour position the hourly charts show: opening time,
// or earlier if any of days has records before it (an early mobile team).
func (v *view) firstHour(days ...tiendo.Day) int {
	first := (v.c.OpenHour - v.c.DayBoundaryHour + 24) % 24 // HourOfDay of opening time
	for _, d := range days {
		if row := v.byHour[d]; row != nil {
			for pos := 0; pos < first; pos++ {
				if row[pos] > 0 {
					first = pos
					break
				}
			}
		}
	}
	return first
}

// hourCategories labels hour positions first..23 with their clock hours and
// marks the late-night ones (from LateNightHour to the boundary) in the
// theme's late colour, so the eye finds overtime at once.
func (v *view) hourCategories(first int) []category {
	var out []category
	for pos := first; pos < 24; pos++ {
		clock := v.c.ClockHour(pos)
		cat := category{Value: hourLabel(clock)}
		if v.isLateHour(clock) {
			cat.TextStyle = &opts.TextStyle{Color: v.th.lateText, FontWeight: "bold"}
		}
		out = append(out, cat)
	}
	return out
}

func (v *view) isLateHour(clock int) bool {
	return clock >= v.c.LateNightHour || clock < v.c.DayBoundaryHour
}

func (v *view) hourAxisX() opts.XAxis {
	return opts.XAxis{Type: "category", AxisLabel: v.th.axisLabel(), AxisLine: v.th.axisLine(),
		SplitLine: v.th.splitLine(false)}
}

func (v *view) statusWord(s tiendo.StationStatus) string {
	if w, ok := v.tx.statusWord[string(s)]; ok {
		return w
	}
	return strings.TrimSpace(string(s))
}
