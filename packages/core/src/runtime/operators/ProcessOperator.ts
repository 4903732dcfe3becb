import type { ProcessContext, ProcessFunction, TimerService } from '../../api/functions.js';
import {
  instanceOf,
  NON_KEYED_TIMER_SERVICE,
  type OneInputOperator,
  StreamOperator,
  TimestampedCollector,
} from '../StreamOperator.js';
import { ChainLink } from '../Output.js';
import { ElementContext, finishUserFunction, openUserFunction } from './processFunctionSupport.js';

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
    await openUserFunction(this, this.fn, false);
  }

  createChainLink(): ChainLink<TIn> {
    return new ProcessLink<TIn>(this);
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
    finishUserFunction(this, this.fn, this.collector);
  }

  override async close(): Promise<void> {
    await this.fn.close?.();
    await super.close();
  }
}

/** @internal */
export class NonKeyedContext extends ElementContext implements ProcessContext {
  private readonly timers: TimerService;

  constructor(op: StreamOperator<unknown>) {
    super(op);
    this.timers = NON_KEYED_TIMER_SERVICE(op);
  }

  timerService(): TimerService {
    return this.timers;
  }
}

/** The chain link into a process operator: its own `collect`, so the call is monomorphic. @internal */
class ProcessLink<TIn> extends ChainLink<TIn> {
  constructor(private readonly target: ProcessOperator<TIn, unknown>) {
    super(target);
  }

  collect(value: TIn, timestamp: number): void {
    this.recordsOut++;
    this.target.processElement(value, timestamp);
  }
}
