// Charts on a phone (issue 13, A5/B6): each chart's title is the panel's
// HTML heading, not drawn on the canvas, and at 390×844 no two labels of a
// chart overlap and none is cut at the chart's edge: axis labels, value
// labels, legends, axis names and mark lines, as ECharts laid them out.
// On a desk the half-width charts pair up (none beside a gap), and the
// queue chart's legend neither pages nor covers its axes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Server, seed, browser, waitLive, chartLabels, labelProblems, shot, ARTIFACTS } from './harness.mjs';

const PHONE = { width: 390, height: 844 };
const CHARTS = ['latenight', 'throughput', 'districts', 'queue'];

let server;
let b;

before(async () => {
  server = await new Server().start();
  await seed(server);
  b = await browser({ viewport: PHONE });
  await b.signIn(server);
});

after(async () => {
  if (b) await b.close();
  if (server) await server.cleanup();
});

for (const [where, names] of [['overview', CHARTS], ['district', CHARTS.filter((n) => n !== 'districts')]]) {
  const url = where === 'overview' ? '/' : '/district/LS-BS';
  test(`${url} at 390×844: headings in HTML, no chart label over another or cut`, async () => {
    const page = await b.page();
    await page.goto(server.url + url);
    await waitLive(page);
    await page.waitForFunction((names) => names.every((n) => document.querySelector(`[data-chart="${n}"] canvas`)), names);
    await page.waitForTimeout(1500); // the entry animation moves labels
    const got = await chartLabels(page, names);
    const bad = [];
    for (const name of names) {
      const c = got[name];
      assert.ok(c, `${url}: no ${name} chart`);
      assert.ok(c.boxes.length > 3, `${url} ${name}: only ${c.boxes.length} labels drawn`);
      assert.equal(c.titleShown, false, `${url} ${name}: ECharts draws the title`);
      assert.ok(c.titleText && c.heading === c.titleText, `${url} ${name}: heading "${c.heading}", title "${c.titleText}"`);
      assert.ok(!c.boxes.some((x) => x.text === c.titleText), `${url} ${name}: the title is on the canvas`);
      bad.push(...labelProblems(name, c));
      await page.locator(`[data-chart="${name}"]`).screenshot({ path: path.join(ARTIFACTS, `phone-chart-${where}-${name}.png`) });
    }
    assert.deepEqual(bad, [], `${url}: overlapping or cut labels`);
  });
}

test('at 1440×900 no chart sits beside an empty half row, the queue chart\'s legend is whole, clear of its axes, and no map name covers another', async () => {
  const page = await b.page();
  await page.setViewportSize({ width: 1440, height: 900 });
  try {
    for (const url of ['/', '/district/LS-BS']) {
      await page.goto(server.url + url);
      await waitLive(page);
      await page.waitForFunction(() => document.querySelector('[data-chart="queue"] canvas'));
      await page.waitForTimeout(1500);
      const rows = await page.evaluate(() => {
        const grid = document.querySelector('#charts').getBoundingClientRect();
        return [...document.querySelectorAll('#charts > [data-chart]')].map((el) => {
          const r = el.getBoundingClientRect();
          return { name: el.dataset.chart, top: Math.round(r.top), half: r.width < grid.width * 0.6 };
        });
      });
      for (const c of rows.filter((x) => x.half)) {
        assert.ok(rows.some((o) => o !== c && o.half && o.top === c.top), `${url}: ${c.name} is alone in its row: ${JSON.stringify(rows)}`);
      }
      const q = (await chartLabels(page, ['queue'])).queue;
      assert.deepEqual(labelProblems('queue', q), [], url + ': the queue chart at 1440');
      // The map's names: ECharts hides those that would fall on another.
      await page.waitForFunction(() => document.querySelector('[data-chart="map"] canvas'));
      const m = (await chartLabels(page, ['map'])).map;
      assert.ok(m.boxes.length > 3, `${url}: only ${m.boxes.length} labels on the map`);
      assert.deepEqual(labelProblems('map', m), [], url + ': the map at 1440');
      const legend = await page.evaluate(() => {
        const body = document.querySelector('[data-chart="queue"] .chart-body');
        return window.echarts.getInstanceByDom(body).getOption().legend[0].type || 'plain';
      });
      assert.equal(legend, 'plain', url + ': a paging legend hides entries');
    }
  } finally {
    await page.setViewportSize(PHONE);
  }
});

test('/screen at 1920×1080: no label over another on the progress, districts, queues, throughput and late-night views', async () => {
  const room = await browser({ viewport: { width: 1920, height: 1080 } });
  try {
    await server.openScreen(await room.page());
    const page = await room.page();
    const bad = [];
    for (const [view, names] of [['overview', ['progress']], ['districts', ['districts']], ['queues', ['queue']], ['throughput', ['throughput', 'throughput_trend']], ['latenight', ['latenight']]]) {
      await page.goto(server.url + '/screen?rotate=600&view=' + view);
      await waitLive(page);
      await page.waitForFunction((names) => names.every((n) => document.querySelector(`[data-chart="${n}"] canvas`)), names);
      await page.waitForTimeout(1500);
      const got = await chartLabels(page, names);
      for (const n of names) bad.push(...labelProblems(view + ' ' + n, got[n]));
      await shot(page, `screen-view-${view}-1920.png`);
    }
    assert.deepEqual(bad, [], 'overlapping or cut labels on the wall');
    room.assertLocal();
    room.assertClean();
  } finally {
    await room.close();
  }
});

test('no request left 127.0.0.1 and no page logged an error', () => {
  b.assertLocal();
  b.assertClean();
});
