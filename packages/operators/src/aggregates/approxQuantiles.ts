import type { AggregateFunction } from '@weir/core';

/**
 * Options of {@link approxQuantiles}.
 * @public
 */
export interface ApproxQuantilesOptions {
  /**
   * `δ`: bounds the number of centroids (typically between `δ / 2` and `δ`) and so the
   * state; larger is more accurate. Default 100; at least 10.
   */
  readonly compression?: number;
}

/**
 * The accumulator of {@link approxQuantiles}: a merging t-digest.
 * @public
 */
export interface TDigestAccumulator {
  /** `δ`, the compression. */
  compression: number;
  /** Centroid means, ascending. */
  means: number[];
  /** Centroid weights (element counts), parallel to `means`. */
  weights: number[];
  /** Values added since the last compression (weight 1 each), unsorted. */
  buffer: number[];
  /** Number of values added, in centroids and buffer. */
  count: number;
  /** Exact smallest value, `null` when empty. */
  min: number | null;
  /** Exact largest value, `null` when empty. */
  max: number | null;
}

/**
 * The result of {@link approxQuantiles}: a read-only snapshot of the digest.
 * @public
 */
export interface QuantileSummary {
  /** How many values were added. */
  readonly count: number;
  /** The exact smallest value, `undefined` when empty. */
  readonly min: number | undefined;
  /** The exact largest value, `undefined` when empty. */
  readonly max: number | undefined;
  /**
   * The estimated `q`-quantile: a value with about a fraction `q` of the values below it;
   * `quantile(0)` is `min` and `quantile(1)` is `max`. `undefined` when empty.
   * @param q - in `[0, 1]`; anything else throws a `RangeError`
   */
  quantile(q: number): number | undefined;
}

/**
 * The largest cumulative fraction a centroid starting at `q0` may reach under the k1 scale
 * function `k(q) = δ/(2π)·asin(2q − 1)`: one unit of `k`. Centroids are therefore small at the
 * tails and large in the middle, which is what keeps tail quantiles accurate. (The matching
 * weight bound, `2·sin(π/δ)·√(q(1 − q))` of the total, is applied in `compress`.)
 */
function qLimit(q0: number, compression: number): number {
  const k = Math.asin(Math.min(1, Math.max(-1, 2 * q0 - 1))) + (2 * Math.PI) / compression;
  return k >= Math.PI / 2 ? 1 : (1 + Math.sin(k)) / 2;
}

/** Merges two ascending weighted lists. */
function mergeSorted(
  m1: readonly number[],
  w1: readonly number[] | null,
  m2: ArrayLike<number>,
  w2: readonly number[] | null,
): { means: number[]; weights: number[] } {
  const means: number[] = [];
  const weights: number[] = [];
  let i = 0;
  let j = 0;
  while (i < m1.length || j < m2.length) {
    if (j >= m2.length || (i < m1.length && m1[i]! <= m2[j]!)) {
      means.push(m1[i]!);
      weights.push(w1 === null ? 1 : w1[i]!);
      i++;
    } else {
      means.push(m2[j]!);
      weights.push(w2 === null ? 1 : w2[j]!);
      j++;
    }
  }
  return { means, weights };
}

/**
 * One merging pass: the weighted, ascending points (which may already be centroids) are swept
 * left to right, each absorbed into the current centroid while that stays within its k-size.
 */
