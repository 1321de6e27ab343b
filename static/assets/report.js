// report.js: the phone form for stations without an agent (/report). It
// posts completions and a heartbeat to POST /api/v1/events with the
// station's token. Every event gets a client-made id; a batch that could
// not be delivered (no network, 429, 5xx) stays in an outbox in
// localStorage and is retried with the same ids, so the server counts it
// once however many times it arrives.

import { page, lang, tz, h, setText, num, hhmmss } from './core.js';

const TEXT = {
  vi: {
    intro: 'Dùng khi điểm cấp không có thiết bị tự gửi. Nhập số hồ sơ đã làm từ lần báo trước và tình hình hàng chờ hiện tại.',
    who: 'Điểm cấp',
    token: 'Mã truy cập của điểm (token)',
    tokenHelp: 'Do cán bộ quản trị cấp, dạng tdo_…',
    remember: 'Ghi nhớ mã trên máy này',
    rememberHelp: 'Chỉ chọn trên máy riêng của điểm cấp: mã được lưu trong trình duyệt này, và ai dùng máy này cũng gửi được số liệu thay điểm. Không chọn thì mã bị quên khi đóng trang, kể cả ở các báo cáo chờ gửi lại.',
    show: 'Hiện',
    station: 'Mã điểm',
    stationHelp: 'Ví dụ LS-BS-VULE',
    done: 'Hồ sơ đã hoàn thành',
    doneHelp: 'Số hồ sơ làm xong từ lần báo trước (để trống nếu chỉ báo hàng chờ).',
    count: 'Số hồ sơ',
    retries: 'Lấy lại vân tay (lần)',
    kind: 'Loại hồ sơ',
    kinds: { standard: 'Thông thường', student: 'Học sinh, sinh viên', home_visit: 'Cấp tại nhà' },
    queueSet: 'Hàng chờ và cán bộ (hiện tại)',
    queue: 'Người đang chờ',
    staff: 'Cán bộ đang làm',
    lanes: 'Số máy đang chạy',
    status: 'Trạng thái điểm',
    statuses: { open: 'Đang mở', paused: 'Tạm dừng', closed: 'Đã đóng' },
    advanced: 'Nâng cao',
    ts: 'Thời điểm (giờ {tz}); để trống là bây giờ',
    send: 'Gửi báo cáo',
    sending: 'Đang gửi…',
    needSomething: 'Nhập số hồ sơ hoặc số người đang chờ.',
    needToken: 'Cần mã truy cập (token) của điểm.',
    needStation: 'Cần mã điểm.',
    badTs: 'Thời điểm không hợp lệ.',
    ok: 'Đã nhận lúc {time}: {accepted} sự kiện mới{dup}.',
    dup: ', {n} sự kiện đã gửi trước đó (không tính lại)',
    offline: 'Chưa gửi được: không kết nối được máy chủ. Sẽ tự gửi lại lúc {time} (cùng mã sự kiện, không bị tính hai lần).',
    retryLater: '{why} Sẽ tự gửi lại lúc {time}.',
    s401: 'Mã truy cập không đúng hoặc đã bị thu hồi. Hỏi cán bộ quản trị để được cấp mã mới.',
    s403: 'Mã truy cập này không phải của điểm {station}. Kiểm tra lại mã điểm.',
    s400: 'Máy chủ không nhận báo cáo, cần sửa:',
    s413: 'Báo cáo quá lớn.',
    s415: 'Máy chủ không nhận định dạng dữ liệu này.',
    s429: 'Gửi quá nhanh.',
    s503: 'Máy chủ tạm thời chưa lưu được số liệu.',
    s5xx: 'Máy chủ gặp lỗi ({status}).',
    sOther: 'Máy chủ trả lời {status}.',
    pending: '{n} báo cáo chưa gửi được, đang chờ gửi lại.',
    retryNow: 'Gửi lại ngay',
    history: 'Đã gửi gần đây',
    histItem: '{time} · {what}',
    histCount: '{n} hồ sơ',
    histQueue: '{n} người chờ',
    evCompletion: 'Báo cáo hồ sơ',
    evHeartbeat: 'Báo cáo hàng chờ',
    fields: {
      id: 'Mã sự kiện', type: 'Loại sự kiện', station: 'Mã điểm', ts: 'Thời điểm', queue: 'Người đang chờ',
      staff: 'Cán bộ', lanes: 'Số máy', status: 'Trạng thái', count: 'Số hồ sơ',
      fingerprint_retries: 'Số lần lấy lại vân tay', kind: 'Loại hồ sơ', lat: 'Vĩ độ', lon: 'Kinh độ',
    },
    reasons: [
      [/^required/, 'bắt buộc phải có'],
      [/must be between (-?[\d.]+) and (-?[\d.]+)/, 'phải từ $1 đến $2'],
      [/^unknown station "(.*)"/, 'không có điểm "$1" trong danh sách'],
      [/^before the campaign start/, 'trước ngày bắt đầu chiến dịch'],
      [/^in the future/, 'ở tương lai — kiểm tra đồng hồ của máy'],
      [/must be open, paused or closed/, 'phải là đang mở, tạm dừng hoặc đã đóng'],
      [/must be standard, student or home_visit/, 'loại hồ sơ không hợp lệ'],
      [/^duplicate/, 'bị trùng'],
    ],
  },
  en: {
    intro: 'For stations without an automatic agent. Enter the records done since the last report and the current queue.',
    who: 'Station',
    token: 'Station access token',
    tokenHelp: 'Issued by the administrator, looks like tdo_…',
    remember: 'Remember the token on this device',
    rememberHelp: "Only on the station's own device: the token is kept in this browser, and anyone using it can report for the station. Unchecked, the token is forgotten when the page closes, also in reports waiting to be resent.",
    show: 'Show',
    station: 'Station id',
    stationHelp: 'For example LS-BS-VULE',
    done: 'Records completed',
    doneHelp: 'Records finished since the last report (leave empty to report the queue only).',
    count: 'Records',
    retries: 'Fingerprint retries',
    kind: 'Record kind',
    kinds: { standard: 'Standard', student: 'Students', home_visit: 'Home visit' },
    queueSet: 'Queue and staff (now)',
    queue: 'People waiting',
    staff: 'Staff working',
    lanes: 'Machines running',
    status: 'Station status',
    statuses: { open: 'Open', paused: 'Paused', closed: 'Closed' },
    advanced: 'Advanced',
    ts: 'Time ({tz}); leave empty for now',
    send: 'Send report',
    sending: 'Sending…',
    needSomething: 'Enter records completed or people waiting.',
    needToken: 'The station token is required.',
    needStation: 'The station id is required.',
    badTs: 'The time is not valid.',
    ok: 'Received at {time}: {accepted} new events{dup}.',
    dup: ', {n} already sent before (not counted again)',
    offline: 'Not sent yet: the server cannot be reached. Retrying at {time} with the same event ids (never counted twice).',
    retryLater: '{why} Retrying at {time}.',
    s401: 'The token is wrong or was revoked. Ask the administrator for a new one.',
    s403: 'This token does not belong to station {station}. Check the station id.',
    s400: 'The server refused the report; please fix:',
    s413: 'The report is too large.',
    s415: 'The server does not accept this data format.',
    s429: 'Sending too fast.',
    s503: 'The server cannot store figures right now.',
    s5xx: 'The server failed ({status}).',
    sOther: 'The server answered {status}.',
    pending: '{n} report(s) not sent yet, waiting to retry.',
    retryNow: 'Retry now',
    history: 'Recently sent',
    histItem: '{time} · {what}',
    histCount: '{n} records',
    histQueue: '{n} waiting',
    evCompletion: 'Records report',
    evHeartbeat: 'Queue report',
    fields: {
      id: 'Event id', type: 'Event type', station: 'Station id', ts: 'Time', queue: 'People waiting',
      staff: 'Staff', lanes: 'Machines', status: 'Status', count: 'Records',
      fingerprint_retries: 'Fingerprint retries', kind: 'Record kind', lat: 'Latitude', lon: 'Longitude',
    },
    reasons: [],
  },
}[lang];

