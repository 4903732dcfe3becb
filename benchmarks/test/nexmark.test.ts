/**
 * The Nexmark suite: the generator follows the reference distributions and is deterministic,
 * the source splits and checkpoints by event number, and every query on Weir equals a
 * straightforward batch computation over the same events (and so does every hand-written loop).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type DataStream, type ReaderOutput, type SourceOutput, StreamEnvironment } from '@weir/core';
import { describe, expect, it } from 'vitest';
import { type GeneratorConfig, NexmarkGenerator } from '../src/nexmark/generator.js';
import { nexmarkEvents, runWeirQuery } from '../src/nexmark/job.js';
import { runLoop } from '../src/nexmark/loop.js';
import type { Auction, Bid, NexmarkEvent, Person } from '../src/nexmark/model.js';
import {
  type AuctionPrice,
  type BidderSession,
  type BidInEuros,
  type CategoryAverage,
  type HotItem,
  type LocalItem,
  type NewSeller,
  type NexmarkQuery,
  q0,
  q1,
  q2,
  q3,
  q4,
  q5,
  q7,
  q8,
  q11,
  SESSION_GAP_MS,
  SLIDE_MS,
  WINDOW_MS,
  type WinningBid,
  winningBids,
} from '../src/nexmark/queries.js';
import { eventDigest } from '../src/nexmark/sink.js';
import { type NexmarkSplit, NexmarkSource } from '../src/nexmark/source.js';

/** The Flink peer's jar (`mvn -q package` in benchmarks/peers/flink). */
const jar = fileURLToPath(new URL('../peers/flink/target/weir-nexmark-flink.jar', import.meta.url));
const flinkDir = fileURLToPath(new URL('../peers/flink/', import.meta.url));

/**
 * Builds the Flink peer when its jar is missing (needs Java 17 and Maven; dependencies come from
 * Maven Central and are cached in ~/.m2). Never skips: without Java/Maven the tests that need
 * the jar fail and say what to install.
 */
function ensureFlinkJar(): void {
  if (existsSync(jar)) return;
  try {
    execFileSync('mvn', ['-q', 'package'], { cwd: flinkDir, stdio: 'inherit', timeout: 900_000 });
  } catch (e) {
    throw new Error(
      `the Flink peer could not be built (${String(e)}): install Java 17 and Maven, then run \`mvn -q package\` in benchmarks/peers/flink`,
    );
  }
  if (!existsSync(jar)) throw new Error(`mvn package did not produce ${jar}`);
}

/** Small runs: 2,000 events per second of event time, so 40,000 events span 20 s of windows. */
const GEN: Partial<GeneratorConfig> = { eventsPerSecond: 2_000 };
const N = 40_000;

function generate(n: number, config: Partial<GeneratorConfig> = GEN): NexmarkEvent[] {
  const g = new NexmarkGenerator(config);
  const out: NexmarkEvent[] = [];
  for (let i = 0; i < n; i++) out.push(g.eventAt(i));
  return out;
}

const EVENTS = generate(N);
const BIDS = EVENTS.filter((e): e is Bid => e.kind === 'bid');
const PERSONS = EVENTS.filter((e): e is Person => e.kind === 'person');
const AUCTIONS = EVENTS.filter((e): e is Auction => e.kind === 'auction');

/** Rows as a sorted multiset, for order-independent comparison. */
const bag = (rows: readonly unknown[]): string[] => rows.map((r) => JSON.stringify(r)).sort();

async function collect<T>(build: (events: DataStream<NexmarkEvent>) => DataStream<T>, watermarkPerRecord: boolean, parallelism = 1): Promise<T[]> {
  const env = StreamEnvironment.create({ parallelism });
  return build(nexmarkEvents(env, { events: N, generator: GEN, watermarkPerRecord })).executeAndCollect();
}

/** Start of the tumbling window of `ts`. */
const windowStart = (ts: number, size: number): number => ts - (ts % size);

// ---- references: batch code over the generated events ---------------------------------------

