// Harness for the browser tests: starts the real tiendo binary on the
// embedded engine, issues station tokens with its CLI, seeds a campaign
// through the ingest API, and drives Debian's Chromium with playwright-core.
//
// Environment (set by static/browser_test.go):
//   TIENDO_BIN        the tiendo binary to test (required)
//   TIENDO_ARTIFACTS  where screenshots go (default: <repo>/test-artifacts)
//   CHDB_LIB_PATH     passed through to the server (libchdb.so)

import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '..', '..');
export const BIN = process.env.TIENDO_BIN;
export const ARTIFACTS = process.env.TIENDO_ARTIFACTS || path.join(ROOT, 'test-artifacts');
if (!BIN) throw new Error('TIENDO_BIN is not set: run these tests through `go test ./static/`');
if (!process.env.CHDB_LIB_PATH) {
  process.env.CHDB_LIB_PATH = path.join(ROOT, 'node_modules/@chdb/lib-linux-x64-gnu/libchdb.so');
}
mkdirSync(ARTIFACTS, { recursive: true });

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Server is one `tiendo serve` process on the embedded engine, replay clock. */
export class Server {
  constructor({ dataDir, port, campaign } = {}) {
    this.dataDir = dataDir || mkdtempSync(path.join(os.tmpdir(), 'tiendo-e2e-'));
    this.port = port;
    this.campaign = campaign || 'langson-2021';
    this.proc = null;
    this.log = '';
  }

  get url() { return `http://127.0.0.1:${this.port}`; }

  async start() {
    if (!this.port) this.port = await freePort();
    const proc = spawn(BIN, ['serve', '--campaign', this.campaign, '--data', this.dataDir, '--addr', `127.0.0.1:${this.port}`, '--clock', 'replay'],
      { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    const onData = (b) => { this.log += b.toString(); };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    const exited = new Promise((resolve) => proc.once('exit', (code, sig) => resolve({ code, sig })));
    this.exited = exited;
    const deadline = Date.now() + 90000;
    for (;;) {
      const done = await Promise.race([exited, sleep(150).then(() => null)]);
      if (done) throw new Error(`tiendo serve exited (${done.code ?? done.sig}) before it was healthy:\n${this.log}`);
      try {
        const r = await fetch(this.url + '/healthz');
        if (r.ok) return this;
      } catch (e) { /* not listening yet */ }
      if (Date.now() > deadline) throw new Error('tiendo serve did not become healthy in 90 s:\n' + this.log);
    }
  }

  /** kill sends sig (SIGKILL by default) and waits for the process to end. */
  async kill(sig = 'SIGKILL') {
    if (!this.proc || this.proc.exitCode != null || this.proc.signalCode != null) return;
    this.proc.kill(sig);
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 15000);
    await this.exited;
    clearTimeout(t);
  }

  async stop() {
    await this.kill('SIGTERM');
  }

  async cleanup() {
    await this.kill('SIGKILL');
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** token issues a station token with the CLI; the token is stdout's last line. */
  async token(station) {
    const { stdout } = await promisify(execFile)(BIN,
      ['token', 'issue', '--server', this.url, '--data', this.dataDir, '--station', station], { env: process.env });
    const lines = stdout.trim().split('\n');
    return lines[lines.length - 1].trim();
  }

  async post(token, events) {
    const r = await fetch(this.url + '/api/v1/events', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + token },
      body: JSON.stringify(events),
    });
    const body = await r.json().catch(() => null);
    return { status: r.status, body };
  }

  /** adminToken is the token serve wrote on first start. */
  adminToken() {
    return readFileSync(path.join(this.dataDir, 'admin.token'), 'utf8').trim();
  }

  /** user makes an account with the CLI and returns its generated password. */
  async user(name, role, subject = '') {
    const args = ['user', 'add', '--server', this.url, '--data', this.dataDir, '--name', name, '--role', role];
    if (subject) args.push('--subject', subject);
    const { stdout } = await promisify(execFile)(BIN, args, { env: process.env });
    const lines = stdout.trim().split('\n');
    return lines[lines.length - 1].trim();
  }

