// core.js: what every live page shares — text in two languages, number and
// time formatting in the campaign's zone, the live stream (WebSocket with
// seq checks, resync, backoff and build checks) and the chart panels.

import { startState, applyUpdate } from './livepatch.js';

export const page = document.body.dataset;
export const lang = page.lang === 'en' ? 'en' : 'vi';
export const tz = page.tz || 'Asia/Ho_Chi_Minh';
const locale = lang === 'en' ? 'en-US' : 'vi-VN';

// ---------------------------------------------------------------- text

const TEXT = {
  vi: {
    connecting: 'Đang kết nối…',
    live: 'Trực tiếp',
    updated: 'cập nhật {ago}',
    retrying: 'Mất kết nối · thử lại sau {s} giây',
    stale: 'Dữ liệu chậm',
    bannerDown: 'Mất kết nối từ {time} — số liệu trên màn hình có thể đã cũ. Đang tự kết nối lại…',
    bannerStale: 'Dữ liệu chậm từ {time} — máy chủ chưa cập nhật được số liệu.',
    bannerSilent: 'Dữ liệu chậm từ {time} — không nhận được cập nhật.',
    bannerDownStore: 'Dữ liệu chậm từ {time} — kho dữ liệu không trả lời; đang hiện số liệu đọc lần cuối cộng các báo cáo mới nhận.',
    bannerPartial: 'Kho dữ liệu đang chậm: {n} sự kiện đã nhận chưa được tính vào số liệu.',
    behind: 'kho dữ liệu chậm, {n} sự kiện chờ ghi (đã tính)',
    bannerReload: 'Máy chủ đã được nâng cấp. Hãy tải lại trang.',
    noECharts: 'ECharts not installed: run scripts/install-deps.sh (chưa cài ECharts).',
    dataAt: 'Số liệu lúc {time}',
    zoneVN: 'giờ Việt Nam',
    completed: 'Đã thu nhận',
    ofTarget: 'chỉ tiêu {n}',
    today: 'Hôm nay',
    todaySub: 'ngày làm việc {d}',
    perHour: 'Hồ sơ/giờ',
    perHourSub: 'trong 60 phút qua',
    waiting: 'Người đang chờ',
    waitingSub: 'chờ lâu nhất {w} · {s}',
    waitingNone: 'không có hàng chờ',
    listVisits: 'ngoài ra {n} hộ trong danh sách tổ cấp tại nhà',
    open: 'Điểm đang mở',
    openSub: 'điểm báo đang mở · {n} mất tín hiệu',
    openSubNone: 'điểm báo đang mở · tất cả có tín hiệu',
    idleSub: '{n} cán bộ rảnh ở {s} điểm',
    finish: 'Dự kiến hoàn thành',
    state: {
      not_started: 'Chưa bắt đầu', too_early: 'Mới bắt đầu', done: 'Đã đạt chỉ tiêu', behind: 'Chậm tiến độ',
      on_track: 'Đúng tiến độ', ahead: 'Vượt tiến độ', ended: 'Đã hết hạn, chưa đạt chỉ tiêu',
    },
    finishOn: 'dự báo xong {d}',
    finishTooEarly: 'còn quá sớm để dự báo',
    finishNever: 'không có ngày hoàn thành với tốc độ này',
    finishTooEarlyShort: 'Chưa dự báo',
    finishNeverShort: 'Không có ngày',
    recentDays: 'theo tốc độ {n} ngày làm việc gần nhất',
    recentDay: 'theo tốc độ ngày làm việc gần nhất',
    recentPace: '{how}: {n}/ngày',
    neededPerDay: 'cần {n}/ngày',
    neededLabel: 'Cần mỗi ngày',
    recentLabel: 'Tốc độ {n} ngày qua',
    recentLabel1: 'Tốc độ ngày qua',
    planLabel: 'Kế hoạch đến giờ này',
    gapLabel: 'So với kế hoạch',
    planNote: 'kế hoạch đến giờ này {n} ({p})',
    planMark: 'vạch: kế hoạch đến giờ này',
    late: 'Muộn',
    lateAfter: 'Quá {h}',
    lateList: 'Hết hàng muộn',
    lateListAfter: 'Hết hàng sau {h}',
    noneLate: 'Không điểm nào hết hàng muộn.',
    clearsShort: 'hết hàng {t}',
    clearsAt: 'Hết hàng lúc',
    listClearsAt: 'Xong danh sách lúc',
    idleStaff: 'Cán bộ rảnh',
    idleN: '{n} cán bộ rảnh',
    listTime: 'Làm hết danh sách',
    listLeft: 'Còn trong danh sách',
    households: '{n} hộ',
    people: '{n} người',
    mpr: 'Phút mỗi hồ sơ, một máy',
    mprVisit: 'Phút mỗi lượt đến nhà',
    sayQueue: '{q} người đang chờ, {l} máy đang làm: hết hàng lúc {t}.',
    sayQueueNoTime: '{q} người đang chờ.',
    sayEmpty: 'Không có người chờ.',
    sayIdle: '{n} cán bộ rảnh, có thể hỗ trợ nơi khác.',
    sayList: 'Còn {q} hộ trong danh sách: làm hết lúc {t} (khoảng {d}).',
    sayListDone: 'Danh sách hôm nay đã xong.',
    sayNotOpen: '{st}: không ước tính thời gian chờ.',
    sayLate: 'Cân nhắc hẹn người đến sau quay lại ngày mai.',
    listDoneShort: 'xong danh sách {t}',
    noWait: 'Không chờ',
    lanesShort: '{n} máy',
    visitNote: 'danh sách hộ, không phải hàng chờ',
    dayOf: 'Ngày làm việc {d} · ngày {n}/{total} · hạn chót {deadline}',
    staffShort: 'cán bộ',
    chart: {
      progress: 'Tiến độ so với chỉ tiêu',
      districts: 'Quận/huyện so với chỉ tiêu',
      throughput: 'Năng suất theo điểm (hồ sơ/giờ)',
      throughput_trend: 'Năng suất hôm nay theo giờ',
      queue: 'Hàng chờ, cán bộ và thời gian chờ',
      map: 'Bản đồ điểm cấp',
      latenight: 'Làm việc ban đêm',
    },
    attention: 'Cần chú ý',
    longestWaits: 'Chờ lâu nhất',
    idle: 'Cán bộ rảnh (có thể hỗ trợ nơi khác)',
    noneWaits: 'Không nơi nào có hàng chờ.',
    noneIdle: 'Không điểm nào có cán bộ rảnh.',
    district: 'Quận/huyện',
    districtsSorted: 'Quận/huyện (thấp nhất trước)',
    unitsSorted: 'Các tỉnh, thành phố (cần chú ý nhất trước)',
    province: 'Tỉnh/thành phố',
    gapCol: 'Chênh lệch',
    alertsCol: 'Cảnh báo',
    alertsN: '{n} cảnh báo',
    tiles: 'Bản đồ ô: tiến độ các tỉnh',
    tilesNote: 'Mỗi ô một tỉnh, đặt gần vị trí thật; màu theo tiến độ. Bấm để xem tỉnh.',
    stationsSorted: 'Điểm cấp (chờ lâu nhất trước)',
    paceCol: 'Tiến độ',
    finishCol: 'Dự báo xong',
    neededCol: 'Cần/ngày',
    clearsCol: 'Hết hàng',
    station: 'Điểm cấp',
    done: 'Đã làm',
    quota: 'Chỉ tiêu',
    pctDone: '% chỉ tiêu',
    queue: 'Đang chờ',
    wait: 'Chờ ước tính',
    staff: 'Cán bộ',
    lanes: 'Số máy',
    status: 'Trạng thái',
    perHourCol: 'Hồ sơ/giờ',
    todayCol: 'Hôm nay',
    minutes: '{n} phút',
    hoursMinutes: '{h} giờ {m} phút',
    hoursOnly: '{h} giờ',
    st: { open: 'Đang mở', paused: 'Tạm dừng', closed: 'Đã đóng', offline: 'Mất tín hiệu' },
    kind: { fixed: 'Điểm cố định', mobile: 'Tổ lưu động', home_visit: 'Tổ cấp tại nhà' },
    retries: 'Lấy lại vân tay / hồ sơ',
    lastSeen: 'Tín hiệu cuối',
    never: 'chưa có',
    quotaProgress: 'Đã làm so với chỉ tiêu',
    staffLanes: 'Cán bộ / số máy',
    report: 'Báo cáo thủ công cho điểm này',
    stationsOf: '{n} điểm',
    wait0: '—',
    // Staff moves: the server's suggestions, in words; a chief answers them.
    mv: {
      title: 'Đề xuất điều cán bộ',
      titleN: 'Đề xuất điều cán bộ ({n})',
      send: 'Gửi {n} cán bộ sang {to} ({km}, ~{min}): chờ ở đó {wb} → {wa}, hết hàng {cb} → {ca}.',
      receive: 'Nhận {n} cán bộ từ {from} ({km}, ~{min}): chờ ở đây {wb} → {wa}, hết hàng {cb} → {ca}.',
      staffN: '{n} cán bộ',
      trip: '{km} · ~{min}',
      wait: 'chờ {wb} → {wa}',
      clears: 'hết hàng {cb} → {ca}',
      from: 'Từ',
      to: 'Đến',
      done: 'Đã làm',
      notPossible: 'Không làm được',
      sending: 'Đang gửi câu trả lời…',
      okDone: 'Đã ghi nhận lúc {t}: đã điều {n} cán bộ ({route}). Tín hiệu tiếp theo của hai điểm sẽ cho thấy kết quả.',
      okNot: 'Đã ghi nhận lúc {t}: không làm được ({route}). Đề xuất này sẽ không được nhắc lại trong 1 giờ.',
      gone: 'Đề xuất này không còn nữa: đã có người trả lời, hoặc hàng chờ đã thay đổi.',
      forbidden: 'Tài khoản này không được trả lời đề xuất này. Hãy báo chỉ huy điểm hoặc cán bộ huyện.',
      signin: 'Phiên đăng nhập đã hết: hãy tải lại trang và đăng nhập.',
      failed: 'Chưa gửi được câu trả lời ({why}). Hãy thử lại.',
      offline: 'mất kết nối',
      none: 'Không có đề xuất điều cán bộ lúc này.',
      noneScreen: 'Không có đề xuất điều cán bộ.',
    },
    al: {
      title: 'Cảnh báo đang mở',
      titleN: 'Cảnh báo đang mở ({n})',
      none: 'Không có cảnh báo nào đang mở.',
      count: '{n} cảnh báo',
      word1: 'cảnh báo',
      wordN: 'cảnh báo',
      kind: { silent: 'Mất tín hiệu', long_wait: 'Chờ quá lâu', late_close: 'Hết hàng muộn', slowdown: 'Làm chậm lại', behind: 'Chậm tiến độ' },
      sev: { critical: 'Nghiêm trọng', warning: 'Lưu ý' },
      value: {
        silent: 'không có tín hiệu {d}', long_wait: 'chờ {d}', late_close: 'quá {h} {d}',
        slowdown: 'bằng {p} cùng giờ hôm qua', behind: '{n} hồ sơ so với kế hoạch',
      },
      short: { silent: '{d}', long_wait: 'chờ {d}', late_close: 'quá {h} {d}', slowdown: '{p} so với hôm qua', behind: '{n} hồ sơ' },
      since: 'từ {t}',
      acked: 'Đã xác nhận: {who}, {t}',
      token: 'mã {id}',
      ack: 'Xác nhận',
      acking: 'Đang gửi…',
      ackOK: 'Đã xác nhận.',
      ackForbidden: 'Tài khoản này không xác nhận được cảnh báo này (việc của chỉ huy điểm, cán bộ huyện hoặc lãnh đạo).',
      ackGone: 'Cảnh báo này đã đóng.',
      more: '+{n} khác',
      all: 'Xem cả {n} cảnh báo',
      fewer: 'Thu gọn',
    },
  },
  en: {
    connecting: 'Connecting…',
    live: 'Live',
    updated: 'updated {ago}',
    retrying: 'Disconnected · retrying in {s}s',
    stale: 'Data delayed',
    bannerDown: 'Disconnected since {time} — figures on screen may be out of date. Reconnecting…',
    bannerStale: 'Data delayed since {time} — the server could not refresh the figures.',
    bannerSilent: 'Data delayed since {time} — no updates received.',
    bannerDownStore: 'Data delayed since {time} — storage is not answering; showing its last figures plus the reports received since.',
    bannerPartial: 'Storage is behind: {n} received events are not in the figures yet.',
    behind: 'storage behind, {n} events waiting (counted)',
    bannerReload: 'The server was upgraded. Please reload the page.',
    noECharts: 'ECharts not installed: run scripts/install-deps.sh',
    dataAt: 'Figures as of {time}',
    zoneVN: 'Vietnam time',
    completed: 'Records collected',
    ofTarget: 'of target {n}',
    today: 'Today',
    todaySub: 'working day {d}',
    perHour: 'Records/hour',
    perHourSub: 'in the last 60 minutes',
    waiting: 'People waiting',
    waitingSub: 'longest wait {w} · {s}',
    waitingNone: 'no queues',
    listVisits: 'besides, {n} households on home-visit lists',
    open: 'Stations open',
    openSub: 'reporting open · {n} offline',
    openSubNone: 'reporting open · all reporting',
    idleSub: '{n} idle staff at {s} stations',
    finish: 'Projected finish',
    state: {
      not_started: 'Not started', too_early: 'Just started', done: 'Target reached', behind: 'Behind',
      on_track: 'On track', ahead: 'Ahead', ended: 'Deadline passed, target missed',
    },
    finishOn: 'projected finish {d}',
    finishTooEarly: 'too early to project',
    finishNever: 'no finish date at this pace',
    finishTooEarlyShort: 'Not yet',
    finishNeverShort: 'No date',
    recentDays: "at the last {n} working days' pace",
    recentDay: "at the last working day's pace",
    recentPace: '{how}: {n}/day',
    neededPerDay: 'needs {n}/day',
    neededLabel: 'Needed per day',
    recentLabel: 'Pace, last {n} days',
    recentLabel1: 'Pace, last day',
    planLabel: 'Plan by now',
    gapLabel: 'Against the plan',
    planNote: 'plan by now {n} ({p})',
    planMark: 'mark: the plan by now',
    late: 'Late',
    lateAfter: 'After {h}',
    lateList: 'Clearing late',
    lateListAfter: 'Clearing after {h}',
    noneLate: 'No station clears late.',
    clearsShort: 'clears {t}',
    clearsAt: 'Queue clears at',
    listClearsAt: 'List done at',
    idleStaff: 'Idle staff',
    idleN: '{n} idle staff',
    listTime: 'Time to finish the list',
    listLeft: 'Left on the list',
    households: '{n} households',
    people: '{n} people',
    mpr: 'Minutes per record, one lane',
    mprVisit: 'Minutes per home visit',
    sayQueue: '{q} waiting, {l} lanes serving: the queue clears at {t}.',
    sayQueueNoTime: '{q} waiting.',
    sayEmpty: 'Nobody is waiting.',
    sayIdle: '{n} staff idle, free to help elsewhere.',
    sayList: '{q} households left on the list: done at {t} (about {d}).',
    sayListDone: "Today's list is done.",
    sayNotOpen: '{st}: no waiting time estimated.',
    sayLate: 'Consider asking people who arrive later to come back tomorrow.',
    listDoneShort: 'list done {t}',
    noWait: 'No wait',
    lanesShort: '{n} lanes',
    visitNote: 'a list of households, not a queue',
    dayOf: 'Working day {d} · day {n} of {total} · deadline {deadline}',
    staffShort: 'staff',
    chart: {
      progress: 'Progress against target',
      districts: 'Districts against quota',
      throughput: 'Throughput per station (records/hour)',
      throughput_trend: 'Throughput today by hour',
      queue: 'Queues, staff and waiting time',
      map: 'Station map',
      latenight: 'Late-night workload',
    },
    attention: 'Needs attention',
    longestWaits: 'Longest waits',
    idle: 'Idle staff (free to help elsewhere)',
    noneWaits: 'No station has a queue.',
    noneIdle: 'No station has idle staff.',
    district: 'District',
    districtsSorted: 'Districts (lowest first)',
    unitsSorted: 'Provinces (most urgent first)',
    province: 'Province',
    gapCol: 'Gap',
    alertsCol: 'Alerts',
    alertsN: '{n} alerts',
    tiles: 'Tile map: the provinces\' pace',
    tilesNote: 'One tile per province, near where it lies; coloured by pace. Click to open a province.',
    stationsSorted: 'Stations (longest wait first)',
    paceCol: 'Pace',
    finishCol: 'Finish',
    neededCol: 'Needed/day',
    clearsCol: 'Clears',
    station: 'Station',
    done: 'Done',
    quota: 'Quota',
    pctDone: '% of quota',
    queue: 'Waiting',
    wait: 'Estimated wait',
    staff: 'Staff',
    lanes: 'Lanes',
    status: 'Status',
    perHourCol: 'Records/h',
    todayCol: 'Today',
    minutes: '{n} min',
    hoursMinutes: '{h} h {m} min',
    hoursOnly: '{h} h',
    st: { open: 'Open', paused: 'Paused', closed: 'Closed', offline: 'Offline' },
    kind: { fixed: 'Fixed station', mobile: 'Mobile team', home_visit: 'Home-visit team' },
    retries: 'Fingerprint retries / record',
    lastSeen: 'Last heartbeat',
    never: 'never',
    quotaProgress: 'Done against quota',
    staffLanes: 'Staff / lanes',
    report: 'Manual report for this station',
    stationsOf: '{n} stations',
    wait0: '—',
    mv: {
      title: 'Suggested staff moves',
      titleN: 'Suggested staff moves ({n})',
      send: 'Send {n} staff to {to} ({km}, ~{min}): the wait there {wb} → {wa}, queue clears {cb} → {ca}.',
      receive: 'Receive {n} staff from {from} ({km}, ~{min}): the wait here {wb} → {wa}, queue clears {cb} → {ca}.',
      staffN: '{n} staff',
      trip: '{km} · ~{min}',
      wait: 'wait {wb} → {wa}',
      clears: 'clears {cb} → {ca}',
      from: 'From',
      to: 'To',
      done: 'Done',
      notPossible: 'Not possible',
      sending: 'Sending the answer…',
      okDone: 'Recorded at {t}: {n} staff sent ({route}). The next heartbeats of both stations will show the effect.',
      okNot: 'Recorded at {t}: not possible ({route}). This suggestion will not be made again within the hour.',
      gone: 'This suggestion no longer stands: someone answered it, or the queues changed.',
      forbidden: 'This account may not answer this suggestion. Please tell the station chief or the district officer.',
      signin: 'The sign-in has ended: reload the page and sign in.',
      failed: 'The answer was not sent ({why}). Please try again.',
      offline: 'no connection',
      none: 'No staff moves suggested now.',
      noneScreen: 'No staff moves suggested.',
    },
    al: {
      title: 'Open alerts',
      titleN: 'Open alerts ({n})',
      none: 'No open alerts.',
      count: '{n} alerts',
      word1: 'alert',
      wordN: 'alerts',
      kind: { silent: 'No heartbeat', long_wait: 'Long wait', late_close: 'Clears late', slowdown: 'Slowdown', behind: 'Behind pace' },
      sev: { critical: 'Critical', warning: 'Warning' },
      value: {
        silent: 'silent for {d}', long_wait: 'wait {d}', late_close: '{d} past {h}',
        slowdown: '{p} of the same hour yesterday', behind: '{n} records against the plan',
      },
      short: { silent: '{d}', long_wait: 'wait {d}', late_close: '{d} past {h}', slowdown: '{p} of yesterday', behind: '{n} records' },
      since: 'since {t}',
      acked: 'Acknowledged: {who}, {t}',
      token: 'token {id}',
      ack: 'Acknowledge',
      acking: 'Sending…',
      ackOK: 'Acknowledged.',
      ackForbidden: 'This account may not acknowledge this alert (the station chief, the district officer or leadership can).',
      ackGone: 'This alert has closed.',
      more: '+{n} more',
      all: 'Show all {n} alerts',
      fewer: 'Show fewer',
    },
  },
};

