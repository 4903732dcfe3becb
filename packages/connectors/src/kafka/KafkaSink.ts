import type { Committer, Serde, Sink, SinkWriter, SinkWriterContext, TwoPhaseCommittingSinkWriter } from '@weir/core';
import kafkajs from 'kafkajs';
import type { Admin, Kafka, Message, Producer, TopicMessages } from 'kafkajs';
import { createInternalCluster, createKafka, endOffsets, javaStringHash, type KafkaConnectionOptions, readTopicToEnd, sleep, withRetries } from './client.js';
import { type KafkaFormat, type KafkaFormatLifecycle, keyBytes, resolveFormat, toBuffer } from './format.js';
import type { fixKafkajsReadCommitted } from './kafkajs-fixes.js';

const { Partitioners } = kafkajs;

/**
 * Delivery guarantee of a {@link KafkaSink}.
 * - `'at-least-once'`: records are sent as they come; every checkpoint waits until all records
 *   written before its barrier are acknowledged by the brokers (acks=all). After a failure,
 *   records after the restored checkpoint are written again (duplicates, never loss).
 * - `'exactly-once'`: Kafka transactions, committed when the checkpoint completes; a
 *   read_committed consumer sees every record exactly once (see {@link KafkaSink}).
 * @public
 */
export type KafkaDeliverySemantic = 'at-least-once' | 'exactly-once';

/**
 * Options of {@link KafkaSink}. Give exactly one of `topic` and `topicSelector`.
 * @public
 */
export interface KafkaSinkOptions<T> extends KafkaConnectionOptions {
  /** The topic every record goes to. */
  readonly topic?: string;
  /** Picks the topic per record. */
  readonly topicSelector?: (value: T) => string;
  /** The record key (decides the partition with Kafka's murmur2 partitioner); none by default. */
  readonly key?: (value: T) => string | Uint8Array | null | undefined;
  /** Record headers. */
  readonly headers?: (value: T) => Readonly<Record<string, string | Uint8Array>> | undefined;
  /** How values are encoded: `'json'` (default), `'string'` or a `Serde<T>`. */
  readonly format?: KafkaFormat<T>;
  /** `'at-least-once'` (default) or `'exactly-once'`. */
  readonly semantic?: KafkaDeliverySemantic;
  /**
   * Exactly-once: prefix of the transactional ids (`<prefix>-<subtask>`). It names the job's
   * transactions across restarts, so it must be stable for a job and unique among jobs writing
   * to the same cluster. Letters, digits, `.`, `_` and `-`.
   */
  readonly transactionalIdPrefix?: string;
  /**
   * Exactly-once: the compacted topic holding one commit marker per (transactional id prefix,
   * job attempt, subtask), written inside each transaction (default `_weir-commits.<prefix>`;
   * created with one partition when missing).
   */
  readonly markerTopic?: string;
  /** Whether the record's event time becomes the Kafka record timestamp (default true; else the producer's clock). */
  readonly writeTimestamps?: boolean;
  /** Exactly-once: the Kafka transaction timeout in ms (default 60 000). */
  readonly transactionTimeoutMs?: number;
  /**
   * Exactly-once: how long a commit keeps retrying while the cluster is unreachable (default
   * 120 000 ms); then the job fails and a restore commits the checkpoint.
   */
  readonly commitRetryTimeoutMs?: number;
  /** At-least-once: bytes buffered or in flight before the writer backpressures (default 16 MiB). */
  readonly maxBufferedBytes?: number;
  /** Bytes per produce request (default 512 KiB; keep below the broker's `message.max.bytes`). */
  readonly batchBytes?: number;
  /** At-least-once: how long a partial batch waits for more records, in ms (default 5). */
  readonly lingerMs?: number;
  /**
   * At-least-once: produce requests in flight at a time (default 4): the writer runs this many
   * idempotent producers (connections), each owning a share of the partitions and sending one
   * request at a time, so every partition still receives its records in write order.
   */
  readonly maxInFlightRequests?: number;
}

/** One encoded output record. @public */
export interface KafkaOutputRecord {
  /** Topic. */
  readonly topic: string;
  /** Key bytes or null. */
  readonly key: Buffer | null;
  /** Value bytes or null. */
  readonly value: Buffer | null;
  /** Timestamp (epoch ms) or undefined. */
  readonly timestamp: number | undefined;
  /** Headers or undefined. */
  readonly headers: Readonly<Record<string, Buffer>> | undefined;
}

/**
 * What an exactly-once {@link KafkaSink} writer pre-commits at a checkpoint: the records it
 * received since the previous checkpoint, stored in the checkpoint (write-ahead) and written to
 * Kafka in one transaction when the checkpoint completes.
 * @public
 */
export interface KafkaCommittable {
  /** The transactional id prefix of the sink. */
  readonly transactionalIdPrefix: string;
  /** The job attempt that wrote the records. */
  readonly attemptId: string;
  /** The writer's subtask. */
  readonly subtask: number;
  /** The sink's parallelism then (to abort transactions of subtasks that no longer exist). */
  readonly parallelism: number;
  /** The checkpoint whose barrier closed the records. */
  readonly checkpointId: number;
  /** The records. */
  readonly records: readonly KafkaOutputRecord[];
}

/**
 * Counters of a {@link KafkaSink}'s writers and committers in this process.
 * @public
 */
