// Alerts: the band across the command room, the small list on every page,
// an acknowledgement, and a station falling silent (the replay clock moves
// on while it says nothing) that opens a new alert the room jumps to.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, seed, browser, shot, waitLive, vn, TODAY, NOW, hhmmVI } from './harness.mjs';

let server;
let tokens;
let room; // the command-room screen
let leader;
let chief; // the chief of a station with a long wait, on a phone
let target; // that station's long-wait alert
let chiefName;
let screenPage; // the room's page of the first test, left open

const SILENT = 'LS-BS-VULE'; // says "open", then nothing while the others go on

before(async () => {
  server = await new Server().start();
  ({ tokens } = await seed(server));
  room = await browser({ viewport: { width: 1920, height: 1080 } });
  await server.openScreen(await room.page());
  leader = await browser({ viewport: { width: 1440, height: 900 } });
  await leader.signIn(server);
  // The engine opens the seed's alerts within a round or two.
  let snap;
  for (let i = 0; i < 40; i++) {
    snap = await server.snapshot('province');
    if ((snap.alerts || []).length) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  target = snap.alerts.find((a) => a.kind === 'long_wait' && a.station && tokens[a.station]);
  assert.ok(target, 'a long wait among the seed\'s alerts: ' + JSON.stringify(snap.alerts));
  chief = await browser({ viewport: { width: 390, height: 844 } });
  chiefName = `e2e-chief-${Math.random().toString(36).slice(2, 8)}`;
  const password = await server.user(chiefName, 'chief', target.station);
  const page = await chief.page();
  await page.goto(server.url + '/login');
  await page.fill('#login-name', chiefName);
  await page.fill('#login-password', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
});

after(async () => {
  for (const b of [room, leader, chief]) if (b) await b.close();
  if (server) await server.cleanup();
});

const KIND_VI = { silent: 'Mất tín hiệu', long_wait: 'Chờ quá lâu', late_close: 'Hết hàng muộn', slowdown: 'Làm chậm lại', behind: 'Chậm tiến độ' };
const SEV_VI = { critical: 'Nghiêm trọng', warning: 'Lưu ý' };
const overlap = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

test('/screen shows the open alerts as a band: the count, the most severe first, under the clock', async () => {
  const page = await room.page();
  screenPage = page;
  await page.goto(server.url + '/screen?view=overview');
  await waitLive(page);
  await page.waitForSelector('#aband:not([hidden])', { timeout: 10000 });
  await page.waitForTimeout(1500);
  const snap = await server.snapshot('province');
  const shown = await page.evaluate(() => ({
    count: document.querySelector('#aband .aband-num').textContent,
    items: [...document.querySelectorAll('#aband .aband-item')].map((li) => ({ id: li.dataset.alert, text: li.textContent })),
    cls: document.getElementById('aband').className,
  }));
  assert.equal(shown.count, String(snap.alerts.length));
  // The first ones in the server's order: critical first.
  assert.deepEqual(shown.items.map((x) => x.id), snap.alerts.slice(0, shown.items.length).map((a) => a.id));
  assert.ok(shown.items.length >= 1);
  const first = snap.alerts[0];
  assert.ok(shown.items[0].text.includes(SEV_VI[first.severity].toUpperCase()) || shown.items[0].text.includes(SEV_VI[first.severity]), shown.items[0].text);
  assert.ok(shown.items[0].text.includes(KIND_VI[first.kind]), shown.items[0].text);
  assert.match(shown.cls, first.severity === 'critical' ? /sev-critical/ : /sev-warning/);
  if (snap.alerts.length > shown.items.length) {
    assert.equal((await page.textContent('#aband .aband-more')).trim(), `+${snap.alerts.length - shown.items.length} khác`);
  }
  // Across the room: big, light on dark red (or dark on amber), and never over the clock or the "as of" line.
  const style = await page.evaluate(() => {
    const cs = getComputedStyle(document.querySelector('#aband .aband-item .aband-where'));
    return { size: parseFloat(cs.fontSize), color: cs.color, bg: getComputedStyle(document.getElementById('aband')).backgroundColor };
  });
  assert.ok(style.size >= 30, 'band text at 30 px or more: ' + style.size);
  if (first.severity === 'critical') assert.deepEqual([style.color, style.bg], ['rgb(255, 255, 255)', 'rgb(179, 18, 31)']);
  const band = await page.locator('#aband').boundingBox();
  for (const sel of ['#clock', '#date', '#live']) {
    const box = await page.locator(sel).boundingBox();
    assert.ok(!overlap(band, box), `the band covers ${sel}: ${JSON.stringify({ band, box })}`);
  }
  const kpis = await page.locator('.scr-kpis').boundingBox();
  assert.ok(band.y + band.height <= kpis.y, 'the band pushes the KPIs down, it does not cover them');
  await shot(page, 'screen-alerts.png');
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.waitForTimeout(800);
  await shot(page, 'screen-alerts-1440.png');
  await page.setViewportSize({ width: 1920, height: 1080 });
});

test('every page has the small list of its scope\'s open alerts', async () => {
  const page = await leader.page();
  await page.goto(server.url + '/?lang=vi');
  await waitLive(page);
  const snap = await server.snapshot('province');
  await page.waitForFunction((n) => document.getElementById('alerts').dataset.count === String(n), snap.alerts.length, { timeout: 10000 });
  const visible = await page.locator('#alert-items > li:visible').count();
  assert.equal(visible, Math.min(5, snap.alerts.length), 'a small list: the first five');
  if (snap.alerts.length > 5) {
    assert.equal((await page.textContent('#alerts-more')).trim(), `Xem cả ${snap.alerts.length} cảnh báo`);
    await page.click('#alerts-more');
    assert.equal(await page.locator('#alert-items > li:visible').count(), snap.alerts.length);
    await page.click('#alerts-more');
  }
  const a = snap.alerts[0];
  const li = page.locator(`#alert-items > li[data-alert="${a.id}"]`);
  const name = snap.stations.find((s) => s.id === a.station)?.name || snap.districts.find((d) => d.id === a.district)?.name;
  assert.equal((await li.locator('[data-kind]').textContent()).trim(), KIND_VI[a.kind]);
  assert.equal((await li.locator('[data-where]').textContent()).trim(), name);
  assert.equal((await li.locator('[data-sev]').textContent()).trim(), SEV_VI[a.severity]);
  assert.ok((await li.locator('[data-since]').textContent()).includes('từ ' + hhmmVI(a.since)));
  await page.locator('#alerts').scrollIntoViewIfNeeded();
  await shot(page, 'alerts-overview.png');
  // A district's page lists its district's alerts, and only those.
  const district = a.district || snap.alerts.find((x) => x.district).district;
  const dsnap = await server.snapshot('district:' + district);
  await page.goto(server.url + '/district/' + district);
  await waitLive(page);
  await page.waitForFunction((n) => document.getElementById('alerts').dataset.count === String(n), dsnap.alerts.length, { timeout: 10000 });
  const ids = await page.$$eval('#alert-items > li', (els) => els.map((e) => e.dataset.alert));
  assert.deepEqual(ids, dsnap.alerts.map((x) => x.id));
  assert.ok(dsnap.alerts.every((x) => x.district === district), JSON.stringify(dsnap.alerts));
  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator('#alerts').scrollIntoViewIfNeeded();
  await shot(page, 'alerts-district-phone.png');
  await page.setViewportSize({ width: 1440, height: 900 });
});

test('a chief acknowledges their station\'s alert on the phone; the room sees who', async () => {
  const page = await chief.page();
  await page.goto(server.url + '/station/' + target.station);
  await waitLive(page);
  const li = page.locator(`#alert-items > li[data-alert="${target.id}"]`);
  await li.waitFor({ timeout: 10000 });
  assert.equal((await li.locator('[data-kind]').textContent()).trim(), 'Chờ quá lâu');
  assert.match(await li.locator('[data-value]').textContent(), /^chờ \d+ (giờ|phút)/);
  await shot(page, 'alerts-station-phone.png', { fullPage: true });
  const btn = li.locator('button[data-ack]');
  assert.equal((await btn.textContent()).trim(), 'Xác nhận');
  const answered = page.waitForResponse((r) => r.url().includes('/ack'));
  await btn.click();
  const resp = await answered;
  assert.equal(resp.status(), 200);
  const body = await resp.json();
  assert.equal(body.acked_by, 'user:' + chiefName);
  await page.waitForFunction((id) => {
    const el = document.querySelector(`#alert-items > li[data-alert="${id}"]`);
    return el && el.dataset.acked === 'true';
  }, target.id, { timeout: 5000 });
  assert.equal(await btn.isVisible(), false, 'no button once acknowledged');
  assert.equal((await li.locator('.alert-result').textContent()).trim(), 'Đã xác nhận.');
  assert.equal((await li.locator('[data-acked]').textContent()).trim(), `Đã xác nhận: ${chiefName}, ${hhmmVI(body.acked_at)}`);
  const snap = await server.snapshot('station:' + target.station);
  assert.equal(snap.alerts.find((a) => a.id === target.id).acked_by, 'user:' + chiefName);
  await shot(page, 'alerts-acked-phone.png');
  // The screen's band says who took it on, when the alert is among the first it shows.
  const idx = (await server.snapshot('province')).alerts.findIndex((a) => a.id === target.id);
  if (idx >= 0 && idx < 2) {
    await screenPage.waitForFunction(({ id, who }) => {
      const el = document.querySelector(`#aband [data-alert="${id}"] .aband-acked`);
      return el && el.textContent === '✓ ' + who;
    }, { id: target.id, who: chiefName }, { timeout: 5000 });
  }
});

test('an acknowledgement the server refuses is said politely', async () => {
  const page = await leader.page();
  await page.route('**/api/v1/alerts/**/ack', (r) => r.fulfill({ status: 403, contentType: 'application/json', body: '{"error":"no","code":"forbidden"}' }));
  await page.goto(server.url + '/?lang=vi');
  await waitLive(page);
  const li = page.locator('#alert-items > li[data-acked="false"]:visible').first();
  await li.waitFor({ timeout: 10000 });
  await li.locator('button[data-ack]').click();
  await page.waitForFunction(() => [...document.querySelectorAll('.alert-result')].some((e) => !e.hidden && /không xác nhận được/.test(e.textContent)), null, { timeout: 5000 });
  assert.equal(await li.locator('button[data-ack]').isVisible(), false);
  await page.unroute('**/api/v1/alerts/**/ack');
});

test('a station that said "open" and falls silent opens an alert; the room jumps to the queues view', async () => {
  const page = await room.context.newPage();
  await page.goto(server.url + '/screen?rotate=60');
  await waitLive(page);
  await page.waitForFunction(() => document.body.dataset.view === 'overview', null, { timeout: 5000 });
  const before = (await server.snapshot('province')).alerts.length;
  // It says "open" at 21:16; the others report at 21:37, 21 minutes later: the replay clock follows them.
  let r = await server.post(tokens[SILENT], [{ id: 'alert-open-1', type: 'heartbeat', station: SILENT,
    ts: vn(TODAY.y, TODAY.m, TODAY.d, NOW.h, NOW.mi + 1), queue: 5, staff: 4, lanes: 3, status: 'open' }]);
  assert.equal(r.status, 202);
  const others = Object.keys(tokens).filter((id) => id !== SILENT).slice(0, 3);
  for (const id of others) {
    r = await server.post(tokens[id], [{ id: 'alert-later-' + id, type: 'heartbeat', station: id,
      ts: vn(TODAY.y, TODAY.m, TODAY.d, NOW.h, NOW.mi + 22), queue: 3, staff: 2, lanes: 1, status: 'open' }]);
    assert.equal(r.status, 202);
  }
  let silent;
  for (let i = 0; i < 40 && !silent; i++) {
    silent = (await server.snapshot('province')).alerts.find((a) => a.kind === 'silent' && a.station === SILENT);
    if (!silent) await new Promise((res) => setTimeout(res, 250));
  }
  assert.ok(silent, 'a silent alert for ' + SILENT);
  assert.ok(silent.value >= 15, JSON.stringify(silent));
  // The next live round carries it to the screen (a round is seconds; the room's promise is a minute).
  await page.waitForFunction(() => document.body.dataset.view === 'queues', null, { timeout: 20000 });
  assert.ok(await page.getAttribute('body', 'data-new-alert'));
  const count = Number(await page.textContent('#aband .aband-num'));
  assert.ok(count > before, `the band counts the new alerts: ${count} after ${before}`);
  await page.waitForTimeout(1200);
  await shot(page, 'screen-alert-jump.png');
  // On the station's own page, the small list says it.
  const desk = await leader.page();
  await desk.goto(server.url + '/station/' + SILENT);
  await waitLive(desk);
  const li = desk.locator(`#alert-items > li[data-alert="${silent.id}"]`);
  await li.waitFor({ timeout: 10000 });
  assert.equal((await li.locator('[data-kind]').textContent()).trim(), 'Mất tín hiệu');
  assert.equal((await li.locator('[data-where]').textContent()).trim(), 'Công an Xã Vũ Lễ');
  assert.match(await li.locator('[data-value]').textContent(), /^không có tín hiệu \d+ phút$/);
});

test('no request left 127.0.0.1 and no page logged an error', () => {
  for (const b of [room, leader, chief]) {
    b.assertLocal();
    assert.deepEqual(b.problems.filter((p) => !/status of 403/.test(p)), [], 'console errors or page errors');
  }
});
