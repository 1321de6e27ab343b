// The station map (issue 13, B1): on a district's page and as a view of
// /screen, the server's chart of the stations at their coordinates, sized
// by the queue, with the suggested move drawn from the idle officers to the
// queue; and drawn on a phone without sideways scroll.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, seed, seedMoves, browser, shot, waitLive, agreeing, chartLabels, labelProblems, MOVE_DISTRICT } from './harness.mjs';

const { queue: QUEUE, near: NEAR, district: DISTRICT } = MOVE_DISTRICT;

let server;
let desk;
let phone;
let room;

before(async () => {
  server = await new Server().start();
  await seed(server);
  await seedMoves(server);
  desk = await browser({ viewport: { width: 1440, height: 900 } });
  await desk.signIn(server);
  phone = await browser({ viewport: { width: 390, height: 844 } });
  await phone.signIn(server);
  room = await browser({ viewport: { width: 1920, height: 1080 } });
  await server.openScreen(await room.page());
});

after(async () => {
  for (const b of [desk, phone, room]) if (b) await b.close();
  if (server) await server.cleanup();
});

/** mapOf reads the drawn map's option from its ECharts instance. */
async function mapOf(page) {
  await page.waitForFunction(() => {
    const el = document.querySelector('[data-chart="map"] .chart-body');
    const inst = el && window.echarts.getInstanceByDom(el.querySelector('.chart-scale') || el);
    return inst && inst.getOption().series.length > 0 && el.querySelector('canvas');
  }, null, { timeout: 20000 });
  return page.evaluate(() => {
    const el = document.querySelector('[data-chart="map"] .chart-body');
    const o = window.echarts.getInstanceByDom(el.querySelector('.chart-scale') || el).getOption();
    const box = el.getBoundingClientRect();
    return {
      width: box.width, height: box.height,
      dots: o.series.filter((s) => s.type === 'scatter').flatMap((s) => s.data.map((d) => ({ name: d.name, value: d.value, size: d.symbolSize, series: s.name }))),
      arrows: o.series.filter((s) => s.type === 'lines').flatMap((s) => s.data.map((d) => d.coords)),
    };
  });
}

test('a district page maps its stations, sized by the queue, with the move as an arrow', async () => {
  const page = await desk.page();
  await page.goto(server.url + '/district/' + DISTRICT);
  await waitLive(page);
  const m = await mapOf(page);
  const snap = await server.snapshot('district:' + DISTRICT);
  const placed = snap.stations.filter((s) => s.lat || s.lon);
  assert.equal(m.dots.length, placed.length, 'one dot per station with coordinates');
  for (const s of placed) {
    const d = m.dots.find((x) => x.name === s.name);
    assert.ok(d, 'no dot for ' + s.name);
    assert.deepEqual(d.value, [s.lon, s.lat, s.queue], s.name);
  }
  const q = m.dots.find((d) => d.name === QUEUE.name);
  const n = m.dots.find((d) => d.name === NEAR.name);
  assert.ok(q.size > n.size, `the queue's dot (${q.size}) is bigger than the idle neighbour's (${n.size})`);
  assert.equal(n.series, 'Có cán bộ rảnh');
  assert.deepEqual(m.arrows, [[[NEAR.lon, NEAR.lat], [QUEUE.lon, QUEUE.lat]]], 'the move from the idle neighbour to the queue');
  assert.ok(m.height >= 500, 'the map has room: ' + m.height);
  await page.locator('[data-chart="map"]').scrollIntoViewIfNeeded();
  await page.waitForTimeout(800);
  await shot(page, 'map-district.png');
});

test('on a phone the map is drawn within the screen', async () => {
  const page = await phone.page();
  await page.goto(server.url + '/district/' + DISTRICT);
  await waitLive(page);
  const m = await mapOf(page);
  assert.ok(m.width <= 390 && m.width > 300, 'map width ' + m.width);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'sideways scroll');
  await page.locator('[data-chart="map"]').scrollIntoViewIfNeeded();
  await page.waitForTimeout(800);
  await shot(page, 'map-district-phone.png');
});

test('/screen has the province map as a view of its rotation', async () => {
  const page = await room.page();
  await page.goto(server.url + '/screen?view=map');
  await waitLive(page);
  assert.equal(await page.getAttribute('body', 'data-view'), 'map');
  const m = await mapOf(page);
  const snap = await server.snapshot('province');
  assert.equal(m.dots.length, snap.stations.filter((s) => s.lat || s.lon).length);
  assert.ok(m.arrows.length >= 1, 'the province map draws the moves');
  assert.ok(await page.locator('[data-view="map"].active [data-chart="map"]').isVisible());
  await page.waitForTimeout(1200);
  await shot(page, 'screen-map.png');
});

