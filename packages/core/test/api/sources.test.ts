import {
  type Collector,
  type InputStatus,
  jsonSerde,
  type KeyedProcessContext,
  type KeyedProcessFunction,
  type ReaderOutput,
  type Source,
  type SourceOutput,
  type SourceReader,
  type SourceReaderContext,
  type SourceSplit,
  type SplitEnumeratorContext,
  SplitQueueReader,
  StaticSplitEnumerator,
  StreamEnvironment,
  WatermarkStrategy,
} from '@weir/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CountingSource, QueueSource, RecordingSink, settle, waitFor } from '../helpers.js';

interface Rec {
  split: string;
  ts: number;
}

interface TsSplit extends SourceSplit {
  readonly timestamps: readonly number[];
  position: number;
}

/**
 * A bounded, parallel, split-based source: every split is a list of (monotonic) timestamps; a
 * reader interleaves its splits as `schedule` says and gives every split its own output, so
 * each split has its own watermark generator.
 */
class TimestampSplitSource implements Source<Rec, TsSplit, TsSplit[]> {
  readonly boundedness = 'bounded' as const;
  readonly emitsWatermarkPerRecord = true;
  readonly splitSerde = jsonSerde<TsSplit>();
  readonly enumeratorStateSerde = jsonSerde<TsSplit[]>();
  readonly readers: number[] = [];

  constructor(
    private readonly splits: readonly TsSplit[],
    private readonly schedule: readonly number[],
  ) {}

  createEnumerator(ctx: SplitEnumeratorContext<TsSplit>): StaticSplitEnumerator<TsSplit> {
    return new StaticSplitEnumerator(ctx, this.splits.map((s) => ({ ...s })));
  }

  restoreEnumerator(ctx: SplitEnumeratorContext<TsSplit>, checkpoint: TsSplit[]): StaticSplitEnumerator<TsSplit> {
    return new StaticSplitEnumerator(ctx, checkpoint);
  }

  createReader(ctx: SourceReaderContext): SourceReader<Rec, TsSplit> {
    this.readers.push(ctx.subtaskIndex);
    return new TimestampSplitReader(this.schedule);
  }
}

/** Interleaves its splits as `schedule` says, each through its own split output. */
class TimestampSplitReader extends SplitQueueReader<Rec, TsSplit> {
  private readonly outputs = new Map<string, SourceOutput<Rec>>();
  private step = 0;

  constructor(private readonly schedule: readonly number[]) {
    super();
  }

  pollNext(output: ReaderOutput<Rec>): InputStatus {
    for (const s of this.splits) if (!this.outputs.has(s.splitId)) this.outputs.set(s.splitId, output.createOutputForSplit(s.splitId));
    const live = this.splits.filter((s) => s.position < s.timestamps.length);
    if (live.length === 0) return this.noMoreSplits ? 'end' : 'nothing';
    const s = live[(this.schedule[this.step++ % Math.max(1, this.schedule.length)] ?? 0) % live.length] as TsSplit;
    const ts = s.timestamps[s.position++] as number;
    (this.outputs.get(s.splitId) as SourceOutput<Rec>).collect({ split: s.splitId, ts });
    if (s.position === s.timestamps.length) output.releaseOutputForSplit(s.splitId);
    return 'more';
  }
}

/** Reports every element with the watermark current when it arrived. */
class Lateness implements KeyedProcessFunction<string, Rec, { ts: number; wm: number }> {
  processElement(r: Rec, ctx: KeyedProcessContext<string>, out: Collector<{ ts: number; wm: number }>): void {
    out.collect({ ts: r.ts, wm: ctx.timerService().currentWatermark() });
  }
}

const monotonic = fc.array(fc.integer({ min: 0, max: 100 }), { maxLength: 30 }).map((ds) => {
  let t = 0;
  return ds.map((d) => (t += d));
});

