/**
 * The Nexmark queries q0–q5, q7, q8 and q11, written with Weir's public API as a user would.
 * Semantics follow the Nexmark SQL suite of `nexmark/nexmark` (the one Flink publishes), with
 * windows of 10 s (q5: 10 s sliding every 2 s; q11: sessions with a 10 s gap) and watermarks
 * 4 s behind the largest event time. q6 is skipped, as in the Flink suite. Where a DataStream
 * formulation cannot be the SQL one, the query's doc says what differs; the Flink peer
 * (`benchmarks/peers/flink`) implements exactly the same semantics.
 * @packageDocumentation
 */
import {
  type AggregateFunction,
  type Collector,
  type DataStream,
  type KeyedCoProcessFunction,
  type KeyedProcessContext,
  type KeyedProcessFunction,
  type OnTimerContext,
  type RuntimeContext,
  type ValueState,
  ValueStateDescriptor,
  type ListState,
  ListStateDescriptor,
} from '@weir/core';
import { count, EventTimeSessionWindows, SlidingEventTimeWindows, TumblingEventTimeWindows } from '@weir/operators';
import type { Auction, Bid, NexmarkEvent, Person } from './model.js';
import { type Digest, digestEnd, digestInt, digestLong, digestStart, digestString } from './sink.js';

/**
 * Names of the queries.
 * @public
 */
export type QueryName = 'q0' | 'q1' | 'q2' | 'q3' | 'q4' | 'q5' | 'q7' | 'q8' | 'q11';

/**
 * Every query, in order.
 * @public
 */
export const QUERY_NAMES: readonly QueryName[] = ['q0', 'q1', 'q2', 'q3', 'q4', 'q5', 'q7', 'q8', 'q11'];

/**
 * A Nexmark query: how to build it on a stream of events, and how each of its results enters
 * the sink's checksum.
 * @public
 */
export interface NexmarkQuery<TOut> {
  /** The query's name. */
  readonly name: QueryName;
  /** One line: what it computes and what it exercises. */
  readonly description: string;
  /** Whether the query needs event time (windows, timers). */
  readonly eventTime: boolean;
  /** Adds the query to a stream of Nexmark events (with timestamps and watermarks). */
  build(events: DataStream<NexmarkEvent>): DataStream<TOut>;
  /** The digest of one result (the Java peer computes the same). */
  readonly digest: Digest<TOut>;
}

// ---- result types --------------------------------------------------------------------------

/**
 * q1's result: a bid with its price in euros.
 * @public
 */
export interface BidInEuros {
  /** Auction id. */
  readonly auction: number;
  /** Bidder id. */
  readonly bidder: number;
  /** Price × 0.908. */
  readonly price: number;
  /** Event time of the bid. */
  readonly dateTime: number;
  /** The bid's padding. */
  readonly extra: string;
}

/**
 * q2's result.
 * @public
 */
export interface AuctionPrice {
  /** Auction id (a multiple of 123). */
  readonly auction: number;
  /** Bid price. */
  readonly price: number;
}

/**
 * q3's result: a seller in OR, ID or CA with an auction in category 10.
 * @public
 */
export interface LocalItem {
  /** Seller's name. */
  readonly name: string;
  /** Seller's city. */
  readonly city: string;
  /** Seller's state. */
  readonly state: string;
  /** Auction id. */
  readonly id: number;
}

/**
 * q4's intermediate result: the highest bid of a closed auction.
 * @public
 */
export interface WinningBid {
  /** Auction id. */
  readonly auction: number;
  /** The auction's category. */
  readonly category: number;
  /** The highest price bid while the auction was open. */
  readonly price: number;
}

/**
 * q4's result: the running average winning price of a category.
 * @public
 */
export interface CategoryAverage {
  /** Category id. */
  readonly category: number;
  /** Average of the winning prices so far. */
  readonly average: number;
  /** Closed auctions (with a winning bid) averaged so far. */
  readonly auctions: number;
}

/**
 * q5's result: an auction with the most bids in a sliding window.
 * @public
 */
export interface HotItem {
  /** Auction id. */
  readonly auction: number;
  /** Its bids in the window. */
  readonly num: number;
}

/**
 * q5's intermediate result: bids of one auction in one sliding window.
 * @public
 */
export interface AuctionCount {
  /** Auction id. */
  readonly auction: number;
  /** Bids in the window. */
  readonly num: number;
  /** The window's end. */
  readonly end: number;
}

/**
 * q8's result: a person who registered and opened an auction in the same 10 s window.
 * @public
 */
