/**
 * Core pipeline throughput: how fast Weir's runtime pushes records through a chain of
 * stateless operators and through keyed state, compared with a hand-written TypeScript loop
 * that does the same work.
 *
 * Cases (each runs in its own child process unless `--in-process`):
 *   weir-stateless  fromSequence → map → filter → counting sink                (one chained task)
 *   weir-keyed      fromSequence → map → filter → keyBy → process(ValueState) → counting sink
 *   loop-stateless  for-loop: same map + filter functions, count
 *   loop-keyed      for-loop: same map + filter + key functions, Map-based running sum per key
 *
 * Every case: one warm-up run, then `--reps` measured runs; the median is reported.
 * Throughput is source records per wall-clock second and per CPU-second (user + system time
 * of the process, from `process.cpuUsage`, so GC and helper threads count).
 *
 * Usage:
 *   node --expose-gc dist/core-pipeline.js [--records 10000000] [--keys 100000] [--reps 5]
 *        [--key-order sequential|random] [--quick] [--case weir-keyed ...] [--in-process] [--json]
 * `--quick` is 1,000,000 records and 3 repetitions. Environment: WEIR_BENCH_RECORDS,
 * WEIR_BENCH_KEYS, WEIR_BENCH_KEY_ORDER, WEIR_BENCH_REPS, WEIR_BENCH_QUICK=1.
 * The `load` column is the machine's 1-minute load average around the measured runs: figures
 * taken while other processes ran are low (the keyed case is bound by memory latency).
 */
import { availableParallelism, loadavg } from 'node:os';
import {
  type Collector,
  type KeyedProcessContext,
  type KeyedProcessFunction,
  type RuntimeContext,
  StreamEnvironment,
  type ValueState,
  ValueStateDescriptor,
} from '@weir/core';
import {
  COMMON_OPTIONS,
  type CommonOptions,
  commonOptions,
  CountingSink,
  fmt,
  median,
  medianRate,
  parseBenchArgs,
  printTable,
  runCases,
  runIfMain,
  selectCases,
  timeRuns,
} from './harness.js';

// ---------------------------------------------------------------------------------------------
// The workload: the same user functions for Weir and for the hand-written loop.

/** The record the map produces. */
interface Event {
  readonly id: number;
  readonly key: number;
  readonly amount: number;
}

/** How keys follow each other in the input. */
type KeyOrder = 'sequential' | 'random';

/**
 * map: a sequence number → an event with one of `keys` keys: round-robin (`sequential`, key
 * `n mod keys`) or scattered (`random`, a multiplicative hash of `n` mod keys: every key
 * about equally often, in no order).
 */
function makeToEvent(keys: number, order: KeyOrder): (n: number) => Event {
  // `>>> 1` keeps the product a non-negative int32, so `%` stays an integer operation.
  if (order === 'random') return (n: number): Event => ({ id: n, key: (Math.imul(n, 0x9e3779b1) >>> 1) % keys, amount: n % 1000 });
  return (n: number): Event => ({ id: n, key: n % keys, amount: n % 1000 });
}

/** filter: drops one record in seven (independent of the key, so every key survives). */
const keep = (e: Event): boolean => e.id % 7 !== 0;

/** key selector. */
const keyOf = (e: Event): number => e.key;

/**
 * A running sum per key in a ValueState. Emits the key the first time it is seen, so the
 * sink's count and checksum verify that every key got its state.
 */
class RunningSum implements KeyedProcessFunction<number, Event, number> {
  private sum!: ValueState<number>;

  open(ctx: RuntimeContext): void {
    this.sum = ctx.getState(new ValueStateDescriptor<number>('sum'));
  }

  processElement(e: Event, _ctx: KeyedProcessContext<number>, out: Collector<number>): void {
    const s = this.sum.value();
    if (s === undefined) {
      this.sum.update(e.amount);
      out.collect(e.key);
    } else {
      this.sum.update(s + e.amount);
    }
  }
}

/** What a run produced, to check that every case did the same work. */
interface Checksum {
  /** Records that reached the sink (stateless) or keys first seen (keyed). */
  readonly count: number;
  /** Sum of `amount` (stateless) or of the keys (keyed). */
  readonly sum: number;
}

// ---------------------------------------------------------------------------------------------
// The cases.

type CaseName = 'weir-stateless' | 'weir-keyed' | 'loop-stateless' | 'loop-keyed';
const CASES: readonly CaseName[] = ['weir-stateless', 'loop-stateless', 'weir-keyed', 'loop-keyed'];

