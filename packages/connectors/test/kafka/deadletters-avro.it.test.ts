import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfluentAvroSerde,
  ConfluentWireFormat,
  type DeadLetter,
  DeadLetterSplitter,
  deadLetterFileSink,
  deadLetterJsonSerde,
  deadLetterKafkaSink,
  EmbeddedSchemaRegistry,
  IncompatibleSchemaError,
  KafkaSink,
  KafkaSource,
} from '@weir/connectors';
import { CollectSink, jsonSerde, OutputTag, StreamEnvironment, WatermarkStrategy } from '@weir/core';
import kafkajs from 'kafkajs';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { client, createTopics, kafkaEnv, readAll, uniq } from './helpers.js';

const { Partitioners } = kafkajs;

interface Ev {
  id: number;
  user: string;
}

const V1 = {
  type: 'record',
  name: 'Ev',
  namespace: 'weir.test',
  fields: [
    { name: 'id', type: 'int' },
    { name: 'user', type: 'string' },
  ],
};
const V2 = { ...V1, fields: [...V1.fields, { name: 'country', type: 'string', default: 'unknown' }] };
// Incompatible with v2 under BACKWARD: a v3 reader cannot read v2 data (int → string is no promotion).
const V3 = { ...V1, fields: [{ name: 'id', type: 'string' }, ...V1.fields.slice(1)] };

let brokers = '';
const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'weir-kafka-dlq-'));
  dirs.push(d);
  return d;
}

beforeEach(() => {
  brokers = kafkaEnv().brokers;
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Produces raw value bytes (keys as strings), in order, to partition 0. */
async function produceBytes(topic: string, messages: ReadonlyArray<{ key: string; value: Uint8Array }>): Promise<void> {
  const producer = client(brokers).producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: messages.map((m) => ({ key: m.key, value: Buffer.from(m.value), partition: 0 })),
    });
  } finally {
    await producer.disconnect();
  }
}

