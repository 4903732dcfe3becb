/**
 * Every code snippet of the root README.md, run as written, with its claimed output asserted.
 * When a snippet changes in the README, change it here too (and the other way round): the
 * sections below follow the README's headings.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfluentAvroSerde,
  type DeadLetter,
  deadLetterFileSink,
  DeserializeFunction,
  EmbeddedSchemaRegistry,
  FileSink,
  FileSource,
  IncompatibleSchemaError,
  type MalformedRecord,
} from '@weir/connectors';
import {
  AggregatingStateDescriptor,
  type AggregatingState,
  AsyncDataStream,
  CheckpointStorage,
  CollectSink,
  type Collector,
  InvalidPipelineError,
  jsonSerde,
  type KeyedBroadcastContext,
  type KeyedBroadcastOnTimerContext,
  type KeyedBroadcastProcessFunction,
  type KeyedBroadcastReadOnlyContext,
  type KeyedProcessContext,
  type KeyedProcessFunction,
  keyGroupFor,
  keyGroupRangeFor,
  LevelStateBackend,
  type ListState,
  ListStateDescriptor,
  ManualClock,
  type MapState,
  MapStateDescriptor,
  type OnTimerContext,
  OutputTag,
  type ProcessFunction,
  type ProcessWindowContext,
  type ProcessWindowFunction,
  type RuntimeContext,
  StreamEnvironment,
  subtaskForKeyGroup,
  TimeWindow,
  type TwoPhaseCommittingSink,
  UserFunctionError,
  type ValueState,
  ValueStateDescriptor,
  WatermarkStrategy,
} from '@weir/core';
import { OperatorHarness, TriggerTestHarness } from '@weir/core/testing';
import {
  approxDistinctCount,
  approxQuantiles,
  avg,
  CountTrigger,
  count,
  deduplicate,
  distinctCount,
  EventTimeSessionWindows,
  EventTimeTrigger,
  GlobalWindows,
  PurgingTrigger,
  SlidingEventTimeWindows,
  sum,
  TumblingEventTimeWindows,
  temporalJoin,
  topN,
} from '@weir/operators';
import { describe, expect, it } from 'vitest';

// ---- shared by several sections (README: "Timers") ----

interface Play {
  readonly content: string;
  readonly ts: number;
}

/** Counts plays per content and second of event time; emits each count once the second is over. */
class PlaysPerSecond implements KeyedProcessFunction<string, Play, string> {
  private counts!: MapState<number, number>;

  open(ctx: RuntimeContext): void {
    this.counts = ctx.getMapState(new MapStateDescriptor<number, number>('counts'));
  }

  processElement(p: Play, ctx: KeyedProcessContext<string>, _out: Collector<string>): void {
    const second = p.ts - (p.ts % 1_000);
    this.counts.put(second, (this.counts.get(second) ?? 0) + 1);
    // One registration per play, one timer per (content, second): timers are deduplicated.
    ctx.timerService().registerEventTimeTimer(second + 999);
  }

  onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<string>): void {
    const second = ts - 999;
    out.collect(`${ctx.getCurrentKey()}@${second}: ${this.counts.get(second)}`);
    this.counts.remove(second);
  }
}

/** Counts records per key in a ValueState (README: "Keys and key groups", "Functions"). */
class CountPerKey implements KeyedProcessFunction<string, string, number> {
  private count!: ValueState<number>;

  open(ctx: RuntimeContext): void {
    this.count = ctx.getState(new ValueStateDescriptor<number>('count'));
  }

  processElement(_word: string, _ctx: KeyedProcessContext<string>, out: Collector<number>): void {
    const n = (this.count.value() ?? 0) + 1;
    this.count.update(n);
    out.collect(n);
  }
}

