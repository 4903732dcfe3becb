import { AsyncWaitOperator } from '../runtime/operators/AsyncWaitOperator.js';
import type { StreamOperator } from '../runtime/StreamOperator.js';
import { DataStream, newTransformation } from './DataStream.js';
import type { RuntimeContext } from './functions.js';
import type { Serde } from './Serde.js';

/**
 * A lookup for async I/O: one result per input, returned as a promise (or directly, e.g. from
 * a cache). The result is emitted with the input's timestamp.
 *
 * @example
 * ```ts
 * const enrich: AsyncLookup<Click, EnrichedClick> = async (c) => ({ ...c, user: await users.get(c.userId) });
 * ```
 * @public
 */
export type AsyncLookup<TIn, TOut> = (input: TIn) => Promise<TOut> | TOut;

/**
 * A function for async I/O with a lifecycle and a timeout fallback (Flink's `AsyncFunction`).
 * `asyncInvoke` resolves with zero or more results for an input (an empty array drops it);
 * every result is emitted with the input's timestamp.
 *
 * @example
 * ```ts
 * const enrich: AsyncFunction<Click, EnrichedClick> = {
 *   open() { this.client = new UserServiceClient(); },
 *   async asyncInvoke(c) { return [{ ...c, user: await this.client.get(c.userId) }]; },
 *   timeout(c) { return [{ ...c, user: null }]; },   // fallback once every attempt timed out
 *   close() { this.client.close(); },
 * };
 * ```
 * @public
 */
export interface AsyncFunction<TIn, TOut> {
  /** Called once per parallel instance before the first input (open clients here). */
  open?(ctx: RuntimeContext): void | Promise<void>;
  /**
   * Starts the request for one input. A rejection counts as a failed attempt (retried when a
   * retry policy allows it, otherwise the job fails naming the operator and the cause).
   */
  asyncInvoke(input: TIn): Promise<readonly TOut[]> | readonly TOut[];
  /**
   * Called when the last attempt for `input` timed out: the results to emit instead. Throwing
   * fails the job. Without it, a final timeout fails the job with an {@link AsyncTimeoutError}.
   */
  timeout?(input: TIn): readonly TOut[];
  /** Called once when the instance shuts down (also after failure). */
  close?(): void | Promise<void>;
}

/**
 * When and how often a failed or timed-out request is tried again.
 * @public
 */
export interface AsyncRetryOptions {
  /** Attempts in total, the first one included (`1`: no retry). */
  readonly maxAttempts: number;
  /**
   * Delay before attempt `n + 1` after attempt `n` (1-based) failed, in processing-time ms
   * from the job's clock: a constant, or a function of `n` (exponential backoff:
   * `(n) => 100 * 2 ** (n - 1)`). Default 0.
   */
  readonly backoffMs?: number | ((attempt: number) => number);
  /** Whether an error (a rejection) is worth retrying; timeouts always are. Default: all. */
  readonly isRetryable?: (error: unknown) => boolean;
}

/**
 * Options of {@link AsyncDataStream.orderedWait} and {@link AsyncDataStream.unorderedWait}.
 * @public
 */
export interface AsyncOptions<TIn = unknown> {
  /**
   * How long one attempt may take, in processing-time ms from the job's clock; then it is
   * retried (see `retry`), or the timeout handler runs, or the job fails. `Infinity` disables
   * timeouts.
   */
  readonly timeoutMs: number;
  /**
   * The most inputs the operator holds at once: in flight, waiting for a retry, or completed
   * but not yet emitted (ordered mode). When full, the task stops feeding the operator
   * (backpressure). Default 100.
   */
  readonly capacity?: number;
  /** Retries after failures and timeouts; none by default. */
  readonly retry?: AsyncRetryOptions;
  /**
   * Serializes in-flight inputs into checkpoints, from which they are re-issued after a restore
   * (JSON by default).
   */
  readonly inputSerde?: Serde<TIn>;
}

/**
 * A request timed out on its last attempt and no timeout handler gave a fallback. The job fails
 * with a `UserFunctionError` naming the operator, whose `cause` is this error.
 * @public
 */