  /** screenLink issues a screen token and returns its one-time sign-in link. */
  async screenLink() {
    const { stdout } = await promisify(execFile)(BIN,
      ['token', 'issue', '--server', this.url, '--data', this.dataDir, '--role', 'screen'], { env: process.env });
    const m = stdout.match(/one-time link.*?(http\S+)/);
    assert.ok(m, 'token issue --role screen printed no one-time link:\n' + stdout);
    return m[1];
  }

  /**
   * openScreen signs page in as a new screen token, as the command room
   * does: it opens the one-time link (a GET only shows a confirmation) and
   * presses its button; the page ends on /screen.
   */
  async openScreen(page) {
    const resp = await page.goto(await this.screenLink());
    assert.equal(resp.status(), 200, 'the screen link page');
    await Promise.all([page.waitForURL(/\/screen$/), page.click('#activate')]);
  }

  /**
   * screenToken issues a screen token and returns it with its one-time link:
   * a command-room player may send the token as a bearer header instead.
   */
  async screenToken() {
    const { stdout } = await promisify(execFile)(BIN,
      ['token', 'issue', '--server', this.url, '--data', this.dataDir, '--role', 'screen'], { env: process.env });
    const m = stdout.match(/one-time link.*?(http\S+)/);
    assert.ok(m, 'token issue --role screen printed no one-time link:\n' + stdout);
    const lines = stdout.trim().split('\n');
    return { link: m[1], token: lines[lines.length - 1].trim() };
  }

  async snapshot(scope = 'province') {
    const r = await fetch(this.url + '/api/v1/snapshot?scope=' + encodeURIComponent(scope),
      { headers: { Authorization: 'Bearer ' + this.adminToken() } });
    assert.equal(r.status, 200, 'snapshot ' + scope);
    return r.json();
  }
}

// ---------------------------------------------------------------- seed data

/** stations reads the shipped registry (cmd/tiendo/langson2021/stations.csv). */
export function stations() {
  const csv = readFileSync(path.join(ROOT, 'cmd/tiendo/langson2021/stations.csv'), 'utf8').trim().split('\n');
  const head = csv[0].split(',');
  return csv.slice(1).map((line) => {
    const f = line.split(',');
    const o = Object.fromEntries(head.map((k, i) => [k, f[i]]));
    o.lanes = +o.lanes;
    o.quota = +o.quota;
    return o;
  });
}

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const pad = (n) => String(n).padStart(2, '0');
/** vn formats a Vietnam wall-clock time (UTC+7) as RFC 3339. */
export const vn = (y, mo, d, h, mi = 0, s = 0) => {
  const t = new Date(Date.UTC(y, mo - 1, d, h - 7, mi, s));
  return t.toISOString().replace('.000Z', 'Z');
};

export const TODAY = { y: 2021, m: 3, d: 20 };
export const NOW = { h: 21, mi: 15 }; // the replay clock's "now" after seeding

/** VISITS are the home-visit teams seed gives a list of households still to visit tonight. */
export const VISITS = ['LS-TP-TN1', 'LS-BS-TN1', 'LS-HL-TN1'];

/**
 * seed posts ten working days (10–19 March 2021) and today until 21:15 for a
 * few stations of every district, heartbeats included, so that every chart
 * has data, some stations have long queues (some clearing after 02:00),
 * some idle staff (no queue, more staff than lanes), and some are offline;
 * and for the home-visit teams of VISITS a slow round whose list (16
 * households at 21:15) takes longer than any station's wait, which must
 * never make them a "longest wait". It returns the tokens by station.
 */
