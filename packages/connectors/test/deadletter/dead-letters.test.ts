import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ConfluentAvroSerde,
  ConfluentWireFormat,
  type DeadLetter,
  DeadLetterCounters,
  deadLetterFileSink,
  deadLetterFromMalformedRecord,
  deadLetterJsonSerde,
  deadLetterKafkaSink,
  DeadLetterRouter,
  DeadLetterSplitter,
  type DecodeResult,
  DeserializationFailureError,
  type DeserializationFailurePolicy,
  DeserializeFunction,
  EmbeddedSchemaRegistry,
  KafkaSink,
  type RecordPosition,
  type SchemaResolvingSerde,
} from '@weir/connectors';
import {
  CollectSink,
  ManualClock,
  OutputTag,
  type ReaderOutput,
  type Source,
  type SourceReader,
  type SourceSplit,
  StaticSplitEnumerator,
  StreamEnvironment,
  stringSerde,
  UserFunctionError,
  WatermarkStrategy,
  jsonSerde,
} from '@weir/core';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../avro/tmp.js';

interface Ev {
  event_id: string;
  user_id: string;
}
const V1 = {
  type: 'record',
  name: 'Ev',
  fields: [
    { name: 'event_id', type: 'string' },
    { name: 'user_id', type: 'string' },
  ],
};
const V2 = { ...V1, fields: [...V1.fields, { name: 'country', type: 'string', default: 'unknown' }] };
const SUBJECT = 'events-value';

/** A raw record as a Kafka source would see it. */
interface Raw {
  readonly offset: number;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array;
}

const text = (s: string) => new TextEncoder().encode(s);
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

/** A topic's worth of records: good v1 and v2 data mixed with four kinds of bad bytes. */
async function fixture() {
  const registry = new EmbeddedSchemaRegistry(await tempDir('weir-dlq-'));
  const w1 = ConfluentAvroSerde.forWriting<Ev>({ registry, subject: SUBJECT, schema: V1 });
  const w2 = ConfluentAvroSerde.forWriting<Ev & { country: string }>({ registry, subject: SUBJECT, schema: V2 });
  await w1.open();
  await w2.open();
  const good = (i: number) => (i % 2 === 0 ? w1.serialize({ event_id: `e${i}`, user_id: `u${i}` }) : w2.serialize({ event_id: `e${i}`, user_id: `u${i}`, country: 'NZ' }));
  const bad: Record<number, { bytes: Uint8Array; errorType: string; reason: RegExp }> = {
    3: { bytes: text('{"event_id":"e3","user_id":"u3"}'), errorType: 'WireFormatError', reason: /unknown magic byte 0x7b/ },
    5: { bytes: ConfluentWireFormat.frame(9999, avro.Type.forSchema(V1 as avro.Schema).toBuffer({ event_id: 'x', user_id: 'y' })), errorType: 'UnknownSchemaError', reason: /unknown schema id 9999/ },
    6: { bytes: new Uint8Array([0xff, 0xfe, 0x00, 0x01, 0x02, 0x03, 0x04]), errorType: 'WireFormatError', reason: /unknown magic byte 0xff/ },
    8: { bytes: w1.serialize({ event_id: 'e8', user_id: 'u8' }).subarray(0, 9), errorType: 'AvroDecodeError', reason: /truncated buffer/ },
    9: { bytes: new Uint8Array([0, 0]), errorType: 'WireFormatError', reason: /too short/ },
  };
  const records: Raw[] = [];
  for (let i = 0; i < 12; i++) records.push({ offset: 100 + i, key: text(`u${i}`), value: bad[i]?.bytes ?? good(i) });
  const expectedGood = records.flatMap((_, i) => (bad[i] === undefined ? [{ event_id: `e${i}`, user_id: `u${i}` }] : []));
  return { registry, records, bad, expectedGood };
}

function deserializer(registry: EmbeddedSchemaRegistry, policy: DeserializationFailurePolicy, tag: OutputTag<DeadLetter> | undefined, counters: DeadLetterCounters) {
  return new DeserializeFunction<Raw, Ev>({
    serde: ConfluentAvroSerde.forReading<Ev>({ registry, subject: SUBJECT, schema: V1 }),
    policy,
    ...(tag === undefined ? {} : { deadLetterTag: tag }),
    source: 'kafka',
    bytes: (r) => r.value,
    position: (r): RecordPosition => ({ topic: 'events', partition: 0, offset: r.offset, key: r.key }),
    counters,
  });
}

