// Timeline notes: a district officer writes one on the district page (a
// phone), it is listed and pinned on the progress chart at the next round;
// a bad field is named in the page's language; a chief reads the notes on
// the station page but gets no form; only the author deletes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, seed, browser, shot, waitLive } from './harness.mjs';

const DISTRICT = 'LS-BS';
const STATION = 'LS-BS-VULE';
const TEXT = 'Tổ lưu động tại THPT Bắc Sơn';

let server;
let officer; // the district's officer, on a phone
let other; // another officer of the same district
let chief; // a station chief of the district
let officerName;

before(async () => {
  server = await new Server().start();
  await seed(server);
  officer = await browser({ viewport: { width: 390, height: 844 } });
  const p = await officer.signIn(server, 'district', DISTRICT);
  officerName = await p.evaluate(() => document.body.dataset.viewer.replace(/^user:/, ''));
  other = await browser({ viewport: { width: 1440, height: 900 } });
  await other.signIn(server, 'district', DISTRICT);
  chief = await browser({ viewport: { width: 390, height: 844 } });
  await chief.signIn(server, 'chief', STATION);
});

after(async () => {
  for (const b of [officer, other, chief]) if (b) await b.close();
  if (server) await server.cleanup();
});

async function notesAPI(scope) {
  const r = await fetch(server.url + '/api/v1/notes?scope=' + encodeURIComponent(scope),
    { headers: { Authorization: 'Bearer ' + server.adminToken() } });
  assert.equal(r.status, 200);
  return (await r.json()).notes;
}

const noSideScroll = async (page) => {
  const { sw, cw } = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth }));
  assert.ok(sw <= cw, `horizontal scroll: ${sw} > ${cw}`);
};

/** openForm opens the notes' form, a press away under the list. */
async function openForm(page) {
  await page.locator('#note-add > summary').click();
  await page.locator('#note-form').waitFor();
}

/** progressNotes is what the progress chart's note pins say (their tooltips), as drawn. */
const progressNotes = (page) => page.evaluate(() => {
  const el = document.querySelector('[data-chart-body="progress"]');
  const chart = el && window.echarts.getInstanceByDom(el);
  if (!chart) return null;
  const s = (chart.getOption().series || []).find((x) => x.name === 'Ghi chú' || x.name === 'Notes');
  return s ? s.data.map((d) => (d.tooltip && d.tooltip.formatter) || '') : [];
});

test('a district officer adds a note on the phone: it is listed, and pinned on the progress chart', async () => {
  const page = await officer.page();
  await page.goto(server.url + '/district/' + DISTRICT);
  await waitLive(page);
  await openForm(page);
  assert.equal(await page.locator('#notes-none').isVisible(), true, 'no notes yet');
  assert.deepEqual(await progressNotes(page), [], 'no pins before the note');
  // The day is today's working day by default.
  assert.equal(await page.inputValue('#note-day'), '2021-03-20');
  await page.selectOption('#note-from', '14');
  await page.selectOption('#note-to', '17');
  await page.fill('#note-text', TEXT);
  await page.click('#note-save');
  const item = page.locator('#note-items li', { hasText: TEXT });
  await item.waitFor({ timeout: 10000 });
  assert.equal((await item.locator('.note-span').textContent()).trim(), '20/03 14:00–17:00');
  assert.equal((await item.locator('.note-by').textContent()).trim(), 'ghi bởi ' + officerName);
  assert.equal(await item.locator('button.note-del').count(), 1, 'the author may delete it');
  assert.match(await page.textContent('#note-result'), /Đã lưu ghi chú/);
  assert.equal((await page.textContent('#notes-h')).trim(), 'Ghi chú trên biểu đồ (1)');
  assert.equal(await page.inputValue('#note-text'), '', 'the text is cleared for the next note');

  // What the server stored: the district's note, 14–17 h in Lạng Sơn.
  const stored = await notesAPI('district:' + DISTRICT);
  assert.equal(stored.length, 1);
  assert.equal(stored[0].text, TEXT);
  assert.equal(stored[0].district, DISTRICT);
  assert.equal(stored[0].station, undefined);
  assert.equal(Date.parse(stored[0].from), Date.parse('2021-03-20T14:00:00+07:00'));
  assert.equal(Date.parse(stored[0].to), Date.parse('2021-03-20T17:00:00+07:00'));
  assert.equal(stored[0].by, 'user:' + officerName);

  // The charts draw it at the next round, with no reload.
  await page.waitForFunction((text) => {
    const el = document.querySelector('[data-chart-body="progress"]');
    const chart = el && window.echarts.getInstanceByDom(el);
    const s = chart && (chart.getOption().series || []).find((x) => x.name === 'Ghi chú');
    return s && s.data.some((d) => d.tooltip && d.tooltip.formatter.includes(text));
  }, TEXT, { timeout: 20000 });
  const pins = await progressNotes(page);
  assert.equal(pins.length, 1, 'one pin: ' + JSON.stringify(pins));
  assert.match(pins[0], /14:00–17:00: Tổ lưu động tại THPT Bắc Sơn/);

  await noSideScroll(page);
  await page.locator('#notes').scrollIntoViewIfNeeded();
  await shot(page, 'notes-district-phone.png');
});

