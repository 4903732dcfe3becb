/**
 * A deterministic Nexmark event generator, after the reference generator of the Nexmark suites
 * (Beam's `sdks/java/testing/nexmark` and the `nexmark/nexmark` Flink port): the same event
 * mix (1 person : 3 auctions : 46 bids in every 50 events), the same id schemes (hot sellers,
 * hot bidders, hot auctions, a window of active people and in-flight auctions, ids a little ahead
 * of the last one created), the same price and auction-length distributions, and records padded
 * to the same average sizes. Its Java port in `benchmarks/peers/flink` produces bit-identical
 * events from the same configuration.
 *
 * Differences from the reference, all deliberate:
 * - Each event is generated from its own event number and the seed (Beam seeds a `Random` per
 *   event id; the Flink port uses one unseeded `Random`), so runs are reproducible and any range
 *   of event numbers can be generated on its own.
 * - Parallel generation splits one timeline by event-number ranges (the reference gives each
 *   parallel generator its own id space on a parallel timeline), so results do not depend on
 *   the parallelism.
 * - Random strings are windows of two fixed random texts built from the seed at start-up
 *   (letters, and letters with 1 space in 13), at a random offset, instead of being drawn
 *   character by character: each string has the reference's length and character distribution,
 *   but strings of different events overlap.
 * - Prices, `round(100 · 10^(6u))` with `u` uniform in [0, 1), come from two 256-entry tables of
 *   powers of ten and a first-order correction instead of a `pow` call per price (relative error
 *   below 3·10⁻⁸, so the same log-uniform distribution); credit-card groups and names come from
 *   tables.
 *   These keep generation cheap, so the benchmark measures the stream processor rather than
 *   string building and `pow` (which dominated profiles of the stateless queries).
 * - No out-of-order groups and no rate shapes (the reference defaults: `outOfOrderGroupSize` 1,
 *   a constant rate); event time advances by `1e6 / eventsPerSecond` µs per event.
 * @packageDocumentation
 */
import type { Auction, Bid, NexmarkEvent, Person } from './model.js';
import { EventRandom } from './random.js';

/**
 * What the generator makes; every field has the reference's default.
 * @public
 */
export interface GeneratorConfig {
  /** Seed of every random choice (32-bit integer). Default 42. */
  readonly seed: number;
  /** Event time of event number 0, epoch ms. Default 2026-01-01T00:00:00Z. */
  readonly baseTime: number;
  /** Events per second of event time (the reference's `firstEventRate`). Default 10,000. */
  readonly eventsPerSecond: number;
  /** Persons in every `personProportion + auctionProportion + bidProportion` events. Default 1. */
  readonly personProportion: number;
  /** Auctions per period. Default 3. */
  readonly auctionProportion: number;
  /** Bids per period. Default 46. */
  readonly bidProportion: number;
  /** Average size of a person, bytes (the `extra` field pads to it). Default 200. */
  readonly avgPersonByteSize: number;
  /** Average size of an auction, bytes. Default 500. */
  readonly avgAuctionByteSize: number;
  /** Average size of a bid, bytes. Default 100. */
  readonly avgBidByteSize: number;
  /** One bid in `hotAuctionRatio` goes to a random auction, the rest to the hot one. Default 2. */
  readonly hotAuctionRatio: number;
  /** One auction in `hotSellersRatio` has a random seller, the rest the hot one. Default 4. */
  readonly hotSellersRatio: number;
  /** One bid in `hotBiddersRatio` has a random bidder, the rest the hot one. Default 4. */
  readonly hotBiddersRatio: number;
  /** Auctions in flight: random bids pick among the last this many. Default 100. */
  readonly numInFlightAuctions: number;
  /** Active people: random sellers and bidders pick among the last this many. Default 1000. */
  readonly numActivePeople: number;
}

/**
 * The reference defaults (Nexmark's `NexmarkConfiguration`), with a fixed seed and base time.
 * @public
 */
