/**
 * The specialised window operators (sliced tumbling/sliding windows, event-time sessions) against
 * the generic WindowOperator, which the runtime uses for the same assigner when a trigger is
 * given explicitly. Arrival orders are arbitrary (elements later than the watermark bound and
 * than the allowed lateness included), so late firings, late merges and the late-data output
 * are all compared: every firing of every key in order, the late output and the window
 * function's `clear` calls must be the same. With the heap backend the fast paths are the pane
 * operator and the session operator; with LevelDB, the per-key record operators.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AggregateFunction,
  LevelStateBackend,
  OutputTag,
  type ProcessWindowFunction,
  StreamEnvironment,
  type TimeWindow,
  type WindowAssigner,
  WatermarkStrategy,
} from '@weir/core';
import { EventTimeSessionWindows, EventTimeTrigger, SlidingEventTimeWindows, TumblingEventTimeWindows } from '@weir/operators';
import type { Ev, WindowRow } from './reference.js';

const countSum: AggregateFunction<Ev, { count: number; sum: number }, { count: number; sum: number }> = {
  createAccumulator: () => ({ count: 0, sum: 0 }),
  add: (e, a) => ({ count: a.count + 1, sum: a.sum + e.v }),
  getResult: (a) => ({ ...a }),
  merge: (a, b) => ({ count: a.count + b.count, sum: a.sum + b.sum }),
};

type Mode = 'aggregate' | 'reduce' | 'process' | 'aggregate+process';

interface Outcome {
  /** Firings per key, in the order they were emitted. */
  readonly byKey: Record<string, WindowRow[]>;
  readonly late: Ev[];
  readonly clears: string[];
}

async function run(
  arrival: readonly Ev[],
  assigner: WindowAssigner<Ev, TimeWindow>,
  bound: number,
  lateness: number,
  mode: Mode,
  generic: boolean,
  parallelism: number,
  levelDir?: string,
): Promise<Outcome> {
  const env = StreamEnvironment.create({
    parallelism,
    ...(levelDir === undefined ? {} : { stateBackend: new LevelStateBackend({ dir: levelDir, cacheSize: 4, writeBufferSize: 3 }) }),
  });
  const lateTag = new OutputTag<Ev>('late');
  const clearTag = new OutputTag<string>('clears');
  let windowed = env
    .fromCollection(arrival)
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Ev>(bound).withTimestampAssigner((e) => e.ts))
    .keyBy((e) => e.key)
    .window(assigner)
    .allowedLateness(lateness)
    .sideOutputLateData(lateTag);
  if (generic) windowed = windowed.trigger(EventTimeTrigger.create<Ev>());
  const pwf: ProcessWindowFunction<{ count: number; sum: number }, WindowRow, string, TimeWindow> = {
    process(key, ctx, input, out) {
      const w = ctx.window();
      const r = input[0] as { count: number; sum: number };
      out.collect({ key, start: w.start, end: w.end, ...r });
    },
    clear(ctx) {
      const w = ctx.window();
      ctx.output(clearTag, `${w.start}:${w.end}`);
    },
  };
  const rows =
    mode === 'aggregate'
      ? windowed.aggregate(countSum, (key, w, r) => ({ key, start: w.start, end: w.end, ...r }))
      : mode === 'aggregate+process'
        ? windowed.aggregate(countSum, pwf)
        : mode === 'reduce'
          ? windowed.reduce(
              (a, b) => ({ key: a.key, ts: Math.max(a.ts, b.ts), v: a.v + b.v, n: ((a as { n?: number }).n ?? 1) + ((b as { n?: number }).n ?? 1) }),
              (key, w, r) => ({ key, start: w.start, end: w.end, count: (r as { n?: number }).n ?? 1, sum: r.v }),
            )
          : windowed.process<WindowRow>({
              process(key, ctx, elements, out) {
                const w = ctx.window();
                out.collect({ key, start: w.start, end: w.end, count: elements.length, sum: elements.reduce((s, e) => s + e.v, 0) });
              },
            });
  const late: Ev[] = [];
  const clears: string[] = [];
  rows.getSideOutput(lateTag).sinkTo({ createWriter: () => ({ write: (e) => void late.push(e) }) });
  rows.getSideOutput(clearTag).sinkTo({ createWriter: () => ({ write: (c) => void clears.push(c) }) });
  const out = await rows.executeAndCollect();
  const byKey: Record<string, WindowRow[]> = {};
  for (const r of out) (byKey[r.key] ??= []).push(r);
  const order = (a: Ev, b: Ev) => a.key.localeCompare(b.key) || a.ts - b.ts || a.v - b.v;
  return { byKey, late: late.sort(order), clears: clears.sort() };
}

