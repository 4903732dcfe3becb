import {
  type Collector,
  InvalidPipelineError,
  type KeyedProcessContext,
  type KeyedProcessFunction,
  type OnTimerContext,
  type ProcessFunction,
  type RuntimeContext,
  StreamEnvironment,
  UserFunctionError,
  ValueStateDescriptor,
  WatermarkStrategy,
} from '@weir/core';
import { describe, expect, it } from 'vitest';
import { CountingSource, RecordingSink } from '../helpers.js';

async function failure(job: Promise<unknown>): Promise<unknown> {
  try {
    await job;
  } catch (e) {
    return e;
  }
  throw new Error('the job was expected to fail but finished');
}

async function userError(job: Promise<unknown>): Promise<UserFunctionError> {
  const e = await failure(job);
  expect(e).toBeInstanceOf(UserFunctionError);
  return e as UserFunctionError;
}

const boom = (): never => {
  throw new RangeError('boom');
};

describe('user function failures', () => {
  it('a keyed function fails the job with a UserFunctionError naming operator, uid, subtask, key and cause', async () => {
    const env = StreamEnvironment.create({ parallelism: 3 });
    const job = env
      .fromSequence(1, 30)
      .keyBy((n) => `k${n % 4}`)
      .process<number>({
        processElement(n) {
          if (n === 17) boom();
        },
      })
      .name('explode')
      .uid('explode-uid')
      .executeAndCollect();
    const e = await userError(job);
    expect(e.operatorName).toBe('explode');
    expect(e.operatorUid).toBe('explode-uid');
    expect(e.hasKey).toBe(true);
    expect(e.key).toBe('k1');
    expect(e.subtaskIndex).toBeGreaterThanOrEqual(0);
    expect(e.subtaskIndex).toBeLessThan(3);
    expect(e.cause).toBeInstanceOf(RangeError);
    expect(e.message).toMatch(/operator 'explode' \(uid explode-uid, subtask \d\) for key "k1": RangeError: boom/);
  });

  it('the key of a failing timer is the timer key', async () => {
    class LateBomb implements KeyedProcessFunction<number, number, number> {
      processElement(n: number, ctx: KeyedProcessContext<number>): void {
        ctx.timerService().registerEventTimeTimer(n);
      }
      onTimer(ts: number, _ctx: OnTimerContext<number>, _out: Collector<number>): void {
        if (ts === 7) boom();
      }
    }
    const env = StreamEnvironment.create({ parallelism: 2 });
    const job = env
      .fromSequence(1, 10)
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<number>().withTimestampAssigner((n) => n))
      .keyBy((n) => n)
      .process(new LateBomb())
      .executeAndCollect();
    const e = await userError(job);
    expect(e.key).toBe(7);
    expect(e.operatorName).toBe('KeyedProcess');
  });

  it.each([
    ['map', (env: StreamEnvironment) => env.fromSequence(1, 3).map((n) => (n === 2 ? boom() : n)), 'Map'],
    ['filter', (env: StreamEnvironment) => env.fromSequence(1, 3).filter(() => boom()), 'Filter'],
    ['flatMap', (env: StreamEnvironment) => env.fromSequence(1, 3).flatMap<number>(() => boom()), 'FlatMap'],
    [
      'process',
      (env: StreamEnvironment) =>
        env.fromSequence(1, 3).process<number>({
          processElement: () => boom(),
        }),
      'Process',
    ],
    ['reduce', (env: StreamEnvironment) => env.fromSequence(1, 3).keyBy((n) => n % 2).reduce(() => boom()), 'Reduce'],
    [
      'timestamp assigner',
      (env: StreamEnvironment) =>
        env.fromSequence(1, 3).assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<number>().withTimestampAssigner(() => boom())),
      'Timestamps/Watermarks',
    ],
  ] as const)('a throwing %s fails the job with a UserFunctionError', async (_what, build, name) => {
    const e = await userError(build(StreamEnvironment.create()).executeAndCollect());
    expect(e.operatorName).toBe(name);
    expect(e.cause).toBeInstanceOf(RangeError);
    expect(e.message).toContain('boom');
  });

  it('a throwing key selector is reported as a UserFunctionError of the keyed operator, at any parallelism', async () => {
    for (const parallelism of [1, 3]) {
      const env = StreamEnvironment.create({ parallelism });
      const job = env
        .fromSequence(1, 10)
        .keyBy((n) => (n === 5 ? boom() : n))
        .reduce((a, b) => a + b)
        .name('summing')
        .executeAndCollect();
      const e = await userError(job);
      expect(e.operatorName).toBe('summing');
      expect(e.cause).toBeInstanceOf(RangeError);
      // the key could not be computed: no key (in particular not the previous record's)
      expect(e.hasKey).toBe(false);
    }
  });

  it('a throwing sink writer and a throwing open() fail the job', async () => {
    const env = StreamEnvironment.create();
    env.fromSequence(1, 3).sinkTo({ createWriter: () => ({ write: () => boom() }) }, 'bad-sink');
    const e = await userError(env.execute());
    expect(e.operatorName).toBe('bad-sink');

    const opening = StreamEnvironment.create()
      .fromSequence(1, 3)
      .process<number>({ open: () => boom(), processElement() {} })
      .executeAndCollect();
    expect((await userError(opening)).message).toMatch(/boom/);
  });

  it('functions are closed when the job fails', async () => {
    let closed = 0;
    const env = StreamEnvironment.create({ parallelism: 2 });
    const job = env
      .fromSequence(1, 100)
      .process<number>({
        processElement(n) {
          if (n === 50) boom();
        },
        close() {
          closed++;
        },
      })
      .executeAndCollect();
    await userError(job);
    expect(closed).toBe(2);
  });

  it('executeAsync: done rejects with the failure and metrics report it', async () => {
    const env = StreamEnvironment.create();
    env.fromSource(new CountingSource(Number.POSITIVE_INFINITY), WatermarkStrategy.noWatermarks(), 'forever')
      .map((n) => (n === 1_000 ? boom() : n))
      .sinkTo(new RecordingSink<number>());
    const client = env.executeAsync('failing');
    const e = await userError(client.done);
    expect(e.operatorName).toBe('Map');
    expect(client.metrics().status).toBe('failed');
    await client.cancel(); // harmless after the end
  });
});

