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
import { fork } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type Collector,
  type KeyedProcessContext,
  type KeyedProcessFunction,
  type RuntimeContext,
  type Sink,
  type SinkWriter,
  StreamEnvironment,
  type ValueState,
  ValueStateDescriptor,
} from '@weir/core';

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

class CountingWriter<T> implements SinkWriter<T> {
  count = 0;
  sum = 0;
  constructor(private readonly pick: (v: T) => number) {}
  write(value: T): void {
    this.count++;
    this.sum += this.pick(value);
  }
}

/** A sink that counts records and sums one number of each. */
class CountingSink<T> implements Sink<T> {
  readonly writers: CountingWriter<T>[] = [];
  constructor(private readonly pick: (v: T) => number) {}
  createWriter(): SinkWriter<T> {
    const w = new CountingWriter<T>(this.pick);
    this.writers.push(w);
    return w;
  }
  checksum(): Checksum {
    let count = 0;
    let sum = 0;
    for (const w of this.writers) {
      count += w.count;
      sum += w.sum;
    }
    return { count, sum };
  }
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

interface Options {
  records: number;
  keys: number;
  keyOrder: KeyOrder;
  reps: number;
  quick: boolean;
  cases: CaseName[];
  inProcess: boolean;
  json: boolean;
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

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

const gc = (globalThis as { gc?: () => void }).gc;

async function measure(name: CaseName, opts: Options): Promise<CaseResult> {
  // Warm-up: a full run, so the JIT has seen every call site with its real types.
  let checksum = await runCase(name, opts);
  const load0 = loadavg()[0] as number;
  const runs: Array<[number, number]> = [];
  for (let r = 0; r < opts.reps; r++) {
    gc?.();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const c = await runCase(name, opts);
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    runs.push([wall, (cpu.user + cpu.system) / 1000]);
    if (c.count !== checksum.count || c.sum !== checksum.sum) {
      throw new Error(`${name}: run ${r} produced ${JSON.stringify(c)}, warm-up ${JSON.stringify(checksum)}`);
    }
    checksum = c;
  }
  const wallMs = median(runs.map((r) => r[0]));
  const cpuMs = median(runs.map((r) => r[1]));
  return {
    name,
    records: opts.records,
    reps: opts.reps,
    recordsPerSec: median(runs.map((r) => opts.records / (r[0] / 1000))),
    recordsPerCpuSec: median(runs.map((r) => opts.records / (r[1] / 1000))),
    wallMs,
    cpuMs,
    runs,
    checksum,
    load: [load0, loadavg()[0] as number],
  };
}

/** Runs one case in a fresh Node process (clean JIT feedback and heap per case). */
function measureInChild(name: CaseName, opts: Options): Promise<CaseResult> {
  const file = fileURLToPath(import.meta.url);
  const args = ['--child', '--case', name, '--records', String(opts.records), '--keys', String(opts.keys), '--key-order', opts.keyOrder, '--reps', String(opts.reps)];
  const execArgv = process.execArgv.includes('--expose-gc') ? process.execArgv : [...process.execArgv, '--expose-gc'];
  return new Promise((resolve, reject) => {
    const child = fork(file, args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: CaseResult | undefined;
    child.on('message', (m) => {
      result = m as CaseResult;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0 && result !== undefined) resolve(result);
      else reject(new Error(`benchmark case ${name} exited with code ${code}`));
    });
  });
}

function parseOptions(argv: readonly string[]): Options & { child: boolean } {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      records: { type: 'string' },
      keys: { type: 'string' },
      'key-order': { type: 'string' },
      reps: { type: 'string' },
      quick: { type: 'boolean', default: false },
      case: { type: 'string', multiple: true },
      'in-process': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      child: { type: 'boolean', default: false },
    },
    strict: false,
    allowPositionals: true,
  });
  const env = process.env;
  const quick = values.quick === true || env.WEIR_BENCH_QUICK === '1';
  const num = (v: unknown, e: string | undefined, dflt: number, what: string): number => {
    const raw = typeof v === 'string' ? v : e;
    if (raw === undefined || raw === '') return dflt;
    const n = Number(raw.replace(/_/g, ''));
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`--${what} must be a positive integer, got ${raw}`);
    return n;
  };
  const cases = (Array.isArray(values.case) ? values.case : []) as string[];
  for (const c of cases) if (!CASES.includes(c as CaseName)) throw new RangeError(`unknown case ${c}; one of ${CASES.join(', ')}`);
  const keyOrder = (typeof values['key-order'] === 'string' ? values['key-order'] : env.WEIR_BENCH_KEY_ORDER) ?? 'sequential';
  if (keyOrder !== 'sequential' && keyOrder !== 'random') throw new RangeError(`--key-order must be sequential or random, got ${keyOrder}`);
  return {
    keyOrder,
    records: num(values.records, env.WEIR_BENCH_RECORDS, quick ? 1_000_000 : 10_000_000, 'records'),
    keys: num(values.keys, env.WEIR_BENCH_KEYS, 100_000, 'keys'),
    reps: num(values.reps, env.WEIR_BENCH_REPS, quick ? 3 : 5, 'reps'),
    quick,
    cases: cases.length > 0 ? (cases as CaseName[]) : [...CASES],
    inProcess: values['in-process'] === true,
    json: values.json === true,
    child: values.child === true,
  };
}

const fmt = (x: number): string => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(0)} k`);

function report(results: readonly CaseResult[], opts: Options): void {
  console.log(
    `\ncore-pipeline: ${opts.records.toLocaleString('en-US')} records, ${opts.keys.toLocaleString('en-US')} keys (${opts.keyOrder} order), ` +
      `parallelism 1, median of ${opts.reps} runs after a warm-up (Node ${process.version})`,
  );
  const rows = results.map((r) => [
    r.name,
    `${fmt(r.recordsPerSec)}/s`,
    `${fmt(r.recordsPerCpuSec)}/cpu-s`,
    `${r.wallMs.toFixed(0)} ms`,
    `${r.cpuMs.toFixed(0)} ms`,
    `${r.load[0].toFixed(1)}/${r.load[1].toFixed(1)}`,
    DESCRIPTIONS[r.name],
  ]);
  const head = ['case', 'records/s (wall)', 'records/CPU-s', 'wall', 'cpu', 'load', 'what'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
  console.log(line(head));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(r));
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
  if (opts.child) {
    const r = await measure(opts.cases[0] as CaseName, opts);
    (process.send as (m: unknown) => void)(r);
    return [r];
  }
  const results: CaseResult[] = [];
  for (const name of opts.cases) {
    results.push(opts.inProcess ? await measure(name, opts) : await measureInChild(name, opts));
  }
  report(results, opts);
  if (opts.json) console.log(JSON.stringify({ benchmark: 'core-pipeline', options: opts, results }, null, 2));
  return results;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
