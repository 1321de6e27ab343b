package dashboards

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

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
	cumAt := map[tiendo.Day]int64{}
	for d := c.Start; d <= v.today && d <= last; d++ {
		i := int(d - c.Start)
		day := v.dayTotals[d]
		cum += day
		cumAt[d] = cum
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
				Tooltip: tip(fmt.Sprintf(tx.finishOn, v.fmtDate(finish)), v.recentPace(p))},
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
				Label:     &opts.Label{Show: opts.Bool(true), Formatter: label, Color: th.targetText, Position: "insideStartTop"},
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
		charts.WithGridOpts(opts.Grid{Left: "12", Right: "24", Top: "40", Bottom: "40", ContainLabel: opts.Bool(true)}),
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
	// A note sits on the day it starts: on the line of records done by
	// that day's end, or, for a day still ahead, on the plan's.
	marks := v.noteMarks(labels, last, func(d tiendo.Day) int64 {
		if d <= v.today {
			return cumAt[d]
		}
		if i := int(d - c.Start); p != nil && i < workingDays {
			return planAt(i)
		}
		return cum
	})
	if len(marks) > 0 {
		pins := charts.NewScatter()
		pins.AddSeries(noteTextFor(v.lang).series, nil, withData(marks),
			charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.Symbol, s.SymbolSize = "pin", 20 }),
			charts.WithItemStyleOpts(opts.ItemStyle{Color: th.note()}))
		line.Overlap(pins)
	}
	return render(line, th, nil)
}

// maxNotesPerTip is how many notes one day's pin lists; the rest are
// counted.
const maxNotesPerTip = 6

// noteMarks are the progress chart's note pins: one per working day from
// the campaign start to last on which notes start, at [day, y(day)], its
// tooltip listing them by start time.
func (v *view) noteMarks(labels []string, last tiendo.Day, y func(tiendo.Day) int64) []item {
	byDay := map[tiendo.Day][]tiendo.Note{}
	var days []tiendo.Day
	for _, n := range v.sortedNotes() {
		d := v.c.WorkingDay(n.From)
		if d < v.c.Start || d > last {
			continue
		}
		if byDay[d] == nil {
			days = append(days, d)
		}
		byDay[d] = append(byDay[d], n)
	}
	sort.Slice(days, func(i, j int) bool { return days[i] < days[j] })
	nt := noteTextFor(v.lang)
	var out []item
	for _, d := range days {
		i := int(d - v.c.Start)
		notes := byDay[d]
		lines := []string{nt.series + " · " + labels[i]}
		for k, n := range notes {
			if k == maxNotesPerTip {
				lines = append(lines, fmt.Sprintf(nt.more, v.fmtInt(int64(len(notes)-k))))
				break
			}
			lines = append(lines, v.noteLine(n))
		}
		out = append(out, item{Value: []int64{int64(i), y(d)}, Tooltip: noteTip(lines...)})
	}
	return out
}

// noteText is what the notes' marks say in one language (text.go holds
// the charts' other words).
type noteText struct {
	series string // the pins' legend entry and the tooltips' heading
	more   string // "and 3 more notes"
}

func noteTextFor(lang string) noteText {
	if lang == LangEN {
		return noteText{series: "Notes", more: "and %s more notes"}
	}
	return noteText{series: "Ghi chú", more: "và %s ghi chú khác"}
}

// note is the colour of notes: the theme's purple, which no other figure
// of the progress and hourly charts uses.
func (th theme) note() string { return th.retries }

// sortedNotes are the input's notes by start time, then by when they
// were written, whatever order they came in.
func (v *view) sortedNotes() []tiendo.Note {
	out := append([]tiendo.Note(nil), v.notes...)
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].From.Equal(out[j].From) {
			return out[i].From.Before(out[j].From)
		}
		return out[i].At.Before(out[j].At)
	})
	return out
}

// noteLine is a note in a tooltip: when, where (left out when that is the
// scope itself), what. "14:00–17:00 · Công an Xã Vũ Lễ: đội lưu động…"
func (v *view) noteLine(n tiendo.Note) string {
	line := v.noteSpan(n)
	if where := v.noteWhere(n); where != "" {
		line += " · " + where
	}
	return line + ": " + n.Text
}

// noteSpan is the time a note covers on the campaign's clock: hours alone
// within one working day (23:30–01:30 is one night's work, on the day
// the chart names), else with each end's calendar date.
func (v *view) noteSpan(n tiendo.Note) string {
	loc := v.c.Location()
	clock := func(t time.Time) string { return t.In(loc).Format("15:04") }
	if v.c.WorkingDay(n.From) == v.c.WorkingDay(n.To.Add(-time.Nanosecond)) { // To ends the note: not in it
		return clock(n.From) + "–" + clock(n.To)
	}
	date := func(t time.Time) string { return v.fmtDay(tiendo.DayOf(t.In(loc).Date())) }
	return date(n.From) + " " + clock(n.From) + " – " + date(n.To) + " " + clock(n.To)
}

// noteWhere names what a note is about, unless it is the chart's scope:
// its station, or its district.
func (v *view) noteWhere(n tiendo.Note) string {
	scope := v.snap.Scope
	if n.Station != "" {
		if scope.Kind == tiendo.ScopeStation && scope.ID == n.Station {
			return ""
		}
		for _, s := range v.snap.Stations {
			if s.ID == n.Station {
				return stationLabel(s)
			}
		}
		return n.Station
	}
	if scope.Kind == tiendo.ScopeDistrict && scope.ID == n.District {
		return ""
	}
	for _, d := range v.c.Districts {
		if d.ID == n.District {
			return d.Name
		}
	}
	return n.District
}

// noteTip is tip for text people wrote: escaped like every tooltip, and
// its braces written as HTML entities too, so that ECharts, which fills
// {a}, {b}, {c}… of a formatter string in, shows them as typed.
func noteTip(lines ...string) *itemTooltip {
	t := tip(lines...)
	t.Formatter = strings.NewReplacer("{", "&#123;", "}", "&#125;").Replace(t.Formatter)
	return t
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
		parts = append(parts, fmt.Sprintf(tx.finishOn, v.fmtDate(*p.ProjectedFinish)))
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
	parts = append(parts, fmt.Sprintf(tx.deadline, v.fmtDate(v.c.Deadline)))
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
