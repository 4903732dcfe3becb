import {
  type Collector,
  type CoProcessFunction,
  type KeyedProcessContext,
  type KeyedProcessFunction,
  type OnTimerContext,
  OutputTag,
  type ProcessContext,
  type ProcessFunction,
  type RuntimeContext,
  StreamEnvironment,
  WatermarkStrategy,
} from '@weir/core';
import { describe, expect, it } from 'vitest';
import { RecordingSink } from '../helpers.js';

/** Tags each record with the subtask (and parallelism) that processed it. */
class Where<T> implements ProcessFunction<T, { v: T; subtask: number; parallelism: number }> {
  private subtask = -1;
  private parallelism = -1;
  open(ctx: RuntimeContext): void {
    this.subtask = ctx.taskInfo.subtaskIndex;
    this.parallelism = ctx.taskInfo.parallelism;
  }
  processElement(v: T, _ctx: ProcessContext, out: Collector<{ v: T; subtask: number; parallelism: number }>): void {
    out.collect({ v, subtask: this.subtask, parallelism: this.parallelism });
  }
}

function countBy<T>(xs: readonly T[], f: (x: T) => number): number[] {
  const counts: number[] = [];
  for (const x of xs) counts[f(x)] = (counts[f(x)] ?? 0) + 1;
  return counts;
}

describe('basic transformations', () => {
  it('map, flatMap and filter keep record timestamps', async () => {
    const env = StreamEnvironment.create();
    const sink = new RecordingSink<string>();
    env
      .fromElements(1, 2, 3)
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<number>().withTimestampAssigner((n) => n * 100))
      .map((n) => n * 2)
      .flatMap<string>((n, out) => {
        for (let i = 0; i < n / 2; i++) out.collect(`${n}.${i}`);
      })
      .filter((s) => !s.endsWith('.1'))
      .sinkTo(sink);
    await env.execute();
    expect(sink.records.map((r) => [r.value, r.timestamp])).toEqual([
      ['2.0', 100],
      ['4.0', 200],
      ['6.0', 300],
      ['6.2', 300],
    ]);
    expect(sink.flushedAtEnd).toBe(1);
    expect(sink.closed).toBe(1);
  });

  it('records without event time reach sinks with a null timestamp', async () => {
    const env = StreamEnvironment.create();
    const sink = new RecordingSink<number>();
    env.fromSequence(1, 3).sinkTo(sink);
    await env.execute();
    expect(sink.records.map((r) => r.timestamp)).toEqual([null, null, null]);
  });

  it('fromSequence is parallel and complete', async () => {
    const env = StreamEnvironment.create({ parallelism: 3 });
    const out = await env.fromSequence(-5, 994).process(new Where<number>()).executeAndCollect();
    expect(out.map((o) => o.v).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i - 5));
    expect(new Set(out.map((o) => o.subtask))).toEqual(new Set([0, 1, 2]));
  });
});

describe('side outputs', () => {
  it('route records to several typed side outputs of a ProcessFunction', async () => {
    const small = new OutputTag<number>('small');
    const text = new OutputTag<string>('text');
    const env = StreamEnvironment.create({ parallelism: 2 });
    const main = env.fromSequence(1, 20).process<number>({
      processElement(v, ctx, out) {
        if (v < 5) ctx.output(small, v);
        else if (v % 5 === 0) ctx.output(text, `five:${v}`);
        else out.collect(v);
      },
    });
    const smallSink = new RecordingSink<number>();
    const textSink = new RecordingSink<string>();
    main.getSideOutput(small).map((n) => n * 10).sinkTo(smallSink);
    main.getSideOutput(text).sinkTo(textSink);
    const rest = await main.executeAndCollect();
    expect(rest.sort((a, b) => a - b)).toEqual([6, 7, 8, 9, 11, 12, 13, 14, 16, 17, 18, 19]);
    expect(smallSink.values.sort((a, b) => a - b)).toEqual([10, 20, 30, 40]);
    expect(textSink.values.sort()).toEqual(['five:10', 'five:15', 'five:20', 'five:5']);
  });

  it('a KeyedProcessFunction writes side outputs from processElement and onTimer, with timestamps', async () => {
    const alerts = new OutputTag<string>('alerts');
    class Alerting implements KeyedProcessFunction<string, { k: string; ts: number }, string> {
      processElement(e: { k: string; ts: number }, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
        out.collect(`main:${e.k}`);
        ctx.output(alerts, `element:${e.k}`);
        ctx.timerService().registerEventTimeTimer(e.ts + 10);
      }
      onTimer(ts: number, ctx: OnTimerContext<string>): void {
        ctx.output(alerts, `timer:${ctx.getCurrentKey()}@${ts}`);
      }
    }
    const env = StreamEnvironment.create();
    const main = env
      .fromElements({ k: 'a', ts: 1 }, { k: 'b', ts: 50 })
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<{ k: string; ts: number }>().withTimestampAssigner((e) => e.ts))
      .keyBy((e) => e.k)
      .process(new Alerting());
    const side = new RecordingSink<string>();
    main.getSideOutput(alerts).sinkTo(side);
    expect(await main.executeAndCollect()).toEqual(['main:a', 'main:b']);
    expect(side.records.map((r) => [r.value, r.timestamp])).toEqual([
      ['element:a', 1],
      ['element:b', 50], // followed by watermark 49, which fires a@11
      ['timer:a@11', 11],
      ['timer:b@60', 60], // at the end of input
    ]);
  });

  it('a side output nobody reads is dropped silently, and the main output is unaffected', async () => {
    const unused = new OutputTag<number>('unused');
    const env = StreamEnvironment.create();
    const out = await env
      .fromSequence(1, 3)
      .process<number>({
        processElement(v, ctx, o) {
          ctx.output(unused, v);
          o.collect(v);
        },
      })
      .executeAndCollect();
    expect(out).toEqual([1, 2, 3]);
  });

  it('getSideOutput must be called on an operator stream', async () => {
    const tag = new OutputTag<number>('t');
    const env = StreamEnvironment.create();
    const job = env.fromSequence(1, 3).rebalance().getSideOutput(tag).executeAndCollect();
    await expect(job).rejects.toThrow(/getSideOutput\(t\) must be called on the stream of an operator/);
    expect(() => new OutputTag<number>('')).toThrow(TypeError);
  });
});

