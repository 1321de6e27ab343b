package dashboards

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"tiendo"
)

// Chart names, the keys of Charts. The page has one panel per name.
const (
	ChartProgress        = "progress"
	ChartThroughput      = "throughput"
	ChartThroughputTrend = "throughput_trend"
	ChartQueue           = "queue"
	ChartLateNight       = "latenight"
	ChartDistricts       = "districts" // province scope only
	ChartStationMap      = "map"       // province and district scopes
)

// AssetsHost is where go-echarts would load ECharts from if a chart were
// ever rendered to HTML: our own static files, never a CDN.
const AssetsHost = "/static/vendor/"

// ProvinceLimit is how many stations a province-wide bar chart shows; the
// province has about two hundred, far more than a screen can label.
const ProvinceLimit = 20

// ScreenQueueRows is how many stations the queue chart of /screen shows,
// of a province or a district alike: under an alert band its plot is
// about 200 px high, which 20 rows make 7 px each, too thin to read at
// 5 m; its side list names the longest waits in large type.
const ScreenQueueRows = 10

// Input is one scope's query results at one instant.
type Input struct {
	Campaign *tiendo.Campaign
	// Snapshot is the scope's live snapshot: totals, stations, districts
	// when the scope is the province, and every decision figure the charts
	// show (Pace, the stations' service figures, Attention). Build draws
	// these as they are; it needs no hour profile of its own.
	Snapshot *tiendo.Snapshot
	// Hours are the scope's completions per UTC hour from the campaign start
	// to now, summed over its stations (Station empty).
	Hours []tiendo.HourCount
	// Notes are the scope's timeline notes, drawn on the progress and
	// throughput charts.
	Notes []tiendo.Note
	// StationHours are completions per station and hour for the current
	// working day (Station set).
	StationHours []tiendo.HourCount
	Lang         string // "vi" (default) or "en"
	Dark         bool   // command-room theme: light text on a dark background
	// Screen is the command room's /screen, read from across the room:
	// the queue chart shows ScreenQueueRows rows, not ProvinceLimit.
	Screen bool
}

// Charts maps a chart name to its complete ECharts 5 option JSON.
type Charts map[string]json.RawMessage

// Build computes every chart of the input's scope. The "districts" chart is
// present only for the province scope, where the snapshot carries districts.
// It returns an error only for an input it cannot chart at all.
func Build(in Input) (Charts, error) {
	if in.Campaign == nil {
		return nil, errors.New("dashboards: input has no campaign")
	}
	if in.Snapshot == nil {
		return nil, errors.New("dashboards: input has no snapshot")
	}
	v := newView(in)
	builders := []struct {
		name  string
		build func(*view) (json.RawMessage, error)
	}{
		{ChartProgress, buildProgress},
		{ChartThroughputTrend, buildThroughputTrend},
		{ChartLateNight, buildLateNight},
	}
	// Above the province level (the nation's ~12,700 stations) the
	// charts of stations one by one say nothing a room can act on: the
	// provinces' page has them.
	perStation := in.Snapshot.ListsStations()
	if perStation {
		builders = append(builders, []struct {
			name  string
			build func(*view) (json.RawMessage, error)
		}{{ChartThroughput, buildThroughput}, {ChartQueue, buildQueue}}...)
	}
	if in.Snapshot.Scope.Kind == tiendo.ScopeProvince && len(in.Snapshot.Districts) > 0 {
		builders = append(builders, struct {
			name  string
			build func(*view) (json.RawMessage, error)
		}{ChartDistricts, buildDistricts})
	}
	if in.Snapshot.Scope.Kind != tiendo.ScopeStation && perStation {
		builders = append(builders, struct {
			name  string
			build func(*view) (json.RawMessage, error)
		}{ChartStationMap, buildStationMap})
	}
	out := make(Charts, len(builders))
	for _, b := range builders {
		raw, err := b.build(v)
		if err != nil {
			return nil, fmt.Errorf("dashboards: %s: %w", b.name, err)
		}
		out[b.name] = raw
	}
	return out, nil
}

// view is the input digested once for all charts.
type view struct {
	c     *tiendo.Campaign
	snap  *tiendo.Snapshot
	lang  string
	tx    *text
	th    theme
	today tiendo.Day
	// screen: Input.Screen
	screen bool

	dayTotals    map[tiendo.Day]int64      // records per working day; today's agrees with the snapshot
	byHour       map[tiendo.Day]*[24]int64 // records by working day and hour position
	late         map[tiendo.Day]int64      // records after LateNightHour, by working day
	stationHours []tiendo.HourCount        // Input.StationHours
	notes        []tiendo.Note             // Input.Notes
}

