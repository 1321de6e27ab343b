// The station map (issue 13, B1): on a district's page and as a view of
// /screen, the server's chart of the stations at their coordinates, sized
// by the queue, with the suggested move drawn from the idle officers to the
// queue; and drawn on a phone without sideways scroll.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, seed, seedMoves, browser, shot, waitLive, MOVE_DISTRICT } from './harness.mjs';

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

test('no request left 127.0.0.1 and no page logged an error', () => {
  for (const b of [desk, phone, room]) {
    b.assertLocal();
    assert.deepEqual(b.problems, [], 'console errors or page errors');
  }
});