export async function seed(server, { perDistrict = 3 } = {}) {
  const all = stations();
  const byDistrict = new Map();
  for (const s of all) {
    if (!byDistrict.has(s.district)) byDistrict.set(s.district, []);
    byDistrict.get(s.district).push(s);
  }
  const picked = [];
  for (const list of byDistrict.values()) picked.push(...list.filter((s) => s.kind === 'fixed').slice(0, perDistrict));
  if (!picked.find((s) => s.id === 'LS-BS-VULE')) picked.push(all.find((s) => s.id === 'LS-BS-VULE'));
  const visits = VISITS.map((v) => all.find((s) => s.id === v));

  const tokens = {};
  await Promise.all([...picked, ...visits].map(async (s) => { tokens[s.id] = await server.token(s.id); }));

  const rand = rng(20210320);
  let n = 0;
  const id = () => 'seed-' + (++n).toString(36);
  await Promise.all(picked.map(async (s, idx) => {
    const events = [];
    const lanes = s.lanes || 1;
    const offline = idx % 9 === 4; // a few stations stopped reporting
    for (let d = 10; d <= TODAY.d; d++) {
      const today = d === TODAY.d;
      const lastHour = today ? NOW.h : (d % 3 === 0 ? 25 : 23); // some nights run to 01:00
      for (let h = 7; h <= lastHour; h++) {
        if (today && offline && h > 15) break;
        const rate = lanes * (5 + Math.floor(rand() * 5)) * (h >= 22 ? 0.6 : 1);
        const count = Math.max(1, Math.round(rate));
        const hh = h % 24;
        const day = h >= 24 ? d + 1 : d;
        const mi = today && h === NOW.h ? NOW.mi - 5 : 40;
        events.push({ id: id(), type: 'completion', station: s.id, ts: vn(2021, 3, day, hh, mi, idx % 60), count,
          fingerprint_retries: Math.floor(count * rand() * 0.8), kind: rand() < 0.15 ? 'student' : 'standard' });
        if (h % 3 === 0 || (today && h === NOW.h)) {
          const queue = today && h === NOW.h ? [0, 3, 12, 25, 48, 70][idx % 6] : Math.floor(rand() * 40);
          events.push({ id: id(), type: 'heartbeat', station: s.id, ts: vn(2021, 3, day, hh, today && h === NOW.h ? NOW.mi - 2 : 50, idx % 60),
            // Stations without a queue tonight have two officers more than lanes: idle.
            queue, staff: lanes + (idx % 6 === 0 ? 2 : idx % 3), lanes, status: 'open' });
        }
      }
    }
    const r = await server.post(tokens[s.id], events);
    assert.equal(r.status, 202, `seed ${s.id}: ${JSON.stringify(r.body)}`);
  }));
  // Home-visit teams: one or two households an hour, the list shrinking
  // through the day; tonight 16 are left.
  await Promise.all(visits.map(async (s, idx) => {
    const events = [];
    for (let d = 10; d <= TODAY.d; d++) {
      const today = d === TODAY.d;
      for (let h = 7; h <= (today ? NOW.h : 18); h++) {
        const mi = today && h === NOW.h ? NOW.mi - 5 : 30;
        events.push({ id: id(), type: 'completion', station: s.id, ts: vn(2021, 3, d, h, mi, idx), count: 1 + (h % 2),
          fingerprint_retries: 0, kind: 'standard' });
        events.push({ id: id(), type: 'heartbeat', station: s.id, ts: vn(2021, 3, d, h, today && h === NOW.h ? NOW.mi - 2 : 50, idx),
          queue: today ? 16 + Math.max(0, NOW.h - h) : Math.max(0, 18 - h), staff: 1, lanes: 1, status: 'open' });
      }
    }
    const r = await server.post(tokens[s.id], events);
    assert.equal(r.status, 202, `seed ${s.id}: ${JSON.stringify(r.body)}`);
  }));
  // The newest event sets the replay clock: 20 March 2021, 21:15 in Lạng Sơn.
  const vule = await server.post(tokens['LS-BS-VULE'], [{ id: id(), type: 'heartbeat', station: 'LS-BS-VULE',
    ts: vn(2021, 3, TODAY.d, NOW.h, NOW.mi), queue: 37, staff: 4, lanes: 3, status: 'open', lat: 21.90, lon: 106.31 }]);
  assert.equal(vule.status, 202);
  return { tokens, stations: picked, visits };
}

/**
 * MOVE_DISTRICT is a hand-made corner of Đình Lập for staff moves, far
 * (over 30 km) from the stations seed() fills: QUEUE has a queue of 40 at
 * one of its three machines, NEAR (2 km away) three officers and no queue,
 * FAR (25 km away, past the campaign's 15 km) idle officers too.
 */
