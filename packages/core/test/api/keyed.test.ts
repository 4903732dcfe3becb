import {
  type AggregateFunction,
  type AggregatingState,
  AggregatingStateDescriptor,
  type Collector,
  type KeyedCoProcessFunction,
  type KeyedProcessContext,
  type KeyedProcessFunction,
  type ListState,
  ListStateDescriptor,
  type MapState,
  MapStateDescriptor,
  type OnTimerContext,
  type ReducingState,
  ReducingStateDescriptor,
  type RuntimeContext,
  StreamEnvironment,
  type ValueState,
  ValueStateDescriptor,
  WatermarkStrategy,
} from '@weir/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sortedJson } from '../helpers.js';

interface Ev {
  user: string;
  v: number;
  ts: number;
}

const eventsArb = fc.array(
  fc.record({
    user: fc.constantFrom('ann', 'bob', 'cid', 'dee', 'eve', 'fay', 'gus', 'hal', 'ivy'),
    v: fc.integer({ min: -20, max: 20 }),
    ts: fc.integer({ min: 0, max: 500 }),
  }),
  { maxLength: 120 },
);

const maxAgg: AggregateFunction<number, { max: number | null }, number | null> = {
  createAccumulator: () => ({ max: null }),
  add: (v, acc) => ({ max: acc.max === null ? v : Math.max(acc.max, v) }),
  getResult: (acc) => acc.max,
  merge: (a, b) => ({ max: a.max === null ? b.max : b.max === null ? a.max : Math.max(a.max, b.max) }),
};

/** Uses every kind of keyed state; emits a running summary per element and a final one per key. */
class Summarize implements KeyedProcessFunction<string, Ev, string> {
  private count!: ValueState<number>;
  private recent!: ListState<number>;
  private perValue!: MapState<number, number>;
  private sum!: ReducingState<number>;
  private max!: AggregatingState<number, number | null>;

  open(ctx: RuntimeContext): void {
    this.count = ctx.getState(new ValueStateDescriptor<number>('count'));
    this.recent = ctx.getListState(new ListStateDescriptor<number>('recent'));
    this.perValue = ctx.getMapState(new MapStateDescriptor<number, number>('perValue'));
    this.sum = ctx.getReducingState(new ReducingStateDescriptor<number>('sum', (a, b) => a + b));
    this.max = ctx.getAggregatingState(new AggregatingStateDescriptor('max', maxAgg));
  }

  processElement(e: Ev, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
    const n = (this.count.value() ?? 0) + 1;
    this.count.update(n);
    const recent = [...this.recent.get(), e.v].slice(-3);
    this.recent.update(recent);
    this.perValue.put(e.v, (this.perValue.get(e.v) ?? 0) + 1);
    this.sum.add(e.v);
    this.max.add(e.v);
    out.collect(`${ctx.getCurrentKey()}#${n} sum=${this.sum.get()} recent=${recent.join(',')}`);
    ctx.timerService().registerEventTimeTimer(e.ts + 1_000);
  }

  onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<string>): void {
    out.collect(
      `${ctx.getCurrentKey()}@${ts} count=${this.count.value()} max=${this.max.get()} distinct=${this.perValue.keys().length}`,
    );
  }
}

async function runKeyed(events: readonly Ev[], p: number): Promise<{ reduced: Ev[]; summaries: string[] }> {
  const env = StreamEnvironment.create({ parallelism: p, batchSize: 5 });
  const stream = env
    .fromCollection(events)
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Ev>(50).withTimestampAssigner((e) => e.ts))
    // chained to the (non-parallel) source: a rebalance before keyBy would reorder each key's records
    .setParallelism(1);
  const reducedSink: Ev[] = [];
  stream
    .keyBy((e) => e.user)
    .reduce((a, b) => ({ user: a.user, v: a.v + b.v, ts: Math.max(a.ts, b.ts) }))
    .sinkTo({ createWriter: () => ({ write: (e) => void reducedSink.push(e) }) });
  const summaries = await stream.keyBy((e) => e.user).process(new Summarize()).executeAndCollect();
  return { reduced: reducedSink, summaries };
}

function perKey(evs: readonly Ev[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const e of evs) {
    const list = m.get(e.user) ?? [];
    list.push(e.v);
    m.set(e.user, list);
  }
  return m;
}

