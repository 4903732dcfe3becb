import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DataStream,
  InvalidPipelineError,
  StreamEnvironment,
  TimeWindow,
  type Trigger,
  WatermarkStrategy,
  WindowAssigner,
} from '@weir/core';

interface Ev {
  readonly key: string;
  readonly ts: number;
  readonly id: number;
}

/**
 * Sliding event-time windows (tumbling when `step === len`), defined here because the real
 * assigners live in @weir/operators, which core does not depend on.
 */
class TestWindows extends WindowAssigner<unknown, TimeWindow> {
  constructor(
    private readonly len: number,
    private readonly step: number,
  ) {
    super();
  }

  assignWindows(_element: unknown, timestamp: number): readonly TimeWindow[] {
    const out: TimeWindow[] = [];
    for (let s = TimeWindow.windowStart(timestamp, 0, this.step); s > timestamp - this.len; s -= this.step) out.push(new TimeWindow(s, s + this.len));
    return out;
  }

  getDefaultTrigger(): Trigger<unknown, TimeWindow> {
    return endOfWindow;
  }

  isEventTime(): boolean {
    return true;
  }

  windowFromId(id: string): TimeWindow {
    return TimeWindow.fromId(id);
  }
}

const endOfWindow: Trigger<unknown, TimeWindow> = {
  onElement(_e, _ts, w, ctx) {
    if (w.maxTimestamp() <= ctx.getCurrentWatermark()) return 'FIRE';
    ctx.registerEventTimeTimer(w.maxTimestamp());
    return 'CONTINUE';
  },
  onEventTime: (t, w) => (t === w.maxTimestamp() ? 'FIRE' : 'CONTINUE'),
  onProcessingTime: () => 'CONTINUE',
  clear(w, ctx) {
    ctx.deleteEventTimeTimer(w.maxTimestamp());
  },
};

/** The windows `[start, end)` of a timestamp, as the reference sees them. */
function windowsOf(ts: number, len: number, step: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const last = ts - (((ts % step) + step) % step);
  for (let s = last; s > ts - len; s -= step) out.push([s, s + len]);
  return out;
}

type Pair = [left: number, right: number, ts: number];

/** Nested loops: every pair of equal keys that share a window, once per shared window. */
function referenceJoin(lefts: readonly Ev[], rights: readonly Ev[], len: number, step: number): Pair[] {
  const out: Pair[] = [];
  for (const l of lefts) {
    for (const r of rights) {
      if (l.key !== r.key) continue;
      const rw = new Set(windowsOf(r.ts, len, step).map(([s]) => s));
      for (const [s, e] of windowsOf(l.ts, len, step)) if (rw.has(s)) out.push([l.id, r.id, e - 1]);
    }
  }
  return out;
}

type Group = [key: string, end: number, lefts: number[], rights: number[]];

/** A batch group-by of both sides per key and window. */
function referenceCoGroup(lefts: readonly Ev[], rights: readonly Ev[], len: number, step: number): Group[] {
  const groups = new Map<string, Group>();
  const add = (e: Ev, side: 2 | 3): void => {
    for (const [, end] of windowsOf(e.ts, len, step)) {
      const id = `${e.key}|${end}`;
      const g = groups.get(id) ?? [e.key, end, [], []];
      g[side].push(e.id);
      groups.set(id, g);
    }
  };
  for (const l of lefts) add(l, 2);
  for (const r of rights) add(r, 3);
  return [...groups.values()].map(normGroup);
}

const normGroup = (g: Group): Group => [g[0], g[1], [...g[2]].sort((a, b) => a - b), [...g[3]].sort((a, b) => a - b)];
const byJson = <T>(xs: readonly T[]): string[] => xs.map((x) => JSON.stringify(x)).sort();

function shuffleWithinBound(events: readonly Ev[], bound: number, jitter: readonly number[]): Ev[] {
  return events
    .map((e, i) => ({ e, k: e.ts + ((jitter[i % jitter.length] ?? 0) % (bound + 1)), i }))
    .sort((a, b) => a.k - b.k || a.i - b.i)
    .map((x) => x.e);
}

function timestamped(env: StreamEnvironment, events: readonly Ev[], bound: number, name: string): DataStream<Ev> {
  return env
    .fromCollection(events, name)
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Ev>(bound).withTimestampAssigner((e) => e.ts));
}

const sideArb = (idBase: number): fc.Arbitrary<Ev[]> =>
  fc
    .array(fc.record({ key: fc.constantFrom('a', 'b', 'c'), ts: fc.integer({ min: 0, max: 3_000 }) }), { maxLength: 40 })
    .map((es) => es.map((e, i) => ({ ...e, id: idBase + i })));

const windowArb = fc.constantFrom<[number, number]>([500, 500], [700, 700], [1_000, 250], [600, 400], [300, 700]);

