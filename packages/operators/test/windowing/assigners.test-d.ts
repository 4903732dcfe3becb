/**
 * Type tests for the window assigners' capabilities: session assigners expose their gap with
 * the element type, and the guards narrow an assigner to what the runtime relies on.
 *
 * Every `// @ts-expect-error` line is a claim "this must not compile".
 */
import {
  isSessionAssigner,
  isSliceAssigner,
  type MergingWindowAssigner,
  type SessionAssigner,
  type SliceAssigner,
  type TimeWindow,
  type Window,
  type WindowAssigner,
} from '@weir/core';
import { EventTimeSessionWindows, SlidingEventTimeWindows, TumblingEventTimeWindows } from '@weir/operators';
import { describe, expectTypeOf, test } from 'vitest';

interface Play {
  readonly user: string;
  readonly secs: number;
}

describe('window assigner capabilities', () => {
  test('EventTimeSessionWindows is a SessionAssigner of its element type', () => {
    const sessions = EventTimeSessionWindows.withDynamicGap<Play>((p) => (p.secs > 60 ? 120_000 : 30_000));
    expectTypeOf(sessions).toMatchTypeOf<SessionAssigner<Play>>();
    expectTypeOf(sessions.sessionGap).parameter(0).toEqualTypeOf<Play>();
    expectTypeOf(sessions.sessionGap({ user: 'ann', secs: 3 })).toEqualTypeOf<number>();
    // @ts-expect-error the gap is computed from the assigner's element type
    sessions.sessionGap({ user: 'ann' });
    // @ts-expect-error a dynamic gap extractor returns a number
    EventTimeSessionWindows.withDynamicGap<Play>((p) => p.user);
  });

  test('the guards narrow to what the runtime uses', () => {
    const any = TumblingEventTimeWindows.of<Play>(1_000) as WindowAssigner<Play, Window>;
    if (isSessionAssigner(any)) {
      expectTypeOf(any).toMatchTypeOf<MergingWindowAssigner<Play, TimeWindow> & SessionAssigner<Play>>();
      expectTypeOf(any.sessionGap).returns.toEqualTypeOf<number>();
    }
    if (isSliceAssigner(any)) {
      expectTypeOf(any).toMatchTypeOf<SliceAssigner>();
      expectTypeOf(any.slide).toEqualTypeOf<number>();
    }
    // @ts-expect-error only assigners narrowed by the guard have a session gap
    any.sessionGap;
    expectTypeOf(SlidingEventTimeWindows.of<Play>(10_000, 2_000)).toMatchTypeOf<SliceAssigner>();
  });
});
