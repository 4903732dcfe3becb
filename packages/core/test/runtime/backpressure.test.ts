import { type Sink, type SinkWriter, StreamEnvironment, WatermarkStrategy } from '@weir/core';
import { describe, expect, it } from 'vitest';
import { CountingSource, settle, waitFor } from '../helpers.js';

/** A sink whose writers refuse records (isAvailable() === false) until the gate opens. */
class GatedSink implements Sink<number> {
  open = false;
  written: number[] = [];
  private waiters: Array<() => void> = [];

  release(): void {
    this.open = true;
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  createWriter(): SinkWriter<number> {
    return {
      write: (v) => {
        this.written.push(v);
      },
      isAvailable: () => this.open,
      whenAvailable: () => (this.open ? Promise.resolve() : new Promise<void>((resolve) => this.waiters.push(resolve))),
    };
  }
}

/**
 * A sink whose writer buffers records and is unavailable while the buffer holds `limit` or
 * more; the test drains it. Records the largest buffer it ever had.
 */
class BufferingSink implements Sink<number> {
  buffer: number[] = [];
  drained: number[] = [];
  maxBuffered = 0;
  private waiters: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  drain(): void {
    this.drained.push(...this.buffer);
    this.buffer = [];
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  createWriter(): SinkWriter<number> {
    return {
      write: (v) => {
        this.buffer.push(v);
        this.maxBuffered = Math.max(this.maxBuffered, this.buffer.length);
      },
      isAvailable: () => this.buffer.length < this.limit,
      whenAvailable: () =>
        this.buffer.length < this.limit ? Promise.resolve() : new Promise<void>((resolve) => this.waiters.push(resolve)),
      flush: (end) => {
        if (end) this.drain();
      },
    };
  }
}

describe('backpressure', () => {
  it.each([
    [1, 1, 1],
    [4, 2, 1],
    [16, 3, 1],
    [4, 2, 3],
  ])(
    'a blocked sink stops the source (batchSize %i, channelCapacity %i, sink parallelism %i); nothing is lost once it is released',
    async (batchSize, channelCapacity, sinkParallelism) => {
      const n = 3_000;
      const env = StreamEnvironment.create({ batchSize, channelCapacity });
      const source = new CountingSource(n);
      const sink = new GatedSink();
      env
        .fromSource(source, WatermarkStrategy.noWatermarks(), 'counting')
        .rebalance() // an exchange between the source and the sink
        .map((x) => x)
        .setParallelism(sinkParallelism)
        .sinkTo(sink)
        .setParallelism(sinkParallelism);
      const client = env.executeAsync('backpressure');
      await waitFor(() => source.emitted > 0, 'source started');
      await settle(300);
      const emitted = source.emitted;
      // what an exchange may hold: every channel full, plus the batch being filled
      const inFlight = sinkParallelism * (channelCapacity + 1) * batchSize;
      expect(sink.written).toEqual([]);
      expect(emitted - sink.written.length).toBeLessThanOrEqual(inFlight);
      await settle(300);
      expect(source.emitted).toBe(emitted); // the source really stopped
      expect(client.metrics().tasks.some((t) => t.backpressured)).toBe(true);

      sink.release();
      const result = await client.done;
      expect(result.status).toBe('finished');
      expect(source.emitted).toBe(n);
      expect([...sink.written].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
      if (sinkParallelism === 1) expect(sink.written).toEqual(Array.from({ length: n }, (_, i) => i));
    },
  );

  it('a sink chained to its source is fed only while it is available', async () => {
    const n = 5_000;
    const limit = 10;
    const env = StreamEnvironment.create({ batchSize: 4, channelCapacity: 2 });
    const source = new CountingSource(n);
    const sink = new BufferingSink(limit);
    env.fromSource(source, WatermarkStrategy.noWatermarks(), 'counting').sinkTo(sink);
    const client = env.executeAsync();
    let finished = false;
    void client.done.then(() => {
      finished = true;
    });
    let rounds = 0;
    while (!finished && rounds < 10_000) {
      await waitFor(() => finished || sink.buffer.length >= limit, 'the buffer fills');
      await settle(5);
      expect(sink.buffer.length).toBeLessThanOrEqual(limit);
      sink.drain();
      rounds++;
    }
    await client.done;
    expect(sink.maxBuffered).toBeLessThanOrEqual(limit);
    expect(sink.drained).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(rounds).toBeGreaterThanOrEqual(n / limit);
  });

  it('a sink chained behind an exchange is fed at most one batch past unavailability', async () => {
    const n = 3_000;
    const limit = 10;
    const batchSize = 4;
    // a deep channel, so that one step of the sink's task could take several batches at once
    const env = StreamEnvironment.create({ batchSize, channelCapacity: 8 });
    const source = new CountingSource(n);
    const sink = new BufferingSink(limit);
    env
      .fromSource(source, WatermarkStrategy.noWatermarks(), 'counting')
      .keyBy((x) => x % 3)
      .reduce((_a, b) => b) // reduce -> sink is one task fed by the keyBy exchange
      .sinkTo(sink);
    const client = env.executeAsync();
    let finished = false;
    void client.done.then(() => {
      finished = true;
    });
    while (!finished) {
      await waitFor(() => finished || sink.buffer.length >= limit, 'the buffer fills');
      await settle(5);
      sink.drain();
    }
    await client.done;
    // the task checks availability before every batch: one batch may overshoot, not more
    expect(sink.maxBuffered).toBeLessThanOrEqual(limit - 1 + batchSize);
    expect(sink.drained).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('a slow keyed consumer bounds what is in flight through several exchanges', async () => {
    const n = 4_000;
    const batchSize = 8;
    const channelCapacity = 2;
    const env = StreamEnvironment.create({ parallelism: 2, batchSize, channelCapacity });
    const source = new CountingSource(n);
    const sink = new GatedSink();
    env
      .fromSource(source, WatermarkStrategy.noWatermarks(), 'counting')
      .flatMap<number>((x, out) => {
        out.collect(x);
        out.collect(-x - 1); // doubles the records downstream of the source
      })
      .keyBy((x) => x % 7)
      .reduce((_a, b) => b)
      .sinkTo(sink);
    const client = env.executeAsync();
    await waitFor(() => source.emitted > 0, 'source started');
    await settle(400);
    const emitted = source.emitted;
    // source (p 1) -rebalance, 2 channels-> flatMap (p 2) -keyBy, 2 x 2 channels-> reduce -> sink;
    // each channel holds at most channelCapacity + 1 batches, and flatMap doubles the records
    const perChannel = (channelCapacity + 1) * batchSize;
    expect(sink.written).toEqual([]);
    expect(emitted).toBeLessThanOrEqual(2 * perChannel + (4 * perChannel) / 2);
    await settle(200);
    expect(source.emitted).toBe(emitted);
    sink.release();
    await client.done;
    expect(sink.written).toHaveLength(2 * n);
  });
});