describe('README', () => {
  it('quick start', async () => {
    const env = StreamEnvironment.create({ parallelism: 2 });
    const squares = await env
      .fromSequence(1, 5)
      .map((n) => n * n)
      .executeAndCollect();
    // 1, 4, 9, 16, 25 in some order: two parallel subtasks produce them
    expect(squares.sort((a, b) => a - b)).toEqual([1, 4, 9, 16, 25]);
  });

  it('streams and operators', async () => {
    const env = StreamEnvironment.create();
    const counts = await env
      .fromElements('to be or', 'not to be')
      .flatMap<string>((line, out) => {
        for (const word of line.split(' ')) out.collect(word);
      })
      .map((word): [string, number] => [word, 1])
      .keyBy((pair) => pair[0])
      .reduce((a, b) => [a[0], a[1] + b[1]])
      .executeAndCollect();
    expect(counts).toEqual([
      ['to', 1],
      ['be', 1],
      ['or', 1],
      ['not', 1],
      ['to', 2],
      ['be', 2],
    ]);
  });

  it('keys and key groups', () => {
    const maxParallelism = 128;
    const group = keyGroupFor('user-42', maxParallelism); // 0..127, the same in every process
    const owner = subtaskForKeyGroup(group, 4, maxParallelism); // which of 4 subtasks owns it
    expect(keyGroupRangeFor(0, 4, maxParallelism)).toEqual({ start: 0, end: 31 });
    expect(keyGroupRangeFor(1, 4, maxParallelism)).toEqual({ start: 32, end: 63 });

    expect(group).toBeGreaterThanOrEqual(0);
    expect(group).toBeLessThan(128);
    const range = keyGroupRangeFor(owner, 4, maxParallelism);
    expect(group).toBeGreaterThanOrEqual(range.start);
    expect(group).toBeLessThanOrEqual(range.end);
  });

  it('keyed operators at parallelism 4 of maxParallelism 16', async () => {
    // 16 key groups: keyed operators can later run (or be restored) with parallelism 1..16.
    const env = StreamEnvironment.create({ parallelism: 4, maxParallelism: 16 });
    const counts = await env
      .fromElements('ann', 'bob', 'ann')
      .keyBy((user) => user)
      .process(new CountPerKey())
      .executeAndCollect();
    // 1, 1, 2 in some order: ann's second visit sees ann's count, wherever ann's key group runs
    expect(counts.sort()).toEqual([1, 1, 2]);
  });

  it('rescaling: state is restored by key group', async () => {
    // Run at parallelism 1 and take a snapshot of the keyed state...
    const one = OperatorHarness.forKeyedProcessFunction(new CountPerKey(), (w: string) => w);
    await one.open();
    for (const w of ['a', 'b', 'c', 'a']) one.processElement(w);
    const snapshot = one.snapshot();

    // ...then restore it at parallelism 2: each subtask takes only the key groups it owns.
    const count = new ValueStateDescriptor<number>('count');
    for (const subtaskIndex of [0, 1]) {
      const h = OperatorHarness.forKeyedProcessFunction(new CountPerKey(), (w: string) => w, {
        parallelism: 2,
        subtaskIndex,
      });
      h.restoreState([snapshot]);
      await h.open();
      const owns = (key: string) => subtaskForKeyGroup(keyGroupFor(key, 128), 2, 128) === subtaskIndex;
      expect(h.getState(count, 'a')).toBe(owns('a') ? 2 : undefined);
      expect(h.getState(count, 'b')).toBe(owns('b') ? 1 : undefined);
    }
  });

  it('event time and watermarks', async () => {
    interface Reading {
      readonly sensor: string;
      readonly ts: number;
    }
    const readings: Reading[] = [
      { sensor: 's1', ts: 1_000 },
      { sensor: 's1', ts: 3_000 },
      { sensor: 's1', ts: 2_000 }, // 1 s out of order: behind the watermark (2499), so late
      { sensor: 's1', ts: 5_000 },
    ];
    const env = StreamEnvironment.create();
    const seen = await env
      .fromCollection(readings)
      .assignTimestampsAndWatermarks(
        WatermarkStrategy.forBoundedOutOfOrderness<Reading>(500).withTimestampAssigner((r) => r.ts),
      )
      .keyBy('sensor')
      .process<string>({
        processElement(r, ctx, out) {
          out.collect(`ts=${r.ts} watermark=${ctx.timerService().currentWatermark()}`);
        },
      })
      .executeAndCollect();
    expect(seen).toEqual([
      'ts=1000 watermark=-Infinity',
      'ts=3000 watermark=499',
      'ts=2000 watermark=2499',
      'ts=5000 watermark=2499',
    ]);
  });

  it('union and idleness', async () => {
    interface Reading {
      readonly sensor: string;
      readonly ts: number;
    }
    const env = StreamEnvironment.create();
    const strategy = WatermarkStrategy.forBoundedOutOfOrderness<Reading>(500)
      .withTimestampAssigner((r) => r.ts)
      .withIdleness(60_000);
    const north = env.fromElements<Reading>({ sensor: 'n1', ts: 1_000 }, { sensor: 'n1', ts: 9_000 });
    const south = env.fromElements<Reading>({ sensor: 's1', ts: 2_000 });
    const all = await north
      .assignTimestampsAndWatermarks(strategy)
      .union(south.assignTimestampsAndWatermarks(strategy))
      .map((r) => r.sensor)
      .executeAndCollect();
    expect(all.sort()).toEqual(['n1', 'n1', 's1']);
  });

  it('functions: per-instance fields in open()', async () => {
    class CountPerSubtask implements ProcessFunction<number, string> {
      private subtask = -1;
      private count = 0;

      open(ctx: RuntimeContext): void {
        this.subtask = ctx.taskInfo.subtaskIndex;
        this.count = 0;
      }

      processElement(_n: number): void {
        this.count++;
      }

      finish(out: Collector<string>): void {
        out.collect(`subtask ${this.subtask}: ${this.count}`);
      }
    }

    const env = StreamEnvironment.create({ parallelism: 2 });
    const perSubtask = await env.fromSequence(1, 100).process(new CountPerSubtask()).executeAndCollect();
    // ['subtask 0: 50', 'subtask 1: 50'] in some order
    expect(perSubtask.sort()).toEqual(['subtask 0: 50', 'subtask 1: 50']);
  });

  it('keyed state: AggregatingState', async () => {
    interface Reading {
      readonly sensor: string;
      readonly value: number;
    }
    type Avg = { sum: number; n: number };

    class RunningAverage implements KeyedProcessFunction<string, Reading, [string, number]> {
      private avg!: AggregatingState<number, number>;

      open(ctx: RuntimeContext): void {
        this.avg = ctx.getAggregatingState(
          new AggregatingStateDescriptor<number, Avg, number>('avg', {
            createAccumulator: () => ({ sum: 0, n: 0 }),
            add: (v, acc) => ({ sum: acc.sum + v, n: acc.n + 1 }),
            getResult: (acc) => acc.sum / acc.n,
            merge: (a, b) => ({ sum: a.sum + b.sum, n: a.n + b.n }),
          }),
        );
      }

      processElement(r: Reading, ctx: KeyedProcessContext<string>, out: Collector<[string, number]>): void {
        this.avg.add(r.value);
        out.collect([ctx.getCurrentKey(), this.avg.get() ?? Number.NaN]);
      }
    }

    const env = StreamEnvironment.create();
    const averages = await env
      .fromElements<Reading>({ sensor: 'a', value: 10 }, { sensor: 'b', value: 1 }, { sensor: 'a', value: 20 })
      .keyBy('sensor')
      .process(new RunningAverage())
      .executeAndCollect();
    expect(averages).toEqual([
      ['a', 10],
      ['b', 1],
      ['a', 15],
    ]);
  });

  it('keyed state: TTL', async () => {
    class Visits implements KeyedProcessFunction<string, string, number> {
      private visits!: ValueState<number>;

      open(ctx: RuntimeContext): void {
        const descriptor = new ValueStateDescriptor<number>('visits').enableTimeToLive({ ttlMs: 60_000 });
        this.visits = ctx.getState(descriptor);
      }

      processElement(_user: string, _ctx: KeyedProcessContext<string>, out: Collector<number>): void {
        const n = (this.visits.value() ?? 0) + 1;
        this.visits.update(n);
        out.collect(n);
      }
    }

    const h = OperatorHarness.forKeyedProcessFunction(new Visits(), (user: string) => user);
    await h.open(); // processing time starts at 0 on the harness's ManualClock
    h.processElement('ann'); // 1
    h.processElement('ann'); // 2, written at t = 0
    h.setProcessingTime(60_000); // ann's count expires 60 s after its last write
    h.processElement('ann'); // 1 again
    expect(h.outputValues()).toEqual([1, 2, 1]);
  });

  it('timers', async () => {
    const plays: Play[] = [
      { content: 'a', ts: 100 },
      { content: 'a', ts: 900 },
      { content: 'b', ts: 950 },
      { content: 'a', ts: 1_500 },
      { content: 'a', ts: 2_600 },
    ];
    const env = StreamEnvironment.create();
    const counts = await env
      .fromCollection(plays)
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Play>().withTimestampAssigner((p) => p.ts))
      .keyBy('content')
      .process(new PlaysPerSecond())
      .executeAndCollect();
    // a@0 and b@0 fire at watermark 1499, a@1000 at 2599, a@2000 at the end of input (+∞)
    expect(counts.slice(0, 2).sort()).toEqual(['a@0: 2', 'b@0: 1']);
    expect(counts.slice(2)).toEqual(['a@1000: 1', 'a@2000: 1']);
  });

  it('side outputs', async () => {
    const env = StreamEnvironment.create();
    const invalid = new OutputTag<string>('invalid');
    const parsed = env.fromElements('1', '2', 'x', '4').process<number>({
      processElement(line, ctx, out) {
        const n = Number(line);
        if (Number.isNaN(n)) ctx.output(invalid, line);
        else out.collect(n);
      },
    });
    const rejects = new CollectSink<string>();
    parsed.getSideOutput(invalid).sinkTo(rejects);
    const numbers = await parsed.executeAndCollect(); // runs both sinks
    expect(numbers).toEqual([1, 2, 4]);
    expect(rejects.values).toEqual(['x']);
  });

  it('windows: tumbling, allowed lateness, late data', async () => {
    interface Click {
      readonly user: string;
      readonly ts: number;
    }
    const clicks: Click[] = [
      { user: 'ann', ts: 1_000 },
      { user: 'ann', ts: 4_000 },
      { user: 'ann', ts: 12_000 }, // watermark 11_999 ≥ 9_999: [0, 10_000) fires with 2
      { user: 'ann', ts: 8_000 }, // behind the watermark, not late (9_999 + 5_000 > 11_999): fires again with 3
      { user: 'ann', ts: 16_000 }, // watermark 15_999 ≥ 14_999: [0, 10_000) is purged
      { user: 'ann', ts: 9_000 }, // late: to the side output
    ];
    const tooLate = new OutputTag<Click>('too-late');
    const env = StreamEnvironment.create();
    const perTenSeconds = env
      .fromCollection(clicks)
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Click>().withTimestampAssigner((c) => c.ts))
      .keyBy('user')
      .window(TumblingEventTimeWindows.of(10_000))
      .allowedLateness(5_000)
      .sideOutputLateData(tooLate)
      .aggregate(count(), (user, w, n) => `${user} [${w.start}, ${w.end}): ${n}`);
    const late = new CollectSink<Click>();
    perTenSeconds.getSideOutput(tooLate).sinkTo(late);
    const rows = await perTenSeconds.executeAndCollect();
    expect(rows).toEqual(['ann [0, 10000): 2', 'ann [0, 10000): 3', 'ann [10000, 20000): 2']);
    expect(late.values).toEqual([{ user: 'ann', ts: 9_000 }]);
  });

  it('windows: sliding (panes), sessions, global windows with a trigger', async () => {
    interface Play {
      readonly user: string;
      readonly ts: number;
      readonly secs: number;
    }
    const plays: Play[] = [
      { user: 'ann', ts: 0, secs: 30 },
      { user: 'ann', ts: 20_000, secs: 60 },
      { user: 'ann', ts: 95_000, secs: 10 },
      { user: 'ann', ts: 100_000, secs: 5 },
    ];
    const env = StreamEnvironment.create();
    const byUser = env
      .fromCollection(plays)
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Play>().withTimestampAssigner((p) => p.ts))
      .keyBy('user');

    // 1-minute windows every 30 s: each play is in two windows but updates one slice.
    const sliding = byUser
      .window(SlidingEventTimeWindows.of(60_000, 30_000))
      .aggregate(sum((p) => p.secs), (_user, w, secs) => `${w.start / 1_000}s..${w.end / 1_000}s: ${secs}`);

    class Session implements ProcessWindowFunction<Play, string, string, TimeWindow> {
      process(user: string, ctx: ProcessWindowContext<TimeWindow>, ps: readonly Play[], out: Collector<string>): void {
        const w = ctx.window();
        out.collect(`${user} ${w.start / 1_000}s..${w.end / 1_000}s: ${ps.length} plays`);
      }
    }
    const sessions = byUser.window(EventTimeSessionWindows.withGap(30_000)).process(new Session());
    const longPlaysKeepSessionsOpen = byUser
      .window(EventTimeSessionWindows.withDynamicGap<Play>((p) => (p.secs >= 60 ? 120_000 : 30_000)))
      .process(new Session());

    // A global window with a trigger: fire and purge every 2 plays of a user.
    const pairs = byUser
      .window(GlobalWindows.create())
      .trigger(PurgingTrigger.of(CountTrigger.of(2)))
      .reduce((a, b) => ({ user: a.user, ts: a.ts, secs: a.secs + b.secs }))
      .map((p) => `${p.user}: ${p.secs}s`);

    const sinks = [sliding, sessions, longPlaysKeepSessionsOpen, pairs].map((stream) => {
      const sink = new CollectSink<string>();
      stream.sinkTo(sink);
      return sink;
    });
    await env.execute(); // sinks[i].values: the results above
    expect(sinks.map((s) => s.values)).toEqual([
      ['-30s..30s: 90', '0s..60s: 90', '60s..120s: 15', '90s..150s: 15'],
      ['ann 0s..50s: 2 plays', 'ann 95s..130s: 2 plays'],
      ['ann 0s..140s: 4 plays'],
      ['ann: 90s', 'ann: 15s'],
    ]);
  });

  it('windows: TriggerTestHarness', () => {
    const h = new TriggerTestHarness<string>(EventTimeTrigger.create());
    const w = new TimeWindow(0, 10);
    expect(h.processElement('a', 3, w)).toBe('CONTINUE'); // with an event-time timer at 9
    expect(h.numEventTimeTimers(w)).toBe(1);
    expect(h.advanceWatermark(8)).toEqual([]);
    // (compared as strings: a TimeWindow caches its id lazily, which deep equality would see)
    expect(h.advanceWatermark(9).map(([win, r]) => [String(win), r])).toEqual([['TimeWindow{start=0, end=10}', 'FIRE']]);
    expect(h.processElement('b', 5, w)).toBe('FIRE'); // behind the watermark, it fires at once (a late firing)
  });

  it('aggregate functions', async () => {
    interface Request {
      readonly route: string;
      readonly user: string;
      readonly ms: number;
      readonly ts: number;
    }
    const requests: Request[] = [
      { route: '/play', user: 'ann', ms: 120, ts: 1_000 },
      { route: '/play', user: 'bob', ms: 80, ts: 2_000 },
      { route: '/play', user: 'ann', ms: 400, ts: 3_000 },
      { route: '/play', user: 'cid', ms: 95, ts: 4_000 },
    ];
    const env = StreamEnvironment.create();
    const minute = env
      .fromCollection(requests)
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Request>().withTimestampAssigner((r) => r.ts))
      .keyBy('route')
      .window(TumblingEventTimeWindows.of(60_000));
    const stats = await minute
      .aggregate(count(), (route, _w, n) => `${route} count ${n}`)
      .union(
        minute.aggregate(avg((r) => r.ms), (route, _w, ms) => `${route} avg ${ms}`),
        minute.aggregate(topN(2, (r) => r.ms, (r) => r.user), (route, _w, top) => `${route} slowest ${top.map((r) => r.user)}`),
        minute.aggregate(distinctCount((r) => r.user), (route, _w, n) => `${route} users ${n}`),
        minute.aggregate(approxDistinctCount((r) => r.user, { precision: 12 }), (route, _w, n) => `${route} ~users ${n}`),
        minute.aggregate(approxQuantiles((r) => r.ms), (route, _w, q) => `${route} p50 ${q.quantile(0.5)} max ${q.max}`),
      )
      .executeAndCollect();
    expect(stats.sort()).toEqual(
      [
        '/play count 4',
        '/play avg 173.75',
        '/play slowest ann,cid',
        '/play users 3',
        '/play ~users 3',
        '/play p50 120 max 400',
      ].sort(),
    );
  });

  it('joins: interval join, window join, coGroup', async () => {
    interface Order {
      readonly id: string;
      readonly ts: number;
    }
    interface Payment {
      readonly order: string;
      readonly amount: number;
      readonly ts: number;
    }
    const env = StreamEnvironment.create();
    const orders = env
      .fromElements<Order>({ id: 'o1', ts: 1_000 }, { id: 'o2', ts: 2_000 })
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Order>().withTimestampAssigner((o) => o.ts));
    const payments = env
      .fromElements<Payment>({ order: 'o1', amount: 30, ts: 50_000 }, { order: 'o1', amount: 5, ts: 55_000 }, { order: 'o2', amount: 12, ts: 61_000 })
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Payment>().withTimestampAssigner((p) => p.ts));

    const paidWithinAMinute = orders
      .keyBy('id')
      .intervalJoin(payments.keyBy('order'))
      .between(0, 60_000)
      .process<string>({
        processElement(order, payment, ctx, out) {
          out.collect(`${order.id}: ${payment.amount} after ${ctx.rightTimestamp() - ctx.leftTimestamp()} ms`);
        },
      });

    const paidInTheSameMinute = orders
      .join(payments)
      .where((o) => o.id)
      .equalTo((p) => p.order)
      .window(TumblingEventTimeWindows.of(60_000))
      .apply((o, p) => `${o.id}: ${p.amount}`);

    const perMinute = orders
      .coGroup(payments)
      .where((o) => o.id)
      .equalTo((p) => p.order)
      .window(TumblingEventTimeWindows.of(60_000))
      .apply<string>((os, ps, out) => out.collect(`${os[0]?.id ?? ps[0]?.order}: ${os.length} orders, ${ps.length} payments`));

    const sinks = [paidWithinAMinute, paidInTheSameMinute, perMinute].map((stream) => {
      const sink = new CollectSink<string>();
      stream.sinkTo(sink);
      return sink;
    });
    await env.execute();
    const [within, sameMinute, grouped] = sinks.map((s) => [...s.values].sort());
    expect(within).toEqual(['o1: 30 after 49000 ms', 'o1: 5 after 54000 ms', 'o2: 12 after 59000 ms']);
    expect(sameMinute).toEqual(['o1: 30', 'o1: 5']);
    expect(grouped).toEqual(['o1: 1 orders, 2 payments', 'o2: 0 orders, 1 payments', 'o2: 1 orders, 0 payments']);
  });

  it('joins: temporal join', async () => {
    interface Purchase {
      readonly id: string;
      readonly currency: string;
      readonly amount: number;
      readonly ts: number;
    }
    interface Rate {
      readonly currency: string;
      readonly eur: number;
      readonly ts: number; // valid from
    }
    const env = StreamEnvironment.create();
    const purchases = env
      .fromElements<Purchase>(
        { id: 'p1', currency: 'USD', amount: 10, ts: 500 },
        { id: 'p2', currency: 'USD', amount: 10, ts: 1_500 },
        { id: 'p3', currency: 'GBP', amount: 10, ts: 2_500 },
      )
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Purchase>().withTimestampAssigner((p) => p.ts));
    const rates = env
      .fromElements<Rate>({ currency: 'USD', eur: 0.9, ts: 0 }, { currency: 'USD', eur: 0.8, ts: 1_000 })
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Rate>().withTimestampAssigner((r) => r.ts));
    const inEuros = await temporalJoin(purchases, rates, { probeKey: (p) => p.currency, tableKey: (r) => r.currency })
      .map((p, rate) => `${p.id}: ${rate === undefined ? 'no rate' : p.amount * rate.eur}`)
      .executeAndCollect();
    expect(inEuros).toEqual(['p1: 9', 'p2: 8', 'p3: no rate']);
  });

  it('deduplication', async () => {
    interface Event {
      readonly id: string;
      readonly ts: number;
    }
    const env = StreamEnvironment.create();
    const events = env
      .fromElements<Event>({ id: 'e1', ts: 1_000 }, { id: 'e1', ts: 3_000 }, { id: 'e2', ts: 4_000 }, { id: 'e1', ts: 70_000 })
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Event>().withTimestampAssigner((e) => e.ts));
    const duplicates = new OutputTag<Event>('duplicates');
    const unique = deduplicate(events, { key: (e) => e.id, ttlMs: 60_000, time: 'event', duplicatesTag: duplicates }).uid('dedup');
    const repeats = new CollectSink<Event>();
    unique.getSideOutput(duplicates).sinkTo(repeats);
    const firsts = await unique.executeAndCollect();
    expect(firsts).toEqual([
      { id: 'e1', ts: 1_000 },
      { id: 'e2', ts: 4_000 },
      { id: 'e1', ts: 70_000 },
    ]);
    expect(repeats.values).toEqual([{ id: 'e1', ts: 3_000 }]);
  });

  it('broadcast state', async () => {
    interface Reading {
      readonly sensor: string;
      readonly value: number;
      readonly ts: number;
    }
    interface Limit {
      readonly sensor: string;
      readonly max: number;
      readonly ts: number;
    }
    const limits = new MapStateDescriptor<string, number>('limits');

    class OverLimit implements KeyedBroadcastProcessFunction<string, Reading, Limit, string> {
      private pending!: ListState<Reading>;

      open(ctx: RuntimeContext): void {
        this.pending = ctx.getListState(new ListStateDescriptor<Reading>('pending'));
      }

      processBroadcastElement(limit: Limit, ctx: KeyedBroadcastContext<string>): void {
        ctx.getBroadcastState(limits).put(limit.sensor, limit.max);
      }

      processElement(r: Reading, ctx: KeyedBroadcastReadOnlyContext<string>): void {
        this.pending.add(r); // judged once the watermark of both inputs reaches r.ts
        ctx.timerService().registerEventTimeTimer(r.ts);
      }

      onTimer(ts: number, ctx: KeyedBroadcastOnTimerContext<string>, out: Collector<string>): void {
        const max = ctx.getBroadcastState(limits).get(ctx.getCurrentKey()) ?? Number.POSITIVE_INFINITY;
        const later: Reading[] = [];
        for (const r of this.pending.get()) {
          if (r.ts > ts) later.push(r);
          else if (r.value > max) out.collect(`${r.sensor}@${r.ts}: ${r.value} > ${max}`);
        }
        this.pending.update(later);
      }
    }

    const env = StreamEnvironment.create({ parallelism: 2 });
    const readings = env
      .fromElements<Reading>({ sensor: 's1', value: 7, ts: 1_000 }, { sensor: 's2', value: 7, ts: 1_000 }, { sensor: 's1', value: 12, ts: 2_000 })
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Reading>().withTimestampAssigner((r) => r.ts));
    const config = env
      .fromElements<Limit>({ sensor: 's1', max: 10, ts: 0 }, { sensor: 's2', max: 5, ts: 0 })
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Limit>().withTimestampAssigner((l) => l.ts));
    const alerts = await readings
      .keyBy('sensor')
      .connect(config.broadcast(limits))
      .process(new OverLimit())
      .uid('over-limit')
      .executeAndCollect();
    expect(alerts.sort()).toEqual(['s1@2000: 12 > 10', 's2@1000: 7 > 5']);
  });

  it('async I/O', async () => {
    const names = new Map([['u1', 'Ann'], ['u2', 'Bob']]);
    const failedOnce = new Set<string>();
    /** A user service that answers later, and fails the first request for each id. */
    async function fetchName(id: string): Promise<string> {
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (!failedOnce.has(id)) {
        failedOnce.add(id);
        throw new Error('503 Service Unavailable');
      }
      return names.get(id) ?? 'unknown';
    }

    const env = StreamEnvironment.create();
    const users = env.fromElements('u2', 'u1', 'u3');
    const named = await AsyncDataStream.orderedWait(users, async (id) => `${id}: ${await fetchName(id)}`, {
      timeoutMs: 1_000,
      capacity: 100,
      retry: { maxAttempts: 3, backoffMs: (attempt) => 10 * 2 ** (attempt - 1) },
    }).executeAndCollect();
    expect(named).toEqual(['u2: Bob', 'u1: Ann', 'u3: unknown']);
    expect([...failedOnce].sort()).toEqual(['u1', 'u2', 'u3']);
  });

  it('errors: UserFunctionError', async () => {
    const env = StreamEnvironment.create();
    const job = env
      .fromElements(1, 2, 3)
      .keyBy((n) => n % 2)
      .map((n) => {
        if (n === 3) throw new RangeError('three is not allowed');
        return n;
      })
      .name('no-threes')
      .executeAndCollect();

    const error = await job.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserFunctionError);
    const e = error as UserFunctionError;
    expect(e.operatorName).toBe('no-threes');
    expect(e.cause).toBeInstanceOf(RangeError);
    expect(e.message).toMatch(/^User function failed in operator 'no-threes' \(uid .*, subtask 0\): RangeError: three is not allowed$/);

    const keyed = env
      .fromElements(1, 2, 3)
      .keyBy((n) => n % 2)
      .process<number>({
        processElement(n, _ctx, out) {
          if (n === 3) throw new Error('boom');
          out.collect(n);
        },
      })
      .name('keyed-no-threes')
      .executeAndCollect();
    const keyedError = (await keyed.catch((x: unknown) => x)) as UserFunctionError;
    expect(keyedError).toBeInstanceOf(UserFunctionError);
    expect(keyedError.key).toBe(1);
    expect(keyedError.message).toMatch(/operator 'keyed-no-threes' .* for key 1: Error: boom/);
  });

  it('errors: InvalidPipelineError', async () => {
    const env = StreamEnvironment.create();
    // A keyBy is a partitioning, not an operator: it has no name.
    expect(() => env.fromElements(1).keyBy((n) => n).name('keys')).toThrow(InvalidPipelineError);
    // A job needs a sink.
    await expect(env.execute()).rejects.toBeInstanceOf(InvalidPipelineError);
    // Event-time timers need event-time timestamps.
    const noTimestamps = env
      .fromElements(1, 2)
      .keyBy((n) => n)
      .process({
        processElement(n, ctx) {
          ctx.timerService().registerEventTimeTimer(n);
        },
      })
      .executeAndCollect();
    await expect(noTimestamps).rejects.toThrow(/has no event-time timestamps/);
  });

  it('testing harness', async () => {
    const h = OperatorHarness.forKeyedProcessFunction(new PlaysPerSecond(), (p: Play) => p.content);
    await h.open();
    h.processElement({ content: 'a', ts: 100 }, 100);
    h.processElement({ content: 'a', ts: 700 }, 700);
    expect(h.numEventTimeTimers()).toBe(1); // same key, same timestamp: one timer
    h.processWatermark(998);
    expect(h.outputValues()).toEqual([]);
    h.processWatermark(999);
    expect(h.outputValues()).toEqual(['a@0: 2']);
    expect(h.output()).toEqual([{ value: 'a@0: 2', timestamp: 999 }]);
    expect(h.numEventTimeTimers()).toBe(0);
    expect(h.numKeyedStateEntries()).toBe(0); // the function cleaned up after itself
  });

  it('running jobs: execute', async () => {
    const env = StreamEnvironment.create();
    const tens = new CollectSink<number>();
    env
      .fromSequence(1, 100)
      .filter((n) => n % 10 === 0)
      .sinkTo(tens)
      .name('tens');
    const result = await env.execute('tens');
    expect(result.status).toBe('finished');
    expect(result.metrics.sinkRecords).toBe(10);
    expect(tens.values).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  });

  it('running jobs: executeAsync and JobClient', async () => {
    const env = StreamEnvironment.create();
    env
      .fromSequence(0, Number.MAX_SAFE_INTEGER)
      .map((n) => n * 2)
      .sinkTo({ createWriter: () => ({ write() {} }) });
    const client = env.executeAsync('forever');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const { status, sourceRecords } = client.metrics();
    expect(status).toBe('running');
    expect(sourceRecords).toBeGreaterThan(0);
    await client.cancel();
    const result = await client.done;
    expect(result.status).toBe('cancelled');
  });

  it('backpressure', async () => {
    const env = StreamEnvironment.create({ batchSize: 1_024, channelCapacity: 2 });
    let produced = 0;
    let written = 0;
    let maxInFlight = 0;
    env
      .fromSequence(1, 50_000)
      .map((n) => {
        produced++;
        return n;
      })
      .rebalance() // an exchange: the sink runs in a task of its own
      .sinkTo({
        createWriter: () => {
          let pause: Promise<void> | undefined;
          return {
            write() {
              written++;
              maxInFlight = Math.max(maxInFlight, produced - written);
              // A slow sink: every 1000 records it needs a millisecond before taking more.
              if (written % 1_000 === 0) pause = new Promise((resolve) => setTimeout(resolve, 1));
            },
            isAvailable: () => pause === undefined,
            whenAvailable: async () => {
              await pause;
              pause = undefined;
            },
          };
        },
      });
    await env.execute('backpressure');
    expect(written).toBe(50_000);
    // The source never runs more than the exchange's buffers ahead of the sink.
    expect(maxInFlight).toBeLessThanOrEqual((2 + 2) * 1_024);
  });

  it('checkpoints: configuration', () => {
    const env = StreamEnvironment.create({
      checkpoint: { dir: '/var/lib/weir/plays', intervalMs: 10_000, retain: 3, timeoutMs: 600_000 },
      restore: 'latest', // or a checkpoint directory: '/var/lib/weir/plays/chk-00000042'
    });
    expect(env.checkpoint).toEqual({ dir: '/var/lib/weir/plays', intervalMs: 10_000, retain: 3, timeoutMs: 600_000 });
  });

  it('checkpoints: stop with a checkpoint, restore at another parallelism and backend', async () => {
    interface Visit {
      readonly user: string;
    }
    const base = await mkdtemp(join(tmpdir(), 'weir-'));
    try {
      const inbox = join(base, 'inbox');
      const checkpoints = join(base, 'checkpoints');
      await mkdir(inbox);
      await writeFile(join(inbox, '1.jsonl'), '{"user":"ann"}\n{"user":"bob"}\n{"user":"ann"}\n');

      function visitsPerUser(env: StreamEnvironment, out: CollectSink<string>): void {
        env
          .fromSource(FileSource.forJsonl<Visit>(inbox, { monitor: { intervalMs: 1_000 } }), WatermarkStrategy.noWatermarks(), 'visits')
          .uid('visits')
          .map((v) => ({ user: v.user, n: 1 }))
          .keyBy('user')
          .reduce((a, b) => ({ user: a.user, n: a.n + b.n }))
          .uid('visits-per-user')
          .map((v) => `${v.user}: ${v.n}`)
          .sinkTo(out)
          .uid('out');
      }
      const clock = new ManualClock(0);
      /** Advances the jobs' clock (the source lists the directory every second) until `done()`. */
      async function until(done: () => boolean): Promise<void> {
        while (!done()) {
          clock.advance(1_000);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }

      const first = new CollectSink<string>();
      const env1 = StreamEnvironment.create({ clock, checkpoint: { dir: checkpoints } });
      visitsPerUser(env1, first);
      const job1 = env1.executeAsync('visits');
      await until(() => first.values.length === 3);
      const cp1 = await job1.stopWithCheckpoint();
      expect(cp1).toMatchObject({ checkpointId: 1, path: join(checkpoints, 'chk-00000001') });
      expect(first.values).toEqual(['ann: 1', 'bob: 1', 'ann: 2']);
      expect((await job1.done).status).toBe('cancelled');

      await writeFile(join(inbox, '2.jsonl'), '{"user":"ann"}\n');
      const second = new CollectSink<string>();
      const env2 = StreamEnvironment.create({
        clock,
        parallelism: 2,
        stateBackend: new LevelStateBackend({ dir: join(base, 'state') }),
        checkpoint: { dir: checkpoints },
        restore: 'latest',
      });
      visitsPerUser(env2, second);
      const job2 = env2.executeAsync('visits');
      await until(() => second.values.length === 1);
      await job2.stopWithCheckpoint();
      expect(second.values).toEqual(['ann: 3']); // ann's count was restored, 1.jsonl was not read again

      expect(await readdir(checkpoints)).toEqual(['chk-00000001', 'chk-00000002', 'shared']);
      const [latest] = await new CheckpointStorage(checkpoints).list(); // newest first, checksums verified
      expect(latest?.complete).toBe(true);
      expect(latest?.manifest?.operators.find((o) => o.uid === 'visits-per-user')).toEqual({
        uid: 'visits-per-user',
        name: 'Reduce',
        parallelism: 2,
      });
      // What the README says a checkpoint directory holds.
      const files = await readdir(join(checkpoints, 'chk-00000002'));
      expect(files).toContain('_manifest.json');
      expect(files.some((f) => /^\d{4}-visits-per-user-0\.state$/.test(f))).toBe(true);
      expect(files.some((f) => /_enumerator-0\.state$/.test(f))).toBe(true);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });

  it('checkpoints: a two-phase-commit sink', async () => {
    /** A toy: a transaction's records travel in its committable; a real sink pre-commits them to storage. */
    interface Txn {
      readonly id: string;
      readonly records: string[];
    }
    const committed = new Map<string, string[]>(); // the external system, keyed by transaction id
    const sink: TwoPhaseCommittingSink<string, Txn> = {
      committableSerde: jsonSerde<Txn>(),
      createWriter(ctx) {
        let open: string[] = [];
        return {
          write: (value) => void open.push(value),
          prepareCommit: (checkpointId) => {
            const txn = { id: `${ctx.attemptId}-${ctx.taskInfo.subtaskIndex}-${checkpointId}`, records: open };
            open = [];
            return [txn];
          },
        };
      },
      createCommitter: () => ({
        commit(txns) {
          for (const t of txns) committed.set(t.id, t.records); // idempotent
        },
      }),
    };
    const dir = await mkdtemp(join(tmpdir(), 'weir-'));
    try {
      const env = StreamEnvironment.create({ checkpoint: { dir } });
      env.fromElements('a', 'b', 'c').uid('letters').sinkTo(sink).uid('txn-sink');
      await env.execute();
      expect([...committed.values()]).toEqual([['a', 'b', 'c']]); // committed by the final checkpoint
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('connectors: FileSink and FileSource', async () => {
    interface Play {
      readonly user: string;
      readonly secs: number;
    }
    const dir = await mkdtemp(join(tmpdir(), 'weir-'));
    try {
      const plays = join(dir, 'plays');
      const env = StreamEnvironment.create({ parallelism: 2 });
      env
        .fromSequence(1, 5)
        .map((i): Play => ({ user: `u${i}`, secs: i * 10 }))
        .sinkTo(new FileSink<Play>({ path: plays, format: 'jsonl', rollingPolicy: { maxRecords: 2 } }))
        .uid('plays-files');
      await env.execute();
      const parts = await readdir(plays); // three parts of two subtasks, no hidden files left
      expect(parts).toHaveLength(3);
      for (const part of parts) expect(part).toMatch(/^part-[01]-[A-Za-z0-9_]+-\d+\.jsonl$/);
      expect(new Set(parts.map((p) => p.slice(0, 6)))).toEqual(new Set(['part-0', 'part-1']));

      await writeFile(join(plays, 'more.jsonl'), '{"user":"u9","secs":1}\nnot json\n');
      const malformed: MalformedRecord[] = [];
      const source = FileSource.forJsonl<Play>(plays, { onMalformed: (m) => malformed.push(m) });
      const read = await StreamEnvironment.create().fromSource(source, WatermarkStrategy.noWatermarks(), 'plays').executeAndCollect();
      expect(read.map((p) => p.user).sort()).toEqual(['u1', 'u2', 'u3', 'u4', 'u5', 'u9']);
      expect(malformed).toEqual([
        { path: join(plays, 'more.jsonl'), line: 'not json', lineNumber: 2, offset: 23, reason: expect.stringMatching(/^Unexpected token/) },
      ]);
      expect(source.metrics()).toEqual({ records: 6, malformed: 1, filesCompleted: 4, filesDiscovered: 4 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('connectors: Avro, schema registry and dead letters', async () => {
    const V1 = { type: 'record', name: 'Play', fields: [{ name: 'user', type: 'string' }] };
    const V2 = { ...V1, fields: [...V1.fields, { name: 'device', type: 'string', default: 'unknown' }] };
    interface PlayV2 {
      readonly user: string;
      readonly device: string;
    }
    const dir = await mkdtemp(join(tmpdir(), 'weir-'));
    try {
      const registry = new EmbeddedSchemaRegistry(join(dir, 'registry'));
      const producer = ConfluentAvroSerde.forWriting<{ user: string }>({ registry, subject: 'plays-value', schema: V1 });
      await producer.open(); // registers V1: producer.schemaId === 1
      expect(producer.schemaId).toBe(1);
      const bytes = producer.serialize({ user: 'ann' }); // [0, 0, 0, 0, 1, …Avro binary]
      expect([...bytes.subarray(0, 5)]).toEqual([0, 0, 0, 0, 1]);

      const plays = ConfluentAvroSerde.forReading<PlayV2>({ registry, subject: 'plays-value', schema: V2 });
      await plays.open();
      expect(plays.deserialize(bytes)).toEqual({ user: 'ann', device: 'unknown' }); // written with V1, read as V2

      const V3 = { ...V1, fields: [{ name: 'user', type: 'long' }] };
      const refused = registry.register('plays-value', V3);
      await expect(refused).rejects.toBeInstanceOf(IncompatibleSchemaError);
      await expect(refused).rejects.toThrow(
        /^schema for subject 'plays-value' is incompatible at compatibility level BACKWARD: .* at Play\.user: the writer's 'string' cannot be read as the reader's 'long'$/,
      );

      // Dead letters, with the serde from above.
      const deadLetters = new OutputTag<DeadLetter>('dead-letters');
      const decode = new DeserializeFunction<Uint8Array, PlayV2>({ serde: plays, deadLetterTag: deadLetters });
      const env = StreamEnvironment.create();
      const decoded = env
        // a good record, one naming a schema id the registry does not have, two bytes of garbage
  .fromElements<Uint8Array>(bytes, new Uint8Array([0, 0, 0, 0, 42]), new Uint8Array([1, 2]))
        .process(decode);
      decoded.getSideOutput(deadLetters).sinkTo(deadLetterFileSink({ path: join(dir, 'dlq') })).uid('dlq');
      const good = await decoded.executeAndCollect();
      expect(good).toEqual([{ user: 'ann', device: 'unknown' }]);
      expect(decode.counters.snapshot()).toEqual({
        deserialized: 1,
        failures: 2,
        deadLettered: 2,
        skipped: 0,
        failed: 0,
        byErrorType: { UnknownSchemaError: 1, WireFormatError: 1 },
      });
      const dlqFiles = await readdir(join(dir, 'dlq'));
      expect(dlqFiles).toHaveLength(1);
      expect(dlqFiles[0]).toMatch(/^dead-letters-0-[A-Za-z0-9_]+-0\.jsonl$/);
      const lines = (await readFile(join(dir, 'dlq', dlqFiles[0] as string), 'utf8')).trim().split('\n');
      expect(lines.map((l) => (JSON.parse(l) as { errorType: string }).errorType)).toEqual(['UnknownSchemaError', 'WireFormatError']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
