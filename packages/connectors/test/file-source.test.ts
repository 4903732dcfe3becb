import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Sink, StreamEnvironment, WatermarkStrategy } from '@weir/core';
import { FileFormatError, type FilePosition, FileSink, FileSource, type JsonlResult, type MalformedRecord } from '@weir/connectors';
import { Table, tableFromArrays, tableToIPC } from 'apache-arrow';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { GatedSink, listDir, range, readVisible, sorted, tempDir, until } from './helpers.js';

interface Rec {
  id: number;
}

type Fmt = 'jsonl' | 'avro' | 'arrow';

const AVRO_SCHEMA = { type: 'record', name: 'Rec', fields: [{ name: 'id', type: 'long' }] };

/** Writes `ids` into one input file of the format, with small blocks / batches. */
async function writeInput(path: string, format: Fmt, ids: readonly number[]): Promise<void> {
  if (format === 'jsonl') {
    await writeFile(path, `${ids.map((id) => JSON.stringify({ id })).join('\n')}\n`);
  } else if (format === 'avro') {
    const enc = new avro.streams.BlockEncoder(avro.Type.forSchema(AVRO_SCHEMA as avro.Schema), { blockSize: 700 } as never);
    const ws = createWriteStream(path);
    enc.pipe(ws);
    await new Promise<void>((resolve, reject) => {
      ws.on('close', () => resolve());
      ws.on('error', reject);
      for (const id of ids) enc.write({ id });
      enc.end();
    });
  } else {
    const batches = [];
    for (let i = 0; i < ids.length; i += 300) batches.push(...tableFromArrays({ id: Int32Array.from(ids.slice(i, i + 300)) }).batches);
    await writeFile(path, tableToIPC(new Table(batches), 'file'));
  }
}

function sourceFor(format: Fmt, input: string | string[], chunk?: number): FileSource<Rec> {
  const opts = chunk === undefined ? {} : { readChunkBytes: chunk };
  if (format === 'jsonl') return FileSource.forJsonl<Rec>(input, opts);
  if (format === 'avro') return FileSource.forAvro<Rec>(input, opts);
  return FileSource.forArrow<Rec>(input, opts);
}

function initialPosition(format: Fmt): FilePosition {
  if (format === 'jsonl') return { kind: 'jsonl', offset: 0, line: 1 };
  if (format === 'avro') return { kind: 'avro', block: 0, blockOffset: -1, record: 0 };
  return { kind: 'arrow', batch: 0, row: 0 };
}

/** A sink that keeps what it gets, in memory. */
function collect<T>(into: T[]): Sink<T> {
  return { createWriter: () => ({ write: (v: T) => void into.push(v) }) };
}