describe('split-based sources', () => {
  it('per-split watermarks: interleaving splits never makes records late (the source emits the minimum)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(monotonic, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(7), { maxLength: 50 }),
        fc.integer({ min: 1, max: 3 }),
        async (tss, schedule, p) => {
          const splits: TsSplit[] = tss.map((timestamps, i) => ({ splitId: `s${i}`, timestamps, position: 0 }));
          const source = new TimestampSplitSource(splits, schedule);
          const env = StreamEnvironment.create({ parallelism: p });
          const out = await env
            .fromSource(source, WatermarkStrategy.forMonotonousTimestamps<Rec>().withTimestampAssigner((r) => r.ts), 'splits')
            .keyBy((r) => r.split)
            .process(new Lateness())
            .executeAndCollect();
          expect(source.readers.sort()).toEqual(Array.from({ length: p }, (_, i) => i));
          expect(out.map((o) => o.ts).sort((a, b) => a - b)).toEqual(tss.flat().sort((a, b) => a - b));
          for (const o of out) expect(o.ts).toBeGreaterThan(o.wm);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('records with the source’s own timestamps carry event time without an assigner', async () => {
    const source = new QueueSource<string>('bounded', true);
    source.push('a', 10).push('b', 20).end();
    class AtEnd implements KeyedProcessFunction<string, string, string> {
      processElement(_v: string, ctx: KeyedProcessContext<string>): void {
        ctx.timerService().registerEventTimeTimer((ctx.timestamp() ?? 0) + 1);
      }
      onTimer(ts: number, ctx: { getCurrentKey(): string }, out: Collector<string>): void {
        out.collect(`${ctx.getCurrentKey()}@${ts}`);
      }
    }
    const out = await StreamEnvironment.create()
      .fromSource(source, WatermarkStrategy.noWatermarks<string>(), 'native')
      .keyBy((v) => v)
      .process(new AtEnd())
      .executeAndCollect();
    expect(out).toEqual(['a@11', 'b@21']);
  });

  it('fromCollection and fromElements keep their order; fromSequence is complete at any parallelism', async () => {
    const env = StreamEnvironment.create({ parallelism: 4 });
    expect(await env.fromCollection(new Set(['x', 'y', 'z'])).setParallelism(1).executeAndCollect()).toEqual(['x', 'y', 'z']);
    expect(await env.fromElements(3, 1, 2).executeAndCollect()).toEqual([3, 1, 2]);
    const seq = await env.fromSequence(1, 3).executeAndCollect();
    expect(seq.sort()).toEqual([1, 2, 3]);
    expect(() => env.fromSequence(5, 1)).toThrow(RangeError);
  });
});

describe('executeAsync and JobClient', () => {
  it('cancels an unbounded source; metrics count the records', async () => {
    const env = StreamEnvironment.create({ batchSize: 64 });
    const source = new CountingSource(Number.POSITIVE_INFINITY);
    const sink = new RecordingSink<number>();
    env
      .fromSource(source, WatermarkStrategy.noWatermarks(), 'forever')
      .filter((n) => n % 2 === 0)
      .sinkTo(sink, 'evens');
    const client = env.executeAsync('unbounded');
    expect(client.jobName).toBe('unbounded');
    await waitFor(() => sink.records.length >= 5_000, 'records flowing');
    const m = client.metrics();
    expect(m.status).toBe('running');
    expect(m.jobName).toBe('unbounded');
    expect(m.sinkRecords).toBe(sink.records.length);
    expect(m.sourceRecords).toBe(source.emitted);
    expect(m.sourceRecords).toBeGreaterThanOrEqual(2 * m.sinkRecords - 1);
    const evens = m.operators.find((o) => o.name === 'evens');
    expect(evens?.recordsIn).toBe(sink.records.length);

    await client.cancel();
    const result = await client.done;
    expect(result.status).toBe('cancelled');
    expect(result.metrics.status).toBe('cancelled');
    expect(source.closed).toBe(true);
    expect(sink.closed).toBe(1);
    const after = sink.records.length;
    await settle();
    expect(sink.records.length).toBe(after); // nothing runs after cancel
    expect(sink.values.every((n) => n % 2 === 0)).toBe(true);
    expect(sink.values).toEqual(sink.values.map((_, i) => 2 * i)); // in order, no gaps
    await client.cancel(); // cancelling twice is harmless
  });

  it('cancels a job whose source is waiting for data', async () => {
    const env = StreamEnvironment.create();
    const source = new QueueSource<number>();
    const sink = new RecordingSink<number>();
    env.fromSource(source, WatermarkStrategy.noWatermarks(), 'queue').map((n) => n + 1).sinkTo(sink);
    const client = env.executeAsync();
    source.push(1).push(2);
    await waitFor(() => sink.records.length === 2, 'two records');
    await client.cancel();
    expect((await client.done).status).toBe('cancelled');
    expect(sink.values).toEqual([2, 3]);
    expect(source.closed).toBe(true);
  });

  it('a bounded custom source finishes the job: done resolves with the final metrics', async () => {
    const env = StreamEnvironment.create({ parallelism: 2 });
    const sink = new RecordingSink<number>();
    env.fromSource(new CountingSource(1_000), WatermarkStrategy.noWatermarks(), 'thousand').rebalance().map((n) => n * 2).sinkTo(sink);
    const client = env.executeAsync('bounded');
    const result = await client.done;
    expect(result.status).toBe('finished');
    expect(result.jobName).toBe('bounded');
    expect(result.metrics.sourceRecords).toBe(1_000);
    expect(result.metrics.sinkRecords).toBe(1_000);
    expect(result.metrics.watermark).toBe(Number.POSITIVE_INFINITY);
    expect(result.metrics.tasks.every((t) => t.status === 'finished')).toBe(true);
    expect(sink.flushedAtEnd).toBe(2);
    expect(sink.values.reduce((a, b) => a + b, 0)).toBe(999 * 1_000);
  });
});
