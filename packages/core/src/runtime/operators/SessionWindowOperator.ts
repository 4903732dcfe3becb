import type { AggregateFunction, ReduceFunction } from '../../api/functions.js';
import type { OutputTag } from '../../api/OutputTag.js';
import type { KeySelector, KeyType } from '../../api/types.js';
import { TimeWindow } from '../../api/windowing/Window.js';
import type { SessionAssigner } from '../../api/windowing/WindowAssigner.js';
import { TimestampedCollector } from '../StreamOperator.js';
import { type KeyRecord, KeyRecordWindowOperator } from './KeyRecordWindowOperator.js';
import { type InternalWindowFunction, type WindowContents, WindowProcessContext } from './WindowOperator.js';
import { openUserFunction, setCurrentKeyOf } from './processFunctionSupport.js';
import { requireEventTime, routeLateElement } from './windowSupport.js';
import type { StreamOperator } from '../StreamOperator.js';

/** Configuration of a session window operator. @internal */
export interface SessionWindowOperatorConfig<K extends KeyType, T, TOut> {
  readonly assigner: SessionAssigner<T>;
  readonly allowedLateness: number;
  readonly lateDataTag: OutputTag<T> | undefined;
  readonly keySelector: KeySelector<T, K>;
  readonly contents: WindowContents<T>;
  readonly windowFunction: InternalWindowFunction<unknown, TOut, K, TimeWindow>;
}

/**
 * One key's sessions. The latest session (largest start) is inline — `ls` start, `le` end
 * (exclusive), `lc` contents, `lp` pending — because in-order
 * data extends it almost always, and then an element touches this one object. Earlier sessions
 * are `o`: `[start, end, contents, pending, …]` ascending, all ending before `ls` (`null` when
 * none). Contents are the accumulator (aggregate), the reduced value (reduce) or the element
 * array (process). A session is pending while its firing at `end − 1` is still to come.
 * @internal
 */
export interface SessionRecord extends KeyRecord {
  /** Start of the latest session; `NaN` only transiently, when its last session was purged. */
  ls: number;
  le: number;
  lc: unknown;
  lp: boolean;
  o: unknown[] | null;
}

/** A session while the slow path works on a key's sessions as a list. */
interface Session {
  s: number;
  e: number;
  c: unknown;
  p: boolean;
}

/**
 * Event-time session windows with the default event-time trigger and no evictor: the same
 * results as {@link WindowOperator} with a merging window set (Flink's semantics — an element
 * opens `[ts, ts + gap)`, sessions that overlap or touch merge, a session fires when the
 * watermark reaches `end − 1`, again for each element within the allowed lateness, and is
 * purged, calling the window function's `clear`, at `end − 1 + allowedLateness`; elements whose
 * session would already be purged go to the late-data output), without its per-element costs:
 * a key's sessions are one record (see {@link KeyRecordWindowOperator}), an element that
 * extends the latest session is one lookup and one accumulator update, and no timer is moved
 * when a session grows — the key is woken at the earliest time it needs and re-queued then.
 *
 * Per-window state is refused in the process function's context (as in Flink for merging
 * windows); global state works.
 * @internal
 */
export class SessionWindowOperator<K extends KeyType, T, TOut> extends KeyRecordWindowOperator<T, TOut, SessionRecord> {
  private readonly lateness: number;
  private readonly kind: WindowContents<T>['kind'];
  private readonly reduce: ReduceFunction<T> | undefined;
  private readonly aggregate: AggregateFunction<T, unknown, unknown> | undefined;
  private collector!: TimestampedCollector<TOut>;
  private processCtx!: WindowProcessContext<TimeWindow>;
  private readonly input: unknown[] = [undefined];

  constructor(private readonly config: SessionWindowOperatorConfig<K, T, TOut>) {
    super('_sessions');
    if (!(config.allowedLateness >= 0)) throw new RangeError('allowed lateness must be >= 0');
    this.lateness = config.allowedLateness;
    const c = config.contents;
    this.kind = c.kind;
    this.reduce = c.kind === 'reduce' ? c.reduce : undefined;
    this.aggregate = c.kind === 'aggregate' ? c.aggregate : undefined;
  }

  override async open(): Promise<void> {
    this.collector = new TimestampedCollector(this.output);
    this.openRecords();
    this.processCtx = new WindowProcessContext<TimeWindow>(this, this.backend, true);
    await openUserFunction(this as StreamOperator<unknown>, this.config.windowFunction, true);
  }