const reference = {
  q0: (): Bid[] => BIDS,
  q1: (): BidInEuros[] => BIDS.map((b) => ({ auction: b.auction, bidder: b.bidder, price: b.price * 0.908, dateTime: b.dateTime, extra: b.extra })),
  q2: (): AuctionPrice[] => BIDS.filter((b) => b.auction % 123 === 0).map((b) => ({ auction: b.auction, price: b.price })),
  q3: (): LocalItem[] => {
    const sellers = new Map(PERSONS.filter((p) => ['OR', 'ID', 'CA'].includes(p.state)).map((p) => [p.id, p]));
    const rows: LocalItem[] = [];
    for (const a of AUCTIONS) {
      const p = sellers.get(a.seller);
      if (a.category === 10 && p !== undefined) rows.push({ name: p.name, city: p.city, state: p.state, id: a.id });
    }
    return rows;
  },
  winningBids: (): WinningBid[] => {
    const rows: WinningBid[] = [];
    for (const a of AUCTIONS) {
      let best = -1;
      for (const b of BIDS) if (b.auction === a.id && b.dateTime >= a.dateTime && b.dateTime <= a.expires && b.price > best) best = b.price;
      if (best >= 0) rows.push({ auction: a.id, category: a.category, price: best });
    }
    return rows;
  },
  q5: (): HotItem[] => {
    const windows = new Map<number, Map<number, number>>();
    for (const b of BIDS) {
      const lastStart = windowStart(b.dateTime, SLIDE_MS);
      for (let start = lastStart; start > b.dateTime - WINDOW_MS; start -= SLIDE_MS) {
        const counts = windows.get(start) ?? new Map<number, number>();
        counts.set(b.auction, (counts.get(b.auction) ?? 0) + 1);
        windows.set(start, counts);
      }
    }
    const rows: HotItem[] = [];
    for (const counts of windows.values()) {
      const max = Math.max(...counts.values());
      for (const [auction, num] of counts) if (num === max) rows.push({ auction, num });
    }
    return rows;
  },
  q7: (): Bid[] => {
    const max = new Map<number, number>();
    for (const b of BIDS) {
      const w = windowStart(b.dateTime, WINDOW_MS);
      max.set(w, Math.max(max.get(w) ?? -1, b.price));
    }
    return BIDS.filter((b) => b.price === max.get(windowStart(b.dateTime, WINDOW_MS)));
  },
  q8: (): NewSeller[] => {
    const sellers = new Set(AUCTIONS.map((a) => `${a.seller}@${windowStart(a.dateTime, WINDOW_MS)}`));
    return PERSONS.filter((p) => sellers.has(`${p.id}@${windowStart(p.dateTime, WINDOW_MS)}`)).map((p) => ({
      id: p.id,
      name: p.name,
      starttime: windowStart(p.dateTime, WINDOW_MS),
    }));
  },
  q11: (): BidderSession[] => {
    const byBidder = new Map<number, number[]>();
    for (const b of BIDS) byBidder.set(b.bidder, [...(byBidder.get(b.bidder) ?? []), b.dateTime]);
    const rows: BidderSession[] = [];
    for (const [bidder, times] of byBidder) {
      times.sort((x, y) => x - y);
      let start = times[0] as number;
      let last = start;
      let n = 0;
      for (const t of times) {
        // Sessions [t, t + gap) that overlap or touch merge.
        if (t > last + SESSION_GAP_MS) {
          rows.push({ bidder, bidCount: n, starttime: start, endtime: last + SESSION_GAP_MS });
          start = t;
          n = 0;
        }
        last = t;
        n++;
      }
      rows.push({ bidder, bidCount: n, starttime: start, endtime: last + SESSION_GAP_MS });
    }
    return rows;
  },
};

// ---- the generator ---------------------------------------------------------------------------

