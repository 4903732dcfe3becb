package weir.bench.nexmark;

import java.time.Duration;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.streaming.api.functions.windowing.WindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.EventTimeSessionWindows;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;
import weir.bench.nexmark.Rows.AuctionCount;
import weir.bench.nexmark.Rows.AuctionPrice;
import weir.bench.nexmark.Rows.BidInEuros;
import weir.bench.nexmark.Rows.BidderSession;
import weir.bench.nexmark.Rows.CategoryAverage;
import weir.bench.nexmark.Rows.Highest;
import weir.bench.nexmark.Rows.HotItem;
import weir.bench.nexmark.Rows.Hottest;
import weir.bench.nexmark.Rows.LocalItem;
import weir.bench.nexmark.Rows.NewSeller;
import weir.bench.nexmark.Rows.SumCount;
import weir.bench.nexmark.Rows.WinningBid;

/**
 * The Nexmark queries with Flink's DataStream API: the same semantics as
 * {@code benchmarks/src/nexmark/queries.ts} (see there for each query and how it differs from the
 * SQL suite), written as a Flink user would.
 */
final class Queries {
  private Queries() {}

  static final Duration WINDOW = Duration.ofSeconds(10);
  static final Duration SLIDE = Duration.ofSeconds(2);
  static final Duration SESSION_GAP = Duration.ofSeconds(10);
  static final long WINDOW_MS = 10_000;

  /** Builds query {@code name} on {@code events} and sinks it into a blackhole. */
  static void build(String name, DataStream<Event> events) {
    switch (name) {
      case "q0":
        bids(events).sinkTo(new BlackholeSink<Bid>(Digests::bid));
        break;
      case "q1":
        events
            .filter(e -> e.bid != null)
            .map(e -> new BidInEuros(e.bid.auction, e.bid.bidder, e.bid.price * 0.908, e.bid.dateTime, e.bid.extra))
            .returns(BidInEuros.class)
            .sinkTo(
                new BlackholeSink<BidInEuros>(
                    r -> Digests.end(Digests.l(Digests.l(Digests.i(Digests.l(Digests.start(), r.auction), (int) r.bidder), (long) Math.floor(r.price * 1000)), r.dateTime))));
        break;
      case "q2":
        events
            .filter(e -> e.bid != null && e.bid.auction % 123 == 0)
            .map(e -> new AuctionPrice(e.bid.auction, e.bid.price))
            .returns(AuctionPrice.class)
            .sinkTo(new BlackholeSink<AuctionPrice>(r -> Digests.end(Digests.i(Digests.l(Digests.start(), r.auction), (int) r.price))));
        break;
      case "q3":
        q3(events);
        break;
      case "q4":
        q4(events);
        break;
      case "q5":
        q5(events);
        break;
      case "q7":
        q7(events);
        break;
      case "q8":
        q8(events);
        break;
      case "q11":
        q11(events);
        break;
      default:
        throw new IllegalArgumentException("unknown query " + name);
    }
  }

  static DataStream<Bid> bids(DataStream<Event> events) {
    return events.filter(e -> e.bid != null).map(e -> e.bid).returns(Bid.class);
  }

  // ---- q3 ----------------------------------------------------------------------------------

  static final class LocalItemJoin extends KeyedCoProcessFunction<Long, Auction, Person, LocalItem> {
    private transient ValueState<Person> person;
    private transient ListState<Auction> pending;

    @Override
    public void open(org.apache.flink.api.common.functions.OpenContext ctx) {
      person = getRuntimeContext().getState(new ValueStateDescriptor<>("person", Person.class));
      pending = getRuntimeContext().getListState(new ListStateDescriptor<>("pending-auctions", Auction.class));
    }

    @Override
    public void processElement1(Auction a, Context ctx, Collector<LocalItem> out) throws Exception {
      Person p = person.value();
      if (p != null) out.collect(new LocalItem(p.name, p.city, p.state, a.id));
      else pending.add(a);
    }

    @Override
    public void processElement2(Person p, Context ctx, Collector<LocalItem> out) throws Exception {
      person.update(p);
      boolean any = false;
      for (Auction a : pending.get()) {
        any = true;
        out.collect(new LocalItem(p.name, p.city, p.state, a.id));
      }
      if (any) pending.clear();
    }
  }

  static void q3(DataStream<Event> events) {
    DataStream<Auction> auctions = events.filter(e -> e.auction != null && e.auction.category == 10).map(e -> e.auction).returns(Auction.class);
    DataStream<Person> persons =
        events
            .filter(e -> e.person != null && (e.person.state.equals("OR") || e.person.state.equals("ID") || e.person.state.equals("CA")))
            .map(e -> e.person)
            .returns(Person.class);
    auctions
        .keyBy(a -> a.seller, Types.LONG)
        .connect(persons.keyBy(p -> p.id, Types.LONG))
        .process(new LocalItemJoin())
        .returns(LocalItem.class)
        .sinkTo(
            new BlackholeSink<LocalItem>(
                r -> Digests.end(Digests.s(Digests.s(Digests.s(Digests.l(Digests.start(), r.id), r.name), r.city), r.state))));
  }

