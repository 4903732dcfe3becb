import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { approxDistinctCount, type HyperLogLogAccumulator } from '@weir/operators';
import { murmurHash3x86_128 } from '../../src/aggregates/internal/murmurHash3.js';
import { aggregateContract, onePass, planArb, splitAndMerge } from './harness.js';

/** Every register of a sketch, whichever form it is in. */
function registers(acc: HyperLogLogAccumulator): number[] {
  if (acc.dense !== null) return acc.dense;
  const out = new Array<number>(2 ** acc.precision).fill(0);
  for (const code of acc.sparse ?? []) out[code >>> 6] = code & 63;
  return out;
}

describe('MurmurHash3 x86_128', () => {
  // From the reference implementation (Python mmh3.hash_bytes(s.encode('utf-8'), seed, x64arch=False)).
  const vectors: Array<[string, number, string]> = [
    ['', 0, '00000000 00000000 00000000 00000000'],
    ['', 42, 'af6d2cb6 95c80cba 95c80cba 95c80cba'],
    ['a', 0, 'a794933c 5556b01b 5556b01b 5556b01b'],
    ['ab', 42, 'd33999e7 82bc5a64 82bc5a64 82bc5a64'],
    ['abc', 0, '75cdc6d1 a2b006a5 a2b006a5 a2b006a5'],
    ['abcd', 42, 'c4c3e662 b5ddd2d4 b5ddd2d4 b5ddd2d4'],
    ['hello', 0, '2b2444a0 db91def7 9adb31b6 9adb31b6'],
    ['hello, world', 42, 'ef8be0fc 8094183b 74352732 ea66b8d4'],
    ['The quick brown fox jumps over the lazy dog', 0, '2f1583c3 ecee2c67 5d7bf66c e5e91d2c'],
    ['héllo wörld 日本語 🎉', 0, '782da5a7 898d5aaa 16813a33 b10326bd'],
    ['héllo wörld 日本語 🎉', 42, '93c52fc2 4d9f7c86 433156e5 c6c61493'],
    ['0123456789abcdef', 0, 'fb7d4409 36aed30a 48ad1d9b 572b3bfd'],
    ['0123456789abcdef0', 42, '722ee8c6 44099ef1 d32a939c 8ca4f654'],
    ['0123456789abcdef01234', 0, '28213977 c95c8a2c 022e37a8 a6c17869'],
  ];
  for (const [s, seed, hex] of vectors) {
    it(`matches the reference for ${JSON.stringify(s)}, seed ${seed}`, () => {
      const words = [...murmurHash3x86_128(s, seed)].map((w) => w.toString(16).padStart(8, '0'));
      expect(words.join(' ')).toBe(hex);
    });
  }

  it('encodes lone surrogates as U+FFFD, as TextEncoder does', () => {
    const a = [...murmurHash3x86_128('x\ud800y')];
    expect([...murmurHash3x86_128('x\ufffdy')]).toEqual(a);
  });
});

type Item = { id: string | number | null };

describe('approxDistinctCount', () => {
  for (const precision of [6, 14]) {
    const m = 2 ** precision;
    describe(`precision ${precision}: merged sketches are identical to one pass`, () => {
      aggregateContract({
        make: () => approxDistinctCount((e: Item) => e.id, { precision }),
        // Domains large enough that small sketches go from sparse to dense mid-stream.
        input: fc.array(fc.record({ id: fc.oneof(fc.integer({ min: 0, max: 150 }), fc.string({ maxLength: 3 }), fc.constant(null)) }), {
          maxLength: 120,
        }),
        reference: (xs) => new Set(xs.filter((x) => x.id !== null).map((x) => String(x.id))).size,
        matches: (estimate, exact) => {
          expect(Math.abs(estimate - exact)).toBeLessThanOrEqual((3 * 1.04 * exact) / Math.sqrt(m) + 2);
        },
        numRuns: 100,
      });
    });
  }

  it('merging gives register-for-register the sketch of one pass, sparse or dense', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 400 }), planArb, (ids, plan) => {
        const f = approxDistinctCount((x: number) => x, { precision: 8 });
        expect(registers(splitAndMerge(f, ids, plan))).toEqual(registers(onePass(f, ids)));
      }),
      { numRuns: 100 },
    );
  });

  it('stays within 3/√m of the true cardinality from 10 to 100k, with an unbiased spread', () => {
    const cardinalities = [10, 30, 100, 300, 1_000, 3_000, 10_000, 20_000, 30_000, 50_000, 100_000];
    for (const precision of [10, 12, 14]) {
      const m = 2 ** precision;
      const sigma = 1.04 / Math.sqrt(m);
      const errors: number[] = [];
      for (const run of [0, 1, 2]) {
        // Strings and numbers, as real ids are.
        const f = approxDistinctCount((x: string | number) => x, { precision });
        const acc = f.createAccumulator();
        let n = 0;
        for (const target of cardinalities) {
          for (; n < target; n++) f.add(run === 1 ? n * 7919 + 13 : `user:${run}:${n}`, acc);
          const error = (f.getResult(acc) - n) / n;
          expect(Math.abs(error), `p=${precision} n=${n} run=${run}`).toBeLessThan((3 / Math.sqrt(m)) * 1.2);
          errors.push(error);
        }
      }
      const rms = Math.sqrt(errors.reduce((s, e) => s + e * e, 0) / errors.length);
      expect(rms, `p=${precision} rms`).toBeLessThan(1.3 * sigma);
    }
  });

  it('validates its precision and refuses to merge different ones', () => {
    expect(() => approxDistinctCount((x: string) => x, { precision: 3 })).toThrow(RangeError);
    expect(() => approxDistinctCount((x: string) => x, { precision: 19 })).toThrow(RangeError);
    const a = approxDistinctCount((x: string) => x, { precision: 10 });
    const b = approxDistinctCount((x: string) => x, { precision: 11 });
    expect(() => a.merge(a.createAccumulator(), b.createAccumulator())).toThrow(RangeError);
  });

  it('is 0 when empty and exact for a handful of values', () => {
    const f = approxDistinctCount((x: string) => x);
    expect(f.getResult(f.createAccumulator())).toBe(0);
    let acc = f.createAccumulator();
    for (const x of ['a', 'b', 'c', 'a', 'b']) acc = f.add(x, acc);
    expect(f.getResult(acc)).toBe(3);
  });
});
