// screen.js: the command-room kiosk (/screen). Full screen, no controls,
// dark, type readable across a room. A KPI strip stays on top; below it the
// views rotate on a timer (?rotate=SECONDS, default 20; ?view=NAME pins one).
// The stream reconnects by itself, and the page reloads when the server's
// build changes, and once a day after the working-day boundary (see
// "daily reload" below).

import {
  page, lang, t, num, pct, minutes, waitShort, dayStr, calendarDay, hhmm, h, setText, bar, stateWords, finishWords, recentWords, recentLabel,
  showState, signed, lateHour, fitText, autoFit, ChartSet, Live, showStatus,
  moveParts, movesOf, alertsOf, alertWords, namesOf, whoWords, pageTiles, tileGrid, fillTiles,
} from './core.js';

const TEXT = {
  vi: {
    views: { overview: 'Tổng quan tiến độ', provinces: 'Các tỉnh, thành phố', districts: 'Quận/huyện', queues: 'Hàng chờ và cán bộ', moves: 'Đề xuất điều cán bộ', map: 'Bản đồ điểm cấp', throughput: 'Năng suất', latenight: 'Làm việc ban đêm', other: 'Biểu đồ khác' },
    pace: 'Tiến độ',
    finish: 'Dự kiến hoàn thành',
    deadline: 'Hạn chót',
    perDay: '{n}/ngày',
    districtsHead: 'Tiến độ từng huyện (thấp nhất trước)',
    provincesHead: 'Cần chú ý nhất',
    idleHead: 'Cán bộ rảnh',
    idleCount: '{n} cán bộ ở {s} điểm',
    staffBig: 'cán bộ',
    movesMore: 'và {n} đề xuất khác',
    since: 'từ {t}',
  },
  en: {
    views: { overview: 'Progress overview', provinces: 'Provinces', districts: 'Districts', queues: 'Queues and staff', moves: 'Suggested staff moves', map: 'Station map', throughput: 'Throughput', latenight: 'Late-night workload', other: 'Other charts' },
    pace: 'Pace',
    finish: 'Projected finish',
    deadline: 'Deadline',
    perDay: '{n}/day',
    districtsHead: 'Districts (lowest first)',
    provincesHead: 'Most urgent',
    idleHead: 'Idle staff',
    idleCount: '{n} at {s} stations',
    staffBig: 'staff',
    movesMore: 'and {n} more suggestions',
    since: 'since {t}',
  },
}[lang];

const q = new URLSearchParams(location.search);
const rotateSec = Math.max(3, parseInt(q.get('rotate'), 10) || parseInt(page.rotate, 10) || 20);
const pinned = q.get('view');

const VIEWS = ['overview', 'provinces', 'districts', 'queues', 'moves', 'map', 'throughput', 'latenight', 'other'];
const CHART_VIEW = { progress: 'overview', districts: 'districts', queue: 'queues', map: 'map', throughput: 'throughput', throughput_trend: 'throughput', latenight: 'latenight' };

const app = document.getElementById('app');

function kpi(key, label) {
  return h('div', { class: 'skpi skpi-' + key },
    h('div', { class: 'skpi-label', text: label }),
    h('div', { class: 'skpi-value', 'data-kpi': key, text: '—' }),
    h('div', { class: 'skpi-change', 'data-change': key, hidden: true }),
    h('div', { class: 'skpi-note', 'data-note': key }));
}

const panes = {};
for (const v of VIEWS) {
  panes[v] = h('section', { class: 'pane pane-' + v, 'data-view': v, 'aria-label': TEXT.views[v] },
    h('div', { class: 'pane-charts', 'data-slot': v }));
}
panes.overview.append(h('div', { class: 'pane-side pace-card', id: 'pace' }));
panes.districts.append(h('div', { class: 'pane-side', id: 'districts' }));
// The nation's provinces: the tile map, and the most urgent in the
// server's order (tiendo.RankUnits).
const tiles = pageTiles();
const PROVINCES_SHOWN = 8;
if (tiles.length) panes.provinces.replaceChildren(tileGrid(tiles), h('div', { class: 'pane-side', id: 'provinces' }));
panes.queues.append(h('div', { class: 'pane-side', id: 'queues' }));
// Beside the map, where the officers are needed and where they are free:
// the server's attention lists, as the queues view has them.
panes.map.append(h('div', { class: 'pane-side map-side', id: 'mapside' }));
panes.moves.replaceChildren(h('div', { class: 'pane-side moves-side', id: 'moves' }));

