package dashboards

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"tiendo"
)

// The station map answers "where are the queues, and who is near them?":
// every station of the scope at its longitude and latitude (a scatter on
// two value axes: no map tiles and no outline, which a shipped GeoJSON with
// a compatible licence would add), sized by its queue and coloured by the
// one thing about it that most needs a look, with the scope's suggested
// staff moves drawn as arrows from the idle officers to the queue.

// mapState is a station's colour class on the map, most urgent first: the
// order in which a glance should find them.
type mapState int

const (
	mapOffline  mapState = iota // no signal (StatusOffline)
	mapLongWait                 // StationState.LongWait
	mapLate                     // StationState.Late
	mapIdle                     // idle officers (IdleStaff > 0)
	mapOpen                     // open, nothing to flag
	mapResting                  // paused or closed
	mapStates
)

// mapStateOf reads the class from the snapshot's own figures.
func mapStateOf(s tiendo.StationState) mapState {
	switch {
	case s.Status == tiendo.StatusOffline:
		return mapOffline
	case s.LongWait:
		return mapLongWait
	case s.Late:
		return mapLate
	case s.IdleStaff > 0:
		return mapIdle
	case s.Status == tiendo.StatusOpen:
		return mapOpen
	default:
		return mapResting
	}
}

// mapSymbolSize grows with the queue's square root (the dot's area with the
// people waiting), from a dot that is still visible to one that does not
// hide its neighbours.
func mapSymbolSize(queue int) float64 {
	return math.Round(math.Min(8+3*math.Sqrt(float64(max(queue, 0))), 40))
}

// mapWords are the map's words in one language.
type mapWords struct {
	title, sub, noPosition string
	states                 [mapStates]string
	move                   string // officers, from, to, km
}

var mapText = map[string]mapWords{
	LangVI: {title: "Bản đồ điểm cấp", sub: "Cỡ chấm: số người đang chờ · %s điểm · %s đề xuất điều cán bộ",
		noPosition: "%s điểm chưa có toạ độ",
		states:     [mapStates]string{"Mất tín hiệu", "Chờ quá lâu", "Hết hàng muộn", "Có cán bộ rảnh", "Đang mở", "Tạm dừng / đã đóng"},
		move:       "Điều %s cán bộ: %s → %s (%s km)"},
	LangEN: {title: "Station map", sub: "Dot size: people waiting · %s stations · %s staff moves suggested",
		noPosition: "%s stations without coordinates",
		states:     [mapStates]string{"No signal", "Long wait", "Closing late", "Idle officers", "Open", "Paused / closed"},
		move:       "Send %s officers: %s → %s (%s km)"},
}