/**
 * localiseValueAxes gives value axes without a formatter of their own the
 * reader's number format (621.000 in Vietnamese): options come from the
 * server as JSON, which cannot carry the formatter function ECharts needs.
 */
function localiseValueAxes(option) {
  for (const key of ['xAxis', 'yAxis']) {
    const axes = Array.isArray(option[key]) ? option[key] : option[key] ? [option[key]] : [];
    for (const axis of axes) {
      if (axis.type !== 'value' && axis.type !== 'log') continue;
      axis.axisLabel = axis.axisLabel || {};
      if (axis.axisLabel.formatter == null) axis.axisLabel.formatter = (v) => nf2.format(v);
    }
  }
}

/**
 * withTips gives a chart whose items share tooltips (the server's "tips",
 * keyed by what they describe; an item names its key as "tip") the one
 * formatter that looks them up. The option itself is the live state that
 * the next patch applies to, so it is not changed: ECharts gets a copy
 * without the book.
 */
function withTips(option) {
  const tips = option.tips;
  if (!tips || typeof tips !== 'object') return option;
  const shown = { ...option };
  delete shown.tips;
  shown.tooltip = {
    ...(option.tooltip || {}),
    formatter: (p) => {
      const key = p && p.data && p.data.tip;
      return key != null && tips[key] != null ? tips[key] : '';
    },
  };
  return shown;
}

