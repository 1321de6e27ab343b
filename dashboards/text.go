package dashboards

// text holds every word a chart shows, per language. Sentences with numbers
// are fmt templates: the numbers are formatted first (FormatInt, FormatDay…)
// and passed in as strings, so a template never decides number formatting.
type text struct {
	records, recordsPerHour, people, minutes string

	// progress
	progressTitle    string // done, target, percent
	progressNoTarget string // done
	done, needed     string
	forecast         string
	targetLine       string // target
	today            string
	dayRecords       string
	gap              string
	finishOn         string // day
	finishLate       string // day
	finishNever      string
	finishNoData     string
	reachedOn        string // day
	pace7            string // pace
	neededPace       string // pace
	deadline         string // day
	neededByDay      string // day, records
	forecastByDay    string // day, records

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
	queueTitle string
	queue      string
	staff      string
	idleStaff  string
	wait       string
	queueSub   string // waiting, longest station, minutes, idle count
	queueSubNo string // waiting, idle count
	idleNote   string

	// latenight
	lateTitle string // days
	lateShare string // hour
	lateSub   string // percent, hour, stations
	lateTip   string // percent, hour, late, total

	// districts
	distTitle    string
	ahead        string
	behind       string
	retries      string
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

	progressTitle:    "Đã thu nhận %s / %s hồ sơ (%s)",
	progressNoTarget: "Đã thu nhận %s hồ sơ",
	done:             "Đã thu nhận",
	needed:           "Tiến độ cần đạt",
	forecast:         "Dự báo",
	targetLine:       "Chỉ tiêu %s",
	today:            "Hôm nay",
	dayRecords:       "Trong ngày",
	gap:              "Chênh lệch",
	finishOn:         "Dự báo hoàn thành: %s",
	finishLate:       "Dự báo hoàn thành: %s (trễ hạn)",
	finishNever:      "Dự báo: không kịp với tốc độ này",
	finishNoData:     "Dự báo: chưa đủ dữ liệu",
	reachedOn:        "Đã đạt chỉ tiêu ngày %s",
	pace7:            "Tốc độ 7 ngày qua: %s hồ sơ/ngày",
	neededPace:       "Cần: %s hồ sơ/ngày",
	deadline:         "Hạn: %s",
	neededByDay:      "Cần đạt đến %s: %s",
	forecastByDay:    "Dự báo đến %s: %s",

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

	queueTitle: "Hàng chờ và cán bộ theo điểm",
	queue:      "Hàng chờ",
	staff:      "Cán bộ",
	idleStaff:  "Cán bộ rảnh (không có hàng chờ)",
	wait:       "Thời gian chờ (phút)",
	queueSub:   "Đang chờ: %s người · Chờ lâu nhất: %s (%s phút) · %s điểm có cán bộ rảnh",
	queueSubNo: "Đang chờ: %s người · %s điểm có cán bộ rảnh",
	idleNote:   "Cán bộ rảnh: không có ai chờ",

	lateTitle: "Hồ sơ theo giờ trong ngày làm việc (%d ngày gần nhất)",
	lateShare: "Sau %s (%%)",
	lateSub:   "Hôm nay: %s hồ sơ sau %s · %s điểm còn làm việc sau nửa đêm",
	lateTip:   "%s hồ sơ sau %s (%s / %s)",

	distTitle:    "Tiến độ theo huyện so với mức cần đạt",
	ahead:        "Đạt tiến độ",
	behind:       "Chậm tiến độ",
	retries:      "Lấy lại vân tay/hồ sơ",
	distSub:      "Cần đạt đến nay: %s chỉ tiêu · %s/%s huyện chậm tiến độ",
	expectedLine: "Cần đạt %s",
	distDone:     "Đã thu nhận: %s / %s (%s)",
	distExpected: "Cần đạt đến nay: %s (%s hồ sơ)",
	retriesTip:   "Lấy lại vân tay: %s lần/hồ sơ",
}

var textEN = &text{
	records:        "records",
	recordsPerHour: "records/hour",
	people:         "people",
	minutes:        "minutes",

	progressTitle:    "Collected %s / %s records (%s)",
	progressNoTarget: "Collected %s records",
	done:             "Collected",
	needed:           "Pace needed",
	forecast:         "Projection",
	targetLine:       "Target %s",
	today:            "Today",
	dayRecords:       "That day",
	gap:              "Gap",
	finishOn:         "Projected finish: %s",
	finishLate:       "Projected finish: %s (after the deadline)",
	finishNever:      "Projected finish: not at this pace",
	finishNoData:     "Projection: not enough data yet",
	reachedOn:        "Target reached on %s",
	pace7:            "Last 7 days: %s records/day",
	neededPace:       "Needed: %s records/day",
	deadline:         "Deadline: %s",
	neededByDay:      "Needed by %s: %s",
	forecastByDay:    "Projected by %s: %s",

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

	queueTitle: "Queues and staff by station",
	queue:      "Queue",
	staff:      "Staff",
	idleStaff:  "Idle staff (no queue)",
	wait:       "Wait (minutes)",
	queueSub:   "Waiting: %s people · Longest wait: %s (%s min) · %s stations with idle staff",
	queueSubNo: "Waiting: %s people · %s stations with idle staff",
	idleNote:   "Idle staff: nobody waiting",

	lateTitle: "Records by hour of the working day (last %d days)",
	lateShare: "After %s (%%)",
	lateSub:   "Today: %s of records after %s · %s stations still working after midnight",
	lateTip:   "%s of records after %s (%s / %s)",

	distTitle:    "District progress against the pace needed",
	ahead:        "On pace",
	behind:       "Behind pace",
	retries:      "Fingerprint retries per record",
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