describe('union, connect, partitioning and parallelism', () => {
  it('union merges streams of different parallelism', async () => {
    const env = StreamEnvironment.create({ parallelism: 2 });
    const a = env.fromSequence(1, 100);
    const b = env.fromElements(1_000, 2_000);
    const c = env.fromSequence(500, 549).map((n) => -n).setParallelism(3);
    const out = await a.union(b, c).executeAndCollect();
    expect(out).toHaveLength(152);
    expect(out.sort((x, y) => x - y)).toEqual(
      [...Array.from({ length: 50 }, (_, i) => -549 + i), ...Array.from({ length: 100 }, (_, i) => i + 1), 1_000, 2_000],
    );
  });

  it('a stream united with itself carries every record twice', async () => {
    const env = StreamEnvironment.create({ parallelism: 2 });
    const s = env.fromSequence(1, 5);
    const out = await s.union(s).executeAndCollect();
    expect(out.sort((a, b) => a - b)).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
  });

  it('connect + CoProcessFunction sees both inputs and shares fields between them', async () => {
    class Gate implements CoProcessFunction<string, number, string> {
      private allowed = new Set<string>();
      private held: number[] = [];
      open(): void {
        this.allowed = new Set();
        this.held = [];
      }
      processElement1(control: string): void {
        this.allowed.add(control);
      }
      processElement2(v: number): void {
        this.held.push(v);
      }
      finish(out: Collector<string>): void {
        out.collect(`${[...this.allowed].sort().join(',')}|${this.held.sort((a, b) => a - b).join(',')}`);
      }
    }
    const env = StreamEnvironment.create();
    const out = await env.fromElements('x', 'y').connect(env.fromSequence(1, 4)).process(new Gate()).executeAndCollect();
    expect(out).toEqual(['x,y|1,2,3,4']);
  });

  it('rebalance spreads records round-robin over all subtasks', async () => {
    const env = StreamEnvironment.create({ parallelism: 4 });
    const out = await env.fromCollection(Array.from({ length: 400 }, (_, i) => i)).rebalance().process(new Where<number>()).executeAndCollect();
    expect(out).toHaveLength(400);
    expect(countBy(out, (o) => o.subtask)).toEqual([100, 100, 100, 100]);
  });

  it('broadcast sends every record to every subtask', async () => {
    const env = StreamEnvironment.create({ parallelism: 3 });
    const out = await env.fromElements('a', 'b').broadcast().process(new Where<string>()).executeAndCollect();
    expect(out.map((o) => `${o.v}${o.subtask}`).sort()).toEqual(['a0', 'a1', 'a2', 'b0', 'b1', 'b2']);
  });

  it('setParallelism sets the number of instances of an operator and of a sink', async () => {
    const env = StreamEnvironment.create({ parallelism: 2 });
    const sink = new RecordingSink<{ v: number; subtask: number; parallelism: number }>();
    env.fromSequence(1, 60).process(new Where<number>()).setParallelism(5).sinkTo(sink).setParallelism(3).name('three');
    const result = await env.execute('parallelism');
    expect(new Set(sink.records.map((r) => r.value.parallelism))).toEqual(new Set([5]));
    expect(new Set(sink.records.map((r) => r.value.subtask))).toEqual(new Set([0, 1, 2, 3, 4]));
    expect(new Set(sink.records.map((r) => r.subtask))).toEqual(new Set([0, 1, 2]));
    expect(result.metrics.operators.filter((o) => o.name === 'three')).toHaveLength(3);
    expect(() => env.fromSequence(1, 2).setParallelism(0)).toThrow(RangeError);
  });

  it('forward-connected operators of equal parallelism are chained into one task', async () => {
    const env = StreamEnvironment.create({ parallelism: 2 });
    env
      .fromSequence(1, 10)
      .map((n) => n + 1)
      .name('inc')
      .filter((n) => n % 2 === 0)
      .name('even')
      .rebalance()
      .map((n) => n)
      .name('after-rebalance')
      .sinkTo(new RecordingSink<number>(), 'out');
    const result = await env.execute();
    expect(result.status).toBe('finished');
    const chains = [...new Set(result.metrics.tasks.map((t) => t.name))].sort();
    expect(chains).toEqual(['Source: Sequence -> inc -> even', 'after-rebalance -> out']);
    expect(result.metrics.sourceRecords).toBe(10);
    expect(result.metrics.sinkRecords).toBe(5);
  });

  it('name and uid identify operators in metrics', async () => {
    const env = StreamEnvironment.create();
    env.fromSequence(1, 3).map((n) => n).name('double').uid('double-v1').sinkTo(new RecordingSink<number>()).uid('sink-v1');
    const result = await env.execute();
    const uids = result.metrics.operators.map((o) => `${o.name}/${o.uid}`);
    expect(uids).toContain('double/double-v1');
    expect(uids).toContain('Sink/sink-v1');
    expect(() => env.fromSequence(1, 2).rebalance().name('x')).toThrow(/only be set on an operator/);
  });
});
