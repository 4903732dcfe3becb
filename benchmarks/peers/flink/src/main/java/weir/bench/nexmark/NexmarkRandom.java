package weir.bench.nexmark;

/**
 * Port of {@code benchmarks/src/nexmark/random.ts}: a counter-based generator (SplitMix32, a Weyl
 * sequence through murmur3's finalizer) reseeded per event from (seed, event number). 32-bit
 * integer arithmetic only, so it draws exactly the numbers the TypeScript generator draws.
 */
final class NexmarkRandom {
  private int state;

  /** murmur3's 32-bit finalizer. */
  static int fmix32(int h) {
    h ^= h >>> 16;
    h *= 0x85ebca6b;
    h ^= h >>> 13;
    h *= 0xc2b2ae35;
    return h ^ (h >>> 16);
  }

  /** The part of an event's random state that depends on the seed only ({@code seedHash} in random.ts). */
  static int seedHash(int seed) {
    return fmix32(seed ^ 0x5bd1e995);
  }

  /** Reseeds for event number {@code n}. */
  void reseed(int seed, long n) {
    reseedHashed(seedHash(seed), n);
  }

  /** Reseeds for event number {@code n}, given {@code seedHash(seed)} ({@code stateFor} in random.ts). */
  void reseedHashed(int hashedSeed, long n) {
    int lo = (int) n;
    int hi = (int) (n >>> 32);
    state = fmix32((hashedSeed ^ lo) + hi * 0x27d4eb2f);
  }

  /** The next 32 random bits (as a signed int; callers treat them as unsigned). */
  int nextU32() {
    state += 0x9e3779b9;
    return fmix32(state);
  }

  /** A uniform integer in {@code [0, bound)}. */
  long nextInt(long bound) {
    if (bound <= 0x200000) return ((nextU32() & 0xffffffffL) * bound) >>> 32;
    return (long) (nextDouble() * bound);
  }

  /** A uniform double in {@code [0, 1)} with 53 random bits. */
  double nextDouble() {
    long a = (nextU32() & 0xffffffffL) >>> 5;
    long b = (nextU32() & 0xffffffffL) >>> 6;
    return (a * 67108864L + b) / 9007199254740992.0;
  }
}
