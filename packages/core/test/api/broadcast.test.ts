import { describe, expect, it } from 'vitest';
import {
  type BroadcastProcessFunction,
  InvalidPipelineError,
  type KeyedBroadcastProcessFunction,
  type ListState,
  ListStateDescriptor,
  MapStateDescriptor,
  OutputTag,
  StreamEnvironment,
  UserFunctionError,
  type ValueState,
  ValueStateDescriptor,
  WatermarkStrategy,
} from '@weir/core';
import { TwoInputOperatorHarness } from '@weir/core/testing';
import {
  CoBroadcastWithKeyedOperator,
  CoBroadcastWithNonKeyedOperator,
} from '../../src/runtime/operators/BroadcastProcessOperator.js';
import { QueueSource, RecordingSink, waitFor } from '../helpers.js';

interface Txn {
  readonly user: string;
  readonly amount: number;
  readonly ts: number;
}

interface Rule {
  readonly id: string;
  /** Flags transactions above this amount; `null` deletes the rule. */
  readonly above: number | null;
  readonly ts: number;
}

const rulesDesc = new MapStateDescriptor<string, number>('rules');

const txns: Txn[] = Array.from({ length: 120 }, (_, i) => ({ user: `u${i % 7}`, amount: (i * 37) % 100, ts: i * 10 }));

/** Flags every transaction against every rule held at the time. */
const flagger: BroadcastProcessFunction<Txn, Rule, string> = {
  processBroadcastElement(rule, ctx) {
    const rules = ctx.getBroadcastState(rulesDesc);
    if (rule.above === null) rules.remove(rule.id);
    else rules.put(rule.id, rule.above);
  },
  processElement(t, ctx, out) {
    ctx.getBroadcastState(rulesDesc).forEach((above, id) => {
      if (t.amount > above) out.collect(`${id}:${t.user}:${t.amount}`);
    });
  },
};

/**
 * Rules first (waiting until every instance applied them), then the transactions: the result
 * must not depend on the parallelism.
 */
async function runFlagger(parallelism: number): Promise<string[]> {
  const env = StreamEnvironment.create({ parallelism });
  const ruleSource = new QueueSource<Rule>();
  const txnSource = new QueueSource<Txn>();
  let applied = 0;
  const counting: BroadcastProcessFunction<Txn, Rule, string> = {
    ...flagger,
    processBroadcastElement(rule, ctx, out) {
      flagger.processBroadcastElement(rule, ctx, out);
      applied++;
    },
  };
  const rules = env.fromSource(ruleSource, WatermarkStrategy.noWatermarks(), 'rules').broadcast(rulesDesc);
  const sink = new RecordingSink<string>();
  env
    .fromSource(txnSource, WatermarkStrategy.noWatermarks(), 'txns')
    .rebalance()
    .connect(rules)
    .process(counting)
    .name('flag')
    .sinkTo(sink);
  const job = env.executeAsync(`flagger-p${parallelism}`);
  const ruleUpdates: Rule[] = [
    { id: 'big', above: 90, ts: 0 },
    { id: 'medium', above: 50, ts: 0 },
    { id: 'tmp', above: 10, ts: 0 },
    { id: 'tmp', above: null, ts: 0 },
  ];
  for (const r of ruleUpdates) ruleSource.push(r);
  ruleSource.end();
  await waitFor(() => applied === ruleUpdates.length * parallelism, 'every instance applied every rule');
  for (const t of txns) txnSource.push(t);
  txnSource.end();
  await job.done;
  if (parallelism > 1) expect(new Set(sink.records.map((r) => r.subtask)).size).toBe(parallelism);
  return [...sink.values].sort();
}

