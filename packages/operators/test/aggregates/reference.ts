/** Brute-force references for the aggregate tests. */

const view = new DataView(new ArrayBuffer(8));

/** The exact value of a finite double as `m · 2^-1074` (`m` a BigInt). */
function toUnits(x: number): bigint {
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const exp = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e = -1074;
  if (exp !== 0) {
    m |= 1n << 52n;
    e = exp - 1075;
  }
  const units = m << BigInt(e + 1074);
  return hi >>> 31 ? -units : units;
}

/**
 * The exact sum of finite doubles, rounded once to the nearest double (ties to even), computed
 * with BigInt arithmetic: the reference `sum` and `avg` must match bit for bit.
 */
export function exactSum(xs: readonly number[]): number {
  let s = 0n;
  for (const x of xs) s += toUnits(x);
  if (s === 0n) return 0;
  const negative = s < 0n;
  let a = negative ? -s : s;
  const bits = a.toString(2).length;
  let shift = 0;
  if (bits > 53) {
    shift = bits - 53;
    const q = a >> BigInt(shift);
    const r = a - (q << BigInt(shift));
    const half = 1n << BigInt(shift - 1);
    a = r > half || (r === half && (q & 1n) === 1n) ? q + 1n : q;
  }
  // Both factors are exact and so is their product (a has at most 54 significant bits, and is
  // an exact power of two times 2^53 when it has 54).
  const v = Number(a) * 2 ** (shift - 1074);
  return negative ? -v : v;
}

/** A seeded PRNG (mulberry32) for the large deterministic tests. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * How far `q` is from the ranks `x` occupies in ascending `sorted`: 0 when a fraction `q` of
 * the values can be split off at `x` (`#below / n <= q <= #(below or equal) / n`), else the
 * distance to that interval. The rank error of a quantile estimate, fair to repeated values.
 */
export function rankError(sorted: Float64Array, x: number, q: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  let end = lo;
  hi = sorted.length;
  while (end < hi) {
    const mid = (end + hi) >>> 1;
    if (sorted[mid]! <= x) end = mid + 1;
    else hi = mid;
  }
  const below = lo / sorted.length;
  const upTo = end / sorted.length;
  return q < below ? below - q : q > upTo ? q - upTo : 0;
}
