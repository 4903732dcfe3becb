/**
 * Window throughput: event-time windows through the public API, as a user writes them:
 *
 *   fromSequence → map to events → assignTimestampsAndWatermarks → keyBy → window → aggregate
 *   (count, with a window result function) → counting sink
 *
 * Cases (each in its own child process unless `--in-process`):
 *   tumbling  TumblingEventTimeWindows.of(10 s)          (slicing operator: one pane per window)
 *   sliding   SlidingEventTimeWindows.of(10 s, 2 s)      (slicing operator: 2 s panes, 5 per window)
 *   session   EventTimeSessionWindows.withGap(3 s)       (generic window operator, merging windows)
 *   loop-tumbling  baseline: the tumbling case as a hand-written loop, no engine
 *
 * Workload: `--keys` keys (default 100,000), drawn by a hash of the sequence number, so each
 * key's events arrive at random (Poisson); event time advances by 1 ms every `--per-ms` events
 * (default 100, i.e. 100,000 events per second of event time), in order. A key then gets on
 * average 1 event per second: 10 per 10 s tumbling window, 2 per 2 s pane, and sessions (gap 3 s)
 * of about e³ ≈ 20 events. The watermark bound is 1 s. `fromSequence` runs its watermark
 * generator after every record (deterministic event time); the watermark advances every
 * `--per-ms` records.
 *
 * Every case: one warm-up run, then `--reps` measured runs (default 3); the median is reported,
 * in source events per wall-clock second and per CPU-second. The sink checks the sum of the
 * counts: N for tumbling and sessions, 5·N for sliding (every event is in 5 windows).
 *
 * Usage:
 *   node dist/windows.js [--records N] [--keys 100000] [--per-ms 100] [--reps 3] [--quick]
 *                        [--window tumbling|sliding|session|loop-tumbling]... [--in-process] [--profile DIR] [--json]
 * Environment: WEIR_BENCH_RECORDS, WEIR_BENCH_KEYS, WEIR_BENCH_REPS, WEIR_BENCH_QUICK=1.
 * `--profile DIR` runs each child with `node --cpu-prof --cpu-prof-dir=DIR`.
 */
import {
  type AggregateFunction,
  type DataStream,
  StreamEnvironment,
  type TimeWindow,
  WatermarkStrategy,
} from '@weir/core';
import { EventTimeSessionWindows, SlidingEventTimeWindows, TumblingEventTimeWindows } from '@weir/operators';
import {
  COMMON_OPTIONS,
  type CommonOptions,
  commonOptions,
  CountingSink,
  fmt,
  median,
  medianRate,
  parseBenchArgs,
  positiveInt,
  printTable,
  runCases,
  runIfMain,
  selectCases,
  timeRuns,
} from './harness.js';

// ---------------------------------------------------------------------------------------------
// The workload.

/** The event the map produces. */
interface Event {
  readonly key: number;
  readonly ts: number;
}

/** What the window result function emits. */
interface WindowCount {
  readonly key: number;
  readonly end: number;
  readonly count: number;
}

const T0 = Date.UTC(2026, 3, 6, 16, 0, 0);

/**
 * A well-mixed 32-bit hash (murmur3's finalizer). A plain multiplicative hash would spread each
 * key's events almost evenly (low discrepancy), so no key would ever pause long enough to end a
 * session; mixed, each key's events arrive as a Poisson process.
 */
