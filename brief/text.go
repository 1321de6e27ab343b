package brief

import (
	"fmt"
	"time"

	"tiendo"
	"tiendo/dashboards"
)

// The brief's words in Vietnamese (the default: the readers' language) and
// English (lang=en), and its columns, which every format writes alike.

// Lang is the language a brief is written in: "en", or Vietnamese for
// anything else.
func Lang(lang string) string {
	if lang == "en" {
		return "en"
	}
	return "vi"
}

type words struct {
	title, campaign, scope, province, district, station, day, asOf, live, ended, total string
	districtsSheet, stationsSheet, districtsHead, stationsHead                         string
	nation, provinceCol, provincesSheet, provincesHead                                 string
	storageBehind, storagePartial                                                      string
	quota, completed, percent, dayRecords, expected, gap, pace, needed, late, retries  string
	past, notes, level, id, name                                                       string
	lang                                                                               string // for dates, in dashboards' one format
	states                                                                             map[tiendo.PaceState]string
	explain                                                                            []string
}

var text = map[string]*words{
	"vi": {
		title: "Báo cáo ngày", campaign: "Chiến dịch", scope: "Phạm vi", province: "Toàn tỉnh", district: "Quận/huyện",
		station: "Điểm cấp", day: "Ngày làm việc", asOf: "Số liệu đến", live: "ngày đang diễn ra", ended: "hết ngày làm việc",
		total: "Tổng cộng", districtsSheet: "Quận huyện", stationsSheet: "Điểm cấp",
		districtsHead: "Theo quận/huyện", stationsHead: "Theo điểm cấp",
		nation: "Toàn quốc", provinceCol: "Tỉnh/thành phố", provincesSheet: "Tinh thanh", provincesHead: "Theo tỉnh/thành phố",
		storageBehind:  "Lưu ý: kho dữ liệu đang chậm; số liệu đã gồm %s sự kiện mới nhận chưa ghi vào kho.",
		storagePartial: "Lưu ý: kho dữ liệu đang chậm; %s sự kiện mới nhận chưa được tính vào số liệu.",
		quota:          "Chỉ tiêu", completed: "Đã thu nhận (lũy kế)", percent: "% chỉ tiêu", dayRecords: "Hồ sơ trong ngày",
		expected: "Kế hoạch đến nay", gap: "So với kế hoạch", pace: "Tiến độ", needed: "Cần mỗi ngày",
		late: "Tỷ lệ ban đêm (%s–%s)", retries: "Lấy lại vân tay / hồ sơ", past: "Số điểm làm quá %s", notes: "Ghi chú",
		level: "Cấp", id: "Mã", name: "Tên",
		lang: "vi",
		states: map[tiendo.PaceState]string{
			tiendo.PaceNotStarted: "Chưa bắt đầu", tiendo.PaceTooEarly: "Mới bắt đầu", tiendo.PaceDone: "Đã đạt chỉ tiêu",
			tiendo.PaceBehind: "Chậm tiến độ", tiendo.PaceOnTrack: "Đúng tiến độ", tiendo.PaceAhead: "Vượt tiến độ",
			tiendo.PaceEnded: "Đã hết hạn, chưa đạt chỉ tiêu"},
		explain: []string{
			"Số liệu là số liệu của màn hình theo dõi vào thời điểm ghi ở trên: với ngày đang diễn ra là số liệu hiện tại, với ngày đã qua là số liệu lúc hết ngày làm việc (%s sáng hôm sau).",
			"Kế hoạch đến nay: chỉ tiêu chia đều cho các ngày của chiến dịch và trong ngày theo tỷ lệ từng giờ. Cần mỗi ngày: số hồ sơ còn thiếu chia cho số ngày còn lại.",
			"Tỷ lệ ban đêm: phần hồ sơ trong ngày làm từ %s đến %s. Số điểm làm quá %s: điểm cấp còn thu nhận hồ sơ sau %s đêm đó.",
		},
	},
	"en": {
		title: "Daily brief", campaign: "Campaign", scope: "Scope", province: "Province", district: "District",
		station: "Station", day: "Working day", asOf: "Figures as of", live: "day in progress", ended: "end of the working day",
		total: "Total", districtsSheet: "Districts", stationsSheet: "Stations",
		districtsHead: "By district", stationsHead: "By station",
		nation: "Nation", provinceCol: "Province", provincesSheet: "Provinces", provincesHead: "By province",
		storageBehind:  "Note: storage is behind; the figures include %s received events not yet stored.",
		storagePartial: "Note: storage is behind; %s received events are not in the figures yet.",
		quota:          "Quota", completed: "Completed to date", percent: "% done", dayRecords: "Records on the day",
		expected: "Expected to date", gap: "Gap", pace: "Pace", needed: "Needed per day",
		late: "Late-night share (%s–%s)", retries: "Retries per record", past: "Stations past %s", notes: "Notes",
		level: "Level", id: "ID", name: "Name",
		lang: "en",
		states: map[tiendo.PaceState]string{
			tiendo.PaceNotStarted: "Not started", tiendo.PaceTooEarly: "Just started", tiendo.PaceDone: "Target reached",
			tiendo.PaceBehind: "Behind", tiendo.PaceOnTrack: "On track", tiendo.PaceAhead: "Ahead",
			tiendo.PaceEnded: "Deadline passed, target missed"},
		explain: []string{
			"The figures are the dashboard's at the time above: for the day in progress the current ones, for a day that is over those at the end of the working day (%s the next morning).",
			"Expected to date: the quota spread over the campaign's days, and within a day along its hour profile. Needed per day: the records still missing over the days left.",
			"Late-night share: the day's records made from %s to %s. Stations past %s: stations still recording after %s that night.",
		},
	},
}

