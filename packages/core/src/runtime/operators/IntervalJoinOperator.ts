import { InvalidPipelineError } from '../../api/errors.js';
import type { ProcessJoinContext, ProcessJoinFunction } from '../../api/joinFunctions.js';
import type { OutputTag } from '../../api/OutputTag.js';
import type { KeySelector, KeyType } from '../../api/types.js';
import { MapStateDescriptor } from '../../state/descriptors.js';
import type { InternalMapState, KeyedStateBackend } from '../../state/StateBackend.js';
import type { InternalTimerService, TimerTarget } from '../InternalTimerService.js';
import {
  type InternalTimer,
  instanceOf,
  type StreamOperator,
  TimestampedCollector,
} from '../StreamOperator.js';
import { TwoInputStreamOperator } from './CoProcessOperator.js';
import { openUserFunction } from './processFunctionSupport.js';

/** Configuration of an {@link IntervalJoinOperator}. @internal */
export interface IntervalJoinConfig<K extends KeyType, TLeft, TRight, TOut> {
  /** Inclusive lower bound of `right.ts − left.ts` (exclusive bounds already shifted by 1 ms). */
  readonly lower: number;
  /** Inclusive upper bound of `right.ts − left.ts`. */
  readonly upper: number;
  readonly keySelector1: KeySelector<TLeft, K>;
  readonly keySelector2: KeySelector<TRight, K>;
  readonly fn: ProcessJoinFunction<TLeft, TRight, TOut>;
  readonly leftLateTag: OutputTag<TLeft> | undefined;
  readonly rightLateTag: OutputTag<TRight> | undefined;
}

const LEFT = 'L';
const RIGHT = 'R';

/**
 * The interval join (Flink's `IntervalJoinOperator`): a keyed two-input operator that joins
 * `left` and `right` of equal keys when `left.ts + lower <= right.ts <= left.ts + upper`.
 *
 * Each side is buffered in keyed map state, timestamp → elements with that timestamp. An
 * arriving element is joined at once against the other side's buffer, then buffered until the
 * watermark makes further matches impossible. Elements are late when their timestamp is below
 * the operator's watermark (the minimum of both inputs'); a non-late element of the other side
 * therefore has `ts >= watermark`, so a left element at `ts` is dropped once
 * `watermark > ts + upper` (timer at `ts + upper + 1`) and a right element at `ts` once
 * `watermark > ts − lower` (timer at `ts − lower + 1`). An element that can no longer match
 * anything later is not buffered at all. Late elements are not joined: they go to the side's
 * late-data output or are dropped and counted.
 * @internal
 */
