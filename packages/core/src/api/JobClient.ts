/**
 * Counters of one operator instance.
 * @public
 */
export interface OperatorMetrics {
  /** Operator name. */
  readonly name: string;
  /** Operator uid. */
  readonly uid: string;
  /** Subtask index. */
  readonly subtask: number;
  /** Records emitted (main output). */
  readonly recordsOut: number;
  /** Records received (sinks and task heads). */
  readonly recordsIn: number;
  /** The operator's current watermark. */
  readonly watermark: number;
  /** Keyed state entries held (0 for non-keyed operators). */
  readonly stateEntries: number;
  /** Late records dropped because no late-data side output was set (windows, joins). */
  readonly lateRecordsDropped: number;
}

/**
 * Counters of one task (a chain of operators at one subtask index).
 * @public
 */
export interface TaskMetrics {
  /** Chain name (`a -> b -> c`). */
  readonly name: string;
  /** Subtask index. */
  readonly subtask: number;
  /** Lifecycle status. */
  readonly status: string;
  /** Records read from input exchanges. */
  readonly recordsIn: number;
  /** Whether the task is waiting for downstream credit (backpressured). */
  readonly backpressured: boolean;
  /** Batches queued on the task's input channels. */
  readonly queuedBatches: number;
}

/**
 * A snapshot of a job's counters.
 * @public
 */
export interface JobMetrics {
  /** The job's name. */
  readonly jobName: string;
  /** `running`, `finished`, `failed` or `cancelled`. */
  readonly status: JobStatus;
  /** Milliseconds since the job started. */
  readonly uptimeMs: number;
  /** Records emitted by all sources. */
  readonly sourceRecords: number;
  /** Records received by all sinks. */
  readonly sinkRecords: number;
  /** The smallest watermark over the sinks' inputs (the job's event-time progress). */
  readonly watermark: number;
  /** Per operator instance. */
  readonly operators: readonly OperatorMetrics[];
  /** Per task. */
  readonly tasks: readonly TaskMetrics[];
}

/** The status of a job. @public */
export type JobStatus = 'running' | 'finished' | 'failed' | 'cancelled';

/**
 * What a finished job reports.
 * @public
 */
export interface JobExecutionResult {
  /** The job's name. */
  readonly jobName: string;
  /** `finished` or `cancelled` (a failed job rejects instead). */
  readonly status: 'finished' | 'cancelled';
  /** Wall-clock duration in ms. */
  readonly durationMs: number;
  /** Final counters. */
  readonly metrics: JobMetrics;
}

/**
 * A handle to a running job (`env.executeAsync`).
 * @public
 */
export interface JobClient {
  /** The job's name. */
  readonly jobName: string;
  /**
   * Resolves when the job finishes or is cancelled; rejects with the cause when it fails (a
   * {@link UserFunctionError} names the operator, subtask and key).
   */
  readonly done: Promise<JobExecutionResult>;
  /** Cancels the job; resolves once every task has stopped. */
  cancel(): Promise<void>;
  /** Current counters. */
  metrics(): JobMetrics;
  /** Takes a checkpoint now; rejects when checkpointing is off or the checkpoint is aborted. */
  triggerCheckpoint(): Promise<CompletedCheckpoint>;
  /**
   * Pauses the sources, takes a checkpoint covering everything emitted, commits it, and stops
   * the job without ending its input (pending windows and timers stay in the checkpoint), for
   * an upgrade or a move; restore it with `restore: 'latest'`.
   */
  stopWithCheckpoint(): Promise<CompletedCheckpoint>;
  /** The last completed checkpoint, if any. */
  lastCheckpoint(): CompletedCheckpoint | undefined;
}

import type { CompletedCheckpoint } from '../checkpoint/CheckpointCoordinator.js';

import type { UserFunctionError } from './errors.js';
