import {
  CheckpointStorage,
  type Collector,
  defineJob,
  type JobProgress,
  type KeyedProcessContext,
  type KeyedProcessFunction,
  type OnTimerContext,
  type RuntimeContext,
  resolveJobEnvOptions,
  runJob,
  startJob,
  UserFunctionError,
  type ValueState,
  ValueStateDescriptor,
  WatermarkStrategy,
} from '@weir/core';
import { describe, expect, it, vi } from 'vitest';
import { tempDir } from './cli-helpers.js';

/** Counts per key; emits each key's total at the end of input. */
class CountPerKey implements KeyedProcessFunction<string, number, [string, number]> {
  private count!: ValueState<number>;
  open(ctx: RuntimeContext): void {
    this.count = ctx.getState(new ValueStateDescriptor<number>('count'));
  }
  processElement(_n: number, ctx: KeyedProcessContext<string>): void {
    this.count.update((this.count.value() ?? 0) + 1);
    ctx.timerService().registerEventTimeTimer(Number.MAX_SAFE_INTEGER);
  }
  onTimer(_ts: number, ctx: OnTimerContext<string>, out: Collector<[string, number]>): void {
    out.collect([ctx.getCurrentKey(), this.count.value() ?? 0]);
  }
}

/** Totals per key of the last run of {@link counter} (the sink is shared, as in a module). */
const totals = new Map<string, number>();
const pause = new Int32Array(new SharedArrayBuffer(4));

const counter = defineJob({
  name: 'counter',
  options: {
    count: { description: 'how many numbers', default: 1000, integer: true, min: 1 },
    keys: { description: 'number of keys', default: 4, integer: true, min: 1 },
    failAt: { description: 'throw on this number', default: -1, integer: true },
    slowEvery: { description: 'sleep 1 ms every this many records (0: never)', default: 0, integer: true, min: 0 },
  },
  defaults: { parallelism: 2 },
  build(env, { count, keys, failAt, slowEvery }) {
    env
      .fromSequence(0, count - 1)
      .uid('numbers')
      .map((n) => {
        if (n === failAt) throw new Error(`boom at ${n}`);
        if (slowEvery > 0 && n % slowEvery === 0) Atomics.wait(pause, 0, 0, 1);
        return n;
      })
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<number>().withTimestampAssigner((n) => n))
      .keyBy((n) => `k${n % keys}`)
      .process(new CountPerKey())
      .uid('count-per-key')
      .sinkTo({ createWriter: () => ({ write: ([k, c]: [string, number]) => void totals.set(k, (totals.get(k) ?? 0) + c) }) })
      .uid('totals');
  },
});

function sum(m: Map<string, number>): number {
  return [...m.values()].reduce((a, b) => a + b, 0);
}

