import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
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
  ReducingStateDescriptor,
  ValueStateDescriptor,
} from '@weir/core';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';

// Snapshots that rebuild written key groups from the previous snapshot's bytes and the rows
// written since (no LevelDB read), for operators whose states all have one row per entry.

const DIR = join(tmpdir(), `weir-level-rebuild-test-${process.pid}`);
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

const MAX_PAR = 8;
const KEYS = 24;
const FILLED = 32;
const TTL_MS = 50;

const d = {
  v: new ValueStateDescriptor<number>('v'),
  r: new ReducingStateDescriptor<number>('r', (a, b) => a + b),
  t: new ValueStateDescriptor<string>('t').enableTimeToLive({ ttlMs: TTL_MS }),
};

function range(subtask: number, parallelism: number, clock: ManualClock, checkpointing = false) {
  return {
    operatorUid: 'op',
    subtaskIndex: subtask,
    keyGroupRange: keyGroupRangeFor(subtask, parallelism, MAX_PAR),
    maxParallelism: MAX_PAR,
    clock,
    checkpointing,
  };
}

const config: LevelStateBackendOptions = { dir: DIR, writeBufferSize: 3, cacheSize: 8, consolidateEvery: 1000 };

/**
 * @param checkpointing - created as for a job with checkpoints: rows are logged from the start
 *   and the first snapshot is built from them
 */
async function levels(parallelism: number, clock: ManualClock, checkpointing = false): Promise<LevelKeyedStateBackend[]> {
  const out: LevelKeyedStateBackend[] = [];
  for (let i = 0; i < parallelism; i++) {
    out.push(await new LevelStateBackend(config).createKeyedStateBackend(range(i, parallelism, clock, checkpointing)));
  }
  return out;
}

interface Model {
  v: Map<number, number>;
  r: Map<number, number>;
  /** Value and time of last write of the TTL state. */
  t: Map<number, { s: string; at: number }>;
}

type Write =
  | { op: 'v.put'; k: number; x: number }
  | { op: 'v.del'; k: number }
  | { op: 'r.add'; k: number; x: number }
  | { op: 'r.del'; k: number }
  | { op: 't.put'; k: number; s: string };
type Op =
  | Write
  | { op: 'tick'; ms: number }
  | { op: 'snapshot' }
  | { op: 'snapshotDuring'; writes: Write[] }
  | { op: 'restore'; parallelism: number };

const key = fc.integer({ min: 0, max: KEYS - 1 });
const writeArb: fc.Arbitrary<Write> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('v.put' as const), k: key, x: fc.integer() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('v.del' as const), k: key }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('r.add' as const), k: key, x: fc.integer({ min: -1000, max: 1000 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('r.del' as const), k: key }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('t.put' as const), k: key, s: fc.string({ maxLength: 3 }) }) },
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: writeArb },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 3, arbitrary: fc.constant({ op: 'snapshot' as const }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('snapshotDuring' as const), writes: fc.array(writeArb, { maxLength: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('restore' as const), parallelism: fc.integer({ min: 1, max: 3 }) }) },
);

function owner(bs: readonly KeyedStateBackend[], k: number): KeyedStateBackend {
  const kg = keyGroupFor(k, MAX_PAR);
  const b = bs.find((x) => kg >= x.keyGroupRange.start && kg <= x.keyGroupRange.end);
  if (b === undefined) throw new Error(`no backend owns key group ${kg}`);
  b.setCurrentKey(k);
  return b;
}

function applyWrite(bs: readonly KeyedStateBackend[], model: Model, op: Write, now: number): void {
  const b = owner(bs, op.k);
  switch (op.op) {
    case 'v.put':
      b.getValueState(d.v).update(op.x);
      model.v.set(op.k, op.x);
      break;
    case 'v.del':
      b.getValueState(d.v).clear();
      model.v.delete(op.k);
      break;
    case 'r.add':
      b.getReducingState(d.r).add(op.x);
      model.r.set(op.k, (model.r.get(op.k) ?? 0) + op.x);
      break;
    case 'r.del':
      b.getReducingState(d.r).clear();
      model.r.delete(op.k);
      break;
    case 't.put':
      b.getValueState(d.t).update(op.s);
      model.t.set(op.k, { s: op.s, at: now });
      break;
  }
}

/** What the backends hold for every key, in a comparable form (reads do not refresh TTL). */
function read(bs: readonly KeyedStateBackend[]): string[] {
  const out: string[] = [];
  for (let k = 0; k < FILLED; k++) {
    const b = owner(bs, k);
    out.push(`${k}|${String(b.getValueState(d.v).value())}|${String(b.getReducingState(d.r).get())}|${String(b.getValueState(d.t).value())}`);
  }
  return out;
}

