// Phone-first (issue 13, A4/A5): no page scrolls sideways on a 390×844
// phone, and the overview answers first: the verdict, the projected finish
// and the districts on the first screen, two KPIs a row.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, seed, browser, shot, waitLive } from './harness.mjs';

const PHONE = { width: 390, height: 844 };

let server;
let leader; // signed in
let anon; // not signed in: the sign-in and report pages

before(async () => {
  server = await new Server().start();
  await seed(server);
  leader = await browser({ viewport: PHONE });
  await leader.signIn(server);
  anon = await browser({ viewport: PHONE });
});

after(async () => {
  for (const b of [leader, anon]) if (b) await b.close();
  if (server) await server.cleanup();
});

const width = (page) => page.evaluate(() => ({
  scrollWidth: document.documentElement.scrollWidth,
  // What sticks out past the right edge, to say where a failure comes from.
  wide: [...document.querySelectorAll('body *')].filter((e) => {
    const r = e.getBoundingClientRect();
    return r.width && r.right > document.documentElement.clientWidth + 0.5 && !e.closest('.table-wrap');
  }).slice(0, 5).map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + [...e.classList].join('.')),
}));

test('no page scrolls sideways at 390 px', async () => {
  const pages = [
    [leader, '/', true], [leader, '/district/LS-BS', true], [leader, '/station/LS-BS-VULE', true],
    [leader, '/screen', true], [anon, '/report', false], [anon, '/login', false],
  ];
  const bad = [];
  for (const [b, path, live] of pages) {
    const page = await b.page();
    const resp = await page.goto(server.url + path);
    assert.equal(resp.status(), 200, path);
    if (live) await waitLive(page);
    await page.waitForTimeout(800); // charts' entry animation, fitted figures
    const m = await width(page);
    if (m.scrollWidth > 390) bad.push(`${path}: ${m.scrollWidth} px wide (${m.wide.join(', ')})`);
    const name = path === '/' ? 'overview' : path.split('/')[1];
    await shot(page, `phone-${name}.png`, { fullPage: path !== '/screen' });
  }
  assert.deepEqual(bad, [], 'pages wider than the phone');
});

test('the overview on a phone: verdict, finish and districts first, two KPIs a row', async () => {
  const page = await leader.page();
  await page.goto(server.url + '/');
  await waitLive(page);
  await page.waitForTimeout(500);
  await shot(page, 'phone-overview-first-screen.png');
  const box = async (sel) => {
    const b = await page.locator(sel).first().boundingBox();
    assert.ok(b, 'no box for ' + sel);
    return b;
  };
  const verdict = await box('#verdict');
  const finish = await box('.kpi-finish');
  const completed = await box('.kpi-completed');
  const today = await box('.kpi-today');
  const perHour = await box('.kpi-per_hour');
  const queue = await box('.kpi-queue');
  const open = await box('.kpi-open');
  const table = await box('.table-panel');
  const alerts = await box('#alerts');
  const charts = await box('#charts');
  const attention = await box('.attention');
  // The answers, in this order, from the top.
  assert.ok(verdict.y < finish.y, 'the verdict before the finish');
  assert.equal(Math.round(finish.y), Math.round(completed.y), 'the finish and the total share the first row of KPIs');
  assert.ok(finish.x < completed.x, 'the finish first');
  assert.ok(finish.y + finish.height <= PHONE.height, 'the projected finish is on the first screen: ' + JSON.stringify(finish));
  assert.ok(table.y > finish.y && table.y < today.y, 'then the districts, before the other KPIs');
  assert.ok(table.y + 120 < PHONE.height, 'the districts table starts on the first screen: ' + JSON.stringify(table));
  assert.ok(open.y < alerts.y && alerts.y < attention.y && attention.y < charts.y, 'then alerts, attention, charts');
  // Two KPIs a row.
  assert.equal(Math.round(today.y), Math.round(perHour.y), 'today and per hour share a row');
  assert.ok(perHour.x > today.x + today.width - 1, 'side by side');
  assert.equal(Math.round(queue.y), Math.round(open.y), 'queue and open share a row');
  assert.ok(today.width < PHONE.width / 2, 'half a row each: ' + today.width);
  // The districts' finish and pace are read without scrolling the table.
  const cols = await page.evaluate(() => {
    const wrap = document.querySelector('#table');
    const visible = (sel) => [...document.querySelectorAll(sel)].filter((e) => {
      const r = e.getBoundingClientRect();
      return r.width > 0 && r.right <= wrap.getBoundingClientRect().right + 0.5;
    }).length;
    return { rows: document.querySelectorAll('#table tbody tr').length, state: visible('#table tbody .state'), finish: visible('#table tbody td.finish') };
  });
  assert.ok(cols.rows >= 11, 'every district: ' + cols.rows);
  assert.equal(cols.state, cols.rows, 'each district\'s pace is in view');
  assert.equal(cols.finish, cols.rows, 'each district\'s finish is in view');
});

