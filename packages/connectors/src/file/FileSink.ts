import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  type Committer,
  jsonSerde,
  type Serde,
  type SinkWriterContext,
  type TwoPhaseCommittingSink,
  type TwoPhaseCommittingSinkWriter,
} from '@weir/core';
import avro from 'avsc';
import type { FileCommittable } from './FileCommittable.js';
import type { FileSinkOptions } from './FileSinkOptions.js';
import { ArrowEncoder } from './internal/ArrowEncoder.js';
import { arrowSchemaFor } from './internal/arrowSchemaFor.js';
import { AvroEncoder } from './internal/AvroEncoder.js';
import { FileCommitter } from './internal/FileCommitter.js';
import { FileSinkWriter } from './internal/FileSinkWriter.js';
import { LineEncoder } from './internal/LineEncoder.js';
import type { PartEncoderFactory } from './internal/PartEncoderFactory.js';
import { PartNames } from './internal/PartNames.js';

function toJsonLine(value: unknown): string {
  const s = JSON.stringify(value);
  if (s === undefined) throw new TypeError(`cannot encode ${typeof value} as a JSON line`);
  return s;
}

function positive(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`FileSink ${name} must be a positive number, got ${v}`);
  return v;
}

/**
 * Writes a stream into part files in a directory, as JSON lines, Avro Object Container Files,
 * Arrow IPC files or with a custom `Serde<T>`, exactly-once (two-phase commit, the default) or
 * at-least-once.
 *
 * Exactly-once protocol (per subtask, `<a>` = this run's attempt token):
 * 1. Records go into a hidden in-progress file `.<prefix>-<subtask>-<a>-<n>.inprogress`.
 * 2. Rolling (see {@link RollingPolicy}) ends the part: fsync, close, rename to the hidden
 *    pending file `.<prefix>-<subtask>-<a>-<n>.pending`.
 * 3. On a checkpoint barrier, `prepareCommit` rolls the current part too and returns one
 *    {@link FileCommittable} `{ pending, final, attempt }` per part closed since the previous
 *    barrier; they resolve once the files and the directory are fsynced, and go into the
 *    checkpoint.
 * 4. When the checkpoint completes, the committer renames each pending file to its final,
 *    visible name `<prefix>-<subtask>-<a>-<n>.<ext>` and fsyncs the directory. A commit is
 *    idempotent: a missing pending file whose final file exists is already committed.
 * 5. After a restore, subtask 0 commits every restored committable again in its `open`, before
 *    any writer of the new attempt runs a checkpoint.
 *
 * Invariants:
 * - A file becomes visible only by the rename of a committable of a *completed* checkpoint, and
 *   the rename happens at most once (names are unique per attempt, subtask and part number;
 *   after the rename the pending file no longer exists). So every record is visible at most
 *   once, and every record covered by a completed checkpoint becomes visible.
 * - Hidden files nobody references are never renamed, only deleted. Which hidden files a
 *   completed checkpoint may reference: pending files of its own attempt (its committables) and,
 *   for the first checkpoint of a restored attempt, nothing else, because restored committables
 *   are committed during `open` and not carried forward.
 *
 * Cleanup rules (crash leftovers are hidden, so readers never see them meanwhile):
 * - A writer deletes, when it is closed, its own open in-progress file and the pending files it
 *   closed but never returned from `prepareCommit` (no checkpoint can reference them).
 * - A committer sweeps once, on its first commit that contains a committable of the current
 *   attempt (i.e. a checkpoint of this attempt completed, or a bounded job without
 *   checkpointing ended): it deletes every hidden `.inprogress`/`.pending` file of this prefix
 *   whose attempt token differs from the current one. At that point every subtask has opened, so
 *   the restored committables were already committed (their pending files renamed away);
 *   anything left of another attempt belongs to a checkpoint that did not complete and will
 *   never be restored. Nothing is deleted before that point, so a restore that fails again still
 *   finds the pending files of the checkpoint it restores.
 * - Leftovers therefore stay (hidden) until the next attempt completes a checkpoint. One job per
 *   directory and prefix: another job writing the same prefix into the same directory would have
 *   its hidden files swept.
 * - Restoring an older checkpoint than the newest one whose files were committed (an explicit
 *   `restore: 'chk-…'`, or a newest checkpoint refused as corrupt) replays records whose files are
 *   already visible: duplicates, as with any two-phase-commit sink.
 *
 * At-least-once: records go straight into visible files named like final files; every
 * checkpoint flushes and fsyncs them (Arrow parts roll at each checkpoint, since an Arrow IPC
 * file is readable only once its footer is written). Readers may see files that are still being
 * written, and after a failure the records since the last checkpoint are written again.
 *
 * `write` never allocates a Promise per record: records are encoded synchronously into a buffer
 * that is written in chunks; above `maxBufferedBytes` queued the writer reports unavailable,
 * which backpressures the job.
 *
 * @example
 * ```ts
 * stream.sinkTo(new FileSink({ path: '/data/out', format: 'jsonl', rollingPolicy: { maxRecords: 100_000 } })).uid('files');
 * ```
 * @public
 */
