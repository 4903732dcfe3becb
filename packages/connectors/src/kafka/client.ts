import kafkajs from 'kafkajs';
import type { Cluster, Kafka, KafkaConfig, KafkaMessage, logCreator, LogEntry } from 'kafkajs';
import { fixKafkajsReadCommitted } from './kafkajs-fixes.js';

const { Kafka: KafkaClass, logLevel } = kafkajs;

/**
 * Connection settings shared by the Kafka source and sink.
 * @public
 */
export interface KafkaConnectionOptions {
  /** Bootstrap brokers: `['host:9092', ...]` or `'host:9092,host2:9092'`. */
  readonly brokers: readonly string[] | string;
  /** Client id reported to the brokers (default `weir`). */
  readonly clientId?: string;
  /**
   * Extra kafkajs client settings (ssl, sasl, timeouts, retry, socketFactory...). `brokers` and
   * `clientId` above take precedence.
   */
  readonly kafkaConfig?: Omit<KafkaConfig, 'brokers' | 'clientId'>;
  /**
   * kafkajs log level: `'nothing'` (default: errors reach Weir as exceptions), `'error'`,
   * `'warn'`, `'info'` or `'debug'`. Logs go to `console.error`.
   */
  readonly logLevel?: 'nothing' | 'error' | 'warn' | 'info' | 'debug';
}

/** Parses a brokers option. @internal */
export function parseBrokers(brokers: readonly string[] | string): string[] {
  const list = (typeof brokers === 'string' ? brokers.split(',') : [...brokers]).map((b) => b.trim()).filter((b) => b.length > 0);
  if (list.length === 0) throw new RangeError('brokers must name at least one host:port');
  return list;
}

const LEVELS = { nothing: 0, error: 1, warn: 2, info: 4, debug: 5 } as const;

const consoleLogCreator: logCreator = () => (entry: LogEntry) => {
  const { namespace, log } = entry;
  const { message, timestamp: _t, logger: _l, ...rest } = log;
  const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
  console.error(`[kafkajs${namespace ? ` ${namespace}` : ''}] ${message}${extra}`);
};

/** Creates a kafkajs client. @internal */
export function createKafka(opts: KafkaConnectionOptions, role: string): Kafka {
  // Without it, read_committed consumers may deliver records of aborted transactions.
  if (!fixKafkajsReadCommitted()) {
    throw new Error('kafkajs internals not found: @weir/connectors needs kafkajs 2.2.4 (its read_committed fix patches them)');
  }
  const level = LEVELS[opts.logLevel ?? 'nothing'];
  return new KafkaClass({
    retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 5_000 },
    ...opts.kafkaConfig,
    brokers: parseBrokers(opts.brokers),
    clientId: `${opts.clientId ?? 'weir'}-${role}`,
    logLevel: level as number as (typeof logLevel)[keyof typeof logLevel],
    logCreator: opts.kafkaConfig?.logCreator ?? consoleLogCreator,
  });
}

/**
 * kafkajs has no public API for two things Weir needs: committing a group's offsets without
 * being a member of it (Flink's "commit offsets for monitoring"), and reading the high watermark
 * with read_uncommitted isolation. Both use kafkajs's own cluster object, which the `Kafka`
 * instance creates through a private symbol. kafkajs is pinned to 2.2.4 (unmaintained; this
 * internal has not changed since 1.x); should it ever be missing, the callers degrade (offset
 * commits are for monitoring only).
 * @internal
 */
export function createInternalCluster(kafka: Kafka, isolation: 'read_committed' | 'read_uncommitted'): Cluster | undefined {
  const sym = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  if (sym === undefined) return undefined;
  const create = (kafka as unknown as Record<symbol, unknown>)[sym];
  if (typeof create !== 'function') return undefined;
  return (create as (o: object) => Cluster)({ isolationLevel: isolation === 'read_committed' ? 1 : 0, allowAutoTopicCreation: false });
}

/**
 * Commits `offsets` (next offsets to read) for `groupId` as a client outside the group
 * (generation -1, no member id), as Kafka's Java consumer does for manually assigned partitions.
 * Fails when the group has active members.
 * @internal
 */