/**
 * ARIA turns on ECharts' description of each chart (its title, its series
 * and their first figures) as the chart's aria-label, in the page's
 * language; the series' names and figures are the server's.
 */
const ARIA = {
  enabled: true,
  label: lang === 'en' ? {
    general: { withTitle: 'Chart: {title}.', withoutTitle: 'Chart.' },
    series: {
      maxCount: 6,
      single: { prefix: '', withName: ' Series {seriesName}.', withoutName: '' },
      multiple: { prefix: ' {seriesCount} series.', withName: ' {seriesName}:', withoutName: ' Series {seriesId}:', separator: { middle: '', end: '' } },
    },
    data: { maxCount: 12, allData: ' ', partialData: ' the first {displayCnt}: ', withName: '{name} {value}', withoutName: '{value}', separator: { middle: ', ', end: '.' } },
  } : {
    general: { withTitle: 'Biểu đồ: {title}.', withoutTitle: 'Biểu đồ.' },
    series: {
      maxCount: 6,
      single: { prefix: '', withName: ' Chuỗi {seriesName}.', withoutName: '' },
      multiple: { prefix: ' {seriesCount} chuỗi số liệu.', withName: ' {seriesName}:', withoutName: ' Chuỗi {seriesId}:', separator: { middle: '', end: '' } },
    },
    data: { maxCount: 12, allData: ' ', partialData: ' {displayCnt} giá trị đầu: ', withName: '{name} {value}', withoutName: '{value}', separator: { middle: ', ', end: '.' } },
  },
};

