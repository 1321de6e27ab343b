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

test('no request left 127.0.0.1 and no page logged an error', () => {
  for (const b of [leader, anon]) {
    b.assertLocal();
    b.assertClean();
  }
});
