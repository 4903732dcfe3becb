import { ManualClock, SystemClock } from '@weir/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

describe('ManualClock', () => {
  it('runs due callbacks in time order (ties in scheduling order), each once, with now() at their time', () => {
    const clock = new ManualClock(100);
    const seen: string[] = [];
    const at = (name: string, t: number): void => {
      clock.schedule(t, () => seen.push(`${name}@${clock.now()}`));
    };
    at('c', 130);
    at('a', 110);
    at('b', 110);
    at('late', 500);
    expect(clock.pendingCallbacks()).toBe(4);
    clock.advance(5);
    expect(seen).toEqual([]);
    clock.setTime(130);
    expect(seen).toEqual(['a@110', 'b@110', 'c@130']);
    expect(clock.now()).toBe(130);
    expect(clock.pendingCallbacks()).toBe(1);
    clock.setTime(130); // no time passes: nothing runs again
    expect(seen).toHaveLength(3);
  });

  it('runs callbacks scheduled by callbacks when they are due within the same advance', () => {
    const clock = new ManualClock(0);
    const seen: number[] = [];
    const every10 = (): void => {
      seen.push(clock.now());
      clock.schedule(clock.now() + 10, every10);
    };
    clock.schedule(10, every10);
    clock.setTime(45);
    expect(seen).toEqual([10, 20, 30, 40]);
    expect(clock.now()).toBe(45);
    expect(clock.pendingCallbacks()).toBe(1);
  });

  it('cancelled callbacks never run; time never goes back', () => {
    const clock = new ManualClock(0);
    let ran = 0;
    const h = clock.schedule(10, () => ran++);
    h.cancel();
    h.cancel();
    clock.advance(100);
    expect(ran).toBe(0);
    expect(clock.pendingCallbacks()).toBe(0);
    expect(() => clock.setTime(99)).toThrow(RangeError);
  });

  it('fires every callback whose time was reached, whatever the order of scheduling and advancing (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1_000 }), { maxLength: 30 }),
        fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 10 }),
        (times, steps) => {
          const clock = new ManualClock(0);
          const fired: number[] = [];
          for (const t of times) clock.schedule(t, () => fired.push(t));
          for (const s of steps) {
            clock.advance(s);
            expect(fired).toEqual(times.filter((t) => t <= clock.now()).sort((a, b) => a - b));
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('SystemClock', () => {
  it('reads the wall clock and schedules with timers', async () => {
    const before = Date.now();
    expect(SystemClock.INSTANCE.now()).toBeGreaterThanOrEqual(before);
    const ran = await new Promise<boolean>((resolve) => {
      SystemClock.INSTANCE.schedule(Date.now(), () => resolve(true));
    });
    expect(ran).toBe(true);
    let cancelledRan = false;
    SystemClock.INSTANCE.schedule(Date.now(), () => {
      cancelledRan = true;
    }).cancel();
    await new Promise((r) => setTimeout(r, 5));
    expect(cancelledRan).toBe(false);
  });
});
