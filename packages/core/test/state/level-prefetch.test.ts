import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyGroupFor, type LevelKeyedStateBackend, LevelStateBackend, ManualClock, ReducingStateDescriptor, ValueStateDescriptor } from '@weir/core';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';

const DIR = join(tmpdir(), `weir-level-prefetch-test-${process.pid}`);
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

const options = { operatorUid: 'op', subtaskIndex: 0, keyGroupRange: { start: 0, end: 127 }, maxParallelism: 128, clock: new ManualClock(0) };
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('LevelKeyedStateBackend.prefetch', () => {
  it('reads uncached rows with one getMany: processing them then reads nothing synchronously', async () => {
    const b: LevelKeyedStateBackend = await new LevelStateBackend({ dir: DIR, cacheSize: 1000, writeBufferSize: 50 }).createKeyedStateBackend(options);
    const v = b.getValueState(new ValueStateDescriptor<number>('v'));
    const r = b.getReducingState(new ReducingStateDescriptor<number>('r', (x, y) => x + y));
    for (let k = 0; k < 1000; k++) {
      b.setCurrentKey(k);
      v.update(k);
      if (k % 2 === 0) r.add(1);
    }
    await b.flush();
    b.dropCache();
    const keys = Array.from({ length: 40 }, (_, i) => i * 7);
    const pending = b.prefetch(keys);
    expect(pending).toBeDefined();
    await pending;
    const before = b.stats();
    expect(before.prefetched).toBe(80); // two states × 40 keys
    for (const k of keys) {
      b.setCurrentKey(k);
      expect(v.value()).toBe(k);
      expect(r.get()).toBe(k % 2 === 0 ? 1 : undefined);
    }
    expect(b.stats().dbReads).toBe(before.dbReads);
    // Everything is in memory now: nothing to prefetch, and no promise.
    expect(b.prefetch(keys)).toBeUndefined();
    // Keys of other subtasks' key groups are ignored.
    const part = await new LevelStateBackend({ dir: DIR }).createKeyedStateBackend({ ...options, keyGroupRange: { start: 0, end: 0 } });
    part.getValueState(new ValueStateDescriptor<number>('v'));
    const foreign = Array.from({ length: 50 }, (_, i) => i).filter((k) => keyGroupFor(k, 128) !== 0);
    expect(part.prefetch(foreign)).toBeUndefined();
    await part.dispose();
    await b.dispose();
  });

  it('a row written, flushed and evicted while its prefetch was in flight keeps the written value', async () => {
    // Cache of 2 rows: every insert starts a new generation, so rows leave it quickly.
    const b = await new LevelStateBackend({ dir: DIR, cacheSize: 2, writeBufferSize: 1 }).createKeyedStateBackend(options);
    const v = b.getValueState(new ValueStateDescriptor<number>('v'));
    const db = (b as unknown as { db: { getMany: (keys: Buffer[]) => Promise<unknown[]> } }).db;
    const getMany = db.getMany.bind(db);
    let open: (() => void) | undefined;
    db.getMany = (keys) => {
      const read = getMany(keys);
      return new Promise((resolve, reject) => {
        open = () => void read.then(resolve, reject);
      });
    };
    for (const k of [1, 2, 3, 4]) {
      b.setCurrentKey(k);
      v.update(k);
    }
    await b.flush();
    b.dropCache();
    const pending = b.prefetch([1]); // reads 1 → 1 from a LevelDB snapshot taken now
    expect(pending).toBeDefined();
    b.setCurrentKey(1);
    v.update(10);
    await b.flush();
    for (const k of [2, 3, 4, 2, 3, 4]) {
      b.setCurrentKey(k);
      v.value();
    }
    (open as () => void)();
    await pending;
    b.setCurrentKey(1);
    expect(v.value()).toBe(10);
    await b.dispose();
  });

  it('never hides a write: prefetches completing at any point between writes, flushes and evictions (model test)', async () => {
    type Op =
      | { op: 'write'; key: number; value: number }
      | { op: 'delete'; key: number }
      | { op: 'prefetch'; keys: number[] }
      | { op: 'read'; key: number }
      | { op: 'tick' }
      | { op: 'release' }
      | { op: 'flush' }
      | { op: 'drop' };
    const key = fc.integer({ min: 0, max: 15 });
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ op: fc.constant('write' as const), key, value: fc.integer({ min: 0, max: 99 }) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), key }) },
      { weight: 3, arbitrary: fc.record({ op: fc.constant('prefetch' as const), keys: fc.array(key, { minLength: 1, maxLength: 8 }) }) },
      { weight: 4, arbitrary: fc.record({ op: fc.constant('read' as const), key }) },
      { weight: 2, arbitrary: fc.constant({ op: 'tick' as const }) },
      { weight: 2, arbitrary: fc.constant({ op: 'release' as const }) },
      { weight: 1, arbitrary: fc.constant({ op: 'flush' as const }) },
      { weight: 1, arbitrary: fc.constant({ op: 'drop' as const }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 80 }), fc.integer({ min: 2, max: 8 }), fc.integer({ min: 1, max: 4 }), async (ops, cacheSize, writeBufferSize) => {
        const b = await new LevelStateBackend({ dir: DIR, cacheSize, writeBufferSize }).createKeyedStateBackend(options);
        const v = b.getValueState(new ValueStateDescriptor<number>('v'));
        // getMany reads LevelDB at the call (a LevelDB snapshot), but its result is handed back
        // only at a 'release': the test decides how much happens in between.
        const db = (b as unknown as { db: { getMany: (keys: Buffer[]) => Promise<unknown[]> } }).db;
        const getMany = db.getMany.bind(db);
        const gate: Array<() => void> = [];
        db.getMany = (keys) => {
          const read = getMany(keys);
          return new Promise((resolve, reject) => gate.push(() => void read.then(resolve, reject)));
        };
        const releaseAll = async (): Promise<void> => {
          for (const open of gate.splice(0)) open();
          await Promise.all(pending.splice(0));
        };
        const model = new Map<number, number>();
        const pending: Array<Promise<void>> = [];
        try {
          for (const o of ops) {
            switch (o.op) {
              case 'write':
                b.setCurrentKey(o.key);
                v.update(o.value);
                model.set(o.key, o.value);
                break;
              case 'delete':
                b.setCurrentKey(o.key);
                v.clear();
                model.delete(o.key);
                break;
              case 'prefetch': {
                // Not awaited: it completes whenever the event loop gets to it.
                const p = b.prefetch(o.keys);
                if (p !== undefined) pending.push(p);
                break;
              }
              case 'read':
                b.setCurrentKey(o.key);
                expect(v.value()).toBe(model.get(o.key));
                break;
              case 'tick':
                await tick();
                break;
              case 'release':
                await releaseAll();
                break;
              case 'flush':
                await b.flush();
                break;
              case 'drop':
                b.dropCache();
                break;
            }
          }
          await releaseAll();
          for (let k = 0; k <= 15; k++) {
            b.setCurrentKey(k);
            expect(v.value()).toBe(model.get(k));
          }
        } finally {
          await releaseAll();
          await b.dispose();
        }
      }),
      { numRuns: 80 },
    );
  });
});
