import {
  type Collector,
  type DataStream,
  type JobClient,
  type KeyedProcessContext,
  type KeyedProcessFunction,
  ManualClock,
  type OnTimerContext,
  StreamEnvironment,
  type WatermarkGenerator,
  type WatermarkOutput,
  WatermarkStrategy,
} from '@weir/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QueueSource, RecordingSink, settle, waitFor } from '../helpers.js';

class FakeOutput implements WatermarkOutput {
  readonly events: Array<number | 'idle' | 'active'> = [];
  emitWatermark(w: number): void {
    this.events.push(w);
  }
  markIdle(): void {
    this.events.push('idle');
  }
  markActive(): void {
    this.events.push('active');
  }
}

function generator<T>(s: WatermarkStrategy<T>, clock = new ManualClock(0)): WatermarkGenerator<T> {
  return s.buildGenerator({ clock });
}

describe('WatermarkStrategy generators', () => {
  it('forBoundedOutOfOrderness: watermark = max timestamp seen - bound - 1, nothing before the first event', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1e9 }), { maxLength: 50 }), fc.integer({ min: 0, max: 10_000 }), (ts, bound) => {
        const g = generator(WatermarkStrategy.forBoundedOutOfOrderness<number>(bound));
        const out = new FakeOutput();
        g.onPeriodicEmit(out);
        expect(out.events).toEqual([]);
        let max = Number.NEGATIVE_INFINITY;
        for (const t of ts) {
          g.onEvent(t, t, out);
          max = Math.max(max, t);
          out.events.length = 0;
          g.onPeriodicEmit(out);
          expect(out.events).toEqual([max - bound - 1]);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('forMonotonousTimestamps: watermark = max timestamp - 1', () => {
    const g = generator(WatermarkStrategy.forMonotonousTimestamps<number>());
    const out = new FakeOutput();
    g.onEvent(0, 10, out);
    g.onEvent(0, 20, out);
    g.onPeriodicEmit(out);
    expect(out.events).toEqual([19]);
  });

  it('noWatermarks never emits and does not assign event time', () => {
    const s = WatermarkStrategy.noWatermarks<number>();
    expect(s.assignsEventTime).toBe(false);
    const g = generator(s);
    const out = new FakeOutput();
    g.onEvent(1, 100, out);
    g.onPeriodicEmit(out);
    expect(out.events).toEqual([]);
    expect(s.withTimestampAssigner((n) => n).assignsEventTime).toBe(true);
  });

  it('withIdleness marks the output idle after the timeout without events, and active on the next event', () => {
    const clock = new ManualClock(0);
    const g = generator(WatermarkStrategy.forBoundedOutOfOrderness<number>(0).withIdleness(100), clock);
    const out = new FakeOutput();
    g.onEvent(0, 50, out);
    clock.setTime(99);
    g.onPeriodicEmit(out);
    clock.setTime(100);
    g.onPeriodicEmit(out);
    g.onPeriodicEmit(out); // already idle: nothing more
    clock.setTime(150);
    g.onEvent(0, 60, out);
    g.onPeriodicEmit(out);
    expect(out.events).toEqual([49, 'idle', 'active', 59]);
  });

  it('validates its arguments', () => {
    expect(() => WatermarkStrategy.forBoundedOutOfOrderness(-1)).toThrow(RangeError);
    expect(() => WatermarkStrategy.forMonotonousTimestamps().withIdleness(0)).toThrow(RangeError);
  });
});

interface Ev {
  key: string;
  ts: number;
  mark?: boolean;
}

/** Emits, per element, the watermark the keyed operator had when the element arrived. */
class SeenWatermark implements KeyedProcessFunction<string, Ev, number> {
  processElement(_e: Ev, ctx: KeyedProcessContext<string>, out: Collector<number>): void {
    out.collect(ctx.timerService().currentWatermark());
  }
}

/** Registers an event-time timer at each element's timestamp and reports what fired. */
class FireAtTimestamp implements KeyedProcessFunction<string, Ev, string> {
  processElement(e: Ev, ctx: KeyedProcessContext<string>): void {
    ctx.timerService().registerEventTimeTimer(e.ts);
  }
  onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<string>): void {
    out.collect(`${ctx.getCurrentKey()}@${ts}/wm=${ctx.timerService().currentWatermark()}`);
  }
}