describe('dead letters in a job (CollectionSource of raw bytes → DeserializeFunction)', () => {
  it("'dead-letter': bad records go to the side output with reason, position and original bytes, and into a JSONL file", async () => {
    const { registry, records, bad, expectedGood } = await fixture();
    const dir = await tempDir('weir-dlq-files-');
    const clock = new ManualClock(1_712_419_260_000);
    const env = StreamEnvironment.create({ parallelism: 1, clock });
    const tag = new OutputTag<DeadLetter>('dead-letters');
    const counters = new DeadLetterCounters();
    const decoded = env.fromCollection(records).process(deserializer(registry, 'dead-letter', tag, counters));
    const values = new CollectSink<Ev>();
    const letters = new CollectSink<DeadLetter>();
    decoded.sinkTo(values);
    decoded.getSideOutput(tag).sinkTo(letters);
    decoded.getSideOutput(tag).sinkTo(deadLetterFileSink({ path: dir }));
    await env.execute('dead letters');

    expect(values.values.map(plain)).toEqual(expectedGood);
    const badIdx = Object.keys(bad).map(Number);
    expect(letters.values.map((d) => d.offset)).toEqual(badIdx.map((i) => 100 + i));
    for (const d of letters.values) {
      const i = (d.offset as number) - 100;
      const b = bad[i] as (typeof bad)[number];
      expect(d).toMatchObject({ source: 'kafka', topic: 'events', partition: 0, errorType: b.errorType, timestamp: 1_712_419_260_000 });
      expect(d.error).toMatch(b.reason);
      expect(Buffer.from(d.value)).toEqual(Buffer.from(b.bytes));
      expect(Buffer.from(d.key as Uint8Array).toString()).toBe(`u${i}`);
    }
    expect(counters.snapshot()).toEqual({
      deserialized: expectedGood.length,
      failures: 5,
      deadLettered: 5,
      skipped: 0,
      failed: 0,
      byErrorType: { WireFormatError: 3, UnknownSchemaError: 1, AvroDecodeError: 1 },
    });

    // The JSONL file: one dead letter per line, bytes in base64, readable back.
    const files = (await readdir(dir)).filter((n) => !n.startsWith('.'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^dead-letters-.*\.jsonl$/);
    const lines = (await readFile(join(dir, files[0] as string), 'utf8')).split('\n').filter((l) => l.length > 0);
    expect(lines).toHaveLength(5);
    const first = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(first).toEqual({
      source: 'kafka',
      topic: 'events',
      partition: 0,
      offset: 103,
      key: Buffer.from('u3').toString('base64'),
      value: Buffer.from('{"event_id":"e3","user_id":"u3"}').toString('base64'),
      error: expect.stringMatching(/unknown magic byte 0x7b/),
      errorType: 'WireFormatError',
      timestamp: 1_712_419_260_000,
    });
    const back = lines.map((l) => deadLetterJsonSerde.deserialize(text(l)));
    expect(back.map((d) => Buffer.from(d.value))).toEqual(badIdx.map((i) => Buffer.from((bad[i] as (typeof bad)[number]).bytes)));
  });

  it("'skip-and-count': bad records are dropped and counted, nothing reaches the side output", async () => {
    const { registry, records, expectedGood } = await fixture();
    const env = StreamEnvironment.create({ parallelism: 1 });
    const tag = new OutputTag<DeadLetter>('dlq');
    const counters = new DeadLetterCounters();
    const decoded = env.fromCollection(records).process(deserializer(registry, 'skip-and-count', tag, counters));
    const values = new CollectSink<Ev>();
    const letters = new CollectSink<DeadLetter>();
    decoded.sinkTo(values);
    decoded.getSideOutput(tag).sinkTo(letters);
    await env.execute('skip');
    expect(values.values.map(plain)).toEqual(expectedGood);
    expect(letters.values).toEqual([]);
    expect(counters.snapshot()).toMatchObject({ deserialized: expectedGood.length, skipped: 5, deadLettered: 0, failures: 5 });
  });

  it("'fail': the job fails, naming the source, the position and the cause", async () => {
    const { registry, records } = await fixture();
    const env = StreamEnvironment.create({ parallelism: 1 });
    const counters = new DeadLetterCounters();
    const values = new CollectSink<Ev>();
    env.fromCollection(records).process(deserializer(registry, 'fail', undefined, counters)).sinkTo(values);
    const err = await env.execute('fail').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserFunctionError);
    const cause = (err as UserFunctionError).cause as DeserializationFailureError;
    expect(cause).toBeInstanceOf(DeserializationFailureError);
    expect(cause.source).toBe('kafka');
    expect(cause.position).toMatchObject({ topic: 'events', partition: 0, offset: 103 });
    expect(cause.errorType).toBe('WireFormatError');
    expect(cause.message).toMatch(
      /^cannot deserialize kafka record at topic 'events', partition 0, offset 103 \(32 byte\(s\): 0x7b226576656e745f6964223a22653322…\): WireFormatError: unknown magic byte 0x7b/,
    );
    expect((err as Error).message).toContain('offset 103');
    expect(values.values).toHaveLength(3); // the good records before it
    expect(counters.snapshot()).toMatchObject({ deserialized: 3, failed: 1, failures: 1 });
  });
});