function mix32(n: number): number {
  let h = n | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** map: sequence number → event. Keys by a hash of `n`; time advances 1 ms every `perMs` events. */
function makeToEvent(keys: number, perMs: number): (n: number) => Event {
  return (n: number): Event => ({ key: mix32(n) % keys, ts: T0 + Math.floor(n / perMs) });
}

/** Counts elements: a number accumulator. */
const countAgg: AggregateFunction<Event, number, number> = {
  createAccumulator: () => 0,
  add: (_e, acc) => acc + 1,
  getResult: (acc) => acc,
  merge: (a, b) => a + b,
};

const toCount = (key: number, w: TimeWindow, count: number): WindowCount => ({ key, end: w.end, count });

/** What a run produced, to check that every run did the same work. */
interface Checksum {
  /** Windows emitted. */
  readonly windows: number;
  /** Sum of the counts. */
  readonly sum: number;
}

// ---------------------------------------------------------------------------------------------
// The cases.

type CaseName = 'tumbling' | 'sliding' | 'session' | 'loop-tumbling';
const CASES: readonly CaseName[] = ['tumbling', 'loop-tumbling', 'sliding', 'session'];

const DESCRIPTIONS: Record<CaseName, string> = {
  tumbling: 'TumblingEventTimeWindows.of(10 s) → aggregate(count)',
  sliding: 'SlidingEventTimeWindows.of(10 s, 2 s) → aggregate(count)',
  session: 'EventTimeSessionWindows.withGap(3 s) → aggregate(count)',
  'loop-tumbling': 'baseline: the tumbling case as a hand-written loop (Map per window)',
};

/** Events per second the goals ask for, on one core (none for the baseline). */
const GOALS: Record<CaseName, number | undefined> = { tumbling: 2e6, sliding: 1e6, session: 1e6, 'loop-tumbling': undefined };

/** Each event is counted in this many windows. */
const WINDOWS_PER_EVENT: Record<CaseName, number> = { tumbling: 1, sliding: 5, session: 1, 'loop-tumbling': 1 };

/**
 * The tumbling case without Weir: the same events, a `Map` of per-key counts per open window,
 * windows emitted when the same watermark (max timestamp − 1 s − 1) passes their end. What the
 * engine's per-event overhead is measured against.
 */
function loopTumbling(records: number, keys: number, perMs: number): Checksum {
  const toEvent = makeToEvent(keys, perMs);
  const open = new Map<number, Map<number, number>>();
  let windows = 0;
  let sum = 0;
  let watermark = Number.NEGATIVE_INFINITY;
  const emit = (counts: Map<number, number>, end: number): void => {
    for (const [key, count] of counts) {
      const w = { key, end, count };
      windows++;
      sum += w.count;
    }
  };
  for (let n = 0; n < records; n++) {
    const e = toEvent(n);
    const start = e.ts - (e.ts % 10_000);
    let counts = open.get(start);
    if (counts === undefined) {
      counts = new Map();
      open.set(start, counts);
    }
    counts.set(e.key, (counts.get(e.key) ?? 0) + 1);
    const wm = e.ts - 1_000 - 1;
    if (wm > watermark) {
      watermark = wm;
      for (const [s, c] of open) {
        if (s + 10_000 - 1 > wm) continue;
        emit(c, s + 10_000);
        open.delete(s);
      }
    }
  }
  for (const [s, c] of open) emit(c, s + 10_000);
  return { windows, sum };
}

async function runCase(name: CaseName, records: number, keys: number, perMs: number): Promise<Checksum> {
  if (name === 'loop-tumbling') return loopTumbling(records, keys, perMs);
  const env = StreamEnvironment.create({ parallelism: 1 });
  const sink = new CountingSink<WindowCount>((w) => w.count);
  const keyed = env
    .fromSequence(0, records - 1)
    .map(makeToEvent(keys, perMs))
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Event>(1_000).withTimestampAssigner((e) => e.ts))
    .keyBy((e) => e.key);
  let counts: DataStream<WindowCount>;
  switch (name) {
    case 'tumbling':
      counts = keyed.window(TumblingEventTimeWindows.of<Event>(10_000)).aggregate(countAgg, toCount);
      break;
    case 'sliding':
      counts = keyed.window(SlidingEventTimeWindows.of<Event>(10_000, 2_000)).aggregate(countAgg, toCount);
      break;
    case 'session':
      counts = keyed.window(EventTimeSessionWindows.withGap<Event>(3_000)).aggregate(countAgg, toCount);
      break;
  }
  counts.sinkTo(sink);
  await env.execute(`windows ${name}`);
  const c = sink.checksum();
  return { windows: c.count, sum: c.sum };
}

// ---------------------------------------------------------------------------------------------
// Measurement.

interface Options extends CommonOptions {
  perMs: number;
  cases: CaseName[];
  profile: string | undefined;
}

/**
 * The measured figures of one case.
 * @public
 */