func newView(in Input) *view {
	c, snap := in.Campaign, in.Snapshot
	v := &view{c: c, snap: snap, lang: normLang(in.Lang), stationHours: in.StationHours, notes: in.Notes, screen: in.Screen,
		byHour: map[tiendo.Day]*[24]int64{}, late: map[tiendo.Day]int64{}, dayTotals: map[tiendo.Day]int64{}}
	v.tx = textFor(v.lang)
	v.th = themeFor(in.Dark)
	v.today = snap.Day
	if v.today.IsZero() {
		v.today = c.WorkingDay(snap.Now)
	}
	for _, d := range DailyTotals(c, in.Hours) {
		if d.Day <= v.today {
			v.dayTotals[d.Day] = d.Records
		}
	}
	for _, h := range in.Hours {
		d := c.WorkingDay(h.Hour)
		if d > v.today {
			continue
		}
		row := v.byHour[d]
		if row == nil {
			row = new([24]int64)
			v.byHour[d] = row
		}
		row[c.HourOfDay(h.Hour)] += h.Records
		if c.IsLateNight(h.Hour) {
			v.late[d] += h.Records
		}
	}
	// The snapshot's total is the figure every other panel shows; make the
	// series agree with it by letting today absorb any difference (records
	// the hourly rollup has not caught up with yet).
	if v.today >= c.Start {
		var before int64
		for d, n := range v.dayTotals {
			if d >= c.Start && d < v.today {
				before += n
			}
		}
		if snap.Totals.Completed >= before {
			v.dayTotals[v.today] = snap.Totals.Completed - before
		}
	}
	return v
}

// theme carries the colours of one screen type. The page owns fonts and
// background; the option must still set every text colour, because ECharts'
// defaults are dark grey and vanish on the command room's dark screen.
type theme struct {
	dark                                 bool
	text, subtext, axis, split           string
	done, plan, forecastOK, forecastLate string
	target                               string
	perHour, offline                     string
	today, yesterday                     string
	queue, staff, idle, wait, list       string
	ahead, behind, retries               string
	late                                 string
	// Text in a series' colour (the idle stations' names and labels, the
	// target's label, stations closing late) needs 4.5:1 against the
	// panel, more than a bar's 3:1 (WCAG 1.4.3 and 1.4.11): on the light
	// theme it is a darker shade of the fill. theme_test.go checks both.
	idleText, targetText, lateText string
	heat                           []string
	palette                        []string
}

func themeFor(dark bool) theme {
	if dark {
		return theme{
			dark: true, text: "#f2f4f7", subtext: "#c3c9d2", axis: "#aab2bd", split: "#3a414e",
			done: "#5aa9ff", plan: "#aab2bd", forecastOK: "#3ddc97", forecastLate: "#ff6b6b", target: "#ffc145",
			perHour: "#5aa9ff", offline: "#6b7380", today: "#5aa9ff", yesterday: "#8a939f",
			queue: "#7ea6ff", staff: "#9be07a", idle: "#ffc145", wait: "#ff6b6b", list: "#7fd3f0",
			ahead: "#3ddc97", behind: "#ff6b6b", retries: "#c39bff", late: "#ffc145",
			idleText: "#ffc145", targetText: "#ffc145", lateText: "#ffc145",
			heat:    []string{"#1f2a44", "#3b4f8c", "#8e5ea2", "#e46c5b", "#ffd166"},
			palette: []string{"#5aa9ff", "#9be07a", "#ffc145", "#ff6b6b", "#7fd3f0", "#3ddc97", "#ff9f5a", "#c39bff"},
		}
	}
	return theme{
		text: "#1f2329", subtext: "#5c6470", axis: "#6e7079", split: "#e0e6f1",
		done: "#2f6fd6", plan: "#8c929b", forecastOK: "#1f9d63", forecastLate: "#d64545", target: "#b87400",
		perHour: "#2f6fd6", offline: "#878d96", today: "#2f6fd6", yesterday: "#8c929b",
		queue: "#4b6fd1", staff: "#4b9a32", idle: "#c77d00", wait: "#d64545", list: "#2b8fb0",
		ahead: "#1f9d63", behind: "#d64545", retries: "#7b52c7", late: "#c26a00",
		idleText: "#9a5b00", targetText: "#8f5a00", lateText: "#b35c00",
		heat:    []string{"#fff7ec", "#fdd49e", "#fc8d59", "#d7301f", "#7f0000"},
		palette: []string{"#2f6fd6", "#4b9a32", "#c77d00", "#d64545", "#2b8fb0", "#1f9d63", "#d2601a", "#7b52c7"},
	}
}

// title is a chart's heading and its one-line answer. The page shows them
// as the panel's HTML heading above the chart (they wrap there, and a
// screen reader reads them); ECharts is told not to draw them, so the
// plot gets the room and the text is never cut at a phone's width.
func (th theme) title(text, sub string) opts.Title {
	return opts.Title{Show: opts.Bool(false), Title: text, Subtitle: sub, Left: "left",
		TitleStyle: &opts.TextStyle{Color: th.text}, SubtitleStyle: &opts.TextStyle{Color: th.subtext}}
}