export interface KafkaSinkMetrics {
  /** Records handed to the writers. */
  readonly records: number;
  /** Value + key bytes handed to the writers. */
  readonly bytes: number;
  /** Records acknowledged by the brokers (at-least-once) or committed (exactly-once). */
  readonly recordsDelivered: number;
  /** Exactly-once: transactions committed. */
  readonly transactionsCommitted: number;
  /** Exactly-once: restored committables found already committed (so not written again). */
  readonly commitsSkipped: number;
  /** Exactly-once: restored committables whose transaction had not committed, written again from the checkpoint. */
  readonly commitsRecovered: number;
  /** Exactly-once: transactional ids fenced at start-up (aborting leftovers of crashed runs). */
  readonly transactionsFenced: number;
}

const PREFIX_RE = /^[A-Za-z0-9._-]+$/;

/**
 * Writes a stream to Kafka.
 *
 * **At-least-once** (default): records are batched and sent continuously through an idempotent
 * producer (acks=all); at every checkpoint the writer waits until everything written before the
 * barrier is acknowledged, so a completed checkpoint never covers an unwritten record. A restore
 * may write records after the checkpoint again.
 *
 * **Exactly-once** (`semantic: 'exactly-once'`, needs `transactionalIdPrefix` and checkpointing):
 * a read_committed consumer sees every record exactly once, whatever fails and whenever. The
 * design, made for kafkajs (which cannot resume a transaction after a restart and has no KIP-447
 * fencing):
 *
 * 1. *Write-ahead.* Records are buffered by the writer. The checkpoint barrier cuts them
 *    synchronously into a {@link KafkaCommittable} for (attempt, subtask, checkpoint n) that is
 *    stored in checkpoint n. Nothing reaches Kafka before checkpoint n is complete.
 * 2. *One commit point.* When checkpoint n completes, the committer of each subtask writes its
 *    committable in ONE Kafka transaction (transactional id `<prefix>-<subtask>`) together with a
 *    marker record `<prefix>/<attempt>/<subtask> → n` in the compacted marker topic, and commits.
 *    That transaction commit is the only point at which the records become visible, and it makes
 *    the marker visible atomically with them.
 * 3. *Recovery.* A restored job re-commits the committables of the checkpoint it restored (from
 *    subtask 0). First it fences every transactional id of the job (`<prefix>-0 … <prefix>-(P−1)`
 *    for the old and the new parallelism): initializing a transactional id aborts the open
 *    transaction a crashed process left, so read_committed readers are not blocked and no
 *    half-written transaction can still commit. Then it reads the marker topic (read_committed,
 *    to its end): a committable whose marker is there was committed before the crash and is
 *    skipped; any other is written again in a new transaction, from the checkpoint's copy.
 *
 * Hence, for a crash at any moment: before checkpoint n completes, the restore goes back to
 * checkpoint n−1 (or earlier), n's records are discarded with the checkpoint and re-produced by
 * the replay from n−1's source positions; between completion and the commit of n's transaction
 * (including mid-transaction), the restore of n finds no marker, the open transaction is aborted
 * by fencing, and n's records are committed from the checkpoint; after the commit, the marker is
 * found and nothing is written again. Exactly once, provided the job is restored from its
 * latest checkpoint (`restore: 'latest'`; restoring an older one replays, and so repeats, the
 * output committed after it, as in Flink), the marker topic is kept (it is compacted; do not
 * delete it while a job may restore), and consumers use `isolation.level=read_committed`
 * (read_uncommitted consumers may also see records of aborted transactions; kafkajs consumers
 * need {@link fixKafkajsReadCommitted}, which the Weir Kafka source applies itself).
 *
 * A commit that fails because the cluster is away (a broker restart) is retried for
 * `commitRetryTimeoutMs`: the producer is re-created (re-initializing the transactional id aborts
 * the failed transaction) and the markers tell whether the failed attempt committed after all (a
 * lost commit response), so a retry never writes twice. Without checkpointing, the records are
 * committed once, at the end of a bounded input.
 *
 * Costs: records become visible when the checkpoint that follows them completes (latency ≈
 * checkpoint interval + commit); the output of one checkpoint interval is held in memory and
 * written into the checkpoint. A transactional id of a subtask that no longer exists after a
 * restore with lower parallelism is fenced only if the restored checkpoint shows it; otherwise
 * its leftover transaction ends by `transactionTimeoutMs`.
 *
 * @example
 * ```ts
 * stream.sinkTo(new KafkaSink<Session>({
 *   brokers: 'localhost:9092', topic: 'sessions', key: (s) => s.user,
 *   semantic: 'exactly-once', transactionalIdPrefix: 'sessions-job',
 * }));
 * ```
 * @public
 */
export class KafkaSink<T> implements Sink<T> {
  /** The options. @internal */
  readonly options: KafkaSinkOptions<T>;
  /** The delivery guarantee. */
  readonly semantic: KafkaDeliverySemantic;
  /** Exactly-once: creates the committer (absent for at-least-once). */
  readonly createCommitter?: (ctx: SinkWriterContext) => Promise<Committer<KafkaCommittable>>;
  /** Exactly-once: serializes committables into checkpoints (absent for at-least-once). */
  readonly committableSerde?: Serde<KafkaCommittable>;
  /** Highest committed checkpoint per `<prefix>/<attempt>/<subtask>`, in this process. @internal */
  readonly committed = new Map<string, number>();
  /** @internal */
  readonly counters = { records: 0, bytes: 0, recordsDelivered: 0, transactionsCommitted: 0, commitsSkipped: 0, commitsRecovered: 0, transactionsFenced: 0 };
  /** @internal */
  readonly markerTopic: string;