export const MOVE_DISTRICT = {
  district: 'LS-DL',
  districtName: 'Đình Lập',
  queue: { id: 'LS-DL-T1', name: 'Công an Xã Hàng Dài (thử)', lanes: 3, lat: 21.80, lon: 107.45 },
  near: { id: 'LS-DL-T2', name: 'Công an Xã Bên Cạnh (thử)', lanes: 2, lat: 21.818, lon: 107.45 },
  far: { id: 'LS-DL-T3', name: 'Công an Xã Xa Xôi (thử)', lanes: 1, lat: 22.025, lon: 107.45 },
};

/**
 * seedMoves adds MOVE_DISTRICT's stations to the shipped registry (the admin
 * import) and posts their heartbeats a minute before seed()'s "now", so the
 * server suggests sending NEAR's idle officers to QUEUE. Run it after
 * seed(). It returns the three stations' tokens.
 */
export async function seedMoves(server) {
  const { queue, near, far, district } = MOVE_DISTRICT;
  const csv = readFileSync(path.join(ROOT, 'cmd/tiendo/langson2021/stations.csv'), 'utf8').trimEnd() + '\n' +
    [queue, near, far].map((s) => [s.id, s.name, district, s.name.replace('Công an ', ''), 'fixed', s.lanes, s.lat, s.lon, 900, 1].join(',')).join('\n') + '\n';
  const r = await fetch(server.url + '/api/v1/admin/stations', {
    method: 'POST', headers: { 'Content-Type': 'text/csv', Authorization: 'Bearer ' + server.adminToken() }, body: csv,
  });
  assert.equal(r.status, 200, 'station import: ' + await r.text());
  const tokens = {};
  for (const s of [queue, near, far]) tokens[s.id] = await server.token(s.id);
  const ts = vn(TODAY.y, TODAY.m, TODAY.d, NOW.h, NOW.mi - 1);
  const beat = (s, queueLen, staff, lanes) => server.post(tokens[s.id], [{ id: 'moves-' + s.id + '-' + ts, type: 'heartbeat', station: s.id, ts,
    queue: queueLen, staff, lanes, status: 'open', lat: s.lat, lon: s.lon }]);
  for (const [s, q, staff, lanes] of [[queue, 40, 1, 1], [near, 0, 3, 2], [far, 0, 3, 1]]) {
    const res = await beat(s, q, staff, lanes);
    assert.equal(res.status, 202, `heartbeat ${s.id}: ${JSON.stringify(res.body)}`);
  }
  return tokens;
}

/**
 * waitVIWords is a wait as the move sentences say it in Vietnamese: "4 giờ",
 * "1 giờ 20 phút", "45 phút".
 */
export function waitVIWords(m) {
  m = Math.round(m);
  if (m <= 0) return 'Không chờ';
  if (m < 60) return `${m} phút`;
  return m % 60 ? `${Math.floor(m / 60)} giờ ${m % 60} phút` : `${m / 60} giờ`;
}

// ---------------------------------------------------------------- the decision model on a page

/** The words a page shows for each pace state, in Vietnamese. */
export const STATE_VI = {
  not_started: 'Chưa bắt đầu', too_early: 'Mới bắt đầu', done: 'Đã đạt chỉ tiêu', behind: 'Chậm tiến độ',
  on_track: 'Đúng tiến độ', ahead: 'Vượt tiến độ', ended: 'Đã hết hạn, chưa đạt chỉ tiêu',
};

/** dayVI formats a YYYY-MM-DD day as the pages do in Vietnamese: 29/05/2021. */
export const dayVI = (d) => d.slice(8, 10) + '/' + d.slice(5, 7) + '/' + d.slice(0, 4);

/** hhmmVI is an instant as HH:MM in Lạng Sơn (UTC+7, no daylight saving). */
export const hhmmVI = (iso) => new Date(Date.parse(iso) + 7 * 3600000).toISOString().slice(11, 16);

/**
 * finishVI is what a page says of a pace's projected finish: the date, or
 * why there is none.
 */
