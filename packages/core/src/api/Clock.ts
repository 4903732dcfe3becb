import type { Cancellable } from './types.js';

/**
 * The source of processing time. Everything in Weir that reads the wall clock (processing-time
 * timers, periodic watermarks, idleness, state TTL) reads it through a `Clock`, so tests can
 * use a {@link ManualClock} and be deterministic.
 * @public
 */
export interface Clock {
  /** Current processing time in epoch milliseconds. */
  now(): number;
  /**
   * Calls `callback` once, as soon as processing time reaches `time` (never before).
   * @returns a handle to cancel the callback
   */
  schedule(time: number, callback: () => void): Cancellable;
}

/**
 * The wall clock (`Date.now`, `setTimeout`).
 * @public
 */
export class SystemClock implements Clock {
  /** The shared instance. */
  static readonly INSTANCE: SystemClock = new SystemClock();

  /** `Date.now()`. */
  now(): number {
    return Date.now();
  }

  /** Runs `callback` with `setTimeout` once `time` is reached. */
  schedule(time: number, callback: () => void): Cancellable {
    const handle = setTimeout(callback, Math.max(0, time - Date.now()));
    return { cancel: () => clearTimeout(handle) };
  }
}

interface ManualEntry {
  readonly time: number;
  readonly seq: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/**
 * A clock that moves only when told to. Callbacks due at or before the new time run inside
 * {@link ManualClock.advance} / {@link ManualClock.setTime}, in time order.
 *
 * @example
 * ```ts
 * const clock = new ManualClock(0);
 * const env = StreamEnvironment.create({ clock });
 * clock.advance(1_000); // fires processing-time timers due by t = 1000
 * ```
 * @public
 */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private entries: ManualEntry[] = [];

  /** @param start - the initial processing time */
  constructor(start = 0) {
    this.time = start;
  }

  /** The time set last (by the constructor, `advance` or `setTime`). */
  now(): number {
    return this.time;
  }

  /** Runs `callback` during the `advance`/`setTime` call that reaches `time`. */
  schedule(time: number, callback: () => void): Cancellable {
    const entry: ManualEntry = { time, seq: this.seq++, callback, cancelled: false };
    this.entries.push(entry);
    return {
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }

  /** Moves time forward by `ms` and runs the callbacks that became due. */
  advance(ms: number): void {
    this.setTime(this.time + ms);
  }

  /** Sets the time (never backwards) and runs the callbacks that became due. */
  setTime(time: number): void {
    if (time < this.time) throw new RangeError(`ManualClock cannot go back from ${this.time} to ${time}`);
    for (;;) {
      let best: ManualEntry | undefined;
      for (const e of this.entries) {
        if (e.cancelled || e.time > time) continue;
        if (best === undefined || e.time < best.time || (e.time === best.time && e.seq < best.seq)) best = e;
      }
      if (best === undefined) break;
      this.time = Math.max(this.time, best.time);
      best.cancelled = true;
      best.callback();
    }
    this.entries = this.entries.filter((e) => !e.cancelled);
    this.time = time;
  }

  /** Number of callbacks still scheduled. */
  pendingCallbacks(): number {
    return this.entries.filter((e) => !e.cancelled).length;
  }
}