export interface NewSeller {
  /** Person id. */
  readonly id: number;
  /** Person name. */
  readonly name: string;
  /** Start of the window. */
  readonly starttime: number;
}

/**
 * q11's result: the bids of one bidder's session.
 * @public
 */
export interface BidderSession {
  /** Bidder id. */
  readonly bidder: number;
  /** Bids in the session. */
  readonly bidCount: number;
  /** Session start (first bid). */
  readonly starttime: number;
  /** Session end (last bid + gap). */
  readonly endtime: number;
}

// ---- shared pieces -------------------------------------------------------------------------

/** Window size of q5 (sliding), q7 and q8 (tumbling), ms. */
export const WINDOW_MS = 10_000;
/** Slide of q5's window, ms. */
export const SLIDE_MS = 2_000;
/** Session gap of q11, ms. */
export const SESSION_GAP_MS = 10_000;
/** How far the watermark trails the largest event time (the SQL suite's `- INTERVAL '4' SECOND`). */
export const OUT_OF_ORDERNESS_MS = 4_000;

const asBid = (e: NexmarkEvent): Bid => e as Bid;
const asPerson = (e: NexmarkEvent): Person => e as Person;
const asAuction = (e: NexmarkEvent): Auction => e as Auction;

/** The bid stream: the SQL suite's `bid` view. */
function bids(events: DataStream<NexmarkEvent>): DataStream<Bid> {
  return events.filter((e) => e.kind === 'bid').map(asBid);
}

const bidDigest: Digest<Bid> = (b) =>
  digestEnd(digestLong(digestInt(digestInt(digestLong(digestStart(), b.auction), b.bidder), b.price), b.dateTime));

// ---- q0 .. q2: stateless -------------------------------------------------------------------

/**
 * q0, pass-through: every bid, unchanged. Measures the source, the chain and the sink.
 * @public
 */
export const q0: NexmarkQuery<Bid> = {
  name: 'q0',
  description: 'pass-through: the bids (filter + map)',
  eventTime: false,
  build: bids,
  digest: bidDigest,
};

/**
 * q1, currency conversion: every bid with its price × 0.908 (dollars to euros). A map.
 * @public
 */
export const q1: NexmarkQuery<BidInEuros> = {
  name: 'q1',
  description: 'currency conversion: bids with price × 0.908 (map)',
  eventTime: false,
  build: (events) =>
    events
      .filter((e) => e.kind === 'bid')
      .map((e): BidInEuros => {
        const b = e as Bid;
        return { auction: b.auction, bidder: b.bidder, price: b.price * 0.908, dateTime: b.dateTime, extra: b.extra };
      }),
  digest: (r) =>
    digestEnd(digestLong(digestLong(digestInt(digestLong(digestStart(), r.auction), r.bidder), Math.floor(r.price * 1000)), r.dateTime)),
};

/**
 * q2, selection: auction and price of the bids on every 123rd auction. A filter.
 * @public
 */
export const q2: NexmarkQuery<AuctionPrice> = {
  name: 'q2',
  description: 'selection: bids on auctions with id mod 123 = 0 (filter)',
  eventTime: false,
  build: (events) =>
    events
      .filter((e) => e.kind === 'bid' && e.auction % 123 === 0)
      .map((e): AuctionPrice => ({ auction: (e as Bid).auction, price: (e as Bid).price })),
  digest: (r) => digestEnd(digestInt(digestLong(digestStart(), r.auction), r.price)),
};

// ---- q3: incremental join ------------------------------------------------------------------

/**
 * q3's join: auctions (input 1) keyed by seller, persons (input 2) keyed by id. A person is kept
 * for good (ids are unique, so at most one per key); an auction whose seller has not been seen
 * waits in a list until the seller registers, as the SQL join's state does.
 */
class LocalItemJoin implements KeyedCoProcessFunction<number, Auction, Person, LocalItem> {
  private person!: ValueState<Person>;
  private pending!: ListState<Auction>;

  open(ctx: RuntimeContext): void {
    this.person = ctx.getState(new ValueStateDescriptor<Person>('person'));
    this.pending = ctx.getListState(new ListStateDescriptor<Auction>('pending-auctions'));
  }

  processElement1(a: Auction, _ctx: KeyedProcessContext<number>, out: Collector<LocalItem>): void {
    const p = this.person.value();
    if (p !== undefined) out.collect({ name: p.name, city: p.city, state: p.state, id: a.id });
    else this.pending.add(a);
  }

