// The command-room screen's own honesty (issue 13, C3/C5/C7): the date
// under the clock is the calendar's, the working day named as such; a
// changed figure does not flash; in an outage the banner leaves the clock
// and the "as of" time in view and every chart is dimmed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, seed, browser, shot, waitLive, vn, TODAY, NOW } from './harness.mjs';

let server;
let b;
let tokens;
let screen; // the room's screen page, live

before(async () => {
  server = await new Server().start();
  ({ tokens } = await seed(server));
  b = await browser({ viewport: { width: 1920, height: 1080 } });
  await b.signIn(server);
});

after(async () => {
  if (b) await b.close();
  if (server) await server.cleanup();
});

test('at 01:30 the clock shows the calendar date and names the working day, which is still yesterday', async () => {
  const page = await b.context.newPage();
  try {
    // The first snapshot as the server would send it at 01:30 on 21 March:
    // the working day (cut at 04:00) is still the 20th.
    await page.routeWebSocket(/\/ws\?/, (ws) => {
      const upstream = ws.connectToServer();
      upstream.onMessage((m) => {
        const msg = JSON.parse(m);
        if (msg.type !== 'snapshot') return;
        msg.snapshot.now = '2021-03-20T18:30:00Z';
        msg.snapshot.day = '2021-03-20';
        ws.send(JSON.stringify(msg));
      });
      ws.onMessage((m) => upstream.send(m));
    });
    await page.goto(server.url + '/screen');
    await waitLive(page);
    assert.equal((await page.textContent('#clock')).trim(), '01:30');
    assert.equal((await page.textContent('#date .cal')).trim(), '21/03/2021');
    assert.equal(await page.locator('#date .workday').isVisible(), true);
    assert.equal((await page.textContent('#date .workday')).trim(), 'ngày làm việc 20/03/2021');
    assert.equal((await page.textContent('[data-note="today"]')).trim(), 'ngày làm việc 20/03/2021');
    await shot(page, 'honesty-0130-1920.png');
  } finally {
    await page.close();
  }
  // At 21:15 the two are the same day: the calendar date alone.
  screen = await b.page();
  await screen.goto(server.url + '/screen');
  await waitLive(screen);
  assert.equal((await screen.textContent('#date .cal')).trim(), '20/03/2021');
  assert.equal(await screen.locator('#date .workday').isHidden(), true);
});

test('a changed figure changes without a flash', async () => {
  const page = screen;
  const before = (await page.textContent('[data-kpi="completed"]')).trim();
  const r = await server.post(tokens['LS-BS-VULE'], [{ id: 'honesty-1', type: 'completion', station: 'LS-BS-VULE',
    ts: vn(TODAY.y, TODAY.m, TODAY.d, NOW.h, NOW.mi), count: 7, fingerprint_retries: 0, kind: 'standard' }]);
  assert.equal(r.status, 202);
  await page.waitForFunction((old) => document.querySelector('[data-kpi="completed"]').textContent.trim() !== old, before, { timeout: 10000 });
  const anim = await page.evaluate(() => [...document.querySelectorAll('.skpi-value')].flatMap((e) => e.getAnimations().map((a) => a.animationName || 'animation')));
  assert.deepEqual(anim, [], 'no KPI is animated');
  assert.equal(await page.locator('.skpi-value.changed').count(), 0);
});

