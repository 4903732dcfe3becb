import type { AggregateFunction, ReduceFunction } from '../../api/functions.js';
import type { OutputTag } from '../../api/OutputTag.js';
import type { KeyType } from '../../api/types.js';
import { TimeWindow } from '../../api/windowing/Window.js';
import { ValueStateDescriptor } from '../../state/descriptors.js';
import type { InternalValueState, KeyedStateBackend } from '../../state/StateBackend.js';
import { type OneInputOperator, StreamOperator, TimestampedCollector } from '../StreamOperator.js';
import { PaneSpec } from './PaneSpec.js';
import type { SlicingWindowOperatorConfig } from './SlicingWindowOperator.js';
import { openUserFunction, setCurrentKeyOf } from './processFunctionSupport.js';
import { requireEventTime, routeLateElement } from './windowSupport.js';

const STATE = '_window-panes';
const FIRED = 'panes-fired-up-to';

/** In-memory backend methods this operator needs. */
type PaneBackend = KeyedStateBackend &
  Required<Pick<KeyedStateBackend, 'forEachInNamespace' | 'clearNamespace' | 'namespaces'>>;

/**
 * Tumbling and sliding event-time windows over panes (slices) for backends that hold state in
 * memory (the heap backend): the pane-major counterpart of {@link SlicingWindowOperator}, with
 * the same results (Flink's `EventTimeTrigger` semantics, allowed lateness, late firings and the
 * late-data output). Each element updates its pane's accumulator — keyed state under the pane's
 * start as namespace, so checkpoints, restores and rescaling treat it as any keyed state — and
 * nothing else: there are no per-key timers. When the watermark passes a window's end, the
 * window fires for every key that has data in one of its panes, by iterating those panes;
 * panes are dropped as a whole once no window containing them can fire again. An element for
 * a window that already fired (within the allowed lateness) fires that window for its key at
 * once, as the trigger would.
 *
 * Which windows have fired is the largest window end fired by the watermark, kept as operator
 * state (the same in every subtask at an aligned checkpoint; a restore takes the largest).
 * @internal
 */
export class PaneWindowOperator<K extends KeyType, T, TOut> extends StreamOperator<TOut> implements OneInputOperator<T> {
  private readonly spec: PaneSpec<T>;
  private readonly size: number;
  private readonly slide: number;
  private readonly paneSize: number;
  private readonly lateness: number;
  private readonly reduce: ReduceFunction<T> | undefined;
  private readonly aggregate: AggregateFunction<T, unknown, unknown> | undefined;
  private backend!: PaneBackend;
  private state!: InternalValueState<unknown>;
  private collector!: TimestampedCollector<TOut>;
  private readonly input: unknown[] = [undefined];
  /** Starts of the panes that hold data, ascending. */
  private readonly active: number[] = [];
  /** The largest window end fired by the watermark. */
  private firedUpTo = Number.NEGATIVE_INFINITY;
  /** The watermark from which the next window fires or the next pane expires. */
  private nextWork = Number.POSITIVE_INFINITY;
  // The pane of the previous element, and its geometry (elements mostly arrive in order).
  private cPane = Number.NaN;
  private cEnd = Number.NaN;
  private cFirstEnd = 0;
  private cLastEnd = 0;
  private cActive = false;
  /** The window being fired: key → accumulator merged over its panes so far (sliding windows). */
  private readonly merged = new Map<KeyType, unknown>();
  private firingEnd = 0;
  private readonly mergePane = (key: KeyType, _keyGroup: number, v: unknown): void => {
    const m = this.merged;
    const acc = m.get(key);
    if (this.reduce !== undefined) {
      m.set(key, acc === undefined ? v : this.reduce(acc as T, v as T));
    } else {
      const agg = this.aggregate as AggregateFunction<T, unknown, unknown>;
      // Merged into a fresh accumulator: the result shares nothing with the panes.
      m.set(key, agg.merge(acc === undefined ? agg.createAccumulator() : acc, v));
    }
  };
  private readonly fireSingle = (key: KeyType, keyGroup: number, acc: unknown): void => {
    this.backend.setCurrentKeyAndGroup(key, keyGroup);
    this.emit(key, this.firingEnd, this.result(acc));
  };

  constructor(private readonly config: SlicingWindowOperatorConfig<K, T, TOut>) {
    super();
    const spec = new PaneSpec<T>(config as unknown as SlicingWindowOperatorConfig<never, T, unknown>);
    this.spec = spec;
    this.size = spec.size;
    this.slide = spec.slide;
    this.paneSize = spec.paneSize;
    this.lateness = spec.lateness;
    this.reduce = spec.reduce;
    this.aggregate = spec.aggregate;
  }

