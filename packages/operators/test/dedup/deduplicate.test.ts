import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OutputTag, StreamEnvironment, WatermarkStrategy } from '@weir/core';
import { OperatorHarness } from '@weir/core/testing';
import { Deduplicate, type DeduplicateCounts, deduplicate } from '@weir/operators';

interface Ev {
  readonly id: number;
  readonly key: string;
  readonly ts: number;
}

/**
 * The brute-force reference, event time: in arrival order, a record is a duplicate when an
 * earlier-arriving record of its key that passed has a timestamp less than `ttl` away.
 */
function referenceEventTime(arrival: readonly Ev[], ttl: number): { passed: Ev[]; duplicates: Ev[] } {
  const passed: Ev[] = [];
  const duplicates: Ev[] = [];
  for (const e of arrival) {
    if (passed.some((p) => p.key === e.key && Math.abs(p.ts - e.ts) < ttl)) duplicates.push(e);
    else passed.push(e);
  }
  return { passed, duplicates };
}

/** Reference, processing time: a duplicate arrives less than `ttl` after its key last passed. */
function referenceProcessingTime(arrivals: ReadonlyArray<{ at: number; e: Ev }>, ttl: number): { passed: Ev[]; duplicates: Ev[] } {
  const last = new Map<string, number>();
  const passed: Ev[] = [];
  const duplicates: Ev[] = [];
  for (const { at, e } of arrivals) {
    const l = last.get(e.key);
    if (l !== undefined && at - l < ttl) duplicates.push(e);
    else {
      passed.push(e);
      last.set(e.key, at);
    }
  }
  return { passed, duplicates };
}

/** Arrival order with out-of-orderness at most `bound`: never late for a bounded watermark. */
function shuffleWithinBound(events: readonly Ev[], bound: number, jitter: readonly number[]): Ev[] {
  return events
    .map((e, i) => ({ e, k: e.ts + ((jitter[i % jitter.length] ?? 0) % (bound + 1)), i }))
    .sort((a, b) => a.k - b.k || a.i - b.i)
    .map((x) => x.e);
}

const keyArb = fc.constantFrom('a', 'b', 'c');
const eventsArb = fc
  .array(fc.record({ key: keyArb, ts: fc.integer({ min: 0, max: 2_000 }) }), { maxLength: 60 })
  .map((xs) => xs.map((x, id) => ({ id, ...x })));

