import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { first, last } from '@weir/operators';
import { aggregateContract, jsonRoundTrip } from './harness.js';

interface Ev {
  readonly ts: number;
  readonly v: number;
}

/** Few distinct timestamps, so ties (broken by arrival) are common; `v` is the arrival index. */
const events = fc
  .array(fc.integer({ min: 0, max: 8 }), { maxLength: 40 })
  .map((tss) => tss.map((ts, v): Ev => ({ ts, v })));

/** The element with the smallest (timestamp, arrival index). */
function earliest(xs: readonly Ev[]): Ev | undefined {
  let best: Ev | undefined;
  for (const e of xs) if (best === undefined || e.ts < best.ts) best = e;
  return best;
}

/** The element with the largest (timestamp, arrival index). */
function latest(xs: readonly Ev[]): Ev | undefined {
  let best: Ev | undefined;
  for (const e of xs) if (best === undefined || e.ts >= best.ts) best = e;
  return best;
}

describe('first', () => {
  describe('by timestamp, ties by arrival', () => {
    aggregateContract({ make: () => first((e: Ev) => e.ts), input: events, reference: earliest });
  });
  describe('by arrival', () => {
    aggregateContract({ make: () => first<Ev>(), input: events, reference: (xs) => xs[0] });
  });
  describe('with a value selector', () => {
    aggregateContract({
      make: () => first((e: Ev) => e.ts, (e) => `#${e.v}`),
      input: events,
      reference: (xs) => {
        const e = earliest(xs);
        return e === undefined ? undefined : `#${e.v}`;
      },
      numRuns: 60,
    });
  });
});

describe('last', () => {
  describe('by timestamp, ties by arrival', () => {
    aggregateContract({ make: () => last((e: Ev) => e.ts), input: events, reference: latest });
  });
  describe('by arrival', () => {
    aggregateContract({ make: () => last<Ev>(), input: events, reference: (xs) => xs.at(-1) });
  });
});

describe('first/last across a restore', () => {
  it('elements that arrive after a restore order after those in restored accumulators', () => {
    const f = last<string>();
    const older = f.add('before', f.createAccumulator());
    // A restored job: new function instance, accumulators read back from a checkpoint.
    const g = last<string>();
    const restored = jsonRoundTrip(older);
    const fresh = g.add('after', g.createAccumulator());
    expect(g.getResult(g.merge(restored, fresh))).toBe('after');
    expect(g.getResult(g.merge(fresh, jsonRoundTrip(older)))).toBe('after');
  });

  it('rejects non-finite timestamps', () => {
    const f = first((e: Ev) => e.ts);
    expect(() => f.add({ ts: Number.NaN, v: 0 }, f.createAccumulator())).toThrow(RangeError);
  });
});
