// Kafka connector parts that need no broker (the unit project runs these).
import { type KafkaCommittable, KafkaSink, KafkaSource, kafkaCommittableSerde } from '@weir/connectors';
import { isTwoPhaseCommittingSink, stringSerde } from '@weir/core';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { javaStringHash, parseBrokers } from '../../src/kafka/client.js';
import { isTransient, murmur2, toTopicMessages } from '../../src/kafka/KafkaSink.js';
import { ownerOf } from '../../src/kafka/KafkaSource.js';

describe('Kafka connector options', () => {
  it('validates the source options', () => {
    expect(() => new KafkaSource({ brokers: 'b:1', groupId: 'g' })).toThrow(/exactly one of topics and topicPattern/);
    expect(() => new KafkaSource({ brokers: 'b:1', topics: ['t'], topicPattern: /t/, groupId: 'g' })).toThrow(/exactly one/);
    expect(() => new KafkaSource({ brokers: 'b:1', topics: ['t'], groupId: '' })).toThrow(/groupId/);
    expect(() => new KafkaSource({ brokers: 'b:1', topics: ['t'], groupId: 'g', startingOffsets: 'newest' as never })).toThrow(/startingOffsets/);
    expect(() => new KafkaSource({ brokers: 'b:1', topics: ['t'], groupId: 'g', format: 'xml' as never })).toThrow(/format/);
    expect(new KafkaSource({ brokers: 'b:1', topics: 't', groupId: 'g', bounded: 'latest' }).boundedness).toBe('bounded');
    expect(new KafkaSource({ brokers: 'b:1', topics: 't', groupId: 'g' }).boundedness).toBe('unbounded');
  });

  it('a sink is two-phase-commit only when exactly-once, which needs a transactional id prefix', () => {
    expect(() => new KafkaSink({ brokers: 'b:1', topic: 't', semantic: 'exactly-once' })).toThrow(/transactionalIdPrefix/);
    expect(() => new KafkaSink({ brokers: 'b:1', topic: 't', semantic: 'exactly-once', transactionalIdPrefix: 'a b' })).toThrow(
      /transactionalIdPrefix/,
    );
    expect(() => new KafkaSink({ brokers: 'b:1' })).toThrow(/exactly one of topic and topicSelector/);
    const alo = new KafkaSink<string>({ brokers: 'b:1', topic: 't', format: stringSerde });
    const eo = new KafkaSink<string>({ brokers: 'b:1', topic: 't', semantic: 'exactly-once', transactionalIdPrefix: 'job-1' });
    expect(isTwoPhaseCommittingSink(alo)).toBe(false);
    expect(isTwoPhaseCommittingSink(eo)).toBe(true);
    expect(eo.markerTopic).toBe('_weir-commits.job-1');
    expect(() => new KafkaSink({ brokers: 'b:1', topic: 't', maxInFlightRequests: 0 })).toThrow(/maxInFlightRequests/);
    expect(() => new KafkaSink({ brokers: 'b:1', topic: 't', maxInFlightRequests: 1.5 })).toThrow(/maxInFlightRequests/);
  });

  it('parses brokers strings and lists', () => {
    expect(parseBrokers('a:1, b:2,')).toEqual(['a:1', 'b:2']);
    expect(parseBrokers(['a:1'])).toEqual(['a:1']);
    expect(() => parseBrokers('')).toThrow(/at least one/);
  });
});

describe('Kafka partitioning of the at-least-once sink', () => {
  it("murmur2 is Kafka's default partitioner hash (the same as kafkajs's Java-compatible one)", () => {
    const kafkajsMurmur2 = createRequire(import.meta.url)('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer) => number;
    const keys = ['', 'a', 'ab', 'abc', 'abcd', 'user-42', 'k12', 'ünïcödé', 'x'.repeat(97)];
    for (let i = 0; i < 200; i++) keys.push(`key-${i * 7919}`);
    for (const k of keys) {
      const b = Buffer.from(k, 'utf8');
      expect(murmur2(b), k).toBe(kafkajsMurmur2(b));
    }
    // Kafka's own test vectors (org.apache.kafka.common.utils.UtilsTest#testMurmur2).
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482);
  });
});

