// Text that fits (issue 13, C1/A6): every KPI value, filled with the
// longest value it realistically takes ("187/237", "29/05/2021",
// "+124.784", "23 giờ 59 phút", long station names around them), fits its card
// on /, /district, /station and /screen at 1920×1080, 1440×900 and
// 390×844: shrunk to fit like a stat panel, never cut or spilling.
//
// The real server sends its first snapshot; the test's WebSocket route
// fills that snapshot with the long values before the page sees it, and
// holds back the updates after it, so the page draws exactly those.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, seed, browser, shot, waitLive } from './harness.mjs';

let server;
let b;

before(async () => {
  server = await new Server().start();
  await seed(server);
  b = await browser({ viewport: { width: 1440, height: 900 } });
  await b.signIn(server);
});

after(async () => {
  if (b) await b.close();
  if (server) await server.cleanup();
});

const LONG = 'Công an Thị trấn Nông trường Thái Bình (giả lập)';

/** extreme fills a snapshot with the longest values each KPI takes. */
function extreme(s, finish) {
  Object.assign(s.totals, {
    completed: 598765, completed_today: 12345, target: 621000, per_hour: 1234, queue: 3456,
    stations_open: 187, stations: 237, stations_offline: 50, percent_done: 96.4, idle_staff: 123, stations_idle: 45,
    list_visits: 1234, stations_late: 88,
  });
  s.pace = {
    ...(s.pace || {}), state: 'behind', projected_finish: finish, recent_per_day: 12345, recent_days: 7,
    method: 'last_7_working_days', needed_per_day: 12345, expected_to_date: 621000, gap: 124784, plan_share: 0.95,
  };
  const waits = (s.attention && s.attention.waits) || [];
  if (waits[0]) Object.assign(waits[0], { name: LONG, wait_minutes: 1439 });
  if (String(s.scope).startsWith('station:') && s.stations[0]) {
    Object.assign(s.stations[0], {
      name: LONG, status: 'open', kind: 'fixed', queue: 1234, staff: 12, lanes: 9, wait_minutes: 1439, long_wait: true,
      clears_at: '2021-03-21T18:59:00Z', late: true, completed_today: 12345, completed: 123456, quota: 234567,
      pace: { ...s.pace },
    });
  }
  return s;
}

/** routeExtreme makes page's live stream carry extreme(first snapshot) and nothing after it. */
async function routeExtreme(page, finish) {
  await page.routeWebSocket(/\/ws\?/, (ws) => {
    const upstream = ws.connectToServer();
    let sent = false;
    upstream.onMessage((m) => {
      if (sent) return;
      const msg = JSON.parse(m);
      if (msg.type !== 'snapshot') return;
      sent = true;
      extreme(msg.snapshot, finish);
      ws.send(JSON.stringify(msg));
    });
    ws.onMessage((m) => upstream.send(m));
  });
}

/** fits measures every KPI value on the page: cut, spilling out of its card, or shrunk too far. */
const measure = (page) => page.evaluate(() => {
  const out = [];
  for (const e of document.querySelectorAll('.kpi-value, .skpi-value, .fact-value, .quota-num')) {
    if (!e.getClientRects().length) continue; // not laid out (display: none)
    const card = e.closest('.kpi, .skpi, .fact, .quota-panel') || e.parentElement;
    const r = e.getBoundingClientRect();
    const c = card.getBoundingClientRect();
    const cs = getComputedStyle(card);
    // The text's own width: scrollWidth rounds, and half a pixel over is an ellipsis.
    const range = document.createRange();
    range.selectNodeContents(e);
    const es = getComputedStyle(e);
    const room = e.clientWidth - parseFloat(es.paddingLeft) - parseFloat(es.paddingRight);
    out.push({
      key: e.dataset.kpi || e.previousElementSibling?.textContent || e.className, text: e.textContent,
      scrollWidth: e.scrollWidth, clientWidth: e.clientWidth, over: +(range.getBoundingClientRect().width - room).toFixed(2),
      spill: Math.round(r.right - (c.right - parseFloat(cs.paddingRight) - parseFloat(cs.borderRightWidth))),
      fit: e.dataset.fit ? +e.dataset.fit : 1,
      fontSize: parseFloat(getComputedStyle(e).fontSize),
    });
  }
  return out;
});