const DESCRIPTIONS: Record<CaseName, string> = {
  'weir-stateless': 'Weir: fromSequence → map → filter → sink (chained)',
  'loop-stateless': 'plain loop: map → filter → count',
  'weir-keyed': 'Weir: … → filter → keyBy → process(ValueState) → sink',
  'loop-keyed': 'plain loop: … → filter → Map get/set per key',
};

async function weirStateless(records: number, keys: number, order: KeyOrder): Promise<Checksum> {
  const env = StreamEnvironment.create({ parallelism: 1 });
  const sink = new CountingSink<Event>((e) => e.amount);
  env
    .fromSequence(0, records - 1)
    .map(makeToEvent(keys, order))
    .filter(keep)
    .sinkTo(sink);
  await env.execute('core-pipeline stateless');
  return sink.checksum();
}

async function weirKeyed(records: number, keys: number, order: KeyOrder): Promise<Checksum> {
  const env = StreamEnvironment.create({ parallelism: 1 });
  const sink = new CountingSink<number>((k) => k);
  env
    .fromSequence(0, records - 1)
    .map(makeToEvent(keys, order))
    .filter(keep)
    .keyBy(keyOf)
    .process(new RunningSum())
    .sinkTo(sink);
  await env.execute('core-pipeline keyed');
  return sink.checksum();
}

function loopStateless(records: number, keys: number, order: KeyOrder): Checksum {
  const toEvent = makeToEvent(keys, order);
  let count = 0;
  let sum = 0;
  for (let n = 0; n < records; n++) {
    const e = toEvent(n);
    if (!keep(e)) continue;
    count++;
    sum += e.amount;
  }
  return { count, sum };
}

function loopKeyed(records: number, keys: number, order: KeyOrder): Checksum {
  const toEvent = makeToEvent(keys, order);
  const state = new Map<number, number>();
  let count = 0;
  let sum = 0;
  for (let n = 0; n < records; n++) {
    const e = toEvent(n);
    if (!keep(e)) continue;
    const k = keyOf(e);
    const s = state.get(k);
    if (s === undefined) {
      state.set(k, e.amount);
      count++;
      sum += k;
    } else {
      state.set(k, s + e.amount);
    }
  }
  return { count, sum };
}

async function runCase(name: CaseName, o: Options): Promise<Checksum> {
  switch (name) {
    case 'weir-stateless':
      return weirStateless(o.records, o.keys, o.keyOrder);
    case 'weir-keyed':
      return weirKeyed(o.records, o.keys, o.keyOrder);
    case 'loop-stateless':
      return loopStateless(o.records, o.keys, o.keyOrder);
    case 'loop-keyed':
      return loopKeyed(o.records, o.keys, o.keyOrder);
  }
}

// ---------------------------------------------------------------------------------------------
// Measurement.

interface Options extends CommonOptions {
  keyOrder: KeyOrder;
  cases: CaseName[];
}

/** The measured figures of one case. */
export interface CaseResult {
  readonly name: CaseName;
  readonly records: number;
  readonly reps: number;
  /** Median source records per wall-clock second. */
  readonly recordsPerSec: number;
  /** Median source records per CPU-second (user + system). */
  readonly recordsPerCpuSec: number;
  /** Median wall time of one run, ms. */
  readonly wallMs: number;
  /** Median CPU time of one run, ms. */
  readonly cpuMs: number;
  /** Every measured run: [wall ms, cpu ms]. */
  readonly runs: ReadonlyArray<readonly [number, number]>;
  readonly checksum: Checksum;
  /** 1-minute load average of the machine before and after the measured runs. */
  readonly load: readonly [number, number];
}

async function measure(name: CaseName, opts: Options): Promise<CaseResult> {
  // Warm-up: a full run, so the JIT has seen every call site with its real types.
  let checksum = await runCase(name, opts);
  const load0 = loadavg()[0] as number;
  const runs = await timeRuns(
    opts.reps,
    () => runCase(name, opts),
    (c, r) => {
      if (c.count !== checksum.count || c.sum !== checksum.sum) {
        throw new Error(`${name}: run ${r} produced ${JSON.stringify(c)}, warm-up ${JSON.stringify(checksum)}`);
      }
      checksum = c;
    },
  );
  return {
    name,
    records: opts.records,
    reps: opts.reps,
    recordsPerSec: medianRate(opts.records, runs, 0),
    recordsPerCpuSec: medianRate(opts.records, runs, 1),
    wallMs: median(runs.map((r) => r[0])),
    cpuMs: median(runs.map((r) => r[1])),
    runs,
    checksum,
    load: [load0, loadavg()[0] as number],
  };
}

