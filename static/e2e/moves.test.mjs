// Staff moves: the server's suggestion on the chief's phone, the district's
// list and the command room's view, and a chief's answer that makes it go.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  Server, seed, seedMoves, browser, shot, waitLive, hhmmVI, waitVIWords, MOVE_DISTRICT,
} from './harness.mjs';

const { queue: QUEUE, near: NEAR, far: FAR, district: DISTRICT } = MOVE_DISTRICT;

let server;
let chief; // the queue station's chief, on a phone
let leader; // a leader at a desk (and on a phone)
let room; // the command-room screen
let move; // the suggestion, as the server made it

before(async () => {
  server = await new Server().start();
  await seed(server);
  await seedMoves(server);
  chief = await browser({ viewport: { width: 390, height: 844 } });
  await chief.signIn(server, 'chief', QUEUE.id);
  leader = await browser({ viewport: { width: 1440, height: 900 } });
  await leader.signIn(server);
  room = await browser({ viewport: { width: 1920, height: 1080 } });
  await server.openScreen(await room.page());
  const moves = (await server.snapshot('district:' + DISTRICT)).moves || [];
  assert.equal(moves.length, 1, 'the hand-made district gives one move: ' + JSON.stringify(moves));
  move = moves[0];
  assert.equal(move.from, NEAR.id);
  assert.equal(move.to, QUEUE.id);
  assert.ok(move.wait_after < move.wait_before);
});

after(async () => {
  for (const b of [chief, leader, room]) if (b) await b.close();
  if (server) await server.cleanup();
});

const kmVI = (n) => new Intl.NumberFormat('vi-VN', { maximumFractionDigits: 1 }).format(n) + ' km';
const kmEN = (n) => new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 }).format(n) + ' km';
/** waitENWords is a wait as the English sentences say it: "4 h", "1 h 20 min", "45 min". */
function waitENWords(m) {
  m = Math.round(m);
  if (m < 60) return `${m} min`;
  return m % 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m / 60} h`;
}

const noSideScroll = async (page) => {
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth,
  }));
  assert.ok(scrollWidth <= clientWidth, `horizontal scroll: ${scrollWidth} > ${clientWidth}`);
};

test('the chief\'s phone says the move in one sentence, with two big buttons on the first screen', async () => {
  const page = await chief.page();
  await page.goto(server.url + '/station/' + QUEUE.id);
  await waitLive(page);
  const card = page.locator(`#moves li[data-move="${move.id}"]`);
  await card.waitFor({ timeout: 10000 });
  assert.equal(await card.getAttribute('data-dir'), 'receive');
  const want = `Nhận ${move.staff} cán bộ từ ${NEAR.name} (${kmVI(move.distance_km)}, ~${Math.max(1, move.travel_minutes)} phút): ` +
    `chờ ở đây ${waitVIWords(move.wait_before)} → ${waitVIWords(move.wait_after)}, ` +
    `hết hàng ${hhmmVI(move.clears_at_before)} → ${hhmmVI(move.clears_at_after)}.`;
  assert.equal((await card.locator('.move-say').textContent()).trim(), want);
  const buttons = card.locator('button:visible');
  assert.deepEqual((await buttons.allTextContents()).map((s) => s.trim()), ['Đã làm', 'Không làm được']);
  for (const box of await Promise.all([0, 1].map((i) => buttons.nth(i).boundingBox()))) {
    assert.ok(box.height >= 48 && box.width >= 140, 'a thumb-sized button: ' + JSON.stringify(box));
    assert.ok(box.y + box.height <= 844, 'the buttons are on the first screen: ' + JSON.stringify(box));
  }
  await noSideScroll(page);
  await shot(page, 'moves-station-phone.png');
});