describe('runJob', () => {
  it('runs a job module with its options from args and config, and reports progress at the end', async () => {
    totals.clear();
    const reports: JobProgress[] = [];
    const r = await runJob(counter, { args: ['--count', '5_000'], config: { keys: 3 }, onProgress: (p) => reports.push(p) });
    expect(r.status).toBe('finished');
    expect(r.config).toEqual({ count: 5000, keys: 3, failAt: -1, slowEvery: 0 });
    expect(r.jobName).toBe('counter');
    expect(r.metrics.sourceRecords).toBe(5000);
    expect(totals).toEqual(new Map([['k0', 1667], ['k1', 1667], ['k2', 1666]]));
    const last = reports.at(-1) as JobProgress;
    expect(last.final).toBe(true);
    expect(last.status).toBe('finished');
    expect(last.recordsIn).toBe(5000);
    expect(last.recordsOut).toBe(3);
    expect(last.watermark).toBe(Number.POSITIVE_INFINITY);
  });

  it('reports progress periodically while the job runs', async () => {
    const reports: JobProgress[] = [];
    const r = await runJob(counter, {
      config: { count: 20_000, slowEvery: 100 },
      progressIntervalMs: 20,
      onProgress: (p) => reports.push(p),
    });
    expect(r.status).toBe('finished');
    const running = reports.filter((p) => !p.final);
    expect(running.length).toBeGreaterThan(0);
    expect(running.every((p) => p.status === 'running' && p.recordsInPerSecond >= 0)).toBe(true);
    expect(reports.filter((p) => p.final)).toHaveLength(1);
  });

  it('an aborted signal cancels the job', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    const r = await runJob(counter, { config: { count: 1_000_000, slowEvery: 100 }, signal: ac.signal });
    expect(r.status).toBe('cancelled');
    expect(r.metrics.sourceRecords).toBeLessThan(2_000_000);
  });

  it('fails with the cause, and reports a final failed progress', async () => {
    const reports: JobProgress[] = [];
    await expect(runJob(counter, { config: { failAt: 10 }, onProgress: (p) => reports.push(p) })).rejects.toBeInstanceOf(UserFunctionError);
    expect(reports.at(-1)).toMatchObject({ final: true, status: 'failed' });
  });

  it('a build that throws rejects startJob; bad options are usage errors', async () => {
    const broken = defineJob({
      name: 'broken',
      build() {
        throw new Error('no input configured');
      },
    });
    await expect(startJob(broken)).rejects.toThrow('no input configured');
    await expect(runJob(counter, { args: ['--count', 'lots'] })).rejects.toMatchObject({ name: 'UsageError' });
  });

  it('stops with a checkpoint and resumes from it with restore: latest, with no loss and no duplicates', async () => {
    const dir = await tempDir();
    totals.clear();
    const first = await startJob(counter, {
      config: { count: 50_000, keys: 5, slowEvery: 100 },
      envOptions: { checkpoint: { dir, intervalMs: 0 } },
    });
    await new Promise((r) => setTimeout(r, 50));
    const stopped = await first.stopWithCheckpoint();
    const r1 = await first.done;
    expect(r1.status).toBe('stopped');
    expect(r1.lastCheckpoint?.checkpointId).toBe(stopped.checkpointId);
    expect(r1.metrics.sourceRecords).toBeLessThan(100_000);
    expect(totals.size).toBe(0); // totals come at the end of input only
    const infos = await new CheckpointStorage(dir).list();
    expect(infos[0]).toMatchObject({ checkpointId: stopped.checkpointId, complete: true });

    const r2 = await runJob(counter, {
      config: { count: 50_000, keys: 5, slowEvery: 100 },
      envOptions: { checkpoint: { dir, intervalMs: 0 }, restore: 'latest' },
    });
    expect(r2.status).toBe('finished');
    expect(sum(totals)).toBe(50_000);
    expect(totals.get('k0')).toBe(10_000);
  });
});

describe('README: Running jobs from the CLI', () => {
  const tens = defineJob({
    name: 'tens',
    description: 'the multiples of ten up to a bound',
    options: { upTo: { description: 'last number', default: 100, integer: true, min: 1 } },
    defaults: { checkpoint: { intervalMs: 10_000 } }, // when run with --checkpoint-dir
    build(env, { upTo }) {
      env
        .fromSequence(1, upTo)
        .filter((n) => n % 10 === 0)
        .print();
    },
  });

  it('the tens job module prints 10, 20, 30, 40, 50 with --up-to 50', async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const r = await runJob(tens, { args: ['--up-to', '50'] });
      expect(r.status).toBe('finished');
    } finally {
      spy.mockRestore();
    }
    expect(lines.join('')).toBe('10\n20\n30\n40\n50\n');
    expect(resolveJobEnvOptions(tens, { checkpoint: { dir: '/tmp/chk' } }).checkpoint).toEqual({ intervalMs: 10_000, dir: '/tmp/chk' });
    expect(resolveJobEnvOptions(tens).checkpoint).toBeUndefined();
  });
});