  // ---- q4 ----------------------------------------------------------------------------------

  /** How long a closed auction is kept, so bids that still name it are rejected without buffering. */
  static final long CLOSED_AUCTION_RETENTION_MS = 10_000;

  /** As {@code WinningBids} in queries.ts: auctions and bids in one stream keyed by auction id. */
  static final class WinningBids extends KeyedProcessFunction<Long, Event, WinningBid> {
    private transient ValueState<Auction> auction;
    private transient ValueState<Long> best;
    private transient ListState<Bid> early;

    @Override
    public void open(org.apache.flink.api.common.functions.OpenContext ctx) {
      auction = getRuntimeContext().getState(new ValueStateDescriptor<>("auction", Auction.class));
      best = getRuntimeContext().getState(new ValueStateDescriptor<>("best-price", Types.LONG));
      early = getRuntimeContext().getListState(new ListStateDescriptor<>("early-bids", Bid.class));
    }

    @Override
    public void processElement(Event e, Context ctx, Collector<WinningBid> out) throws Exception {
      if (e.auction != null) onAuction(e.auction, ctx);
      else if (e.bid != null) onBid(e.bid, ctx);
    }

    private void onAuction(Auction a, Context ctx) throws Exception {
      auction.update(a);
      ctx.timerService().registerEventTimeTimer(a.expires);
      ctx.timerService().registerEventTimeTimer(a.expires + CLOSED_AUCTION_RETENTION_MS);
      long max = -1;
      boolean any = false;
      for (Bid b : early.get()) {
        any = true;
        if (b.dateTime >= a.dateTime && b.dateTime <= a.expires && b.price > max) max = b.price;
      }
      if (any) {
        early.clear();
        if (max >= 0) best.update(max);
      }
    }

    private void onBid(Bid b, Context ctx) throws Exception {
      Auction a = auction.value();
      if (a == null) {
        early.add(b);
        ctx.timerService().registerEventTimeTimer(b.dateTime);
        return;
      }
      if (b.dateTime < a.dateTime || b.dateTime > a.expires) return;
      Long current = best.value();
      if (current == null || b.price > current) best.update(b.price);
    }

    @Override
    public void onTimer(long ts, OnTimerContext ctx, Collector<WinningBid> out) throws Exception {
      Auction a = auction.value();
      if (a == null) {
        java.util.List<Bid> keep = new java.util.ArrayList<>();
        for (Bid b : early.get()) if (b.dateTime > ts) keep.add(b);
        if (keep.isEmpty()) early.clear();
        else early.update(keep);
        return;
      }
      if (ts == a.expires) {
        Long current = best.value();
        if (current != null) out.collect(new WinningBid(a.id, a.category, current));
        best.clear();
      } else if (ts >= a.expires + CLOSED_AUCTION_RETENTION_MS) {
        auction.clear();
      }
    }
  }

  static final class AveragePrice extends KeyedProcessFunction<Long, WinningBid, CategoryAverage> {
    private transient ValueState<SumCount> acc;

    @Override
    public void open(org.apache.flink.api.common.functions.OpenContext ctx) {
      acc = getRuntimeContext().getState(new ValueStateDescriptor<>("sum-count", SumCount.class));
    }

    @Override
    public void processElement(WinningBid w, Context ctx, Collector<CategoryAverage> out) throws Exception {
      SumCount old = acc.value();
      SumCount next = old == null ? new SumCount(w.price, 1) : new SumCount(old.sum + w.price, old.count + 1);
      acc.update(next);
      out.collect(new CategoryAverage(w.category, (double) next.sum / next.count, next.count));
    }
  }

  static void q4(DataStream<Event> events) {
    events
        .filter(e -> e.person == null)
        .keyBy(e -> e.auction != null ? e.auction.id : e.bid.auction, Types.LONG)
        .process(new WinningBids())
        .returns(WinningBid.class)
        .keyBy(w -> w.category, Types.LONG)
        .process(new AveragePrice())
        .returns(CategoryAverage.class)
        .sinkTo(new BlackholeSink<CategoryAverage>(r -> Digests.end(Digests.i(Digests.i(Digests.start(), (int) r.category), (int) r.auctions))));
  }

  // ---- q5 ----------------------------------------------------------------------------------

  static final class CountAgg<T> implements AggregateFunction<T, Long, Long> {
    @Override
    public Long createAccumulator() {
      return 0L;
    }

    @Override
    public Long add(T value, Long acc) {
      return acc + 1;
    }

    @Override
    public Long getResult(Long acc) {
      return acc;
    }

    @Override
    public Long merge(Long a, Long b) {
      return a + b;
    }
  }

  static final class ToAuctionCount implements WindowFunction<Long, AuctionCount, Long, TimeWindow> {
    @Override
    public void apply(Long auction, TimeWindow w, Iterable<Long> counts, Collector<AuctionCount> out) {
      out.collect(new AuctionCount(auction, counts.iterator().next(), w.getEnd()));
    }
  }

