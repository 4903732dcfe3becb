package weir.bench.nexmark;

import java.util.ArrayList;
import java.util.List;

/** Result and intermediate row types of the queries (Flink POJOs), as in queries.ts. */
public final class Rows {
  private Rows() {}

  /** q1. */
  public static class BidInEuros {
    public long auction;
    public long bidder;
    public double price;
    public long dateTime;
    public String extra;

    public BidInEuros() {}

    public BidInEuros(long auction, long bidder, double price, long dateTime, String extra) {
      this.auction = auction;
      this.bidder = bidder;
      this.price = price;
      this.dateTime = dateTime;
      this.extra = extra;
    }
  }

  /** q2. */
  public static class AuctionPrice {
    public long auction;
    public long price;

    public AuctionPrice() {}

    public AuctionPrice(long auction, long price) {
      this.auction = auction;
      this.price = price;
    }
  }

  /** q3. */
  public static class LocalItem {
    public String name;
    public String city;
    public String state;
    public long id;

    public LocalItem() {}

    public LocalItem(String name, String city, String state, long id) {
      this.name = name;
      this.city = city;
      this.state = state;
      this.id = id;
    }
  }

  /** q4, intermediate. */
  public static class WinningBid {
    public long auction;
    public long category;
    public long price;

    public WinningBid() {}

    public WinningBid(long auction, long category, long price) {
      this.auction = auction;
      this.category = category;
      this.price = price;
    }
  }

  /** q4. */
  public static class CategoryAverage {
    public long category;
    public double average;
    public long auctions;

    public CategoryAverage() {}

    public CategoryAverage(long category, double average, long auctions) {
      this.category = category;
      this.average = average;
      this.auctions = auctions;
    }
  }

  /** q4's running sum and count per category. */
  public static class SumCount {
    public long sum;
    public long count;

    public SumCount() {}

    public SumCount(long sum, long count) {
      this.sum = sum;
      this.count = count;
    }
  }

  /** q5, intermediate. */
  public static class AuctionCount {
    public long auction;
    public long num;
    public long end;

    public AuctionCount() {}

    public AuctionCount(long auction, long num, long end) {
      this.auction = auction;
      this.num = num;
      this.end = end;
    }
  }

  /** q5's accumulator: the auctions with the largest count, ties included. */
  public static class Hottest {
    public long max;
    public List<Long> auctions = new ArrayList<>();

    public Hottest() {}
  }

  /** q5. */
  public static class HotItem {
    public long auction;
    public long num;

    public HotItem() {}

    public HotItem(long auction, long num) {
      this.auction = auction;
      this.num = num;
    }
  }

  /** q7's accumulator: the highest bids, ties included. */
  public static class Highest {
    public long price = -1;
    public List<Bid> bids = new ArrayList<>();

    public Highest() {}
  }

  /** q8. */
  public static class NewSeller {
    public long id;
    public String name;
    public long starttime;

    public NewSeller() {}

    public NewSeller(long id, String name, long starttime) {
      this.id = id;
      this.name = name;
      this.starttime = starttime;
    }
  }

  /** q11. */
  public static class BidderSession {
    public long bidder;
    public long bidCount;
    public long starttime;
    public long endtime;

    public BidderSession() {}

    public BidderSession(long bidder, long bidCount, long starttime, long endtime) {
      this.bidder = bidder;
      this.bidCount = bidCount;
      this.starttime = starttime;
      this.endtime = endtime;
    }
  }
}
