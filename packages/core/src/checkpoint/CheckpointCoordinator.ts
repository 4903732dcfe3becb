import type { Clock } from '../api/Clock.js';
import type { Cancellable } from '../api/types.js';
import type { CheckpointStorage } from './CheckpointStorage.js';
import type { OperatorSubtaskSnapshot } from './OperatorSnapshot.js';

/**
 * Checkpointing settings of a job.
 * @public
 */
export interface CheckpointConfig {
  /** Directory of the checkpoints (`chk-<id>/` inside). */
  readonly dir: string;
  /** Periodic checkpoint interval in ms of processing time; 0 or absent: only on demand. */
  readonly intervalMs?: number;
  /** How many complete checkpoints to keep (default 3). */
  readonly retain?: number;
  /** A checkpoint not complete after this many ms is aborted (default 600 000). */
  readonly timeoutMs?: number;
}

/**
 * A completed checkpoint.
 * @public
 */
export interface CompletedCheckpoint {
  /** Its id. */
  readonly checkpointId: number;
  /** Its directory. */
  readonly path: string;
  /** Bytes written (state files). */
  readonly sizeBytes: number;
  /** When it was triggered (processing time, epoch ms). */
  readonly timestamp: number;
  /** Milliseconds from trigger to completion. */
  readonly durationMs: number;
}

/** What the coordinator needs from the running job. @internal */
export interface CheckpointParticipants {
  /** Number of tasks that must acknowledge. */
  numTasks(): number;
  /** Injects barrier `id` at every source task. */
  injectBarriers(id: number): void;
  /** Tells every task that `id` completed; resolves when they have committed. */
  notifyComplete(id: number): Promise<void>;
  /** Tells every task that `id` was aborted (release barrier alignment). */
  notifyAborted(id: number): void;
  /** Extra snapshots owned by the job master (split enumerators). */
  coordinatorSnapshots(id: number): OperatorSubtaskSnapshot[];
  /** Manifest data. */
  readonly jobName: string;
  readonly maxParallelism: number;
  readonly operators: ReadonlyArray<{ uid: string; name: string; parallelism: number }>;
}

interface Pending {
  readonly id: number;
  readonly timestamp: number;
  readonly started: number;
  readonly acks: Array<Promise<OperatorSubtaskSnapshot[]>>;
  readonly resolve: (c: CompletedCheckpoint) => void;
  readonly reject: (e: Error) => void;
  readonly promise: Promise<CompletedCheckpoint>;
  timeout: Cancellable | undefined;
  done: boolean;
}

/**
 * Drives asynchronous barrier snapshots: triggers checkpoint `n` by injecting barriers at the
 * sources, collects one acknowledgement (with the snapshots of its operators) per task, writes
 * the checkpoint (state files, then the manifest), tells every task it completed (sinks commit),
 * and prunes old checkpoints. One checkpoint is in flight at a time; a failed or timed-out one is
 * aborted and the next proceeds.
 * @internal
 */
export class CheckpointCoordinator {
  private nextId: number;
  private pending: Pending | undefined;
  private periodic: Cancellable | undefined;
  private stopped = false;
  private readonly retain: number;
  private readonly timeoutMs: number;
  /** The last completed checkpoint. */
  latest: CompletedCheckpoint | undefined;
  /** Number of aborted checkpoints. */
  aborted = 0;

  constructor(
    private readonly config: CheckpointConfig,
    private readonly storage: CheckpointStorage,
    private readonly clock: Clock,
    private readonly job: CheckpointParticipants,
    firstId: number,
    private readonly warn: (message: string) => void,
    private readonly fail: (e: unknown) => void,
  ) {
    this.nextId = firstId;
    this.retain = config.retain ?? 3;
    this.timeoutMs = config.timeoutMs ?? 600_000;
    if (!Number.isInteger(this.retain) || this.retain < 1) throw new RangeError('checkpoint retain must be an integer >= 1');
  }

  /** Starts periodic checkpoints. */
  start(): void {
    const interval = this.config.intervalMs ?? 0;
    if (interval > 0) this.schedule(interval);
  }

