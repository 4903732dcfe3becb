package weir.bench.nexmark;

import java.nio.charset.StandardCharsets;

/**
 * Port of {@code benchmarks/src/nexmark/generator.ts}: event number {@code n} → the same event the
 * TypeScript generator makes, field for field. See that file for the differences from the Nexmark
 * reference generator. One instance per reader (it reuses its random-number state).
 */
public final class NexmarkGenerator {
  static final long FIRST_PERSON_ID = 1000;
  static final long FIRST_AUCTION_ID = 1000;
  static final long FIRST_CATEGORY_ID = 10;
  static final int NUM_CATEGORIES = 5;
  private static final int PERSON_ID_LEAD = 10;
  private static final int AUCTION_ID_LEAD = 10;
  private static final int HOT_SELLER_RATIO = 100;
  private static final int HOT_AUCTION_RATIO = 100;
  private static final int HOT_BIDDER_RATIO = 100;
  private static final int MIN_STRING_LENGTH = 3;
  private static final int TEXT_LENGTH = 1 << 16;

  private static final String[] US_STATES = {"AZ", "CA", "ID", "OR", "WA", "WY"};
  private static final String[] US_CITIES = {
    "Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"
  };
  private static final String[] FIRST_NAMES = {"Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"};
  private static final String[] LAST_NAMES = {"Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"};

  private final GeneratorConfig c;
  private final NexmarkRandom random = new NexmarkRandom();
  private final long total;
  private final double delayUs;
  private final long eventsForAuctions;
  private final String letters;
  private final String spaced;

  public NexmarkGenerator(GeneratorConfig config) {
    this.c = config;
    this.total = c.personProportion + c.auctionProportion + c.bidProportion;
    this.delayUs = 1_000_000 / c.eventsPerSecond;
    this.eventsForAuctions = ((long) c.numInFlightAuctions * total) / c.auctionProportion;
    NexmarkRandom r = random;
    r.reseed(c.seed ^ 0x7e57, 0);
    byte[] a = new byte[TEXT_LENGTH];
    for (int i = 0; i < TEXT_LENGTH; i++) a[i] = (byte) (97 + r.nextInt(26));
    this.letters = new String(a, StandardCharsets.ISO_8859_1);
    for (int i = 0; i < TEXT_LENGTH; i++) a[i] = (byte) (r.nextInt(13) == 0 ? 32 : 97 + r.nextInt(26));
    this.spaced = new String(a, StandardCharsets.ISO_8859_1);
  }

  /** Event time of event number {@code n}, epoch ms. */
  public long timestampForEvent(long n) {
    return c.baseTime + ((long) (n * delayUs)) / 1000L;
  }

  /** The event with number {@code n}. */
  public Event eventAt(long n) {
    long ts = timestampForEvent(n);
    random.reseed(c.seed, n);
    long rem = n % total;
    if (rem < c.personProportion) return Event.of(person(n, ts));
    if (rem < c.personProportion + c.auctionProportion) return Event.of(auction(n, ts));
    return Event.of(bid(n, ts));
  }

  private long lastBase0PersonId(long n) {
    long epoch = n / total;
    long offset = n % total;
    if (offset >= c.personProportion) offset = c.personProportion - 1;
    return epoch * c.personProportion + offset;
  }

  private long lastBase0AuctionId(long n) {
    long epoch = n / total;
    long offset = n % total;
    if (offset < c.personProportion) {
      epoch--;
      offset = c.auctionProportion - 1;
    } else if (offset >= c.personProportion + c.auctionProportion) {
      offset = c.auctionProportion - 1;
    } else {
      offset -= c.personProportion;
    }
    return epoch * c.auctionProportion + offset;
  }

  private long nextBase0PersonId(long n) {
    long numPeople = lastBase0PersonId(n) + 1;
    long active = Math.min(numPeople, c.numActivePeople);
    return numPeople - active + random.nextInt(active + PERSON_ID_LEAD);
  }

  private long nextBase0AuctionId(long n) {
    long last = lastBase0AuctionId(n);
    long min = Math.max(last - c.numInFlightAuctions, 0);
    return min + random.nextInt(last - min + 1 + AUCTION_ID_LEAD);
  }

