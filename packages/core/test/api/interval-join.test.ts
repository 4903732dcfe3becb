import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DataStream,
  type IntervalJoin,
  type IntervalJoined,
  InvalidPipelineError,
  OutputTag,
  type ProcessJoinFunction,
  StreamEnvironment,
  WatermarkStrategy,
} from '@weir/core';
import { TwoInputOperatorHarness } from '@weir/core/testing';
import { IntervalJoinOperator } from '../../src/runtime/operators/IntervalJoinOperator.js';

interface Ev {
  readonly key: string;
  readonly ts: number;
  readonly id: number;
}

/** One joined pair as the tests record it: ids of both sides and the output's timestamp. */
type Pair = [left: number, right: number, ts: number];

const pairFn: ProcessJoinFunction<Ev, Ev, Pair> = {
  processElement(l, r, ctx, out) {
    expect(ctx.leftTimestamp()).toBe(l.ts);
    expect(ctx.rightTimestamp()).toBe(r.ts);
    out.collect([l.id, r.id, ctx.timestamp()]);
  },
};

interface Bounds {
  readonly lower: number;
  readonly upper: number;
  readonly lowerExclusive: boolean;
  readonly upperExclusive: boolean;
}

/** The nested-loop reference: every pair of equal keys within the bounds. */
function referenceJoin(lefts: readonly Ev[], rights: readonly Ev[], b: Bounds): Pair[] {
  const out: Pair[] = [];
  for (const l of lefts) {
    for (const r of rights) {
      if (l.key !== r.key) continue;
      const d = r.ts - l.ts;
      const aboveLower = b.lowerExclusive ? d > b.lower : d >= b.lower;
      const belowUpper = b.upperExclusive ? d < b.upper : d <= b.upper;
      if (aboveLower && belowUpper) out.push([l.id, r.id, Math.max(l.ts, r.ts)]);
    }
  }
  return out;
}

const sortPairs = (ps: readonly Pair[]): Pair[] => [...ps].sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);

/** Reorders events so that each arrives at most `bound` ms of event time after a later one. */
function shuffleWithinBound(events: readonly Ev[], bound: number, jitter: readonly number[]): Ev[] {
  return events
    .map((e, i) => ({ e, k: e.ts + ((jitter[i % jitter.length] ?? 0) % (bound + 1)), i }))
    .sort((a, b) => a.k - b.k || a.i - b.i)
    .map((x) => x.e);
}

const boundsArb: fc.Arbitrary<Bounds> = fc
  .record({
    lower: fc.integer({ min: -300, max: 300 }),
    width: fc.integer({ min: 0, max: 400 }),
    lowerExclusive: fc.boolean(),
    upperExclusive: fc.boolean(),
  })
  .filter((b) => b.width >= (b.lowerExclusive ? 1 : 0) + (b.upperExclusive ? 1 : 0))
  .map((b) => ({ lower: b.lower, upper: b.lower + b.width, lowerExclusive: b.lowerExclusive, upperExclusive: b.upperExclusive }));

const sideArb = (idBase: number): fc.Arbitrary<Ev[]> =>
  fc
    .array(fc.record({ key: fc.constantFrom('a', 'b', 'c'), ts: fc.integer({ min: 0, max: 2_000 }) }), { maxLength: 40 })
    .map((es) => es.map((e, i) => ({ ...e, id: idBase + i })));

function timestamped(env: StreamEnvironment, events: readonly Ev[], bound: number, name: string): DataStream<Ev> {
  return env
    .fromCollection(events, name)
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Ev>(bound).withTimestampAssigner((e) => e.ts));
}

