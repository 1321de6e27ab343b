// The command-room screen's daily self-reload: once per working day, after
// the campaign's day boundary (04:00 in Lạng Sơn; 01:30 still belongs to the
// day before), without losing its sign-in and without a blank frame, and not
// while the server does not answer. The server's replay clock follows the
// newest event, so posting a heartbeat at 04:05 moves the screen past the
// boundary at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Server, seed, browser, shot, waitLive, vn, sleep, screencast, inkOf, ARTIFACTS } from './harness.mjs';

let server;
let b;
let tokens;
let page;
let rendersFirst; // the shell holds its first paint until the screen's scripts have drawn
let blankFrames; // what the reload's frames showed, judged by the next test

// rotate=3: the rotation comes back to its first view (where a due reload
// happens) every 3 s × the number of views, about 15 s.
const PATH = '/screen?rotate=3';

before(async () => {
  server = await new Server().start();
  ({ tokens } = await seed(server));
  b = await browser({ viewport: { width: 1920, height: 1080 } });
  page = await b.page();
  await server.openScreen(page); // the one-time link: a session cookie
  const shell = await page.evaluate(() => fetch('/screen').then((r) => r.text()));
  rendersFirst = /<script[^>]*type="module"[^>]*blocking="render"/.test(shell);
});

after(async () => {
  if (b) await b.close();
  if (server) await server.cleanup();
});

let n = 0;
/** at posts one heartbeat of LS-BS-VULE at a Vietnam wall-clock time, which moves the replay clock there. */
async function at(y, mo, d, h, mi) {
  const r = await server.post(tokens['LS-BS-VULE'], [{ id: 'reload-' + (++n), type: 'heartbeat', station: 'LS-BS-VULE',
    ts: vn(y, mo, d, h, mi), queue: 0, staff: 0, lanes: 3, status: 'closed' }]);
  assert.equal(r.status, 202, JSON.stringify(r.body));
}

/** showing waits until the screen's clock shows hh:mm (the snapshot with that "now" was drawn). */
const showing = (p, hhmm, timeout = 10000) =>
  p.waitForFunction((w) => document.getElementById('clock').textContent === w, hhmm, { timeout });

const mark = (p, v) => p.evaluate((x) => { window.__doc = x; }, v);
const markOf = (p) => p.evaluate(() => window.__doc);
const data = (p) => p.evaluate(() => ({ ...document.body.dataset }));

/** navigations records the main-frame navigations of p from now on. */
function navigations(p) {
  const list = [];
  p.on('framenavigated', (f) => { if (f === p.mainFrame()) list.push(Date.now()); });
  return list;
}

/** reloaded waits for a navigation in navs, then for the new page to have drawn the figures it was handed. */
async function reloaded(p, navs, timeout) {
  const deadline = Date.now() + timeout;
  while (navs.length === 0 && Date.now() < deadline) await sleep(100);
  assert.ok(navs.length > 0, `no reload within ${timeout} ms`);
  await p.waitForFunction(() => document.body.dataset.handoff === 'drawn', null, { timeout: 10000 });
}

test('01:30 still belongs to yesterday: no reload is due', async () => {
  const r = await page.goto(server.url + PATH);
  assert.equal(r.status(), 200);
  await waitLive(page);
  await page.waitForFunction(() => document.querySelectorAll('[data-chart] canvas').length >= 3, null, { timeout: 15000 });
  await mark(page, 'before');
  assert.equal((await data(page)).day, '2021-03-20');
  await at(2021, 3, 21, 1, 30);
  await showing(page, '01:30');
  const d = await data(page);
  assert.equal(d.day, '2021-03-20', 'the working day at 01:30 on 21/3');
  assert.equal(d.reloadDue, undefined, 'a reload became due before the boundary');
  assert.equal(await markOf(page), 'before');
});