describe('Nexmark generator', () => {
  it('makes 1 person, 3 auctions and 46 bids in every 50 events, with ids in order of creation', () => {
    for (let k = 0; k < N; k += 50) {
      const kinds = EVENTS.slice(k, k + 50).map((e) => e.kind);
      expect(kinds.filter((x) => x === 'person')).toHaveLength(1);
      expect(kinds.filter((x) => x === 'auction')).toHaveLength(3);
      expect(kinds.filter((x) => x === 'bid')).toHaveLength(46);
    }
    expect(PERSONS.map((p) => p.id)).toEqual(PERSONS.map((_, i) => 1000 + i));
    expect(AUCTIONS.map((a) => a.id)).toEqual(AUCTIONS.map((_, i) => 1000 + i));
  });

  it('is a pure function of the seed and the event number', () => {
    const a = new NexmarkGenerator(GEN);
    const b = new NexmarkGenerator(GEN);
    for (const n of [39_999, 7, 12_345, 0, 7]) expect(a.eventAt(n)).toEqual(b.eventAt(n));
    expect(new NexmarkGenerator({ ...GEN, seed: 7 }).eventAt(4)).not.toEqual(a.eventAt(4));
  });

  it('advances event time at the configured rate', () => {
    const base = Date.UTC(2026, 0, 1);
    expect(EVENTS[0]?.dateTime).toBe(base);
    expect(EVENTS[N - 1]?.dateTime).toBe(base + Math.floor(((N - 1) * 1000) / 2_000));
    for (let i = 1; i < N; i++) expect((EVENTS[i] as NexmarkEvent).dateTime).toBeGreaterThanOrEqual((EVENTS[i - 1] as NexmarkEvent).dateTime);
    const fast = new NexmarkGenerator({ eventsPerSecond: 10_000 });
    expect(fast.eventAt(10_000).dateTime - fast.eventAt(0).dateTime).toBe(1_000);
  });

  it("follows the reference's field distributions", () => {
    const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
    // Hot auctions: half the bids; hot bidders and sellers: three quarters.
    const hotAuction = BIDS.filter((b) => (b.auction - 1000) % 100 === 0).length / BIDS.length;
    expect(hotAuction).toBeGreaterThan(0.45);
    expect(hotAuction).toBeLessThan(0.56);
    const hotBidder = BIDS.filter((b) => (b.bidder - 1000) % 100 === 1).length / BIDS.length;
    expect(hotBidder).toBeGreaterThan(0.7);
    expect(hotBidder).toBeLessThan(0.8);
    const hotSeller = AUCTIONS.filter((a) => (a.seller - 1000) % 100 === 0).length / AUCTIONS.length;
    expect(hotSeller).toBeGreaterThan(0.7);
    expect(hotSeller).toBeLessThan(0.8);
    // Bids name one of the last 100 auctions or one at most 10 ids ahead; sellers and bidders
    // one of the last 1,000 people or one at most 10 ahead.
    let auctions = 0;
    let persons = 0;
    for (const e of EVENTS) {
      if (e.kind === 'auction') {
        auctions++;
        expect(e.seller).toBeLessThan(1000 + persons + 10);
        expect(e.seller).toBeGreaterThanOrEqual(1000 + persons - 1000);
      } else if (e.kind === 'person') persons++;
      else {
        expect(e.auction).toBeLessThanOrEqual(1000 + auctions - 1 + 10);
        expect(e.auction).toBeGreaterThanOrEqual(1000 + auctions - 1 - 100);
        expect(e.bidder).toBeLessThan(1000 + persons + 10);
      }
    }
    // Prices: log-uniform over [100, 10^8]: a sixth of them in each decade.
    for (const b of BIDS) {
      expect(b.price).toBeGreaterThanOrEqual(100);
      expect(b.price).toBeLessThanOrEqual(100_000_000);
    }
    const decade = BIDS.filter((b) => b.price < 1_000).length / BIDS.length;
    expect(decade).toBeGreaterThan(0.15);
    expect(decade).toBeLessThan(0.18);
    // Categories 10..14, auctions expire after they open, reserve above the initial bid.
    for (const a of AUCTIONS) {
      expect(a.category).toBeGreaterThanOrEqual(10);
      expect(a.category).toBeLessThanOrEqual(14);
      expect(a.expires).toBeGreaterThan(a.dateTime);
      expect(a.reserve).toBeGreaterThan(a.initialBid);
    }
    // Records padded to the reference's average sizes (200 / 500 / 100 bytes, ±20 % padding).
    const personSize = mean(PERSONS.map((p) => 8 + p.name.length + p.emailAddress.length + p.creditCard.length + p.city.length + p.state.length + p.extra.length));
    expect(personSize).toBeGreaterThan(190);
    expect(personSize).toBeLessThan(210);
    const auctionSize = mean(AUCTIONS.map((a) => 48 + a.itemName.length + a.description.length + a.extra.length));
    expect(auctionSize).toBeGreaterThan(480);
    expect(auctionSize).toBeLessThan(520);
    const bidSize = mean(BIDS.map((b) => 32 + b.extra.length));
    expect(bidSize).toBeGreaterThan(97);
    expect(bidSize).toBeLessThan(103);
    expect(PERSONS.every((p) => /^[a-z ]*@[a-z ]*\.com$/.test(p.emailAddress) && /^\d{4} \d{4} \d{4} \d{4}$/.test(p.creditCard))).toBe(true);
  });

  it('makes the same events as the Java port of the Flink peer', () => {
    // Golden value printed by `java -jar weir-nexmark-flink.jar --checksum-events 100000` (seed 42,
    // 10,000 events/s): both generators draw the same numbers and build the same strings.
    const g = new NexmarkGenerator();
    let sum = 0;
    for (let i = 0; i < 100_000; i++) sum = (sum + eventDigest(g.eventAt(i))) | 0;
    expect(sum >>> 0).toBe(3665818103);
  });

  it('agrees with the Java port on other settings too (builds the Flink jar if needed)', () => {
    ensureFlinkJar();
    const config = { seed: 7, eventsPerSecond: 3 };
    const out = execFileSync('java', ['-jar', jar, '--checksum-events', '20000', '--seed', '7', '--rate', '3'], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    const g = new NexmarkGenerator(config);
    let sum = 0;
    for (let i = 0; i < 20_000; i++) sum = (sum + eventDigest(g.eventAt(i))) | 0;
    expect(out.trim()).toBe(`NEXMARK_EVENTS ${sum >>> 0}`);
  }, 900_000);
});

// ---- the source ------------------------------------------------------------------------------

/** A reader output that keeps what it is given. */
function recordingOutput(into: NexmarkEvent[]): ReaderOutput<NexmarkEvent> {
  const out: SourceOutput<NexmarkEvent> = {
    collect: (e) => {
      into.push(e);
    },
    emitWatermark: () => {},
    markIdle: () => {},
    markActive: () => {},
  };
  return { ...out, createOutputForSplit: () => out, releaseOutputForSplit: () => {} };
}

describe('NexmarkSource', () => {
  it('resumes a split from its checkpointed position with exactly the remaining events', () => {
    const source = new NexmarkSource({ events: 1_000, generator: GEN, splitEvents: 600 });
    const seen: NexmarkEvent[] = [];
    const reader = source.createReader();
    reader.addSplits([{ splitId: 's', next: 0, end: 600 }]);
    reader.notifyNoMoreSplits();
    const out = recordingOutput(seen);
    for (let i = 0; i < 3; i++) expect(reader.pollNext(out)).toBe('more');
    const snapshot = reader.snapshotState(1);
    expect(snapshot).toEqual([{ splitId: 's', next: seen.length, end: 600 }]);
    const restored = source.createReader();
    restored.addSplits([source.splitSerde.deserialize(source.splitSerde.serialize(snapshot[0] as NexmarkSplit))]);
    restored.notifyNoMoreSplits();
    let status = restored.pollNext(out);
    while (status === 'more') status = restored.pollNext(out);
    expect(status).toBe('end');
    expect(seen).toEqual(EVENTS.slice(0, 600));
  });

  it('checkpoints the split in progress and the queued ones, skips empty splits, leaves assigned splits unchanged', () => {
    const source = new NexmarkSource({ events: 1_000, generator: GEN });
    const seen: NexmarkEvent[] = [];
    const reader = source.createReader();
    const assigned: NexmarkSplit[] = [
      { splitId: 'a', next: 0, end: 100 },
      { splitId: 'empty', next: 100, end: 100 },
      { splitId: 'b', next: 100, end: 250 },
    ];
    const copies = assigned.map((s) => ({ ...s }));
    reader.addSplits(assigned);
    reader.notifyNoMoreSplits();
    const out = recordingOutput(seen);
    while (seen.length < 100) expect(reader.pollNext(out)).toBe('more');
    // Split 'a' is done: only the queued splits remain.
    expect(reader.snapshotState(1)).toEqual(copies.slice(1));
    expect(reader.pollNext(out)).toBe('more');
    expect(reader.snapshotState(2)).toEqual([{ splitId: 'b', next: seen.length, end: 250 }]);
    let status = reader.pollNext(out);
    while (status === 'more') status = reader.pollNext(out);
    expect(status).toBe('end');
    expect(reader.snapshotState(3)).toEqual([]);
    expect(seen).toEqual(EVENTS.slice(0, 250));
    expect(assigned).toEqual(copies);
  });

  it('splits by event-number ranges and gives the same results at any parallelism', async () => {
    const env = StreamEnvironment.create({ parallelism: 3 });
    const rows = await nexmarkEvents(env, { events: 30_000, generator: GEN, splitEvents: 7_000 }).executeAndCollect();
    expect(bag(rows)).toEqual(bag(EVENTS.slice(0, 30_000)));
    for (const query of [q0, q5, q11] as Array<NexmarkQuery<unknown>>) {
      const three = await runWeirQuery(query, { events: 30_000, generator: GEN, parallelism: 3, splitEvents: 7_000 });
      expect(three).toEqual(await runWeirQuery(query, { events: 30_000, generator: GEN }));
    }
  });
});

// ---- the queries -----------------------------------------------------------------------------

describe.each([false, true])('Nexmark queries on Weir equal the batch reference (watermark per record: %s)', (perRecord) => {
  const cases: Array<[NexmarkQuery<unknown>, () => unknown[]]> = [
    [q0 as NexmarkQuery<unknown>, reference.q0],
    [q1 as NexmarkQuery<unknown>, reference.q1],
    [q2 as NexmarkQuery<unknown>, reference.q2],
    [q3 as NexmarkQuery<unknown>, reference.q3],
    [q5 as NexmarkQuery<unknown>, reference.q5],
    [q7 as NexmarkQuery<unknown>, reference.q7],
    [q8 as NexmarkQuery<unknown>, reference.q8],
    [q11 as NexmarkQuery<unknown>, reference.q11],
  ];
  it.each(cases.map(([query, ref]) => [query.name, query, ref] as const))('%s', async (_name, query, ref) => {
    const expected = ref();
    expect(expected.length).toBeGreaterThan(0);
    const rows = await collect(query.build, perRecord);
    expect(bag(rows)).toEqual(bag(expected));
  });

  it('q4: winning bids, then the running average per category', async () => {
    const expected = reference.winningBids();
    expect(expected.length).toBeGreaterThan(100);
    expect(bag(await collect(winningBids, perRecord))).toEqual(bag(expected));
    const rows = await collect<CategoryAverage>(q4.build, perRecord);
    // One update per winning bid; the last one of each category is the mean of its winning bids.
    expect(rows).toHaveLength(expected.length);
    const byCategory = new Map<number, number[]>();
    for (const w of expected) byCategory.set(w.category, [...(byCategory.get(w.category) ?? []), w.price]);
    for (const [category, prices] of byCategory) {
      const mine = rows.filter((r) => r.category === category);
      expect(mine.map((r) => r.auctions).sort((a, b) => a - b)).toEqual(prices.map((_, i) => i + 1));
      const last = mine.find((r) => r.auctions === prices.length) as CategoryAverage;
      expect(last.average).toBe(prices.reduce((s, p) => s + p, 0) / prices.length);
    }
  });
});

describe('hand-written loops', () => {
  it.each((([q0, q1, q2, q5] as Array<NexmarkQuery<unknown>>).map((q) => [q.name, q] as const)))('%s: same results and checksum as Weir', async (_name, query) => {
    const weir = await runWeirQuery(query, { events: N, generator: GEN });
    const loop = runLoop(query.name as 'q0' | 'q1' | 'q2' | 'q5', N, GEN);
    expect(loop).toEqual(weir);
    expect(weir.count).toBe(
      { q0: reference.q0, q1: reference.q1, q2: reference.q2, q5: reference.q5 }[query.name as 'q0' | 'q1' | 'q2' | 'q5']().length,
    );
  });
});

describe('the Flink peer', () => {
  it(
    'gives the same results as Weir on every query (builds the Flink jar if needed)',
    async () => {
      ensureFlinkJar();
      const queries = [q0, q1, q2, q3, q4, q5, q7, q8, q11] as Array<NexmarkQuery<unknown>>;
      const out = execFileSync(
        'java',
        ['-jar', jar, '--queries', queries.map((q) => q.name).join(','), '--events', '20000', '--rate', '2000', '--warmup', '0', '--runs', '1'],
        // A synchronous child blocks the test's own timeout: kill it (and fail) if it hangs.
        { encoding: 'utf8', timeout: 300_000 },
      );
      const flink = new Map<string, { count: number; checksum: number }>();
      for (const line of out.split('\n')) {
        if (!line.startsWith('NEXMARK_RESULT ')) continue;
        const r = JSON.parse(line.slice('NEXMARK_RESULT '.length)) as { query: string; runs: Array<{ count: number; checksum: number }> };
        const run = r.runs[0] as { count: number; checksum: number };
        flink.set(r.query, { count: run.count, checksum: run.checksum });
      }
      for (const q of queries) {
        const weir = await runWeirQuery(q, { events: 20_000, generator: GEN });
        expect({ query: q.name, ...flink.get(q.name) }).toEqual({ query: q.name, ...weir });
      }
    },
    180_000,
  );
});
