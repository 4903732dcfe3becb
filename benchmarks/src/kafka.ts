/**
 * Kafka connector throughput and latency against a real broker (scripts/kafka-broker.mjs, or
 * the cluster in KAFKA_BROKERS), each figure beside what raw kafkajs does with the same records:
 *
 *   source   KafkaSource → counting sink, beside a kafkajs consumer (eachBatch) that decodes
 *            every record with the same serde and counts: JSON and Avro, 200 B and 1 KiB values.
 *            Timed from the first record to the last (group join and shutdown excluded, alike).
 *   sink     fromSequence → map(event) → KafkaSink (at-least-once; exactly-once with 1 s
 *            checkpoints), beside a kafkajs producer that builds, encodes and sends the same
 *            records in produce requests of the sink's batch size. Timed from start to the last
 *            acknowledgement (exactly-once: to the commit of the final transaction).
 *   e2e      Kafka (JSON, 200 B) → keyBy(user) → running count per user in a ValueState →
 *            KafkaSink, at-least-once and exactly-once, 1 s checkpoints: throughput over a
 *            pre-filled topic (whole job, start to end).
 *   latency  the same pipeline, unbounded, in a child process, fed by a producer at `--rate`
 *            events/s whose events carry their produce time; a read_committed consumer of the
 *            output topic records visible time − produce time per output record: p50/p99/max.
 *
 * Every measured case runs in a fresh child process (clean JIT and heap): one warm-up run, then
 * `--reps` runs, median. With `--rounds K` the whole list of cases runs K times over (so a load
 * change hits every case alike); figures are medians over the rounds, and each ratio is the
 * median of the per-round ratios, with their range. Throughput is records per wall-clock second and per CPU-second of the
 * process (user + system, so kafkajs, GC and Weir count alike). The broker's CPU is not counted.
 *
 * Usage (after a build; from benchmarks/):
 *   node --expose-gc dist/kafka.js [--part source|sink|e2e|latency ...] [--case NAME ...]
 *        [--records 1000000] [--reps 3] [--rounds 1] [--rate 10000] [--seconds 20] [--quick] [--json]
 * `--records` is the count of 200 B records the source cases read; 1 KiB cases use a fifth of it,
 * sink and end-to-end cases a fifth of those. `--quick`: 100,000 records, 1 repetition, 8 s of
 * latency. Without KAFKA_BROKERS a broker is started from
 * scripts/kafka-broker.mjs in a temporary directory and stopped at the end.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfluentAvroSerde, EmbeddedSchemaRegistry, fixKafkajsReadCommitted, type KafkaDeliverySemantic, KafkaSink, KafkaSource } from '@weir/connectors';
import {
  type Collector,
  jsonSerde,
  type KeyedProcessContext,
  type KeyedProcessFunction,
  type RuntimeContext,
  type Serde,
  type Sink,
  type SinkWriter,
  StreamEnvironment,
  type ValueState,
  ValueStateDescriptor,
  WatermarkStrategy,
} from '@weir/core';
import kafkajs from 'kafkajs';
import type { Admin, Kafka, Message } from 'kafkajs';

const { Kafka: KafkaClient, logLevel, Partitioners } = kafkajs;

// ---------------------------------------------------------------------------------------------
// Records.

/** The benchmark's event. `pad` sizes the encoded value. */
interface Event {
  readonly id: number;
  readonly user: string;
  readonly kind: string;
  /** Produce time (epoch ms) for latency; the sequence number otherwise. */
  readonly ts: number;
  readonly pad: string;
}

/** What the keyed pipeline writes. */
interface Counted {
  readonly user: string;
  readonly n: number;
  readonly ts: number;
}

const EVENT_SCHEMA = {
  type: 'record',
  name: 'BenchEvent',
  namespace: 'weir.bench',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'user', type: 'string' },
    { name: 'kind', type: 'string' },
    { name: 'ts', type: 'long' },
    { name: 'pad', type: 'string' },
  ],
};

type Format = 'json' | 'avro';
const USERS = 1_000;
const KINDS = ['view', 'click', 'play', 'pause', 'stop'];
const PARTITIONS = 4;
const BATCH_BYTES = 512 * 1024;

