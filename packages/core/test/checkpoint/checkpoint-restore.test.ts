import { readdir, rm, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointStorage, StreamEnvironment, WatermarkStrategy } from '@weir/core';
import { GatedSequenceSource } from '@weir/core/testing';
import { expectedSums, RunningSum, tempDir } from './helpers.js';

function build(env: StreamEnvironment, n: number, sink: (v: [number, number]) => void): void {
  env
    .fromSequence(1, n)
    .keyBy((x) => x % 10)
    .process(new RunningSum())
    .uid('running-sum')
    .sinkTo({ createWriter: () => ({ write: sink }) })
    .uid('sink');
}

describe('checkpoints', () => {
  it('a bounded job with checkpointing ends with a final, complete checkpoint', async () => {
    const dir = await tempDir('weir-cp-');
    const env = StreamEnvironment.create({ parallelism: 2, checkpoint: { dir, intervalMs: 5 } });
    const last = new Map<number, number>();
    build(env, 5_000, ([k, s]) => void last.set(k, s));
    await env.execute('cp-final');
    expect(last).toEqual(expectedSums(5_000));
    const infos = await new CheckpointStorage(dir).list();
    expect(infos.length).toBeGreaterThan(0);
    expect(infos[0]?.complete).toBe(true);
    expect(infos.length).toBeLessThanOrEqual(3);
  });

  it('state and positions restored after a failure give the failure-free final state', async () => {
    const dir = await tempDir('weir-cp-');
    const n = 20_000;
    for (const [p1, p2] of [
      [1, 1],
      [2, 3],
      [3, 1],
    ] as const) {
      await rm(dir, { recursive: true, force: true });
      // Run 1: each reader pauses at a gate; a checkpoint is taken there; then the sink fails.
      const env1 = StreamEnvironment.create({ parallelism: p1, checkpoint: { dir } });
      const gated = new GatedSequenceSource(n, 4, 3_000);
      let armed = false;
      env1
        .fromSource(gated, WatermarkStrategy.noWatermarks<number>(), 'gated')
        .uid('source')
        .keyBy((x) => x % 10)
        .process(new RunningSum())
        .uid('running-sum')
        .sinkTo({ createWriter: () => ({ write: () => { if (armed) throw new Error('injected failure'); } }) })
        .uid('sink');
      const job = env1.executeAsync('cp-fail');
      while (gated.emitted < 4 * 3_000) await new Promise((r) => setTimeout(r, 2));
      const cp = await job.triggerCheckpoint();
      armed = true;
      gated.release();
      await expect(job.done).rejects.toThrow(/injected failure/);
      // Run 2: restore and finish, possibly at another parallelism.
      const last = new Map<number, number>();
      let records = 0;
      const env2 = StreamEnvironment.create({ parallelism: p2, checkpoint: { dir, intervalMs: 50 }, restore: 'latest' });
      env2
        .fromSource(new GatedSequenceSource(n, 4, undefined), WatermarkStrategy.noWatermarks<number>(), 'gated')
        .uid('source')
        .keyBy((x) => x % 10)
        .process(new RunningSum())
        .uid('running-sum')
        .sinkTo({
          createWriter: () => ({
            write: ([k, s]: [number, number]) => {
              records++;
              last.set(k, s);
            },
          }),
        })
        .uid('sink');
      await env2.execute('cp-restore');
      expect(cp.checkpointId).toBeGreaterThan(0);
      expect(last).toEqual(expectedSums(n));
      // Exactly the records after the checkpoint were replayed.
      expect(records).toBe(n - 4 * 3_000);
    }
  });

  it('a corrupt newest checkpoint is refused and the previous complete one is used', async () => {
    const dir = await tempDir('weir-cp-');
    const env = StreamEnvironment.create({ checkpoint: { dir, retain: 5 } });
    build(env, 100, () => {});
    await env.execute();
    const storage = new CheckpointStorage(dir);
    // Make two more checkpoints by running jobs that restore and finish.
    for (let i = 0; i < 2; i++) {
      const e = StreamEnvironment.create({ checkpoint: { dir, retain: 5 }, restore: 'latest' });
      build(e, 100, () => {});
      await e.execute();
    }
    const before = await storage.list();
    expect(before.length).toBeGreaterThanOrEqual(2);
    const newest = before[0]!;
    const file = newest.manifest!.files[0]!.file;
    const bytes = await readFile(join(newest.path, file));
    await writeFile(join(newest.path, file), bytes.subarray(0, Math.max(1, bytes.length - 3)));
    const warnings: string[] = [];
    const restored = await storage.loadLatest((m) => warnings.push(m));
    expect(restored?.manifest.checkpointId).toBe(before[1]!.checkpointId);
    expect(warnings.join('\n')).toMatch(new RegExp(`checkpoint ${newest.checkpointId} .* refused`));
    // A directory without manifest (a crash while writing) is refused too.
    const entries = await readdir(dir);
    expect(entries.length).toBeGreaterThan(0);
  });

  it('stateful operators need a uid when checkpointing is on', async () => {
    const dir = await tempDir('weir-cp-');
    const env = StreamEnvironment.create({ checkpoint: { dir } });
    env.fromSequence(1, 10).keyBy((x) => x % 2).process(new RunningSum()).sinkTo({ createWriter: () => ({ write() {} }) });
    await expect(env.execute()).rejects.toThrow(/needs a stable uid.*KeyedProcess/);
  });
});
