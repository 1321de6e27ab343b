// notes.js: the timeline notes ("Ghi chú") of a district, a station or the
// province: what people wrote about a bump or a dip on the charts ("tổ lưu
// động tại THPT Bắc Sơn, 14–17 giờ"). The list comes from GET
// /api/v1/notes; whoever writes notes (a district's officer, leaders,
// admins: the shell's data-notes) gets a small form that posts one, and
// the author (or an admin) a delete button. The server checks every field
// and names the bad ones; this page says them in its language. The
// charts draw the notes from the snapshot, at the next round.

import { page, lang, tz, h, setText, num, whoWords, sendJSON, calendarDay, dayMonth, dayNum } from './core.js';

const TEXT = {
  vi: {
    title: 'Ghi chú trên biểu đồ',
    titleN: 'Ghi chú trên biểu đồ ({n})',
    none: 'Chưa có ghi chú nào.',
    intro: 'Ghi lại việc giải thích một thay đổi trên biểu đồ, ví dụ "tổ lưu động tại THPT Bắc Sơn".',
    add: 'Thêm ghi chú',
    day: 'Ngày',
    from: 'Từ giờ',
    to: 'Đến giờ',
    nextDay: '{h} (hôm sau)',
    where: 'Về',
    whole: 'Cả huyện',
    district: 'Quận/huyện',
    station: 'Điểm cấp (không bắt buộc)',
    text: 'Nội dung',
    textHelp: 'Tối đa 200 ký tự.',
    save: 'Lưu ghi chú',
    saving: 'Đang lưu…',
    saved: 'Đã lưu ghi chú. Biểu đồ sẽ hiện ghi chú ở lần cập nhật tới.',
    bad: 'Chưa lưu được ghi chú: hãy sửa các ô được đánh dấu.',
    by: 'ghi bởi {who}',
    del: 'Xoá',
    delLabel: 'Xoá ghi chú: {text}',
    deleting: 'Đang xoá…',
    deleted: 'Đã xoá ghi chú.',
    forbidden: 'Tài khoản này không được ghi chú ở đây.',
    delForbidden: 'Chỉ người viết ghi chú hoặc quản trị viên được xoá ghi chú này.',
    gone: 'Ghi chú này không còn nữa.',
    full: 'Quận/huyện này đã có quá nhiều ghi chú: hãy xoá bớt ghi chú cũ.',
    signin: 'Phiên đăng nhập đã hết: hãy tải lại trang và đăng nhập.',
    failed: 'Chưa gửi được ({why}). Hãy thử lại.',
    offline: 'mất kết nối',
    loadFailed: 'Chưa tải được danh sách ghi chú ({why}).',
    all: 'Xem cả {n} ghi chú',
    fewer: 'Thu gọn',
    fields: { district: 'Quận/huyện', station: 'Điểm cấp', from: 'Từ giờ', to: 'Đến giờ', text: 'Nội dung' },
    reasons: [
      [/^required$/, 'bắt buộc phải có'],
      [/^give a district or a station$/, 'hãy chọn quận/huyện hoặc điểm cấp'],
      [/^unknown district (.*)$/, 'không có quận/huyện $1'],
      [/^unknown station (.*)$/, 'không có điểm cấp $1'],
      [/^station (\S+) is in district (\S+)$/, 'điểm $1 thuộc quận/huyện $2'],
      [/^want a time in RFC 3339.*$/, 'thời gian không hợp lệ'],
      [/^must be after from$/, 'phải sau giờ bắt đầu'],
      [/^a note covers at most 31 days$/, 'một ghi chú dài tối đa 31 ngày'],
      [/^before the campaign's start$/, 'trước ngày bắt đầu chiến dịch'],
      [/^more than 31 days ahead$/, 'xa quá 31 ngày tới'],
      [/^at most (\d+) characters$/, 'tối đa $1 ký tự'],
      [/^must be valid UTF-8$/, 'có ký tự không hợp lệ'],
      [/^must not contain control characters \((.*)\)$/, 'không được có ký tự điều khiển ($1)'],
      [/^must not contain text-direction characters \((.*)\)$/, 'không được có ký tự đổi chiều chữ ($1)'],
      [/^must not contain invisible characters \((.*)\)$/, 'không được có ký tự ẩn ($1)'],
    ],
  },
  en: {
    title: 'Notes on the charts',
    titleN: 'Notes on the charts ({n})',
    none: 'No notes yet.',
    intro: 'Note what explains a change on the charts, e.g. "mobile team at THPT Bắc Sơn".',
    add: 'Add a note',
    day: 'Day',
    from: 'From',
    to: 'To',
    nextDay: '{h} (next day)',
    where: 'About',
    whole: 'The whole district',
    district: 'District',
    station: 'Station (optional)',
    text: 'Text',
    textHelp: 'At most 200 characters.',
    save: 'Save the note',
    saving: 'Saving…',
    saved: 'Note saved. The charts show it at their next update.',
    bad: 'The note was not saved: please correct the marked fields.',
    by: 'by {who}',
    del: 'Delete',
    delLabel: 'Delete the note: {text}',
    deleting: 'Deleting…',
    deleted: 'Note deleted.',
    forbidden: 'This account may not write notes here.',
    delForbidden: 'Only its author or an administrator may delete this note.',
    gone: 'This note no longer exists.',
    full: 'This district has too many notes: please delete old ones.',
    signin: 'The sign-in has ended: reload the page and sign in.',
    failed: 'Not sent ({why}). Please try again.',
    offline: 'no connection',
    loadFailed: 'The notes could not be loaded ({why}).',
    all: 'Show all {n} notes',
    fewer: 'Show fewer',
    fields: { district: 'District', station: 'Station', from: 'From', to: 'To', text: 'Text' },
    reasons: [],
  },
}[lang];

const SHOWN = 6; // the newest few; the rest a press away

const kind = page.page; // overview | district | station
const [scopeKind, scopeID] = (page.scope || 'province').split(':');
const writes = page.notes === 'write' && kind !== 'station';

// ---------------------------------------------------------------- time

const pad = (n) => String(n).padStart(2, '0');
const clockF = new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
// "20/03" in Vietnamese, "20 Mar" in English: core's one date rule.
const dayMonthF = { format: (d) => dayMonth(calendarDay(d)) };
const offsetF = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'longOffset' });

