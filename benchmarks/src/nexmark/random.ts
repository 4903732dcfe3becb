/**
 * The pseudo-random numbers of the Nexmark generator: 32-bit integer arithmetic only, so that the
 * Java port (`benchmarks/peers/flink/.../NexmarkRandom.java`) draws bit-identical numbers and
 * both systems process exactly the same events.
 * @packageDocumentation
 */

/**
 * murmur3's 32-bit finalizer: a bijective, well-mixed hash of a 32-bit integer.
 * @param h - any number; its low 32 bits are used
 * @returns a signed 32-bit integer
 * @public
 */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

const TWO_32 = 4294967296;

/**
 * The part of an event's random state that depends on the seed only.
 * @param seed - the run's seed (32-bit)
 * @public
 */
export function seedHash(seed: number): number {
  return fmix32(seed ^ 0x5bd1e995);
}

/**
 * The random state of event number `n` (what {@link EventRandom.reseed} sets).
 * @param hashedSeed - `seedHash(seed)`
 * @param n - the event number (a safe integer ≥ 0)
 * @public
 */
export function stateFor(hashedSeed: number, n: number): number {
  if (n <= 0xffffffff) return fmix32(hashedSeed ^ n);
  return fmix32((hashedSeed ^ (n >>> 0)) + Math.imul(Math.floor(n / TWO_32) | 0, 0x27d4eb2f));
}
const TWO_53 = 9007199254740992;

/**
 * A counter-based generator (SplitMix32: a Weyl sequence through murmur3's finalizer), reseeded
 * for every event from (seed, event number). An event's fields therefore depend only on its
 * number, as in Beam's Nexmark generator (`new Random(eventId)` per event): any range of event
 * numbers can be generated on its own, which is what makes the source splittable and its
 * position a single number.
 * @public
 */
export class EventRandom {
  private state = 0;

  /**
   * Reseeds for event number `n`.
   * @param seed - the run's seed (32-bit)
   * @param n - the event number (a safe integer ≥ 0)
   */
  reseed(seed: number, n: number): void {
    this.state = stateFor(seedHash(seed), n);
  }

  /** The next 32 random bits, as an unsigned integer. */
  nextU32(): number {
    const s = (this.state = (this.state + 0x9e3779b9) | 0);
    return fmix32(s) >>> 0;
  }

  /**
   * A uniform integer in `[0, bound)`.
   * @param bound - a positive integer below 2^53
   */
  nextInt(bound: number): number {
    // Below 2^21 the product is exact in a double, and equals Java's 64-bit multiply-high.
    if (bound <= 0x200000) return Math.floor((this.nextU32() * bound) / TWO_32);
    return Math.floor(this.nextDouble() * bound);
  }

  /** A uniform double in `[0, 1)` with 53 random bits. */
  nextDouble(): number {
    const a = this.nextU32() >>> 5;
    const b = this.nextU32() >>> 6;
    return (a * 67108864 + b) / TWO_53;
  }
}