// hhmm names a clock hour, "22:00".
func hhmm(h int) string { return fmt.Sprintf("%02d:00", h) }

// dayText writes a working day with its year: "20/03/2021", "20 Mar 2021".
func (w *words) dayText(d tiendo.Day) string {
	return dashboards.FormatDate(d, w.lang)
}

// instantText writes an instant in the campaign's zone: "21:15 20/03/2021".
func (w *words) instantText(t time.Time, loc *time.Location) string {
	l := t.In(loc)
	y, m, d := l.Date()
	return l.Format("15:04") + " " + w.dayText(tiendo.DayOf(y, m, d))
}

// stateText names a pace state; empty without a pace.
func (w *words) stateText(p *tiendo.Pace) string {
	if p == nil {
		return ""
	}
	if s, ok := w.states[p.State]; ok {
		return s
	}
	return string(p.State)
}

// scopeWords names the brief's scope: the unit's name, or the campaign's
// whole ("Toàn tỉnh", "Toàn quốc").
func (b *Brief) scopeWords(w *words) string {
	switch {
	case b.ScopeName != "":
		return b.ScopeName
	case b.TopLevel == tiendo.LevelNation:
		return w.nation
	}
	return w.province
}

// unitWords are the unit table's column, sheet and heading: districts,
// or the nation's provinces.
func (b *Brief) unitWords(w *words) (col, sheet, heading string) {
	if b.UnitLevel == tiendo.LevelProvince {
		return w.provinceCol, w.provincesSheet, w.provincesHead
	}
	return w.district, w.districtsSheet, w.districtsHead
}

// meta are the lines above the tables: campaign, scope, day, as of, and a
// word on storage when it is behind.
func (b *Brief) meta(lang string) [][2]string {
	w := text[Lang(lang)]
	name := b.Campaign.Name
	if lang == "en" && b.Campaign.NameEN != "" {
		name = b.Campaign.NameEN
	}
	scope := b.scopeWords(w)
	if b.Scope.Kind == tiendo.ScopeDistrict {
		scope = w.district + " " + b.ScopeName
	}
	when := w.ended
	if b.Live {
		when = w.live
	}
	out := [][2]string{{w.campaign, name}, {w.scope, scope}, {w.day, w.dayText(b.Day)},
		{w.asOf, w.instantText(b.AsOf, b.Location) + " (" + when + ")"}}
	if note := b.storageNote(lang); note != "" {
		out = append(out, [2]string{w.notes, note})
	}
	return out
}

func (b *Brief) storageNote(lang string) string {
	w := text[Lang(lang)]
	switch {
	case b.Storage.Partial:
		return fmt.Sprintf(w.storagePartial, dashboards.FormatInt(b.Storage.Pending, lang))
	case b.Storage.State != "" && b.Storage.State != "ok":
		return fmt.Sprintf(w.storageBehind, dashboards.FormatInt(b.Storage.Pending, lang))
	}
	return ""
}

