import type { Clock } from '../api/Clock.js';
import { JobCancelledError } from '../api/errors.js';
import type { JobClient, JobExecutionResult, JobMetrics, JobStatus, OperatorMetrics } from '../api/JobClient.js';
import type { SourceSplit, SplitEnumerator, SplitEnumeratorContext } from '../api/Source.js';
import type { Cancellable } from '../api/types.js';
import type { StateBackend } from '../state/StateBackend.js';
import { ExchangeOutput, LocalChannel } from './Exchange.js';
import type { JobPlan, PlanEdge, PlanVertex } from './JobPlan.js';
import { keyGroupRangeFor } from './keygroups.js';
import { SinkOperator } from './operators/SinkOperator.js';
import type { SourceOperator } from './operators/SourceOperator.js';
import { type CountingOutput, GenericChainLink, OperatorOutput, type Output } from './Output.js';
import type { AnyOneInputOperator, StreamOperator } from './StreamOperator.js';
import { StreamTask, type TaskScheduler } from './StreamTask.js';
import { HeapKeyedStateBackend } from '../state/HeapStateBackend.js';
import { InvalidPipelineError } from '../api/errors.js';
import { type CheckpointConfig, CheckpointCoordinator, type CompletedCheckpoint } from '../checkpoint/CheckpointCoordinator.js';
import { CheckpointStorage, type RestoredCheckpoint } from '../checkpoint/CheckpointStorage.js';
import type { OperatorSubtaskSnapshot } from '../checkpoint/OperatorSnapshot.js';
import { decodeSplits } from './operators/SourceOperator.js';

/** Settings of a local execution. @internal */
export interface ExecutorConfig {
  readonly jobName: string;
  readonly clock: Clock;
  readonly stateBackend: StateBackend;
  readonly autoWatermarkInterval: number;
  readonly batchSize: number;
  readonly channelCapacity: number;
  /**
   * Which subtasks of which chains this executor runs (all when absent). A job module run on
   * several workers gives each a disjoint selection; channels to other workers then cross
   * thread or process boundaries.
   */
  readonly runSubtask?: (chainHeadUid: string, subtask: number) => boolean;
  /** Checkpointing settings; absent: no checkpoints. */
  readonly checkpoint?: CheckpointConfig;
  /** Restore from the latest complete checkpoint in the checkpoint dir, or from a given `chk-*` path. */
  readonly restore?: 'latest' | string;
  /** Where warnings go (refused checkpoints, aborted checkpoints). */
  readonly warn?: (message: string) => void;
}

interface OperatorRecord {
  readonly vertex: PlanVertex;
  readonly subtask: number;
  readonly op: StreamOperator<unknown>;
  readonly output: CountingOutput<unknown>;
}

/**
 * The tasks of the job that finished last in this process, kept reachable until another job
 * finishes.
 *
 * V8 keeps a hidden class (map) alive only through the objects that have it: the transition tree
 * of a class holds its maps weakly. Once every task, operator, chain link and output of a finished
 * job is garbage, a full GC frees their maps, and every optimized function of the per-record path
 * — source loop, chain links, operators, sink — is deoptimized because its code embeds them
 * (`--trace-deopt`: "weak objects"). The next job of the process then runs that path interpreted
 * and recompiles it (≈ 30 ms of CPU for Nexmark's source → filter → map → sink), and so does every
 * job after a full GC. One finished job kept reachable keeps the maps, and the user functions its
 * code was specialized to, so successive jobs start on optimized code. Its keyed state was
 * disposed at shutdown; what stays is the task graph (operators, channels, readers, writers).
 */
const lastFinished: { tasks: readonly StreamTask[] } = { tasks: [] };

/**
 * Runs every subtask of a plan in this thread with a cooperative scheduler: a run queue of
 * tasks, each step bounded, yielding to the event loop every few milliseconds so I/O and timers
 * proceed.
 * @internal
 */
