import type {
  Boundedness,
  Cancellable,
  InputStatus,
  ReaderOutput,
  Serde,
  Source,
  SourceOutput,
  SourceReader,
  SourceReaderContext,
  SourceSplit,
  SplitEnumerator,
  SplitEnumeratorContext,
} from '@weir/core';
import { jsonSerde } from '@weir/core';
import kafkajs from 'kafkajs';
import type { Admin, Assigner, Cluster, Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import {
  commitGroupOffsets,
  createInternalCluster,
  createKafka,
  endOffsets,
  javaStringHash,
  type KafkaConnectionOptions,
  withRetries,
} from './client.js';
import { isSchemaResolvingSerde } from '../avro/isSchemaResolvingSerde.js';
import { DeadLetterCounters } from '../deadletter/DeadLetterCounters.js';
import type { DeadLetterMetrics } from '../deadletter/DeadLetterMetrics.js';
import { DeadLetterRouter } from '../deadletter/DeadLetterRouter.js';
import type { DecodeResult } from '../deadletter/DecodeResult.js';
import type { RecordPosition } from '../deadletter/RecordPosition.js';
import type { DeserializationFailurePolicy } from '../deadletter/DeserializationFailurePolicy.js';
import { type KafkaFormat, type KafkaFormatLifecycle, resolveFormat } from './format.js';

const { AssignerProtocol } = kafkajs;

/**
 * Where a partition starts when the job starts without a checkpoint: its earliest offset, its
 * latest (the last stable offset, so only records produced after the start are read), the
 * offset committed for `groupId` (falling back to `committedFallback`), or the first record with
 * a timestamp at or after `timestamp` (epoch ms). Partitions discovered while the job runs always
 * start at their earliest offset, so nothing written to them before discovery is lost; a restored
 * job ignores this and resumes at the checkpointed offsets.
 * @public
 */
export type KafkaStartingOffsets = 'earliest' | 'latest' | 'committed' | { readonly timestamp: number };

/**
 * A record as read from Kafka, for a custom {@link KafkaSourceOptions.deserializer}.
 * @public
 */
export interface KafkaSourceRecord {
  /** Topic. */
  readonly topic: string;
  /** Partition. */
  readonly partition: number;
  /** Offset. */
  readonly offset: number;
  /** The record's timestamp (epoch ms; create or log-append time, as the topic is configured). */
  readonly timestamp: number;
  /** Key bytes, or null. */
  readonly key: Buffer | null;
  /** Value bytes, or null for a tombstone. */
  readonly value: Buffer | null;
  /** Headers. */
  readonly headers: IHeaders;
}

/**
 * Options of {@link KafkaSource}. Give exactly one of `topics` and `topicPattern`.
 * @public
 */
export interface KafkaSourceOptions<T> extends KafkaConnectionOptions {
  /** Topics to read. */
  readonly topics?: readonly string[] | string;
  /** Reads every topic whose name matches (checked at every partition discovery). */
  readonly topicPattern?: RegExp;
  /**
   * The consumer group: offsets of completed checkpoints are committed to it (for monitoring:
   * lag in `kafka-consumer-groups`, and `startingOffsets: 'committed'` of a later fresh start).
   * Weir does not use it to assign partitions and never restores from it.
   */
  readonly groupId: string;
  /** Where a fresh start begins (default `'earliest'`). */
  readonly startingOffsets?: KafkaStartingOffsets;
  /** For `'committed'` starts, where partitions without a committed offset begin (default `'earliest'`). */
  readonly committedFallback?: 'earliest' | 'latest';
  /** How record values are decoded: `'json'` (default), `'string'` or a `Serde<T>`. */
  readonly format?: KafkaFormat<T>;
  /**
   * Decodes a whole record (key, headers, topic, partition, offset) instead of `format`; return
   * `undefined` to drop the record. Tombstones (null values) reach it too; with `format` they
   * are skipped and counted.
   */
  readonly deserializer?: (record: KafkaSourceRecord) => T | undefined;
  /**
   * What happens to a record whose value cannot be decoded (by `format` or `deserializer`):
   * `'fail'` (default) fails the job with a `DeserializationFailureError`; `'skip-and-count'`
   * drops and counts it; `'dead-letter'` needs {@link KafkaSource.withDeadLetters} (the source
   * then emits `DecodeResult`s). Every failure is counted in `metrics().deadLetters`.
   */
  readonly onDeserializationFailure?: DeserializationFailurePolicy;
  /**
   * `'latest'`: a bounded source that stops at the end offsets (last stable offsets) the
   * partitions had when the job first started; the job then ends. Default: unbounded.
   */
  readonly bounded?: 'latest';
  /** How often new partitions (and, with `topicPattern`, new topics) are looked for, in ms (default 10 000; 0: never). Unbounded sources only. */
  readonly partitionDiscoveryIntervalMs?: number;
  /** `'read_committed'` (default: records of aborted or open transactions are not read) or `'read_uncommitted'`. */
  readonly isolation?: 'read_committed' | 'read_uncommitted';
  /** Whether to commit checkpointed offsets to `groupId` when a checkpoint completes (default true). */
  readonly commitOffsetsOnCheckpoint?: boolean;
  /**
   * Fetched bytes a reader buffers before it stops fetching (backpressure; default 2 MiB). Small
   * enough that records are decoded while their bytes are still in the CPU caches.
   */
  readonly maxBufferedBytes?: number;
  /** Bytes fetched per partition per request (default 1 MiB). */
  readonly maxBytesPerPartition?: number;
  /** Session timeout of the reader's internal consumer in ms (default 30 000). */
  readonly sessionTimeoutMs?: number;
}

/**
 * A Kafka partition as a split: its position is the next offset to read.
 * @public
 */
export interface KafkaSplit extends SourceSplit {
  /** Topic. */
  readonly topic: string;
  /** Partition. */
  readonly partition: number;
  /** The next offset to read. */
  readonly offset: number;
  /** For bounded sources: the split ends before this offset. */
  readonly stoppingOffset?: number;
}

/**
 * The enumerator's checkpointed state: partitions already discovered and splits not yet handed
 * to a reader.
 * @public
 */
export interface KafkaEnumeratorState {
  /** `topic` / `partition` pairs seen so far. */
  readonly discovered: ReadonlyArray<readonly [string, number]>;
  /** Splits waiting for their reader. */
  readonly pending: readonly KafkaSplit[];
}

/**
 * Per-partition progress of the readers running in this process.
 * @public
 */
export interface KafkaPartitionMetrics {
  /** Topic. */
  readonly topic: string;
  /** Partition. */
  readonly partition: number;
  /** The reader's subtask. */
  readonly subtask: number;
  /** The next offset the job will emit. */
  readonly offset: number;
  /** The partition's high watermark as last fetched (-1 before the first fetch). */
  readonly highWatermark: number;
  /** Consumer lag: `highWatermark − offset` (0 before the first fetch). */
  readonly lag: number;
  /** Records emitted. */
  readonly records: number;
  /** Whether a bounded split has reached its stopping offset. */
  readonly finished: boolean;
}

/**
 * What {@link KafkaSource.metrics} returns.
 * @public
 */
export interface KafkaSourceMetrics {
  /** Records emitted by the readers of this process. */
  readonly records: number;
  /** Bytes fetched (keys + values). */
  readonly bytes: number;
  /** Sum of the partitions' lag: the consumer lag. */
  readonly lag: number;
  /** Tombstones skipped. */
  readonly tombstonesSkipped: number;
  /** Offset commits to `groupId` that failed (they are for monitoring only). */
  readonly offsetCommitFailures: number;
  /** Per partition. */
  readonly partitions: readonly KafkaPartitionMetrics[];
  /** Deserialization outcomes (decoded, dead-lettered, skipped, failed, by error type). */
  readonly deadLetters: DeadLetterMetrics;
}

/**
 * Options of {@link KafkaSource.withDeadLetters}: those of a {@link KafkaSource} with a value
 * `format`, without `deserializer` and `onDeserializationFailure` (it is `'dead-letter'`).
 * @public
 */
export type KafkaDeadLetterSourceOptions<T> = Omit<KafkaSourceOptions<T>, 'deserializer' | 'onDeserializationFailure'>;

/** @internal */
export function splitIdOf(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/**
 * The reader that owns a partition: Flink's rule (topics spread their partitions round-robin from
 * a start index derived from the topic name), so ownership is stable across restarts.
 * @internal
 */
export function ownerOf(topic: string, partition: number, parallelism: number): number {
  const start = ((javaStringHash(topic) * 31) & 0x7fffffff) % parallelism;
  return (start + partition) % parallelism;
}

const splitSerde: Serde<KafkaSplit> = jsonSerde<KafkaSplit>();
const enumeratorSerde: Serde<KafkaEnumeratorState> = jsonSerde<KafkaEnumeratorState>();

/**
 * Reads Kafka topics as a split-based source: every partition is a split whose offset is part
 * of each checkpoint, so a restored job resumes exactly after the last record the checkpoint
 * covers (no loss, no replay beyond it). Watermarks are generated per partition (pass the
 * strategy to `env.fromSource`) and combined by minimum; with `withIdleness`, a quiet partition
 * stops holding event time back. Record timestamps default to the Kafka record timestamps.
 *
 * How reading works (kafkajs has no `assign()`): each parallel reader runs one kafkajs consumer in
 * a private consumer group of its own (`<groupId>.weir-reader.<subtask>.<random>`, never
 * committed to) whose partition assigner hands that member exactly the reader's splits, and seeks
 * every partition to the split's offset on each (re)join. The positions that count are the
 * reader's own: a record below a split's offset is never emitted twice. When a reader gets new
 * splits (partition discovery), its consumer restarts with the larger set. After each completed
 * checkpoint the checkpointed offsets are committed to `groupId`, for monitoring only.
 *
 * @example
 * ```ts
 * const source = new KafkaSource<Click>({ brokers: 'localhost:9092', topics: ['clicks'], groupId: 'sessions' });
 * env.fromSource(source,
 *   WatermarkStrategy.forBoundedOutOfOrderness<Click>(5_000).withIdleness(30_000), 'clicks');
 * ```
 * @public
 */
export class KafkaSource<T> implements Source<T, KafkaSplit, KafkaEnumeratorState> {
  /** Unbounded unless `bounded: 'latest'`. */
  readonly boundedness: Boundedness;
  /** Records carry Kafka timestamps. */
  readonly recordsHaveTimestamps = true;
  /** Serializes splits for checkpoints. */
  readonly splitSerde: Serde<KafkaSplit> = splitSerde;
  /** Serializes enumerator state for checkpoints. */
  readonly enumeratorStateSerde: Serde<KafkaEnumeratorState> = enumeratorSerde;
  /** The options, with defaults applied. @internal */
  readonly options: KafkaSourceOptions<T>;
  /** The topics when fixed. @internal */
  readonly fixedTopics: readonly string[] | undefined;
  /** The latest reader of each subtask in this process (kept after close, for final metrics). @internal */
  readonly readers = new Map<number, KafkaSourceReader<T>>();
  /** Commit failures. @internal */
  offsetCommitFailures = 0;
  /** Deserialization outcomes of the readers in this process. @internal */
  readonly deadLetterCounters = new DeadLetterCounters();
  /** Whether the readers emit `DecodeResult`s (see {@link KafkaSource.withDeadLetters}). @internal */
  readonly emitsDecodeResults: boolean;

  /**
   * A source whose records that cannot be decoded become dead letters in the dataflow: it emits
   * `{ ok: true, value }` for good records and `{ ok: false, deadLetter }` (original bytes, topic,
   * partition, offset, key, record timestamp, error and error type) for the others. Split them
   * with a `DeadLetterSplitter` and send the side output to a dead-letter sink
   * (`deadLetterKafkaSink`, `deadLetterFileSink`); the dead letters take part in checkpoints.
   * @param options - the source's options; `format` decodes values
   * @returns a source of decode results
   */
  static withDeadLetters<T>(options: KafkaDeadLetterSourceOptions<T>): KafkaSource<DecodeResult<T>> {
    return new KafkaSource<DecodeResult<T>>(
      { ...(options as unknown as KafkaSourceOptions<DecodeResult<T>>), onDeserializationFailure: 'dead-letter' },
      true,
    );
  }

  /**
   * @param options - brokers, topics or pattern, group, starting offsets, format
   * @param decodeResults - internal: set by {@link KafkaSource.withDeadLetters}
   */
  constructor(options: KafkaSourceOptions<T>, decodeResults = false) {
    const policy = options.onDeserializationFailure ?? 'fail';
    if (policy !== 'fail' && policy !== 'skip-and-count' && policy !== 'dead-letter') {
      throw new RangeError(`onDeserializationFailure must be 'dead-letter', 'fail' or 'skip-and-count', got ${String(policy)}`);
    }
    if (policy === 'dead-letter' && !decodeResults) {
      throw new RangeError("onDeserializationFailure 'dead-letter' needs KafkaSource.withDeadLetters(options) (sources have no side outputs)");
    }
    if (decodeResults && options.deserializer !== undefined) throw new RangeError('KafkaSource.withDeadLetters takes a format, not a deserializer');
    this.emitsDecodeResults = decodeResults;
    if ((options.topics === undefined) === (options.topicPattern === undefined)) {
      throw new RangeError('KafkaSource needs exactly one of topics and topicPattern');
    }
    if (typeof options.groupId !== 'string' || options.groupId.length === 0) throw new RangeError('KafkaSource needs a groupId');
    const so = options.startingOffsets ?? 'earliest';
    if (!(so === 'earliest' || so === 'latest' || so === 'committed' || (typeof so === 'object' && Number.isFinite(so.timestamp)))) {
      throw new RangeError(`startingOffsets must be 'earliest', 'latest', 'committed' or { timestamp }, got ${JSON.stringify(so)}`);
    }
    if (options.bounded !== undefined && options.bounded !== 'latest') throw new RangeError(`bounded must be 'latest', got ${String(options.bounded)}`);
    this.options = options;
    this.fixedTopics =
      options.topics === undefined ? undefined : typeof options.topics === 'string' ? options.topics.split(',').map((t) => t.trim()) : [...options.topics];
    if (this.fixedTopics !== undefined && this.fixedTopics.length === 0) throw new RangeError('KafkaSource topics must not be empty');
    this.boundedness = options.bounded === 'latest' ? 'bounded' : 'unbounded';
    // Fails fast on a bad format.
    if (options.deserializer === undefined) resolveFormat(options.format);
  }

  /** Creates the enumerator for a fresh start. */
  createEnumerator(ctx: SplitEnumeratorContext<KafkaSplit>): SplitEnumerator<KafkaSplit, KafkaEnumeratorState> {
    return new KafkaSplitEnumerator(this, ctx, undefined);
  }

  /** Creates the enumerator from checkpointed state. */
  restoreEnumerator(ctx: SplitEnumeratorContext<KafkaSplit>, checkpoint: KafkaEnumeratorState): SplitEnumerator<KafkaSplit, KafkaEnumeratorState> {
    return new KafkaSplitEnumerator(this, ctx, checkpoint);
  }

  /** Creates the reader of one parallel instance. */
  createReader(ctx: SourceReaderContext): SourceReader<T, KafkaSplit> {
    return new KafkaSourceReader(this, ctx);
  }

  /**
   * Progress of the readers in this process: per-partition offsets, high watermarks and lag.
   * Consumer lag is `lag`.
   */
  metrics(): KafkaSourceMetrics {
    const partitions: KafkaPartitionMetrics[] = [];
    let records = 0;
    let bytes = 0;
    let lag = 0;
    let tombstones = 0;
    for (const r of this.readers.values()) {
      bytes += r.bytes;
      tombstones += r.tombstones;
      for (const p of r.parts.values()) {
        const l = p.highWatermark < 0 ? 0 : Math.max(0, (p.stop !== undefined ? Math.min(p.stop, p.highWatermark) : p.highWatermark) - p.next);
        partitions.push({
          topic: p.topic,
          partition: p.partition,
          subtask: r.ctx.subtaskIndex,
          offset: p.next,
          highWatermark: p.highWatermark,
          lag: l,
          records: p.records,
          finished: p.finished,
        });
        records += p.records;
        lag += l;
      }
    }
    return {
      records,
      bytes,
      lag,
      tombstonesSkipped: tombstones,
      offsetCommitFailures: this.offsetCommitFailures,
      partitions,
      deadLetters: this.deadLetterCounters.snapshot(),
    };
  }
}

/** Discovers partitions, resolves their starting offsets and hands them to readers. */
class KafkaSplitEnumerator<T> implements SplitEnumerator<KafkaSplit, KafkaEnumeratorState> {
  private readonly discovered = new Set<string>();
  private pending: KafkaSplit[] = [];
  private readonly kafka: Kafka;
  private admin: Admin | undefined;
  private cluster: Cluster | undefined;
  private periodic: Cancellable | undefined;
  private readonly signalled = new Set<number>();
  private readonly added = new Set<number>();
  private discovering: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly source: KafkaSource<T>,
    private readonly ctx: SplitEnumeratorContext<KafkaSplit>,
    restored: KafkaEnumeratorState | undefined,
  ) {
    this.kafka = createKafka(source.options, 'enumerator');
    this.restored = restored !== undefined;
    if (restored !== undefined) {
      for (const [t, p] of restored.discovered) this.discovered.add(splitIdOf(t, p));
      this.pending = [...restored.pending];
    }
  }

  private readonly restored: boolean;

  async start(): Promise<void> {
    this.admin = this.kafka.admin();
    await this.admin.connect();
    await this.discover(!this.restored);
    const every = this.source.options.partitionDiscoveryIntervalMs ?? 10_000;
    if (this.source.boundedness === 'unbounded' && every > 0) {
      this.periodic = this.ctx.schedulePeriodic(every, () => {
        // A failed discovery (broker away) is retried at the next period, never fails the job.
        this.discovering = this.discovering.then(() => this.discover(false)).catch(() => {});
        return this.discovering;
      });
    }
  }

  private async topics(): Promise<string[]> {
    const fixed = this.source.fixedTopics;
    if (fixed !== undefined) return [...fixed];
    const pattern = this.source.options.topicPattern as RegExp;
    const all = await (this.admin as Admin).listTopics();
    return all.filter((t) => !t.startsWith('__') && new RegExp(pattern.source, pattern.flags.replace('g', '')).test(t)).sort();
  }

  /** Finds partitions not seen yet; `initial` ones start at `startingOffsets`, later ones at earliest. */
  private async discover(initial: boolean): Promise<void> {
    if (this.closed) return;
    const admin = this.admin as Admin;
    const topics = await this.topics();
    const fresh = new Map<string, number[]>();
    if (topics.length > 0) {
      let meta: Awaited<ReturnType<Admin['fetchTopicMetadata']>>;
      try {
        meta = await withRetries(() => admin.fetchTopicMetadata({ topics }), 5);
      } catch (e) {
        throw new Error(`KafkaSource: cannot read metadata of topics ${topics.join(', ')}: ${(e as Error).message}`);
      }
      for (const t of meta.topics) {
        for (const p of t.partitions) {
          if (this.discovered.has(splitIdOf(t.name, p.partitionId))) continue;
          let list = fresh.get(t.name);
          if (list === undefined) fresh.set(t.name, (list = []));
          list.push(p.partitionId);
        }
      }
    }
    const splits: KafkaSplit[] = [];
    for (const [topic, partitions] of fresh) {
      partitions.sort((a, b) => a - b);
      const start = await this.startOffsets(topic, partitions, initial ? (this.source.options.startingOffsets ?? 'earliest') : 'earliest');
      const stop = this.source.boundedness === 'bounded' ? await this.stopOffsets(topic, partitions) : undefined;
      for (const partition of partitions) {
        const offset = start.get(partition) ?? 0;
        const s: KafkaSplit =
          stop === undefined
            ? { splitId: splitIdOf(topic, partition), topic, partition, offset }
            : { splitId: splitIdOf(topic, partition), topic, partition, offset, stoppingOffset: Math.max(offset, stop.get(partition) ?? offset) };
        splits.push(s);
      }
    }
    if (this.closed) return;
    for (const s of splits) this.discovered.add(s.splitId);
    this.pending.push(...splits);
    this.assignPending();
  }

  private async startOffsets(topic: string, partitions: number[], how: KafkaStartingOffsets): Promise<Map<number, number>> {
    const admin = this.admin as Admin;
    const out = new Map<number, number>();
    if (how === 'earliest' || how === 'latest') {
      for (const o of await withRetries(() => admin.fetchTopicOffsets(topic))) out.set(o.partition, Number(how === 'earliest' ? o.low : o.offset));
    } else if (how === 'committed') {
      const fallback = await this.startOffsets(topic, partitions, this.source.options.committedFallback ?? 'earliest');
      const committed = await withRetries(() => admin.fetchOffsets({ groupId: this.source.options.groupId, topics: [topic] }));
      for (const t of committed) {
        for (const p of t.partitions) {
          const c = Number(p.offset);
          out.set(p.partition, c >= 0 ? c : (fallback.get(p.partition) ?? 0));
        }
      }
      for (const [p, o] of fallback) if (!out.has(p)) out.set(p, o);
    } else {
      for (const o of await withRetries(() => admin.fetchTopicOffsetsByTimestamp(topic, how.timestamp))) out.set(o.partition, Number(o.offset));
    }
    return out;
  }

  private async stopOffsets(topic: string, partitions: number[]): Promise<Map<number, number>> {
    if (this.source.options.isolation === 'read_uncommitted') {
      this.cluster ??= createInternalCluster(this.kafka, 'read_uncommitted');
      if (this.cluster !== undefined) return endOffsets(this.cluster, topic, partitions);
    }
    const out = new Map<number, number>();
    for (const o of await withRetries(() => (this.admin as Admin).fetchTopicOffsets(topic))) out.set(o.partition, Number(o.offset));
    return out;
  }

  private assignPending(): void {
    // Only readers that registered (addReader): on a restore, the executor hands back the old
    // readers' splits before it registers the readers, and a bounded reader told "no more splits"
    // too early would end before getting them.
    const readers = this.added;
    const n = this.ctx.parallelism;
    const byReader = new Map<number, KafkaSplit[]>();
    const keep: KafkaSplit[] = [];
    for (const s of this.pending) {
      const owner = ownerOf(s.topic, s.partition, n);
      if (!readers.has(owner)) {
        keep.push(s);
        continue;
      }
      let list = byReader.get(owner);
      if (list === undefined) byReader.set(owner, (list = []));
      list.push(s);
    }
    this.pending = keep;
    for (const [reader, splits] of byReader) this.ctx.assignSplits(reader, splits);
    if (this.source.boundedness === 'bounded') {
      for (const r of readers) {
        if (this.signalled.has(r) || keep.some((s) => ownerOf(s.topic, s.partition, n) === r)) continue;
        this.signalled.add(r);
        this.ctx.signalNoMoreSplits(r);
      }
    }
  }

  addReader(subtask: number): void {
    this.added.add(subtask);
    this.assignPending();
  }

  addSplitsBack(splits: readonly KafkaSplit[], _subtask: number): void {
    for (const s of splits) this.discovered.add(s.splitId);
    this.pending.push(...splits);
    this.assignPending();
  }

  snapshotState(_checkpointId: number): KafkaEnumeratorState {
    const discovered: Array<[string, number]> = [];
    for (const id of this.discovered) {
      const i = id.lastIndexOf('-');
      discovered.push([id.slice(0, i), Number(id.slice(i + 1))]);
    }
    return { discovered, pending: [...this.pending] };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.periodic?.cancel();
    await this.admin?.disconnect().catch(() => {});
    await this.cluster?.disconnect().catch(() => {});
  }
}

/** A partition as a reader tracks it. @internal */
interface PartitionState<T> {
  readonly id: string;
  readonly topic: string;
  readonly partition: number;
  /** Next offset to emit (the checkpointed position). */
  next: number;
  /** Next offset to fetch (after the last buffered batch). */
  fetched: number;
  readonly stop: number | undefined;
  output: SourceOutput<T> | undefined;
  highWatermark: number;
  records: number;
  finished: boolean;
  released: boolean;
}

/** A fetched batch waiting to be emitted. */
interface Buffered<T> {
  readonly ps: PartitionState<T>;
  readonly gen: number;
  readonly messages: KafkaMessage[];
  i: number;
  readonly lastOffset: number;
  readonly bytes: number;
}

const RESOLVED = Promise.resolve();

/** Reads the splits of one subtask through one kafkajs consumer. @internal */
class KafkaSourceReader<T> implements SourceReader<T, KafkaSplit> {
  readonly parts = new Map<string, PartitionState<T>>();
  bytes = 0;
  tombstones = 0;
  private readonly kafka: Kafka;
  private readonly serde: (Serde<T> & KafkaFormatLifecycle) | undefined;
  private readonly deserializer: ((r: KafkaSourceRecord) => T | undefined) | undefined;
  private readonly router: DeadLetterRouter;
  private readonly counters: DeadLetterCounters;
  private readonly decodeResults: boolean;
  private queue: Buffered<T>[] = [];
  private head = 0;
  private queuedBytes = 0;
  private readonly maxBufferedBytes: number;
  private wake: (() => void) | undefined;
  private drained: { promise: Promise<void>; resolve: () => void } | undefined;
  private consumer: Consumer | undefined;
  private gen = 0;
  private consumerOps: Promise<void> = Promise.resolve();
  private restartScheduled = false;
  private error: Error | undefined;
  private noMoreSplits = false;
  private idleMarked = false;
  private closed = false;
  private readonly newOutputs: PartitionState<T>[] = [];
  private readonly checkpointOffsets = new Map<number, Array<{ topic: string; partition: number; offset: number }>>();
  private commitCluster: Cluster | undefined;
  private committing: Promise<void> | undefined;
  private nextCommit: Array<{ topic: string; partition: number; offset: number }> | undefined;
  private readonly groupSuffix = Math.random().toString(36).slice(2, 10);

  constructor(
    private readonly source: KafkaSource<T>,
    readonly ctx: SourceReaderContext,
  ) {
    this.kafka = createKafka(source.options, `reader-${ctx.subtaskIndex}`);
    this.deserializer = source.options.deserializer;
    this.serde = this.deserializer === undefined ? resolveFormat(source.options.format) : undefined;
    this.maxBufferedBytes = source.options.maxBufferedBytes ?? 2 * 1024 * 1024;
    this.counters = source.deadLetterCounters;
    this.decodeResults = source.emitsDecodeResults;
    this.router = new DeadLetterRouter({
      source: 'kafka',
      policy: source.options.onDeserializationFailure ?? 'fail',
      counters: source.deadLetterCounters,
    });
  }

  async start(): Promise<void> {
    this.source.readers.set(this.ctx.subtaskIndex, this);
    await this.serde?.open?.();
  }

  pollNext(output: ReaderOutput<T>): InputStatus {
    if (this.error !== undefined) throw this.error;
    if (this.newOutputs.length > 0) this.openOutputs(output);
    if (!this.idleMarked && this.parts.size === 0 && !this.noMoreSplits) {
      // A reader without partitions must not hold event time back.
      this.idleMarked = true;
      output.markIdle();
    }
    // Hot path: one record per call, no allocation of ours per record (the position of a failed
    // record is built only when it fails).
    const q = this.queue;
    while (this.head < q.length) {
      const b = q[this.head] as Buffered<T>;
      const ps = b.ps;
      if (b.gen !== this.gen || ps.finished) {
        this.pop(b);
        continue;
      }
      const messages = b.messages;
      const n = messages.length;
      while (b.i < n) {
        const m = messages[b.i++] as KafkaMessage;
        const offset = Number(m.offset);
        if (offset < ps.next) continue;
        if (ps.stop !== undefined && offset >= ps.stop) {
          this.finish(ps, output);
          break;
        }
        ps.next = offset + 1;
        let value: T;
        if (this.deserializer === undefined) {
          const bytes = m.value;
          if (bytes === null || bytes === undefined) {
            this.tombstones++;
            continue;
          }
          try {
            const decoded = (this.serde as Serde<unknown>).deserialize(bytes);
            this.counters.deserialized++;
            value = (this.decodeResults ? { ok: true, value: decoded } : decoded) as T;
          } catch (e) {
            if (!this.decodeResults || this.router.policy !== 'dead-letter') {
              // 'fail' throws here; 'skip-and-count' counts.
              this.router.reject(bytes, e, this.positionOf(ps, m, offset));
              continue;
            }
            value = this.deadLetterResult(bytes, e, this.positionOf(ps, m, offset)) as T;
          }
        } else {
          const v = this.deserializeRecord(ps, m, offset);
          if (v === undefined) continue;
          value = v;
        }
        ps.records++;
        (ps.output as SourceOutput<T>).collect(value, Number(m.timestamp));
        if (b.i >= n) this.endBatch(b, output);
        return 'more';
      }
      if (ps.finished) this.pop(b);
      else this.endBatch(b, output);
    }
    if (this.noMoreSplits) {
      let done = true;
      for (const ps of this.parts.values()) {
        if (!ps.finished) {
          done = false;
          break;
        }
      }
      if (done) return 'end';
    }
    return 'nothing';
  }

  /** Under 'dead-letter' (decode results): the failed record as `{ ok: false, deadLetter }`, counted. */
  private deadLetterResult(bytes: Uint8Array, cause: unknown, position: RecordPosition): DecodeResult<unknown> {
    const deadLetter = this.router.toDeadLetter(bytes, cause, position);
    this.counters.countFailure('dead-letter', deadLetter.errorType);
    return { ok: false, deadLetter };
  }

  private openOutputs(output: ReaderOutput<T>): void {
    for (const ps of this.newOutputs) {
      if (ps.finished) {
        ps.released = true;
        continue;
      }
      ps.output = output.createOutputForSplit(ps.id);
    }
    this.newOutputs.length = 0;
  }

  private positionOf(ps: PartitionState<T>, m: KafkaMessage, offset: number): RecordPosition {
    return { topic: ps.topic, partition: ps.partition, offset, key: m.key ?? null, recordTimestamp: Number(m.timestamp) };
  }

  /** A custom deserializer: the whole record; failures go through the policy. */
  private deserializeRecord(ps: PartitionState<T>, m: KafkaMessage, offset: number): T | undefined {
    try {
      return (this.deserializer as (r: KafkaSourceRecord) => T | undefined)({
        topic: ps.topic,
        partition: ps.partition,
        offset,
        timestamp: Number(m.timestamp),
        key: m.key ?? null,
        value: m.value ?? null,
        headers: m.headers ?? {},
      });
    } catch (e) {
      this.router.reject(m.value ?? new Uint8Array(0), e, this.positionOf(ps, m, offset));
      return undefined;
    }
  }

  /** A batch was emitted entirely: positions move past trailing control records and aborted data. */
  private endBatch(b: Buffered<T>, output: ReaderOutput<T>): void {
    const ps = b.ps;
    if (b.lastOffset + 1 > ps.next) ps.next = ps.stop === undefined ? b.lastOffset + 1 : Math.min(b.lastOffset + 1, ps.stop);
    if (ps.stop !== undefined && ps.next >= ps.stop) this.finish(ps, output);
    this.pop(b);
  }

  private pop(b: Buffered<T>): void {
    this.head++;
    this.queuedBytes -= b.bytes;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.drained !== undefined && this.queuedBytes <= this.maxBufferedBytes / 2) {
      const d = this.drained;
      this.drained = undefined;
      d.resolve();
    }
  }

  private finish(ps: PartitionState<T>, output: ReaderOutput<T>): void {
    if (ps.finished) return;
    ps.finished = true;
    if (ps.stop !== undefined && ps.next < ps.stop) ps.next = ps.stop;
    if (!ps.released) {
      ps.released = true;
      if (ps.output !== undefined) output.releaseOutputForSplit(ps.id);
    }
    this.consumer?.pause([{ topic: ps.topic, partitions: [ps.partition] }]);
  }

  isAvailable(): Promise<void> {
    if (this.head < this.queue.length || this.error !== undefined || this.newOutputs.length > 0) return RESOLVED;
    if (this.noMoreSplits && [...this.parts.values()].every((p) => p.finished)) return RESOLVED;
    if (!this.idleMarked && this.parts.size === 0 && !this.noMoreSplits) return RESOLVED;
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  private signal(): void {
    const w = this.wake;
    if (w !== undefined) {
      this.wake = undefined;
      w();
    }
  }

  addSplits(splits: readonly KafkaSplit[]): void {
    for (const s of splits) {
      if (this.parts.has(s.splitId)) continue;
      const ps: PartitionState<T> = {
        id: s.splitId,
        topic: s.topic,
        partition: s.partition,
        next: s.offset,
        fetched: s.offset,
        stop: s.stoppingOffset,
        output: undefined,
        highWatermark: -1,
        records: 0,
        finished: s.stoppingOffset !== undefined && s.offset >= s.stoppingOffset,
        released: false,
      };
      this.parts.set(s.splitId, ps);
      this.newOutputs.push(ps);
    }
    this.scheduleRestart();
    this.signal();
  }

  notifyNoMoreSplits(): void {
    this.noMoreSplits = true;
    this.signal();
  }

  /** Restarts the consumer with the current splits (batched: several addSplits, one restart). */
  private scheduleRestart(): void {
    if (this.restartScheduled || this.closed) return;
    this.restartScheduled = true;
    setImmediate(() => {
      this.restartScheduled = false;
      this.consumerOps = this.consumerOps.then(() => this.restartConsumer()).catch((e: unknown) => this.fail(e));
    });
  }

  private fail(e: unknown): void {
    if (this.closed || this.error !== undefined) return;
    this.error = e instanceof Error ? e : new Error(String(e));
    this.signal();
  }

  private async restartConsumer(): Promise<void> {
    if (this.closed) return;
    const gen = ++this.gen;
    const old = this.consumer;
    this.consumer = undefined;
    if (old !== undefined) await old.disconnect().catch(() => {});
    // Whatever was buffered is fetched again by the new consumer from the emitted position.
    for (let i = this.head; i < this.queue.length; i++) this.queuedBytes -= (this.queue[i] as Buffered<T>).bytes;
    this.queue = [];
    this.head = 0;
    this.drained?.resolve();
    this.drained = undefined;
    const active = [...this.parts.values()].filter((p) => !p.finished);
    for (const p of active) p.fetched = p.next;
    if (active.length === 0 || this.closed || gen !== this.gen) return;
    const opts = this.source.options;
    const topics = [...new Set(active.map((p) => p.topic))].sort();
    const assignment: Record<string, number[]> = {};
    for (const p of active) (assignment[p.topic] ??= []).push(p.partition);
    const assigner = (): Assigner => ({
      name: 'WeirSplitAssigner',
      version: 1,
      async assign({ members }) {
        // A private group has one member: it gets exactly this reader's splits.
        return members.map((m, i) => ({
          memberId: m.memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({
            version: 1,
            assignment: i === 0 ? assignment : {},
            userData: Buffer.alloc(0),
          }),
        }));
      },
      protocol({ topics: subscribed }) {
        return {
          name: 'WeirSplitAssigner',
          metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics: subscribed, userData: Buffer.alloc(0) }),
        };
      },
    });
    const consumer = this.kafka.consumer({
      groupId: `${opts.groupId}.weir-reader.${this.ctx.subtaskIndex}.${this.groupSuffix}`,
      partitionAssigners: [assigner],
      readUncommitted: opts.isolation === 'read_uncommitted',
      maxBytesPerPartition: opts.maxBytesPerPartition ?? 1024 * 1024,
      maxWaitTimeInMs: 250,
      sessionTimeout: opts.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: 3_000,
      allowAutoTopicCreation: false,
      retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (gen !== this.gen) return;
      for (const p of active) if (!p.finished) consumer.seek({ topic: p.topic, partition: p.partition, offset: String(p.fetched) });
    });
    consumer.on(consumer.events.CRASH, (e) => {
      if (gen !== this.gen) return;
      const { error, restart } = e.payload as { error: Error; restart: boolean };
      if (!restart) this.fail(new Error(`KafkaSource: the consumer of subtask ${this.ctx.subtaskIndex} failed: ${error.message}`, { cause: error }));
    });
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
      // Batches of only control records or aborted data never reach eachBatch: move past them.
      const p = e.payload as { topic: string; partition: number; batchSize: number; lastOffset: string };
      if (gen !== this.gen || p.batchSize !== 0) return;
      const ps = this.parts.get(splitIdOf(p.topic, p.partition));
      if (ps === undefined || ps.finished) return;
      const last = Number(p.lastOffset);
      if (last + 1 <= ps.fetched) return;
      ps.fetched = last + 1;
      this.queue.push({ ps, gen, messages: [], i: 0, lastOffset: last, bytes: 0 });
      this.signal();
    });
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.onBatch(gen, payload),
    });
  }

  private async onBatch(gen: number, payload: EachBatchPayload): Promise<void> {
    const { batch, isRunning, isStale, heartbeat } = payload;
    if (gen !== this.gen || this.closed) return;
    const ps = this.parts.get(splitIdOf(batch.topic, batch.partition));
    if (ps === undefined || ps.finished) return;
    ps.highWatermark = Number(batch.highWatermark);
    const lastOffset = Number(batch.lastOffset());
    let bytes = 0;
    for (const m of batch.messages) bytes += (m.value?.length ?? 0) + (m.key?.length ?? 0) + 64;
    const serde = this.serde;
    if (isSchemaResolvingSerde(serde)) {
      // Schemas the batch names are loaded before any of its records is decoded (registry
      // unreachable: an infrastructure failure, the job fails and restarts).
      try {
        await serde.ensureSchemas(batch.messages.map((m) => m.value));
      } catch (e) {
        this.fail(e);
        return;
      }
      if (gen !== this.gen || this.closed || ps.finished || this.parts.get(ps.id) !== ps) return;
    }
    this.bytes += bytes;
    this.queue.push({ ps, gen, messages: batch.messages, i: 0, lastOffset, bytes });
    this.queuedBytes += bytes;
    if (lastOffset + 1 > ps.fetched) ps.fetched = lastOffset + 1;
    this.signal();
    while (this.queuedBytes > this.maxBufferedBytes && gen === this.gen && !this.closed && isRunning() && !isStale()) {
      if (this.drained === undefined) {
        let resolve!: () => void;
        const promise = new Promise<void>((r) => {
          resolve = r;
        });
        this.drained = { promise, resolve };
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.drained.promise, new Promise<void>((r) => (timer = setTimeout(r, 1_000)))]);
      clearTimeout(timer);
      await heartbeat().catch(() => {});
    }
  }

  snapshotState(checkpointId: number): KafkaSplit[] {
    const out: KafkaSplit[] = [];
    const offsets: Array<{ topic: string; partition: number; offset: number }> = [];
    for (const p of this.parts.values()) {
      out.push(
        p.stop === undefined
          ? { splitId: p.id, topic: p.topic, partition: p.partition, offset: p.next }
          : { splitId: p.id, topic: p.topic, partition: p.partition, offset: p.next, stoppingOffset: p.stop },
      );
      offsets.push({ topic: p.topic, partition: p.partition, offset: p.next });
    }
    if (this.source.options.commitOffsetsOnCheckpoint !== false) {
      this.checkpointOffsets.set(checkpointId, offsets);
      for (const id of this.checkpointOffsets.keys()) if (id < checkpointId - 10) this.checkpointOffsets.delete(id);
    }
    return out;
  }

  notifyCheckpointComplete(checkpointId: number): void {
    const offsets = this.checkpointOffsets.get(checkpointId);
    if (offsets === undefined) return;
    for (const id of this.checkpointOffsets.keys()) if (id <= checkpointId) this.checkpointOffsets.delete(id);
    if (this.closed || offsets.length === 0) return;
    // For monitoring only: never awaited by the checkpoint, never fails the job. While one commit
    // is in flight, the newest offsets wait and go next (older ones are dropped).
    this.nextCommit = offsets;
    if (this.committing === undefined) this.committing = this.commitLoop();
  }

  private async commitLoop(): Promise<void> {
    this.commitCluster ??= createInternalCluster(this.kafka, 'read_committed');
    const cluster = this.commitCluster;
    try {
      while (this.nextCommit !== undefined && cluster !== undefined) {
        const offsets = this.nextCommit;
        this.nextCommit = undefined;
        await withRetries(() => commitGroupOffsets(cluster, this.source.options.groupId, offsets), 8).catch(() => {
          this.source.offsetCommitFailures++;
        });
      }
    } finally {
      this.committing = undefined;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.gen++;
    this.drained?.resolve();
    this.signal();
    await this.consumerOps.catch(() => {});
    await this.consumer?.disconnect().catch(() => {});
    // The offsets of the final checkpoint are being committed: let that finish (bounded).
    if (this.committing !== undefined) await Promise.race([this.committing, new Promise((r) => setTimeout(r, 5_000).unref())]);
    await this.commitCluster?.disconnect().catch(() => {});
    await this.serde?.close?.();
  }
}
