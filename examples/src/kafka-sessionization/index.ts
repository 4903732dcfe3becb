/**
 * Sessionization from Kafka to Kafka, exactly once, as a job module for `weir run`:
 *
 * ```sh
 * node scripts/kafka-broker.mjs start            # or use your cluster: --brokers host:9092
 * npx weir run examples/dist/kafka-sessionization/index.js --brokers 127.0.0.1:9092 \
 *   --produce 20000 --bounded --checkpoint-dir /tmp/ks-chk --checkpoint-interval 2s
 * npx weir run examples/dist/kafka-sessionization/index.js ... --restore latest   # after a crash
 * ```
 *
 * Avro client events (Confluent wire format, schemas in an embedded registry directory) on the
 * events topic → {@link KafkaSource.withDeadLetters} (records that cannot be decoded go to the
 * dead-letter topic) → the sessionization pipeline of `../sessionization` (event time, session
 * windows with allowed lateness) → final sessions as JSON on the sessions topic. Both sinks are
 * exactly-once `KafkaSink`s: with checkpoints, a read_committed consumer sees every session and
 * every dead letter once, whatever crashes.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfluentAvroSerde,
  type DeadLetter,
  DeadLetterSplitter,
  deadLetterKafkaSink,
  EmbeddedSchemaRegistry,
  fixKafkajsReadCommitted,
  KafkaSink,
  KafkaSource,
} from '@weir/connectors';
import { defineJob, OutputTag, WatermarkStrategy } from '@weir/core';
import kafkajs from 'kafkajs';
import { type ClientEvent, SessionEventGenerator } from '../events.js';
import { buildSessionization } from '../sessionization/job.js';
import type { Session } from '../sessionization/Session.js';

const { Kafka, logLevel, Partitioners } = kafkajs;

/**
 * The Avro schema of a client event (the JSON events of `../events.ts`).
 * @public
 */
export const CLIENT_EVENT_SCHEMA = {
  type: 'record',
  name: 'ClientEvent',
  namespace: 'weir.examples',
  fields: [
    { name: 'event_id', type: 'string' },
    { name: 'event_type', type: 'string' },
    { name: 'timestamp_ms', type: 'long' },
    { name: 'user_id', type: 'string' },
    { name: 'session_id', type: 'string' },
    { name: 'content_id', type: 'string' },
    {
      name: 'device',
      type: {
        type: 'record',
        name: 'Device',
        fields: [
          { name: 'type', type: 'string' },
          { name: 'os', type: 'string' },
          { name: 'app_version', type: 'string' },
        ],
      },
    },
    {
      name: 'context',
      type: {
        type: 'record',
        name: 'Context',
        fields: [
          { name: 'page', type: 'string' },
          { name: 'row', type: 'string' },
          { name: 'position', type: 'int' },
          { name: 'algorithm', type: 'string' },
          { name: 'experiment_id', type: 'string' },
          { name: 'variant', type: 'string' },
        ],
      },
    },
    {
      name: 'content_metadata',
      type: [
        'null',
        {
          type: 'record',
          name: 'ContentMetadata',
          fields: [
            { name: 'genre', type: { type: 'array', items: 'string' } },
            { name: 'duration_sec', type: 'int' },
            { name: 'release_year', type: 'int' },
          ],
        },
      ],
      default: null,
    },
  ],
};

/** The event as the JSON line the sessionization pipeline parses (Avro's null optional → absent). */
function toLine(e: ClientEvent): string {
  return JSON.stringify(e, (_k, v: unknown) => (v === null ? undefined : v));
}

/**
 * Writes `count` generated events to `topic` in Avro, unless the topic has records already (so a
 * restored or re-run job does not produce them again). Malformed generated lines are written as
 * their raw bytes: they are not Avro and end in the dead-letter topic.
 */
async function produceEvents(brokers: string[], topic: string, serde: ConfluentAvroSerde<ClientEvent>, count: number, seed: number): Promise<void> {
  fixKafkajsReadCommitted();
  const kafka = new Kafka({ brokers, clientId: 'kafka-sessionization-producer', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    if (offsets.some((o) => Number(o.high) > 0)) return;
  } finally {
    await admin.disconnect();
  }
  await serde.open();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const generator = new SessionEventGenerator({ lines: count, seed, dirty: true });
    let batch: Array<{ key: string | null; value: Buffer }> = [];
    for (let l = generator.nextLine(); l !== undefined; l = generator.nextLine()) {
      const value = l.event === undefined ? Buffer.from(l.line, 'utf8') : Buffer.from(serde.serialize(l.event));
      batch.push({ key: l.event?.user_id ?? null, value });
      if (batch.length === 2_000) {
        await producer.send({ topic, acks: -1, messages: batch });
        batch = [];
      }
    }
    if (batch.length > 0) await producer.send({ topic, acks: -1, messages: batch });
  } finally {
    await producer.disconnect();
  }
}