export const DEFAULT_GENERATOR_CONFIG: GeneratorConfig = {
  seed: 42,
  baseTime: Date.UTC(2026, 0, 1),
  eventsPerSecond: 10_000,
  personProportion: 1,
  auctionProportion: 3,
  bidProportion: 46,
  avgPersonByteSize: 200,
  avgAuctionByteSize: 500,
  avgBidByteSize: 100,
  hotAuctionRatio: 2,
  hotSellersRatio: 4,
  hotBiddersRatio: 4,
  numInFlightAuctions: 100,
  numActivePeople: 1000,
};

/** Ids start here, so small runs still find matches (as in the reference). */
export const FIRST_PERSON_ID = 1000;
/** First auction id. */
export const FIRST_AUCTION_ID = 1000;
/** First category id; there are {@link NUM_CATEGORIES} categories. */
export const FIRST_CATEGORY_ID = 10;
/** Number of categories. */
export const NUM_CATEGORIES = 5;

const PERSON_ID_LEAD = 10;
const AUCTION_ID_LEAD = 10;
const HOT_SELLER_RATIO = 100;
const HOT_AUCTION_RATIO = 100;
const HOT_BIDDER_RATIO = 100;
const MIN_STRING_LENGTH = 3;
const TEXT_LENGTH = 1 << 16;
/** `10^(6u)` for `u = (256 i + j + f) / 65536`: `PRICE_HI[i] · PRICE_LO[j] · (1 + f · PRICE_SLOPE)`. */
const PRICE_STEPS = 1 << 16;
/** `6 · ln 10 / 65536`, as a literal so that the Java port uses the very same double. */
const PRICE_SLOPE = 0.00021080796139471856;

const US_STATES = ['AZ', 'CA', 'ID', 'OR', 'WA', 'WY'];
const US_CITIES = ['Phoenix', 'Los Angeles', 'San Francisco', 'Boise', 'Portland', 'Bend', 'Redmond', 'Seattle', 'Kent', 'Cheyenne'];
const FIRST_NAMES = ['Peter', 'Paul', 'Luke', 'John', 'Saul', 'Vicky', 'Kate', 'Julie', 'Sarah', 'Deiter', 'Walter'];
const LAST_NAMES = ['Shultz', 'Abrams', 'Spencer', 'White', 'Bartels', 'Walton', 'Smith', 'Jones', 'Noris'];
/** "First Last" for every pair, indexed first × LAST_NAMES.length + last. */
const NAMES = FIRST_NAMES.flatMap((f) => LAST_NAMES.map((l) => `${f} ${l}`));
/** "0000" .. "9999". */
const DIGITS4 = Array.from({ length: 10_000 }, (_, i) => String(i).padStart(4, '0'));
/** `10^(6 · 256 i / PRICE_STEPS)`, i < 256. */
const PRICE_HI = Float64Array.from({ length: 256 }, (_, i) => 10 ** ((6 * 256 * i) / PRICE_STEPS));
/** `10^(6 j / PRICE_STEPS)`, j < 256. */
const PRICE_LO = Float64Array.from({ length: 256 }, (_, j) => 10 ** ((6 * j) / PRICE_STEPS));

/**
 * Generates Nexmark events by number: `eventAt(n)` is a pure function of the configuration and
 * `n`. Not thread-safe (one instance per reader): it reuses one random-number state.
 *
 * @example
 * ```ts
 * const gen = new NexmarkGenerator();
 * for (let n = 0; n < 100; n++) console.log(gen.eventAt(n));
 * ```
 * @public
 */
export class NexmarkGenerator {
  /** The configuration. */
  readonly config: GeneratorConfig;
  private readonly random = new EventRandom();
  private readonly total: number;
  private readonly delayUs: number;
  /** Events between now and the auction `numInFlightAuctions` auctions ahead. */
  private readonly eventsForAuctions: number;
  /** Random lowercase letters. */
  private readonly letters: string;
  /** Random lowercase letters and spaces (1 in 13). */
  private readonly spaced: string;