// explanation says where the figures come from, under the tables.
func (b *Brief) explanation(lang string) []string {
	w := text[Lang(lang)]
	return []string{
		fmt.Sprintf(w.explain[0], hhmm(b.DayEndHour)),
		w.explain[1],
		fmt.Sprintf(w.explain[2], hhmm(b.LateFrom), hhmm(b.DayEndHour), hhmm(PastHour), hhmm(PastHour)),
	}
}

// kind is how a column's values are written.
type kind int

const (
	kText    kind = iota
	kInt          // a count
	kPercent      // points: 12.86 is 12.86 %
	kDecimal      // two decimals
)

// column is one column of a table: its header and its value in a row
// (string, int64, float64, or nil for an empty cell).
type column struct {
	head  string
	kind  kind
	value func(r *Row) any
}

// level is which rows a table holds.
type level int

const (
	levelDistricts        level = iota // the province's districts
	levelStations                      // a district's stations
	levelProvinceStations              // the province's stations, with their district
)

// columns are a table's columns, the same in every format.
func (b *Brief) columns(lang string, lv level) []column {
	w := text[Lang(lang)]
	pace := func(f func(p *tiendo.Pace) any) func(r *Row) any {
		return func(r *Row) any {
			if r.Pace == nil {
				return nil
			}
			return f(r.Pace)
		}
	}
	first := w.station
	if lv == levelDistricts {
		first, _, _ = b.unitWords(w)
	}
	cols := []column{{first, kText, func(r *Row) any { return r.Name }}}
	if lv == levelProvinceStations {
		cols = append(cols, column{w.district, kText, func(r *Row) any { return r.District }})
	}
	return append(cols,
		column{w.quota, kInt, func(r *Row) any { return r.Quota }},
		column{w.completed, kInt, func(r *Row) any { return r.Completed }},
		column{w.percent, kPercent, func(r *Row) any {
			if r.Quota <= 0 {
				return nil
			}
			return r.PercentDone
		}},
		column{w.dayRecords, kInt, func(r *Row) any { return r.DayRecords }},
		column{w.expected, kInt, pace(func(p *tiendo.Pace) any { return p.ExpectedToDate })},
		column{w.gap, kInt, pace(func(p *tiendo.Pace) any { return p.Gap })},
		column{w.pace, kText, func(r *Row) any { return w.stateText(r.Pace) }},
		column{w.needed, kInt, pace(func(p *tiendo.Pace) any {
			if p.NeededPerDay == nil {
				return nil
			}
			return *p.NeededPerDay
		})},
		column{fmt.Sprintf(w.late, hhmm(b.LateFrom), hhmm(b.DayEndHour)), kPercent, func(r *Row) any {
			if r.LateShare == nil {
				return nil
			}
			return *r.LateShare
		}},
		column{w.retries, kDecimal, func(r *Row) any { return r.RetriesPerRecord }},
		column{fmt.Sprintf(w.past, hhmm(PastHour)), kInt, func(r *Row) any { return int64(r.PastHour) }},
	)
}

// table is one level of the brief: its heading, columns and rows, the
// scope's total last.
type table struct {
	level   level
	sheet   string // the XLSX sheet's name
	heading string
	columns []column
	rows    []*Row
	total   *Row
}

// tables are the brief's levels: a province's districts and stations, or a
// district's stations (none without station rows for aggregates only).
func (b *Brief) tables(lang string) []table {
	w := text[Lang(lang)]
	total := b.Total
	total.Name, total.District = w.total, ""
	var out []table
	units := b.Scope.Kind == tiendo.ScopeProvince || len(b.Districts) > 0
	if units {
		_, sheet, heading := b.unitWords(w)
		out = append(out, table{level: levelDistricts, sheet: sheet, heading: heading,
			columns: b.columns(lang, levelDistricts), rows: rowsOf(b.Districts), total: &total})
	}
	if len(b.Stations) > 0 || b.Scope.Kind == tiendo.ScopeDistrict {
		lv := levelStations
		if units {
			lv = levelProvinceStations
		}
		out = append(out, table{level: lv, sheet: w.stationsSheet, heading: w.stationsHead,
			columns: b.columns(lang, lv), rows: rowsOf(b.Stations), total: &total})
	}
	return out
}

func rowsOf(rows []Row) []*Row {
	out := make([]*Row, len(rows))
	for i := range rows {
		out[i] = &rows[i]
	}
	return out
}