func (th theme) legend() opts.Legend {
	return opts.Legend{Show: opts.Bool(true), Bottom: "0", Left: "center", TextStyle: &opts.TextStyle{Color: th.text}}
}

func (th theme) axisLabel() *opts.AxisLabel { return &opts.AxisLabel{Color: th.subtext} }

func (th theme) axisLine() *opts.AxisLine {
	return &opts.AxisLine{Show: opts.Bool(true), LineStyle: &opts.LineStyle{Color: th.axis}}
}

func (th theme) splitLine(show bool) *opts.SplitLine {
	return &opts.SplitLine{Show: opts.Bool(show), LineStyle: &opts.LineStyle{Color: th.split}}
}

// valueX and valueY are value axes; categoryX and categoryY category axes
// whose labels come from Go (dates, hours, station names).
func (th theme) valueX(name string, grid int) opts.XAxis {
	return opts.XAxis{Type: "value", Name: name, GridIndex: grid, AxisLabel: th.axisLabel(),
		AxisLine: th.axisLine(), SplitLine: th.splitLine(true)}
}

func (th theme) valueY(name string, grid int) opts.YAxis {
	return opts.YAxis{Type: "value", Name: name, GridIndex: grid, AxisLabel: th.axisLabel(),
		AxisLine: th.axisLine(), SplitLine: th.splitLine(true)}
}

func (th theme) categoryX(data any, grid int) opts.XAxis {
	return opts.XAxis{Type: "category", Data: data, GridIndex: grid, AxisLabel: th.axisLabel(),
		AxisLine: th.axisLine(), SplitLine: th.splitLine(false)}
}

func (th theme) categoryY(data any, grid int) opts.YAxis {
	return opts.YAxis{Type: "category", Data: data, GridIndex: grid, Inverse: opts.Bool(true),
		AxisLabel: &opts.AxisLabel{Color: th.subtext, Width: 200, Overflow: "truncate"},
		AxisLine:  th.axisLine(), SplitLine: th.splitLine(false)}
}

// PhoneWidth is the widest chart, in CSS pixels, that gets its builder's
// narrow layout: a 390-pixel phone's chart panels are about 340 wide, a
// desktop's half-width panel more than 600.
const PhoneWidth = 480

// phone is the ECharts media rule that lays a chart out for a phone: the
// builder's overrides (shorter category labels, fewer ticks, room for a
// wrapped legend) are merged over the option while the chart is at most
// PhoneWidth wide, and dropped again when it is wider.
func phone(o map[string]any) []map[string]any {
	return []map[string]any{{"query": map[string]any{"maxWidth": PhoneWidth}, "option": o}}
}

// hideOverlap lets ECharts leave out a value label that would fall on
// another one (a short bar's number over its neighbour's); the tooltip
// still has every figure.
func hideOverlap() charts.SeriesOpts {
	return charts.WithLabelLayoutOpts(opts.LabelLayout{HideOverlap: opts.Bool(true)})
}

// item is one data point. go-echarts' typed data items lack a per-item
// tooltip and drop a zero value's key in some types, so the charts build
// their own: every value is always written, and every tooltip is text
// formatted in Go (the browser has no formatter function to call).
type item struct {
	// ID is the station of a per-station item: ECharts keeps it as the
	// item's identity, and the live patch (readmodel/patch.go) sends a list
	// of items with ids by id, only the stations that changed, even when
	// the list is re-sorted, instead of the whole list every round.
	ID         string          `json:"id,omitempty"`
	Name       string          `json:"name,omitempty"`
	Value      any             `json:"value"`
	SymbolSize float64         `json:"symbolSize,omitempty"` // the map's dots, sized each by its queue
	ItemStyle  *opts.ItemStyle `json:"itemStyle,omitempty"`
	Label      *opts.Label     `json:"label,omitempty"`
	Tooltip    *itemTooltip    `json:"tooltip,omitempty"`
	// Tip is the key of the item's tooltip in its chart's tipBook, for an
	// item that another series shows too; it has no Tooltip then.
	Tip string `json:"tip,omitempty"`
}

// tipBook holds the tooltips of a chart whose series show the same thing
// several times (a district's share and its retries; a station's wait,
// queue and officers), once each, keyed by what they describe: the items
// carry the key (item.Tip), the option carries the book as "tips", and the
// page's formatter (core.js, Charts.update) looks the key up. A live patch
// then sends a changed tooltip once, not once a series: on 10,000 screens
// the chart rounds were most of what every screen had to decode.
type tipBook map[string]string

