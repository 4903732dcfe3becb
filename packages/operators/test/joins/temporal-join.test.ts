import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DataStream,
  InvalidPipelineError,
  MapStateDescriptor,
  OutputTag,
  StreamEnvironment,
  WatermarkStrategy,
} from '@weir/core';
import { TwoInputOperatorHarness } from '@weir/core/testing';
import { type TemporalJoinFunction, type TemporalJoinMode, temporalJoin } from '@weir/operators';
import { TemporalJoinCoProcessFunction } from '../../src/joins/TemporalJoinCoProcessFunction.js';

/** A probe record (a label, an order...). */
interface Probe {
  readonly key: string;
  readonly ts: number;
  readonly id: number;
}

/** A version of the table: the value of `key` from `ts` on; `dead` marks a tombstone. */
interface Version {
  readonly key: string;
  readonly ts: number;
  readonly id: number;
  readonly dead: boolean;
}

/** What the tests record per output: probe id, version id (or null), the version's validFrom, the output timestamp. */
type Row = [probe: number, version: number | null, validFrom: number | null, ts: number];

interface Options {
  readonly mode: TemporalJoinMode;
  readonly ttl: number | undefined;
  readonly tombstones: boolean;
}

/**
 * The nested-loop reference of one probe: among `versions` (in arrival order) of the probe's
 * key with `validFrom <= t`, the greatest `validFrom`, the last arrived among equals; then TTL
 * and tombstones. `undefined` when the probe is dropped (inner join, no version).
 */
function referenceRow(p: Probe, versions: readonly Version[], o: Options): Row | undefined {
  let best: Version | undefined;
  for (const v of versions) if (v.key === p.key && v.ts <= p.ts && (best === undefined || v.ts >= best.ts)) best = v;
  if (best !== undefined && ((o.ttl !== undefined && p.ts - best.ts > o.ttl) || (o.tombstones && best.dead))) best = undefined;
  if (best === undefined && o.mode === 'inner') return undefined;
  return [p.id, best?.id ?? null, best?.ts ?? null, p.ts];
}

function referenceJoin(probes: readonly Probe[], versions: readonly Version[], o: Options): Row[] {
  const rows: Row[] = [];
  for (const p of probes) {
    const row = referenceRow(p, versions, o);
    if (row !== undefined) rows.push(row);
  }
  return rows;
}

const rowFn: TemporalJoinFunction<string, Probe, Version | undefined, Row> = {
  processElement(p, v, ctx, out) {
    expect(ctx.timestamp()).toBe(p.ts);
    expect(ctx.getCurrentKey()).toBe(p.key);
    out.collect([p.id, v?.id ?? null, ctx.versionTimestamp(), ctx.timestamp()]);
  },
};

const sortRows = (rows: readonly Row[]): Row[] => [...rows].sort((a, b) => a[0] - b[0]);

function shuffleWithinBound<T extends { ts: number }>(events: readonly T[], bound: number, jitter: readonly number[]): T[] {
  return events
    .map((e, i) => ({ e, k: e.ts + ((jitter[i % jitter.length] ?? 0) % (bound + 1)), i }))
    .sort((a, b) => a.k - b.k || a.i - b.i)
    .map((x) => x.e);
}

function timestamped<T extends { ts: number }>(env: StreamEnvironment, events: readonly T[], bound: number, name: string): DataStream<T> {
  return env
    .fromCollection(events, name)
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<T>(bound).withTimestampAssigner((e) => e.ts));
}

const optionsArb: fc.Arbitrary<Options> = fc.record({
  mode: fc.constantFrom<TemporalJoinMode>('left', 'inner'),
  ttl: fc.option(fc.integer({ min: 0, max: 400 }), { nil: undefined }),
  tombstones: fc.boolean(),
});

const keyArb = fc.constantFrom('a', 'b', 'c');
const probesArb: fc.Arbitrary<Probe[]> = fc
  .array(fc.record({ key: keyArb, ts: fc.integer({ min: 0, max: 2_000 }) }), { maxLength: 50 })
  .map((ps) => ps.map((p, i) => ({ ...p, id: i })));
/** Versions with distinct (key, validFrom): with several parallel upstream instances, the arrival order of equal timestamps is not defined. */
const versionsArb: fc.Arbitrary<Version[]> = fc
  .uniqueArray(fc.record({ key: keyArb, ts: fc.integer({ min: 0, max: 2_000 }), dead: fc.boolean() }), {
    maxLength: 30,
    selector: (v) => `${v.key}|${v.ts}`,
  })
  .map((vs) => vs.map((v, i) => ({ ...v, id: 1_000 + i })));

