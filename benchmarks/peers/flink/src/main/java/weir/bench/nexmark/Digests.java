package weir.bench.nexmark;

import java.io.Serializable;

/** Port of the digest helpers of {@code benchmarks/src/nexmark/sink.ts}: the same 32-bit digests. */
final class Digests {
  private Digests() {}

  /** A row's digest. */
  interface Digest<T> extends Serializable {
    int of(T row);
  }

  static int start() {
    return 0x811c9dc5;
  }

  static int i(int h, int x) {
    return (h ^ x) * 0x01000193;
  }

  static int l(int h, long x) {
    return i(i(h, (int) x), (int) (x >>> 32));
  }

  static int s(int h, String x) {
    return i(h, x.hashCode());
  }

  static int end(int h) {
    return NexmarkRandom.fmix32(h);
  }

  static int bid(Bid b) {
    return end(l(i(i(l(start(), b.auction), (int) b.bidder), (int) b.price), b.dateTime));
  }
}
