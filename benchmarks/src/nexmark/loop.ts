/**
 * Hand-written TypeScript loops for q0, q1, q2 and q5: the same generator, the same results and
 * the same digests as the Weir queries, with no framework at all. They measure what Node itself
 * allows, the yardstick for "within 3× of the hand-written loop".
 * @packageDocumentation
 */
import { type GeneratorConfig, NexmarkGenerator } from './generator.js';
import { type AuctionPrice, type BidInEuros, type HotItem, q0, q1, q2, q5, SLIDE_MS, WINDOW_MS } from './queries.js';
import type { SinkResult } from './sink.js';

/**
 * Queries that have a hand-written loop.
 * @public
 */
export type LoopQueryName = 'q0' | 'q1' | 'q2' | 'q5';

/**
 * The queries with a hand-written loop.
 * @public
 */
export const LOOP_QUERIES: readonly LoopQueryName[] = ['q0', 'q1', 'q2', 'q5'];

/**
 * Whether `name` has a hand-written loop.
 * @public
 */
export function hasLoop(name: string): name is LoopQueryName {
  return (LOOP_QUERIES as readonly string[]).includes(name);
}

/**
 * Runs a query as a plain loop over the generated events.
 * @param query - q0, q1, q2 or q5
 * @param events - number of events
 * @param generator - generator settings
 * @returns the result count and checksum (equal to Weir's and Flink's)
 * @public
 */
export function runLoop(query: LoopQueryName, events: number, generator: Partial<GeneratorConfig> = {}): SinkResult {
  const gen = new NexmarkGenerator(generator);
  switch (query) {
    case 'q0':
      return loopQ0(gen, events);
    case 'q1':
      return loopQ1(gen, events);
    case 'q2':
      return loopQ2(gen, events);
    case 'q5':
      return loopQ5(gen, events);
  }
}

/**
 * The generator alone: makes `events` events and folds their times into a checksum. The
 * baseline that tells how much of a query's cost is the generator's (the Java peer measures its
 * port the same way, `--queries gen`).
 * @param events - number of events
 * @param generator - generator settings
 * @returns `events` and the checksum of the event times (equal to the Java port's)
 * @public
 */
export function runGeneratorOnly(events: number, generator: Partial<GeneratorConfig> = {}): SinkResult {
  return { count: events, checksum: sumOfTimes(new NexmarkGenerator(generator), events) >>> 0 };
}

/**
 * The generator loop on its own, returning a plain number: V8 optimizes a loop while it runs
 * (on-stack replacement), and code after the loop in the same function then has no type feedback
 * and deoptimizes at the end of every run.
 */
function sumOfTimes(gen: NexmarkGenerator, events: number): number {
  let checksum = 0;
  for (let n = 0; n < events; n++) checksum = (checksum + gen.eventAt(n).dateTime) | 0;
  return checksum;
}

function loopQ0(gen: NexmarkGenerator, events: number): SinkResult {
  const digest = q0.digest;
  let count = 0;
  let checksum = 0;
  for (let n = 0; n < events; n++) {
    const e = gen.eventAt(n);
    if (e.kind !== 'bid') continue;
    count++;
    checksum = (checksum + digest(e)) | 0;
  }
  return { count, checksum: checksum >>> 0 };
}

function loopQ1(gen: NexmarkGenerator, events: number): SinkResult {
  const digest = q1.digest;
  let count = 0;
  let checksum = 0;
  for (let n = 0; n < events; n++) {
    const e = gen.eventAt(n);
    if (e.kind !== 'bid') continue;
    const r: BidInEuros = { auction: e.auction, bidder: e.bidder, price: e.price * 0.908, dateTime: e.dateTime, extra: e.extra };
    count++;
    checksum = (checksum + digest(r)) | 0;
  }
  return { count, checksum: checksum >>> 0 };
}

function loopQ2(gen: NexmarkGenerator, events: number): SinkResult {
  const digest = q2.digest;
  let count = 0;
  let checksum = 0;
  for (let n = 0; n < events; n++) {
    const e = gen.eventAt(n);
    if (e.kind !== 'bid' || e.auction % 123 !== 0) continue;
    const r: AuctionPrice = { auction: e.auction, price: e.price };
    count++;
    checksum = (checksum + digest(r)) | 0;
  }
  return { count, checksum: checksum >>> 0 };
}

/**
 * Sliding-window counts with panes: one count map per slide; when a pane closes (the input is
 * in event-time order), the window ending there is the sum of the last `WINDOW_MS / SLIDE_MS`
 * panes, and its auctions with the highest count are emitted.
 */
function loopQ5(gen: NexmarkGenerator, events: number): SinkResult {
  const digest = q5.digest;
  const panesPerWindow = WINDOW_MS / SLIDE_MS;
  const ring: Array<Map<number, number>> = [];
  let pane = new Map<number, number>();
  let paneEnd = Number.NaN;
  let count = 0;
  let checksum = 0;

  const emitWindow = (): void => {
    const totals = new Map<number, number>();
    for (const p of ring) for (const [auction, c] of p) totals.set(auction, (totals.get(auction) ?? 0) + c);
    let max = 0;
    for (const c of totals.values()) if (c > max) max = c;
    if (max === 0) return;
    for (const [auction, c] of totals) {
      if (c !== max) continue;
      const r: HotItem = { auction, num: c };
      count++;
      checksum = (checksum + digest(r)) | 0;
    }
  };
  const closePane = (): void => {
    ring.push(pane);
    if (ring.length > panesPerWindow) ring.shift();
    emitWindow();
    pane = new Map();
    paneEnd += SLIDE_MS;
  };

  for (let n = 0; n < events; n++) {
    const e = gen.eventAt(n);
    if (e.kind !== 'bid') continue;
    const ts = e.dateTime;
    if (Number.isNaN(paneEnd)) paneEnd = ts - (ts % SLIDE_MS) + SLIDE_MS;
    while (ts >= paneEnd) closePane();
    pane.set(e.auction, (pane.get(e.auction) ?? 0) + 1);
  }
  if (!Number.isNaN(paneEnd)) {
    // End of input: the last pane, then the windows that still hold it.
    for (let k = 0; k < panesPerWindow; k++) closePane();
  }
  return { count, checksum: checksum >>> 0 };
}
