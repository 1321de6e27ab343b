// dash.js: the province overview (/), a district (/district/<id>) and a
// station (/station/<id>, phone-first). One live stream per page; the
// numbers are redrawn from the merged snapshot, charts from the server's
// ECharts options. Every figure that advises a decision (pace and its
// state, the projected finish, waits, clearing times, idle staff, the
// attention lists) is the server's: this page puts them into words.

import {
  page, t, num, pct, dec1, dec2, minutes, waitShort, ago, dayNum, dayStr, hhmm, h, setText, bar,
  stateWords, finishWords, rateNote, showState, lateBadge, lateHour, fitText, autoFit,
  stationURL, districtURL, unitURL, signed, pageTiles, tileGrid, fillTiles, ChartSet, Live, showStatus,
  moveSentence, moveParts, movesOf, alertsOf, alertWords, namesOf, postJSON,
} from './core.js';
import { notesPanel, notesSnapshot } from './notes.js';

const kind = page.page; // overview | district | station
const app = document.getElementById('app');
const verdictEl = document.getElementById('verdict');
const subtitle = document.getElementById('subtitle');

/** kpi builds one KPI card whose value and note are found by data-kpi. */
function kpi(key, label, extra) {
  return h('div', { class: 'kpi kpi-' + key },
    h('div', { class: 'kpi-label', 'data-label': key, text: label }),
    h('div', { class: 'kpi-value', 'data-kpi': key, text: '—' }),
    h('div', { class: 'kpi-note', 'data-note': key }),
    extra || null);
}

const $ = (sel) => app.querySelector(sel);
const setKPI = (key, value) => {
  const el = $('[data-kpi="' + key + '"]');
  if (el && el.textContent !== value) {
    el.textContent = value;
    autoFit(el);
  }
};
const setNote = (key, value) => setText($('[data-note="' + key + '"]'), value);
const setLabel = (key, value) => setText($('[data-label="' + key + '"]'), value);
window.addEventListener('resize', () => app.querySelectorAll('.kpi-value').forEach(fitText));

function statusBadge(status) {
  return h('span', { class: 'status status-' + status, text: t('st.' + status) });
}

/** stateCell is a pace's state as coloured words (never colour alone). */
function stateCell(p) {
  const s = stateWords(p);
  return h('span', { class: 'state ' + s.cls, 'data-state': s.state, text: s.text });
}

/** planBar is progress against a target with the plan's mark, coloured by the pace's state. */
function planBar(percent, p) {
  const s = stateWords(p);
  const b = bar(percent, p ? 100 * p.plan_share : null, s.cls === 'muted' ? '' : s.cls);
  if (p) b.title = t('planNote', { n: num(p.expected_to_date), p: pct(100 * p.plan_share) });
  return b;
}

const isVisit = (s) => s.kind === 'home_visit';

// A wait is coloured as too long only by the server's judgement
// (`long_wait`, the campaign's threshold); until the snapshot carries it
// no wait is coloured. A late station (`late`) gets the late badge.

/** clearsWords is when a station's queue (or list) will have been served. */
const clearsWords = (s) => (isVisit(s) ? t('listClearsAt') : t('clearsAt'));

// ---------------------------------------------------------------- skeletons

let charts;

function skeletonScope() {
  const progressBar = h('div', { class: 'kpi-bar', 'data-bar': 'completed' });
  const table = h('section', { class: 'panel table-panel', 'aria-labelledby': 'tbl-h' },
    h('h2', { class: 'panel-title', id: 'tbl-h', text: kind === 'overview' ? t('districtsSorted') : t('stationsSorted') }),
    h('div', { class: 'table-wrap', id: 'table' }));
  const attention = h('section', { class: 'panel attention', 'aria-labelledby': 'att-h' },
    h('h2', { class: 'panel-title', id: 'att-h', text: t('attention') }),
    h('div', { class: 'att-cols' },
      h('div', null, h('h3', { text: t('longestWaits') }), h('ol', { class: 'att-list', id: 'att-waits' })),
      h('div', null, h('h3', { id: 'att-late-h', text: t('lateList') }), h('ol', { class: 'att-list', id: 'att-late' })),
      h('div', null, h('h3', { text: t('idle') }), h('ol', { class: 'att-list', id: 'att-idle' }))));
  // The nation's answer is which provinces: the tile map and their ranking
  // side by side, right under the alerts; the stations' lists come after.
  const nation = tiles.length > 0;
  app.replaceChildren(
    h('section', { class: 'kpis', 'aria-label': t('completed'), 'aria-live': 'polite' },
      kpi('completed', t('completed'), progressBar),
      kpi('today', t('today')),
      kpi('per_hour', t('perHour')),
      kpi('queue', t('waiting')),
      kpi('open', t('open')),
      kpi('finish', t('finish'))),
    alertsPanel(),
    ...(kind === 'district' ? [movesPanel()] : []),
    ...(nation ? [h('div', { class: 'nation-grid' }, tilesPanel(), table)] : []),
    h('section', { class: 'chart-grid', id: 'charts' }),
    notesPanel(),
    h('div', { class: 'lower' + (nation ? ' single' : '') }, attention, nation ? null : table));
  app.removeAttribute('aria-busy');
  const grid = $('#charts');
  charts = new ChartSet({
    slot: () => grid,
    theme: page.theme,
    // Half-width charts go in pairs (CHART_ORDER): districts with today's
    // trend, throughput with the queue. A district has no districts chart,
    // so its trend takes the row, and the queue is not left beside a gap.
    panelClass: (name) => (name === 'progress' || name === 'latenight' || name === 'map'
      || (name === 'throughput_trend' && kind !== 'overview') ? 'wide' : ''),
    autoHeight: 'full',
  });
}