// ---------------------------------------------------------------------------------------------
// The contract for sources (what the Kafka reader does), shown with a batched source of bytes:
// open() in start(), ensureSchemas(batch) before a fetched batch is emitted, router.decodeResult
// per record, DecodeResult through the dataflow, DeadLetterSplitter into the side output.

interface BatchSplit extends SourceSplit {
  next: number;
}

class BatchedBytesSource implements Source<DecodeResult<Ev>, BatchSplit, BatchSplit[]> {
  readonly boundedness = 'bounded' as const;
  readonly maxParallelism = 1;
  readonly splitSerde = jsonSerde<BatchSplit>();
  readonly enumeratorStateSerde = jsonSerde<BatchSplit[]>();
  readonly counters = new DeadLetterCounters();

  constructor(
    readonly batches: ReadonlyArray<readonly Raw[]>,
    readonly serde: SchemaResolvingSerde<Ev>,
    readonly policy: DeserializationFailurePolicy,
    readonly beforeBatch: (i: number) => Promise<void>,
  ) {}

  createEnumerator(ctx: Parameters<Source<unknown, BatchSplit, BatchSplit[]>['createEnumerator']>[0]) {
    return new StaticSplitEnumerator(ctx, [{ splitId: 'events-0', next: 0 }]);
  }

  restoreEnumerator(ctx: Parameters<Source<unknown, BatchSplit, BatchSplit[]>['createEnumerator']>[0], s: BatchSplit[]) {
    return new StaticSplitEnumerator(ctx, s);
  }

  createReader(ctx: { clock: { now(): number } }): SourceReader<DecodeResult<Ev>, BatchSplit> {
    const src = this;
    const router = new DeadLetterRouter({ source: 'kafka', policy: src.policy, counters: src.counters, now: () => ctx.clock.now() });
    const ready: Raw[] = [];
    let fetched = 0;
    let split: BatchSplit | undefined;
    let noMore = false;
    let fetching: Promise<void> | undefined;
    const fetchNext = async () => {
      const i = fetched++;
      await src.beforeBatch(i);
      const batch = src.batches[i] as readonly Raw[];
      // The contract: every schema the batch names is loaded before any of its records is emitted.
      await src.serde.ensureSchemas(batch.map((r) => r.value));
      ready.push(...batch);
    };
    return {
      start: () => src.serde.open(),
      pollNext(out: ReaderOutput<DecodeResult<Ev>>) {
        const r = ready.shift();
        if (r !== undefined && split !== undefined) {
          split.next = r.offset + 1;
          const res = router.decodeResult(src.serde, r.value, { topic: 'events', partition: 0, offset: r.offset, key: r.key });
          if (res !== DeadLetterRouter.REJECTED) out.collect(res);
          return 'more';
        }
        if (fetched >= src.batches.length && ready.length === 0) return noMore ? 'end' : 'nothing';
        fetching ??= fetchNext().finally(() => {
          fetching = undefined;
        });
        return 'nothing';
      },
      isAvailable: () => fetching ?? Promise.resolve(),
      addSplits(s) {
        split = s[0];
      },
      notifyNoMoreSplits() {
        noMore = true;
      },
      snapshotState: () => (split === undefined ? [] : [{ ...split }]),
      close() {},
    };
  }
}