/** t looks up a text (dotted keys reach nested tables) and fills {vars}. */
export function t(key, vars) {
  let v = key.split('.').reduce((o, k) => (o == null ? o : o[k]), TEXT[lang]);
  if (v == null) v = key;
  if (vars) v = String(v).replace(/\{(\w+)\}/g, (m, k) => (k in vars ? vars[k] : m));
  return v;
}

// ---------------------------------------------------------------- formatting

const nf0 = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
const nf1 = new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const nf2 = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
const pf = new Intl.NumberFormat(locale, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });
const timeF = new Intl.DateTimeFormat(locale, { timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const timeSecF = new Intl.DateTimeFormat(locale, { timeZone: tz, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'always' });

export const num = (n) => (n == null || Number.isNaN(+n) ? '—' : nf0.format(n));
export const dec1 = (n) => (n == null || Number.isNaN(+n) ? '—' : nf1.format(n));
export const dec2 = (n) => (n == null || Number.isNaN(+n) ? '—' : nf2.format(n));
/** pct formats a percentage given as 0–100. */
export const pct = (p) => (p == null || Number.isNaN(+p) ? '—' : pf.format(p / 100));
/** hhmm formats an instant as HH:MM in the campaign's zone. */
export const hhmm = (d) => timeF.format(d instanceof Date ? d : new Date(d));
export const hhmmss = (d) => timeSecF.format(d instanceof Date ? d : new Date(d));

const offsetF = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'shortOffset' });
const zoneF = new Intl.DateTimeFormat(locale, { timeZone: tz, timeZoneName: 'long' });
/**
 * zoneWords names the campaign's time zone, once on each page (in the
 * "as of" line): "giờ Việt Nam, GMT+7".
 */
export function zoneWords(at) {
  const d = at ? new Date(at) : new Date();
  const part = (f) => (f.formatToParts(d).find((p) => p.type === 'timeZoneName') || {}).value || '';
  const name = tz === 'Asia/Ho_Chi_Minh' || tz === 'Asia/Saigon' ? t('zoneVN') : part(zoneF);
  return [name, part(offsetF)].filter(Boolean).join(', ');
}

// ---------------------------------------------------------------- dates

// Dates follow the server's one rule (dashboards.DatePattern, in <body
// data-date>): "dd/mm/yyyy" in Vietnamese, "d MMM yyyy" in English, with
// the month names it hands over in <body data-months>.
const MONTHS = (page.months || '').split(',');
const DATE = page.date || 'dd/mm/yyyy';
// Without its year, for a day within the campaign: "20/03", "20 Mar".
const DAY_MONTH = DATE.replace(/[^dmMy]*yyyy[^dmMy]*/, '');
const two = (n) => String(n).padStart(2, '0');

/**
 * parseDay reads a date sent as text, "2021-03-20" or the date part of an
 * RFC 3339 string, as {y, m, d}; null when it is not one. Every date field
 * of a snapshot goes through it.
 */
export function parseDay(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:$|T)/.exec(typeof s === 'string' ? s : '');
  return m ? { y: +m[1], m: +m[2], d: +m[3] } : null;
}

/** dayNum turns "2021-03-20" into days since 1970-01-01 (NaN for anything else). */
export const dayNum = (s) => {
  const p = parseDay(s);
  return p ? Math.round(Date.UTC(p.y, p.m - 1, p.d) / 86400000) : NaN;
};
const dayOfNum = (n) => parseDay(new Date(n * 86400000).toISOString());

/** writeDay fills a pattern's tokens (see DATE) with a day's parts. */
function writeDay(pattern, d) {
  const p = typeof d === 'number' ? dayOfNum(d) : parseDay(d);
  if (!p) return '—';
  const parts = { yyyy: String(p.y), MMM: MONTHS[p.m - 1] || two(p.m), dd: two(p.d), mm: two(p.m), d: String(p.d) };
  return pattern.replace(/yyyy|MMM|dd|mm|d/g, (tok) => parts[tok]);
}

/** dayStr formats a day (text or day number) as a date: "20/03/2021", "20 Mar 2021". */
export const dayStr = (d) => writeDay(DATE, d);

/** dayMonth formats a day without its year: "20/03", "20 Mar". */
export const dayMonth = (d) => writeDay(DAY_MONTH, d);

const calF = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' });
/** calendarDay is an instant's calendar date in the campaign's zone, "2021-03-21" (not the working day). */
export const calendarDay = (d) => calF.format(d instanceof Date ? d : new Date(d));

/** dateTime writes an instant in the campaign's zone, as the brief does: "21:15 20/03/2021", "21:15 20 Mar 2021". */
export const dateTime = (d) => {
  const at = d instanceof Date ? d : new Date(d);
  return hhmm(at) + ' ' + dayStr(calendarDay(at));
};

/** ago says how long ago, e.g. "12 giây trước". */
export function ago(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return rtf.format(-s, 'second');
  if (s < 3600) return rtf.format(-Math.floor(s / 60), 'minute');
  if (s < 86400) return rtf.format(-Math.floor(s / 3600), 'hour');
  return rtf.format(-Math.floor(s / 86400), 'day');
}

/**
 * duration says a number of minutes the one way every page says it:
 * "45 phút", "7 giờ", "3 giờ 20 phút" ("45 min", "7 h", "3 h 20 min").
 */
export function duration(m) {
  m = Math.round(m);
  if (m < 60) return t('minutes', { n: num(m) });
  const hh = Math.floor(m / 60);
  const mm = m % 60;
  return mm ? t('hoursMinutes', { h: num(hh), m: num(mm) }) : t('hoursOnly', { h: num(hh) });
}

/** waitShort is a wait for a big number: a duration, or "—" for none. */
export const waitShort = (m) => (!m || m <= 0 ? t('wait0') : duration(m));

/** minutes formats a duration in minutes, e.g. "1 giờ 5 phút"; "—" for none. */
export const minutes = waitShort;