function skeletonStation() {
  app.replaceChildren(
    h('section', { class: 'station-head' },
      h('span', { id: 'st-status' }),
      h('span', { class: 'muted', id: 'st-seen' })),
    h('p', { class: 'panel station-say', id: 'st-say', 'aria-live': 'polite' }),
    movesPanel(),
    alertsPanel(),
    h('section', { class: 'kpis kpis-station', 'aria-label': t('queue'), 'aria-live': 'polite' },
      kpi('queue', t('queue')),
      kpi('wait', t('wait')),
      kpi('clears', t('clearsAt')),
      kpi('today', t('today'))),
    h('section', { class: 'panel quota-panel' },
      h('div', { class: 'quota-row' },
        h('span', { class: 'panel-title', text: t('quotaProgress') }),
        h('span', { class: 'quota-num', 'data-kpi': 'completed', text: '—' })),
      h('div', { 'data-bar': 'completed' }),
      h('div', { class: 'kpi-note', 'data-note': 'completed' }),
      h('div', { class: 'kpi-note', 'data-note': 'finish' })),
    h('section', { class: 'panel' },
      h('dl', { class: 'facts', id: 'facts' })),
    h('section', { class: 'chart-grid compact', id: 'charts' }),
    notesPanel(),
    h('p', { class: 'report-link' }, h('a', { class: 'btn', href: '/report?station=' + encodeURIComponent(page.scope.split(':')[1] || ''), text: t('report') })));
  app.removeAttribute('aria-busy');
  const grid = $('#charts');
  // The per-station bar charts (throughput, queue) have one bar on a
  // station's page, the figures its cards already say: left out (B6).
  const oneBar = new Set(['throughput', 'queue']);
  charts = new ChartSet({ slot: (name) => (oneBar.has(name) ? null : grid), theme: page.theme, panelClass: () => 'compact', autoHeight: 'compact' });
}

// ---------------------------------------------------------------- rendering

function renderHead(snap) {
  const c = snap.campaign;
  // The calendar, not a judgement: working days count from the start to
  // the deadline, both included (the server's plan spreads the target over
  // the same days).
  const start = dayNum(c.start);
  setText(subtitle, t('dayOf', {
    d: dayStr(snap.day), n: num(Math.max(0, dayNum(snap.day) - start + 1)), total: num(dayNum(c.deadline) - start + 1),
    deadline: dayStr(c.deadline),
  }));
  if (snap.pace) showState(verdictEl, snap.pace);
  else verdictEl.hidden = true;
}