describe('event time end to end', () => {
  it('bounded out-of-orderness from a collection: each element sees max(previous timestamps) - bound - 1', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 1_000 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 300 }),
        async (ts, bound) => {
          const env = StreamEnvironment.create();
          const seen = await env
            .fromCollection(ts.map((t) => ({ key: 'k', ts: t })))
            .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Ev>(bound).withTimestampAssigner((e) => e.ts))
            .keyBy((e) => e.key)
            .process(new SeenWatermark())
            .executeAndCollect();
          const want = ts.map((_, i) => (i === 0 ? Number.NEGATIVE_INFINITY : Math.max(...ts.slice(0, i)) - bound - 1));
          expect(seen).toEqual(want);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a custom (punctuated) generator drives event time', async () => {
    const punctuated = WatermarkStrategy.forGenerator<Ev>(() => ({
      onEvent(e, ts, out) {
        if (e.mark === true) out.emitWatermark(ts);
      },
      onPeriodicEmit() {},
    })).withTimestampAssigner((e) => e.ts);
    const env = StreamEnvironment.create();
    const evs: Ev[] = [
      { key: 'a', ts: 5 },
      { key: 'a', ts: 30 },
      { key: 'm', ts: 10, mark: true },
      { key: 'a', ts: 7 },
      { key: 'm', ts: 40, mark: true },
    ];
    const seen = await env.fromCollection(evs).assignTimestampsAndWatermarks(punctuated).keyBy((e) => e.key).process(new SeenWatermark()).executeAndCollect();
    expect(seen).toEqual([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, 10, 10]);
    const fired = await StreamEnvironment.create()
      .fromCollection(evs)
      .assignTimestampsAndWatermarks(punctuated)
      .keyBy((e) => e.key)
      .process(new FireAtTimestamp())
      .executeAndCollect();
    // at watermark 10: a@5, m@10; at 40: a@7, a@30, m@40; nothing left for +Infinity
    expect(fired).toEqual(['a@5/wm=10', 'm@10/wm=10', 'a@7/wm=40', 'a@30/wm=40', 'm@40/wm=40']);
  });

  it('noWatermarks with a timestamp assigner: event-time timers fire only at the end of input', async () => {
    const env = StreamEnvironment.create();
    const out = await env
      .fromCollection<Ev>([
        { key: 'a', ts: 2 },
        { key: 'a', ts: 1 },
      ])
      .assignTimestampsAndWatermarks(WatermarkStrategy.noWatermarks<Ev>().withTimestampAssigner((e) => e.ts))
      .keyBy((e) => e.key)
      .process(new FireAtTimestamp())
      .executeAndCollect();
    expect(out).toEqual(['a@1/wm=Infinity', 'a@2/wm=Infinity']);
  });

  it("the assigner receives the source's own record timestamp; without an assigner that timestamp is used", async () => {
    const clock = new ManualClock(0);
    const env = StreamEnvironment.create({ clock });
    const withAssigner = new QueueSource<string>('bounded', true);
    const withoutAssigner = new QueueSource<string>('bounded', true);
    const sink = new RecordingSink<string>();
    const a = env.fromSource(
      withAssigner,
      WatermarkStrategy.forMonotonousTimestamps<string>().withTimestampAssigner((v, recordTs) => (recordTs ?? 0) * 10 + v.length),
      'with',
    );
    const b = env.fromSource(withoutAssigner, WatermarkStrategy.forMonotonousTimestamps<string>(), 'without');
    a.union(b).sinkTo(sink);
    withAssigner.push('xy', 7).end();
    withoutAssigner.push('z', 3).end();
    await env.execute();
    expect(sink.records.map((r) => [r.value, r.timestamp]).sort()).toEqual([
      ['xy', 72],
      ['z', 3],
    ]);
  });

  it('a record without a timestamp fails the job with a clear error', async () => {
    const env = StreamEnvironment.create();
    const job = env.fromCollection([1, 2]).assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<number>()).executeAndCollect();
    await expect(job).rejects.toThrow(/no timestamp.*withTimestampAssigner/);
    const nan = StreamEnvironment.create()
      .fromCollection([1])
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<number>().withTimestampAssigner(() => Number.NaN))
      .executeAndCollect();
    await expect(nan).rejects.toThrow(/timestamp assigner returned NaN/);
  });
});

function watermarkOf(job: JobClient, name: string): number {
  const ws = job
    .metrics()
    .operators.filter((o) => o.name === name)
    .map((o) => o.watermark);
  return Math.min(...ws);
}

function recordsInto(job: JobClient, prefix: string): number {
  return job
    .metrics()
    .operators.filter((o) => o.name.startsWith(prefix))
    .reduce((n, o) => n + o.recordsIn, 0);
}