test('an arrow and the server\'s delta against an hour ago, only with the figures it came with', async () => {
  // The server has run for minutes, not an hour: no change to show.
  assert.equal(await screen.locator('.skpi-change:visible').count(), 0, 'no hour_change, no arrows');
  const page = await b.context.newPage();
  try {
    let release = null; // lets the next update through
    await page.routeWebSocket(/\/ws\?/, (ws) => {
      const upstream = ws.connectToServer();
      upstream.onMessage((m) => {
        const msg = JSON.parse(m);
        if (msg.type === 'snapshot') {
          msg.snapshot.hour_change = { since: '2021-03-20T13:15:00Z', completed: 1234, completed_today: 1234, queue: -12,
            per_hour: 0, stations_open: 3, stations_idle: 0, idle_staff: 0, stations_late: 1 };
          ws.send(JSON.stringify(msg));
        } else if (release) {
          release();
          release = null;
          // The next update as the server sends it when its change moved
          // with its totals; here to none (an update patches the snapshot:
          // a member it does not name stays as it was).
          msg.snapshot.hour_change = null;
          ws.send(JSON.stringify(msg));
        }
      });
      ws.onMessage((m) => upstream.send(m));
    });
    await page.goto(server.url + '/screen');
    await waitLive(page);
    const change = (k) => page.textContent(`[data-change="${k}"]`).then((s) => s.trim());
    assert.equal(await change('completed'), '▲ +1.234 từ 20:15');
    assert.equal(await change('today'), '▲ +1.234 từ 20:15');
    assert.equal(await change('queue'), '▼ −12 từ 20:15');
    assert.equal(await change('per_hour'), '■ 0 từ 20:15');
    assert.equal(await change('open'), '▲ +3 từ 20:15');
    // Whole, not cut.
    assert.deepEqual(await page.$$eval('.skpi-change', (els) => els.filter((e) => e.scrollWidth > e.clientWidth).map((e) => e.textContent)), []);
    assert.equal(await page.getAttribute('[data-change="queue"]', 'data-dir'), 'down');
    await shot(page, 'honesty-change-1920.png');
    // An update whose change is none: the arrows go with it.
    const seq = await page.getAttribute('body', 'data-seq');
    await new Promise((resolve) => { release = resolve; });
    await page.waitForFunction((s) => document.body.dataset.seq !== s, seq, { timeout: 10000 });
    assert.equal(await page.locator('.skpi-change:visible').count(), 0, 'no stale delta beside new totals');
  } finally {
    await page.close();
  }
});

test('in an outage the banner keeps the clock and the "as of" time in view, and every chart is dimmed', async () => {
  const page = screen;
  await page.waitForFunction(() => document.querySelectorAll('[data-chart-body] canvas').length >= 4, null, { timeout: 15000 });
  await server.kill('SIGKILL');
  await page.waitForSelector('#banner:not([hidden])', { timeout: 10000 });
  assert.match(await page.textContent('#banner'), /Mất kết nối từ \d\d:\d\d/);
  const m = await page.evaluate(() => {
    const rect = (el) => { const r = el.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height, bottom: r.bottom, right: r.right }; };
    const seen = (el) => {
      const r = el.getBoundingClientRect();
      const at = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
      return !!at && (at === el || el.contains(at));
    };
    const clock = document.getElementById('clock');
    const pill = document.querySelector('#live .live-text');
    const banner = document.getElementById('banner');
    return {
      clock: { ...rect(clock), seen: seen(clock), opacity: getComputedStyle(clock).opacity },
      pill: { ...rect(pill), seen: seen(pill), text: pill.textContent },
      banner: rect(banner),
      charts: [...document.querySelectorAll('[data-chart-body]')].map((e) => [e.dataset.chartBody, +getComputedStyle(e).opacity]),
      sides: [...document.querySelectorAll('.pane-side')].map((e) => +getComputedStyle(e).opacity),
      kpis: [...document.querySelectorAll('.skpi-value')].map((e) => +getComputedStyle(e).opacity),
    };
  });
  assert.ok(m.clock.seen, 'the clock is not covered: ' + JSON.stringify(m));
  assert.ok(m.pill.seen, 'the live line is not covered: ' + JSON.stringify(m));
  assert.ok(m.banner.y >= m.clock.bottom - 1 && m.banner.y >= m.pill.bottom - 1, 'the banner is under the clock and the "as of" line');
  assert.equal(m.clock.opacity, '1', 'the clock is not dimmed');
  assert.match(m.pill.text, /Số liệu lúc 21:1\d 20\/03\/2021/, 'the "as of" time is said');
  assert.ok(m.charts.length >= 4, 'charts: ' + JSON.stringify(m.charts));
  for (const [name, o] of m.charts) assert.ok(o <= 0.5, `chart ${name} is dimmed: ${o}`);
  for (const o of [...m.sides, ...m.kpis]) assert.ok(o <= 0.5, 'figures are dimmed: ' + o);
  await shot(page, 'honesty-outage-1920.png');
});

test('no request left 127.0.0.1 and no page logged an error', () => {
  b.assertLocal();
  b.assertClean();
});
