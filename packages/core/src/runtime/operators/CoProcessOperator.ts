import type { Collector, CoProcessFunction, KeyedCoProcessFunction, TimeDomain } from '../../api/functions.js';
import type { KeySelector, KeyType } from '../../api/types.js';
import { NO_TIMESTAMP } from '../../api/types.js';
import type { KeyedStateBackend } from '../../state/StateBackend.js';
import type { TimerTarget } from '../InternalTimerService.js';
import {
  type InternalTimer,
  instanceOf,
  StreamingRuntimeContext,
  StreamOperator,
  TimestampedCollector,
  type TwoInputOperator,
  UserTimerService,
} from '../StreamOperator.js';
import { WatermarkValve } from '../WatermarkValve.js';
import { KeyedContext } from './KeyedProcessOperator.js';
import { NonKeyedContext } from './ProcessOperator.js';

/**
 * Combines the two inputs' watermarks (minimum over active inputs) before the operator sees it.
 * @internal
 */
export abstract class TwoInputStreamOperator<TIn1, TIn2, TOut>
  extends StreamOperator<TOut>
  implements TwoInputOperator<TIn1, TIn2>
{
  private readonly valve = new WatermarkValve(2);

  abstract processElement1(value: TIn1, timestamp: number): void;
  abstract processElement2(value: TIn2, timestamp: number): void;

  processWatermark1(watermark: number): void {
    this.watermarkOf(0, watermark);
  }

  processWatermark2(watermark: number): void {
    this.watermarkOf(1, watermark);
  }

  private watermarkOf(i: number, watermark: number): void {
    const wasIdle = this.valve.isIdle;
    const w = this.valve.inputWatermark(i, watermark);
    if (wasIdle !== this.valve.isIdle) this.processIdle(this.valve.isIdle);
    if (!Number.isNaN(w)) this.processWatermark(w);
  }

  processIdle1(idle: boolean): void {
    this.status(0, idle);
  }

  processIdle2(idle: boolean): void {
    this.status(1, idle);
  }

  private status(i: number, idle: boolean): void {
    const before = this.valve.isIdle;
    const w = this.valve.inputStatus(i, idle);
    if (!Number.isNaN(w)) this.processWatermark(w);
    if (before !== this.valve.isIdle) this.processIdle(this.valve.isIdle);
  }
}

/** Runs a {@link CoProcessFunction}. @internal */
export class CoProcessOperator<TIn1, TIn2, TOut> extends TwoInputStreamOperator<TIn1, TIn2, TOut> {
  private collector!: TimestampedCollector<TOut>;
  private ctx!: NonKeyedContext;

  private readonly fn: CoProcessFunction<TIn1, TIn2, TOut>;

  constructor(fn: CoProcessFunction<TIn1, TIn2, TOut>) {
    super();
    this.fn = instanceOf(fn);
  }

  override async open(): Promise<void> {
    this.collector = new TimestampedCollector(this.output);
    this.ctx = new NonKeyedContext(this);
    try {
      await this.fn.open?.(new StreamingRuntimeContext(this.setupInfo));
    } catch (e) {
      throw this.userError(e, false);
    }
  }

  processElement1(value: TIn1, timestamp: number): void {
    this.collector.timestamp = timestamp;
    this.ctx.ts = timestamp;
    try {
      this.fn.processElement1(value, this.ctx, this.collector);
    } catch (e) {
      throw this.userError(e, false);
    }
  }

  processElement2(value: TIn2, timestamp: number): void {
    this.collector.timestamp = timestamp;
    this.ctx.ts = timestamp;
    try {
      this.fn.processElement2(value, this.ctx, this.collector);
    } catch (e) {
      throw this.userError(e, false);
    }
  }

  override finish(): void {
    if (this.fn.finish === undefined) return;
    this.collector.timestamp = NO_TIMESTAMP;
    try {
      this.fn.finish(this.collector as Collector<TOut>);
    } catch (e) {
      throw this.userError(e, false);
    }
  }

  override async close(): Promise<void> {
    await this.fn.close?.();
    await super.close();
  }
}

/** Runs a {@link KeyedCoProcessFunction}: both inputs share keyed state and timers. @internal */
export class KeyedCoProcessOperator<K extends KeyType, TIn1, TIn2, TOut>
  extends TwoInputStreamOperator<TIn1, TIn2, TOut>
  implements TimerTarget
{
  private collector!: TimestampedCollector<TOut>;
  private ctx!: KeyedContext<K>;
  private backend!: KeyedStateBackend;

  private readonly fn: KeyedCoProcessFunction<K, TIn1, TIn2, TOut>;

  constructor(
    fn: KeyedCoProcessFunction<K, TIn1, TIn2, TOut>,
    private readonly keySelector1: KeySelector<TIn1, K>,
    private readonly keySelector2: KeySelector<TIn2, K>,
  ) {
    super();
    this.fn = instanceOf(fn);
  }

  override async open(): Promise<void> {
    this.backend = this.keyedBackend('KeyedCoProcessFunction');
    this.collector = new TimestampedCollector(this.output);
    const timers = this.createTimerService(this);
    this.ctx = new KeyedContext<K>(this, this.backend, new UserTimerService(timers, this.setupInfo));
    const rc = new StreamingRuntimeContext(this.setupInfo);
    try {
      await this.fn.open?.(rc);
    } catch (e) {
      throw this.userError(e, false);
    }
    rc.afterOpen();
  }

  processElement1(value: TIn1, timestamp: number): void {
    let key: K;
    try {
      key = this.keySelector1(value);
    } catch (e) {
      throw this.userError(e, false);
    }
    this.backend.setCurrentKey(key);
    this.collector.timestamp = timestamp;
    this.ctx.ts = timestamp;
    try {
      this.fn.processElement1(value, this.ctx, this.collector);
    } catch (e) {
      throw this.userError(e, true);
    }
  }

  processElement2(value: TIn2, timestamp: number): void {
    let key: K;
    try {
      key = this.keySelector2(value);
    } catch (e) {
      throw this.userError(e, false);
    }
    this.backend.setCurrentKey(key);
    this.collector.timestamp = timestamp;
    this.ctx.ts = timestamp;
    try {
      this.fn.processElement2(value, this.ctx, this.collector);
    } catch (e) {
      throw this.userError(e, true);
    }
  }

  onEventTime(timer: InternalTimer): void {
    this.fire(timer, 'event-time', timer.timestamp);
  }

  onProcessingTime(timer: InternalTimer): void {
    this.fire(timer, 'processing-time', NO_TIMESTAMP);
  }

  private fire(timer: InternalTimer, domain: TimeDomain, outTs: number): void {
    const onTimer = this.fn.onTimer;
    if (onTimer === undefined) return;
    this.collector.timestamp = outTs;
    this.ctx.ts = outTs;
    this.ctx.domain = domain;
    try {
      onTimer.call(this.fn, timer.timestamp, this.ctx, this.collector);
    } catch (e) {
      throw this.userError(e, true);
    }
  }

  override finish(): void {
    if (this.fn.finish === undefined) return;
    this.collector.timestamp = NO_TIMESTAMP;
    try {
      this.fn.finish(this.collector as Collector<TOut>);
    } catch (e) {
      throw this.userError(e, false);
    }
  }

  override async close(): Promise<void> {
    await this.fn.close?.();
    await super.close();
  }
}