function compress(
  compression: number,
  means: readonly number[],
  weights: readonly number[],
): { means: number[]; weights: number[] } {
  const outMeans: number[] = [];
  const outWeights: number[] = [];
  if (means.length === 0) return { means: outMeans, weights: outWeights };
  let total = 0;
  for (const w of weights) total += w;
  let mean = means[0]!;
  let weight = weights[0]!;
  let before = 0;
  let limit = total * qLimit(0, compression);
  const sizeFactor = 2 * Math.sin(Math.PI / compression);
  const last = means.length - 1;
  for (let i = 1; i < means.length; i++) {
    const w = weights[i]!;
    const proposed = weight + w;
    const q0 = before / total;
    const q2 = (before + proposed) / total;
    // Two bounds, as Dunning's MergingDigest: the centroid spans at most one unit of k, and its
    // weight is at most what k1 allows at both of its ends (which keeps tail centroids tiny).
    // The first and last points never merge, so the extremes stay exact samples.
    const fits =
      i !== 1 &&
      i !== last &&
      before + proposed <= limit &&
      proposed <= total * sizeFactor * Math.sqrt(Math.min(q0 * (1 - q0), Math.max(0, q2 * (1 - q2))));
    if (fits) {
      weight = proposed;
      mean += ((means[i]! - mean) * w) / weight;
    } else {
      outMeans.push(mean);
      outWeights.push(weight);
      before += weight;
      limit = total * qLimit(before / total, compression);
      mean = means[i]!;
      weight = w;
    }
  }
  outMeans.push(mean);
  outWeights.push(weight);
  return { means: outMeans, weights: outWeights };
}

function sortedCopy(values: readonly number[]): Float64Array {
  return Float64Array.from(values).sort();
}

/** Folds the buffer (and, when merging, another digest) into the centroids. */
function flush(acc: TDigestAccumulator, other?: TDigestAccumulator): void {
  let means = acc.means;
  let weights = acc.weights;
  if (other !== undefined && other.means.length > 0) {
    ({ means, weights } = mergeSorted(means, weights, other.means, other.weights));
  }
  const buffered = other === undefined || other.buffer.length === 0 ? acc.buffer : acc.buffer.concat(other.buffer);
  if (buffered.length > 0) ({ means, weights } = mergeSorted(means, weights, sortedCopy(buffered), null));
  ({ means, weights } = compress(acc.compression, means, weights));
  acc.means = means;
  acc.weights = weights;
  acc.buffer = [];
}

/** `(x1·w1 + x2·w2) / (w1 + w2)`, kept inside `[x1, x2]` against rounding. */
function weightedAverage(x1: number, w1: number, x2: number, w2: number): number {
  if (w1 + w2 <= 0) return (x1 + x2) / 2;
  const x = (x1 * w1 + x2 * w2) / (w1 + w2);
  const lo = Math.min(x1, x2);
  const hi = Math.max(x1, x2);
  return Math.min(Math.max(x, lo), hi);
}

/**
 * Interpolates the `q`-quantile from centroids, as Dunning's MergingDigest: a centroid's weight
 * is spread around its mean, a unit centroid is an exact sample, and the exact min and max
 * anchor the ends.
 */
function quantileOf(means: readonly number[], weights: readonly number[], total: number, min: number, max: number, q: number): number {
  const n = means.length;
  if (n === 1) return total === 1 ? means[0]! : weightedAverage(min, 1 - q, max, q);
  const index = q * total;
  if (index < 1) return min;
  const w0 = weights[0]!;
  if (w0 > 1 && index < w0 / 2) return min + ((index - 1) / (w0 / 2 - 1)) * (means[0]! - min);
  if (index > total - 1) return max;
  const wn = weights[n - 1]!;
  // Strict, unlike the left end: with `wn === 2` and `index === total - 1` this would divide 0 by 0.
  if (wn > 1 && total - index < wn / 2) return max - ((total - index - 1) / (wn / 2 - 1)) * (max - means[n - 1]!);
  let soFar = w0 / 2;
  for (let i = 0; i < n - 1; i++) {
    const wi = weights[i]!;
    const wj = weights[i + 1]!;
    const dw = (wi + wj) / 2;
    if (soFar + dw > index) {
      let leftUnit = 0;
      if (wi === 1) {
        if (index - soFar < 0.5) return means[i]!;
        leftUnit = 0.5;
      }
      let rightUnit = 0;
      if (wj === 1) {
        if (soFar + dw - index <= 0.5) return means[i + 1]!;
        rightUnit = 0.5;
      }
      const z1 = index - soFar - leftUnit;
      const z2 = soFar + dw - index - rightUnit;
      return weightedAverage(means[i]!, z2, means[i + 1]!, z1);
    }
    soFar += dw;
  }
  // Past the last centroid's middle: interpolate towards the exact max.
  return weightedAverage(means[n - 1]!, total - index, max, index - soFar);
}

