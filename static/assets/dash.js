// dash.js: the province overview (/), a district (/district/<id>) and a
// station (/station/<id>, phone-first). One live stream per page; the
// numbers are redrawn from the merged snapshot, charts from the server's
// ECharts options.

import {
  page, t, num, pct, dec2, minutes, waitShort, ago, dayStr, hhmm, h, setText, bar, pace, verdict,
  attention, stationURL, districtURL, ChartSet, Live, showStatus,
} from './core.js';

const kind = page.page; // overview | district | station
const app = document.getElementById('app');
const verdictEl = document.getElementById('verdict');
const subtitle = document.getElementById('subtitle');

/** kpi builds one KPI card whose value and note are found by data-kpi. */
function kpi(key, label, extra) {
  return h('div', { class: 'kpi kpi-' + key },
    h('div', { class: 'kpi-label', text: label }),
    h('div', { class: 'kpi-value', 'data-kpi': key, text: '—' }),
    h('div', { class: 'kpi-note', 'data-note': key }),
    extra || null);
}

const $ = (sel) => app.querySelector(sel);
const setKPI = (key, value) => setText($('[data-kpi="' + key + '"]'), value);
const setNote = (key, value) => setText($('[data-note="' + key + '"]'), value);

function statusBadge(status) {
  return h('span', { class: 'status status-' + status, text: t('st.' + status) });
}

// ---------------------------------------------------------------- skeletons

let charts;

function skeletonScope() {
  const progressBar = h('div', { class: 'kpi-bar', 'data-bar': 'completed' });
  app.replaceChildren(
    h('section', { class: 'kpis', 'aria-label': t('completed') },
      kpi('completed', t('completed'), progressBar),
      kpi('today', t('today')),
      kpi('per_hour', t('perHour')),
      kpi('queue', t('waiting')),
      kpi('open', t('open')),
      kpi('finish', t('finish'))),
    h('section', { class: 'chart-grid', id: 'charts' }),
    h('div', { class: 'lower' },
      h('section', { class: 'panel attention', 'aria-labelledby': 'att-h' },
        h('h2', { class: 'panel-title', id: 'att-h', text: t('attention') }),
        h('div', { class: 'att-cols' },
          h('div', null, h('h3', { text: t('longestWaits') }), h('ol', { class: 'att-list', id: 'att-waits' })),
          h('div', null, h('h3', { text: t('idle') }), h('ol', { class: 'att-list', id: 'att-idle' })))),
      h('section', { class: 'panel table-panel', 'aria-labelledby': 'tbl-h' },
        h('h2', { class: 'panel-title', id: 'tbl-h', text: kind === 'overview' ? t('districtsSorted') : t('stationsSorted') }),
        h('div', { class: 'table-wrap', id: 'table' }))));
  app.removeAttribute('aria-busy');
  const grid = $('#charts');
  charts = new ChartSet({
    slot: () => grid,
    theme: page.theme,
    panelClass: (name) => (name === 'progress' || name === 'latenight' ? 'wide' : ''),
    autoHeight: 'full',
  });
}

function skeletonStation() {
  app.replaceChildren(
    h('section', { class: 'station-head' },
      h('span', { id: 'st-status' }),
      h('span', { class: 'muted', id: 'st-seen' })),
    h('section', { class: 'kpis kpis-station', 'aria-label': t('queue') },
      kpi('queue', t('queue')),
      kpi('wait', t('wait')),
      kpi('per_hour', t('perHour')),
      kpi('today', t('today'))),
    h('section', { class: 'panel quota-panel' },
      h('div', { class: 'quota-row' },
        h('span', { class: 'panel-title', text: t('quotaProgress') }),
        h('span', { class: 'quota-num', 'data-kpi': 'completed', text: '—' })),
      h('div', { 'data-bar': 'completed' }),
      h('div', { class: 'kpi-note', 'data-note': 'completed' })),
    h('section', { class: 'panel' },
      h('dl', { class: 'facts', id: 'facts' })),
    h('section', { class: 'chart-grid compact', id: 'charts' }),
    h('p', { class: 'report-link' }, h('a', { class: 'btn', href: '/report?station=' + encodeURIComponent(page.scope.split(':')[1] || ''), text: t('report') })));
  app.removeAttribute('aria-busy');
  const grid = $('#charts');
  charts = new ChartSet({ slot: () => grid, theme: page.theme, panelClass: () => 'compact', autoHeight: 'compact' });
}

