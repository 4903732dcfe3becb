import type { Schema as ArrowSchema } from 'apache-arrow';
import type { ArrowColumnType } from './ArrowColumnType.js';
import type { FileSinkFormat } from './FileSinkFormat.js';
import type { RollingPolicy } from './RollingPolicy.js';

/**
 * Options of a {@link FileSink}.
 * @public
 */
export interface FileSinkOptions<T> {
  /** The output directory (created if missing). One sink (one `prefix`) per directory. */
  readonly path: string;
  /** How records are encoded. */
  readonly format: FileSinkFormat<T>;
  /**
   * `'exactly-once'` (default): two-phase commit, files become visible when the checkpoint that
   * covers them completes (or, without checkpointing, at the end of a bounded job).
   * `'at-least-once'`: records go straight into visible files, flushed and fsynced at every
   * checkpoint; after a failure the records since the last checkpoint are written again.
   */
  readonly semantic?: 'exactly-once' | 'at-least-once';
  /** When to start a new part file. */
  readonly rollingPolicy?: RollingPolicy;
  /** File name prefix (default `'part'`); letters, digits, `_`, `.` and `-` only. */
  readonly prefix?: string;
  /** File name extension without the dot (default by format: `jsonl`, `avro`, `arrow`, `dat`). */
  readonly extension?: string;
  /** Avro: the writer schema (a schema object or JSON text). Required for `'avro'`. */
  readonly avroSchema?: object | string;
  /** Avro: block codec (default `'null'`). */
  readonly avroCodec?: 'null' | 'deflate';
  /** Avro: target uncompressed block size in bytes (default 64 KiB). */
  readonly avroBlockBytes?: number;
  /** Arrow: the schema of the files. Dictionary-encoded fields are not supported. */
  readonly arrowSchema?: ArrowSchema;
  /**
   * Arrow: the columns and their types, as an alternative to `arrowSchema`. Without either, the
   * schema is inferred once from the first batch (numbers → float64, bigint → int64, strings →
   * utf8, booleans → bool, `Date` → timestamp-ms) and fixed for the sink.
   */
  readonly columns?: Readonly<Record<string, ArrowColumnType>>;
  /** Arrow: rows per record batch (default 8192). */
  readonly arrowBatchRows?: number;
  /** Serde formats: the record delimiter (default `'\n'`). */
  readonly lineDelimiter?: string;
  /** Encoded bytes buffered before a write is issued (default 256 KiB). */
  readonly writeChunkBytes?: number;
  /** Bytes buffered or in flight above which the writer reports unavailable (default 16 MiB). */
  readonly maxBufferedBytes?: number;
}