test('a bad field gets the server\'s reason under it, in Vietnamese and in English', async () => {
  const page = await officer.page();
  await page.goto(server.url + '/district/' + DISTRICT);
  await waitLive(page);
  await openForm(page);
  // No text, and an end before the start.
  await page.selectOption('#note-from', '17');
  await page.selectOption('#note-to', '14');
  await page.fill('#note-text', '   ');
  await page.click('#note-save');
  const textErr = page.locator('#note-text-error');
  await textErr.waitFor({ timeout: 10000 });
  assert.equal((await textErr.textContent()).trim(), 'Nội dung: bắt buộc phải có');
  assert.equal((await page.textContent('#note-to-error')).trim(), 'Đến giờ: phải sau giờ bắt đầu');
  assert.equal(await page.getAttribute('#note-text', 'aria-invalid'), 'true');
  assert.equal(await page.locator('#note-from-error').isHidden(), true, 'the start is fine');
  assert.match(await page.textContent('#note-result'), /Chưa lưu được ghi chú/);
  // A day before the campaign began.
  await page.fill('#note-day', '2021-03-01');
  await page.selectOption('#note-to', '18');
  await page.fill('#note-text', 'Trước chiến dịch');
  await page.click('#note-save');
  await page.waitForFunction(() => !document.getElementById('note-day-error').hidden, null, { timeout: 10000 });
  assert.equal((await page.textContent('#note-day-error')).trim(), 'Ngày: trước ngày bắt đầu chiến dịch');
  assert.equal(await page.getAttribute('#note-day', 'aria-invalid'), 'true');
  assert.equal(await page.locator('#note-text-error').isHidden(), true, 'the earlier error is gone');
  await page.locator('#note-form').scrollIntoViewIfNeeded();
  await shot(page, 'notes-error-phone.png');

  await page.goto(server.url + '/district/' + DISTRICT + '?lang=en');
  await waitLive(page);
  await openForm(page);
  await page.click('#note-save');
  await page.locator('#note-text-error').waitFor({ timeout: 10000 });
  assert.equal((await page.textContent('#note-text-error')).trim(), 'Text: required');
  await page.goto(server.url + '/district/' + DISTRICT + '?lang=vi');
  // Nothing bad was stored.
  assert.deepEqual((await notesAPI('district:' + DISTRICT)).map((n) => n.text), [TEXT]);
});

test('a chief reads the district\'s notes on the station page, with no form and no delete', async () => {
  const page = await chief.page();
  await page.goto(server.url + '/station/' + STATION);
  await waitLive(page);
  const item = page.locator('#note-items li', { hasText: TEXT });
  await item.waitFor({ timeout: 10000 });
  assert.equal(await page.locator('#note-form').count(), 0, 'no form for a chief');
  assert.equal(await page.locator('#note-add').count(), 0, 'nor a button to open one');
  assert.equal(await page.locator('#notes button.note-del').count(), 0, 'no delete for a chief');
  assert.equal(await page.getAttribute('#notes', 'data-writes'), 'false');
  await noSideScroll(page);
  // The server agrees: a chief's note is refused.
  const r = await page.evaluate(async () => (await fetch('/api/v1/notes', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ station: 'LS-BS-VULE', from: '2021-03-20T14:00:00+07:00', to: '2021-03-20T15:00:00+07:00', text: 'x' }),
  })).status);
  assert.equal(r, 403);
});

test('another officer of the district sees the note but no delete; its author deletes it', async () => {
  const page2 = await other.page();
  await page2.goto(server.url + '/district/' + DISTRICT);
  await waitLive(page2);
  const theirs = page2.locator('#note-items li', { hasText: TEXT });
  await theirs.waitFor({ timeout: 10000 });
  assert.equal(await theirs.locator('button.note-del').count(), 0);
  assert.equal(await page2.locator('#note-add > summary').isVisible(), true, 'but may write notes of their own');

  const page = await officer.page();
  await page.goto(server.url + '/district/' + DISTRICT);
  await waitLive(page);
  const mine = page.locator('#note-items li', { hasText: TEXT });
  await mine.waitFor({ timeout: 10000 });
  await mine.locator('button.note-del').click();
  await mine.waitFor({ state: 'detached', timeout: 10000 });
  assert.equal(await page.locator('#notes-none').isVisible(), true);
  assert.deepEqual(await notesAPI('district:' + DISTRICT), []);
  // And the pin leaves the chart at the next round.
  await page.waitForFunction(() => {
    const el = document.querySelector('[data-chart-body="progress"]');
    const chart = el && window.echarts.getInstanceByDom(el);
    return chart && !(chart.getOption().series || []).some((x) => x.name === 'Ghi chú' && x.data && x.data.length);
  }, null, { timeout: 20000 });
});

test('no request left 127.0.0.1 and no page logged an error', () => {
  for (const b of [officer, other, chief]) {
    b.assertLocal();
    b.assertClean();
  }
});
