/**
 * Type tests for the joins: element and key types flow through interval joins, window joins,
 * co-groups and temporal joins, and mismatched keys or wrong function shapes do not compile.
 *
 * Every `// @ts-expect-error` line is a claim "this must not compile".
 */
import {
  type Collector,
  type DataStream,
  type ProcessJoinContext,
  StreamEnvironment,
  type TimeWindow,
  WatermarkStrategy,
  type WindowedJoin,
} from '@weir/core';
import { SlidingEventTimeWindows, TumblingEventTimeWindows, temporalJoin } from '@weir/operators';
import { describe, expectTypeOf, test } from 'vitest';

interface Click {
  readonly user: string;
  readonly shard: number;
  readonly ts: number;
}

interface View {
  readonly user: string;
  readonly page: string;
  readonly ts: number;
}

const env = StreamEnvironment.create();
const clicks: DataStream<Click> = env
  .fromCollection<Click>([])
  .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Click>().withTimestampAssigner((c) => c.ts));
const views: DataStream<View> = env
  .fromCollection<View>([])
  .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<View>().withTimestampAssigner((v) => v.ts));

describe('interval join', () => {
  test('element types flow into the ProcessJoinFunction and out of process', () => {
    const joined = clicks
      .keyBy((c) => c.user)
      .intervalJoin(views.keyBy((v) => v.user))
      .between(-1_000, 0)
      .process<[string, string]>({
        processElement(click, view, ctx, out) {
          expectTypeOf(click).toEqualTypeOf<Click>();
          expectTypeOf(view).toEqualTypeOf<View>();
          expectTypeOf(ctx).toEqualTypeOf<ProcessJoinContext>();
          expectTypeOf(ctx.timestamp()).toEqualTypeOf<number>();
          expectTypeOf(out).toEqualTypeOf<Collector<[string, string]>>();
          out.collect([click.user, view.page]);
        },
      });
    expectTypeOf(joined).toEqualTypeOf<DataStream<[string, string]>>();
  });

  test('keys of another type and wrong outputs do not compile', () => {
    const byUser = clicks.keyBy((c) => c.user);
    // @ts-expect-error: a number-keyed stream cannot join a string-keyed one
    byUser.intervalJoin(views.keyBy((v) => v.ts));
    byUser
      .intervalJoin(views.keyBy((v) => v.user))
      .between(0, 1)
      .process<string>({
        // @ts-expect-error: emits a number into a string stream
        processElement: (_c, _v, _ctx, out) => out.collect(1),
      });
  });
});

describe('window join and co-group', () => {
  test('join: the pair types flow into apply and flatApply', () => {
    const j = clicks
      .join(views)
      .where((c) => c.user)
      .equalTo((v) => v.user)
      .window(TumblingEventTimeWindows.of(1_000));
    expectTypeOf(j.apply((c, v) => ({ user: c.user, page: v.page }))).toEqualTypeOf<DataStream<{ user: string; page: string }>>();
    expectTypeOf(j.flatApply<number>((c, _v, out) => out.collect(c.shard))).toEqualTypeOf<DataStream<number>>();
  });

  test('co-group: both element lists are typed', () => {
    const g = clicks
      .coGroup(views)
      .where((c) => c.user)
      .equalTo((v) => v.user)
      .window(SlidingEventTimeWindows.of(1_000, 500))
      .apply<number>((cs, vs, out) => {
        expectTypeOf(cs).toEqualTypeOf<readonly Click[]>();
        expectTypeOf(vs).toEqualTypeOf<readonly View[]>();
        out.collect(cs.length + vs.length);
      });
    expectTypeOf(g).toEqualTypeOf<DataStream<number>>();
  });

  test('keys of different types do not compile', () => {
    // @ts-expect-error: the right key must have the left key's type
    clicks.join(views).where((c) => c.user).equalTo((v) => v.ts);
    // @ts-expect-error: a key must be a KeyType
    clicks.join(views).where((c) => ({ u: c.user }));
  });

  test('the window type flows from the assigner', () => {
    const w = clicks.join(views).where((c) => c.shard).equalTo((v) => v.ts).window(TumblingEventTimeWindows.of(10));
    expectTypeOf(w).toEqualTypeOf<WindowedJoin<Click, View, number, TimeWindow>>();
  });
});

describe('temporal join', () => {
  const keys = { probeKey: (c: Click) => c.user, tableKey: (v: View) => v.user };

  test('left outer by default: the version may be undefined', () => {
    const out = temporalJoin(clicks, views, keys).map((c, v) => {
      expectTypeOf(c).toEqualTypeOf<Click>();
      expectTypeOf(v).toEqualTypeOf<View | undefined>();
      return v?.page ?? c.user;
    });
    expectTypeOf(out).toEqualTypeOf<DataStream<string>>();
  });

  test('inner: the version is always there', () => {
    temporalJoin(clicks, views, { ...keys, mode: 'inner' }).process<string>({
      processElement(c, v, ctx, out) {
        expectTypeOf(v).toEqualTypeOf<View>();
        expectTypeOf(ctx.versionTimestamp()).toEqualTypeOf<number | null>();
        expectTypeOf(ctx.getCurrentKey()).toEqualTypeOf<string>();
        out.collect(`${c.user}:${v.page}`);
      },
    });
  });

  test('mismatched keys and unknown modes do not compile', () => {
    // @ts-expect-error: the table key must have the probe key's type
    temporalJoin(clicks, views, { probeKey: (c: Click) => c.user, tableKey: (v: View) => v.ts });
    // @ts-expect-error: unknown mode
    temporalJoin(clicks, views, { ...keys, mode: 'outer' });
  });
});