  /** @param options - brokers, topic, key, format, semantic */
  constructor(options: KafkaSinkOptions<T>) {
    if ((options.topic === undefined) === (options.topicSelector === undefined)) {
      throw new RangeError('KafkaSink needs exactly one of topic and topicSelector');
    }
    this.options = options;
    this.semantic = options.semantic ?? 'at-least-once';
    if (this.semantic !== 'at-least-once' && this.semantic !== 'exactly-once') {
      throw new RangeError(`semantic must be 'at-least-once' or 'exactly-once', got ${String(this.semantic)}`);
    }
    resolveFormat(options.format);
    const inFlight = options.maxInFlightRequests;
    if (inFlight !== undefined && !(Number.isInteger(inFlight) && inFlight >= 1)) {
      throw new RangeError(`maxInFlightRequests must be an integer >= 1, got ${String(inFlight)}`);
    }
    const prefix = options.transactionalIdPrefix;
    this.markerTopic = options.markerTopic ?? `_weir-commits.${prefix ?? 'none'}`;
    if (this.semantic === 'exactly-once') {
      if (prefix === undefined || !PREFIX_RE.test(prefix)) {
        throw new RangeError("exactly-once needs a transactionalIdPrefix of letters, digits, '.', '_' and '-', stable for the job");
      }
      this.committableSerde = committableSerde;
      this.createCommitter = async (ctx) => {
        const c = new KafkaCommitter(this as unknown as KafkaSink<unknown>, ctx);
        await c.init();
        return c;
      };
    }
  }

  /** Creates the writer of one parallel instance. */
  async createWriter(ctx: SinkWriterContext): Promise<SinkWriter<T>> {
    const w = this.semantic === 'exactly-once' ? new ExactlyOnceWriter(this, ctx) : new AtLeastOnceWriter(this, ctx);
    await w.open();
    return w;
  }

  /** Counters of this process's writers and committers. */
  metrics(): KafkaSinkMetrics {
    return { ...this.counters };
  }

  /** @internal */
  isCommitted(c: KafkaCommittable): boolean {
    return (this.committed.get(markerKey(c)) ?? 0) >= c.checkpointId;
  }
}

const TRANSIENT_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSLockTimeout',
  'KafkaJSStaleTopicMetadataAssignment',
  'KafkaJSNumberOfRetriesExceeded',
]);
const FATAL_TYPES = new Set([
  'INVALID_PRODUCER_EPOCH',
  'PRODUCER_FENCED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'TOPIC_AUTHORIZATION_FAILED',
  'INVALID_PRODUCER_ID_MAPPING',
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
]);

/** Whether a failed transaction is worth retrying (the cluster was away), not a fencing or a bad record. @internal */
export function isTransient(e: unknown): boolean {
  let fatal = false;
  let transient = false;
  for (let err = e as { name?: string; type?: string; retriable?: boolean; cause?: unknown; originalError?: unknown } | undefined, depth = 0; err !== undefined && err !== null && depth < 8; depth++) {
    if (err.type !== undefined && FATAL_TYPES.has(err.type)) fatal = true;
    if ((err.name !== undefined && TRANSIENT_NAMES.has(err.name)) || err.retriable === true) transient = true;
    err = (err.cause ?? err.originalError) as typeof err;
  }
  return transient && !fatal;
}

/** @internal */
export function markerKey(c: Pick<KafkaCommittable, 'transactionalIdPrefix' | 'attemptId' | 'subtask'>): string {
  return `${c.transactionalIdPrefix}/${c.attemptId}/${c.subtask}`;
}

/** Encodes values into output records. */
abstract class EncodingWriter<T> {
  protected readonly serde: Serde<T> & KafkaFormatLifecycle;
  private readonly topic: string | undefined;
  private readonly topicSelector: ((v: T) => string) | undefined;
  private readonly keyOf: KafkaSinkOptions<T>['key'];
  private readonly headersOf: KafkaSinkOptions<T>['headers'];
  private readonly writeTimestamps: boolean;

  constructor(
    protected readonly sink: KafkaSink<T>,
    protected readonly ctx: SinkWriterContext,
  ) {
    const o = sink.options;
    this.serde = resolveFormat(o.format);
    this.topic = o.topic;
    this.topicSelector = o.topicSelector;
    this.keyOf = o.key;
    this.headersOf = o.headers;
    this.writeTimestamps = o.writeTimestamps !== false;
  }

  async open(): Promise<void> {
    await this.serde.open?.();
  }

  protected encode(value: T, timestamp: number | null): KafkaOutputRecord {
    const topic = this.topic ?? (this.topicSelector as (v: T) => string)(value);
    const key = this.keyOf === undefined ? null : keyBytes(this.keyOf(value));
    const v = value === null || value === undefined ? null : toBuffer(this.serde.serialize(value));
    let headers: Record<string, Buffer> | undefined;
    const h = this.headersOf?.(value);
    if (h !== undefined) {
      headers = {};
      for (const [k, hv] of Object.entries(h)) headers[k] = typeof hv === 'string' ? Buffer.from(hv, 'utf8') : toBuffer(hv);
    }
    const c = this.sink.counters;
    c.records++;
    c.bytes += (v?.length ?? 0) + (key?.length ?? 0);
    return { topic, key, value: v, timestamp: this.writeTimestamps && timestamp !== null && Number.isFinite(timestamp) ? timestamp : undefined, headers };
  }
}

