import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CheckpointStorage,
  HeapStateBackend,
  type KeyedStateBackend,
  type KeyedStateSnapshot,
  keyGroupFor,
  keyGroupRangeFor,
  type LevelKeyedStateBackend,
  LevelStateBackend,
  type LevelStateBackendOptions,
  ListStateDescriptor,
  ManualClock,
  MapStateDescriptor,
  ValueStateDescriptor,
} from '@weir/core';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isDelta } from '../../src/state/keyGroupFormat.js';

const DIR = join(tmpdir(), `weir-level-delta-test-${process.pid}`);
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

/** Few key groups, so that each holds enough rows for a handful of changes to be "few". */
const MAX_PAR = 8;
/** Keys the random operations touch (a subset of the keys filled in first). */
const KEYS = 24;
/** Keys filled in before the operations, so that key groups have a base worth a delta. */
const FILLED = 32;

const d = {
  v: new ValueStateDescriptor<number>('v'),
  l: new ListStateDescriptor<number>('l'),
  m: new MapStateDescriptor<string, number>('m'),
};

function range(subtask: number, parallelism: number) {
  return {
    operatorUid: 'op',
    subtaskIndex: subtask,
    keyGroupRange: keyGroupRangeFor(subtask, parallelism, MAX_PAR),
    maxParallelism: MAX_PAR,
    clock: new ManualClock(0),
  };
}

const config: LevelStateBackendOptions = { dir: DIR, writeBufferSize: 3, listChunkSize: 2, cacheSize: 8, consolidateEvery: 1000 };

async function levels(parallelism: number): Promise<LevelKeyedStateBackend[]> {
  const out: LevelKeyedStateBackend[] = [];
  for (let i = 0; i < parallelism; i++) out.push(await new LevelStateBackend(config).createKeyedStateBackend(range(i, parallelism)));
  return out;
}

/** Brute-force model: what each state holds per key. */
interface Model {
  v: Map<number, number>;
  l: Map<number, number[]>;
  m: Map<number, Map<string, number>>;
}

type Op =
  | { op: 'v.put'; k: number; x: number }
  | { op: 'v.del'; k: number }
  | { op: 'l.add'; k: number; x: number }
  | { op: 'l.update'; k: number; xs: number[] }
  | { op: 'l.del'; k: number }
  | { op: 'm.put'; k: number; uk: string; x: number }
  | { op: 'm.remove'; k: number; uk: string }
  | { op: 'm.del'; k: number }
  | { op: 'snapshot' }
  | { op: 'restore'; parallelism: number };

const key = fc.integer({ min: 0, max: KEYS - 1 });
const uk = fc.constantFrom('a', 'b', 'c', 'd');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('v.put' as const), k: key, x: fc.integer() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('v.del' as const), k: key }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('l.add' as const), k: key, x: fc.integer() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('l.update' as const), k: key, xs: fc.array(fc.integer(), { maxLength: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('l.del' as const), k: key }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('m.put' as const), k: key, uk, x: fc.integer() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('m.remove' as const), k: key, uk }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('m.del' as const), k: key }) },
  { weight: 3, arbitrary: fc.constant({ op: 'snapshot' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('restore' as const), parallelism: fc.integer({ min: 1, max: 3 }) }) },
);

function owner(bs: readonly KeyedStateBackend[], k: number): KeyedStateBackend {
  const kg = keyGroupFor(k, MAX_PAR);
  const b = bs.find((x) => kg >= x.keyGroupRange.start && kg <= x.keyGroupRange.end);
  if (b === undefined) throw new Error(`no backend owns key group ${kg}`);
  b.setCurrentKey(k);
  return b;
}

