import { DEFAULT_MAX_PARALLELISM, checkParallelism } from '../runtime/keygroups.js';
import { buildPlan } from '../runtime/JobPlan.js';
import { LocalExecutor } from '../runtime/LocalExecutor.js';
import { SourceOperator } from '../runtime/operators/SourceOperator.js';
import type { StreamOperator } from '../runtime/StreamOperator.js';
import { CollectionSource } from '../sources/CollectionSource.js';
import { SequenceSource } from '../sources/SequenceSource.js';
import { HeapStateBackend } from '../state/HeapStateBackend.js';
import type { StateBackend } from '../state/StateBackend.js';
import { type Clock, SystemClock } from './Clock.js';
import { DataStream } from './DataStream.js';
import type { JobClient, JobExecutionResult } from './JobClient.js';
import type { Source, SourceSplit } from './Source.js';
import { Transformation } from './Transformation.js';
import { WatermarkStrategy } from './WatermarkStrategy.js';
import type { CheckpointConfig } from '../checkpoint/CheckpointCoordinator.js';

/**
 * Options of {@link StreamEnvironment.create}.
 * @public
 */
export interface StreamEnvironmentOptions {
  /** Default parallelism of operators (default 1). */
  readonly parallelism?: number;
  /** Number of key groups, the upper bound for any keyed operator's parallelism (default 128). */
  readonly maxParallelism?: number;
  /** The processing-time clock (default the system clock); a `ManualClock` makes tests deterministic. */
  readonly clock?: Clock;
  /** How often periodic watermark generators run, in ms of processing time (default 200). */
  readonly autoWatermarkInterval?: number;
  /** Where keyed state lives (default {@link HeapStateBackend}). */
  readonly stateBackend?: StateBackend;
  /** Elements per exchange batch (default 1024). */
  readonly batchSize?: number;
  /** Batches an exchange channel may hold before its producer is backpressured (default 4). */
  readonly channelCapacity?: number;
  /**
   * Checkpointing: `{ dir, intervalMs, retain, timeoutMs }`. With it on, every stateful operator
   * needs a `uid`, sinks commit per checkpoint, and a bounded job ends with a final checkpoint.
   */
  readonly checkpoint?: CheckpointConfig;
  /**
   * Restore from `'latest'` (the newest complete checkpoint in `checkpoint.dir`; a fresh start
   * when there is none; corrupt or partial checkpoints are refused with a warning and the
   * previous complete one is used) or from a given `chk-*` directory (which must be intact: the
   * job fails with the reason otherwise).
   */
  readonly restore?: 'latest' | string;
  /** Receives warnings (refused or aborted checkpoints); `console.warn` by default. */
  readonly warn?: (message: string) => void;
}

/**
 * The entry point of a Weir job: creates sources, holds the job's settings, runs it.
 *
 * @example
 * ```ts
 * const env = StreamEnvironment.create({ parallelism: 2 });
 * const squares = await env.fromSequence(1, 5).map((n) => n * n).executeAndCollect();
 * ```
 * @public
 */
export class StreamEnvironment {
  /** Default operator parallelism. */
  readonly parallelism: number;
  /** Number of key groups. */
  readonly maxParallelism: number;
  /** Processing-time clock. */
  readonly clock: Clock;
  /** Periodic watermark interval in ms. */
  readonly autoWatermarkInterval: number;
  /** Keyed state backend. */
  readonly stateBackend: StateBackend;
  /** Checkpointing settings, if on. */
  readonly checkpoint: CheckpointConfig | undefined;
  private readonly restore: 'latest' | string | undefined;
  private readonly warn: ((message: string) => void) | undefined;
  private readonly batchSize: number;
  private readonly channelCapacity: number;
  private nextId = 0;
  private readonly owned = new WeakSet<Transformation>();
  private sinks: Transformation[] = [];

  private constructor(options: StreamEnvironmentOptions) {
    this.maxParallelism = options.maxParallelism ?? DEFAULT_MAX_PARALLELISM;
    this.parallelism = options.parallelism ?? 1;
    checkParallelism(this.parallelism, this.maxParallelism, 'StreamEnvironment');
    this.clock = options.clock ?? SystemClock.INSTANCE;
    this.autoWatermarkInterval = options.autoWatermarkInterval ?? 200;
    if (!(this.autoWatermarkInterval >= 0)) throw new RangeError('autoWatermarkInterval must be >= 0');
    this.stateBackend = options.stateBackend ?? new HeapStateBackend();
    this.checkpoint = options.checkpoint;
    this.restore = options.restore;
    this.warn = options.warn;
    if (this.restore !== undefined && this.checkpoint === undefined) {
      throw new RangeError("restore needs checkpoint: { dir } to know where checkpoints are (and to keep taking them)");
    }
    this.batchSize = options.batchSize ?? 1024;
    this.channelCapacity = options.channelCapacity ?? 4;
    if (!(this.batchSize >= 1) || !(this.channelCapacity >= 1)) throw new RangeError('batchSize and channelCapacity must be >= 1');
  }

