import { resolve } from 'node:path';
import {
  type Boundedness,
  jsonSerde,
  type Serde,
  type Source,
  type SourceReader,
  type SourceReaderContext,
  type SplitEnumerator,
  type SplitEnumeratorContext,
} from '@weir/core';
import avro from 'avsc';
import type { ArrowSourceOptions } from './ArrowSourceOptions.js';
import type { AvroSourceOptions } from './AvroSourceOptions.js';
import type { FileEnumeratorState } from './FileEnumeratorState.js';
import { FileFormatError } from './FileFormatError.js';
import type { FilePosition } from './FilePosition.js';
import type { FileSourceMetrics } from './FileSourceMetrics.js';
import type { FileSourceOptions } from './FileSourceOptions.js';
import type { FileSplit } from './FileSplit.js';
import { ArrowCursor } from './internal/ArrowCursor.js';
import { AvroCursor } from './internal/AvroCursor.js';
import { FileEnumerator } from './internal/FileEnumerator.js';
import type { FileEnumeratorConfig } from './internal/FileEnumeratorConfig.js';
import { FileSourceReader } from './internal/FileSourceReader.js';
import { JsonlCursor } from './internal/JsonlCursor.js';
import type { JsonlLineHandler } from './internal/JsonlLineHandler.js';
import type { SourceCounters } from './internal/SourceCounters.js';
import type { SplitCursor } from './internal/SplitCursor.js';
import type { JsonlResult } from './JsonlResult.js';
import type { JsonlSourceOptions } from './JsonlSourceOptions.js';
import type { MalformedRecord } from './MalformedRecord.js';

/** How a source of some format reads one split. */
type CursorFactory<T> = (split: FileSplit, counters: SourceCounters, chunk: number) => SplitCursor<T>;

const DEFAULT_FILTER = (name: string): boolean => !name.startsWith('.') && !name.startsWith('_');

function inputsOf(input: string | readonly string[]): string[] {
  const list = typeof input === 'string' ? [input] : [...input];
  if (list.length === 0) throw new TypeError('FileSource needs at least one file or directory');
  return list.map((p) => resolve(p));
}

function jsonlHandler<T>(options: JsonlSourceOptions<T>): JsonlLineHandler<T> {
  const onMalformed = options.onMalformed;
  return {
    parse: options.parse ?? JSON.parse,
    ok: (v) => v as T,
    malformed:
      onMalformed !== undefined
        ? (rec) => {
            onMalformed(rec);
            return undefined;
          }
        : (rec) => {
            throw new FileFormatError(
              rec.path,
              `malformed JSON line ${rec.lineNumber}: ${rec.reason} (give onMalformed to dead-letter such lines instead)`,
              `byte ${rec.offset}`,
            );
          },
    maxLineBytes: options.maxLineBytes ?? 64 * 1024 * 1024,
  };
}

/**
 * Reads JSON-lines, Avro Object Container and Arrow IPC files, each file a split whose position
 * is checkpointed (JSONL: byte offset of the next line; Avro: block and record within it; Arrow:
 * record batch and row), so a restored job resumes at the first record not emitted before the
 * checkpoint. Bounded (files, or a snapshot of directories) or continuous (`monitor`: new files
 * of the directories are discovered periodically; the set of files seen is checkpointed).
 *
 * Reading is asynchronous (file handles, read in chunks of `readChunkBytes` with read-ahead)
 * behind the synchronous `pollNext`, which returns `'nothing'` while a read is pending; records
 * are decoded from the buffered chunk without a Promise per record.
 *
 * Bad input is never dropped silently: a truncated or corrupt Avro or Arrow file fails the job
 * with a {@link FileFormatError}; a malformed JSONL line fails it too unless an `onMalformed`
 * dead-letter hook is given (or `forJsonlResults` is used), and is counted in
 * {@link FileSource.metrics}.
 *
 * @example
 * ```ts
 * const src = FileSource.forJsonl<Click>('/data/clicks', { monitor: { intervalMs: 1_000 } });
 * env.fromSource(src, WatermarkStrategy.noWatermarks(), 'clicks').uid('clicks');
 * ```
 * @public
 */
export class FileSource<T> implements Source<T, FileSplit, FileEnumeratorState> {
  /** Bounded without `monitor`, unbounded with it. */
  readonly boundedness: Boundedness;
  /** Splits are checkpointed as JSON. */
  readonly splitSerde: Serde<FileSplit> = jsonSerde<FileSplit>();
  /** Enumerator state is checkpointed as JSON. */
  readonly enumeratorStateSerde: Serde<FileEnumeratorState> = jsonSerde<FileEnumeratorState>();
  /** The files and directories read (absolute). */
  readonly inputs: readonly string[];
  private readonly counters: SourceCounters = { records: 0, malformed: 0, filesCompleted: 0, filesDiscovered: 0 };
  private readonly chunk: number;
  private readonly filter: (name: string, path: string) => boolean;
  private readonly monitorMs: number | undefined;