/** offsetOf is the campaign zone's UTC offset on a day, as RFC 3339 writes it ("+07:00"). */
function offsetOf(day) {
  const part = offsetF.formatToParts(new Date(day + 'T12:00:00Z')).find((p) => p.type === 'timeZoneName');
  const m = part && /GMT([+-]\d{2}):?(\d{2})?/.exec(part.value);
  return m ? m[1] + ':' + (m[2] || '00') : 'Z';
}

/** addDays moves a YYYY-MM-DD day by n calendar days. */
const addDays = (day, n) => new Date((dayNum(day) + n) * 86400000).toISOString().slice(0, 10);

/**
 * instant writes the wall-clock hour of a day in the campaign's zone as
 * RFC 3339; hours past 23 are the next day's ("25" is 01:00 the day after).
 */
function instant(day, hour) {
  const d = hour >= 24 ? addDays(day, Math.floor(hour / 24)) : day;
  return `${d}T${pad(hour % 24)}:00:00${offsetOf(d)}`;
}

/** spanWords is the time a note covers: "20/03 14:00–17:00", or with both dates. */
function spanWords(n) {
  const from = new Date(n.from);
  const to = new Date(n.to);
  const sameDay = calendarDay(from) === calendarDay(new Date(to.getTime() - 1));
  if (sameDay) return `${dayMonthF.format(from)} ${clockF.format(from)}–${clockF.format(to)}`;
  return `${dayMonthF.format(from)} ${clockF.format(from)} – ${dayMonthF.format(to)} ${clockF.format(to)}`;
}

const reasonWords = (r) => {
  for (const [re, w] of TEXT.reasons) if (re.test(r)) return r.replace(re, w);
  return r;
};

// ---------------------------------------------------------------- the panel

let panel = null;
let notes = [];
let open = false;
let snap = null;
const names = new Map(); // station and district ids → names, from the snapshot

function field(id, label, input, help) {
  return h('div', { class: 'field', 'data-field': id },
    h('label', { for: 'note-' + id, text: label }), input,
    help ? h('p', { class: 'help', id: 'note-' + id + '-help', text: help }) : null,
    h('p', { class: 'field-error', id: 'note-' + id + '-error', hidden: true }));
}

function hourSelect(id, first, last, chosen) {
  const sel = h('select', { id: 'note-' + id, name: id });
  for (let hr = first; hr <= last; hr++) {
    const label = hr >= 24 ? TEXT.nextDay.replace('{h}', pad(hr - 24) + ':00') : pad(hr) + ':00';
    sel.append(h('option', { value: String(hr), text: label, selected: hr === chosen }));
  }
  return sel;
}

