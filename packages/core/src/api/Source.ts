import type { Clock } from './Clock.js';
import type { Serde } from './Serde.js';
import type { Boundedness, Cancellable } from './types.js';

/**
 * A unit of source work: a file, a Kafka partition, a range of a sequence. A split carries its
 * own position, so a snapshot of a reader is the list of its splits as they stand.
 * @public
 */
export interface SourceSplit {
  /** Unique and stable across restarts; per-split watermarks are keyed by it. */
  readonly splitId: string;
}

/**
 * What `pollNext` tells the runtime.
 * - `'more'`: call again soon.
 * - `'nothing'`: nothing now; wait for {@link SourceReader.isAvailable}.
 * - `'end'`: this reader has finished for good (bounded sources only).
 * @public
 */
export type InputStatus = 'more' | 'nothing' | 'end';

/**
 * Receives records from a source reader, for one split or for the whole reader.
 * @public
 */
export interface SourceOutput<T> {
  /**
   * Emits a record. `timestamp` is the source's own timestamp for it (a Kafka record's time),
   * which the timestamp assigner receives; omit it when the source has none.
   */
  collect(value: T, timestamp?: number): void;
  /** Emits a watermark directly (sources that know event time themselves). */
  emitWatermark(watermark: number): void;
  /** Marks this output idle. */
  markIdle(): void;
  /** Marks this output active again. */
  markActive(): void;
}

/**
 * The reader's output: records for the reader as a whole, or per split so each split gets its
 * own watermark generator (the downstream watermark is their minimum; idle splits excluded).
 * @public
 */
export interface ReaderOutput<T> extends SourceOutput<T> {
  /** The output for one split; create it when the split is assigned. */
  createOutputForSplit(splitId: string): SourceOutput<T>;
  /** Releases a finished split's output, so it no longer holds back the watermark. */
  releaseOutputForSplit(splitId: string): void;
}

/**
 * Reads the splits assigned to one parallel instance. `pollNext` is synchronous and called
 * repeatedly by the runtime; a reader that waits on I/O returns `'nothing'` and resolves
 * `isAvailable()` when data is there. No Promise per record.
 * @public
 */
export interface SourceReader<T, TSplit extends SourceSplit> {
  /** Starts the reader; may be async. */
  start(): void | Promise<void>;
  /** Emits zero or more records into `output`. */
  pollNext(output: ReaderOutput<T>): InputStatus;
  /** Resolves when `pollNext` has something to emit (after it returned `'nothing'`). */
  isAvailable(): Promise<void>;
  /** Adds splits assigned by the enumerator. */
  addSplits(splits: readonly TSplit[]): void;
  /** No more splits will come: a bounded reader ends once its splits are done. */
  notifyNoMoreSplits(): void;
  /** The current splits with their positions, for a checkpoint. */
  snapshotState(checkpointId: number): TSplit[];
  /** A checkpoint completed (commit offsets for monitoring, delete consumed files...). */
  notifyCheckpointComplete?(checkpointId: number): void | Promise<void>;
  /** Releases resources. */
  close(): void | Promise<void>;
}

/**
 * What the enumerator can do: assign splits to readers and tell them when none are left.
 * @public
 */
export interface SplitEnumeratorContext<TSplit extends SourceSplit> {
  /** Number of parallel readers. */
  readonly parallelism: number;
  /** The subtasks whose readers have registered. */
  registeredReaders(): readonly number[];
  /** Assigns splits to a reader. */
  assignSplits(subtask: number, splits: readonly TSplit[]): void;
  /** Tells a reader that it will get no further splits. */
  signalNoMoreSplits(subtask: number): void;
  /** Runs `callback` every `periodMs` of processing time (split discovery). */
  schedulePeriodic(periodMs: number, callback: () => void | Promise<void>): Cancellable;
  /** The job's clock. */
  readonly clock: Clock;
}

/**
 * Discovers splits and assigns them to readers. One enumerator runs per source per job.
 * @public
 */
export interface SplitEnumerator<TSplit extends SourceSplit, TCheckpoint> {
  /** Starts discovery; may be async. */
  start(): void | Promise<void>;
  /** A reader registered (at start or after a restart). */
  addReader(subtask: number): void;
  /** Splits come back after a reader failed before checkpointing them. */
  addSplitsBack(splits: readonly TSplit[], subtask: number): void;
  /** The enumerator's state for a checkpoint (unassigned splits, discovered partitions...). */
  snapshotState(checkpointId: number): TCheckpoint;
  /** Releases resources. */
  close(): void | Promise<void>;
}

/**
 * What a reader is told about where it runs.
 * @public
 */
export interface SourceReaderContext {
  /** This reader's subtask index. */
  readonly subtaskIndex: number;
  /** Number of parallel readers. */
  readonly parallelism: number;
  /** The job's clock. */
  readonly clock: Clock;
}

/**
 * A split-based source (Flink's FLIP-27 model): an enumerator finds splits and hands them to
 * parallel readers; each split's position is checkpointed, so a restored job resumes exactly
 * where the checkpoint was taken.
 * @public
 */
export interface Source<T, TSplit extends SourceSplit = SourceSplit, TCheckpoint = unknown> {
  /** Whether the source ends by itself. */
  readonly boundedness: Boundedness;
  /**
   * Whether `fromSource`'s watermark generator should run after every record instead of
   * periodically: deterministic event time for in-memory sources.
   */
  readonly emitsWatermarkPerRecord?: boolean;
  /** Whether records carry a native timestamp (passed to the timestamp assigner). */
  readonly recordsHaveTimestamps?: boolean;
  /** The maximal parallelism of this source (1 for a non-parallel source). */
  readonly maxParallelism?: number;
  /** Creates the enumerator for a fresh start. */
  createEnumerator(ctx: SplitEnumeratorContext<TSplit>): SplitEnumerator<TSplit, TCheckpoint>;
  /** Creates the enumerator from checkpointed state. */
  restoreEnumerator(ctx: SplitEnumeratorContext<TSplit>, checkpoint: TCheckpoint): SplitEnumerator<TSplit, TCheckpoint>;
  /** Creates a reader for one parallel instance. */
  createReader(ctx: SourceReaderContext): SourceReader<T, TSplit>;
  /** Serializes splits for checkpoints. */
  readonly splitSerde: Serde<TSplit>;
  /** Serializes enumerator state for checkpoints. */
  readonly enumeratorStateSerde: Serde<TCheckpoint>;
}