describe('temporal join results equal nested-loop references', () => {
  it('each probe joins the version valid at its own timestamp (never a later one), for any in-bound arrival order, at parallelism 1 and 2; state returns to 0', async () => {
    await fc.assert(
      fc.asyncProperty(
        probesArb,
        versionsArb,
        optionsArb,
        fc.array(fc.nat(), { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 1, max: 2 }),
        fc.boolean(),
        async (probes, versions, o, jitter, parallelism, useMap) => {
          const bound = 150;
          const env = StreamEnvironment.create({ parallelism });
          const lateProbes = new OutputTag<Probe>('late-probes');
          const lateVersions = new OutputTag<Version>('late-versions');
          const join = temporalJoin(
            timestamped(env, shuffleWithinBound(probes, bound, jitter), bound, 'probes'),
            timestamped(env, shuffleWithinBound(versions, bound, [...jitter].reverse()), bound, 'versions'),
            {
              probeKey: (p) => p.key,
              tableKey: (v) => v.key,
              mode: o.mode,
              ...(o.ttl === undefined ? {} : { ttl: o.ttl }),
              ...(o.tombstones ? { isTombstone: (v: Version) => v.dead } : {}),
              lateProbes,
              lateVersions,
            },
          );
          const joined: DataStream<Row> = useMap
            ? join.map((p, v) => [p.id, v?.id ?? null, v?.ts ?? null, p.ts])
            : join.process(rowFn);
          const rows: Row[] = [];
          const late: unknown[] = [];
          let wrongTimestamps = 0;
          joined.sinkTo({
            createWriter: () => ({
              write: (r, ts) => {
                rows.push(r);
                if (ts !== r[3]) wrongTimestamps++;
              },
            }),
          });
          joined.getSideOutput(lateProbes).sinkTo({ createWriter: () => ({ write: (p) => void late.push(p) }) });
          joined.getSideOutput(lateVersions).sinkTo({ createWriter: () => ({ write: (v) => void late.push(v) }) });
          const result = await env.execute('temporal-join-property');
          expect(late).toEqual([]);
          expect(wrongTimestamps).toBe(0);
          expect(sortRows(rows)).toEqual(sortRows(referenceJoin(probes, versions, o)));
          for (const [, , validFrom, ts] of rows) if (validFrom !== null) expect(validFrom).toBeLessThanOrEqual(ts);
          const ops = result.metrics.operators.filter((m) => m.name === 'TemporalJoin');
          expect(ops.length).toBe(parallelism);
          for (const m of ops) expect(m.stateEntries).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  });

  /** A step of a hand-driven run: a record or a watermark advance on one input. */
  type Step =
    | { readonly kind: 'probe'; readonly key: string; readonly ts: number }
    | { readonly kind: 'version'; readonly key: string; readonly ts: number; readonly dead: boolean }
    | { readonly kind: 'watermark'; readonly input: 1 | 2; readonly advance: number };

  const stepArb: fc.Arbitrary<Step> = fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('probe' as const), key: fc.constantFrom('a', 'b'), ts: fc.integer({ min: 0, max: 300 }) }) },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('version' as const),
        key: fc.constantFrom('a', 'b'),
        ts: fc.integer({ min: 0, max: 300 }),
        dead: fc.boolean(),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('watermark' as const), input: fc.constantFrom<1 | 2>(1, 2), advance: fc.integer({ min: 0, max: 40 }) }) },
  );

  it('with arbitrary disorder, ties and watermarks: probes join the versions known when the watermark reaches them; late data as documented; old versions purged', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { maxLength: 80 }), optionsArb, async (steps, o) => {
        const lateProbes = new OutputTag<Probe>('late-probes');
        const lateVersions = new OutputTag<Version>('late-versions');
        const fn = new TemporalJoinCoProcessFunction<string, Probe, Version, Row>(
          { mode: o.mode, ttl: o.ttl, isTombstone: o.tombstones ? (v) => v.dead : undefined, lateProbes, lateVersions },
          rowFn,
        );
        const h = TwoInputOperatorHarness.forKeyedCoProcessFunction(fn, (p: Probe) => p.key, (v: Version) => v.key);
        await h.open();

        // The reference: every applied version is kept (no purging); a probe is joined when the
        // watermark reaches it, against the versions applied by then.
        const applied: Version[] = [];
        const pending: Probe[] = [];
        const expected: Row[] = [];
        const expectedLateProbes: Probe[] = [];
        const expectedLateVersions: Version[] = [];
        let wm1 = Number.NEGATIVE_INFINITY;
        let wm2 = Number.NEGATIVE_INFINITY;
        let maxTs = 0;
        const watermark = (): number => Math.min(wm1, wm2);
        const release = (): void => {
          const w = watermark();
          for (const p of pending.filter((x) => x.ts <= w)) {
            const row = referenceRow(p, applied, o);
            if (row !== undefined) expected.push(row);
            pending.splice(pending.indexOf(p), 1);
          }
        };
        steps.forEach((s, id) => {
          if (s.kind === 'watermark') {
            if (s.input === 1) h.processWatermark1((wm1 = Math.max(wm1, 0) + s.advance));
            else h.processWatermark2((wm2 = Math.max(wm2, 0) + s.advance));
            release();
            return;
          }
          maxTs = Math.max(maxTs, s.ts);
          const w = watermark();
          if (s.kind === 'probe') {
            const p: Probe = { key: s.key, ts: s.ts, id };
            h.processElement1(p, p.ts);
            if (p.ts < w) expectedLateProbes.push(p);
            else if (p.ts === w) {
              const row = referenceRow(p, applied, o);
              if (row !== undefined) expected.push(row);
            } else pending.push(p);
          } else {
            const v: Version = { key: s.key, ts: s.ts, dead: s.dead, id };
            h.processElement2(v, v.ts);
            if (v.ts > w) applied.push(v);
            else {
              expectedLateVersions.push(v);
              // Applied unless a newer version at or below the watermark is known.
              const newer = applied.some((x) => x.key === v.key && x.ts <= w && x.ts > v.ts);
              if (!newer) applied.push(v);
            }
          }
        });
        expect(sortRows(h.outputValues())).toEqual(sortRows(expected));
        expect(h.output().map((r) => r.timestamp)).toEqual(h.outputValues().map((r) => r[3]));
        expect(h.sideOutput(lateProbes)).toEqual(expectedLateProbes);
        expect(h.sideOutput(lateVersions)).toEqual(expectedLateVersions);

        // Past every timestamp, at most one version (the current one) remains per key.
        h.processBothWatermarks(maxTs + 1);
        const backend = h.keyedStateBackend();
        const versions = backend.getMapState(new MapStateDescriptor<number, Version>('temporal-join-versions'));
        const buffered = backend.getMapState(new MapStateDescriptor<number, Probe[]>('temporal-join-probes'));
        for (const key of ['a', 'b']) {
          backend.setCurrentKey(key);
          expect(versions.keys().length).toBeLessThanOrEqual(1);
          expect(buffered.isEmpty()).toBe(true);
        }
        await h.endInput();
        expect(h.numKeyedStateEntries()).toBe(0);
        expect(h.numEventTimeTimers()).toBe(0);
        await h.close();
      }),
      { numRuns: 300 },
    );
  });
});

