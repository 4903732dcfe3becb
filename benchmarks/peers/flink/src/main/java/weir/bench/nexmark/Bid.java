package weir.bench.nexmark;

/** A bid (a Flink POJO). */
public class Bid {
  public long auction;
  public long bidder;
  public long price;
  public long dateTime;
  public String extra;

  public Bid() {}

  public Bid(long auction, long bidder, long price, long dateTime, String extra) {
    this.auction = auction;
    this.bidder = bidder;
    this.price = price;
    this.dateTime = dateTime;
    this.extra = extra;
  }
}
