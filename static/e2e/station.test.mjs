// The station chief's page on a phone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, seed, browser, shot, waitLive, hhmmVI, STATE_VI } from './harness.mjs';

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
  // One sentence says what the numbers mean: queue, lanes, when it clears.
  const say = await page.textContent('#st-say');
  assert.ok(say.includes(`${vi.format(st.queue)} người đang chờ, ${vi.format(st.lanes)} máy đang làm: hết hàng lúc ${hhmmVI(st.clears_at)}.`), say);
  assert.equal((await page.textContent('[data-kpi="clears"]')).trim(), hhmmVI(st.clears_at));
  assert.equal((await page.textContent('[data-kpi="wait"]')).trim(), waitVI(st.wait_minutes));
  assert.equal(await page.locator('#st-say .badge.late').count(), st.late ? 1 : 0);
  assert.equal(await page.getAttribute('#verdict', 'data-state'), snap.pace.state);
  assert.ok((await page.textContent('#verdict')).startsWith(STATE_VI[snap.pace.state]));
  assert.match(await page.textContent('#facts'), /Tín hiệu cuối/);
  await page.waitForFunction(() => document.querySelectorAll('[data-chart] canvas').length >= 1, null, { timeout: 15000 });
  await page.waitForTimeout(1200);
  // The per-station bar charts would have one bar here: not drawn; the progress chart is.
  const shown = await page.$$eval('[data-chart]', (els) => els.map((e) => e.dataset.chart));
  assert.ok(shown.includes('progress'), 'charts: ' + shown);
  assert.ok(!shown.includes('throughput') && !shown.includes('queue'), 'no one-bar charts: ' + shown);
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

/** waitVI is a wait as the station page's big number shows it: "45 phút", "1 giờ 5 phút", "2 giờ". */
function waitVI(m) {
  m = Math.round(m);
  return m < 60 ? `${m} phút` : m % 60 ? `${Math.floor(m / 60)} giờ ${m % 60} phút` : `${m / 60} giờ`;
}

test('a station whose queue clears after the late hour gets the late badge and its clearing time', async () => {
  const prov = await server.snapshot('province');
  const late = prov.attention.late.find((s) => s.kind !== 'home_visit');
  assert.ok(late, 'a late station in the seed: ' + JSON.stringify(prov.attention.late));
  const page = await b.page();
  await page.goto(server.url + '/station/' + late.id);
  await waitLive(page);
  const st = (await server.snapshot('station:' + late.id)).stations[0];
  assert.equal(st.late, true);
  // The badge names the campaign's late hour that the snapshot sends.
  assert.equal(prov.campaign.late_close, '02:00');
  assert.match(await page.textContent('#st-say .badge.late'), /Quá 02:00/);
  assert.ok((await page.textContent('#st-say')).includes(`hết hàng lúc ${hhmmVI(st.clears_at)}`));
  assert.equal((await page.textContent('[data-kpi="clears"]')).trim(), hhmmVI(st.clears_at));
  assert.equal(await page.locator('.kpi-clears .badge.late').count(), 1);
  await shot(page, 'station-late-phone.png', { fullPage: true });
});

test('a home-visit team shows the time to finish its list, not a wait', async () => {
  const page = await b.page();
  await page.goto(server.url + '/station/LS-BS-TN1');
  await waitLive(page);
  const st = (await server.snapshot('station:LS-BS-TN1')).stations[0];
  assert.equal(st.kind, 'home_visit');
  assert.equal(st.wait_minutes, null);
  assert.ok(st.list_minutes > 0);
  assert.equal((await page.textContent('[data-label="queue"]')).trim(), 'Còn trong danh sách');
  assert.equal((await page.textContent('[data-label="wait"]')).trim(), 'Làm hết danh sách');
  assert.equal((await page.textContent('[data-kpi="wait"]')).trim(), waitVI(st.list_minutes));
  assert.doesNotMatch(await page.textContent('.kpis-station'), /Chờ ước tính|người đang chờ/);
  assert.ok((await page.textContent('#st-say')).includes(`Còn ${st.queue} hộ trong danh sách: làm hết lúc ${hhmmVI(st.clears_at)}`));
  await shot(page, 'station-visit-phone.png', { fullPage: true });
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