test('after the 04:00 boundary the screen reloads once, keeps its session and never shows a blank frame', async () => {
  const navs = navigations(page);
  const rec = await screencast(b.context, page);
  await sleep(1500); // frames of the page as it was
  const t0 = Date.now();
  await at(2021, 3, 21, 4, 5);
  await page.waitForFunction(() => document.body.dataset.reloadDue === '2021-03-21', null, { timeout: 10000 });
  // The reload waits for the rotation to come back to its first view.
  await reloaded(page, navs, 30000);
  await waitLive(page);
  const visibility = await page.evaluate(() => document.visibilityState);
  await sleep(2000); // frames of the new page as it settles
  const frames = await rec.stop();

  assert.equal(navs.length, 1, 'navigations: ' + navs.length);
  assert.equal(await markOf(page), undefined, 'the page did not reload');
  assert.equal(page.url(), server.url + PATH, 'the reload kept the URL (rotation, view)');
  const d = await data(page);
  assert.equal(d.day, '2021-03-21');
  assert.equal(d.live, 'live', 'signed in and live after the reload (the stream accepted its cookie)');
  assert.equal(visibility, 'visible');
  assert.ok(!(await page.url()).includes('/login'));
  await shot(page, 'reload-after.png');

  // What the screen showed: every compositor frame from a second before
  // the navigation until two seconds after the new page was live.
  const nav = navs[0];
  const near = frames.filter((f) => f.t >= nav - 1000);
  // The reference is the old page as it stood on the new day, just before
  // that window: at 04:05 its own figures changed (alerts resolved, the
  // band gone, today's count restarted), which is not the reload's doing.
  const before = frames.filter((f) => f.t < nav - 1000);
  const earlier = before.length ? before : frames.filter((f) => f.t < t0);
  assert.ok(near.length >= 3 && earlier.length >= 1, `frames: ${near.length} near the navigation, ${earlier.length} before`);
  const bands = { kpis: [0.11, 0.28] };
  const [ref] = await inkOf(b.context, [earlier[earlier.length - 1].data], bands);
  const ink = await inkOf(b.context, near.map((f) => f.data), bands);
  const rows = near.map((f, i) => ({ ms: f.t - nav, all: ink[i].all, text: ink[i].kpisText }));
  const pc = (x) => (100 * x).toFixed(1) + ' %';
  const lines = rows.map((r) => `${r.ms} ms: ${pc(r.all)} not background, ${pc(r.text)} of the KPI strip is text`);
  writeFileSync(path.join(ARTIFACTS, 'reload-frames.txt'),
    `before: ${pc(ref.all)} not background, ${pc(ref.kpisText)} of the KPI strip is text\n${lines.join('\n')}\n`);
  // The thinnest frame is kept for a look (and the first after the navigation).
  const worst = rows.reduce((w, r, i) => (r.all < rows[w].all ? i : w), 0);
  writeFileSync(path.join(ARTIFACTS, 'reload-thinnest-frame.png'), Buffer.from(near[worst].data, 'base64'));
  const firstNew = near.findIndex((f) => f.t > nav);
  if (firstNew >= 0) writeFileSync(path.join(ARTIFACTS, 'reload-first-frame-after.png'), Buffer.from(near[firstNew].data, 'base64'));

  // The new page drew the handed-over figures before its first paint.
  const paint = await page.evaluate(() => {
    const fp = performance.getEntriesByType('paint').find((e) => e.name === 'first-paint');
    return { firstPaint: fp ? fp.startTime : null, drawn: +document.body.dataset.handoffAt };
  });
  // Blank: mostly background; without figures: the KPI values missing
  // ("—" has far less ink than "83.339").
  const blank = rows.filter((r) => r.all < 0.5 * ref.all || r.text < 0.5 * ref.kpisText);
  const verdict = `${blank.length} of ${rows.length} frames blank or without figures (${blank.map((r) => r.ms + ' ms').join(', ')}); ` +
    `first paint at ${paint.firstPaint} ms, figures drawn at ${paint.drawn} ms`;
  writeFileSync(path.join(ARTIFACTS, 'reload-frames.txt'), verdict + '\n', { flag: 'a' });
  blankFrames = { blank, verdict, paint };
});

