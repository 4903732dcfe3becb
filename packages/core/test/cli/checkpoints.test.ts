import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type CheckpointManifest,
  CheckpointStorage,
  defineJob,
  type KeyedProcessContext,
  type KeyedProcessFunction,
  type RuntimeContext,
  runJob,
  type ValueState,
  ValueStateDescriptor,
} from '@weir/core';
import { describe, expect, it } from 'vitest';
import type { CheckpointSummary } from '../../src/cli/checkpoints.js';
import { runMain, tempDir } from './cli-helpers.js';

/** Keeps the last value per key (state that grows with the number of keys). */
class LastPerKey implements KeyedProcessFunction<number, number, number> {
  private last!: ValueState<string>;
  open(ctx: RuntimeContext): void {
    this.last = ctx.getState(new ValueStateDescriptor<string>('last'));
  }
  processElement(n: number, _ctx: KeyedProcessContext<number>): void {
    this.last.update(`value ${n}`);
  }
}

const job = defineJob({
  name: 'last-per-key',
  options: { count: { description: 'numbers', default: 20_000, integer: true } },
  build(env, { count }) {
    env
      .fromSequence(1, count, 'numbers')
      .uid('numbers')
      .keyBy((n) => n % 500)
      .process(new LastPerKey())
      .name('last per key')
      .uid('last-per-key')
      .setParallelism(3)
      .sinkTo({ createWriter: () => ({ write() {} }) })
      .uid('sink');
  },
});

/** A checkpoint directory with the final checkpoint of a small job at parallelism 2 and 3. */
async function checkpointDir(): Promise<string> {
  const dir = await tempDir();
  const r = await runJob(job, { envOptions: { parallelism: 2, checkpoint: { dir, intervalMs: 0 } } });
  expect(r.status).toBe('finished');
  expect(r.lastCheckpoint).toBeDefined();
  return dir;
}

describe('weir checkpoints', () => {
  it('lists id, time, size, status, and per operator uid, parallelism and state bytes', async () => {
    const dir = await checkpointDir();
    const [info] = await new CheckpointStorage(dir).list();
    const manifest = info?.manifest as CheckpointManifest;
    const r = await runMain(['checkpoints', dir]);
    expect(r.status).toBe(0);
    expect(r.err).toBe('');
    const lines = r.out.split('\n');
    expect(lines[0]).toBe(`1 checkpoint in ${dir} (1 complete; job 'last-per-key'), newest first:`);
    expect(lines[2]).toMatch(/^ID\s+TIME \(UTC\)\s+AGE\s+SIZE\s+OPERATORS\s+STATUS$/);
    expect(lines[3]).toMatch(new RegExp(`^\\s*${manifest.checkpointId}\\s+${new Date(manifest.timestamp).toISOString().replace(/\./g, '\\.')}\\s+\\S+\\s+[\\d.]+ (B|KiB)\\s+3\\s+complete$`));
    expect(r.out).toContain(`checkpoint ${manifest.checkpointId}  ${info?.path}  (max parallelism 128)`);
    // One row per operator: uid, name, parallelism, files, state.
    expect(r.out).toMatch(/ {2}UID\s+NAME\s+PARALLELISM\s+FILES\s+STATE/);
    expect(r.out).toMatch(/ {2}numbers\s+Source: numbers\s+2\s+3\s+\d+ B/); // 2 readers + the enumerator
    expect(r.out).toMatch(/ {2}last-per-key\s+last per key\s+3\s+3\s+[\d.]+ (B|KiB)/);
    // A stateless sink leaves no state files.
    expect(r.out).toMatch(/ {2}sink\s+Sink\s+2\s+0\s+0 B/);
  });

  it('--json gives the same, machine-readable; state bytes are the sums of the manifest files per uid', async () => {
    const dir = await checkpointDir();
    const [info] = await new CheckpointStorage(dir).list();
    const manifest = info?.manifest as CheckpointManifest;
    const r = await runMain(['checkpoints', dir, '--json']);
    expect(r.status).toBe(0);
    const list = JSON.parse(r.out) as CheckpointSummary[];
    expect(list).toHaveLength(1);
    const c = list[0] as CheckpointSummary;
    expect(c).toMatchObject({
      checkpointId: manifest.checkpointId,
      path: info?.path,
      complete: true,
      problem: null,
      timestamp: manifest.timestamp,
      time: new Date(manifest.timestamp).toISOString(),
      sizeBytes: info?.sizeBytes,
      job: 'last-per-key',
      maxParallelism: 128,
    });
    const bytesOf = (uid: string): number =>
      manifest.files.filter((f) => f.uid === uid || f.uid.startsWith(`${uid}#`)).reduce((n, f) => n + f.size, 0);
    expect(c.operators.map((o) => [o.uid, o.parallelism])).toEqual([
      ['numbers', 2],
      ['last-per-key', 3],
      ['sink', 2],
    ]);
    for (const o of c.operators) expect(o.stateBytes).toBe(bytesOf(o.uid));
    expect(c.operators.reduce((n, o) => n + o.stateBytes, 0)).toBe(c.sizeBytes);
    // 500 keys of state are far bigger than a sink's nothing.
    expect(c.operators[1]?.stateBytes).toBeGreaterThan(5_000);
  });

  it('shows why a checkpoint cannot be restored (corrupt file, missing manifest)', async () => {
    const dir = await checkpointDir();
    const [info] = await new CheckpointStorage(dir).list();
    const manifest = info?.manifest as CheckpointManifest;
    const file = join(info?.path as string, (manifest.files.find((f) => f.uid === 'last-per-key') as { file: string }).file);
    const bytes = await readFile(file);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0xff;
    await writeFile(file, bytes);
    await mkdir(join(dir, 'chk-00000099'));

    const r = await runMain(['checkpoints', dir]);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/^2 checkpoints in .* \(0 complete; job 'last-per-key'\)/);
    expect(r.out).toMatch(/99\s+-\s+-\s+0 B\s+0\s+not restorable: no manifest \(aborted, or still being written\)/);
    expect(r.out).toMatch(new RegExp(`${manifest.checkpointId} .* not restorable: .*does not match its checksum`));
    const json = JSON.parse((await runMain(['checkpoints', dir, '--json'])).out) as CheckpointSummary[];
    expect(json.map((c) => [c.checkpointId, c.complete])).toEqual([
      [99, false],
      [manifest.checkpointId, false],
    ]);
    // --no-verify reads manifests only: the corrupt file goes unnoticed.
    const quick = JSON.parse((await runMain(['checkpoints', dir, '--json', '--no-verify'])).out) as CheckpointSummary[];
    expect(quick[1]?.complete).toBe(true);
  });

  it('an empty directory has no checkpoints; a missing one is an error', async () => {
    const dir = await tempDir();
    expect(await runMain(['checkpoints', dir])).toMatchObject({ status: 0, out: `No checkpoints in ${dir}\n` });
    expect(JSON.parse((await runMain(['checkpoints', dir, '--json'])).out)).toEqual([]);
    expect(await runMain(['checkpoints', join(dir, 'nope')])).toMatchObject({ status: 1, err: expect.stringMatching(/is not a directory/) });
  });
});
