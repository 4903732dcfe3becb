/**
 * A contract harness for `AggregateFunction`s: what every aggregate of this package must do,
 * checked with fast-check against a brute-force reference.
 *
 * - one pass over the input gives the reference result;
 * - splitting the input into parts (elements routed to parts in arrival order, as a sliding
 *   window routes them to panes), aggregating each part and merging the parts in a random tree
 *   (random operand order, sometimes into a fresh accumulator, as the slicing window operator
 *   does) gives the one-pass result;
 * - `merge(a, b)` never mutates `b`, nor does anything done to the result later (`b` is
 *   deep-frozen before the merge, so any write to it throws);
 * - `getResult` does not mutate the accumulator and can be called again;
 * - accumulators survive a JSON round trip at any point, as at a checkpoint with the JSON serde.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import type { AggregateFunction } from '@weir/core';

/** Freezes `x` and everything reachable from it. */
export function deepFreeze<T>(x: T): T {
  if (typeof x === 'object' && x !== null && !Object.isFrozen(x)) {
    Object.freeze(x);
    for (const v of Object.values(x)) deepFreeze(v);
  }
  return x;
}

/** A JSON round trip, as the default state serde does at a checkpoint. */
export function jsonRoundTrip<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

/** How an input is split, merged and checkpointed; drawn by fast-check. */
export interface Plan {
  /** Number of parts. */
  readonly parts: number;
  /** Part of element `i` is `route[i % route.length] % parts`. */
  readonly route: readonly number[];
  /** Random choices for the merge tree. */
  readonly picks: readonly number[];
  /** Element positions after which every accumulator is JSON round-tripped. */
  readonly checkpoints: readonly number[];
}

export const planArb: fc.Arbitrary<Plan> = fc.record({
  parts: fc.integer({ min: 1, max: 6 }),
  route: fc.array(fc.nat(), { minLength: 1, maxLength: 30 }),
  picks: fc.array(fc.nat(), { minLength: 1, maxLength: 40 }),
  checkpoints: fc.array(fc.nat(), { maxLength: 3 }),
});

/** Checks that `getResult` leaves the accumulator as it was and returns the same thing twice. */
function resultOf<TIn, TAcc, TOut>(fn: AggregateFunction<TIn, TAcc, TOut>, acc: TAcc, same: (x: TOut, y: TOut) => void): TOut {
  const before = JSON.stringify(acc);
  const r1 = fn.getResult(acc);
  expect(JSON.stringify(acc)).toBe(before);
  const r2 = fn.getResult(acc);
  same(r2, r1);
  return r1;
}

/** One pass over `values`, JSON round-tripping the accumulator after the given positions. */
export function onePass<TIn, TAcc, TOut>(
  fn: AggregateFunction<TIn, TAcc, TOut>,
  values: readonly TIn[],
  checkpoints: readonly number[] = [],
): TAcc {
  let acc = fn.createAccumulator();
  if (checkpoints.includes(-1)) acc = jsonRoundTrip(acc);
  values.forEach((v, i) => {
    acc = fn.add(v, acc);
    if (checkpoints.some((c) => values.length > 0 && c % values.length === i)) acc = jsonRoundTrip(acc);
  });
  return acc;
}

/**
 * Splits `values` into parts per `plan`, aggregates each part (in arrival order overall) and
 * merges them in a random tree. Every `b` operand is deep-frozen first.
 */
export function splitAndMerge<TIn, TAcc, TOut>(
  fn: AggregateFunction<TIn, TAcc, TOut>,
  values: readonly TIn[],
  plan: Plan,
): TAcc {
  let accs: TAcc[] = Array.from({ length: plan.parts }, () => fn.createAccumulator());
  values.forEach((v, i) => {
    const p = plan.route[i % plan.route.length]! % plan.parts;
    accs[p] = fn.add(v, accs[p]!);
    if (plan.checkpoints.some((c) => c % values.length === i)) accs = accs.map(jsonRoundTrip);
  });
  let t = 0;
  const pick = (): number => plan.picks[t++ % plan.picks.length]! + t;
  while (accs.length > 1) {
    const i = pick() % accs.length;
    let j = pick() % (accs.length - 1);
    if (j >= i) j++;
    const b = accs[j]!;
    const frozen = JSON.stringify(b);
    deepFreeze(b);
    // Sometimes merge into a fresh accumulator first, as the slicing window operator does.
    let a: TAcc = accs[i]!;
    if (pick() % 4 === 0) a = fn.merge(fn.createAccumulator(), a);
    const merged = fn.merge(a, b);
    expect(JSON.stringify(b)).toBe(frozen);
    accs = accs.filter((_, k) => k !== i && k !== j);
    accs.push(merged);
  }
  return accs[0]!;
}