export function finishVI(p) {
  if (p.projected_finish) return dayVI(p.projected_finish);
  if (p.state === 'too_early') return 'còn quá sớm để dự báo';
  if (p.state === 'done' || p.state === 'not_started') return '';
  return 'không có ngày hoàn thành với tốc độ này';
}

/**
 * agreeing reads what read(page) returns and the province snapshot from
 * /api/v1/snapshot at the same moment: it retries until the page drew no
 * new message while the snapshot was fetched, and returns both.
 */
export async function agreeing(server, page, read, tries = 5) {
  let last;
  for (let i = 0; i < tries; i++) {
    const seq = await page.getAttribute('body', 'data-seq');
    const snap = await server.snapshot('province');
    const shown = await read(page);
    if (seq === await page.getAttribute('body', 'data-seq')) return { snap, shown };
    last = { snap, shown };
    await sleep(300);
  }
  return last;
}

// ---------------------------------------------------------------- browser

/**
 * browser launches Chromium with a fresh profile and records every request,
 * console error and page error, so tests can assert that nothing left
 * 127.0.0.1 and that the pages ran cleanly.
 */
export async function browser({ viewport = { width: 1600, height: 1000 } } = {}) {
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'tiendo-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    viewport,
    locale: 'vi-VN',
    timezoneId: 'UTC', // the pages must use the campaign's zone, not the machine's
  });
  const requests = [];
  const problems = [];
  const watch = (page) => {
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error') {
        const text = m.text();
        // Expected while a test has the server killed.
        if (/ERR_CONNECTION_REFUSED|WebSocket connection|Failed to load resource|ERR_INTERNET_DISCONNECTED/.test(text)) return;
        problems.push(`console: ${text}`);
      }
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  };
  context.on('page', watch);
  for (const p of context.pages()) watch(p);
  return {
    context,
    requests,
    problems,
    /**
     * signIn makes a leader account and signs this browser in through the
     * real form, so pages and /ws see a session cookie.
     */
    async signIn(server, role = 'leader', subject = '') {
      const name = `e2e-${role}-${Math.random().toString(36).slice(2, 8)}`;
      const password = await server.user(name, role, subject);
      const page = await this.page();
      await page.goto(server.url + '/login');
      await page.fill('#login-name', name);
      await page.fill('#login-password', password);
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      assert.ok(!page.url().includes('/login'), 'sign-in failed: still on ' + page.url());
      return page;
    },
    async page() {
      const existing = context.pages().find((p) => p.url() === 'about:blank');
      return existing || context.newPage();
    },
    /** assertLocal checks that every request went to 127.0.0.1. */
    assertLocal() {
      const foreign = requests.filter((u) => {
        const url = new URL(u);
        if (url.protocol === 'data:' || url.protocol === 'blob:' || u === 'about:blank') return false;
        return url.hostname !== '127.0.0.1';
      });
      assert.deepEqual(foreign, [], 'requests that left 127.0.0.1');
      assert.ok(requests.length > 0, 'no requests recorded');
    },
    assertClean() {
      assert.deepEqual(problems, [], 'console errors or page errors');
    },
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export const shot = (page, name, opts = {}) => page.screenshot({ path: path.join(ARTIFACTS, name), ...opts });

// ---------------------------------------------------------------- chart labels

/**
 * labels reads, for each chart, every text ECharts drew, as boxes in the
 * canvas's pixels, and the canvas's size; and the panel's HTML heading.
 */
export const chartLabels = (page, names) => page.evaluate((names) => {
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

const boxesOverlap = (a, b) => Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x) > 1 && Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y) > 1;

/** labelProblems lists a chart's labels that overlap another or are cut at its edge. */
export function labelProblems(name, c) {
  const bad = [];
  const { boxes } = c;
  for (let i = 0; i < boxes.length; i++) {
    const a = boxes[i];
    if (a.x < -1 || a.y < -1 || a.x + a.w > c.width + 1 || a.y + a.h > c.height + 1) {
      bad.push(`${name}: "${a.text}" cut at the edge (${Math.round(a.x)},${Math.round(a.y)} ${Math.round(a.w)}×${Math.round(a.h)} in ${c.width}×${c.height})`);
    }
    for (let j = i + 1; j < boxes.length; j++) {
      if (boxesOverlap(a, boxes[j])) bad.push(`${name}: "${a.text}" overlaps "${boxes[j].text}"`);
    }
  }
  return bad;
}

/** waitLive waits until the page has drawn a snapshot from the stream. */
export async function waitLive(page, timeout = 20000) {
  await page.waitForFunction(() => document.body.dataset.live === 'live' && document.body.dataset.seq, null, { timeout });
}

/** chartsDrawn returns, per chart panel, whether its canvas has visible pixels. */
export async function chartsDrawn(page) {
  return page.evaluate(() => {
    const out = {};
    for (const el of document.querySelectorAll('[data-chart]')) {
      const c = el.querySelector('canvas');
      let ink = 0;
      if (c && c.width > 0 && c.height > 0) {
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < data.length; i += 4 * 7) if (data[i] > 0) ink++;
      }
      out[el.dataset.chart] = { canvas: !!c, width: c ? c.width : 0, height: c ? c.height : 0, ink };
    }
    return out;
  });
}