  processElement2(p: Person, _ctx: KeyedProcessContext<number>, out: Collector<LocalItem>): void {
    this.person.update(p);
    const waiting = this.pending.get();
    let any = false;
    for (const a of waiting) {
      any = true;
      out.collect({ name: p.name, city: p.city, state: p.state, id: a.id });
    }
    if (any) this.pending.clear();
  }
}

/**
 * q3, local item suggestion: who sells in category 10 from OR, ID or CA, and which auctions.
 * An incremental (unwindowed) join with keyed state: `auction ⋈ person ON seller = id`.
 * @public
 */
export const q3: NexmarkQuery<LocalItem> = {
  name: 'q3',
  description: 'incremental join auction ⋈ person (keyed state), category 10, OR/ID/CA',
  eventTime: false,
  build: (events) => {
    const auctions = events.filter((e) => e.kind === 'auction' && e.category === 10).map(asAuction);
    const persons = events
      .filter((e) => e.kind === 'person' && (e.state === 'OR' || e.state === 'ID' || e.state === 'CA'))
      .map(asPerson);
    return auctions
      .keyBy((a) => a.seller)
      .connect(persons.keyBy((p) => p.id))
      .process(new LocalItemJoin());
  },
  digest: (r) => digestEnd(digestString(digestString(digestString(digestLong(digestStart(), r.id), r.name), r.city), r.state)),
};

// ---- q4: winning bids, average per category ------------------------------------------------

/** How long a closed auction is kept, so bids that still name it are rejected without buffering. */
export const CLOSED_AUCTION_RETENTION_MS = 10_000;

/**
 * The winning bid of each auction, over auctions and bids keyed by auction id in one stream.
 * One stream rather than two connected ones keeps the source's order (an auction before the bids
 * that follow it); the two inputs of a connected stream interleave in whatever order their
 * batches arrive, in Flink as in Weir, and then most bids would have to wait for their auction.
 * The join is `auction.dateTime ≤ bid.dateTime ≤ auction.expires`, whatever the arrival order:
 * - an auction is kept with the highest matching price so far; an event-time timer at `expires`
 *   emits that price (if any bid matched): every bid at or before `expires` has arrived by then.
 *   The auction stays `CLOSED_AUCTION_RETENTION_MS` longer, so the many bids that still name a
 *   closed auction are rejected by the time check alone;
 * - a bid whose auction is not there (yet) waits in a list, with a timer at its own time: once the
 *   watermark passes it, every auction it could match has arrived, so it is dropped.
 */
class WinningBids implements KeyedProcessFunction<number, NexmarkEvent, WinningBid> {
  private auction!: ValueState<Auction>;
  private best!: ValueState<number>;
  private early!: ListState<Bid>;

  open(ctx: RuntimeContext): void {
    this.auction = ctx.getState(new ValueStateDescriptor<Auction>('auction'));
    this.best = ctx.getState(new ValueStateDescriptor<number>('best-price'));
    this.early = ctx.getListState(new ListStateDescriptor<Bid>('early-bids'));
  }

  processElement(e: NexmarkEvent, ctx: KeyedProcessContext<number>): void {
    if (e.kind === 'auction') this.onAuction(e, ctx);
    else if (e.kind === 'bid') this.onBid(e, ctx);
  }

  private onAuction(a: Auction, ctx: KeyedProcessContext<number>): void {
    this.auction.update(a);
    const timers = ctx.timerService();
    timers.registerEventTimeTimer(a.expires);
    timers.registerEventTimeTimer(a.expires + CLOSED_AUCTION_RETENTION_MS);
    let best = -1;
    let any = false;
    for (const b of this.early.get()) {
      any = true;
      if (b.dateTime >= a.dateTime && b.dateTime <= a.expires && b.price > best) best = b.price;
    }
    if (any) {
      this.early.clear();
      if (best >= 0) this.best.update(best);
    }
  }

  private onBid(b: Bid, ctx: KeyedProcessContext<number>): void {
    const a = this.auction.value();
    if (a === undefined) {
      this.early.add(b);
      ctx.timerService().registerEventTimeTimer(b.dateTime);
      return;
    }
    if (b.dateTime < a.dateTime || b.dateTime > a.expires) return;
    const best = this.best.value();
    if (best === undefined || b.price > best) this.best.update(b.price);
  }

  onTimer(ts: number, _ctx: OnTimerContext<number>, out: Collector<WinningBid>): void {
    const a = this.auction.value();
    if (a === undefined) {
      // Bids that waited for an auction that never came (or closed long ago).
      const keep: Bid[] = [];
      for (const b of this.early.get()) if (b.dateTime > ts) keep.push(b);
      if (keep.length === 0) this.early.clear();
      else this.early.update(keep);
      return;
    }
    if (ts === a.expires) {
      const best = this.best.value();
      if (best !== undefined) out.collect({ auction: a.id, category: a.category, price: best });
      this.best.clear();
    } else if (ts >= a.expires + CLOSED_AUCTION_RETENTION_MS) {
      this.auction.clear();
    }
  }
}