/**
 * Estimates quantiles (median, p95, p99, …) of a numeric field with a merging t-digest
 * (Dunning & Ertl).
 *
 * The digest keeps weighted centroids whose size is bounded by the k1 scale function, so they
 * are tiny at the tails and large in the middle: tail quantiles are very accurate and the state
 * stays around `compression` centroids whatever the input size. Values are buffered and merged
 * into the centroids in batches. Merging two digests merges their centroids; the result is
 * within the digest's error bounds but, unlike `sum` or `approxDistinctCount`, not bit-identical
 * to one pass. `min`, `max` and `count` are exact. `NaN` and `±Infinity` are skipped. The
 * accumulator holds two numbers per centroid plus up to `5·compression` buffered values.
 *
 * @typeParam TIn - the element type
 * @param selector - the number to summarize for each element
 * @param options - `compression` (default 100)
 * @returns an aggregate function whose result is a {@link QuantileSummary}
 *
 * @example
 * ```ts
 * .aggregate(approxQuantiles((r) => r.latencyMs), (route, w, s) => ({
 *   route, end: w.end, p50: s.quantile(0.5), p99: s.quantile(0.99), max: s.max,
 * }));
 * ```
 * @public
 */
export function approxQuantiles<TIn>(
  selector: (value: TIn) => number,
  options: ApproxQuantilesOptions = {},
): AggregateFunction<TIn, TDigestAccumulator, QuantileSummary> {
  const compression = options.compression ?? 100;
  if (!(compression >= 10) || !Number.isFinite(compression)) {
    throw new RangeError(`approxQuantiles: compression must be a finite number >= 10, got ${compression}`);
  }
  const bufferLimit = Math.ceil(5 * compression);
  return {
    createAccumulator: () => ({ compression, means: [], weights: [], buffer: [], count: 0, min: null, max: null }),
    add(value, acc) {
      let x = selector(value);
      if (!Number.isFinite(x)) return acc;
      // -0 would become 0 at the next checkpoint anyway.
      if (x === 0) x = 0;
      acc.buffer.push(x);
      acc.count++;
      if (acc.min === null || x < acc.min) acc.min = x;
      if (acc.max === null || x > acc.max) acc.max = x;
      if (acc.buffer.length >= bufferLimit) flush(acc);
      return acc;
    },
    getResult(acc) {
      let { means, weights } = acc;
      if (acc.buffer.length > 0) {
        // Fold the buffer into a copy: getResult must leave the accumulator as it is.
        const points = mergeSorted(means, weights, sortedCopy(acc.buffer), null);
        ({ means, weights } = compress(acc.compression, points.means, points.weights));
      } else {
        means = means.slice();
        weights = weights.slice();
      }
      const total = acc.count;
      const min = acc.min ?? undefined;
      const max = acc.max ?? undefined;
      return {
        count: total,
        min,
        max,
        quantile(q: number): number | undefined {
          if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile: q must be in [0, 1], got ${q}`);
          if (total === 0 || min === undefined || max === undefined) return undefined;
          return quantileOf(means, weights, total, min, max, q);
        },
      };
    },
    merge(a, b) {
      if (b.count === 0) return a;
      a.count += b.count;
      if (a.min === null || (b.min !== null && b.min < a.min)) a.min = b.min;
      if (a.max === null || (b.max !== null && b.max > a.max)) a.max = b.max;
      flush(a, b);
      return a;
    },
  };
}
