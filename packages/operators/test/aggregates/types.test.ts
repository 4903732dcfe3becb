/**
 * Types flow through the aggregate factories: selectors are checked against the element type
 * and results carry the selector's type. Checked by `tsc -p packages/operators/tsconfig.json`
 * (the `@ts-expect-error` lines fail the type check if they ever compile); the runtime part only
 * builds the pipelines.
 */
import { describe, expectTypeOf, it } from 'vitest';
import { type AggregateFunction, StreamEnvironment, WatermarkStrategy } from '@weir/core';
import {
  approxDistinctCount,
  approxQuantiles,
  avg,
  count,
  distinctCount,
  first,
  last,
  max,
  min,
  type QuantileSummary,
  SlidingEventTimeWindows,
  sum,
  topN,
} from '@weir/operators';

interface Ev {
  readonly k: string;
  readonly ts: number;
  readonly v: number;
  readonly name: string;
  readonly tag: 'x' | 'y';
}

describe('aggregate types', () => {
  it('results carry the selector types', () => {
    expectTypeOf(count<Ev>()).toExtend<AggregateFunction<Ev, unknown, number>>();
    expectTypeOf(sum((e: Ev) => e.v).getResult).returns.toEqualTypeOf<number>();
    expectTypeOf(avg((e: Ev) => e.v).getResult).returns.toEqualTypeOf<number | undefined>();
    expectTypeOf(min((e: Ev) => e.v).getResult).returns.toEqualTypeOf<number | undefined>();
    expectTypeOf(max((e: Ev) => e.name).getResult).returns.toEqualTypeOf<string | undefined>();
    expectTypeOf(max((e: Ev) => e.tag).getResult).returns.toEqualTypeOf<'x' | 'y' | undefined>();
    expectTypeOf(first((e: Ev) => e.ts).getResult).returns.toEqualTypeOf<Ev | undefined>();
    expectTypeOf(first<Ev>().getResult).returns.toEqualTypeOf<Ev | undefined>();
    expectTypeOf(last((e: Ev) => e.ts, (e) => e.name).getResult).returns.toEqualTypeOf<string | undefined>();
    expectTypeOf(topN(3, (e: Ev) => e.v, (e) => e.name).getResult).returns.toEqualTypeOf<Ev[]>();
    expectTypeOf(distinctCount((e: Ev) => e.name).getResult).returns.toEqualTypeOf<number>();
    expectTypeOf(approxDistinctCount((e: Ev) => e.name).getResult).returns.toEqualTypeOf<number>();
    expectTypeOf(approxQuantiles((e: Ev) => e.v).getResult).returns.toEqualTypeOf<QuantileSummary>();
  });

  it('selectors of the wrong type do not compile', () => {
    // @ts-expect-error sum needs a number
    sum((e: Ev) => e.name);
    // @ts-expect-error avg needs a number
    avg((e: Ev) => e.tag);
    // @ts-expect-error min compares numbers or strings
    min((e: Ev) => ({ v: e.v }));
    // @ts-expect-error a timestamp is a number
    first((e: Ev) => e.name);
    // @ts-expect-error a score is a number
    topN(2, (e: Ev) => e.name);
    // @ts-expect-error an id is a string or a number
    topN(2, (e: Ev) => e.v, (e) => [e.k]);
    // @ts-expect-error quantiles of numbers only
    approxQuantiles((e: Ev) => e.name);
    // @ts-expect-error the option is `precision`
    approxDistinctCount((e: Ev) => e.name, { p: 12 });
  });

  it('element types are inferred from the window they aggregate', () => {
    const env = StreamEnvironment.create({ parallelism: 1 });
    const windowed = env
      .fromCollection<Ev>([])
      .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Ev>(0).withTimestampAssigner((e) => e.ts))
      .keyBy((e) => e.k)
      .window(SlidingEventTimeWindows.of(1000, 250));
    // No annotations: `e` is an Ev, and the window function sees each result type.
    windowed.aggregate(sum((e) => e.v), (key, w, total) => {
      expectTypeOf(total).toEqualTypeOf<number>();
      return { key, end: w.end, total };
    });
    windowed.aggregate(count(), (_key, _w, n) => expectTypeOf(n).toEqualTypeOf<number>());
    windowed.aggregate(max((e) => e.name), (_key, _w, m) => expectTypeOf(m).toEqualTypeOf<string | undefined>());
    windowed.aggregate(topN(2, (e) => e.v, (e) => e.name), (_key, _w, top) => expectTypeOf(top).toEqualTypeOf<Ev[]>());
    windowed.aggregate(approxQuantiles((e) => e.v), (_key, _w, s) => s.quantile(0.99));
    // @ts-expect-error no such field
    windowed.aggregate(sum((e) => e.value));
  });
});
