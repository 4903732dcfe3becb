import type { Collector, ProcessContext, ProcessFunction, TimerService } from '../../api/functions.js';
import type { OutputTag } from '../../api/OutputTag.js';
import { NO_TIMESTAMP } from '../../api/types.js';
import {
  instanceOf,
  NON_KEYED_TIMER_SERVICE,
  type OneInputOperator,
  StreamingRuntimeContext,
  StreamOperator,
  TimestampedCollector,
} from '../StreamOperator.js';

/** Runs a {@link ProcessFunction} on a non-keyed stream. @internal */
export class ProcessOperator<TIn, TOut> extends StreamOperator<TOut> implements OneInputOperator<TIn> {
  private collector!: TimestampedCollector<TOut>;
  private ctx!: NonKeyedContext;

  private readonly fn: ProcessFunction<TIn, TOut>;

  constructor(fn: ProcessFunction<TIn, TOut>) {
    super();
    this.fn = instanceOf(fn);
  }

  override async open(): Promise<void> {
    this.collector = new TimestampedCollector(this.output);
    this.ctx = new NonKeyedContext(this);
    const rc = new StreamingRuntimeContext(this.setupInfo);
    try {
      await this.fn.open?.(rc);
    } catch (e) {
      throw this.userError(e, false);
    }
  }

  processElement(value: TIn, timestamp: number): void {
    this.collector.timestamp = timestamp;
    this.ctx.ts = timestamp;
    try {
      this.fn.processElement(value, this.ctx, this.collector);
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

/** @internal */
export class NonKeyedContext implements ProcessContext {
  ts = NO_TIMESTAMP;
  private readonly timers: TimerService;

  constructor(private readonly op: StreamOperator<unknown>) {
    this.timers = NON_KEYED_TIMER_SERVICE(op);
  }

  timestamp(): number | null {
    return this.ts === NO_TIMESTAMP ? null : this.ts;
  }

  timerService(): TimerService {
    return this.timers;
  }

  output<X>(tag: OutputTag<X>, value: X): void {
    this.op.output.collectSide(tag as OutputTag<unknown>, value, this.ts);
  }
}
