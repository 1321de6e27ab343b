// The province overview, a district, 404s, languages and asset caching.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, seed, browser, shot, waitLive, chartsDrawn } from './harness.mjs';

let server;
let b;

before(async () => {
  server = await new Server().start();
  await seed(server);
  b = await browser({ viewport: { width: 1600, height: 1000 } });
  await b.signIn(server);
});

after(async () => {
  if (b) await b.close();
  if (server) await server.cleanup();
});

test('overview renders its charts from a snapshot and shows the target as 621.000', async () => {
  const page = await b.page();
  const resp = await page.goto(server.url + '/');
  assert.equal(resp.status(), 200);
  await waitLive(page);
  const snap = await server.snapshot('province');
  const completed = (await page.textContent('[data-kpi="completed"]')).trim();
  assert.equal(completed, new Intl.NumberFormat('vi-VN').format(snap.totals.completed));
  assert.match(await page.textContent('[data-note="completed"]'), /621\.000/);
  // Every chart the server sent is drawn on a canvas with visible pixels.
  await page.waitForFunction(() => document.querySelectorAll('[data-chart] canvas').length >= 4, null, { timeout: 15000 });
  await page.waitForTimeout(1200); // let ECharts finish its entry animation
  const drawn = await chartsDrawn(page);
  for (const name of ['progress', 'districts', 'throughput', 'latenight']) {
    assert.ok(drawn[name], `chart ${name} missing: ${JSON.stringify(Object.keys(drawn))}`);
    assert.ok(drawn[name].canvas && drawn[name].width > 100 && drawn[name].height > 100, `chart ${name} has no canvas: ${JSON.stringify(drawn[name])}`);
    assert.ok(drawn[name].ink > 200, `chart ${name} looks empty: ${JSON.stringify(drawn[name])}`);
  }
  // The districts table links to every district; attention lists link to stations.
  assert.equal(await page.locator('#table tbody tr').count(), snap.districts.length);
  assert.ok(await page.locator('#att-waits a[href^="/station/"]').count() > 0, 'no longest-wait stations listed');
  assert.ok(await page.locator('#att-idle a[href^="/station/"]').count() > 0, 'no idle stations listed');
  // Times are in the campaign's zone although the browser runs in UTC.
  assert.match(await page.textContent('#live'), /21:1\d/);
  await shot(page, 'overview.png', { fullPage: true });
});

test('district page shows the district against its quota', async () => {
  const page = await b.page();
  const resp = await page.goto(server.url + '/district/LS-BS');
  assert.equal(resp.status(), 200);
  await waitLive(page);
  const snap = await server.snapshot('district:LS-BS');
  assert.equal((await page.textContent('[data-kpi="completed"]')).trim(), new Intl.NumberFormat('vi-VN').format(snap.totals.completed));
  assert.match(await page.textContent('[data-note="completed"]'), new RegExp(new Intl.NumberFormat('vi-VN').format(snap.totals.target).replace('.', '\\.')));
  assert.equal(await page.locator('#table tbody tr').count(), snap.stations.length);
  await page.waitForFunction(() => document.querySelectorAll('[data-chart] canvas').length >= 2, null, { timeout: 15000 });
  await page.waitForTimeout(1200);
  await shot(page, 'district.png', { fullPage: true });
});

test('unknown district and station ids get a 404 page', async () => {
  const page = await b.page();
  let resp = await page.goto(server.url + '/district/NOPE');
  assert.equal(resp.status(), 404);
  assert.match(await page.textContent('h1'), /Không tìm thấy/);
  resp = await page.goto(server.url + '/station/LS-NOPE-X');
  assert.equal(resp.status(), 404);
  assert.match(await page.textContent('main'), /LS-NOPE-X/);
});

test('?lang=en shows English, the choice persists, and the toggle switches back', async () => {
  const page = await b.page();
  await page.goto(server.url + '/?lang=en');
  await waitLive(page);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.match(await page.textContent('.kpi-completed .kpi-label'), /Records collected/);
  assert.match(await page.textContent('#live'), /Live · updated/);
  assert.match(await page.textContent('[data-note="completed"]'), /621,000/);
  // Without the parameter the cookie keeps English.
  await page.goto(server.url + '/district/LS-TP');
  await waitLive(page);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.match(await page.textContent('#att-h'), /Needs attention/);
  await page.click('.lang a[hreflang="vi"]');
  await waitLive(page);
  assert.equal(await page.getAttribute('html', 'lang'), 'vi');
  assert.match(await page.textContent('#att-h'), /Cần chú ý/);
});

test('assets are content-hashed and cached for good; shells are not', async () => {
  const auth = { headers: { Authorization: 'Bearer ' + server.adminToken() } };
  const html = await (await fetch(server.url + '/', auth)).text();
  const urls = [...html.matchAll(/(?:src|href)="(\/static\/[^"]+)"/g)].map((m) => m[1]);
  assert.ok(urls.length >= 4, 'assets in the shell: ' + urls);
  for (const u of urls) {
    assert.match(u, /\.[0-9a-f]{10}\.(js|css|svg)$/, u);
    const r = await fetch(server.url + u, { headers: { 'Accept-Encoding': 'gzip' } });
    assert.equal(r.status, 200, u);
    assert.match(r.headers.get('cache-control'), /immutable/, u);
  }
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'inline script in the shell');
  const r = await fetch(server.url + '/', auth);
  assert.equal(r.headers.get('cache-control'), 'no-cache');
  assert.match(r.headers.get('content-security-policy'), /script-src 'self';/);
  assert.equal((await fetch(server.url + '/static/nope.js')).status, 404);
});

test('pages need a sign-in; an account sees only its own scope', async () => {
  const anon = await fetch(server.url + '/district/LS-BS', { redirect: 'manual' });
  assert.equal(anon.status, 303);
  assert.match(anon.headers.get('location'), /^\/login\?next=%2Fdistrict%2FLS-BS/);
  const password = await server.user('chief-vule', 'chief', 'LS-BS-VULE');
  const form = new URLSearchParams({ name: 'chief-vule', password, next: '/' });
  const login = await fetch(server.url + '/login', { method: 'POST', body: form, redirect: 'manual',
    headers: { Origin: server.url } });
  assert.equal(login.status, 303);
  assert.equal(login.headers.get('location'), '/station/LS-BS-VULE', 'a chief lands on their station');
  const cookie = login.headers.get('set-cookie').split(';')[0];
  assert.match(login.headers.get('set-cookie'), /HttpOnly/i);
  const own = await fetch(server.url + '/station/LS-BS-VULE', { headers: { Cookie: cookie }, redirect: 'manual' });
  assert.equal(own.status, 200);
  const other = await fetch(server.url + '/station/LS-HL-TN1', { headers: { Cookie: cookie }, redirect: 'manual' });
  assert.equal(other.status, 403);
  const bad = await fetch(server.url + '/login', { method: 'POST', redirect: 'manual',
    body: new URLSearchParams({ name: 'chief-vule', password: 'wrong-password' }), headers: { Origin: server.url } });
  assert.equal(bad.status, 401);
  // Without the Origin a browser sends, the form is refused before any password check.
  const script = await fetch(server.url + '/login', { method: 'POST', redirect: 'manual',
    body: new URLSearchParams({ name: 'chief-vule', password }) });
  assert.equal(script.status, 403);
});

test('no request left 127.0.0.1 and no page logged an error', () => {
  b.assertLocal();
  b.assertClean();
});