app.replaceChildren(
  h('header', { class: 'scr-top' },
    h('div', { class: 'scr-brand' },
      h('div', { class: 'scr-campaign', text: page.campaign || '' }),
      h('div', { class: 'scr-viewname', id: 'viewname' })),
    h('div', { class: 'scr-dots', id: 'dots', 'aria-hidden': 'true' }),
    h('div', { class: 'live', id: 'live' }, h('span', { class: 'dot', 'aria-hidden': 'true' }), h('span', { class: 'live-text' })),
    h('div', { class: 'scr-clock' }, h('div', { id: 'clock', text: '--:--' }),
      h('div', { id: 'date' }, h('span', { class: 'cal' }), h('span', { class: 'workday', hidden: true })))),
  // The open alerts, across the room: under the clock and the "as of" line, never over them.
  h('section', { class: 'aband', id: 'aband', 'aria-live': 'polite', hidden: true }),
  h('section', { class: 'scr-kpis', 'aria-live': 'polite' },
    kpi('completed', t('completed')),
    kpi('today', t('today')),
    kpi('per_hour', t('perHour')),
    kpi('queue', t('waiting')),
    kpi('open', t('open')),
    h('div', { class: 'skpi skpi-verdict' }, h('div', { class: 'skpi-label', text: TEXT.pace }), h('div', { class: 'verdict big', id: 'verdict', 'aria-live': 'polite' }),
      h('div', { class: 'skpi-note', id: 'verdict-finish' }), h('div', { class: 'skpi-bar', id: 'bigbar' }))),
  h('main', { class: 'scr-views' }, ...VIEWS.map((v) => panes[v])),
  h('div', { class: 'scr-timer', 'aria-hidden': 'true' }, h('span', { class: 'fill', id: 'timer' })));
app.removeAttribute('aria-busy');
// The outage banner in the column, under the clock and the "as of" line.
{
  const banner = document.getElementById('banner');
  if (banner) app.insertBefore(banner, document.getElementById('aband'));
}

const charts = new ChartSet({
  slot: (name) => panes[CHART_VIEW[name] || 'other'].querySelector('.pane-charts'),
  theme: 'dark',
  // The server's charts are sized for a desk; read across a room they need
  // to be about 1.4 times larger on a 1920-pixel-wide screen.
  scale: Math.max(1, Math.min(2.5, window.innerWidth / 1400)),
});
window.addEventListener('resize', () => app.querySelectorAll('.skpi-value, .fact-value').forEach(fitText));

// ---------------------------------------------------------------- rotation

let current = -1;

let moveCount = 0;

function available() {
  return VIEWS.filter((v) => panes[v].querySelector('[data-chart]') || v === 'overview' || (v === 'moves' && moveCount > 0) ||
    (v === 'provinces' && tiles.length > 0));
}

function dots() {
  const view = VIEWS[current];
  document.getElementById('dots').replaceChildren(...available().map((v) => h('span', { class: v === view ? 'on' : '' })));
}

let shownAt = 0;

function show(view) {
  shownAt = Date.now();
  for (const v of VIEWS) panes[v].classList.toggle('active', v === view);
  document.body.dataset.view = view;
  setText(document.getElementById('viewname'), TEXT.views[view]);
  dots();
  // Restart the timer bar's animation.
  const old = document.getElementById('timer');
  const fresh = h('span', { class: 'fill' + (pinned ? '' : ' run'), id: 'timer' });
  fresh.style.animationDuration = rotateSec + 's';
  old.replaceWith(fresh);
  charts.resize();
}

function next() {
  const avail = available();
  // A daily reload waits for the rotation to come back to its first view,
  // where the reloaded page starts too: the room sees a view change, not a
  // jump back to the start.
  if (daily.due && (pinned || avail.indexOf(VIEWS[current]) === avail.length - 1)) dailyReload();
  if (pinned && VIEWS.includes(pinned)) {
    if (VIEWS[current] !== pinned) {
      current = VIEWS.indexOf(pinned);
      show(pinned);
    }
    return;
  }
  const cur = avail.indexOf(VIEWS[current]);
  const nxt = avail[(cur + 1) % avail.length];
  current = VIEWS.indexOf(nxt);
  show(nxt);
}