export class LocalExecutor implements TaskScheduler, JobClient {
  readonly jobName: string;
  readonly done: Promise<JobExecutionResult>;
  private resolveDone!: (r: JobExecutionResult) => void;
  private rejectDone!: (e: unknown) => void;
  private readonly tasks: StreamTask[] = [];
  private readonly records: OperatorRecord[] = [];
  private readonly enumerators: SplitEnumerator<SourceSplit, unknown>[] = [];
  private readonly periodic = new Set<Cancellable>();
  private queue: StreamTask[] = [];
  private queueHead = 0;
  private loopScheduled = false;
  private remaining = 0;
  private status: JobStatus = 'running';
  private readonly startedAt = performance.now();
  private finishedAt: number | undefined;
  private coordinator: CheckpointCoordinator | undefined;
  private restored: RestoredCheckpoint | undefined;
  private readonly attemptId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  private readonly waitingTasks = new Set<StreamTask>();
  private finalCheckpointStarted = false;
  private readonly enumeratorSnapshots = new Map<number, OperatorSubtaskSnapshot[]>();
  private sourceEnumerators: Array<{ vertex: PlanVertex; enumerator: SplitEnumerator<SourceSplit, unknown> }> = [];

  constructor(
    private readonly plan: JobPlan,
    private readonly config: ExecutorConfig,
  ) {
    this.jobName = config.jobName;
    this.done = new Promise<JobExecutionResult>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // A failed job that nobody awaits must not crash the process with an unhandled rejection
    // before the caller attaches its handler.
    this.done.catch(() => {});
  }

  /** Resolves once every task is open and the sources run (or the job failed to start). */
  private started: Promise<void> = Promise.resolve();

  /** Builds, opens and starts every task. Failures reject `done`. */
  start(): this {
    this.started = this.run().catch((e: unknown) => this.fail(e));
    return this;
  }

  private warn(message: string): void {
    (this.config.warn ?? ((m: string) => console.warn(`[weir] ${m}`)))(message);
  }

  private async run(): Promise<void> {
    const cp = this.config.checkpoint;
    let firstId = 1;
    if (cp !== undefined) {
      this.checkUids();
      const storage = new CheckpointStorage(cp.dir);
      const existing = await storage.list(false);
      firstId = (existing[0]?.checkpointId ?? 0) + 1;
      const restore = this.config.restore;
      if (restore !== undefined) {
        this.restored = restore === 'latest' ? await storage.loadLatest((m) => this.warn(m)) : await storage.load(restore);
        if (this.restored !== undefined) {
          firstId = Math.max(firstId, this.restored.manifest.checkpointId + 1);
          this.checkRestoredUids(this.restored);
        }
      }
      this.coordinator = new CheckpointCoordinator(
        cp,
        storage,
        this.config.clock,
        {
          numTasks: () => this.tasks.length,
          injectBarriers: (id) => this.injectBarriers(id),
          notifyComplete: async (id) => {
            await Promise.all(this.tasks.map((t) => t.notifyCheckpointComplete(id)));
          },
          notifyAborted: (id) => {
            this.enumeratorSnapshots.delete(id);
            for (const t of this.tasks) t.abortCheckpoint(id);
          },
          coordinatorSnapshots: (id) => {
            const snaps = this.enumeratorSnapshots.get(id) ?? [];
            this.enumeratorSnapshots.delete(id);
            return snaps;
          },
          jobName: this.jobName,
          maxParallelism: this.plan.maxParallelism,
          operators: this.plan.vertices.map((v) => ({ uid: v.uid, name: v.t.name, parallelism: v.parallelism })),
        },
        firstId,
        (m) => this.warn(m),
        (e) => this.fail(e),
      );
    }
    await this.build();
    for (const t of this.tasks) {
      if (this.status !== 'running') return;
      await t.open();
    }
    // Decode restored keyed state now that every operator registered its descriptors.
    for (const r of this.records) {
      const b = r.op.setupInfo.keyedBackend;
      if (b instanceof HeapKeyedStateBackend) b.materializeRestored();
    }
    await this.startEnumerators();
    this.remaining = this.tasks.length;
    if (this.remaining === 0) {
      this.complete();
      return;
    }
    for (const t of this.tasks) if (t.isSource) this.schedule(t);
    this.coordinator?.start();
  }