describe('Kafka split ownership', () => {
  it("follows Flink's rule: Java String.hashCode of the topic, then round-robin over partitions", () => {
    expect(javaStringHash('')).toBe(0);
    expect(javaStringHash('topic')).toBe(110546223); // "topic".hashCode() in Java
    expect(javaStringHash('a-much-longer-topic-name-that-overflows')).toBe(
      // computed the Java way: 31 * h + c in 32-bit signed arithmetic
      [...'a-much-longer-topic-name-that-overflows'].reduce((h, c) => (Math.imul(31, h) + c.charCodeAt(0)) | 0, 0),
    );
    const owners = Array.from({ length: 8 }, (_, p) => ownerOf('clicks', p, 3));
    // Consecutive partitions go to consecutive readers, every reader gets its share.
    for (let p = 1; p < 8; p++) expect(owners[p]).toBe(((owners[p - 1] as number) + 1) % 3);
    expect(new Set(owners).size).toBe(3);
  });
});

describe('Kafka committables', () => {
  const c: KafkaCommittable = {
    transactionalIdPrefix: 'job',
    attemptId: 'a1',
    subtask: 1,
    parallelism: 4,
    checkpointId: 42,
    records: [
      { topic: 'out', key: Buffer.from('k'), value: Buffer.from('{"x":1}'), timestamp: 1_700_000_000_123, headers: { h: Buffer.from('v') } },
      { topic: 'other', key: null, value: null, timestamp: undefined, headers: undefined },
      { topic: 'out', key: Buffer.alloc(0), value: Buffer.from([0, 255, 1]), timestamp: 0, headers: {} },
    ],
  };

  it('round-trip through their serde (keys, null values, timestamps, headers)', () => {
    const back = kafkaCommittableSerde.deserialize(kafkaCommittableSerde.serialize(c));
    expect(back).toEqual(c);
    expect(kafkaCommittableSerde.deserialize(kafkaCommittableSerde.serialize({ ...c, records: [] })).records).toEqual([]);
    expect(() => kafkaCommittableSerde.deserialize(new Uint8Array([1, 2, 3, 4]))).toThrow(/committable/);
  });

  it('are sent in produce requests of bounded size, in order', () => {
    const records = Array.from({ length: 100 }, (_, i) => ({
      topic: i % 2 === 0 ? 'a' : 'b',
      key: null,
      value: Buffer.alloc(100, i),
      timestamp: i,
      headers: undefined,
    }));
    const seen: number[] = [];
    let i = 0;
    let requests = 0;
    while (i < records.length) {
      const { batch, next } = toTopicMessages(records, i, 2_000);
      requests++;
      for (const t of batch) for (const m of t.messages) seen.push(Number(m.timestamp));
      expect(next).toBeGreaterThan(i);
      i = next;
    }
    expect(requests).toBeGreaterThan(5);
    expect(seen.sort((a, b) => a - b)).toEqual(records.map((r) => r.timestamp));
  });
});

describe('Kafka commit retries', () => {
  it('retry what the cluster being away causes, never a fencing', () => {
    const conn = Object.assign(new Error('Connection error: connect ECONNREFUSED'), { name: 'KafkaJSConnectionError', retriable: true });
    const coord = Object.assign(new Error('Failed to find group coordinator'), { name: 'KafkaJSGroupCoordinatorNotFound', retriable: false });
    const fenced = Object.assign(new Error('producer fenced'), { name: 'KafkaJSProtocolError', type: 'PRODUCER_FENCED', retriable: false });
    const epoch = Object.assign(new Error('epoch'), { name: 'KafkaJSProtocolError', type: 'INVALID_PRODUCER_EPOCH', retriable: false });
    const wrap = (e: Error): Error => new Error(`KafkaSink: the transaction failed: ${e.message}`, { cause: e });
    expect(isTransient(wrap(conn))).toBe(true);
    expect(isTransient(wrap(coord))).toBe(true);
    expect(isTransient(wrap(Object.assign(new Error('retries'), { name: 'KafkaJSNumberOfRetriesExceeded', cause: conn })))).toBe(true);
    expect(isTransient(wrap(fenced))).toBe(false);
    expect(isTransient(wrap(Object.assign(new Error('retries'), { name: 'KafkaJSNumberOfRetriesExceeded', cause: epoch })))).toBe(false);
    expect(isTransient(new TypeError('bad record'))).toBe(false);
  });
});