describe('interval join results equal nested-loop references', () => {
  it('for any keys, timestamps, bounds and in-bound arrival order, at parallelism 1 and 2; no late data; state returns to 0', async () => {
    await fc.assert(
      fc.asyncProperty(
        sideArb(0),
        sideArb(1_000),
        boundsArb,
        fc.array(fc.nat(), { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 1, max: 2 }),
        async (lefts, rights, b, jitter, parallelism) => {
          const bound = 150;
          const env = StreamEnvironment.create({ parallelism });
          const leftLate = new OutputTag<Ev>('left-late');
          const rightLate = new OutputTag<Ev>('right-late');
          let joined = timestamped(env, shuffleWithinBound(lefts, bound, jitter), bound, 'left')
            .keyBy((e) => e.key)
            .intervalJoin(timestamped(env, shuffleWithinBound(rights, bound, [...jitter].reverse()), bound, 'right').keyBy((e) => e.key))
            .between(b.lower, b.upper)
            .sideOutputLeftLateData(leftLate)
            .sideOutputRightLateData(rightLate);
          if (b.lowerExclusive) joined = joined.lowerBoundExclusive();
          if (b.upperExclusive) joined = joined.upperBoundExclusive();
          const stream = joined.process(pairFn);
          const rows: Pair[] = [];
          const late: Ev[] = [];
          let wrongTimestamps = 0;
          stream.sinkTo({
            createWriter: () => ({
              write: (p, ts) => {
                rows.push(p);
                if (ts !== p[2]) wrongTimestamps++;
              },
            }),
          });
          for (const tag of [leftLate, rightLate]) stream.getSideOutput(tag).sinkTo({ createWriter: () => ({ write: (e) => void late.push(e) }) });
          const result = await env.execute('interval-join-property');
          expect(late).toEqual([]);
          expect(wrongTimestamps).toBe(0);
          expect(sortPairs(rows)).toEqual(sortPairs(referenceJoin(lefts, rights, b)));
          const joins = result.metrics.operators.filter((o) => o.name === 'IntervalJoin');
          expect(joins.length).toBe(parallelism);
          for (const o of joins) expect(o.stateEntries).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  });

  /** A step of a hand-driven run: an element or a watermark on one input. */
  type Step =
    | { readonly kind: 'left' | 'right'; readonly key: string; readonly ts: number }
    | { readonly kind: 'watermark'; readonly input: 1 | 2; readonly advance: number };

  const stepArb: fc.Arbitrary<Step> = fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('left' as const), key: fc.constantFrom('a', 'b'), ts: fc.integer({ min: 0, max: 600 }) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('right' as const), key: fc.constantFrom('a', 'b'), ts: fc.integer({ min: 0, max: 600 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('watermark' as const), input: fc.constantFrom<1 | 2>(1, 2), advance: fc.integer({ min: 0, max: 80 }) }) },
  );

  it('with arbitrary disorder and watermarks: every pair of non-late elements joins, late elements go to the side outputs, buffers empty as the watermark passes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { maxLength: 60 }), boundsArb, async (steps, b) => {
        const leftLate = new OutputTag<Ev>('left-late');
        const rightLate = new OutputTag<Ev>('right-late');
        const lower = b.lowerExclusive ? b.lower + 1 : b.lower;
        const upper = b.upperExclusive ? b.upper - 1 : b.upper;
        const h = new TwoInputOperatorHarness<Ev, Ev, Pair>(
          new IntervalJoinOperator<string, Ev, Ev, Pair>({
            lower,
            upper,
            keySelector1: (e) => e.key,
            keySelector2: (e) => e.key,
            fn: pairFn,
            leftLateTag: leftLate,
            rightLateTag: rightLate,
          }),
          true,
        );
        await h.open();
        let wm1 = -1;
        let wm2 = -1;
        let maxTs = 0;
        const accepted = { left: [] as Ev[], right: [] as Ev[] };
        const expectedLate = { left: [] as Ev[], right: [] as Ev[] };
        steps.forEach((s, id) => {
          if (s.kind === 'watermark') {
            if (s.input === 1) h.processWatermark1((wm1 += s.advance));
            else h.processWatermark2((wm2 += s.advance));
          } else {
            const e: Ev = { key: s.key, ts: s.ts, id };
            maxTs = Math.max(maxTs, e.ts);
            const watermark = Math.min(wm1, wm2);
            (e.ts < watermark ? expectedLate : accepted)[s.kind].push(e);
            if (s.kind === 'left') h.processElement1(e, e.ts);
            else h.processElement2(e, e.ts);
          }
        });
        expect(h.output().map((r) => r.timestamp)).toEqual(h.outputValues().map((p) => p[2]));
        expect(sortPairs(h.outputValues())).toEqual(sortPairs(referenceJoin(accepted.left, accepted.right, b)));
        expect(h.sideOutput(leftLate)).toEqual(expectedLate.left);
        expect(h.sideOutput(rightLate)).toEqual(expectedLate.right);
        // The watermark alone (before end of input) empties the buffers.
        h.processBothWatermarks(maxTs + Math.abs(lower) + Math.abs(upper) + 2);
        expect(h.numKeyedStateEntries()).toBe(0);
        expect(h.numEventTimeTimers()).toBe(0);
        await h.endInput();
        await h.close();
      }),
      { numRuns: 300 },
    );
  });
});