/** Describes one aggregate function for {@link aggregateContract}. */
export interface AggregateCase<TIn, TAcc, TOut> {
  /** A fresh function (some keep configuration, none keep data). */
  readonly make: () => AggregateFunction<TIn, TAcc, TOut>;
  /** Random inputs. */
  readonly input: fc.Arbitrary<TIn[]>;
  /** The brute-force result. */
  readonly reference: (values: readonly TIn[]) => TOut;
  /**
   * Asserts that an actual result matches the reference (default: `toEqual`). Approximate
   * aggregates check their error bound here.
   */
  readonly matches?: (actual: TOut, expected: TOut, values: readonly TIn[]) => void;
  /**
   * Asserts that a merged result matches the one-pass result (default: `toEqual`, i.e. merging
   * is exact). Approximate aggregates that are not deterministic under merging relax this.
   */
  readonly mergedMatches?: (merged: TOut, onePass: TOut, values: readonly TIn[]) => void;
  /**
   * Asserts that two results of the same computation are identical (default: `toEqual`); for
   * results that hold functions.
   */
  readonly same?: (x: TOut, y: TOut) => void;
  /** fast-check runs per property. */
  readonly numRuns?: number;
}

const defaultSame = <T>(x: T, y: T): void => {
  expect(x).toEqual(y);
};

/** Declares the contract tests for one aggregate function (call inside `describe`). */
export function aggregateContract<TIn, TAcc, TOut>(c: AggregateCase<TIn, TAcc, TOut>): void {
  const matches = c.matches ?? ((a: TOut, e: TOut) => defaultSame(a, e));
  const mergedMatches = c.mergedMatches ?? ((a: TOut, e: TOut) => defaultSame(a, e));
  const numRuns = c.numRuns ?? 150;
  const same = c.same ?? defaultSame;

  it('one pass equals the brute-force result; getResult does not mutate', () => {
    fc.assert(
      fc.property(c.input, (values) => {
        const fn = c.make();
        matches(resultOf(fn, onePass(fn, values), same), c.reference(values), values);
      }),
      { numRuns },
    );
  });

  it('split into parts and merged in any order and tree shape equals one pass; merge never mutates b', () => {
    fc.assert(
      fc.property(c.input, planArb, (values, plan) => {
        const fn = c.make();
        const whole = resultOf(fn, onePass(fn, values), same);
        const merged = resultOf(fn, splitAndMerge(fn, values, { ...plan, checkpoints: [] }), same);
        mergedMatches(merged, whole, values);
        matches(merged, c.reference(values), values);
      }),
      { numRuns },
    );
  });

  it('accumulators survive JSON round trips mid-stream (also in a fresh function instance)', () => {
    fc.assert(
      fc.property(c.input, planArb, fc.array(fc.integer({ min: -1, max: 200 }), { minLength: 1, maxLength: 3 }), (values, plan, cps) => {
        const fn = c.make();
        const plain = resultOf(fn, onePass(fn, values), same);
        same(resultOf(fn, onePass(fn, values, cps), same), plain);
        // A restored job builds its functions anew.
        const half = Math.floor(values.length / 2);
        const restored = jsonRoundTrip(onePass(fn, values.slice(0, half)));
        const fresh = c.make();
        let acc = restored;
        for (const v of values.slice(half)) acc = fresh.add(v, acc);
        same(resultOf(fresh, acc, same), plain);
        if (values.length > 0) {
          const merged = resultOf(fn, splitAndMerge(fn, values, plan), same);
          mergedMatches(merged, plain, values);
        }
      }),
      { numRuns: Math.ceil(numRuns / 2) },
    );
  });
}