test('the district\'s stations are cards on a phone, one a station, and a table on a desktop', async () => {
  const page = await leader.page();
  await page.goto(server.url + '/district/LS-BS');
  await waitLive(page);
  await page.locator('#table tbody tr').first().scrollIntoViewIfNeeded();
  await shot(page, 'phone-district-cards.png');
  const m = await page.evaluate(() => {
    const wrap = document.querySelector('#table');
    const vw = document.documentElement.clientWidth;
    const box = (e) => { const r = e && e.getBoundingClientRect(); return r && r.width > 0 && r.height > 0 ? r : null; };
    const cards = [...document.querySelectorAll('#table tbody tr')].map((tr) => {
      const r = tr.getBoundingClientRect();
      const part = (sel) => {
        const b = box(tr.querySelector(sel));
        return b ? { in: b.left >= r.left - 0.5 && b.right <= r.right + 0.5 && b.top >= r.top - 0.5 && b.bottom <= r.bottom + 0.5,
          text: tr.querySelector(sel).innerText.trim() } : null;
      };
      return { id: tr.dataset.station, kind: tr.dataset.kind, left: r.left, right: r.right, top: r.top, bottom: r.bottom,
        name: part('.c-name'), status: part('.c-status'), queue: part('.c-queue'), wait: part('.c-wait'), staff: part('.c-staff') };
    });
    const hidden = ['.c-clears', '.c-perhour', '.c-today', '.c-pct'].filter((sel) => [...wrap.querySelectorAll('tbody ' + sel)].some(box));
    return { vw, hidden, wrapScroll: wrap.scrollWidth - wrap.clientWidth, head: document.querySelector('#table thead').getBoundingClientRect().height > 1, cards };
  });
  assert.ok(m.cards.length >= 4, 'stations: ' + m.cards.length);
  assert.equal(m.wrapScroll, 0, 'the station list scrolls sideways');
  assert.equal(m.head, false, 'no table head over the cards');
  assert.deepEqual(m.hidden, [], 'the desktop-only columns are not in the cards');
  for (const [i, c] of m.cards.entries()) {
    assert.ok(c.left >= 0 && c.right <= m.vw, `${c.id}: card ${c.left}–${c.right} past the ${m.vw} px screen`);
    if (i > 0) assert.ok(c.top >= m.cards[i - 1].bottom, `${c.id}: not under the card before it`);
    for (const k of ['name', 'status', 'queue', 'wait', 'staff']) {
      assert.ok(c[k] && c[k].in, `${c.id}: ${k} not shown inside its card: ${JSON.stringify(c[k])}`);
    }
    if (c.kind !== 'home_visit') {
      assert.match(c.queue.text, /^Đang chờ\s+\d+$/iu, `${c.id}: queue`);
      assert.match(c.wait.text, /^Chờ ước tính\s+\S/iu, `${c.id}: wait`);
    }
    assert.match(c.staff.text, /^Cán bộ\s+\d+/iu, `${c.id}: staff`);
  }
  // A desktop keeps the table, with its head and no card labels.
  await page.setViewportSize({ width: 1440, height: 900 });
  try {
    const d = await page.evaluate(() => ({
      display: getComputedStyle(document.querySelector('#table tbody tr')).display,
      head: document.querySelector('#table thead th').getBoundingClientRect().height,
      labels: [...document.querySelectorAll('#table .card-label')].filter((e) => e.getBoundingClientRect().height > 0).length,
    }));
    assert.equal(d.display, 'table-row');
    assert.ok(d.head > 0, 'the table head');
    assert.equal(d.labels, 0, 'card labels in the desktop table');
  } finally {
    await page.setViewportSize(PHONE);
  }
});

test('no request left 127.0.0.1 and no page logged an error', () => {
  for (const b of [leader, anon]) {
    b.assertLocal();
    b.assertClean();
  }
});