const fill = (s, vars) => String(s).replace(/\{(\w+)\}/g, (m, k) => (vars && k in vars ? vars[k] : m));

// ---------------------------------------------------------------- storage

// The outbox keeps a batch's token only when the user lets us remember it.
const rememberOn = () => !remember || remember.checked;

const KEY = { token: 'tiendo.report.token', station: 'tiendo.report.station', outbox: 'tiendo.report.outbox', history: 'tiendo.report.history' };
const load = (k, d) => {
  try { const v = localStorage.getItem(k); return v == null ? d : JSON.parse(v); } catch (e) { return d; }
};
const save = (k, v) => {
  if (k === KEY.outbox && v && !rememberOn()) v = v.map((b) => Object.assign({}, b, { token: undefined }));
  try { if (v == null) localStorage.removeItem(k); else localStorage.setItem(k, JSON.stringify(v)); } catch (e) { /* private mode */ }
};

/** uuid makes an event id; crypto.randomUUID needs a secure context, so fall back. */
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** zonedToISO reads "YYYY-MM-DDTHH:MM" as a wall-clock time in the campaign's zone. */
function zonedToISO(local) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(local);
  if (!m) return null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
  const offsetAt = (ms) => {
    const f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
    return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - ms;
  };
  let t = wall - offsetAt(wall);
  t = wall - offsetAt(t);
  return new Date(t).toISOString();
}