/** Sum and count of the winning prices of a category. */
interface SumCount {
  readonly sum: number;
  readonly count: number;
}

/** The running average winning price per category; emits every update, as the SQL query does. */
class AveragePrice implements KeyedProcessFunction<number, WinningBid, CategoryAverage> {
  private acc!: ValueState<SumCount>;

  open(ctx: RuntimeContext): void {
    this.acc = ctx.getState(new ValueStateDescriptor<SumCount>('sum-count'));
  }

  processElement(w: WinningBid, _ctx: KeyedProcessContext<number>, out: Collector<CategoryAverage>): void {
    const old = this.acc.value();
    const next: SumCount = old === undefined ? { sum: w.price, count: 1 } : { sum: old.sum + w.price, count: old.count + 1 };
    this.acc.update(next);
    out.collect({ category: w.category, average: next.sum / next.count, auctions: next.count });
  }
}

/**
 * The winning bid of every auction that had a bid while open (q4's first stage): auctions and
 * bids keyed by auction id, see `WinningBids`.
 * @param events - Nexmark events with event time
 * @returns one winning bid per auction, when the auction closes
 * @public
 */
export function winningBids(events: DataStream<NexmarkEvent>): DataStream<WinningBid> {
  return events
    .filter((e) => e.kind !== 'person')
    .keyBy((e) => (e.kind === 'auction' ? e.id : e.kind === 'bid' ? e.auction : -1))
    .process(new WinningBids());
}

/**
 * q4, average price per category: the average of the winning bids of closed auctions, per
 * category. `auction ⋈ bid` within each auction's lifetime (keyed state + event-time timers, on
 * one stream of auctions and bids keyed by auction id),
 * the maximum per auction, then a running average per category. The SQL query updates an
 * auction's maximum with every bid (retracting the old one); this one emits each auction's final
 * maximum when it closes, so the last average per category is the same. Auctions that close at the
 * same millisecond reach the average in an order that differs between systems, so the checksum
 * covers (category, auctions averaged) and the tests check the averages themselves.
 * @public
 */
export const q4: NexmarkQuery<CategoryAverage> = {
  name: 'q4',
  description: 'winning bids (auction ⋈ bid within the auction, timers) → average per category',
  eventTime: true,
  build: (events) =>
    winningBids(events)
      .keyBy((w) => w.category)
      .process(new AveragePrice()),
  digest: (r) => digestEnd(digestInt(digestInt(digestStart(), r.category), r.auctions)),
};

// ---- q5: hot items -------------------------------------------------------------------------

/** The auctions with the most bids in one window, ties included. */
interface Hottest {
  max: number;
  auctions: number[];
}

/** Keeps the auctions with the largest count (SQL: `num >= max(num)`). */
const hottest: AggregateFunction<AuctionCount, Hottest, Hottest> = {
  createAccumulator: () => ({ max: 0, auctions: [] }),
  add(c, acc) {
    if (c.num > acc.max) {
      acc.max = c.num;
      acc.auctions = [c.auction];
    } else if (c.num === acc.max) {
      acc.auctions.push(c.auction);
    }
    return acc;
  },
  getResult: (acc) => acc,
  merge(a, b) {
    if (b.max > a.max) return { max: b.max, auctions: [...b.auctions] };
    if (b.max === a.max) a.auctions.push(...b.auctions);
    return a;
  },
};

/**
 * q5, hot items: per sliding window (10 s every 2 s), the auctions with the most bids. Counts per
 * auction and window (sliding windows, pane pre-aggregation), then the maximum per window
 * (tumbling windows of the slide over the counts, keyed by window end).
 * @public
 */
export const q5: NexmarkQuery<HotItem> = {
  name: 'q5',
  description: 'hot items: count per auction in sliding windows (10 s / 2 s), then max per window',
  eventTime: true,
  build: (events) =>
    bids(events)
      .keyBy((b) => b.auction)
      .window(SlidingEventTimeWindows.of(WINDOW_MS, SLIDE_MS))
      .aggregate(count<Bid>(), (auction, w, num): AuctionCount => ({ auction, num, end: w.end }))
      .keyBy((c) => c.end)
      .window(TumblingEventTimeWindows.of(SLIDE_MS))
      .aggregate(hottest)
      .flatMap<HotItem>((h, out) => {
        for (const auction of h.auctions) out.collect({ auction, num: h.max });
      }),
  digest: (r) => digestEnd(digestInt(digestLong(digestStart(), r.auction), r.num)),
};