describe('keyed streams', () => {
  it('results are identical at parallelism 1 and 4 (keyed reduce and a stateful KeyedProcessFunction)', async () => {
    await fc.assert(
      fc.asyncProperty(eventsArb, async (events) => {
        const one = await runKeyed(events, 1);
        const four = await runKeyed(events, 4);
        expect(sortedJson(four.reduced)).toEqual(sortedJson(one.reduced));
        expect([...four.summaries].sort()).toEqual([...one.summaries].sort());
        // the reduce emits every intermediate result, in arrival order per key
        expect(perKey(four.reduced)).toEqual(perKey(one.reduced));
        const running = new Map<string, number>();
        const want = events.map((e) => {
          const s = (running.get(e.user) ?? 0) + e.v;
          running.set(e.user, s);
          return { user: e.user, v: s };
        });
        expect(perKey(four.reduced)).toEqual(perKey(want as Ev[]));
        // one summary per element plus one per distinct (key, ts + 1000) timer
        const timers = new Set(events.map((e) => `${e.user}@${e.ts + 1_000}`));
        expect(four.summaries).toHaveLength(events.length + timers.size);
      }),
      { numRuns: 40 },
    );
  });

  it('keyBy accepts a field name', async () => {
    const env = StreamEnvironment.create({ parallelism: 2 });
    const out = await env
      .fromElements<Ev>({ user: 'a', v: 1, ts: 0 }, { user: 'b', v: 2, ts: 0 }, { user: 'a', v: 3, ts: 0 })
      .keyBy('user')
      .reduce((x, y) => ({ user: x.user, v: x.v + y.v, ts: y.ts }))
      .executeAndCollect();
    expect(perKey(out)).toEqual(
      new Map([
        ['a', [1, 4]],
        ['b', [2]],
      ]),
    );
  });

  it('plain-object functions get one copy per parallel instance: fields set in open() are not shared', async () => {
    const env = StreamEnvironment.create({ parallelism: 4 });
    interface Counting extends KeyedProcessFunction<number, number, [number, number]> {
      seen: number;
      subtask: number;
    }
    const fn: Counting = {
      seen: -1,
      subtask: -1,
      open(ctx) {
        this.seen = 0;
        this.subtask = ctx.taskInfo.subtaskIndex;
      },
      processElement() {
        this.seen++;
      },
      finish(out) {
        out.collect([this.subtask, this.seen]);
      },
    };
    const out = await env
      .fromSequence(1, 400)
      .keyBy((n) => n % 50)
      .process(fn)
      .executeAndCollect();
    expect(out.map(([s]) => s).sort()).toEqual([0, 1, 2, 3]);
    expect(out.reduce((n, [, c]) => n + c, 0)).toBe(400);
    // the original object was never mutated
    expect(fn.seen).toBe(-1);
    expect(fn.subtask).toBe(-1);
  });

  it('keyed connect: a KeyedCoProcessFunction shares state and timers between both inputs', async () => {
    interface Rule {
      user: string;
      factor: number;
      ts: number;
    }
    class Scale implements KeyedCoProcessFunction<string, Rule, Ev, string> {
      private factor!: ValueState<number>;
      private sum!: ReducingState<number>;
      open(ctx: RuntimeContext): void {
        this.factor = ctx.getState(new ValueStateDescriptor<number>('factor'));
        this.sum = ctx.getReducingState(new ReducingStateDescriptor<number>('sum', (a, b) => a + b));
      }
      processElement1(r: Rule, ctx: KeyedProcessContext<string>): void {
        expect(ctx.getCurrentKey()).toBe(r.user);
        this.factor.update(r.factor);
        ctx.timerService().registerEventTimeTimer(10_000);
      }
      processElement2(e: Ev, ctx: KeyedProcessContext<string>): void {
        expect(ctx.getCurrentKey()).toBe(e.user);
        this.sum.add(e.v);
        ctx.timerService().registerEventTimeTimer(10_000); // the same timer from the other input: fires once
      }
      onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<string>): void {
        out.collect(`${ctx.getCurrentKey()}@${ts}=${(this.factor.value() ?? 1) * (this.sum.get() ?? 0)}`);
      }
    }
    const env = StreamEnvironment.create({ parallelism: 3 });
    const rules = env
      .fromCollection<Rule>([
        { user: 'a', factor: 10, ts: 1 },
        { user: 'b', factor: 100, ts: 1 },
      ])
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Rule>().withTimestampAssigner((r) => r.ts));
    const data = env
      .fromCollection<Ev>([
        { user: 'a', v: 1, ts: 1 },
        { user: 'b', v: 2, ts: 2 },
        { user: 'a', v: 3, ts: 3 },
        { user: 'c', v: 4, ts: 4 },
      ])
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner((e) => e.ts));
    const out = await rules
      .keyBy((r) => r.user)
      .connect(data.keyBy((e) => e.user))
      .process(new Scale())
      .executeAndCollect();
    expect(out.sort()).toEqual(['a@10000=40', 'b@10000=200', 'c@10000=4']);
  });

  it('connect(...).keyBy(k1, k2) keys both inputs', async () => {
    const env = StreamEnvironment.create({ parallelism: 2 });
    class Join implements KeyedCoProcessFunction<number, number, string, string> {
      private names!: ListState<string>;
      open(ctx: RuntimeContext): void {
        this.names = ctx.getListState(new ListStateDescriptor<string>('names'));
      }
      processElement1(_n: number, ctx: KeyedProcessContext<number>): void {
        ctx.timerService().registerEventTimeTimer(0);
      }
      processElement2(s: string): void {
        this.names.add(s);
      }
      onTimer(_ts: number, ctx: OnTimerContext<number>, out: Collector<string>): void {
        out.collect(`${ctx.getCurrentKey()}:${this.names.get().sort().join('+')}`);
      }
    }
    const at0 = <T>() => WatermarkStrategy.noWatermarks<T>().withTimestampAssigner(() => 0);
    const out = await env
      .fromElements(1, 2, 3)
      .assignTimestampsAndWatermarks(at0<number>())
      .connect(env.fromElements('x1', 'z2', 'y2', 'w4').assignTimestampsAndWatermarks(at0<string>()))
      .keyBy(
        (n) => n,
        (s) => Number(s.slice(1)),
      )
      .process(new Join())
      .executeAndCollect();
    expect(out.sort()).toEqual(['1:x1', '2:y2+z2', '3:']);
  });
});
