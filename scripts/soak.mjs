#!/usr/bin/env node
// make soak HOURS=N: keeps a command-room screen open for N hours against a
// real tiendo server (embedded engine, replay clock) fed by the simulator,
// and records every INTERVAL seconds what a kiosk's memory does: the
// renderer process's RSS and PSS (/proc), the JS heap after a forced GC
// (CDP HeapProfiler.collectGarbage + Runtime.getHeapUsage), DOM nodes and
// listeners (Memory.getDOMCounters), the ECharts instances, and now and then
// Blink's PlainTextNode count from a heap snapshot (the native canvas-text
// objects that grew in the 16-minute soak of findings/screens.md C9).
//
// The clock: the simulator first replays the campaign from its start to
// --start-day (as fast as the server takes it), which leaves the server's
// replay clock just before 04:00, the working-day boundary. The screen is
// opened then, and the simulator goes on from the boundary at one working
// day per --day-minutes real minutes (default 1440: real time). So the
// screen's daily self-reload happens within its first minutes, and again
// every --day-minutes; with --day-minutes 5 a short run sees several.
//
// It prints a row per sample and a summary at the end (start, end, min,
// max, growth per hour), writes samples.csv, samples.json and summary.txt
// under .cache/soak/<run>/, and exits 1 if the JS heap after GC goes over
// --max-heap-mb or grows faster than --max-heap-growth MB/h within one page
// lifetime (the second half of one of at least two hours, past the warm-up),
// if the page stops receiving live updates, or if a working day passes
// without its reload or sees two.
//
// Node rather than Go: the browser tests already drive Chromium through
// playwright-core (static/e2e/harness.mjs, whose Server this reuses), and
// CDP from Go would need a new module.

import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync, appendFileSync, createWriteStream, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { values: opt } = parseArgs({
  options: {
    hours: { type: 'string', default: '24' },
    interval: { type: 'string', default: '60' }, // seconds between samples
    'day-minutes': { type: 'string', default: '1440' }, // real minutes per simulated working day
    'start-day': { type: 'string', default: '2021-03-20' },
    'max-heap-mb': { type: 'string', default: '40' },
    'max-heap-growth': { type: 'string', default: '1' }, // MB/h over the second half of a page lifetime of ≥ 2 h
    'snapshot-every': { type: 'string', default: '60' }, // minutes between heap snapshots (0: only first, last and around reloads)
    auth: { type: 'string', default: 'cookie' }, // cookie (one-time link) or bearer (header on every request)
    query: { type: 'string', default: '' }, // extra query for /screen, e.g. rotate=10
    bin: { type: 'string', default: path.join(ROOT, 'bin/tiendo') },
    out: { type: 'string', default: path.join(ROOT, '.cache/soak') },
    keep: { type: 'boolean', default: false }, // keep the server's data directory
  },
});

const HOURS = +opt.hours;
const INTERVAL = +opt.interval * 1000;
const DAY_MIN = +opt['day-minutes'];
const MAX_HEAP = +opt['max-heap-mb'];
const MAX_GROWTH = +opt['max-heap-growth'];
const SNAP_EVERY = +opt['snapshot-every'] * 60000;
const RELOAD_GRACE = 15 * 60000; // the page reloads at most 10 min after the day changes
for (const [k, v] of [['hours', HOURS], ['interval', INTERVAL], ['day-minutes', DAY_MIN], ['max-heap-mb', MAX_HEAP]]) {
  if (!(v > 0)) throw new Error(`--${k} must be a positive number`);
}
if (!['cookie', 'bearer'].includes(opt.auth)) throw new Error('--auth is cookie or bearer');

const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
const runDir = path.join(opt.out, stamp);
mkdirSync(runDir, { recursive: true });
process.env.TIENDO_BIN = path.resolve(opt.bin);
process.env.TIENDO_ARTIFACTS = runDir;
const { Server, browser, waitLive, sleep } = await import('../static/e2e/harness.mjs');

const log = (s) => { process.stdout.write(s + '\n'); appendFileSync(path.join(runDir, 'summary.txt'), s + '\n'); };
const MB = (b) => b / 1048576;

// ---------------------------------------------------------------- processes (/proc)

function procs() {
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = +stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      out.push({ pid: +d, ppid, cmd });
    } catch { /* gone */ }
  }
  return out;
}

