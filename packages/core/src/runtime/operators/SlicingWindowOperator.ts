import type { AggregateFunction, ReduceFunction } from '../../api/functions.js';
import type { OutputTag } from '../../api/OutputTag.js';
import type { KeySelector, KeyType } from '../../api/types.js';
import { TimeWindow } from '../../api/windowing/Window.js';
import type { SliceAssigner, WindowAssigner } from '../../api/windowing/WindowAssigner.js';
import { TimestampedCollector } from '../StreamOperator.js';
import { type KeyRecord, KeyRecordWindowOperator } from './KeyRecordWindowOperator.js';
import { PaneSpec } from './PaneSpec.js';
import type { InternalWindowFunction, WindowContents } from './WindowOperator.js';
import { openUserFunction, setCurrentKeyOf } from './processFunctionSupport.js';
import { requireEventTime, routeLateElement } from './windowSupport.js';
import type { StreamOperator } from '../StreamOperator.js';

/** Configuration of a slicing window operator. @internal */
export interface SlicingWindowOperatorConfig<K extends KeyType, T, TOut> {
  readonly assigner: WindowAssigner<T, TimeWindow> & SliceAssigner;
  readonly allowedLateness: number;
  readonly lateDataTag: OutputTag<T> | undefined;
  readonly keySelector: KeySelector<T, K>;
  readonly contents: Exclude<WindowContents<T>, { kind: 'list' }>;
  readonly windowFunction: InternalWindowFunction<unknown, TOut, K, TimeWindow>;
}

/**
 * One key's slices and timers. The latest slice is kept inline (`ls` its start, `la` its
 * accumulator or reduced value; `ls` is `null` when the key has no slice) because in-order
 * data updates it almost always: then an element touches this one object. Older slices are
 * `d`, pairs `[start, accumulator, …]` in ascending order, all before `ls` (`null` when none).
 * `t` holds the pending event-time timers (ascending, unique).
 * @internal
 */
export interface SliceRecord extends KeyRecord {
  ls: number | null;
  la: unknown;
  d: unknown[] | null;
  t: number[];
}

/**
 * Tumbling and sliding event-time windows evaluated through slices (panes). Time is cut into
 * aligned slices of `gcd(size, slide)` ms; each record updates the accumulator of its one
 * slice; when a window fires, the accumulators of its `size / gcd` slices are merged. A
 * record therefore costs one accumulator update however many windows contain it.
 *
 * Semantics equal {@link WindowOperator} with the default `EventTimeTrigger`: a window fires
 * when the watermark reaches `end − 1`, fires again for each element that arrives within the
 * allowed lateness, and its slices are purged once no window that contains them can fire again.
 *
 * A key's slices and timers are one record (see {@link KeyRecordWindowOperator}). A timer at
 * `t` means "fire the window that ends at `t + 1` if it holds data, then purge the slices whose
 * last window is cleaned at `t`". Each slice registers, when it gets its first element, the
 * firing of the first window containing it that has not fired yet and its cleanup; each firing
 * registers the next window's if that holds data, so all windows fire in order.
 * @internal
 */
export class SlicingWindowOperator<K extends KeyType, T, TOut> extends KeyRecordWindowOperator<T, TOut, SliceRecord> {
  private readonly spec: PaneSpec<T>;
  private readonly slide: number;
  private readonly lateness: number;
  private readonly reduce: ReduceFunction<T> | undefined;
  private readonly aggregate: AggregateFunction<T, unknown, unknown> | undefined;
  // transient
  private collector!: TimestampedCollector<TOut>;
  private readonly input: unknown[] = [undefined];

  constructor(private readonly config: SlicingWindowOperatorConfig<K, T, TOut>) {
    super('_window-slices');
    const spec = new PaneSpec<T>(config as unknown as SlicingWindowOperatorConfig<never, T, unknown>);
    this.spec = spec;
    this.slide = spec.slide;
    this.lateness = spec.lateness;
    this.reduce = spec.reduce;
    this.aggregate = spec.aggregate;
  }

  override async open(): Promise<void> {
    this.collector = new TimestampedCollector(this.output);
    this.openRecords();
    await openUserFunction(this as StreamOperator<unknown>, this.config.windowFunction, true);
  }