function renderScope(snap) {
  const tot = snap.totals;
  const p = snap.pace;
  // Above province level the snapshot judges no station (attention is
  // null): the alerts above are the nation's stations needing a look.
  const att = snap.attention || { waits: [], idle: [], late: [] };
  $('.attention').hidden = !snap.attention;
  renderHead(snap);
  setKPI('completed', num(tot.completed));
  setNote('completed', pct(tot.percent_done) + ' · ' + t('ofTarget', { n: num(tot.target) })
    + (p ? ' · ' + t('planNote', { n: num(p.expected_to_date), p: pct(100 * p.plan_share) }) : ''));
  $('[data-bar="completed"]').replaceChildren(planBar(tot.percent_done, p));
  setKPI('today', num(tot.completed_today));
  setNote('today', t('todaySub', { d: dayStr(snap.day) }));
  setKPI('per_hour', num(tot.per_hour));
  setNote('per_hour', t('perHourSub'));
  setKPI('queue', num(tot.queue));
  const top = att.waits[0];
  const qNote = snap.attention ? [top ? t('waitingSub', { w: minutes(top.wait_minutes), s: top.name }) : t('waitingNone')] : [];
  if (tot.list_visits > 0) qNote.push(t('listVisits', { n: num(tot.list_visits) }));
  setNote('queue', qNote.join(' · '));
  setKPI('open', num(tot.stations_open) + ' / ' + num(tot.stations));
  const oNote = [tot.stations_offline ? t('openSub', { n: num(tot.stations_offline) }) : t('openSubNone')];
  if (tot.idle_staff > 0) oNote.push(t('idleSub', { n: num(tot.idle_staff), s: num(tot.stations_idle) }));
  setNote('open', oNote.join(' · '));

  const f = finishWords(p);
  const card = $('.kpi-finish');
  setKPI('finish', f.short);
  setNote('finish', p && !p.projected_finish && f.text ? [f.text, rateNote(p)].filter(Boolean).join(' · ') : rateNote(p));
  const s = stateWords(p);
  card.classList.toggle('bad', s.cls === 'bad');
  card.classList.toggle('good', s.cls === 'good');
  card.dataset.state = s.state;
  card.dataset.finish = f.day;

  const hr = lateHour(snap);
  setText($('#att-late-h'), hr ? t('lateListAfter', { h: hr }) : t('lateList'));
  const item = (st, right, cls) => h('li', { 'data-station': st.id, 'data-kind': st.kind },
    h('a', { href: stationURL(st.id) }, h('span', { class: 'att-name', text: st.name })),
    h('span', { class: 'att-val ' + (cls || ''), text: right }));
  const list = (sel, rows, none) => $(sel).replaceChildren(...(rows.length ? rows : [h('li', { class: 'none', text: none })]));
  list('#att-waits', att.waits.map((st) => item(st, minutes(st.wait_minutes) + ' · ' + t('people', { n: num(st.queue) }),
    st.long_wait ? 'bad' : '')), t('noneWaits'));
  list('#att-late', att.late.map((st) => item(st, t(isVisit(st) ? 'listDoneShort' : 'clearsShort', { t: hhmm(st.clears_at) }), 'bad')),
    t('noneLate'));
  list('#att-idle', att.idle.map((st) => item(st, t('idleN', { n: num(st.idle_staff) }), 'info')), t('noneIdle'));

  if (kind === 'overview' && snap.units && snap.units.length) renderUnits(snap);
  else if (kind === 'overview') renderDistricts(snap);
  else renderStations(snap);
}

// ---------------------------------------------------------------- units

// A unit above the provinces (the nation): its provinces on the tile map
// (core.js tileGrid) and in a table in the server's order
// (tiendo.RankUnits: behind first, then by gap).
const tiles = pageTiles();

function tilesPanel() {
  return h('section', { class: 'panel tiles-panel', 'aria-labelledby': 'tiles-h' },
    h('h2', { class: 'panel-title', id: 'tiles-h', text: t('tiles') }),
    h('p', { class: 'muted tiles-note', text: t('tilesNote') }),
    tileGrid(tiles));
}

function renderUnits(snap) {
  fillTiles($('#tile-grid'), snap);
  setText($('#tbl-h'), t('unitsSorted'));
  const table = h('table', { class: 'data units' },
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', text: t('province') }),
      h('th', { scope: 'col', text: t('paceCol') }),
      h('th', { scope: 'col', class: 'num', text: t('gapCol') }),
      // On a phone the ranking keeps name, state and gap in view (the
      // tiles carry each province's percent).
      h('th', { scope: 'col', class: 'pctcol wide-only', text: t('pctDone') }),
      h('th', { scope: 'col', class: 'wide-only', text: t('finishCol') }),
      h('th', { scope: 'col', class: 'num wide-only', text: t('neededCol') }),
      h('th', { scope: 'col', class: 'num wide-only', text: t('todayCol') }),
      h('th', { scope: 'col', class: 'num wide-only', text: t('alertsCol') }))),
    h('tbody', null, snap.units.map((u) => {
      const s = stateWords(u.pace);
      const f = finishWords(u.pace);
      return h('tr', { 'data-unit': u.id, 'data-state': s.state, 'data-finish': f.day },
        h('th', { scope: 'row' }, h('a', { href: unitURL(u.id), text: u.name })),
        h('td', null, stateCell(u.pace)),
        h('td', { class: 'num ' + (u.pace && u.pace.gap < 0 ? s.cls : ''), text: u.pace ? signed(u.pace.gap) : '—' }),
        h('td', { class: 'pctcol wide-only' }, h('span', { class: 'pct', text: pct(u.percent_done) }), planBar(u.percent_done, u.pace)),
        h('td', { class: 'finish wide-only ' + s.cls, text: f.short, title: f.text || null }),
        h('td', { class: 'num wide-only', text: u.pace && u.pace.needed_per_day != null ? num(u.pace.needed_per_day) : '—' }),
        h('td', { class: 'num wide-only', text: num(u.completed_today) }),
        h('td', { class: 'num wide-only' + (u.alerts_critical ? ' bad' : ''), text: u.alerts ? num(u.alerts) : '—' }));
    })));
  $('#table').replaceChildren(table);
}

