import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { approxQuantiles, type QuantileSummary } from '@weir/operators';
import { aggregateContract, onePass, splitAndMerge } from './harness.js';
import { mulberry32, rankError } from './reference.js';

const QS = [0, 0.001, 0.01, 0.05, 0.1, 0.25, 1 / 3, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

/** A summary as plain data, for comparisons. */
function snapshot(s: QuantileSummary): unknown {
  return { count: s.count, min: s.min, max: s.max, quantiles: QS.map((q) => s.quantile(q)) };
}

/** The exact summary of small inputs: with every centroid a single value, quantile(q) = sorted[⌊q·n⌋]. */
function exactSummary(values: readonly number[]): QuantileSummary {
  const xs = values.filter(Number.isFinite).map((x) => (x === 0 ? 0 : x)).sort((a, b) => a - b);
  const n = xs.length;
  return {
    count: n,
    min: xs[0],
    max: xs[n - 1],
    quantile: (q) => (n === 0 ? undefined : xs[Math.min(n - 1, Math.floor(q * n))]),
  };
}

const sameSummary = (x: QuantileSummary, y: QuantileSummary): void => {
  expect(snapshot(x)).toEqual(snapshot(y));
};

describe('approxQuantiles', () => {
  describe('small inputs (all centroids singletons): exact', () => {
    aggregateContract({
      make: () => approxQuantiles((x: number) => x, { compression: 1000 }),
      input: fc.array(
        fc.oneof(
          fc.double({ noDefaultInfinity: true, min: -1e6, max: 1e6 }),
          fc.integer({ min: -3, max: 3 }),
          fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
        ),
        { maxLength: 150 },
      ),
      reference: exactSummary,
      same: sameSummary,
      matches: sameSummary,
      mergedMatches: sameSummary,
      numRuns: 80,
    });
  });

  describe('larger inputs: merged digests stay within the error bounds', () => {
    aggregateContract({
      make: () => approxQuantiles((x: number) => x, { compression: 50 }),
      input: fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 3000 }),
      reference: exactSummary,
      same: sameSummary,
      matches: (actual, expected, values) => {
        expect([actual.count, actual.min, actual.max]).toEqual([expected.count, expected.min, expected.max]);
        const sorted = Float64Array.from(values).sort();
        let previous = Number.NEGATIVE_INFINITY;
        for (const q of QS) {
          const x = actual.quantile(q)!;
          expect(x).toBeGreaterThanOrEqual(previous);
          previous = x;
          // Loose: inputs this small and repetitive are not what the digest is tuned for.
          expect(rankError(sorted, x, q)).toBeLessThan(0.05);
        }
      },
      mergedMatches: (merged, whole) => {
        expect([merged.count, merged.min, merged.max]).toEqual([whole.count, whole.min, whole.max]);
      },
      numRuns: 25,
    });
  });

  const distributions: Record<string, (r: () => number) => number> = {
    uniform: (r) => r(),
    exponential: (r) => -Math.log(1 - r()),
    'log-normal (heavy tail)': (r) => Math.exp(2 * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())),
    'discrete, 1000 values': (r) => Math.floor(r() * 1000),
  };
  /**
   * Rank-error bounds: 0.01 in the middle, tighter at the tails. With repeated values an
   * estimate may fall between two of them, which costs up to one value's share (0.1 % here),
   * so discrete data gets 0.002 over the whole tail.
   */
  const bound = (q: number, discrete: boolean): number => {
    const tail = Math.min(q, 1 - q);
    if (tail > 0.01) return 0.01;
    return tail > 0.001 || discrete ? 0.002 : 0.001;
  };
  const probes = [0.0001, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 0.9999];

  for (const [name, draw] of Object.entries(distributions)) {
    for (const n of [10_000, 100_000]) {
      it(`${name}, ${n} points: rank error < 0.01, < 0.002 beyond 1 %/99 %, < 0.001 beyond 0.1 %/99.9 %; one pass and merged`, () => {
        const random = mulberry32(n + name.length);
        const values = Array.from({ length: n }, () => draw(random));
        const sorted = Float64Array.from(values).sort();
        const f = approxQuantiles((x: number) => x);
        const plan = {
          parts: 8,
          route: Array.from({ length: 97 }, () => Math.floor(random() * 1000)),
          picks: Array.from({ length: 20 }, () => Math.floor(random() * 1000)),
          checkpoints: [Math.floor(n / 3)],
        };
        for (const acc of [onePass(f, values, [Math.floor(n / 2)]), splitAndMerge(f, values, plan)]) {
          const s = f.getResult(acc);
          expect([s.count, s.min, s.max]).toEqual([n, sorted[0], sorted[n - 1]]);
          expect(s.quantile(0)).toBe(sorted[0]);
          expect(s.quantile(1)).toBe(sorted[n - 1]);
          expect(acc.means.length).toBeLessThanOrEqual(100);
          for (const q of probes) {
            expect(rankError(sorted, s.quantile(q)!, q), `q=${q}`).toBeLessThan(bound(q, name.startsWith('discrete')));
          }
        }
      });
    }
  }

  it('is empty-safe and validates its arguments', () => {
    const f = approxQuantiles((x: number) => x);
    const empty = f.getResult(f.createAccumulator());
    expect([empty.count, empty.min, empty.max, empty.quantile(0.5)]).toEqual([0, undefined, undefined, undefined]);
    expect(() => empty.quantile(1.5)).toThrow(RangeError);
    expect(() => empty.quantile(Number.NaN)).toThrow(RangeError);
    expect(() => approxQuantiles((x: number) => x, { compression: 5 })).toThrow(RangeError);
    const one = f.getResult(f.add(42, f.createAccumulator()));
    expect([one.quantile(0), one.quantile(0.5), one.quantile(1)]).toEqual([42, 42, 42]);
  });
});