describe('source-side contract: ensureSchemas per batch, decodeResult, DeadLetterSplitter', () => {
  it('a schema registered while the job runs is loaded for the batch that needs it; bad records become dead letters', async () => {
    const registry = new EmbeddedSchemaRegistry(await tempDir('weir-dlq-'));
    const w1 = ConfluentAvroSerde.forWriting<Ev>({ registry, subject: SUBJECT, schema: V1 });
    await w1.open();
    const typeV2 = avro.Type.forSchema(V2 as avro.Schema);
    let v2Id = -1;
    const batch2: Raw[] = [];
    const batches: Raw[][] = [
      [
        { offset: 0, key: null, value: w1.serialize({ event_id: 'a', user_id: 'u1' }) },
        { offset: 1, key: text('k'), value: text('garbage') },
      ],
      batch2,
    ];
    const source = new BatchedBytesSource(batches, ConfluentAvroSerde.forReading<Ev>({ registry, subject: SUBJECT, schema: V1 }), 'dead-letter', async (i) => {
      if (i !== 1) return;
      // The producer evolves the schema after the job opened its serde.
      v2Id = await registry.register(SUBJECT, V2);
      batch2.push({ offset: 2, key: null, value: ConfluentWireFormat.frame(v2Id, typeV2.toBuffer({ event_id: 'b', user_id: 'u2', country: 'FR' })) });
      batch2.push({ offset: 3, key: null, value: ConfluentWireFormat.frame(v2Id + 50, new Uint8Array([2, 0x61, 2, 0x62])) });
    });
    const env = StreamEnvironment.create({ parallelism: 1, clock: new ManualClock(5_000) });
    const tag = new OutputTag<DeadLetter>('dlq');
    const events = env.fromSource(source, WatermarkStrategy.noWatermarks<DecodeResult<Ev>>(), 'events').process(new DeadLetterSplitter<Ev>(tag));
    const values = new CollectSink<Ev>();
    const letters = new CollectSink<DeadLetter>();
    events.sinkTo(values);
    events.getSideOutput(tag).sinkTo(letters);
    await env.execute('contract');
    expect(values.values.map(plain)).toEqual([
      { event_id: 'a', user_id: 'u1' },
      { event_id: 'b', user_id: 'u2' },
    ]);
    expect(letters.values.map((d) => [d.offset, d.errorType, d.timestamp, d.key === null ? null : Buffer.from(d.key as Uint8Array).toString()])).toEqual([
      [1, 'WireFormatError', 5_000, 'k'],
      [3, 'UnknownSchemaError', 5_000, null],
    ]);
    expect(source.counters.snapshot()).toMatchObject({ deserialized: 2, deadLettered: 2 });
  });
});

describe('DeadLetterRouter', () => {
  const failing = { serialize: () => new Uint8Array(), deserialize: (): never => { throw new SyntaxError('bad json at 1'); } };

  it('decode: returns values, REJECTED for handled failures; reject() handles validation failures', () => {
    const out: DeadLetter[] = [];
    const r = new DeadLetterRouter({ source: 'file', policy: 'dead-letter', output: (d) => out.push(d), now: () => 42 });
    expect(r.decode(stringSerde, text('ok'))).toBe('ok');
    expect(r.decode(failing, text('x'), { path: '/in/a.jsonl', offset: 7 })).toBe(DeadLetterRouter.REJECTED);
    r.reject(text('{"age":-1}'), new RangeError('age must be ≥ 0'), { path: '/in/a.jsonl', offset: 9 });
    expect(out).toEqual([
      { source: 'file', path: '/in/a.jsonl', offset: 7, value: text('x'), error: 'bad json at 1', errorType: 'SyntaxError', timestamp: 42 },
      { source: 'file', path: '/in/a.jsonl', offset: 9, value: text('{"age":-1}'), error: 'age must be ≥ 0', errorType: 'RangeError', timestamp: 42 },
    ]);
    // A per-call output wins over the default one.
    const other: DeadLetter[] = [];
    r.decode(failing, text('y'), undefined, (d) => other.push(d));
    expect(other).toHaveLength(1);
    expect(r.counters.snapshot()).toEqual({ deserialized: 1, failures: 3, deadLettered: 3, skipped: 0, failed: 0, byErrorType: { SyntaxError: 2, RangeError: 1 } });
  });

  it('decodeResult per policy; shared counters; configuration errors', () => {
    const counters = new DeadLetterCounters();
    const dl = new DeadLetterRouter({ source: 'kafka', policy: 'dead-letter', counters, now: () => 1 });
    expect(dl.decodeResult(stringSerde, text('v'))).toEqual({ ok: true, value: 'v' });
    expect(dl.decodeResult(failing, text('x'), { topic: 't', partition: 1, offset: 2, key: null, recordTimestamp: 9 })).toEqual({
      ok: false,
      deadLetter: { source: 'kafka', topic: 't', partition: 1, offset: 2, key: null, recordTimestamp: 9, value: text('x'), error: 'bad json at 1', errorType: 'SyntaxError', timestamp: 1 },
    });
    const skip = new DeadLetterRouter({ source: 'kafka', policy: 'skip-and-count', counters });
    expect(skip.decodeResult(failing, text('x'))).toBe(DeadLetterRouter.REJECTED);
    const fail = new DeadLetterRouter({ source: 'kafka', counters });
    expect(fail.policy).toBe('fail');
    expect(() => fail.decodeResult(failing, text('x'), { topic: 't', partition: 1, offset: 2 })).toThrow(
      "cannot deserialize kafka record at topic 't', partition 1, offset 2 (1 byte(s): 0x78): SyntaxError: bad json at 1",
    );
    expect(counters.snapshot()).toMatchObject({ deserialized: 1, deadLettered: 1, skipped: 1, failed: 1, failures: 3 });
    expect(() => new DeadLetterRouter({ source: 'kafka', policy: 'dead-letter' }).decode(failing, text('x'))).toThrow(/needs an output/);
    expect(() => new DeadLetterRouter({ source: 'kafka', policy: 'drop' as never })).toThrow(/unknown deserialization failure policy/);
    expect(() => new DeserializeFunction({ serde: stringSerde, policy: 'dead-letter' })).toThrow(/needs a deadLetterTag/);
  });
});

