import { describe, expect, it } from 'vitest';
import { GlobalWindow, TimeWindow } from '@weir/core';
import { TriggerTestHarness } from '@weir/core/testing';
import {
  ContinuousEventTimeTrigger,
  CountTrigger,
  EventTimeTrigger,
  ProcessingTimeTrigger,
  PurgingTrigger,
} from '@weir/operators';

const w = (s: number, e: number): TimeWindow => new TimeWindow(s, e);

describe('EventTimeTrigger contract', () => {
  it('registers one timer per window at end − 1 and fires when the watermark reaches it', () => {
    const h = new TriggerTestHarness<string>(EventTimeTrigger.create());
    expect(h.processElement('a', 1, w(0, 10))).toBe('CONTINUE');
    expect(h.processElement('b', 2, w(0, 10))).toBe('CONTINUE');
    expect(h.processElement('c', 12, w(10, 20))).toBe('CONTINUE');
    expect(h.numEventTimeTimers()).toBe(2);
    expect(h.numEventTimeTimers(w(0, 10))).toBe(1);
    expect(h.advanceWatermark(8)).toEqual([]);
    expect(h.advanceWatermark(9)).toEqual([[w(0, 10), 'FIRE']]);
    expect(h.numEventTimeTimers()).toBe(1);
    expect(h.advanceWatermark(100)).toEqual([[w(10, 20), 'FIRE']]);
    expect(h.numStateEntries()).toBe(0);
  });

  it('fires at once for an element of a window the watermark already passed (late firing)', () => {
    const h = new TriggerTestHarness<string>(EventTimeTrigger.create());
    h.advanceWatermark(50);
    expect(h.processElement('late', 5, w(0, 10))).toBe('FIRE');
    expect(h.numEventTimeTimers()).toBe(0);
  });

  it('clear deletes the timer; merging re-registers for the merged window', () => {
    const h = new TriggerTestHarness<string>(EventTimeTrigger.create());
    h.processElement('a', 1, w(0, 10));
    h.clearTriggerState(w(0, 10));
    expect(h.numEventTimeTimers()).toBe(0);
    h.processElement('a', 1, w(1, 5));
    h.processElement('b', 4, w(4, 8));
    h.mergeWindows(w(1, 8), [w(1, 5), w(4, 8)]);
    expect(h.numEventTimeTimers(w(1, 8))).toBe(1);
    expect(h.numEventTimeTimers(w(1, 5))).toBe(0);
    expect(h.numEventTimeTimers(w(4, 8))).toBe(0);
    expect(h.advanceWatermark(7)).toEqual([[w(1, 8), 'FIRE']]);
  });
});

describe('ProcessingTimeTrigger contract', () => {
  it('fires when processing time reaches the window end − 1', () => {
    const h = new TriggerTestHarness<string>(ProcessingTimeTrigger.create());
    expect(h.processElement('a', 0, w(0, 10))).toBe('CONTINUE');
    expect(h.numProcessingTimeTimers()).toBe(1);
    expect(h.advanceProcessingTime(8)).toEqual([]);
    expect(h.advanceProcessingTime(9)).toEqual([[w(0, 10), 'FIRE']]);
    expect(h.numProcessingTimeTimers()).toBe(0);
  });
});

describe('CountTrigger contract', () => {
  it('fires every n elements per window and keeps its count in window-scoped state', () => {
    const h = new TriggerTestHarness<string>(CountTrigger.of(3));
    const a = w(0, 10);
    const b = w(10, 20);
    expect(h.processElement('1', 1, a)).toBe('CONTINUE');
    expect(h.processElement('2', 2, a)).toBe('CONTINUE');
    expect(h.processElement('x', 11, b)).toBe('CONTINUE');
    expect(h.numStateEntries(a)).toBe(1);
    expect(h.processElement('3', 3, a)).toBe('FIRE');
    expect(h.numStateEntries(a)).toBe(0);
    expect(h.numStateEntries(b)).toBe(1);
    h.clearTriggerState(b);
    expect(h.numStateEntries()).toBe(0);
    expect(h.numEventTimeTimers() + h.numProcessingTimeTimers()).toBe(0);
  });

  it('merges counts of merged windows', () => {
    const h = new TriggerTestHarness<string>(CountTrigger.of(3));
    h.processElement('1', 1, w(1, 5));
    h.processElement('2', 4, w(4, 8));
    h.mergeWindows(w(1, 8), [w(1, 5), w(4, 8)]);
    expect(h.numStateEntries()).toBe(1);
    expect(h.processElement('3', 6, w(1, 8))).toBe('FIRE');
  });

  it('works on the global window', () => {
    const h = new TriggerTestHarness<number, GlobalWindow>(CountTrigger.of(2), () => GlobalWindow.INSTANCE);
    expect(h.processElement(1, 0, GlobalWindow.INSTANCE)).toBe('CONTINUE');
    expect(h.processElement(2, 0, GlobalWindow.INSTANCE)).toBe('FIRE');
  });
});

describe('ContinuousEventTimeTrigger contract', () => {
  it('fires every interval of event time and at the window end', () => {
    const h = new TriggerTestHarness<string>(ContinuousEventTimeTrigger.of(10));
    const win = w(0, 35);
    expect(h.processElement('a', 3, win)).toBe('CONTINUE');
    expect(h.advanceWatermark(9)).toEqual([]);
    expect(h.advanceWatermark(10)).toEqual([[win, 'FIRE']]);
    expect(h.advanceWatermark(25)).toEqual([[win, 'FIRE']]);
    const last = h.advanceWatermark(40);
    expect(last.map((r) => r[1])).toContain('FIRE');
    h.clearTriggerState(win);
    expect(h.numStateEntries()).toBe(0);
    expect(h.numEventTimeTimers()).toBe(0);
  });
});

describe('PurgingTrigger contract', () => {
  it('turns every FIRE of the wrapped trigger into FIRE_AND_PURGE', () => {
    const h = new TriggerTestHarness<string>(PurgingTrigger.of(CountTrigger.of(2)));
    expect(h.processElement('a', 0, w(0, 10))).toBe('CONTINUE');
    expect(h.processElement('b', 0, w(0, 10))).toBe('FIRE_AND_PURGE');
    const e = new TriggerTestHarness<string>(PurgingTrigger.of(EventTimeTrigger.create()));
    e.processElement('a', 1, w(0, 10));
    expect(e.advanceWatermark(9)).toEqual([[w(0, 10), 'FIRE_AND_PURGE']]);
  });
});
