import type { Clock } from './Clock.js';
import type { TaskInfo } from './functions.js';

/**
 * What a sink writer is told about where it runs.
 * @public
 */
export interface SinkWriterContext {
  /** The parallel instance. */
  readonly taskInfo: TaskInfo;
  /** The job's clock. */
  readonly clock: Clock;
  /**
   * Unique per run of the job (a restore starts a new attempt). Sinks name temporary files and
   * transactions with it, so leftovers of crashed attempts can be told apart and cleaned.
   */
  readonly attemptId: string;
  /** Whether checkpointing is on (two-phase-commit sinks then commit per checkpoint). */
  readonly checkpointing: boolean;
}

/**
 * Writes the records of one parallel instance. `write` is synchronous and must not return a
 * Promise: buffer and send in batches from `flush`. A writer whose buffer is full reports
 * `isAvailable() === false`; the runtime then stops feeding it (and so backpressures the
 * sources) until `whenAvailable()` resolves.
 * @public
 */
export interface SinkWriter<T> {
  /** Writes one record; `timestamp` is its event time or `null`. */
  write(value: T, timestamp: number | null): void;
  /** Sends buffered records; `endOfInput` is true once, after the last record. */
  flush?(endOfInput: boolean): void | Promise<void>;
  /** Whether the writer can take more records now. */
  isAvailable?(): boolean;
  /** Resolves when the writer can take records again. */
  whenAvailable?(): Promise<void>;
  /**
   * Called on a checkpoint barrier: at-least-once sinks flush here (the checkpoint completes only
   * once the returned promise resolves); two-phase-commit sinks pre-commit (see
   * {@link TwoPhaseCommittingSinkWriter}).
   */
  prepareCommit?(checkpointId: number): unknown[] | Promise<unknown[]>;
  /** Releases resources. */
  close?(): void | Promise<void>;
}

/**
 * A destination for a stream (`stream.sinkTo(sink)`). One writer is created per parallel
 * instance.
 * @public
 */
export interface Sink<T> {
  /** Creates the writer of one parallel instance. */
  createWriter(ctx: SinkWriterContext): SinkWriter<T> | Promise<SinkWriter<T>>;
}

/**
 * Commits what a two-phase-commit sink pre-committed, once the checkpoint that covers it is
 * complete. `commit` must be idempotent: after a restore the same committables are committed
 * again, and a second commit must change nothing.
 * @public
 */
export interface Committer<TCommittable> {
  /** Commits the committables (rename files, commit transactions...). */
  commit(committables: readonly TCommittable[]): void | Promise<void>;
  /** Releases resources. */
  close?(): void | Promise<void>;
}

/**
 * A sink with exactly-once semantics by two-phase commit: the writer writes into an open
 * transaction; on a checkpoint barrier `prepareCommit` closes it (pre-commit) and returns
 * committables, which are stored in the checkpoint; when the checkpoint completes the committer
 * commits them; after a crash the restored committables are committed again (idempotently) and
 * anything not pre-committed is discarded.
 * @public
 */
export interface TwoPhaseCommittingSink<T, TCommittable> extends Sink<T> {
  /** Creates the writer of one parallel instance. */
  createWriter(ctx: SinkWriterContext): TwoPhaseCommittingSinkWriter<T, TCommittable> | Promise<TwoPhaseCommittingSinkWriter<T, TCommittable>>;
  /** Creates the committer. */
  createCommitter(ctx: SinkWriterContext): Committer<TCommittable> | Promise<Committer<TCommittable>>;
  /** Serializes committables into checkpoints. */
  readonly committableSerde: Serde<TCommittable>;
}

/**
 * The writer of a {@link TwoPhaseCommittingSink}.
 * @public
 */
export interface TwoPhaseCommittingSinkWriter<T, TCommittable> extends SinkWriter<T> {
  /**
   * Pre-commits everything written so far and starts a new transaction. The cut is taken
   * synchronously at the call (records written after it belong to the next transaction); the
   * returned promise may resolve later.
   */
  prepareCommit(checkpointId: number): TCommittable[] | Promise<TCommittable[]>;
}

/** Whether a sink commits in two phases. @public */
export function isTwoPhaseCommittingSink<T>(sink: Sink<T>): sink is TwoPhaseCommittingSink<T, unknown> {
  const s = sink as Partial<TwoPhaseCommittingSink<T, unknown>>;
  return typeof s.createCommitter === 'function' && s.committableSerde !== undefined;
}

import type { Serde } from './Serde.js';