function renderDistricts(snap) {
  const rows = [...(snap.districts || [])].sort((a, b) => a.percent_done - b.percent_done);
  const table = h('table', { class: 'data' },
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', text: t('district') }),
      h('th', { scope: 'col', text: t('paceCol') }),
      h('th', { scope: 'col', text: t('finishCol') }),
      h('th', { scope: 'col', class: 'pctcol', text: t('pctDone') }),
      h('th', { scope: 'col', class: 'num wide-only', text: t('done') }),
      h('th', { scope: 'col', class: 'num', text: t('neededCol') }),
      h('th', { scope: 'col', class: 'num wide-only', text: t('todayCol') }),
      h('th', { scope: 'col', class: 'num wide-only', text: t('queue') }))),
    h('tbody', null, rows.map((d) => {
      const s = stateWords(d.pace);
      const f = finishWords(d.pace);
      return h('tr', { 'data-district': d.id, 'data-state': s.state, 'data-finish': f.day },
        h('th', { scope: 'row' }, h('a', { href: districtURL(d.id), text: d.name })),
        h('td', null, stateCell(d.pace)),
        h('td', { class: 'finish ' + s.cls, text: f.short, title: f.text || null }),
        h('td', { class: 'pctcol' }, h('span', { class: 'pct', text: pct(d.percent_done) }), planBar(d.percent_done, d.pace)),
        h('td', { class: 'num wide-only', text: num(d.completed), title: t('quota') + ' ' + num(d.quota) }),
        h('td', { class: 'num', text: d.pace && d.pace.needed_per_day != null ? num(d.pace.needed_per_day) : '—' }),
        h('td', { class: 'num wide-only', text: num(d.completed_today) }),
        h('td', { class: 'num wide-only', text: num(d.queue) }));
    })));
  $('#table').replaceChildren(table);
}

/** waitCell is a station's wait, or a home-visit team's time to finish its list (marked as such). */
function waitCell(s) {
  if (isVisit(s)) {
    return h('td', { class: 'num muted', text: s.list_minutes != null ? t('listTime') + ': ' + minutes(s.list_minutes) : '—' });
  }
  return h('td', { class: 'num' + (s.long_wait ? ' bad' : ''), text: s.wait_minutes == null ? '—' : s.wait_minutes > 0 ? minutes(s.wait_minutes) : t('noWait') });
}

function renderStations(snap) {
  // Longest wait first as the server measured it; home-visit teams have a
  // list, not a wait, and come after every station with a wait.
  const w = (s) => (s.wait_minutes == null ? -1 : s.wait_minutes);
  const rows = [...snap.stations].sort((a, b) => w(b) - w(a) || b.queue - a.queue || a.name.localeCompare(b.name));
  // Below 640 px each row is a card (app.css): name, status, then queue,
  // wait and staff, each with its own label, since the head is not shown.
  const labelled = (cell, key) => { if (key) cell.prepend(h('span', { class: 'card-label', text: t(key) })); return cell; };
  const table = h('table', { class: 'data stations' },
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', text: t('station') }),
      h('th', { scope: 'col', text: t('status') }),
      h('th', { scope: 'col', class: 'num', text: t('queue') }),
      h('th', { scope: 'col', class: 'num', text: t('wait') }),
      h('th', { scope: 'col', text: t('clearsCol') }),
      h('th', { scope: 'col', class: 'num', text: t('staff') }),
      h('th', { scope: 'col', class: 'num', text: t('perHourCol') }),
      h('th', { scope: 'col', class: 'num', text: t('todayCol') }),
      h('th', { scope: 'col', text: t('paceCol') }),
      h('th', { scope: 'col', class: 'pctcol', text: t('pctDone') }))),
    h('tbody', null, rows.map((s) => {
      const pd = s.quota > 0 ? (100 * s.completed) / s.quota : 0;
      const wait = waitCell(s);
      wait.classList.add('c-wait');
      return h('tr', { 'data-station': s.id, 'data-kind': s.kind, 'data-state': s.pace ? s.pace.state : '' },
        h('th', { scope: 'row', class: 'c-name' }, h('a', { href: stationURL(s.id), text: s.name })),
        h('td', { class: 'c-status' }, statusBadge(s.status)),
        labelled(h('td', { class: 'num c-queue', text: isVisit(s) ? t('households', { n: num(s.queue) }) : num(s.queue) }), 'queue'),
        labelled(wait, isVisit(s) ? null : 'wait'), // a list's time says what it is
        h('td', { class: 'c-clears' }, s.clears_at ? hhmm(s.clears_at) : '—', s.late ? [' ', lateBadge(snap)] : null),
        labelled(h('td', { class: 'num c-staff', text: num(s.staff) + (s.idle_staff > 0 ? ' (' + t('idleN', { n: num(s.idle_staff) }) + ')' : '') }), 'staff'),
        h('td', { class: 'num c-perhour', text: num(s.per_hour) }),
        h('td', { class: 'num c-today', text: num(s.completed_today) }),
        h('td', { class: 'c-pace' }, s.pace ? stateCell(s.pace) : '—'),
        h('td', { class: 'pctcol c-pct' }, h('span', { class: 'pct', text: pct(pd) }), planBar(pd, s.pace)));
    })));
  $('#table').replaceChildren(table);
}

