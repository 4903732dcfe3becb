import {
  type Collector,
  type JobClient,
  type KeyedProcessContext,
  type KeyedProcessFunction,
  type KeyType,
  ManualClock,
  type OnTimerContext,
  StreamEnvironment,
  WatermarkStrategy,
} from '@weir/core';
import { OperatorHarness } from '@weir/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TimerHeap } from '../../src/runtime/TimerHeap.js';
import { QueueSource, RecordingSink, settle, waitFor } from '../helpers.js';

type Ns = string | number;
type HeapOp =
  | { kind: 'add'; ts: number; key: KeyType; ns: Ns }
  | { kind: 'delete'; ts: number; key: KeyType; ns: Ns }
  | { kind: 'poll' };

interface RefTimer {
  ts: number;
  key: KeyType;
  ns: Ns;
  seq: number;
}

const same = (a: { ts: number; key: KeyType; ns: Ns }, b: { ts: number; key: KeyType; ns: Ns }): boolean =>
  a.ts === b.ts && a.key === b.key && a.ns === b.ns; // === keeps 1 and '1' apart, as the heap must

/** The brute-force reference: a list scanned for the minimum (timestamp, registration order). */
class ReferenceTimers {
  private timers: RefTimer[] = [];
  private seq = 0;

  add(ts: number, key: KeyType, ns: Ns): boolean {
    if (this.timers.some((t) => same(t, { ts, key, ns }))) return false;
    this.timers.push({ ts, key, ns, seq: this.seq++ });
    return true;
  }

  delete(ts: number, key: KeyType, ns: Ns): boolean {
    const before = this.timers.length;
    this.timers = this.timers.filter((t) => !same(t, { ts, key, ns }));
    return this.timers.length !== before;
  }

  min(): RefTimer | undefined {
    let best: RefTimer | undefined;
    for (const t of this.timers) if (best === undefined || t.ts < best.ts || (t.ts === best.ts && t.seq < best.seq)) best = t;
    return best;
  }

  poll(): RefTimer | undefined {
    const best = this.min();
    if (best !== undefined) this.timers = this.timers.filter((t) => t !== best);
    return best;
  }

  get size(): number {
    return this.timers.length;
  }
}

const keyArb: fc.Arbitrary<KeyType> = fc.constantFrom<KeyType>('a', 'b', '1', 1, 2, true);
const nsArb: fc.Arbitrary<Ns> = fc.constantFrom<Ns>('', 'w', 1, '1');
const heapOps: fc.Arbitrary<HeapOp[]> = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('add' as const), ts: fc.integer({ min: 0, max: 20 }), key: keyArb, ns: nsArb }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), ts: fc.integer({ min: 0, max: 20 }), key: keyArb, ns: nsArb }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('poll' as const) }) },
  ),
  { maxLength: 150 },
);

