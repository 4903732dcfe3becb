import { describe, expect, it } from 'vitest';
import { AsyncDataStream, type AsyncFunction, StreamEnvironment, UserFunctionError, WatermarkStrategy } from '@weir/core';
import { CountingSource, RecordingSink, waitFor } from '../helpers.js';

/** Resolves after a pseudo-random number of event-loop turns (0–3). */
function later<T>(value: T, turns: number): Promise<T> {
  return new Promise((resolve) => {
    const step = (n: number): void => {
      if (n <= 0) resolve(value);
      else setImmediate(() => step(n - 1));
    };
    step(turns);
  });
}

interface Ev {
  readonly id: number;
  readonly ts: number;
}

const events: Ev[] = Array.from({ length: 300 }, (_, i) => ({ id: i, ts: i * 10 }));

describe('AsyncDataStream in a job', () => {
  it('orderedWait keeps input order per subtask and the inputs timestamps, at parallelism 3', async () => {
    const env = StreamEnvironment.create({ parallelism: 3 });
    const sink = new RecordingSink<{ id: number; name: string }>();
    const input = env
      .fromCollection(events)
      .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Ev>(0).withTimestampAssigner((e) => e.ts))
      .setParallelism(1)
      .rebalance();
    AsyncDataStream.orderedWait(input, (e) => later({ id: e.id, name: `user${e.id}` }, (e.id * 7) % 4), {
      timeoutMs: 60_000,
      capacity: 8,
    })
      .name('enrich')
      .sinkTo(sink);
    await env.execute();
    expect(sink.values.map((v) => v.id).sort((a, b) => a - b)).toEqual(events.map((e) => e.id));
    for (const r of sink.records) expect(r.timestamp).toBe(r.value.id * 10);
    // Round-robin from one source: each subtask sees increasing ids, and ordered mode keeps that.
    for (let s = 0; s < 3; s++) {
      const ids = sink.records.filter((r) => r.subtask === s).map((r) => r.value.id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(ids.length).toBeGreaterThan(0);
    }
  });

  it('unorderedWait emits every result once (an AsyncFunction may drop or expand inputs)', async () => {
    const env = StreamEnvironment.create({ parallelism: 2 });
    const fn: AsyncFunction<Ev, string> = {
      async asyncInvoke(e) {
        if (e.id % 3 === 0) return later([], 1);
        return later([`${e.id}a`, `${e.id}b`], e.id % 3);
      },
    };
    const out = await AsyncDataStream.unorderedWait(env.fromCollection(events).rebalance(), fn, { timeoutMs: 60_000, capacity: 4 })
      .executeAndCollect();
    const expected = events.filter((e) => e.id % 3 !== 0).flatMap((e) => [`${e.id}a`, `${e.id}b`]);
    expect([...out].sort()).toEqual([...expected].sort());
  });

  it('backpressure: a full operator stops the source; the capacity bounds concurrent calls', async () => {
    const env = StreamEnvironment.create();
    const source = new CountingSource(Number.POSITIVE_INFINITY);
    const waiting: Array<() => void> = [];
    let concurrent = 0;
    let maxConcurrent = 0;
    const lookup = (x: number): Promise<number> => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      return new Promise((resolve) =>
        waiting.push(() => {
          concurrent--;
          resolve(x);
        }),
      );
    };
    const sink = new RecordingSink<number>();
    AsyncDataStream.orderedWait(env.fromSource(source, WatermarkStrategy.noWatermarks(), 'numbers'), lookup, { timeoutMs: 60_000, capacity: 5 })
      .sinkTo(sink);
    const job = env.executeAsync('backpressure');
    await waitFor(() => waiting.length === 5, 'five requests in flight');
    for (let i = 0; i < 200; i++) await new Promise((r) => setImmediate(r));
    // The task stopped polling the source once the operator was full.
    expect(source.emitted).toBeLessThanOrEqual(6);
    expect(waiting).toHaveLength(5);
    // Releasing requests lets records through, never more than five at a time.
    for (let round = 0; round < 20; round++) {
      for (const w of waiting.splice(0)) w();
      await waitFor(() => waiting.length === 5, 'refilled');
    }
    expect(maxConcurrent).toBe(5);
    expect(sink.values.length).toBeGreaterThanOrEqual(100);
    expect(sink.values).toEqual(sink.values.map((_, i) => i));
    await job.cancel();
  });

  it('a request that keeps failing fails the job naming the operator and the cause', async () => {
    const env = StreamEnvironment.create();
    const job = AsyncDataStream.unorderedWait(
      env.fromSequence(1, 5),
      async (x: number) => {
        if (x === 3) throw new Error('lookup service unavailable');
        return x;
      },
      { timeoutMs: 60_000, retry: { maxAttempts: 2 } },
    )
      .name('enrich-users')
      .executeAndCollect();
    await expect(job).rejects.toBeInstanceOf(UserFunctionError);
    await expect(job).rejects.toThrow(/operator 'enrich-users'.*lookup service unavailable/);
  });
});