  /** Log-uniform over [100, 100,000,000]. StrictMath: fdlibm's pow, as V8's Math.pow. */
  private long nextPrice() {
    return Math.round(StrictMath.pow(10.0, random.nextDouble() * 6.0) * 100.0);
  }

  private String nextString(int maxLength) {
    int len = MIN_STRING_LENGTH + (int) random.nextInt(maxLength - MIN_STRING_LENGTH);
    int at = (int) random.nextInt(TEXT_LENGTH - maxLength);
    return spaced.substring(at, at + len).trim();
  }

  private String nextExactString(int length) {
    int at = (int) random.nextInt(TEXT_LENGTH - length);
    return letters.substring(at, at + length);
  }

  private String nextExtra(int currentSize, int averageSize) {
    if (currentSize > averageSize) return "";
    int desired = averageSize - currentSize;
    int delta = (int) Math.round(desired * 0.2);
    int size = desired - delta + (delta == 0 ? 0 : (int) random.nextInt(2L * delta));
    return nextExactString(size);
  }

  private Person person(long n, long ts) {
    NexmarkRandom r = random;
    long id = lastBase0PersonId(n) + FIRST_PERSON_ID;
    String first = FIRST_NAMES[(int) r.nextInt(FIRST_NAMES.length)];
    String name = first + " " + LAST_NAMES[(int) r.nextInt(LAST_NAMES.length)];
    String user = nextString(7);
    String email = user + "@" + nextString(5) + ".com";
    StringBuilder cc = new StringBuilder(19);
    for (int i = 0; i < 4; i++) {
      if (i > 0) cc.append(' ');
      String digits = Long.toString(r.nextInt(10_000));
      for (int k = digits.length(); k < 4; k++) cc.append('0');
      cc.append(digits);
    }
    String creditCard = cc.toString();
    String city = US_CITIES[(int) r.nextInt(US_CITIES.length)];
    String state = US_STATES[(int) r.nextInt(US_STATES.length)];
    int size = 8 + name.length() + email.length() + creditCard.length() + city.length() + state.length();
    String extra = nextExtra(size, c.avgPersonByteSize);
    return new Person(id, name, email, creditCard, city, state, ts, extra);
  }

  private Auction auction(long n, long ts) {
    NexmarkRandom r = random;
    long id = lastBase0AuctionId(n) + FIRST_AUCTION_ID;
    long seller =
        (r.nextInt(c.hotSellersRatio) > 0
                ? (lastBase0PersonId(n) / HOT_SELLER_RATIO) * HOT_SELLER_RATIO
                : nextBase0PersonId(n))
            + FIRST_PERSON_ID;
    long category = FIRST_CATEGORY_ID + r.nextInt(NUM_CATEGORIES);
    long initialBid = nextPrice();
    long horizon = timestampForEvent(n + eventsForAuctions) - ts;
    long expires = ts + 1 + r.nextInt(Math.max(horizon * 2, 1));
    String itemName = nextString(20);
    String description = nextString(100);
    long reserve = initialBid + nextPrice();
    int size = 8 + itemName.length() + description.length() + 8 + 8 + 8 + 8 + 8;
    String extra = nextExtra(size, c.avgAuctionByteSize);
    return new Auction(id, itemName, description, initialBid, reserve, ts, expires, seller, category, extra);
  }

  private Bid bid(long n, long ts) {
    NexmarkRandom r = random;
    long auction =
        (r.nextInt(c.hotAuctionRatio) > 0
                ? (lastBase0AuctionId(n) / HOT_AUCTION_RATIO) * HOT_AUCTION_RATIO
                : nextBase0AuctionId(n))
            + FIRST_AUCTION_ID;
    long bidder =
        (r.nextInt(c.hotBiddersRatio) > 0
                ? (lastBase0PersonId(n) / HOT_BIDDER_RATIO) * HOT_BIDDER_RATIO + 1
                : nextBase0PersonId(n))
            + FIRST_PERSON_ID;
    long price = nextPrice();
    String extra = nextExtra(8 + 8 + 8 + 8, c.avgBidByteSize);
    return new Bid(auction, bidder, price, ts, extra);
  }
}
