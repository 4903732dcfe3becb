import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AggregateFunction,
  OutputTag,
  StreamEnvironment,
  type TimeWindow,
  type WindowAssigner,
  WatermarkStrategy,
} from '@weir/core';
import { EventTimeSessionWindows, SlidingEventTimeWindows, TumblingEventTimeWindows } from '@weir/operators';
import {
  type Ev,
  referenceSessions,
  referenceWindows,
  shuffleWithinBound,
  sliding,
  sortRows,
  tumbling,
  type WindowRow,
  type WindowsOf,
} from './reference.js';

const countSum: AggregateFunction<Ev, { count: number; sum: number }, { count: number; sum: number }> = {
  createAccumulator: () => ({ count: 0, sum: 0 }),
  add: (e, a) => ({ count: a.count + 1, sum: a.sum + e.v }),
  getResult: (a) => a,
  merge: (a, b) => ({ count: a.count + b.count, sum: a.sum + b.sum }),
};

const eventArb = fc.record({
  key: fc.constantFrom('a', 'b', 'c', 'd'),
  ts: fc.integer({ min: 0, max: 5_000 }),
  v: fc.integer({ min: -5, max: 20 }),
});

async function runWindows(
  arrival: readonly Ev[],
  assigner: WindowAssigner<Ev, TimeWindow>,
  bound: number,
  lateness: number,
  parallelism: number,
  mode: 'aggregate' | 'reduce' | 'process',
): Promise<{ rows: WindowRow[]; late: Ev[] }> {
  const env = StreamEnvironment.create({ parallelism });
  const lateTag = new OutputTag<Ev>('late');
  const windowed = env
    .fromCollection(arrival)
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Ev>(bound).withTimestampAssigner((e) => e.ts))
    .keyBy((e) => e.key)
    .window(assigner)
    .allowedLateness(lateness)
    .sideOutputLateData(lateTag);
  const rows =
    mode === 'aggregate'
      ? windowed.aggregate(countSum, (key, w, r) => ({ key, start: w.start, end: w.end, ...r }))
      : mode === 'reduce'
        ? windowed
            .reduce((a, b) => ({ key: a.key, ts: Math.max(a.ts, b.ts), v: a.v + b.v, n: ((a as { n?: number }).n ?? 1) + ((b as { n?: number }).n ?? 1) }), (key, w, r) => ({
              key,
              start: w.start,
              end: w.end,
              count: (r as { n?: number }).n ?? 1,
              sum: r.v,
            }))
        : windowed.process<WindowRow>({
            process(key, ctx, elements, out) {
              const w = ctx.window();
              out.collect({ key, start: w.start, end: w.end, count: elements.length, sum: elements.reduce((s, e) => s + e.v, 0) });
            },
          });
  const late: Ev[] = [];
  rows.getSideOutput(lateTag).sinkTo({ createWriter: () => ({ write: (e) => void late.push(e) }) });
  return { rows: await rows.executeAndCollect(), late };
}

/** Keeps the last emitted row of each window (late firings update earlier ones). */
function finalRows(rows: readonly WindowRow[]): WindowRow[] {
  const m = new Map<string, WindowRow>();
  for (const r of rows) m.set(`${r.key}|${r.start}|${r.end}`, r);
  return [...m.values()];
}

const cases: Array<{ name: string; make: () => WindowAssigner<Ev, TimeWindow>; ref: WindowsOf }> = [
  { name: 'tumbling 1000', make: () => TumblingEventTimeWindows.of<Ev>(1000), ref: tumbling(1000) },
  { name: 'tumbling 700 offset 100', make: () => TumblingEventTimeWindows.of<Ev>(700, 100), ref: tumbling(700, 100) },
  { name: 'sliding 1000/250', make: () => SlidingEventTimeWindows.of<Ev>(1000, 250), ref: sliding(1000, 250) },
  { name: 'sliding 1000/400', make: () => SlidingEventTimeWindows.of<Ev>(1000, 400), ref: sliding(1000, 400) },
  { name: 'sliding 300/700 (gaps)', make: () => SlidingEventTimeWindows.of<Ev>(300, 700), ref: sliding(300, 700) },
];

describe('window results equal a brute-force group-by', () => {
  for (const c of cases) {
    for (const mode of ['aggregate', 'reduce', 'process'] as const) {
      it(`${c.name}, ${mode}: in-bound disorder gives the batch result, nothing late, each window once`, async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.array(eventArb, { maxLength: 80 }),
            fc.array(fc.nat(), { minLength: 1, maxLength: 20 }),
            fc.integer({ min: 1, max: 2 }),
            async (events, jitter, parallelism) => {
              const bound = 300;
              const sorted = [...events].sort((a, b) => a.ts - b.ts);
              const arrival = shuffleWithinBound(sorted, bound, jitter);
              const { rows, late } = await runWindows(arrival, c.make(), bound, 0, parallelism, mode);
              const expected = referenceWindows(sorted, c.ref, bound, 0).rows;
              expect(late).toEqual([]);
              expect(sortRows(rows)).toEqual(sortRows(expected));
            },
          ),
          { numRuns: 25 },
        );
      });
    }
  }
});

describe('late data and allowed lateness', () => {
  for (const c of cases) {
    it(`${c.name}: late elements go to the side output exactly when every window is beyond the lateness`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(eventArb, { maxLength: 60 }),
          fc.integer({ min: 0, max: 200 }),
          fc.constantFrom(0, 150, 600),
          async (arrival, bound, lateness) => {
            const { rows, late } = await runWindows(arrival, c.make(), bound, lateness, 1, 'aggregate');
            const ref = referenceWindows(arrival, c.ref, bound, lateness);
            expect(late).toEqual(ref.late);
            expect(sortRows(finalRows(rows))).toEqual(sortRows(ref.rows));
            if (lateness === 0) expect(rows.length).toBe(ref.rows.length);
          },
        ),
        { numRuns: 40 },
      );
    });
  }
});

describe('session windows', () => {
  it('equal brute-force merged intervals for any arrival order within the bound', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventArb, { maxLength: 60 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1, max: 400 }),
        fc.constantFrom('aggregate' as const, 'process' as const),
        async (events, jitter, gap, mode) => {
          const bound = 500;
          const sorted = [...events].sort((a, b) => a.ts - b.ts);
          const arrival = shuffleWithinBound(sorted, bound, jitter);
          const { rows, late } = await runWindows(arrival, EventTimeSessionWindows.withGap<Ev>(gap), bound, 0, 2, mode);
          expect(late).toEqual([]);
          expect(sortRows(rows)).toEqual(sortRows(referenceSessions(sorted, gap)));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('dynamic gaps merge as the brute force does', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(eventArb, { maxLength: 50 }), async (events) => {
        const gapOf = (e: Ev): number => (e.key === 'a' ? 50 : 300);
        const sorted = [...events].sort((a, b) => a.ts - b.ts);
        const { rows } = await runWindows(sorted, EventTimeSessionWindows.withDynamicGap<Ev>(gapOf), 0, 0, 1, 'aggregate');
        const expected = [
          ...referenceSessions(sorted.filter((e) => e.key === 'a'), 50),
          ...referenceSessions(sorted.filter((e) => e.key !== 'a'), 300),
        ];
        expect(sortRows(rows)).toEqual(sortRows(expected));
      }),
      { numRuns: 60 },
    );
  });
});