describe('Kafka dead letters and Avro schema evolution', () => {
  it('garbage bytes and an unknown schema id land in an exactly-once dead-letter topic; good records continue', async () => {
    const input = uniq('dlq-in');
    const output = uniq('dlq-out');
    const dlqTopic = uniq('dlq');
    await createTopics(brokers, [{ topic: input }, { topic: output }, { topic: dlqTopic }]);
    const registry = new EmbeddedSchemaRegistry(tmp());
    const subject = ConfluentAvroSerde.topicSubject(input);
    const writer = ConfluentAvroSerde.forWriting<Ev>({ registry, subject, schema: V1 });
    await writer.open();

    const garbage = new TextEncoder().encode('this is not avro');
    const unknownId = ConfluentWireFormat.frame(987_654, new Uint8Array([2, 4, 0x61, 0x62]));
    const messages: Array<{ key: string; value: Uint8Array }> = [];
    for (let i = 0; i < 30; i++) messages.push({ key: `k${i}`, value: writer.serialize({ id: i, user: `u${i % 3}` }) });
    messages.splice(10, 0, { key: 'bad-garbage', value: garbage }); // offset 10
    messages.splice(20, 0, { key: 'bad-unknown', value: unknownId }); // offset 20
    await produceBytes(input, messages);

    const source = KafkaSource.withDeadLetters<Ev>({
      brokers,
      topics: input,
      groupId: uniq('dlq'),
      bounded: 'latest',
      format: ConfluentAvroSerde.forReading<Ev>({ registry, subject, schema: V1 }),
    });
    const tag = new OutputTag<DeadLetter>('dead-letters');
    const txPrefix = uniq('dlq-tx');
    const env = StreamEnvironment.create({ parallelism: 1, checkpoint: { dir: tmp(), intervalMs: 50 } });
    const events = env
      .fromSource(source, WatermarkStrategy.noWatermarks(), 'events')
      .uid('events')
      .process(new DeadLetterSplitter<Ev>(tag))
      .uid('split');
    events
      .sinkTo(new KafkaSink<Ev>({ brokers, topic: output, format: jsonSerde<Ev>(), semantic: 'exactly-once', transactionalIdPrefix: `${txPrefix}-out` }))
      .uid('out');
    events
      .getSideOutput(tag)
      .sinkTo(
        deadLetterKafkaSink(dlqTopic, (c) => new KafkaSink<DeadLetter>({ brokers, semantic: 'exactly-once', transactionalIdPrefix: `${txPrefix}-dlq`, ...c })),
      )
      .uid('dlq');
    await env.execute('dead-letters');

    const m = source.metrics();
    expect(m.records).toBe(32);
    expect(m.deadLetters).toMatchObject({ deserialized: 30, deadLettered: 2, failures: 2, skipped: 0, failed: 0 });
    expect(m.deadLetters.byErrorType).toEqual({ WireFormatError: 1, UnknownSchemaError: 1 });

    const good = await readAll(brokers, output, { isolation: 'read_committed' });
    expect(good.map((r) => JSON.parse(r.value as string) as Ev)).toEqual(Array.from({ length: 30 }, (_, i) => ({ id: i, user: `u${i % 3}` })));

    const dead = await readAll(brokers, dlqTopic, { isolation: 'read_committed' });
    expect(dead).toHaveLength(2);
    const letters = dead.map((r) => deadLetterJsonSerde.deserialize(new TextEncoder().encode(r.value as string)));
    expect(dead.map((r) => r.key)).toEqual(['bad-garbage', 'bad-unknown']);
    const [g, u] = letters as [DeadLetter, DeadLetter];
    expect(g).toMatchObject({ source: 'kafka', topic: input, partition: 0, offset: 10, errorType: 'WireFormatError' });
    expect(Buffer.from(g.value)).toEqual(Buffer.from(garbage));
    expect(u).toMatchObject({ source: 'kafka', topic: input, partition: 0, offset: 20, errorType: 'UnknownSchemaError' });
    expect(Buffer.from(u.value)).toEqual(Buffer.from(unknownId));
    expect(u.error).toContain('987654');
    expect(typeof g.recordTimestamp).toBe('number');
  });

  it("'dead-letter' to a file: garbage bytes land in a JSON-lines file with bytes, position, error and time; counted", async () => {
    const input = uniq('dlq-file-in');
    await createTopics(brokers, [{ topic: input }]);
    const garbage = [new Uint8Array([0xff, 0x00, 0x13, 0x37]), new TextEncoder().encode('{"id": oops')];
    await produceBytes(input, [
      { key: 'a', value: new TextEncoder().encode('{"id":1,"user":"a"}') },
      { key: 'bad-1', value: garbage[0] as Uint8Array }, // offset 1
      { key: 'b', value: new TextEncoder().encode('{"id":2,"user":"b"}') },
      { key: 'bad-2', value: garbage[1] as Uint8Array }, // offset 3
      { key: 'c', value: new TextEncoder().encode('{"id":3,"user":"c"}') },
    ]);
    const source = KafkaSource.withDeadLetters<Ev>({ brokers, topics: input, groupId: uniq('dlq-file'), bounded: 'latest', format: 'json' });
    const dir = tmp();
    const tag = new OutputTag<DeadLetter>('dead-letters');
    const before = Date.now();
    const env = StreamEnvironment.create({ parallelism: 1, checkpoint: { dir: tmp(), intervalMs: 50 } });
    const events = env.fromSource(source, WatermarkStrategy.noWatermarks(), 'events').uid('events').process(new DeadLetterSplitter<Ev>(tag)).uid('split');
    const good = new CollectSink<Ev>();
    events.sinkTo(good).uid('good');
    events.getSideOutput(tag).sinkTo(deadLetterFileSink({ path: dir })).uid('dlq-file');
    await env.execute('dead letters to a file');

    expect(good.values.map((e) => e.id)).toEqual([1, 2, 3]);
    expect(source.metrics().deadLetters).toMatchObject({ deserialized: 3, deadLettered: 2, failures: 2, skipped: 0, failed: 0 });
    // Invalid UTF-8 fails the decoder (TypeError), broken JSON the parser (SyntaxError).
    expect(source.metrics().deadLetters.byErrorType).toEqual({ TypeError: 1, SyntaxError: 1 });
    // Exactly-once file sink: committed part files only (in-progress ones are hidden).
    const files = readdirSync(dir).filter((f) => !f.startsWith('.'));
    expect(files.length).toBeGreaterThan(0);
    const letters = files
      .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n'))
      .filter((l) => l.length > 0)
      .map((l) => deadLetterJsonSerde.deserialize(new TextEncoder().encode(l)));
    expect(letters.map((l) => l.offset)).toEqual([1, 3]);
    expect(letters.map((l) => l.errorType)).toEqual(['TypeError', 'SyntaxError']);
    letters.forEach((l, i) => {
      expect(l).toMatchObject({ source: 'kafka', topic: input, partition: 0 });
      expect(Buffer.from(l.value)).toEqual(Buffer.from(garbage[i] as Uint8Array));
      expect(Buffer.from(l.key as Uint8Array).toString('utf8')).toBe(`bad-${i + 1}`);
      expect(l.error.length).toBeGreaterThan(0);
      expect(l.timestamp).toBeGreaterThanOrEqual(before);
      expect(l.timestamp).toBeLessThanOrEqual(Date.now());
      expect(typeof l.recordTimestamp).toBe('number');
    });
  });

  it("the default policy 'fail' fails the job naming the record; 'skip-and-count' drops and counts it", async () => {
    const input = uniq('dlq-fail');
    await createTopics(brokers, [{ topic: input }]);
    await produceBytes(input, [
      { key: 'a', value: new TextEncoder().encode('{"id":1,"user":"a"}') },
      { key: 'b', value: new TextEncoder().encode('{not json') },
      { key: 'c', value: new TextEncoder().encode('{"id":3,"user":"c"}') },
    ]);
    const failing = new KafkaSource<Ev>({ brokers, topics: input, groupId: uniq('f'), bounded: 'latest' });
    const env1 = StreamEnvironment.create({ parallelism: 1 });
    const err = await env1
      .fromSource(failing, WatermarkStrategy.noWatermarks(), 'in')
      .executeAndCollect()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    const messages: string[] = [];
    for (let e = err; e instanceof Error; e = e.cause) messages.push(`${e.name}: ${e.message}`);
    expect(messages.join('\n')).toContain(`DeserializationFailureError: cannot deserialize kafka record at topic '${input}', partition 0, offset 1`);
    expect(failing.metrics().deadLetters.failed).toBe(1);

    const skipping = new KafkaSource<Ev>({ brokers, topics: input, groupId: uniq('s'), bounded: 'latest', onDeserializationFailure: 'skip-and-count' });
    const env2 = StreamEnvironment.create({ parallelism: 1 });
    const out = await env2.fromSource(skipping, WatermarkStrategy.noWatermarks(), 'in').executeAndCollect();
    expect(out.map((e) => e.id)).toEqual([1, 3]);
    expect(skipping.metrics().deadLetters).toMatchObject({ deserialized: 2, skipped: 1, byErrorType: { SyntaxError: 1 } });
    expect(() => new KafkaSource<Ev>({ brokers, topics: input, groupId: 'x', onDeserializationFailure: 'dead-letter' })).toThrow(/withDeadLetters/);
  });

  it('an old job (v1 reader) reads records of a v2 schema that adds a field with a default; an incompatible v3 is refused', async () => {
    const input = uniq('evo');
    await createTopics(brokers, [{ topic: input }]);
    const registry = new EmbeddedSchemaRegistry(tmp());
    const subject = ConfluentAvroSerde.topicSubject(input);
    const w1 = ConfluentAvroSerde.forWriting<Ev>({ registry, subject, schema: V1 });
    await w1.open();
    // The old job starts (and loads the subject's versions) before v2 exists: v2 is fetched by id
    // when its first records arrive.
    const reader = ConfluentAvroSerde.forReading<Ev>({ registry, subject, schema: V1 });
    await reader.open();
    await produceBytes(input, [0, 1, 2].map((i) => ({ key: `k${i}`, value: w1.serialize({ id: i, user: `old${i}` }) })));
    const w2 = ConfluentAvroSerde.forWriting<Ev & { country: string }>({ registry, subject, schema: V2 });
    await w2.open();
    expect(w2.schemaId).not.toBe(w1.schemaId);
    await produceBytes(input, [3, 4].map((i) => ({ key: `k${i}`, value: w2.serialize({ id: i, user: `new${i}`, country: 'NZ' }) })));

    await expect(registry.register(subject, V3)).rejects.toBeInstanceOf(IncompatibleSchemaError);
    await expect(ConfluentAvroSerde.forWriting({ registry, subject, schema: V3 }).open()).rejects.toBeInstanceOf(IncompatibleSchemaError);
    expect(await registry.getVersions(subject)).toEqual([1, 2]);

    const source = new KafkaSource<Ev>({ brokers, topics: input, groupId: uniq('evo'), bounded: 'latest', format: reader });
    const env = StreamEnvironment.create({ parallelism: 1 });
    const out = await env.fromSource(source, WatermarkStrategy.noWatermarks(), 'events').executeAndCollect();
    expect(out).toEqual([
      { id: 0, user: 'old0' },
      { id: 1, user: 'old1' },
      { id: 2, user: 'old2' },
      { id: 3, user: 'new3' },
      { id: 4, user: 'new4' },
    ]);
    expect(source.metrics().deadLetters).toMatchObject({ deserialized: 5, failures: 0 });
  });
});