test('/screen\'s map has beside it the longest waits and the idle officers, as the snapshot lists them', async () => {
  const page = await room.page();
  await page.goto(server.url + '/screen?view=map');
  await waitLive(page);
  await mapOf(page);
  const read = (p) => p.evaluate(() => {
    const side = document.querySelector('[data-view="map"].active #mapside');
    const lists = side ? [...side.querySelectorAll('ol')] : [];
    const rows = (ol) => (ol ? [...ol.querySelectorAll('li[data-station]')] : []).map((li) => ({
      id: li.dataset.station, name: li.querySelector('.name').textContent, val: li.querySelector('.val').textContent,
      where: li.querySelector('.where')?.textContent || '', bottom: li.getBoundingClientRect().bottom,
      cut: li.querySelector('.name').scrollWidth > li.querySelector('.name').clientWidth + 1 }));
    const box = (e) => { const r = e.getBoundingClientRect(); return { left: r.left, right: r.right, top: r.top, bottom: r.bottom }; };
    return { heads: side ? [...side.querySelectorAll('h3')].map((x) => x.textContent) : [], waits: rows(lists[0]), idle: rows(lists[1]),
      side: side && box(side), map: box(document.querySelector('[data-view="map"] [data-chart="map"]')), vw: innerWidth, vh: innerHeight };
  });
  const { snap, shown } = await agreeing(server, page, read);
  assert.ok(shown.side, 'no side list beside the map');
  assert.ok(shown.side.left >= shown.map.right && shown.side.right <= shown.vw && shown.side.bottom <= shown.vh,
    'the list is beside the map and on the screen: ' + JSON.stringify(shown));
  const district = new Map(snap.districts.map((d) => [d.id, d.name]));
  for (const r of [...shown.waits, ...shown.idle]) {
    assert.ok(r.bottom <= shown.side.bottom, r.id + ' is below the end of the list\'s box');
    assert.ok(!r.cut, r.id + ': its name is cut');
  }
  assert.ok(snap.attention.waits.length > 0 && snap.attention.idle.length > 0, 'the seed has waits and idle officers');
  assert.deepEqual(shown.waits.map((r) => r.id), snap.attention.waits.slice(0, 3).map((s) => s.id), 'the longest waits, in the server\'s order');
  for (const [i, r] of shown.waits.entries()) {
    const s = snap.attention.waits[i];
    assert.equal(r.name, s.name);
    assert.equal(r.where, district.get(s.district), r.id + ': its district');
    assert.match(r.val, new RegExp(`· ${s.queue} người$`), r.id + ': its queue');
  }
  assert.deepEqual(shown.idle.map((r) => r.id), snap.attention.idle.slice(0, 3).map((s) => s.id), 'the idle officers, in the server\'s order');
  for (const [i, r] of shown.idle.entries()) {
    const s = snap.attention.idle[i];
    assert.equal(r.val, `${s.idle_staff} cán bộ rảnh`, r.id);
    assert.equal(r.where, district.get(s.district), r.id + ': its district');
  }
  assert.equal(shown.heads[0], 'Chờ lâu nhất');
  assert.match(shown.heads[1], new RegExp(`^Cán bộ rảnh · ${snap.totals.idle_staff} cán bộ ở ${snap.totals.stations_idle} điểm$`));
  await shot(page, 'screen-map-side.png');
});

test('no station name runs past the map\'s edge, on the screen, a desk or a phone', async () => {
  const bad = [];
  for (const [b, path] of [[room, '/screen?view=map'], [desk, '/'], [desk, '/district/' + DISTRICT], [phone, '/district/' + DISTRICT]]) {
    const page = await b.page();
    await page.goto(server.url + path);
    await waitLive(page);
    await mapOf(page);
    await page.waitForTimeout(1200); // the entry animation moves labels
    const c = (await chartLabels(page, ['map'])).map;
    assert.ok(c.boxes.length > 0, path + ': no station named on the map');
    bad.push(...labelProblems(path + ' map', c).filter((x) => x.includes('cut at the edge')));
  }
  assert.deepEqual(bad, [], 'names cut at the map\'s edge');
});

test('no request left 127.0.0.1 and no page logged an error', () => {
  for (const b of [desk, phone, room]) {
    b.assertLocal();
    assert.deepEqual(b.problems, [], 'console errors or page errors');
  }
});
