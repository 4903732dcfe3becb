// The at-least-once KafkaSink with several produce requests in flight: per-partition order, every
// record delivered, flushes at checkpoints, and a failed request fails the job.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaSink } from '@weir/connectors';
import { StreamEnvironment } from '@weir/core';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createTopics, kafkaEnv, readAll, uniq } from './helpers.js';

interface Rec {
  seq: number;
  key: string;
  /** The key's own running number: 0, 1, 2, ... in write order. */
  n: number;
}

const KEYS = 13;
const toRec = (seq: number): Rec => ({ seq, key: `k${seq % KEYS}`, n: Math.floor(seq / KEYS) });

let brokers = '';
const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'weir-kafka-pipe-'));
  dirs.push(d);
  return d;
}

beforeEach(() => {
  brokers = kafkaEnv().brokers;
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Writes `n` records through an at-least-once sink with checkpoints; returns what the topic holds. */
async function writeThrough(n: number, sinkOptions: { maxInFlightRequests: number; batchBytes: number }): Promise<{ sink: KafkaSink<Rec>; topic: string }> {
  const topic = uniq('pipe');
  await createTopics(brokers, [{ topic, partitions: 3 }]);
  const sink = new KafkaSink<Rec>({ brokers, topic, key: (r) => r.key, ...sinkOptions });
  const env = StreamEnvironment.create({ parallelism: 1, checkpoint: { dir: tmp(), intervalMs: 20 } });
  env.fromSequence(0, n - 1).uid('seq').map(toRec).uid('rec').sinkTo(sink).uid('out');
  await env.execute('pipelined sink');
  return { sink, topic };
}

function expectOrderedOnce(records: ReadonlyArray<{ partition: number; value: string | null }>, n: number): void {
  const next = new Map<string, number>();
  const partitionOf = new Map<string, number>();
  for (const r of records) {
    const rec = JSON.parse(r.value as string) as Rec;
    // One key, one partition; within it the key's records in write order, each once.
    expect(partitionOf.get(rec.key) ?? r.partition).toBe(r.partition);
    partitionOf.set(rec.key, r.partition);
    expect(rec.n, `record ${rec.seq} of ${rec.key}`).toBe(next.get(rec.key) ?? 0);
    next.set(rec.key, rec.n + 1);
  }
  expect(records).toHaveLength(n);
}

describe('KafkaSink at-least-once, pipelined', () => {
  it('many small requests in flight: each partition gets its records once, in write order', async () => {
    const n = 30_000;
    const { sink, topic } = await writeThrough(n, { maxInFlightRequests: 8, batchBytes: 4 * 1024 });
    expect(sink.metrics()).toMatchObject({ records: n, recordsDelivered: n });
    expectOrderedOnce(await readAll(brokers, topic), n);
  });

  it('one request in flight (idempotent producer): the same', async () => {
    const n = 10_000;
    const { sink, topic } = await writeThrough(n, { maxInFlightRequests: 1, batchBytes: 16 * 1024 });
    expect(sink.metrics()).toMatchObject({ records: n, recordsDelivered: n });
    expectOrderedOnce(await readAll(brokers, topic), n);
  });

  it('a request the broker refuses fails the job', async () => {
    const topic = uniq('pipe-fail');
    await createTopics(brokers, [{ topic }]);
    const big = 'x'.repeat(2 * 1024 * 1024); // above the broker's message.max.bytes (1 MiB)
    const env = StreamEnvironment.create({ parallelism: 1 });
    env
      .fromSequence(0, 99)
      .map((i) => ({ i, pad: i === 50 ? big : '' }))
      .sinkTo(new KafkaSink<{ i: number; pad: string }>({ brokers, topic, maxInFlightRequests: 4, batchBytes: 1024 }));
    const err = await env.execute('refused').then(
      () => undefined,
      (e: unknown) => e,
    );
    const messages: string[] = [];
    for (let e = err; e instanceof Error; e = e.cause) messages.push(e.message);
    expect(messages.join('\n')).toContain('KafkaSink: sending failed');
  });
});
