import {
  type Collector,
  InvalidPipelineError,
  type KeyedProcessContext,
  type KeyedProcessFunction,
  keyGroupFor,
  ListStateDescriptor,
  ManualClock,
  type OnTimerContext,
  OutputTag,
  type RuntimeContext,
  subtaskForKeyGroup,
  type ValueState,
  ValueStateDescriptor,
} from '@weir/core';
import { OperatorHarness } from '@weir/core/testing';
import { describe, expect, it } from 'vitest';

interface Ev {
  user: string;
  amount: number;
}

const COUNT = new ValueStateDescriptor<number>('count');
const bigSpend = new OutputTag<Ev>('big-spend');

/** Counts per user; flags big amounts on a side output; reports and clears after 1 s of event time. */
class SpendTracker implements KeyedProcessFunction<string, Ev, string> {
  private count!: ValueState<number>;
  finished = 0;

  open(ctx: RuntimeContext): void {
    this.count = ctx.getState(COUNT);
  }

  processElement(e: Ev, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
    const n = (this.count.value() ?? 0) + 1;
    this.count.update(n);
    if (e.amount > 100) ctx.output(bigSpend, e);
    if (n === 1) ctx.timerService().registerEventTimeTimer((ctx.timestamp() ?? 0) + 1_000);
    out.collect(`${e.user}#${n}`);
  }

  onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<string>): void {
    out.collect(`${ctx.getCurrentKey()}: ${this.count.value()} by ${ts}`);
    this.count.clear();
  }

  finish(out: Collector<string>): void {
    out.collect('finished');
  }
}

