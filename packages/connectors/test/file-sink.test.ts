import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ManualClock, StreamEnvironment, type SinkWriterContext, WatermarkStrategy } from '@weir/core';
import { GatedSequenceSource } from '@weir/core/testing';
import { FileSink } from '@weir/connectors';
import { describe, expect, it } from 'vitest';
import { GatedSink, listDir, range, readVisible, sorted, tempDir, until } from './helpers.js';

type Fmt = 'jsonl' | 'avro' | 'arrow';

const AVRO_SCHEMA = { type: 'record', name: 'Rec', fields: [{ name: 'id', type: 'long' }, { name: 'tag', type: 'string' }] };

interface Rec {
  id: number;
  tag: string;
}

function sinkFor(dir: string, format: Fmt, extra: Partial<ConstructorParameters<typeof FileSink<Rec>>[0]> = {}): FileSink<Rec> {
  return new FileSink<Rec>({
    path: dir,
    format,
    ...(format === 'avro' ? { avroSchema: AVRO_SCHEMA, avroBlockBytes: 256 } : {}),
    ...(format === 'arrow' ? { columns: { id: 'int64', tag: 'utf8' }, arrowBatchRows: 64 } : {}),
    ...extra,
  });
}

function ids(records: readonly unknown[]): number[] {
  return sorted(records.map((r) => Number((r as Rec).id)));
}

function ctx(subtask: number, attemptId: string, clock = new ManualClock(0)): SinkWriterContext {
  return {
    taskInfo: { operatorName: 'sink', operatorUid: 'sink', subtaskIndex: subtask, parallelism: 1, maxParallelism: 128 },
    clock,
    attemptId,
    checkpointing: true,
  };
}