function parseOptions(argv: readonly string[]): Options {
  const values = parseBenchArgs(argv, { ...COMMON_OPTIONS, 'key-order': { type: 'string' }, case: { type: 'string', multiple: true } });
  const keyOrder = (typeof values['key-order'] === 'string' ? values['key-order'] : process.env.WEIR_BENCH_KEY_ORDER) ?? 'sequential';
  if (keyOrder !== 'sequential' && keyOrder !== 'random') throw new RangeError(`--key-order must be sequential or random, got ${keyOrder}`);
  return {
    ...commonOptions(values, { records: 10_000_000, quickRecords: 1_000_000, reps: 5, quickReps: 3, keys: 100_000 }),
    keyOrder,
    cases: selectCases(values.case, CASES, 'case'),
  };
}

function report(results: readonly CaseResult[], opts: Options): void {
  console.log(
    `\ncore-pipeline: ${opts.records.toLocaleString('en-US')} records, ${opts.keys.toLocaleString('en-US')} keys (${opts.keyOrder} order), ` +
      `parallelism 1, median of ${opts.reps} runs after a warm-up (Node ${process.version})`,
  );
  printTable(
    ['case', 'records/s (wall)', 'records/CPU-s', 'wall', 'cpu', 'load', 'what'],
    results.map((r) => [
      r.name,
      `${fmt(r.recordsPerSec)}/s`,
      `${fmt(r.recordsPerCpuSec)}/cpu-s`,
      `${r.wallMs.toFixed(0)} ms`,
      `${r.cpuMs.toFixed(0)} ms`,
      `${r.load[0].toFixed(1)}/${r.load[1].toFixed(1)}`,
      DESCRIPTIONS[r.name],
    ]),
  );
  const maxLoad = Math.max(...results.flatMap((r) => r.load));
  if (maxLoad > availableParallelism() / 2) {
    console.log(
      `warning: 1-minute load average reached ${maxLoad.toFixed(1)} on ${availableParallelism()} CPUs: other processes ` +
        'competed for the cores and caches, so wall-clock figures are low; records/CPU-s is less affected',
    );
  }
  const by = new Map(results.map((r) => [r.name, r]));
  for (const [weir, loop, goal] of [
    ['weir-stateless', 'loop-stateless', 5e6],
    ['weir-keyed', 'loop-keyed', 2e6],
  ] as const) {
    const w = by.get(weir);
    const l = by.get(loop);
    if (w === undefined) continue;
    const ratio =
      l === undefined
        ? ''
        : `; loop/weir = ${(l.recordsPerSec / w.recordsPerSec).toFixed(2)}× wall, ` +
          `${(l.recordsPerCpuSec / w.recordsPerCpuSec).toFixed(2)}× CPU (goal ≤ 3×)`;
    console.log(`${weir}: ${fmt(w.recordsPerSec)}/s vs goal ${fmt(goal)}/s → ${w.recordsPerSec >= goal ? 'met' : 'MISSED'}${ratio}`);
  }
  for (const [a, b] of [
    ['weir-stateless', 'loop-stateless'],
    ['weir-keyed', 'loop-keyed'],
  ] as const) {
    const x = by.get(a);
    const y = by.get(b);
    if (x !== undefined && y !== undefined && (x.checksum.count !== y.checksum.count || x.checksum.sum !== y.checksum.sum)) {
      throw new Error(`checksum mismatch: ${a} ${JSON.stringify(x.checksum)} vs ${b} ${JSON.stringify(y.checksum)}`);
    }
  }
}

/** Runs the benchmark with command-line style arguments; returns the figures. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<CaseResult[]> {
  const opts = parseOptions(argv);
  const results = await runCases(opts, (name) => measure(name, opts), {
    module: import.meta.url,
    args: (name) => ['--case', name, '--records', String(opts.records), '--keys', String(opts.keys), '--key-order', opts.keyOrder, '--reps', String(opts.reps)],
    label: (name) => `benchmark case ${name}`,
  });
  if (opts.child) return results;
  report(results, opts);
  if (opts.json) console.log(JSON.stringify({ benchmark: 'core-pipeline', options: opts, results }, null, 2));
  return results;
}

runIfMain(import.meta.url, main);