/**
 * stationSays is the station page's one sentence: what its numbers mean
 * for the chief, from the server's figures (queue, lanes, clears_at, late,
 * idle_staff, list_minutes); a late station also gets the late badge.
 */
function stationSays(snap, s) {
  const late = s.late ? ' ' + t('sayLate') : '';
  if (isVisit(s)) {
    if (s.status !== 'open' && s.status !== 'paused') return t('sayNotOpen', { st: t('st.' + s.status) });
    if (!s.queue) return t('sayListDone');
    if (!s.clears_at) return t('households', { n: num(s.queue) });
    return t('sayList', { q: num(s.queue), t: hhmm(s.clears_at), d: minutes(s.list_minutes) });
  }
  if (s.status !== 'open') return t('sayNotOpen', { st: t('st.' + s.status) });
  if (s.queue > 0) {
    const say = s.clears_at ? t('sayQueue', { q: num(s.queue), l: num(s.lanes), t: hhmm(s.clears_at) }) : t('sayQueueNoTime', { q: num(s.queue) });
    return say + late;
  }
  return t('sayEmpty') + (s.idle_staff > 0 ? ' ' + t('sayIdle', { n: num(s.idle_staff) }) : '');
}

function renderStation(snap) {
  const s = snap.stations[0];
  if (!s) return;
  const p = s.pace || snap.pace;
  renderHead(snap);
  $('#st-status').replaceChildren(statusBadge(s.status));
  const seenAge = s.last_seen ? (Date.parse(snap.now) - Date.parse(s.last_seen)) / 1000 : null;
  setText($('#st-seen'), t('lastSeen') + ': ' + (s.last_seen ? hhmm(s.last_seen) + ' (' + ago(seenAge) + ')' : t('never')));

  const say = $('#st-say');
  say.classList.toggle('late', !!s.late);
  say.replaceChildren(s.late ? lateBadge(snap) : '', s.late ? ' ' : '', stationSays(snap, s));

  const visit = isVisit(s);
  setLabel('queue', visit ? t('listLeft') : t('queue'));
  setKPI('queue', num(s.queue));
  setNote('queue', visit ? t('visitNote') : (s.staff ? num(s.staff) + ' ' + t('staffShort') + ' · ' + t('lanesShort', { n: num(s.lanes) }) : ''));
  setLabel('wait', visit ? t('listTime') : t('wait'));
  const m = visit ? s.list_minutes : s.wait_minutes;
  setKPI('wait', m == null ? '—' : m > 0 ? waitShort(m) : t('noWait'));
  setNote('wait', m == null ? t('st.' + s.status) : '');
  $('.kpi-wait').classList.toggle('bad', !visit && !!s.long_wait);
  setLabel('clears', clearsWords(s));
  setKPI('clears', s.clears_at ? hhmm(s.clears_at) : '—');
  const clearsNote = $('[data-note="clears"]');
  clearsNote.replaceChildren(s.late ? lateBadge(snap) : '');
  $('.kpi-clears').classList.toggle('bad', !!s.late);
  setKPI('today', num(s.completed_today));
  setNote('today', t('todaySub', { d: dayStr(snap.day) }));

  const pd = s.quota > 0 ? (100 * s.completed) / s.quota : 0;
  setKPI('completed', num(s.completed) + ' / ' + num(s.quota));
  setNote('completed', pct(pd) + (p ? ' · ' + t('planNote', { n: num(p.expected_to_date), p: pct(100 * p.plan_share) }) : ''));
  const f = finishWords(p);
  setNote('finish', p ? [p.projected_finish ? '' : f.text, rateNote(p)].filter(Boolean).join(' · ') : '');
  $('[data-bar="completed"]').replaceChildren(planBar(pd, p));

  const fact = (k, v) => [h('dt', { text: k }), h('dd', null, v)];
  $('#facts').replaceChildren(
    ...fact(t('status'), statusBadge(s.status)),
    ...fact(t('staffLanes'), num(s.staff) + ' / ' + num(s.lanes)),
    ...(visit ? [] : fact(t('idleStaff'), num(s.idle_staff))),
    ...fact(visit ? t('mprVisit') : t('mpr'), dec1(s.minutes_per_record)),
    ...fact(t('perHour') + ' (' + t('perHourSub') + ')', num(s.per_hour)),
    ...fact(t('retries'), dec2(s.retries_per_record)),
    ...fact(t('lastSeen'), s.last_seen ? hhmm(s.last_seen) + ' · ' + ago(seenAge) : t('never')),
    ...fact(t('kind.' + s.kind) === 'kind.' + s.kind ? s.kind : t('kind.' + s.kind), s.commune || '—'));
}