/** Pads (per format and size) that bring the encoded value to the target size. */
function padFor(format: Format, size: number, serde: Serde<Event>): string {
  const probe = (n: number): number => serde.serialize({ id: 123_456, user: 'user-123', kind: 'click', ts: 1_700_000_000_000, pad: 'x'.repeat(n) }).length;
  const base = probe(0);
  return 'x'.repeat(Math.max(0, size - base - (format === 'avro' ? 1 : 0)));
}

function makeEvent(i: number, pad: string, ts: number): Event {
  return { id: i, user: `user-${i % USERS}`, kind: KINDS[i % 5] as string, ts, pad };
}

/** The value serde of a format (Avro: Confluent wire format, schema in an embedded registry). */
async function serdeFor(format: Format, registryDir: string, topicSubject: string, role: 'read' | 'write'): Promise<Serde<Event>> {
  if (format === 'json') return jsonSerde<Event>();
  const registry = new EmbeddedSchemaRegistry(registryDir);
  const s =
    role === 'write'
      ? ConfluentAvroSerde.forWriting<Event>({ registry, subject: topicSubject, schema: EVENT_SCHEMA })
      : ConfluentAvroSerde.forReading<Event>({ registry, subject: topicSubject, schema: EVENT_SCHEMA });
  await s.open();
  return s;
}

const SUBJECT = 'weir-bench-events-value';

// ---------------------------------------------------------------------------------------------
// Kafka helpers.

function client(brokers: string, id: string): Kafka {
  fixKafkajsReadCommitted();
  return new KafkaClient({ brokers: brokers.split(','), clientId: id, logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
}

async function withAdmin<R>(brokers: string, fn: (a: Admin) => Promise<R>): Promise<R> {
  const admin = client(brokers, 'bench-admin').admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Creates a topic and waits until the broker serves all its partitions (a loaded broker may lag). */
async function createTopic(brokers: string, topic: string, partitions = PARTITIONS): Promise<void> {
  await withAdmin(brokers, async (a) => {
    await a.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] });
    for (let i = 0; i < 100; i++) {
      const ready = await a
        .fetchTopicOffsets(topic)
        .then((o) => o.length === partitions)
        .catch(() => false);
      if (ready) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`topic ${topic} is not served after 10 s`);
  });
}

async function deleteTopics(brokers: string, topics: string[]): Promise<void> {
  if (topics.length === 0) return;
  await withAdmin(brokers, (a) => a.deleteTopics({ topics, timeout: 30_000 })).catch(() => {});
}

/**
 * Sum of the partitions' end offsets once it reaches `atLeast` (or after 60 s): a transaction's
 * commit markers reach the partitions shortly after the commit returns, and a loaded broker may
 * take a while.
 */
async function endOffsetSum(brokers: string, topic: string, atLeast: number): Promise<number> {
  return withAdmin(brokers, async (a) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const sum = (await a.fetchTopicOffsets(topic)).reduce((s, p) => s + Number(p.offset), 0);
      if (sum >= atLeast || Date.now() > deadline) return sum;
      await new Promise((r) => setTimeout(r, 200));
    }
  });
}

/**
 * The raw kafkajs producer: builds `count` events, encodes them, sends them keyed by user in
 * produce requests of about `BATCH_BYTES` with up to `inFlight` requests pending (kafkajs's
 * idempotent producer sends one request per broker at a time; the next one is encoded meanwhile).
 */