  static final class HottestAgg implements AggregateFunction<AuctionCount, Hottest, Hottest> {
    @Override
    public Hottest createAccumulator() {
      return new Hottest();
    }

    @Override
    public Hottest add(AuctionCount c, Hottest acc) {
      if (c.num > acc.max) {
        acc.max = c.num;
        acc.auctions = new java.util.ArrayList<>();
        acc.auctions.add(c.auction);
      } else if (c.num == acc.max) {
        acc.auctions.add(c.auction);
      }
      return acc;
    }

    @Override
    public Hottest getResult(Hottest acc) {
      return acc;
    }

    @Override
    public Hottest merge(Hottest a, Hottest b) {
      if (b.max > a.max) return b;
      if (b.max == a.max) a.auctions.addAll(b.auctions);
      return a;
    }
  }

  static void q5(DataStream<Event> events) {
    bids(events)
        .keyBy(b -> b.auction, Types.LONG)
        .window(SlidingEventTimeWindows.of(WINDOW, SLIDE))
        .aggregate(new CountAgg<Bid>(), new ToAuctionCount(), Types.LONG, Types.POJO(AuctionCount.class))
        .keyBy(c -> c.end, Types.LONG)
        .window(TumblingEventTimeWindows.of(SLIDE))
        .aggregate(new HottestAgg(), Types.POJO(Hottest.class), Types.POJO(Hottest.class))
        .flatMap((Hottest h, Collector<HotItem> out) -> {
          for (long auction : h.auctions) out.collect(new HotItem(auction, h.max));
        })
        .returns(HotItem.class)
        .sinkTo(new BlackholeSink<HotItem>(r -> Digests.end(Digests.i(Digests.l(Digests.start(), r.auction), (int) r.num))));
  }

  // ---- q7 ----------------------------------------------------------------------------------

  static final class HighestAgg implements AggregateFunction<Bid, Highest, Highest> {
    @Override
    public Highest createAccumulator() {
      return new Highest();
    }

    @Override
    public Highest add(Bid b, Highest acc) {
      if (b.price > acc.price) {
        acc.price = b.price;
        acc.bids = new java.util.ArrayList<>();
        acc.bids.add(b);
      } else if (b.price == acc.price) {
        acc.bids.add(b);
      }
      return acc;
    }

    @Override
    public Highest getResult(Highest acc) {
      return acc;
    }

    @Override
    public Highest merge(Highest a, Highest b) {
      if (b.price > a.price) return b;
      if (b.price == a.price) a.bids.addAll(b.bids);
      return a;
    }
  }

  static void q7(DataStream<Event> events) {
    bids(events)
        .windowAll(TumblingEventTimeWindows.of(WINDOW))
        .aggregate(new HighestAgg(), Types.POJO(Highest.class), Types.POJO(Highest.class))
        .flatMap((Highest h, Collector<Bid> out) -> {
          for (Bid b : h.bids) out.collect(b);
        })
        .returns(Bid.class)
        .sinkTo(new BlackholeSink<Bid>(Digests::bid));
  }

  // ---- q8 ----------------------------------------------------------------------------------

  static void q8(DataStream<Event> events) {
    DataStream<Person> persons = events.filter(e -> e.person != null).map(e -> e.person).returns(Person.class);
    DataStream<Auction> auctions = events.filter(e -> e.auction != null).map(e -> e.auction).returns(Auction.class);
    persons
        .coGroup(auctions)
        .where(p -> p.id, Types.LONG)
        .equalTo(a -> a.seller, Types.LONG)
        .window(TumblingEventTimeWindows.of(WINDOW))
        .apply(
            (Iterable<Person> ps, Iterable<Auction> as, Collector<NewSeller> out) -> {
              if (!as.iterator().hasNext()) return;
              for (Person p : ps) out.collect(new NewSeller(p.id, p.name, p.dateTime - (p.dateTime % WINDOW_MS)));
            },
            Types.POJO(NewSeller.class))
        .sinkTo(new BlackholeSink<NewSeller>(r -> Digests.end(Digests.l(Digests.s(Digests.l(Digests.start(), r.id), r.name), r.starttime))));
  }

  // ---- q11 ---------------------------------------------------------------------------------

  static final class ToSession implements WindowFunction<Long, BidderSession, Long, TimeWindow> {
    @Override
    public void apply(Long bidder, TimeWindow w, Iterable<Long> counts, Collector<BidderSession> out) {
      out.collect(new BidderSession(bidder, counts.iterator().next(), w.getStart(), w.getEnd()));
    }
  }

  static void q11(DataStream<Event> events) {
    bids(events)
        .keyBy(b -> b.bidder, Types.LONG)
        .window(EventTimeSessionWindows.withGap(SESSION_GAP))
        .aggregate(new CountAgg<Bid>(), new ToSession(), Types.LONG, Types.POJO(BidderSession.class))
        .sinkTo(
            new BlackholeSink<BidderSession>(
                r -> Digests.end(Digests.l(Digests.l(Digests.i(Digests.l(Digests.start(), r.bidder), (int) r.bidCount), r.starttime), r.endtime))));
  }
}
