// Tooltips shared by a chart's series (dashboards.tipBook): the server
// sends each station's or district's tooltip once, in the option's "tips",
// and its bars name it; core.js gives ECharts the formatter that looks it
// up. Pointing at any of a row's bars shows that row's text, in ECharts as
// drawn, after live patches as well as in the first snapshot.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, seed, browser, waitLive, chartsDrawn } from './harness.mjs';

let server;
let desk;

before(async () => {
  server = await new Server().start();
  await seed(server);
  desk = await browser({ viewport: { width: 1440, height: 900 } });
  await desk.signIn(server);
});

after(async () => {
  if (desk) await desk.close();
  if (server) await server.cleanup();
});

/**
 * pointAt shows the tooltip of every bar of a chart that has a value and
 * returns, per bar, the row's category and the tooltip's text as drawn.
 */
async function pointAt(page, chart) {
  return page.evaluate(async (chart) => {
    const el = document.querySelector(`[data-chart="${chart}"] .chart-body`);
    const inst = window.echarts.getInstanceByDom(el.querySelector('.chart-scale') || el);
    const o = inst.getOption();
    const cats = o.yAxis[0].data.map((c) => (typeof c === 'object' ? c.value : c));
    const out = [];
    for (let si = 0; si < o.series.length; si++) {
      const data = o.series[si].data || [];
      for (let di = 0; di < data.length; di++) {
        const d = data[di];
        const v = d && typeof d === 'object' ? d.value : d;
        if (!v) continue;
        inst.dispatchAction({ type: 'showTip', seriesIndex: si, dataIndex: di });
        await new Promise((r) => setTimeout(r, 30));
        const tipEl = [...el.querySelectorAll('div')].find((x) => x.style.zIndex === '9999999' && x.style.display !== 'none');
        out.push({ series: si, row: cats[di], tip: d.tip, text: tipEl ? tipEl.innerText : '' });
        inst.dispatchAction({ type: 'hideTip' });
      }
    }
    return out;
  }, chart);
}

test('every bar of the queue and districts charts shows its own row\'s tooltip', async () => {
  const page = await desk.page();
  await page.goto(server.url + '/');
  await waitLive(page);
  await chartsDrawn(page);
  const snap = await server.snapshot('province');
  const districtName = Object.fromEntries(snap.districts.map((d) => [d.id, d.name]));
  const stationName = Object.fromEntries(snap.stations.map((s) => [s.id, s.name]));

  const districts = await pointAt(page, 'districts');
  assert.ok(districts.length >= snap.districts.length, `${districts.length} district bars pointed at`);
  for (const b of districts) {
    assert.ok(b.tip, `series ${b.series} row ${b.row}: the bar names a tip`);
    assert.ok(b.text.startsWith(districtName[b.tip]), `series ${b.series} row ${b.row}: tooltip ${JSON.stringify(b.text)}`);
    assert.equal(districtName[b.tip], b.row, 'the tip is the row\'s district');
  }
  const queue = await pointAt(page, 'queue');
  assert.ok(queue.length > 20, `${queue.length} queue bars pointed at`);
  const perRow = new Map();
  for (const b of queue) {
    assert.ok(b.text.startsWith(stationName[b.tip]), `series ${b.series} row ${b.row}: tooltip ${JSON.stringify(b.text)}`);
    assert.equal(stationName[b.tip], b.row, 'the tip is the row\'s station');
    perRow.set(b.row, (perRow.get(b.row) || new Set()).add(b.text));
  }
  for (const [row, texts] of perRow) assert.equal(texts.size, 1, `${row}: every bar of the row shows the same text`);
});
