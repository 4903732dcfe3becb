import type { KeyedProcessFunction, OnTimerContext, TimeDomain, TimerService } from '../../api/functions.js';
import type { KeySelector, KeyType } from '../../api/types.js';
import type { KeyedStateBackend } from '../../state/StateBackend.js';
import {
  instanceOf,
  type OneInputOperator,
  StreamOperator,
  TimestampedCollector,
  UserTimerService,
} from '../StreamOperator.js';
import {
  ElementContext,
  finishUserFunction,
  OnTimerDispatcher,
  openUserFunction,
  setCurrentKeyOf,
} from './processFunctionSupport.js';

/**
 * The context object of keyed functions; one instance per operator, reused.
 * @internal
 */
export class KeyedContext<K> extends ElementContext implements OnTimerContext<K> {
  domain: TimeDomain = 'event-time';

  constructor(
    op: StreamOperator<unknown>,
    private readonly backend: KeyedStateBackend,
    private readonly timers: TimerService,
  ) {
    super(op);
  }

  timerService(): TimerService {
    return this.timers;
  }

  getCurrentKey(): K {
    return this.backend.getCurrentKey() as K;
  }

  timeDomain(): TimeDomain {
    return this.domain;
  }
}

/** Runs a {@link KeyedProcessFunction}: keyed state and timers scoped to each record's key. @internal */
export class KeyedProcessOperator<K extends KeyType, TIn, TOut>
  extends StreamOperator<TOut>
  implements OneInputOperator<TIn>
{
  private collector!: TimestampedCollector<TOut>;
  private ctx!: KeyedContext<K>;
  private backend!: KeyedStateBackend;

  private readonly fn: KeyedProcessFunction<K, TIn, TOut>;

  constructor(
    fn: KeyedProcessFunction<K, TIn, TOut>,
    private readonly keySelector: KeySelector<TIn, K>,
  ) {
    super();
    this.fn = instanceOf(fn);
  }

  override async open(): Promise<void> {
    this.backend = this.keyedBackend('KeyedProcessFunction');
    this.collector = new TimestampedCollector(this.output);
    const onTimer = new OnTimerDispatcher<KeyedContext<K>, TOut>(this, this.fn, this.collector);
    const timers = new UserTimerService(this.createTimerService(onTimer), this.setupInfo);
    this.ctx = onTimer.ctx = new KeyedContext<K>(this, this.backend, timers);
    await openUserFunction(this, this.fn, true);
  }

  processElement(value: TIn, timestamp: number): void {
    setCurrentKeyOf(this, this.backend, this.keySelector, value);
    this.collector.timestamp = timestamp;
    this.ctx.ts = timestamp;
    try {
      this.fn.processElement(value, this.ctx, this.collector);
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