  /** With checkpointing, every stateful operator needs an explicit uid to be matched on restore. */
  private checkUids(): void {
    const missing = this.plan.vertices.filter((v) => v.t.stateful && v.t.uid === undefined).map((v) => `'${v.t.name}'`);
    if (missing.length > 0) {
      throw new InvalidPipelineError(
        `checkpointing is on, so every stateful operator needs a stable uid to find its state after a restore; add .uid('...') to ${missing.join(', ')}`,
      );
    }
  }

  private checkRestoredUids(restored: RestoredCheckpoint): void {
    const known = new Set<string>();
    for (const v of this.plan.vertices) {
      known.add(v.uid);
      if (v.t.kind === 'source') known.add(`${v.uid}#enumerator`);
    }
    const unknown = [...restored.snapshots.entries()]
      .filter(([uid, snaps]) => !known.has(uid) && snaps.some((s) => s.timers.length > 0 || Object.keys(s.operatorState).length > 0 || (s.keyed?.states.some((st) => st.keyGroups.length > 0) ?? false)))
      .map(([uid]) => uid);
    if (unknown.length > 0) {
      throw new InvalidPipelineError(
        `checkpoint ${restored.manifest.checkpointId} (${restored.path}) holds state of operators that are not in this job: ${unknown.join(', ')}; keep their uids or start without restore`,
      );
    }
    if (restored.manifest.maxParallelism !== this.plan.maxParallelism) {
      throw new InvalidPipelineError(
        `checkpoint ${restored.manifest.checkpointId} was taken with maxParallelism ${restored.manifest.maxParallelism}; the job has ${this.plan.maxParallelism} (key groups cannot change)`,
      );
    }
  }

  private injectBarriers(id: number): void {
    // The enumerators' state is cut at the same moment as the barriers enter the sources.
    const snaps: OperatorSubtaskSnapshot[] = [];
    for (const { vertex, enumerator } of this.sourceEnumerators) {
      const source = vertex.t.source as NonNullable<typeof vertex.t.source>;
      snaps.push({
        uid: `${vertex.uid}#enumerator`,
        subtask: 0,
        parallelism: 1,
        keyGroupRange: undefined,
        keyed: undefined,
        timers: [],
        operatorState: { enumerator: source.enumeratorStateSerde.serialize(enumerator.snapshotState(id)) },
      });
    }
    this.enumeratorSnapshots.set(id, snaps);
    for (const t of this.tasks) if (t.isSource) t.triggerCheckpoint(id);
  }

  acknowledgeCheckpoint(_task: StreamTask, id: number, snapshots: Promise<OperatorSubtaskSnapshot[]>): void {
    const c = this.coordinator;
    if (c === undefined) return;
    snapshots.catch((e: unknown) => c.decline(id, `snapshot failed: ${(e as Error).message ?? String(e)}`));
    c.acknowledge(id, snapshots);
  }

  taskWaitingForFinalCheckpoint(task: StreamTask): void {
    this.waitingTasks.add(task);
    if (this.waitingTasks.size === this.tasks.length && !this.finalCheckpointStarted) {
      this.finalCheckpointStarted = true;
      const c = this.coordinator as CheckpointCoordinator;
      // Every task processed all its data: the final checkpoint covers (and commits) the end.
      c.stopPeriodic();
      const attempt = (): void => {
        c.trigger().then(
          () => {
            for (const t of this.tasks) t.terminate();
          },
          (e: unknown) => {
            if (this.status !== 'running') return;
            this.warn(`final checkpoint failed (${(e as Error).message}); retrying`);
            attempt();
          },
        );
      };
      attempt();
    }
  }

