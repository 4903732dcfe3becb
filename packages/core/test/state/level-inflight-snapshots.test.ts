import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  HeapStateBackend,
  type KeyedStateBackend,
  type KeyedStateSnapshot,
  keyGroupRangeFor,
  type LevelKeyedStateBackend,
  LevelStateBackend,
  ManualClock,
  ValueStateDescriptor,
} from '@weir/core';
import { afterAll, describe, expect, it } from 'vitest';

// Snapshots taken while a write batch is in flight (handed to LevelDB, not yet written): the
// batch's rows must be in the snapshot whether they were flushed since the previous capture
// (then they are in the log of changed rows) or before it (then only in the in-flight map), and
// rows written again after the batch left (in the write buffer) win over the batch's.

const DIR = join(tmpdir(), `weir-level-inflight-test-${process.pid}`);
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

const MAX_PAR = 8;
const KEYS = 200;
const v = new ValueStateDescriptor<number>('v');

function heapValues(snaps: readonly KeyedStateSnapshot[], clock: ManualClock): Map<number, number> {
  const h = new HeapStateBackend().createKeyedStateBackend({
    operatorUid: 'op',
    subtaskIndex: 0,
    keyGroupRange: keyGroupRangeFor(0, 1, MAX_PAR),
    maxParallelism: MAX_PAR,
    clock,
  }) as KeyedStateBackend;
  h.restore(snaps);
  const hv = h.getValueState(v);
  const out = new Map<number, number>();
  for (let k = 0; k < KEYS; k++) {
    h.setCurrentKey(k);
    const x = hv.value();
    if (x !== undefined) out.set(k, x);
  }
  expect(h.numEntries()).toBe(out.size);
  return out;
}

type Path = 'delta' | 'rebuild' | 'scan';

async function scenario(path: Path): Promise<void> {
  const clock = new ManualClock(0);
  const backend = new LevelStateBackend({
    dir: join(DIR, path),
    writeBufferSize: 3,
    cacheSize: 8,
    // Every snapshot reads LevelDB in full on the 'scan' path.
    consolidateEvery: path === 'scan' ? 1 : 1000,
  });
  const b: LevelKeyedStateBackend = await backend.createKeyedStateBackend({
    operatorUid: 'op',
    subtaskIndex: 0,
    keyGroupRange: keyGroupRangeFor(0, 1, MAX_PAR),
    maxParallelism: MAX_PAR,
    clock,
  });
  const vs = b.getValueState(v);
  const model = new Map<number, number>();
  const put = (k: number, x: number): void => {
    b.setCurrentKey(k);
    vs.update(x);
    model.set(k, x);
  };
  const del = (k: number): void => {
    b.setCurrentKey(k);
    vs.clear();
    model.delete(k);
  };
  try {
    for (let k = 0; k < KEYS; k++) put(k, k);
    await b.flush();
    await b.snapshotAsync();
    // Few changed keys per key group give deltas; all keys changed give rebuilds.
    const changedKeys = path === 'delta' ? 10 : KEYS;
    const flushesBefore = b.stats().flushes;
    // The first writeBufferSize rows leave as a batch (in flight until LevelDB wrote it); the
    // rest wait in the write buffer. Keys 0 and 1 are in the batch: 0 is written again (write
    // buffer over batch), 1 is deleted again; 2 is in the batch only.
    for (let k = 0; k < changedKeys; k++) put(k, 1000 + k);
    expect(b.stats().flushes).toBe(flushesBefore + 1);
    put(0, -100);
    del(1);
    del(7);
    const atFirst = new Map(model);
    // Capture while the batch is in flight, flushed since the previous capture.
    const first = b.snapshotAsync().then((snap) => ({ snap, stats: b.stats() }));
    // Written while the snapshot is taken: not in it.
    put(4, -400);
    put(0, -300);
    put(5, -500);
    const atSecond = new Map(model);
    // Capture again, the same batch still in flight, now flushed before the previous capture;
    // key 2 is in the batch only (a full read of LevelDB may not see it yet), key 0 also in the
    // write buffer, newer.
    expect(b.stats().flushes).toBe(flushesBefore + 1);
    const second = b.snapshotAsync();
    put(3, -3000);
    const [{ snap: s1, stats }, s2] = await Promise.all([first, second]);
    // The path the first snapshot took (the second one writes few rows).
    if (path === 'delta') expect(stats.lastSnapshotDeltaKeyGroups).toBeGreaterThan(0);
    if (path === 'rebuild') expect(stats.lastSnapshotRebuiltKeyGroups).toBe(MAX_PAR);
    if (path === 'scan') expect(stats.lastSnapshotScannedKeyGroups).toBe(MAX_PAR);
    expect(heapValues([s1], clock)).toEqual(atFirst);
    expect(heapValues([s2], clock)).toEqual(atSecond);
    // And the snapshot after them, with nothing in flight.
    await b.flush();
    const s3 = await b.snapshotAsync();
    expect(heapValues([s3], clock)).toEqual(model);
    for (let k = 0; k < KEYS; k++) {
      b.setCurrentKey(k);
      expect(vs.value()).toBe(model.get(k));
    }
  } finally {
    await b.dispose();
  }
}

describe('LevelStateBackend snapshots with a write batch in flight', () => {
  it('hold the batch and the write buffer over it, on the delta path', () => scenario('delta'));
  it('hold the batch and the write buffer over it, on the rebuild path', () => scenario('rebuild'));
  it('hold the batch and the write buffer over it, on the full-read path', () => scenario('scan'));
});