async function rawProduce(brokers: string, topic: string, count: number, serde: Serde<Event>, pad: string, tsOf: (i: number) => number, inFlight = 4): Promise<void> {
  const producer = client(brokers, 'bench-raw-producer').producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  try {
    const pending = new Set<Promise<unknown>>();
    let messages: Message[] = [];
    let bytes = 0;
    const flush = async (): Promise<void> => {
      const p = producer.send({ topic, acks: -1, messages });
      messages = [];
      bytes = 0;
      pending.add(p);
      void p.finally(() => pending.delete(p)).catch(() => {});
      if (pending.size >= inFlight) await Promise.race(pending);
    };
    for (let i = 0; i < count; i++) {
      const e = makeEvent(i, pad, tsOf(i));
      const value = Buffer.from(serde.serialize(e));
      messages.push({ key: e.user, value });
      bytes += value.length + e.user.length + 70;
      if (bytes >= BATCH_BYTES) await flush();
    }
    if (messages.length > 0) await flush();
    await Promise.all(pending);
  } finally {
    await producer.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------
// Cases.

/** One measured run: records, wall and CPU time. */
interface Run {
  readonly records: number;
  readonly wallMs: number;
  readonly cpuMs: number;
}

/** Shared settings of a run, from the parent. */
interface Ctx {
  readonly brokers: string;
  readonly registryDir: string;
  readonly records200: number;
  readonly runId: string;
}

/** Times from the first record to the `expected`th, wall and CPU. */
class Stopwatch {
  count = 0;
  private t0 = 0;
  private c0: NodeJS.CpuUsage | undefined;
  result: Run | undefined;
  private done: (() => void) | undefined;
  readonly finished: Promise<void>;
  constructor(readonly expected: number) {
    this.finished = new Promise((r) => {
      this.done = r;
    });
  }
  /** Counts `n` records. */
  add(n: number): void {
    if (this.count === 0) {
      this.t0 = performance.now();
      this.c0 = process.cpuUsage();
    }
    this.count += n;
    if (this.count >= this.expected && this.result === undefined) {
      const cpu = process.cpuUsage(this.c0);
      this.result = { records: this.count, wallMs: performance.now() - this.t0, cpuMs: (cpu.user + cpu.system) / 1000 };
      this.done?.();
    }
  }
}

class StopwatchWriter<T> implements SinkWriter<T> {
  constructor(private readonly sw: Stopwatch) {}
  write(_value: T): void {
    this.sw.add(1);
  }
}

/** A sink that feeds a stopwatch. */
class StopwatchSink<T> implements Sink<T> {
  constructor(private readonly sw: Stopwatch) {}
  createWriter(): SinkWriter<T> {
    return new StopwatchWriter<T>(this.sw);
  }
}

function sourceTopic(ctx: Ctx, format: Format, size: number): string {
  return `bench-src-${format}-${size}-${ctx.runId}`;
}

function recordsFor(ctx: Ctx, size: number): number {
  return size >= 1024 ? Math.max(1, Math.floor(ctx.records200 / 5)) : ctx.records200;
}

/** Sink and end-to-end cases write a fifth of the source cases' records (producing is slower). */
function sinkRecordsFor(ctx: Ctx, size: number): number {
  return Math.max(1, Math.floor(recordsFor(ctx, size) / 5));
}

async function weirSource(ctx: Ctx, format: Format, size: number): Promise<Run> {
  const n = recordsFor(ctx, size);
  const sw = new Stopwatch(n);
  const env = StreamEnvironment.create({ parallelism: 1 });
  const source = new KafkaSource<Event>({
    brokers: ctx.brokers,
    topics: sourceTopic(ctx, format, size),
    groupId: `bench-weir-${Math.random().toString(36).slice(2)}`,
    bounded: 'latest',
    commitOffsetsOnCheckpoint: false,
    format: format === 'json' ? 'json' : await serdeFor(format, ctx.registryDir, SUBJECT, 'read'),
  });
  env.fromSource(source, WatermarkStrategy.noWatermarks(), 'kafka').sinkTo(new StopwatchSink<Event>(sw));
  await env.execute('bench kafka source');
  if (sw.result === undefined || sw.count !== n) throw new Error(`weir source read ${sw.count} records, expected ${n}`);
  return sw.result;
}

async function rawSource(ctx: Ctx, format: Format, size: number): Promise<Run> {
  const n = recordsFor(ctx, size);
  const serde = await serdeFor(format, ctx.registryDir, SUBJECT, 'read');
  const sw = new Stopwatch(n);
  const consumer = client(ctx.brokers, 'bench-raw-consumer').consumer({
    groupId: `bench-raw-${Math.random().toString(36).slice(2)}`,
    maxBytesPerPartition: 1024 * 1024,
    maxWaitTimeInMs: 250,
    allowAutoTopicCreation: false,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [sourceTopic(ctx, format, size)], fromBeginning: true });
  let sink = 0;
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        // The same work as the Weir case: decode, read the timestamp, count.
        const v = serde.deserialize(m.value as Buffer);
        sink += Number(m.timestamp) > 0 && v !== undefined ? 1 : 0;
      }
      sw.add(batch.messages.length);
    },
  });
  await sw.finished;
  await consumer.disconnect();
  if (sink !== n) throw new Error(`raw consumer decoded ${sink} records, expected ${n}`);
  return sw.result as Run;
}