describe('periodic watermarks and idleness with a ManualClock', () => {
  it.each(['fromSource', 'assignTimestampsAndWatermarks'] as const)(
    'watermarks are emitted every autoWatermarkInterval of processing time (%s)',
    async (where) => {
      const clock = new ManualClock(0);
      const env = StreamEnvironment.create({ clock, autoWatermarkInterval: 50 });
      const source = new QueueSource<Ev>();
      const strategy = WatermarkStrategy.forBoundedOutOfOrderness<Ev>(10).withTimestampAssigner((e) => e.ts);
      const stream: DataStream<Ev> =
        where === 'fromSource'
          ? env.fromSource(source, strategy, 'q')
          : env.fromSource(source, WatermarkStrategy.noWatermarks<Ev>(), 'q').assignTimestampsAndWatermarks(strategy);
      stream.keyBy((e) => e.key).process(new SeenWatermark()).sinkTo(new RecordingSink());
      const job = env.executeAsync();
      try {
        source.push({ key: 'a', ts: 1_000 });
        await waitFor(() => recordsInto(job, 'KeyedProcess') === 1, 'first record');
        await settle();
        expect(watermarkOf(job, 'KeyedProcess')).toBe(Number.NEGATIVE_INFINITY); // not before the interval
        clock.advance(49);
        await settle();
        expect(watermarkOf(job, 'KeyedProcess')).toBe(Number.NEGATIVE_INFINITY);
        clock.advance(1);
        await waitFor(() => watermarkOf(job, 'KeyedProcess') === 989, 'first periodic watermark');
        source.push({ key: 'a', ts: 2_000 });
        source.push({ key: 'b', ts: 1_500 });
        await waitFor(() => recordsInto(job, 'KeyedProcess') === 3, 'more records');
        await settle();
        expect(watermarkOf(job, 'KeyedProcess')).toBe(989);
        clock.advance(50);
        await waitFor(() => watermarkOf(job, 'KeyedProcess') === 1_989, 'second periodic watermark');
      } finally {
        await job.cancel();
      }
    },
  );

  it("an idle input does not hold back a union's watermark", async () => {
    const clock = new ManualClock(0);
    const env = StreamEnvironment.create({ clock, autoWatermarkInterval: 10 });
    const busy = new QueueSource<Ev>();
    const quiet = new QueueSource<Ev>();
    const strategy = WatermarkStrategy.forBoundedOutOfOrderness<Ev>(0)
      .withTimestampAssigner((e) => e.ts)
      .withIdleness(100);
    const fired = new RecordingSink<string>();
    env
      .fromSource(busy, strategy, 'busy')
      .union(env.fromSource(quiet, strategy, 'quiet'))
      .keyBy((e) => e.key)
      .process(new FireAtTimestamp())
      .sinkTo(fired);
    const job = env.executeAsync();
    try {
      busy.push({ key: 'b', ts: 1_000 });
      quiet.push({ key: 'q', ts: 5 });
      await waitFor(() => recordsInto(job, 'KeyedProcess') === 2, 'both records');
      clock.advance(10);
      await waitFor(() => watermarkOf(job, 'KeyedProcess') === 4, 'minimum of both inputs');
      expect(fired.values).toEqual([]);
      // the busy input moves on; the quiet one holds event time back until it is idle
      let ts = 1_000;
      while (clock.now() < 90) {
        busy.push({ key: 'b', ts: (ts += 100) });
        await waitFor(() => busy.pending === 0, 'busy record read');
        clock.advance(10);
        await settle(10);
      }
      expect(watermarkOf(job, 'KeyedProcess')).toBe(4);
      expect(fired.values).toEqual([]);
      // 100 ms without events: the quiet input becomes idle and stops holding the watermark back
      for (let i = 0; i < 3; i++) {
        busy.push({ key: 'b', ts: (ts += 100) });
        await waitFor(() => busy.pending === 0, 'busy record read');
        clock.advance(10);
        await settle(10);
      }
      await waitFor(() => watermarkOf(job, 'KeyedProcess') >= ts - 100 - 1, 'watermark of the busy input alone');
      await waitFor(() => fired.values.length >= 2, 'timers fired');
      const [first, second] = fired.values.map((v) => v.split('/wm='));
      expect(first?.[0]).toBe('q@5');
      expect(second?.[0]).toBe('b@1000');
      // they fired at a watermark the busy input alone produced
      expect(Number(first?.[1])).toBeGreaterThanOrEqual(1_000);
    } finally {
      await job.cancel();
    }
  });
});