// ---------------------------------------------------------------- rendering

function renderHead(snap, p) {
  setText(subtitle, t('dayOf', {
    d: dayStr(snap.day), n: num(Math.max(0, p.day - p.start + 1)), total: num(p.total), deadline: dayStr(p.deadline),
  }));
  const v = verdict(p);
  verdictEl.hidden = false;
  verdictEl.className = 'verdict ' + v.cls;
  setText(verdictEl, v.text);
}

function renderScope(snap) {
  const tot = snap.totals;
  const p = pace(snap);
  renderHead(snap, p);
  setKPI('completed', num(tot.completed));
  setNote('completed', pct(tot.percent_done) + ' · ' + t('ofTarget', { n: num(tot.target) }));
  const b = $('[data-bar="completed"]');
  b.replaceChildren(bar(tot.percent_done, p.expectedPct, p.state === 'behind' ? 'bad' : 'good'));
  setKPI('today', num(tot.completed_today));
  setNote('today', t('todaySub', { d: dayStr(snap.day) }));
  setKPI('per_hour', num(tot.per_hour));
  setNote('per_hour', t('perHourSub'));
  setKPI('queue', num(tot.queue));
  const att = attention(snap.stations, 6);
  const top = att.waits[0];
  setNote('queue', top ? t('waitingSub', { w: minutes(top.wait_minutes), s: top.name }) : t('waitingNone'));
  setKPI('open', num(tot.stations_open) + ' / ' + num(tot.stations));
  const offline = snap.stations.filter((s) => s.status === 'offline').length;
  setNote('open', offline ? t('openSub', { n: num(offline) }) : t('openSubNone'));
  setKPI('finish', p.finish != null ? dayStr(p.finish) : '—');
  setNote('finish', p.finish != null || p.avg > 0 ? t('finishSub', { avg: num(p.avg), need: num(p.need) }) : t('finishNever'));
  $('.kpi-finish').classList.toggle('bad', p.late);
  $('.kpi-finish').classList.toggle('good', p.finish != null && !p.late);

  const item = (s, right) => h('li', null,
    h('a', { href: stationURL(s.id) }, h('span', { class: 'att-name', text: s.name })),
    h('span', { class: 'att-val', text: right }));
  $('#att-waits').replaceChildren(...(att.waits.length ? att.waits.map((s) => item(s, minutes(s.wait_minutes) + ' · ' + num(s.queue) + ' ' + t('queue').toLowerCase()))
    : [h('li', { class: 'none', text: t('noneWaits') })]));
  $('#att-idle').replaceChildren(...(att.idle.length ? att.idle.map((s) => item(s, num(s.staff) + ' ' + t('staffShort') + ' · ' + num(s.per_hour) + '/h'))
    : [h('li', { class: 'none', text: t('noneIdle') })]));

  if (kind === 'overview') renderDistricts(snap, p);
  else renderStations(snap);
}

function renderDistricts(snap, p) {
  const rows = [...(snap.districts || [])].sort((a, b) => a.percent_done - b.percent_done);
  const table = h('table', { class: 'data' },
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', text: t('district') }),
      h('th', { scope: 'col', class: 'num', text: t('done') }),
      h('th', { scope: 'col', class: 'num', text: t('quota') }),
      h('th', { scope: 'col', class: 'pctcol', text: t('pctDone') }),
      h('th', { scope: 'col', class: 'num', text: t('todayCol') }),
      h('th', { scope: 'col', class: 'num', text: t('perHourCol') }),
      h('th', { scope: 'col', class: 'num', text: t('queue') }))),
    h('tbody', null, rows.map((d) => {
      const behind = d.percent_done < p.expectedPct - 0.5;
      return h('tr', { 'data-district': d.id },
        h('th', { scope: 'row' }, h('a', { href: districtURL(d.id), text: d.name })),
        h('td', { class: 'num', text: num(d.completed) }),
        h('td', { class: 'num', text: num(d.quota) }),
        h('td', { class: 'pctcol' }, h('span', { class: 'pct ' + (behind ? 'bad' : 'good'), text: pct(d.percent_done) }), bar(d.percent_done, p.expectedPct, behind ? 'bad' : 'good')),
        h('td', { class: 'num', text: num(d.completed_today) }),
        h('td', { class: 'num', text: num(d.per_hour) }),
        h('td', { class: 'num', text: num(d.queue) }));
    })));
  $('#table').replaceChildren(table);
}