  processElement(value: T, timestamp: number): void {
    setCurrentKeyOf(this as StreamOperator<unknown>, this.backend, this.config.keySelector, value);
    try {
      requireEventTime(timestamp, this.config.assigner);
      const wm = this.currentWatermark;
      const spec = this.spec;
      const slice = spec.paneOf(timestamp);
      const lastEnd = spec.lastEndOf(slice);
      // Sliding windows with slide > size leave gaps: an element there is in no window.
      if (timestamp >= lastEnd) return;
      const cleanup = lastEnd - 1 + this.lateness;
      if (cleanup <= wm) {
        // Every window of the element is past its lateness.
        routeLateElement(this as StreamOperator<unknown>, this.config.lateDataTag as OutputTag<unknown> | undefined, value, timestamp);
        return;
      }
      const state = this.records;
      let rec = state.value();
      const stored = rec !== undefined && state.storesByReference === true;
      if (rec === undefined) rec = { at: Number.NaN, k: this.backend.getCurrentKey(), ls: null, la: undefined, d: null, t: [] };
      let created = false;
      if (rec.ls === slice) {
        rec.la = this.add(rec.la, value);
      } else if (rec.ls === null || rec.ls < slice) {
        if (rec.ls !== null) {
          if (rec.d === null) rec.d = [];
          rec.d.push(rec.ls, rec.la);
        }
        rec.ls = slice;
        rec.la = this.add(undefined, value);
        created = true;
      } else {
        created = this.addToOlderSlice(rec, slice, value);
      }
      let firstEnd = spec.firstEndOf(slice);
      if (firstEnd - 1 <= wm) {
        // Windows that already fired but are within the allowed lateness fire again now, latest
        // first (the order in which the sliding assigner lists an element's windows).
        const lastFired = spec.lastPassedEnd(firstEnd, lastEnd, wm);
        for (let end = lastFired; end >= firstEnd; end -= this.slide) {
          if (end - 1 + this.lateness > wm) this.fire(rec, end);
        }
        firstEnd = lastFired + this.slide;
      }
      // Timers are registered when the slice gets its first element: later elements of the
      // slice find them in place (the first window's timer, or the chain of firings it starts,
      // and the slice group's cleanup).
      if (created) {
        if (firstEnd <= lastEnd) this.addTimer(rec, firstEnd - 1);
        if (cleanup !== firstEnd - 1) this.addTimer(rec, cleanup);
      }
      // A heap backend holds the record itself: changed in place, it needs no write-back.
      if (!stored) state.update(rec);
    } catch (e) {
      throw this.userError(e, true);
    }
  }

  private add(current: unknown, value: T): unknown {
    return this.spec.add(current, value);
  }

  /** Adds `value` to slice `slice` (before the latest one); true when the slice is new. */
  private addToOlderSlice(rec: SliceRecord, slice: number, value: T): boolean {
    let d = rec.d;
    if (d === null) d = rec.d = [];
    let i = d.length - 2;
    while (i >= 0 && (d[i] as number) > slice) i -= 2;
    if (i >= 0 && d[i] === slice) {
      d[i + 1] = this.add(d[i + 1], value);
      return false;
    }
    d.splice(i + 2, 0, slice, this.add(undefined, value));
    return true;
  }

  /** Registers a timer in the record (deduplicated) and makes sure the key is woken for it. */
  private addTimer(rec: SliceRecord, time: number): void {
    // Infinite allowed lateness: the slices are never purged.
    if (time === Number.POSITIVE_INFINITY) return;
    const t = rec.t;
    let i = t.length;
    while (i > 0 && (t[i - 1] as number) > time) i--;
    if (i > 0 && t[i - 1] === time) return;
    if (i === t.length) t.push(time);
    else t.splice(i, 0, time);
    this.wakeAt(rec, time);
  }

  protected nextDue(rec: SliceRecord): number | null {
    return rec.t.length === 0 ? null : (rec.t[0] as number);
  }

