// The station chief's page on a phone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, seed, browser, shot, waitLive } from './harness.mjs';

let server;
let b;

before(async () => {
  server = await new Server().start();
  await seed(server);
  b = await browser({ viewport: { width: 390, height: 844 } });
  await b.signIn(server);
});

after(async () => {
  if (b) await b.close();
  if (server) await server.cleanup();
});

test('/station/<id> on a 390×844 phone shows the queue and has no horizontal scroll', async () => {
  const page = await b.page();
  const resp = await page.goto(server.url + '/station/LS-BS-VULE');
  assert.equal(resp.status(), 200);
  await waitLive(page);
  const snap = await server.snapshot('station:LS-BS-VULE');
  const st = snap.stations[0];
  const vi = new Intl.NumberFormat('vi-VN');
  assert.equal((await page.textContent('[data-kpi="queue"]')).trim(), vi.format(st.queue));
  assert.equal((await page.textContent('[data-kpi="today"]')).trim(), vi.format(st.completed_today));
  assert.equal((await page.textContent('[data-kpi="completed"]')).trim(), `${vi.format(st.completed)} / ${vi.format(st.quota)}`);
  assert.match(await page.textContent('#st-status'), /Đang mở/);
  assert.match(await page.textContent('#facts'), /Tín hiệu cuối/);
  await page.waitForFunction(() => document.querySelectorAll('[data-chart] canvas').length >= 1, null, { timeout: 15000 });
  await page.waitForTimeout(1200);
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth,
  }));
  assert.ok(scrollWidth <= clientWidth, `horizontal scroll: scrollWidth ${scrollWidth} > clientWidth ${clientWidth}`);
  // Nothing sticks out of the viewport either (e.g. a wide chart canvas).
  const wide = await page.evaluate(() => [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1 && !e.closest('.table-wrap'))
    .map((e) => e.tagName + '.' + e.className).slice(0, 5));
  assert.deepEqual(wide, []);
  await shot(page, 'station-phone.png', { fullPage: true });
});

test('the district page on a phone has no horizontal scroll either', async () => {
  const page = await b.page();
  await page.goto(server.url + '/district/LS-BS');
  await waitLive(page);
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth,
  }));
  assert.ok(scrollWidth <= clientWidth, `horizontal scroll: ${scrollWidth} > ${clientWidth}`);
});

test('no request left 127.0.0.1 and no page logged an error', () => {
  b.assertLocal();
  b.assertClean();
});