/** Splits records into produce requests of at most `maxBytes` each. @internal */
export function toTopicMessages(records: readonly KafkaOutputRecord[], start: number, maxBytes: number): { batch: TopicMessages[]; next: number } {
  const byTopic = new Map<string, Message[]>();
  let bytes = 0;
  let i = start;
  for (; i < records.length; i++) {
    const r = records[i] as KafkaOutputRecord;
    const size = (r.value?.length ?? 0) + (r.key?.length ?? 0) + 70;
    if (bytes > 0 && bytes + size > maxBytes) break;
    bytes += size;
    let list = byTopic.get(r.topic);
    if (list === undefined) byTopic.set(r.topic, (list = []));
    const m: Message = { key: r.key, value: r.value };
    if (r.timestamp !== undefined) m.timestamp = String(Math.trunc(r.timestamp));
    if (r.headers !== undefined) m.headers = r.headers;
    list.push(m);
  }
  return { batch: [...byTopic].map(([topic, messages]) => ({ topic, messages })), next: i };
}

function recordBytes(r: KafkaOutputRecord): number {
  return (r.value?.length ?? 0) + (r.key?.length ?? 0) + 70;
}

/** One producer with its own connection, owning a fixed share of the partitions. */
interface Lane {
  readonly producer: Producer;
  /** Records waiting, `buffer[head..]`, and their partitions (parallel arrays: no wrapper per record). */
  buffer: KafkaOutputRecord[];
  partitions: number[];
  head: number;
  bytes: number;
  busy: boolean;
}

/** Builds one produce request from `lane.buffer[head..]`, at most `maxBytes`, partitions explicit. */
function laneRequest(lane: Lane, maxBytes: number): { batch: TopicMessages[]; count: number; bytes: number } {
  const byTopic = new Map<string, Message[]>();
  let bytes = 0;
  let i = lane.head;
  for (; i < lane.buffer.length; i++) {
    const r = lane.buffer[i] as KafkaOutputRecord;
    const partition = lane.partitions[i] as number;
    const size = recordBytes(r);
    if (bytes > 0 && bytes + size > maxBytes) break;
    bytes += size;
    let list = byTopic.get(r.topic);
    if (list === undefined) byTopic.set(r.topic, (list = []));
    const m: Message = { key: r.key, value: r.value, partition };
    if (r.timestamp !== undefined) m.timestamp = String(Math.trunc(r.timestamp));
    if (r.headers !== undefined) m.headers = r.headers;
    list.push(m);
  }
  const count = i - lane.head;
  lane.head = i;
  if (lane.head === lane.buffer.length) {
    lane.buffer = [];
    lane.partitions = [];
    lane.head = 0;
  } else if (lane.head > 4096 && lane.head * 2 > lane.buffer.length) {
    lane.buffer = lane.buffer.slice(lane.head);
    lane.partitions = lane.partitions.slice(lane.head);
    lane.head = 0;
  }
  lane.bytes -= bytes;
  return { batch: [...byTopic].map(([topic, messages]) => ({ topic, messages })), count, bytes };
}

/**
 * Kafka's default partitioner hash (Java `Utils.murmur2`), as a signed 32-bit int.
 * @internal
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = (data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= (data[whole + 2] as number) << 16;
  if (rest >= 2) h ^= (data[whole + 1] as number) << 8;
  if (rest >= 1) h = Math.imul(h ^ (data[whole] as number), m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * At-least-once: sends continuously through `maxInFlightRequests` lanes, each an idempotent
 * producer with its own connection and one produce request in flight; flushes at every checkpoint.
 *
 * Order: the writer picks each record's partition itself (murmur2 of the key modulo the topic's
 * partition count, as Kafka's default partitioner; records without a key round-robin), and
 * partition `p` of a topic always goes through the same lane. A lane sends its records in write
 * order, one request at a time, and its idempotent producer retries without reordering; so every
 * partition receives the records in write order, while requests for other partitions are in
 * flight at the same time. (kafkajs's own pipelining — several `send` calls on one producer — can
 * reorder them, and its idempotent producer sends one request per broker at a time anyway.)
 */
class AtLeastOnceWriter<T> extends EncodingWriter<T> implements SinkWriter<T> {
  private readonly kafka: Kafka;
  private lanes: Lane[] = [];
  private admin: Admin | undefined;
  /** Per topic written: partition count (fetched once, when first written), lane offset, round-robin position. */
  private readonly topics = new Map<string, { readonly partitions: number; readonly laneBase: number; next: number }>();
  /** Records of topics whose partition count is being fetched, in write order. */
  private waiting: KafkaOutputRecord[] = [];
  private fetching: Promise<void> | undefined;
  private bufferedBytes = 0;
  private inFlightBytes = 0;
  private inFlight = 0;
  private linger: NodeJS.Timeout | undefined;
  private error: Error | undefined;
  private availableWaiters: Array<() => void> = [];
  /** Woken whenever a request completes or waiting records are routed (flush waits on them). */
  private progressWaiters: Array<() => void> = [];
  private readonly maxBytes: number;
  private readonly batchBytes: number;
  private readonly lingerMs: number;
  private readonly laneCount: number;
  private readonly onLinger = (): void => {
    this.linger = undefined;
    this.pump(true);
  };

  constructor(sink: KafkaSink<T>, ctx: SinkWriterContext) {
    super(sink, ctx);
    this.kafka = createKafka(sink.options, `sink-${ctx.taskInfo.subtaskIndex}`);
    this.maxBytes = sink.options.maxBufferedBytes ?? 16 * 1024 * 1024;
    this.batchBytes = sink.options.batchBytes ?? 512 * 1024;
    this.lingerMs = sink.options.lingerMs ?? 5;
    this.laneCount = sink.options.maxInFlightRequests ?? 4;
  }

