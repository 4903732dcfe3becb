/**
 * The plumbing the benchmark command lines share: reading their options, running each case in a
 * child process of its own, timing runs in wall-clock and CPU time, medians and the result table.
 * The benchmarks keep their workloads, figures and reports.
 */
import { fork } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Sink, SinkWriter } from '@weir/core';

/** The median (the mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** `1.23 M` or `456 k`. */
export const fmt = (x: number): string => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(0)} k`);

/** Prints a left-aligned table: a head row, a rule, then the rows. */
export function printTable(head: readonly string[], rows: ReadonlyArray<readonly string[]>): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
  console.log(line(head));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(r));
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

/** A sink that counts records and sums one number of each (a checksum of a run's output). */
export class CountingSink<T> implements Sink<T> {
  readonly writers: CountingWriter<T>[] = [];
  constructor(private readonly pick: (v: T) => number) {}
  createWriter(): SinkWriter<T> {
    const w = new CountingWriter<T>(this.pick);
    this.writers.push(w);
    return w;
  }
  /** Records and the sum of their numbers, over all writers. */
  checksum(): { readonly count: number; readonly sum: number } {
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
// Options.

/** The options every case-based benchmark takes (`--records`, `--reps`, `--quick`, ...). */
export const COMMON_OPTIONS = {
  records: { type: 'string' },
  keys: { type: 'string' },
  reps: { type: 'string' },
  quick: { type: 'boolean', default: false },
  'in-process': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  child: { type: 'boolean', default: false },
} as const satisfies ParseArgsConfig['options'];

/**
 * Parses command-line style arguments leniently: run-all passes every benchmark the same
 * arguments, so options a benchmark does not know are ignored.
 */
export function parseBenchArgs<O extends NonNullable<ParseArgsConfig['options']>>(
  argv: readonly string[],
  options: O,
): Record<string, string | boolean | Array<string | boolean> | undefined> {
  return parseArgs({ args: [...argv], options, strict: false, allowPositionals: true }).values;
}

/**
 * A positive integer from the option's value, else from the environment variable, else
 * `dflt`. `_` separators are allowed (`--records 1_000_000`).
 */
export function positiveInt(value: unknown, envValue: string | undefined, dflt: number, name: string): number {
  const raw = typeof value === 'string' ? value : envValue;
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`--${name} must be a positive integer, got ${raw}`);
  return n;
}

/** What {@link commonOptions} reads. */
export interface CommonOptions {
  records: number;
  keys: number;
  reps: number;
  quick: boolean;
  inProcess: boolean;
  json: boolean;
  /** Set on the child processes {@link runCases} starts. */
  child: boolean;
}

/**
 * Reads {@link COMMON_OPTIONS} from parsed values, with the environment variables
 * `WEIR_BENCH_RECORDS`, `WEIR_BENCH_KEYS`, `WEIR_BENCH_REPS` and `WEIR_BENCH_QUICK=1` as fallbacks.
 */
export function commonOptions(
  values: Record<string, unknown>,
  defaults: { readonly records: number; readonly quickRecords: number; readonly reps: number; readonly quickReps: number; readonly keys: number },
): CommonOptions {
  const env = process.env;
  const quick = values.quick === true || env.WEIR_BENCH_QUICK === '1';
  return {
    records: positiveInt(values.records, env.WEIR_BENCH_RECORDS, quick ? defaults.quickRecords : defaults.records, 'records'),
    keys: positiveInt(values.keys, env.WEIR_BENCH_KEYS, defaults.keys, 'keys'),
    reps: positiveInt(values.reps, env.WEIR_BENCH_REPS, quick ? defaults.quickReps : defaults.reps, 'reps'),
    quick,
    inProcess: values['in-process'] === true,
    json: values.json === true,
    child: values.child === true,
  };
}

/**
 * The cases named by a repeatable option (all of `known` when none is given); an unknown name
 * is an error that lists the known ones.
 */
export function selectCases<TName extends string>(value: unknown, known: readonly TName[], what: string): TName[] {
  const named = (Array.isArray(value) ? value : []) as string[];
  for (const c of named) if (!known.includes(c as TName)) throw new RangeError(`unknown ${what} ${c}; one of ${known.join(', ')}`);
  return named.length > 0 ? (named as TName[]) : [...known];
}

// ---------------------------------------------------------------------------------------------
// Measurement.

const gc = (globalThis as { gc?: () => void }).gc;

/** Wall-clock and CPU time (user + system of the process, so GC and helper threads count) of `fn`, in ms. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ result: T; wallMs: number; cpuMs: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await fn();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { result, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/**
 * `reps` measured runs of `run`, each after a full GC (with `--expose-gc`); `check` sees each
 * run's result (to verify it did the same work as the warm-up). Returns [wall ms, cpu ms] per run.
 */
export async function timeRuns<T>(reps: number, run: () => Promise<T>, check: (result: T, rep: number) => void): Promise<Array<[number, number]>> {
  const runs: Array<[number, number]> = [];
  for (let r = 0; r < reps; r++) {
    gc?.();
    const t = await timed(run);
    runs.push([t.wallMs, t.cpuMs]);
    check(t.result, r);
  }
  return runs;
}

/** Median of `count` per second of each run's wall time (`which` 0) or CPU time (`which` 1). */
export function medianRate(count: number, runs: ReadonlyArray<readonly [number, number]>, which: 0 | 1): number {
  return median(runs.map((r) => count / (r[which] / 1000)));
}

// ---------------------------------------------------------------------------------------------
// Cases in child processes.

/** How {@link runCases} starts the child process of a case. */
export interface ChildSpec<TName extends string> {
  /** The benchmark's module (`import.meta.url`); the child runs it with `--child` first. */
  readonly module: string;
  /** The child's arguments besides `--child`: its one case and the options it needs. */
  readonly args: (name: TName) => string[];
  /** Node options besides the parent's and `--expose-gc` (e.g. profiling). */
  readonly execArgv?: (name: TName) => string[];
  /** Names the case in the error when its child fails. */
  readonly label: (name: TName) => string;
}

/** Runs one case in a fresh Node process (clean JIT feedback and heap per case). */
function measureInChild<TName extends string, TResult>(name: TName, spec: ChildSpec<TName>): Promise<TResult> {
  const execArgv = [...process.execArgv];
  if (!execArgv.includes('--expose-gc')) execArgv.push('--expose-gc');
  if (spec.execArgv !== undefined) execArgv.push(...spec.execArgv(name));
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(spec.module), ['--child', ...spec.args(name)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: TResult | undefined;
    child.on('message', (m) => {
      result = m as TResult;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0 && result !== undefined) resolve(result);
      else reject(new Error(`${spec.label(name)} exited with code ${code}`));
    });
  });
}

/**
 * Measures the cases. In a child (`--child`): its one case, whose figures go to the parent.
 * Otherwise each case in order, in a child process of its own unless `inProcess`.
 */
export async function runCases<TName extends string, TResult>(
  o: { readonly cases: readonly TName[]; readonly inProcess: boolean; readonly child: boolean },
  measure: (name: TName) => Promise<TResult>,
  spec: ChildSpec<TName>,
): Promise<TResult[]> {
  if (o.child) {
    const r = await measure(o.cases[0] as TName);
    (process.send as (m: unknown) => void)(r);
    return [r];
  }
  const results: TResult[] = [];
  for (const name of o.cases) results.push(o.inProcess ? await measure(name) : await measureInChild<TName, TResult>(name, spec));
  return results;
}

/** Whether the module `importMetaUrl` is the script Node was started with. */
export function isMain(importMetaUrl: string): boolean {
  return process.argv[1] !== undefined && importMetaUrl === pathToFileURL(process.argv[1]).href;
}

/** Runs `main` when its module is the script Node was started with; a failure exits with 1. */
export function runIfMain(importMetaUrl: string, main: () => Promise<unknown>): void {
  if (!isMain(importMetaUrl)) return;
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
