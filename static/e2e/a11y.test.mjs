// Accessibility (issue 13, D1/D2): the contrast pairs the review measured
// below WCAG AA, computed here from the computed styles of the elements
// themselves in both themes (text 4.5:1, large text and a bar's extent
// 3:1); every chart described by ECharts' aria label in the page's
// language; the KPIs and the verdict in polite live regions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, seed, browser, waitLive } from './harness.mjs';

let server;
let b;

before(async () => {
  server = await new Server().start();
  await seed(server);
  b = await browser({ viewport: { width: 1440, height: 900 } });
  await b.signIn(server);
});

after(async () => {
  if (b) await b.close();
  if (server) await server.cleanup();
});

/**
 * contrasts returns, for each selector's visible elements (the first few),
 * the contrast of its text colour (or, for bars, its border) with the
 * colour behind it: its own and its ancestors' backgrounds composited.
 */
const contrasts = (page, checks) => page.evaluate((checks) => {
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, under) => top.slice(0, 3).map((v, i) => v * top[3] + under[i] * (1 - top[3])).concat([1]);
  const behind = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) layers.push(c);
      if (c && c[3] === 1) break;
    }
    let bg = [255, 255, 255, 1];
    for (const c of layers.reverse()) bg = over(c, bg);
    return bg;
  };
  const lum = (c) => {
    const [r, g, bl] = c.slice(0, 3).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const ratio = (a, c) => { const x = lum(a); const y = lum(c); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const out = [];
  for (const { sel, kind } of checks) {
    const els = [...document.querySelectorAll(sel)].filter((e) => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden').slice(0, 4);
    if (!els.length) { out.push({ sel, missing: true }); continue; }
    for (const e of els) {
      const cs = getComputedStyle(e);
      let fg;
      let bg;
      let need;
      if (kind === 'edge') {
        fg = parse(cs.borderTopColor);
        bg = behind(e.parentElement);
        need = 3;
      } else {
        fg = over(parse(cs.color), behind(e));
        bg = behind(e);
        const px = parseFloat(cs.fontSize);
        const bold = +cs.fontWeight >= 700;
        need = px >= 24 || (bold && px >= 18.66) ? 3 : 4.5;
      }
      out.push({ sel, text: (e.textContent || '').trim().slice(0, 30), ratio: +ratio(fg, bg).toFixed(2), need,
        fg: cs.color, border: cs.borderTopColor });
    }
  }
  return out;
}, checks);

const TEXT = [
  '.status-open', '.state.good', '.state.bad', 'td.finish', '#verdict', '.kpi-label', '.kpi-note', '.kpi-value',
  '.att-val', '.att-list a', '.alert-sev', '.alert-meta', 'table.data thead th', '.note-by', '.badge.late', '.live-text',
].map((sel) => ({ sel, kind: 'text' }));
const EDGES = [{ sel: '.bar', kind: 'edge' }];

async function check(path, theme) {
  const page = await b.page();
  await page.goto(server.url + path + (path.includes('?') ? '&' : '?') + 'theme=' + theme);
  await waitLive(page);
  await page.waitForTimeout(400);
  const rows = await contrasts(page, path.startsWith('/screen')
    ? ['.skpi-value', '.skpi-label', '.skpi-note', '.fact-label', '.fact-value', '.verdict', '.live-text', '#date', '.scr-list .name', '.aband-item > span']
      .map((sel) => ({ sel, kind: 'text' })).concat(EDGES)
    : TEXT.concat(EDGES));
  return rows.map((r) => ({ ...r, where: `${path} (${theme})` }));
}

test('the measured pairs and every page\'s text meet WCAG AA in both themes, computed from the styles', async () => {
  const rows = [];
  for (const theme of ['light', 'dark']) {
    for (const path of ['/', '/district/LS-BS', '/station/LS-BS-VULE']) rows.push(...await check(path, theme));
  }
  rows.push(...await check('/screen', 'dark'));
  const missing = rows.filter((r) => r.missing).map((r) => `${r.where}: ${r.sel}`);
  // Every named pair is on some page.
  for (const sel of ['.status-open', '.bar', '.skpi-value', '.alert-sev', '.state.good']) {
    assert.ok(rows.some((r) => r.sel === sel && !r.missing), 'nothing measured for ' + sel);
  }
  const low = rows.filter((r) => !r.missing && r.ratio < r.need).map((r) => `${r.where}: ${r.sel} "${r.text}" ${r.ratio}:1 < ${r.need}:1 (${r.fg} / ${r.border})`);
  assert.deepEqual(low, [], 'pairs below AA');
  assert.ok(missing.length < rows.length / 2, 'most selectors found: ' + missing.join(', '));
  // The bar's extent: the status badge and the bar were the review's 4.47 and 1.32.
  const badge = rows.find((r) => r.sel === '.status-open' && !r.missing && r.where.includes('light'));
  assert.ok(badge.ratio >= 4.5, 'status badge ' + badge.ratio);
  await b.page().then((p) => p.goto(server.url + '/?theme=light'));
});

test('every chart has an aria description in the page\'s language; KPIs and verdict are polite live regions', async () => {
  const page = await b.page();
  for (const [path, word] of [['/', 'Biểu đồ'], ['/?lang=en', 'Chart'], ['/screen?lang=vi', 'Biểu đồ']]) {
    await page.goto(server.url + path);
    await waitLive(page);
    await page.waitForFunction(() => document.querySelectorAll('[data-chart-body] canvas').length >= 4, null, { timeout: 15000 });
    const labels = await page.evaluate(() => [...document.querySelectorAll('[data-chart-body]')].map((body) => {
      const el = body.querySelector('[aria-label]') || body;
      return [body.dataset.chartBody, el.getAttribute('aria-label') || ''];
    }));
    assert.ok(labels.length >= 4, path + ': charts ' + labels.length);
    for (const [name, label] of labels) {
      assert.ok(label.startsWith(word), `${path}: chart ${name} has no description: "${label.slice(0, 80)}"`);
      assert.ok(label.length > 40, `${path}: chart ${name}'s description says little: "${label}"`);
    }
    const live = await page.evaluate(() => ({
      kpis: document.querySelector('.kpis, .scr-kpis').getAttribute('aria-live'),
      verdict: document.getElementById('verdict').getAttribute('aria-live'),
    }));
    assert.deepEqual(live, { kpis: 'polite', verdict: 'polite' }, path);
  }
  // The progress chart says its figures: the target line's words are the server's.
  await page.goto(server.url + '/?lang=vi');
  await waitLive(page);
  await page.waitForFunction(() => {
    const b = document.querySelector('[data-chart-body="progress"]');
    const el = b && (b.querySelector('[aria-label]') || b);
    return el && /Đã thu nhận/.test(el.getAttribute('aria-label') || '');
  }, null, { timeout: 15000 });
});

test('no request left 127.0.0.1 and no page logged an error', () => {
  b.assertLocal();
  b.assertClean();
});
