// The phone form for stations without an agent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, seed, browser, shot, TODAY } from './harness.mjs';

let server;
let b;
let tokens;
let page;

before(async () => {
  server = await new Server().start();
  ({ tokens } = await seed(server, { perDistrict: 1 }));
  b = await browser({ viewport: { width: 390, height: 844 } });
  await b.signIn(server);
});

after(async () => {
  if (b) await b.close();
  if (server) await server.cleanup();
});

const ts = `${TODAY.y}-${String(TODAY.m).padStart(2, '0')}-${TODAY.d}T21:30`;

async function fill(values) {
  for (const [id, v] of Object.entries(values)) {
    if (id === 'status' || id === 'kind') await page.selectOption('#' + id, v);
    else await page.fill('#' + id, String(v));
  }
}

test('a report is accepted and counted', async () => {
  page = await b.page();
  const resp = await page.goto(server.url + '/report?station=LS-BS-VULE');
  assert.equal(resp.status(), 200);
  assert.equal(await page.inputValue('#station'), 'LS-BS-VULE');
  await page.waitForFunction(() => document.getElementById('station-name').textContent.includes('Vũ Lễ'), null, { timeout: 10000 });
  // Every input has a label.
  const unlabeled = await page.evaluate(() => [...document.querySelectorAll('input, select')]
    .filter((e) => !document.querySelector(`label[for="${e.id}"]`)).map((e) => e.id));
  assert.deepEqual(unlabeled, []);
  const before = (await server.snapshot('station:LS-BS-VULE')).stations[0];
  await page.click('summary');
  await fill({ token: tokens['LS-BS-VULE'], count: 5, retries: 2, queue: 12, staff: 3, lanes: 3, status: 'open', ts });
  await page.click('#send');
  await page.waitForSelector('#result.ok', { timeout: 10000 });
  assert.match(await page.textContent('#result'), /Đã nhận lúc .*2 sự kiện mới/);
  const after = (await server.snapshot('station:LS-BS-VULE')).stations[0];
  assert.equal(after.completed, before.completed + 5);
  assert.equal(after.queue, 12);
  assert.equal(await page.getAttribute('body', 'data-outbox'), '0');
  await shot(page, 'report.png', { fullPage: true });
});

test('the token is remembered only when the user asks (L6)', async () => {
  // The first report was sent with "remember" as it came: off.
  assert.equal(await page.evaluate(() => localStorage.getItem('tiendo.report.token')), null, 'stored without asking');
  await page.goto(server.url + '/report');
  assert.equal(await page.isChecked('#remember'), false, 'remember is off by default');
  assert.equal(await page.inputValue('#token'), '');
  assert.match(await page.textContent('#remember-help'), /ai dùng máy này cũng gửi được số liệu/);
  await page.click('summary');
  await fill({ token: tokens['LS-BS-VULE'], station: 'LS-BS-VULE', queue: 2, staff: 1, ts });
  await page.check('#remember');
  await page.click('#send');
  await page.waitForSelector('#result.ok', { timeout: 10000 });
  await page.goto(server.url + '/report');
  assert.equal(await page.inputValue('#token'), tokens['LS-BS-VULE']);
  assert.equal(await page.inputValue('#station'), 'LS-BS-VULE');
  assert.equal(await page.isChecked('#remember'), true, 'a remembered token shows remember checked');
});

test('unchecking remember forgets the token at once', async () => {
  await page.goto(server.url + '/report');
  await page.uncheck('#remember');
  assert.equal(await page.evaluate(() => localStorage.getItem('tiendo.report.token')), null);
  await page.goto(server.url + '/report');
  assert.equal(await page.inputValue('#token'), '');
  // The tests after this one expect the token filled in, as a station's own phone has it.
  await page.fill('#token', tokens['LS-BS-VULE']);
  await page.check('#remember');
  await page.click('summary');
  await fill({ queue: 2, staff: 1, ts });
  await page.click('#send');
  await page.waitForSelector('#result.ok', { timeout: 10000 });
});

test("the server's errors are shown field by field in Vietnamese", async () => {
  await page.goto(server.url + '/report?station=LS-BS-VULE');
  await page.click('summary');
  await fill({ count: 20000, queue: 3, staff: 1, ts });
  await page.click('#send');
  await page.waitForSelector('#result.error', { timeout: 10000 });
  const text = await page.textContent('#result');
  assert.match(text, /Máy chủ không nhận báo cáo/);
  assert.match(text, /Số hồ sơ: phải từ 1 đến 10000/);
  await shot(page, 'report-error.png', { fullPage: true });

  await fill({ token: 'tdo_wrong', count: 1 });
  await page.click('#send');
  await page.waitForSelector('#result.error >> text=Mã truy cập không đúng', { timeout: 10000 });

  await fill({ token: tokens['LS-BS-VULE'], station: 'LS-TP-CHILANG' });
  await page.click('#send');
  await page.waitForSelector('#result.error >> text=không phải của điểm LS-TP-CHILANG', { timeout: 10000 });
});

test('a report that hit a network failure is retried with the same event ids', async () => {
  await page.goto(server.url + '/report?station=LS-BS-VULE');
  await page.click('summary');
  await fill({ token: tokens['LS-BS-VULE'], count: 4, queue: 9, staff: 2, ts });
  const sent = [];
  let fail = true;
  await page.route('**/api/v1/events', async (route) => {
    sent.push(JSON.parse(route.request().postData()).map((e) => e.id));
    if (fail) {
      fail = false;
      await route.abort('internetdisconnected');
    } else {
      await route.continue();
    }
  });
  const before = (await server.snapshot('station:LS-BS-VULE')).stations[0];
  await page.click('#send');
  await page.waitForSelector('#result.warn', { timeout: 10000 });
  assert.match(await page.textContent('#result'), /Chưa gửi được/);
  assert.equal(await page.getAttribute('body', 'data-outbox'), '1');
  await page.waitForSelector('#result.ok', { timeout: 15000 });
  assert.equal(sent.length, 2);
  assert.deepEqual(sent[1], sent[0], 'the retry must reuse the event ids');
  assert.equal(sent[0].length, 2);
  for (const id of sent[0]) assert.match(id, /^[0-9a-f-]{36}$/);
  const after = (await server.snapshot('station:LS-BS-VULE')).stations[0];
  assert.equal(after.completed, before.completed + 4);
  await page.unroute('**/api/v1/events');
});

test('?lang=en shows the form in English', async () => {
  await page.goto(server.url + '/report?lang=en');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.match(await page.textContent('legend >> nth=0'), /Station/);
  assert.match(await page.textContent('#send'), /Send report/);
  await page.goto(server.url + '/report?lang=vi');
});

test('no request left 127.0.0.1 and no page logged an error', () => {
  b.assertLocal();
  b.assertClean();
});