  override async open(): Promise<void> {
    await super.open();
    for (let i = 0; i < this.laneCount; i++) {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 5_000 },
      });
      this.lanes.push({ producer, buffer: [], partitions: [], head: 0, bytes: 0, busy: false });
    }
    await Promise.all(this.lanes.map((l) => l.producer.connect()));
    const topic = this.sink.options.topic;
    if (topic !== undefined) await this.fetchPartitionCounts([topic]);
  }

  private async fetchPartitionCounts(topics: readonly string[]): Promise<void> {
    if (this.admin === undefined) {
      this.admin = this.kafka.admin();
      await this.admin.connect();
    }
    const meta = await withRetries(() => (this.admin as Admin).fetchTopicMetadata({ topics: [...topics] }), 5);
    for (const t of meta.topics) {
      if (t.partitions.length === 0) throw new Error(`KafkaSink: topic ${t.name} has no partitions`);
      this.topics.set(t.name, { partitions: t.partitions.length, laneBase: javaStringHash(t.name) & 0x7fffffff, next: 0 });
    }
  }

  write(value: T, timestamp: number | null): void {
    if (this.error !== undefined) throw this.error;
    const r = this.encode(value, timestamp);
    this.bufferedBytes += recordBytes(r);
    if (this.waiting.length > 0 || !this.topics.has(r.topic)) {
      // Behind records of a topic still unknown: keeps the order of every partition.
      this.waiting.push(r);
      this.fetchWaiting();
      return;
    }
    const lane = this.route(r);
    if (lane.bytes >= this.batchBytes) this.pump(false);
    else if (this.linger === undefined) this.linger = setTimeout(this.onLinger, this.lingerMs);
  }

  /** Appends a record to the lane of its partition. */
  private route(r: KafkaOutputRecord): Lane {
    const t = this.topics.get(r.topic) as { readonly partitions: number; readonly laneBase: number; next: number };
    let partition: number;
    if (r.key !== null) partition = (murmur2(r.key) & 0x7fffffff) % t.partitions;
    else {
      partition = t.next % t.partitions;
      t.next = partition + 1;
    }
    const lane = this.lanes[(t.laneBase + partition) % this.laneCount] as Lane;
    lane.buffer.push(r);
    lane.partitions.push(partition);
    lane.bytes += recordBytes(r);
    return lane;
  }

  /** Learns the partition counts of the waiting records' topics, then routes them. */
  private fetchWaiting(): void {
    if (this.fetching !== undefined || this.error !== undefined) return;
    const unknown = [...new Set(this.waiting.map((r) => r.topic))].filter((t) => !this.topics.has(t));
    this.fetching = this.fetchPartitionCounts(unknown).then(
      () => {
        this.fetching = undefined;
        const list = this.waiting;
        this.waiting = [];
        let i = 0;
        for (; i < list.length; i++) {
          const r = list[i] as KafkaOutputRecord;
          if (!this.topics.has(r.topic)) break;
          this.route(r);
        }
        if (i < list.length) {
          this.waiting = list.slice(i);
          this.fetchWaiting();
        }
        this.pump(true);
        this.progress();
      },
      (e: unknown) => {
        this.fetching = undefined;
        this.error ??= new Error(`KafkaSink: cannot read the metadata of ${unknown.join(', ')}: ${(e as Error).message}`, { cause: e });
        this.progress();
        this.notifyAvailable();
      },
    );
  }

  /**
   * Sends the next request of every idle lane: full batches, or any remainder when `partial`
   * (linger elapsed, flush).
   */
  private pump(partial: boolean): void {
    if (this.linger !== undefined) {
      clearTimeout(this.linger);
      this.linger = undefined;
    }
    let remainder = false;
    for (const lane of this.lanes) {
      if (lane.busy || lane.head === lane.buffer.length || this.error !== undefined) continue;
      if (!partial && lane.bytes < this.batchBytes) {
        remainder = true;
        continue;
      }
      this.send(lane);
    }
    if (remainder && this.linger === undefined && this.error === undefined) this.linger = setTimeout(this.onLinger, this.lingerMs);
  }

  private send(lane: Lane): void {
    const { batch, count, bytes } = laneRequest(lane, this.batchBytes);
    this.bufferedBytes -= bytes;
    this.inFlightBytes += bytes;
    this.inFlight++;
    lane.busy = true;
    lane.producer.sendBatch({ topicMessages: batch, acks: -1 }).then(
      () => {
        this.sink.counters.recordsDelivered += count;
        this.completed(lane, bytes);
      },
      (e: unknown) => {
        this.error ??= new Error(`KafkaSink: sending failed: ${(e as Error).message}`, { cause: e });
        this.completed(lane, bytes);
      },
    );
  }

  private completed(lane: Lane, bytes: number): void {
    lane.busy = false;
    this.inFlight--;
    this.inFlightBytes -= bytes;
    if (this.error === undefined && lane.head < lane.buffer.length) {
      if (lane.bytes >= this.batchBytes || this.linger === undefined) this.send(lane);
    }
    this.notifyAvailable();
    this.progress();
  }

  private progress(): void {
    const ws = this.progressWaiters;
    this.progressWaiters = [];
    for (const w of ws) w();
  }

  private notifyAvailable(): void {
    if (!this.isAvailable()) return;
    const ws = this.availableWaiters;
    this.availableWaiters = [];
    for (const w of ws) w();
  }

  isAvailable(): boolean {
    return this.error !== undefined || this.bufferedBytes + this.inFlightBytes < this.maxBytes;
  }

  whenAvailable(): Promise<void> {
    this.pump(false);
    if (this.isAvailable()) return Promise.resolve();
    return new Promise((resolve) => this.availableWaiters.push(resolve));
  }

  private pendingWork(): boolean {
    if (this.inFlight > 0 || this.waiting.length > 0) return true;
    for (const lane of this.lanes) if (lane.head < lane.buffer.length) return true;
    return false;
  }

  /** Sends everything buffered and waits until every request is acknowledged (or one failed). */
  async flush(_endOfInput: boolean): Promise<void> {
    while (this.error === undefined && this.pendingWork()) {
      this.pump(true);
      await new Promise<void>((resolve) => this.progressWaiters.push(resolve));
    }
    if (this.error !== undefined) throw this.error;
  }

  async close(): Promise<void> {
    if (this.linger !== undefined) clearTimeout(this.linger);
    this.notifyAvailable();
    await Promise.all(this.lanes.map((l) => l.producer.disconnect().catch(() => {})));
    await this.admin?.disconnect().catch(() => {});
    await this.serde.close?.();
  }
}

