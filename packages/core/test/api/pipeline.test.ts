import { describe, expect, it } from 'vitest';
import { StreamEnvironment, ValueStateDescriptor, WatermarkStrategy, OutputTag, UserFunctionError } from '@weir/core';

describe('basic pipelines', () => {
  it('map and filter over a parallel sequence', async () => {
    const env = StreamEnvironment.create({ parallelism: 2 });
    const out = await env
      .fromSequence(1, 10)
      .map((n) => n * n)
      .filter((n) => n % 2 === 0)
      .executeAndCollect();
    expect(out.sort((a, b) => a - b)).toEqual([4, 16, 36, 64, 100]);
  });

  it('keyed state and event-time timers at parallelism 4', async () => {
    const env = StreamEnvironment.create({ parallelism: 4 });
    const events = Array.from({ length: 700 }, (_, i) => ({ user: `u${i % 7}`, ts: i * 10 }));
    const out = await env
      .fromCollection(events)
      .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<{ user: string; ts: number }>(5).withTimestampAssigner((e) => e.ts))
      .keyBy((e) => e.user)
      .process<[string, number]>({
        open(ctx) {
          (this as { c?: unknown }).c = ctx.getState(new ValueStateDescriptor<number>('c'));
        },
        processElement(_e, ctx) {
          const c = (this as unknown as { c: { value(): number | undefined; update(v: number): void } }).c;
          c.update((c.value() ?? 0) + 1);
          ctx.timerService().registerEventTimeTimer(1_000_000);
        },
        onTimer(_ts, ctx, out) {
          const c = (this as unknown as { c: { value(): number | undefined } }).c;
          out.collect([ctx.getCurrentKey(), c.value() ?? 0]);
        },
      })
      .executeAndCollect();
    expect(out.sort()).toEqual(Array.from({ length: 7 }, (_, i) => [`u${i}`, 100]).sort());
  });

  it('side outputs', async () => {
    const tag = new OutputTag<string>('odd');
    const env = StreamEnvironment.create();
    const main = env.fromSequence(1, 6).process<number>({
      processElement(v, ctx, out) {
        if (v % 2) ctx.output(tag, `odd${v}`);
        else out.collect(v);
      },
    });
    const side = main.getSideOutput(tag);
    const sideValues: string[] = [];
    side.sinkTo({ createWriter: () => ({ write: (v) => void sideValues.push(v) }) });
    expect(await main.executeAndCollect()).toEqual([2, 4, 6]);
    expect(sideValues).toEqual(['odd1', 'odd3', 'odd5']);
  });

  it('a throwing user function fails the job naming operator and key', async () => {
    const env = StreamEnvironment.create();
    const job = env
      .fromSequence(1, 5)
      .keyBy((x) => x % 2)
      .process({
        processElement(v) {
          if (v === 4) throw new Error('boom');
        },
      })
      .name('explode')
      .executeAndCollect();
    await expect(job).rejects.toBeInstanceOf(UserFunctionError);
    await expect(job).rejects.toThrow(/operator 'explode'.*for key 0.*boom/);
  });
});
