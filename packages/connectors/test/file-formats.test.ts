import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StreamEnvironment, WatermarkStrategy } from '@weir/core';
import { FileSink, FileSource } from '@weir/connectors';
import { tableFromArrays, tableFromIPC, tableToIPC } from 'apache-arrow';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { decodeAvroFile, listDir, tempDir } from './helpers.js';

interface Row {
  id: number;
  name: string;
  score: number | null;
  ok: boolean;
  ts: number;
}

const rows: Row[] = Array.from({ length: 2_500 }, (_, i) => ({
  id: i,
  name: `n${i}-${'é'.repeat(i % 3)}`,
  score: i % 10 === 0 ? null : i / 4,
  ok: i % 2 === 0,
  ts: 1_700_000_000_000 + i,
}));

const AVRO_SCHEMA = {
  type: 'record',
  name: 'Row',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'name', type: 'string' },
    { name: 'score', type: ['null', 'double'] },
    { name: 'ok', type: 'boolean' },
    { name: 'ts', type: 'long' },
  ],
};

async function writeWithSink(dir: string, sink: FileSink<Row>): Promise<void> {
  const env = StreamEnvironment.create({ parallelism: 2 });
  env.fromCollection(rows).sinkTo(sink);
  await env.execute();
  expect((await listDir(dir)).hidden).toEqual([]);
}

async function readWithSource<T>(source: FileSource<T>): Promise<T[]> {
  const env = StreamEnvironment.create({ parallelism: 2 });
  return env.fromSource(source, WatermarkStrategy.noWatermarks<T>(), 'files').executeAndCollect();
}

const byId = (a: Row, b: Row): number => a.id - b.id;

