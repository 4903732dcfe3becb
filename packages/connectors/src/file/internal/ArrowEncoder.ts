import {
  AsyncByteQueue,
  type DataType,
  makeBuilder,
  makeData,
  RecordBatch,
  RecordBatchFileWriter,
  type Schema,
  Struct,
  Type,
} from 'apache-arrow';
import type { PartEncoder } from './PartEncoder.js';

/** Collects what the Arrow writer emits, synchronously. */
class CollectingSink extends AsyncByteQueue {
  chunks: Uint8Array[] = [];
  length = 0;

  override write(value: unknown): void {
    const v = value as Uint8Array;
    if (v.byteLength === 0) return;
    // The writer may reuse small scratch arrays: copy them.
    const copy = v.byteLength <= 64 ? Uint8Array.prototype.slice.call(v) : v;
    this.chunks.push(copy);
    this.length += copy.byteLength;
  }

  override close(): void {}
}

/**
 * Encodes records into an Arrow IPC file: rows are buffered and turned into a record batch
 * every `batchRows` rows (column builders, one pass per column); the batch is written by
 * apache-arrow's `RecordBatchFileWriter` into a collecting sink; `end()` writes the footer.
 * @internal
 */
export class ArrowEncoder<T> implements PartEncoder<T> {
  private rows: T[] = [];
  private readonly writer = new RecordBatchFileWriter();
  private readonly sink = new CollectingSink();
  private schema: Schema | undefined;

  /**
   * @param schemaFor - the schema of the file, given the rows of its first batch
   * @param batchRows - rows per record batch
   */
  constructor(
    private readonly schemaFor: (firstRows: readonly T[]) => Schema,
    private readonly batchRows: number,
  ) {}

  begin(): undefined {
    return undefined;
  }

  add(value: T): void {
    if (value === null || typeof value !== 'object') {
      throw new TypeError(`Arrow rows must be objects, got ${value === null ? 'null' : typeof value}`);
    }
    this.rows.push(value);
    if (this.rows.length >= this.batchRows) this.flushBatch();
  }

  private flushBatch(): void {
    const rows = this.rows;
    if (rows.length === 0) return;
    this.rows = [];
    if (this.schema === undefined) {
      this.schema = this.schemaFor(rows);
      this.writer.reset(this.sink, this.schema);
    }
    const schema = this.schema;
    const children = schema.fields.map((f) => {
      const b = makeBuilder({ type: f.type as DataType, nullValues: [null, undefined] });
      const name = f.name;
      const convert = converterFor(f.type as DataType, name);
      for (let i = 0; i < rows.length; i++) b.append(convert((rows[i] as Record<string, unknown>)[name]));
      return b.finish().flush();
    });
    const batch = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows.length, nullCount: 0, children }));
    this.writer.write(batch);
  }

  get readyBytes(): number {
    return this.sink.length;
  }

  take(): Uint8Array | undefined {
    if (this.sink.length === 0) return undefined;
    const out = Buffer.concat(this.sink.chunks, this.sink.length);
    this.sink.chunks = [];
    this.sink.length = 0;
    return out;
  }

  sync(): boolean {
    return false;
  }

  end(): Uint8Array | undefined {
    this.flushBatch();
    if (this.schema !== undefined) this.writer.finish();
    return this.take();
  }
}

/** Adapts JavaScript values to what the column's builder takes. */
function converterFor(type: DataType, name: string): (v: unknown) => unknown {
  const id = type.typeId;
  if (id === Type.Int && (type as unknown as { bitWidth: number }).bitWidth === 64) {
    return (v) => {
      if (v === null || v === undefined || typeof v === 'bigint') return v;
      if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
      throw new TypeError(`Arrow column '${name}' (${String(type)}) needs an integer, got ${String(v)}`);
    };
  }
  if (id === Type.Timestamp || id === Type.Date) {
    return (v) => (v instanceof Date ? v.getTime() : v);
  }
  if (id === Type.Utf8 || id === Type.LargeUtf8) {
    return (v) => (v === null || v === undefined || typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v));
  }
  return (v) => v;
}