  override async open(): Promise<void> {
    const b = this.keyedBackend('window()');
    if (b.forEachInNamespace === undefined || b.clearNamespace === undefined || b.namespaces === undefined) {
      throw new TypeError(`${b.constructor.name} cannot list a namespace's entries; pane windows need an in-memory backend`);
    }
    this.backend = b as PaneBackend;
    this.collector = new TimestampedCollector(this.output);
    this.state = this.backend.getValueState(new ValueStateDescriptor<unknown>(STATE));
    // Restore: panes from the keyed state, progress from the operator state.
    for (const ns of this.backend.namespaces(STATE)) this.active.push(ns as number);
    this.active.sort((x, y) => x - y);
    for (const blob of this.restoredOperatorState) {
      const bytes = blob[FIRED];
      if (bytes === undefined) continue;
      const v = JSON.parse(new TextDecoder().decode(bytes)) as number | null;
      if (v !== null && v > this.firedUpTo) this.firedUpTo = v;
    }
    this.restoredOperatorState = [];
    this.planNextWork();
    await openUserFunction(this as StreamOperator<unknown>, this.config.windowFunction, true);
  }

  protected override snapshotOperatorState(_checkpointId: number): Record<string, Uint8Array> {
    const v = Number.isFinite(this.firedUpTo) ? this.firedUpTo : null;
    return { [FIRED]: new TextEncoder().encode(JSON.stringify(v)) };
  }

  /** Computes the geometry of `timestamp`'s pane. */
  private locate(timestamp: number): void {
    const spec = this.spec;
    const pane = spec.paneOf(timestamp);
    this.cPane = pane;
    this.cEnd = pane + this.paneSize;
    this.cLastEnd = spec.lastEndOf(pane);
    this.cFirstEnd = spec.firstEndOf(pane);
    this.cActive = this.isActive(pane);
  }

  private isActive(pane: number): boolean {
    const a = this.active;
    for (let i = a.length - 1; i >= 0; i--) {
      const x = a[i] as number;
      if (x === pane) return true;
      if (x < pane) return false;
    }
    return false;
  }

  processElement(value: T, timestamp: number): void {
    setCurrentKeyOf(this as StreamOperator<unknown>, this.backend, this.config.keySelector, value);
    try {
      requireEventTime(timestamp, this.config.assigner);
      if (!(timestamp >= this.cPane && timestamp < this.cEnd)) this.locate(timestamp);
      const lastEnd = this.cLastEnd;
      // Sliding windows with slide > size leave gaps: an element there is in no window.
      if (this.cPane >= lastEnd) return;
      const wm = this.currentWatermark;
      if (lastEnd - 1 + this.lateness <= wm) {
        routeLateElement(this as StreamOperator<unknown>, this.config.lateDataTag as OutputTag<unknown> | undefined, value, timestamp);
        return;
      }
      const state = this.state;
      state.setCurrentNamespace(this.cPane);
      state.update(this.spec.add(state.value(), value));
      if (!this.cActive) this.activate(this.cPane);
      const firstEnd = this.cFirstEnd;
      if (firstEnd - 1 <= wm) {
        // Windows that already fired but are within the allowed lateness fire again now, for
        // this key, latest first (the order in which the assigner lists an element's windows).
        const lastFired = this.spec.lastPassedEnd(firstEnd, lastEnd, wm);
        for (let end = lastFired; end >= firstEnd; end -= this.slide) {
          if (end - 1 + this.lateness > wm) this.fireForKey(end);
        }
      }
    } catch (e) {
      throw this.userError(e, true);
    }
  }

  private activate(pane: number): void {
    const a = this.active;
    let i = a.length;
    while (i > 0 && (a[i - 1] as number) > pane) i--;
    a.splice(i, 0, pane);
    this.cActive = pane === this.cPane;
    this.planNextWork();
  }

  /** The first window end after `firedUpTo` that contains an active pane, or +∞. */
  private nextFireEnd(): number {
    let best = Number.POSITIVE_INFINITY;
    for (const pane of this.active) {
      const last = this.spec.lastEndOf(pane);
      if (last <= this.firedUpTo) continue;
      let e = this.spec.firstEndOf(pane);
      if (e <= this.firedUpTo) e += Math.ceil((this.firedUpTo - e + 1) / this.slide) * this.slide;
      if (e <= last && e < best) best = e;
      // Panes are ascending and so are their first ends: the first candidate is the smallest.
      if (best !== Number.POSITIVE_INFINITY) break;
    }
    return best;
  }

