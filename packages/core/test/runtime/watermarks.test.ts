import {
  type Collector,
  type DataStream,
  type KeyedCoProcessFunction,
  type KeyedProcessContext,
  type KeyedProcessFunction,
  type OnTimerContext,
  type RuntimeContext,
  StreamEnvironment,
  WatermarkStrategy,
} from '@weir/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WatermarkValve } from '../../src/runtime/WatermarkValve.js';

/**
 * A brute-force reference of the valve's contract: the combined watermark is the minimum over
 * the active inputs that have caught up with it (an input that comes back from idleness behind
 * the combined watermark does not pull it back), never decreasing; a watermark implies
 * activity; when every input is idle the output is idle and carries the largest watermark.
 */
class ReferenceValve {
  private readonly wm: number[];
  private readonly idle: boolean[];
  out = Number.NEGATIVE_INFINITY;
  outIdle = false;

  constructor(n: number) {
    this.wm = new Array(n).fill(Number.NEGATIVE_INFINITY);
    this.idle = new Array(n).fill(false);
  }

  watermark(i: number, w: number): number | undefined {
    this.idle[i] = false;
    if (w > (this.wm[i] as number)) this.wm[i] = w;
    return this.recompute();
  }

  status(i: number, idle: boolean): number | undefined {
    this.idle[i] = idle;
    return this.recompute();
  }

  private recompute(): number | undefined {
    const active = this.wm.map((_, i) => i).filter((i) => !this.idle[i]);
    let candidate: number;
    if (active.length === 0) {
      this.outIdle = true;
      candidate = Math.max(...this.wm);
    } else {
      this.outIdle = false;
      const caughtUp = active.filter((i) => (this.wm[i] as number) >= this.out);
      if (caughtUp.length === 0) return undefined;
      candidate = Math.min(...caughtUp.map((i) => this.wm[i] as number));
    }
    if (candidate > this.out) {
      this.out = candidate;
      return candidate;
    }
    return undefined;
  }
}

type ValveOp = { kind: 'wm'; input: number; w: number } | { kind: 'status'; input: number; idle: boolean };

const valveCase = fc.integer({ min: 1, max: 4 }).chain((n) =>
  fc.tuple(
    fc.constant(n),
    fc.array(
      fc.oneof(
        { weight: 3, arbitrary: fc.record({ kind: fc.constant('wm' as const), input: fc.nat(n - 1), w: fc.integer({ min: -5, max: 40 }) }) },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('status' as const), input: fc.nat(n - 1), idle: fc.boolean() }) },
      ),
      { maxLength: 60 },
    ),
  ),
);

function apply(valve: WatermarkValve, op: ValveOp): number | undefined {
  const w = op.kind === 'wm' ? valve.inputWatermark(op.input, op.w) : valve.inputStatus(op.input, op.idle);
  return Number.isNaN(w) ? undefined : w;
}

