/**
 * The Nexmark runner: Weir, Apache Flink and a hand-written loop, side by side on the same
 * machine in the same run, on exactly the same events.
 *
 *   npm run bench:nexmark -- --events 10000000 --queries q0,q1,q2,q5,q7,q8 --peers flink,loop
 *   npm run bench:nexmark -- --quick
 *
 * Every system runs in its own child process: Weir and the loop in Node (`--expose-gc`), Flink in a
 * JVM (`benchmarks/peers/flink`, a local MiniCluster at parallelism 1 with the heap state backend,
 * built with `mvn -q package` when its jar is missing or older than its sources). For each query,
 * one process per system is started and warmed up (at least `--warmup` runs and
 * `--warmup-seconds` of wall-clock time: the JVM's JIT needs several runs before Flink reaches its
 * steady state), then the measured runs alternate between the warm processes — Weir, Flink, loop,
 * Weir, Flink, loop, … `--reps` times — so that drift on a shared machine hits all of them alike.
 * Figures are medians over the measured runs:
 * - events per core-second: events ÷ CPU seconds of the whole process (user + system, all threads:
 *   JIT, GC, Flink's task and timer threads), from `process.cpuUsage()` in Node and from the JVM's
 *   OperatingSystemMXBean (the OS accounting of the process) in Java;
 * - events per second of wall-clock time;
 * - peak RSS of the process (`process.resourceUsage().maxRSS`, `/proc/self/status` VmHWM).
 * Each run's result count and checksum are compared across systems: they must be equal. After
 * every measured run, the same process also runs its language's generator alone over the same
 * events; "ns/ev beyond gen" is the run's CPU per event minus that (paired, median): what the
 * stream processor and the query cost. A baseline row, `gen`, measures the generators alone in
 * their own processes (`--no-baseline` skips it).
 *
 * Writes `benchmarks/results/nexmark-<date>.json` and the Nexmark section of
 * `benchmarks/RESULTS.md` (`--quick` writes `nexmark-<date>-quick.json` only).
 *
 * `--quick` is a smoke check: 200,000 events, one process per system for all queries, one warm-up
 * run and one measured run each.
 *
 * Options: `--events N` (default 10,000,000; quick 200,000), `--queries q0,q1,…` (default all),
 * `--peers flink,loop` (default both; `none` for Weir only), `--reps N` (default 3; quick 1),
 * `--warmup N` (minimum warm-up runs, default 1), `--warmup-seconds S` (minimum warm-up time,
 * default 20; quick 0), `--rate N` (events per second of event time, default 10,000), `--seed N`
 * (42), `--no-build` (never run Maven), `--java-opts "…"`, `--profile DIR` (Weir children under
 * `node --cpu-prof`), `--out FILE`, `--no-results-md`, `--no-baseline`.
 * @packageDocumentation
 */
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { GeneratorConfig } from './generator.js';
import { runWeirQuery } from './job.js';
import { hasLoop, runGeneratorOnly, runLoop } from './loop.js';
import { QUERIES, QUERY_NAMES, type QueryName } from './queries.js';

/** A query, or `gen`: the generator alone (a loop in Node, a loop in the JVM), the baseline. */
type RunName = QueryName | 'gen';

// ---- settings ------------------------------------------------------------------------------

/** The systems compared. */
type System = 'weir' | 'flink' | 'loop';

interface Settings {
  events: number;
  queries: RunName[];
  baseline: boolean;
  peers: Array<Exclude<System, 'weir'>>;
  reps: number;
  warmup: number;
  warmupSeconds: number;
  quick: boolean;
  generator: Partial<GeneratorConfig>;
  build: boolean;
  javaOpts: string[];
  profileDir: string | undefined;
  out: string | undefined;
  resultsMd: boolean;
}

const HERE = dirname(fileURLToPath(import.meta.url));
/** benchmarks/ (this file is benchmarks/dist/nexmark/run.js). */
const BENCH_DIR = resolve(HERE, '..', '..');
const REPO_DIR = resolve(BENCH_DIR, '..');
const FLINK_DIR = join(BENCH_DIR, 'peers', 'flink');
const FLINK_JAR = join(FLINK_DIR, 'target', 'weir-nexmark-flink.jar');

