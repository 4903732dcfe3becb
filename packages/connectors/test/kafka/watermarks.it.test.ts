// Per-partition watermarks, idle partitions, and partition/topic discovery against a real broker.
import { KafkaSource } from '@weir/connectors';
import {
  type Collector,
  type JobClient,
  type KeyedProcessContext,
  type KeyedProcessFunction,
  type OnTimerContext,
  StreamEnvironment,
  WatermarkStrategy,
} from '@weir/core';
import { beforeEach, describe, expect, it } from 'vitest';
import kafkajs from 'kafkajs';
import { client, createTopics, delay, kafkaEnv, produce, uniq, withAdmin } from './helpers.js';

const { Partitioners } = kafkajs;

interface Ev {
  id: string;
  ts: number;
}

let brokers = '';
// Per test, so that without a broker every test fails with the reason (not skipped).
beforeEach(() => {
  brokers = kafkaEnv().brokers;
});

/** Emits an event's id when event time reaches its timestamp (a timer per event). */
class FireAtEventTime implements KeyedProcessFunction<string, Ev, string> {
  processElement(e: Ev, ctx: KeyedProcessContext<string>, _out: Collector<string>): void {
    ctx.timerService().registerEventTimeTimer(e.ts);
  }
  onTimer(_ts: number, ctx: OnTimerContext<string>, out: Collector<string>): void {
    out.collect(ctx.getCurrentKey());
  }
}

/** Starts an unbounded job collecting what `FireAtEventTime` emits. */
function start(source: KafkaSource<Ev>, strategy: WatermarkStrategy<Ev>): { fired: string[]; client: JobClient } {
  const fired: string[] = [];
  const env = StreamEnvironment.create({ parallelism: 1, autoWatermarkInterval: 50 });
  env
    .fromSource(source, strategy, 'events')
    .keyBy((e) => e.id)
    .process(new FireAtEventTime())
    .sinkTo({ createWriter: () => ({ write: (v: string) => void fired.push(v) }) });
  return { fired, client: env.executeAsync('watermarks') };
}

async function until(cond: () => boolean, timeoutMs = 20_000, state?: () => unknown): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`condition not reached in time${state === undefined ? '' : `: ${JSON.stringify(state())}`}`);
    await delay(50);
  }
}

const base = Date.UTC(2024, 0, 1);
const at = (p: number, s: number): { partition: number; value: string; timestamp: number } => ({
  partition: p,
  value: JSON.stringify({ id: `p${p}-${s}`, ts: base + s * 1000 }),
  timestamp: base + s * 1000,
});

