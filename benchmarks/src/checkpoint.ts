/**
 * Checkpoint benchmarks:
 *
 *   overhead   throughput of a keyed pipeline (fromSequence → map → keyBy → ValueState running
 *              sum → counting sink) with 1 s checkpoints against none, per state backend.
 *   large      snapshot and restore time for a large keyed state (default ~1 GB: `--state-mb`),
 *              on the heap backend: a bounded job fills one ValueState per key, its final
 *              checkpoint is the snapshot; a second run restores it.
 *
 * Usage: node --max-old-space-size=16000 dist/checkpoint.js [--case overhead|large] [--records N]
 *        [--keys N] [--hot-keys N] [--state-mb N] [--reps N] [--quick] [--backend heap|level]
 *        [--only none|cp]
 *
 * `--hot-keys N` (overhead): the first `keys` records write every key once, the rest update only
 * keys 0..N-1, so that few keys change between checkpoints (what delta snapshots are for).
 * `--only none|cp` (overhead): a single run without or with 1 s checkpoints after the warm-up,
 * so that runs of both kinds (and of two builds) can alternate, one process each.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as core from '@weir/core';
import {
  CheckpointStorage,
  type Collector,
  HeapStateBackend,
  type KeyedProcessContext,
  type KeyedProcessFunction,
  ManualClock,
  type RuntimeContext,
  type StateBackend,
  StreamEnvironment,
  type StreamEnvironmentOptions,
  type ValueState,
  ValueStateDescriptor,
} from '@weir/core';
import { mainThreadCpuMs } from './level-state.js';

class RunningSum implements KeyedProcessFunction<number, number, number> {
  private sum!: ValueState<number>;
  open(ctx: RuntimeContext): void {
    this.sum = ctx.getState(new ValueStateDescriptor<number>('sum'));
  }
  processElement(v: number, _ctx: KeyedProcessContext<number>, out: Collector<number>): void {
    const s = (this.sum.value() ?? 0) + v;
    this.sum.update(s);
    if ((v & 1023) === 0) out.collect(s);
  }
}

class Fill implements KeyedProcessFunction<number, number, never> {
  private v!: ValueState<string>;
  constructor(private readonly payload: string) {}
  open(ctx: RuntimeContext): void {
    this.v = ctx.getState(new ValueStateDescriptor<string>('payload'));
  }
  processElement(k: number): void {
    this.v.update(`${k}:${this.payload}`);
  }
}

function backendOf(name: string, dir: string): StateBackend | undefined {
  if (name === 'heap') return undefined;
  const Level = (core as unknown as Record<string, new (o: { dir: string }) => StateBackend>).LevelStateBackend;
  if (Level === undefined) throw new Error('LevelStateBackend is not available in this build');
  return new Level({ dir: join(dir, 'level') });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/**
 * Figures of one run, from the job's start to the moment the last record entered the map: a
 * bounded job with checkpointing then ends with a final checkpoint, a one-time cost of ending
 * the job rather than per-record overhead, so it is left out of every rate (and so is the
 * shutdown of a job without checkpoints).
 */
interface RunFigures {
  /** Records per wall-clock second. */
  rate: number;
  /** Records per CPU-second of the whole process (all threads). */
  cpuRate: number;
  /** Records per CPU-second of the main thread, or NaN off Linux. */
  mainRate: number;
  checkpoints: number;
}