function parseSettings(argv: readonly string[]): Settings & { child: string | undefined; interactive: boolean } {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      events: { type: 'string' },
      queries: { type: 'string' },
      peers: { type: 'string' },
      reps: { type: 'string' },
      warmup: { type: 'string' },
      'warmup-seconds': { type: 'string' },
      interactive: { type: 'boolean', default: false },
      rate: { type: 'string' },
      seed: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'no-build': { type: 'boolean', default: false },
      'java-opts': { type: 'string' },
      profile: { type: 'string' },
      out: { type: 'string' },
      'no-results-md': { type: 'boolean', default: false },
      'no-baseline': { type: 'boolean', default: false },
      child: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const quick = values.quick === true;
  const int = (v: string | undefined, dflt: number, what: string, min = 1): number => {
    if (v === undefined || v === '') return dflt;
    const n = Number(v.replace(/_/g, ''));
    if (!Number.isSafeInteger(n) || n < min) throw new RangeError(`--${what} must be an integer >= ${min}, got ${v}`);
    return n;
  };
  const queries = (values.queries ?? QUERY_NAMES.join(',')).split(',').filter((q) => q !== '');
  for (const q of queries) {
    if (!(QUERY_NAMES as readonly string[]).includes(q) && !(q === 'gen' && values.child !== undefined)) {
      throw new RangeError(`unknown query ${q}; one of ${QUERY_NAMES.join(', ')}`);
    }
  }
  const peers = (values.peers ?? 'flink,loop').split(',').filter((p) => p !== '' && p !== 'none');
  for (const p of peers) if (p !== 'flink' && p !== 'loop') throw new RangeError(`unknown peer ${p}; flink, loop or none`);
  const generator: { -readonly [K in keyof GeneratorConfig]?: GeneratorConfig[K] } = {};
  if (values.rate !== undefined) generator.eventsPerSecond = int(values.rate, 10_000, 'rate');
  if (values.seed !== undefined) generator.seed = int(values.seed, 42, 'seed', -(2 ** 31));
  return {
    events: int(values.events, quick ? 200_000 : 10_000_000, 'events'),
    queries: queries as RunName[],
    baseline: values['no-baseline'] !== true,
    peers: peers as Array<'flink' | 'loop'>,
    reps: int(values.reps, quick ? 1 : 3, 'reps'),
    warmup: int(values.warmup, 1, 'warmup', 0),
    warmupSeconds: int(values['warmup-seconds'], quick ? 0 : 20, 'warmup-seconds', 0),
    quick,
    generator,
    build: values['no-build'] !== true,
    javaOpts: (values['java-opts'] ?? '').split(/\s+/).filter((s) => s !== ''),
    profileDir: values.profile,
    out: values.out,
    resultsMd: !quick && values['no-results-md'] !== true,
    child: values.child,
    interactive: values.interactive === true,
  };
}

// ---- children ------------------------------------------------------------------------------

/** One measured run. */
interface Run {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly count: number;
  readonly checksum: number;
  /**
   * CPU ms of the generator alone over the same events, measured in the same process right
   * after the run (paired, so machine drift cancels): the run's cost beyond the generator is
   * `cpuMs − genCpuMs`.
   */
  readonly genCpuMs?: number;
}

/** What a batch child reports per query. */
interface ChildQueryResult {
  readonly query: RunName;
  readonly runs: Run[];
  readonly peakRssMb: number;
}

/** What a batch child reports. */
interface ChildReport {
  readonly results: ChildQueryResult[];
  readonly versions: Record<string, string>;
}

/** Messages between the runner and an interactive Node child. */
type ToChild = { cmd: 'run' } | { cmd: 'quit' };
type FromChild =
  | { type: 'ready' }
  | { type: 'run'; run: Run }
  | { type: 'done'; peakRssMb: number; versions: Record<string, string> };

const gc = (globalThis as { gc?: () => void }).gc;