// ---- q7: highest bid -----------------------------------------------------------------------

/** The highest bids of a window, ties included. */
interface Highest {
  price: number;
  bids: Bid[];
}

const highest: AggregateFunction<Bid, Highest, Highest> = {
  createAccumulator: () => ({ price: -1, bids: [] }),
  add(b, acc) {
    if (b.price > acc.price) {
      acc.price = b.price;
      acc.bids = [b];
    } else if (b.price === acc.price) {
      acc.bids.push(b);
    }
    return acc;
  },
  getResult: (acc) => acc,
  merge(a, b) {
    if (b.price > a.price) return { price: b.price, bids: [...b.bids] };
    if (b.price === a.price) a.bids.push(...b.bids);
    return a;
  },
};

/**
 * q7, highest bid: the bids with the highest price in each 10 s tumbling window. One window
 * over all bids (a constant key, as Flink's `windowAll`). The SQL query joins back on
 * `dateTime BETWEEN end − 10 s AND end`, which also admits an equal-priced bid at exactly
 * `end`; this one keeps to the window `[start, end)`.
 * @public
 */
export const q7: NexmarkQuery<Bid> = {
  name: 'q7',
  description: 'highest bid per 10 s tumbling window (all bids, one window)',
  eventTime: true,
  build: (events) =>
    bids(events)
      .keyBy(() => 0)
      .window(TumblingEventTimeWindows.of(WINDOW_MS))
      .aggregate(highest)
      .flatMap<Bid>((h, out) => {
        for (const b of h.bids) out.collect(b);
      }),
  digest: bidDigest,
};

// ---- q8: new sellers -----------------------------------------------------------------------

/**
 * q8, monitor new users: people who registered and opened an auction in the same 10 s tumbling
 * window. A window join (co-group) of persons and auctions on `id = seller`; one row per person
 * and window, as the SQL query groups both sides by key and window first.
 * @public
 */
export const q8: NexmarkQuery<NewSeller> = {
  name: 'q8',
  description: 'window join person ⋈ auction on id = seller, 10 s tumbling windows',
  eventTime: true,
  build: (events) => {
    const persons = events.filter((e) => e.kind === 'person').map(asPerson);
    const auctions = events.filter((e) => e.kind === 'auction').map(asAuction);
    return persons
      .coGroup(auctions)
      .where((p) => p.id)
      .equalTo((a) => a.seller)
      .window(TumblingEventTimeWindows.of(WINDOW_MS))
      .apply<NewSeller>((ps, as, out) => {
        if (as.length === 0) return;
        for (const p of ps) out.collect({ id: p.id, name: p.name, starttime: p.dateTime - (p.dateTime % WINDOW_MS) });
      });
  },
  digest: (r) => digestEnd(digestLong(digestString(digestLong(digestStart(), r.id), r.name), r.starttime)),
};

// ---- q11: user sessions --------------------------------------------------------------------

/**
 * q11, user sessions: the number of bids of each bidder's session (gap 10 s). Session windows
 * (merging windows) with an incremental count.
 * @public
 */
export const q11: NexmarkQuery<BidderSession> = {
  name: 'q11',
  description: 'bids per bidder session (session windows, gap 10 s)',
  eventTime: true,
  build: (events) =>
    bids(events)
      .keyBy((b) => b.bidder)
      .window(EventTimeSessionWindows.withGap(SESSION_GAP_MS))
      .aggregate(count<Bid>(), (bidder, w, bidCount): BidderSession => ({ bidder, bidCount, starttime: w.start, endtime: w.end })),
  digest: (r) => digestEnd(digestLong(digestLong(digestInt(digestLong(digestStart(), r.bidder), r.bidCount), r.starttime), r.endtime)),
};

/**
 * Every query by name.
 * @public
 */
export const QUERIES: { readonly [N in QueryName]: NexmarkQuery<unknown> } = {
  q0: q0 as NexmarkQuery<unknown>,
  q1: q1 as NexmarkQuery<unknown>,
  q2: q2 as NexmarkQuery<unknown>,
  q3: q3 as NexmarkQuery<unknown>,
  q4: q4 as NexmarkQuery<unknown>,
  q5: q5 as NexmarkQuery<unknown>,
  q7: q7 as NexmarkQuery<unknown>,
  q8: q8 as NexmarkQuery<unknown>,
  q11: q11 as NexmarkQuery<unknown>,
};