  /** Triggers a checkpoint now (once the job has started). */
  async triggerCheckpoint(): Promise<CompletedCheckpoint> {
    if (this.config.checkpoint === undefined) {
      throw new Error('checkpointing is not enabled for this job (StreamEnvironment.create({ checkpoint: { dir } }))');
    }
    await this.started;
    const c = this.coordinator;
    if (c === undefined || this.status !== 'running') throw new Error(`the job is ${this.status}`);
    return c.trigger();
  }

  /**
   * Stops the sources, takes a checkpoint that covers everything emitted so far, commits it,
   * and stops the job without ending its input (windows and timers stay pending in the state),
   * so it can be restored later, e.g. after an upgrade.
   */
  async stopWithCheckpoint(): Promise<CompletedCheckpoint> {
    if (this.config.checkpoint === undefined) throw new Error('checkpointing is not enabled for this job');
    await this.started;
    const c = this.coordinator;
    if (c === undefined || this.status !== 'running') throw new Error(`the job is ${this.status}`);
    for (const t of this.tasks) t.sourcePaused = true;
    const completed = await c.trigger();
    await this.cancel();
    return completed;
  }

  /** The last completed checkpoint, if any. */
  lastCheckpoint(): CompletedCheckpoint | undefined {
    return this.coordinator?.latest;
  }

  private async build(): Promise<void> {
    const { plan, config } = this;
    const runs = config.runSubtask ?? (() => true);
    // Channels per non-chained edge: channels[edgeIndex][producerSubtask][consumerSubtask]
    const channelMap = new Map<PlanEdge, LocalChannel[][]>();
    for (const v of plan.vertices) {
      for (const e of v.outputs) {
        if (e.chained) continue;
        const grid: LocalChannel[][] = [];
        for (let i = 0; i < e.source.parallelism; i++) {
          const row: LocalChannel[] = [];
          for (let j = 0; j < e.target.parallelism; j++) {
            if (e.partitioner === 'forward' && i !== j) continue;
            row.push(new LocalChannel(config.batchSize, config.channelCapacity, e.inputIndex));
          }
          grid.push(row);
        }
        channelMap.set(e, grid);
      }
    }
    for (const chain of plan.chains) {
      for (let s = 0; s < chain.parallelism; s++) {
        if (!runs(chain.head.uid, s)) continue;
        const exchanges: ExchangeOutput[] = [];
        const ops = new Map<PlanVertex, StreamOperator<unknown>>();
        for (const v of chain.vertices) ops.set(v, (v.t.factory as NonNullable<typeof v.t.factory>)({ autoWatermarkInterval: config.autoWatermarkInterval }));
        const task = new StreamTask(
          chain.name,
          s,
          chain.vertices.map((v) => ops.get(v) as StreamOperator<unknown>),
          this.inputChannelsOf(chain.head, s, channelMap),
          exchanges,
          config.clock,
          this,
        );
        // Wire outputs tail first.
        for (let k = chain.vertices.length - 1; k >= 0; k--) {
          const v = chain.vertices[k] as PlanVertex;
          const op = ops.get(v) as StreamOperator<unknown>;
          const main: Output<unknown>[] = [];
          const sides: Array<[string, Output<unknown>]> = [];
          for (const e of v.outputs) {
            let out: Output<unknown>;
            if (e.chained) {
              out = new ChainingOutput(ops.get(e.target) as AnyOneInputOperator);
            } else {
              const grid = channelMap.get(e) as LocalChannel[][];
              const x = new ExchangeOutput(grid[s] as LocalChannel[], e.partitioner, e.keySelector, plan.maxParallelism, s);
              x.keyedTarget = { name: e.target.t.name, uid: e.target.uid };
              exchanges.push(x);
              out = x;
            }
            if (e.tag === undefined) main.push(out);
            else sides.push([e.tag.id, out]);
          }
          // An operator whose only consumer is the next one of its chain calls it through a link
          // of that operator's own (monomorphic, one call); any other fan-out goes through an
          // OperatorOutput.
          const only = v.outputs.length === 1 && sides.length === 0 ? v.outputs[0] : undefined;
          const output: CountingOutput<unknown> =
            only?.chained ? chainLinkInto(ops.get(only.target) as AnyOneInputOperator) : new OperatorOutput(main, sides);
          const keyed = v.t.keySelectors !== undefined;
          const keyedBackend = keyed
            ? await config.stateBackend.createKeyedStateBackend({
                operatorUid: v.uid,
                subtaskIndex: s,
                keyGroupRange: keyGroupRangeFor(s, v.parallelism, plan.maxParallelism),
                maxParallelism: plan.maxParallelism,
                clock: config.clock,
                checkpointing: config.checkpoint !== undefined,
              })
            : undefined;
          op.setup(
            {
              taskInfo: {
                operatorName: v.t.name,
                operatorUid: v.uid,
                subtaskIndex: s,
                parallelism: v.parallelism,
                maxParallelism: plan.maxParallelism,
              },
              clock: config.clock,
              processingTimeService: task,
              mailbox: task,
              keyedBackend,
              hasTimestamps: inputHasTimestamps(v),
              checkpointing: this.config.checkpoint !== undefined,
              attemptId: this.attemptId,
            },
            output,
          );
          const restoredSnaps = this.restored?.snapshots.get(v.uid);
          if (restoredSnaps !== undefined) op.initializeState(restoredSnaps);
          this.records.push({ vertex: v, subtask: s, op, output });
        }
        // The constructor registered the task as producer of channels known then; exchanges
        // were filled afterwards, so register again.
        for (const x of exchanges) for (const c of x.channels) c.producer = task;
        task.checkpointing = this.config.checkpoint !== undefined;
        task.identities = chain.vertices.map((v) => ({
          uid: v.uid,
          parallelism: v.parallelism,
          keyGroupRange: v.t.keySelectors !== undefined ? keyGroupRangeFor(s, v.parallelism, plan.maxParallelism) : undefined,
        }));
        this.tasks.push(task);
      }
    }
  }

