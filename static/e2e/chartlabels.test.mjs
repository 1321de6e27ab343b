// Charts on a phone (issue 13, A5/B6): each chart's title is the panel's
// HTML heading, not drawn on the canvas, and at 390×844 no two labels of a
// chart overlap and none is cut at the chart's edge: axis labels, value
// labels, legends, axis names and mark lines, as ECharts laid them out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Server, seed, browser, waitLive, ARTIFACTS } from './harness.mjs';

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

/**
 * labels reads, for each chart, every text ECharts drew, as boxes in the
 * canvas's pixels, and the canvas's size; and the panel's HTML heading.
 */
const labels = (page, names) => page.evaluate((names) => {
  const out = {};
  for (const name of names) {
    const panel = document.querySelector(`[data-chart="${name}"]`);
    if (!panel) continue;
    const body = panel.querySelector('.chart-body');
    const inst = window.echarts.getInstanceByDom(body.querySelector('.chart-scale') || body);
    const boxes = [];
    for (const e of inst.getZr().storage.getDisplayList(true)) {
      if (e.type !== 'tspan' || e.ignore || e.invisible) continue; // a Text's lines are tspans
      const st = e.style || {};
      const text = st.text == null ? '' : String(st.text);
      if (!text.trim() || st.opacity === 0) continue;
      const r = e.getBoundingRect().clone();
      if (e.transform) r.applyTransform(e.transform);
      // zrender measures a line's height on a CJK glyph, which these fonts
      // lack (it comes out at about 7 px for 12 px text): the box is the
      // font's size high, around the line's middle, and as wide as measured.
      const m = /(\d+(?:\.\d+)?)px/.exec(st.font || '');
      const size = (m ? +m[1] : 12) * (e.transform ? Math.hypot(e.transform[2], e.transform[3]) : 1);
      boxes.push({ text, x: r.x, y: r.y + r.height / 2 - size / 2, w: r.width, h: size });
    }
    const option = inst.getOption();
    out[name] = {
      width: inst.getWidth(), height: inst.getHeight(), boxes,
      heading: panel.querySelector('.chart-title')?.textContent || '',
      sub: panel.querySelector('.chart-sub')?.textContent || '',
      titleText: option.title?.[0]?.text || '', titleShown: option.title?.[0]?.show !== false,
    };
  }
  return out;
}, names);

const overlap = (a, b) => Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x) > 1 && Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y) > 1;

function problems(name, c) {
  const bad = [];
  const { boxes } = c;
  for (let i = 0; i < boxes.length; i++) {
    const a = boxes[i];
    if (a.x < -1 || a.y < -1 || a.x + a.w > c.width + 1 || a.y + a.h > c.height + 1) {
      bad.push(`${name}: "${a.text}" cut at the edge (${Math.round(a.x)},${Math.round(a.y)} ${Math.round(a.w)}×${Math.round(a.h)} in ${c.width}×${c.height})`);
    }
    for (let j = i + 1; j < boxes.length; j++) {
      if (overlap(a, boxes[j])) bad.push(`${name}: "${a.text}" overlaps "${boxes[j].text}"`);
    }
  }
  return bad;
}

for (const [where, names] of [['overview', CHARTS], ['district', CHARTS.filter((n) => n !== 'districts')]]) {
  const url = where === 'overview' ? '/' : '/district/LS-BS';
  test(`${url} at 390×844: headings in HTML, no chart label over another or cut`, async () => {
    const page = await b.page();
    await page.goto(server.url + url);
    await waitLive(page);
    await page.waitForFunction((names) => names.every((n) => document.querySelector(`[data-chart="${n}"] canvas`)), names);
    await page.waitForTimeout(1500); // the entry animation moves labels
    const got = await labels(page, names);
    const bad = [];
    for (const name of names) {
      const c = got[name];
      assert.ok(c, `${url}: no ${name} chart`);
      assert.ok(c.boxes.length > 3, `${url} ${name}: only ${c.boxes.length} labels drawn`);
      assert.equal(c.titleShown, false, `${url} ${name}: ECharts draws the title`);
      assert.ok(c.titleText && c.heading === c.titleText, `${url} ${name}: heading "${c.heading}", title "${c.titleText}"`);
      assert.ok(!c.boxes.some((x) => x.text === c.titleText), `${url} ${name}: the title is on the canvas`);
      bad.push(...problems(name, c));
      await page.locator(`[data-chart="${name}"]`).screenshot({ path: path.join(ARTIFACTS, `phone-chart-${where}-${name}.png`) });
    }
    assert.deepEqual(bad, [], `${url}: overlapping or cut labels`);
  });
}

test('no request left 127.0.0.1 and no page logged an error', () => {
  b.assertLocal();
  b.assertClean();
});
