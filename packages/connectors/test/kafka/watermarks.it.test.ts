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
import { createTopics, delay, kafkaEnv, produce, uniq, withAdmin } from './helpers.js';

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
    await produce(brokers, topic, Array.from({ length: 10 }, (_, s) => at(0, s))); // partition 1 stays empty

    const held = start(new KafkaSource<Ev>({ brokers, topics: [topic], groupId: uniq('wm') }), WatermarkStrategy.forBoundedOutOfOrderness<Ev>(0));
    try {
      await until(() => new KafkaSourceProbe(held.client).sourceRecords() >= 10);
      await delay(1_500);
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
      await until(() => idle.fired.length >= 9);
      expect(idle.fired.sort()).toEqual(Array.from({ length: 9 }, (_, s) => `p0-${s}`).sort());
      // Both partitions move on; event time follows (p0-9 fires), never past the maximum seen.
      await produce(brokers, topic, [at(1, 12), at(0, 15)]);
      await until(() => idle.fired.includes('p0-9'), 20_000, state);
      await delay(800);
      expect(idle.fired).not.toContain('p0-15');
    } finally {
      await idle.client.cancel();
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

/** Reads the source's emitted-record count from the job metrics. */
class KafkaSourceProbe {
  constructor(private readonly client: JobClient) {}
  sourceRecords(): number {
    return this.client.metrics().sourceRecords;
  }
}