const PAGES = [
  ['/', 'overview', { open: '187 / 237', finish: '29/05/2021', completed: '598.765', today: '12.345', queue: '3.456' }],
  ['/district/LS-BS', 'district', { open: '187 / 237', finish: '29/05/2021' }],
  ['/station/LS-BS-VULE', 'station', { queue: '1.234', wait: '23 giờ 59 phút', clears: '01:59', today: '12.345', completed: '123.456 / 234.567' }],
  ['/screen', 'screen', { open: '187/237', completed: '598.765', today: '12.345', per_hour: '1.234', queue: '3.456' }],
];

test('every KPI value fits its card with its longest realistic value, at 1920, 1440 and 390 px', async () => {
  const sizes = [[1920, 1080], [1440, 900], [390, 844]];
  const problems = [];
  for (const [path, name, want] of PAGES) {
    const page = await b.context.newPage();
    try {
      await routeExtreme(page, '2021-05-29');
      for (const [width, height] of sizes) {
        await page.setViewportSize({ width, height });
        await page.goto(server.url + path);
        await waitLive(page);
        await page.waitForTimeout(600);
        const where = `${path} at ${width}×${height}`;
        // The long values are what the page shows.
        for (const [k, v] of Object.entries(want)) {
          assert.equal((await page.textContent(`[data-kpi="${k}"]`)).trim(), v, `${where}: ${k}`);
        }
        if (name === 'screen') {
          assert.ok((await page.locator('.fact-value', { hasText: '+124.784' }).count()) === 1, `${where}: the gap +124.784`);
        }
        const m = await measure(page);
        assert.ok(m.length >= 4, `${where}: KPI values found: ${m.length}`);
        for (const x of m) {
          if (x.scrollWidth > x.clientWidth || x.over > 0.25) problems.push(`${where}: ${x.key} "${x.text}" cut (${x.scrollWidth} > ${x.clientWidth}, text ${x.over} px over)`);
          if (x.spill > 0) problems.push(`${where}: ${x.key} "${x.text}" ends ${x.spill} px past its card`);
          if (x.fit < 0.5) problems.push(`${where}: ${x.key} "${x.text}" shrunk to ${x.fit} of its size (${x.fontSize} px)`);
        }
        await shot(page, `fit-${name}-${width}x${height}.png`, { fullPage: false });
      }
    } finally {
      await page.close();
    }
  }
  assert.deepEqual(problems, [], 'KPI values that do not fit');
});

test('English dates fit too: "30 Sept 2021" on a phone and on a 1440-px desk', async () => {
  const problems = [];
  for (const [path, name] of [['/', 'overview'], ['/screen', 'screen']]) {
    const page = await b.context.newPage();
    try {
      await routeExtreme(page, '2021-09-30');
      for (const [width, height] of [[1440, 900], [390, 844]]) {
        await page.setViewportSize({ width, height });
        await page.goto(server.url + path + '?lang=en');
        await waitLive(page);
        await page.waitForTimeout(600);
        if (name === 'overview') assert.match(await page.textContent('[data-kpi="finish"]'), /^30 Sept? 2021$/);
        for (const x of await measure(page)) {
          if (x.scrollWidth > x.clientWidth || x.over > 0.25 || x.spill > 0 || x.fit < 0.5) {
            problems.push(`${path}?lang=en at ${width}×${height}: ${x.key} "${x.text}" (${x.scrollWidth}/${x.clientWidth}, spill ${x.spill}, fit ${x.fit})`);
          }
        }
      }
      await page.goto(server.url + path + '?lang=vi');
    } finally {
      await page.close();
    }
  }
  assert.deepEqual(problems, []);
});

test('no request left 127.0.0.1 and no page logged an error', () => {
  b.assertLocal();
  b.assertClean();
});