test('the sending station\'s page says "send", in English with ?lang=en', async () => {
  const page = await leader.page();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(server.url + '/station/' + NEAR.id + '?lang=en');
  await waitLive(page);
  const card = page.locator(`#moves li[data-move="${move.id}"]`);
  await card.waitFor({ timeout: 10000 });
  assert.equal(await card.getAttribute('data-dir'), 'send');
  const want = `Send ${move.staff} staff to ${QUEUE.name} (${kmEN(move.distance_km)}, ~${Math.max(1, move.travel_minutes)} min): ` +
    `the wait there ${waitENWords(move.wait_before)} → ${waitENWords(move.wait_after)}, ` +
    `queue clears ${hhmmVI(move.clears_at_before)} → ${hhmmVI(move.clears_at_after)}.`;
  assert.equal((await card.locator('.move-say').textContent()).trim(), want);
  assert.deepEqual((await card.locator('button:visible').allTextContents()).map((s) => s.trim()), ['Done', 'Not possible']);
  await shot(page, 'moves-station-send-phone-en.png');
  // A station no move involves shows no moves panel.
  await page.goto(server.url + '/station/' + FAR.id + '?lang=vi'); // the language is remembered: back to Vietnamese
  await waitLive(page);
  assert.equal(await page.locator('#moves').isHidden(), true);
  await page.goto('about:blank');
});

test('the district page lists the district\'s moves', async () => {
  const page = await leader.page();
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto(server.url + '/district/' + DISTRICT);
  await waitLive(page);
  const row = page.locator(`#moves li[data-move="${move.id}"]`);
  await row.waitFor({ timeout: 10000 });
  assert.equal((await page.textContent('#moves-h')).trim(), 'Đề xuất điều cán bộ (1)');
  assert.equal((await row.locator('[data-from]').textContent()).trim(), NEAR.name);
  assert.equal((await row.locator('[data-to]').textContent()).trim(), QUEUE.name);
  assert.equal(await row.locator('[data-to]').getAttribute('href'), '/station/' + QUEUE.id);
  assert.equal((await row.locator('[data-staff]').textContent()).trim(), `${move.staff} cán bộ`);
  assert.equal((await row.locator('[data-wait]').textContent()).trim(), `chờ ${waitVIWords(move.wait_before)} → ${waitVIWords(move.wait_after)}`);
  assert.equal((await row.locator('[data-clears]').textContent()).trim(),
    `hết hàng ${hhmmVI(move.clears_at_before)} → ${hhmmVI(move.clears_at_after)}`);
  assert.equal(await page.locator('#moves-none').isHidden(), true);
  await page.locator('#moves').scrollIntoViewIfNeeded();
  await shot(page, 'moves-district.png');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(500);
  await noSideScroll(page);
  await page.locator('#moves').scrollIntoViewIfNeeded();
  await shot(page, 'moves-district-phone.png');
});

test('the command room has a moves view in its rotation, readable across the room', async () => {
  const page = await room.page();
  await page.goto(server.url + '/screen?rotate=3');
  await waitLive(page);
  await page.waitForFunction(() => document.body.dataset.view === 'moves', null, { timeout: 40000 });
  await page.goto(server.url + '/screen?view=moves');
  await waitLive(page);
  const row = page.locator(`#moves .smove[data-move="${move.id}"]`);
  await row.waitFor({ timeout: 10000 });
  assert.equal(await page.getAttribute('body', 'data-view'), 'moves');
  assert.equal((await row.locator('.smove-num').textContent()).trim(), String(move.staff));
  assert.equal((await row.locator('.smove-from').textContent()).trim(), NEAR.name);
  assert.equal((await row.locator('.smove-to').textContent()).trim(), '→ ' + QUEUE.name);
  assert.equal((await row.locator('.smove-wait').textContent()).trim(), `${waitVIWords(move.wait_before)} → ${waitVIWords(move.wait_after)}`);
  assert.ok((await row.locator('.smove-trip').textContent()).includes('Đình Lập'));
  // Big type, and the names whole on a 1920-pixel screen.
  const size = await row.locator('.smove-to').evaluate((e) => ({
    font: parseFloat(getComputedStyle(e).fontSize), cut: e.scrollWidth > e.clientWidth,
  }));
  assert.ok(size.font >= 40, 'names at 40 px or more: ' + size.font);
  assert.equal(size.cut, false, 'the name is cut');
  await page.waitForTimeout(1200);
  await shot(page, 'screen-moves.png');
});