// ---------------------------------------------------------------- DOM

/** h builds an element; attrs "text" sets textContent, "on…" adds listeners. */
export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v == null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  for (const k of kids.flat(Infinity)) {
    if (k == null || k === false) continue;
    el.append(k instanceof Node ? k : String(k));
  }
  return el;
}

/** setText changes an element's text only when it differs (no needless reflow). */
export function setText(el, s) {
  if (el && el.textContent !== s) el.textContent = s;
}

/** bar is a thin progress bar; mark (0–100) draws where the pace says one should be. */
export function bar(percent, mark, cls) {
  const fill = h('span', { class: 'fill' });
  fill.style.width = Math.max(0, Math.min(100, percent)) + '%';
  const el = h('span', { class: 'bar ' + (cls || ''), role: 'presentation' }, fill);
  if (mark != null && mark > 0) {
    const m = h('span', { class: 'mark' });
    m.style.left = Math.max(0, Math.min(100, mark)) + '%';
    el.append(m);
  }
  return el;
}

// ---------------------------------------------------------------- the server's decision model, in words

// Every figure that advises a decision (pace, state, projection, waits,
// clearing times, idle staff, the attention lists) is computed once, on the
// server, and arrives in the snapshot. What follows only puts those objects
// into words and colours; nothing here judges, projects or compares.

const STATE_CLASS = {
  ahead: 'good', on_track: 'good', done: 'good', behind: 'bad', ended: 'bad', too_early: 'muted', not_started: 'muted',
};

/** stateWords names a pace's state ("Chậm tiến độ") with its colour class. */
export function stateWords(p) {
  if (!p) return { state: '', cls: 'muted', text: '—' };
  return { state: p.state, cls: STATE_CLASS[p.state] || 'muted', text: t('state.' + p.state) };
}

/**
 * finishWords says where a pace's projection ends: the date when there is
 * one, else why there is none (too early, already done, no date at this
 * pace). short is for a big number, text for a sentence.
 */
export function finishWords(p) {
  if (!p) return { day: '', short: '—', text: '' };
  if (p.projected_finish) {
    const d = dayStr(p.projected_finish);
    return { day: p.projected_finish, short: d, text: t('finishOn', { d }) };
  }
  switch (p.state) {
    case 'done': return { day: '', short: t('state.done'), text: '' };
    case 'not_started': return { day: '', short: '—', text: '' };
    case 'too_early': return { day: '', short: t('finishTooEarlyShort'), text: t('finishTooEarly') };
    default: return { day: '', short: t('finishNeverShort'), text: t('finishNever') };
  }
}

/** recentWords names the pace a projection uses: "theo tốc độ 7 ngày làm việc gần nhất". */
export function recentWords(p) {
  if (!p || !p.recent_days) return '';
  return p.recent_days === 1 ? t('recentDay') : t('recentDays', { n: num(p.recent_days) });
}

/** recentLabel is the same as a short label: "Tốc độ 7 ngày gần nhất". */
export function recentLabel(p) {
  if (!p || !p.recent_days) return t('recentLabel', { n: '—' });
  return p.recent_days === 1 ? t('recentLabel1') : t('recentLabel', { n: num(p.recent_days) });
}

/**
 * rateNote is the line under a projected finish: the pace it uses and
 * the pace needed, e.g. "theo tốc độ 7 ngày làm việc gần nhất: 7.662/ngày ·
 * cần 5.213/ngày".
 */
export function rateNote(p) {
  if (!p) return '';
  const parts = [];
  const how = recentWords(p);
  if (how) parts.push(t('recentPace', { how, n: num(p.recent_per_day) }));
  if (p.needed_per_day != null) parts.push(t('neededPerDay', { n: num(p.needed_per_day) }));
  return parts.join(' · ');
}

/** signed formats a gap with its sign: "+24.173", "−2.099". */
export const signed = (n) => (n == null ? '—' : (n > 0 ? '+' : n < 0 ? '−' : '') + num(Math.abs(n)));

/**
 * showState draws a pace as the state in words, with its colour and the
 * projected finish ("Chậm tiến độ · dự báo xong 03/07/2021"), into el. The
 * element also carries data-state and data-finish, as sent, for tests.
 */
export function showState(el, p, { base, finishEl } = {}) {
  const s = stateWords(p);
  const f = finishWords(p);
  el.hidden = false;
  el.className = (base || 'verdict') + ' ' + s.cls;
  el.dataset.state = s.state;
  el.dataset.finish = f.day;
  const finish = p && p.state !== 'done' && p.state !== 'not_started' ? f.text : '';
  // With finishEl (the command room's narrow card) the finish goes on its
  // own line there; otherwise it follows the state in the badge.
  if (finishEl) {
    setText(el, s.text);
    setText(finishEl, finish);
  } else setText(el, finish ? s.text + ' · ' + finish : s.text);
}

// ---------------------------------------------------------------- staff moves and alerts, in words

// The server plans the moves and opens the alerts (DECISIONS.md, "Staff
// moves" and "Alerts"); what follows only says them.

const kmF = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });

/** waitWords is a wait in a sentence: "4 giờ", "1 giờ 20 phút", "45 phút", "Không chờ". */
export function waitWords(m) {
  if (m == null) return '—';
  return Math.round(m) <= 0 ? t('noWait') : duration(m);
}

/** km is a distance: "2,5 km". */
export const km = (n) => (n == null ? '—' : kmF.format(n) + ' km');

/** moveParts are a move's figures as words, for sentences, lists and the screen. */
export function moveParts(m) {
  return {
    n: num(m.staff), from: m.from_name || m.from, to: m.to_name || m.to,
    km: km(m.distance_km), min: t('minutes', { n: num(Math.max(1, Math.round(m.travel_minutes || 0))) }),
    wb: waitWords(m.wait_before), wa: waitWords(m.wait_after),
    cb: m.clears_at_before ? hhmm(m.clears_at_before) : '—', ca: m.clears_at_after ? hhmm(m.clears_at_after) : '—',
  };
}

/**
 * moveSentence is a move as its station's chief reads it: "Gửi 2 cán bộ
 * sang … (3 km, ~6 phút): chờ ở đó 4 giờ → 1 giờ 20, hết hàng 01:40 → 22:20."
 * for the sending station, "Nhận 2 cán bộ từ …" for the receiving one.
 */
export function moveSentence(m, station) {
  return t(m.to === station ? 'mv.receive' : 'mv.send', moveParts(m));
}

/** movesOf is the snapshot's moves (none is [] whether the server sends [] or null). */
export const movesOf = (snap) => (snap && Array.isArray(snap.moves) ? snap.moves : []);
/** alertsOf is the snapshot's open alerts, in the server's order (critical first, then the newest). */
export const alertsOf = (snap) => (snap && Array.isArray(snap.alerts) ? snap.alerts : []);

/**
 * namesOf maps station and district ids to names from what the snapshot
 * carries (stations, districts, attention lists, moves): an alert names
 * only ids, and a command-room screen gets no station records.
 */
export function namesOf(snap) {
  const names = new Map();
  const add = (id, name) => { if (id && name && !names.has(id)) names.set(id, name); };
  if (!snap) return names;
  for (const s of snap.stations || []) add(s.id, s.name);
  for (const d of snap.districts || []) add(d.id, d.name);
  for (const u of snap.units || []) add(u.id, u.name);
  const att = snap.attention || {};
  for (const k of ['waits', 'late', 'idle']) for (const s of att[k] || []) add(s.id, s.name);
  for (const m of movesOf(snap)) { add(m.from, m.from_name); add(m.to, m.to_name); }
  return names;
}