function memOf(pid) {
  try {
    const st = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = +(/VmRSS:\s+(\d+)/.exec(st) || [0, 0])[1] * 1024;
    let pss = 0;
    try { pss = +(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8')) || [0, 0])[1] * 1024; } catch { /* old kernel */ }
    return { rss, pss };
  } catch {
    return null;
  }
}

/**
 * chromium returns our Chromium's processes (descendants of this process)
 * with their memory. The screen's renderer is taken to be the renderer with
 * the largest PSS (the only other page is about:blank-sized); its pid is
 * recorded, so a change of process shows.
 */
function chromium() {
  const all = procs();
  const kids = new Map();
  for (const p of all) {
    if (!kids.has(p.ppid)) kids.set(p.ppid, []);
    kids.get(p.ppid).push(p);
  }
  const mine = [];
  const walk = (pid) => { for (const k of kids.get(pid) || []) { mine.push(k); walk(k.pid); } };
  walk(process.pid);
  // Zygote children rewrite their command line into one string.
  return mine.filter((p) => /chrom/.test(p.cmd[0] || '')).map((p) => {
    const line = p.cmd.join(' ');
    const type = (/--type=(\S+)/.exec(line) || [0, 'browser'])[1];
    return { pid: p.pid, type: /--top-chrome-webui/.test(line) ? 'webui' : type, ...memOf(p.pid) };
  }).filter((p) => p.rss != null);
}

// ---------------------------------------------------------------- the run

const server = new Server({ dataDir: path.join(runDir, 'data') });
const children = [];
let b;
let stopping = false;

function simulate(args, name) {
  const file = createWriteStream(path.join(runDir, name + '.log'));
  const p = spawn(process.env.TIENDO_BIN, ['simulate', '--server', server.url, '--data', server.dataDir, ...args],
    { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  p.stdout.pipe(file);
  p.stderr.pipe(file);
  children.push(p);
  p.done = new Promise((resolve) => p.once('exit', (code, sig) => resolve(code ?? sig)));
  return p;
}

async function shutdown() {
  stopping = true;
  for (const p of children) if (p.exitCode == null && p.signalCode == null) p.kill('SIGTERM');
  if (b) await b.close().catch(() => {});
  writeFileSync(path.join(runDir, 'server.log'), server.log);
  if (opt.keep) await server.stop();
  else await server.cleanup();
}

const samples = [];
const failures = [];
let interrupted = false;
process.on('SIGINT', () => { interrupted = true; });
process.on('SIGTERM', () => { interrupted = true; });
// However this process ends (a closed pipe on stdout too), its server and
// simulators do not outlive it.
process.stdout.on('error', () => {});
process.on('exit', () => {
  for (const p of [server.proc, ...children]) if (p && p.exitCode == null && p.signalCode == null) p.kill('SIGKILL');
});

// ---------------------------------------------------------------- helpers

async function sleepUntil(t) {
  while (!interrupted && Date.now() < t) await sleep(Math.min(1000, t - Date.now()));
}

function fmtT(sec) {
  const h = Math.floor(sec / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = Math.floor(sec % 60);
  return `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}
function f1(x) { return x == null || Number.isNaN(x) ? '' : x.toFixed(1); }

const COLS = ['at', 't', 'heap', 'heapGC', 'dom', 'nodes', 'listeners', 'documents', 'charts', 'canvases', 'rendererPid', 'rendererRSS', 'rendererPSS',
  'chromiumRSS', 'chromiumPSS', 'plainText', 'day', 'loadedDay', 'clock', 'view', 'seq', 'live', 'state', 'reloads', 'reloaded', 'handoff'];
function appendCSV(s, first) {
  const file = path.join(runDir, 'samples.csv');
  if (first) writeFileSync(file, COLS.join(',') + '\n');
  appendFileSync(file, COLS.map((k) => (s[k] == null ? '' : typeof s[k] === 'number' ? +s[k].toFixed(3) : String(s[k]))).join(',') + '\n');
}

/** plainTextNodes takes a heap snapshot and counts Blink's PlainTextNode objects in it. */
async function plainTextNodes(cdp) {
  let json = '';
  const onChunk = (c) => { json += c.chunk; };
  cdp.on('HeapProfiler.addHeapSnapshotChunk', onChunk);
  try {
    await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false, captureNumericValue: false });
  } finally {
    cdp.off('HeapProfiler.addHeapSnapshotChunk', onChunk);
  }
  const snap = JSON.parse(json);
  json = '';
  const fields = snap.snapshot.meta.node_fields;
  const nameAt = fields.indexOf('name');
  const width = fields.length;
  const names = new Set();
  snap.strings.forEach((s, i) => { if (/\bPlainTextNode\b/.test(s)) names.add(i); });
  let n = 0;
  for (let i = nameAt; i < snap.nodes.length; i += width) if (names.has(snap.nodes[i])) n++;
  return n;
}

/** fit is the least-squares slope of y over x (per unit of x) and the number of points. */
function slope(points) {
  const n = points.length;
  if (n < 2) return null;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) { sxy += (x - mx) * (y - my); sxx += (x - mx) ** 2; }
  return sxx > 0 ? sxy / sxx : null;
}

function summarise(reloadDays) {
  if (!samples.length) return;
  const span = samples[samples.length - 1].t - samples[0].t;
  log(`\nsummary over ${fmtT(span)} (${samples.length} samples, ${samples[samples.length - 1].reloads} reloads; working days loaded: ${[...reloadDays.keys()].join(', ')})`);
  const metrics = [
    ['JS heap after GC (MB)', 'heapGC'], ['JS heap before GC (MB)', 'heap'], ['renderer RSS (MB)', 'rendererRSS'], ['renderer PSS (MB)', 'rendererPSS'],
    ['all Chromium PSS (MB)', 'chromiumPSS'], ['DOM elements', 'dom'], ['DOM nodes (CDP)', 'nodes'], ['JS listeners', 'listeners'],
    ['ECharts instances', 'charts'], ['PlainTextNode objects', 'plainText'],
  ];
  // Growth within a page lifetime: the slope over its second half (past
  // the warm-up: the heap grows for the first minutes, findings §F).
  const secondHalf = (l) => l.filter((s) => s.t >= (l[0].t + l[l.length - 1].t) / 2);
  const lifeSpan = (l) => (l.length ? l[l.length - 1].t - l[0].t : -1);
  const lives = [];
  for (const s of samples) {
    if (!lives.length || s.reloaded) lives.push([]);
    lives[lives.length - 1].push(s);
  }
  const longest = lives.reduce((a, l) => (lifeSpan(l) > lifeSpan(a) ? l : a), []);
  const num = (x) => (x == null ? '—' : Number.isInteger(x) ? String(x) : x.toFixed(2));
  const w = 24;
  log('metric'.padEnd(w) + ['start', 'end', 'min', 'max', 'per hour'].map((h) => h.padStart(10)).join('') +
    `   per hour over the last ${fmtT(lifeSpan(longest) / 2)} of the longest page lifetime (from ${fmtT((longest[0].t + longest[longest.length - 1].t) / 2)})`);
  for (const [label, k] of metrics) {
    const pts = samples.filter((s) => s[k] != null && !Number.isNaN(s[k])).map((s) => [s.t / 3600, s[k]]);
    if (!pts.length) continue;
    const ys = pts.map((p) => p[1]);
    const lifePts = secondHalf(longest).filter((s) => s[k] != null).map((s) => [s.t / 3600, s[k]]);
    log(label.padEnd(w) + [ys[0], ys[ys.length - 1], Math.min(...ys), Math.max(...ys), slope(pts)].map((x) => num(x).padStart(10)).join('') +
      '   ' + num(slope(lifePts)) + (lifePts.length ? ` (${lifePts.length} samples)` : ''));
  }
  for (const l of lives) {
    if (lifeSpan(l) < 2 * 3600) continue;
    const g = slope(secondHalf(l).map((s) => [s.t / 3600, s.heapGC]));
    if (g > MAX_GROWTH) failures.push(`JS heap after GC grew ${g.toFixed(2)} MB/h over the second half of the page loaded at ${fmtT(l[0].t)} (bound ${MAX_GROWTH} MB/h)`);
  }
  if (lives.length > 1) {
    log('reloads (renderer PSS and heap after GC, last sample before → first after):');
    for (let i = 1; i < lives.length; i++) {
      const a = lives[i - 1][lives[i - 1].length - 1];
      const c = lives[i][0];
      log(`  at ${fmtT(c.t)}: loaded in working day ${a.loadedDay} → ${c.loadedDay || c.day}; renderer ${a.rendererPid === c.rendererPid ? 'same process' : 'new process'}; ` +
        `PSS ${f1(a.rendererPSS)} → ${f1(c.rendererPSS)} MB; heap ${f1(a.heapGC)} → ${f1(c.heapGC)} MB; handoff ${c.handoff || 'none'}`);
    }
  }
  log(`bounds: heap after GC ≤ ${MAX_HEAP} MB at every sample, and growing ≤ ${MAX_GROWTH} MB/h over the second half of every page lifetime of ≥ 2 h`);
}

// ---------------------------------------------------------------- main

async function main() {
  try {
    log(`soak: ${HOURS} h, a sample every ${INTERVAL / 1000} s, a working day every ${DAY_MIN} real minutes; run in ${runDir}`);
    await server.start();
    const t0 = Date.now();
    const pre = simulate(['--from', '2021-03-10', '--to', opt['start-day'], '--speed', 'max'], 'simulate-history');
    if ((await pre.done) !== 0) throw new Error('simulate (history) failed: see ' + path.join(runDir, 'simulate-history.log'));
    log(`history 2021-03-10 → ${opt['start-day']} replayed in ${((Date.now() - t0) / 1000).toFixed(0)} s; the server's clock stops just before 04:00`);

    b = await browser({ viewport: { width: 1920, height: 1080 } });
    const page = await b.page();
    if (opt.auth === 'bearer') {
      const { token } = await server.screenToken();
      await b.context.setExtraHTTPHeaders({ Authorization: 'Bearer ' + token });
    } else {
      await server.openScreen(page); // one-time link and its button: a session cookie
    }
    const url = server.url + '/screen' + (opt.query ? '?' + opt.query.replace(/^\?/, '') : '');
    const resp = await page.goto(url);
    if (resp.status() !== 200 || !page.url().startsWith(server.url + '/screen')) throw new Error(`/screen: ${resp.status()} at ${page.url()}`);
    await waitLive(page, 60000);

    const speed = 86400 / (DAY_MIN * 60);
    simulate(['--from', opt['start-day'], '--speed', String(speed)], 'simulate-live');
    const began = Date.now();
    const end = began + HOURS * 3600000;

    const head = ['t', 'heap MB', 'after GC', 'DOM', 'nodes', 'listeners', 'charts', 'renderer RSS', 'PSS', 'chromium PSS', 'PlainText', 'day', 'reloads', 'seq', 'state'];
    const widths = [8, 8, 8, 5, 6, 9, 6, 12, 7, 12, 9, 10, 7, 6, 6];
    const row = (cells) => cells.map((c, i) => String(c).padStart(widths[i])).join(' ');
    log(row(head));

    let lastSnap = -Infinity;
    let snappedDue = '';
    let lastOrigin = null;
    let reloads = 0;
    let badRun = 0;
    const reloadDays = new Map(); // day the page was (re)loaded in → count
    let dayChangedAt = null; // when the server's day moved past the page's
    let pageDay = null;

    for (let i = 0; ; i++) {
      const now = Date.now();
      const last = now >= end || interrupted;
      const s = { t: (now - began) / 1000, at: new Date(now).toISOString() };
      const cdp = await b.context.newCDPSession(page);
      let ch = null;
      try {
        await cdp.send('Performance.enable');
        const pm = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
        s.heap = MB(pm.JSHeapUsedSize);
        await cdp.send('HeapProfiler.collectGarbage');
        s.heapGC = MB((await cdp.send('Runtime.getHeapUsage')).usedSize);
        const dc = await cdp.send('Memory.getDOMCounters');
        s.nodes = dc.nodes;
        s.listeners = dc.jsEventListeners;
        s.documents = dc.documents;
        ch = chromium(); // before a heap snapshot, which costs the renderer memory for a while
        // Heap snapshots (PlainTextNode): first and last sample, every
        // --snapshot-every minutes, and around each reload (the old page
        // once its reload is due, the new page at its first sample).
        const due = await page.evaluate(() => document.body.dataset.reloadDue || '').catch(() => '');
        const around = (due && due !== snappedDue) || (lastOrigin != null && await page.evaluate(() => performance.timeOrigin).catch(() => lastOrigin) !== lastOrigin);
        if (due) snappedDue = due;
        if (i === 0 || last || around || (SNAP_EVERY > 0 && now - lastSnap >= SNAP_EVERY)) {
          s.plainText = await plainTextNodes(cdp);
          lastSnap = Date.now();
        }
      } finally {
        await cdp.detach().catch(() => {});
      }
      const pg = await page.evaluate(() => ({
        dom: document.getElementsByTagName('*').length,
        charts: document.querySelectorAll('[_echarts_instance_]').length,
        canvases: document.querySelectorAll('canvas').length,
        seq: +document.body.dataset.seq || 0,
        live: document.body.dataset.live,
        day: document.body.dataset.day || '',
        loadedDay: document.body.dataset.loadedDay || '',
        view: document.body.dataset.view,
        origin: performance.timeOrigin,
        handoff: document.body.dataset.handoff || '',
        clock: (document.getElementById('clock') || {}).textContent,
      })).catch((e) => ({ error: e.message }));
      Object.assign(s, pg);
      if (!ch) ch = chromium();
      const renderers = ch.filter((p) => p.type === 'renderer').sort((x, y) => y.pss - x.pss);
      s.rendererPid = renderers[0] ? renderers[0].pid : 0;
      s.rendererRSS = renderers[0] ? MB(renderers[0].rss) : 0;
      s.rendererPSS = renderers[0] ? MB(renderers[0].pss) : 0;
      s.chromiumPSS = MB(ch.reduce((a, p) => a + p.pss, 0));
      s.chromiumRSS = MB(ch.reduce((a, p) => a + p.rss, 0));

      // Reloads: a new document (timeOrigin) is one.
      if (lastOrigin != null && s.origin !== lastOrigin) {
        reloads++;
        s.reloaded = true;
      }
      if (s.origin !== lastOrigin) {
        pageDay = null;
      }
      lastOrigin = s.origin;
      s.reloads = reloads;
      // The working day this document was loaded in, and whether the
      // server's has moved past it (then its reload is due).
      if (s.loadedDay && pageDay == null) {
        pageDay = s.loadedDay;
        reloadDays.set(pageDay, (reloadDays.get(pageDay) || 0) + 1);
        if (reloadDays.get(pageDay) > 1) failures.push(`${fmtT(s.t)}: loaded a second time in working day ${pageDay}`);
        dayChangedAt = null;
      }
      if (pageDay && s.day > pageDay && dayChangedAt == null) dayChangedAt = now;
      if (dayChangedAt != null && now - dayChangedAt > RELOAD_GRACE) {
        failures.push(`${fmtT(s.t)}: working day ${s.day} began ${((now - dayChangedAt) / 60000).toFixed(0)} min ago and the page did not reload`);
        dayChangedAt = Infinity;
      }

      // Live updates: the server sends at least every 5 s, so seq must move
      // between samples (a reload restarts it) and the page must say live.
      const prev = samples[samples.length - 1];
      const moving = !prev || s.reloaded || s.seq > prev.seq;
      s.ok = !s.error && s.live === 'live' && moving;
      badRun = s.ok ? 0 : badRun + 1;
      s.state = s.error ? 'error' : !moving ? 'stuck' : s.live;
      samples.push(s);
      appendCSV(s, i === 0);
      log(row([fmtT(s.t), f1(s.heap), f1(s.heapGC), s.dom, s.nodes, s.listeners, s.charts, f1(s.rendererRSS), f1(s.rendererPSS),
        f1(s.chromiumPSS), s.plainText ?? '', s.day, s.reloads + (s.reloaded ? '*' : ''), s.seq, s.state]));
      if (s.heapGC > MAX_HEAP) failures.push(`${fmtT(s.t)}: JS heap after GC ${f1(s.heapGC)} MB > ${MAX_HEAP} MB`);
      if (badRun >= 3) {
        failures.push(`${fmtT(s.t)}: no live updates for three samples in a row (${s.state}${s.error ? ': ' + s.error : ''})`);
        break;
      }
      if (last) break;
      await sleepUntil(Math.min(end, now + INTERVAL));
      if (children.some((p) => p.exitCode != null && p.exitCode !== 0 && !stopping)) {
        failures.push(`${fmtT((Date.now() - began) / 1000)}: the simulator stopped; see simulate-live.log`);
      }
    }
    summarise(reloadDays);
  } catch (e) {
    failures.push('soak failed: ' + (e && e.stack || e));
  } finally {
    await shutdown();
  }
  writeFileSync(path.join(runDir, 'samples.json'), JSON.stringify(samples, null, 1));
  if (failures.length) {
    log('\nFAIL');
    for (const f of failures) log('  ' + f);
  } else {
    log('\nOK: heap after GC within bounds, live throughout, one reload per working day');
  }
  log(`samples: ${path.join(runDir, 'samples.csv')} (and samples.json)`);
  process.exit(failures.length ? 1 : 0);
}

await main();
