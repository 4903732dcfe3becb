/**
 * Every code snippet of the root README.md, run as written, with its claimed output asserted.
 * When a snippet changes in the README, change it here too (and the other way round): the
 * sections below follow the README's headings.
 */
import {
  AggregatingStateDescriptor,
  type AggregatingState,
  CollectSink,
  type Collector,
  InvalidPipelineError,
  type KeyedProcessContext,
  type KeyedProcessFunction,
  keyGroupFor,
  keyGroupRangeFor,
  type MapState,
  MapStateDescriptor,
  type OnTimerContext,
  OutputTag,
  type ProcessFunction,
  type RuntimeContext,
  StreamEnvironment,
  subtaskForKeyGroup,
  UserFunctionError,
  type ValueState,
  ValueStateDescriptor,
  WatermarkStrategy,
} from '@weir/core';
import { OperatorHarness } from '@weir/core/testing';
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
});