/** whoWords names who acknowledged: a user's name, or the token. */
export function whoWords(by) {
  if (!by) return '';
  if (by.startsWith('user:')) return by.slice(5);
  if (by.startsWith('token:')) return t('al.token', { id: by.slice(6) });
  return by;
}

/** whenWords is an instant as HH:MM, with the date when it is not the snapshot's day. */
function whenWords(at, snap) {
  const d = new Date(at);
  if (snap && snap.now && Math.abs(Date.parse(snap.now) - d.getTime()) > 20 * 3600 * 1000) return dateTime(d);
  return hhmm(d);
}

/**
 * alertWords says an alert: its kind, where (station or district name),
 * the figure that crossed the threshold, since when, and who acknowledged it.
 */
export function alertWords(a, snap, names, short) {
  names = names || namesOf(snap);
  const vk = short ? 'al.short.' : 'al.value.';
  const id = a.station || a.district || a.unit || '';
  const where = a.station_name || a.district_name || names.get(id) || id;
  const kindText = t('al.kind.' + a.kind) === 'al.kind.' + a.kind ? a.kind : t('al.kind.' + a.kind);
  let value = '';
  const v = a.value;
  if (v != null) {
    switch (a.kind) {
      case 'silent': value = t(vk + 'silent', { d: waitWords(v) }); break;
      case 'long_wait': value = t(vk + 'long_wait', { d: waitWords(v) }); break;
      case 'late_close': value = t(vk + 'late_close', { d: waitWords(v), h: lateHour(snap) || '02:00' }); break;
      case 'slowdown': value = t(vk + 'slowdown', { p: pct(100 * v) }); break;
      case 'behind': value = t(vk + 'behind', { n: signed(v) }); break;
      default: value = num(v);
    }
  }
  return {
    sev: a.severity === 'critical' ? 'critical' : 'warning',
    sevText: t('al.sev.' + (a.severity === 'critical' ? 'critical' : 'warning')),
    kind: kindText, where, value,
    since: a.since ? t('al.since', { t: whenWords(a.since, snap) }) : '',
    acked: a.acked_by ? t('al.acked', { who: whoWords(a.acked_by), t: a.acked_at ? whenWords(a.acked_at, snap) : '' }).replace(/, $/, '') : '',
  };
}

/**
 * sendJSON sends a request (a JSON body for POST) to a same-origin URL with
 * the page's session cookie and returns {status, body}; status 0 when the
 * request did not arrive.
 */
export async function sendJSON(method, url, body) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 15000);
  try {
    const init = { method, credentials: 'same-origin', signal: ctl.signal, cache: 'no-store' };
    if (method === 'POST') {
      init.headers = { 'Content-Type': 'application/json' };
      init.body = JSON.stringify(body || {});
    }
    const r = await fetch(url, init);
    let data = null;
    try { data = await r.json(); } catch (e) { /* not JSON */ }
    return { status: r.status, body: data };
  } catch (e) {
    return { status: 0, body: null };
  } finally {
    clearTimeout(timer);
  }
}

/** postJSON posts body as JSON: sendJSON('POST', url, body). */
export const postJSON = (url, body) => sendJSON('POST', url, body);

/** lateHour is the campaign's late hour as a time ("02:00"), when the server sends it. */
export const lateHour = (snap) => (snap && snap.campaign && snap.campaign.late_close) || '';

/** lateBadge is the badge of a station whose queue clears after the late hour. */
export function lateBadge(snap) {
  const hr = lateHour(snap);
  return h('span', { class: 'badge late', text: hr ? t('lateAfter', { h: hr }) : t('late') });
}

/**
 * fitText shrinks a one-line figure until it fits its box (a 3-digit
 * "187/237" on the command-room screen, a date with its year on a narrow
 * card), as a stat panel does: never cut, down to 40 % of its styled size.
 * The text's own width is measured (scrollWidth rounds it to whole pixels,
 * and half a pixel over is an ellipsis). The element carries data-fit, the
 * size it got as a share of its own.
 */
export function fitText(el) {
  if (!el) return;
  el.style.fontSize = '';
  const cs = getComputedStyle(el);
  const room = el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  const wide = () => {
    const r = document.createRange();
    r.selectNodeContents(el);
    return r.getBoundingClientRect().width;
  };
  let w = wide();
  if (room <= 0 || w <= room) {
    delete el.dataset.fit;
    return;
  }
  const base = parseFloat(cs.fontSize);
  let size = base;
  for (let i = 0; i < 6 && w > room && size > base * 0.4; i++) {
    size = Math.max(base * 0.4, Math.floor(size * Math.min(0.98, (room - 0.5) / w) * 10) / 10);
    el.style.fontSize = size + 'px';
    w = wide();
  }
  el.dataset.fit = (size / base).toFixed(2);
}

// Cards change width without a window resize too (a scroll bar comes, a
// grid reflows): each figure given to autoFit is fitted again when its
// box's width changes.
const fitWidths = new WeakMap();
const fitRO = typeof ResizeObserver === 'function' ? new ResizeObserver((es) => {
  for (const e of es) {
    const w = Math.round(e.contentRect.width);
    if (fitWidths.get(e.target) !== w) {
      fitWidths.set(e.target, w);
      fitText(e.target);
    }
  }
}) : null;

/** autoFit fits el now and whenever its box's width changes. */
export function autoFit(el) {
  if (!el) return;
  if (fitRO && !fitWidths.has(el)) {
    fitWidths.set(el, Math.round(el.clientWidth));
    fitRO.observe(el);
  }
  fitText(el);
}

export const stationURL = (id) => '/station/' + encodeURIComponent(id);
export const districtURL = (id) => '/district/' + encodeURIComponent(id);
export const unitURL = (id) => '/unit/' + encodeURIComponent(id);

// ---------------------------------------------------------------- tile map

/** pageTiles are the cells the server placed the page's units in (<body data-tiles>, dashboards.TileGrid). */
export function pageTiles() {
  try { return JSON.parse(page.tiles || '[]'); } catch (e) { return []; }
}

/** tileGrid builds the tile map: one link per unit, in the server's cell. */
export function tileGrid(tiles) {
  const cols = Math.max(1, ...tiles.map((x) => x.col + 1));
  const rows = Math.max(1, ...tiles.map((x) => x.row + 1));
  const grid = h('div', { class: 'tile-grid', id: 'tile-grid', role: 'list', style: '--cols:' + cols + ';--rows:' + rows });
  for (const x of tiles) {
    grid.append(h('a', { class: 'tile muted', role: 'listitem', 'data-unit': x.id, href: unitURL(x.id),
      style: 'grid-row:' + (x.row + 1) + ';grid-column:' + (x.col + 1) },
    h('span', { class: 'tile-id', text: x.id }), h('span', { class: 'tile-pct', text: '—' })));
  }
  return grid;
}