describe('Kafka per-partition watermarks', () => {
  it('the watermark is the minimum over partitions (Kafka record timestamps by default)', async () => {
    const topic = uniq('wm-min');
    await createTopics(brokers, [{ topic, partitions: 2 }]);
    await produce(brokers, topic, [...Array.from({ length: 30 }, (_, s) => at(0, s)), ...Array.from({ length: 10 }, (_, s) => at(1, s))]);
    const source = new KafkaSource<Ev>({ brokers, topics: [topic], groupId: uniq('wm') });
    const { fired, client } = start(source, WatermarkStrategy.forBoundedOutOfOrderness<Ev>(0));
    try {
      // Partition 1 reached 9 s, partition 0 29 s: event time is 9 s − 1 ms, so timers up to 8 s fire.
      await until(() => fired.length >= 18);
      await delay(500);
      expect(fired.sort()).toEqual([...Array.from({ length: 9 }, (_, s) => `p0-${s}`), ...Array.from({ length: 9 }, (_, s) => `p1-${s}`)].sort());
      // Partition 1 moves on: event time follows its minimum.
      await produce(brokers, topic, [at(1, 20)]);
      await until(() => fired.length >= 18 + 11 + 1);
      await delay(300);
      expect(fired.filter((f) => f.startsWith('p0-')).length).toBe(20); // p0: 0..19 s
      expect(fired.filter((f) => f.startsWith('p1-')).length).toBe(10); // p1: 0..9 s (20 s is the max)
    } finally {
      await client.cancel();
    }
  });

  it('an idle partition holds event time back, unless the strategy has withIdleness', async () => {
    const topic = uniq('wm-idle');
    await createTopics(brokers, [{ topic, partitions: 2 }]);
    await produce(brokers, topic, Array.from({ length: 10 }, (_, s) => at(0, s)));
    // Partition 0 stays active (an event every 100 ms, event time 10 s, 11 s, ...); partition 1
    // stays empty. (Were both idle, event time would not move at all: idleness only excludes.)
    const ticker = await tick(topic, 0, 10);
    try {
      const heldSource = new KafkaSource<Ev>({ brokers, topics: [topic], groupId: uniq('wm') });
      const held = start(heldSource, WatermarkStrategy.forBoundedOutOfOrderness<Ev>(0));
      try {
        await until(() => (heldSource.metrics().partitions.find((p) => p.partition === 0)?.records ?? 0) >= 15);
        await delay(500);
        expect(held.fired).toEqual([]);
      } finally {
        await held.client.cancel();
      }

      const idleSource = new KafkaSource<Ev>({ brokers, topics: [topic], groupId: uniq('wm') });
      const idle = start(idleSource, WatermarkStrategy.forBoundedOutOfOrderness<Ev>(0).withIdleness(300));
      const state = (): unknown => ({
        fired: idle.fired,
        partitions: idleSource.metrics().partitions,
        watermarks: idle.client.metrics().operators.map((o) => [o.name, o.watermark - base]),
      });
      try {
        // Partition 1 is idle after 300 ms: event time follows partition 0 alone.
        await until(() => idle.fired.length >= 12, 20_000, state);
        expect(idle.fired.every((f) => f.startsWith('p0-'))).toBe(true);
        for (let s = 0; s < 12; s++) expect(idle.fired).toContain(`p0-${s}`);
      } finally {
        await idle.client.cancel();
      }
    } finally {
      await ticker.stop();
    }
  });

  it('picks up new partitions and, with topicPattern, new topics while running', async () => {
    const prefix = uniq('disc');
    const first = `${prefix}-a`;
    await createTopics(brokers, [{ topic: first, partitions: 1 }]);
    await produce(brokers, first, [at(0, 1)]);
    const source = new KafkaSource<Ev>({
      brokers,
      topicPattern: new RegExp(`^${prefix}-`),
      groupId: uniq('disc'),
      startingOffsets: 'latest', // only for what exists at the start; discovered partitions start at earliest
      partitionDiscoveryIntervalMs: 300,
    });
    const seen: string[] = [];
    const env = StreamEnvironment.create({ parallelism: 2 });
    env.fromSource(source, WatermarkStrategy.noWatermarks<Ev>(), 'disc').sinkTo({ createWriter: () => ({ write: (e: Ev) => void seen.push(e.id) }) });
    const client = env.executeAsync('discovery');
    try {
      await until(() => source.metrics().partitions.length === 1);
      await produce(brokers, first, [at(0, 2)]);
      await withAdmin(brokers, (a) => a.createPartitions({ topicPartitions: [{ topic: first, count: 3 }] }));
      await produce(brokers, first, [at(1, 3), at(2, 4)]);
      const second = `${prefix}-b`;
      await createTopics(brokers, [{ topic: second, partitions: 2 }]);
      await produce(brokers, second, [at(0, 5), at(1, 6)]);
      await until(() => seen.length >= 5);
      await delay(300);
      expect(seen.sort()).toEqual(['p0-2', 'p1-3', 'p2-4', 'p0-5', 'p1-6'].sort());
      expect(source.metrics().partitions.length).toBe(5);
    } finally {
      await client.cancel();
    }
  });
});

/** Produces an event to `partition` every 100 ms, event time `from` s, `from + 1` s, ... */
async function tick(topic: string, partition: number, from: number): Promise<{ stop(): Promise<void> }> {
  const producer = client(brokers).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  let s = from;
  let sending: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    const m = at(partition, s++);
    sending = sending.then(() => producer.send({ topic, messages: [{ ...m, timestamp: String(m.timestamp) }] })).catch(() => {});
  }, 100);
  return {
    async stop() {
      clearInterval(timer);
      await sending;
      await producer.disconnect();
    },
  };
}
