import { describe, expect, it } from 'vitest';
import {
  type AggregateFunction,
  ManualClock,
  OutputTag,
  StreamEnvironment,
  type TimeWindow,
  WatermarkStrategy,
} from '@weir/core';
import {
  ContinuousEventTimeTrigger,
  CountEvictor,
  CountTrigger,
  EventTimeSessionWindows,
  GlobalWindows,
  PurgingTrigger,
  SlidingEventTimeWindows,
  TimeEvictor,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
} from '@weir/operators';

interface Ev {
  key: string;
  ts: number;
  v: number;
}

const sumAgg: AggregateFunction<Ev, number, number> = {
  createAccumulator: () => 0,
  add: (e, a) => a + e.v,
  getResult: (a) => a,
  merge: (a, b) => a + b,
};

function events(env: StreamEnvironment, list: Ev[], bound = 0) {
  return env
    .fromCollection(list)
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Ev>(bound).withTimestampAssigner((e) => e.ts))
    .keyBy((e) => e.key);
}

describe('window operator contract', () => {
  it('late firings update results within the allowed lateness; later data goes to the side output', async () => {
    const env = StreamEnvironment.create();
    const late = new OutputTag<Ev>('late');
    const out = events(env, [
      { key: 'a', ts: 1, v: 1 },
      { key: 'a', ts: 12, v: 1 }, // watermark 11: window [0,10) fires with 1
      { key: 'a', ts: 5, v: 10 }, // within lateness 5 (cleanup at 9 + 5 = 14): late firing with 11
      { key: 'a', ts: 20, v: 1 }, // watermark 19: [0,10) purged
      { key: 'a', ts: 6, v: 100 }, // beyond lateness: side output
    ])
      .window(TumblingEventTimeWindows.of<Ev>(10))
      .allowedLateness(5)
      .sideOutputLateData(late)
      .aggregate(sumAgg, (key, w, sum) => `${key}[${w.start},${w.end})=${sum}`);
    const lateValues: Ev[] = [];
    out.getSideOutput(late).sinkTo({ createWriter: () => ({ write: (e) => void lateValues.push(e) }) });
    expect(await out.executeAndCollect()).toEqual(['a[0,10)=1', 'a[0,10)=11', 'a[10,20)=1', 'a[20,30)=1']);
    expect(lateValues).toEqual([{ key: 'a', ts: 6, v: 100 }]);
  });

  it('window output records carry the window end − 1 as timestamp', async () => {
    const env = StreamEnvironment.create();
    const out = events(env, [{ key: 'a', ts: 3, v: 1 }])
      .window(TumblingEventTimeWindows.of<Ev>(10))
      .aggregate(sumAgg)
      .process<number>({ processElement: (_v, ctx, o) => o.collect(ctx.timestamp() ?? -1) });
    expect(await out.executeAndCollect()).toEqual([9]);
  });

  it('state and timers return to zero after every window expired (generic and sliced operators, sessions)', async () => {
    for (const [name, assigner] of [
      ['tumbling', TumblingEventTimeWindows.of<Ev>(10)],
      ['sliding', SlidingEventTimeWindows.of<Ev>(30, 10)],
      ['session', EventTimeSessionWindows.withGap<Ev>(7)],
    ] as const) {
      for (const process of [false, true]) {
        const env = StreamEnvironment.create({ parallelism: 2 });
        const list = Array.from({ length: 200 }, (_, i) => ({ key: `k${i % 5}`, ts: i * 3, v: 1 }));
        const windowed = events(env, list).window(assigner as never);
        const out = process
          ? (windowed as ReturnType<typeof windowed.allowedLateness>).process<number>({
              process: (_k, _c, els, o) => o.collect(els.length),
            })
          : windowed.aggregate(sumAgg);
        out.sinkTo({ createWriter: () => ({ write() {} }) });
        const result = await env.execute(`${name}-${process}`);
        const windowOps = result.metrics.operators.filter((o) => o.name.startsWith('Window'));
        expect(windowOps.length).toBe(2);
        for (const o of windowOps) expect(o.stateEntries, `${name} process=${process}`).toBe(0);
      }
    }
  });

  it('CountTrigger on global windows with a purging trigger emits per n elements', async () => {
    const env = StreamEnvironment.create();
    const list = Array.from({ length: 7 }, (_, i) => ({ key: 'a', ts: i, v: i }));
    const out = await events(env, list)
      .window(GlobalWindows.create<Ev>())
      .trigger(PurgingTrigger.of(CountTrigger.of(3)))
      .aggregate(sumAgg)
      .executeAndCollect();
    expect(out).toEqual([0 + 1 + 2, 3 + 4 + 5]);
  });

  it('ContinuousEventTimeTrigger emits early results before the window end', async () => {
    const env = StreamEnvironment.create();
    const list = Array.from({ length: 10 }, (_, i) => ({ key: 'a', ts: i * 10, v: 1 }));
    const out = await events(env, list)
      .window(TumblingEventTimeWindows.of<Ev>(100))
      .trigger(ContinuousEventTimeTrigger.of(30))
      .aggregate(sumAgg)
      .executeAndCollect();
    expect(out.length).toBeGreaterThan(1);
    expect(out.at(-1)).toBe(10);
    expect([...out].sort((a, b) => a - b)).toEqual(out);
  });

  it('evictors drop elements before the function runs', async () => {
    const env = StreamEnvironment.create();
    const list = Array.from({ length: 10 }, (_, i) => ({ key: 'a', ts: i, v: i }));
    const byCount = events(env, list).window(TumblingEventTimeWindows.of<Ev>(100)).evictor(CountEvictor.of(3)).aggregate(sumAgg);
    expect(await byCount.executeAndCollect()).toEqual([7 + 8 + 9]);
    const env2 = StreamEnvironment.create();
    const byTime = events(env2, list).window(TumblingEventTimeWindows.of<Ev>(100)).evictor(TimeEvictor.of(2)).aggregate(sumAgg);
    expect(await byTime.executeAndCollect()).toEqual([8 + 9]);
  });

  it('processing-time windows fire by the clock', async () => {
    const clock = new ManualClock(1_000);
    const env = StreamEnvironment.create({ clock });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    // An unbounded source that emits three records, then waits.
    const emitted: Ev[] = [{ key: 'a', ts: 0, v: 1 }, { key: 'a', ts: 0, v: 2 }, { key: 'b', ts: 0, v: 5 }];
    const out: Array<[string, number, number]> = [];
    env
      .fromSource(
        {
          boundedness: 'unbounded',
          splitSerde: { serialize: () => new Uint8Array(), deserialize: () => ({ splitId: 's' }) },
          enumeratorStateSerde: { serialize: () => new Uint8Array(), deserialize: () => undefined },
          createEnumerator: (ctx) => ({
            start() {},
            addReader(i: number) {
              ctx.assignSplits(i, [{ splitId: 's' }]);
            },
            addSplitsBack() {},
            snapshotState: () => undefined,
            close() {},
          }),
          restoreEnumerator: () => {
            throw new Error('not used');
          },
          createReader: () => {
            let i = 0;
            return {
              start() {},
              pollNext(o) {
                const e = emitted[i++];
                if (e === undefined) return 'nothing';
                o.collect(e);
                return 'more';
              },
              isAvailable: () => gate,
              addSplits() {},
              notifyNoMoreSplits() {},
              snapshotState: () => [],
              close() {},
            };
          },
        },
        WatermarkStrategy.noWatermarks<Ev>(),
        'manual',
      )
      .keyBy((e) => e.key)
      .window(TumblingProcessingTimeWindows.of<Ev>(1_000))
      .aggregate(sumAgg, (key, w: TimeWindow, sum) => [key, w.start, sum] as [string, number, number])
      .sinkTo({ createWriter: () => ({ write: (r) => void out.push(r) }) });
    const job = env.executeAsync('processing-time windows');
    while (job.metrics().sourceRecords < 3) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 20));
    expect(out).toEqual([]);
    clock.setTime(1_999);
    while (out.length < 2) await new Promise((r) => setTimeout(r, 5));
    expect(out.sort()).toEqual([
      ['a', 1_000, 3],
      ['b', 1_000, 5],
    ]);
    await job.cancel();
    release();
  });
});
