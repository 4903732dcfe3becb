import type { AggregateFunction, ReduceFunction } from '../../api/functions.js';
import type { OutputTag } from '../../api/OutputTag.js';
import type { KeySelector, KeyType } from '../../api/types.js';
import { NO_TIMESTAMP } from '../../api/types.js';
import { TimeWindow } from '../../api/windowing/Window.js';
import type { SliceAssigner, WindowAssigner } from '../../api/windowing/WindowAssigner.js';
import { ValueStateDescriptor } from '../../state/descriptors.js';
import type { InternalValueState, KeyedStateBackend } from '../../state/StateBackend.js';
import type { InternalTimerService, TimerTarget } from '../InternalTimerService.js';
import {
  type InternalTimer,
  type OneInputOperator,
  StreamingRuntimeContext,
  StreamOperator,
  TimestampedCollector,
} from '../StreamOperator.js';
import type { InternalWindowFunction, WindowContents } from './WindowOperator.js';

/** Configuration of a slicing window operator. @internal */
export interface SlicingWindowOperatorConfig<K extends KeyType, T, TOut> {
  readonly assigner: WindowAssigner<T, TimeWindow> & SliceAssigner;
  readonly allowedLateness: number;
  readonly lateDataTag: OutputTag<T> | undefined;
  readonly keySelector: KeySelector<T, K>;
  readonly contents: Exclude<WindowContents<T>, { kind: 'list' }>;
  readonly windowFunction: InternalWindowFunction<unknown, TOut, K, TimeWindow>;
}

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

const TIMER_NS = 'w';

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
 * One event-time timer namespace per key: a timer at `t` means "fire the window that ends at
 * `t + 1` if it holds data, then purge the slices whose last window is cleaned at `t`". Each
 * slice registers the firing of the first window containing it that has not fired yet; each
 * firing registers the next window's if that holds data, so all windows fire in order.
 * @internal
 */