  private inputChannelsOf(head: PlanVertex, s: number, channelMap: Map<PlanEdge, LocalChannel[][]>): LocalChannel[] {
    const out: LocalChannel[] = [];
    for (const e of head.inputs) {
      const grid = channelMap.get(e);
      if (grid === undefined) continue;
      for (let i = 0; i < grid.length; i++) {
        const row = grid[i] as LocalChannel[];
        const c = e.partitioner === 'forward' ? (i === s ? row[0] : undefined) : row[s];
        if (c !== undefined) out.push(c);
      }
    }
    return out;
  }

  private async startEnumerators(): Promise<void> {
    for (const v of this.plan.vertices) {
      if (v.t.kind !== 'source') continue;
      const source = v.t.source as NonNullable<typeof v.t.source>;
      const readers = new Map<number, SourceOperator<unknown>>();
      for (const t of this.tasks) {
        const so = t.sourceOperator;
        if (so !== undefined && so.source === source) readers.set(t.subtaskIndex, so);
      }
      const ctx: SplitEnumeratorContext<SourceSplit> = {
        parallelism: v.parallelism,
        clock: this.config.clock,
        registeredReaders: () => [...readers.keys()],
        assignSplits: (subtask, splits) => {
          const r = readers.get(subtask);
          if (r === undefined) throw new Error(`no reader for subtask ${subtask} of source '${v.t.name}'`);
          r.reader.addSplits(splits);
          const task = this.tasks.find((t) => t.sourceOperator === r);
          if (task !== undefined && task.status === 'running') this.schedule(task);
        },
        signalNoMoreSplits: (subtask) => {
          readers.get(subtask)?.reader.notifyNoMoreSplits();
          const task = this.tasks.find((t) => t.sourceOperator === readers.get(subtask));
          if (task !== undefined && task.status === 'running') this.schedule(task);
        },
        schedulePeriodic: (periodMs, callback) => {
          let handle: Cancellable | undefined;
          let stopped = false;
          const arm = (): void => {
            handle = this.config.clock.schedule(this.config.clock.now() + periodMs, () => {
              if (stopped || this.status !== 'running') return;
              Promise.resolve(callback()).then(arm, (e: unknown) => this.fail(e));
            });
          };
          arm();
          const c: Cancellable = {
            cancel: () => {
              stopped = true;
              handle?.cancel();
              this.periodic.delete(c);
            },
          };
          this.periodic.add(c);
          return c;
        },
      };
      const restoredEnum = this.restored?.snapshots.get(`${v.uid}#enumerator`)?.[0]?.operatorState.enumerator;
      const enumerator =
        restoredEnum !== undefined
          ? source.restoreEnumerator(ctx, source.enumeratorStateSerde.deserialize(restoredEnum))
          : source.createEnumerator(ctx);
      this.enumerators.push(enumerator);
      this.sourceEnumerators.push({ vertex: v, enumerator });
      await enumerator.start();
      // Splits the old readers held at the checkpoint go back to the enumerator, spread over
      // the new readers (the parallelism may have changed).
      const old = this.restored?.snapshots.get(v.uid) ?? [];
      for (const snap of old) {
        const splits = decodeSplits(snap.operatorState.splits, source);
        if (splits.length > 0) enumerator.addSplitsBack(splits, snap.subtask % v.parallelism);
      }
      for (const subtask of readers.keys()) enumerator.addReader(subtask);
    }
  }

