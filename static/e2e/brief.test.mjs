// The daily brief: its link on the overview and a district's page, the
// page it opens (the snapshot's figures, Vietnamese numbers, the site's
// CSP), and that page printed to an A4 PDF by Chromium, then rendered to
// PNG with poppler's pdftoppm for a person to look at
// (test-artifacts/brief-print-*.png).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Server, seed, browser, shot, STATE_VI, ARTIFACTS } from './harness.mjs';

const run = promisify(execFile);
let server;
let b;

before(async () => {
  server = await new Server().start();
  await seed(server);
  b = await browser({ viewport: { width: 1280, height: 900 } });
  await b.signIn(server);
});

after(async () => {
  if (b) await b.close();
  if (server) await server.cleanup();
});

const vi = new Intl.NumberFormat('vi-VN');

test('the overview and a district page link to their daily brief; a station page does not', async () => {
  const page = await b.page();
  for (const [url, scope] of [['/', 'province'], ['/district/LS-BS', 'district:LS-BS']]) {
    await page.goto(server.url + url);
    const link = page.locator('.page-head #brief-link');
    assert.equal((await link.textContent()).trim(), 'Báo cáo ngày', url);
    const href = new URL(await link.getAttribute('href'), server.url);
    assert.equal(href.pathname, '/api/v1/brief');
    assert.equal(href.searchParams.get('scope'), scope);
    assert.ok(await link.isVisible(), `${url}: the link is not visible`);
    await page.waitForFunction(() => document.body.dataset.live === 'live', null, { timeout: 20000 });
    await shot(page, `brief-link-${scope.replace(':', '-')}.png`, { clip: { x: 0, y: 0, width: 1280, height: 160 } });
  }
  await page.goto(server.url + '/?lang=en');
  assert.equal((await page.textContent('#brief-link')).trim(), 'Daily brief');
  await page.goto(server.url + '/station/LS-BS-VULE?lang=vi');
  assert.equal(await page.locator('#brief-link').count(), 0);
  await page.goto(server.url + '/?lang=vi'); // leave the language as the next test expects it
});

test('the brief page shows the snapshot figures and prints on A4 with the header repeated', async () => {
  const page = await b.page();
  await page.goto(server.url + '/');
  const [resp] = await Promise.all([page.waitForNavigation(), page.click('#brief-link')]);
  assert.equal(resp.status(), 200);
  assert.match(resp.headers()['content-security-policy'], /script-src 'self'/);
  assert.equal(await page.getAttribute('html', 'lang'), 'vi');
  const snap = await server.snapshot('province');
  assert.match(await page.textContent('h1'), /^Báo cáo ngày · Toàn tỉnh · 20\/03\/2021$/);

  // The districts table: a row per district, then the total, as the snapshot says.
  const tables = await page.$$eval('table', (ts) => ts.map((t) => ({
    head: [...t.querySelectorAll('thead th')].map((th) => th.textContent),
    rows: [...t.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent)),
  })));
  assert.equal(tables.length, 2, 'a districts table and a stations table');
  const [districts, stations] = tables;
  const col = (name) => districts.head.indexOf(name);
  assert.deepEqual(districts.head.slice(0, 4), ['Quận/huyện', 'Chỉ tiêu', 'Đã thu nhận (lũy kế)', '% chỉ tiêu']);
  assert.equal(districts.rows.length, snap.districts.length + 1);
  for (const [i, d] of snap.districts.entries()) {
    const row = districts.rows[i];
    assert.equal(row[0], d.name);
    assert.equal(row[col('Chỉ tiêu')], vi.format(d.quota));
    assert.equal(row[col('Đã thu nhận (lũy kế)')], vi.format(d.completed));
    assert.equal(row[col('Hồ sơ trong ngày')], vi.format(d.completed_today));
    assert.equal(row[col('Kế hoạch đến nay')], vi.format(d.pace.expected_to_date));
    assert.equal(row[col('So với kế hoạch')], vi.format(d.pace.gap));
    assert.equal(row[col('Tiến độ')], STATE_VI[d.pace.state]);
  }
  const total = districts.rows.at(-1);
  assert.equal(total[0], 'Tổng cộng');
  assert.equal(total[col('Đã thu nhận (lũy kế)')], vi.format(snap.totals.completed));
  assert.equal(total[col('% chỉ tiêu')], snap.totals.percent_done.toFixed(1).replace('.', ',') + '%');
  assert.equal(total[col('Tiến độ')], STATE_VI[snap.pace.state]);
  assert.equal(stations.rows.length, snap.stations.length + 1);
  assert.equal(stations.head[1], 'Quận/huyện');
  await shot(page, 'brief-screen.png', { fullPage: false });

  // As printed: no links, the header row repeated, rows kept whole.
  await page.emulateMedia({ media: 'print' });
  const print = await page.evaluate(() => ({
    actions: getComputedStyle(document.querySelector('.actions')).display,
    thead: getComputedStyle(document.querySelector('thead')).display,
    row: getComputedStyle(document.querySelector('tbody tr')).breakInside,
    second: getComputedStyle(document.querySelectorAll('section')[1]).breakBefore,
  }));
  assert.deepEqual(print, { actions: 'none', thead: 'table-header-group', row: 'avoid', second: 'page' });
  await page.emulateMedia({ media: null }); // page.pdf prints with the print stylesheet, unless screen media is emulated

  const pdf = path.join(ARTIFACTS, 'brief-print.pdf');
  for (const f of readdirSync(ARTIFACTS).filter((f) => f.startsWith('brief-print-') && f.endsWith('.png'))) {
    rmSync(path.join(ARTIFACTS, f));
  }
  await page.pdf({ path: pdf, format: 'A4' });
  const info = (await run('pdfinfo', [pdf])).stdout;
  assert.match(info, /Page size:\s+59\d(\.\d+)? x 84\d(\.\d+)? pts \(A4\)/, info);
  const pages = +info.match(/Pages:\s+(\d+)/)[1];
  assert.ok(pages >= 3, `${pages} pages: the districts on one, ${snap.stations.length} stations on the next ones`);
  // Every page of the stations' part starts with its header row.
  for (let p = 2; p <= pages; p++) {
    const text = (await run('pdftotext', ['-f', String(p), '-l', String(p), '-layout', pdf, '-'])).stdout;
    assert.match(text, /Điểm cấp\s+Quận\/huyện\s+Chỉ tiêu/, `page ${p} has no header row:\n${text.slice(0, 400)}`);
    assert.doesNotMatch(text, /Tải về|English/, `page ${p} prints the links`);
  }
  await run('pdftoppm', ['-r', '80', '-png', pdf, path.join(ARTIFACTS, 'brief-print')]);
  const pngs = readdirSync(ARTIFACTS).filter((f) => f.startsWith('brief-print-') && f.endsWith('.png'));
  assert.equal(pngs.length, pages, 'a PNG per printed page');
  b.assertLocal();
  b.assertClean();
});