// ---------------------------------------------------------------- staff moves

// The server suggests moves; this page says them and posts a person's
// answer. Items are kept by id across updates, so that a button being
// pressed, or the answer it got, is not redrawn away.

function movesPanel() {
  return h('section', { class: 'panel moves-panel', id: 'moves', 'aria-labelledby': 'moves-h', hidden: kind === 'station' },
    h('h2', { class: 'panel-title', id: 'moves-h', text: t('mv.title') }),
    h('ol', { class: kind === 'station' ? 'move-cards' : 'move-list', id: 'move-items' }),
    h('p', { class: 'moves-none muted', id: 'moves-none', text: t('mv.none'), hidden: kind === 'station' }),
    h('div', { class: 'move-answers', id: 'move-answers', 'aria-live': 'polite' }));
}

const answering = new Set(); // move ids whose answer is on its way

/** moveItem builds the element of one move: the station's card or the district's row. */
function moveItem(m) {
  const result = h('p', { class: 'move-result', role: 'status' });
  const btn = (outcome, label, cls) => h('button', {
    type: 'button', class: 'btn ' + cls, 'data-outcome': outcome, text: label,
    onclick: () => answerMove(li, outcome),
  });
  const big = kind === 'station';
  const actions = h('div', { class: 'move-actions' },
    btn('done', t('mv.done'), big ? 'primary big' : 'primary small'),
    btn('not_possible', t('mv.notPossible'), big ? 'big' : 'small'));
  let body;
  if (big) {
    body = h('p', { class: 'move-say', 'data-say': '' });
  } else {
    body = h('div', { class: 'move-row' },
      h('div', { class: 'move-route' },
        h('a', { 'data-from': '', href: stationURL(m.from) }), h('span', { class: 'arrow', 'aria-hidden': 'true', text: ' → ' }),
        h('span', { class: 'sr', text: ' ' + t('mv.to') + ' ' }),
        h('a', { 'data-to': '', href: stationURL(m.to) })),
      h('div', { class: 'move-staff', 'data-staff': '' }),
      h('div', { class: 'move-trip muted', 'data-trip': '' }),
      h('div', { class: 'move-wait', 'data-wait': '' }),
      h('div', { class: 'move-clears', 'data-clears': '' }));
  }
  const li = h('li', { class: big ? 'move-card' : 'move-item', 'data-move': m.id }, body, actions, result);
  li.__move = m;
  return li;
}

function fillMove(li, m) {
  li.__move = m;
  li.dataset.dir = m.to === stationID ? 'receive' : m.from === stationID ? 'send' : '';
  const p = moveParts(m);
  const set = (sel, v) => setText(li.querySelector(sel), v);
  if (kind === 'station') set('[data-say]', moveSentence(m, stationID));
  else {
    set('[data-from]', p.from);
    set('[data-to]', p.to);
    set('[data-staff]', t('mv.staffN', { n: p.n }));
    set('[data-trip]', t('mv.trip', p));
    set('[data-wait]', t('mv.wait', p));
    set('[data-clears]', t('mv.clears', p));
  }
}

async function answerMove(li, outcome) {
  const m = li.__move;
  if (!m || answering.has(m.id)) return;
  answering.add(m.id);
  const buttons = li.querySelectorAll('button');
  const result = li.querySelector('.move-result');
  buttons.forEach((b) => { b.disabled = true; });
  li.dataset.state = 'sending';
  result.className = 'move-result';
  setText(result, t('mv.sending'));
  const r = await postJSON('/api/v1/moves/' + encodeURIComponent(m.id), { outcome });
  answering.delete(m.id);
  const route = moveParts(m).from + ' → ' + moveParts(m).to;
  let text;
  let state;
  switch (r.status) {
    case 200:
      state = 'answered';
      text = t(outcome === 'done' ? 'mv.okDone' : 'mv.okNot', { t: hhmm(r.body && r.body.at ? r.body.at : Date.now()), n: num(m.staff), route });
      break;
    case 409: state = 'gone'; text = t('mv.gone'); break;
    case 403: state = 'forbidden'; text = t('mv.forbidden'); break;
    case 401: state = 'forbidden'; text = t('mv.signin'); break;
    default:
      state = 'failed';
      text = t('mv.failed', { why: r.status ? 'HTTP ' + r.status : t('mv.offline') });
  }
  li.dataset.state = state;
  li.dataset.outcome = state === 'answered' ? outcome : '';
  result.className = 'move-result ' + (state === 'answered' ? 'ok' : state === 'failed' ? 'error' : 'warn');
  setText(result, text);
  // Answered, gone or not this account's to answer: no more buttons. A
  // failure leaves them for another try.
  buttons.forEach((b) => { b.disabled = false; b.hidden = state !== 'failed'; });
  if (!li.isConnected) keepAnswer(li);
  else if (lastSnap) renderMoves(lastSnap);
}

