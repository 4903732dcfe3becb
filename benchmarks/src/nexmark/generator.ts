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
 *   below 3·10⁻⁸, so the same log-uniform distribution); names come from a table.
 *   These keep generation cheap, so the benchmark measures the stream processor rather than
 *   string building and `pow` (which dominated profiles of the stateless queries).
 * - Ratios, active people and auctions in flight are at most 1,000,000 and average sizes at most
 *   10,000 bytes, so that every draw of a bid fits the fast path (see `bid`).
 *
 * Generation is written for speed, identically in the Java port where the language allows:
 * event numbers usually come in order, so the epoch and offset of the next one are kept instead
 * of divided out; the seed's hash is computed once; strings are trimmed by moving the window
 * rather than by `trim`; credit-card numbers are formatted digit by digit. (TypeScript only: the
 * bid's draws are written out, with no helper calls; see `bid`.)
 * - No out-of-order groups and no rate shapes (the reference defaults: `outOfOrderGroupSize` 1,
 *   a constant rate); event time advances by `1e6 / eventsPerSecond` µs per event.
 * @packageDocumentation
 */
import type { Auction, Bid, NexmarkEvent, Person } from './model.js';
import { EventRandom, fmix32, seedHash, stateFor } from './random.js';

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
/** Largest ratio, number of active people or of auctions in flight: keeps every id draw below 2^21. */
const MAX_COUNT = 1_000_000;
/** Largest average record size: `extra` strings must fit in the random texts. */
const MAX_BYTE_SIZE = 10_000;
/** Size of a bid without its `extra`: four 8-byte numbers. */
const BID_FIXED_SIZE = 8 + 8 + 8 + 8;
/** `10^(6u)` for `u = (256 i + j + f) / 65536`: `PRICE_HI[i] · PRICE_LO[j] · (1 + f · PRICE_SLOPE)`. */
const PRICE_STEPS = 1 << 16;
/** `6 · ln 10 / 65536`, as a literal so that the Java port uses the very same double. */
const PRICE_SLOPE = 0.00021080796139471856;
const TWO_32 = 4294967296;
/**
 * The random state's increment `0x9e3779b9` as a signed 32-bit integer (`0x9e3779b9 − 2^32`):
 * `(s + GOLDEN_GAMMA) | 0` is `(s + 0x9e3779b9) | 0`, but an integer addition for V8 (the
 * unsigned literal is a double, which made every draw a double addition and a truncation).
 */
const GOLDEN_GAMMA = -0x61c88647;
const TWO_53 = 9007199254740992;

const US_STATES = ['AZ', 'CA', 'ID', 'OR', 'WA', 'WY'];
const US_CITIES = ['Phoenix', 'Los Angeles', 'San Francisco', 'Boise', 'Portland', 'Bend', 'Redmond', 'Seattle', 'Kent', 'Cheyenne'];
const FIRST_NAMES = ['Peter', 'Paul', 'Luke', 'John', 'Saul', 'Vicky', 'Kate', 'Julie', 'Sarah', 'Deiter', 'Walter'];
const LAST_NAMES = ['Shultz', 'Abrams', 'Spencer', 'White', 'Bartels', 'Walton', 'Smith', 'Jones', 'Noris'];
/** "First Last" for every pair, indexed first × LAST_NAMES.length + last. */
const NAMES = FIRST_NAMES.flatMap((f) => LAST_NAMES.map((l) => `${f} ${l}`));

/** `10^(6 · 256 i / PRICE_STEPS)`, i < 256. */
const PRICE_HI = Float64Array.from({ length: 256 }, (_, i) => 10 ** ((6 * 256 * i) / PRICE_STEPS));
/** `10^(6 j / PRICE_STEPS)`, j < 256. */
const PRICE_LO = Float64Array.from({ length: 256 }, (_, j) => 10 ** ((6 * j) / PRICE_STEPS));
/** `100 · PRICE_HI[i]`. */
const PRICE_HI_100 = PRICE_HI.map((h) => 100 * h);
/** `PRICE_SLOPE / 2^37`. */
const PRICE_SLOPE_37 = PRICE_SLOPE / 137438953472;

/** The least 32-bit draw `u` with `floor(u · ratio / 2^32) > 0`: `⌈2^32 / ratio⌉` (exact). */
function leastPositiveDraw(ratio: number): number {
  let q = Math.floor(TWO_32 / ratio);
  while (q * ratio < TWO_32) q++;
  while ((q - 1) * ratio >= TWO_32) q--;
  return q;
}

/**
 * "dddd dddd dddd dddd" from four groups in [0, 10,000), as one flat string (a table of the
 * 10,000 groups would cost a cache miss per group, and concatenation an allocation per part).
 */
function creditCardNumber(a: number, b: number, c: number, d: number): string {
  return String.fromCharCode(
    48 + ((a / 1000) | 0), 48 + (((a / 100) | 0) % 10), 48 + (((a / 10) | 0) % 10), 48 + (a % 10), 32,
    48 + ((b / 1000) | 0), 48 + (((b / 100) | 0) % 10), 48 + (((b / 10) | 0) % 10), 48 + (b % 10), 32,
    48 + ((c / 1000) | 0), 48 + (((c / 100) | 0) % 10), 48 + (((c / 10) | 0) % 10), 48 + (c % 10), 32,
    48 + ((d / 1000) | 0), 48 + (((d / 100) | 0) % 10), 48 + (((d / 10) | 0) % 10), 48 + (d % 10),
  );
}

/**
 * `text.slice(from, from + length).trim()` for a text of letters and spaces: the window's spaces
 * at either end are skipped before slicing (one slice, no `trim` copy).
 */
function trimmedWindow(text: string, from: number, length: number): string {
  let to = from + length;
  while (from < to && text.charCodeAt(from) === 32) from++;
  while (to > from && text.charCodeAt(to - 1) === 32) to--;
  return text.slice(from, to);
}

/**
 * A price, log-uniform over [100, 100,000,000]: `round(100 · 10^(6u))` from two draws `a` and `b`
 * (finalized states), `u = (a_27 · 2^26 + b_26) / 2^53` as `EventRandom.nextDouble` makes it from
 * their top 27 and 26 bits. `10^(6u)` comes from tables (L1-resident) and a first-order
 * correction: `u · 2^16`'s integer part is `a`'s top 16 bits and its fraction
 * `((a_27 mod 2^11) · 2^26 + b_26) / 2^37`, both exact in doubles.
 */
function priceFrom(a: number, b: number): number {
  // `fraction · PRICE_SLOPE` is `x · PRICE_SLOPE_37` bit for bit (scaling by 2^-37 is exact), and
  // `PRICE_HI_100` holds the products `100 · PRICE_HI[i]`: two multiplications fewer.
  const x = ((a >>> 5) & 2047) * 67108864 + (b >>> 6);
  return Math.round((PRICE_HI_100[a >>> 24] as number) * (PRICE_LO[(a >>> 16) & 255] as number) * (1 + x * PRICE_SLOPE_37));
}

// ---- records ---------------------------------------------------------------------------------
// One object literal per kind, so that all records of a kind share one hidden class. V8 gives each
// field the representation of the first value stored in it: a time stored first gets an unboxed
// double field, and then every read that passes the time on (the source's `collect(e, e.dateTime)`,
// timers, windows) allocates a new heap number. Each kind's first record therefore carries
// `undefined` times, which makes those fields tagged: a record's time is then one shared number.

function personRecord(id: number, name: string, emailAddress: string, creditCard: string, city: string, state: string, dateTime: number, extra: string): Person {
  return { kind: 'person', id, name, emailAddress, creditCard, city, state, dateTime, extra };
}

function auctionRecord(
  id: number,
  itemName: string,
  description: string,
  initialBid: number,
  reserve: number,
  dateTime: number,
  expires: number,
  seller: number,
  category: number,
  extra: string,
): Auction {
  return { kind: 'auction', id, itemName, description, initialBid, reserve, dateTime, expires, seller, category, extra };
}

function bidRecord(auction: number, bidder: number, price: number, dateTime: number, extra: string): Bid {
  return { kind: 'bid', auction, bidder, price, dateTime, extra };
}

const NO_TIME = undefined as unknown as number;
personRecord(0, '', '', '', '', '', NO_TIME, '');
auctionRecord(0, '', '', 0, 0, NO_TIME, NO_TIME, 0, 0, '');
bidRecord(0, 0, 0, NO_TIME, '');

/** The random texts of each seed made so far: generators of one seed share them. */
const TEXTS = new Map<number, readonly [letters: string, spaced: string]>();

/**
 * The two random texts of a seed: letters, and letters with 1 space in 13, drawn in this order
 * (the Java port does the same). Shared by all generators of the seed, so that a new generator
 * (one per job) leaves V8's optimized generator code valid after the previous one is collected.
 */
function textsFor(seed: number): readonly [letters: string, spaced: string] {
  let texts = TEXTS.get(seed);
  if (texts === undefined) {
    const r = new EventRandom();
    r.reseed(seed ^ 0x7e57, 0);
    const a = new Uint8Array(TEXT_LENGTH);
    for (let i = 0; i < TEXT_LENGTH; i++) a[i] = 97 + r.nextInt(26);
    const letters = Buffer.from(a.buffer).toString('latin1');
    for (let i = 0; i < TEXT_LENGTH; i++) a[i] = r.nextInt(13) === 0 ? 32 : 97 + r.nextInt(26);
    texts = [letters, Buffer.from(a.buffer).toString('latin1')];
    TEXTS.set(seed, texts);
  }
  return texts;
}

/**
 * The generator made last, kept alive for its hidden class. V8 holds the maps of a class's
 * transition tree weakly: once every generator is garbage (between two jobs, when the benchmark
 * runner calls `gc()` before a measured run), a full GC frees the generator's map, every optimized
 * function that embeds it (all of the generator's code) is deoptimized, and the next run paid
 * ≈ 40 ms of CPU re-tiering and recompiling (4–8 ns/event at 5–10 M events).
 */
const KEPT: { latest: NexmarkGenerator | undefined } = { latest: undefined };

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
  // The configuration as plain integer fields, read on every event.
  private readonly seed: number;
  private readonly baseTime: number;
  private readonly delayUs: number;
  private readonly total: number;
  private readonly personProportion: number;
  /** `personProportion + auctionProportion`: event offsets below it (and ≥ persons) are auctions. */
  private readonly personAuctionProportion: number;
  private readonly auctionProportion: number;
  private readonly numInFlightAuctions: number;
  private readonly numActivePeople: number;
  private readonly avgPersonByteSize: number;
  private readonly avgAuctionByteSize: number;
  /** An auction has the hot seller when its draw is at least this (`nextInt(hotSellersRatio) > 0`). */
  private readonly hotSellerAbove: number;
  /** A bid goes to the hot auction when its draw is at least this (`nextInt(hotAuctionRatio) > 0`). */
  private readonly hotAuctionAbove: number;
  /** A bid comes from the hot bidder when its draw is at least this. */
  private readonly hotBidderAbove: number;
  /** A bid's `extra` has `bidExtraMin + nextInt(bidExtraSpan)` letters (none if `bidExtraMin` < 0). */
  private readonly bidExtraMin: number;
  private readonly bidExtraSpan: number;
  /** Events between now and the auction `numInFlightAuctions` auctions ahead. */
  private readonly eventsForAuctions: number;
  /** Random lowercase letters. */
  private readonly letters: string;
  /** Random lowercase letters and spaces (1 in 13). */
  private readonly spaced: string;
  /** `seedHash(seed)`: an event's random state is `stateFor(seedHashed, n)`. */
  private readonly seedHashed: number;
  /**
   * The random state of the event being generated (SplitMix32, as {@link EventRandom}, kept here
   * so that the draws inline into the record builders: a draw is an add and a finalizer).
   */
  private s = 0;
  // The event number after the last one generated, and its epoch and offset in the epoch: event
  // numbers usually come in order, so these save the divisions.
  private nextN = 0;
  private nextEpoch = 0;
  private nextOffset = 0;

  /** @param config - overrides of {@link DEFAULT_GENERATOR_CONFIG} */
  constructor(config: Partial<GeneratorConfig> = {}) {
    // One literal, so that every configuration has the same hidden class (a spread gave successive
    // generators' configurations different ones, and V8 then dropped optimized generator code).
    const d = DEFAULT_GENERATOR_CONFIG;
    const c: GeneratorConfig = {
      seed: config.seed ?? d.seed,
      baseTime: config.baseTime ?? d.baseTime,
      eventsPerSecond: config.eventsPerSecond ?? d.eventsPerSecond,
      personProportion: config.personProportion ?? d.personProportion,
      auctionProportion: config.auctionProportion ?? d.auctionProportion,
      bidProportion: config.bidProportion ?? d.bidProportion,
      avgPersonByteSize: config.avgPersonByteSize ?? d.avgPersonByteSize,
      avgAuctionByteSize: config.avgAuctionByteSize ?? d.avgAuctionByteSize,
      avgBidByteSize: config.avgBidByteSize ?? d.avgBidByteSize,
      hotAuctionRatio: config.hotAuctionRatio ?? d.hotAuctionRatio,
      hotSellersRatio: config.hotSellersRatio ?? d.hotSellersRatio,
      hotBiddersRatio: config.hotBiddersRatio ?? d.hotBiddersRatio,
      numInFlightAuctions: config.numInFlightAuctions ?? d.numInFlightAuctions,
      numActivePeople: config.numActivePeople ?? d.numActivePeople,
    };
    if (!Number.isInteger(c.seed)) throw new RangeError(`seed must be an integer, got ${c.seed}`);
    if (!(c.eventsPerSecond > 0)) throw new RangeError(`eventsPerSecond must be > 0, got ${c.eventsPerSecond}`);
    for (const k of ['hotAuctionRatio', 'hotSellersRatio', 'hotBiddersRatio', 'numInFlightAuctions', 'numActivePeople'] as const) {
      if (!(Number.isInteger(c[k]) && c[k] >= 1 && c[k] <= MAX_COUNT)) throw new RangeError(`${k} must be an integer in [1, ${MAX_COUNT}], got ${c[k]}`);
    }
    for (const k of ['avgPersonByteSize', 'avgAuctionByteSize', 'avgBidByteSize'] as const) {
      if (!(Number.isInteger(c[k]) && c[k] >= 0 && c[k] <= MAX_BYTE_SIZE)) throw new RangeError(`${k} must be an integer in [0, ${MAX_BYTE_SIZE}], got ${c[k]}`);
    }
    this.config = c;
    this.seed = c.seed | 0;
    this.baseTime = c.baseTime;
    this.delayUs = 1_000_000 / c.eventsPerSecond;
    this.total = c.personProportion + c.auctionProportion + c.bidProportion;
    this.personProportion = c.personProportion;
    this.personAuctionProportion = c.personProportion + c.auctionProportion;
    this.auctionProportion = c.auctionProportion;
    this.numInFlightAuctions = c.numInFlightAuctions;
    this.numActivePeople = c.numActivePeople;
    this.avgPersonByteSize = c.avgPersonByteSize;
    this.avgAuctionByteSize = c.avgAuctionByteSize;
    this.hotSellerAbove = leastPositiveDraw(c.hotSellersRatio);
    this.hotAuctionAbove = leastPositiveDraw(c.hotAuctionRatio);
    this.hotBidderAbove = leastPositiveDraw(c.hotBiddersRatio);
    const bidDesired = c.avgBidByteSize - BID_FIXED_SIZE;
    const bidDelta = Math.round(bidDesired * 0.2);
    this.bidExtraMin = bidDesired < 0 ? -1 : bidDesired - bidDelta;
    this.bidExtraSpan = bidDesired < 0 ? 0 : 2 * bidDelta;
    this.eventsForAuctions = Math.floor((c.numInFlightAuctions * this.total) / c.auctionProportion);
    // Both texts come from the seed, drawn in this order (the Java port does the same).
    this.seedHashed = seedHash(this.seed);
    const texts = textsFor(this.seed);
    this.letters = texts[0];
    this.spaced = texts[1];
    KEPT.latest = this;
  }

  /** Event time of event number `n`, epoch ms (non-decreasing in `n`). */
  timestampForEvent(n: number): number {
    const us = Math.floor(n * this.delayUs);
    // Below 2^31 the same floor as an integer division (a multiplication by V8), not a `divsd`.
    return this.baseTime + (us <= 0x7fffffff ? (us / 1000) | 0 : Math.floor(us / 1000));
  }

  /**
   * The event with number `n`.
   * @param n - event number, a safe integer ≥ 0
   */
  eventAt(n: number): NexmarkEvent {
    let epoch: number;
    let offset: number;
    if (n === this.nextN) {
      epoch = this.nextEpoch;
      offset = this.nextOffset;
    } else {
      epoch = Math.floor(n / this.total);
      offset = n - epoch * this.total;
    }
    if (offset + 1 === this.total) {
      this.nextEpoch = epoch + 1;
      this.nextOffset = 0;
    } else {
      this.nextEpoch = epoch;
      this.nextOffset = offset + 1;
    }
    this.nextN = n + 1;
    this.s = stateFor(this.seedHashed, n);
    // The builders compute the event time themselves: a double argument would be boxed.
    if (offset < this.personProportion) return this.person(n, epoch, offset);
    if (offset < this.personAuctionProportion) return this.auction(n, epoch, offset);
    return this.bid(n, epoch);
  }

  // ---- ids ---------------------------------------------------------------------------------
  // An event number n is `epoch · total + offset`; persons come first in every epoch, then
  // auctions, then bids.

  /** The last person id (base 0) created at or before the event at (epoch, offset). */
  private lastBase0PersonId(epoch: number, offset: number): number {
    return epoch * this.personProportion + (offset < this.personProportion ? offset : this.personProportion - 1);
  }

  /** The last auction id (base 0) created at or before the event at (epoch, offset) (−1 before the first). */
  private lastBase0AuctionId(epoch: number, offset: number): number {
    if (offset < this.personProportion) return epoch * this.auctionProportion - 1;
    if (offset >= this.personAuctionProportion) return epoch * this.auctionProportion + this.auctionProportion - 1;
    return epoch * this.auctionProportion + offset - this.personProportion;
  }

  // ---- random draws, as EventRandom's -------------------------------------------------------

  /** As {@link EventRandom.nextInt}: a uniform integer in `[0, bound)`. */
  private nextInt(bound: number): number {
    const s = (this.s = (this.s + GOLDEN_GAMMA) | 0);
    // Below 2^21 the product is exact in a double (and equals Java's 64-bit multiply-high).
    if (bound <= 0x200000) return Math.floor(((fmix32(s) >>> 0) * bound) / TWO_32);
    return this.nextLargeInt(bound, s);
  }

  /** `nextInt` for bounds of 2^21 and more: from a 53-bit double, whose first draw was `s`. */
  private nextLargeInt(bound: number, s: number): number {
    const b = fmix32((this.s = (s + GOLDEN_GAMMA) | 0)) >>> 6;
    return Math.floor((((fmix32(s) >>> 5) * 67108864 + b) / TWO_53) * bound);
  }

  /**
   * A string of 3 .. maxLength − 1 letters and spaces, trimmed: the window's spaces at either end
   * are skipped before slicing (one slice, no `trim` copy; the text has no other whitespace).
   */
  private nextString(maxLength: number): string {
    const len = MIN_STRING_LENGTH + this.nextInt(maxLength - MIN_STRING_LENGTH);
    return trimmedWindow(this.spaced, this.nextInt(TEXT_LENGTH - maxLength), len);
  }

  /** A string of exactly `length` letters. */
  private nextExactString(length: number): string {
    const at = this.nextInt(TEXT_LENGTH - length);
    return this.letters.slice(at, at + length);
  }

  /** Padding that brings a record of `currentSize` bytes to `averageSize` on average (±20 %). */
  private nextExtra(currentSize: number, averageSize: number): string {
    if (currentSize > averageSize) return '';
    const desired = averageSize - currentSize;
    const delta = Math.round(desired * 0.2);
    const size = desired - delta + (delta === 0 ? 0 : this.nextInt(2 * delta));
    return this.nextExactString(size);
  }

  // ---- records -----------------------------------------------------------------------------

  private person(n: number, epoch: number, offset: number): Person {
    const ts = this.timestampForEvent(n);
    const id = this.lastBase0PersonId(epoch, offset) + FIRST_PERSON_ID;
    const first = this.nextInt(FIRST_NAMES.length);
    const name = NAMES[first * LAST_NAMES.length + this.nextInt(LAST_NAMES.length)] as string;
    const user = this.nextString(7);
    // biome-ignore lint/style/useTemplate: a template literal calls the ToString builtin on every part
    const emailAddress = user + '@' + this.nextString(5) + '.com';
    const creditCard = creditCardNumber(this.nextInt(10_000), this.nextInt(10_000), this.nextInt(10_000), this.nextInt(10_000));
    const city = US_CITIES[this.nextInt(US_CITIES.length)] as string;
    const state = US_STATES[this.nextInt(US_STATES.length)] as string;
    const size = 8 + name.length + emailAddress.length + creditCard.length + city.length + state.length;
    const extra = this.nextExtra(size, this.avgPersonByteSize);
    return personRecord(id, name, emailAddress, creditCard, city, state, ts, extra);
  }

  /** As `bid`, with the draws written out (auctions are 6 % of the events, but cost 3 bids each). */
  private auction(n: number, epoch: number, offset: number): Auction {
    const ts = this.timestampForEvent(n);
    let s = this.s;
    const id = this.lastBase0AuctionId(epoch, offset) + FIRST_AUCTION_ID;
    const lastPerson = this.lastBase0PersonId(epoch, offset);
    let seller: number;
    s = (s + GOLDEN_GAMMA) | 0;
    if (fmix32(s) >>> 0 >= this.hotSellerAbove) seller = lastPerson - (lastPerson % HOT_SELLER_RATIO);
    else {
      const numPeople = lastPerson + 1;
      const active = numPeople < this.numActivePeople ? numPeople : this.numActivePeople;
      s = (s + GOLDEN_GAMMA) | 0;
      seller = numPeople - active + ((((fmix32(s) >>> 0) * (active + PERSON_ID_LEAD)) / 4294967296) | 0);
    }
    s = (s + GOLDEN_GAMMA) | 0;
    const category = FIRST_CATEGORY_ID + ((((fmix32(s) >>> 0) * NUM_CATEGORIES) / 4294967296) | 0);
    s = (s + GOLDEN_GAMMA) | 0;
    const initialBits = fmix32(s);
    s = (s + GOLDEN_GAMMA) | 0;
    const initialBid = priceFrom(initialBits, fmix32(s));
    // Auctions last on average as long as it takes to open `numInFlightAuctions` more.
    const horizon = this.timestampForEvent(n + this.eventsForAuctions) - ts;
    const bound = horizon * 2 > 1 ? horizon * 2 : 1;
    let lasts: number;
    s = (s + GOLDEN_GAMMA) | 0;
    if (bound <= 0x200000) lasts = (((fmix32(s) >>> 0) * bound) / 4294967296) | 0;
    else {
      // `nextInt`'s path for large bounds: a 53-bit double from two draws.
      const a = fmix32(s) >>> 5;
      s = (s + GOLDEN_GAMMA) | 0;
      lasts = Math.floor(((a * 67108864 + (fmix32(s) >>> 6)) / TWO_53) * bound);
    }
    const expires = ts + 1 + lasts;
    s = (s + GOLDEN_GAMMA) | 0;
    const itemLength = MIN_STRING_LENGTH + ((((fmix32(s) >>> 0) * (20 - MIN_STRING_LENGTH)) / 4294967296) | 0);
    s = (s + GOLDEN_GAMMA) | 0;
    const itemName = trimmedWindow(this.spaced, (((fmix32(s) >>> 0) * (TEXT_LENGTH - 20)) / 4294967296) | 0, itemLength);
    s = (s + GOLDEN_GAMMA) | 0;
    const descriptionLength = MIN_STRING_LENGTH + ((((fmix32(s) >>> 0) * (100 - MIN_STRING_LENGTH)) / 4294967296) | 0);
    s = (s + GOLDEN_GAMMA) | 0;
    const description = trimmedWindow(this.spaced, (((fmix32(s) >>> 0) * (TEXT_LENGTH - 100)) / 4294967296) | 0, descriptionLength);
    s = (s + GOLDEN_GAMMA) | 0;
    const reserveBits = fmix32(s);
    s = (s + GOLDEN_GAMMA) | 0;
    const reserve = initialBid + priceFrom(reserveBits, fmix32(s));
    // nextExtra, written out.
    const desired = this.avgAuctionByteSize - (8 + itemName.length + description.length + 8 + 8 + 8 + 8 + 8);
    let extra = '';
    if (desired >= 0) {
      const delta = Math.round(desired * 0.2);
      let length = desired - delta;
      if (delta !== 0) {
        s = (s + GOLDEN_GAMMA) | 0;
        length += (((fmix32(s) >>> 0) * 2 * delta) / 4294967296) | 0;
      }
      s = (s + GOLDEN_GAMMA) | 0;
      const at = (((fmix32(s) >>> 0) * (TEXT_LENGTH - length)) / 4294967296) | 0;
      extra = this.letters.slice(at, at + length);
    }
    this.s = s;
    return auctionRecord(id, itemName, description, initialBid, reserve, ts, expires, seller + FIRST_PERSON_ID, category, extra);
  }

  /**
   * The bid path is 92 % of all events, so its draws are written out on a local copy of the
   * random state: `s = (s + GOLDEN_GAMMA) | 0` then `fmix32(s)` is `nextInt`'s draw, and
   * `floor(u32 · bound / 2^32)` its value, here `(u32 · bound / 2^32) | 0` (every bound is below
   * 2^21, checked by the constructor, so the product is exact and the quotient non-negative);
   * `nextInt(ratio) > 0` is `u32 ≥ ⌈2^32 / ratio⌉`. Helper calls would not all be inlined (V8's
   * inlining budget), and a call that returns a double allocates.
   */
  private bid(n: number, epoch: number): Bid {
    const ts = this.timestampForEvent(n);
    let s = this.s;
    // A bid's offset is past every person and auction of its epoch.
    const lastAuction = epoch * this.auctionProportion + this.auctionProportion - 1;
    const lastPerson = epoch * this.personProportion + this.personProportion - 1;
    let auction: number;
    s = (s + GOLDEN_GAMMA) | 0;
    if (fmix32(s) >>> 0 >= this.hotAuctionAbove) auction = lastAuction - (lastAuction % HOT_AUCTION_RATIO);
    else {
      const min = lastAuction > this.numInFlightAuctions ? lastAuction - this.numInFlightAuctions : 0;
      s = (s + GOLDEN_GAMMA) | 0;
      auction = min + ((((fmix32(s) >>> 0) * (lastAuction - min + 1 + AUCTION_ID_LEAD)) / 4294967296) | 0);
    }
    let bidder: number;
    s = (s + GOLDEN_GAMMA) | 0;
    if (fmix32(s) >>> 0 >= this.hotBidderAbove) bidder = lastPerson - (lastPerson % HOT_BIDDER_RATIO) + 1;
    else {
      const numPeople = lastPerson + 1;
      const active = numPeople < this.numActivePeople ? numPeople : this.numActivePeople;
      s = (s + GOLDEN_GAMMA) | 0;
      bidder = numPeople - active + ((((fmix32(s) >>> 0) * (active + PERSON_ID_LEAD)) / 4294967296) | 0);
    }
    s = (s + GOLDEN_GAMMA) | 0;
    const priceBits = fmix32(s);
    s = (s + GOLDEN_GAMMA) | 0;
    const price = priceFrom(priceBits, fmix32(s));
    let extra = '';
    if (this.bidExtraMin >= 0) {
      let length = this.bidExtraMin;
      if (this.bidExtraSpan > 0) {
        s = (s + GOLDEN_GAMMA) | 0;
        length += (((fmix32(s) >>> 0) * this.bidExtraSpan) / 4294967296) | 0;
      }
      s = (s + GOLDEN_GAMMA) | 0;
      const at = (((fmix32(s) >>> 0) * (TEXT_LENGTH - length)) / 4294967296) | 0;
      extra = this.letters.slice(at, at + length);
    }
    this.s = s;
    return bidRecord(auction + FIRST_AUCTION_ID, bidder + FIRST_PERSON_ID, price, ts, extra);
  }
}
