import { type FileHandle, open } from 'node:fs/promises';
import type { InputStatus, SourceOutput } from '@weir/core';
import { type AsyncRecordBatchFileReader, type RecordBatch, RecordBatchReader, Vector } from 'apache-arrow';
import type { FilePosition } from '../FilePosition.js';
import { FileFormatError } from '../FileFormatError.js';
import type { FileSplit } from '../FileSplit.js';
import { fsx } from './fsx.js';
import type { SourceCounters } from './SourceCounters.js';
import type { SplitCursor } from './SplitCursor.js';

const MAGIC = Buffer.from('ARROW1', 'latin1');

/**
 * Reads an Arrow IPC file (the random-access "file" format, with footer) record batch by record
 * batch through apache-arrow's async file reader; rows become plain objects. The position is
 * (batch index, rows of it emitted); a restored reader loads that batch directly through the
 * footer's index.
 * @internal
 */
export class ArrowCursor<T> implements SplitCursor<T> {
  private fh: FileHandle | undefined;
  private reader: AsyncRecordBatchFileReader | undefined;
  private numBatches = -1;
  private batchIndex: number;
  private row: number;
  private readonly loaded = new Map<number, RecordBatch>();
  private inflight: Promise<void> | undefined;
  private failure: Error | undefined;
  private names: string[] = [];
  private columns: Array<Vector | null> = [];
  private columnsOf = -1;
  private closed = false;

  constructor(
    private readonly split: FileSplit,
    private readonly int64: 'number' | 'bigint',
    private readonly counters: SourceCounters,
  ) {
    const p = split.position;
    if (p.kind !== 'arrow') throw new FileFormatError(split.path, `a ${p.kind} position cannot resume an Arrow file`);
    this.batchIndex = p.batch;
    this.row = p.row;
    this.run(() => this.open());
  }

  private async open(): Promise<void> {
    const path = this.split.path;
    const fh = await open(path, 'r');
    this.fh = fh;
    const { size } = await fh.stat();
    if (size < 14) throw new FileFormatError(path, `not an Arrow IPC file (${size} bytes)`);
    const head = await fsx.readAt(fh, 0, 6);
    if (!head.equals(MAGIC)) throw new FileFormatError(path, 'not an Arrow IPC file (no ARROW1 magic; an IPC stream must be written as a file)');
    const tail = await fsx.readAt(fh, size - 6, 6);
    if (!tail.equals(MAGIC)) throw new FileFormatError(path, 'truncated Arrow IPC file (no footer: the file was not finished)');
    let reader: RecordBatchReader;
    try {
      reader = await RecordBatchReader.from(fh);
      if (!reader.isFile() || !reader.isAsync()) throw new Error('not a random-access IPC file');
      await reader.open();
    } catch (e) {
      if (e instanceof FileFormatError) throw e;
      throw new FileFormatError(path, `corrupt Arrow IPC file: ${(e as Error).message}`);
    }
    this.reader = reader as AsyncRecordBatchFileReader;
    this.numBatches = this.reader.numRecordBatches;
    if (this.batchIndex > this.numBatches) throw new FileFormatError(path, `file has ${this.numBatches} record batches, fewer than the checkpointed position`, `batch ${this.batchIndex}`);
  }

  private run(op: () => Promise<void>): void {
    this.inflight = op().then(
      () => {
        this.inflight = undefined;
      },
      (e: unknown) => {
        this.inflight = undefined;
        this.failure = e instanceof FileFormatError ? e : new FileFormatError(this.split.path, (e as Error)?.message ?? String(e));
      },
    );
  }

  private load(index: number): void {
    if (this.inflight !== undefined || this.loaded.has(index) || index >= this.numBatches) return;
    this.run(async () => {
      let batch: RecordBatch | null;
      try {
        batch = await (this.reader as AsyncRecordBatchFileReader).readRecordBatch(index);
      } catch (e) {
        throw new FileFormatError(this.split.path, `corrupt record batch: ${(e as Error).message}`, `batch ${index}`);
      }
      if (this.closed) return;
      if (batch === null) throw new FileFormatError(this.split.path, 'record batch listed in the footer cannot be read', `batch ${index}`);
      this.loaded.set(index, batch);
    });
  }

  poll(out: SourceOutput<T>): InputStatus {
    if (this.failure !== undefined) throw this.failure;
    if (this.numBatches < 0) return 'nothing';
    if (this.batchIndex >= this.numBatches) return 'end';
    const batch = this.loaded.get(this.batchIndex);
    if (batch === undefined) {
      this.load(this.batchIndex);
      return 'nothing';
    }
    if (this.row >= batch.numRows) {
      if (this.row > batch.numRows) {
        throw new FileFormatError(this.split.path, `batch has ${batch.numRows} rows, fewer than the checkpointed position`, `batch ${this.batchIndex} row ${this.row}`);
      }
      this.loaded.delete(this.batchIndex);
      this.batchIndex++;
      this.row = 0;
      return 'more';
    }
    if (this.columnsOf !== this.batchIndex) {
      this.names = batch.schema.fields.map((f) => f.name);
      this.columns = this.names.map((_, i) => batch.getChildAt(i));
      this.columnsOf = this.batchIndex;
      this.load(this.batchIndex + 1); // read ahead
    }
    const obj: Record<string, unknown> = {};
    const r = this.row;
    for (let i = 0; i < this.names.length; i++) {
      obj[this.names[i] as string] = this.plain((this.columns[i] as Vector).get(r), i);
    }
    this.row++;
    this.counters.records++;
    out.collect(obj as T);
    return 'more';
  }

  /** Turns Arrow values into plain JavaScript values. */
  private plain(v: unknown, col: number): unknown {
    if (v === null || v === undefined) return v ?? null;
    if (typeof v === 'bigint') {
      if (this.int64 === 'bigint') return v;
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new FileFormatError(
          this.split.path,
          `64-bit value ${v} in column '${this.names[col]}' does not fit a number; read with { int64: 'bigint' }`,
          `batch ${this.batchIndex} row ${this.row}`,
        );
      }
      return Number(v);
    }
    if (typeof v !== 'object') return v;
    if (v instanceof Uint8Array) return v;
    if (v instanceof Vector) return Array.from(v as Iterable<unknown>, (x) => this.plain(x, col));
    const j = (v as { toJSON?: () => unknown }).toJSON;
    if (typeof j === 'function') {
      const o = j.call(v) as Record<string, unknown>;
      const res: Record<string, unknown> = {};
      for (const k of Object.keys(o)) res[k] = this.plain(o[k], col);
      return res;
    }
    return v;
  }

  ready(): Promise<void> {
    return this.inflight ?? Promise.resolve();
  }

  position(): FilePosition {
    return { kind: 'arrow', batch: this.batchIndex, row: this.row };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.inflight;
    this.loaded.clear();
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(() => {});
  }
}