  protected onDue(rec: SliceRecord, time: number): number | null {
    const t = rec.t;
    while (t.length > 0 && (t[0] as number) <= time) {
      const ts = t.shift() as number;
      this.onTimer(rec, ts);
    }
    if (t.length > 0) return t[0] as number;
    // Every slice has a cleanup timer until it is purged (unless lateness is infinite).
    return rec.ls === null || this.lateness === Number.POSITIVE_INFINITY ? null : this.orphanedSlices(rec);
  }

  /** Unreachable by construction; fails loudly rather than leak state silently. */
  private orphanedSlices(rec: SliceRecord): never {
    throw new Error(`internal error: window slice ${rec.ls} of the key has no pending timer`);
  }

  /** The per-window timer at `t`: fire the window ending at `t + 1`, purge expired slices. */
  private onTimer(rec: SliceRecord, t: number): void {
    const end = t + 1;
    if (this.spec.isWindowEnd(end) && this.fire(rec, end)) {
      const next = end + this.slide;
      if (next - 1 > t && this.hasData(rec, next - this.spec.size, next)) this.addTimer(rec, next - 1);
    }
    // Purge the slices whose last window is cleaned up at t.
    const lastEnd = t + 1 - this.lateness;
    const groupStart = lastEnd - this.spec.size;
    if (this.spec.isWindowEnd(lastEnd)) {
      const groupEnd = groupStart + this.slide;
      const d = rec.d;
      if (d !== null) {
        let from = 0;
        while (from < d.length && (d[from] as number) < groupStart) from += 2;
        let to = from;
        while (to < d.length && (d[to] as number) < groupEnd) to += 2;
        if (to > from) d.splice(from, to - from);
      }
      const ls = rec.ls;
      if (ls !== null && ls >= groupStart && ls < groupEnd) {
        // The latest slice expires: the newest older one (if any) becomes the latest.
        if (d !== null && d.length > 0) {
          rec.la = d.pop();
          rec.ls = d.pop() as number;
        } else {
          rec.ls = null;
          rec.la = undefined;
        }
      }
      if (d !== null && d.length === 0) rec.d = null;
    }
  }

  private hasData(rec: SliceRecord, start: number, end: number): boolean {
    const d = rec.d;
    if (d !== null) {
      for (let i = 0; i < d.length; i += 2) {
        const x = d[i] as number;
        if (x >= start) return x < end;
      }
    }
    const ls = rec.ls;
    return ls !== null && ls >= start && ls < end;
  }

  /** Evaluates window `[end - size, end)` for the current key; false when it holds no data. */
  private fire(rec: SliceRecord, end: number): boolean {
    const start = end - this.spec.size;
    const d = rec.d;
    const ls = rec.ls;
    const latestIn = ls !== null && ls >= start && ls < end;
    let i = 0;
    if (d !== null) while (i < d.length && (d[i] as number) < start) i += 2;
    const olderIn = d !== null && i < d.length && (d[i] as number) < end;
    if (!olderIn && !latestIn) return false;
    let result: unknown;
    if (this.reduce !== undefined) {
      let any = false;
      if (olderIn) {
        const dd = d as unknown[];
        for (; i < dd.length && (dd[i] as number) < end; i += 2) {
          result = any ? this.reduce(result as T, dd[i + 1] as T) : dd[i + 1];
          any = true;
        }
      }
      if (latestIn) result = any ? this.reduce(result as T, rec.la as T) : rec.la;
    } else {
      // Merged into a fresh accumulator: the result must not share objects with the slices,
      // which later (late) elements still update.
      const agg = this.aggregate as AggregateFunction<T, unknown, unknown>;
      let acc = agg.createAccumulator();
      if (olderIn) {
        const dd = d as unknown[];
        for (; i < dd.length && (dd[i] as number) < end; i += 2) acc = agg.merge(acc, dd[i + 1]);
      }
      if (latestIn) acc = agg.merge(acc, rec.la);
      result = agg.getResult(acc);
    }
    const window = new TimeWindow(start, end);
    this.collector.timestamp = end - 1;
    this.input[0] = result;
    this.config.windowFunction.process(this.backend.getCurrentKey() as K, window, undefined as never, this.input, this.collector);
    this.input[0] = undefined;
    return true;
  }

  override async close(): Promise<void> {
    await this.config.windowFunction.close();
    await super.close();
  }
}