  private planNextWork(): void {
    const fire = this.nextFireEnd() - 1;
    const a = this.active;
    const purge = a.length === 0 ? Number.POSITIVE_INFINITY : this.spec.lastEndOf(a[0] as number) - 1 + this.lateness;
    this.nextWork = Math.min(fire, purge);
  }

  override processWatermark(watermark: number): void {
    this.currentWatermark = watermark;
    if (watermark >= this.nextWork) {
      try {
        this.advance(watermark);
      } catch (e) {
        throw this.userError(e, true);
      }
    }
    // Every window ending by the watermark is now handled: it fired if it held data, and data
    // that arrives for it later fires it for its key at once. Never again by the watermark.
    if (watermark !== Number.NEGATIVE_INFINITY) {
      const handled =
        watermark === Number.POSITIVE_INFINITY
          ? watermark
          : TimeWindow.windowStart(watermark + 1 - this.size, this.spec.offset, this.slide) + this.size;
      if (handled > this.firedUpTo) this.firedUpTo = handled;
    }
    this.output.emitWatermark(watermark);
  }

  /** Fires every window whose end the watermark passed, in order, then drops expired panes. */
  private advance(wm: number): void {
    for (;;) {
      const end = this.nextFireEnd();
      if (end === Number.POSITIVE_INFINITY || end - 1 > wm) break;
      this.fireAll(end);
      this.firedUpTo = end;
    }
    const a = this.active;
    while (a.length > 0 && this.spec.lastEndOf(a[0] as number) - 1 + this.lateness <= wm) {
      const pane = a.shift() as number;
      this.backend.clearNamespace(STATE, pane);
      if (pane === this.cPane) this.cPane = this.cEnd = Number.NaN;
    }
    this.planNextWork();
  }

  /** Fires window `[end - size, end)` for every key with data in it. */
  private fireAll(end: number): void {
    this.firingEnd = end;
    const start = end - this.size;
    const b = this.backend;
    if (this.paneSize === this.size) {
      b.forEachInNamespace(STATE, start, this.fireSingle);
      return;
    }
    const m = this.merged;
    for (const pane of this.active) {
      if (pane < start) continue;
      if (pane >= end) break;
      b.forEachInNamespace(STATE, pane, this.mergePane);
    }
    const agg = this.aggregate;
    for (const [key, acc] of m) {
      b.setCurrentKey(key);
      this.emit(key, end, agg === undefined ? acc : agg.getResult(acc));
    }
    m.clear();
  }

  /** Evaluates window `[end - size, end)` for the current key, if it holds data. */
  private fireForKey(end: number): void {
    const state = this.state;
    let result: unknown;
    let any = false;
    if (this.reduce !== undefined) {
      for (let s = end - this.size; s < end; s += this.paneSize) {
        state.setCurrentNamespace(s);
        const v = state.value();
        if (v === undefined) continue;
        result = any ? this.reduce(result as T, v as T) : v;
        any = true;
      }
    } else {
      const agg = this.aggregate as AggregateFunction<T, unknown, unknown>;
      let acc: unknown;
      for (let s = end - this.size; s < end; s += this.paneSize) {
        state.setCurrentNamespace(s);
        const v = state.value();
        if (v === undefined) continue;
        if (!any) acc = agg.createAccumulator();
        // Merged into a fresh accumulator: the result shares nothing with the panes.
        acc = agg.merge(acc, v);
        any = true;
      }
      if (any) result = agg.getResult(acc);
    }
    if (any) this.emit(this.backend.getCurrentKey() as K, end, result);
  }

  /** The result of one pane's accumulator as a whole window's (tumbling windows). */
  private result(acc: unknown): unknown {
    if (this.reduce !== undefined) return acc;
    const agg = this.aggregate as AggregateFunction<T, unknown, unknown>;
    return agg.getResult(agg.merge(agg.createAccumulator(), acc));
  }

  private emit(key: KeyType, end: number, result: unknown): void {
    this.collector.timestamp = end - 1;
    this.input[0] = result;
    this.config.windowFunction.process(key as K, new TimeWindow(end - this.size, end), undefined as never, this.input, this.collector);
    this.input[0] = undefined;
  }

  override async close(): Promise<void> {
    await this.config.windowFunction.close();
    await super.close();
  }
}