  private constructor(
    input: string | readonly string[],
    options: FileSourceOptions,
    private readonly initialPosition: () => FilePosition,
    private readonly cursorFactory: CursorFactory<T>,
  ) {
    this.inputs = inputsOf(input);
    this.chunk = options.readChunkBytes ?? 1024 * 1024;
    if (!Number.isInteger(this.chunk) || this.chunk < 1) throw new RangeError('FileSource readChunkBytes must be a positive integer');
    this.filter = options.filter ?? DEFAULT_FILTER;
    const m = options.monitor?.intervalMs;
    if (m !== undefined && (!Number.isFinite(m) || m <= 0)) throw new RangeError('FileSource monitor.intervalMs must be positive');
    this.monitorMs = m;
    this.boundedness = m === undefined ? 'bounded' : 'unbounded';
  }

  /**
   * A source of JSON lines: one record per non-blank line, parsed with `JSON.parse` or `parse`.
   * @param input - files and/or directories
   * @param options - parsing, dead letters, monitoring
   */
  static forJsonl<T = unknown>(input: string | readonly string[], options: JsonlSourceOptions<T> = {}): FileSource<T> {
    const handler = jsonlHandler(options);
    return new FileSource<T>(input, options, () => ({ kind: 'jsonl', offset: 0, line: 1 }), (split, counters, chunk) => new JsonlCursor<T>(split, handler, counters, chunk));
  }

  /**
   * A source of JSON lines that emits a {@link JsonlResult} per non-blank line: `{ ok: true,
   * value }`, or `{ ok: false, reason, line, ... }` for a malformed one (also counted), so the
   * job can route dead letters itself (`onMalformed` is called too, if given).
   * @param input - files and/or directories
   * @param options - parsing, monitoring
   */
  static forJsonlResults<T = unknown>(input: string | readonly string[], options: JsonlSourceOptions<T> = {}): FileSource<JsonlResult<T>> {
    const onMalformed = options.onMalformed;
    const handler: JsonlLineHandler<JsonlResult<T>> = {
      parse: options.parse ?? JSON.parse,
      ok: (v) => ({ ok: true, value: v as T }),
      malformed: (rec: MalformedRecord) => {
        onMalformed?.(rec);
        return { value: { ok: false, ...rec } };
      },
      maxLineBytes: options.maxLineBytes ?? 64 * 1024 * 1024,
    };
    return new FileSource<JsonlResult<T>>(
      input,
      options,
      () => ({ kind: 'jsonl', offset: 0, line: 1 }),
      (split, counters, chunk) => new JsonlCursor<JsonlResult<T>>(split, handler, counters, chunk),
    );
  }

  /**
   * A source of Avro Object Container Files (codecs `null` and `deflate`), decoded with avsc,
   * optionally resolved to a reader schema.
   * @param input - files and/or directories
   * @param options - reader schema, monitoring
   */
  static forAvro<T = unknown>(input: string | readonly string[], options: AvroSourceOptions = {}): FileSource<T> {
    const rs = options.readerSchema;
    const readerType = rs === undefined ? undefined : avro.Type.forSchema((typeof rs === 'string' ? JSON.parse(rs) : rs) as avro.Schema);
    return new FileSource<T>(
      input,
      options,
      () => ({ kind: 'avro', block: 0, blockOffset: -1, record: 0 }),
      (split, counters, chunk) => new AvroCursor<T>(split, readerType, counters, chunk),
    );
  }

  /**
   * A source of Arrow IPC files (the "file" format with footer, as `tableToIPC(t, 'file')` or a
   * `FileSink` writes); each row becomes a plain object keyed by column name.
   * @param input - files and/or directories
   * @param options - int64 mapping, monitoring
   */
  static forArrow<T = unknown>(input: string | readonly string[], options: ArrowSourceOptions = {}): FileSource<T> {
    const int64 = options.int64 ?? 'number';
    return new FileSource<T>(input, options, () => ({ kind: 'arrow', batch: 0, row: 0 }), (split, counters) => new ArrowCursor<T>(split, int64, counters));
  }

  /** Counters summed over this source's readers in this process. */
  metrics(): FileSourceMetrics {
    return { ...this.counters };
  }

  private enumeratorConfig(): FileEnumeratorConfig {
    return {
      inputs: this.inputs,
      filter: this.filter,
      monitorMs: this.monitorMs,
      initialPosition: this.initialPosition,
      counters: this.counters,
    };
  }

  /** Lists the inputs (bounded) or starts monitoring them (continuous). */
  createEnumerator(ctx: SplitEnumeratorContext<FileSplit>): SplitEnumerator<FileSplit, FileEnumeratorState> {
    return new FileEnumerator(ctx, this.enumeratorConfig(), undefined);
  }

  /** Resumes the enumerator from its checkpointed state. */
  restoreEnumerator(ctx: SplitEnumeratorContext<FileSplit>, checkpoint: FileEnumeratorState): SplitEnumerator<FileSplit, FileEnumeratorState> {
    return new FileEnumerator(ctx, this.enumeratorConfig(), checkpoint);
  }

  /** A reader that reads its splits one after the other. */
  createReader(_ctx: SourceReaderContext): SourceReader<T, FileSplit> {
    const counters = this.counters;
    const chunk = this.chunk;
    return new FileSourceReader<T>((split) => this.cursorFactory(split, counters, chunk), counters);
  }
}