// The rotation's clock: a jump to a view (a new alert) gives that view its
// whole turn.
let rotTimer = 0;
function schedule() {
  clearTimeout(rotTimer);
  rotTimer = setTimeout(() => { next(); schedule(); }, rotateSec * 1000);
}

/** jump shows view now, unless a view is pinned. */
function jump(view) {
  if (pinned || !VIEWS.includes(view)) return;
  current = VIEWS.indexOf(view);
  show(view);
  schedule();
}

// ---------------------------------------------------------------- figures

// No flash on a changed figure: with an update every round every card
// flashed, which marked nothing. A change would be an arrow and the delta
// against an hour ago, and the snapshot carries no such figure for these
// totals (the page does not compute one).
function setKPI(key, value, note) {
  const el = app.querySelector('[data-kpi="' + key + '"]');
  if (el && el.textContent !== value) {
    el.textContent = value;
    autoFit(el);
  }
  if (note != null) setText(app.querySelector('[data-note="' + key + '"]'), note);
}

function render(snap) {
  const tot = snap.totals;
  const p = snap.pace;
  const att = snap.attention || { waits: [], idle: [], late: [] };
  setKPI('completed', num(tot.completed), pct(tot.percent_done) + ' · ' + t('ofTarget', { n: num(tot.target) }));
  setKPI('today', num(tot.completed_today), t('todaySub', { d: dayStr(snap.day) }));
  setKPI('per_hour', num(tot.per_hour), t('perHourSub'));
  // No attention lists above province level: no station's wait to name.
  const top = att.waits[0];
  setKPI('queue', num(tot.queue), top ? t('waitingSub', { w: minutes(top.wait_minutes), s: top.name }) : snap.attention ? t('waitingNone') : '');
  setKPI('open', num(tot.stations_open) + '/' + num(tot.stations), tot.stations_offline ? t('openSub', { n: num(tot.stations_offline) }) : t('openSubNone'));
  const ve = document.getElementById('verdict');
  if (p) showState(ve, p, { base: 'verdict big', finishEl: document.getElementById('verdict-finish') });
  else ve.hidden = true;
  const s = stateWords(p);
  document.getElementById('bigbar').replaceChildren(bar(tot.percent_done, p ? 100 * p.plan_share : null, s.cls === 'muted' ? '' : s.cls));
  // The clock's date is the calendar's; between midnight and the day
  // boundary the working day is still yesterday's, and is named as such.
  setText(document.getElementById('clock'), hhmm(snap.now));
  const cal = calendarDay(snap.now);
  const dateEl = document.getElementById('date');
  dateEl.dataset.calendar = cal;
  dateEl.dataset.workday = snap.day;
  setText(dateEl.querySelector('.cal'), dayStr(cal));
  const wd = dateEl.querySelector('.workday');
  wd.hidden = cal === snap.day;
  setText(wd, t('todaySub', { d: dayStr(snap.day) }));

  // The pace card: the scope's pace as the server sent it, each figure named.
  const f = finishWords(p);
  const fact = (label, value, cls, note) => h('div', { class: 'fact ' + (cls || '') },
    h('div', { class: 'fact-label', text: label }), h('div', { class: 'fact-value', text: value }),
    note ? h('div', { class: 'fact-note', text: note }) : null);
  const pc = document.getElementById('pace');
  pc.dataset.state = s.state;
  pc.dataset.finish = f.day;
  pc.replaceChildren(...(p ? [
    fact(TEXT.finish, f.short, s.cls, [s.text, p.projected_finish ? recentWords(p) : f.text].filter(Boolean).join(' · ')),
    fact(TEXT.deadline, dayStr(snap.campaign.deadline)),
    fact(recentLabel(p), p.recent_days ? TEXT.perDay.replace('{n}', num(p.recent_per_day)) : '—'),
    fact(t('neededLabel'), p.needed_per_day != null ? TEXT.perDay.replace('{n}', num(p.needed_per_day)) : '—'),
    fact(t('planLabel'), num(p.expected_to_date), '', pct(100 * p.plan_share)),
    fact(t('gapLabel'), signed(p.gap), p.gap < 0 ? 'bad' : ''),
  ] : []));

  if (tiles.length) {
    fillTiles(panes.provinces.querySelector('.tile-grid'), snap);
    document.getElementById('provinces').replaceChildren(
      h('h3', { text: TEXT.provincesHead }),
      h('ol', { class: 'scr-list dist-list' }, (snap.units || []).slice(0, PROVINCES_SHOWN).map((u) => {
        const us = stateWords(u.pace);
        return h('li', { 'data-unit': u.id, 'data-state': us.state },
          h('span', { class: 'name', text: u.name }),
          h('span', { class: 'state ' + us.cls, text: us.text }),
          h('span', { class: 'finish ' + us.cls, text: u.pace ? signed(u.pace.gap) : '—' }),
          h('span', { class: 'val', text: pct(u.percent_done) }),
          bar(u.percent_done, u.pace ? 100 * u.pace.plan_share : null, us.cls === 'muted' ? '' : us.cls));
      })));
  }

  const ds = [...(snap.districts || [])].sort((a, b) => a.percent_done - b.percent_done);
  document.getElementById('districts').replaceChildren(
    h('h3', { text: TEXT.districtsHead }),
    h('ol', { class: 'scr-list dist-list' }, ds.map((d) => {
      const ds = stateWords(d.pace);
      const df = finishWords(d.pace);
      return h('li', { 'data-district': d.id, 'data-state': ds.state, 'data-finish': df.day },
        h('span', { class: 'name', text: d.name }),
        h('span', { class: 'state ' + ds.cls, text: ds.text }),
        h('span', { class: 'finish ' + ds.cls, text: df.short }),
        h('span', { class: 'val', text: pct(d.percent_done) }),
        bar(d.percent_done, d.pace ? 100 * d.pace.plan_share : null, ds.cls === 'muted' ? '' : ds.cls));
    })));

  // The attention lists come ordered from the server; the room's pane
  // holds the first few of each (type read across a room), and each
  // heading counts them all.
  const hr = lateHour(snap);
  document.getElementById('queues').replaceChildren(
    h('h3', { text: t('longestWaits') }),
    attList(att.waits.map((st) => attItem(st, waitShort(st.wait_minutes) + ' · ' + t('people', { n: num(st.queue) }), st.long_wait ? 'bad' : 'warn')), 5, t('noneWaits')),
    h('h3', { text: (hr ? t('lateListAfter', { h: hr }) : t('lateList')) + (tot.stations_late ? ' · ' + t('stationsOf', { n: num(tot.stations_late) }) : '') }),
    attList(att.late.map((st) => attItem(st, st.kind === 'home_visit' ? t('listDoneShort', { t: hhmm(st.clears_at) }) : hhmm(st.clears_at), 'bad')), 3, t('noneLate')),
    h('h3', { text: idleHead(tot) }),
    attList(att.idle.map((st) => attItem(st, t('idleN', { n: num(st.idle_staff) }), 'info')), 3, t('noneIdle')));
  renderMapSide(snap);
  renderChange(snap);
  renderMoves(snap);
  renderBand(snap);
  // The pace card's figures are new elements each round: fitted here.
  app.querySelectorAll('.fact-value').forEach(fitText);
}