export class IntervalJoinOperator<K extends KeyType, TLeft, TRight, TOut>
  extends TwoInputStreamOperator<TLeft, TRight, TOut>
  implements TimerTarget
{
  // configuration
  private readonly lower: number;
  private readonly upper: number;
  private readonly keySelector1: KeySelector<TLeft, K>;
  private readonly keySelector2: KeySelector<TRight, K>;
  private readonly leftLateTag: OutputTag<TLeft> | undefined;
  private readonly rightLateTag: OutputTag<TRight> | undefined;
  private readonly fn: ProcessJoinFunction<TLeft, TRight, TOut>;
  // transient
  private backend!: KeyedStateBackend;
  private leftBuffer!: InternalMapState<number, TLeft[]>;
  private rightBuffer!: InternalMapState<number, TRight[]>;
  private timerService!: InternalTimerService;
  private collector!: TimestampedCollector<TOut>;
  private ctx!: JoinContext;

  constructor(config: IntervalJoinConfig<K, TLeft, TRight, TOut>) {
    super();
    if (!(config.lower <= config.upper)) {
      throw new InvalidPipelineError(`interval join bounds must satisfy lower <= upper, got [${config.lower}, ${config.upper}]`);
    }
    this.lower = config.lower;
    this.upper = config.upper;
    this.keySelector1 = config.keySelector1;
    this.keySelector2 = config.keySelector2;
    this.leftLateTag = config.leftLateTag;
    this.rightLateTag = config.rightLateTag;
    this.fn = instanceOf(config.fn);
  }

  override async open(): Promise<void> {
    this.backend = this.keyedBackend('IntervalJoin');
    this.leftBuffer = this.backend.getMapState(new MapStateDescriptor<number, TLeft[]>('interval-join-left-buffer'));
    this.rightBuffer = this.backend.getMapState(new MapStateDescriptor<number, TRight[]>('interval-join-right-buffer'));
    this.timerService = this.createTimerService(this);
    this.collector = new TimestampedCollector(this.output);
    this.ctx = new JoinContext(this);
    await openUserFunction(this as StreamOperator<unknown>, this.fn, true);
  }

  processElement1(value: TLeft, timestamp: number): void {
    this.checkTimestamp(timestamp, 'left');
    if (timestamp < this.currentWatermark) {
      if (this.leftLateTag !== undefined) this.output.collectSide(this.leftLateTag as OutputTag<unknown>, value, timestamp);
      else this.numLateRecordsDropped++;
      return;
    }
    let key: K;
    try {
      key = this.keySelector1(value);
    } catch (e) {
      throw this.userError(e, false);
    }
    this.backend.setCurrentKey(key);
    const lo = timestamp + this.lower;
    const hi = timestamp + this.upper;
    for (const [rightTs, rights] of this.rightBuffer.entries()) {
      if (rightTs < lo || rightTs > hi) continue;
      for (let i = 0; i < rights.length; i++) this.emit(value, rights[i] as TRight, timestamp, rightTs);
    }
    const cleanupAt = timestamp + this.upper + 1;
    // No right element still to come (ts >= watermark) can match: do not buffer.
    if (cleanupAt <= this.currentWatermark) return;
    addTo(this.leftBuffer, timestamp, value);
    this.timerService.registerEventTimeTimer(LEFT, cleanupAt);
  }

  processElement2(value: TRight, timestamp: number): void {
    this.checkTimestamp(timestamp, 'right');
    if (timestamp < this.currentWatermark) {
      if (this.rightLateTag !== undefined) this.output.collectSide(this.rightLateTag as OutputTag<unknown>, value, timestamp);
      else this.numLateRecordsDropped++;
      return;
    }
    let key: K;
    try {
      key = this.keySelector2(value);
    } catch (e) {
      throw this.userError(e, false);
    }
    this.backend.setCurrentKey(key);
    const lo = timestamp - this.upper;
    const hi = timestamp - this.lower;
    for (const [leftTs, lefts] of this.leftBuffer.entries()) {
      if (leftTs < lo || leftTs > hi) continue;
      for (let i = 0; i < lefts.length; i++) this.emit(lefts[i] as TLeft, value, leftTs, timestamp);
    }
    const cleanupAt = timestamp - this.lower + 1;
    if (cleanupAt <= this.currentWatermark) return;
    addTo(this.rightBuffer, timestamp, value);
    this.timerService.registerEventTimeTimer(RIGHT, cleanupAt);
  }

  private emit(left: TLeft, right: TRight, leftTs: number, rightTs: number): void {
    const ts = leftTs > rightTs ? leftTs : rightTs;
    const ctx = this.ctx;
    ctx.leftTs = leftTs;
    ctx.rightTs = rightTs;
    ctx.ts = ts;
    this.collector.timestamp = ts;
    try {
      this.fn.processElement(left, right, ctx, this.collector);
    } catch (e) {
      throw this.userError(e, true);
    }
  }

  private checkTimestamp(timestamp: number, side: string): void {
    if (Number.isFinite(timestamp)) return;
    throw new InvalidPipelineError(
      `interval join '${this.setupInfo.taskInfo.operatorName}' received a ${side} element without an event-time timestamp: ` +
        'both inputs need assignTimestampsAndWatermarks(...) or a source with a WatermarkStrategy',
    );
  }

  onEventTime(timer: InternalTimer): void {
    if (timer.namespace === LEFT) expire(this.leftBuffer, timer.timestamp, timer.timestamp - this.upper - 1, this.upper + 1);
    else expire(this.rightBuffer, timer.timestamp, timer.timestamp + this.lower - 1, 1 - this.lower);
  }

  onProcessingTime(): void {}

  override async close(): Promise<void> {
    await this.fn.close?.();
    await super.close();
  }
}

/** Appends `value` to the bucket of `timestamp` (written back, so any backend persists it). */
function addTo<T>(buffer: InternalMapState<number, T[]>, timestamp: number, value: T): void {
  const bucket = buffer.get(timestamp);
  if (bucket === undefined) buffer.put(timestamp, [value]);
  else {
    bucket.push(value);
    buffer.put(timestamp, bucket);
  }
}

/**
 * Drops the bucket whose cleanup timer fired at `time`. The bucket's timestamp is
 * `time − offset`; when float arithmetic does not give it back exactly (non-integer
 * timestamps), every bucket whose cleanup time has passed is dropped instead.
 */
function expire<T>(buffer: InternalMapState<number, T[]>, time: number, bucketTs: number, offset: number): void {
  if (buffer.contains(bucketTs)) {
    buffer.remove(bucketTs);
    return;
  }
  for (const ts of buffer.keys()) if (ts + offset <= time) buffer.remove(ts);
}

/** The reused context of an interval join's function. */
class JoinContext implements ProcessJoinContext {
  leftTs = 0;
  rightTs = 0;
  ts = 0;

  constructor(private readonly op: StreamOperator<unknown>) {}

  leftTimestamp(): number {
    return this.leftTs;
  }

  rightTimestamp(): number {
    return this.rightTs;
  }

  timestamp(): number {
    return this.ts;
  }

  output<X>(tag: OutputTag<X>, value: X): void {
    this.op.output.collectSide(tag as OutputTag<unknown>, value, this.ts);
  }
}