describe('dead-letter sinks and formats', () => {
  it('deadLetterJsonSerde: one line per dead letter, bytes in base64, round trip', () => {
    const d: DeadLetter = {
      source: 'kafka',
      topic: 'events',
      partition: 2,
      offset: 77,
      key: new Uint8Array([0, 255, 10]),
      value: text('line1\nline2\u0000'),
      recordTimestamp: 5,
      error: 'multi\nline error',
      errorType: 'Error',
      timestamp: 6,
    };
    const bytes = deadLetterJsonSerde.serialize(d);
    expect(Buffer.from(bytes).includes(0x0a)).toBe(false);
    const back = deadLetterJsonSerde.deserialize(bytes);
    expect({ ...back, key: Buffer.from(back.key as Uint8Array), value: Buffer.from(back.value) }).toEqual({ ...d, key: Buffer.from(d.key as Uint8Array), value: Buffer.from(d.value) });
    const minimal: DeadLetter = { source: 'file', value: new Uint8Array(), error: 'e', errorType: 'E', timestamp: 1, key: null };
    expect(deadLetterJsonSerde.deserialize(deadLetterJsonSerde.serialize(minimal))).toEqual(minimal);
    expect(() => deadLetterJsonSerde.deserialize(text('{"source":"x"}'))).toThrow(/not a dead letter/);
  });

  it('deadLetterKafkaSink hands topic, format, key and headers to the KafkaSink factory', () => {
    let config: Parameters<Parameters<typeof deadLetterKafkaSink>[1]>[0] | undefined;
    const sink = deadLetterKafkaSink('events.dlq', (c) => {
      config = c;
      // Type-checks against the real KafkaSink options; constructing it does not connect.
      return new KafkaSink<DeadLetter>({ brokers: '127.0.0.1:9', semantic: 'exactly-once', transactionalIdPrefix: 'dlq-test', ...c });
    });
    expect(sink).toBeInstanceOf(KafkaSink);
    const c = config as NonNullable<typeof config>;
    expect(c.topic).toBe('events.dlq');
    expect(c.format).toBe(deadLetterJsonSerde);
    const d: DeadLetter = { source: 'kafka', topic: 'events', partition: 1, offset: 5, key: text('u1'), value: text('x'), error: 'e', errorType: 'WireFormatError', timestamp: 1 };
    expect(c.key(d)).toEqual(text('u1'));
    expect(c.key({ ...d, key: null })).toBeNull();
    expect(c.headers(d)).toEqual({ 'weir.dlq.error-type': 'WireFormatError', 'weir.dlq.source': 'kafka', 'weir.dlq.topic': 'events', 'weir.dlq.partition': '1', 'weir.dlq.offset': '5' });
  });

  it('deadLetterFromMalformedRecord turns a FileSource malformed line into a dead letter', () => {
    expect(deadLetterFromMalformedRecord({ path: '/in/x.jsonl', line: '{oops', lineNumber: 3, offset: 40, reason: 'Unexpected token o' }, 9)).toEqual({
      source: 'file',
      path: '/in/x.jsonl',
      offset: 40,
      value: text('{oops'),
      error: 'line 3: Unexpected token o',
      errorType: 'MalformedRecord',
      timestamp: 9,
    });
  });
});