function applyOp(bs: readonly KeyedStateBackend[], model: Model, op: Exclude<Op, { op: 'snapshot' | 'restore' }>): void {
  const b = owner(bs, op.k);
  const v = b.getValueState(d.v);
  const l = b.getListState(d.l);
  const m = b.getMapState(d.m);
  switch (op.op) {
    case 'v.put':
      v.update(op.x);
      model.v.set(op.k, op.x);
      break;
    case 'v.del':
      v.clear();
      model.v.delete(op.k);
      break;
    case 'l.add':
      l.add(op.x);
      model.l.set(op.k, [...(model.l.get(op.k) ?? []), op.x]);
      break;
    case 'l.update':
      l.update(op.xs);
      if (op.xs.length === 0) model.l.delete(op.k);
      else model.l.set(op.k, [...op.xs]);
      break;
    case 'l.del':
      l.clear();
      model.l.delete(op.k);
      break;
    case 'm.put': {
      m.put(op.uk, op.x);
      const mm = model.m.get(op.k) ?? new Map<string, number>();
      mm.set(op.uk, op.x);
      model.m.set(op.k, mm);
      break;
    }
    case 'm.remove': {
      m.remove(op.uk);
      const mm = model.m.get(op.k);
      mm?.delete(op.uk);
      if (mm?.size === 0) model.m.delete(op.k);
      break;
    }
    case 'm.del':
      m.clear();
      model.m.delete(op.k);
      break;
  }
}

/** What the backends hold for every key filled or touched, in a comparable form. */
function read(bs: readonly KeyedStateBackend[]): string[] {
  const out: string[] = [];
  for (let k = 0; k < FILLED; k++) {
    const b = owner(bs, k);
    const v = b.getValueState(d.v).value();
    const l = [...(b.getListState(d.l).get() ?? [])];
    const m = [...b.getMapState(d.m).entries()].sort((x, y) => (x[0] < y[0] ? -1 : 1));
    out.push(`${k}|${String(v)}|${JSON.stringify(l)}|${JSON.stringify(m)}`);
  }
  return out;
}

function expected(model: Model): string[] {
  const out: string[] = [];
  for (let k = 0; k < FILLED; k++) {
    const m = [...(model.m.get(k) ?? new Map<string, number>())].sort((x, y) => (x[0] < y[0] ? -1 : 1));
    out.push(`${k}|${String(model.v.get(k))}|${JSON.stringify(model.l.get(k) ?? [])}|${JSON.stringify(m)}`);
  }
  return out;
}

function heapFrom(snaps: readonly KeyedStateSnapshot[]): KeyedStateBackend {
  const h = new HeapStateBackend().createKeyedStateBackend(range(0, 1)) as KeyedStateBackend;
  h.restore(snaps);
  return h;
}

const counts = { deltaKeyGroups: 0, consolidations: 0, deltaBlobs: 0 };

async function run(ops: readonly Op[]): Promise<void> {
  const model: Model = { v: new Map(), l: new Map(), m: new Map() };
  let bs = await levels(1);
  // Snapshots taken by each backend since it was created (its first one is always full).
  let taken = 0;
  try {
    for (let k = 0; k < FILLED; k++) {
      applyOp(bs, model, { op: 'v.put', k, x: k });
      applyOp(bs, model, { op: 'l.update', k, xs: [k, k + 1, k + 2] });
      applyOp(bs, model, { op: 'm.put', k, uk: 'a', x: k });
      applyOp(bs, model, { op: 'm.put', k, uk: 'b', x: -k });
    }
    await Promise.all(bs.map((b) => b.flush()));
    await Promise.all(bs.map((b) => b.snapshotAsync()));
    taken = 1;
    for (const op of ops) {
      if (op.op === 'snapshot' || op.op === 'restore') {
        const snaps = await Promise.all(bs.map((b) => b.snapshotAsync()));
        for (const b of bs) {
          const s = b.stats();
          counts.deltaKeyGroups += s.lastSnapshotDeltaKeyGroups;
          if (taken > 0 && s.lastSnapshotScannedKeyGroups > 0) counts.consolidations++;
        }
        taken++;
        for (const snap of snaps) for (const st of snap.states) counts.deltaBlobs += st.keyGroups.filter((g) => isDelta(g.data)).length;
        // The snapshot restores into the heap backend to the model's state...
        expect(read([heapFrom(snaps)])).toEqual(expected(model));
        if (op.op === 'restore') {
          // ...and into LevelDB backends at another parallelism, which then carry on.
          await Promise.all(bs.map((b) => b.dispose()));
          bs = await levels(op.parallelism);
          for (const b of bs) b.restore(snaps);
          taken = 0;
        }
        continue;
      }
      applyOp(bs, model, op);
    }
    expect(read(bs)).toEqual(expected(model));
    const last = await Promise.all(bs.map((b) => b.snapshotAsync()));
    expect(read([heapFrom(last)])).toEqual(expected(model));
  } finally {
    await Promise.all(bs.map((b) => b.dispose()));
  }
}