describe('FileSource', () => {
  for (const format of ['jsonl', 'avro', 'arrow'] as const) {
    for (const parallelism of [1, 2]) {
      it(`resumes mid-file at the checkpointed position; exactly once into a FileSink (${format}, parallelism ${parallelism})`, async () => {
        const dir = await tempDir();
        const input = join(dir, 'in');
        const out = join(dir, 'out');
        const cp = join(dir, 'cp');
        await mkdir(input);
        const perFile = 2_000;
        for (let f = 0; f < 3; f++) await writeInput(join(input, `f${f}.${format}`), format, range(f * perFile + 1, (f + 1) * perFile));
        const total = 3 * perFile;
        const gate = 2_500;
        // Run 1: the sink blocks after `gate` records (backpressure stops the chained source
        // mid-file); a checkpoint is taken there; then the job fails downstream of the source.
        const env1 = StreamEnvironment.create({ parallelism, checkpoint: { dir: cp } });
        const sink1 = new GatedSink(new FileSink<Rec>({ path: out, format: 'jsonl', rollingPolicy: { maxRecords: 333 } }), gate);
        let armed = false;
        let after = 0;
        env1
          .fromSource(sourceFor(format, input, 4_096), WatermarkStrategy.noWatermarks<Rec>(), 'files')
          .uid('files')
          .map((r) => {
            if (armed && ++after > 700) throw new Error('injected failure');
            return { id: Number(r.id) };
          })
          .sinkTo(sink1)
          .uid('out');
        const job = env1.executeAsync('run-1');
        await until(() => sink1.written >= gate, 20_000, 'the gate');
        await job.triggerCheckpoint();
        expect(sink1.written).toBe(gate);
        armed = true;
        sink1.release();
        await expect(job.done).rejects.toThrow(/injected failure/);
        // Run 2: restore; the source re-reads exactly what came after the checkpoint.
        const env2 = StreamEnvironment.create({ parallelism, checkpoint: { dir: cp, intervalMs: 30 }, restore: 'latest' });
        const source2 = sourceFor(format, input);
        env2
          .fromSource(source2, WatermarkStrategy.noWatermarks<Rec>(), 'files')
          .uid('files')
          .map((r) => ({ id: Number(r.id) }))
          .sinkTo(new FileSink<Rec>({ path: out, format: 'jsonl', rollingPolicy: { maxRecords: 333 } }))
          .uid('out');
        await env2.execute('run-2');
        expect(source2.metrics().records).toBe(total - gate);
        expect((await listDir(out)).hidden).toEqual([]);
        expect(sorted((await readVisible(out, 'jsonl')).map((r) => (r as Rec).id))).toEqual(range(1, total));
      });
    }
  }

  it('positions are exact: a reader created from a snapshot continues with the next record', async () => {
    const dir = await tempDir();
    for (const format of ['jsonl', 'avro', 'arrow'] as const) {
      const path = join(dir, `p.${format}`);
      await writeInput(path, format, range(1, 1_000));
      const source = sourceFor(format, path, 256);
      const split = { splitId: path, path, position: initialPosition(format) };
      const emitted: number[] = [];
      const output = {
        collect: (v: Rec) => void emitted.push(Number(v.id)),
        emitWatermark() {},
        markIdle() {},
        markActive() {},
        createOutputForSplit() {
          return output;
        },
        releaseOutputForSplit() {},
      };
      const pump = async (reader: ReturnType<typeof source.createReader>, until: number): Promise<void> => {
        while (emitted.length < until) {
          const st = reader.pollNext(output);
          if (st === 'end') return;
          if (st === 'nothing') await reader.isAvailable();
        }
      };
      const r1 = source.createReader({ subtaskIndex: 0, parallelism: 1, clock: { now: () => 0, schedule: () => ({ cancel() {} }) } });
      r1.addSplits([split]);
      r1.notifyNoMoreSplits();
      await pump(r1, 437);
      const [snap] = r1.snapshotState(1);
      await r1.close();
      const pos = snap?.position as unknown as Record<string, number>;
      if (format === 'jsonl') expect(pos).toMatchObject({ kind: 'jsonl', line: 438 });
      if (format === 'avro') expect((pos.block ?? 0) > 0 && (pos.record ?? 0) > 0).toBe(true);
      if (format === 'arrow') expect(pos).toMatchObject({ kind: 'arrow', batch: 1, row: 137 });
      // The snapshot survives its serde, and a new reader resumes right after record 437.
      const restored = source.splitSerde.deserialize(source.splitSerde.serialize(snap as never));
      const r2 = source.createReader({ subtaskIndex: 0, parallelism: 1, clock: { now: () => 0, schedule: () => ({ cancel() {} }) } });
      r2.addSplits([restored]);
      r2.notifyNoMoreSplits();
      await pump(r2, Number.POSITIVE_INFINITY);
      await r2.close();
      expect(emitted).toEqual(range(1, 1_000));
      emitted.length = 0;
    }
  });

  it('reads a directory snapshot: regular, non-hidden files in name order, not subdirectories', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'b.jsonl'), '{"id":3}\n{"id":4}\n');
    await writeFile(join(dir, 'a.jsonl'), '{"id":1}\n{"id":2}\n');
    await writeFile(join(dir, '.hidden.jsonl'), '{"id":-1}\n');
    await writeFile(join(dir, '_SUCCESS'), '');
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'c.jsonl'), '{"id":-2}\n');
    const env = StreamEnvironment.create({ parallelism: 1 });
    const got = await env.fromSource(FileSource.forJsonl<Rec>(dir), WatermarkStrategy.noWatermarks<Rec>(), 'f').executeAndCollect();
    expect(got.map((r) => r.id)).toEqual([1, 2, 3, 4]);
    // An explicit list is read as given, hidden or not.
    const env2 = StreamEnvironment.create({ parallelism: 1 });
    const got2 = await env2
      .fromSource(FileSource.forJsonl<Rec>([join(dir, '.hidden.jsonl'), join(dir, 'a.jsonl')]), WatermarkStrategy.noWatermarks<Rec>(), 'f')
      .executeAndCollect();
    expect(got2.map((r) => r.id)).toEqual([-1, 1, 2]);
  });

  it('continuous monitoring picks up new files, and remembers read files across a restore', async () => {
    const dir = await tempDir();
    const input = join(dir, 'in');
    const cp = join(dir, 'cp');
    await mkdir(input);
    await writeFile(join(input, 'a.jsonl'), range(1, 100).map((id) => JSON.stringify({ id })).join('\n'));
    const got: Rec[] = [];
    const env1 = StreamEnvironment.create({ parallelism: 2, checkpoint: { dir: cp } });
    const src1 = FileSource.forJsonl<Rec>(input, { monitor: { intervalMs: 20 } });
    expect(src1.boundedness).toBe('unbounded');
    env1.fromSource(src1, WatermarkStrategy.noWatermarks<Rec>(), 'files').uid('files').sinkTo(collect(got)).uid('sink');
    const job = env1.executeAsync('monitor-1');
    await until(() => got.length >= 100, 20_000, 'the first file');
    // A new file appears atomically (written hidden, renamed in); a hidden one is ignored.
    await writeFile(join(input, '.b.tmp'), `${range(101, 150).map((id) => JSON.stringify({ id })).join('\n')}\n`);
    await rename(join(input, '.b.tmp'), join(input, 'b.jsonl'));
    await writeFile(join(input, '.ignored.jsonl'), '{"id":-1}\n');
    await until(() => got.length >= 150, 20_000, 'the new file');
    await new Promise((r) => setTimeout(r, 100));
    expect(sorted(got.map((r) => r.id))).toEqual(range(1, 150));
    expect(src1.metrics()).toMatchObject({ records: 150, filesDiscovered: 2, filesCompleted: 2 });
    await job.stopWithCheckpoint();
    // Run 2 restores: a and b are not read again; c is.
    await writeFile(join(input, 'c.jsonl'), `${range(151, 160).map((id) => JSON.stringify({ id })).join('\n')}\n`);
    const got2: Rec[] = [];
    const env2 = StreamEnvironment.create({ parallelism: 1, checkpoint: { dir: cp }, restore: 'latest' });
    env2.fromSource(FileSource.forJsonl<Rec>(input, { monitor: { intervalMs: 20 } }), WatermarkStrategy.noWatermarks<Rec>(), 'files').uid('files').sinkTo(collect(got2)).uid('sink');
    const job2 = env2.executeAsync('monitor-2');
    await until(() => got2.length >= 10, 20_000, 'the file added while stopped');
    await new Promise((r) => setTimeout(r, 150));
    await job2.cancel();
    expect(sorted(got2.map((r) => r.id))).toEqual(range(151, 160));
  });

  it('JSONL: CRLF, a byte-order mark, blank lines, a last line without newline, lines longer than a read chunk', async () => {
    const dir = await tempDir();
    const long = 'x'.repeat(5_000);
    const text = `\ufeff{"id":1,"s":"é€😀"}\r\n\n   \n{"id":2,"s":"${long}"}\n{"id":3,"s":"ü"}`;
    await writeFile(join(dir, 'f.jsonl'), text);
    for (const chunk of [1, 3, 7, 64, 1 << 20]) {
      const env = StreamEnvironment.create({ parallelism: 1 });
      const got = await env
        .fromSource(FileSource.forJsonl<{ id: number; s: string }>(dir, { readChunkBytes: chunk }), WatermarkStrategy.noWatermarks(), 'f')
        .executeAndCollect();
      expect(got).toEqual([
        { id: 1, s: 'é€😀' },
        { id: 2, s: long },
        { id: 3, s: 'ü' },
      ]);
    }
  });

  it('JSONL: a malformed line fails the job with a clear error unless dead-lettered', async () => {
    const dir = await tempDir();
    const path = join(dir, 'f.jsonl');
    await writeFile(path, '{"id":1}\n{"id":2}\n{"id":3,,}\n{"id":4}\n{"id":5');
    const env = StreamEnvironment.create({ parallelism: 1 });
    const job = env.fromSource(FileSource.forJsonl<Rec>(path), WatermarkStrategy.noWatermarks<Rec>(), 'f').executeAndCollect();
    const err = await job.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FileFormatError);
    expect((err as Error).message).toMatch(/f\.jsonl \(byte 18\): malformed JSON line 3: .*onMalformed/);
    // With a dead-letter hook: not emitted, reported with the reason and position, counted. The
    // truncated last line is a dead letter too.
    const dead: MalformedRecord[] = [];
    const src = FileSource.forJsonl<Rec>(path, { onMalformed: (m) => dead.push(m), readChunkBytes: 5 });
    const env2 = StreamEnvironment.create({ parallelism: 1 });
    const got = await env2.fromSource(src, WatermarkStrategy.noWatermarks<Rec>(), 'f').executeAndCollect();
    expect(got.map((r) => r.id)).toEqual([1, 2, 4]);
    expect(dead.map((d) => [d.lineNumber, d.offset, d.line])).toEqual([
      [3, 18, '{"id":3,,}'],
      [5, 38, '{"id":5'],
    ]);
    expect(dead[0]?.reason).toMatch(/JSON/);
    expect(dead[0]?.path).toBe(path);
    expect(src.metrics()).toMatchObject({ records: 3, malformed: 2 });
    // Typed results: dead letters flow as data, to be routed by the job.
    const env3 = StreamEnvironment.create({ parallelism: 1 });
    const results: JsonlResult<Rec>[] = await env3
      .fromSource(FileSource.forJsonlResults<Rec>(path), WatermarkStrategy.noWatermarks<JsonlResult<Rec>>(), 'f')
      .executeAndCollect();
    expect(results.filter((r) => r.ok).map((r) => (r.ok ? r.value.id : 0))).toEqual([1, 2, 4]);
    const bad = results.filter((r) => !r.ok);
    expect(bad.map((r) => (r.ok ? '' : r.line))).toEqual(['{"id":3,,}', '{"id":5']);
  });

  it('a truncated or corrupt Avro file fails the job with a clear error', async () => {
    const dir = await tempDir();
    const good = join(dir, 'good.avro');
    await writeInput(good, 'avro', range(1, 500));
    const bytes = await readFile(good);
    const cases: Array<[string, Buffer, RegExp]> = [
      ['truncated.avro', bytes.subarray(0, bytes.length - 10), /Avro block \d+ at byte \d+\): truncated block/],
      ['header.avro', bytes.subarray(0, 30), /truncated Avro header/],
      ['notavro.avro', Buffer.from('hello, this is not avro'), /not an Avro object container file/],
    ];
    const badSync = Buffer.from(bytes);
    badSync[badSync.length - 1] = (badSync[badSync.length - 1] as number) ^ 0xff;
    cases.push(['badsync.avro', badSync, /sync marker mismatch/]);
    for (const [name, content, pattern] of cases) {
      const path = join(dir, name);
      await writeFile(path, content);
      const env = StreamEnvironment.create({ parallelism: 1 });
      const err = await env.fromSource(FileSource.forAvro(path), WatermarkStrategy.noWatermarks(), 'f').executeAndCollect().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, name).toBeInstanceOf(FileFormatError);
      expect((err as Error).message, name).toMatch(pattern);
      expect((err as Error).message, name).toContain(name);
    }
  });

  it('a truncated or foreign Arrow file fails the job with a clear error', async () => {
    const dir = await tempDir();
    const good = join(dir, 'good.arrow');
    await writeInput(good, 'arrow', range(1, 1_000));
    const truncated = join(dir, 'truncated.arrow');
    await writeFile(truncated, await readFile(good));
    await truncate(truncated, (await readFile(good)).length - 100);
    const foreign = join(dir, 'foreign.arrow');
    await writeFile(foreign, '{"id":1}\n'.repeat(10));
    for (const [path, pattern] of [
      [truncated, /truncated Arrow IPC file/],
      [foreign, /not an Arrow IPC file/],
    ] as const) {
      const env = StreamEnvironment.create({ parallelism: 1 });
      const err = await env
        .fromSource(FileSource.forArrow(path), WatermarkStrategy.noWatermarks(), 'f')
        .executeAndCollect()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(FileFormatError);
      expect((err as Error).message).toMatch(pattern);
    }
  });

  it('a missing input fails at start', async () => {
    const env = StreamEnvironment.create({ parallelism: 1 });
    await expect(env.fromSource(FileSource.forJsonl('/nonexistent/weir/dir'), WatermarkStrategy.noWatermarks(), 'f').executeAndCollect()).rejects.toThrow(
      /does not exist/,
    );
  });
});