/** One measured run of a query in this process. */
async function measureOnce(system: 'weir' | 'loop', name: RunName, s: Settings): Promise<Run> {
  gc?.();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let res: { count: number; checksum: number };
  if (name === 'gen') {
    res = runGeneratorOnly(s.events, s.generator);
  } else if (system === 'weir') {
    res = await runWeirQuery(QUERIES[name], { events: s.events, generator: s.generator });
  } else {
    if (!hasLoop(name)) throw new Error(`no hand-written loop for ${name}`);
    res = runLoop(name, s.events, s.generator);
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const run = { wallMs, cpuMs: (cpu.user + cpu.system) / 1000, count: res.count, checksum: res.checksum };
  if (name === 'gen') return run;
  gc?.();
  const g0 = process.cpuUsage();
  runGeneratorOnly(s.events, s.generator);
  const g = process.cpuUsage(g0);
  return { ...run, genCpuMs: (g.user + g.system) / 1000 };
}

/** At least `s.warmup` runs and at least `s.warmupSeconds` of wall-clock time. */
async function warmUp(system: 'weir' | 'loop', name: RunName, s: Settings): Promise<void> {
  const t0 = performance.now();
  for (let r = 0; r < s.warmup || performance.now() - t0 < s.warmupSeconds * 1000; r++) await measureOnce(system, name, s);
}

/** In a batch child: warm-up and one measured run of each query, in this process. */
async function childBatch(system: 'weir' | 'loop', s: Settings): Promise<ChildReport> {
  const results: ChildQueryResult[] = [];
  for (const name of s.queries) {
    await warmUp(system, name, s);
    const run = await measureOnce(system, name, s);
    results.push({ query: name, runs: [run], peakRssMb: process.resourceUsage().maxRSS / 1024 });
  }
  return { results, versions: { node: process.version, v8: process.versions.v8 } };
}

/** In an interactive child: warm up one query, then run it whenever the runner says so. */
async function childInteractive(system: 'weir' | 'loop', s: Settings): Promise<void> {
  const name = s.queries[0] as RunName;
  const send = (m: FromChild): void => {
    (process.send as (m: unknown) => void)(m);
  };
  await warmUp(system, name, s);
  let chain = Promise.resolve();
  process.on('message', (m: ToChild) => {
    chain = chain.then(async () => {
      if (m.cmd === 'run') send({ type: 'run', run: await measureOnce(system, name, s) });
      else {
        send({ type: 'done', peakRssMb: process.resourceUsage().maxRSS / 1024, versions: { node: process.version, v8: process.versions.v8 } });
        process.disconnect();
      }
    });
  });
  send({ type: 'ready' });
}

function childArgs(s: Settings, queries: readonly RunName[]): string[] {
  const a = ['--queries', queries.join(','), '--events', String(s.events), '--warmup', String(s.warmup), '--warmup-seconds', String(s.warmupSeconds)];
  if (s.generator.eventsPerSecond !== undefined) a.push('--rate', String(s.generator.eventsPerSecond));
  if (s.generator.seed !== undefined) a.push('--seed', String(s.generator.seed));
  return a;
}

function nodeExecArgv(system: 'weir' | 'loop', s: Settings, queries: readonly RunName[]): string[] {
  const execArgv = ['--expose-gc'];
  if (s.profileDir !== undefined && system === 'weir') {
    mkdirSync(s.profileDir, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${s.profileDir}`, `--cpu-prof-name=${system}-${queries.join('_')}-${Date.now()}.cpuprofile`);
  }
  return execArgv;
}

function runNodeBatch(system: 'weir' | 'loop', s: Settings, queries: readonly RunName[]): Promise<ChildReport> {
  return new Promise((resolvePromise, reject) => {
    const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--child', system, ...childArgs(s, queries)], {
      execArgv: nodeExecArgv(system, s, queries),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let report: ChildReport | undefined;
    child.on('message', (m) => {
      report = m as ChildReport;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0 && report !== undefined) resolvePromise(report);
      else reject(new Error(`${system} child for ${queries.join(',')} exited with code ${code}`));
    });
  });
}

function parseFlinkResults(out: string): { results: ChildQueryResult[]; versions: Record<string, string> } {
  const results: ChildQueryResult[] = [];
  let versions: Record<string, string> = {};
  for (const line of out.split('\n')) {
    if (!line.startsWith('NEXMARK_RESULT ')) continue;
    const r = JSON.parse(line.slice('NEXMARK_RESULT '.length)) as ChildQueryResult & { flinkVersion: string; javaVersion: string };
    results.push({ query: r.query, runs: r.runs, peakRssMb: r.peakRssMb });
    versions = { flink: r.flinkVersion, java: r.javaVersion };
  }
  return { results, versions };
}

function runFlinkBatch(s: Settings, queries: readonly RunName[]): Promise<ChildReport> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('java', [...s.javaOpts, '-jar', FLINK_JAR, ...childArgs(s, queries)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const report = parseFlinkResults(out);
      if (code === 0 && report.results.length === queries.length) resolvePromise(report);
      else reject(new Error(`flink child for ${queries.join(',')} exited with code ${code}\n${err.slice(-4000)}${out.slice(-2000)}`));
    });
  });
}

/** A warm process of one system for one query, measured on demand. */
interface Session {
  run(): Promise<Run>;
  quit(): Promise<{ peakRssMb: number; versions: Record<string, string> }>;
}

/** Delivers a child's messages, in order, to whoever waits for the next one. */
class Inbox<M> {
  private readonly queue: M[] = [];
  private readonly waiters: Array<{ resolve: (m: M) => void; reject: (e: Error) => void }> = [];
  private failure: Error | undefined;

  push(m: M): void {
    const w = this.waiters.shift();
    if (w !== undefined) w.resolve(m);
    else this.queue.push(m);
  }

  fail(e: Error): void {
    this.failure = e;
    for (const w of this.waiters.splice(0)) w.reject(e);
  }

  next(): Promise<M> {
    const m = this.queue.shift();
    if (m !== undefined) return Promise.resolve(m);
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }
}

async function startNodeSession(system: 'weir' | 'loop', s: Settings, query: RunName): Promise<Session> {
  const child = fork(fileURLToPath(import.meta.url), ['--child', system, '--interactive', ...childArgs(s, [query])], {
    execArgv: nodeExecArgv(system, s, [query]),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const inbox = new Inbox<FromChild>();
  child.on('message', (m) => inbox.push(m as FromChild));
  child.on('error', (e) => inbox.fail(e));
  child.on('exit', (code) => inbox.fail(new Error(`${system} child for ${query} exited with code ${code}`)));
  const expect = async <T extends FromChild['type']>(type: T): Promise<Extract<FromChild, { type: T }>> => {
    const m = await inbox.next();
    if (m.type !== type) throw new Error(`${system} child for ${query}: expected ${type}, got ${m.type}`);
    return m as Extract<FromChild, { type: T }>;
  };
  await expect('ready');
  return {
    run: async () => {
      child.send({ cmd: 'run' } satisfies ToChild);
      return (await expect('run')).run;
    },
    quit: async () => {
      child.send({ cmd: 'quit' } satisfies ToChild);
      const done = await expect('done');
      return { peakRssMb: done.peakRssMb, versions: done.versions };
    },
  };
}

async function startFlinkSession(s: Settings, query: RunName): Promise<Session> {
  const child = spawn('java', [...s.javaOpts, '-jar', FLINK_JAR, '--interactive', ...childArgs(s, [query])], { stdio: ['pipe', 'pipe', 'pipe'] });
  const inbox = new Inbox<string>();
  let buffered = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
      const line = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      if (line.startsWith('NEXMARK_')) inbox.push(line);
    }
  });
  child.stderr.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  child.on('error', (e) => inbox.fail(e));
  child.on('exit', (code) => inbox.fail(new Error(`flink child for ${query} exited with code ${code}\n${err}`)));
  const expect = async (tag: string): Promise<unknown> => {
    const line = await inbox.next();
    if (!line.startsWith(`${tag} `)) throw new Error(`flink child for ${query}: expected ${tag}, got ${line}`);
    return JSON.parse(line.slice(tag.length + 1));
  };
  await expect('NEXMARK_READY');
  return {
    run: async () => {
      child.stdin.write('run\n');
      return (await expect('NEXMARK_RUN')) as Run;
    },
    quit: async () => {
      child.stdin.write('quit\n');
      const done = (await expect('NEXMARK_DONE')) as { peakRssMb: number; flinkVersion: string; javaVersion: string };
      return { peakRssMb: done.peakRssMb, versions: { flink: done.flinkVersion, java: done.javaVersion } };
    },
  };
}

function startSession(system: System, s: Settings, query: RunName): Promise<Session> {
  return system === 'flink' ? startFlinkSession(s, query) : startNodeSession(system, s, query);
}

function runBatch(system: System, s: Settings, queries: readonly RunName[]): Promise<ChildReport> {
  return system === 'flink' ? runFlinkBatch(s, queries) : runNodeBatch(system, s, queries);
}

// ---- the Flink jar -------------------------------------------------------------------------

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = 0;
  for (const e of readdirSync(path)) m = Math.max(m, newestMtime(join(path, e)));
  return m;
}

/** Builds the Flink jar when it is missing or older than its sources; false when it cannot be had. */
function ensureFlinkJar(s: Settings): boolean {
  const sources = Math.max(newestMtime(join(FLINK_DIR, 'pom.xml')), newestMtime(join(FLINK_DIR, 'src')));
  const have = existsSync(FLINK_JAR);
  if (have && statSync(FLINK_JAR).mtimeMs >= sources) return true;
  if (!s.build) {
    if (have) {
      console.warn('warning: the Flink jar is older than its sources and --no-build was given: using it as it is');
      return true;
    }
    loud(`Flink's jar is missing (${FLINK_JAR}) and --no-build was given: Flink is SKIPPED`);
    return false;
  }
  console.log(`building the Flink peer: mvn -q package (in ${FLINK_DIR}) …`);
  const t0 = performance.now();
  try {
    execFileSync('mvn', ['-q', 'package'], { cwd: FLINK_DIR, stdio: 'inherit' });
    console.log(`built ${FLINK_JAR} in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    return true;
  } catch (e) {
    if (have) {
      console.warn(`warning: mvn -q package failed (${String(e)}); using the existing, older jar`);
      return true;
    }
    loud(`Flink's jar is missing and mvn -q package failed (${String(e)}): Flink is SKIPPED`);
    return false;
  }
}

function loud(message: string): void {
  const bar = '!'.repeat(Math.min(100, message.length + 8));
  console.error(`\n${bar}\n!!! ${message}\n${bar}\n`);
}

// ---- figures -------------------------------------------------------------------------------

/** The figures of one system on one query. */
export interface SystemFigures {
  /** Median events per CPU-second of the process. */
  readonly eventsPerCoreSecond: number;
  /** Median events per wall-clock second. */
  readonly eventsPerSecond: number;
  /** Largest peak RSS of its processes, MB. */
  readonly peakRssMb: number;
  /** Median CPU ns per event beyond the generator of the same language (paired per run). */
  readonly nsPerEventBeyondGenerator?: number;
  /** Results of a run (equal in every run). */
  readonly count: number;
  /** Checksum of the results. */
  readonly checksum: number;
  /** Every measured run. */
  readonly runs: readonly Run[];
}

/** One query's row of the results. */
export interface QueryFigures {
  readonly query: QueryName;
  readonly events: number;
  readonly description: string;
  readonly weir?: SystemFigures;
  readonly flink?: SystemFigures;
  readonly loop?: SystemFigures;
  /** Weir ÷ Flink, events per core-second (goal ≥ 2 on q0–q2, ≥ 1 on the others). */
  readonly weirOverFlinkPerCore?: number;
  /** Weir ÷ Flink, events per wall-clock second. */
  readonly weirOverFlinkWall?: number;
  /** Loop ÷ Weir, events per core-second (goal ≤ 3). */
  readonly loopOverWeirPerCore?: number;
  /**
   * Weir's CPU per event beyond the TypeScript generator's, ns: what the stream processor and
   * the query cost (the generator is the same work in every system, but slower in Node).
   */
  readonly weirNsPerEventBeyondGenerator?: number;
  /** Flink's CPU per event beyond the Java generator's, ns. */
  readonly flinkNsPerEventBeyondGenerator?: number;
  /** Whether every system produced the same results (count and checksum). */
  readonly resultsAgree: boolean;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function figures(events: number, runs: readonly Run[], rss: readonly number[]): SystemFigures {
  const first = runs[0] as Run;
  const paired = runs.filter((r) => r.genCpuMs !== undefined);
  return {
    eventsPerCoreSecond: median(runs.map((r) => events / (r.cpuMs / 1000))),
    eventsPerSecond: median(runs.map((r) => events / (r.wallMs / 1000))),
    peakRssMb: Math.max(...rss),
    ...(paired.length > 0
      ? { nsPerEventBeyondGenerator: median(paired.map((r) => ((r.cpuMs - (r.genCpuMs as number)) * 1e6) / events)) }
      : {}),
    count: first.count,
    checksum: first.checksum,
    runs,
  };
}

/** The per-core goal of a query against Flink. */
function flinkGoal(q: QueryName): number {
  return q === 'q0' || q === 'q1' || q === 'q2' ? 2 : 1;
}

// ---- output --------------------------------------------------------------------------------

const fmt = (x: number | undefined): string =>
  x === undefined ? '—' : x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(0)} k` : x.toFixed(0);
const ratio = (x: number | undefined): string => (x === undefined ? '—' : `${x.toFixed(2)}×`);
const ns = (x: number | undefined): string => (x === undefined ? '—' : x.toFixed(0));

/** One line on the generator baselines. */
function baselineLine(b: NexmarkReport['generatorBaseline']): string {
  const one = (name: string, f: SystemFigures | undefined): string =>
    f === undefined ? `${name} —` : `${name} ${fmt(f.eventsPerCoreSecond)} ev/core-s (${(1e9 / f.eventsPerCoreSecond).toFixed(0)} ns/event)`;
  return `Generator alone (no stream processor): ${one('TypeScript', b.typescript)}; ${one('Java', b.java)}.`;
}

function tableRows(rows: readonly QueryFigures[]): string[][] {
  return rows.map((r) => {
    const goalF = flinkGoal(r.query);
    const vsFlink =
      r.weirOverFlinkPerCore === undefined ? '—' : `${ratio(r.weirOverFlinkPerCore)} ${r.weirOverFlinkPerCore >= goalF ? 'met' : '**MISSED**'} (≥ ${goalF}×)`;
    const vsLoop =
      r.loopOverWeirPerCore === undefined ? '—' : `${ratio(r.loopOverWeirPerCore)} ${r.loopOverWeirPerCore <= 3 ? 'met' : '**MISSED**'} (≤ 3×)`;
    return [
      r.query,
      fmt(r.events),
      fmt(r.weir?.eventsPerCoreSecond),
      fmt(r.flink?.eventsPerCoreSecond),
      vsFlink,
      fmt(r.loop?.eventsPerCoreSecond),
      vsLoop,
      fmt(r.weir?.eventsPerSecond),
      fmt(r.flink?.eventsPerSecond),
      fmt(r.loop?.eventsPerSecond),
      ns(r.weirNsPerEventBeyondGenerator),
      ns(r.flinkNsPerEventBeyondGenerator),
      r.weir === undefined ? '—' : r.weir.peakRssMb.toFixed(0),
      r.flink === undefined ? '—' : r.flink.peakRssMb.toFixed(0),
      `${r.weir?.count ?? '—'}${r.resultsAgree ? '' : ' **DIFFER**'}`,
    ];
  });
}

const HEAD = [
  'query',
  'events',
  'Weir ev/core-s',
  'Flink ev/core-s',
  'Weir/Flink per core',
  'loop ev/core-s',
  'loop/Weir per core',
  'Weir ev/s',
  'Flink ev/s',
  'loop ev/s',
  'Weir ns/ev beyond gen',
  'Flink ns/ev beyond gen',
  'Weir RSS MB',
  'Flink RSS MB',
  'results',
];

function markdownTable(rows: readonly QueryFigures[]): string {
  const lines = [`| ${HEAD.join(' | ')} |`, `|${HEAD.map(() => '---').join('|')}|`];
  for (const r of tableRows(rows)) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

function consoleTable(rows: readonly QueryFigures[]): string {
  const body = tableRows(rows).map((r) => r.map((c) => c.replace(/\*\*/g, '')));
  const widths = HEAD.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] as string).length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
  return [line(HEAD), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

const MD_BEGIN = '<!-- nexmark:begin (written by `npm run bench:nexmark`; edits between these markers are replaced) -->';
const MD_END = '<!-- nexmark:end -->';

function writeResultsMd(report: NexmarkReport): string {
  const file = join(BENCH_DIR, 'RESULTS.md');
  const m = report.machine;
  const v = report.versions;
  const section = [
    MD_BEGIN,
    '## Nexmark: Weir beside Apache Flink and a hand-written loop',
    '',
    `Run ${report.date}: \`${report.command}\``,
    '',
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, ${m.os}; 1-minute load average ${m.loadAverage.map((x) => x.toFixed(1)).join(' → ')}` +
      (Math.max(...m.loadAverage) > m.cores / 2 ? ' (**other processes shared the cores: wall-clock figures are depressed; per-core figures much less so**)' : ''),
    `- Versions: Weir ${v.weir}, Node ${v.node} (V8 ${v.v8}), Apache Flink ${v.flink ?? '—'} on ${v.java ?? '—'}`,
    `- Workload: ${report.settings.events.toLocaleString('en-US')} Nexmark events per run (1 person : 3 auctions : 46 bids, ` +
      `${report.settings.eventsPerSecond.toLocaleString('en-US')} events per second of event time, seed ${report.settings.seed}), ` +
      'watermarks 4 s behind the largest event time (periodic, 200 ms), parallelism 1, heap state; Flink in a local MiniCluster ' +
      'with the hashmap state backend and object reuse. Same events and same results (count and checksum) in every system.',
    `- Method: per query, one process per system, warmed up (≥ ${report.settings.warmupRuns} run(s) and ≥ ${report.settings.warmupSeconds} s), then ${report.settings.reps} measured runs alternating between the systems' processes; medians. ` +
      'ev/core-s = events ÷ CPU seconds of the whole process (all threads); ev/s = events ÷ wall-clock seconds; RSS = peak resident set of the process.',
    '',
    markdownTable(report.queries),
    '',
    baselineLine(report.generatorBaseline) +
      ' "ns/ev beyond gen" = CPU per event of a run minus that of its own language\'s generator alone, measured in the same process right after the run (median of the pairs): what the stream processor and the query cost.',
    '',
    'Goals: Weir ≥ 2× Flink per core on q0–q2, ≥ 1× on q3–q11; the loop within 3× of Weir (q0, q1, q2, q5). Why a goal is missed: see "Nexmark notes" below.',
    MD_END,
  ].join('\n');
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n';
  const a = old.indexOf(MD_BEGIN.slice(0, 22));
  const b = old.indexOf(MD_END);
  const next = a >= 0 && b > a ? `${old.slice(0, a)}${section}${old.slice(b + MD_END.length)}` : `${old.replace(/\n*$/, '\n\n')}${section}\n`;
  writeFileSync(file, next);
  return file;
}

/** The results file's content. */
export interface NexmarkReport {
  readonly date: string;
  readonly machine: { cpu: string; cores: number; memoryGb: number; os: string; loadAverage: number[] };
  readonly versions: Record<string, string>;
  readonly command: string;
  /** Each language's generator alone (no stream processor): the floor under every query. */
  readonly generatorBaseline: { typescript?: SystemFigures; java?: SystemFigures };
  readonly settings: {
    events: number;
    reps: number;
    warmupRuns: number;
    warmupSeconds: number;
    seed: number;
    eventsPerSecond: number;
    parallelism: 1;
    quick: boolean;
  };
  readonly queries: QueryFigures[];
}

function weirVersion(): string {
  let v = 'unknown';
  try {
    v = (JSON.parse(readFileSync(join(REPO_DIR, 'packages', 'core', 'package.json'), 'utf8')) as { version: string }).version;
    const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_DIR, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'packages'], { cwd: REPO_DIR, encoding: 'utf8' }).trim() !== '';
    v += ` (${rev}${dirty ? ', with uncommitted changes' : ''})`;
  } catch {
    // not a git checkout
  }
  return v;
}