export async function commitGroupOffsets(
  cluster: Cluster,
  groupId: string,
  offsets: ReadonlyArray<{ topic: string; partition: number; offset: number }>,
): Promise<void> {
  if (offsets.length === 0) return;
  if (!cluster.isConnected()) await cluster.connect();
  const byTopic = new Map<string, Array<{ partition: number; offset: string }>>();
  for (const o of offsets) {
    let list = byTopic.get(o.topic);
    if (list === undefined) byTopic.set(o.topic, (list = []));
    list.push({ partition: o.partition, offset: String(o.offset) });
  }
  const coordinator = await cluster.findGroupCoordinator({ groupId });
  const res = (await coordinator.offsetCommit({
    groupId,
    groupGenerationId: -1,
    memberId: '',
    topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
  } as unknown as Parameters<typeof coordinator.offsetCommit>[0])) as unknown as {
    responses?: Array<{ partitions: Array<{ errorCode: number }> }>;
  };
  const failed = res.responses?.flatMap((r) => r.partitions).find((p) => p.errorCode !== 0);
  if (failed !== undefined) {
    throw Object.assign(new Error(`offset commit for group '${groupId}' failed with error code ${failed.errorCode}`), { code: failed.errorCode });
  }
}

/**
 * The end offsets of a topic's partitions with the given isolation: the high watermark
 * (read_uncommitted) or the last stable offset (read_committed).
 * @internal
 */
export async function endOffsets(cluster: Cluster, topic: string, partitions: readonly number[]): Promise<Map<number, number>> {
  if (!cluster.isConnected()) await cluster.connect();
  await cluster.addTargetTopic(topic);
  await cluster.refreshMetadataIfNecessary();
  const res = await cluster.fetchTopicsOffset([{ topic, fromBeginning: false, partitions: partitions.map((partition) => ({ partition })) }]);
  const out = new Map<number, number>();
  for (const t of res) for (const p of t.partitions) out.set(p.partition, Number(p.offset));
  return out;
}

/**
 * Reads `topic` from its beginning until every partition's position reaches its offset in `end`
 * (partitions not in `end`, or with end 0, count as read), through a consumer of its own group
 * `groupId` that commits nothing. `onMessage` gets every record below its partition's end, in
 * offset order per partition. Batches of only control records or aborted data move positions
 * too. Fails with `<what> timed out at <positions> of <ends>` after `timeoutMs`.
 * @internal
 */
export async function readTopicToEnd(
  kafka: Kafka,
  topic: string,
  end: ReadonlyMap<number, number>,
  options: { readonly groupId: string; readonly readUncommitted?: boolean; readonly maxWaitTimeInMs?: number; readonly timeoutMs: number; readonly what: string },
  onMessage: (partition: number, offset: number, message: KafkaMessage) => void,
): Promise<void> {
  const position = new Map<number, number>();
  const done = (): boolean => [...end].every(([p, e]) => e === 0 || (position.get(p) ?? 0) >= e);
  if (done()) return;
  const consumer = kafka.consumer({
    groupId: options.groupId,
    readUncommitted: options.readUncommitted === true,
    maxWaitTimeInMs: options.maxWaitTimeInMs ?? 100,
    allowAutoTopicCreation: false,
  });
  let finish!: () => void;
  const finished = new Promise<void>((r) => {
    finish = r;
  });
  const advance = (p: number, last: number): void => {
    if (last + 1 > (position.get(p) ?? 0)) position.set(p, last + 1);
    if (done()) finish();
  };
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
    const p = e.payload as { partition: number; lastOffset: string; batchSize: number };
    if (p.batchSize === 0) advance(p.partition, Number(p.lastOffset));
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const stop = end.get(batch.partition) ?? 0;
        for (const m of batch.messages) {
          const offset = Number(m.offset);
          if (offset < stop) onMessage(batch.partition, offset, m);
        }
        advance(batch.partition, Number(batch.lastOffset()));
      },
    });
    await Promise.race([
      finished,
      new Promise<void>((_, rej) => {
        timer = setTimeout(
          () => rej(new Error(`${options.what} timed out at ${JSON.stringify([...position])} of ${JSON.stringify([...end])}`)),
          options.timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => {});
  }
}

const RETRIABLE_CODES = new Set([7, 13, 14, 15, 16, 51]); // timeouts, coordinator loading/moving, concurrent transactions

/** Whether a kafkajs (or our own) error is worth retrying. @internal */
export function isRetriable(e: unknown): boolean {
  const err = e as { retriable?: boolean; code?: number; name?: string };
  return err?.retriable === true || (typeof err?.code === 'number' && RETRIABLE_CODES.has(err.code)) || err?.name === 'KafkaJSConnectionError';
}

/**
 * Runs `fn`, retrying retriable errors with a short backoff (kafkajs's admin does not retry every
 * request, e.g. an offset fetch while the group coordinator loads).
 * @internal
 */
export async function withRetries<R>(fn: () => Promise<R>, attempts = 20): Promise<R> {
  let wait = 100;
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= attempts || !isRetriable(e)) throw e;
      await sleep(wait);
      wait = Math.min(wait * 2, 2_000);
    }
  }
}

/** Sleeps `ms`. @internal */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Java's `String.hashCode`, for Flink-compatible split ownership. @internal */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}