/**
 * Exactly-once: buffers records; the barrier cuts them into a committable (write-ahead). The
 * runtime carries a committable into later checkpoints until it is committed (an aborted
 * checkpoint loses nothing), and the committer skips what it has committed already.
 */
class ExactlyOnceWriter<T> extends EncodingWriter<T> implements TwoPhaseCommittingSinkWriter<T, KafkaCommittable> {
  private records: KafkaOutputRecord[] = [];

  write(value: T, timestamp: number | null): void {
    this.records.push(this.encode(value, timestamp));
  }

  prepareCommit(checkpointId: number): KafkaCommittable[] {
    const c: KafkaCommittable = {
      transactionalIdPrefix: this.sink.options.transactionalIdPrefix as string,
      attemptId: this.ctx.attemptId,
      subtask: this.ctx.taskInfo.subtaskIndex,
      parallelism: this.ctx.taskInfo.parallelism,
      checkpointId,
      records: this.records,
    };
    this.records = [];
    // Returned even when empty: a restore learns the parallelism (which transactional ids to fence).
    return [c];
  }

  async close(): Promise<void> {
    await this.serde.close?.();
  }
}

/** Commits committables in Kafka transactions, each with its marker. */
class KafkaCommitter implements Committer<KafkaCommittable> {
  private readonly kafka: Kafka;
  private readonly prefix: string;
  private producer: Producer | undefined;
  private admin: Admin | undefined;
  private markerTopicReady = false;
  /** Transactional ids this committer fenced (by subtask index). */
  private readonly fenced = new Set<number>();
  private markersLoaded = false;
  private queue: Promise<void> = Promise.resolve();
  private readonly txTimeout: number;
  private readonly batchBytes: number;
  private readonly retryTimeoutMs: number;

  constructor(
    private readonly sink: KafkaSink<unknown>,
    private readonly ctx: SinkWriterContext,
  ) {
    this.kafka = createKafka(sink.options as KafkaConnectionOptions, `committer-${ctx.taskInfo.subtaskIndex}`);
    this.prefix = sink.options.transactionalIdPrefix as string;
    this.txTimeout = sink.options.transactionTimeoutMs ?? 60_000;
    this.batchBytes = sink.options.batchBytes ?? 512 * 1024;
    this.retryTimeoutMs = sink.options.commitRetryTimeoutMs ?? 120_000;
  }

  private transactionalId(subtask: number): string {
    return `${this.prefix}-${subtask}`;
  }

  /**
   * Subtask 0 aborts what crashed runs left: it initializes the transactional id of every subtask
   * before any of them commits (the job's tasks open before anything runs).
   */
  async init(): Promise<void> {
    if (this.ctx.taskInfo.subtaskIndex !== 0) return;
    await this.ensureMarkerTopic();
    await this.fenceUpTo(this.ctx.taskInfo.parallelism);
  }