function renderStations(snap) {
  const rows = [...snap.stations].sort((a, b) => b.wait_minutes - a.wait_minutes || b.queue - a.queue || a.name.localeCompare(b.name));
  const table = h('table', { class: 'data' },
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', text: t('station') }),
      h('th', { scope: 'col', text: t('status') }),
      h('th', { scope: 'col', class: 'num', text: t('queue') }),
      h('th', { scope: 'col', class: 'num', text: t('wait') }),
      h('th', { scope: 'col', class: 'num', text: t('staff') }),
      h('th', { scope: 'col', class: 'num', text: t('perHourCol') }),
      h('th', { scope: 'col', class: 'num', text: t('todayCol') }),
      h('th', { scope: 'col', class: 'pctcol', text: t('pctDone') }))),
    h('tbody', null, rows.map((s) => {
      const pd = s.quota > 0 ? (100 * s.completed) / s.quota : 0;
      return h('tr', { 'data-station': s.id },
        h('th', { scope: 'row' }, h('a', { href: stationURL(s.id), text: s.name })),
        h('td', null, statusBadge(s.status)),
        h('td', { class: 'num', text: num(s.queue) }),
        h('td', { class: 'num' + (s.wait_minutes >= 60 ? ' bad' : ''), text: minutes(s.wait_minutes) }),
        h('td', { class: 'num', text: num(s.staff) }),
        h('td', { class: 'num', text: num(s.per_hour) }),
        h('td', { class: 'num', text: num(s.completed_today) }),
        h('td', { class: 'pctcol' }, h('span', { class: 'pct', text: pct(pd) }), bar(pd)));
    })));
  $('#table').replaceChildren(table);
}

function renderStation(snap) {
  const s = snap.stations[0];
  if (!s) return;
  const p = pace(snap);
  renderHead(snap, p);
  $('#st-status').replaceChildren(statusBadge(s.status));
  const seenAge = s.last_seen ? (Date.parse(snap.now) - Date.parse(s.last_seen)) / 1000 : null;
  setText($('#st-seen'), t('lastSeen') + ': ' + (s.last_seen ? hhmm(s.last_seen) + ' (' + ago(seenAge) + ')' : t('never')));
  setKPI('queue', num(s.queue));
  setNote('queue', s.staff ? num(s.staff) + ' ' + t('staffShort') : '');
  setKPI('wait', waitShort(s.wait_minutes));
  $('.kpi-wait').classList.toggle('bad', s.wait_minutes >= 60);
  setKPI('per_hour', num(s.per_hour));
  setNote('per_hour', t('perHourSub'));
  setKPI('today', num(s.completed_today));
  setNote('today', t('todaySub', { d: dayStr(snap.day) }));
  const pd = s.quota > 0 ? (100 * s.completed) / s.quota : 0;
  setKPI('completed', num(s.completed) + ' / ' + num(s.quota));
  setNote('completed', pct(pd));
  $('[data-bar="completed"]').replaceChildren(bar(pd, p.expectedPct, pd < p.expectedPct - 0.5 ? 'bad' : 'good'));
  const fact = (k, v) => [h('dt', { text: k }), h('dd', null, v)];
  $('#facts').replaceChildren(
    ...fact(t('status'), statusBadge(s.status)),
    ...fact(t('staffLanes'), num(s.staff) + ' / ' + num(s.lanes)),
    ...fact(t('retries'), dec2(s.retries_per_record)),
    ...fact(t('lastSeen'), s.last_seen ? hhmm(s.last_seen) + ' · ' + ago(seenAge) : t('never')),
    ...fact(t('kind.' + s.kind) === 'kind.' + s.kind ? s.kind : t('kind.' + s.kind), s.commune || '—'));
}

// ---------------------------------------------------------------- start

if (kind === 'station') skeletonStation();
else skeletonScope();

new Live({
  scope: page.scope,
  onData(snap, ch, full) {
    if (kind === 'station') renderStation(snap);
    else renderScope(snap);
    charts.update(ch, full);
    document.body.dataset.seq = this.seq;
  },
  onStatus: showStatus,
}).start();
