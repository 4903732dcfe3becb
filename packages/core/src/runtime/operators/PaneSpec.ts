import type { AggregateFunction, ReduceFunction } from '../../api/functions.js';
import { TimeWindow } from '../../api/windowing/Window.js';
import type { SlicingWindowOperatorConfig } from './SlicingWindowOperator.js';

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/**
 * What the pane-based window operators ({@link PaneWindowOperator}, {@link SlicingWindowOperator})
 * share: the window geometry — time cut into aligned panes of `gcd(size, slide)` ms, each window
 * the union of `size / paneSize` consecutive panes — and how a pane's contents are kept.
 * @internal
 */
export class PaneSpec<T> {
  readonly size: number;
  readonly slide: number;
  readonly offset: number;
  readonly paneSize: number;
  readonly lateness: number;
  readonly reduce: ReduceFunction<T> | undefined;
  readonly aggregate: AggregateFunction<T, unknown, unknown> | undefined;

  constructor(config: SlicingWindowOperatorConfig<never, T, unknown>) {
    const a = config.assigner;
    if (!(a.size > 0) || !(a.slide > 0)) throw new RangeError('window size and slide must be > 0');
    this.size = a.size;
    this.slide = a.slide;
    this.offset = a.offset;
    this.paneSize = gcd(a.size, a.slide);
    this.lateness = config.allowedLateness;
    const c = config.contents;
    this.reduce = c.kind === 'reduce' ? c.reduce : undefined;
    this.aggregate = c.kind === 'aggregate' ? c.aggregate : undefined;
  }

  /** Start of the pane of `timestamp`. */
  paneOf(timestamp: number): number {
    return TimeWindow.windowStart(timestamp, this.offset, this.paneSize);
  }

  /** End of the last window containing `pane` (the one starting latest). */
  lastEndOf(pane: number): number {
    return TimeWindow.windowStart(pane, this.offset, this.slide) + this.size;
  }

  /** End of the first window containing `pane` (the one ending earliest). */
  firstEndOf(pane: number): number {
    const lastStart = TimeWindow.windowStart(pane, this.offset, this.slide);
    // The windows containing the pane start at lastStart - k * slide for
    // 0 <= k <= (size - paneSize - (pane - lastStart)) / slide.
    return lastStart + this.size - Math.floor((this.size - this.paneSize - (pane - lastStart)) / this.slide) * this.slide;
  }

  /**
   * Of the windows ending in `[firstEnd, lastEnd]` (one pane's), the end of the last one the
   * watermark `wm` has passed (`firstEnd` when only the first has; call only when it has).
   */
  lastPassedEnd(firstEnd: number, lastEnd: number, wm: number): number {
    let end = firstEnd;
    while (end + this.slide <= lastEnd && end + this.slide - 1 <= wm) end += this.slide;
    return end;
  }

  /** Whether `end` is the end of an aligned window. */
  isWindowEnd(end: number): boolean {
    return TimeWindow.windowStart(end - this.size, this.offset, this.slide) === end - this.size;
  }

  /** Adds `value` to a pane's accumulator (or reduced value); `undefined` starts a new one. */
  add(current: unknown, value: T): unknown {
    if (this.reduce !== undefined) return current === undefined ? value : this.reduce(current as T, value);
    const agg = this.aggregate as AggregateFunction<T, unknown, unknown>;
    return agg.add(value, current === undefined ? agg.createAccumulator() : current);
  }
}
