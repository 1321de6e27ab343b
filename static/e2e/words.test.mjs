// Words and formats (issue 13, A8/D3/D4): one rounding of percentages (one
// decimal), English dates as "20 Mar 2021", durations one way ("7 giờ",
// "3 giờ 20 phút"), the time zone named once on each page, and no command
// line in a user's sign-in hint.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, seed, browser, waitLive } from './harness.mjs';

let server;
let b;
let anon;

before(async () => {
  server = await new Server().start();
  await seed(server);
  b = await browser({ viewport: { width: 1440, height: 900 } });
  await b.signIn(server);
  anon = await browser({ viewport: { width: 390, height: 844 } });
});

after(async () => {
  for (const x of [b, anon]) if (x) await x.close();
  if (server) await server.cleanup();
});

const textOf = (page) => page.evaluate(() => document.body.innerText);
const count = (s, sub) => s.split(sub).length - 1;

test('the time zone is named once on every live page, in its language', async () => {
  const page = await b.page();
  for (const [path, zone] of [
    ['/', 'giờ Việt Nam, GMT+7'], ['/district/LS-BS', 'giờ Việt Nam, GMT+7'], ['/station/LS-BS-VULE', 'giờ Việt Nam, GMT+7'],
    ['/screen', 'giờ Việt Nam, GMT+7'], ['/?lang=en', 'Vietnam time, GMT+7'], ['/screen?lang=en', 'Vietnam time, GMT+7'],
  ]) {
    await page.goto(server.url + path);
    await waitLive(page);
    const text = await textOf(page);
    assert.equal(count(text, zone), 1, `${path}: "${zone}" ${count(text, zone)} times`);
  }
  await page.goto(server.url + '/?lang=vi');
});

test('durations are said one way: "45 phút", "7 giờ", "3 giờ 20 phút"', async () => {
  const page = await b.page();
  for (const path of ['/', '/district/LS-BS', '/station/LS-BS-VULE', '/screen']) {
    await page.goto(server.url + path);
    await waitLive(page);
    const text = await textOf(page);
    assert.doesNotMatch(text, /\d giờ 0 phút/, path + ': "giờ 0 phút"');
    const short = text.match(/\d+ giờ \d+(?! phút)(?![\d:])/g);
    assert.equal(short, null, path + ': hours and minutes without "phút": ' + JSON.stringify(short));
  }
  // The longest waits on the overview, each a duration and a count.
  await page.goto(server.url + '/');
  await waitLive(page);
  const waits = await page.$$eval('#att-waits .att-val', (els) => els.map((e) => e.textContent));
  assert.ok(waits.length > 0);
  for (const w of waits) assert.match(w, /^(\d+ giờ( \d+ phút)?|\d+ phút) · \d+ người$/, w);
  await page.goto(server.url + '/?lang=en');
  await waitLive(page);
  for (const w of await page.$$eval('#att-waits .att-val', (els) => els.map((e) => e.textContent))) {
    assert.match(w, /^(\d+ h( \d+ min)?|\d+ min) · \d+ people$/, w);
  }
  await page.goto(server.url + '/?lang=vi');
});

test('percentages have one decimal; English dates read "20 Mar 2021"', async () => {
  const page = await b.page();
  await page.goto(server.url + '/');
  await waitLive(page);
  const pcts = (await textOf(page)).match(/\d[\d.,]*\s?%/g) || [];
  assert.ok(pcts.length > 10, 'percentages on the overview: ' + pcts.length);
  for (const p of pcts) assert.match(p, /^\d{1,3}(\.\d{3})*,\d%$/, 'one decimal: ' + p);
  await page.goto(server.url + '/?lang=en');
  await waitLive(page);
  assert.equal((await page.textContent('#subtitle')).trim(), 'Working day 20 Mar 2021 · day 11 of 114 · deadline 1 Jul 2021');
  for (const p of (await textOf(page)).match(/\d[\d.,]*\s?%/g) || []) assert.match(p, /^\d{1,3}(,\d{3})*\.\d%$/, 'one decimal: ' + p);
  await page.goto(server.url + '/?lang=vi');
});

const MONTHS = 'Jan,Feb,Mar,Apr,May,Jun,Jul,Aug,Sep,Oct,Nov,Dec';
const EN_DATE = new RegExp(`\\b\\d{1,2} (${MONTHS.replace(/,/g, '|')}) 20\\d\\d\\b`, 'g');

test('English pages write every date "11 Mar 2021" with the server\'s month names, Vietnamese ones dd/mm/yyyy', async () => {
  const page = await b.page();
  for (const path of ['/', '/district/LS-BS', '/station/LS-BS-VULE', '/screen']) {
    await page.goto(server.url + path + '?lang=en');
    await waitLive(page);
    assert.equal(await page.getAttribute('body', 'data-months'), MONTHS, path + ': the month names handed over by the server');
    assert.equal(await page.getAttribute('body', 'data-date'), 'd MMM yyyy', path + ': the date pattern handed over by the server');
    const text = await textOf(page);
    const dates = text.match(EN_DATE) || [];
    assert.ok(dates.length >= 1, path + ': no "20 Mar 2021" date in ' + text.slice(0, 400));
    assert.deepEqual(text.match(/\b\d{1,2}\/\d{1,2}\/\d{2,4}\b/g), null, path + ': numeric dates on an English page');
    assert.match(await page.textContent('#live'), /Figures as of \d\d:\d\d 20 Mar 2021/, path + ': the "as of" line');
    if (path !== '/station/LS-BS-VULE') {
      // The charts' headings are page text too: the server's dates, with the year.
      await page.waitForSelector('[data-chart="progress"] .chart-sub:not([hidden])');
      assert.match(await page.textContent('[data-chart="progress"] .chart-sub'), /Projected finish: \d{1,2} [A-Z][a-z]{2} 20\d\d · .*Deadline: 1 Jul 2021$/, path);
    }
  }
  for (const path of ['/', '/district/LS-BS', '/station/LS-BS-VULE', '/screen']) {
    await page.goto(server.url + path + '?lang=vi');
    await waitLive(page);
    const text = await textOf(page);
    assert.ok((text.match(/\b\d{2}\/\d{2}\/20\d\d\b/g) || []).length >= 1, path + ': no dd/mm/yyyy date');
    assert.deepEqual(text.match(EN_DATE), null, path + ': English dates on a Vietnamese page');
    assert.match(await page.textContent('#live'), /Số liệu lúc \d\d:\d\d 20\/03\/2021/, path + ': the "as of" line');
    if (path !== '/station/LS-BS-VULE') {
      await page.waitForSelector('[data-chart="progress"] .chart-sub:not([hidden])');
      assert.match(await page.textContent('[data-chart="progress"] .chart-sub'), /Dự báo hoàn thành: \d\d\/\d\d\/20\d\d · .*Hạn: 01\/07\/2021$/, path);
    }
  }
});

test('the sign-in hint names no command line, in either language', async () => {
  const page = await anon.page();
  for (const [q, want] of [['', /quản trị viên/], ['?lang=en', /administrator/]]) {
    await page.goto(server.url + '/login' + q);
    const hint = await page.textContent('.login-hint');
    assert.match(hint, want);
    assert.doesNotMatch(hint, /tiendo|user add|\(/, hint);
  }
});

test('no request left 127.0.0.1 and no page logged an error', () => {
  for (const x of [b, anon]) {
    x.assertLocal();
    x.assertClean();
  }
});
