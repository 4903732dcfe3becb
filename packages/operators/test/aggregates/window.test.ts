/**
 * End to end: the aggregate functions in a real sliding event-time window, where the runtime
 * keeps one accumulator per slice (pane) and merges the slices of each window when it fires —
 * the same slice into several windows. Results must equal a brute-force group-by.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
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
  SlidingEventTimeWindows,
  sum,
  topN,
} from '@weir/operators';

interface E {
  readonly k: string;
  readonly ts: number;
  readonly v: number;
  readonly u: string;
}

interface Row<R> {
  readonly key: string;
  readonly start: number;
  readonly end: number;
  readonly result: R;
}

const SIZE = 1000;
const SLIDE = 250;

const eventsArb = fc
  .array(
    fc.record({
      k: fc.constantFrom('a', 'b', 'c'),
      ts: fc.integer({ min: 0, max: 4_000 }),
      v: fc.integer({ min: -50, max: 50 }),
      u: fc.constantFrom('u1', 'u2', 'u3', 'u4', 'u5', 'u6'),
    }),
    { maxLength: 120 },
  )
  // Bounded out-of-orderness 0: the input arrives in timestamp order.
  .map((xs) => xs.sort((a, b) => a.ts - b.ts));

async function runWindows<R, TAcc, V>(
  events: readonly E[],
  fn: AggregateFunction<E, TAcc, V>,
  finish: (v: V) => R,
  parallelism: number,
): Promise<Array<Row<R>>> {
  const env = StreamEnvironment.create({ parallelism });
  return env
    .fromCollection(events)
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<E>(0).withTimestampAssigner((e) => e.ts))
    .keyBy((e) => e.k)
    .window(SlidingEventTimeWindows.of(SIZE, SLIDE))
    .aggregate(fn, (key, w, r) => ({ key, start: w.start, end: w.end, result: finish(r) }))
    .executeAndCollect();
}

/** Brute force: every window `[s, s + SIZE)`, `s ≡ 0 (mod SLIDE)`, with its elements in arrival order. */
function groupByWindow(events: readonly E[]): Map<string, { key: string; start: number; end: number; elements: E[] }> {
  const groups = new Map<string, { key: string; start: number; end: number; elements: E[] }>();
  for (const e of events) {
    for (let start = e.ts - (e.ts % SLIDE); start > e.ts - SIZE; start -= SLIDE) {
      const id = `${e.k}|${start}`;
      let g = groups.get(id);
      if (g === undefined) groups.set(id, (g = { key: e.k, start, end: start + SIZE, elements: [] }));
      g.elements.push(e);
    }
  }
  return groups;
}

const sortRows = <R>(rows: Array<Row<R>>): Array<Row<R>> =>
  [...rows].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.start - b.start));

describe('aggregates in SlidingEventTimeWindows.of(1000, 250)', () => {
  it('sum equals a brute-force group-by and sum', async () => {
    await fc.assert(
      fc.asyncProperty(eventsArb, fc.integer({ min: 1, max: 2 }), async (events, parallelism) => {
        const rows = await runWindows(events, sum((e: E) => e.v), (r) => r, parallelism);
        const expected = [...groupByWindow(events).values()].map(({ key, start, end, elements }) => ({
          key,
          start,
          end,
          result: elements.reduce((s, e) => s + e.v, 0),
        }));
        expect(sortRows(rows)).toEqual(sortRows(expected));
      }),
      { numRuns: 20 },
    );
  });

  // Every other function against its own single pass over the window's elements (which the
  // contract tests compare with brute force): pane merging must not change any result.
  const cases: Array<{ name: string; run: (events: readonly E[], parallelism: number) => Promise<Array<Row<unknown>>>; one: (xs: readonly E[]) => unknown }> = [];
  function add<TAcc, V>(name: string, make: () => AggregateFunction<E, TAcc, V>, finish: (v: V) => unknown = (v) => v): void {
    cases.push({
      name,
      run: (events, parallelism) => runWindows(events, make(), finish, parallelism),
      one: (xs) => {
        const f = make();
        let acc = f.createAccumulator();
        for (const x of xs) acc = f.add(x, acc);
        return finish(f.getResult(acc));
      },
    });
  }
  add('count', () => count<E>());
  add('avg', () => avg((e: E) => e.v / 7));
  add('min', () => min((e: E) => e.v));
  add('max', () => max((e: E) => e.u));
  add('first', () => first((e: E) => e.ts));
  add('last', () => last((e: E) => e.ts, (e) => [e.u, e.v]));
  add('topN', () => topN(3, (e: E) => e.v, (e) => e.u));
  add('distinctCount', () => distinctCount((e: E) => e.u));
  add('approxDistinctCount', () => approxDistinctCount((e: E) => `${e.u}:${e.v}`, { precision: 8 }));
  add(
    'approxQuantiles',
    () => approxQuantiles((e: E) => e.v),
    (s) => [s.count, s.min, s.max, s.quantile(0.5), s.quantile(0.9)],
  );

  for (const c of cases) {
    it(`${c.name}: each window's result equals one pass over its elements`, async () => {
      await fc.assert(
        fc.asyncProperty(eventsArb, fc.integer({ min: 1, max: 2 }), async (events, parallelism) => {
          const rows = await c.run(events, parallelism);
          const expected = [...groupByWindow(events).values()].map(({ key, start, end, elements }) => ({
            key,
            start,
            end,
            result: c.one(elements),
          }));
          expect(sortRows(rows)).toEqual(sortRows(expected));
        }),
        { numRuns: 8 },
      );
    });
  }
});
