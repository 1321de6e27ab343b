// The province overview, a district, 404s, languages and asset caching.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  Server, seed, browser, shot, waitLive, chartsDrawn, agreeing, STATE_VI, finishVI, dayVI, hhmmVI, VISITS,
} from './harness.mjs';

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

const vi = new Intl.NumberFormat('vi-VN');

/** readPace reads what the overview shows of the pace: badge, card and district table. */
const readPace = (page) => page.evaluate(() => {
  const v = document.getElementById('verdict');
  const card = document.querySelector('.kpi-finish');
  return {
    badge: { state: v.dataset.state, finish: v.dataset.finish, text: v.textContent, hidden: v.hidden },
    card: { state: card.dataset.state, finish: card.dataset.finish, value: card.querySelector('[data-kpi]').textContent,
      note: card.querySelector('[data-note]').textContent, cls: card.className },
    districts: [...document.querySelectorAll('#table tbody tr')].map((tr) => ({
      id: tr.dataset.district, state: tr.dataset.state, finish: tr.dataset.finish,
      stateText: tr.querySelector('.state').textContent, finishText: tr.querySelector('.finish').textContent,
      finishTitle: tr.querySelector('.finish').title,
    })),
  };
});

test('badge, pace card and district table show the snapshot\'s pace: same state, same finish', async () => {
  const page = await b.page();
  await page.goto(server.url + '/');
  await waitLive(page);
  const { snap, shown } = await agreeing(server, page, readPace);
  const p = snap.pace;
  assert.ok(p && p.state, 'the snapshot has a pace: ' + JSON.stringify(p));
  // The badge: the state in words (not colour alone) and the finish.
  assert.equal(shown.badge.hidden, false);
  assert.equal(shown.badge.state, p.state);
  assert.equal(shown.badge.finish, p.projected_finish || '');
  assert.ok(shown.badge.text.startsWith(STATE_VI[p.state]), `badge "${shown.badge.text}" says ${STATE_VI[p.state]}`);
  assert.ok(shown.badge.text.includes(finishVI(p)), `badge "${shown.badge.text}" says ${finishVI(p)}`);
  // The card: the same finish, and which pace it comes from.
  assert.equal(shown.card.state, p.state);
  assert.equal(shown.card.finish, p.projected_finish || '');
  if (p.projected_finish) assert.equal(shown.card.value, dayVI(p.projected_finish));
  if (p.recent_days > 1) {
    assert.ok(shown.card.note.includes(`theo tốc độ ${p.recent_days} ngày làm việc gần nhất: ${vi.format(p.recent_per_day)}/ngày`), shown.card.note);
  }
  if (p.needed_per_day != null) assert.ok(shown.card.note.includes(`cần ${vi.format(p.needed_per_day)}/ngày`), shown.card.note);
  // The district table: one row per district, each with its own pace.
  assert.equal(shown.districts.length, snap.districts.length);
  for (const d of snap.districts) {
    const row = shown.districts.find((r) => r.id === d.id);
    assert.ok(row, 'row for ' + d.id);
    assert.equal(row.state, d.pace.state, d.id);
    assert.equal(row.stateText, STATE_VI[d.pace.state], d.id);
    assert.equal(row.finish, d.pace.projected_finish || '', d.id);
    if (d.pace.projected_finish) assert.equal(row.finishText, dayVI(d.pace.projected_finish), d.id);
    else assert.equal(row.finishTitle, finishVI(d.pace), d.id);
  }
  // The other cards say what their numbers are, from the server's totals.
  const t = snap.totals;
  assert.match(await page.textContent('[data-note="open"]'), new RegExp(`điểm báo đang mở · ${vi.format(t.stations_offline)} mất tín hiệu`));
  assert.equal((await page.textContent('[data-kpi="queue"]')).trim(), vi.format(t.queue));
  if (t.list_visits > 0) assert.match(await page.textContent('[data-note="queue"]'), new RegExp(`${vi.format(t.list_visits)} hộ trong danh sách`));
});

