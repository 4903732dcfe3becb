import { describe, expect, it } from 'vitest';
import { AsyncDataStream, MapStateDescriptor, StreamEnvironment, WatermarkStrategy } from '@weir/core';
import { GatedSequenceSource } from '@weir/core/testing';
import { expectedSums, RunningSum, tempDir } from './helpers.js';

describe('async I/O with checkpoints', () => {
  for (const mode of ['ordered', 'unordered'] as const) {
    it(`${mode}: requests in flight at a checkpoint are re-issued after a restore, exactly once`, async () => {
      const dir = await tempDir('weir-async-cp-');
      const n = 8_000;
      const gate = 1_000;
      // Run 1: lookups of the last records before each gate hang until released, so they are
      // in flight when the checkpoint is taken at the gate; then the sink fails.
      const held: Array<() => void> = [];
      let heldCount = 0;
      const lookup1 = (x: number): Promise<number> =>
        new Promise((resolve) => {
          if ((x - 1) % 2_000 >= gate - 5 && (x - 1) % 2_000 < gate) {
            heldCount++;
            held.push(() => resolve(x));
          } else setImmediate(() => resolve(x));
        });
      const wait = mode === 'ordered' ? AsyncDataStream.orderedWait : AsyncDataStream.unorderedWait;
      const env1 = StreamEnvironment.create({ parallelism: 2, checkpoint: { dir } });
      const gated = new GatedSequenceSource(n, 4, gate);
      let armed = false;
      const build = (env: StreamEnvironment, source: GatedSequenceSource, lookup: (x: number) => Promise<number>, sink: (v: [number, number]) => void): void => {
        const numbers = env.fromSource(source, WatermarkStrategy.noWatermarks<number>(), 'gated').uid('source');
        wait(numbers, lookup, { timeoutMs: 60_000, capacity: 16 })
          .uid('enrich')
          .keyBy((x) => x % 10)
          .process(new RunningSum())
          .uid('running-sum')
          .sinkTo({ createWriter: () => ({ write: sink }) })
          .uid('sink');
      };
      build(env1, gated, lookup1, () => {
        if (armed) throw new Error('injected failure');
      });
      const job = env1.executeAsync('async-cp-fail');
      // Wait until requests are held and the source stopped: at its gates, or (ordered mode)
      // held back by the full operator behind a hanging request.
      for (let prev = -1; heldCount < 5 || gated.emitted !== prev; ) {
        prev = gated.emitted;
        await new Promise((r) => setTimeout(r, 20));
      }
      const cp = await job.triggerCheckpoint();
      expect(cp.checkpointId).toBeGreaterThan(0);
      armed = true;
      gated.release();
      for (const h of held.splice(0)) h();
      await expect(job.done).rejects.toThrow(/injected failure/);

      // Run 2: restore; the held inputs come back from the checkpoint and are looked up again.
      const last = new Map<number, number>();
      const env2 = StreamEnvironment.create({ parallelism: 3, checkpoint: { dir, intervalMs: 50 }, restore: 'latest' });
      build(env2, new GatedSequenceSource(n, 4, undefined), (x) => Promise.resolve(x), ([k, s]) => void last.set(k, s));
      await env2.execute('async-cp-restore');
      // Every input summed exactly once: none lost in flight, none duplicated.
      expect(last).toEqual(expectedSums(n));
    });
  }
});

describe('broadcast state with checkpoints', () => {
  it('is restored from the checkpoint: the rule is not sent again, yet every instance applies it', async () => {
    const dir = await tempDir('weir-bc-cp-');
    const factors = new MapStateDescriptor<string, number>('factors');
    let applied = 0;
    const build = (env: StreamEnvironment, events: GatedSequenceSource, out: (v: number) => void): void => {
      const rules = env.fromElements<[string, number]>(['factor', 3]).uid('rules').broadcast(factors);
      env
        .fromSource(events, WatermarkStrategy.noWatermarks<number>(), 'events')
        .uid('events')
        .rebalance()
        .connect(rules)
        .process<number>({
          processBroadcastElement([k, v], ctx) {
            ctx.getBroadcastState(factors).put(k, v);
            applied++;
          },
          processElement(x, ctx, col) {
            col.collect(x * (ctx.getBroadcastState(factors).get('factor') ?? 1));
          },
        })
        .uid('scale')
        .sinkTo({ createWriter: () => ({ write: out }) })
        .uid('sink');
    };
    // Run 1: the events wait at their gate (nothing emitted); the rule reaches all 3 instances;
    // a checkpoint is taken; the job is cancelled.
    const env1 = StreamEnvironment.create({ parallelism: 3, checkpoint: { dir } });
    const gated = new GatedSequenceSource(300, 2, 0);
    build(env1, gated, () => {});
    const job = env1.executeAsync('bc-cp');
    while (applied < 3) await new Promise((r) => setTimeout(r, 2));
    await job.triggerCheckpoint();
    await job.cancel();
    expect(gated.emitted).toBe(0);
    // Run 2, at another parallelism: the rule source restores as finished and sends nothing.
    applied = 0;
    const out: number[] = [];
    const env2 = StreamEnvironment.create({ parallelism: 2, checkpoint: { dir }, restore: 'latest' });
    build(env2, new GatedSequenceSource(300, 2, undefined), (v) => void out.push(v));
    await env2.execute('bc-restore');
    expect(applied).toBe(0);
    expect(out.sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => 3 * (i + 1)));
  });
});