async function weirSink(ctx: Ctx, format: Format, size: number, semantic: KafkaDeliverySemantic): Promise<Run> {
  const n = sinkRecordsFor(ctx, size);
  const topic = `bench-sink-${format}-${size}-${Math.random().toString(36).slice(2)}`;
  await createTopic(ctx.brokers, topic);
  const serde = await serdeFor(format, ctx.registryDir, SUBJECT, 'write');
  const pad = padFor(format, size, serde);
  const dir = mkdtempSync(join(tmpdir(), 'weir-bench-kafka-chk-'));
  try {
    const env = StreamEnvironment.create({ parallelism: 1, ...(semantic === 'exactly-once' ? { checkpoint: { dir, intervalMs: 1_000 } } : {}) });
    env
      .fromSequence(0, n - 1)
      .uid('seq')
      .map((i) => makeEvent(i, pad, i))
      .uid('event')
      .sinkTo(
        new KafkaSink<Event>({
          brokers: ctx.brokers,
          topic,
          key: (e) => e.user,
          format: format === 'json' ? 'json' : serde,
          semantic,
          ...(semantic === 'exactly-once' ? { transactionalIdPrefix: `bench-${Math.random().toString(36).slice(2)}` } : {}),
        }),
      )
      .uid('kafka');
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await env.execute('bench kafka sink');
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    const written = await endOffsetSum(ctx.brokers, topic, n);
    if (written < n) throw new Error(`KafkaSink wrote ${written} records, expected ${n}`);
    return { records: n, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await deleteTopics(ctx.brokers, [topic]);
  }
}

async function rawSink(ctx: Ctx, format: Format, size: number): Promise<Run> {
  const n = sinkRecordsFor(ctx, size);
  const topic = `bench-sink-${format}-${size}-${Math.random().toString(36).slice(2)}`;
  await createTopic(ctx.brokers, topic);
  const serde = await serdeFor(format, ctx.registryDir, SUBJECT, 'write');
  const pad = padFor(format, size, serde);
  try {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await rawProduce(ctx.brokers, topic, n, serde, pad, (i) => i);
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    const written = await endOffsetSum(ctx.brokers, topic, n);
    if (written < n) throw new Error(`the raw producer wrote ${written} records, expected ${n}`);
    return { records: n, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
  } finally {
    await deleteTopics(ctx.brokers, [topic]);
  }
}

/** The keyed step of the end-to-end pipeline: a running count per user. */
class CountPerUser implements KeyedProcessFunction<string, Event, Counted> {
  private count!: ValueState<number>;
  open(ctx: RuntimeContext): void {
    this.count = ctx.getState(new ValueStateDescriptor<number>('count'));
  }
  processElement(e: Event, _ctx: KeyedProcessContext<string>, out: Collector<Counted>): void {
    const n = (this.count.value() ?? 0) + 1;
    this.count.update(n);
    out.collect({ user: e.user, n, ts: e.ts });
  }
}

/** Kafka → keyBy(user) → CountPerUser → KafkaSink, 1 s checkpoints. */
function buildPipeline(env: StreamEnvironment, brokers: string, input: string, output: string, semantic: KafkaDeliverySemantic, bounded: boolean): void {
  env
    .fromSource(
      new KafkaSource<Event>({
        brokers,
        topics: input,
        groupId: `bench-e2e-${Math.random().toString(36).slice(2)}`,
        ...(bounded ? { bounded: 'latest' as const } : { startingOffsets: 'latest' as const, partitionDiscoveryIntervalMs: 0 }),
      }),
      WatermarkStrategy.noWatermarks(),
      'events',
    )
    .uid('events')
    .keyBy((e) => e.user)
    .process(new CountPerUser())
    .uid('count')
    .sinkTo(
      new KafkaSink<Counted>({
        brokers,
        topic: output,
        key: (c) => c.user,
        semantic,
        ...(semantic === 'exactly-once' ? { transactionalIdPrefix: `bench-e2e-${Math.random().toString(36).slice(2)}` } : {}),
      }),
    )
    .uid('out');
}

function e2eTopic(ctx: Ctx): string {
  return `bench-e2e-in-${ctx.runId}`;
}

async function e2eThroughput(ctx: Ctx, semantic: KafkaDeliverySemantic): Promise<Run> {
  const n = sinkRecordsFor(ctx, 200);
  const output = `bench-e2e-out-${Math.random().toString(36).slice(2)}`;
  await createTopic(ctx.brokers, output);
  const dir = mkdtempSync(join(tmpdir(), 'weir-bench-kafka-e2e-'));
  try {
    const env = StreamEnvironment.create({ parallelism: 1, checkpoint: { dir, intervalMs: 1_000 } });
    buildPipeline(env, ctx.brokers, e2eTopic(ctx), output, semantic, true);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await env.execute(`bench kafka e2e ${semantic}`);
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    const written = await endOffsetSum(ctx.brokers, output, n);
    if (written < n) throw new Error(`the pipeline wrote ${written} records, expected ${n}`);
    return { records: n, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await deleteTopics(ctx.brokers, [output]);
  }
}

/** Latency: the job runs here (child); the parent produces and measures. Never returns. */
async function latencyJob(brokers: string, input: string, output: string, semantic: KafkaDeliverySemantic): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'weir-bench-kafka-lat-'));
  const env = StreamEnvironment.create({ parallelism: 1, checkpoint: { dir, intervalMs: 1_000 } });
  buildPipeline(env, brokers, input, output, semantic, false);
  process.send?.({ started: true });
  await env.execute(`bench kafka latency ${semantic}`);
}

