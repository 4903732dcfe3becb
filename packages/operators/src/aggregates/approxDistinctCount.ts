import type { AggregateFunction } from '@weir/core';
import { murmurHash3x86_128 } from './internal/murmurHash3.js';

/**
 * Options of {@link approxDistinctCount}.
 * @public
 */
export interface ApproxDistinctCountOptions {
  /**
   * `p`: the sketch has `m = 2^p` registers, a relative standard error of about `1.04 / √m`
   * (0.81 % at the default 14) and at most `m` numbers of state. An integer in `[4, 18]`.
   */
  readonly precision?: number;
}

/**
 * The accumulator of {@link approxDistinctCount}: a HyperLogLog sketch. While few registers are
 * set it is sparse (a sorted list); past a threshold it switches to the dense register array.
 * Both forms give the same estimate.
 * @public
 */
export interface HyperLogLogAccumulator {
  /** `p`: the sketch has `2^p` registers. */
  precision: number;
  /** Sparse form: the non-zero registers as sorted codes `index * 64 + rank`; `null` once dense. */
  sparse: number[] | null;
  /** Dense form: every register's rank (0 = never set); `null` while sparse. */
  dense: number[] | null;
}

/** The longest sparse list before switching to dense: `m / 4`, capped so an insert stays cheap. */
function sparseLimit(m: number): number {
  return Math.min(m >>> 2, 8192);
}

function toDense(acc: HyperLogLogAccumulator): number[] {
  if (acc.dense !== null) return acc.dense;
  const dense = new Array<number>(1 << acc.precision).fill(0);
  for (const code of acc.sparse ?? []) dense[code >>> 6] = code & 63;
  acc.dense = dense;
  acc.sparse = null;
  return dense;
}

/** Raises register `index` to `rank` if it is lower. */
function offer(acc: HyperLogLogAccumulator, index: number, rank: number): void {
  const dense = acc.dense;
  if (dense !== null) {
    if (rank > dense[index]!) dense[index] = rank;
    return;
  }
  const sparse = acc.sparse!;
  const code = index * 64 + rank;
  let lo = 0;
  let hi = sparse.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sparse[mid]! >>> 6 < index) lo = mid + 1;
    else hi = mid;
  }
  if (lo < sparse.length && sparse[lo]! >>> 6 === index) {
    if (rank > (sparse[lo]! & 63)) sparse[lo] = code;
    return;
  }
  sparse.splice(lo, 0, code);
  if (sparse.length > sparseLimit(1 << acc.precision)) toDense(acc);
}

/** Merges two sorted sparse lists, keeping the higher rank per index. */
function mergeSparse(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    const xi = x >>> 6;
    const yi = y >>> 6;
    if (xi < yi) {
      out.push(x);
      i++;
    } else if (yi < xi) {
      out.push(y);
      j++;
    } else {
      out.push(Math.max(x, y));
      i++;
      j++;
    }
  }
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

function alpha(m: number): number {
  if (m === 16) return 0.673;
  if (m === 32) return 0.697;
  if (m === 64) return 0.709;
  return 0.7213 / (1 + 1.079 / m);
}

/** The HyperLogLog estimate (Flajolet et al. 2007) with small-range linear counting. */
function estimate(acc: HyperLogLogAccumulator): number {
  const m = 1 << acc.precision;
  // A histogram of register values, summed in a fixed order: the estimate depends only on the
  // registers, not on the representation or on the order elements and merges came in.
  const histogram = new Array<number>(65).fill(0);
  if (acc.dense !== null) {
    for (const r of acc.dense) histogram[r]!++;
  } else {
    const sparse = acc.sparse!;
    histogram[0] = m - sparse.length;
    for (const code of sparse) histogram[code & 63]!++;
  }
  let harmonic = 0;
  for (let r = 64; r >= 0; r--) harmonic += histogram[r]! * 2 ** -r;
  const raw = (alpha(m) * m * m) / harmonic;
  const zeros = histogram[0]!;
  // The 64-bit hash makes the large-range correction of 32-bit HyperLogLog unnecessary.
  if (raw <= 2.5 * m && zeros > 0) return Math.round(m * Math.log(m / zeros));
  return Math.round(raw);
}

/**
 * Counts distinct values approximately, in bounded memory, with HyperLogLog.
 *
 * Each value's string form (`String(v)`, as `distinctCount`) is hashed with 128-bit
 * MurmurHash3 (x86 variant, over UTF-8; 64 bits used): `p` bits pick one of `m = 2^p`
 * registers, which keeps the longest run of leading zeros seen in the rest. The estimate is the
 * bias-corrected harmonic mean of the registers (`α_m·m² / Σ 2^-M[j]`), with linear counting
 * (`m·ln(m/V)`, `V` empty registers) below `2.5·m`. The relative standard error is about
 * `1.04/√m`. Merging takes register-wise maxima, so merged sketches are identical to a sketch
 * built in one pass: the result does not depend on arrival or merge order. `null` and
 * `undefined` are skipped.
 *
 * @typeParam TIn - the element type
 * @param selector - the value whose distinct occurrences are counted
 * @param options - `precision` (default 14: 16 384 registers, about 0.8 % error)
 * @returns an aggregate function whose result is the estimated number of distinct values
 *
 * @example
 * ```ts
 * // Approximate daily active users per country, sliding every hour.
 * .window(SlidingEventTimeWindows.of(86_400_000, 3_600_000))
 * .aggregate(approxDistinctCount((e) => e.userId, { precision: 12 }), (country, w, dau) => ({ country, dau }));
 * ```
 * @public
 */
export function approxDistinctCount<TIn>(
  selector: (value: TIn) => string | number | bigint | boolean | null | undefined,
  options: ApproxDistinctCountOptions = {},
): AggregateFunction<TIn, HyperLogLogAccumulator, number> {
  const p = options.precision ?? 14;
  if (!Number.isInteger(p) || p < 4 || p > 18) {
    throw new RangeError(`approxDistinctCount: precision must be an integer in [4, 18], got ${p}`);
  }
  return {
    createAccumulator: () => ({ precision: p, sparse: [], dense: null }),
    add(value, acc) {
      const v = selector(value);
      if (v === null || v === undefined) return acc;
      const h = murmurHash3x86_128(typeof v === 'string' ? v : String(v));
      const h1 = h[0]!;
      const rest = (h1 << p) >>> 0;
      // The rank is 1 + the leading zeros of the 64 - p hash bits after the index.
      const rank = rest !== 0 ? Math.clz32(rest) + 1 : 32 - p + Math.clz32(h[1]!) + 1;
      offer(acc, h1 >>> (32 - p), rank);
      return acc;
    },
    getResult: estimate,
    merge(a, b) {
      if (a.precision !== b.precision) {
        throw new RangeError(`approxDistinctCount: cannot merge sketches of precision ${a.precision} and ${b.precision}`);
      }
      if (b.dense !== null) {
        const dense = toDense(a);
        const other = b.dense;
        for (let i = 0; i < other.length; i++) if (other[i]! > dense[i]!) dense[i] = other[i]!;
      } else if (a.dense !== null) {
        for (const code of b.sparse!) offer(a, code >>> 6, code & 63);
      } else {
        a.sparse = mergeSparse(a.sparse!, b.sparse!);
        if (a.sparse.length > sparseLimit(1 << a.precision)) toDense(a);
      }
      return a;
    },
  };
}