export class FileSink<T> implements TwoPhaseCommittingSink<T, FileCommittable> {
  /** Committables are checkpointed as JSON. */
  readonly committableSerde: Serde<FileCommittable> = jsonSerde<FileCommittable>();
  /** The output directory (absolute). */
  readonly dir: string;
  /** The file name prefix. */
  readonly prefix: string;
  /** The file name extension of final files. */
  readonly extension: string;
  /** Whether the sink commits in two phases. */
  readonly exactlyOnce: boolean;
  private readonly encoder: PartEncoderFactory<T>;
  private readonly chunkBytes: number;
  private readonly maxBufferedBytes: number;
  private readonly sweepListeners: Array<(path: string) => void> = [];

  /** @param options - where and how to write */
  constructor(private readonly options: FileSinkOptions<T>) {
    if (typeof options.path !== 'string' || options.path.length === 0) throw new TypeError('FileSink needs a path (a directory)');
    this.dir = resolve(options.path);
    this.prefix = options.prefix ?? 'part';
    if (!/^[A-Za-z0-9_.-]+$/.test(this.prefix) || this.prefix.startsWith('.')) {
      throw new TypeError(`FileSink prefix '${this.prefix}' must use letters, digits, '_', '.', '-' and not start with '.'`);
    }
    const semantic = options.semantic ?? 'exactly-once';
    if (semantic !== 'exactly-once' && semantic !== 'at-least-once') throw new TypeError(`unknown FileSink semantic '${String(semantic)}'`);
    this.exactlyOnce = semantic === 'exactly-once';
    this.chunkBytes = positive('writeChunkBytes', options.writeChunkBytes, 256 * 1024);
    this.maxBufferedBytes = positive('maxBufferedBytes', options.maxBufferedBytes, 16 * 1024 * 1024);
    const r = options.rollingPolicy ?? {};
    positive('rollingPolicy.maxRecords', r.maxRecords, 1);
    positive('rollingPolicy.maxBytes', r.maxBytes, 1);
    positive('rollingPolicy.rolloverIntervalMs', r.rolloverIntervalMs, 1);
    const format = options.format;
    let ext: string;
    if (format === 'jsonl') {
      ext = 'jsonl';
      this.encoder = () => new LineEncoder<T>(toJsonLine, undefined, '\n');
    } else if (format === 'avro') {
      ext = 'avro';
      if (options.avroSchema === undefined) throw new TypeError("FileSink format 'avro' needs an avroSchema");
      const schema = typeof options.avroSchema === 'string' ? (JSON.parse(options.avroSchema) as object) : options.avroSchema;
      const type = avro.Type.forSchema(schema as avro.Schema);
      const codec = options.avroCodec ?? 'null';
      if (codec !== 'null' && codec !== 'deflate') throw new TypeError(`unsupported Avro codec '${String(codec)}' (use 'null' or 'deflate')`);
      const blockBytes = positive('avroBlockBytes', options.avroBlockBytes, 64 * 1024);
      this.encoder = () => new AvroEncoder<T>(type, codec, blockBytes);
    } else if (format === 'arrow') {
      ext = 'arrow';
      const schemaFor = arrowSchemaFor(options.arrowSchema, options.columns);
      const rows = Math.floor(positive('arrowBatchRows', options.arrowBatchRows, 8192));
      this.encoder = () => new ArrowEncoder<T>(schemaFor as (rows: readonly T[]) => ReturnType<typeof schemaFor>, rows);
    } else if (typeof format === 'object' && format !== null && typeof format.serialize === 'function') {
      ext = 'dat';
      const delimiter = options.lineDelimiter ?? '\n';
      this.encoder = () => new LineEncoder<T>(undefined, (v) => format.serialize(v), delimiter);
    } else {
      throw new TypeError(`unknown FileSink format ${String(format)}`);
    }
    this.extension = options.extension ?? ext;
    if (!/^[A-Za-z0-9_.-]+$/.test(this.extension)) throw new TypeError(`FileSink extension '${this.extension}' is not a plain file extension`);
  }

  /**
   * Registers a listener told about every leftover file the committers delete (for logs and
   * tests).
   * @returns this sink
   */
  onLeftoverDeleted(listener: (path: string) => void): this {
    this.sweepListeners.push(listener);
    return this;
  }

  private names(ctx: SinkWriterContext): PartNames {
    return new PartNames(this.dir, this.prefix, ctx.taskInfo.subtaskIndex, ctx.attemptId, this.extension);
  }

  /** Creates the writer of one subtask (creates the directory if needed). */
  async createWriter(ctx: SinkWriterContext): Promise<TwoPhaseCommittingSinkWriter<T, FileCommittable>> {
    await mkdir(this.dir, { recursive: true });
    return new FileSinkWriter<T>({
      names: this.names(ctx),
      exactlyOnce: this.exactlyOnce,
      encoder: this.encoder,
      rolling: this.options.rollingPolicy ?? {},
      chunkBytes: this.chunkBytes,
      maxBufferedBytes: this.maxBufferedBytes,
      clock: ctx.clock,
    });
  }

  /** Creates the committer of one subtask. */
  async createCommitter(ctx: SinkWriterContext): Promise<Committer<FileCommittable>> {
    await mkdir(this.dir, { recursive: true });
    const listeners = this.sweepListeners;
    return new FileCommitter(this.names(ctx), listeners.length === 0 ? undefined : (p) => {
      for (const l of listeners) l(p);
    });
  }
}