describe('TimerHeap', () => {
  it('behaves like the brute-force reference: deduplicated, deletable, polled in (timestamp, registration) order', () => {
    fc.assert(
      fc.property(heapOps, (ops) => {
        const heap = new TimerHeap();
        const ref = new ReferenceTimers();
        for (const op of ops) {
          if (op.kind === 'add') expect(heap.add(op.ts, op.key, 0, op.ns)).toBe(ref.add(op.ts, op.key, op.ns));
          else if (op.kind === 'delete') expect(heap.delete(op.ts, op.key, op.ns)).toBe(ref.delete(op.ts, op.key, op.ns));
          else {
            const got = heap.poll();
            const want = ref.poll();
            expect(got === undefined ? undefined : { ts: got.timestamp, key: got.key, ns: got.namespace }).toEqual(
              want === undefined ? undefined : { ts: want.ts, key: want.key, ns: want.ns },
            );
          }
          expect(heap.size).toBe(ref.size);
          const top = heap.peek();
          const min = ref.min();
          expect(top === undefined ? undefined : [top.timestamp, top.key, top.namespace]).toEqual(
            min === undefined ? undefined : [min.ts, min.key, min.ns],
          );
        }
        // draining yields a sorted sequence
        const drained: number[] = [];
        for (let t = heap.poll(); t !== undefined; t = heap.poll()) drained.push(t.timestamp);
        expect(drained).toEqual([...drained].sort((a, b) => a - b));
        expect(heap.size).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});

type Cmd = { kind: 'register' | 'delete'; key: string; t: number } | { kind: 'advance'; to: number };
type Domain = 'event-time' | 'processing-time';

interface Fired {
  key: string;
  ts: number;
  domain: string;
  stamp: number | null;
}

/** Registers or deletes timers as told; a fired timer at a multiple of 5 registers another 3 ms later. */
class TimerDriver implements KeyedProcessFunction<string, Cmd & { key: string }, Fired> {
  constructor(private readonly domain: Domain) {}

  processElement(c: Cmd & { key: string }, ctx: KeyedProcessContext<string>): void {
    if (c.kind === 'advance') return;
    const ts = ctx.timerService();
    if (this.domain === 'event-time') {
      if (c.kind === 'register') ts.registerEventTimeTimer(c.t);
      else ts.deleteEventTimeTimer(c.t);
    } else if (c.kind === 'register') ts.registerProcessingTimeTimer(c.t);
    else ts.deleteProcessingTimeTimer(c.t);
  }

  onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<Fired>): void {
    out.collect({ key: ctx.getCurrentKey(), ts, domain: ctx.timeDomain(), stamp: ctx.timestamp() });
    if (ts % 5 === 0 && ts < 60) {
      if (this.domain === 'event-time') ctx.timerService().registerEventTimeTimer(ts + 3);
      else ctx.timerService().registerProcessingTimeTimer(ts + 3);
    }
  }
}

const cmdsArb = fc
  .array(
    fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('register' as const), key: fc.constantFrom('x', 'y', 'z'), t: fc.integer({ min: 0, max: 80 }) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: fc.constantFrom('x', 'y', 'z'), t: fc.integer({ min: 0, max: 80 }) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), step: fc.integer({ min: 0, max: 25 }) }) },
    ),
    { maxLength: 60 },
  )
  .map((xs) => {
    let now = 0;
    return xs.map((x): Cmd => (x.kind === 'advance' ? { kind: 'advance', to: (now += x.step) } : x));
  });

/** What the harness must produce: the reference timers, fired on each advance. */
function expectedFirings(cmds: readonly Cmd[], domain: Domain): Fired[] {
  const ref = new ReferenceTimers();
  const fired: Fired[] = [];
  const fireUpTo = (limit: number): void => {
    for (let t = ref.min(); t !== undefined && t.ts <= limit; t = ref.min()) {
      ref.poll();
      fired.push({ key: t.key as string, ts: t.ts, domain, stamp: domain === 'event-time' ? t.ts : null });
      if (t.ts % 5 === 0 && t.ts < 60) {
        ref.add(t.ts + 3, t.key, '');
      }
    }
  };
  for (const c of cmds) {
    if (c.kind === 'advance') fireUpTo(c.to);
    // a timer at or before the current time fires at the next advance (as in Flink's harness)
    else if (c.kind === 'register') ref.add(c.t, c.key, '');
    else ref.delete(c.t, c.key, '');
  }
  return fired;
}