test('an answer the server refuses is said politely, and the buttons go', async () => {
  const page = await leader.page();
  await page.setViewportSize({ width: 390, height: 844 });
  for (const [status, words] of [[403, /không được trả lời đề xuất này/], [409, /không còn nữa/], [503, /Chưa gửi được câu trả lời \(HTTP 503\)/]]) {
    await page.route('**/api/v1/moves/**', (r) => r.fulfill({ status, contentType: 'application/json', body: '{"error":"no","code":"x"}' }));
    await page.goto(server.url + '/station/' + NEAR.id);
    await waitLive(page);
    const card = page.locator(`#moves li[data-move="${move.id}"]`);
    await card.waitFor({ timeout: 10000 });
    await card.locator('button[data-outcome="done"]').click();
    await page.waitForFunction((id) => {
      const li = document.querySelector(`#moves li[data-move="${id}"]`);
      return li && li.dataset.state && li.dataset.state !== 'sending';
    }, move.id, { timeout: 5000 });
    assert.match(await card.locator('.move-result').textContent(), words);
    // Refused: no more buttons; a failure keeps them for another try.
    assert.equal(await card.locator('button:visible').count(), status === 503 ? 2 : 0, 'buttons after ' + status);
    if (status === 403) await shot(page, 'moves-forbidden-phone.png');
    await page.unroute('**/api/v1/moves/**');
  }
  // The refusals were the browser's own: the suggestion still stands.
  assert.equal(((await server.snapshot('district:' + DISTRICT)).moves || []).length, 1);
  await page.goto('about:blank');
});

test('the chief answers "Đã làm": the page says what happened and the suggestion goes away everywhere', async () => {
  const room2 = await room.page();
  await room2.goto(server.url + '/screen?rotate=60');
  await waitLive(room2);
  const desk = await leader.page();
  await desk.setViewportSize({ width: 1440, height: 900 });
  await desk.goto(server.url + '/district/' + DISTRICT);
  await waitLive(desk);
  await desk.locator(`#moves li[data-move="${move.id}"]`).waitFor({ timeout: 10000 });

  const page = await chief.page();
  await page.goto(server.url + '/station/' + QUEUE.id);
  await waitLive(page);
  const card = page.locator(`#moves li[data-move="${move.id}"]`);
  await card.waitFor({ timeout: 10000 });
  const answered = page.waitForResponse((r) => r.url().includes('/api/v1/moves/') && r.request().method() === 'POST');
  await card.locator('button[data-outcome="done"]').click();
  const resp = await answered;
  assert.equal(resp.status(), 200);
  const body = await resp.json();
  assert.equal(body.outcome, 'done');
  assert.equal(body.id, move.id);
  // The suggestion leaves the list with the next round; what was recorded stays said.
  await page.waitForFunction((id) => !document.querySelector(`#moves li[data-move="${id}"]`), move.id, { timeout: 8000 });
  const said = (await page.textContent('#move-answers')).trim();
  assert.ok(said.startsWith(`Đã ghi nhận lúc ${hhmmVI(body.at)}: đã điều ${move.staff} cán bộ (${NEAR.name} → ${QUEUE.name}).`), said);
  await shot(page, 'moves-answered-phone.png');
  assert.deepEqual((await server.snapshot('station:' + QUEUE.id)).moves || [], []);

  // The district's list and the command room follow.
  await desk.waitForFunction((id) => !document.querySelector(`#moves li[data-move="${id}"]`), move.id, { timeout: 8000 });
  assert.equal(await desk.locator('#moves-none').isVisible(), true);
  await room2.waitForFunction(() => document.getElementById('moves').dataset.count === '0', null, { timeout: 8000 });
  const views = await room2.evaluate(() => document.querySelectorAll('#dots span').length);
  assert.ok(views >= 1);
  assert.notEqual(await room2.getAttribute('body', 'data-view'), 'moves');

  // Answering again: the suggestion no longer stands.
  const again = await page.evaluate((id) => fetch('/api/v1/moves/' + encodeURIComponent(id), {
    method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: '{"outcome":"done"}',
  }).then((r) => r.status), move.id);
  assert.equal(again, 409);
  await room2.close();
});

test('no request left 127.0.0.1 and no page logged an error', () => {
  for (const b of [chief, leader, room]) {
    b.assertLocal();
    // The refused answers of the test above are the browser's own 403/409/503 responses.
    assert.deepEqual(b.problems.filter((p) => !/status of (403|409|503)/.test(p)), [], 'console errors or page errors');
  }
});
