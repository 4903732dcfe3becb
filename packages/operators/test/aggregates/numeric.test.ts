import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { avg, count, max, min, sum } from '@weir/operators';
import { aggregateContract } from './harness.js';
import { exactSum } from './reference.js';

interface Row {
  readonly v: number;
}

/** Doubles of every magnitude (subnormals included), small integers, and cancellation cases. */
const finite = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e300, max: 1e300 }),
  fc.integer({ min: -100, max: 100 }),
  fc.constantFrom(1e16, -1e16, 1, 0.1, 0.2, 0.3, 2 ** -1074, -0, 2 ** 53),
);
const rows = (value: fc.Arbitrary<number>): fc.Arbitrary<Row[]> => fc.array(value.map((v) => ({ v })), { maxLength: 60 });

describe('count', () => {
  aggregateContract({
    make: () => count<Row>(),
    input: rows(finite),
    reference: (xs) => xs.length,
  });
});

describe('sum', () => {
  aggregateContract({
    make: () => sum((r: Row) => r.v),
    input: rows(finite),
    // Bit for bit: the exact sum rounded once, whatever the order or merge tree.
    reference: (xs) => exactSum(xs.map((r) => r.v)),
  });

  it('is exact where naive summation is not', () => {
    const f = sum((x: number) => x);
    const acc = f.createAccumulator();
    for (const x of [1e16, 1, -1e16, 0.1, 0.2, -0.3]) f.add(x, acc);
    expect(f.getResult(acc)).toBe(exactSum([1e16, 1, -1e16, 0.1, 0.2, -0.3]));
    expect(f.getResult(acc)).not.toBe(1e16 + 1 - 1e16 + 0.1 + 0.2 - 0.3);
    expect(f.getResult(f.createAccumulator())).toBe(0);
  });

  describe('with non-finite values (kept as flags: JSON has no Infinity)', () => {
    aggregateContract({
      make: () => sum((r: Row) => r.v),
      input: rows(fc.oneof(fc.integer({ min: -9, max: 9 }), fc.constantFrom(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN))),
      reference: (xs) => xs.reduce((s, r) => s + r.v, 0),
      numRuns: 60,
    });
  });
});

describe('avg', () => {
  aggregateContract({
    make: () => avg((r: Row) => r.v),
    input: rows(finite),
    reference: (xs) => (xs.length === 0 ? undefined : exactSum(xs.map((r) => r.v)) / xs.length),
  });

  it('is undefined, not NaN, when empty', () => {
    const f = avg((x: number) => x);
    expect(f.getResult(f.createAccumulator())).toBeUndefined();
  });
});

/** Numbers with NaN, ±Infinity and -0; and nullish values, which are skipped. */
const extremeInput = fc.array(
  fc.record({ v: fc.oneof(fc.double(), fc.integer({ min: -3, max: 3 }), fc.constantFrom(null, undefined, -0, 0)) }),
  { maxLength: 40 },
);
type Maybe = { v: number | null | undefined };
const present = (xs: readonly Maybe[]): number[] => xs.map((r) => r.v).filter((v): v is number => typeof v === 'number' && !Number.isNaN(v));
const noNegZero = (x: number): number => (x === 0 ? 0 : x);

describe('min', () => {
  aggregateContract({
    make: () => min((r: Maybe) => r.v),
    input: extremeInput,
    reference: (xs) => (present(xs).length === 0 ? undefined : noNegZero(Math.min(...present(xs)))),
  });

  describe('on strings', () => {
    aggregateContract({
      make: () => min((r: { s: string }) => r.s),
      input: fc.array(fc.record({ s: fc.string({ maxLength: 4 }) }), { maxLength: 30 }),
      reference: (xs) => (xs.length === 0 ? undefined : xs.map((r) => r.s).sort()[0]),
      numRuns: 60,
    });
  });
});

describe('max', () => {
  aggregateContract({
    make: () => max((r: Maybe) => r.v),
    input: extremeInput,
    reference: (xs) => (present(xs).length === 0 ? undefined : noNegZero(Math.max(...present(xs)))),
  });

  describe('on strings', () => {
    aggregateContract({
      make: () => max((r: { s: string }) => r.s),
      input: fc.array(fc.record({ s: fc.string({ maxLength: 4 }) }), { maxLength: 30 }),
      reference: (xs) => (xs.length === 0 ? undefined : xs.map((r) => r.s).sort().at(-1)),
      numRuns: 60,
    });
  });
});
