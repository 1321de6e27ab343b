package dashboards

import "tiendo"

// text holds every word a chart shows, per language. Sentences with numbers
// are fmt templates: the numbers are formatted first (FormatInt, FormatDay…)
// and passed in as strings, so a template never decides number formatting.
type text struct {
	records, recordsPerHour, people, minutes string

	// pace: the words of a Pace, shared by the progress and districts charts
	paceState      map[tiendo.PaceState]string
	finishOn       string // day
	finishNever    string
	finishTooEarly string
	paceLastDays   string // days, records per day
	paceLastDay    string // records per day
	paceRecent     string // records per day, for a method without a window
	neededPace     string // records per day
	gap            string

	// progress
	progressTitle    string // done, target, percent
	progressNoTarget string // done
	done, plan       string
	forecast         string
	targetLine       string // target
	today            string
	dayRecords       string
	expectedNow      string
	planDayEnd       string
	deadline         string // day
	planByDay        string // day, records
	forecastFrom     string // day, records

	// throughput
	throughputTitle string
	lastHour        string
	throughputSub   string // per hour, open, stations
	topN            string // n
	todayTotal      string
	statusWord      map[string]string

	// throughput_trend
	trendTitle     string
	todaySeries    string // day
	yesterdaySerie string // day
	trendSub       string // today total, peak hour, peak records
	trendSubNoPeak string // today total

	// queue
	queueTitle   string
	queue        string
	staff        string
	staffBusy    string
	idleStaff    string
	wait         string
	listTime     string
	waitWord     string // the wait, in a tooltip line
	listWord     string // the list time, in a tooltip line
	listLeft     string
	homeVisit    string
	clearsAt     string // clock time
	lateNote     string // late hour
	queueSub     string // waiting, longest station, minutes, idle stations, idle officers
	queueSubNo   string // waiting, idle stations, idle officers
	queueSubLate string // late stations, late hour
	idleNote     string // idle officers

	// latenight
	lateTitle string // days
	lateShare string // hour
	lateSub   string // percent, hour, stations
	lateTip   string // percent, hour, late, total

	// districts
	distTitle    string
	notBehind    string
	behind       string
	retries      string
	retriesShort string // the retries axis on a phone
	distSub      string // expected, behind count, total
	expectedLine string // percent
	distDone     string // done, quota, percent
	distExpected string // percent, records
	retriesTip   string // value
}

var textVI = &text{
	records:        "hồ sơ",
	recordsPerHour: "hồ sơ/giờ",
	people:         "người",
	minutes:        "phút",

	paceState: map[tiendo.PaceState]string{
		tiendo.PaceNotStarted: "Chưa bắt đầu",
		tiendo.PaceTooEarly:   "Mới bắt đầu",
		tiendo.PaceDone:       "Đã đạt chỉ tiêu",
		tiendo.PaceBehind:     "Chậm tiến độ",
		tiendo.PaceOnTrack:    "Đúng tiến độ",
		tiendo.PaceAhead:      "Vượt tiến độ",
		tiendo.PaceEnded:      "Đã hết hạn, chưa đạt chỉ tiêu",
	},
	finishOn:       "Dự báo hoàn thành: %s",
	finishNever:    "Không có ngày hoàn thành với tốc độ này",
	finishTooEarly: "Còn quá sớm để dự báo",
	paceLastDays:   "Theo tốc độ %d ngày làm việc gần nhất: %s hồ sơ/ngày",
	paceLastDay:    "Theo tốc độ ngày làm việc gần nhất: %s hồ sơ/ngày",
	paceRecent:     "Theo tốc độ gần đây: %s hồ sơ/ngày",
	neededPace:     "Cần: %s hồ sơ/ngày",
	gap:            "Chênh lệch",

	progressTitle:    "Đã thu nhận %s / %s hồ sơ (%s)",
	progressNoTarget: "Đã thu nhận %s hồ sơ",
	done:             "Đã thu nhận",
	plan:             "Kế hoạch",
	forecast:         "Dự báo",
	targetLine:       "Chỉ tiêu %s",
	today:            "Hôm nay",
	dayRecords:       "Trong ngày",
	expectedNow:      "Kế hoạch đến giờ này",
	planDayEnd:       "Kế hoạch hết ngày",
	deadline:         "Hạn: %s",
	planByDay:        "Kế hoạch đến hết %s: %s",
	forecastFrom:     "%s, hiện tại: %s",

	throughputTitle: "Hồ sơ trong 60 phút qua theo điểm",
	lastHour:        "60 phút qua",
	throughputSub:   "Tổng: %s hồ sơ/giờ · %s/%s điểm đang mở",
	topN:            "%d điểm cao nhất",
	todayTotal:      "Hôm nay",
	statusWord: map[string]string{
		"open": "đang mở", "paused": "tạm dừng", "closed": "đã đóng", "offline": "mất kết nối",
	},

	trendTitle:     "Hồ sơ mỗi giờ trong ngày",
	todaySeries:    "Hôm nay %s",
	yesterdaySerie: "Hôm qua %s",
	trendSub:       "Hôm nay: %s hồ sơ · Giờ cao điểm: %s (%s hồ sơ)",
	trendSubNoPeak: "Hôm nay: %s hồ sơ",

	queueTitle:   "Hàng chờ và cán bộ theo điểm",
	queue:        "Hàng chờ",
	staff:        "Cán bộ",
	staffBusy:    "Cán bộ đang cần",
	idleStaff:    "Cán bộ rảnh (có thể hỗ trợ nơi khác)",
	wait:         "Thời gian chờ (phút)",
	listTime:     "Thời gian làm hết danh sách (tổ cấp tại nhà, phút)",
	waitWord:     "Thời gian chờ",
	listWord:     "Thời gian làm hết danh sách",
	listLeft:     "Còn trong danh sách",
	homeVisit:    "Tổ cấp tại nhà: danh sách hộ, không phải hàng chờ",
	clearsAt:     "Dự kiến xong lúc %s",
	lateNote:     "muộn, sau %s",
	queueSub:     "Đang chờ: %s người · Chờ lâu nhất: %s (%s phút) · %s điểm có %s cán bộ rảnh",
	queueSubNo:   "Đang chờ: %s người · %s điểm có %s cán bộ rảnh",
	queueSubLate: "%s điểm làm quá %s",
	idleNote:     "%s cán bộ rảnh, có thể hỗ trợ nơi khác",

	lateTitle: "Hồ sơ theo giờ trong ngày làm việc (%d ngày gần nhất)",
	lateShare: "Sau %s (%%)",
	lateSub:   "Hôm nay: %s hồ sơ sau %s · %s điểm còn làm việc sau nửa đêm",
	lateTip:   "%s hồ sơ sau %s (%s / %s)",

	distTitle:    "Tiến độ theo huyện so với kế hoạch",
	notBehind:    "Không chậm tiến độ",
	behind:       "Chậm tiến độ",
	retries:      "Lấy lại vân tay/hồ sơ",
	retriesShort: "Vân tay/hồ sơ",
	distSub:      "Kế hoạch đến nay: %s chỉ tiêu · %s/%s huyện chậm tiến độ",
	expectedLine: "Kế hoạch %s",
	distDone:     "Đã thu nhận: %s / %s (%s)",
	distExpected: "Kế hoạch đến nay: %s (%s hồ sơ)",
	retriesTip:   "Lấy lại vân tay: %s lần/hồ sơ",
}