describe('temporal join behaviour', () => {
  type Rate = { readonly currency: string; readonly ts: number; readonly rate: number };
  type Order = { readonly currency: string; readonly ts: number; readonly amount: number };

  const rates: Rate[] = [
    { currency: 'USD', ts: 0, rate: 1.0 },
    { currency: 'USD', ts: 100, rate: 1.1 },
    { currency: 'USD', ts: 200, rate: 1.2 },
    { currency: 'GBP', ts: 50, rate: 0.8 },
  ];
  const orders: Order[] = [
    { currency: 'USD', ts: 99, amount: 10 },
    { currency: 'USD', ts: 100, amount: 20 },
    { currency: 'USD', ts: 250, amount: 30 },
    { currency: 'GBP', ts: 10, amount: 40 }, // before the first GBP version
    { currency: 'JPY', ts: 10, amount: 50 }, // no version at all
  ];

  function run(mode: TemporalJoinMode | undefined, extra: { ttl?: number } = {}): Promise<string[]> {
    const env = StreamEnvironment.create();
    return temporalJoin(timestamped(env, orders, 0, 'orders'), timestamped(env, rates, 0, 'rates'), {
      probeKey: (o) => o.currency,
      tableKey: (r) => r.currency,
      ...(mode === undefined ? {} : { mode }),
      ...extra,
    })
      .map((o, r) => `${o.currency}@${o.ts}:${r === undefined ? '-' : r.rate}`)
      .executeAndCollect()
      .then((xs) => xs.sort());
  }

  it('joins the version valid at the probe time; left outer by default, inner on request', async () => {
    expect(await run(undefined)).toEqual(['GBP@10:-', 'JPY@10:-', 'USD@100:1.1', 'USD@250:1.2', 'USD@99:1']);
    expect(await run('inner')).toEqual(['USD@100:1.1', 'USD@250:1.2', 'USD@99:1']);
  });

  it('a TTL hides versions older than the TTL at the probe time', async () => {
    expect(await run('left', { ttl: 49 })).toEqual(['GBP@10:-', 'JPY@10:-', 'USD@100:1.1', 'USD@250:-', 'USD@99:-']);
  });

  it('of versions with the same validFrom, the last to arrive wins; tombstones hide older versions', async () => {
    const fn = new TemporalJoinCoProcessFunction<string, Probe, Version, Row>(
      { mode: 'left', ttl: undefined, isTombstone: (v) => v.dead, lateProbes: undefined, lateVersions: undefined },
      rowFn,
    );
    const h = TwoInputOperatorHarness.forKeyedCoProcessFunction(fn, (p: Probe) => p.key, (v: Version) => v.key);
    await h.open();
    h.processElement2({ key: 'a', ts: 10, id: 1, dead: false }, 10);
    h.processElement2({ key: 'a', ts: 10, id: 2, dead: false }, 10);
    h.processElement2({ key: 'a', ts: 20, id: 3, dead: true }, 20);
    h.processElement1({ key: 'a', ts: 15, id: 100 }, 15);
    h.processElement1({ key: 'a', ts: 25, id: 101 }, 25);
    expect(h.outputValues()).toEqual([]); // waiting for the watermark
    h.processBothWatermarks(30);
    expect(h.outputValues()).toEqual([
      [100, 2, 10, 15],
      [101, null, null, 25],
    ]);
    await h.endInput();
    expect(h.numKeyedStateEntries()).toBe(0);
  });

  it('never joins a version that arrives before the probe but is valid only later', async () => {
    const fn = new TemporalJoinCoProcessFunction<string, Probe, Version, Row>(
      { mode: 'left', ttl: undefined, isTombstone: undefined, lateProbes: undefined, lateVersions: undefined },
      rowFn,
    );
    const h = TwoInputOperatorHarness.forKeyedCoProcessFunction(fn, (p: Probe) => p.key, (v: Version) => v.key);
    await h.open();
    h.processElement2({ key: 'a', ts: 5, id: 1, dead: false }, 5);
    h.processElement2({ key: 'a', ts: 50, id: 2, dead: false }, 50); // the table runs ahead
    h.processWatermark2(50);
    h.processElement1({ key: 'a', ts: 20, id: 100 }, 20);
    h.processWatermark1(20);
    expect(h.outputValues()).toEqual([[100, 1, 5, 20]]);
    await h.endInput();
    await h.close();
  });

  it('late probes are dropped without a side output; a late version still applies to later probes', async () => {
    const fn = new TemporalJoinCoProcessFunction<string, Probe, Version, Row>(
      { mode: 'left', ttl: undefined, isTombstone: undefined, lateProbes: undefined, lateVersions: undefined },
      rowFn,
    );
    const h = TwoInputOperatorHarness.forKeyedCoProcessFunction(fn, (p: Probe) => p.key, (v: Version) => v.key);
    await h.open();
    h.processElement2({ key: 'a', ts: 5, id: 1, dead: false }, 5);
    h.processBothWatermarks(100);
    h.processElement1({ key: 'a', ts: 99, id: 100 }, 99); // late: dropped
    h.processElement2({ key: 'a', ts: 60, id: 2, dead: false }, 60); // late, but newer than 5: applies from now on
    h.processElement2({ key: 'a', ts: 3, id: 3, dead: false }, 3); // late and obsolete: discarded
    h.processElement1({ key: 'a', ts: 100, id: 101 }, 100); // at the watermark: joined at once
    expect(h.outputValues()).toEqual([[101, 2, 60, 100]]);
    h.processElement1({ key: 'a', ts: 150, id: 102 }, 150);
    await h.endInput();
    expect(h.outputValues()).toEqual([
      [101, 2, 60, 100],
      [102, 2, 60, 150],
    ]);
    expect(h.numKeyedStateEntries()).toBe(0);
    await h.close();
  });

  it('validates its inputs and options', () => {
    const env = StreamEnvironment.create();
    const withTs = timestamped(env, orders, 0, 'orders');
    const ratesTs = timestamped(env, rates, 0, 'rates');
    const keys = { probeKey: (o: Order) => o.currency, tableKey: (r: Rate) => r.currency };
    expect(() => temporalJoin(env.fromCollection(orders), ratesTs, keys)).toThrow(InvalidPipelineError);
    expect(() => temporalJoin(withTs, env.fromCollection(rates), keys)).toThrow(/table stream has none/);
    expect(() => temporalJoin(withTs, ratesTs, { ...keys, ttl: -1 })).toThrow(RangeError);
    expect(() => temporalJoin(withTs, ratesTs, { ...keys, mode: 'outer' as never })).toThrow(RangeError);
  });
});
