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
  private static final int MAX_COUNT = 1_000_000;
  private static final int MAX_BYTE_SIZE = 10_000;
  private static final int PRICE_STEPS = 1 << 16;
  /** 6 ln 10 / 65536, the literal of generator.ts. */
  private static final double PRICE_SLOPE = 0.00021080796139471856;

  private static final String[] US_STATES = {"AZ", "CA", "ID", "OR", "WA", "WY"};
  private static final String[] US_CITIES = {
    "Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"
  };
  private static final String[] FIRST_NAMES = {"Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"};
  private static final String[] LAST_NAMES = {"Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"};
  /** "First Last" for every pair, indexed first * LAST_NAMES.length + last. */
  private static final String[] NAMES = new String[FIRST_NAMES.length * LAST_NAMES.length];
  /** 10^(6 * 256 i / PRICE_STEPS) and 10^(6 j / PRICE_STEPS); StrictMath: fdlibm's pow, as V8's. */
  private static final double[] PRICE_HI = new double[256];
  private static final double[] PRICE_LO = new double[256];

  static {
    for (int f = 0; f < FIRST_NAMES.length; f++) {
      for (int l = 0; l < LAST_NAMES.length; l++) NAMES[f * LAST_NAMES.length + l] = FIRST_NAMES[f] + " " + LAST_NAMES[l];
    }
    for (int i = 0; i < 256; i++) {
      PRICE_HI[i] = StrictMath.pow(10.0, (6.0 * 256 * i) / PRICE_STEPS);
      PRICE_LO[i] = StrictMath.pow(10.0, (6.0 * i) / PRICE_STEPS);
    }
  }

  private final GeneratorConfig c;
  private final NexmarkRandom random = new NexmarkRandom();
  private final long total;
  private final double delayUs;
  private final long eventsForAuctions;
  private final String letters;
  private final String spaced;
  private final int seedHashed;
  /** A bid's extra has bidExtraMin + nextInt(bidExtraSpan) letters (none if bidExtraMin < 0), as generator.ts. */
  private final int bidExtraMin;
  private final int bidExtraSpan;
  /** A credit-card number being formatted. */
  private final byte[] card = new byte[19];
  // The event number after the last one generated, and its epoch and offset in the epoch (as
  // generator.ts: event numbers usually come in order, so these save the divisions).
  private long nextN = 0;
  private long nextEpoch = 0;
  private long nextOffset = 0;

  public NexmarkGenerator(GeneratorConfig config) {
    for (int v : new int[] {config.hotAuctionRatio, config.hotSellersRatio, config.hotBiddersRatio, config.numInFlightAuctions, config.numActivePeople}) {
      if (v < 1 || v > MAX_COUNT) throw new IllegalArgumentException("ratios, active people and auctions in flight must be in [1, " + MAX_COUNT + "]");
    }
    for (int v : new int[] {config.avgPersonByteSize, config.avgAuctionByteSize, config.avgBidByteSize}) {
      if (v < 0 || v > MAX_BYTE_SIZE) throw new IllegalArgumentException("average sizes must be in [0, " + MAX_BYTE_SIZE + "]");
    }
    this.c = config;
    this.seedHashed = NexmarkRandom.seedHash(config.seed);
    int bidDesired = config.avgBidByteSize - (8 + 8 + 8 + 8);
    int bidDelta = (int) Math.round(bidDesired * 0.2);
    this.bidExtraMin = bidDesired < 0 ? -1 : bidDesired - bidDelta;
    this.bidExtraSpan = bidDesired < 0 ? 0 : 2 * bidDelta;
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
    long epoch;
    long offset;
    if (n == nextN) {
      epoch = nextEpoch;
      offset = nextOffset;
    } else {
      epoch = n / total;
      offset = n - epoch * total;
    }
    if (offset + 1 == total) {
      nextEpoch = epoch + 1;
      nextOffset = 0;
    } else {
      nextEpoch = epoch;
      nextOffset = offset + 1;
    }
    nextN = n + 1;
    long ts = timestampForEvent(n);
    random.reseedHashed(seedHashed, n);
    if (offset < c.personProportion) return Event.of(person(epoch, offset, ts));
    if (offset < c.personProportion + c.auctionProportion) return Event.of(auction(n, epoch, offset, ts));
    return Event.of(bid(epoch, ts));
  }

  // An event number n is epoch * total + offset; persons come first in every epoch, then
  // auctions, then bids.

  private long lastBase0PersonId(long epoch, long offset) {
    return epoch * c.personProportion + (offset < c.personProportion ? offset : c.personProportion - 1);
  }

  private long lastBase0AuctionId(long epoch, long offset) {
    if (offset < c.personProportion) return epoch * c.auctionProportion - 1;
    if (offset >= c.personProportion + c.auctionProportion) return epoch * c.auctionProportion + c.auctionProportion - 1;
    return epoch * c.auctionProportion + offset - c.personProportion;
  }

  private long nextBase0PersonId(long lastPerson) {
    long numPeople = lastPerson + 1;
    long active = Math.min(numPeople, c.numActivePeople);
    return numPeople - active + random.nextInt(active + PERSON_ID_LEAD);
  }

  private long nextBase0AuctionId(long last) {
    long min = Math.max(last - c.numInFlightAuctions, 0);
    return min + random.nextInt(last - min + 1 + AUCTION_ID_LEAD);
  }

  /** Log-uniform over [100, 100,000,000]: round(100 * 10^(6u)), from tables, as generator.ts. */
  private long nextPrice() {
    double t = random.nextDouble() * PRICE_STEPS;
    int i = (int) t;
    return Math.round(100 * PRICE_HI[i >>> 8] * PRICE_LO[i & 255] * (1 + (t - i) * PRICE_SLOPE));
  }

  /** Trimmed by moving the window past its end spaces, then one substring (as generator.ts). */
  private String nextString(int maxLength) {
    int len = MIN_STRING_LENGTH + (int) random.nextInt(maxLength - MIN_STRING_LENGTH);
    int from = (int) random.nextInt(TEXT_LENGTH - maxLength);
    int to = from + len;
    while (from < to && spaced.charAt(from) == ' ') from++;
    while (to > from && spaced.charAt(to - 1) == ' ') to--;
    return spaced.substring(from, to);
  }

  /** "dddd dddd dddd dddd", formatted digit by digit (as generator.ts's creditCardNumber). */
  private String creditCardNumber(int a, int b, int c3, int d) {
    byte[] out = card;
    group(out, 0, a);
    group(out, 5, b);
    group(out, 10, c3);
    group(out, 15, d);
    out[4] = ' ';
    out[9] = ' ';
    out[14] = ' ';
    return new String(out, StandardCharsets.ISO_8859_1);
  }

  private static void group(byte[] out, int at, int v) {
    out[at] = (byte) ('0' + v / 1000);
    out[at + 1] = (byte) ('0' + (v / 100) % 10);
    out[at + 2] = (byte) ('0' + (v / 10) % 10);
    out[at + 3] = (byte) ('0' + v % 10);
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

  private Person person(long epoch, long offset, long ts) {
    NexmarkRandom r = random;
    long id = lastBase0PersonId(epoch, offset) + FIRST_PERSON_ID;
    int first = (int) r.nextInt(FIRST_NAMES.length);
    String name = NAMES[first * LAST_NAMES.length + (int) r.nextInt(LAST_NAMES.length)];
    String user = nextString(7);
    String email = user + "@" + nextString(5) + ".com";
    int g1 = (int) r.nextInt(10_000);
    int g2 = (int) r.nextInt(10_000);
    int g3 = (int) r.nextInt(10_000);
    String creditCard = creditCardNumber(g1, g2, g3, (int) r.nextInt(10_000));
    String city = US_CITIES[(int) r.nextInt(US_CITIES.length)];
    String state = US_STATES[(int) r.nextInt(US_STATES.length)];
    int size = 8 + name.length() + email.length() + creditCard.length() + city.length() + state.length();
    String extra = nextExtra(size, c.avgPersonByteSize);
    return new Person(id, name, email, creditCard, city, state, ts, extra);
  }

  private Auction auction(long n, long epoch, long offset, long ts) {
    NexmarkRandom r = random;
    long id = lastBase0AuctionId(epoch, offset) + FIRST_AUCTION_ID;
    long lastPerson = lastBase0PersonId(epoch, offset);
    long seller =
        (r.nextInt(c.hotSellersRatio) > 0
                ? (lastPerson / HOT_SELLER_RATIO) * HOT_SELLER_RATIO
                : nextBase0PersonId(lastPerson))
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

  private Bid bid(long epoch, long ts) {
    NexmarkRandom r = random;
    // A bid's offset is past every person and auction of its epoch.
    long lastAuction = epoch * c.auctionProportion + c.auctionProportion - 1;
    long lastPerson = epoch * c.personProportion + c.personProportion - 1;
    long auction =
        (r.nextInt(c.hotAuctionRatio) > 0
                ? (lastAuction / HOT_AUCTION_RATIO) * HOT_AUCTION_RATIO
                : nextBase0AuctionId(lastAuction))
            + FIRST_AUCTION_ID;
    long bidder =
        (r.nextInt(c.hotBiddersRatio) > 0
                ? (lastPerson / HOT_BIDDER_RATIO) * HOT_BIDDER_RATIO + 1
                : nextBase0PersonId(lastPerson))
            + FIRST_PERSON_ID;
    long price = nextPrice();
    String extra =
        bidExtraMin < 0 ? "" : nextExactString(bidExtraMin + (bidExtraSpan > 0 ? (int) r.nextInt(bidExtraSpan) : 0));
    return new Bid(auction, bidder, price, ts, extra);
  }
}
