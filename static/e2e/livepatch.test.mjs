// The live stream's patches applied in the browser's module (no browser
// needed): every update the Go side wrote into readmodel/testdata (a
// district's and /screen's updates over a simulated evening, real
// BuildSnapshot output and charts, and random document pairs), applied to
// the state before it, gives the state after it. Rewrite the fixture with
// go test ./readmodel -run TestLivePatchReplay -update.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { applyPatch, applyUpdate, startState } from '../assets/livepatch.js';

const fixture = JSON.parse(gunzipSync(readFileSync(new URL('../../readmodel/testdata/livepatch.json.gz', import.meta.url))).toString('utf8'));

test('the fixture has real and random cases', () => {
  assert.ok(fixture.length >= 200, `${fixture.length} cases`);
  assert.ok(fixture.filter((c) => !c.name.startsWith('random')).length >= 4);
  assert.ok(fixture.some((c) => c.update.charts), 'no case patches charts');
  assert.ok(fixture.some((c) => JSON.stringify(c.update).includes('"$keyed"')), 'no case patches a list by id');
});

test('apply(prev, diff(prev, next)) is next for every update the Go side made', () => {
  for (const c of fixture) {
    const pristine = JSON.stringify(c.prev);
    const { state, charts } = applyUpdate(c.prev, c.update);
    assert.deepStrictEqual(state.snapshot, c.next.snapshot, c.name + ': snapshot');
    assert.deepStrictEqual(state.charts, c.next.charts, c.name + ': charts');
    assert.equal(JSON.stringify(c.prev), pristine, c.name + ': the previous state was changed');
    for (const [k, v] of Object.entries(charts || {})) {
      assert.deepStrictEqual(v, c.next.charts[k], c.name + ': chart ' + k);
      assert.notEqual(v, state.charts[k], 'a chart handed out is a copy');
    }
    assert.equal(charts === null, !c.update.charts);
  }
});

test('a station that changes, one that goes, one that comes', () => {
  const prev = { stations: [{ id: 'S1', queue: 1, pace: null }, { id: 'S2', queue: 2 }, { id: 'S3', queue: 3 }] };
  let next = applyPatch(prev, { $keyed: { stations: true }, stations: [{ id: 'S2', queue: 7 }] });
  assert.deepStrictEqual(next.stations, [{ id: 'S1', queue: 1, pace: null }, { id: 'S2', queue: 7 }, { id: 'S3', queue: 3 }]);
  assert.equal(next.stations[0], prev.stations[0], 'an unchanged station is the same object');
  next = applyPatch(prev, { $keyed: { stations: [2, 'S4', 0] }, stations: [{ id: 'S4', queue: 9 }] });
  assert.deepStrictEqual(next.stations.map((s) => s.id), ['S3', 'S4', 'S1']);
  next = applyPatch({ a: 1, b: { c: 2, d: 3 } }, { b: { $del: ['d'], c: null } });
  assert.deepStrictEqual(next, { a: 1, b: { c: null } });
  assert.deepStrictEqual(applyPatch([1, 2, 3], { $len: 4, $at: { 2: 5, 3: 6 } }), [1, 2, 5, 6]);
  assert.throws(() => applyPatch({ s: [] }, { $keyed: { s: [0] }, s: [] }), /keyed index/);
});

test('a snapshot starts the state; its charts are handed out as copies', () => {
  const msg = { type: 'snapshot', seq: 1, snapshot: { now: 'x' }, charts: { progress: { series: [] } } };
  const { state, charts } = startState(msg);
  assert.equal(state.snapshot, msg.snapshot);
  charts.progress.backgroundColor = 'transparent';
  assert.deepStrictEqual(state.charts.progress, { series: [] });
});