// buildStationMap draws the map of a province's or a district's stations.
func buildStationMap(v *view) (json.RawMessage, error) {
	th, w := v.th, mapText[v.lang]
	// No signal is dark grey, resting light grey: both quiet, but a
	// station that should be talking and is not must not look resting.
	// Closing late is orange: the dark theme's late and idle colours are
	// the same amber, and on a map both kinds stand side by side.
	colors := [mapStates]string{th.subtext, th.wait, th.palette[6], th.idle, th.staff, th.offline}
	// Names beside the dots that need a look: the long waits everywhere,
	// in a district the late ones too (the silent are many at night; their
	// names are in the tooltip and the alerts). Overlapping names are
	// hidden by ECharts (labelLayout), the tooltip keeps every name.
	named := func(st mapState) bool {
		return st == mapLongWait || v.snap.Scope.Kind == tiendo.ScopeDistrict && st == mapLate
	}
	var groups [mapStates][]item
	placed, unplaced := 0, 0
	minLon, maxLon, minLat, maxLat := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	stations := append([]tiendo.StationState(nil), v.snap.Stations...)
	// Big dots first, so that small ones stay on top and clickable.
	sort.SliceStable(stations, func(i, j int) bool { return stations[i].Queue > stations[j].Queue })
	for _, s := range stations {
		if s.Lat == 0 && s.Lon == 0 {
			unplaced++
			continue
		}
		placed++
		minLon, maxLon = math.Min(minLon, s.Lon), math.Max(maxLon, s.Lon)
		minLat, maxLat = math.Min(minLat, s.Lat), math.Max(maxLat, s.Lat)
		st := mapStateOf(s)
		it := item{ID: s.ID, Name: stationLabel(s), Value: []float64{s.Lon, s.Lat, float64(s.Queue)}, SymbolSize: mapSymbolSize(s.Queue),
			Tooltip: tip(v.queueTip(s)...)}
		it.ItemStyle = &opts.ItemStyle{Color: colors[st], BorderColor: th.text, BorderWidth: 0.5}
		if named(st) {
			// The line height is given: zrender measures a line's height on
			// a CJK glyph, which the fonts of a screen without CJK lack (7 px
			// for 12 px text), and names whose diacritics touch then do not
			// overlap for ECharts' hideOverlap.
			it.Label = &opts.Label{Show: opts.Bool(true), Position: "right", Color: th.text, Formatter: mapLabel(it.Name),
				FontSize: mapLabelSize, LineHeight: mapLabelLine}
		}
		groups[st] = append(groups[st], it)
	}
	// A name goes on the side of its dot that has room: west of the map's
	// middle to the right, east of it to the left, so that no name runs
	// past the right edge (the eastern stations' did, at every width).
	mid := (minLon + maxLon) / 2
	for _, g := range groups {
		for _, it := range g {
			if it.Label != nil && it.Value.([]float64)[0] > mid {
				it.Label.Position = "left"
			}
		}
	}
	sub := fmt.Sprintf(w.sub, v.fmtInt(int64(placed)), v.fmtInt(int64(len(v.snap.Moves))))
	if unplaced > 0 {
		sub += " · " + fmt.Sprintf(w.noPosition, v.fmtInt(int64(unplaced)))
	}
	if placed == 0 {
		minLon, maxLon, minLat, maxLat = 0, 1, 0, 1
	}
	// A margin around the stations, the same in both directions, so that
	// the edge dots and their names are not cut.
	pad := math.Max(math.Max(maxLon-minLon, maxLat-minLat)*0.06, 0.01)
	axis := func(lo, hi float64) (float64, float64) { return round3(lo - pad), round3(hi + pad) }
	xMin, xMax := axis(minLon, maxLon)
	yMin, yMax := axis(minLat, maxLat)
	hidden := &opts.AxisLabel{Show: opts.Bool(false)}

	sc := charts.NewScatter()
	sc.SetGlobalOptions(
		v.initOpts(ChartStationMap),
		charts.WithTitleOpts(th.title(w.title, sub)),
		charts.WithLegendOpts(th.legend()),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		// Room on the right for the names beside the easternmost dots.
		charts.WithGridOpts(opts.Grid{Left: "8", Right: "14%", Top: "16", Bottom: "48", ContainLabel: opts.Bool(false)}),
		charts.WithXAxisOpts(opts.XAxis{Type: "value", Min: xMin, Max: xMax, AxisLabel: hidden,
			AxisLine: &opts.AxisLine{Show: opts.Bool(false)}, SplitLine: th.splitLine(true)}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Min: yMin, Max: yMax, AxisLabel: hidden,
			AxisLine: &opts.AxisLine{Show: opts.Bool(false)}, SplitLine: th.splitLine(true)}),
	)
	// A phone: a name is cut to a width that fits beside its dot on either
	// side of the middle.
	var phoneSeries []any
	for st := range mapStates {
		if len(groups[st]) == 0 {
			continue
		}
		phoneSeries = append(phoneSeries, map[string]any{"label": map[string]any{"width": 130, "overflow": "truncate"}})
		sc.AddSeries(w.states[st], nil, withData(groups[st]),
			charts.WithItemStyleOpts(opts.ItemStyle{Color: colors[st]}),
			charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.LabelLayout = &opts.LabelLayout{HideOverlap: opts.Bool(true)} }))
	}
	return renderWith(sc, visitor{th: th, more: moveArrows(v), extra: map[string]any{"media": phone(map[string]any{"series": phoneSeries})}})
}

// A map name's font size and line height, in px.
const (
	mapLabelSize = 12
	mapLabelLine = 16
)

// mapLabel is the text beside a named dot: the station's short name (the
// tooltip has the whole one), written out unless it would read as an
// ECharts template.
func mapLabel(name string) string {
	short := shortLabel(name)
	if strings.ContainsAny(short, "{}|") {
		return "{b}"
	}
	return short
}

// moveArrows are the snapshot's moves as a lines series on the map's axes
// (none without a move between placed stations): go-echarts has no lines
// series on cartesian axes, so it is given as the option's own JSON.
func moveArrows(v *view) []any {
	pos := map[string][2]float64{}
	for _, s := range v.snap.Stations {
		if s.Lat != 0 || s.Lon != 0 {
			pos[s.ID] = [2]float64{s.Lon, s.Lat}
		}
	}
	w := mapText[v.lang]
	var lines []any
	for _, m := range v.snap.Moves {
		from, okF := pos[m.From]
		to, okT := pos[m.To]
		if !okF || !okT {
			continue
		}
		lines = append(lines, map[string]any{
			"coords":  [][2]float64{from, to},
			"tooltip": tip(fmt.Sprintf(w.move, v.fmtInt(int64(m.Staff)), m.FromName, m.ToName, v.fmtDec(m.DistanceKm, 1))),
		})
	}
	if len(lines) == 0 {
		return nil
	}
	return []any{map[string]any{
		"type": "lines", "coordinateSystem": "cartesian2d", "name": mapMovesName[v.lang],
		"symbol": []string{"none", "arrow"}, "symbolSize": 10, "z": 3,
		"lineStyle": map[string]any{"color": v.th.idle, "width": 3, "curveness": 0.2, "opacity": 0.9},
		"data":      lines,
	}}
}

// mapMovesName is the legend entry of the moves' arrows.
var mapMovesName = map[string]string{LangVI: "Đề xuất điều cán bộ", LangEN: "Suggested staff moves"}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