  processElement(value: T, timestamp: number): void {
    setCurrentKeyOf(this as StreamOperator<unknown>, this.backend, this.config.keySelector, value);
    try {
      requireEventTime(timestamp, this.config.assigner);
      const end = timestamp + this.config.assigner.sessionGap(value);
      const wm = this.currentWatermark;
      const state = this.records;
      const rec = state.value();
      if (rec === undefined) {
        // The key's first session.
        if (end - 1 + this.lateness <= wm) {
          this.late(value, timestamp);
          return;
        }
        const created: SessionRecord = { at: Number.NaN, k: this.backend.getCurrentKey(), ls: timestamp, le: end, lc: this.add(undefined, value), lp: false, o: null };
        this.afterLatestChanged(created, wm);
        state.update(created);
        return;
      }
      const ls = rec.ls;
      if (timestamp >= ls && timestamp <= rec.le) {
        // Joins the latest session (the common case): grow it, add the element.
        if (end > rec.le) rec.le = end;
        rec.lc = this.add(rec.lc, value);
        this.afterLatestChanged(rec, wm);
      } else if (timestamp > rec.le) {
        // Opens a new latest session.
        if (end - 1 + this.lateness <= wm) {
          this.late(value, timestamp);
          return;
        }
        if (rec.o === null) rec.o = [];
        rec.o.push(ls, rec.le, rec.lc, rec.lp);
        rec.ls = timestamp;
        rec.le = end;
        rec.lc = this.add(undefined, value);
        this.afterLatestChanged(rec, wm);
      } else if (!this.addBeforeLatest(rec, value, timestamp, end, wm)) {
        return;
      }
      // A heap backend holds the record itself: changed in place, it needs no write-back.
      if (!this.byReference) state.update(rec);
    } catch (e) {
      throw this.userError(e, true);
    }
  }

  /** The latest session got an element: fire it now if its end passed, else it is pending. */
  private afterLatestChanged(rec: SessionRecord, wm: number): void {
    const maxTs = rec.le - 1;
    if (maxTs <= wm) {
      rec.lp = false;
      this.fire(rec.ls, rec.le, rec.lc);
      this.wakeAt(rec, maxTs + this.lateness);
    } else {
      rec.lp = true;
      this.wakeAt(rec, maxTs);
    }
  }

  /**
   * The general case: the element's window `[ts, end)` starts before the latest session. Works
   * on the key's sessions as a list; false when the element is late (nothing changed).
   */
  private addBeforeLatest(rec: SessionRecord, value: T, ts: number, end: number, wm: number): boolean {
    const list = toList(rec);
    // Sessions are disjoint and do not touch: those that intersect [ts, end) are a run.
    let lo = 0;
    while (lo < list.length && (list[lo] as Session).e < ts) lo++;
    let hi = lo;
    while (hi < list.length && (list[hi] as Session).s <= end) hi++;
    let target: Session;
    if (hi === lo) {
      // A session of its own, between others.
      if (end - 1 + this.lateness <= wm) {
        this.late(value, ts);
        return false;
      }
      target = { s: ts, e: end, c: this.add(undefined, value), p: false };
      list.splice(lo, 0, target);
    } else {
      // Merges sessions lo..hi-1 and the element's window into their cover.
      target = list[lo] as Session;
      if (ts < target.s) target.s = ts;
      for (let i = lo + 1; i < hi; i++) {
        const m = list[i] as Session;
        target.c = this.mergeContents(target.c, m.c);
        if (m.e > target.e) target.e = m.e;
      }
      if (end > target.e) target.e = end;
      list.splice(lo + 1, hi - lo - 1);
      target.c = this.add(target.c, value);
    }
    const maxTs = target.e - 1;
    if (maxTs <= wm) {
      target.p = false;
      this.fire(target.s, target.e, target.c);
    } else {
      target.p = true;
    }
    fromList(rec, list);
    const next = this.nextDue(rec);
    if (next !== null) this.wakeAt(rec, next);
    return true;
  }

  private late(value: T, timestamp: number): void {
    routeLateElement(this as StreamOperator<unknown>, this.config.lateDataTag as OutputTag<unknown> | undefined, value, timestamp);
  }

  /** Adds `value` to session contents; `undefined` starts new contents. */
  private add(current: unknown, value: T): unknown {
    const agg = this.aggregate;
    if (agg !== undefined) return agg.add(value, current === undefined ? agg.createAccumulator() : current);
    const reduce = this.reduce;
    if (reduce !== undefined) return current === undefined ? value : reduce(current as T, value);
    const list = current === undefined ? [] : (current as T[]);
    list.push(value);
    return list;
  }