  private async fenceUpTo(parallelism: number): Promise<void> {
    const todo: number[] = [];
    for (let i = 0; i < parallelism; i++) if (!this.fenced.has(i)) todo.push(i);
    // A few at a time: each is a round trip to the transaction coordinator (and an abort).
    for (let k = 0; k < todo.length; k += 8) {
      await Promise.all(
        todo.slice(k, k + 8).map(async (i) => {
          const p = this.kafka.producer({
            transactionalId: this.transactionalId(i),
            maxInFlightRequests: 1,
            idempotent: true,
            transactionTimeout: this.txTimeout,
            allowAutoTopicCreation: false,
            createPartitioner: Partitioners.DefaultPartitioner,
            retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 2_000 },
          });
          try {
            await p.connect();
            const tx = await p.transaction(); // InitProducerId: bumps the epoch, aborts an open transaction
            await tx.abort(); // nothing was added: no request
          } finally {
            await p.disconnect().catch(() => {});
          }
          this.fenced.add(i);
          this.sink.counters.transactionsFenced++;
        }),
      );
    }
  }

  private async getAdmin(): Promise<Admin> {
    if (this.admin === undefined) {
      this.admin = this.kafka.admin();
      await this.admin.connect();
    }
    return this.admin;
  }

  private async ensureMarkerTopic(): Promise<void> {
    if (this.markerTopicReady) return;
    const admin = await this.getAdmin();
    const topic = this.sink.markerTopic;
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) {
      try {
        await admin.createTopics({
          waitForLeaders: true,
          topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
        });
      } catch (e) {
        if (!/already exists/i.test((e as Error).message)) throw e;
      }
    }
    this.markerTopicReady = true;
  }

  /**
   * Reads every committed marker of the marker topic into the sink's registry. Called after
   * fencing, so none of this job's transactions is still open; waits until the last stable offset
   * reaches the high watermark (another job's open transaction would hide later markers).
   */
  private async loadMarkers(): Promise<void> {
    await this.ensureMarkerTopic();
    const topic = this.sink.markerTopic;
    const ru = createInternalCluster(this.kafka, 'read_uncommitted');
    const rc = createInternalCluster(this.kafka, 'read_committed');
    if (ru === undefined || rc === undefined) throw new Error('KafkaSink: this kafkajs version does not expose its cluster (pin kafkajs 2.2.4)');
    let end: number;
    try {
      const deadline = Date.now() + this.txTimeout + 15_000;
      for (;;) {
        const hw = (await endOffsets(ru, topic, [0])).get(0) ?? 0;
        const lso = (await endOffsets(rc, topic, [0])).get(0) ?? 0;
        if (lso >= hw) {
          end = lso;
          break;
        }
        if (Date.now() > deadline) throw new Error(`KafkaSink: the marker topic ${topic} has an open transaction that does not end (LSO ${lso} < HW ${hw})`);
        await sleep(200);
      }
    } finally {
      await ru.disconnect().catch(() => {});
      await rc.disconnect().catch(() => {});
    }
    await readTopicToEnd(
      this.kafka,
      topic,
      new Map([[0, end]]),
      {
        groupId: `${this.prefix}.weir-marker-reader.${Math.random().toString(36).slice(2, 10)}`,
        maxWaitTimeInMs: 200,
        timeoutMs: 60_000,
        what: `KafkaSink: reading the marker topic ${topic}`,
      },
      (_partition, _offset, m) => {
        if (m.key === null || m.value === null) return;
        try {
          const cp = (JSON.parse(m.value.toString('utf8')) as { checkpointId: number }).checkpointId;
          const key = m.key.toString('utf8');
          if ((this.sink.committed.get(key) ?? 0) < cp) this.sink.committed.set(key, cp);
        } catch {
          // Not a marker of ours.
        }
      },
    );
    this.markersLoaded = true;
  }

  private async getProducer(): Promise<Producer> {
    if (this.producer === undefined) {
      await this.ensureMarkerTopic();
      const p = this.kafka.producer({
        transactionalId: this.transactionalId(this.ctx.taskInfo.subtaskIndex),
        maxInFlightRequests: 1,
        idempotent: true,
        transactionTimeout: this.txTimeout,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 50, maxRetryTime: 2_000 },
      });
      await p.connect();
      this.producer = p;
    }
    return this.producer;
  }

  /**
   * Commits in order, one call at a time: the runtime may notify checkpoint n+1 while n still
   * commits, and one transactional producer runs one transaction at a time.
   */
  commit(committables: readonly KafkaCommittable[]): Promise<void> {
    const run = this.queue.then(() => this.commitNow(committables));
    this.queue = run.catch(() => {});
    return run;
  }

  private async commitNow(committables: readonly KafkaCommittable[]): Promise<void> {
    const list = [...committables].sort((a, b) => a.checkpointId - b.checkpointId || a.subtask - b.subtask);
    // Restored committables (empty ones too) tell the parallelism of the crashed attempt: abort
    // whatever any of its subtasks left open before asking the markers anything.
    let restoredParallelism = 0;
    for (const c of list) if (c.attemptId !== this.ctx.attemptId) restoredParallelism = Math.max(restoredParallelism, c.parallelism);
    if (restoredParallelism > 0) await this.fenceUpTo(Math.max(restoredParallelism, this.ctx.taskInfo.parallelism));
    for (const c of list) {
      if (c.records.length === 0 || this.sink.isCommitted(c)) continue;
      if (c.attemptId !== this.ctx.attemptId) {
        // A restored committable: ask the markers whether its transaction committed before the crash.
        if (!this.markersLoaded) await this.loadMarkers();
        if (this.sink.isCommitted(c)) {
          this.sink.counters.commitsSkipped++;
          continue;
        }
        this.sink.counters.commitsRecovered++;
      }
      await this.commitOne(c);
      this.sink.committed.set(markerKey(c), c.checkpointId);
    }
  }

  /**
   * Commits one committable, riding out a broker that is away for a while (restart, leader
   * move): after a transient failure the producer is dropped, a new one re-initializes the
   * transactional id (which aborts the failed transaction, if still open), and the markers say
   * whether the failed attempt had committed after all (a lost commit response); if not, the
   * transaction is written again. Fencing errors (another process took over the transactional id)
   * are not retried: the job fails.
   */
  private async commitOne(c: KafkaCommittable): Promise<void> {
    const deadline = Date.now() + this.retryTimeoutMs;
    let wait = 250;
    for (;;) {
      try {
        await this.transact(c);
        return;
      } catch (e) {
        if (!isTransient(e) || Date.now() > deadline) throw e;
      }
      for (;;) {
        await this.resetProducer();
        await sleep(wait);
        wait = Math.min(wait * 2, 4_000);
        try {
          const p = await this.getProducer();
          const tx = await p.transaction(); // re-initializes the transactional id: fences, aborts
          await tx.abort();
          await this.loadMarkers();
          break;
        } catch (e) {
          if (!isTransient(e) || Date.now() > deadline) throw e;
        }
      }
      if (this.sink.isCommitted(c)) return;
    }
  }

  private async resetProducer(): Promise<void> {
    const p = this.producer;
    this.producer = undefined;
    await p?.disconnect().catch(() => {});
  }

  /** One transaction: the records, then the marker, then commit — the single commit point. */
  private async transact(c: KafkaCommittable): Promise<void> {
    const producer = await this.getProducer();
    const tx = await producer.transaction();
    try {
      for (let i = 0; i < c.records.length; ) {
        const { batch, next } = toTopicMessages(c.records, i, this.batchBytes);
        await tx.sendBatch({ topicMessages: batch, acks: -1 });
        i = next;
      }
      await tx.send({
        topic: this.sink.markerTopic,
        acks: -1,
        messages: [
          {
            key: markerKey(c),
            partition: 0,
            value: JSON.stringify({ checkpointId: c.checkpointId, records: c.records.length, committedAt: Date.now(), by: this.ctx.attemptId }),
          },
        ],
      });
      await tx.commit();
    } catch (e) {
      if (tx.isActive()) await tx.abort().catch(() => {});
      throw new Error(`KafkaSink: the transaction of checkpoint ${c.checkpointId} (subtask ${c.subtask}) failed: ${(e as Error).message}`, { cause: e });
    }
    this.sink.counters.transactionsCommitted++;
    this.sink.counters.recordsDelivered += c.records.length;
  }

  async close(): Promise<void> {
    await this.producer?.disconnect().catch(() => {});
    await this.admin?.disconnect().catch(() => {});
  }
}