/** attItem is a station of an attention list: its name, and the figure the list is about. */
function attItem(st, val, cls, where) {
  return h('li', { 'data-station': st.id, 'data-kind': st.kind },
    h('span', { class: 'name', text: st.name }), h('span', { class: 'val ' + (cls || ''), text: val }),
    where ? h('span', { class: 'where', text: where }) : null);
}
const attList = (rows, n, none) => h('ol', { class: 'scr-list' }, rows.length ? rows.slice(0, n) : h('li', { class: 'none', text: none }));
const idleHead = (tot) => TEXT.idleHead + (tot.idle_staff ? ' · ' + TEXT.idleCount.replace('{n}', num(tot.idle_staff)).replace('{s}', num(tot.stations_idle)) : '');

// The map's side list: the longest waits and the idle officers, each with
// its district, so the room reads the map's red and amber dots by name.
const MAP_SHOWN = 3; // each, so that both lists fit beside the map under an alert band
function renderMapSide(snap) {
  const att = snap.attention || { waits: [], idle: [] };
  const names = namesOf(snap);
  const where = (st) => names.get(st.district) || '';
  document.getElementById('mapside').replaceChildren(
    h('h3', { text: t('longestWaits') }),
    attList(att.waits.map((st) => attItem(st, waitShort(st.wait_minutes) + ' · ' + t('people', { n: num(st.queue) }), st.long_wait ? 'bad' : 'warn', where(st))),
      MAP_SHOWN, t('noneWaits')),
    h('h3', { text: idleHead(snap.totals) }),
    attList(att.idle.map((st) => attItem(st, t('idleN', { n: num(st.idle_staff) }), 'info', where(st))), MAP_SHOWN, t('noneIdle')));
}