function expected(model: Model, now: number): string[] {
  const out: string[] = [];
  for (let k = 0; k < FILLED; k++) {
    const t = model.t.get(k);
    const live = t !== undefined && t.at + TTL_MS > now ? t.s : undefined;
    out.push(`${k}|${String(model.v.get(k))}|${String(model.r.get(k))}|${String(live)}`);
  }
  return out;
}

function clone(model: Model): Model {
  return { v: new Map(model.v), r: new Map(model.r), t: new Map(model.t) };
}

function heapFrom(snaps: readonly KeyedStateSnapshot[], clock: ManualClock): KeyedStateBackend {
  const h = new HeapStateBackend().createKeyedStateBackend(range(0, 1, clock)) as KeyedStateBackend;
  h.restore(snaps);
  return h;
}

const counts = { rebuilt: 0, deltas: 0, scanned: 0 };

function count(bs: readonly LevelKeyedStateBackend[]): void {
  for (const b of bs) {
    const s = b.stats();
    counts.rebuilt += s.lastSnapshotRebuiltKeyGroups;
    counts.deltas += s.lastSnapshotDeltaKeyGroups;
    counts.scanned += s.lastSnapshotScannedKeyGroups;
  }
}

async function run(ops: readonly Op[], checkpointing: boolean): Promise<void> {
  const clock = new ManualClock(0);
  const model: Model = { v: new Map(), r: new Map(), t: new Map() };
  let bs = await levels(1, clock, checkpointing);
  try {
    for (let k = 0; k < FILLED; k++) {
      applyWrite(bs, model, { op: 'v.put', k, x: k }, clock.now());
      applyWrite(bs, model, { op: 'r.add', k, x: k }, clock.now());
    }
    await Promise.all(bs.map((b) => b.flush()));
    await Promise.all(bs.map((b) => b.snapshotAsync()));
    for (const op of ops) {
      if (op.op === 'tick') {
        clock.advance(op.ms);
        continue;
      }
      if (op.op === 'snapshot' || op.op === 'restore' || op.op === 'snapshotDuring') {
        // The snapshot is the state at the call, whatever is written while it is taken.
        const at = clone(model);
        const now = clock.now();
        const pending = Promise.all(bs.map((b) => b.snapshotAsync()));
        if (op.op === 'snapshotDuring') for (const w of op.writes) applyWrite(bs, model, w, clock.now());
        const snaps = await pending;
        count(bs);
        expect(read([heapFrom(snaps, clock)])).toEqual(expected(at, now));
        if (op.op === 'restore') {
          await Promise.all(bs.map((b) => b.dispose()));
          bs = await levels(op.parallelism, clock, checkpointing);
          for (const b of bs) b.restore(snaps);
          // Writes after the snapshot are not in it: the model goes back to it too.
          model.v = at.v;
          model.r = at.r;
          model.t = at.t;
        }
        continue;
      }
      applyWrite(bs, model, op, clock.now());
    }
    expect(read(bs)).toEqual(expected(model, clock.now()));
    const last = await Promise.all(bs.map((b) => b.snapshotAsync()));
    expect(read([heapFrom(last, clock)])).toEqual(expected(model, clock.now()));
  } finally {
    await Promise.all(bs.map((b) => b.dispose()));
  }
}