/** Latency figures of one run. */
interface LatencyResult {
  readonly semantic: KafkaDeliverySemantic;
  readonly rate: number;
  readonly seconds: number;
  readonly produced: number;
  readonly measured: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly load: readonly [number, number];
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

async function measureLatency(ctx: Ctx, semantic: KafkaDeliverySemantic, rate: number, seconds: number): Promise<LatencyResult> {
  const input = `bench-lat-in-${Math.random().toString(36).slice(2)}`;
  const output = `bench-lat-out-${Math.random().toString(36).slice(2)}`;
  await createTopic(ctx.brokers, input);
  await createTopic(ctx.brokers, output);
  const child = fork(fileURLToPath(import.meta.url), ['--latency-job', semantic, '--brokers', ctx.brokers, '--input', input, '--output', output], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const latencies: number[] = [];
  const warmupMs = 3_000;
  let measureFrom = Number.POSITIVE_INFINITY;
  const consumer = client(ctx.brokers, 'bench-latency-reader').consumer({
    groupId: `bench-lat-${Math.random().toString(36).slice(2)}`,
    maxWaitTimeInMs: 50,
    allowAutoTopicCreation: false,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [output], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      for (const m of batch.messages) {
        const ts = (JSON.parse((m.value as Buffer).toString('utf8')) as Counted).ts;
        if (ts >= measureFrom) latencies.push(now - ts);
      }
    },
  });
  // The job's consumer starts at 'latest': wait until it runs, plus a margin for its group join.
  await new Promise<void>((r) => child.once('message', () => r()));
  await new Promise((r) => setTimeout(r, 3_000));
  const load0 = loadavg()[0] as number;
  const producer = client(ctx.brokers, 'bench-latency-producer').producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  const serde = jsonSerde<Event>();
  const pad = padFor('json', 200, serde);
  const tickMs = 10;
  const start = Date.now();
  measureFrom = start + warmupMs;
  const end = start + warmupMs + seconds * 1000;
  let produced = 0;
  let lastMeasured = 0;
  while (Date.now() < end) {
    const due = Math.floor(((Date.now() - start) / 1000) * rate);
    const messages: Message[] = [];
    for (; produced < due; produced++) {
      const e = makeEvent(produced, pad, Date.now());
      messages.push({ key: e.user, value: Buffer.from(serde.serialize(e)) });
    }
    if (messages.length > 0) await producer.send({ topic: input, acks: -1, messages });
    if (Date.now() >= measureFrom) lastMeasured = produced;
    await new Promise((r) => setTimeout(r, tickMs));
  }
  await producer.disconnect();
  const measuredProduced = lastMeasured - Math.floor((warmupMs / 1000) * rate);
  // Let the last checkpoint (and its commit) make the tail visible.
  const waitUntil = Date.now() + 15_000;
  while (latencies.length < measuredProduced && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 200));
  const load1 = loadavg()[0] as number;
  child.kill('SIGKILL');
  await exited;
  await consumer.disconnect();
  await deleteTopics(ctx.brokers, [input, output]);
  const sorted = latencies.slice().sort((a, b) => a - b);
  return {
    semantic,
    rate,
    seconds,
    produced,
    measured: sorted.length,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    load: [load0, load1],
  };
}