const eventArb = fc.record({
  key: fc.constantFrom('a', 'b', 'c'),
  ts: fc.integer({ min: 0, max: 3_000 }),
  v: fc.integer({ min: -5, max: 20 }),
});

const assigners: Array<{ name: string; make: () => WindowAssigner<Ev, TimeWindow>; modes: readonly Mode[] }> = [
  { name: 'tumbling 500', make: () => TumblingEventTimeWindows.of<Ev>(500), modes: ['aggregate', 'reduce'] },
  { name: 'tumbling 400 offset 90', make: () => TumblingEventTimeWindows.of<Ev>(400, 90), modes: ['aggregate'] },
  { name: 'sliding 600/200', make: () => SlidingEventTimeWindows.of<Ev>(600, 200), modes: ['aggregate', 'reduce'] },
  { name: 'sliding 500/300', make: () => SlidingEventTimeWindows.of<Ev>(500, 300), modes: ['aggregate'] },
  { name: 'sliding 200/450 (gaps)', make: () => SlidingEventTimeWindows.of<Ev>(200, 450), modes: ['aggregate'] },
  {
    name: 'sessions gap 120',
    make: () => EventTimeSessionWindows.withGap<Ev>(120),
    modes: ['aggregate', 'reduce', 'process', 'aggregate+process'],
  },
  {
    name: 'sessions dynamic gap',
    make: () => EventTimeSessionWindows.withDynamicGap<Ev>((e) => (e.v % 3 === 0 ? 40 : 200)),
    modes: ['aggregate', 'process', 'aggregate+process'],
  },
];

describe('specialised window operators equal the generic window operator', () => {
  for (const a of assigners) {
    for (const mode of a.modes) {
      it(`${a.name}, ${mode}: same firings per key (late firings included), late output and clears`, async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.array(eventArb, { maxLength: 70 }),
            fc.integer({ min: 0, max: 300 }),
            fc.constantFrom(0, 100, 700),
            fc.integer({ min: 1, max: 2 }),
            async (arrival, bound, lateness, parallelism) => {
              const fast = await run(arrival, a.make(), bound, lateness, mode, false, parallelism);
              const generic = await run(arrival, a.make(), bound, lateness, mode, true, parallelism);
              expect(fast).toEqual(generic);
            },
          ),
          { numRuns: 30 },
        );
      });
    }
  }
});

describe('on LevelDB, the per-key record operators equal the generic window operator (on the heap)', () => {
  for (const a of assigners) {
    const mode = a.modes[a.modes.length - 1] as Mode;
    it(`${a.name}, ${mode}: same firings per key, late output and clears`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(eventArb, { maxLength: 50 }),
          fc.integer({ min: 0, max: 300 }),
          fc.constantFrom(0, 100, 700),
          fc.integer({ min: 1, max: 2 }),
          async (arrival, bound, lateness, parallelism) => {
            const dir = await mkdtemp(join(tmpdir(), 'weir-fastpath-'));
            try {
              const fast = await run(arrival, a.make(), bound, lateness, mode, false, parallelism, dir);
              const generic = await run(arrival, a.make(), bound, lateness, mode, true, parallelism);
              expect(fast).toEqual(generic);
            } finally {
              await rm(dir, { recursive: true, force: true });
            }
          },
        ),
        { numRuns: 8 },
      );
    });
  }
});
