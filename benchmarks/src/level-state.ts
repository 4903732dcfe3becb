/**
 * LevelDB keyed state: how many ValueState updates per second `LevelStateBackend` sustains, at
 * 100k and 1M keys, with a read cache much smaller than the state; plus how long a full and an
 * incremental `snapshotAsync()` take. The heap backend runs the same loop as a reference.
 *
 * The loop is what a keyed operator does per record: `setCurrentKey(key)`, then either a blind
 * `update(n)` or a read-modify-write `update(value() + 1)`. Keys are uniformly random (a
 * multiplicative hash of the record number), the worst case for the cache. Every 10 000 records
 * the loop yields to the event loop, as a task does between input batches, so background batch
 * writes complete. Before each case every key is written once (not timed); the read cache then
 * holds the most recently written rows, as in a running job.
 *
 * Figures: records per wall-clock second, per process CPU-second (all threads: LevelDB's
 * background compaction and writes count) and per main-thread CPU-second (the "one core" the
 * pipeline runs on; Linux only, from /proc).
 *
 * Usage:
 *   node dist/level-state.js [--records 1000000] [--keys 100000,1000000] [--cache 10000]
 *                            [--write-buffer 20000] [--case update,rmw,rmw-prefetch,heap]
 *                            [--block-cache-mb 32] [--dir /tmp] [--json]
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  HeapStateBackend,
  type KeyedStateBackend,
  type LevelKeyedStateBackend,
  LevelStateBackend,
  ManualClock,
  type StateBackend,
  ValueStateDescriptor,
} from '@weir/core';

/** One measured case. */
export interface LevelStateResult {
  readonly backend: 'level' | 'heap';
  readonly mode: Mode;
  readonly keys: number;
  readonly records: number;
  readonly cacheSize: number;
  readonly perWallSecond: number;
  readonly perProcessCpuSecond: number;
  readonly perMainThreadCpuSecond: number | null;
  readonly dbReadsPerRecord: number;
  readonly fullSnapshotMs: number | null;
  readonly incrementalSnapshotMs: number | null;
  /** Resident set size after the case, before disposing the backend. */
  readonly rssMiB: number;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * `update` = blind `update(n)`; `rmw` = `update(value() + 1)`; `rmw-prefetch` = the same
 * read-modify-write, processed in batches of 1024 records (the runtime's default batch size)
 * whose keys are read into the row cache with one `prefetch()` (`getMany`) issued while the
 * previous batch is processed.
 */
type Mode = 'update' | 'rmw' | 'rmw-prefetch';

const PREFETCH_BATCH = 1024;

/** CPU time of the main thread in ms (Linux), else null. */
export function mainThreadCpuMs(): number | null {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return null;
  }
}

async function runCase(
  backendName: 'level' | 'heap',
  mode: Mode,
  keys: number,
  records: number,
  cacheSize: number,
  writeBufferSize: number,
  dir: string,
  blockCacheBytes: number | undefined,
): Promise<LevelStateResult> {
  const backend: StateBackend =
    backendName === 'level'
      ? new LevelStateBackend({ dir, cacheSize, writeBufferSize, ...(blockCacheBytes !== undefined ? { blockCacheBytes } : {}) })
      : new HeapStateBackend();
  const b = (await backend.createKeyedStateBackend({
    operatorUid: 'bench',
    subtaskIndex: 0,
    keyGroupRange: { start: 0, end: 127 },
    maxParallelism: 128,
    clock: new ManualClock(0),
  })) as KeyedStateBackend;
  const level = backendName === 'level' ? (b as LevelKeyedStateBackend) : undefined;
  const v = b.getValueState(new ValueStateDescriptor<number>('count'));
  for (let i = 0; i < keys; i++) {
    b.setCurrentKey(i);
    v.update(0);
    if (i % 10_000 === 0) await tick();
  }
  await level?.flush();
  const reads0 = level?.stats().dbReads ?? 0;
  globalThis.gc?.();

  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const m0 = mainThreadCpuMs();
  if (mode === 'update') {
    for (let n = 0; n < records; n++) {
      b.setCurrentKey((Math.imul(n, 0x9e3779b1) >>> 0) % keys);
      v.update(n);
      if (n % 10_000 === 0) await tick();
    }
  } else if (mode === 'rmw') {
    for (let n = 0; n < records; n++) {
      b.setCurrentKey((Math.imul(n, 0x9e3779b1) >>> 0) % keys);
      v.update((v.value() as number) + 1);
      if (n % 10_000 === 0) await tick();
    }
  } else {
    // Pipelined as a task would: the next batch's rows are read (on a LevelDB thread) while
    // this batch is processed.
    const keysOf = (start: number): number[] => {
      const out: number[] = [];
      for (let n = start; n < Math.min(records, start + PREFETCH_BATCH); n++) out.push((Math.imul(n, 0x9e3779b1) >>> 0) % keys);
      return out;
    };
    let batch = keysOf(0);
    let pending = level?.prefetch(batch);
    for (let start = 0; start < records; start += PREFETCH_BATCH) {
      if (pending !== undefined) await pending;
      else if (start % 10_240 === 0) await tick();
      const next = start + PREFETCH_BATCH < records ? keysOf(start + PREFETCH_BATCH) : [];
      pending = level?.prefetch(next);
      for (let i = 0; i < batch.length; i++) {
        b.setCurrentKey(batch[i] as number);
        v.update((v.value() as number) + 1);
      }
      batch = next;
    }
  }
  await level?.flush();
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const m1 = mainThreadCpuMs();
  const dbReads = (level?.stats().dbReads ?? 0) - reads0;

  let fullSnapshotMs: number | null = null;
  let incrementalSnapshotMs: number | null = null;
  if (level !== undefined) {
    let t = performance.now();
    await level.snapshotAsync();
    fullSnapshotMs = Math.round(performance.now() - t);
    b.setCurrentKey(42);
    v.update(-1);
    t = performance.now();
    await level.snapshotAsync();
    incrementalSnapshotMs = Math.round(performance.now() - t);
  }
  const rssMiB = Math.round(process.memoryUsage().rss / 2 ** 20);
  await b.dispose();
  return {
    backend: backendName,
    mode,
    keys,
    records,
    cacheSize: backendName === 'level' ? cacheSize : 0,
    perWallSecond: Math.round(records / wall),
    perProcessCpuSecond: Math.round(records / ((cpu.user + cpu.system) / 1e6)),
    perMainThreadCpuSecond: m0 === null || m1 === null || m1 === m0 ? null : Math.round(records / ((m1 - m0) / 1000)),
    dbReadsPerRecord: Math.round((dbReads / records) * 100) / 100,
    fullSnapshotMs,
    incrementalSnapshotMs,
    rssMiB,
  };
}

/**
 * Runs the benchmark and prints a table (or JSON with `--json`).
 * @param argv - command-line arguments
 * @returns the measured cases
 */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<LevelStateResult[]> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      records: { type: 'string', default: process.env.WEIR_BENCH_RECORDS ?? '1000000' },
      keys: { type: 'string', default: '100000,1000000' },
      cache: { type: 'string', default: '10000' },
      'write-buffer': { type: 'string', default: '20000' },
      case: { type: 'string', default: 'update,rmw,rmw-prefetch,heap' },
      'block-cache-mb': { type: 'string' },
      dir: { type: 'string', default: join(tmpdir(), 'weir-bench-level') },
      quick: { type: 'boolean', default: process.env.WEIR_BENCH_QUICK === '1' },
      json: { type: 'boolean', default: false },
    },
    strict: false,
  });
  const quick = values.quick === true;
  const records = quick ? 200_000 : Number(values.records);
  const keyCounts = (quick ? '100000' : String(values.keys)).split(',').map(Number);
  const cacheSize = Number(values.cache);
  const writeBuffer = Number(values['write-buffer']);
  const cases = String(values.case).split(',');
  const dir = String(values.dir);
  const blockCacheBytes = values['block-cache-mb'] !== undefined ? Number(values['block-cache-mb']) * 2 ** 20 : undefined;
  const results: LevelStateResult[] = [];
  for (const keys of keyCounts) {
    for (const mode of ['update', 'rmw', 'rmw-prefetch'] as const) {
      if (cases.includes(mode)) results.push(await runCase('level', mode, keys, records, cacheSize, writeBuffer, dir, blockCacheBytes));
    }
    if (cases.includes('heap')) results.push(await runCase('heap', 'rmw', keys, records, cacheSize, writeBuffer, dir, undefined));
  }
  if (values.json === true) {
    console.log(JSON.stringify(results, null, 2));
  } else {
    console.log('LevelDB keyed ValueState (uniformly random keys; /s = records per second)');
    console.log(
      'backend mode         keys       cache   wall/s      process-CPU/s  main-thread-CPU/s  LevelDB reads/rec  full snap ms  incr snap ms  RSS MiB',
    );
    for (const r of results) {
      console.log(
        [
          r.backend.padEnd(7),
          r.mode.padEnd(12),
          String(r.keys).padEnd(10),
          String(r.cacheSize).padEnd(7),
          String(r.perWallSecond).padEnd(11),
          String(r.perProcessCpuSecond).padEnd(14),
          String(r.perMainThreadCpuSecond ?? '-').padEnd(18),
          String(r.dbReadsPerRecord).padEnd(18),
          String(r.fullSnapshotMs ?? '-').padEnd(13),
          String(r.incrementalSnapshotMs ?? '-').padEnd(13),
          String(r.rssMiB),
        ].join(' '),
      );
    }
  }
  return results;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