  /** @param config - overrides of {@link DEFAULT_GENERATOR_CONFIG} */
  constructor(config: Partial<GeneratorConfig> = {}) {
    const c = { ...DEFAULT_GENERATOR_CONFIG, ...config };
    if (!Number.isInteger(c.seed)) throw new RangeError(`seed must be an integer, got ${c.seed}`);
    if (!(c.eventsPerSecond > 0)) throw new RangeError(`eventsPerSecond must be > 0, got ${c.eventsPerSecond}`);
    this.config = c;
    this.total = c.personProportion + c.auctionProportion + c.bidProportion;
    this.delayUs = 1_000_000 / c.eventsPerSecond;
    this.eventsForAuctions = Math.floor((c.numInFlightAuctions * this.total) / c.auctionProportion);
    // Both texts come from the seed, drawn in this order (the Java port does the same).
    const r = this.random;
    r.reseed(c.seed ^ 0x7e57, 0);
    const a = new Uint8Array(TEXT_LENGTH);
    for (let i = 0; i < TEXT_LENGTH; i++) a[i] = 97 + r.nextInt(26);
    this.letters = Buffer.from(a.buffer).toString('latin1');
    for (let i = 0; i < TEXT_LENGTH; i++) a[i] = r.nextInt(13) === 0 ? 32 : 97 + r.nextInt(26);
    this.spaced = Buffer.from(a.buffer).toString('latin1');
  }

  /** Event time of event number `n`, epoch ms (non-decreasing in `n`). */
  timestampForEvent(n: number): number {
    return this.config.baseTime + Math.floor(Math.floor(n * this.delayUs) / 1000);
  }

  /**
   * The event with number `n`.
   * @param n - event number, a safe integer ≥ 0
   */
  eventAt(n: number): NexmarkEvent {
    const ts = this.timestampForEvent(n);
    this.random.reseed(this.config.seed, n);
    const rem = n % this.total;
    const c = this.config;
    if (rem < c.personProportion) return this.person(n, ts);
    if (rem < c.personProportion + c.auctionProportion) return this.auction(n, ts);
    return this.bid(n, ts);
  }

  // ---- ids ---------------------------------------------------------------------------------

  /** The last person id (base 0) created at or before event `n`. */
  private lastBase0PersonId(n: number): number {
    const epoch = Math.floor(n / this.total);
    let offset = n % this.total;
    if (offset >= this.config.personProportion) offset = this.config.personProportion - 1;
    return epoch * this.config.personProportion + offset;
  }