// add files t under key and returns the key, for item.Tip; a chart adds
// a tooltip as it gives it to a bar, so the book holds only those in use.
func (b tipBook) add(key string, t *itemTooltip) string {
	b[key] = t.Formatter
	return key
}

type itemTooltip struct {
	Formatter string `json:"formatter"`
}

// tip builds a per-item tooltip from lines of already formatted text. The
// tooltip is HTML, so lines are escaped: station names come from an
// imported file and must not become markup.
func tip(lines ...string) *itemTooltip {
	var b bytes.Buffer
	for i, l := range lines {
		if i > 0 {
			b.WriteString("<br/>")
		}
		b.WriteString(html.EscapeString(l))
	}
	return &itemTooltip{Formatter: b.String()}
}

// category is an axis label that can carry its own colour (idle stations,
// late-night hours).
type category struct {
	Value     string          `json:"value"`
	TextStyle *opts.TextStyle `json:"textStyle,omitempty"`
}

// withData sets a series' data to our own items (see item).
func withData(data any) charts.SeriesOpts {
	return charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.Data = data })
}

// chart is what every go-echarts rectangular chart offers us.
type chart interface {
	Validate()
	JSON() map[string]interface{}
	Accept(charts.ConfigurationVisitor)
}

// visitor finishes an option after go-echarts has built it: the theme's
// global text colour, dark mode, options go-echarts does not model (given
// in extra), and an empty series list instead of null.
type visitor struct {
	charts.BaseConfigurationVisitor
	th    theme
	extra map[string]any
	more  []any // series go-echarts does not model (the map's move arrows)
}

func (v visitor) VisitSeriesOpt(series charts.MultiSeries) interface{} {
	if series == nil {
		series = charts.MultiSeries{}
	}
	if len(v.more) == 0 {
		return series
	}
	all := make([]any, 0, len(series)+len(v.more))
	for _, s := range series {
		all = append(all, s)
	}
	return append(all, v.more...)
}

func (v visitor) Visit(obj map[string]interface{}) {
	obj["textStyle"] = map[string]any{"color": v.th.text}
	if v.th.dark {
		obj["darkMode"] = true
	}
	for k, x := range v.extra {
		obj[k] = x
	}
}

// initOpts are the go-echarts initialization options every chart shares.
func (v *view) initOpts(name string) charts.GlobalOpts {
	return charts.WithInitializationOpts(opts.Initialization{
		AssetsHost:      AssetsHost,
		ChartID:         name, // fixed, so that nothing random enters the option
		BackgroundColor: "transparent",
	})
}

// render takes the option out of a chart as compact JSON without HTML
// escaping, so tooltips stay readable in the golden files.
func render(c chart, th theme, extra map[string]any) (json.RawMessage, error) {
	return renderWith(c, visitor{th: th, extra: extra})
}

// renderWith is render with a visitor of the caller's (extra series).
func renderWith(c chart, v visitor) (json.RawMessage, error) {
	c.Accept(v)
	c.Validate()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c.JSON()); err != nil {
		return nil, err
	}
	return json.RawMessage(bytes.TrimRight(buf.Bytes(), "\n")), nil
}

// stationLabel is how a station is named on an axis and in a tooltip.
func stationLabel(s tiendo.StationState) string {
	if s.Name != "" {
		return s.Name
	}
	return s.ID
}

// orgPrefix begins the name of every enrolment station that is a police
// unit ("Công an Xã Vũ Lễ"); a phone's axis leaves it out, so that the
// part that tells the stations apart is what fits (the tooltip keeps the
// whole name).
const orgPrefix = "Công an "

// shortLabel is a station's name on a phone's axis.
func shortLabel(name string) string {
	if rest := strings.TrimPrefix(name, orgPrefix); rest != "" {
		return rest
	}
	return name
}

// phoneLabel is a station's name on a phone's axis, 120 px wide: its short
// name without the mark of a made-up name, which took the room of the part
// that tells the stations apart ("Xã Bắc Sơn 02 (…"); the tooltip, the
// chart's subtitle and the page's station cards keep the whole name.
func phoneLabel(name string) string {
	short := shortLabel(name)
	if rest := strings.TrimSuffix(short, tiendo.SyntheticMark); rest != "" {
		return rest
	}
	return short
}

func (v *view) fmtInt(n int64) string             { return FormatInt(n, v.lang) }
func (v *view) fmtPct(p float64) string           { return FormatPercent(p, v.lang) }
func (v *view) fmtDay(d tiendo.Day) string        { return FormatDay(d, v.lang) }
func (v *view) fmtDate(d tiendo.Day) string       { return FormatDate(d, v.lang) } // in text: the year too
func (v *view) fmtDec(x float64, prec int) string { return FormatDecimal(x, prec, v.lang) }