describe('LevelStateBackend delta snapshots', () => {
  it('equal a brute-force model through snapshots, deltas, consolidation and restores at other parallelism', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 200 }), (ops) => run(ops)),
      {
        numRuns: 100,
        // One run that surely takes both paths: one changed row per snapshot gives a key group
        // a delta each time until its chain reaches the length limit, then a consolidation.
        examples: [[Array.from({ length: 12 }, (_, i): Op[] => [{ op: 'v.put', k: 0, x: i }, { op: 'snapshot' }]).flat()]],
      },
    );
    // Both paths were taken: deltas written, and key groups read in full again after a chain.
    expect(counts.deltaKeyGroups).toBeGreaterThan(0);
    expect(counts.deltaBlobs).toBeGreaterThan(0);
    expect(counts.consolidations).toBeGreaterThan(0);
  });

  it('write a delta after the very same base bytes, and consolidate a long chain', async () => {
    const [b] = (await levels(1)) as [LevelKeyedStateBackend];
    try {
      const model: Model = { v: new Map(), l: new Map(), m: new Map() };
      for (let k = 0; k < FILLED; k++) applyOp([b], model, { op: 'v.put', k, x: k });
      await b.flush();
      const s1 = await b.snapshotAsync();
      let base = s1.states.find((st) => st.name === 'v')?.keyGroups.find((g) => g.keyGroup === keyGroupFor(3, MAX_PAR));
      let chain = 0;
      let deltas = 0;
      let consolidated = 0;
      let sameGroup = 4;
      while (keyGroupFor(sameGroup, MAX_PAR) !== keyGroupFor(3, MAX_PAR)) sameGroup++;
      for (let round = 1; round <= 12; round++) {
        applyOp([b], model, { op: 'v.put', k: 3, x: -round });
        // A deletion in the same key group: a tombstone in that delta.
        if (round === 2) applyOp([b], model, { op: 'v.del', k: sameGroup });
        const s = await b.snapshotAsync();
        const blobs = s.states.find((st) => st.name === 'v')?.keyGroups.filter((g) => g.keyGroup === keyGroupFor(3, MAX_PAR)) ?? [];
        if (b.stats().lastSnapshotDeltaKeyGroups === 1) {
          chain++;
          deltas++;
          // The base is the previous snapshot's object (stored once), then one delta per snapshot.
          expect(blobs[0]?.data).toBe(base?.data);
          expect(blobs.length).toBe(chain + 1);
          expect(blobs.slice(1).every((g) => isDelta(g.data))).toBe(true);
        } else {
          // The chain got too long: read in full again.
          expect(b.stats().lastSnapshotScannedKeyGroups).toBe(1);
          expect(blobs.length).toBe(1);
          base = blobs[0];
          chain = 0;
          consolidated++;
        }
        expect(read([heapFrom([s])])).toEqual(expected(model));
      }
      expect(deltas).toBeGreaterThan(1);
      expect(consolidated).toBeGreaterThan(0);
    } finally {
      await b.dispose();
    }
  });

  it('go through checkpoint storage: a large base referenced again is not written again', async () => {
    const [b] = (await levels(1)) as [LevelKeyedStateBackend];
    const storage = new CheckpointStorage(join(DIR, 'checkpoints'));
    const payload = 'x'.repeat(200);
    const sd = new ValueStateDescriptor<string>('big');
    const meta = (checkpointId: number) => ({
      job: 'delta',
      checkpointId,
      timestamp: 0,
      maxParallelism: MAX_PAR,
      operators: [{ uid: 'op', name: 'op', parallelism: 1 }],
    });
    const subtask = (keyed: KeyedStateSnapshot) => ({
      uid: 'op',
      subtask: 0,
      parallelism: 1,
      keyGroupRange: b.keyGroupRange,
      keyed,
      timers: [],
      operatorState: {},
    });
    try {
      const big = b.getValueState(sd);
      // ~20 000 × 200 B over 8 key groups: every base blob is well above the 256 KiB of shared/.
      for (let k = 0; k < 20_000; k++) {
        b.setCurrentKey(k);
        big.update(`${k}:${payload}`);
      }
      await b.flush();
      const first = await storage.write(meta(1), [subtask(await b.snapshotAsync())]);
      expect(first.sizeBytes).toBeGreaterThan(20_000 * 200);
      b.setCurrentKey(7);
      big.update('changed');
      b.setCurrentKey(8);
      big.clear();
      const second = await storage.write(meta(2), [subtask(await b.snapshotAsync())]);
      expect(b.stats().lastSnapshotDeltaKeyGroups).toBeGreaterThan(0);
      // Only the state file with its small deltas is new.
      expect(second.sizeBytes).toBeLessThan(10_000);
      const restored = await storage.load(second.path);
      const h = new HeapStateBackend().createKeyedStateBackend(range(0, 1)) as KeyedStateBackend;
      const hv = h.getValueState(sd);
      h.restore((restored.snapshots.get('op') ?? []).flatMap((x) => (x.keyed !== undefined ? [x.keyed] : [])));
      h.setCurrentKey(7);
      expect(hv.value()).toBe('changed');
      h.setCurrentKey(8);
      expect(hv.value()).toBeUndefined();
      h.setCurrentKey(9);
      expect(hv.value()).toBe(`9:${payload}`);
      expect(h.numEntries()).toBe(19_999);
    } finally {
      await b.dispose();
    }
  });

  it('refuse a truncated delta and a delta without its base, in both backends', async () => {
    const [b] = (await levels(1)) as [LevelKeyedStateBackend];
    let snap: KeyedStateSnapshot;
    try {
      const model: Model = { v: new Map(), l: new Map(), m: new Map() };
      for (let k = 0; k < FILLED; k++) applyOp([b], model, { op: 'v.put', k, x: k });
      await b.flush();
      await b.snapshotAsync();
      applyOp([b], model, { op: 'v.put', k: 7, x: 700 });
      applyOp([b], model, { op: 'v.del', k: 8 });
      snap = await b.snapshotAsync();
    } finally {
      await b.dispose();
    }
    const v = snap.states.find((st) => st.name === 'v');
    const i = v?.keyGroups.findIndex((g) => isDelta(g.data)) ?? -1;
    expect(i).toBeGreaterThan(0);
    const delta = v?.keyGroups[i]?.data as Uint8Array;
    const withBlob = (replace: (gs: KeyedStateSnapshot['states'][number]['keyGroups']) => KeyedStateSnapshot['states'][number]['keyGroups']): KeyedStateSnapshot => ({
      ...snap,
      states: snap.states.map((st) => (st.name === 'v' ? { ...st, keyGroups: replace(st.keyGroups) } : st)),
    });
    // Sound as written.
    const ok = heapFrom([snap]);
    ok.getValueState(d.v);
    for (let cut = 1; cut < delta.length; cut++) {
      const bad = withBlob((gs) => gs.map((g, j) => (j === i ? { keyGroup: g.keyGroup, data: delta.subarray(0, cut) } : g)));
      const h = new HeapStateBackend().createKeyedStateBackend(range(0, 1)) as KeyedStateBackend;
      h.getValueState(d.v);
      expect(() => h.restore([bad]), `delta cut to ${cut} bytes`).toThrow(/truncated|malformed/);
    }
    const [l] = await levels(1);
    try {
      (l as LevelKeyedStateBackend).getValueState(d.v);
      const bad = withBlob((gs) => gs.map((g, j) => (j === i ? { keyGroup: g.keyGroup, data: delta.subarray(0, delta.length - 1) } : g)));
      expect(() => (l as LevelKeyedStateBackend).restore([bad])).toThrow(/truncated|malformed/);
      const orphan = withBlob((gs) => gs.filter((_, j) => j !== i - 1));
      expect(() => (l as LevelKeyedStateBackend).restore([orphan])).toThrow(/delta without its base/);
    } finally {
      await (l as LevelKeyedStateBackend).dispose();
    }
  });
});