/** keepAnswer keeps what an answered move's card said once the move has left the list. */
function keepAnswer(li) {
  const result = li.querySelector('.move-result');
  if (!result || !result.textContent || li.dataset.state === 'sending') return;
  const box = $('#move-answers');
  box.prepend(h('p', { class: result.className, 'data-answered': li.dataset.move, text: result.textContent }));
  while (box.children.length > 3) box.lastChild.remove();
}

const stationID = kind === 'station' ? (page.scope.split(':')[1] || '') : '';

function renderMoves(snap) {
  const panel = $('#moves');
  if (!panel) return;
  const moves = movesOf(snap);
  const list = $('#move-items');
  const have = new Map([...list.children].map((li) => [li.dataset.move, li]));
  const want = [];
  for (const m of moves) {
    let li = have.get(m.id);
    if (!li) li = moveItem(m);
    have.delete(m.id);
    fillMove(li, m);
    want.push(li);
  }
  // Gone from the server's list: an answer on its way stays until it
  // returns; one answered moves to the answers below.
  for (const li of have.values()) {
    if (answering.has(li.dataset.move)) want.push(li);
    else { keepAnswer(li); li.remove(); }
  }
  want.forEach((li, i) => { if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null); });
  setText($('#moves-h'), moves.length ? t('mv.titleN', { n: num(moves.length) }) : t('mv.title'));
  const none = $('#moves-none');
  none.hidden = want.length > 0;
  // The station page shows the panel only when there is a move or an answer to tell.
  if (kind === 'station') {
    panel.hidden = want.length === 0 && !$('#move-answers').children.length;
    none.hidden = true;
  }
  panel.dataset.count = moves.length;
}

// ---------------------------------------------------------------- alerts

function alertsPanel() {
  return h('section', { class: 'panel alerts-panel', id: 'alerts', 'aria-labelledby': 'alerts-h' },
    h('h2', { class: 'panel-title', id: 'alerts-h', text: t('al.title') }),
    h('ol', { class: 'alert-list', id: 'alert-items' }),
    h('p', { class: 'alerts-none muted', id: 'alerts-none', text: t('al.none') }),
    h('button', { type: 'button', class: 'btn small ghost alerts-more', id: 'alerts-more', hidden: true,
      onclick: () => { alertsOpen = !alertsOpen; if (lastSnap) renderAlerts(lastSnap); } }));
}

// A small list: the first few, the rest a press away.
const ALERTS_SHOWN = 5;
let alertsOpen = false;

const acking = new Set();
const ackNotes = new Map(); // alert id → {cls, text}: what its acknowledgement got

function alertItem(a) {
  const li = h('li', { class: 'alert-item', 'data-alert': a.id },
    h('span', { class: 'alert-sev', 'data-sev': '' }),
    h('div', { class: 'alert-body' },
      h('div', { class: 'alert-line' },
        h('strong', { class: 'alert-kind', 'data-kind': '' }), ' · ',
        h('a', { class: 'alert-where', 'data-where': '' })),
      h('div', { class: 'alert-meta muted' },
        h('span', { 'data-value': '' }), h('span', { 'data-since': '' })),
      h('div', { class: 'alert-acked muted', 'data-acked': '' }),
      h('p', { class: 'alert-result', role: 'status', hidden: true })),
    h('button', { type: 'button', class: 'btn small', 'data-ack': '', text: t('al.ack'), onclick: () => ackAlert(li) }));
  return li;
}

