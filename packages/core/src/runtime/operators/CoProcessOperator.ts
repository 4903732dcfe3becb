import type { CoProcessFunction, KeyedCoProcessFunction } from '../../api/functions.js';
import type { KeySelector, KeyType } from '../../api/types.js';
import type { KeyedStateBackend } from '../../state/StateBackend.js';
import {
  instanceOf,
  StreamOperator,
  TimestampedCollector,
  type TwoInputOperator,
  UserTimerService,
} from '../StreamOperator.js';
import { WatermarkValve } from '../WatermarkValve.js';
import { KeyedContext } from './KeyedProcessOperator.js';
import { NonKeyedContext } from './ProcessOperator.js';
import { finishUserFunction, OnTimerDispatcher, openUserFunction, setCurrentKeyOf } from './processFunctionSupport.js';

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
    await openUserFunction(this, this.fn, false);
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
    finishUserFunction(this, this.fn, this.collector);
  }

  override async close(): Promise<void> {
    await this.fn.close?.();
    await super.close();
  }
}

/** Runs a {@link KeyedCoProcessFunction}: both inputs share keyed state and timers. @internal */
export class KeyedCoProcessOperator<K extends KeyType, TIn1, TIn2, TOut>
  extends TwoInputStreamOperator<TIn1, TIn2, TOut>
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
    const onTimer = new OnTimerDispatcher<KeyedContext<K>, TOut>(this, this.fn, this.collector);
    const timers = new UserTimerService(this.createTimerService(onTimer), this.setupInfo);
    this.ctx = onTimer.ctx = new KeyedContext<K>(this, this.backend, timers);
    await openUserFunction(this, this.fn, true);
  }

  processElement1(value: TIn1, timestamp: number): void {
    setCurrentKeyOf(this, this.backend, this.keySelector1, value);
    this.collector.timestamp = timestamp;
    this.ctx.ts = timestamp;
    try {
      this.fn.processElement1(value, this.ctx, this.collector);
    } catch (e) {
      throw this.userError(e, true);
    }
  }

  processElement2(value: TIn2, timestamp: number): void {
    setCurrentKeyOf(this, this.backend, this.keySelector2, value);
    this.collector.timestamp = timestamp;
    this.ctx.ts = timestamp;
    try {
      this.fn.processElement2(value, this.ctx, this.collector);
    } catch (e) {
      throw this.userError(e, true);
    }
  }

  override finish(): void {
    finishUserFunction(this, this.fn, this.collector);
  }

  override async close(): Promise<void> {
    await this.fn.close?.();
    await super.close();
  }
}
