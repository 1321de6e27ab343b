// The national campaign (issue 15): `tiendo serve --campaign vietnam-2021`.
// The nation's overview ranks the 63 provinces in the server's order with
// their pace state, draws them on the tile map coloured by that state, and
// drills down by a click; a province officer lands on their province; the
// command room has a provinces view. At 1920, 1440 and 390 px nothing
// scrolls sideways.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, browser, shot, waitLive, vn } from './harness.mjs';

let server;
let leader;

// A province far behind (Hà Nội: nothing done by 20 May) and one ahead
// (Lạng Sơn: a station that did 495,000 of the province's 621,000), so that the
// states differ and the ranking has something to rank.
before(async () => {
  server = await new Server({ campaign: 'vietnam-2021' }).start();
  const ls = await server.token('LS-BS-VULE');
  const hn = await server.token('HN-H01-X001-CA');
  let n = 0;
  const ev = (station, d, h, extra) => ({ id: 'n-' + (++n), station, ts: vn(2021, 5, d, h, 10), ...extra });
  const lsEvents = [];
  for (let d = 10; d <= 20; d++) {
    for (const h of [8, 10, 12, 14, 16]) lsEvents.push(ev('LS-BS-VULE', d, h, { type: 'completion', count: 9000, fingerprint_retries: 0, kind: 'standard' }));
  }
  lsEvents.push(ev('LS-BS-VULE', 20, 20, { type: 'heartbeat', queue: 12, staff: 3, lanes: 3, status: 'open' }));
  assert.equal((await server.post(ls, lsEvents)).status, 202);
  assert.equal((await server.post(hn, [ev('HN-H01-X001-CA', 20, 20, { type: 'completion', count: 5, fingerprint_retries: 0, kind: 'standard' }),
    ev('HN-H01-X001-CA', 20, 20, { type: 'heartbeat', queue: 3, staff: 2, lanes: 2, status: 'open' })])).status, 202);
  leader = await browser({ viewport: { width: 1440, height: 900 } });
  await leader.signIn(server);
});

after(async () => {
  if (leader) await leader.close();
  if (server) await server.cleanup();
});

test('the nation page ranks the provinces, draws the tile map and drills down', async () => {
  const page = await leader.page();
  const snap = await server.snapshot('province');
  assert.equal(snap.units.length, 63);
  for (const size of [{ width: 1920, height: 1080 }, { width: 1440, height: 900 }, { width: 390, height: 844 }]) {
    await page.setViewportSize(size);
    await page.goto(server.url + '/');
    await waitLive(page);
    await page.waitForFunction(() => document.querySelectorAll('table.units tbody tr').length === 63);
    const got = await page.evaluate(() => ({
      rows: [...document.querySelectorAll('table.units tbody tr')].map((r) => [r.dataset.unit, r.dataset.state]),
      tiles: [...document.querySelectorAll('#tile-grid .tile')].map((x) => [x.dataset.unit, x.dataset.state, x.getAttribute('href')]),
      head: document.getElementById('tbl-h').textContent,
      crumb: document.querySelector('.crumbs').textContent,
      scroll: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      tableScroll: (() => { const w = document.querySelector('table.units').parentElement; return w.scrollWidth - w.clientWidth; })(),
    }));
    // The table in the server's ranking, each state as the server judged it.
    assert.deepEqual(got.rows, snap.units.map((u) => [u.id, u.pace ? u.pace.state : '']), 'rows in the server\'s order');
    assert.equal(got.tiles.length, 63, 'a tile per province');
    const state = new Map(snap.units.map((u) => [u.id, u.pace ? u.pace.state : '']));
    for (const [id, st, href] of got.tiles) {
      assert.equal(st, state.get(id), `tile ${id}'s state`);
      assert.equal(href, '/unit/' + id);
    }
    assert.match(got.head, /Các tỉnh, thành phố/);
    assert.match(got.crumb, /Toàn quốc/);
    await shot(page, `nation-${size.width}.png`, { fullPage: false });
    assert.ok(got.scroll <= 0, `${size.width} px: the page scrolls sideways by ${got.scroll} px`);
    // Every column of the ranking in view (on a phone: name, state and gap), none cut at the edge.
    assert.ok(got.tableScroll <= 0, `${size.width} px: the provinces' table scrolls sideways by ${got.tableScroll} px`);
  }
  assert.notEqual(state(snap, 'HN'), state(snap, 'LS'), 'Hà Nội and Lạng Sơn in different states');
  assert.equal(state(snap, 'HN'), 'behind');
  // A click on a tile opens the province: today's overview of its districts.
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto(server.url + '/');
  await waitLive(page);
  await Promise.all([page.waitForURL(/\/unit\/LS$/), page.click('#tile-grid .tile[data-unit="LS"]')]);
  await waitLive(page);
  await page.waitForFunction(() => document.querySelectorAll('#table tbody tr[data-district]').length === 11);
  const crumbs = await page.$$eval('.crumbs li', (li) => li.map((x) => x.textContent));
  assert.deepEqual(crumbs, ['Toàn quốc', 'Lạng Sơn']);
  const ls = await server.snapshot('unit:LS');
  assert.equal(await page.textContent('[data-kpi="completed"]'), ls.totals.completed.toLocaleString('vi-VN'));
});

const state = (snap, id) => { const u = snap.units.find((x) => x.id === id); return u && u.pace ? u.pace.state : ''; };

test('a province officer lands on their province; the command room has a provinces view', async () => {
  const officer = await browser({ viewport: { width: 390, height: 844 } });
  try {
    const page = await officer.signIn(server, 'officer', 'LS');
    await page.goto(server.url + '/');
    assert.match(page.url(), /\/unit\/LS$/);
    await waitLive(page);
    const r = await page.goto(server.url + '/unit/HN');
    assert.equal(r.status(), 403);
  } finally {
    await officer.close();
  }
  const page = await leader.page();
  await page.setViewportSize({ width: 1920, height: 1080 });
  await page.goto(server.url + '/screen?view=provinces');
  await waitLive(page);
  await page.waitForFunction(() => document.querySelectorAll('#provinces li[data-unit]').length === 8);
  const first = await page.$eval('#provinces li[data-unit]', (li) => li.dataset.unit);
  const snap = await server.snapshot('province');
  assert.equal(first, snap.units[0].id, 'the most urgent province first');
  const box = await page.$eval('.pane-provinces .tile-grid', (g) => {
    const r = g.getBoundingClientRect();
    const last = [...g.children].reduce((m, x) => Math.max(m, x.getBoundingClientRect().bottom), 0);
    return { bottom: r.bottom, last, height: window.innerHeight };
  });
  assert.ok(box.last <= box.height, `the tile map runs off the screen: ${box.last} > ${box.height}`);
  await shot(page, 'nation-screen-1920.png');
  leader.assertClean();
});