export class AsyncTimeoutError extends Error {
  /** Always `'AsyncTimeoutError'`. */
  override readonly name = 'AsyncTimeoutError';

  /**
   * @param timeoutMs - the per-attempt timeout
   * @param attempts - attempts made
   */
  constructor(
    readonly timeoutMs: number,
    readonly attempts: number,
  ) {
    super(`async request timed out after ${timeoutMs} ms (${attempts} attempt${attempts === 1 ? '' : 's'})`);
  }
}

/**
 * Async I/O (Flink's `AsyncDataStream`): calls an external service (a database, a feature
 * store, an HTTP API) for every record without blocking the task, with up to `capacity`
 * requests in flight per parallel instance.
 *
 * - `orderedWait` emits results in input order (a slow request holds back later results).
 * - `unorderedWait` emits results as they complete, but never across a watermark: results of
 *   records before a watermark are emitted before it, results of records after it after it.
 *
 * Either way, outputs carry their input's timestamp; per-attempt timeouts and retries with
 * backoff run on the job's clock; at the end of a bounded input every request completes and is
 * emitted before the end propagates. The operator is stateless, but with checkpointing its
 * in-flight inputs are part of the checkpoint and re-issued after a restore, so each input's
 * results are emitted exactly once (requests themselves may run again: make them idempotent).
 *
 * @example
 * ```ts
 * const enriched = AsyncDataStream.orderedWait(clicks, (c) => users.lookup(c), {
 *   timeoutMs: 500,
 *   capacity: 64,
 *   retry: { maxAttempts: 3, backoffMs: (n) => 50 * 2 ** n },
 * });
 * ```
 * @public
 */
export class AsyncDataStream {
  private constructor() {}

  /**
   * Applies `fn` to every record and emits the results in input order.
   * @param stream - the input
   * @param fn - a lookup (one result per input) or an {@link AsyncFunction}
   * @param options - timeout, capacity, retries
   * @returns the stream of results
   */
  static orderedWait<TIn, TOut>(
    stream: DataStream<TIn>,
    fn: AsyncLookup<TIn, TOut> | AsyncFunction<TIn, TOut>,
    options: AsyncOptions<TIn>,
  ): DataStream<TOut> {
    return AsyncDataStream.create(stream, fn, options, true);
  }

  /**
   * Applies `fn` to every record and emits results as they complete; watermarks are never
   * overtaken (they wait for the results of the records before them).
   * @param stream - the input
   * @param fn - a lookup (one result per input) or an {@link AsyncFunction}
   * @param options - timeout, capacity, retries
   * @returns the stream of results
   */
  static unorderedWait<TIn, TOut>(
    stream: DataStream<TIn>,
    fn: AsyncLookup<TIn, TOut> | AsyncFunction<TIn, TOut>,
    options: AsyncOptions<TIn>,
  ): DataStream<TOut> {
    return AsyncDataStream.create(stream, fn, options, false);
  }

  private static create<TIn, TOut>(
    stream: DataStream<TIn>,
    fn: AsyncLookup<TIn, TOut> | AsyncFunction<TIn, TOut>,
    options: AsyncOptions<TIn>,
    ordered: boolean,
  ): DataStream<TOut> {
    // Validate now, where the pipeline is built, not when the job starts.
    AsyncWaitOperator.checkOptions(options);
    if (typeof fn !== 'function' && typeof fn?.asyncInvoke !== 'function') {
      throw new TypeError('async I/O expects a function returning a promise or an object with asyncInvoke(input)');
    }
    const t = newTransformation(stream.environment, 'oneInput', ordered ? 'AsyncWait(ordered)' : 'AsyncWait(unordered)', [stream.transformation], () =>
      new AsyncWaitOperator<TIn, TOut>(fn, ordered, options) as unknown as StreamOperator<unknown>,
    );
    // In-flight inputs are checkpointed: give it a uid when checkpointing.
    t.stateful = true;
    return new DataStream<TOut>(stream.environment, t);
  }
}
