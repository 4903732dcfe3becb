import { inflateRawSync } from 'node:zlib';
import type { InputStatus, SourceOutput } from '@weir/core';
import avro from 'avsc';
import type { FilePosition } from '../FilePosition.js';
import { FileFormatError } from '../FileFormatError.js';
import type { FileSplit } from '../FileSplit.js';
import { avroContainer } from './avroContainer.js';
import { FileWindow } from './FileWindow.js';
import type { SourceCounters } from './SourceCounters.js';
import type { SplitCursor } from './SplitCursor.js';

interface Block {
  readonly data: Buffer;
  readonly count: number;
  /** Offset of the next block. */
  readonly next: number;
  pos: number;
}

/**
 * Reads an Avro Object Container File block by block: the header (schema, codec, sync marker),
 * then each block is read whole, checked against the sync marker, decompressed and decoded
 * record by record with avsc. The position is (block index, block byte offset, records of the
 * block emitted); a restored reader seeks to the block and skips the emitted records.
 * @internal
 */
export class AvroCursor<T> implements SplitCursor<T> {
  private readonly win: FileWindow;
  private type: avro.Type | undefined;
  private resolver: avro.Resolver | undefined;
  private codec = 'null';
  private sync: Buffer | undefined;
  private blockIndex: number;
  private blockOffset: number;
  private record: number;
  private block: Block | undefined;

  constructor(
    private readonly split: FileSplit,
    private readonly readerType: avro.Type | undefined,
    private readonly counters: SourceCounters,
    chunk: number,
  ) {
    const p = split.position;
    if (p.kind !== 'avro') throw new FileFormatError(split.path, `a ${p.kind} position cannot resume an Avro file`);
    this.blockIndex = p.block;
    this.blockOffset = p.blockOffset;
    this.record = p.record;
    this.win = new FileWindow(split.path, chunk);
  }

  private error(message: string): FileFormatError {
    return new FileFormatError(this.split.path, message, `Avro block ${this.blockIndex} at byte ${this.blockOffset}`);
  }

  poll(out: SourceOutput<T>): InputStatus {
    const w = this.win;
    if (w.failure !== undefined) throw new FileFormatError(this.split.path, `read failed: ${w.failure.message}`);
    if (!w.isOpen) return 'nothing';
    if (this.type === undefined && !this.readHeader()) return 'nothing';
    let b = this.block;
    if (b === undefined) {
      if (this.blockOffset >= w.size) {
        if (this.blockOffset > w.size || this.record > 0) throw this.error(`file is shorter (${w.size} bytes) than the checkpointed position`);
        return 'end';
      }
      const loaded = this.loadBlock();
      if (loaded === undefined) return 'nothing';
      b = loaded;
    }
    if (this.record >= b.count) {
      // Block done: the position moves to the next block.
      this.block = undefined;
      this.blockIndex++;
      this.blockOffset = b.next;
      this.record = 0;
      return 'more';
    }
    let res: { value: unknown; offset: number };
    try {
      res = (this.readerType ?? (this.type as avro.Type)).decode(b.data, b.pos, this.resolver);
    } catch (e) {
      throw this.error(`corrupt record ${this.record}: ${(e as Error).message}`);
    }
    if (res.offset < 0) throw this.error(`corrupt block: record ${this.record} of ${b.count} runs past the block's end`);
    b.pos = res.offset;
    this.record++;
    this.counters.records++;
    if (this.record >= b.count) {
      this.block = undefined;
      this.blockIndex++;
      this.blockOffset = b.next;
      this.record = 0;
    }
    out.collect(res.value as T);
    return 'more';
  }

  /** Parses the header once its bytes are buffered. */
  private readHeader(): boolean {
    const w = this.win;
    const want = Math.max(4096, w.buf.length * 2);
    if (!w.ensure(0, Math.min(want, w.size))) return false;
    const h = avroContainer.readHeader(w.buf);
    if (typeof h === 'string') throw new FileFormatError(this.split.path, h);
    if (h === undefined) {
      if (w.end >= w.size) throw new FileFormatError(this.split.path, `truncated Avro header (file has ${w.size} bytes)`);
      w.ensure(0, w.buf.length * 2);
      return false;
    }
    if (h.codec !== 'null' && h.codec !== 'deflate') throw new FileFormatError(this.split.path, `unsupported Avro codec '${h.codec}'`);
    let writer: avro.Type;
    try {
      writer = avro.Type.forSchema(h.schema as avro.Schema);
    } catch (e) {
      throw new FileFormatError(this.split.path, `invalid Avro schema in header: ${(e as Error).message}`);
    }
    if (this.readerType !== undefined) {
      try {
        this.resolver = this.readerType.createResolver(writer);
      } catch (e) {
        throw new FileFormatError(this.split.path, `the reader schema cannot read this file's schema: ${(e as Error).message}`);
      }
    }
    this.type = writer;
    this.codec = h.codec;
    this.sync = h.sync;
    if (this.blockOffset < 0) {
      this.blockOffset = h.end;
      this.blockIndex = 0;
    }
    return true;
  }

  /** Reads the block at `blockOffset`, skipping records already emitted. */
  private loadBlock(): Block | undefined {
    const w = this.win;
    const off = this.blockOffset;
    if (!w.ensure(off, 20)) return undefined;
    const prefix = avroContainer.readBlockPrefix(w.buf, off - w.start);
    if (prefix === undefined) throw this.error(`truncated block header (file has ${w.size} bytes)`);
    const { count, size } = prefix;
    if (count < 0 || size < 0) throw this.error(`corrupt block header (count ${count}, size ${size})`);
    const dataStart = w.start + prefix.offset;
    const next = dataStart + size + 16;
    if (next > w.size) throw this.error(`truncated block: needs ${next - off} bytes, the file has ${w.size - off} left`);
    if (!w.ensure(off, next - off)) return undefined;
    const rel = dataStart - w.start;
    const sync = w.buf.subarray(rel + size, rel + size + 16);
    if (!sync.equals(this.sync as Buffer)) throw this.error('corrupt block: sync marker mismatch');
    let data = w.buf.subarray(rel, rel + size);
    if (this.codec === 'deflate') {
      try {
        data = inflateRawSync(data);
      } catch (e) {
        throw this.error(`corrupt deflate block: ${(e as Error).message}`);
      }
    }
    if (this.record > count) throw this.error(`checkpointed record ${this.record} is past the block's ${count} records`);
    const b: Block = { data, count, next, pos: 0 };
    const type = this.readerType ?? (this.type as avro.Type);
    for (let i = 0; i < this.record; i++) {
      const r = type.decode(data, b.pos, this.resolver);
      if (r.offset < 0) throw this.error(`corrupt block: cannot skip to record ${this.record}`);
      b.pos = r.offset;
    }
    this.block = b;
    w.prefetch(next);
    return b;
  }

  ready(): Promise<void> {
    return this.win.ready();
  }

  position(): FilePosition {
    return { kind: 'avro', block: this.blockIndex, blockOffset: this.blockOffset, record: this.record };
  }

  close(): Promise<void> {
    return this.win.close();
  }
}