describe('broadcast state', () => {
  it('rules applied to events give the same results at parallelism 1 and 3', async () => {
    const p1 = await runFlagger(1);
    const p3 = await runFlagger(3);
    const expected = txns
      .flatMap((t) => [t.amount > 90 ? `big:${t.user}:${t.amount}` : null, t.amount > 50 ? `medium:${t.user}:${t.amount}` : null])
      .filter((x): x is string => x !== null)
      .sort();
    expect(p1).toEqual(expected);
    expect(p3).toEqual(expected);
  });

  it('keyed: event-time rule versions, keyed state and timers; equal at parallelism 1 and 3', async () => {
    // Each transaction is judged, once the watermark passes it, against the limit in force at
    // its timestamp (the latest rule version with ts <= the transaction's). The watermark is
    // the minimum of both inputs, so by then every such version has arrived.
    const limits = new MapStateDescriptor<number, number>('limit-versions');
    const pendingDesc = new ListStateDescriptor<Txn>('pending');
    const lateTag = new OutputTag<string>('over-limit');
    const judge: KeyedBroadcastProcessFunction<string, Txn, Rule, string> = {
      open(ctx) {
        (this as unknown as { pending: ListState<Txn> }).pending = ctx.getListState(pendingDesc);
      },
      processBroadcastElement(rule, ctx) {
        ctx.getBroadcastState(limits).put(rule.ts, rule.above ?? Number.POSITIVE_INFINITY);
      },
      processElement(t, ctx) {
        (this as unknown as { pending: ListState<Txn> }).pending.add(t);
        ctx.timerService().registerEventTimeTimer(t.ts);
      },
      onTimer(ts, ctx, out) {
        const pending = (this as unknown as { pending: ListState<Txn> }).pending;
        let limitAt = Number.NEGATIVE_INFINITY;
        let limit = Number.POSITIVE_INFINITY;
        ctx.getBroadcastState(limits).forEach((value, from) => {
          if (from <= ts && from > limitAt) {
            limitAt = from;
            limit = value;
          }
        });
        const rest: Txn[] = [];
        for (const t of pending.get()) {
          if (t.ts !== ts) rest.push(t);
          else if (t.amount > limit) ctx.output(lateTag, `${ctx.getCurrentKey()}@${t.ts}`);
          else out.collect(`${ctx.getCurrentKey()}@${t.ts}:ok`);
        }
        if (rest.length === 0) pending.clear();
        else pending.update(rest);
      },
    };
    const ruleVersions: Rule[] = [
      { id: 'limit', above: 80, ts: 0 },
      { id: 'limit', above: 40, ts: 400 },
      { id: 'limit', above: 95, ts: 800 },
    ];
    const run = async (parallelism: number): Promise<{ ok: string[]; over: string[] }> => {
      const env = StreamEnvironment.create({ parallelism });
      const rules = env
        .fromCollection(ruleVersions)
        .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Rule>().withTimestampAssigner((r) => r.ts))
        .setParallelism(1)
        .broadcast(limits);
      const judged = env
        .fromCollection(txns)
        .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Txn>(50).withTimestampAssigner((t) => t.ts))
        .keyBy((t) => t.user)
        .connect(rules)
        .process(judge)
        .uid('judge');
      const over: string[] = [];
      judged.getSideOutput(lateTag).sinkTo({ createWriter: () => ({ write: (v) => void over.push(v) }) });
      const ok = await judged.executeAndCollect();
      return { ok: ok.sort(), over: over.sort() };
    };
    const limitAt = (ts: number): number => (ts >= 800 ? 95 : ts >= 400 ? 40 : 80);
    const expectedOver = txns.filter((t) => t.amount > limitAt(t.ts)).map((t) => `${t.user}@${t.ts}`).sort();
    const r1 = await run(1);
    const r3 = await run(3);
    expect(expectedOver.length).toBeGreaterThan(10);
    expect(r1.over).toEqual(expectedOver);
    expect(r1.ok).toHaveLength(txns.length - expectedOver.length);
    expect(r3).toEqual(r1);
  });

  it('applyToKeyedState visits every key of the instance (reset counters on a config change)', async () => {
    const countDesc = new ValueStateDescriptor<number>('count');
    const cfg = new MapStateDescriptor<string, string>('cfg');
    const fn: KeyedBroadcastProcessFunction<string, string, string, string> = {
      open(ctx) {
        (this as unknown as { count: ValueState<number> }).count = ctx.getState(countDesc);
      },
      processElement(_user, ctx, out) {
        const count = (this as unknown as { count: ValueState<number> }).count;
        const n = (count.value() ?? 0) + 1;
        count.update(n);
        out.collect(`${ctx.getCurrentKey()}=${n} (${ctx.getBroadcastState(cfg).get('mode') ?? 'none'})`);
      },
      processBroadcastElement(mode, ctx, out) {
        ctx.getBroadcastState(cfg).put('mode', mode);
        const seen: string[] = [];
        ctx.applyToKeyedState(countDesc, (key, state) => {
          seen.push(`${key}:${state.value()}`);
          state.clear();
        });
        out.collect(`reset ${seen.sort().join(',')}`);
      },
    };
    const op = new CoBroadcastWithKeyedOperator<string, string, string, string>(fn, (u) => u, [cfg], true);
    const h = new TwoInputOperatorHarness<string, string, string>(op, true);
    await h.open();
    h.processElement1('a', 1);
    h.processElement1('b', 2);
    h.processElement1('a', 3);
    h.processElement2('strict', 4);
    expect(h.numKeyedStateEntries()).toBe(0);
    h.processElement1('a', 5);
    expect(h.outputValues()).toEqual(['a=1 (none)', 'b=1 (none)', 'a=2 (none)', 'reset a:2,b:1', 'a=1 (strict)']);
    expect(h.output()[3]?.timestamp).toBe(4);
    expect(op.numBroadcastStateEntries()).toBe(1);
  });

  it('processElement sees read-only state; an undeclared descriptor is a pipeline error', async () => {
    const other = new MapStateDescriptor<string, number>('other');
    const seen: unknown[] = [];
    const fn: BroadcastProcessFunction<string, string, string> = {
      processBroadcastElement(v, ctx) {
        ctx.getBroadcastState(rulesDesc).put(v, 1);
      },
      processElement(v, ctx) {
        const s = ctx.getBroadcastState(rulesDesc);
        seen.push(typeof (s as unknown as { put?: unknown }).put, s.get('r1'), s.size());
        if (v === 'bad') ctx.getBroadcastState(other);
      },
    };
    const h = new TwoInputOperatorHarness<string, string, string>(new CoBroadcastWithNonKeyedOperator(fn, [rulesDesc]), false);
    await h.open();
    h.processElement2('r1', 0);
    h.processElement1('x', 1);
    expect(seen).toEqual(['undefined', 1, 1]);
    expect(() => h.processElement1('bad', 2)).toThrow(InvalidPipelineError);
    expect(() => h.processElement1('bad', 2)).toThrow(/broadcast state 'other' is not a state of this broadcast stream/);
  });

  it('a throwing function fails the job naming the operator', async () => {
    const env = StreamEnvironment.create({ parallelism: 2 });
    const rules = env.fromElements('r').broadcast(rulesDesc);
    const job = env
      .fromSequence(1, 4)
      .connect(rules)
      .process<number>({
        processBroadcastElement() {},
        processElement(v) {
          if (v === 3) throw new Error('bad rule');
        },
      })
      .name('apply-rules')
      .executeAndCollect();
    await expect(job).rejects.toBeInstanceOf(UserFunctionError);
    await expect(job).rejects.toThrow(/operator 'apply-rules'.*bad rule/);
  });

  it('broadcast state snapshots and restores (the checkpoint hook); every instance may restore any copy', async () => {
    const h = new TwoInputOperatorHarness<Txn, Rule, string>(new CoBroadcastWithNonKeyedOperator(flagger, [rulesDesc]), false);
    await h.open();
    h.processElement2({ id: 'big', above: 90, ts: 0 }, 0);
    h.processElement2({ id: 'small', above: 5, ts: 0 }, 0);
    const op = new CoBroadcastWithNonKeyedOperator(flagger, [rulesDesc]);
    const snapshot = (h as unknown as { operator: CoBroadcastWithNonKeyedOperator<Txn, Rule, string> }).operator.snapshotBroadcastState();
    op.restoreBroadcastState(snapshot);
    const h2 = new TwoInputOperatorHarness<Txn, Rule, string>(op, false, { parallelism: 4, subtaskIndex: 3 });
    await h2.open();
    h2.processElement1({ user: 'u', amount: 95, ts: 1 }, 1);
    expect(h2.outputValues().sort()).toEqual(['big:u:95', 'small:u:95']);
    expect(op.snapshotState(7).operatorState['broadcast-state']).toEqual(snapshot);
  });

  it('rejects a TTL or a duplicate name when the broadcast stream is built', () => {
    const env = StreamEnvironment.create();
    const s = env.fromElements(1);
    const ttl = new MapStateDescriptor<string, number>('t').enableTimeToLive({ ttlMs: 10 });
    expect(() => s.broadcast(ttl)).toThrow(/cannot have a TTL/);
    expect(() => s.broadcast(rulesDesc, new MapStateDescriptor<string, number>('rules'))).toThrow(/declared twice/);
  });
});