  /** Creates an environment. */
  static create(options: StreamEnvironmentOptions = {}): StreamEnvironment {
    return new StreamEnvironment(options);
  }

  /**
   * A bounded stream of the given items, in order (parallelism 1). Watermarks, if assigned
   * downstream, are generated after every record, so results are deterministic.
   */
  fromCollection<T>(items: Iterable<T>, name = 'Collection'): DataStream<T> {
    return this.fromSource(new CollectionSource<T>([...items]), WatermarkStrategy.noWatermarks<T>(), name);
  }

  /** A bounded stream of the given items. */
  fromElements<T>(...items: T[]): DataStream<T> {
    return this.fromCollection(items, 'Elements');
  }

  /** A bounded, parallel stream of the integers `start..end` inclusive. */
  fromSequence(start: number, end: number, name = 'Sequence'): DataStream<number> {
    return this.fromSource(new SequenceSource(start, end), WatermarkStrategy.noWatermarks<number>(), name);
  }

  /**
   * A stream from a split-based {@link Source}, with event time from `strategy`.
   * @param source - the source
   * @param strategy - timestamps and watermarks (per split where the reader uses split outputs)
   * @param name - the source operator's name
   */
  fromSource<T, TSplit extends SourceSplit, TCheckpoint>(
    source: Source<T, TSplit, TCheckpoint>,
    strategy: WatermarkStrategy<T>,
    name: string,
  ): DataStream<T> {
    const t = new Transformation(this.internalNextId(), 'source', `Source: ${name}`, []);
    t.source = source as unknown as Source<unknown, SourceSplit, unknown>;
    t.strategy = strategy as WatermarkStrategy<unknown>;
    t.hasTimestamps = strategy.assignsEventTime || source.recordsHaveTimestamps === true;
    t.perRecordWatermarks = source.emitsWatermarkPerRecord === true;
    const perRecord = t.perRecordWatermarks;
    t.factory = (ctx) =>
      new SourceOperator<unknown>(
        t.source as Source<unknown, SourceSplit, unknown>,
        strategy as WatermarkStrategy<unknown>,
        perRecord,
        ctx.autoWatermarkInterval,
      ) as StreamOperator<unknown>;
    this.internalRegister(t);
    return new DataStream<T>(this, t);
  }

  /**
   * Runs every sink added so far and resolves when all sources have ended (bounded jobs).
   * Rejects with the cause when the job fails.
   */
  async execute(jobName = 'Weir job'): Promise<JobExecutionResult> {
    return this.internalExecute([], jobName);
  }

  /**
   * Starts every sink added so far and returns at once with a {@link JobClient} to watch or
   * cancel the job (unbounded jobs).
   */
  executeAsync(jobName = 'Weir job'): JobClient {
    return this.start([], jobName);
  }

  private start(extraSinks: readonly Transformation[], jobName: string): LocalExecutor {
    const sinks = [...this.sinks, ...extraSinks];
    this.sinks = [];
    const plan = buildPlan(sinks, this.parallelism, this.maxParallelism);
    return new LocalExecutor(plan, {
      jobName,
      clock: this.clock,
      stateBackend: this.stateBackend,
      autoWatermarkInterval: this.autoWatermarkInterval,
      batchSize: this.batchSize,
      channelCapacity: this.channelCapacity,
      ...(this.checkpoint !== undefined ? { checkpoint: this.checkpoint } : {}),
      ...(this.restore !== undefined ? { restore: this.restore } : {}),
      ...(this.warn !== undefined ? { warn: this.warn } : {}),
    }).start();
  }

  /** @internal */
  async internalExecute(extraSinks: readonly Transformation[], jobName: string): Promise<JobExecutionResult> {
    return this.start(extraSinks, jobName).done;
  }

  /** @internal */
  internalNextId(): number {
    return this.nextId++;
  }

  /** @internal */
  internalRegister(t: Transformation): void {
    this.owned.add(t);
  }

  /** @internal */
  internalOwns(t: Transformation): boolean {
    return this.owned.has(t);
  }

  /** @internal */
  internalAddSink(t: Transformation): void {
    this.sinks.push(t);
  }
}