async function overheadRun(
  records: number,
  keys: number,
  backend: string,
  intervalMs: number | undefined,
  hotKeys?: number,
): Promise<RunFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-bench-cp-'));
  try {
    const sb = backendOf(backend, dir);
    const opts: StreamEnvironmentOptions = {
      parallelism: 1,
      ...(sb !== undefined ? { stateBackend: sb } : {}),
      ...(intervalMs !== undefined ? { checkpoint: { dir: join(dir, 'cp'), intervalMs } } : {}),
    };
    const env = StreamEnvironment.create(opts);
    let n = 0;
    // Taken when the last record enters the pipeline (once per run).
    let tEnd = 0;
    let cEnd: NodeJS.CpuUsage | undefined;
    let mEnd: number | null = null;
    let cpsAtEnd = 0;
    let c0: NodeJS.CpuUsage | undefined;
    const lastRecord = (): void => {
      tEnd = performance.now();
      cEnd = process.cpuUsage(c0);
      mEnd = mainThreadCpuMs();
      cpsAtEnd = job.lastCheckpoint()?.checkpointId ?? 0;
    };
    env
      .fromSequence(0, records - 1)
      .uid('src')
      .map((x: number) => {
        if (x === records - 1) lastRecord();
        return hotKeys === undefined ? x % 100_003 : x < keys ? x : x % hotKeys;
      })
      .keyBy((x) => x % keys)
      .process(new RunningSum())
      .uid('sum')
      .sinkTo({ createWriter: () => ({ write: () => void n++ }) })
      .uid('sink');
    globalThis.gc?.();
    const t0 = performance.now();
    c0 = process.cpuUsage();
    const m0 = mainThreadCpuMs();
    const job = env.executeAsync('checkpoint overhead');
    await job.done;
    if (cEnd === undefined || n === 0) throw new Error(`the last record was not seen (sink took ${n} records)`);
    const cpu = cEnd;
    return {
      rate: records / ((tEnd - t0) / 1000),
      cpuRate: records / ((cpu.user + cpu.system) / 1e6),
      mainRate: m0 === null || mEnd === null ? Number.NaN : records / ((mEnd - m0) / 1000),
      checkpoints: cpsAtEnd,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function overhead(o: {
  records: number;
  keys: number;
  hotKeys?: number;
  reps: number;
  backends: string[];
  only?: 'none' | 'cp';
}): Promise<void> {
  const hot = o.hotKeys !== undefined ? ` (then only ${o.hotKeys.toLocaleString('en-US')} hot keys)` : '';
  if (o.only !== undefined) {
    // One run in this process (after the warm-up): for alternating runs, one process each.
    for (const backend of o.backends) {
      await overheadRun(Math.min(o.records, 500_000), o.keys, backend, undefined, o.hotKeys); // warm-up
      const r = await overheadRun(o.records, o.keys, backend, o.only === 'cp' ? 1_000 : undefined, o.hotKeys);
      const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
      console.log(
        `  ${backend} ${o.only === 'cp' ? '1 s checkpoints' : 'no checkpoints'}: ${fmt(r.rate)} rec/s wall-clock, ${fmt(r.cpuRate)} per process CPU-s, ${fmt(r.mainRate)} per main-thread CPU-s (${r.checkpoints} checkpoints)`,
      );
    }
    return;
  }
  console.log(`checkpoint overhead: ${o.records.toLocaleString('en-US')} records, ${o.keys.toLocaleString('en-US')} keys${hot}, parallelism 1, median of ${o.reps}`);
  for (const backend of o.backends) {
    await overheadRun(Math.min(o.records, 500_000), o.keys, backend, undefined, o.hotKeys); // warm-up
    const none: RunFigures[] = [];
    const cp: RunFigures[] = [];
    let cps = 0;
    for (let i = 0; i < o.reps; i++) {
      none.push(await overheadRun(o.records, o.keys, backend, undefined, o.hotKeys));
      const r = await overheadRun(o.records, o.keys, backend, 1_000, o.hotKeys);
      cp.push(r);
      const a = none[i] as RunFigures;
      const k = (x: number): string => `${Math.round(x / 1000)}k`;
      // Each pair, so that the spread of single runs shows next to the medians.
      console.log(
        `  ${backend} pair ${i + 1}: per process CPU-s ${k(a.cpuRate)} → ${k(r.cpuRate)}, per main-thread CPU-s ${k(a.mainRate)} → ${k(r.mainRate)}, wall-clock ${k(a.rate)} → ${k(r.rate)} rec/s (${r.checkpoints} checkpoints)`,
      );
      cps = Math.max(cps, r.checkpoints);
    }
    const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
    for (const [what, pick] of [
      ['wall-clock', (r: RunFigures) => r.rate],
      ['process CPU', (r: RunFigures) => r.cpuRate],
      ['main-thread CPU', (r: RunFigures) => r.mainRate],
    ] as const) {
      const a = median(none.map(pick));
      const b = median(cp.map(pick));
      console.log(
        `  ${backend.padEnd(5)} per ${what.padEnd(15)} s: no checkpoints ${fmt(a)} rec/s | 1 s checkpoints ${fmt(b)} rec/s (${cps} checkpoints) | overhead ${(((a - b) / a) * 100).toFixed(1)}%`,
      );
    }
  }
}

async function large(o: { stateMb: number }): Promise<void> {
  const valueBytes = 200;
  const keys = Math.round((o.stateMb * 1024 * 1024) / valueBytes);
  const payload = 'x'.repeat(valueBytes - 12);
  const dir = await mkdtemp(join(tmpdir(), 'weir-bench-large-'));
  const build = (env: StreamEnvironment, n: number): void => {
    env
      .fromSequence(0, n - 1)
      .uid('src')
      .keyBy((k) => k)
      .process(new Fill(payload))
      .uid('fill')
      .sinkTo({ createWriter: () => ({ write() {} }) })
      .uid('sink');
  };
  try {
    const cp = { dir: join(dir, 'cp'), intervalMs: 0, retain: 1 };
    // The fill job lives in its own scope, so that none of it is reachable during the restores.
    const { fillSecs, snap } = await (async () => {
      const env = StreamEnvironment.create({ parallelism: 1, checkpoint: cp });
      build(env, keys);
      const t0 = performance.now();
      const job = env.executeAsync('fill');
      await job.done;
      const last = job.lastCheckpoint();
      if (last === undefined) throw new Error('no final checkpoint');
      return { fillSecs: (performance.now() - t0) / 1000, snap: { sizeBytes: last.sizeBytes, durationMs: last.durationMs, checkpointId: last.checkpointId } };
    })();
    const mb = snap.sizeBytes / 1024 / 1024;
    console.log(`large state: ${keys.toLocaleString('en-US')} keys × ~${valueBytes} B, checkpoint ${mb.toFixed(0)} MB`);
    console.log(`  fill ${fillSecs.toFixed(1)} s; snapshot (final checkpoint) ${(snap.durationMs / 1000).toFixed(2)} s = ${(mb / (snap.durationMs / 1000)).toFixed(0)} MB/s`);
    // Restore alone, as a job does it before it starts (read, verify, decode into the heap),
    // without the restored job's own final checkpoint.
    {
      globalThis.gc?.();
      const mem = process.memoryUsage();
      console.log(`  before restore: heap used ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB, external ${(mem.external / 2 ** 20).toFixed(0)} MiB`);
      const t = performance.now();
      const c = process.cpuUsage();
      const m = mainThreadCpuMs();
      const restored = await new CheckpointStorage(cp.dir).loadLatest((w) => console.warn(w));
      const tLoad = performance.now();
      const snaps = restored?.snapshots.get('fill') ?? [];
      const backend = new HeapStateBackend().createKeyedStateBackend({
        operatorUid: 'fill',
        subtaskIndex: 0,
        keyGroupRange: { start: 0, end: 127 },
        maxParallelism: restored?.manifest.maxParallelism ?? 128,
        clock: new ManualClock(0),
      });
      backend.getValueState(new ValueStateDescriptor<string>('payload'));
      backend.restore(snaps.flatMap((s) => (s.keyed !== undefined ? [s.keyed] : [])));
      const secs = (performance.now() - t) / 1000;
      const cu = process.cpuUsage(c);
      const m2 = mainThreadCpuMs();
      if (backend.numEntries() !== keys) throw new Error(`restored ${backend.numEntries()} entries, expected ${keys}`);
      console.log(
        `  restore alone ${secs.toFixed(2)} s = ${(mb / secs).toFixed(0)} MB/s (load + verify ${((tLoad - t) / 1000).toFixed(2)} s, decode ${((performance.now() - tLoad) / 1000).toFixed(2)} s); CPU: process ${((cu.user + cu.system) / 1e6).toFixed(2)} s, main thread ${m === null || m2 === null ? '-' : ((m2 - m) / 1000).toFixed(2)} s`,
      );
      backend.dispose();
    }
    const env2 = StreamEnvironment.create({ parallelism: 1, checkpoint: cp, restore: 'latest' });
    build(env2, keys);
    globalThis.gc?.();
    const t1 = performance.now();
    const c1 = process.cpuUsage();
    const m1 = mainThreadCpuMs();
    const job2 = env2.executeAsync('restore');
    await job2.done;
    const total = (performance.now() - t1) / 1000;
    const cpu = process.cpuUsage(c1);
    const m2 = mainThreadCpuMs();
    const final2 = job2.lastCheckpoint();
    const restoreSecs = total - (final2 !== undefined && final2.checkpointId !== snap.checkpointId ? final2.durationMs / 1000 : 0);
    console.log(`  restore ${restoreSecs.toFixed(2)} s = ${(mb / restoreSecs).toFixed(0)} MB/s (run ${total.toFixed(2)} s minus its own final checkpoint)`);
    const cpuSecs = (cpu.user + cpu.system) / 1e6;
    const mainSecs = m1 === null || m2 === null ? Number.NaN : (m2 - m1) / 1000;
    console.log(
      `  restore run CPU: process ${cpuSecs.toFixed(2)} s, main thread ${mainSecs.toFixed(2)} s (both include the run's own final checkpoint)`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Entry point (also used by run-all). */
export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: false,
    options: {
      case: { type: 'string' },
      records: { type: 'string' },
      keys: { type: 'string' },
      'hot-keys': { type: 'string' },
      'state-mb': { type: 'string' },
      reps: { type: 'string' },
      quick: { type: 'boolean' },
      backend: { type: 'string' },
      only: { type: 'string' },
    },
  });
  const quick = values.quick === true;
  const which = (values.case as string | undefined) ?? 'all';
  const backends = values.backend !== undefined ? [values.backend as string] : ['heap', 'level'];
  const available = backends.filter((b) => b === 'heap' || 'LevelStateBackend' in core);
  if (which === 'all' || which === 'overhead') {
    await overhead({
      records: Number(values.records ?? (quick ? 1_000_000 : 10_000_000)),
      keys: Number(values.keys ?? 100_000),
      ...(values['hot-keys'] !== undefined ? { hotKeys: Number(values['hot-keys']) } : {}),
      reps: Number(values.reps ?? (quick ? 1 : 3)),
      backends: available,
      ...(values.only === 'none' || values.only === 'cp' ? { only: values.only } : {}),
    });
  }
  if (which === 'all' || which === 'large') await large({ stateMb: Number(values['state-mb'] ?? (quick ? 64 : 1024)) });
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2));
