package weir.bench.nexmark;

import java.io.Serializable;

/** Port of {@code GeneratorConfig} in {@code benchmarks/src/nexmark/generator.ts}; same defaults. */
public final class GeneratorConfig implements Serializable {
  private static final long serialVersionUID = 1L;

  public int seed = 42;
  /** 2026-01-01T00:00:00Z. */
  public long baseTime = 1767225600000L;
  public double eventsPerSecond = 10_000;
  public int personProportion = 1;
  public int auctionProportion = 3;
  public int bidProportion = 46;
  public int avgPersonByteSize = 200;
  public int avgAuctionByteSize = 500;
  public int avgBidByteSize = 100;
  public int hotAuctionRatio = 2;
  public int hotSellersRatio = 4;
  public int hotBiddersRatio = 4;
  public int numInFlightAuctions = 100;
  public int numActivePeople = 1000;
}