  schedule(task: StreamTask): void {
    if (task.queued || this.status !== 'running') return;
    task.queued = true;
    this.queue.push(task);
    if (!this.loopScheduled) {
      this.loopScheduled = true;
      setImmediate(this.loop);
    }
  }

  private readonly loop = (): void => {
    this.loopScheduled = false;
    const deadline = performance.now() + 10;
    let steps = 0;
    while (this.queueHead < this.queue.length) {
      if (this.status !== 'running') return;
      const t = this.queue[this.queueHead++] as StreamTask;
      t.queued = false;
      try {
        t.step();
      } catch (e) {
        this.fail(e);
        return;
      }
      if ((++steps & 7) === 0 && performance.now() > deadline) break;
    }
    if (this.queueHead >= this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    } else if (!this.loopScheduled) {
      this.loopScheduled = true;
      setImmediate(this.loop);
    }
  };

  taskFinished(_task: StreamTask): void {
    this.remaining--;
    if (this.remaining === 0 && this.status === 'running') this.complete();
  }

  taskFailed(_task: StreamTask, error: unknown): void {
    this.fail(error);
  }

  private complete(): void {
    this.status = 'finished';
    this.finishedAt = performance.now();
    this.shutdown('finished')
      .then(() => {
        lastFinished.tasks = this.tasks;
        this.resolveDone(this.result('finished'));
      })
      .catch((e: unknown) => this.rejectDone(e));
  }

  private fail(error: unknown): void {
    if (this.status !== 'running') return;
    this.status = 'failed';
    this.finishedAt = performance.now();
    this.shutdown('failed').finally(() => this.rejectDone(error));
  }

  async cancel(): Promise<void> {
    if (this.status !== 'running') {
      await this.done.catch(() => {});
      return;
    }
    this.status = 'cancelled';
    this.finishedAt = performance.now();
    await this.shutdown('cancelled');
    this.resolveDone(this.result('cancelled'));
  }

  private async shutdown(how: 'finished' | 'failed' | 'cancelled'): Promise<void> {
    this.coordinator?.stop();
    for (const p of this.periodic) p.cancel();
    this.queue = [];
    this.queueHead = 0;
    if (how !== 'finished') for (const t of this.tasks) await t.abort(how);
    for (const e of this.enumerators) {
      try {
        await e.close();
      } catch {
        // Closing after the job ended; nothing to report to.
      }
    }
    for (const r of this.records) await r.op.setupInfo?.keyedBackend?.dispose();
  }