export interface WindowCaseResult {
  /** The case: `tumbling`, `sliding`, `session` or the `loop-tumbling` baseline. */
  readonly name: CaseName;
  /** Source events per run. */
  readonly records: number;
  /** Distinct keys. */
  readonly keys: number;
  /** Measured runs (after one warm-up). */
  readonly reps: number;
  /** Median source events per wall-clock second. */
  readonly eventsPerSec: number;
  /** Median source events per CPU-second (user + system, so GC and helper threads count). */
  readonly eventsPerCpuSec: number;
  /** Median wall time of one run, ms. */
  readonly wallMs: number;
  /** Every measured run: [wall ms, cpu ms]. */
  readonly runs: ReadonlyArray<readonly [number, number]>;
  /** Windows emitted and the sum of their counts (the same in every run). */
  readonly checksum: Checksum;
}

async function measure(name: CaseName, o: Options): Promise<WindowCaseResult> {
  // Warm-up: a full run, so the JIT has seen every call site with its real types.
  const checksum = await runCase(name, o.records, o.keys, o.perMs);
  if (checksum.sum !== o.records * WINDOWS_PER_EVENT[name]) {
    throw new Error(`${name}: counts sum to ${checksum.sum}, expected ${o.records * WINDOWS_PER_EVENT[name]}`);
  }
  const runs = await timeRuns(
    o.reps,
    () => runCase(name, o.records, o.keys, o.perMs),
    (c, r) => {
      if (c.windows !== checksum.windows || c.sum !== checksum.sum) {
        throw new Error(`${name}: run ${r} produced ${JSON.stringify(c)}, warm-up ${JSON.stringify(checksum)}`);
      }
    },
  );
  return {
    name,
    records: o.records,
    keys: o.keys,
    reps: o.reps,
    eventsPerSec: medianRate(o.records, runs, 0),
    eventsPerCpuSec: medianRate(o.records, runs, 1),
    wallMs: median(runs.map((r) => r[0])),
    runs,
    checksum,
  };
}

function parseOptions(argv: readonly string[]): Options {
  const values = parseBenchArgs(argv, {
    ...COMMON_OPTIONS,
    'per-ms': { type: 'string' },
    window: { type: 'string', multiple: true },
    profile: { type: 'string' },
  });
  return {
    ...commonOptions(values, { records: 3_000_000, quickRecords: 500_000, reps: 3, quickReps: 3, keys: 100_000 }),
    perMs: positiveInt(values['per-ms'], undefined, 100, 'per-ms'),
    cases: selectCases(values.window, CASES, 'window case'),
    profile: typeof values.profile === 'string' ? values.profile : undefined,
  };
}

/** Goals are per core: judged on events per CPU-second (all threads of the process). */
function goalText(r: WindowCaseResult): string {
  const goal = GOALS[r.name];
  return goal === undefined ? '-' : `${fmt(goal)}/cpu-s ${r.eventsPerCpuSec >= goal ? 'met' : 'MISSED'}`;
}

function report(results: readonly WindowCaseResult[], o: Options): void {
  console.log(
    `\nwindows: ${o.records.toLocaleString('en-US')} events, ${o.keys.toLocaleString('en-US')} keys, ` +
      `${(o.perMs * 1000).toLocaleString('en-US')} events per second of event time, parallelism 1, ` +
      `median of ${o.reps} runs after a warm-up (Node ${process.version})`,
  );
  printTable(
    ['case', 'events/s (wall)', 'events/CPU-s', 'wall', 'windows', 'goal', 'what'],
    results.map((r) => [
      r.name,
      `${fmt(r.eventsPerSec)}/s`,
      `${fmt(r.eventsPerCpuSec)}/cpu-s`,
      `${r.wallMs.toFixed(0)} ms`,
      r.checksum.windows.toLocaleString('en-US'),
      goalText(r),
      DESCRIPTIONS[r.name],
    ]),
  );
}

/**
 * Runs the window benchmarks with command-line style arguments; returns the figures.
 * @experimental
 */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<WindowCaseResult[]> {
  const o = parseOptions(argv);
  const results = await runCases(o, (name) => measure(name, o), {
    module: import.meta.url,
    args: (name) => ['--window', name, '--records', String(o.records), '--keys', String(o.keys), '--per-ms', String(o.perMs), '--reps', String(o.reps)],
    execArgv: (name) =>
      o.profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${o.profile}`, `--cpu-prof-name=windows-${name}.cpuprofile`],
    label: (name) => `window benchmark ${name}`,
  });
  if (o.child) return results;
  report(results, o);
  if (o.json) console.log(JSON.stringify({ benchmark: 'windows', options: o, results }, null, 2));
  return results;
}

runIfMain(import.meta.url, main);