  private mergeContents(a: unknown, b: unknown): unknown {
    switch (this.kind) {
      case 'aggregate':
        return (this.aggregate as AggregateFunction<T, unknown, unknown>).merge(a, b);
      case 'reduce':
        return (this.reduce as ReduceFunction<T>)(a as T, b as T);
      default:
        return (a as T[]).concat(b as T[]);
    }
  }

  private dueTime(end: number, pending: boolean): number {
    return pending ? end - 1 : end - 1 + this.lateness;
  }

  protected nextDue(rec: SessionRecord): number | null {
    if (Number.isNaN(rec.ls)) return null;
    let next = this.dueTime(rec.le, rec.lp);
    const o = rec.o;
    if (o !== null) {
      for (let i = 0; i < o.length; i += 4) {
        const d = this.dueTime(o[i + 1] as number, o[i + 3] as boolean);
        if (d < next) next = d;
      }
    }
    return Number.isFinite(next) ? next : null;
  }

  protected onDue(rec: SessionRecord, time: number): number | null {
    const o = rec.o;
    if (o !== null) {
      // Earlier sessions first (they end first); drop the purged ones in place.
      let w = 0;
      for (let i = 0; i < o.length; i += 4) {
        const s = o[i] as number;
        const e = o[i + 1] as number;
        const c = o[i + 2];
        let p = o[i + 3] as boolean;
        if (p && e - 1 <= time) {
          this.fire(s, e, c);
          p = false;
        }
        if (!p && e - 1 + this.lateness <= time) {
          this.purge(s, e);
          continue;
        }
        o[w] = s;
        o[w + 1] = e;
        o[w + 2] = c;
        o[w + 3] = p;
        w += 4;
      }
      o.length = w;
      if (w === 0) rec.o = null;
    }
    if (!Number.isNaN(rec.ls)) {
      if (rec.lp && rec.le - 1 <= time) {
        this.fire(rec.ls, rec.le, rec.lc);
        rec.lp = false;
      }
      if (!rec.lp && rec.le - 1 + this.lateness <= time) {
        this.purge(rec.ls, rec.le);
        const rest = rec.o;
        if (rest !== null && rest.length > 0) {
          rec.lp = rest.pop() as boolean;
          rec.lc = rest.pop();
          rec.le = rest.pop() as number;
          rec.ls = rest.pop() as number;
          if (rest.length === 0) rec.o = null;
        } else {
          rec.ls = Number.NaN; // the record is deleted
          rec.lc = undefined;
        }
      }
    }
    return this.nextDue(rec);
  }

  /** Evaluates session `[start, end)` of the current key. */
  private fire(start: number, end: number, contents: unknown): void {
    const window = new TimeWindow(start, end);
    let input: unknown[];
    switch (this.kind) {
      case 'aggregate':
        this.input[0] = (this.aggregate as AggregateFunction<T, unknown, unknown>).getResult(contents);
        input = this.input;
        break;
      case 'reduce':
        this.input[0] = contents;
        input = this.input;
        break;
      default:
        input = contents as unknown[];
    }
    this.collector.timestamp = end - 1;
    this.processCtx.window_ = window;
    this.config.windowFunction.process(this.backend.getCurrentKey() as K, window, this.processCtx, input, this.collector);
    this.input[0] = undefined;
  }

  /** The session is past its lateness: the window function clears what it kept for it. */
  private purge(start: number, end: number): void {
    this.processCtx.window_ = new TimeWindow(start, end);
    this.config.windowFunction.clear(this.processCtx);
  }

  override async close(): Promise<void> {
    await this.config.windowFunction.close();
    await super.close();
  }
}

function toList(rec: SessionRecord): Session[] {
  const out: Session[] = [];
  const o = rec.o;
  if (o !== null) {
    for (let i = 0; i < o.length; i += 4) {
      out.push({ s: o[i] as number, e: o[i + 1] as number, c: o[i + 2], p: o[i + 3] as boolean });
    }
  }
  if (!Number.isNaN(rec.ls)) out.push({ s: rec.ls, e: rec.le, c: rec.lc, p: rec.lp });
  return out;
}

function fromList(rec: SessionRecord, list: readonly Session[]): void {
  const last = list[list.length - 1] as Session;
  rec.ls = last.s;
  rec.le = last.e;
  rec.lc = last.c;
  rec.lp = last.p;
  if (list.length === 1) {
    rec.o = null;
    return;
  }
  const o: unknown[] = [];
  for (let i = 0; i < list.length - 1; i++) {
    const x = list[i] as Session;
    o.push(x.s, x.e, x.c, x.p);
  }
  rec.o = o;
}