// ---------------------------------------------------------------- frames

/**
 * screencast records the frames Chromium's compositor produces for page
 * (CDP Page.startScreencast), i.e. what the screen actually showed, also
 * across a navigation of the page. stop() returns [{t, data}] with t in ms
 * (Date.now) and data a base64 PNG.
 */
export async function screencast(context, page, { maxWidth = 960, maxHeight = 540 } = {}) {
  const cdp = await context.newCDPSession(page);
  const frames = [];
  cdp.on('Page.screencastFrame', (f) => {
    frames.push({ t: Date.now(), data: f.data });
    cdp.send('Page.screencastFrameAck', { sessionId: f.sessionId }).catch(() => {});
  });
  await cdp.send('Page.startScreencast', { format: 'png', maxWidth, maxHeight, everyNthFrame: 1 });
  return {
    frames,
    async stop() {
      await cdp.send('Page.stopScreencast').catch(() => {});
      await cdp.detach().catch(() => {});
      return frames;
    },
  };
}

/**
 * inkOf measures PNG frames (base64) in a scratch page. For each frame it
 * returns the share of pixels that differ from the page's background colour
 * (the top-left pixel), `all`, and the share of bright pixels (text, lines),
 * `text`; and the same for horizontal bands given as fractions of the
 * height, e.g. { kpis: [0.1, 0.3] } gives `kpis` and `kpisText`.
 */
export async function inkOf(context, pngs, bands = {}) {
  const scratch = await context.newPage();
  try {
    return await scratch.evaluate(async ({ pngs, bands }) => {
      const out = [];
      const canvas = document.createElement('canvas');
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      for (const b64 of pngs) {
        const img = new Image();
        img.src = 'data:image/png;base64,' + b64;
        await img.decode();
        canvas.width = img.width;
        canvas.height = img.height;
        ctx.drawImage(img, 0, 0);
        const { data, width, height } = ctx.getImageData(0, 0, img.width, img.height);
        const bg = [data[0], data[1], data[2]];
        const share = (y0, y1) => {
          let ink = 0;
          let text = 0;
          let n = 0;
          for (let y = Math.floor(y0 * height); y < Math.min(height, Math.ceil(y1 * height)); y += 2) {
            for (let x = 0; x < width; x += 2) {
              const i = 4 * (y * width + x);
              n++;
              if (Math.abs(data[i] - bg[0]) + Math.abs(data[i + 1] - bg[1]) + Math.abs(data[i + 2] - bg[2]) > 30) ink++;
              if (Math.max(Math.abs(data[i] - bg[0]), Math.abs(data[i + 1] - bg[1]), Math.abs(data[i + 2] - bg[2])) > 100) text++;
            }
          }
          return n ? [ink / n, text / n] : [0, 0];
        };
        const [all, text] = share(0, 1);
        const r = { all, text, bg: `rgb(${bg.join(',')})` };
        for (const [k, [y0, y1]] of Object.entries(bands)) [r[k], r[k + 'Text']] = share(y0, y1);
        out.push(r);
      }
      return out;
    }, { pngs, bands });
  } finally {
    await scratch.close();
  }
}