  private result(status: 'finished' | 'cancelled'): JobExecutionResult {
    return {
      jobName: this.jobName,
      status,
      durationMs: (this.finishedAt ?? performance.now()) - this.startedAt,
      metrics: this.metrics(),
    };
  }

  metrics(): JobMetrics {
    // Records in: a chain head reads them from its task's input channels; a chained operator
    // receives what its predecessor in the chain emitted.
    const byVertex = new Map<string, OperatorRecord>();
    for (const r of this.records) byVertex.set(`${r.vertex.uid}#${r.subtask}`, r);
    const taskIn = new Map<string, number>();
    for (const t of this.tasks) {
      const head = t.identities[0];
      if (head !== undefined) taskIn.set(`${head.uid}#${t.subtaskIndex}`, t.recordsIn);
    }
    const recordsInOf = (r: OperatorRecord): number => {
      if (r.op.recordsIn > 0) return r.op.recordsIn;
      const key = `${r.vertex.uid}#${r.subtask}`;
      if (r.vertex.chainHead === r.vertex) return taskIn.get(key) ?? 0;
      const pred = r.vertex.inputs[0];
      return pred === undefined ? 0 : (byVertex.get(`${pred.source.uid}#${r.subtask}`)?.output.recordsOut ?? 0);
    };
    const operators: OperatorMetrics[] = this.records.map((r) => ({
      name: r.vertex.t.name,
      uid: r.vertex.uid,
      subtask: r.subtask,
      recordsOut: r.output.recordsOut,
      recordsIn: recordsInOf(r),
      watermark: r.op.currentWatermark,
      stateEntries: r.op.setupInfo?.keyedBackend?.numEntries() ?? 0,
      lateRecordsDropped: r.op.numLateRecordsDropped,
    }));
    let sourceRecords = 0;
    let sinkRecords = 0;
    let watermark = Number.POSITIVE_INFINITY;
    for (const r of this.records) {
      if (r.vertex.t.kind === 'source') sourceRecords += r.output.recordsOut;
      if (r.op instanceof SinkOperator) {
        sinkRecords += r.op.recordsIn;
        watermark = Math.min(watermark, r.op.currentWatermark);
      }
    }
    return {
      jobName: this.jobName,
      status: this.status,
      uptimeMs: (this.finishedAt ?? performance.now()) - this.startedAt,
      sourceRecords,
      sinkRecords,
      watermark: watermark === Number.POSITIVE_INFINITY && sinkRecords === 0 ? Number.NEGATIVE_INFINITY : watermark,
      operators,
      tasks: this.tasks.map((t) => ({
        name: t.name,
        subtask: t.subtaskIndex,
        status: t.status,
        recordsIn: t.recordsIn,
        backpressured: t.waitingForCredit,
        queuedBatches: t.inputs.reduce((n, c) => n + c.queued, 0),
      })),
    };
  }
}

/** The output of an operator whose only consumer is `op`, the next operator of its chain. */
function chainLinkInto(op: AnyOneInputOperator): CountingOutput<unknown> {
  return op.createChainLink?.() ?? new GenericChainLink(op);
}

/** A synchronous call into the next operator of a chain, one of several consumers. @internal */
export class ChainingOutput implements Output<unknown> {
  constructor(private readonly op: AnyOneInputOperator) {}

  collect(value: unknown, timestamp: number): void {
    this.op.processElement(value, timestamp);
  }

  collectSide(): void {
    // Side outputs are routed by the producer's OperatorOutput.
  }

  emitWatermark(watermark: number): void {
    this.op.processWatermark(watermark);
  }

  emitIdle(idle: boolean): void {
    this.op.processIdle(idle);
  }
}

function inputHasTimestamps(v: PlanVertex): boolean {
  return v.t.inputs.length > 0 && v.t.inputs.every((i) => i.hasTimestamps);
}

export { JobCancelledError };