function fillAlert(li, a, snap, names) {
  li.__alert = a;
  const w = alertWords(a, snap, names);
  li.dataset.kind = a.kind;
  li.dataset.severity = w.sev;
  li.dataset.acked = a.acked_by ? 'true' : 'false';
  li.className = 'alert-item sev-' + w.sev;
  const set = (sel, v) => setText(li.querySelector(sel), v);
  set('[data-sev]', w.sevText);
  set('[data-kind]', w.kind);
  const where = li.querySelector('[data-where]');
  setText(where, w.where);
  const href = a.station ? stationURL(a.station) : a.district ? districtURL(a.district) : a.unit ? unitURL(a.unit) : '';
  if (href && href !== location.pathname) where.setAttribute('href', href);
  else where.removeAttribute('href');
  set('[data-value]', w.value);
  set('[data-since]', (w.value && w.since ? ' · ' : '') + w.since);
  set('[data-acked]', w.acked);
  li.querySelector('[data-acked]').hidden = !w.acked;
  const note = ackNotes.get(a.id);
  const result = li.querySelector('.alert-result');
  result.hidden = !note;
  if (note) {
    result.className = 'alert-result ' + note.cls;
    setText(result, note.text);
  }
  const btn = li.querySelector('[data-ack]');
  btn.hidden = !!a.acked_by || (note && note.final);
  btn.disabled = acking.has(a.id);
}

async function ackAlert(li) {
  const a = li.__alert;
  if (!a || acking.has(a.id)) return;
  acking.add(a.id);
  ackNotes.set(a.id, { cls: '', text: t('al.acking') });
  if (lastSnap) renderAlerts(lastSnap);
  const r = await postJSON('/api/v1/alerts/' + encodeURIComponent(a.id) + '/ack', {});
  acking.delete(a.id);
  switch (r.status) {
    case 200: ackNotes.set(a.id, { cls: 'ok', text: t('al.ackOK'), final: true }); break;
    case 403: ackNotes.set(a.id, { cls: 'warn', text: t('al.ackForbidden'), final: true }); break;
    case 401: ackNotes.set(a.id, { cls: 'warn', text: t('mv.signin'), final: true }); break;
    case 404: case 409: ackNotes.set(a.id, { cls: 'warn', text: t('al.ackGone'), final: true }); break;
    default: ackNotes.set(a.id, { cls: 'error', text: t('mv.failed', { why: r.status ? 'HTTP ' + r.status : t('mv.offline') }) });
  }
  if (r.status === 200 && r.body && r.body.acked_by && lastSnap) {
    // The answer is the acknowledged alert: show it now, before the next
    // round says so, on a copy (the live snapshot is the next patch's base).
    renderAlerts({ ...lastSnap, alerts: (lastSnap.alerts || []).map((x) => (x.id === a.id ? { ...x, ...r.body } : x)) });
  } else if (lastSnap) renderAlerts(lastSnap);
}

function renderAlerts(snap) {
  const list = $('#alert-items');
  if (!list) return;
  const alerts = alertsOf(snap);
  const names = namesOf(snap);
  for (const [id, name] of pageNames) if (!names.has(id)) names.set(id, name);
  const have = new Map([...list.children].map((li) => [li.dataset.alert, li]));
  alerts.forEach((a, i) => {
    let li = have.get(a.id);
    if (!li) li = alertItem(a);
    have.delete(a.id);
    fillAlert(li, a, snap, names);
    if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);
  });
  for (const [id, li] of have) { li.remove(); ackNotes.delete(id); }
  [...list.children].forEach((li, i) => { li.hidden = !alertsOpen && i >= ALERTS_SHOWN; });
  const more = $('#alerts-more');
  more.hidden = alerts.length <= ALERTS_SHOWN;
  more.setAttribute('aria-expanded', alertsOpen ? 'true' : 'false');
  setText(more, alertsOpen ? t('al.fewer') : t('al.all', { n: num(alerts.length) }));
  setText($('#alerts-h'), alerts.length ? t('al.titleN', { n: num(alerts.length) }) : t('al.title'));
  $('#alerts-none').hidden = alerts.length > 0;
  const panel = $('#alerts');
  panel.dataset.count = alerts.length;
  panel.classList.toggle('empty', alerts.length === 0);
  panel.classList.toggle('critical', alerts.some((a) => a.severity === 'critical'));
}

let lastSnap = null;

// The page's own names: its title (a district's or station's name, for the
// alerts that name only the id) and the district in its breadcrumb.
const pageNames = new Map();
{
  const [k, id] = (page.scope || '').split(':');
  if (id && (k === 'district' || k === 'station')) pageNames.set(id, (document.getElementById('title') || {}).textContent || id);
  for (const a of document.querySelectorAll('.crumbs a[href^="/district/"]')) {
    pageNames.set(decodeURIComponent(a.getAttribute('href').slice('/district/'.length)), a.textContent);
  }
}

// ---------------------------------------------------------------- start

if (kind === 'station') skeletonStation();
else skeletonScope();

new Live({
  scope: page.scope,
  onData(snap, ch, full) {
    lastSnap = snap;
    if (kind === 'station') renderStation(snap);
    else renderScope(snap);
    renderMoves(snap);
    renderAlerts(snap);
    notesSnapshot(snap);
    charts.update(ch, full);
    document.body.dataset.seq = this.seq;
  },
  onStatus: showStatus,
}).start();