describe('Deduplicate, event time', () => {
  it('property: equals the brute-force reference, and state is empty after the end of input', async () => {
    await fc.assert(
      fc.asyncProperty(
        eventsArb,
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 0, max: 300 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 20 }),
        async (events, ttl, bound, jitter) => {
          const arrival = shuffleWithinBound(events, bound, jitter);
          const dupTag = new OutputTag<Ev>('duplicates');
          const counts: DeduplicateCounts = { passed: 0, duplicates: 0 };
          const h = OperatorHarness.forKeyedProcessFunction(
            new Deduplicate<string, Ev>({ ttlMs: ttl, time: 'event', duplicatesTag: dupTag, counts }),
            (e: Ev) => e.key,
          );
          await h.open();
          let maxTs = Number.NEGATIVE_INFINITY;
          for (const e of arrival) {
            h.processElement(e, e.ts);
            // Bounded out-of-orderness, as WatermarkStrategy.forBoundedOutOfOrderness(bound).
            maxTs = Math.max(maxTs, e.ts);
            h.processWatermark(maxTs - bound - 1);
          }
          const ref = referenceEventTime(arrival, ttl);
          expect(h.outputValues()).toEqual(ref.passed);
          expect(h.output().map((r) => r.timestamp)).toEqual(ref.passed.map((e) => e.ts));
          expect(h.sideOutput(dupTag)).toEqual(ref.duplicates);
          expect(counts).toEqual({ passed: ref.passed.length, duplicates: ref.duplicates.length });
          await h.endInput();
          expect(h.numKeyedStateEntries()).toBe(0);
          expect(h.numEventTimeTimers()).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('forgets a key once the watermark passes its TTL, keeping state bounded', async () => {
    const h = OperatorHarness.forKeyedProcessFunction(new Deduplicate<string, Ev>({ ttlMs: 100, time: 'event' }), (e: Ev) => e.key);
    await h.open();
    h.processElement({ id: 0, key: 'e1', ts: 1_000 }, 1_000);
    h.processElement({ id: 1, key: 'e1', ts: 1_050 }, 1_050); // retry: dropped
    h.processElement({ id: 2, key: 'e1', ts: 950 }, 950); // earlier timestamp, within the TTL: dropped
    h.processElement({ id: 3, key: 'e1', ts: 1_100 }, 1_100); // 100 ms after: passes
    expect(h.outputValues().map((e) => e.id)).toEqual([0, 3]);
    expect(h.numEventTimeTimers()).toBe(2);
    h.processWatermark(1_098);
    expect(h.numEventTimeTimers()).toBe(2);
    h.processWatermark(1_099); // 1000 + 100 - 1: the first occurrence is forgotten
    expect(h.numEventTimeTimers()).toBe(1);
    h.processElement({ id: 4, key: 'e1', ts: 1_150 }, 1_150); // within the TTL of 1100
    h.processWatermark(1_199);
    expect(h.numKeyedStateEntries()).toBe(0);
    h.processElement({ id: 5, key: 'e1', ts: 1_200 }, 1_200);
    expect(h.outputValues().map((e) => e.id)).toEqual([0, 3, 5]);
  });

  it('a late record whose TTL already passed is emitted but not remembered', async () => {
    const h = OperatorHarness.forKeyedProcessFunction(new Deduplicate<string, Ev>({ ttlMs: 10, time: 'event' }), (e: Ev) => e.key);
    await h.open();
    h.processWatermark(500);
    h.processElement({ id: 0, key: 'k', ts: 100 }, 100);
    expect(h.outputValues()).toHaveLength(1);
    expect(h.numKeyedStateEntries()).toBe(0);
    expect(h.numEventTimeTimers()).toBe(0);
  });

  it('fails clearly without timestamps', async () => {
    const h = OperatorHarness.forKeyedProcessFunction(new Deduplicate<string, Ev>({ ttlMs: 10, time: 'event' }), (e: Ev) => e.key, {
      name: 'dedup',
    });
    await h.open();
    expect(() => h.processElement({ id: 0, key: 'k', ts: 1 })).toThrow(/operator 'dedup'.*needs record timestamps/);
  });

  it('rejects a bad TTL or time domain', () => {
    expect(() => new Deduplicate({ ttlMs: 0, time: 'event' })).toThrow(RangeError);
    expect(() => new Deduplicate({ ttlMs: 10, time: 'wall' as never })).toThrow(TypeError);
  });
});

describe('Deduplicate, processing time', () => {
  it('property: equals the brute-force reference; timers empty the state once the TTL passed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: keyArb, advance: fc.integer({ min: 0, max: 40 }) }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 100 }),
        async (steps, ttl) => {
          const h = OperatorHarness.forKeyedProcessFunction(
            new Deduplicate<string, Ev>({ ttlMs: ttl, time: 'processing' }),
            (e: Ev) => e.key,
            { hasTimestamps: false },
          );
          await h.open();
          let now = 0;
          const arrivals: Array<{ at: number; e: Ev }> = [];
          steps.forEach((s, id) => {
            now += s.advance;
            h.setProcessingTime(now);
            const e = { id, key: s.key, ts: now };
            arrivals.push({ at: now, e });
            h.processElement(e);
          });
          expect(h.outputValues()).toEqual(referenceProcessingTime(arrivals, ttl).passed);
          h.setProcessingTime(now + ttl);
          expect(h.numKeyedStateEntries()).toBe(0);
          expect(h.numProcessingTimeTimers()).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a record arriving exactly when the TTL ends passes, and its state outlives the old timer', async () => {
    const h = OperatorHarness.forKeyedProcessFunction(new Deduplicate<string, string>({ ttlMs: 100, time: 'processing' }), (s: string) => s, {
      hasTimestamps: false,
    });
    await h.open();
    h.processElement('x');
    h.setProcessingTime(99);
    h.processElement('x');
    expect(h.outputValues()).toEqual(['x']);
    // In a task, a timer due at 100 runs from the mailbox, so a record can see time 100 first.
    const realNow = h.clock.now.bind(h.clock);
    h.clock.now = () => 100;
    h.processElement('x');
    expect(h.outputValues()).toEqual(['x', 'x']);
    h.clock.now = realNow;
    h.setProcessingTime(100); // the first record's timer: must not drop the renewed state
    expect(h.numKeyedStateEntries()).toBe(1);
    h.setProcessingTime(150);
    h.processElement('x');
    expect(h.outputValues()).toEqual(['x', 'x']);
    h.setProcessingTime(200);
    expect(h.numKeyedStateEntries()).toBe(0);
  });
});

describe('deduplicate() in a job', () => {
  it('gives the reference result at parallelism 1 and 4, with duplicates on the side output', async () => {
    const ttl = 200;
    const bound = 50;
    const events: Ev[] = Array.from({ length: 400 }, (_, id) => ({
      id,
      key: `evt-${Math.floor(id / 4) % 60}`, // retries close together; the id recurs much later
      ts: 5 * id + ((id * 31) % 40),
    }));
    const arrival = shuffleWithinBound(events, bound, [0, 17, 3, 44, 9, 28]);
    const ref = referenceEventTime(arrival, ttl);
    for (const parallelism of [1, 4]) {
      const env = StreamEnvironment.create({ parallelism });
      const dupTag = new OutputTag<Ev>('duplicates');
      const counts: DeduplicateCounts = { passed: 0, duplicates: 0 };
      const unique = deduplicate(
        env
          .fromCollection(arrival)
          .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Ev>(bound).withTimestampAssigner((e) => e.ts))
          // One producer: each key's records reach the dedup instance in arrival order.
          .setParallelism(1),
        { key: (e) => e.key, ttlMs: ttl, time: 'event', duplicatesTag: dupTag, counts },
      ).uid('dedup');
      const dups: Ev[] = [];
      unique.getSideOutput(dupTag).sinkTo({ createWriter: () => ({ write: (e) => void dups.push(e) }) });
      const passed = await unique.executeAndCollect(`dedup-p${parallelism}`);
      const byId = (a: Ev, b: Ev): number => a.id - b.id;
      expect([...passed].sort(byId)).toEqual([...ref.passed].sort(byId));
      expect([...dups].sort(byId)).toEqual([...ref.duplicates].sort(byId));
      expect(ref.duplicates.length).toBeGreaterThan(50);
      expect(counts.passed).toBe(ref.passed.length);
    }
  });

  it('accepts a keyed stream without a key option', async () => {
    const env = StreamEnvironment.create();
    const out = await deduplicate(
      env.fromElements('a', 'b', 'a', 'c', 'b').keyBy((s) => s),
      { ttlMs: 60_000, time: 'processing' },
    ).executeAndCollect();
    expect(out).toEqual(['a', 'b', 'c']);
  });
});