describe('window join results equal nested-loop references', () => {
  it('join (apply and flatApply): every pair of a key in a shared window, stamped end − 1; in-bound disorder; parallelism 1 and 2; state returns to 0', async () => {
    await fc.assert(
      fc.asyncProperty(
        sideArb(0),
        sideArb(1_000),
        windowArb,
        fc.array(fc.nat(), { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 1, max: 2 }),
        fc.boolean(),
        async (lefts, rights, [len, step], jitter, parallelism, flat) => {
          const bound = 200;
          const env = StreamEnvironment.create({ parallelism });
          const windowed = timestamped(env, shuffleWithinBound(lefts, bound, jitter), bound, 'left')
            .join(timestamped(env, shuffleWithinBound(rights, bound, [...jitter].reverse()), bound, 'right'))
            .where((l) => l.key)
            .equalTo((r) => r.key)
            .window(new TestWindows(len, step));
          const joined: DataStream<[number, number]> = flat
            ? windowed.flatApply<[number, number]>((l, r, out) => out.collect([l.id, r.id]))
            : windowed.apply<[number, number]>((l, r) => [l.id, r.id]);
          const rows: Pair[] = [];
          joined.sinkTo({ createWriter: () => ({ write: ([l, r], ts) => void rows.push([l, r, ts ?? Number.NaN]) }) });
          const result = await env.execute('window-join-property');
          expect(byJson(rows)).toEqual(byJson(referenceJoin(lefts, rights, len, step)));
          const ops = result.metrics.operators.filter((o) => o.name === 'WindowJoin');
          expect(ops.length).toBe(parallelism);
          for (const o of ops) expect(o.stateEntries).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('coGroup: per key and window, both sides (one may be empty) equal a batch group-by', async () => {
    await fc.assert(
      fc.asyncProperty(
        sideArb(0),
        sideArb(1_000),
        windowArb,
        fc.array(fc.nat(), { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 1, max: 2 }),
        async (lefts, rights, [len, step], jitter, parallelism) => {
          const bound = 200;
          const env = StreamEnvironment.create({ parallelism });
          const groups = await timestamped(env, shuffleWithinBound(lefts, bound, jitter), bound, 'left')
            .coGroup(timestamped(env, shuffleWithinBound(rights, bound, jitter), bound, 'right'))
            .where((l) => l.key)
            .equalTo((r) => r.key)
            .window(new TestWindows(len, step))
            .apply<[string, number[], number[]]>((ls, rs, out) => {
              const first = ls[0] ?? rs[0];
              if (first !== undefined) out.collect([first.key, ls.map((l) => l.id), rs.map((r) => r.id)]);
            })
            // the window's end, from the output timestamp (end − 1)
            .process<Group>({ processElement: ([key, ls, rs], ctx, out) => out.collect([key, (ctx.timestamp() ?? Number.NaN) + 1, ls, rs]) })
            .executeAndCollect();
          expect(byJson(groups.map(normGroup))).toEqual(byJson(referenceCoGroup(lefts, rights, len, step)));
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe('window join behaviour', () => {
  type Side = Ev & { readonly side: 'L' | 'R' };

  /** Both sides from one source, so that arrival order and watermarks are deterministic. */
  function split(env: StreamEnvironment, events: readonly Side[], bound: number): [DataStream<Side>, DataStream<Side>] {
    const all = env
      .fromCollection(events)
      .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Side>(bound).withTimestampAssigner((e) => e.ts));
    return [all.filter((e) => e.side === 'L'), all.filter((e) => e.side === 'R')];
  }

  it('windows holding one side only emit nothing; allowed lateness re-fires the window with all its pairs; later data is dropped', async () => {
    const env = StreamEnvironment.create();
    const [l, r] = split(
      env,
      [
        { side: 'L', key: 'a', ts: 10, id: 1 },
        { side: 'R', key: 'a', ts: 20, id: 2 },
        { side: 'L', key: 'b', ts: 30, id: 3 }, // no right side for b
        { side: 'L', key: 'a', ts: 150, id: 4 }, // watermark 149: window [0, 100) fires
        { side: 'R', key: 'a', ts: 50, id: 5 }, // late, within lateness 100: fires again with 2 pairs
        { side: 'L', key: 'a', ts: 260, id: 6 }, // watermark 259: [0, 100) is purged (99 + 100 <= 259)
        { side: 'R', key: 'a', ts: 60, id: 7 }, // beyond the lateness: dropped
      ],
      0,
    );
    const out = await l
      .join(r)
      .where((x) => x.key)
      .equalTo((y) => y.key)
      .window(new TestWindows(100, 100))
      .allowedLateness(100)
      .apply((x, y) => `${x.id}-${y.id}`)
      .executeAndCollect();
    expect(out).toEqual(['1-2', '1-2', '1-5']);
  });

  it('needs timestamps on both inputs for event-time windows', () => {
    const env = StreamEnvironment.create();
    const withTs = timestamped(env, [], 0, 'ts');
    const without = env.fromCollection<Ev>([]);
    const build = (a: DataStream<Ev>, b: DataStream<Ev>) => () =>
      a.join(b).where((x) => x.key).equalTo((y) => y.key).window(new TestWindows(10, 10)).apply((x) => x);
    expect(build(withTs, without)).toThrow(InvalidPipelineError);
    expect(build(without, withTs)).toThrow(/left input has none/);
    expect(() => withTs.join(withTs).where('key' as never)).toThrow(TypeError);
  });
});
