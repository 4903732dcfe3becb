import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaSink, KafkaSource } from '@weir/connectors';
import { StreamEnvironment, stringSerde, WatermarkStrategy } from '@weir/core';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import kafkajs from 'kafkajs';
import { client, createTopics, kafkaEnv, produce, readAll, uniq } from './helpers.js';

const { Partitioners } = kafkajs;

interface Ev {
  id: number;
  user: string;
  amount: number;
}

let brokers = '';
const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'weir-kafka-rt-'));
  dirs.push(d);
  return d;
}

// Per test, so that without a broker every test fails with the reason (not skipped).
beforeEach(() => {
  brokers = kafkaEnv().brokers;
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('Kafka round trip', () => {
  it('reads every partition to its end offsets and writes at-least-once, keys and timestamps kept', async () => {
    const input = uniq('rt-in');
    const output = uniq('rt-out');
    await createTopics(brokers, [
      { topic: input, partitions: 3 },
      { topic: output, partitions: 2 },
    ]);
    const base = Date.UTC(2024, 0, 1);
    const events: Ev[] = Array.from({ length: 3000 }, (_, i) => ({ id: i, user: `u${i % 17}`, amount: i % 100 }));
    await produce(
      brokers,
      input,
      events.map((e) => ({ key: e.user, value: JSON.stringify(e), timestamp: base + e.id })),
    );

    const source = new KafkaSource<Ev>({ brokers, topics: [input], groupId: uniq('rt'), bounded: 'latest' });
    const sink = new KafkaSink<Ev & { doubled: number }>({ brokers, topic: output, key: (e) => e.user });
    const env = StreamEnvironment.create({ parallelism: 2 });
    env
      .fromSource(source, WatermarkStrategy.noWatermarks<Ev>(), 'events')
      .map((e) => ({ ...e, doubled: e.amount * 2 }))
      .sinkTo(sink);
    await env.execute('round-trip');

    const m = source.metrics();
    expect(m.records).toBe(3000);
    expect(m.lag).toBe(0);
    expect(m.partitions.map((p) => p.finished)).toEqual([true, true, true]);
    expect(sink.metrics().recordsDelivered).toBe(3000);

    const out = await readAll(brokers, output);
    expect(out).toHaveLength(3000);
    const byId = new Map(out.map((r) => [JSON.parse(r.value as string).id as number, r]));
    expect(byId.size).toBe(3000);
    for (const e of events) {
      const r = byId.get(e.id);
      expect(JSON.parse(r?.value as string)).toEqual({ ...e, doubled: e.amount * 2 });
      expect(r?.key).toBe(e.user);
      // The record timestamp (Kafka's) went in as event time and came out as the Kafka timestamp.
      expect(r?.timestamp).toBe(base + e.id);
    }
  });

  it('exactly-once with checkpoints: output appears once, through transactions, with the string format', async () => {
    const input = uniq('eo-in');
    const output = uniq('eo-out');
    await createTopics(brokers, [
      { topic: input, partitions: 2 },
      { topic: output, partitions: 1 },
    ]);
    await produce(
      brokers,
      input,
      Array.from({ length: 2000 }, (_, i) => ({ key: `k${i % 5}`, value: `line ${i}` })),
    );
    const source = new KafkaSource<string>({ brokers, topics: input, groupId: uniq('eo'), bounded: 'latest', format: 'string' });
    const sink = new KafkaSink<string>({
      brokers,
      topic: output,
      format: stringSerde,
      semantic: 'exactly-once',
      transactionalIdPrefix: uniq('eo-tx'),
    });
    const env = StreamEnvironment.create({ parallelism: 2, checkpoint: { dir: tmp(), intervalMs: 50 } });
    env
      .fromSource(source, WatermarkStrategy.noWatermarks<string>(), 'lines')
      .uid('lines')
      .map((s) => s.toUpperCase())
      .sinkTo(sink)
      .uid('out');
    await env.execute('exactly-once');
    expect(sink.metrics().transactionsCommitted).toBeGreaterThan(0);
    const committed = await readAll(brokers, output, { isolation: 'read_committed' });
    expect(committed.map((r) => r.value).sort()).toEqual(Array.from({ length: 2000 }, (_, i) => `LINE ${i}`).sort());
  });

  it('read_committed skips aborted transactions that the broker lists out of order (kafkajs fix)', async () => {
    // Transaction A starts first and is aborted last; B starts later and is aborted first. The
    // broker lists aborted transactions in abort order, [B, A]; kafkajs 2.2.4 assumes start order
    // and would deliver A's records. Both the source and plain kafkajs consumers must skip them.
    const topic = uniq('aborts');
    await createTopics(brokers, [{ topic, partitions: 1 }]);
    const kafka = client(brokers);
    const txProducer = (id: string) =>
      kafka.producer({ transactionalId: uniq(id), maxInFlightRequests: 1, idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
    const a = txProducer('a');
    const b = txProducer('b');
    await a.connect();
    await b.connect();
    try {
      const ta = await a.transaction();
      await ta.send({ topic, messages: [0, 1, 2, 3, 4].map((i) => ({ value: `aborted-a-${i}` })) });
      const tb = await b.transaction();
      await tb.send({ topic, messages: [0, 1, 2].map((i) => ({ value: `aborted-b-${i}` })) });
      await tb.abort();
      await ta.abort();
      const tc = await b.transaction();
      await tc.send({ topic, messages: [{ value: 'committed' }] });
      await tc.commit();
    } finally {
      await a.disconnect();
      await b.disconnect();
    }
    expect((await readAll(brokers, topic)).map((r) => r.value)).toEqual(['committed']);
    const source = new KafkaSource<string>({ brokers, topics: topic, groupId: uniq('aborts'), bounded: 'latest', format: 'string' });
    const env = StreamEnvironment.create();
    expect(await env.fromSource(source, WatermarkStrategy.noWatermarks<string>(), 'aborts').executeAndCollect()).toEqual(['committed']);
  });

  it('starts at latest, committed or a timestamp; commits checkpointed offsets to the group', async () => {
    const topic = uniq('start');
    await createTopics(brokers, [{ topic, partitions: 1 }]);
    const base = Date.UTC(2024, 5, 1);
    await produce(
      brokers,
      topic,
      Array.from({ length: 100 }, (_, i) => ({ value: String(i), timestamp: base + i * 1000 })),
    );
    const groupId = uniq('grp');
    const run = async (startingOffsets: 'earliest' | 'latest' | 'committed' | { timestamp: number }, withCheckpoints: boolean): Promise<number[]> => {
      const src = new KafkaSource<number>({ brokers, topics: [topic], groupId, startingOffsets, bounded: 'latest' });
      const env = StreamEnvironment.create(withCheckpoints ? { checkpoint: { dir: tmp(), intervalMs: 20 } } : {});
      return env.fromSource(src, WatermarkStrategy.noWatermarks<number>(), 's').uid('s').executeAndCollect();
    };
    expect(await run('latest', false)).toEqual([]);
    expect(await run({ timestamp: base + 90_500 }, false)).toEqual([91, 92, 93, 94, 95, 96, 97, 98, 99]);
    // No committed offset yet: falls back to earliest; the final checkpoint commits offset 100.
    expect(await run('committed', true)).toHaveLength(100);
    const committed = await (async () => {
      const { withAdmin } = await import('./helpers.js');
      for (let i = 0; i < 50; i++) {
        const o = await withAdmin(brokers, (a) => a.fetchOffsets({ groupId, topics: [topic] }));
        const off = Number(o[0]?.partitions[0]?.offset);
        if (off === 100) return off;
        await new Promise((r) => setTimeout(r, 100));
      }
      return -1;
    })();
    expect(committed).toBe(100);
    await produce(brokers, topic, [{ value: '100' }, { value: '101' }]);
    expect(await run('committed', false)).toEqual([100, 101]);
  });
});
