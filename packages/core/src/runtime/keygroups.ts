import type { KeyType } from '../api/types.js';

/**
 * A contiguous, inclusive range of key groups owned by one subtask.
 * @public
 */
export interface KeyGroupRange {
  /** First key group, inclusive. */
  readonly start: number;
  /** Last key group, inclusive (`end < start` means empty). */
  readonly end: number;
}

/** The default number of key groups (the maximum parallelism). @public */
export const DEFAULT_MAX_PARALLELISM = 128;

/** The largest supported number of key groups. @public */
export const MAX_MAX_PARALLELISM = 32_768;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function mixK(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/**
 * A deterministic 32-bit hash of a key (murmur3-style mixing over the key's value). It depends
 * only on the key, never on the process, so every worker routes a key the same way.
 * @public
 */
export function hashKey(key: KeyType): number {
  switch (typeof key) {
    case 'string': {
      let h = 0x5bd1e995;
      const n = key.length;
      let i = 0;
      for (; i + 1 < n; i += 2) h = mixK(h, key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16));
      if (i < n) h = mixK(h, key.charCodeAt(i));
      return fmix32(h ^ n);
    }
    case 'number': {
      if ((key | 0) === key) return fmix32(mixK(0x2545f491, key));
      f64[0] = key;
      return fmix32(mixK(mixK(0x2545f491, u32[0] as number), u32[1] as number));
    }
    case 'boolean':
      return fmix32(mixK(0x7f4a7c15, key ? 1 : 0));
    case 'bigint':
      return hashKey(`bigint:${key.toString()}`);
    default:
      throw new TypeError(`Unsupported key type ${typeof key}: keys must be string, number, bigint or boolean`);
  }
}

/**
 * The key group of a key: `hash(key) mod maxParallelism`.
 * @public
 */
export function keyGroupFor(key: KeyType, maxParallelism: number): number {
  const h = hashKey(key);
  // A power of two (the default 128): the low bits, an integer operation (the same value). The
  // remainder of the unsigned 32-bit hash was a floating-point one in V8's code: 17 % of the
  // samples of Nexmark q5, where the heap backend computes a key group per record.
  return (maxParallelism & (maxParallelism - 1)) === 0 ? h & (maxParallelism - 1) : h % maxParallelism;
}

/**
 * The subtask that owns a key group when `maxParallelism` key groups are spread over
 * `parallelism` subtasks in contiguous ranges.
 * @public
 */
export function subtaskForKeyGroup(keyGroup: number, parallelism: number, maxParallelism: number): number {
  return Math.floor((keyGroup * parallelism) / maxParallelism);
}

/**
 * The key groups owned by subtask `index` (the inverse of {@link subtaskForKeyGroup}).
 * @public
 */
export function keyGroupRangeFor(index: number, parallelism: number, maxParallelism: number): KeyGroupRange {
  const start = Math.floor((index * maxParallelism + parallelism - 1) / parallelism);
  const end = Math.floor(((index + 1) * maxParallelism - 1) / parallelism);
  return { start, end };
}

/** Validates a (parallelism, maxParallelism) pair. @internal */
export function checkParallelism(parallelism: number, maxParallelism: number, what: string): void {
  if (!Number.isInteger(maxParallelism) || maxParallelism < 1 || maxParallelism > MAX_MAX_PARALLELISM) {
    throw new RangeError(`${what}: maxParallelism must be an integer in 1..${MAX_MAX_PARALLELISM}, got ${maxParallelism}`);
  }
  if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > maxParallelism) {
    throw new RangeError(
      `${what}: parallelism must be an integer in 1..maxParallelism (${maxParallelism}), got ${parallelism}`,
    );
  }
}
