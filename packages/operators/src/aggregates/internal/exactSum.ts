import type { SumAccumulator } from '../types.js';

// Bits of SumAccumulator.special: JSON cannot carry non-finite numbers, so they are flags.
const POS_INF = 1;
const NEG_INF = 2;
const NAN = 4;

/** An empty exact sum. @internal */
export function emptySum(): SumAccumulator {
  return { partials: [], special: 0 };
}

/**
 * Adds `x` exactly (Shewchuk's algorithm, as Python's `math.fsum`): `partials` stay
 * non-overlapping and ordered by magnitude, and together hold the exact sum, so the rounded
 * result does not depend on the order of additions or on how the input was split and merged.
 * @internal
 */
export function addToSum(acc: SumAccumulator, x: number): void {
  if (!Number.isFinite(x)) {
    acc.special |= x > 0 ? POS_INF : x < 0 ? NEG_INF : NAN;
    return;
  }
  // Zeros change nothing (and skipping them keeps -0 out of the partials: the sum is +0).
  if (x === 0) return;
  const p = acc.partials;
  let i = 0;
  for (let j = 0; j < p.length; j++) {
    let y = p[j]!;
    if (Math.abs(x) < Math.abs(y)) {
      const t = x;
      x = y;
      y = t;
    }
    const hi = x + y;
    if (!Number.isFinite(hi)) {
      // The running sum left the double range. Saturate rather than turn into NaN later.
      acc.special |= hi > 0 ? POS_INF : NEG_INF;
      p.length = 0;
      return;
    }
    const lo = y - (hi - x);
    if (lo !== 0) p[i++] = lo;
    x = hi;
  }
  p.length = i;
  p.push(x);
}

/** Adds every partial of `b` to `a` without touching `b`. @internal */
export function mergeSums(a: SumAccumulator, b: SumAccumulator): void {
  a.special |= b.special;
  for (const x of b.partials) addToSum(a, x);
}

/** The exact sum rounded once to the nearest double (ties to even). @internal */
export function sumValue(acc: SumAccumulator): number {
  const s = acc.special;
  if (s !== 0) {
    if (s & NAN || (s & POS_INF && s & NEG_INF)) return Number.NaN;
    return s & POS_INF ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }
  const p = acc.partials;
  let n = p.length;
  if (n === 0) return 0;
  let hi = p[--n]!;
  let lo = 0;
  while (n > 0) {
    const x = hi;
    const y = p[--n]!;
    hi = x + y;
    const yr = hi - x;
    lo = y - yr;
    if (lo !== 0) break;
  }
  // Round half-even correctly when the remaining partials push `lo` past a halfway point.
  if (n > 0 && ((lo < 0 && p[n - 1]! < 0) || (lo > 0 && p[n - 1]! > 0))) {
    const y = lo * 2;
    const x = hi + y;
    const yr = x - hi;
    if (y === yr) hi = x;
  }
  return hi;
}