// ---------------------------------------------------------------------------------------------
// Case registry and measurement.

const SIZES = [200, 1024] as const;
const FORMATS: readonly Format[] = ['json', 'avro'];

type Part = 'source' | 'sink' | 'e2e';

function caseNames(): Array<{ name: string; part: Part }> {
  const out: Array<{ name: string; part: Part }> = [];
  for (const f of FORMATS) for (const s of SIZES) for (const w of ['raw', 'weir']) out.push({ name: `source-${w}-${f}-${s}`, part: 'source' });
  for (const f of FORMATS) for (const s of SIZES) for (const w of ['raw', 'weir-alo', 'weir-eo']) out.push({ name: `sink-${w}-${f}-${s}`, part: 'sink' });
  out.push({ name: 'e2e-alo', part: 'e2e' }, { name: 'e2e-eo', part: 'e2e' });
  return out;
}

function runCase(name: string, ctx: Ctx): Promise<Run> {
  const parts = name.split('-');
  if (parts[0] === 'source') {
    const [, who, f, s] = parts as [string, string, Format, string];
    return who === 'raw' ? rawSource(ctx, f, Number(s)) : weirSource(ctx, f, Number(s));
  }
  if (parts[0] === 'sink') {
    const f = parts[parts.length - 2] as Format;
    const s = Number(parts[parts.length - 1]);
    const who = parts.slice(1, -2).join('-');
    if (who === 'raw') return rawSink(ctx, f, s);
    return weirSink(ctx, f, s, who === 'weir-eo' ? 'exactly-once' : 'at-least-once');
  }
  if (name === 'e2e-alo') return e2eThroughput(ctx, 'at-least-once');
  if (name === 'e2e-eo') return e2eThroughput(ctx, 'exactly-once');
  throw new Error(`unknown case ${name}`);
}

/** The figures of one case. */
export interface KafkaCaseResult {
  readonly name: string;
  readonly records: number;
  readonly reps: number;
  /** Median records per wall-clock second. */
  readonly recordsPerSec: number;
  /** Median records per CPU-second of the process. */
  readonly recordsPerCpuSec: number;
  /** Every measured run: [wall ms, cpu ms]. */
  readonly runs: ReadonlyArray<readonly [number, number]>;
  /** 1-minute load average before and after. */
  readonly load: readonly [number, number];
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

const gc = (globalThis as { gc?: () => void }).gc;

async function measure(name: string, ctx: Ctx, reps: number): Promise<KafkaCaseResult> {
  await runCase(name, ctx); // warm-up
  const load0 = loadavg()[0] as number;
  const runs: Run[] = [];
  for (let r = 0; r < reps; r++) {
    gc?.();
    runs.push(await runCase(name, ctx));
  }
  return {
    name,
    records: runs[0]?.records ?? 0,
    reps,
    recordsPerSec: median(runs.map((r) => r.records / (r.wallMs / 1000))),
    recordsPerCpuSec: median(runs.map((r) => r.records / (r.cpuMs / 1000))),
    runs: runs.map((r) => [Math.round(r.wallMs), Math.round(r.cpuMs)] as const),
    load: [load0, loadavg()[0] as number],
  };
}

function inChild<R>(args: string[]): Promise<R> {
  const execArgv = process.execArgv.includes('--expose-gc') ? process.execArgv : [...process.execArgv, '--expose-gc'];
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: R | undefined;
    child.on('message', (m) => {
      result = m as R;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0 && result !== undefined) resolve(result);
      else reject(new Error(`benchmark child ${args.join(' ')} exited with code ${code}`));
    });
  });
}

