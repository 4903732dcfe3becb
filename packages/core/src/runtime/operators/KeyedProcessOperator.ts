import type {
  Collector,
  KeyedProcessFunction,
  OnTimerContext,
  TimeDomain,
  TimerService,
} from '../../api/functions.js';
import type { OutputTag } from '../../api/OutputTag.js';
import type { KeySelector, KeyType } from '../../api/types.js';
import { NO_TIMESTAMP } from '../../api/types.js';
import type { KeyedStateBackend } from '../../state/StateBackend.js';
import type { TimerTarget } from '../InternalTimerService.js';
import {
  type InternalTimer,
  instanceOf,
  type OneInputOperator,
  StreamingRuntimeContext,
  StreamOperator,
  TimestampedCollector,
  UserTimerService,
} from '../StreamOperator.js';

/**
 * The context object of keyed functions; one instance per operator, reused.
 * @internal
 */
export class KeyedContext<K> implements OnTimerContext<K> {
  ts = NO_TIMESTAMP;
  domain: TimeDomain = 'event-time';

  constructor(
    private readonly op: StreamOperator<unknown>,
    private readonly backend: KeyedStateBackend,
    private readonly timers: TimerService,
  ) {}

  timestamp(): number | null {
    return this.ts === NO_TIMESTAMP ? null : this.ts;
  }

  timerService(): TimerService {
    return this.timers;
  }

  output<X>(tag: OutputTag<X>, value: X): void {
    this.op.output.collectSide(tag as OutputTag<unknown>, value, this.ts);
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
  implements OneInputOperator<TIn>, TimerTarget
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

  processElement(value: TIn, timestamp: number): void {
    let key: K;
    try {
      key = this.keySelector(value);
    } catch (e) {
      throw this.userError(e, false);
    }
    this.backend.setCurrentKey(key);
    this.collector.timestamp = timestamp;
    this.ctx.ts = timestamp;
    try {
      this.fn.processElement(value, this.ctx, this.collector);
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
