import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { topN } from '@weir/operators';
import { aggregateContract } from './harness.js';

interface Bid {
  readonly item: string | number;
  /** A number, or `'Infinity'`/`'-Infinity'`/`'NaN'` (elements must be JSON data themselves). */
  readonly score: number | string;
  /** Arrival index: makes elements distinguishable. */
  readonly i: number;
}

/** Few scores and few items, so ties and repeated ids are common; some extreme scores. */
const bids = fc
  .array(
    fc.record({
      item: fc.oneof(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.integer({ min: 0, max: 4 })),
      score: fc.oneof(
        fc.integer({ min: 0, max: 5 }),
        fc.constantFrom('Infinity', '-Infinity', 'NaN', '-0', 2.5),
      ),
    }),
    { maxLength: 50 },
  )
  .map((xs) => xs.map((x, i): Bid => ({ ...x, i })));

const compareIds = (a: string | number, b: string | number): number =>
  typeof a !== typeof b ? (typeof a === 'number' ? -1 : 1) : a < b ? -1 : a > b ? 1 : 0;

/** Sorts by score descending, then arrival (a stable sort keeps arrival order). */
const score = (b: Bid): number => Number(b.score);

function byScore(xs: readonly Bid[]): Bid[] {
  return xs.filter((x) => !Number.isNaN(score(x))).sort((a, b) => (score(a) === score(b) ? 0 : score(b) - score(a)));
}

function referenceTop(n: number, xs: readonly Bid[]): Bid[] {
  return byScore(xs).slice(0, n);
}

/** Best element per item (highest score, then earliest), then by score desc and item asc. */
function referenceTopById(n: number, xs: readonly Bid[]): Bid[] {
  const best = new Map<string | number, Bid>();
  for (const x of byScore(xs)) if (!best.has(x.item)) best.set(x.item, x);
  return [...best.values()].sort((a, b) => (score(a) === score(b) ? compareIds(a.item, b.item) : score(b) - score(a))).slice(0, n);
}

describe('topN', () => {
  for (const n of [1, 3, 10]) {
    describe(`n = ${n}, ties by arrival`, () => {
      aggregateContract({
        make: () => topN(n, score),
        input: bids,
        reference: (xs) => referenceTop(n, xs),
        numRuns: 80,
      });
    });
    describe(`n = ${n}, de-duplicated by id, ties by id`, () => {
      aggregateContract({
        make: () => topN(n, score, (b) => b.item),
        input: bids,
        reference: (xs) => referenceTopById(n, xs),
        numRuns: 80,
      });
    });
  }

  it('rejects a non-positive n', () => {
    expect(() => topN(0, (x: number) => x)).toThrow(RangeError);
    expect(() => topN(1.5, (x: number) => x)).toThrow(RangeError);
  });
});