describe('WatermarkValve', () => {
  it('matches the brute-force reference under any sequence of watermarks and idle/active flips', () => {
    fc.assert(
      fc.property(valveCase, ([n, ops]) => {
        const valve = new WatermarkValve(n);
        const ref = new ReferenceValve(n);
        let last = Number.NEGATIVE_INFINITY;
        for (const op of ops) {
          const got = apply(valve, op);
          const want = op.kind === 'wm' ? ref.watermark(op.input, op.w) : ref.status(op.input, op.idle);
          expect(got).toBe(want);
          if (got !== undefined) {
            // monotonic: every emitted watermark is larger than the previous one
            expect(got).toBeGreaterThan(last);
            last = got;
          }
          expect(valve.current).toBe(ref.out);
          expect(valve.isIdle).toBe(ref.outIdle);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('emits the minimum over its inputs', () => {
    const v = new WatermarkValve(3);
    expect(v.inputWatermark(0, 10)).toBeNaN();
    expect(v.inputWatermark(1, 5)).toBeNaN();
    expect(v.inputWatermark(2, 7)).toBe(5);
    expect(v.inputWatermark(1, 20)).toBe(7);
    expect(v.inputWatermark(2, 30)).toBe(10);
    expect(v.inputWatermark(0, 9)).toBeNaN(); // not larger than input 0's own watermark
    expect(v.current).toBe(10);
  });

  it('does not let an idle input hold the watermark back, nor pull it back when it returns', () => {
    const v = new WatermarkValve(2);
    v.inputWatermark(0, 100);
    v.inputWatermark(1, 3);
    expect(v.current).toBe(3);
    expect(v.inputStatus(1, true)).toBe(100);
    expect(v.isIdle).toBe(false);
    expect(v.inputStatus(1, false)).toBeNaN();
    // input 1 is behind: it must not pull the combined watermark back to 3 or hold it
    expect(v.inputWatermark(1, 50)).toBeNaN();
    expect(v.inputWatermark(0, 200)).toBe(200);
    expect(v.inputWatermark(1, 150)).toBeNaN();
    // once caught up, input 1 takes part in the minimum again and holds it back
    expect(v.inputWatermark(1, 250)).toBeNaN();
    expect(v.inputWatermark(0, 300)).toBe(250);
    expect(v.current).toBe(250);
  });

  it('is idle when every input is idle and then carries the largest watermark', () => {
    const v = new WatermarkValve(2);
    v.inputWatermark(0, 8);
    v.inputWatermark(1, 4);
    expect(v.inputStatus(0, true)).toBeNaN(); // input 1 (at 4) still holds it
    expect(v.isIdle).toBe(false);
    expect(v.inputStatus(1, true)).toBe(8);
    expect(v.isIdle).toBe(true);
    expect(v.inputStatus(0, false)).toBeNaN();
    expect(v.isIdle).toBe(false);
  });

  it('treats a watermark on an idle input as activity, even when it does not advance', () => {
    const v = new WatermarkValve(2);
    v.inputWatermark(0, 30);
    v.inputStatus(0, true);
    v.inputWatermark(1, 20);
    expect(v.current).toBe(20);
    // input 0 repeats its watermark (30 >= 20): it is active and caught up again ...
    expect(v.inputWatermark(0, 30)).toBeNaN();
    // ... so it holds the combined watermark at 30 when input 1 moves on
    expect(v.inputWatermark(1, 40)).toBe(30);
    const all = new WatermarkValve(1);
    all.inputWatermark(0, 5);
    all.inputStatus(0, true);
    expect(all.isIdle).toBe(true);
    all.inputWatermark(0, 5);
    expect(all.isIdle).toBe(false);
  });
});

interface Ev {
  key: string;
  ts: number;
  src: number;
}

type Seen =
  | { kind: 'element'; key: string; ts: number; wm: number; subtask: number }
  | { kind: 'timer'; key: string; ts: number; wm: number; subtask: number; domain: string; stamp: number | null };

/** Records the watermark each element and timer sees, and registers a timer per element. */
class WatermarkProbe implements KeyedProcessFunction<string, Ev, Seen> {
  private subtask = -1;

  open(ctx: RuntimeContext): void {
    this.subtask = ctx.taskInfo.subtaskIndex;
  }

  processElement(e: Ev, ctx: KeyedProcessContext<string>, out: Collector<Seen>): void {
    const wm = ctx.timerService().currentWatermark();
    out.collect({ kind: 'element', key: ctx.getCurrentKey(), ts: e.ts, wm, subtask: this.subtask });
    ctx.timerService().registerEventTimeTimer(e.ts);
  }

  onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<Seen>): void {
    out.collect({
      kind: 'timer',
      key: ctx.getCurrentKey(),
      ts,
      wm: ctx.timerService().currentWatermark(),
      subtask: this.subtask,
      domain: ctx.timeDomain(),
      stamp: ctx.timestamp(),
    });
  }
}

const monotonicSource = fc
  .array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), fc.integer({ min: 0, max: 50 })), { maxLength: 40 })
  .map((xs) => {
    let t = 0;
    return xs.map(([key, dt]) => ({ key, ts: (t += dt) }));
  });

describe('watermarks end to end', () => {
  it('a union of sources carries the minimum watermark: monotonic sources never produce late records', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(monotonicSource, { minLength: 2, maxLength: 3 }),
        fc.integer({ min: 1, max: 4 }),
        async (sources, p) => {
          const env = StreamEnvironment.create({ parallelism: p, batchSize: 3, channelCapacity: 2 });
          const streams: Array<DataStream<Ev>> = sources.map((evs, src) =>
            env
              .fromCollection<Ev>(evs.map((e) => ({ ...e, src })))
              .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner((e) => e.ts)),
          );
          const [first, ...rest] = streams as [DataStream<Ev>, ...Array<DataStream<Ev>>];
          const out = await first
            .union(...rest)
            .keyBy((e) => e.key)
            .process(new WatermarkProbe())
            .executeAndCollect();

          const elements = out.filter((s) => s.kind === 'element');
          const timers = out.filter((s) => s.kind === 'timer');
          expect(elements).toHaveLength(sources.reduce((n, s) => n + s.length, 0));
          // no element arrives behind the watermark: the union waits for the slowest source
          for (const e of elements) expect(e.ts).toBeGreaterThan(e.wm);
          // each subtask sees a non-decreasing watermark
          const lastWm = new Map<number, number>();
          for (const s of out) {
            const prev = lastWm.get(s.subtask) ?? Number.NEGATIVE_INFINITY;
            expect(s.wm).toBeGreaterThanOrEqual(prev);
            lastWm.set(s.subtask, s.wm);
          }
          // every (key, ts) timer fires exactly once, at a watermark that reached it
          const expected = new Set(elements.map((e) => `${e.key}@${e.ts}`));
          expect(timers.map((t) => `${t.key}@${t.ts}`).sort()).toEqual([...expected].sort());
          for (const t of timers) {
            expect(t.wm).toBeGreaterThanOrEqual(t.ts);
            expect(t.domain).toBe('event-time');
            expect(t.stamp).toBe(t.ts);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a two-input operator takes the minimum of its inputs: connected monotonic streams never produce late records', async () => {
    class Probe implements KeyedCoProcessFunction<string, Ev, Ev, Seen> {
      private subtask = -1;
      open(ctx: RuntimeContext): void {
        this.subtask = ctx.taskInfo.subtaskIndex;
      }
      private seen(e: Ev, ctx: KeyedProcessContext<string>, out: Collector<Seen>): void {
        out.collect({ kind: 'element', key: ctx.getCurrentKey(), ts: e.ts, wm: ctx.timerService().currentWatermark(), subtask: this.subtask });
      }
      processElement1(e: Ev, ctx: KeyedProcessContext<string>, out: Collector<Seen>): void {
        this.seen(e, ctx, out);
      }
      processElement2(e: Ev, ctx: KeyedProcessContext<string>, out: Collector<Seen>): void {
        this.seen(e, ctx, out);
      }
    }
    await fc.assert(
      fc.asyncProperty(monotonicSource, monotonicSource, fc.integer({ min: 1, max: 3 }), async (left, right, p) => {
        const env = StreamEnvironment.create({ parallelism: p, batchSize: 2 });
        const strategy = WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner((e) => e.ts);
        const a = env.fromCollection<Ev>(left.map((e) => ({ ...e, src: 0 }))).assignTimestampsAndWatermarks(strategy).setParallelism(1);
        const b = env.fromCollection<Ev>(right.map((e) => ({ ...e, src: 1 }))).assignTimestampsAndWatermarks(strategy).setParallelism(1);
        const out = await a
          .keyBy((e) => e.key)
          .connect(b.keyBy((e) => e.key))
          .process(new Probe())
          .executeAndCollect();
        expect(out).toHaveLength(left.length + right.length);
        for (const s of out) expect(s.ts).toBeGreaterThan(s.wm);
      }),
      { numRuns: 40 },
    );
  });

  it('timers of one subtask fire in timestamp order', async () => {
    const env = StreamEnvironment.create({ parallelism: 2 });
    const evs: Ev[] = Array.from({ length: 300 }, (_, i) => ({ key: `k${i % 11}`, ts: (i * 7919) % 1000, src: 0 }));
    const out = await env
      .fromCollection(evs)
      .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Ev>(1000).withTimestampAssigner((e) => e.ts))
      .keyBy((e) => e.key)
      .process(new WatermarkProbe())
      .executeAndCollect();
    const timers = out.filter((s) => s.kind === 'timer');
    for (const subtask of [0, 1]) {
      const ts = timers.filter((t) => t.subtask === subtask).map((t) => t.ts);
      expect(ts).toEqual([...ts].sort((a, b) => a - b));
    }
    expect(timers).toHaveLength(new Set(evs.map((e) => `${e.key}@${e.ts}`)).size);
  });

  it('the end of a bounded input is a watermark of +Infinity that fires every event-time timer, then finish', async () => {
    const env = StreamEnvironment.create({ parallelism: 3 });
    class FarFuture implements KeyedProcessFunction<string, Ev, string> {
      processElement(e: Ev, ctx: KeyedProcessContext<string>): void {
        // far beyond any watermark the data itself produces
        ctx.timerService().registerEventTimeTimer(e.ts + 1e12);
      }
      onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<string>): void {
        out.collect(`${ctx.getCurrentKey()}:${ts}:${ctx.timerService().currentWatermark()}`);
      }
      finish(out: Collector<string>): void {
        out.collect('finish');
      }
    }
    const evs: Ev[] = [
      { key: 'a', ts: 1, src: 0 },
      { key: 'b', ts: 2, src: 0 },
      { key: 'a', ts: 3, src: 0 },
    ];
    const out = await env
      .fromCollection(evs)
      .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Ev>(0).withTimestampAssigner((e) => e.ts))
      .keyBy((e) => e.key)
      .process(new FarFuture())
      .setParallelism(1)
      .executeAndCollect();
    expect(out).toEqual([`a:${1 + 1e12}:Infinity`, `b:${2 + 1e12}:Infinity`, `a:${3 + 1e12}:Infinity`, 'finish']);
  });
});
