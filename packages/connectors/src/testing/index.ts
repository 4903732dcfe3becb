/**
 * Test utilities for jobs that write to Kafka: read a topic back to its end, as a
 * read_committed (or read_uncommitted) consumer sees it. For tests and tools, not for jobs.
 * @packageDocumentation
 */
import type { KafkaConnectionOptions } from '../kafka/client.js';
import { createInternalCluster, createKafka, endOffsets, readTopicToEnd } from '../kafka/client.js';

/**
 * Which records a reader sees: committed ones only, or also those of open and aborted transactions.
 * @public
 */
export type KafkaIsolation = 'read_committed' | 'read_uncommitted';

/**
 * A record read back by {@link readKafkaTopic}.
 * @public
 */
export interface KafkaTopicRecord {
  /** Partition of the record. */
  readonly partition: number;
  /** Offset of the record in its partition. */
  readonly offset: number;
  /** The key as UTF-8 text, or `null`. */
  readonly key: string | null;
  /** The value bytes, or `null` for a tombstone. */
  readonly value: Buffer | null;
  /** The record timestamp (ms). */
  readonly timestamp: number;
}

/**
 * Options of {@link readKafkaTopic}.
 * @public
 */
export interface ReadKafkaTopicOptions {
  /** `'read_committed'` (default): to the last stable offset, aborted transactions skipped. */
  readonly isolation?: KafkaIsolation;
  /** Fails the read when the end is not reached in this time (default 60 s). */
  readonly timeoutMs?: number;
}

/**
 * The end offset of every partition of `topic` as a consumer with `isolation` sees it: the last
 * stable offset for `'read_committed'` (the first offset of the oldest transaction still open, if
 * any: nothing after it is visible yet), the high watermark for `'read_uncommitted'`.
 * @param brokers - bootstrap brokers
 * @param topic - an existing topic
 * @param isolation - which end
 * @returns partition → end offset
 * @public
 */
export async function kafkaEndOffsets(brokers: KafkaConnectionOptions['brokers'], topic: string, isolation: KafkaIsolation): Promise<Map<number, number>> {
  const kafka = createKafka({ brokers }, 'test-reader');
  const admin = kafka.admin();
  await admin.connect();
  let partitions: number[];
  try {
    partitions = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions.map((p) => p.partitionId) ?? [];
  } finally {
    await admin.disconnect();
  }
  const cluster = createInternalCluster(kafka, isolation);
  if (cluster === undefined) throw new Error('kafkajs internals not found: @weir/connectors needs kafkajs 2.2.4');
  try {
    return await endOffsets(cluster, topic, partitions);
  } finally {
    await cluster.disconnect();
  }
}

/**
 * Reads `topic` from its beginning to its current end ({@link kafkaEndOffsets} with the same
 * isolation, taken when the read starts) through a consumer group of its own that commits
 * nothing. With `'read_committed'` (default) a transaction left open holds the end back, so the
 * read misses whatever follows it; compare with `'read_uncommitted'` to tell. Applies the kafkajs
 * read_committed fix.
 * @param brokers - bootstrap brokers
 * @param topic - an existing topic
 * @param options - isolation, timeout
 * @returns the records, in partition and offset order
 * @public
 */
export async function readKafkaTopic(
  brokers: KafkaConnectionOptions['brokers'],
  topic: string,
  options: ReadKafkaTopicOptions = {},
): Promise<KafkaTopicRecord[]> {
  const isolation = options.isolation ?? 'read_committed';
  const end = await kafkaEndOffsets(brokers, topic, isolation);
  const out: KafkaTopicRecord[] = [];
  await readTopicToEnd(
    createKafka({ brokers }, 'test-reader'),
    topic,
    end,
    {
      groupId: `weir-test-reader-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`,
      readUncommitted: isolation === 'read_uncommitted',
      timeoutMs: options.timeoutMs ?? 60_000,
      what: `reading ${topic}`,
    },
    (partition, offset, m) => {
      out.push({ partition, offset, key: m.key === null ? null : m.key.toString('utf8'), value: m.value, timestamp: Number(m.timestamp) });
    },
  );
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}