describe('LevelStateBackend rebuilt snapshots', () => {
  it('equal a brute-force model through rebuilds, deltas, TTL, writes during snapshots and restores at other parallelism', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 200 }), fc.boolean(), (ops, checkpointing) => run(ops, checkpointing)),
      { numRuns: 100 },
    );
    expect(counts.rebuilt).toBeGreaterThan(0);
    expect(counts.deltas).toBeGreaterThan(0);
  });

  it('rebuild every written key group without a LevelDB read when all rows change, and not when a state has several rows per entry', async () => {
    const clock = new ManualClock(0);
    const [b] = (await levels(1, clock)) as [LevelKeyedStateBackend];
    try {
      const v = b.getValueState(d.v);
      for (let k = 0; k < 200; k++) {
        b.setCurrentKey(k);
        v.update(k);
      }
      await b.snapshotAsync();
      expect(b.stats().lastSnapshotScannedKeyGroups).toBe(MAX_PAR);
      for (let round = 1; round <= 3; round++) {
        for (let k = 0; k < 200; k++) {
          b.setCurrentKey(k);
          v.update(k * round);
        }
        const snap = await b.snapshotAsync();
        expect(b.stats().lastSnapshotRebuiltKeyGroups).toBe(MAX_PAR);
        expect(b.stats().lastSnapshotScannedKeyGroups).toBe(0);
        const h = heapFrom([snap], clock);
        const hv = h.getValueState(d.v);
        for (let k = 0; k < 200; k++) {
          h.setCurrentKey(k);
          expect(hv.value()).toBe(k * round);
        }
        expect(h.numEntries()).toBe(200);
      }
      // A chain of deltas at its length limit is consolidated by a rebuild (newest record wins,
      // tombstones drop entries) into one base blob.
      const kg = keyGroupFor(3, MAX_PAR);
      let other = 4;
      while (keyGroupFor(other, MAX_PAR) !== kg) other++;
      let consolidated = 0;
      for (let round = 1; round <= 12; round++) {
        b.setCurrentKey(3);
        v.update(-round);
        if (round === 2) {
          b.setCurrentKey(other);
          v.clear();
        }
        const snap = await b.snapshotAsync();
        const blobs = snap.states.find((st) => st.name === 'v')?.keyGroups.filter((g) => g.keyGroup === kg) ?? [];
        if (b.stats().lastSnapshotRebuiltKeyGroups === 1) {
          consolidated++;
          expect(blobs.length).toBe(1);
        } else expect(b.stats().lastSnapshotDeltaKeyGroups).toBe(1);
        const h = heapFrom([snap], clock);
        const hv = h.getValueState(d.v);
        h.setCurrentKey(3);
        expect(hv.value()).toBe(-round);
        h.setCurrentKey(other);
        expect(hv.value()).toBe(round >= 2 ? undefined : other * 3);
        expect(h.numEntries()).toBe(round >= 2 ? 199 : 200);
      }
      expect(consolidated).toBeGreaterThan(0);
      // A list state (several rows per entry) turns rebuilds off: written key groups are read.
      b.getListState(new ListStateDescriptor<number>('l'));
      for (let k = 0; k < 200; k++) {
        b.setCurrentKey(k);
        v.update(-k);
      }
      await b.snapshotAsync();
      expect(b.stats().lastSnapshotRebuiltKeyGroups).toBe(0);
      expect(b.stats().lastSnapshotScannedKeyGroups).toBe(MAX_PAR);
    } finally {
      await b.dispose();
    }
  });

  it('build the first snapshot of a job with checkpoints from the logged rows, also after a restore at another parallelism', async () => {
    const clock = new ManualClock(0);
    const [b] = (await levels(1, clock, true)) as [LevelKeyedStateBackend];
    let restored: LevelKeyedStateBackend[] = [];
    try {
      // Nothing written: an empty snapshot, no read.
      const empty = await b.snapshotAsync();
      expect(b.stats().lastSnapshotScannedKeyGroups).toBe(0);
      expect(heapFrom([empty], clock).numEntries()).toBe(0);
      const v = b.getValueState(d.v);
      for (let k = 0; k < 200; k++) {
        b.setCurrentKey(k);
        v.update(k + 1);
      }
      // Some key groups only: key 0's.
      const only0 = keyGroupFor(0, MAX_PAR);
      let written = 0;
      for (let k = 0; k < 200; k++) if (keyGroupFor(k, MAX_PAR) === only0) written++;
      const first = await b.snapshotAsync();
      expect(b.stats().lastSnapshotScannedKeyGroups).toBe(0);
      expect(b.stats().lastSnapshotRebuiltKeyGroups).toBe(MAX_PAR);
      const h = heapFrom([first], clock);
      const hv = h.getValueState(d.v);
      for (let k = 0; k < 200; k++) {
        h.setCurrentKey(k);
        expect(hv.value()).toBe(k + 1);
      }
      expect(h.numEntries()).toBe(200);
      // Restored at parallelism 2 with checkpoints: the restored rows are logged as well.
      restored = await levels(2, clock, true);
      for (const r of restored) r.restore([first]);
      for (const r of restored) r.getValueState(d.v);
      const again = await Promise.all(restored.map((r) => r.snapshotAsync()));
      for (const r of restored) expect(r.stats().lastSnapshotScannedKeyGroups).toBe(0);
      const h2 = heapFrom(again, clock);
      const hv2 = h2.getValueState(d.v);
      for (let k = 0; k < 200; k++) {
        h2.setCurrentKey(k);
        expect(hv2.value()).toBe(k + 1);
      }
      expect(h2.numEntries()).toBe(200);
      // A list state: the first snapshot reads the written key groups only.
      const [c] = (await levels(1, clock, true)) as [LevelKeyedStateBackend];
      try {
        const l = c.getListState(new ListStateDescriptor<number>('l'));
        for (let k = 0; k < 200; k++) {
          if (keyGroupFor(k, MAX_PAR) !== only0) continue;
          c.setCurrentKey(k);
          l.add(k);
        }
        const snap = await c.snapshotAsync();
        expect(c.stats().lastSnapshotScannedKeyGroups).toBe(1);
        const h3 = heapFrom([snap], clock);
        const hl = h3.getListState(new ListStateDescriptor<number>('l'));
        expect(h3.numEntries()).toBe(written);
        h3.setCurrentKey(0);
        expect(hl.get()).toEqual([0]);
      } finally {
        await c.dispose();
      }
    } finally {
      await b.dispose();
      await Promise.all(restored.map((r) => r.dispose()));
    }
  });
});