var textEN = &text{
	records:        "records",
	recordsPerHour: "records/hour",
	people:         "people",
	minutes:        "minutes",

	paceState: map[tiendo.PaceState]string{
		tiendo.PaceNotStarted: "Not started",
		tiendo.PaceTooEarly:   "Just started",
		tiendo.PaceDone:       "Target reached",
		tiendo.PaceBehind:     "Behind",
		tiendo.PaceOnTrack:    "On track",
		tiendo.PaceAhead:      "Ahead",
		tiendo.PaceEnded:      "Deadline passed, target missed",
	},
	finishOn:       "Projected finish: %s",
	finishNever:    "No finish date at this pace",
	finishTooEarly: "Too early to project",
	paceLastDays:   "At the last %d working days' pace: %s records/day",
	paceLastDay:    "At the last working day's pace: %s records/day",
	paceRecent:     "At the recent pace: %s records/day",
	neededPace:     "Needed: %s records/day",
	gap:            "Gap",

	progressTitle:    "Collected %s / %s records (%s)",
	progressNoTarget: "Collected %s records",
	done:             "Collected",
	plan:             "Plan",
	forecast:         "Projection",
	targetLine:       "Target %s",
	today:            "Today",
	dayRecords:       "That day",
	expectedNow:      "Plan by now",
	planDayEnd:       "Plan by the end of the day",
	deadline:         "Deadline: %s",
	planByDay:        "Plan by the end of %s: %s",
	forecastFrom:     "%s, now: %s",

	throughputTitle: "Records in the last 60 minutes by station",
	lastHour:        "Last 60 minutes",
	throughputSub:   "Total: %s records/hour · %s/%s stations open",
	topN:            "top %d",
	todayTotal:      "Today",
	statusWord: map[string]string{
		"open": "open", "paused": "paused", "closed": "closed", "offline": "offline",
	},

	trendTitle:     "Records per hour of the working day",
	todaySeries:    "Today %s",
	yesterdaySerie: "Yesterday %s",
	trendSub:       "Today: %s records · Peak hour: %s (%s records)",
	trendSubNoPeak: "Today: %s records",

	queueTitle:   "Queues and staff by station",
	queue:        "Queue",
	staff:        "Staff",
	staffBusy:    "Staff needed",
	idleStaff:    "Idle staff (free to help elsewhere)",
	wait:         "Wait (minutes)",
	listTime:     "Time to finish the list (home visits, minutes)",
	waitWord:     "Wait",
	listWord:     "Time to finish the list",
	listLeft:     "Left on the list",
	homeVisit:    "Home-visit team: a list of households, not a queue",
	clearsAt:     "Expected to clear at %s",
	lateNote:     "late, after %s",
	queueSub:     "Waiting: %s people · Longest wait: %s (%s min) · %s stations with %s idle staff",
	queueSubNo:   "Waiting: %s people · %s stations with %s idle staff",
	queueSubLate: "%s stations working past %s",
	idleNote:     "%s idle staff, free to help elsewhere",

	lateTitle: "Records by hour of the working day (last %d days)",
	lateShare: "After %s (%%)",
	lateSub:   "Today: %s of records after %s · %s stations still working after midnight",
	lateTip:   "%s of records after %s (%s / %s)",

	distTitle:    "District progress against the plan",
	notBehind:    "Not behind",
	behind:       "Behind",
	retries:      "Fingerprint retries per record",
	retriesShort: "Retries/record",
	distSub:      "Expected by now: %s of quota · %s of %s districts behind",
	expectedLine: "Expected %s",
	distDone:     "Collected: %s / %s (%s)",
	distExpected: "Expected by now: %s (%s records)",
	retriesTip:   "Fingerprint retries: %s per record",
}

func textFor(lang string) *text {
	if normLang(lang) == LangEN {
		return textEN
	}
	return textVI
}
