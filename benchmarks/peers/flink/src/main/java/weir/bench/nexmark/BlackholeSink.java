package weir.bench.nexmark;

import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * Counts results and sums their digests (mod 2^32), as {@code BlackholeSink} in sink.ts. Tasks of a
 * MiniCluster run in this JVM, so writers publish their totals to static fields when they close.
 */
final class BlackholeSink<T> implements Sink<T> {
  private static final long serialVersionUID = 1L;

  static long count;
  static int checksum;

  static synchronized void reset() {
    count = 0;
    checksum = 0;
  }

  private static synchronized void publish(long c, int s) {
    count += c;
    checksum += s;
  }

  private final Digests.Digest<T> digest;

  BlackholeSink(Digests.Digest<T> digest) {
    this.digest = digest;
  }

  @Override
  public SinkWriter<T> createWriter(WriterInitContext context) {
    return new SinkWriter<T>() {
      long c;
      int s;

      @Override
      public void write(T element, Context ctx) {
        c++;
        s += digest.of(element);
      }

      @Override
      public void flush(boolean endOfInput) {}

      @Override
      public void close() {
        publish(c, s);
        c = 0;
        s = 0;
      }
    };
  }
}