describe('timers through the harness', () => {
  it.each<Domain>(['event-time', 'processing-time'])(
    '%s timers fire exactly once, in timestamp order, deduplicated per key and timestamp, and can be deleted',
    (domain) => {
      return fc.assert(
        fc.asyncProperty(cmdsArb, async (cmds) => {
          const h = OperatorHarness.forKeyedProcessFunction(new TimerDriver(domain), (c: Cmd & { key: string }) => c.key);
          await h.open();
          // finally drain everything
          const all: Cmd[] = [...cmds, { kind: 'advance', to: 1_000 }];
          for (const c of all) {
            if (c.kind === 'advance') {
              if (domain === 'event-time') h.processWatermark(c.to);
              else h.setProcessingTime(c.to);
            } else h.processElement({ ...c }, 0);
          }
          expect(h.outputValues()).toEqual(expectedFirings(all, domain));
          expect(h.numEventTimeTimers()).toBe(0);
          expect(h.numProcessingTimeTimers()).toBe(0);
          expect(h.pendingTimers()).toEqual([]);
        }),
        { numRuns: 150 },
      );
    },
  );

  it('timers are scoped to their key, and event- and processing-time timers are separate', async () => {
    const h = OperatorHarness.forKeyedProcessFunction(new TimerDriver('event-time'), (c: Cmd & { key: string }) => c.key);
    await h.open();
    h.processElement({ kind: 'register', key: 'x', t: 11 });
    h.processElement({ kind: 'register', key: 'y', t: 11 });
    h.processElement({ kind: 'register', key: 'x', t: 11 }); // duplicate
    h.processElement({ kind: 'delete', key: 'y', t: 12 }); // not registered: ignored
    expect(h.numEventTimeTimers()).toBe(2);
    expect(h.numProcessingTimeTimers()).toBe(0);
    h.processElement({ kind: 'delete', key: 'x', t: 11 });
    expect(h.pendingTimers().map((t) => [t.key, t.timestamp])).toEqual([['y', 11]]);
    h.processWatermark(10);
    expect(h.outputValues()).toEqual([]);
    h.processWatermark(11);
    expect(h.output()).toEqual([{ value: { key: 'y', ts: 11, domain: 'event-time', stamp: 11 }, timestamp: 11 }]);
    expect(h.numEventTimeTimers()).toBe(0);
  });

  it('processing-time timers fire from the clock, with no timestamp on their output', async () => {
    const clock = new ManualClock(1_000);
    const h = OperatorHarness.forKeyedProcessFunction(new TimerDriver('processing-time'), (c: Cmd & { key: string }) => c.key, { clock });
    await h.open();
    h.processElement({ kind: 'register', key: 'x', t: 1_100 });
    h.processElement({ kind: 'register', key: 'y', t: 1_050 });
    h.processWatermark(5_000); // event time does not fire processing-time timers
    expect(h.outputValues()).toEqual([]);
    clock.advance(49);
    expect(h.outputValues()).toEqual([]);
    clock.advance(1);
    expect(h.output()).toEqual([{ value: { key: 'y', ts: 1_050, domain: 'processing-time', stamp: null }, timestamp: null }]);
    h.setProcessingTime(2_000);
    expect(h.outputValues().map((f) => f.key)).toEqual(['y', 'x']);
    expect(h.numProcessingTimeTimers()).toBe(0);
  });
});

describe('timers in a running job', () => {
  it('processing-time timers fire when the job clock (a ManualClock) reaches them', async () => {
    const clock = new ManualClock(0);
    const env = StreamEnvironment.create({ parallelism: 2, clock });
    const source = new QueueSource<{ key: string }>();
    const sink = new RecordingSink<string>();
    class Reminder implements KeyedProcessFunction<string, { key: string }, string> {
      processElement(_e: { key: string }, ctx: KeyedProcessContext<string>): void {
        const now = ctx.timerService().currentProcessingTime();
        ctx.timerService().registerProcessingTimeTimer(now + 100);
        ctx.timerService().registerProcessingTimeTimer(now + 100); // once only
      }
      onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<string>): void {
        out.collect(`${ctx.getCurrentKey()}@${ts}:${ctx.timeDomain()}`);
      }
    }
    env.fromSource(source, WatermarkStrategy.noWatermarks(), 'queue').keyBy((e) => e.key).process(new Reminder()).sinkTo(sink);
    const job = env.executeAsync('reminders');
    try {
      source.push({ key: 'a' }).push({ key: 'b' });
      await waitFor(() => keyedRecordsIn(job) === 2, 'records processed');
      expect(sink.values).toEqual([]);
      clock.advance(99);
      await settle();
      expect(sink.values).toEqual([]);
      clock.advance(1);
      await waitFor(() => sink.values.length === 2, 'timers fired');
      expect([...sink.values].sort()).toEqual(['a@100:processing-time', 'b@100:processing-time']);
      expect(sink.records.every((r) => r.timestamp === null)).toBe(true);
    } finally {
      await job.cancel();
    }
    expect((await job.done).status).toBe('cancelled');
  });
});

function keyedRecordsIn(job: JobClient): number {
  return job
    .metrics()
    .tasks.filter((t) => t.name.startsWith('KeyedProcess'))
    .reduce((n, t) => n + t.recordsIn, 0);
}