test('no home-visit team is among the longest waits; their lists say when they are done', async () => {
  const page = await b.page();
  await page.goto(server.url + '/');
  await waitLive(page);
  const snap = await server.snapshot('province');
  // The seed makes the teams' lists longer than any station's wait: under a
  // rule that took a list for a queue they would head the longest waits.
  const teams = snap.stations.filter((s) => VISITS.includes(s.id));
  assert.equal(teams.length, VISITS.length);
  const longest = Math.max(...snap.attention.waits.map((s) => s.wait_minutes));
  for (const s of teams) {
    assert.equal(s.wait_minutes, null, s.id);
    assert.ok(s.list_minutes > longest, `${s.id}: list ${s.list_minutes} min, longest wait ${longest}`);
  }
  const waits = await page.$$eval('#att-waits li[data-station]', (els) => els.map((e) => ({ id: e.dataset.station, kind: e.dataset.kind, text: e.textContent })));
  assert.deepEqual(waits.map((w) => w.id), snap.attention.waits.map((s) => s.id), 'the longest waits, in the server\'s order');
  assert.deepEqual(waits.filter((w) => w.kind === 'home_visit' || VISITS.includes(w.id)), []);
  assert.doesNotMatch(await page.textContent('[data-note="queue"]'), /Tổ cấp tại nhà/);
  // Late lists: stations clear at a time, home-visit teams finish a list.
  const late = await page.$$eval('#att-late li[data-station]', (els) => els.map((e) => ({ id: e.dataset.station, text: e.textContent })));
  assert.deepEqual(late.map((w) => w.id), snap.attention.late.map((s) => s.id));
  for (const s of snap.attention.late) {
    const row = late.find((w) => w.id === s.id);
    assert.ok(row.text.includes((s.kind === 'home_visit' ? 'xong danh sách ' : 'hết hàng ') + hhmmVI(s.clears_at)), row.text);
  }
  const idle = await page.$$eval('#att-idle li[data-station]', (els) => els.map((e) => ({ id: e.dataset.station, text: e.textContent })));
  assert.deepEqual(idle.map((w) => w.id), snap.attention.idle.map((s) => s.id));
  for (const s of snap.attention.idle) assert.ok(idle.find((w) => w.id === s.id).text.includes(`${s.idle_staff} cán bộ rảnh`));
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
  // Longest wait first; the home-visit team has a list (its time to finish
  // it, so marked), and comes after every station with a wait.
  const rows = await page.$$eval('#table tbody tr', (trs) => trs.map((tr) => ({ id: tr.dataset.station, kind: tr.dataset.kind, text: tr.textContent })));
  const waited = snap.stations.filter((s) => s.wait_minutes != null).sort((a, b) => b.wait_minutes - a.wait_minutes);
  assert.equal(rows[0].id, waited[0].id);
  const team = rows.findIndex((r) => r.id === 'LS-BS-TN1');
  assert.ok(team >= waited.length, `the home-visit team is row ${team}, before a station with a wait`);
  assert.match(rows[team].text, /16 hộ.*Làm hết danh sách: /);
  assert.equal(await page.locator('#att-waits li[data-kind="home_visit"]').count(), 0);
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

test('/, /screen and /station at 1920×1080, 1440×900 and 390×844: figures fit, nothing scrolls sideways', async () => {
  const page = await b.context.newPage();
  const sizes = [[1920, 1080], [1440, 900], [390, 844]];
  const pages = [['/', 'overview'], ['/screen', 'screen'], ['/station/LS-BS-VULE', 'station'], ['/station/LS-BS-TN1', 'station-visit']];
  try {
    for (const [width, height] of sizes) {
      await page.setViewportSize({ width, height });
      for (const [path, name] of pages) {
        await page.goto(server.url + path);
        await waitLive(page);
        await page.waitForTimeout(1200); // charts' entry animation
        const m = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          clientWidth: document.documentElement.clientWidth,
          // A big figure cut or spilling out of its card ("187/237", "09/09/20…").
          cut: [...document.querySelectorAll('.kpi-value, .skpi-value, .fact-value, .verdict, .quota-num')]
            .filter((e) => e.offsetParent && e.scrollWidth > e.clientWidth + 1).map((e) => e.className + ': ' + e.textContent),
        }));
        const where = `${path} at ${width}×${height}`;
        assert.ok(m.scrollWidth <= m.clientWidth, `${where}: horizontal scroll ${m.scrollWidth} > ${m.clientWidth}`);
        assert.deepEqual(m.cut, [], `${where}: figures that do not fit`);
        await shot(page, `${name}-${width}x${height}.png`, { fullPage: path !== '/screen' });
      }
    }
  } finally {
    await page.close();
  }
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
