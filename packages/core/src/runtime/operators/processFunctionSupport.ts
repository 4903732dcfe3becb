import type { Collector, RuntimeContext, TimeDomain } from '../../api/functions.js';
import type { OutputTag } from '../../api/OutputTag.js';
import type { KeySelector, KeyType } from '../../api/types.js';
import { NO_TIMESTAMP } from '../../api/types.js';
import type { KeyedStateBackend } from '../../state/StateBackend.js';
import type { TimerTarget } from '../InternalTimerService.js';
import {
  type InternalTimer,
  StreamingRuntimeContext,
  type StreamOperator,
  type TimestampedCollector,
} from '../StreamOperator.js';

/*
 * What the process-style operators (process, co-process and broadcast-process, keyed or not)
 * share around their user function: opening it, `finish`, key selection, the context base and
 * the dispatch of fired timers to `onTimer`. The per-record paths stay in the operators, which
 * call each function's own method directly.
 */

/**
 * The lifecycle methods every process-style user function may define.
 * @internal
 */
export interface UserFunctionLifecycle<TOut> {
  open?(ctx: RuntimeContext): void | Promise<void>;
  finish?: ((out: Collector<TOut>) => void) | undefined;
  close?(): void | Promise<void>;
}

/**
 * A keyed user function's timer callback, typed by the context it receives.
 * @internal
 */
export interface OnTimerFunction<TCtx, TOut> {
  onTimer?: ((timestamp: number, ctx: TCtx, out: Collector<TOut>) => void) | undefined;
}

/**
 * Calls `fn.open` with a fresh runtime context; a throw fails the job as the function's error.
 * `keyed` operators then decode restored state for the descriptors `open` registered.
 * @internal
 */
export async function openUserFunction(
  op: StreamOperator<unknown>,
  fn: UserFunctionLifecycle<unknown>,
  keyed: boolean,
): Promise<void> {
  const rc = new StreamingRuntimeContext(op.setupInfo);
  try {
    await fn.open?.(rc);
  } catch (e) {
    throw op.userError(e, false);
  }
  if (keyed) rc.afterOpen();
}

/**
 * Calls `fn.finish` (end of bounded input), whose output carries no timestamp.
 * @internal
 */
export function finishUserFunction<TOut>(
  op: StreamOperator<TOut>,
  fn: UserFunctionLifecycle<TOut>,
  collector: TimestampedCollector<TOut>,
): void {
  if (fn.finish === undefined) return;
  collector.timestamp = NO_TIMESTAMP;
  try {
    fn.finish(collector);
  } catch (e) {
    throw op.userError(e, false);
  }
}

/**
 * Makes `selector(value)` the current key of `backend`. A throwing selector fails the job
 * without naming a key (there is none yet).
 * @internal
 */
export function setCurrentKeyOf<T, K extends KeyType>(
  op: StreamOperator<unknown>,
  backend: KeyedStateBackend,
  selector: KeySelector<T, K>,
  value: T,
): void {
  let key: K;
  try {
    key = selector(value);
  } catch (e) {
    throw op.userError(e, false);
  }
  backend.setCurrentKey(key);
}

/**
 * Base of the contexts handed to process-style functions: the current record's timestamp and
 * side outputs. One instance per operator, reused; the operator sets `ts` before each call.
 * @internal
 */
export class ElementContext {
  ts = NO_TIMESTAMP;

  constructor(protected readonly op: StreamOperator<unknown>) {}

  timestamp(): number | null {
    return this.ts === NO_TIMESTAMP ? null : this.ts;
  }

  output<X>(tag: OutputTag<X>, value: X): void {
    this.op.output.collectSide(tag as OutputTag<unknown>, value, this.ts);
  }
}

/**
 * What a firing timer sets on a keyed context before `onTimer` reads it.
 * @internal
 */
export interface TimerFiringContext {
  ts: number;
  domain: TimeDomain;
}

/**
 * The timer target of a keyed process-style operator: calls the function's `onTimer` with the
 * operator's reused context and collector. Event-time timers emit at the timer's time,
 * processing-time timers without a timestamp. Set {@link OnTimerDispatcher.ctx} before the
 * first timer can fire (the context needs the timer service, which needs this target).
 * @internal
 */
export class OnTimerDispatcher<TCtx extends TimerFiringContext, TOut> implements TimerTarget {
  ctx!: TCtx;

  constructor(
    private readonly op: StreamOperator<TOut>,
    private readonly fn: OnTimerFunction<TCtx, TOut>,
    private readonly collector: TimestampedCollector<TOut>,
  ) {}

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
      throw this.op.userError(e, true);
    }
  }
}