// ---------------------------------------------------------------- form

const app = document.getElementById('app');
const field = (id, label, input, help) => h('div', { class: 'field' },
  h('label', { for: id, text: label }), input, help ? h('p', { class: 'help', id: id + '-help', text: help }) : null);
const numInput = (id, attrs) => h('input', Object.assign({ id, name: id, type: 'number', inputmode: 'numeric', min: '0', step: '1' }, attrs));
const select = (id, options, value) => h('select', { id, name: id },
  Object.entries(options).map(([v, label]) => h('option', { value: v, selected: v === value, text: label })));

const tokenIn = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'token-help' });
const showTok = h('button', { type: 'button', class: 'btn small ghost', 'aria-controls': 'token', text: TEXT.show });
const stationIn = h('input', { id: 'station', name: 'station', type: 'text', list: 'station-list', autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false', required: true, pattern: '[A-Za-z0-9][A-Za-z0-9._\\-]{0,47}', 'aria-describedby': 'station-help' });
const stationName = h('p', { class: 'station-name', id: 'station-name', 'aria-live': 'polite' });
// Remembering the token is opt-in (L6): on a shared phone, a stored token
// lets anyone report for the station, and any script on the page could
// read it.
const remember = h('input', { id: 'remember', type: 'checkbox', checked: false, 'aria-describedby': 'remember-help' });
const result = h('div', { class: 'result', id: 'result', role: 'status', 'aria-live': 'polite', hidden: true });
const outboxEl = h('div', { class: 'outbox', id: 'outbox', hidden: true });
const historyEl = h('section', { class: 'panel history', id: 'history', hidden: true });
const sendBtn = h('button', { type: 'submit', class: 'btn primary', id: 'send', text: TEXT.send });

const form = h('form', { class: 'report-form', id: 'report', novalidate: true },
  h('p', { class: 'intro', text: TEXT.intro }),
  h('fieldset', { class: 'panel' }, h('legend', { text: TEXT.who }),
    field('token', TEXT.token, h('div', { class: 'with-btn' }, tokenIn, showTok), TEXT.tokenHelp),
    h('div', { class: 'check' }, remember, h('label', { for: 'remember', text: TEXT.remember })),
    h('p', { class: 'help', id: 'remember-help', text: TEXT.rememberHelp }),
    field('station', TEXT.station, stationIn, TEXT.stationHelp),
    stationName,
    h('datalist', { id: 'station-list' })),
  h('fieldset', { class: 'panel' }, h('legend', { text: TEXT.done }),
    h('p', { class: 'help', text: TEXT.doneHelp }),
    h('div', { class: 'row2' },
      field('count', TEXT.count, numInput('count', { max: '10000' })),
      field('retries', TEXT.retries, numInput('retries', { max: '1000000' }))),
    field('kind', TEXT.kind, select('kind', TEXT.kinds, 'standard'))),
  h('fieldset', { class: 'panel' }, h('legend', { text: TEXT.queueSet }),
    h('div', { class: 'row2' },
      field('queue', TEXT.queue, numInput('queue', { max: '100000' })),
      field('staff', TEXT.staff, numInput('staff', { max: '1000' }))),
    h('div', { class: 'row2' },
      field('lanes', TEXT.lanes, numInput('lanes', { max: '50' })),
      field('status', TEXT.status, select('status', TEXT.statuses, 'open')))),
  h('details', { class: 'panel advanced' }, h('summary', { text: TEXT.advanced }),
    field('ts', fill(TEXT.ts, { tz }), h('input', { id: 'ts', name: 'ts', type: 'datetime-local', step: '1' }))),
  result,
  h('div', { class: 'actions' }, sendBtn),
  outboxEl);

app.replaceChildren(form, historyEl);
app.removeAttribute('aria-busy');

tokenIn.value = load(KEY.token, '') || '';
// A token stored before means the user chose to remember it.
remember.checked = tokenIn.value !== '';
remember.addEventListener('change', () => {
  if (remember.checked) return;
  save(KEY.token, null); // forget it now, and in the outbox (save strips it)
  save(KEY.outbox, outbox);
});
stationIn.value = page.station || load(KEY.station, '') || '';
showTok.addEventListener('click', () => {
  tokenIn.type = tokenIn.type === 'password' ? 'text' : 'password';
  showTok.setAttribute('aria-pressed', String(tokenIn.type === 'text'));
});

// The station list helps typing the id and shows the station's name.
const names = new Map();
fetch('/api/v1/snapshot?scope=province', { headers: { Accept: 'application/json' } })
  .then((r) => (r.ok ? r.json() : null))
  .then((snap) => {
    if (!snap) return;
    const dl = document.getElementById('station-list');
    for (const s of snap.stations || []) {
      names.set(s.id, s.name);
      dl.append(h('option', { value: s.id, text: s.name }));
    }
    showName();
  })
  .catch(() => {});
const showName = () => setText(stationName, names.get(stationIn.value.trim()) || '');
stationIn.addEventListener('input', showName);

// ---------------------------------------------------------------- messages

function translateReason(reason) {
  for (const [re, vi] of TEXT.reasons) if (re.test(reason)) return reason.replace(re, vi);
  return reason;
}

function showResult(kind, text, items) {
  result.hidden = false;
  result.className = 'result ' + kind;
  result.replaceChildren(h('p', { text }));
  if (items && items.length) result.append(h('ul', null, items.map((x) => h('li', null, x))));
}

function errorItems(body, batch) {
  return (body && body.items ? body.items : []).map((it) => {
    const ev = batch.events[it.index];
    const which = ev ? (ev.type === 'completion' ? TEXT.evCompletion : TEXT.evHeartbeat) + ' · ' : '';
    const label = TEXT.fields[it.field] || it.field;
    return [which, h('strong', { text: label }), ': ', translateReason(it.reason || '')];
  });
}

// ---------------------------------------------------------------- outbox

let outbox = load(KEY.outbox, []);
let retryTimer = 0;
let flushing = false;

function renderOutbox() {
  outboxEl.hidden = outbox.length === 0;
  outboxEl.replaceChildren(
    h('span', { text: fill(TEXT.pending, { n: num(outbox.length) }) }),
    h('button', { type: 'button', class: 'btn small', text: TEXT.retryNow, onclick: () => flush() }));
  document.body.dataset.outbox = String(outbox.length);
}

function renderHistory() {
  const hist = load(KEY.history, []);
  historyEl.hidden = hist.length === 0;
  historyEl.replaceChildren(h('h2', { class: 'panel-title', text: TEXT.history }),
    h('ul', { class: 'hist' }, hist.map((x) => h('li', { text: x }))));
}

function remember1(batch) {
  const what = [];
  for (const e of batch.events) {
    if (e.type === 'completion') what.push(fill(TEXT.histCount, { n: num(e.count) }));
    else what.push(fill(TEXT.histQueue, { n: num(e.queue) }));
  }
  const hist = load(KEY.history, []);
  hist.unshift(batch.station + ' · ' + fill(TEXT.histItem, { time: hhmmss(new Date()), what: what.join(', ') }));
  save(KEY.history, hist.slice(0, 5));
  renderHistory();
}

function retryLater(batch, seconds, why) {
  batch.attempts = (batch.attempts || 0) + 1;
  const delay = seconds != null ? seconds * 1000 : Math.min(60000, 2000 * 2 ** (batch.attempts - 1));
  const at = new Date(Date.now() + delay);
  save(KEY.outbox, outbox);
  clearTimeout(retryTimer);
  retryTimer = setTimeout(flush, delay);
  showResult('warn', why ? fill(TEXT.retryLater, { why, time: hhmmss(at) }) : fill(TEXT.offline, { time: hhmmss(at) }));
}

/** flush sends the outbox's batches in order, each with its own event ids. */
async function flush() {
  if (flushing) return;
  flushing = true;
  clearTimeout(retryTimer);
  sendBtn.disabled = true;
  setText(sendBtn, TEXT.sending);
  try {
    while (outbox.length) {
      const batch = outbox[0];
      let resp;
      try {
        resp = await fetch('/api/v1/events', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + (batch.token || tokenIn.value.trim()), Accept: 'application/json' },
          body: JSON.stringify(batch.events),
          cache: 'no-store',
        });
      } catch (err) {
        retryLater(batch, null, null);
        return;
      }
      let body = null;
      try { body = await resp.json(); } catch (e) { /* not JSON */ }
      const serverText = body && body.error ? body.error : '';
      if (resp.status === 202 || resp.ok) {
        outbox.shift();
        save(KEY.outbox, outbox);
        remember1(batch);
        const dup = body && body.duplicates ? fill(TEXT.dup, { n: num(body.duplicates) }) : '';
        showResult('ok', fill(TEXT.ok, { time: hhmmss(new Date()), accepted: num(body ? body.accepted : batch.events.length), dup }));
        continue;
      }
      if (resp.status === 429 || resp.status >= 500) {
        const ra = parseInt(resp.headers.get('Retry-After'), 10);
        const why = resp.status === 429 ? TEXT.s429 : resp.status === 503 ? TEXT.s503 : fill(TEXT.s5xx, { status: resp.status });
        retryLater(batch, Number.isFinite(ra) ? Math.max(1, ra) : null, why);
        return;
      }
      // The server refused the batch as it is: resending cannot help.
      outbox.shift();
      save(KEY.outbox, outbox);
      let msg = fill(TEXT.sOther, { status: resp.status });
      if (resp.status === 400) msg = TEXT.s400;
      else if (resp.status === 401) msg = TEXT.s401;
      else if (resp.status === 403) msg = fill(TEXT.s403, { station: batch.station });
      else if (resp.status === 413) msg = TEXT.s413;
      else if (resp.status === 415) msg = TEXT.s415;
      const items = errorItems(body, batch);
      if (!items.length && serverText) items.push(h('span', { class: 'muted', text: serverText }));
      showResult('error', msg, items);
      if (resp.status === 401) tokenIn.focus();
    }
  } finally {
    flushing = false;
    sendBtn.disabled = false;
    setText(sendBtn, TEXT.send);
    renderOutbox();
  }
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  const v = (id) => document.getElementById(id).value.trim();
  const token = tokenIn.value.trim();
  const station = stationIn.value.trim();
  if (!token) { showResult('error', TEXT.needToken); tokenIn.focus(); return; }
  if (!station) { showResult('error', TEXT.needStation); stationIn.focus(); return; }
  const count = v('count') === '' ? 0 : Number(v('count'));
  const hasQueue = v('queue') !== '' || v('staff') !== '';
  if (!(count > 0) && !hasQueue) { showResult('error', TEXT.needSomething); document.getElementById('count').focus(); return; }
  let ts = new Date().toISOString();
  if (v('ts')) {
    ts = zonedToISO(v('ts'));
    if (!ts) { showResult('error', TEXT.badTs); return; }
  }
  const events = [];
  if (v('count') !== '' && count !== 0) {
    events.push({ id: uuid(), type: 'completion', station, ts, count, fingerprint_retries: v('retries') === '' ? 0 : Number(v('retries')), kind: v('kind') });
  }
  if (hasQueue) {
    const hb = { id: uuid(), type: 'heartbeat', station, ts, queue: Number(v('queue') || 0), staff: Number(v('staff') || 0), status: v('status') };
    if (v('lanes') !== '') hb.lanes = Number(v('lanes'));
    events.push(hb);
  }
  if (remember.checked) { save(KEY.token, token); save(KEY.station, station); } else { save(KEY.token, null); }
  outbox.push({ station, token, events, attempts: 0 });
  save(KEY.outbox, outbox);
  renderOutbox();
  flush().then(() => {
    if (!outbox.length) for (const id of ['count', 'retries']) document.getElementById(id).value = '';
  });
});

window.addEventListener('online', () => { if (outbox.length) flush(); });
renderOutbox();
renderHistory();
if (outbox.length) flush();