test('the reload shows no blank frame: the old frame stays until the new page has drawn its figures', (t) => {
  assert.ok(blankFrames, 'the reload test did not run');
  t.diagnostic(blankFrames.verdict);
  // The shell holds its first paint for its scripts (blocking="render"):
  // without it, it paints its "loading" line first and paint holding ends there.
  assert.ok(rendersFirst, 'the /screen shell lacks blocking="render" on its scripts');
  assert.deepEqual(blankFrames.blank, [], blankFrames.verdict);
  assert.ok(blankFrames.paint.firstPaint >= blankFrames.paint.drawn, blankFrames.verdict);
});

test('no second reload in the same working day (also at 01:30 and 03:59 of the next date)', async () => {
  await mark(page, 'after-first');
  const navs = navigations(page);
  for (const [d, h, mi] of [[21, 5, 0], [21, 12, 0], [21, 23, 59], [22, 1, 30], [22, 3, 59]]) {
    await at(2021, 3, d, h, mi);
    await showing(page, `${String(h).padStart(2, '0')}:${String(mi).padStart(2, '0')}`);
  }
  // A reload happens only once one is due (the next turn of the rotation
  // goes then); none became due.
  await sleep(3500); // and a view change later, nothing moved
  const d = await data(page);
  assert.equal(d.day, '2021-03-21');
  assert.equal(d.reloadDue, undefined);
  assert.equal(navs.length, 0);
  assert.equal(await markOf(page), 'after-first');
});

test('while the server is down the screen keeps its page and reloads once it answers again', async () => {
  const navs = navigations(page);
  await at(2021, 3, 22, 4, 2);
  await page.waitForFunction(() => document.body.dataset.reloadDue === '2021-03-22', null, { timeout: 10000 });
  await server.kill('SIGKILL');
  // The next turn of the rotation tries, finds no server, stays.
  await page.waitForFunction(() => +document.body.dataset.reloadTries >= 1, null, { timeout: 30000 });
  await sleep(4000);
  assert.equal(navs.length, 0, 'navigated while the server was down');
  assert.equal(await markOf(page), 'after-first');
  assert.notEqual(await page.textContent('[data-kpi="completed"]'), '—', 'the figures stay on screen');
  await shot(page, 'reload-server-down.png');

  await server.start(); // same port, same data: the session cookie is still good
  await reloaded(page, navs, 60000);
  await waitLive(page, 30000);
  assert.equal(navs.length, 1, 'navigations after the server came back: ' + navs.length);
  assert.equal(await markOf(page), undefined);
  assert.equal((await data(page)).live, 'live');
  assert.ok(!page.url().includes('/login'), 'signed out by the reload: ' + page.url());
});

test('a player that sends a bearer header keeps it across the reload', async () => {
  const { token } = await server.screenToken();
  // No cookie: only the header the player adds to every request.
  await b.context.clearCookies();
  await b.context.setExtraHTTPHeaders({ Authorization: 'Bearer ' + token });
  const p = await b.context.newPage();
  // A pinned view has no rotation to wait for: the reload goes at the next tick.
  const pinned = '/screen?view=overview&rotate=3';
  try {
    const r = await p.goto(server.url + pinned);
    assert.equal(r.status(), 200);
    assert.ok(p.url().endsWith(pinned), 'bearer header did not open the screen: ' + p.url());
    await waitLive(p);
    await mark(p, 'bearer');
    const navs = navigations(p);
    await at(2021, 3, 23, 4, 3);
    await reloaded(p, navs, 15000);
    await waitLive(p);
    assert.equal(navs.length, 1);
    assert.equal(await markOf(p), undefined);
    assert.equal((await data(p)).day, '2021-03-23');
    assert.ok(p.url().endsWith(pinned));
  } finally {
    await p.close();
    await b.context.setExtraHTTPHeaders({});
  }
});

test('no request left 127.0.0.1 and no page logged an error', () => {
  b.assertLocal();
  b.assertClean();
});