  private schedule(interval: number): void {
    this.periodic = this.clock.schedule(this.clock.now() + interval, () => {
      if (this.stopped || this.noMorePeriodic) return;
      if (this.pending === undefined) {
        this.trigger().catch(() => {
          // Reported through warn(); the next period tries again.
        });
      }
      this.schedule(interval);
    });
  }

  /** Whether a checkpoint is in flight. */
  get inFlight(): boolean {
    return this.pending !== undefined;
  }

  /** Triggers a checkpoint now (after the one in flight, if any). */
  async trigger(): Promise<CompletedCheckpoint> {
    while (this.pending !== undefined) await this.pending.promise.catch(() => {});
    if (this.stopped) throw new Error('the job is no longer running');
    const id = this.nextId++;
    let resolve!: (c: CompletedCheckpoint) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<CompletedCheckpoint>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => {});
    const p: Pending = {
      id,
      timestamp: this.clock.now(),
      started: performance.now(),
      acks: [],
      resolve,
      reject,
      promise,
      timeout: undefined,
      done: false,
    };
    this.pending = p;
    p.timeout = this.clock.schedule(this.clock.now() + this.timeoutMs, () => this.abort(p, `timed out after ${this.timeoutMs} ms`));
    try {
      this.job.injectBarriers(id);
    } catch (e) {
      this.abort(p, `could not inject barriers: ${(e as Error).message}`);
    }
    return promise;
  }

  /** A task took its snapshot for checkpoint `id`. */
  acknowledge(id: number, snapshots: Promise<OperatorSubtaskSnapshot[]>): void {
    const p = this.pending;
    if (p === undefined || p.id !== id || p.done) {
      snapshots.catch(() => {});
      return;
    }
    p.acks.push(snapshots);
    if (p.acks.length === this.job.numTasks()) void this.complete(p);
  }

  /** A task could not take part in checkpoint `id`. */
  decline(id: number, reason: string): void {
    const p = this.pending;
    if (p !== undefined && p.id === id) this.abort(p, reason);
  }

  private async complete(p: Pending): Promise<void> {
    try {
      const parts = await Promise.all(p.acks);
      if (p.done) return;
      const snapshots = [...parts.flat(), ...this.job.coordinatorSnapshots(p.id)];
      const { path, sizeBytes } = await this.storage.write(
        {
          job: this.job.jobName,
          checkpointId: p.id,
          timestamp: p.timestamp,
          maxParallelism: this.job.maxParallelism,
          operators: this.job.operators,
        },
        snapshots,
      );
      if (p.done) return;
      p.done = true;
      p.timeout?.cancel();
      const completed: CompletedCheckpoint = {
        checkpointId: p.id,
        path,
        sizeBytes,
        timestamp: p.timestamp,
        durationMs: performance.now() - p.started,
      };
      this.latest = completed;
      this.pending = undefined;
      try {
        await this.job.notifyComplete(p.id);
      } catch (e) {
        // A sink that cannot commit a completed checkpoint cannot go on: fail the job.
        this.fail(e);
      }
      await this.storage.prune(this.retain).catch((e: unknown) => this.warn(`could not prune checkpoints: ${(e as Error).message}`));
      p.resolve(completed);
    } catch (e) {
      this.abort(p, (e as Error).message ?? String(e));
    }
  }

  private abort(p: Pending, reason: string): void {
    if (p.done) return;
    p.done = true;
    p.timeout?.cancel();
    if (this.pending === p) this.pending = undefined;
    this.aborted++;
    this.warn(`checkpoint ${p.id} aborted: ${reason}`);
    this.job.notifyAborted(p.id);
    // A checkpoint aborted while its files were being written leaves a directory without a
    // manifest; it is never restored, and removing it keeps the directory tidy.
    this.storage.discard(p.id).catch(() => {});
    p.reject(new Error(`checkpoint ${p.id} aborted: ${reason}`));
  }

  /** Stops periodic checkpoints (the one in flight, if any, continues). */
  stopPeriodic(): void {
    this.periodic?.cancel();
    this.periodic = undefined;
    this.noMorePeriodic = true;
  }

  private noMorePeriodic = false;

  /** Stops periodic checkpoints and aborts the one in flight. */
  stop(): void {
    this.stopped = true;
    this.periodic?.cancel();
    const p = this.pending;
    if (p !== undefined) this.abort(p, 'the job stopped');
  }
}