/** fillTiles colours each tile by its unit's pace state as the server judged it, words beside the colour. */
export function fillTiles(grid, snap) {
  if (!grid) return;
  const byID = new Map((snap.units || []).map((u) => [u.id, u]));
  for (const el of grid.children) {
    const u = byID.get(el.dataset.unit);
    if (!u) continue;
    const s = stateWords(u.pace);
    el.className = 'tile ' + s.cls;
    el.dataset.state = s.state;
    setText(el.querySelector('.tile-id'), u.short || u.id);
    setText(el.querySelector('.tile-pct'), pct(u.percent_done));
    const label = u.name + ': ' + s.text + ', ' + pct(u.percent_done) + (u.alerts ? ', ' + t('alertsN', { n: num(u.alerts) }) : '');
    el.setAttribute('aria-label', label);
    el.title = label;
  }
}

// ---------------------------------------------------------------- charts

// Pairs sit side by side on wide pages: districts with today's trend, and
// the two per-station bar charts (throughput, queue) together.
export const CHART_ORDER = ['progress', 'districts', 'throughput_trend', 'throughput', 'queue', 'map', 'latenight'];
export const chartRank = (k) => {
  const i = CHART_ORDER.indexOf(k);
  return i < 0 ? CHART_ORDER.length : i;
};
export const hasECharts = () => typeof window.echarts === 'object' && window.echarts !== null;

/**
 * chartHeight gives a chart room for its rows: a horizontal bar chart of
 * twenty stations needs more height than a line chart.
 */
export function chartHeight(option, compact) {
  // A map (stations at their coordinates) wants room in both directions.
  if ([].concat(option.series || []).some((s) => s && s.type === 'scatter')) return compact ? 420 : 620;
  const axes = [].concat(option.yAxis || []);
  let rows = 0;
  for (const a of axes) if (a && a.type === 'category' && Array.isArray(a.data)) rows = Math.max(rows, a.data.length);
  if (compact) return Math.max(270, Math.min(480, 130 + rows * 14));
  return Math.max(340, Math.min(900, 150 + rows * 22));
}

/**
 * ChartSet keeps one ECharts instance per chart name, each in its own panel.
 * slot(name) returns the element a new panel goes into (null: not shown);
 * panels within a slot are kept in CHART_ORDER, unknown names last.
 */
export class ChartSet {
  // autoHeight: 'full' or 'compact' sizes each panel for its rows.
  // scale > 1 draws charts larger than the server's sizes (the command
  // room's screen is read from across the room): the chart is laid out
  // smaller and scaled up, at a pixel ratio that keeps it sharp.
  constructor({ slot, theme, panelClass, autoHeight, scale }) {
    this.slot = slot;
    this.autoHeight = autoHeight || '';
    this.scale = scale || 1;
    this.theme = theme;
    this.panelClass = panelClass || (() => '');
    this.panels = new Map();
    this.ro = typeof ResizeObserver === 'function' ? new ResizeObserver((es) => {
      for (const e of es) {
        const p = e.target.__panel;
        if (p && p.chart && e.contentRect.width > 0) p.chart.resize();
      }
    }) : null;
    window.addEventListener('resize', () => this.resize());
  }

  resize() {
    for (const p of this.panels.values()) if (p.chart) p.chart.resize();
  }

  panel(name, option) {
    let p = this.panels.get(name);
    if (p) return p;
    const parent = this.slot(name);
    if (!parent) return null;
    const body = h('div', { class: 'chart-body', 'data-chart-body': name });
    let target = body;
    if (this.scale !== 1) {
      target = h('div', { class: 'chart-scale' });
      target.style.width = (100 / this.scale) + '%';
      target.style.height = (100 / this.scale) + '%';
      target.style.transform = `scale(${this.scale})`;
      body.append(target);
    }
    // The server's title and subtitle are the panel's heading (ECharts is
    // told not to draw them): HTML wraps on a phone where a canvas title is cut.
    const head = h('h2', { class: 'panel-title chart-title', text: t('chart.' + name) === 'chart.' + name ? name : t('chart.' + name) });
    const sub = h('p', { class: 'chart-sub', hidden: true });
    const el = h('section', { class: 'panel chart ' + this.panelClass(name), 'data-chart': name, 'aria-label': t('chart.' + name) },
      head, sub, body);
    const rank = chartRank(name);
    const after = [...parent.querySelectorAll(':scope > [data-chart]')].find((x) => {
      const r = chartRank(x.dataset.chart);
      return r > rank || (r === rank && x.dataset.chart > name);
    });
    parent.insertBefore(el, after || null);
    p = { name, el, body, head, sub, chart: null };
    body.__panel = p;
    if (hasECharts()) {
      p.chart = window.echarts.init(target, this.theme === 'dark' ? 'dark' : null,
        { renderer: 'canvas', locale: 'EN', devicePixelRatio: (window.devicePixelRatio || 1) * this.scale });
      if (this.ro) this.ro.observe(body);
    } else {
      body.append(h('p', { class: 'chart-error', text: t('noECharts') }));
    }
    this.panels.set(name, p);
    return p;
  }

  /** update applies chart options; full replaces every chart's state. */
  update(charts, full) {
    if (!charts) return;
    for (const [name, option] of Object.entries(charts)) {
      if (!option || typeof option !== 'object') continue;
      const p = this.panel(name, option);
      if (!p || !p.chart) continue;
      const title = option.title && !Array.isArray(option.title) ? option.title : null;
      if (title && title.text) setText(p.head, title.text);
      if (title && 'subtext' in title) {
        setText(p.sub, title.subtext || '');
        p.sub.hidden = !title.subtext;
      }
      if (option.backgroundColor == null) option.backgroundColor = 'transparent';
      localiseValueAxes(option);
      if (full && option.aria == null) option.aria = ARIA;
      if (this.autoHeight) {
        const px = chartHeight(option, this.autoHeight === 'compact');
        if (p.body.style.height !== px + 'px') {
          p.body.style.height = px + 'px';
          p.chart.resize();
        }
      }
      try {
        p.chart.setOption(withTips(option), full ? { notMerge: true } : { replaceMerge: ['series'] });
        p.el.classList.remove('chart-failed');
      } catch (err) {
        p.el.classList.add('chart-failed');
        console.error('chart', name, err);
      }
    }
  }
}

// ---------------------------------------------------------------- the live stream

const STALE_AFTER = 12000; // the server sends at least every 5 s
const DEAD_AFTER = 25000; // silent this long: reconnect

/**
 * Live follows one scope over /ws. It keeps the merged snapshot, asks for a
 * resync on a gap in seq, reconnects with exponential backoff (1 s → 30 s,
 * jittered) and reloads the page when the server's build changes.
 *
 * onData(snapshot, charts, full) runs after each snapshot or update;
 * onStatus(status) runs every second and on every change.
 */
export class Live {
  constructor({ scope, theme, onData, onStatus }) {
    this.scope = scope || 'province';
    this.theme = theme || page.theme || 'light';
    this.onData = onData || (() => {});
    this.onStatus = onStatus || (() => {});
    this.build = page.build || '';
    this.ws = null;
    this.seq = 0;
    this.snap = null;
    this.state = null; // the snapshot and charts updates patch (livepatch.js)
    this.attempt = 0;
    this.retryAt = 0;
    this.timer = 0;
    this.lastMsg = 0;
    this.lastGood = Date.now();
    this.storageOK = true;
    this.connected = false;
    this.resyncAt = 0;
    this.badSince = 0;
  }