// ---- main ----------------------------------------------------------------------------------

/**
 * Runs the Nexmark comparison with command-line style arguments.
 * @param argv - the arguments (see the file's documentation)
 * @returns the report that was written
 * @public
 */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<NexmarkReport | undefined> {
  const s = parseSettings(argv);
  if (s.child !== undefined) {
    if (s.child !== 'weir' && s.child !== 'loop') throw new RangeError(`unknown child ${s.child}`);
    if (s.interactive) {
      await childInteractive(s.child, s);
      return undefined;
    }
    const report = await childBatch(s.child, s);
    // Forked by the runner: report over IPC; run by hand (e.g. under --cpu-prof): print.
    if (process.send !== undefined) process.send(report);
    else console.log(JSON.stringify(report));
    return undefined;
  }
  const load0 = loadavg()[0] as number;
  const systems: System[] = ['weir'];
  if (s.peers.includes('flink') && ensureFlinkJar(s)) systems.push('flink');
  if (s.peers.includes('loop')) systems.push('loop');
  const versions: Record<string, string> = { weir: weirVersion(), node: process.version, v8: process.versions.v8 };
  const runs = new Map<string, Run[]>();
  const rss = new Map<string, number[]>();
  const record = (system: System, rep: ChildReport): void => {
    // Node's generator baseline runs in the loop child, but is not the loop: file it apart.
    Object.assign(versions, rep.versions);
    for (const r of rep.results) {
      const k = r.query === 'gen' ? (system === 'flink' ? 'java/gen' : 'typescript/gen') : `${system}/${r.query}`;
      runs.set(k, [...(runs.get(k) ?? []), ...r.runs]);
      rss.set(k, [...(rss.get(k) ?? []), r.peakRssMb]);
    }
  };
  const t0 = performance.now();
  console.log(
    `nexmark: ${s.events.toLocaleString('en-US')} events, queries ${s.queries.join(',')}, systems ${systems.join(',')}, ` +
      (s.quick
        ? 'quick: one process per system, 1 warm-up run + 1 measured run per query'
        : `${s.reps} measured run(s) per system and query, alternating between warm processes ` +
          `(warm-up: ≥ ${s.warmup} run(s) and ≥ ${s.warmupSeconds} s per process)`),
  );
  // The baseline: each language's generator alone, in the loop child (Node) and the Flink jar (JVM).
  const baselineSystems: System[] = s.baseline ? ['loop', ...(systems.includes('flink') ? (['flink'] as const) : [])] : [];
  const plan: RunName[] = [...(s.baseline ? (['gen'] as const) : []), ...s.queries];
  const systemsFor = (q: RunName): System[] =>
    q === 'gen' ? baselineSystems : systems.filter((system) => system !== 'loop' || hasLoop(q));
  if (s.quick) {
    // Smoke check: one process per system for all queries.
    for (const system of new Set([...systems, ...baselineSystems])) {
      const qs = plan.filter((q) => systemsFor(q).includes(system));
      if (qs.length === 0) continue;
      console.log(`  ${system}: ${qs.join(',')}`);
      record(system, await runBatch(system, s, qs));
    }
  } else {
    for (const q of plan) {
      const here = systemsFor(q);
      const sessions: Array<[System, Session]> = [];
      for (const system of here) {
        const t = performance.now();
        sessions.push([system, await startSession(system, s, q)]);
        console.log(`  ${q} ${system.padEnd(5)} warmed up in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      }
      const measured = new Map<System, Run[]>();
      for (let rep = 0; rep < s.reps; rep++) {
        for (const [system, session] of sessions) {
          const run = await session.run();
          measured.set(system, [...(measured.get(system) ?? []), run]);
          console.log(
            `  ${q} rep ${rep + 1}/${s.reps} ${system.padEnd(5)} ${fmt(s.events / (run.cpuMs / 1000))} ev/core-s, ${fmt(s.events / (run.wallMs / 1000))} ev/s`,
          );
        }
      }
      for (const [system, session] of sessions) {
        const done = await session.quit();
        record(system, { results: [{ query: q, runs: measured.get(system) ?? [], peakRssMb: done.peakRssMb }], versions: done.versions });
      }
    }
  }
  const baseline = (name: 'typescript' | 'java'): SystemFigures | undefined => {
    const r = runs.get(`${name}/gen`);
    return r === undefined || r.length === 0 ? undefined : figures(s.events, r, rss.get(`${name}/gen`) ?? []);
  };
  const tsGen = baseline('typescript');
  const javaGen = baseline('java');
  const beyond = (sys: SystemFigures | undefined): number | undefined => sys?.nsPerEventBeyondGenerator;
  const rows: QueryFigures[] = (s.queries as QueryName[]).map((q) => {
    const fig = (system: System): SystemFigures | undefined => {
      const r = runs.get(`${system}/${q}`);
      return r === undefined || r.length === 0 ? undefined : figures(s.events, r, rss.get(`${system}/${q}`) ?? []);
    };
    const weir = fig('weir');
    const flink = fig('flink');
    const loop = fig('loop');
    const all = [weir, flink, loop].filter((f): f is SystemFigures => f !== undefined).flatMap((f) => f.runs);
    const resultsAgree = all.every((r) => r.count === all[0]?.count && r.checksum === all[0]?.checksum);
    return {
      query: q,
      events: s.events,
      description: QUERIES[q].description,
      ...(weir !== undefined ? { weir } : {}),
      ...(flink !== undefined ? { flink } : {}),
      ...(loop !== undefined ? { loop } : {}),
      ...(weir !== undefined && flink !== undefined
        ? {
            weirOverFlinkPerCore: weir.eventsPerCoreSecond / flink.eventsPerCoreSecond,
            weirOverFlinkWall: weir.eventsPerSecond / flink.eventsPerSecond,
          }
        : {}),
      ...(weir !== undefined && loop !== undefined ? { loopOverWeirPerCore: loop.eventsPerCoreSecond / weir.eventsPerCoreSecond } : {}),
      ...(beyond(weir) !== undefined ? { weirNsPerEventBeyondGenerator: beyond(weir) as number } : {}),
      ...(beyond(flink) !== undefined ? { flinkNsPerEventBeyondGenerator: beyond(flink) as number } : {}),
      resultsAgree,
    };
  });
  const date = new Date().toISOString().slice(0, 10);
  const report: NexmarkReport = {
    date,
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: availableParallelism(),
      memoryGb: Math.round(totalmem() / 2 ** 30),
      os: `${process.platform} ${release()}`,
      loadAverage: [load0, loadavg()[0] as number],
    },
    versions,
    command: `npm run bench:nexmark -- ${argv.join(' ')}`.trim(),
    generatorBaseline: {
      ...(tsGen !== undefined ? { typescript: tsGen } : {}),
      ...(javaGen !== undefined ? { java: javaGen } : {}),
    },
    settings: {
      events: s.events,
      reps: s.reps,
      warmupRuns: s.warmup,
      warmupSeconds: s.warmupSeconds,
      seed: s.generator.seed ?? 42,
      eventsPerSecond: s.generator.eventsPerSecond ?? 10_000,
      parallelism: 1,
      quick: s.quick,
    },
    queries: rows,
  };
  console.log(`\n${consoleTable(rows)}\n`);
  console.log(baselineLine(report.generatorBaseline));
  if (s.quick) console.log('quick: a smoke check with cold JITs (one short warm-up run); the figures are not comparable, use a full run for those');
  console.log(
    `machine: ${report.machine.cpu}, ${report.machine.cores} cores; load ${report.machine.loadAverage.map((x) => x.toFixed(1)).join(' → ')}; ` +
      `Weir ${versions.weir}, Node ${versions.node}, Flink ${versions.flink ?? '—'} (${versions.java ?? '—'})`,
  );
  if (Math.max(...report.machine.loadAverage) > report.machine.cores / 2) {
    console.log('warning: other processes shared the cores (load average above half the cores): wall-clock figures are depressed');
  }
  const differ = rows.filter((r) => !r.resultsAgree);
  if (differ.length > 0) loud(`results DIFFER between systems on ${differ.map((r) => r.query).join(', ')}`);
  const out = s.out ?? join(BENCH_DIR, 'results', `nexmark-${date}${s.quick ? '-quick' : ''}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${out}`);
  if (s.resultsMd) console.log(`wrote ${writeResultsMd(report)}`);
  console.log(`total ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  if (differ.length > 0) process.exitCode = 1;
  return report;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