  /** The last auction id (base 0) created at or before event `n` (−1 before the first). */
  private lastBase0AuctionId(n: number): number {
    const c = this.config;
    let epoch = Math.floor(n / this.total);
    let offset = n % this.total;
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

  /** A random active person (base 0), possibly a few ids ahead of the last one created. */
  private nextBase0PersonId(n: number): number {
    const numPeople = this.lastBase0PersonId(n) + 1;
    const active = Math.min(numPeople, this.config.numActivePeople);
    return numPeople - active + this.random.nextInt(active + PERSON_ID_LEAD);
  }

  /** A random in-flight auction (base 0), possibly a few ids ahead of the last one created. */
  private nextBase0AuctionId(n: number): number {
    const last = this.lastBase0AuctionId(n);
    const min = Math.max(last - this.config.numInFlightAuctions, 0);
    return min + this.random.nextInt(last - min + 1 + AUCTION_ID_LEAD);
  }

  // ---- values ------------------------------------------------------------------------------

  /** Log-uniform over [100, 100,000,000]: `round(100 · 10^(6u))`, from tables (L1-resident). */
  private nextPrice(): number {
    const t = this.random.nextDouble() * PRICE_STEPS;
    const i = Math.floor(t);
    return Math.round(100 * (PRICE_HI[i >>> 8] as number) * (PRICE_LO[i & 255] as number) * (1 + (t - i) * PRICE_SLOPE));
  }

  /** A string of 3 .. maxLength − 1 letters and spaces, trimmed. */
  private nextString(maxLength: number): string {
    const len = MIN_STRING_LENGTH + this.random.nextInt(maxLength - MIN_STRING_LENGTH);
    const at = this.random.nextInt(TEXT_LENGTH - maxLength);
    return this.spaced.slice(at, at + len).trim();
  }

  /** A string of exactly `length` letters. */
  private nextExactString(length: number): string {
    const at = this.random.nextInt(TEXT_LENGTH - length);
    return this.letters.slice(at, at + length);
  }

  /** Padding that brings a record of `currentSize` bytes to `averageSize` on average (±20 %). */
  private nextExtra(currentSize: number, averageSize: number): string {
    if (currentSize > averageSize) return '';
    const desired = averageSize - currentSize;
    const delta = Math.round(desired * 0.2);
    const size = desired - delta + (delta === 0 ? 0 : this.random.nextInt(2 * delta));
    return this.nextExactString(size);
  }

  // ---- records -----------------------------------------------------------------------------

  private person(n: number, ts: number): Person {
    const r = this.random;
    const id = this.lastBase0PersonId(n) + FIRST_PERSON_ID;
    const first = r.nextInt(FIRST_NAMES.length);
    const name = NAMES[first * LAST_NAMES.length + r.nextInt(LAST_NAMES.length)] as string;
    const emailAddress = `${this.nextString(7)}@${this.nextString(5)}.com`;
    const c1 = DIGITS4[r.nextInt(10_000)] as string;
    const c2 = DIGITS4[r.nextInt(10_000)] as string;
    const c3 = DIGITS4[r.nextInt(10_000)] as string;
    const creditCard = `${c1} ${c2} ${c3} ${DIGITS4[r.nextInt(10_000)] as string}`;
    const city = US_CITIES[r.nextInt(US_CITIES.length)] as string;
    const state = US_STATES[r.nextInt(US_STATES.length)] as string;
    const size = 8 + name.length + emailAddress.length + creditCard.length + city.length + state.length;
    const extra = this.nextExtra(size, this.config.avgPersonByteSize);
    return { kind: 'person', id, name, emailAddress, creditCard, city, state, dateTime: ts, extra };
  }

  private auction(n: number, ts: number): Auction {
    const r = this.random;
    const c = this.config;
    const id = this.lastBase0AuctionId(n) + FIRST_AUCTION_ID;
    const seller =
      (r.nextInt(c.hotSellersRatio) > 0
        ? Math.floor(this.lastBase0PersonId(n) / HOT_SELLER_RATIO) * HOT_SELLER_RATIO
        : this.nextBase0PersonId(n)) + FIRST_PERSON_ID;
    const category = FIRST_CATEGORY_ID + r.nextInt(NUM_CATEGORIES);
    const initialBid = this.nextPrice();
    // Auctions last on average as long as it takes to open `numInFlightAuctions` more.
    const horizon = this.timestampForEvent(n + this.eventsForAuctions) - ts;
    const expires = ts + 1 + r.nextInt(Math.max(horizon * 2, 1));
    const itemName = this.nextString(20);
    const description = this.nextString(100);
    const reserve = initialBid + this.nextPrice();
    const size = 8 + itemName.length + description.length + 8 + 8 + 8 + 8 + 8;
    const extra = this.nextExtra(size, c.avgAuctionByteSize);
    return { kind: 'auction', id, itemName, description, initialBid, reserve, dateTime: ts, expires, seller, category, extra };
  }

  private bid(n: number, ts: number): Bid {
    const r = this.random;
    const c = this.config;
    const auction =
      (r.nextInt(c.hotAuctionRatio) > 0
        ? Math.floor(this.lastBase0AuctionId(n) / HOT_AUCTION_RATIO) * HOT_AUCTION_RATIO
        : this.nextBase0AuctionId(n)) + FIRST_AUCTION_ID;
    const bidder =
      (r.nextInt(c.hotBiddersRatio) > 0
        ? Math.floor(this.lastBase0PersonId(n) / HOT_BIDDER_RATIO) * HOT_BIDDER_RATIO + 1
        : this.nextBase0PersonId(n)) + FIRST_PERSON_ID;
    const price = this.nextPrice();
    const extra = this.nextExtra(8 + 8 + 8 + 8, c.avgBidByteSize);
    return { kind: 'bid', auction, bidder, price, dateTime: ts, extra };
  }
}