  start() {
    this.connect();
    setInterval(() => this.tick(), 1000);
    const now = () => { if (!this.ws) { clearTimeout(this.timer); this.connect(); } };
    window.addEventListener('online', now);
    document.addEventListener('visibilitychange', () => { if (!document.hidden) now(); });
    return this;
  }

  url() {
    const q = new URLSearchParams({ scope: this.scope, lang, theme: this.theme });
    return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws?' + q;
  }

  connect() {
    clearTimeout(this.timer);
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch (err) {
      this.lost();
      return;
    }
    this.ws = ws;
    const openTimer = setTimeout(() => ws.close(), 10000);
    ws.onopen = () => clearTimeout(openTimer);
    ws.onmessage = (e) => this.message(ws, e.data);
    ws.onclose = (e) => {
      clearTimeout(openTimer);
      if (this.ws !== ws) return;
      this.ws = null;
      // 1008: the server ended this account's access (revoked, signed out,
      // moved). Reloading lets the server say so: sign-in or "not allowed".
      if (e && e.code === 1008) {
        this.reload();
        return;
      }
      this.lost();
    };
  }

  lost() {
    if (this.connected || !this.badSince) this.badSince = this.lastGood;
    this.connected = false;
    const base = Math.min(30000, 1000 * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 10);
    const delay = Math.min(30000, base * (0.75 + Math.random() * 0.5));
    this.retryAt = Date.now() + delay;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
    this.report();
  }

  send(obj) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(obj));
  }

  resync() {
    if (Date.now() - this.resyncAt < 3000) return;
    this.resyncAt = Date.now();
    this.send({ type: 'resync' });
  }

  reload() {
    // Guard against a reload loop if pages and stream ever disagree.
    let hist = [];
    try { hist = JSON.parse(sessionStorage.getItem('tiendo.reloads') || '[]'); } catch (e) { /* ignore */ }
    hist = hist.filter((x) => Date.now() - x < 60000);
    if (hist.length >= 3) {
      this.needReload = true;
      this.report();
      return;
    }
    hist.push(Date.now());
    try { sessionStorage.setItem('tiendo.reloads', JSON.stringify(hist)); } catch (e) { /* ignore */ }
    location.reload();
  }

  message(ws, data) {
    if (ws !== this.ws) return;
    let msg;
    try { msg = JSON.parse(data); } catch (e) { return; }
    this.lastMsg = Date.now();
    this.connected = true;
    if (msg.build && this.build && msg.build !== this.build) {
      this.reload();
      return;
    }
    if (msg.build && !this.build) this.build = msg.build;
    // "ok"; "behind": ClickHouse inserts fail but accepted events are
    // counted from the server's spool (figures complete); "down": ClickHouse
    // does not answer and the figures are its last answer plus the spool;
    // "unavailable": the figures could not be refreshed at all.
    this.storage = msg.storage || 'ok';
    const storageOK = this.storage === 'ok' || this.storage === 'behind';
    if (!storageOK && this.storageOK) this.badSince = this.lastGood;
    this.storageOK = storageOK;

    let charts = null;
    let full = false;
    if (msg.type === 'snapshot' && msg.snapshot) {
      this.seq = msg.seq;
      // charts: copies, which ChartSet may change; the state keeps its own.
      ({ state: this.state, charts } = startState(msg));
      this.snap = this.state.snapshot;
      this.snap.stations = this.snap.stations || [];
      this.resyncAt = 0;
      full = true;
    } else if (msg.type === 'update' && msg.snapshot) {
      if (!this.state || msg.seq > this.seq + 1) {
        this.resync();
        this.report();
        return;
      }
      if (msg.seq <= this.seq) return;
      // An update is a patch of the previous seq's snapshot and charts
      // (livepatch.js); charts: complete options of the changed ones, or
      // null. The pages must not change this.snap: the next state shares
      // its unchanged parts.
      try {
        ({ state: this.state, charts } = applyUpdate(this.state, msg));
      } catch (err) {
        console.error('live patch', err);
        this.resync();
        this.report();
        return;
      }
      this.seq = msg.seq;
      this.snap = this.state.snapshot;
    } else {
      this.report();
      return;
    }
    this.attempt = 0;
    if (storageOK) {
      this.lastGood = Date.now();
      this.badSince = 0;
    }
    try {
      this.onData(this.snap, charts, full);
    } finally {
      this.report();
    }
  }

  tick() {
    if (this.ws && this.connected && Date.now() - this.lastMsg > DEAD_AFTER) {
      // Open but silent: the server sends at least every 5 s, so start over.
      const ws = this.ws;
      this.ws = null;
      ws.close();
      this.lost();
      return;
    }
    this.report();
  }

  /** status says what the page should show about its data's freshness. */
  status() {
    const now = Date.now();
    let state = 'live';
    if (this.needReload) state = 'reload';
    else if (!this.connected && !this.snap) state = this.badSince ? 'down' : 'connecting';
    else if (!this.connected) state = 'down';
    else if (!this.storageOK) state = 'stale';
    else if (now - this.lastMsg > STALE_AFTER) state = 'silent';
    return {
      state,
      since: this.badSince || this.lastGood,
      storage: this.storage || 'ok',
      age: (now - this.lastGood) / 1000,
      retryIn: Math.max(0, Math.ceil((this.retryAt - now) / 1000)),
      snap: this.snap,
    };
  }

  report() {
    this.onStatus(this.status());
  }
}

/**
 * showStatus renders a Live status into the header pill (#live) and the
 * banner (#banner) that every live page has.
 */
export function showStatus(st) {
  const pill = document.getElementById('live');
  const banner = document.getElementById('banner');
  document.body.dataset.live = st.state;
  if (pill) {
    pill.dataset.state = st.state;
    const text = pill.querySelector('.live-text');
    let s;
    switch (st.state) {
      case 'connecting': s = t('connecting'); break;
      case 'down': s = t('retrying', { s: st.retryIn }); break;
      case 'stale':
      case 'silent': s = t('stale') + ' · ' + t('updated', { ago: ago(st.age) }); break;
      default: s = t('live') + ' · ' + t('updated', { ago: ago(st.age) });
    }
    const pending = st.snap && st.snap.storage ? st.snap.storage.pending : 0;
    if (st.state === 'live' && st.storage === 'behind') {
      s += ' · ' + t('behind', { n: num(pending) });
      pill.dataset.state = 'behind';
    }
    if (st.snap && st.snap.now) s += ' · ' + t('dataAt', { time: dateTime(st.snap.now) }) + ' (' + zoneWords() + ')';
    setText(text, s);
  }
  if (banner) {
    let msg = '';
    if (st.state === 'down') msg = t('bannerDown', { time: hhmm(st.since) });
    else if (st.state === 'stale' && st.storage === 'down') msg = t('bannerDownStore', { time: hhmm(st.since) });
    else if (st.state === 'stale') msg = t('bannerStale', { time: hhmm(st.since) });
    else if (st.state === 'live' && st.snap && st.snap.storage && st.snap.storage.partial) {
      msg = t('bannerPartial', { n: num(st.snap.storage.uncounted || st.snap.storage.pending) });
    }
    else if (st.state === 'silent') msg = t('bannerSilent', { time: hhmm(st.since) });
    else if (st.state === 'reload') msg = t('bannerReload');
    banner.hidden = !msg;
    banner.dataset.state = st.state;
    setText(banner, msg);
  }
}