// ---- committable serde: a compact binary encoding (the records are in every checkpoint) ----

class ByteWriter {
  buf = Buffer.allocUnsafe(4096);
  pos = 0;
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const b = Buffer.allocUnsafe(size);
    this.buf.copy(b, 0, 0, this.pos);
    this.buf = b;
  }
  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v, this.pos);
    this.pos += 4;
  }
  f64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }
  /** Length-prefixed bytes; null as 0xffffffff. */
  bytes(b: Uint8Array | null): void {
    if (b === null) {
      this.u32(0xffffffff);
      return;
    }
    this.u32(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  str(s: string): void {
    this.bytes(Buffer.from(s, 'utf8'));
  }
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

class ByteReader {
  private pos = 0;
  private readonly buf: Buffer;
  constructor(bytes: Uint8Array) {
    this.buf = toBuffer(bytes);
  }
  u32(): number {
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  f64(): number {
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
  bytes(): Buffer | null {
    const n = this.u32();
    if (n === 0xffffffff) return null;
    if (this.pos + n > this.buf.length) throw new RangeError('truncated Kafka committable');
    // A copy: the checkpoint's buffer is not ours to keep.
    const b = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return b;
  }
  str(): string {
    return (this.bytes() as Buffer).toString('utf8');
  }
}

const MAGIC = 0x314b4357; // 'WCK1'

/**
 * Serializes {@link KafkaCommittable}s (binary; records with topics, keys, values, timestamps and
 * headers).
 * @public
 */
export const committableSerde: Serde<KafkaCommittable> = {
  serialize(c: KafkaCommittable): Uint8Array {
    const w = new ByteWriter();
    w.u32(MAGIC);
    w.str(JSON.stringify({ p: c.transactionalIdPrefix, a: c.attemptId, s: c.subtask, n: c.parallelism, c: c.checkpointId }));
    const topics = new Map<string, number>();
    for (const r of c.records) if (!topics.has(r.topic)) topics.set(r.topic, topics.size);
    w.u32(topics.size);
    for (const t of topics.keys()) w.str(t);
    w.u32(c.records.length);
    for (const r of c.records) {
      w.u32(topics.get(r.topic) as number);
      w.bytes(r.key);
      w.bytes(r.value);
      w.f64(r.timestamp ?? Number.NaN);
      const h = r.headers === undefined ? undefined : Object.entries(r.headers);
      w.u32(h === undefined ? 0xffffffff : h.length);
      if (h !== undefined) {
        for (const [k, v] of h) {
          w.str(k);
          w.bytes(v);
        }
      }
    }
    return w.finish();
  },
  deserialize(bytes: Uint8Array): KafkaCommittable {
    const r = new ByteReader(bytes);
    if (r.u32() !== MAGIC) throw new RangeError('not a Kafka committable');
    const head = JSON.parse(r.str()) as { p: string; a: string; s: number; n: number; c: number };
    const topics: string[] = [];
    const nt = r.u32();
    for (let i = 0; i < nt; i++) topics.push(r.str());
    const n = r.u32();
    const records: KafkaOutputRecord[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const topic = topics[r.u32()] as string;
      const key = r.bytes();
      const value = r.bytes();
      const ts = r.f64();
      const nh = r.u32();
      let headers: Record<string, Buffer> | undefined;
      if (nh !== 0xffffffff) {
        headers = {};
        for (let j = 0; j < nh; j++) {
          const k = r.str();
          headers[k] = r.bytes() ?? Buffer.alloc(0);
        }
      }
      records[i] = { topic, key, value, timestamp: Number.isNaN(ts) ? undefined : ts, headers };
    }
    return { transactionalIdPrefix: head.p, attemptId: head.a, subtask: head.s, parallelism: head.n, checkpointId: head.c, records };
  },
};
