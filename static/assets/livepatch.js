// livepatch.js: the live stream's updates carry patches, not figures: what
// changed in the snapshot and in the charts since the previous seq. This
// module applies them; it touches no page, so node's test runner loads it
// as it is (static/e2e/livepatch.test.mjs). The format is the server's
// (readmodel/patch.go), a JSON merge patch (RFC 7396) with three changes:
//
// - An object patch holds the members that changed; each is the patch of
//   the old member (an object is merged into the old object, anything else
//   replaces it). "$del" lists members to delete; null is a value.
// - Lists of objects with ids (stations, districts, attention lists, moves,
//   alerts) are patched by id: "$keyed" names such a member, whose patch is
//   a list of element patches each carrying its "id" (a new element comes
//   whole). "$keyed"'s value is true when the ids keep their order, else the
//   new list: the old index of an element kept, the id of a new one.
// - Other lists come whole, or as {"$len": n, "$at": {"i": patch}}.
//
// Patches are applied without changing what they are applied to: the
// result shares the members that did not change with it.

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const own = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

/**
 * applyPatch returns prev with patch applied. prev is not modified; the
 * result shares what did not change. It throws on a patch that does not
 * fit prev (the caller then asks for a fresh snapshot).
 */
export function applyPatch(prev, patch) {
  if (!isObj(patch)) return patch; // a value replaces what was there
  if (own(patch, '$len')) return applyIndex(prev, patch.$len, patch.$at || {});
  const base = isObj(prev) ? prev : {};
  const out = { ...base };
  if (own(patch, '$del')) {
    if (!Array.isArray(patch.$del)) throw new Error('livepatch: $del is not a list');
    for (const k of patch.$del) delete out[k];
  }
  const keyed = isObj(patch.$keyed) ? patch.$keyed : {};
  for (const k of Object.keys(patch)) {
    if (k === '$del' || k === '$keyed') continue;
    out[k] = own(keyed, k) ? applyKeyed(base[k], patch[k], keyed[k]) : applyPatch(base[k], patch[k]);
  }
  return out;
}

function applyKeyed(prev, elems, order) {
  if (!Array.isArray(elems)) throw new Error('livepatch: a keyed patch is not a list');
  const old = Array.isArray(prev) ? prev : [];
  const byId = new Map();
  for (const e of old) if (isObj(e)) byId.set(e.id, e);
  const patched = new Map();
  for (const e of elems) {
    if (!isObj(e) || typeof e.id !== 'string') throw new Error('livepatch: a keyed element without an id');
    patched.set(e.id, applyPatch(byId.get(e.id), e));
  }
  if (order === true) return old.map((e) => (isObj(e) && patched.has(e.id) ? patched.get(e.id) : e));
  if (!Array.isArray(order)) throw new Error('livepatch: a keyed order is not a list');
  return order.map((x) => {
    let id = x;
    if (typeof x === 'number') {
      if (!isObj(old[x])) throw new Error('livepatch: keyed index ' + x + ' of ' + old.length);
      id = old[x].id;
    }
    if (patched.has(id)) return patched.get(id);
    if (byId.has(id)) return byId.get(id);
    throw new Error('livepatch: id ' + id + ' is neither kept nor sent');
  });
}

function applyIndex(prev, n, at) {
  if (!Number.isInteger(n) || n < 0) throw new Error('livepatch: $len ' + n);
  const old = Array.isArray(prev) ? prev : [];
  const out = old.slice(0, n);
  while (out.length < n) out.push(null);
  for (const k of Object.keys(at)) {
    const i = Number(k);
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new Error('livepatch: $at index ' + k);
    out[i] = applyPatch(i < old.length ? old[i] : undefined, at[k]);
  }
  return out;
}

const copy = (v) => (typeof structuredClone === 'function' ? structuredClone(v) : JSON.parse(JSON.stringify(v)));

/**
 * startState is the state a snapshot message gives: {snapshot, charts},
 * and copies of its charts for drawing (a chart library may change the
 * options it is given, and the next patches apply to the originals).
 */
export function startState(msg) {
  const state = { snapshot: msg.snapshot, charts: msg.charts || {} };
  return { state, charts: copy(state.charts) };
}

/**
 * applyUpdate is the state after update message msg (applied to the state
 * of the seq before it), and copies of the charts it changed (null when
 * it changed none), each a complete option.
 */
export function applyUpdate(state, msg) {
  const next = {
    snapshot: msg.snapshot ? applyPatch(state.snapshot, msg.snapshot) : state.snapshot,
    charts: msg.charts ? applyPatch(state.charts || {}, msg.charts) : state.charts,
  };
  let charts = null;
  if (msg.charts) {
    charts = {};
    for (const k of Object.keys(msg.charts)) if (k[0] !== '$' && next.charts[k]) charts[k] = copy(next.charts[k]);
  }
  return { state: next, charts };
}