describe('FileSink', () => {
  it('exactly-once without checkpointing commits at the end of a bounded job', async () => {
    for (const format of ['jsonl', 'avro', 'arrow'] as const) {
      const dir = await tempDir();
      const env = StreamEnvironment.create({ parallelism: 2 });
      env
        .fromSequence(1, 1_000)
        .map((i): Rec => ({ id: i, tag: `t${i % 7}` }))
        .sinkTo(sinkFor(dir, format, { rollingPolicy: { maxRecords: 150 } }));
      await env.execute();
      const { visible, hidden } = await listDir(dir);
      expect(hidden).toEqual([]);
      expect(visible.length).toBeGreaterThanOrEqual(2 * Math.ceil(500 / 150));
      for (const v of visible) expect(v).toMatch(new RegExp(`^part-[01]-[A-Za-z0-9_]+-\\d+\\.${format}$`));
      const recs = await readVisible(dir, format);
      expect(ids(recs)).toEqual(range(1, 1_000));
      expect((recs[0] as Rec).tag).toMatch(/^t\d$/);
    }
  });

  it('rolls by records, bytes and time; in-progress files are hidden until committed', async () => {
    const dir = await tempDir();
    const clock = new ManualClock(1_000);
    const sink = sinkFor(dir, 'jsonl', { rollingPolicy: { maxRecords: 10, maxBytes: 200, rolloverIntervalMs: 50 } });
    const w = await sink.createWriter(ctx(0, 'att-1', clock));
    const c = await sink.createCommitter(ctx(0, 'att-1', clock));
    for (let i = 0; i < 25; i++) w.write({ id: i, tag: 'x' }, null); // ~22 bytes each: rolls by bytes (200) before 10 records
    clock.advance(60);
    w.write({ id: 25, tag: 'x' }, null); // rolls by time
    await w.flush?.(false);
    let { visible, hidden } = await listDir(dir);
    expect(visible).toEqual([]);
    expect(hidden.some((h) => h.endsWith('.pending'))).toBe(true);
    const committables = await w.prepareCommit(1);
    ({ visible, hidden } = await listDir(dir));
    expect(visible).toEqual([]);
    expect(hidden.every((h) => /^\.part-0-att_1-\d+\.pending$/.test(h))).toBe(true);
    expect(committables.map((x) => x.pending.split('/').pop()).sort()).toEqual([...hidden].sort());
    await c.commit(committables);
    ({ visible, hidden } = await listDir(dir));
    expect(hidden).toEqual([]);
    expect(visible.length).toBe(committables.length);
    expect(visible.length).toBeGreaterThanOrEqual(3);
    for (const v of visible) {
      const n = (await readFile(join(dir, v), 'utf8')).split('\n').filter((l) => l.length > 0).length;
      expect(n).toBeLessThanOrEqual(10);
    }
    expect(ids(await readVisible(dir, 'jsonl'))).toEqual(range(0, 25));
    // A commit is idempotent.
    await c.commit(committables);
    expect((await listDir(dir)).visible.length).toBe(committables.length);
    await w.close?.();
  });

  it('backpressures through isAvailable instead of buffering without bound', async () => {
    const dir = await tempDir();
    const sink = sinkFor(dir, 'jsonl', { writeChunkBytes: 64, maxBufferedBytes: 256 });
    const w = await sink.createWriter(ctx(0, 'a'));
    let blocked = 0;
    for (let i = 0; i < 2_000; i++) {
      if (!(w.isAvailable?.() ?? true)) {
        blocked++;
        await w.whenAvailable?.();
      }
      w.write({ id: i, tag: 'y' }, null);
    }
    expect(blocked).toBeGreaterThan(0);
    const cs = await w.prepareCommit(1);
    await (await sink.createCommitter(ctx(0, 'a'))).commit(cs);
    expect(ids(await readVisible(dir, 'jsonl'))).toEqual(range(0, 1_999));
  });

  it('a closed writer deletes its in-progress file and the parts it never pre-committed', async () => {
    const dir = await tempDir();
    const sink = sinkFor(dir, 'jsonl', { rollingPolicy: { maxRecords: 5 } });
    const w = await sink.createWriter(ctx(0, 'a'));
    for (let i = 0; i < 12; i++) w.write({ id: i, tag: 'z' }, null);
    await w.flush?.(false);
    expect((await listDir(dir)).hidden.length).toBe(3);
    await w.close?.();
    expect(await listDir(dir)).toEqual({ visible: [], hidden: [] });
  });

  const cases: Array<[Fmt, number, number]> = [
    ['jsonl', 1, 1],
    ['jsonl', 2, 3],
    ['avro', 3, 1],
    ['arrow', 2, 2],
  ];
  for (const [format, p1, p2] of cases) {
    it(`exactly-once across a failure and restore (${format}, parallelism ${p1} → ${p2})`, async () => {
      const dir = await tempDir();
      const out = join(dir, 'out');
      const cp = join(dir, 'cp');
      const n = 6_000;
      const gate = 1_000;
      // A crash leftover of an older attempt: hidden, never referenced, must never become visible.
      await mkdir(out, { recursive: true });
      await writeFile(join(out, `.part-0-oldattempt-0.pending`), '{"id":-1,"tag":"leftover"}\n');
      await writeFile(join(out, `.part-1-oldattempt-3.inprogress`), '{"id":-2,"tag":"leftover"}\n');
      // Run 1: every source split pauses after `gate` records; a checkpoint is taken there; the
      // job then writes (and rolls) more files and fails in a map.
      const env1 = StreamEnvironment.create({ parallelism: p1, checkpoint: { dir: cp } });
      const src1 = new GatedSequenceSource(n, 3, gate);
      let armed = false;
      let after = 0;
      env1
        .fromSource(src1, WatermarkStrategy.noWatermarks<number>(), 'seq')
        .uid('seq')
        .map((i): Rec => {
          if (armed && ++after > 900) throw new Error('injected failure');
          return { id: i, tag: `t${i % 5}` };
        })
        .sinkTo(sinkFor(out, format, { rollingPolicy: { maxRecords: 97 } }))
        .uid('files');
      const job = env1.executeAsync('run-1');
      await until(() => src1.emitted >= 3 * gate, 20_000, 'the gate');
      await job.triggerCheckpoint();
      const afterCp = await listDir(out);
      expect(afterCp.visible.length).toBeGreaterThan(0); // the checkpoint committed its files
      // Its first commit swept the older attempt's leftovers.
      expect(afterCp.hidden.filter((h) => h.includes('oldattempt'))).toEqual([]);
      const token1 = (/^part-\d+-([A-Za-z0-9_]+)-\d+\./.exec(afterCp.visible[0] as string) as RegExpExecArray)[1] as string;
      armed = true;
      src1.release();
      await expect(job.done).rejects.toThrow(/injected failure/);
      // Leftovers as a crash of run 1 would leave them (the writers' close removed the real ones).
      await writeFile(join(out, `.part-0-${token1}-999.pending`), '{"id":-1,"tag":"leftover"}\n');
      await writeFile(join(out, `.part-1-${token1}-998.inprogress`), '{"id":-2,"tag":"leftover"}\n');
      const committed1 = ids(await readVisible(out, format));
      expect(committed1).toEqual(range(1, n).filter((i) => committed1.includes(i))); // no duplicates
      expect(committed1.length).toBe(3 * gate);
      // Run 2: restore (maybe at another parallelism) and finish.
      const env2 = StreamEnvironment.create({ parallelism: p2, checkpoint: { dir: cp, intervalMs: 20 }, restore: 'latest' });
      const sink2 = sinkFor(out, format, { rollingPolicy: { maxRecords: 97 } });
      const swept: string[] = [];
      sink2.onLeftoverDeleted((p) => swept.push(p));
      env2
        .fromSource(new GatedSequenceSource(n, 3, undefined), WatermarkStrategy.noWatermarks<number>(), 'seq')
        .uid('seq')
        .map((i): Rec => ({ id: i, tag: `t${i % 5}` }))
        .sinkTo(sink2)
        .uid('files');
      await env2.execute('run-2');
      const { hidden } = await listDir(out);
      expect(hidden).toEqual([]);
      expect(swept.filter((p) => p.includes(`${token1}-99`)).length).toBe(2);
      expect(ids(await readVisible(out, format))).toEqual(range(1, n));
    });
  }

  it('a checkpoint that completed but was not committed is committed exactly once after a restore', async () => {
    for (const [p1, p2] of [
      [2, 1],
      [1, 3],
    ] as const) {
      const dir = await tempDir();
      const out = join(dir, 'out');
      const cp = join(dir, 'cp');
      const n = 3_000;
      const env1 = StreamEnvironment.create({ parallelism: p1, checkpoint: { dir: cp } });
      const src1 = new GatedSequenceSource(n, 2, 500);
      const sink1 = new GatedSink(sinkFor(out, 'jsonl', { rollingPolicy: { maxRecords: 64 } }), undefined);
      sink1.failCommits = true; // the "process" dies between checkpoint completion and commit
      env1
        .fromSource(src1, WatermarkStrategy.noWatermarks<number>(), 'seq')
        .uid('seq')
        .map((i): Rec => ({ id: i, tag: 'c' }))
        .sinkTo(sink1)
        .uid('files');
      const job = env1.executeAsync('run-1');
      await until(() => src1.emitted >= 1_000, 20_000, 'the gate');
      await job.triggerCheckpoint().catch(() => {});
      await expect(job.done).rejects.toThrow(/injected crash before commit/);
      let listing = await listDir(out);
      expect(listing.visible).toEqual([]);
      expect(listing.hidden.filter((h) => h.endsWith('.pending')).length).toBeGreaterThan(0);
      const env2 = StreamEnvironment.create({ parallelism: p2, checkpoint: { dir: cp }, restore: 'latest' });
      env2
        .fromSource(new GatedSequenceSource(n, 2, undefined), WatermarkStrategy.noWatermarks<number>(), 'seq')
        .uid('seq')
        .map((i): Rec => ({ id: i, tag: 'c' }))
        .sinkTo(sinkFor(out, 'jsonl', { rollingPolicy: { maxRecords: 64 } }))
        .uid('files');
      await env2.execute('run-2');
      listing = await listDir(out);
      expect(listing.hidden).toEqual([]);
      expect(ids(await readVisible(out, 'jsonl'))).toEqual(range(1, n));
    }
  });

  it('files pre-committed for an aborted checkpoint are committed by the next completed one, even after a crash', async () => {
    const dir = await tempDir();
    const out = join(dir, 'out');
    const cp = join(dir, 'cp');
    const n = 2_000;
    const env1 = StreamEnvironment.create({ parallelism: 1, checkpoint: { dir: cp, timeoutMs: 100 }, warn: () => {} });
    const src1 = new GatedSequenceSource(n, 2, 500);
    const sink1 = new GatedSink(sinkFor(out, 'jsonl', { rollingPolicy: { maxRecords: 64 } }), undefined);
    env1
      .fromSource(src1, WatermarkStrategy.noWatermarks<number>(), 'seq')
      .uid('seq')
      .map((i): Rec => ({ id: i, tag: 'x' }))
      .sinkTo(sink1)
      .uid('files');
    const job = env1.executeAsync('run-1');
    await until(() => src1.emitted >= 1_000, 20_000, 'the gate');
    // Checkpoint N: the pre-commit is slow, the checkpoint times out (aborted); its files stay
    // pending in the sink, to be committed with the next completed checkpoint.
    sink1.prepareDelayMs = 300;
    await expect(job.triggerCheckpoint()).rejects.toThrow(/aborted/);
    await new Promise((r) => setTimeout(r, 400));
    sink1.prepareDelayMs = 0;
    // Checkpoint N+1 completes, then the process "dies" before committing anything.
    // (A loaded machine may time this one out too: retry until one completes.)
    sink1.failCommits = true;
    for (let i = 0; i < 50; i++) {
      const ok = await job.triggerCheckpoint().then(
        () => true,
        () => false,
      );
      if (ok) break;
    }
    await expect(job.done).rejects.toThrow(/injected crash before commit/);
    expect((await listDir(out)).visible).toEqual([]);
    // The restore must commit N's files too: the source positions of N+1 are past their records.
    const env2 = StreamEnvironment.create({ parallelism: 1, checkpoint: { dir: cp }, restore: 'latest' });
    env2
      .fromSource(new GatedSequenceSource(n, 2, undefined), WatermarkStrategy.noWatermarks<number>(), 'seq')
      .uid('seq')
      .map((i): Rec => ({ id: i, tag: 'x' }))
      .sinkTo(sinkFor(out, 'jsonl', { rollingPolicy: { maxRecords: 64 } }))
      .uid('files');
    await env2.execute('run-2');
    expect((await listDir(out)).hidden).toEqual([]);
    expect(ids(await readVisible(out, 'jsonl'))).toEqual(range(1, n));
  });

  it('at-least-once writes visible files and loses nothing across a failure', async () => {
    const dir = await tempDir();
    const out = join(dir, 'out');
    const cp = join(dir, 'cp');
    const n = 4_000;
    const env1 = StreamEnvironment.create({ parallelism: 2, checkpoint: { dir: cp } });
    const src1 = new GatedSequenceSource(n, 2, 700);
    let armed = false;
    let after = 0;
    env1
      .fromSource(src1, WatermarkStrategy.noWatermarks<number>(), 'seq')
      .uid('seq')
      .map((i): Rec => {
        if (armed && ++after > 500) throw new Error('injected failure');
        return { id: i, tag: 'a' };
      })
      .sinkTo(sinkFor(out, 'jsonl', { semantic: 'at-least-once' }))
      .uid('files');
    const job = env1.executeAsync('run-1');
    await until(() => src1.emitted >= 1_400, 20_000, 'the gate');
    await job.triggerCheckpoint();
    // Flushed and fsynced at the checkpoint: visible already.
    expect(ids(await readVisible(out, 'jsonl'))).toEqual(range(1, 700).concat(range(2_001, 2_700)).sort((a, b) => a - b));
    armed = true;
    src1.release();
    await expect(job.done).rejects.toThrow(/injected failure/);
    const env2 = StreamEnvironment.create({ parallelism: 2, checkpoint: { dir: cp }, restore: 'latest' });
    env2
      .fromSource(new GatedSequenceSource(n, 2, undefined), WatermarkStrategy.noWatermarks<number>(), 'seq')
      .uid('seq')
      .map((i): Rec => ({ id: i, tag: 'a' }))
      .sinkTo(sinkFor(out, 'jsonl', { semantic: 'at-least-once' }))
      .uid('files');
    await env2.execute('run-2');
    const { hidden } = await listDir(out);
    expect(hidden).toEqual([]);
    const got = ids(await readVisible(out, 'jsonl'));
    expect([...new Set(got)]).toEqual(range(1, n));
    expect(got.length).toBeGreaterThanOrEqual(n);
  });

  it('refuses bad configurations and records that do not fit the schema', async () => {
    expect(() => new FileSink({ path: '/tmp/x', format: 'avro' })).toThrow(/avroSchema/);
    expect(() => new FileSink({ path: '/tmp/x', format: 'jsonl', prefix: '.hidden' })).toThrow(/prefix/);
    expect(() => new FileSink({ path: '/tmp/x', format: 'jsonl', rollingPolicy: { maxRecords: 0 } })).toThrow(/maxRecords/);
    const dir = await tempDir();
    const sink = new FileSink<unknown>({ path: dir, format: 'avro', avroSchema: AVRO_SCHEMA });
    const w = await sink.createWriter(ctx(0, 'a'));
    expect(() => w.write({ id: 'nope', tag: 'x' }, null)).toThrow(/field 'id' has value "nope"/);
    await w.close?.();
  });
});