/** Fills the source topics (JSON and Avro, 200 B and 1 KiB) and the end-to-end input topic. */
async function prepare(ctx: Ctx, parts: ReadonlySet<Part>): Promise<string[]> {
  const topics: string[] = [];
  if (parts.has('source')) {
    for (const f of FORMATS) {
      for (const s of SIZES) {
        const topic = sourceTopic(ctx, f, s);
        await createTopic(ctx.brokers, topic);
        const serde = await serdeFor(f, ctx.registryDir, SUBJECT, 'write');
        await rawProduce(ctx.brokers, topic, recordsFor(ctx, s), serde, padFor(f, s, serde), (i) => i);
        topics.push(topic);
      }
    }
  }
  if (parts.has('e2e')) {
    const topic = e2eTopic(ctx);
    await createTopic(ctx.brokers, topic);
    const serde = jsonSerde<Event>();
    await rawProduce(ctx.brokers, topic, sinkRecordsFor(ctx, 200), serde, padFor('json', 200, serde), (i) => i);
    topics.push(topic);
  }
  return topics;
}

type BrokerModule = typeof import('../../scripts/kafka-broker.mjs');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      part: { type: 'string', multiple: true },
      case: { type: 'string', multiple: true },
      records: { type: 'string' },
      reps: { type: 'string' },
      rounds: { type: 'string' },
      rate: { type: 'string' },
      seconds: { type: 'string' },
      quick: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      // internal (child processes)
      child: { type: 'string' },
      ctx: { type: 'string' },
      'latency-job': { type: 'string' },
      brokers: { type: 'string' },
      input: { type: 'string' },
      output: { type: 'string' },
    },
  });
  if (values['latency-job'] !== undefined) {
    await latencyJob(values.brokers as string, values.input as string, values.output as string, values['latency-job'] as KafkaDeliverySemantic);
    return;
  }
  if (values.child !== undefined) {
    const ctx = JSON.parse(values.ctx as string) as Ctx & { reps: number };
    const r = await measure(values.child, ctx, ctx.reps);
    await new Promise<void>((resolve) => (process.send === undefined ? resolve() : process.send(r, undefined, {}, () => resolve())));
    return;
  }

  const quick = values.quick === true;
  const records200 = Number(values.records ?? (quick ? 100_000 : 1_000_000));
  const reps = Number(values.reps ?? (quick ? 1 : 3));
  const rounds = Number(values.rounds ?? 1);
  const rate = Number(values.rate ?? 10_000);
  const seconds = Number(values.seconds ?? (quick ? 8 : 20));
  const parts = new Set<Part | 'latency'>((values.part as Array<Part | 'latency'> | undefined) ?? ['source', 'sink', 'e2e', 'latency']);
  let cases = caseNames().filter((c) => parts.has(c.part));
  if (values.case !== undefined) cases = caseNames().filter((c) => (values.case as string[]).includes(c.name));
  const dataParts = new Set<Part>(cases.map((c) => c.part));

  let brokers = process.env.KAFKA_BROKERS?.trim() ?? '';
  let stop: (() => Promise<void>) | undefined;
  if (brokers === '') {
    const url = pathToFileURL(fileURLToPath(new URL('../../scripts/kafka-broker.mjs', import.meta.url))).href;
    const broker = (await import(url)) as BrokerModule;
    const dir = mkdtempSync(join(tmpdir(), 'weir-bench-kafka-broker-'));
    const st = await broker.startBroker({ dir, fresh: true });
    brokers = st.brokers;
    process.stderr.write(`[bench] started Kafka ${st.version} at ${brokers}\n`);
    stop = async () => {
      await broker.stopBroker({ dir, clean: true });
      rmSync(dir, { recursive: true, force: true });
    };
  }
  const registryDir = mkdtempSync(join(tmpdir(), 'weir-bench-kafka-registry-'));
  const ctx: Ctx = { brokers, registryDir, records200, runId: Math.random().toString(36).slice(2, 8) };
  const results: KafkaCaseResult[] = [];
  const byCase = new Map<string, KafkaCaseResult[]>();
  const latencies: LatencyResult[] = [];
  try {
    process.stderr.write(
      `[bench] preparing topics (source: ${records200} records of 200 B, ${recordsFor(ctx, 1024)} of 1 KiB; sink: ${sinkRecordsFor(ctx, 200)} and ${sinkRecordsFor(ctx, 1024)}) ...\n`,
    );
    const topics = await prepare(ctx, dataParts);
    // Rounds: every case once per round, so load drifts hit all cases alike; ratios are taken
    // within a round, then their median.
    for (let round = 0; round < rounds; round++) {
      for (const c of cases) {
        const r = await inChild<KafkaCaseResult>(['--child', c.name, '--ctx', JSON.stringify({ ...ctx, reps })]);
        let list = byCase.get(r.name);
        if (list === undefined) byCase.set(r.name, (list = []));
        list.push(r);
        process.stderr.write(
          `${rounds > 1 ? `[${round + 1}/${rounds}] ` : ''}${r.name.padEnd(24)} ${String(r.records).padStart(9)} rec  ${Math.round(r.recordsPerSec).toLocaleString('en-US').padStart(10)} rec/s  ${Math.round(r.recordsPerCpuSec).toLocaleString('en-US').padStart(10)} rec/CPU-s  load ${r.load.map((l) => l.toFixed(2)).join('→')}  runs ${JSON.stringify(r.runs)}\n`,
        );
      }
    }
    for (const [name, list] of byCase) {
      results.push({
        name,
        records: list[0]?.records ?? 0,
        reps: reps * list.length,
        recordsPerSec: median(list.map((r) => r.recordsPerSec)),
        recordsPerCpuSec: median(list.map((r) => r.recordsPerCpuSec)),
        runs: list.flatMap((r) => r.runs),
        load: [list[0]?.load[0] ?? 0, list[list.length - 1]?.load[1] ?? 0],
      });
    }
    await deleteTopics(brokers, topics);
    if (parts.has('latency')) {
      for (const semantic of ['at-least-once', 'exactly-once'] as const) {
        const l = await measureLatency(ctx, semantic, rate, seconds);
        latencies.push(l);
        process.stderr.write(
          `latency ${semantic.padEnd(14)} ${rate} ev/s × ${seconds} s: ${l.measured}/${l.produced - Math.floor(3 * rate)} measured, p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms, load ${l.load.map((x) => x.toFixed(2)).join('→')}\n`,
        );
      }
    }
  } finally {
    rmSync(registryDir, { recursive: true, force: true });
    await stop?.();
  }
  const ratio = (a: string, b: string): string => {
    const xs = byCase.get(a);
    const ys = byCase.get(b);
    if (xs === undefined || ys === undefined) return '';
    const wall = xs.map((x, i) => x.recordsPerSec / (ys[i] ?? ys[0] ?? x).recordsPerSec);
    const cpu = xs.map((x, i) => x.recordsPerCpuSec / (ys[i] ?? ys[0] ?? x).recordsPerCpuSec);
    const pct = (v: number): string => `${(v * 100).toFixed(0)} %`;
    const range = (v: number[]): string => (v.length > 1 ? ` [${pct(Math.min(...v))}–${pct(Math.max(...v))}]` : '');
    return `${a} / ${b}: ${pct(median(wall))}${range(wall)} wall, ${pct(median(cpu))}${range(cpu)} per CPU-s`;
  };
  const lines: string[] = [];
  for (const f of FORMATS) for (const s of SIZES) lines.push(ratio(`source-weir-${f}-${s}`, `source-raw-${f}-${s}`));
  for (const f of FORMATS) for (const s of SIZES) lines.push(ratio(`sink-weir-alo-${f}-${s}`, `sink-raw-${f}-${s}`), ratio(`sink-weir-eo-${f}-${s}`, `sink-weir-alo-${f}-${s}`));
  lines.push(ratio('e2e-eo', 'e2e-alo'));
  for (const l of lines) if (l !== '') process.stderr.write(`${l}\n`);
  if (values.json === true) process.stdout.write(`${JSON.stringify({ results, latencies }, null, 2)}\n`);
}

main().then(
  () => {
    // kafkajs leaves timers behind; the figures are printed.
    process.exit(0);
  },
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