describe('invalid pipelines', () => {
  it('keyed state on a non-keyed ProcessFunction fails with InvalidPipelineError mentioning keyBy', async () => {
    const env = StreamEnvironment.create();
    const job = env
      .fromSequence(1, 3)
      .process<number>({
        open(ctx: RuntimeContext) {
          ctx.getState(new ValueStateDescriptor<number>('s'));
        },
        processElement() {},
      })
      .name('stateless')
      .executeAndCollect();
    const e = await failure(job);
    expect(e).toBeInstanceOf(InvalidPipelineError);
    expect((e as Error).message).toMatch(/Keyed state is only available on a keyed stream.*'stateless'.*keyBy\(\)/);
  });

  it('timers on a non-keyed stream fail clearly', async () => {
    const fn: ProcessFunction<number, number> = {
      processElement(n, ctx) {
        ctx.timerService().registerProcessingTimeTimer(n);
      },
    };
    const e = await failure(StreamEnvironment.create().fromSequence(1, 3).process(fn).name('untimed').executeAndCollect());
    expect(e).toBeInstanceOf(InvalidPipelineError);
    expect((e as Error).message).toMatch(/Timers are only available on keyed streams.*'untimed'.*keyBy\(\)/);
  });

  it('an event-time timer on a stream without timestamps fails with a clear InvalidPipelineError', async () => {
    class Timer implements KeyedProcessFunction<number, number, number> {
      processElement(n: number, ctx: KeyedProcessContext<number>): void {
        ctx.timerService().registerEventTimeTimer(n);
      }
    }
    const e = await failure(StreamEnvironment.create().fromSequence(1, 3).keyBy((n) => n).process(new Timer()).name('needs-time').executeAndCollect());
    expect(e).toBeInstanceOf(InvalidPipelineError);
    expect((e as Error).message).toMatch(/'needs-time' registered an event-time timer.*no event-time timestamps.*assignTimestampsAndWatermarks/);
    // processing-time timers need no timestamps
    class PtTimer implements KeyedProcessFunction<number, number, number> {
      processElement(n: number, ctx: KeyedProcessContext<number>): void {
        ctx.timerService().registerProcessingTimeTimer(n);
      }
    }
    const ok = await StreamEnvironment.create().fromSequence(1, 3).keyBy((n) => n).process(new PtTimer()).executeAndCollect();
    expect(ok).toEqual([]);
  });

  it('duplicate uids fail before the job runs', async () => {
    const env = StreamEnvironment.create();
    const source = new CountingSource(5);
    env.fromSource(source, WatermarkStrategy.noWatermarks(), 's').map((n) => n).uid('same').map((n) => n).uid('same').sinkTo(new RecordingSink());
    const e = await failure(env.execute());
    expect(e).toBeInstanceOf(InvalidPipelineError);
    expect((e as Error).message).toMatch(/uid 'same' is used by both 'Map' and 'Map'/);
    expect(source.emitted).toBe(0);
  });

  it('forward partitioning across different parallelism fails', async () => {
    const env = StreamEnvironment.create({ parallelism: 2 });
    const job = env.fromSequence(1, 10).forward().map((n) => n).setParallelism(3).executeAndCollect();
    const e = await failure(job);
    expect(e).toBeInstanceOf(InvalidPipelineError);
    expect((e as Error).message).toMatch(/forward partitioning from 'Source: Sequence' \(parallelism 2\) to 'Map' \(parallelism 3\).*rebalance/);
    // forward at equal parallelism is fine
    const ok = await StreamEnvironment.create({ parallelism: 2 }).fromSequence(1, 10).forward().map((n) => n).executeAndCollect();
    expect(ok).toHaveLength(10);
  });

  it('a job without sinks, streams of two environments, and an over-parallel source are rejected', async () => {
    const env = StreamEnvironment.create();
    await expect(env.execute()).rejects.toBeInstanceOf(InvalidPipelineError);
    const other = StreamEnvironment.create();
    expect(() => env.fromSequence(1, 2).union(other.fromSequence(1, 2))).toThrow(InvalidPipelineError);
    const e = await failure(StreamEnvironment.create().fromElements(1, 2).setParallelism(2).executeAndCollect());
    expect(e).toBeInstanceOf(InvalidPipelineError);
    expect((e as Error).message).toMatch(/supports parallelism at most 1/);
  });
});