/** Creates the topics that do not exist yet. */
async function ensureTopics(brokers: string[], topics: ReadonlyArray<{ topic: string; partitions: number }>): Promise<void> {
  const kafka = new Kafka({ brokers, clientId: 'kafka-sessionization-admin', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length > 0) {
      await admin.createTopics({ waitForLeaders: true, topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.partitions })) });
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * The job: `--brokers` (default `$KAFKA_BROKERS`), topics, registry directory, `--produce N`
 * generated events first (into an empty events topic), `--bounded` to stop at the end offsets.
 * @public
 */
export default defineJob({
  name: 'kafka-sessionization',
  description: 'Avro client events from Kafka → sessions (event-time session windows) → Kafka, exactly once, with a dead-letter topic',
  defaults: { checkpoint: { intervalMs: 2_000 } },
  options: {
    brokers: { description: 'Kafka bootstrap servers, comma-separated (default: $KAFKA_BROKERS)', default: '' },
    eventsTopic: { description: 'The Avro events topic', default: 'sessionization.events' },
    sessionsTopic: { description: 'The sessions topic (JSON, keyed by session key)', default: 'sessionization.sessions' },
    deadLetterTopic: { description: 'Where events that cannot be decoded go', default: 'sessionization.dead-letters' },
    partitions: { description: 'Partitions of the topics the job creates', default: 3, integer: true, min: 1 },
    registry: { description: 'Directory of the embedded schema registry', default: join(tmpdir(), 'weir-kafka-sessionization-registry') },
    groupId: { description: 'Consumer group the checkpointed offsets are committed to (monitoring)', default: 'kafka-sessionization' },
    transactionalIdPrefix: { description: 'Prefix of the sinks’ transactional ids (unique per job)', default: 'kafka-sessionization' },
    produce: { description: 'Generated events to write to the events topic first, when it is empty (0: none)', default: 0, integer: true, min: 0 },
    seed: { description: 'Seed of the generated events', default: 42, integer: true },
    bounded: { description: 'Stop at the events topic’s end offsets of the first start', default: false },
    gapMin: { description: 'Session gap in minutes', default: 30, min: 0 },
  },
  async build(env, o) {
    const brokerList = (o.brokers || process.env.KAFKA_BROKERS || '').split(',').filter((b) => b.length > 0);
    if (brokerList.length === 0) {
      throw new Error('kafka-sessionization needs --brokers host:port (or KAFKA_BROKERS); for a local broker run `node scripts/kafka-broker.mjs start`');
    }
    const brokers = brokerList.join(',');
    await ensureTopics(brokerList, [
      { topic: o.eventsTopic, partitions: o.partitions },
      { topic: o.sessionsTopic, partitions: o.partitions },
      { topic: o.deadLetterTopic, partitions: 1 },
    ]);
    const registry = new EmbeddedSchemaRegistry(o.registry);
    const subject = ConfluentAvroSerde.topicSubject(o.eventsTopic);
    if (o.produce > 0) {
      await produceEvents(brokerList, o.eventsTopic, ConfluentAvroSerde.forWriting<ClientEvent>({ registry, subject, schema: CLIENT_EVENT_SCHEMA }), o.produce, o.seed);
    }

    const source = KafkaSource.withDeadLetters<ClientEvent>({
      brokers,
      topics: o.eventsTopic,
      groupId: o.groupId,
      format: ConfluentAvroSerde.forReading<ClientEvent>({ registry, subject, schema: CLIENT_EVENT_SCHEMA }),
      ...(o.bounded ? { bounded: 'latest' as const } : {}),
    });
    const deadLetters = new OutputTag<DeadLetter>('kafka-dead-letters');
    const events = env
      .fromSource(source, WatermarkStrategy.noWatermarks(), 'Avro events')
      .uid('kafka-events')
      .process(new DeadLetterSplitter<ClientEvent>(deadLetters))
      .name('dead letters apart')
      .uid('dead-letter-splitter');
    events
      .getSideOutput(deadLetters)
      .sinkTo(
        deadLetterKafkaSink(
          o.deadLetterTopic,
          (c) => new KafkaSink<DeadLetter>({ brokers, semantic: 'exactly-once', transactionalIdPrefix: `${o.transactionalIdPrefix}-dlq`, ...c }),
        ),
        'dead-letter topic',
      )
      .uid('dead-letter-topic');
    const job = buildSessionization(events.map(toLine).name('to JSON').uid('to-json'), { gapMs: o.gapMin * 60_000 });
    job.sessions
      .sinkTo(
        new KafkaSink<Session>({
          brokers,
          topic: o.sessionsTopic,
          key: (s) => s.key,
          semantic: 'exactly-once',
          transactionalIdPrefix: `${o.transactionalIdPrefix}-sessions`,
        }),
        'sessions topic',
      )
      .uid('sessions-topic');
  },
});