describe('interval join behaviour', () => {
  function join(env: StreamEnvironment, lefts: readonly Ev[], rights: readonly Ev[]) {
    return timestamped(env, lefts, 0, 'l')
      .keyBy((e) => e.key)
      .intervalJoin(timestamped(env, rights, 0, 'r').keyBy((e) => e.key));
  }

  async function run(
    lefts: readonly Ev[],
    rights: readonly Ev[],
    bounds: (j: IntervalJoin<string, Ev, Ev>) => IntervalJoined<string, Ev, Ev>,
  ): Promise<Array<{ pair: Pair; ts: number | null }>> {
    const env = StreamEnvironment.create();
    const rows: Array<{ pair: Pair; ts: number | null }> = [];
    bounds(join(env, lefts, rights))
      .process(pairFn)
      .sinkTo({ createWriter: () => ({ write: (pair, ts) => void rows.push({ pair, ts }) }) });
    await env.execute();
    return rows;
  }

  function harness(lower: number, upper: number, tags = false): TwoInputOperatorHarness<Ev, Ev, Pair> {
    return new TwoInputOperatorHarness<Ev, Ev, Pair>(
      new IntervalJoinOperator<string, Ev, Ev, Pair>({
        lower,
        upper,
        keySelector1: (e) => e.key,
        keySelector2: (e) => e.key,
        fn: pairFn,
        leftLateTag: tags ? new OutputTag<Ev>('left-late') : undefined,
        rightLateTag: tags ? new OutputTag<Ev>('right-late') : undefined,
      }),
      true,
    );
  }

  const L = [{ key: 'a', ts: 100, id: 1 }];
  const R = [90, 95, 100, 105, 110, 111].map((ts, i) => ({ key: 'a', ts, id: 10 + i }));

  it('bounds are inclusive by default and exclusive on request; the output timestamp is the larger one', async () => {
    const incl = await run(L, R, (j) => j.between(-5, 10));
    expect(incl.map((r) => r.pair[1]).sort()).toEqual([11, 12, 13, 14]);
    for (const r of incl) expect(r.ts).toBe(r.pair[2]);
    expect(incl.find((r) => r.pair[1] === 11)?.ts).toBe(100);
    expect(incl.find((r) => r.pair[1] === 14)?.ts).toBe(110);
    const excl = await run(L, R, (j) => j.between(-5, 10).lowerBoundExclusive().upperBoundExclusive());
    expect(excl.map((r) => r.pair[1]).sort()).toEqual([12, 13]);
    const past = await run(L, R, (j) => j.between(-10, -5));
    expect(past.map((r) => r.pair[1]).sort()).toEqual([10, 11]);
  });

  it('only joins equal keys', async () => {
    const rows = await run(L, [{ key: 'b', ts: 100, id: 9 }, { key: 'a', ts: 100, id: 8 }], (j) => j.between(0, 0));
    expect(rows.map((r) => r.pair)).toEqual([[1, 8, 100]]);
  });

  it('drops late elements (timestamp below the watermark) and buffered ones once the watermark makes a match impossible', async () => {
    const h = harness(0, 10);
    await h.open();
    h.processElement2({ key: 'a', ts: 50, id: 2 }, 50);
    h.processBothWatermarks(45);
    h.processElement1({ key: 'a', ts: 44, id: 1 }, 44); // late: 44 < 45, dropped
    h.processElement1({ key: 'a', ts: 45, id: 3 }, 45); // not late: joins the right element at 50
    expect(h.outputValues()).toEqual([[3, 2, 50]]);
    expect(h.numKeyedStateEntries()).toBe(2);
    h.processBothWatermarks(50); // right 50 still matches a left at 50
    expect(h.numKeyedStateEntries()).toBe(2);
    h.processBothWatermarks(51); // right 50 can only meet lefts at 40..50 < 51: gone
    expect(h.numKeyedStateEntries()).toBe(1);
    h.processBothWatermarks(55); // left 45 still matches a right at 55
    expect(h.numKeyedStateEntries()).toBe(1);
    h.processBothWatermarks(56);
    expect(h.numKeyedStateEntries()).toBe(0);
    expect(h.numEventTimeTimers()).toBe(0);
    await h.endInput();
    await h.close();
  });

  it('an element that no future element can match is joined but not buffered', async () => {
    const h = harness(-20, -10); // right.ts in [left.ts − 20, left.ts − 10]
    await h.open();
    h.processElement2({ key: 'a', ts: 95, id: 1 }, 95);
    h.processBothWatermarks(100);
    // Needs rights in 80..90 (none) and 90..95 → joins 95; future rights are >= 100: not buffered.
    h.processElement1({ key: 'a', ts: 105, id: 2 }, 105);
    expect(h.outputValues()).toEqual([[2, 1, 105]]);
    expect(h.numKeyedStateEntries()).toBe(1); // the right buffer (95 can meet lefts up to 115)
    h.processBothWatermarks(116);
    expect(h.numKeyedStateEntries()).toBe(0);
    await h.close();
  });

  it('needs timestamps on both inputs and valid bounds', () => {
    const env = StreamEnvironment.create();
    const withTs = timestamped(env, L, 0, 'l').keyBy((e) => e.key);
    const without = env.fromCollection(R).keyBy((e) => e.key);
    expect(() => withTs.intervalJoin(without).between(0, 1).process(pairFn)).toThrow(InvalidPipelineError);
    expect(() => without.intervalJoin(withTs).between(0, 1).process(pairFn)).toThrow(/left input has none/);
    expect(() => withTs.intervalJoin(withTs).between(1, 0)).toThrow(RangeError);
    expect(() => withTs.intervalJoin(withTs).between(0, 0.5)).toThrow(RangeError);
    expect(() => withTs.intervalJoin(withTs).between(0, 1).lowerBoundExclusive().upperBoundExclusive().process(pairFn)).toThrow(
      InvalidPipelineError,
    );
  });

  it('a throwing join function fails the job naming the operator and key', async () => {
    const env = StreamEnvironment.create();
    const job = join(env, L, R)
      .between(-100, 100)
      .process({
        processElement() {
          throw new Error('boom');
        },
      })
      .name('explode')
      .executeAndCollect();
    await expect(job).rejects.toThrow(/operator 'explode'.*for key "a".*boom/);
  });
});
