import {
  type Collector,
  DEFAULT_MAX_PARALLELISM,
  hashKey,
  type KeyedProcessContext,
  type KeyedProcessFunction,
  keyGroupFor,
  keyGroupRangeFor,
  type KeyType,
  type RuntimeContext,
  StreamEnvironment,
  subtaskForKeyGroup,
} from '@weir/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const keyArb: fc.Arbitrary<KeyType> = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.boolean(),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
);

/** (maxParallelism, parallelism ≤ maxParallelism) */
const parallelismArb = fc
  .integer({ min: 1, max: 512 })
  .chain((maxP) => fc.tuple(fc.constant(maxP), fc.integer({ min: 1, max: maxP })));

describe('key groups', () => {
  it('hashKey is a deterministic unsigned 32-bit value', () => {
    fc.assert(
      fc.property(keyArb, (k) => {
        const h = hashKey(k);
        expect(Number.isInteger(h)).toBe(true);
        expect(h).toBeGreaterThanOrEqual(0);
        expect(h).toBeLessThan(2 ** 32);
        expect(hashKey(k)).toBe(h);
      }),
      { numRuns: 300 },
    );
  });

  it('hashKey is stable across releases (fixed values) and keeps 1 and "1" apart', () => {
    // Changing the hash moves keys between subtasks and breaks restores of existing checkpoints.
    const keys: KeyType[] = ['user-1', 42, true, 1.5, '', -1, 7n];
    expect(keys.map((k) => hashKey(k))).toEqual([
      1284449931, 4183177947, 592728606, 935236321, 3651860435, 4202113237, 2469462078,
    ]);
    expect(keyGroupFor('user-1', 128)).toBe(11);
    expect(hashKey(1)).not.toBe(hashKey('1'));
    expect(hashKey(true)).not.toBe(hashKey(1));
    expect(hashKey(1n)).not.toBe(hashKey(1));
    expect(() => hashKey({} as unknown as KeyType)).toThrow(TypeError);
  });

  it('keyGroupFor is in [0, maxParallelism)', () => {
    fc.assert(
      fc.property(keyArb, fc.integer({ min: 1, max: 32_768 }), (k, maxP) => {
        const kg = keyGroupFor(k, maxP);
        expect(Number.isInteger(kg)).toBe(true);
        expect(kg).toBeGreaterThanOrEqual(0);
        expect(kg).toBeLessThan(maxP);
      }),
      { numRuns: 300 },
    );
  });

  it('keyGroupFor is hashKey mod maxParallelism, for powers of two (low bits) and other counts', () => {
    fc.assert(
      fc.property(keyArb, fc.oneof(fc.integer({ min: 0, max: 15 }).map((b) => 2 ** b), fc.integer({ min: 1, max: 32_768 })), (k, maxP) => {
        expect(keyGroupFor(k, maxP)).toBe(hashKey(k) % maxP);
      }),
      { numRuns: 500 },
    );
    // Hashes at and above 2^31, whose low bits an int32 conversion would read as negative.
    const high = ['user-1', 'a', 'b', 'c', 1, 2, 3, 4, 5, 6, 7, 8].filter((k) => hashKey(k) >= 2 ** 31);
    expect(high.length).toBeGreaterThan(0);
    for (const k of high) for (const maxP of [1, 2, 128, 4096, 32_768]) expect(keyGroupFor(k, maxP)).toBe(hashKey(k) % maxP);
  });

  it('the ranges of all subtasks partition the key groups, contiguously and in order', () => {
    fc.assert(
      fc.property(parallelismArb, ([maxP, p]) => {
        let next = 0;
        const wrong: number[] = [];
        for (let i = 0; i < p; i++) {
          const r = keyGroupRangeFor(i, p, maxP);
          // contiguous, in order, and non-empty (every subtask owns a key group when p <= maxP)
          if (r.start !== next || r.end < r.start) wrong.push(i);
          next = r.end + 1;
        }
        expect(wrong).toEqual([]);
        expect(next).toBe(maxP);
      }),
      { numRuns: 200 },
    );
  });

  it('subtaskForKeyGroup is the inverse of keyGroupRangeFor', () => {
    fc.assert(
      fc.property(parallelismArb, ([maxP, p]) => {
        const wrong: number[] = [];
        for (let kg = 0; kg < maxP; kg++) {
          const s = subtaskForKeyGroup(kg, p, maxP);
          const r = keyGroupRangeFor(s, p, maxP);
          if (!(s >= 0 && s < p && kg >= r.start && kg <= r.end)) wrong.push(kg);
        }
        expect(wrong).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('each key maps to exactly one subtask, whose range holds its key group', () => {
    fc.assert(
      fc.property(keyArb, parallelismArb, (k, [maxP, p]) => {
        const kg = keyGroupFor(k, maxP);
        const owners: number[] = [];
        for (let i = 0; i < p; i++) {
          const r = keyGroupRangeFor(i, p, maxP);
          if (kg >= r.start && kg <= r.end) owners.push(i);
        }
        expect(owners).toEqual([subtaskForKeyGroup(kg, p, maxP)]);
      }),
      { numRuns: 300 },
    );
  });

  it('the default number of key groups is 128', () => {
    expect(DEFAULT_MAX_PARALLELISM).toBe(128);
    const env = StreamEnvironment.create();
    expect(env.maxParallelism).toBe(128);
  });

  it('rejects parallelism above maxParallelism and bad maxParallelism', () => {
    expect(() => StreamEnvironment.create({ parallelism: 5, maxParallelism: 4 })).toThrow(RangeError);
    expect(() => StreamEnvironment.create({ maxParallelism: 0 })).toThrow(RangeError);
    expect(() => StreamEnvironment.create({ parallelism: 0 })).toThrow(RangeError);
  });
});

interface Placement {
  key: KeyType;
  subtask: number;
  parallelism: number;
  maxParallelism: number;
}

/** Records on which subtask each record's key is processed. */
class WhereAmI implements KeyedProcessFunction<KeyType, { k: KeyType }, Placement> {
  private info!: RuntimeContext['taskInfo'];

  open(ctx: RuntimeContext): void {
    this.info = ctx.taskInfo;
  }

  processElement(_v: { k: KeyType }, ctx: KeyedProcessContext<KeyType>, out: Collector<Placement>): void {
    out.collect({
      key: ctx.getCurrentKey(),
      subtask: this.info.subtaskIndex,
      parallelism: this.info.parallelism,
      maxParallelism: this.info.maxParallelism,
    });
  }
}

describe('keyBy end to end', () => {
  it('sends each key to exactly one subtask, the owner of its key group, for any parallelism', async () => {
    const keys = fc.oneof(fc.string({ maxLength: 6 }), fc.integer({ min: -50, max: 50 }), fc.boolean());
    await fc.assert(
      fc.asyncProperty(
        fc.array(keys, { minLength: 1, maxLength: 120 }),
        fc.integer({ min: 1, max: 64 }).chain((maxP) => fc.tuple(fc.constant(maxP), fc.integer({ min: 1, max: Math.min(maxP, 8) }))),
        async (ks, [maxP, p]) => {
          const env = StreamEnvironment.create({ parallelism: p, maxParallelism: maxP, batchSize: 7 });
          const out = await env
            .fromCollection(ks.map((k) => ({ k })))
            .keyBy((e) => e.k)
            .process(new WhereAmI())
            .executeAndCollect();
          expect(out).toHaveLength(ks.length);
          const where = new Map<KeyType, Set<number>>();
          for (const o of out) {
            expect(o.parallelism).toBe(p);
            expect(o.maxParallelism).toBe(maxP);
            let s = where.get(o.key);
            if (s === undefined) where.set(o.key, (s = new Set()));
            s.add(o.subtask);
          }
          expect(new Set(where.keys())).toEqual(new Set(ks));
          for (const [k, subtasks] of where) {
            expect([...subtasks]).toEqual([subtaskForKeyGroup(keyGroupFor(k, maxP), p, maxP)]);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a keyed operator with its own parallelism routes by that parallelism', async () => {
    const env = StreamEnvironment.create({ parallelism: 2 });
    const ks = Array.from({ length: 200 }, (_, i) => ({ k: `k${i % 37}` as KeyType }));
    const out = await env.fromCollection(ks).keyBy((e) => e.k).process(new WhereAmI()).setParallelism(5).executeAndCollect();
    expect(out).toHaveLength(200);
    const subtasks = new Set(out.map((o) => o.subtask));
    expect(Math.max(...subtasks)).toBeLessThan(5);
    expect(subtasks.size).toBeGreaterThan(1);
    for (const o of out) {
      expect(o.parallelism).toBe(5);
      expect(o.subtask).toBe(subtaskForKeyGroup(keyGroupFor(o.key, 128), 5, 128));
    }
  });
});
