/**
 * The blackhole sink of the Nexmark suite: counts results and folds each into an
 * order-independent checksum, so a run can be compared with the Flink peer (whose sink computes
 * the same checksum in Java) and with the reference results of the tests.
 * @packageDocumentation
 */
import type { Sink, SinkWriter } from '@weir/core';
import type { NexmarkEvent } from './model.js';
import { fmix32 } from './random.js';

/**
 * Turns a result row into a 32-bit digest; the checksum is the sum of the digests modulo 2^32.
 * @public
 */
export type Digest<T> = (row: T) => number;

/** FNV-1a's offset basis, the digest's start value. */
const DIGEST_START = 0x811c9dc5 | 0;

/**
 * Starts a digest.
 * @returns the initial state
 * @public
 */
export function digestStart(): number {
  return DIGEST_START;
}

/**
 * Adds a 32-bit integer to a digest state (FNV-style multiply).
 * @param h - the state
 * @param x - an integer; its low 32 bits are used
 * @public
 */
export function digestInt(h: number, x: number): number {
  return Math.imul(h ^ x, 0x01000193);
}

/**
 * Adds an integer up to 2^53 (an id, a timestamp) to a digest state: low and high 32 bits.
 * @param h - the state
 * @param x - a safe integer ≥ 0
 * @public
 */
export function digestLong(h: number, x: number): number {
  return digestInt(digestInt(h, x >>> 0), Math.floor(x / 4294967296) | 0);
}

/**
 * Adds a string to a digest state, by Java's `String.hashCode` (so the Java peer matches).
 * @param h - the state
 * @param s - the string
 * @public
 */
export function digestString(h: number, s: string): number {
  let x = 0;
  for (let i = 0; i < s.length; i++) x = (Math.imul(31, x) + s.charCodeAt(i)) | 0;
  return digestInt(h, x);
}

/**
 * Finishes a digest.
 * @param h - the state
 * @returns the digest, a signed 32-bit integer
 * @public
 */
export function digestEnd(h: number): number {
  return fmix32(h);
}

/**
 * What a blackhole sink saw.
 * @public
 */
export interface SinkResult {
  /** Results written. */
  readonly count: number;
  /** Sum of the results' digests modulo 2^32, as an unsigned integer. */
  readonly checksum: number;
}

class BlackholeWriter<T> implements SinkWriter<T> {
  count = 0;
  checksum = 0;
  constructor(private readonly digest: Digest<T>) {}
  write(value: T): void {
    this.count++;
    this.checksum = (this.checksum + this.digest(value)) | 0;
  }
}

/**
 * A sink that drops every result after counting it and adding its digest to a checksum.
 * @example
 * ```ts
 * const sink = new BlackholeSink<Bid>((b) => digestEnd(digestInt(digestStart(), b.price)));
 * bids.sinkTo(sink);
 * await env.execute();
 * console.log(sink.result());
 * ```
 * @public
 */
export class BlackholeSink<T> implements Sink<T> {
  private readonly writers: BlackholeWriter<T>[] = [];

  /** @param digest - how each result enters the checksum */
  constructor(private readonly digest: Digest<T>) {}

  /** One writer per parallel instance. */
  createWriter(): SinkWriter<T> {
    const w = new BlackholeWriter<T>(this.digest);
    this.writers.push(w);
    return w;
  }

  /** Count and checksum over every writer created so far. */
  result(): SinkResult {
    let count = 0;
    let checksum = 0;
    for (const w of this.writers) {
      count += w.count;
      checksum = (checksum + w.checksum) | 0;
    }
    return { count, checksum: checksum >>> 0 };
  }
}

/**
 * The digest of a whole event, every field: a check that two generators (this one and the Java
 * port's `EventDigest`) made the same events.
 * @param e - the event
 * @public
 */
export function eventDigest(e: NexmarkEvent): number {
  let h = digestStart();
  switch (e.kind) {
    case 'person':
      h = digestLong(digestInt(h, 0), e.id);
      h = digestString(digestString(digestString(h, e.name), e.emailAddress), e.creditCard);
      h = digestString(digestString(h, e.city), e.state);
      h = digestString(digestLong(h, e.dateTime), e.extra);
      break;
    case 'auction':
      h = digestLong(digestInt(h, 1), e.id);
      h = digestString(digestString(h, e.itemName), e.description);
      h = digestLong(digestLong(h, e.initialBid), e.reserve);
      h = digestLong(digestLong(h, e.dateTime), e.expires);
      h = digestLong(digestLong(h, e.seller), e.category);
      h = digestString(h, e.extra);
      break;
    case 'bid':
      h = digestLong(digestLong(digestInt(h, 2), e.auction), e.bidder);
      h = digestLong(digestLong(h, e.price), e.dateTime);
      h = digestString(h, e.extra);
      break;
  }
  return digestEnd(h);
}