// Change, not updates: an arrow and the server's delta against an hour ago
// (snapshot.hour_change, with the time it is measured from) under each
// figure that has one; nothing when the snapshot carries none.
const CHANGE_OF = { completed: 'completed', today: 'completed_today', per_hour: 'per_hour', queue: 'queue', open: 'stations_open' };
function renderChange(snap) {
  const hc = snap.hour_change;
  for (const [key, field] of Object.entries(CHANGE_OF)) {
    const el = app.querySelector('[data-change="' + key + '"]');
    const d = hc ? hc[field] : null;
    el.hidden = d == null;
    if (d == null) continue;
    const arrow = d > 0 ? '▲' : d < 0 ? '▼' : '■';
    el.dataset.dir = d > 0 ? 'up' : d < 0 ? 'down' : 'same';
    setText(el, arrow + ' ' + signed(d) + ' ' + TEXT.since.replace('{t}', hhmm(hc.since)));
  }
}

// The moves view: the server's suggestions, the first few, in few words:
// how many officers, from where to where, what it does to the wait.
const MOVES_SHOWN = 3;
function renderMoves(snap) {
  const moves = movesOf(snap);
  moveCount = moves.length;
  const names = namesOf(snap);
  const rows = moves.slice(0, MOVES_SHOWN).map((m) => {
    const p = moveParts(m);
    return h('li', { class: 'smove', 'data-move': m.id },
      h('div', { class: 'smove-n' }, h('span', { class: 'smove-num', text: p.n }), h('span', { class: 'smove-unit', text: TEXT.staffBig })),
      h('div', { class: 'smove-route' },
        h('div', { class: 'smove-from', text: p.from }),
        h('div', { class: 'smove-to' }, h('span', { class: 'smove-arrow', text: '→ ' }), p.to),
        h('div', { class: 'smove-trip', text: [names.get(m.district) || '', t('mv.trip', p)].filter(Boolean).join(' · ') })),
      h('div', { class: 'smove-effect' },
        h('div', { class: 'smove-label', text: t('wait') }),
        h('div', { class: 'smove-wait' }, h('span', { class: 'before', text: p.wb }), ' → ', h('span', { class: 'after', text: p.wa })),
        h('div', { class: 'smove-clears', text: t('mv.clears', p) })));
  });
  const box = document.getElementById('moves');
  box.dataset.count = moves.length;
  box.replaceChildren(...[
    h('ol', { class: 'smove-list' }, rows.length ? rows : h('li', { class: 'none', text: t('mv.noneScreen') })),
    moves.length > MOVES_SHOWN ? h('p', { class: 'smove-more', text: TEXT.movesMore.replace('{n}', num(moves.length - MOVES_SHOWN)) }) : null,
  ].filter(Boolean));
}

/** keepTogether keeps a duration on one line: "3 giờ 37 phút" wraps before it, never inside it. */
const keepTogether = (s) => s.replace(/(\d) (giờ|phút|h|min)(?=\s|$)/g, '$1\u00a0$2').replace(/(giờ|h) (\d)/g, '$1\u00a0$2');

