import { StreamEnvironment, TimeWindow, WatermarkStrategy } from '@weir/core';
import { TriggerTestHarness } from '@weir/core/testing';
import { ContinuousEventTimeTrigger, CountTrigger, EventTimeTrigger, GlobalWindows, PurgingTrigger, count } from '@weir/operators';
import { describe, it } from 'vitest';

describe('draft', () => {
  it('harness', () => {
    const h = new TriggerTestHarness<string>(EventTimeTrigger.create());
    const w = new TimeWindow(0, 10);
    console.log(h.processElement('a', 3, w), h.numEventTimeTimers(w), h.advanceWatermark(8), h.advanceWatermark(9).map(([w, r]) => [String(w), r]));
    console.log(h.processElement('b', 5, w), h.numEventTimeTimers());
    const c = new TriggerTestHarness<string>(ContinuousEventTimeTrigger.of(4));
    const w2 = new TimeWindow(0, 20);
    console.log(c.processElement('a', 1, w2), c.numEventTimeTimers(), c.numStateEntries(w2));
    console.log(c.advanceWatermark(3).map(([w, r]) => [String(w), r]), c.advanceWatermark(4).map(([w, r]) => [String(w), r]), c.advanceWatermark(19).map(([w, r]) => [String(w), r]));
    c.clearTriggerState(w2);
    console.log(c.numEventTimeTimers(), c.numStateEntries());
    const p = new TriggerTestHarness<string>(PurgingTrigger.of(CountTrigger.of<string, TimeWindow>(2)));
    console.log(p.processElement('a', 1, w), p.processElement('b', 1, w), p.numStateEntries());
  });
  it('global leftovers', async () => {
    const env = StreamEnvironment.create();
    const out = await env.fromSequence(1, 5).assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<number>().withTimestampAssigner((n) => n))
      .keyBy(() => 'k').window(GlobalWindows.create()).trigger(PurgingTrigger.of(CountTrigger.of(2))).aggregate(count()).executeAndCollect();
    console.log(out);
  });
});