export class SlicingWindowOperator<K extends KeyType, T, TOut>
  extends StreamOperator<TOut>
  implements OneInputOperator<T>, TimerTarget
{
  // configuration
  private readonly size: number;
  private readonly slide: number;
  private readonly offset: number;
  private readonly sliceSize: number;
  private readonly lateness: number;
  private readonly reduce: ReduceFunction<T> | undefined;
  private readonly aggregate: AggregateFunction<T, unknown, unknown> | undefined;
  // transient
  private backend!: KeyedStateBackend;
  private slices!: InternalValueState<unknown>;
  private timerService!: InternalTimerService;
  private collector!: TimestampedCollector<TOut>;
  private readonly input: unknown[] = [undefined];

  constructor(private readonly config: SlicingWindowOperatorConfig<K, T, TOut>) {
    super();
    const a = config.assigner;
    if (!(a.size > 0) || !(a.slide > 0)) throw new RangeError('window size and slide must be > 0');
    this.size = a.size;
    this.slide = a.slide;
    this.offset = a.offset;
    this.sliceSize = gcd(a.size, a.slide);
    this.lateness = config.allowedLateness;
    const c = config.contents;
    this.reduce = c.kind === 'reduce' ? c.reduce : undefined;
    this.aggregate = c.kind === 'aggregate' ? c.aggregate : undefined;
  }

  override async open(): Promise<void> {
    this.backend = this.keyedBackend('window()');
    this.collector = new TimestampedCollector(this.output);
    this.timerService = this.createTimerService(this);
    this.slices = this.backend.getValueState(new ValueStateDescriptor<unknown>('_window-slices'));
    const rc = new StreamingRuntimeContext(this.setupInfo);
    try {
      await this.config.windowFunction.open(rc);
    } catch (e) {
      throw this.userError(e, false);
    }
    rc.afterOpen();
  }

  /** Start of the largest aligned window start `<= ts`. */
  private alignedStart(ts: number): number {
    return TimeWindow.windowStart(ts, this.offset, this.slide);
  }

  processElement(value: T, timestamp: number): void {
    let key: K;
    try {
      key = this.config.keySelector(value);
    } catch (e) {
      throw this.userError(e, false);
    }
    this.backend.setCurrentKey(key);
    try {
      if (timestamp === NO_TIMESTAMP) {
        throw new TypeError(
          'record has no event-time timestamp but the window assigns event-time windows: call assignTimestampsAndWatermarks(...) upstream',
        );
      }
      const wm = this.currentWatermark;
      const lastStart = this.alignedStart(timestamp);
      const lastEnd = lastStart + this.size;
      // Sliding windows with slide > size leave gaps: an element there is in no window.
      if (timestamp >= lastEnd) return;
      const cleanup = lastEnd - 1 + this.lateness;
      if (cleanup <= wm) {
        // Every window of the element is past its lateness.
        const tag = this.config.lateDataTag;
        if (tag !== undefined) this.output.collectSide(tag as OutputTag<unknown>, value, timestamp);
        else this.numLateRecordsDropped++;
        return;
      }
      const slice = TimeWindow.windowStart(timestamp, this.offset, this.sliceSize);
      const state = this.slices;
      state.setCurrentNamespace(slice);
      const current = state.value();
      if (this.reduce !== undefined) {
        state.update(current === undefined ? value : this.reduce(current as T, value));
      } else {
        const agg = this.aggregate as AggregateFunction<T, unknown, unknown>;
        state.update(agg.add(value, current === undefined ? agg.createAccumulator() : current));
      }
      // The windows containing the slice start at lastStart - k * slide for
      // 0 <= k <= (size - sliceSize - (slice - lastStart)) / slide; the first one ends earliest.
      let firstEnd = lastEnd - Math.floor((this.size - this.sliceSize - (slice - lastStart)) / this.slide) * this.slide;
      if (firstEnd - 1 <= wm) {
        // Windows that already fired but are within the allowed lateness fire again now.
        for (let end = firstEnd; end <= lastEnd && end - 1 <= wm; end += this.slide) {
          if (end - 1 + this.lateness > wm) this.fire(end);
          firstEnd = end + this.slide;
        }
      }
      // Timers are registered when the slice gets its first element: later elements of the
      // slice find them in place (the first window's timer, or the chain of firings it starts,
      // and the slice group's cleanup), so the per-record path skips the timer index.
      if (current === undefined) {
        if (firstEnd <= lastEnd) this.timerService.registerEventTimeTimer(TIMER_NS, firstEnd - 1);
        if (cleanup !== firstEnd - 1) this.timerService.registerEventTimeTimer(TIMER_NS, cleanup);
      }
    } catch (e) {
      throw this.userError(e, true);
    }
  }

  /** Whether `end` is the end of an aligned window. */
  private isWindowEnd(end: number): boolean {
    return TimeWindow.windowStart(end - this.size, this.offset, this.slide) === end - this.size;
  }

  onEventTime(timer: InternalTimer): void {
    const t = timer.timestamp;
    try {
      const end = t + 1;
      if (this.isWindowEnd(end) && this.fire(end)) {
        const next = end + this.slide;
        if (this.hasData(next - this.size, next) && next - 1 > t) {
          this.timerService.registerEventTimeTimer(TIMER_NS, next - 1);
        }
      }
      // Purge the slices whose last window is cleaned up at t.
      const lastEnd = t + 1 - this.lateness;
      const groupStart = lastEnd - this.size;
      if (TimeWindow.windowStart(groupStart, this.offset, this.slide) === groupStart) {
        const state = this.slices;
        for (let s = groupStart; s < groupStart + this.slide; s += this.sliceSize) {
          state.setCurrentNamespace(s);
          state.clear();
        }
      }
    } catch (e) {
      throw this.userError(e, true);
    }
  }

  onProcessingTime(): void {}

  private hasData(start: number, end: number): boolean {
    const state = this.slices;
    for (let s = start; s < end; s += this.sliceSize) {
      state.setCurrentNamespace(s);
      if (state.value() !== undefined) return true;
    }
    return false;
  }

  /** Evaluates window `[end - size, end)`; false when it holds no data. */
  private fire(end: number): boolean {
    const start = end - this.size;
    const state = this.slices;
    let result: unknown;
    let any = false;
    if (this.reduce !== undefined) {
      for (let s = start; s < end; s += this.sliceSize) {
        state.setCurrentNamespace(s);
        const v = state.value();
        if (v === undefined) continue;
        result = any ? this.reduce(result as T, v as T) : v;
        any = true;
      }
    } else {
      const agg = this.aggregate as AggregateFunction<T, unknown, unknown>;
      let acc: unknown;
      for (let s = start; s < end; s += this.sliceSize) {
        state.setCurrentNamespace(s);
        const v = state.value();
        if (v === undefined) continue;
        if (!any) acc = agg.createAccumulator();
        acc = agg.merge(acc, v);
        any = true;
      }
      if (any) result = agg.getResult(acc);
    }
    if (!any) return false;
    const window = new TimeWindow(start, end);
    this.collector.timestamp = end - 1;
    this.input[0] = result;
    this.config.windowFunction.process(
      this.backend.getCurrentKey() as K,
      window,
      undefined as never,
      this.input,
      this.collector,
    );
    this.input[0] = undefined;
    return true;
  }

  override async close(): Promise<void> {
    await this.config.windowFunction.close();
    await super.close();
  }
}