// The alert band: how many alerts are open and the most severe first,
// in words and shapes as well as colours.
const BAND_SHOWN = 2;
let seenAlerts = null; // ids open at the last figures; null before the first
function renderBand(snap) {
  const alerts = alertsOf(snap);
  const band = document.getElementById('aband');
  const names = namesOf(snap);
  const fresh = seenAlerts ? alerts.filter((a) => !seenAlerts.has(a.id)) : [];
  seenAlerts = new Set(alerts.map((a) => a.id));
  app.classList.toggle('has-alerts', alerts.length > 0);
  band.hidden = alerts.length === 0;
  band.dataset.count = alerts.length;
  if (!alerts.length) {
    band.replaceChildren();
    return;
  }
  const critical = alerts.some((a) => a.severity === 'critical');
  band.className = 'aband ' + (critical ? 'sev-critical' : 'sev-warning');
  const item = (a) => {
    const w = alertWords(a, snap, names, true);
    return h('li', { class: 'aband-item sev-' + w.sev, 'data-alert': a.id, 'data-kind': a.kind, 'data-severity': w.sev },
      h('span', { class: 'aband-sev', text: w.sevText }),
      h('span', { class: 'aband-kind', text: w.kind }),
      h('span', { class: 'aband-where', text: w.where }),
      // The figure alone: across the room, what and where come first; "since" is in the pages' lists.
      h('span', { class: 'aband-val', text: keepTogether(w.value || w.since), title: w.since || null }),
      h('span', { class: 'aband-acked', text: a.acked_by ? '✓ ' + whoWords(a.acked_by) : '' }));
  };
  band.replaceChildren(
    h('div', { class: 'aband-count' },
      h('span', { class: 'aband-icon', 'aria-hidden': 'true', text: critical ? '■' : '▲' }),
      h('span', { class: 'aband-num', text: num(alerts.length) }),
      h('span', { class: 'aband-word', text: alerts.length === 1 ? t('al.word1') : t('al.wordN') }),
      alerts.length > BAND_SHOWN ? h('span', { class: 'aband-more', text: t('al.more', { n: num(alerts.length - BAND_SHOWN) }) }) : null),
    h('ol', { class: 'aband-list' }, alerts.slice(0, BAND_SHOWN).map(item)));
  if (fresh.length) {
    band.classList.remove('flash');
    void band.offsetWidth; // restart the highlight
    band.classList.add('flash');
    document.body.dataset.newAlert = fresh[0].id;
    jump('queues');
  }
}

// ---------------------------------------------------------------- daily reload

// A kiosk runs for days, and Chromium's own caches (canvas text shaping)
// grow with every new number the charts draw, so the screen reloads once
// per working day, in the quiet hour after the campaign's day boundary
// (04:00 in Lạng Sơn; stations close by 01:00–02:00 and open at 07:00).
// When is the server's decision: every snapshot and update carries the
// working day (`day`, cut at the boundary by the server's clock, the wall
// clock or the replay clock), and the page reloads when that day moves past
// the one it was loaded in. The page adds only the moment: the next turn of
// its rotation back to the first view (at most ten minutes later).
//
// Before it navigates it asks the server for this page with the same
// credentials (the session cookie of a one-time link, or the bearer header
// a kiosk player adds to every request) and its assets; only a 200 with
// the screen page (not a redirect to sign-in) lets it go. Otherwise the
// current page stays and it tries again later. It goes when the view's
// fade has ended, and hands its figures and charts to the next page
// (sessionStorage), which draws them, without animation, as its scripts
// start. Chromium keeps showing the old frame until the new page's first
// contentful paint (paint holding, same-origin navigations), so nothing
// blank appears if that first paint is the handed-over screen; that needs
// the shell to hold its first paint for these scripts (blocking="render"),
// or it shows its "loading" line for a few hundred milliseconds.
// static/e2e/reload.test.mjs checks the compositor's frames.
const HANDOFF = 'tiendo.screen.handoff';
const RELOADED = 'tiendo.screen.reloadedFor';
const DUE_CAP = 10 * 60 * 1000; // reload this long after the day changed, whatever the rotation
const daily = { day: '', due: '', dueAt: 0, busy: false, tries: 0, nextTry: 0 };
let lastCharts = {}; // the newest option of every chart, for the handoff

function sget(k) { try { return sessionStorage.getItem(k); } catch (e) { return null; } }
function sset(k, v) { try { sessionStorage.setItem(k, v); return true; } catch (e) { return false; } }
function sdel(k) { try { sessionStorage.removeItem(k); } catch (e) { /* ignore */ } }

/** watchDay follows the server's working day; a later one makes a reload due. */
function watchDay(snap) {
  // Before its first event a replay server has no clock (year 1): no day yet.
  if (!snap.day || !snap.now || Date.parse(snap.now) < Date.parse('2000-01-01')) return;
  document.body.dataset.day = snap.day;
  if (!daily.day) {
    daily.day = snap.day;
    document.body.dataset.loadedDay = snap.day;
    return;
  }
  if (snap.day <= daily.day || snap.day === daily.due || sget(RELOADED) === snap.day) return;
  daily.due = snap.day;
  daily.dueAt = Date.now();
  document.body.dataset.reloadDue = snap.day;
}