function form() {
  const where = scopeKind === 'province'
    ? field('district', TEXT.district, h('select', { id: 'note-district', name: 'district' }))
    : field('station', TEXT.station, h('select', { id: 'note-station', name: 'station' }, h('option', { value: '', text: TEXT.whole })));
  const f = h('form', { class: 'note-form', id: 'note-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); save(); } },
    h('div', { class: 'note-when' },
      field('day', TEXT.day, h('input', { id: 'note-day', name: 'day', type: 'date' })),
      field('from', TEXT.from, hourSelect('from', 0, 23, 14)),
      field('to', TEXT.to, hourSelect('to', 1, 28, 17))),
    where,
    field('text', TEXT.text, h('textarea', { id: 'note-text', name: 'text', rows: 2, 'aria-describedby': 'note-text-help' }), TEXT.textHelp),
    h('div', { class: 'note-actions' },
      h('button', { type: 'submit', class: 'btn primary', id: 'note-save', text: TEXT.save }),
      h('p', { class: 'note-result', id: 'note-result', role: 'status', 'aria-live': 'polite' })));
  return f;
}

/** notesPanel builds the section; startNotes fills it once the first snapshot is in. */
export function notesPanel() {
  panel = h('section', { class: 'panel notes-panel', id: 'notes', 'aria-labelledby': 'notes-h' },
    h('h2', { class: 'panel-title', id: 'notes-h', text: TEXT.title }),
    h('ol', { class: 'note-list', id: 'note-items' }),
    h('p', { class: 'notes-none muted', id: 'notes-none', text: TEXT.none }),
    h('p', { class: 'notes-load error', id: 'notes-load', hidden: true }),
    h('button', { type: 'button', class: 'btn small ghost', id: 'notes-more', hidden: true,
      onclick: () => { open = !open; renderList(); } }),
    // The form is a press away: the list is what most readers come for.
    writes ? h('details', { class: 'note-add', id: 'note-add' }, h('summary', { class: 'btn small', text: TEXT.add }), form()) : null);
  panel.dataset.writes = writes ? 'true' : 'false';
  return panel;
}

const $ = (sel) => panel && panel.querySelector(sel);

let started = false;
/** notesSnapshot takes each snapshot: names for the list, choices for the form. */
export function notesSnapshot(s) {
  snap = s;
  for (const st of s.stations || []) names.set(st.id, st.name);
  for (const d of s.districts || []) names.set(d.id, d.name);
  if (!panel) return;
  if (!started) {
    started = true;
    fillChoices(s);
    load();
    setInterval(load, 120000); // someone else's notes, now and then
  }
}

function fillChoices(s) {
  if (!writes) return;
  const day = $('#note-day');
  if (day && !day.value) {
    day.value = s.day;
    day.min = s.campaign.start;
    day.max = s.campaign.deadline;
  }
  const sel = $('#note-station') || $('#note-district');
  if (!sel) return;
  const rows = scopeKind === 'province' ? (s.districts || []) : [...(s.stations || [])].sort((a, b) => a.name.localeCompare(b.name, 'vi'));
  sel.append(...rows.map((r) => h('option', { value: r.id, text: r.name })));
}

async function load() {
  const r = await sendJSON('GET', '/api/v1/notes?scope=' + encodeURIComponent(page.scope || 'province'));
  const err = $('#notes-load');
  if (r.status === 200 && r.body && Array.isArray(r.body.notes)) {
    notes = r.body.notes;
    err.hidden = true;
  } else {
    err.hidden = false;
    setText(err, TEXT.loadFailed.replace('{why}', r.status ? 'HTTP ' + r.status : TEXT.offline));
  }
  renderList();
}

function whereWords(n) {
  if (n.station) return n.station === scopeID ? '' : names.get(n.station) || n.station;
  if (scopeKind === 'district' && n.district === scopeID) return '';
  return names.get(n.district) || n.district;
}

function renderList() {
  if (!panel) return;
  // Newest first: what explains today's charts is at the top.
  const rows = [...notes].sort((a, b) => Date.parse(b.from) - Date.parse(a.from) || Date.parse(b.at) - Date.parse(a.at));
  const admin = page.role === 'admin';
  const list = $('#note-items');
  list.replaceChildren(...rows.map((n, i) => {
    const where = whereWords(n);
    const mine = writes && (n.by === page.viewer || admin);
    return h('li', { class: 'note-item', 'data-note-id': n.id, hidden: !open && i >= SHOWN },
      h('div', { class: 'note-body' },
        h('div', { class: 'note-span', text: spanWords(n) + (where ? ' · ' + where : '') }),
        h('div', { class: 'note-text', text: n.text }),
        h('div', { class: 'note-by muted', text: TEXT.by.replace('{who}', whoWords(n.by)) })),
      mine ? h('button', { type: 'button', class: 'btn small ghost note-del', text: TEXT.del,
        'aria-label': TEXT.delLabel.replace('{text}', n.text), onclick: (e) => remove(n, e.currentTarget) }) : null);
  }));
  setText($('#notes-h'), rows.length ? TEXT.titleN.replace('{n}', num(rows.length)) : TEXT.title);
  $('#notes-none').hidden = rows.length > 0;
  const more = $('#notes-more');
  more.hidden = rows.length <= SHOWN;
  more.setAttribute('aria-expanded', open ? 'true' : 'false');
  setText(more, open ? TEXT.fewer : TEXT.all.replace('{n}', num(rows.length)));
  panel.dataset.count = rows.length;
}

function result(cls, text) {
  const el = $('#note-result');
  el.className = 'note-result ' + cls;
  setText(el, text);
}

function clearErrors() {
  for (const el of panel.querySelectorAll('.field-error')) { el.hidden = true; setText(el, ''); }
  for (const el of panel.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

/** showErrors puts each of the server's field problems under its field. */
function showErrors(items) {
  for (const it of items) {
    // A district named by the province's form, a station by a district's.
    let key = it.field;
    let label = TEXT.fields[it.field] || it.field;
    // A start before the campaign or too far ahead is the day's fault.
    if (key === 'from' && /campaign's start|days ahead/.test(it.reason || '')) { key = 'day'; label = TEXT.day; }
    if (key === 'district' && !$('#note-district')) key = 'station';
    if (!$('#note-' + key)) key = 'text';
    const el = $('#note-' + key + '-error');
    const words = label + ': ' + reasonWords(it.reason || '');
    el.hidden = false;
    setText(el, el.textContent ? el.textContent + ' · ' + words : words);
    $('#note-' + key).setAttribute('aria-invalid', 'true');
    $('#note-' + key).setAttribute('aria-describedby', 'note-' + key + '-error' + (key === 'text' ? ' note-text-help' : ''));
  }
}

function failure(r, forbidden) {
  switch (r.status) {
    case 403: return TEXT[forbidden];
    case 401: return TEXT.signin;
    case 404: return TEXT.gone;
    case 409: return TEXT.full;
    default: return TEXT.failed.replace('{why}', r.status ? 'HTTP ' + r.status : TEXT.offline);
  }
}

let saving = false;
async function save() {
  if (saving) return;
  saving = true;
  clearErrors();
  const day = $('#note-day').value;
  const from = +$('#note-from').value;
  const to = +$('#note-to').value;
  const body = { from: instant(day, from), to: instant(day, to), text: $('#note-text').value };
  if (!day) body.from = body.to = ''; // the server names the missing time
  if (scopeKind === 'province') body.district = $('#note-district').value;
  else {
    body.district = scopeKind === 'district' ? scopeID : '';
    const st = $('#note-station').value;
    if (st) body.station = st;
  }
  const btn = $('#note-save');
  btn.disabled = true;
  result('', TEXT.saving);
  const r = await sendJSON('POST', '/api/v1/notes', body);
  btn.disabled = false;
  saving = false;
  if (r.status === 201 && r.body) {
    notes = notes.filter((n) => n.id !== r.body.id).concat([r.body]);
    $('#note-text').value = '';
    result('ok', TEXT.saved);
    renderList();
    return;
  }
  if (r.status === 400 && r.body && Array.isArray(r.body.items) && r.body.items.length) {
    showErrors(r.body.items);
    result('error', TEXT.bad);
    return;
  }
  result('error', failure(r, 'forbidden'));
}

async function remove(n, btn) {
  btn.disabled = true;
  setText(btn, TEXT.deleting);
  const r = await sendJSON('DELETE', '/api/v1/notes/' + encodeURIComponent(n.id));
  if (r.status === 200 || r.status === 404) {
    notes = notes.filter((x) => x.id !== n.id);
    renderList();
    if (writes) result('ok', r.status === 200 ? TEXT.deleted : TEXT.gone);
    return;
  }
  btn.disabled = false;
  setText(btn, TEXT.del);
  if (writes) result('error', failure(r, 'delForbidden'));
}