describe('OperatorHarness', () => {
  it('drives a KeyedProcessFunction: output with timestamps, side outputs, state, timers, watermarks', async () => {
    const h = OperatorHarness.forKeyedProcessFunction(new SpendTracker(), (e: Ev) => e.user);
    await h.open();
    h.processElement({ user: 'ann', amount: 5 }, 100);
    h.processElement({ user: 'bob', amount: 500 }, 200);
    h.processElement({ user: 'ann', amount: 150 }, 300);
    expect(h.output()).toEqual([
      { value: 'ann#1', timestamp: 100 },
      { value: 'bob#1', timestamp: 200 },
      { value: 'ann#2', timestamp: 300 },
    ]);
    expect(h.sideOutput(bigSpend)).toEqual([
      { user: 'bob', amount: 500 },
      { user: 'ann', amount: 150 },
    ]);
    expect(h.numKeyedStateEntries()).toBe(2);
    expect(h.getState(COUNT, 'ann')).toBe(2);
    expect(h.getState(COUNT, 'bob')).toBe(1);
    expect(h.getState(COUNT, 'cid')).toBeUndefined();
    expect(h.numEventTimeTimers()).toBe(2);
    expect(h.numProcessingTimeTimers()).toBe(0);
    expect(h.pendingTimers()).toEqual([
      { domain: 'event-time', timestamp: 1_100, key: 'ann', namespace: '' },
      { domain: 'event-time', timestamp: 1_200, key: 'bob', namespace: '' },
    ]);

    h.clearOutput();
    h.processWatermark(1_100);
    expect(h.output()).toEqual([{ value: 'ann: 2 by 1100', timestamp: 1_100 }]);
    expect(h.watermarks()).toEqual([1_100]);
    expect(h.numKeyedStateEntries()).toBe(1);
    expect(h.getState(COUNT, 'ann')).toBeUndefined();

    h.clearOutput();
    await h.endInput();
    expect(h.outputValues()).toEqual(['bob: 1 by 1200', 'finished']);
    expect(h.watermarks()).toEqual([Number.POSITIVE_INFINITY]);
    expect(h.numKeyedStateEntries()).toBe(0);
    expect(h.numEventTimeTimers()).toBe(0);
    await h.close();
  });

  it('reading state through the harness does not disturb the current key', async () => {
    const h = OperatorHarness.forKeyedProcessFunction(new SpendTracker(), (e: Ev) => e.user);
    await h.open();
    h.processElement({ user: 'ann', amount: 1 }, 0);
    expect(h.getState(COUNT, 'zed')).toBeUndefined();
    expect(h.keyedStateBackend().getCurrentKey()).toBe('ann');
  });

  it('snapshot + restoreState into instances of another parallelism: each gets the keys it owns', async () => {
    const users = Array.from({ length: 30 }, (_, i) => `user-${i}`);
    const h = OperatorHarness.forKeyedProcessFunction(new SpendTracker(), (e: Ev) => e.user);
    await h.open();
    users.forEach((user, i) => {
      for (let k = 0; k <= i % 3; k++) h.processElement({ user, amount: 1 }, 0);
    });
    const snap = h.snapshot();
    const parallelism = 3;
    let total = 0;
    for (let subtask = 0; subtask < parallelism; subtask++) {
      const r = OperatorHarness.forKeyedProcessFunction(new SpendTracker(), (e: Ev) => e.user, { parallelism, subtaskIndex: subtask }).restoreState([snap]);
      await r.open();
      const owned = users.filter((u) => subtaskForKeyGroup(keyGroupFor(u, 128), parallelism, 128) === subtask);
      expect(r.numKeyedStateEntries()).toBe(owned.length);
      total += r.numKeyedStateEntries();
      users.forEach((u, i) => {
        if (owned.includes(u)) expect(r.getState(COUNT, u)).toBe((i % 3) + 1);
      });
      // the restored state is live: processing continues from it
      const first = owned[0];
      if (first !== undefined) {
        r.processElement({ user: first, amount: 1 }, 0);
        expect(r.outputValues()).toEqual([`${first}#${(users.indexOf(first) % 3) + 2}`]);
      }
    }
    expect(total).toBe(users.length);
  });

  it('restoreState must come before open, and records before open are refused', async () => {
    const h = OperatorHarness.forKeyedProcessFunction(new SpendTracker(), (e: Ev) => e.user);
    expect(() => h.processElement({ user: 'a', amount: 1 })).toThrow(/open\(\) first/);
    await h.open();
    expect(() => h.restoreState([])).toThrow(/before open/);
  });

  it('processing time is driven by the harness clock', async () => {
    const clock = new ManualClock(500);
    class Debounce implements KeyedProcessFunction<string, string, string> {
      private pending!: ValueState<number>;
      open(ctx: RuntimeContext): void {
        this.pending = ctx.getState(new ValueStateDescriptor<number>('pending'));
      }
      processElement(_v: string, ctx: KeyedProcessContext<string>): void {
        const old = this.pending.value();
        if (old !== undefined) ctx.timerService().deleteProcessingTimeTimer(old);
        const at = ctx.timerService().currentProcessingTime() + 100;
        this.pending.update(at);
        ctx.timerService().registerProcessingTimeTimer(at);
      }
      onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<string>): void {
        out.collect(`${ctx.getCurrentKey()}@${ts}`);
        this.pending.clear();
      }
    }
    const h = OperatorHarness.forKeyedProcessFunction(new Debounce(), (v: string) => v, { clock });
    await h.open();
    expect(h.clock).toBe(clock);
    h.processElement('a');
    h.setProcessingTime(550);
    h.processElement('a'); // pushes the timer back to 650
    h.processElement('b');
    h.setProcessingTime(600);
    expect(h.outputValues()).toEqual([]);
    expect(h.pendingTimers().map((t) => [t.domain, t.key, t.timestamp])).toEqual([
      ['processing-time', 'a', 650],
      ['processing-time', 'b', 650],
    ]);
    h.setProcessingTime(700);
    expect(h.output()).toEqual([
      { value: 'a@650', timestamp: null },
      { value: 'b@650', timestamp: null },
    ]);
    expect(h.numKeyedStateEntries()).toBe(0);
  });

  it('hasTimestamps: false makes event-time timers fail as on a stream without timestamps', async () => {
    const h = OperatorHarness.forKeyedProcessFunction(new SpendTracker(), (e: Ev) => e.user, { hasTimestamps: false, name: 'no-time' });
    await h.open();
    expect(() => h.processElement({ user: 'a', amount: 1 })).toThrow(InvalidPipelineError);
    expect(() => h.processElement({ user: 'b', amount: 1 })).toThrow(/'no-time' registered an event-time timer/);
  });

  it('drives a non-keyed ProcessFunction; keyed accessors explain that it is not keyed', async () => {
    const tag = new OutputTag<string>('odd');
    const h = OperatorHarness.forProcessFunction<number, number>({
      processElement(v, ctx, out) {
        if (v % 2 === 1) ctx.output(tag, `odd:${v}@${ctx.timestamp()}`);
        else out.collect(v * 10);
      },
    });
    await h.open();
    h.processElement(1, 10);
    h.processElement(2, 20);
    h.processElement(3);
    expect(h.output()).toEqual([{ value: 20, timestamp: 20 }]);
    expect(h.sideOutput(tag)).toEqual(['odd:1@10', 'odd:3@null']);
    expect(h.numKeyedStateEntries()).toBe(0);
    expect(h.numEventTimeTimers()).toBe(0);
    expect(h.pendingTimers()).toEqual([]);
    expect(() => h.snapshot()).toThrow(/not keyed/);
    expect(() => h.getState(COUNT, 'x')).toThrow(/not keyed/);
  });

  it('keyed state on a non-keyed function fails at open with InvalidPipelineError', async () => {
    const h = OperatorHarness.forProcessFunction<number, number>(
      {
        open(ctx) {
          ctx.getListState(new ListStateDescriptor<number>('l'));
        },
        processElement() {},
      },
      { name: 'plain' },
    );
    await expect(h.open()).rejects.toThrow(InvalidPipelineError);
  });
});