describe('file formats round-trip through FileSink and FileSource', () => {
  it('JSON lines', async () => {
    const dir = await tempDir();
    await writeWithSink(dir, new FileSink<Row>({ path: dir, format: 'jsonl', rollingPolicy: { maxRecords: 700 } }));
    const source = FileSource.forJsonl<Row>(dir, { readChunkBytes: 1_000 });
    const got = await readWithSource(source);
    expect(got.sort(byId)).toEqual(rows);
    expect(source.metrics()).toMatchObject({ records: rows.length, malformed: 0 });
    expect(source.metrics().filesCompleted).toBe(source.metrics().filesDiscovered);
  });

  it('Avro object container files (null and deflate codecs), readable by avsc', async () => {
    for (const avroCodec of ['null', 'deflate'] as const) {
      const dir = await tempDir();
      await writeWithSink(dir, new FileSink<Row>({ path: dir, format: 'avro', avroSchema: AVRO_SCHEMA, avroCodec, avroBlockBytes: 2_000, rollingPolicy: { maxRecords: 900 } }));
      const got = await readWithSource(FileSource.forAvro<Row>(dir, { readChunkBytes: 512 }));
      expect(got.sort(byId)).toEqual(rows);
      // avsc's own decoder reads the files too.
      const { visible } = await listDir(dir);
      const viaAvsc: Row[] = [];
      for (const f of visible) viaAvsc.push(...((await decodeAvroFile(join(dir, f))) as Row[]));
      expect(viaAvsc.sort(byId)).toEqual(rows);
    }
  });

  it('Avro files written by avsc are read, with schema resolution to a reader schema', async () => {
    const dir = await tempDir();
    const path = join(dir, 'events.avro');
    await writeAvroWithAvsc(path, AVRO_SCHEMA, rows, 'deflate');
    const got = await readWithSource(FileSource.forAvro<Row>(path));
    expect(got.sort(byId)).toEqual(rows);
    // A reader schema that drops fields and adds one with a default.
    const reader = {
      type: 'record',
      name: 'Row',
      fields: [
        { name: 'id', type: 'long' },
        { name: 'region', type: 'string', default: 'eu' },
      ],
    };
    const projected = await readWithSource(FileSource.forAvro<{ id: number; region: string }>(path, { readerSchema: reader }));
    expect(projected.length).toBe(rows.length);
    expect(projected.find((r) => r.id === 7)).toEqual({ id: 7, region: 'eu' });
  });

  it('Arrow IPC files, readable by apache-arrow', async () => {
    const dir = await tempDir();
    await writeWithSink(
      dir,
      new FileSink<Row>({
        path: dir,
        format: 'arrow',
        columns: { id: 'int64', name: 'utf8', score: 'float64', ok: 'bool', ts: 'timestamp-ms' },
        arrowBatchRows: 300,
        rollingPolicy: { maxRecords: 1_000 },
      }),
    );
    const got = await readWithSource(FileSource.forArrow<Row>(dir));
    expect(got.sort(byId)).toEqual(rows);
    const { visible } = await listDir(dir);
    let n = 0;
    let maxBatches = 0;
    for (const f of visible) {
      const t = tableFromIPC(await readFile(join(dir, f)));
      expect(t.schema.fields.map((x) => x.name)).toEqual(['id', 'name', 'score', 'ok', 'ts']);
      maxBatches = Math.max(maxBatches, t.batches.length);
      n += t.numRows;
    }
    expect(n).toBe(rows.length);
    expect(maxBatches).toBeGreaterThan(1);
    // With { int64: 'bigint' } 64-bit columns stay bigint.
    const big = await readWithSource(FileSource.forArrow<{ id: bigint }>(dir, { int64: 'bigint' }));
    expect(typeof big[0]?.id).toBe('bigint');
  });

  it('Arrow: schema inferred from the first batch; files written by tableToIPC are read', async () => {
    const dir = await tempDir();
    const sinkDir = join(dir, 'sink');
    const env = StreamEnvironment.create({ parallelism: 1 });
    env.fromCollection([{ a: 1, b: 'x', c: true }, { a: 2.5, b: null, c: false }]).sinkTo(new FileSink({ path: sinkDir, format: 'arrow' }));
    await env.execute();
    const inferred = await readWithSource(FileSource.forArrow(sinkDir));
    expect(inferred).toEqual([
      { a: 1, b: 'x', c: true },
      { a: 2.5, b: null, c: false },
    ]);
    const t = tableFromArrays({ x: Int32Array.from([1, 2, 3]), y: Float64Array.from([0.5, 1.5, 2.5]), s: ['p', 'q', 'r'] });
    await writeFile(join(dir, 'table.arrow'), tableToIPC(t, 'file')); // strings dictionary-encoded
    const got = await readWithSource(FileSource.forArrow(join(dir, 'table.arrow')));
    expect(got).toEqual([
      { x: 1, y: 0.5, s: 'p' },
      { x: 2, y: 1.5, s: 'q' },
      { x: 3, y: 2.5, s: 'r' },
    ]);
  });

  it('a custom Serde<T> writes one record per line', async () => {
    const dir = await tempDir();
    const csv = {
      serialize: (r: Row) => Buffer.from(`${r.id},${r.name}`),
      deserialize: (b: Uint8Array) => {
        const [id, name] = Buffer.from(b).toString().split(',');
        return { id: Number(id), name } as Row;
      },
    };
    const env = StreamEnvironment.create({ parallelism: 1 });
    env.fromCollection(rows.slice(0, 10)).sinkTo(new FileSink<Row>({ path: dir, format: csv, extension: 'csv' }));
    await env.execute();
    const { visible } = await listDir(dir);
    expect(visible.length).toBe(1);
    expect(visible[0]).toMatch(/\.csv$/);
    const text = await readFile(join(dir, visible[0] as string), 'utf8');
    expect(text.split('\n').slice(0, 2)).toEqual(['0,n0-', '1,n1-é']);
    const back = await readWithSource(FileSource.forJsonl<Row>(dir, { parse: (line) => csv.deserialize(Buffer.from(line)) }));
    expect(back.map((r) => r.id)).toEqual(rows.slice(0, 10).map((r) => r.id));
  });
});

/** Writes an Avro container file with avsc's own BlockEncoder. */
async function writeAvroWithAvsc(path: string, schema: object, records: readonly unknown[], codec: 'null' | 'deflate'): Promise<void> {
  const enc = new avro.streams.BlockEncoder(avro.Type.forSchema(schema as avro.Schema), { codec, blockSize: 1_024 } as never);
  const ws = createWriteStream(path);
  enc.pipe(ws);
  await new Promise<void>((resolve, reject) => {
    ws.on('close', () => resolve());
    ws.on('error', reject);
    enc.on('error', reject);
    for (const r of records) enc.write(r);
    enc.end();
  });
}