/**
 * answers fetches url as this page would load it (credentials, no
 * redirects); true when it is a 200 that check (if any) accepts. Assets have
 * hashed names and come from the HTTP cache when they are there.
 */
async function answers(url, check, cache = 'default') {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 10000);
  try {
    const r = await fetch(url, { credentials: 'same-origin', cache, redirect: 'manual', signal: ctl.signal });
    if (r.type !== 'basic' || r.status !== 200) return false;
    return check ? check(await r.text()) : (await r.arrayBuffer(), true);
  } catch (e) {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

async function dailyReload() {
  if (daily.busy || !daily.due || Date.now() < daily.nextTry) return;
  daily.busy = true;
  daily.tries++;
  document.body.dataset.reloadTries = daily.tries;
  // Let the view's fade-in (0.7 s) finish first: the frame on screen when
  // the page goes stays there until the new page paints, and it should be
  // a whole one. Then ask, and go at once if the answer is good.
  const fade = shownAt + 800 - Date.now();
  if (fade > 0) await new Promise((r) => setTimeout(r, fade));
  let assets = [];
  const ok = await answers(location.href, (html) => {
    if (!/<body[^>]*\sdata-page="screen"/.test(html)) return false;
    assets = [...html.matchAll(/(?:src|href)="(\/static\/[^"]+)"/g)].map((m) => m[1]);
    return true;
  }, 'no-store') && (await Promise.all(assets.map((a) => answers(a)))).every(Boolean);
  if (!ok) {
    // Down, restarting, or signed out: keep this page, try again later.
    daily.nextTry = Date.now() + Math.min(300000, 15000 * 2 ** (daily.tries - 1));
    daily.busy = false;
    return;
  }
  sset(RELOADED, daily.due);
  if (screenLive.snap) {
    const handoff = JSON.stringify({ at: Date.now(), href: location.href, snap: screenLive.snap, charts: lastCharts });
    if (!sset(HANDOFF, handoff)) sdel(HANDOFF);
  }
  location.reload();
}

/** takeHandoff draws the figures the previous page left, before the first frame. */
function takeHandoff() {
  const raw = sget(HANDOFF);
  sdel(HANDOFF);
  if (!raw) return false;
  let ho;
  try { ho = JSON.parse(raw); } catch (e) { return false; }
  if (!ho || ho.href !== location.href || !(Date.now() - ho.at < 60000) || !ho.snap) return false;
  // The first view appears at once, not with the rotation's fade.
  for (const v of VIEWS) panes[v].style.transition = 'none';
  requestAnimationFrame(() => requestAnimationFrame(() => { for (const v of VIEWS) panes[v].style.transition = ''; }));
  try {
    render(ho.snap);
    // Drawn at once, without the charts' entry animation.
    for (const o of Object.values(ho.charts || {})) if (o && typeof o === 'object') o.animation = false;
    charts.update(ho.charts, true);
    lastCharts = ho.charts || {};
  } catch (e) {
    return false;
  }
  document.body.dataset.handoff = 'drawn';
  document.body.dataset.handoffAt = Math.round(performance.now());
  return true;
}

setInterval(() => { if (daily.due && Date.now() - daily.dueAt > DUE_CAP) dailyReload(); }, 15000);

// ---------------------------------------------------------------- start

let handedOff = takeHandoff();
next();
schedule();
document.addEventListener('dblclick', () => {
  if (document.fullscreenElement == null && document.documentElement.requestFullscreen) document.documentElement.requestFullscreen().catch(() => {});
});

const screenLive = new Live({
  scope: 'province',
  theme: 'dark',
  onData(snap, ch, full) {
    render(snap);
    if (handedOff && ch) {
      // The handed-off charts are on screen: move them to the live ones
      // rather than clearing and animating them in again.
      for (const o of Object.values(ch)) if (o && typeof o === 'object' && o.animation == null) o.animation = 'auto';
      charts.update(ch, false);
      handedOff = false;
    } else {
      charts.update(ch, full);
    }
    if (ch) lastCharts = full ? { ...ch } : { ...lastCharts, ...ch };
    watchDay(snap);
    if (current < 0 || !available().includes(VIEWS[current])) next();
    else dots();
    document.body.dataset.seq = this.seq;
  },
  onStatus: showStatus,
});
screenLive.start();
