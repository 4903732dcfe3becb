import type { Serde } from '@weir/core';
import type { DeadLetter } from './DeadLetter.js';
import type { DecodeResult } from './DecodeResult.js';
import { DeadLetterCounters } from './DeadLetterCounters.js';
import type { DeadLetterRouterOptions } from './DeadLetterRouterOptions.js';
import { DeserializationFailureError } from './DeserializationFailureError.js';
import type { DeserializationFailurePolicy } from './DeserializationFailurePolicy.js';
import type { RecordPosition } from './RecordPosition.js';

const REJECTED: unique symbol = Symbol('weir.deadletter.rejected');

const POLICIES: readonly DeserializationFailurePolicy[] = ['dead-letter', 'fail', 'skip-and-count'];

/**
 * Applies a {@link DeserializationFailurePolicy} where a source (or the first operator after
 * it) turns bytes into records. Synchronous and allocation-free for good records: one call per
 * record, a sentinel for records that were not decoded.
 *
 * ```ts
 * const router = new DeadLetterRouter({ source: 'kafka', policy: 'dead-letter', counters, now: () => clock.now() });
 * for (const m of batch.messages) {
 *   const v = router.decode(serde, m.value, { topic, partition, offset: Number(m.offset), key: m.key }, emitDeadLetter);
 *   if (v === DeadLetterRouter.REJECTED) continue; // dead-lettered or skipped, and counted
 *   output.collect(v, Number(m.timestamp));
 * }
 * ```
 *
 * - `'dead-letter'`: builds a {@link DeadLetter} (original bytes, position, error message and
 *   class, processing time), hands it to the output, counts it, returns `REJECTED`;
 * - `'skip-and-count'`: counts it, returns `REJECTED`;
 * - `'fail'`: counts it and throws a {@link DeserializationFailureError} naming the source, the
 *   position and the cause.
 * @public
 */
export class DeadLetterRouter {
  /** What `decode` returns for a record that was dead-lettered or skipped. */
  static readonly REJECTED: typeof REJECTED = REJECTED;

  /** The source kind written into dead letters. */
  readonly source: string;
  /** The policy. */
  readonly policy: DeserializationFailurePolicy;
  /** The counters this router adds to. */
  readonly counters: DeadLetterCounters;
  private readonly output: ((deadLetter: DeadLetter) => void) | undefined;
  private readonly now: () => number;

  /** @param options - source kind, policy, default output, clock and counters */
  constructor(options: DeadLetterRouterOptions) {
    if (typeof options.source !== 'string' || options.source.length === 0) throw new TypeError('DeadLetterRouter needs a source name');
    const policy = options.policy ?? 'fail';
    if (!POLICIES.includes(policy)) {
      throw new TypeError(`unknown deserialization failure policy '${String(policy)}' (use 'dead-letter', 'fail' or 'skip-and-count')`);
    }
    this.source = options.source;
    this.policy = policy;
    this.output = options.output;
    this.now = options.now ?? Date.now;
    this.counters = options.counters ?? new DeadLetterCounters();
  }

  /**
   * Deserializes `value` with `serde`; on failure applies the policy.
   * @param serde - the format
   * @param value - the record's bytes
   * @param position - where it was read (for the dead letter or the error)
   * @param output - where a dead letter goes (default: the router's `output`)
   * @returns the value, or {@link DeadLetterRouter.REJECTED}
   */
  decode<T>(
    serde: Serde<T>,
    value: Uint8Array,
    position?: RecordPosition,
    output?: (deadLetter: DeadLetter) => void,
  ): T | typeof REJECTED {
    let v: T;
    try {
      v = serde.deserialize(value);
    } catch (e) {
      this.reject(value, e, position, output);
      return REJECTED;
    }
    this.counters.deserialized++;
    return v;
  }

  /**
   * Deserializes `value` for a source that emits {@link DecodeResult}s (dead letters travel
   * through the dataflow; split them with {@link DeadLetterSplitter}): `{ ok: true, value }`, or
   * under `'dead-letter'` `{ ok: false, deadLetter }` (counted); `REJECTED` under
   * `'skip-and-count'`; throws under `'fail'`.
   * @param serde - the format
   * @param value - the record's bytes
   * @param position - where it was read
   * @returns the result to emit, or {@link DeadLetterRouter.REJECTED}
   */
  decodeResult<T>(serde: Serde<T>, value: Uint8Array, position?: RecordPosition): DecodeResult<T> | typeof REJECTED {
    let v: T;
    try {
      v = serde.deserialize(value);
    } catch (e) {
      if (this.policy !== 'dead-letter') {
        this.reject(value, e, position);
        return REJECTED;
      }
      const deadLetter = this.toDeadLetter(value, e, position);
      this.counters.countFailure('dead-letter', deadLetter.errorType);
      return { ok: false, deadLetter };
    }
    this.counters.deserialized++;
    return { ok: true, value: v };
  }

  /**
   * Applies the policy to a record that failed elsewhere (validation after decoding, a record
   * without a value...). Throws under `'fail'`; returns otherwise.
   * @param value - the record's original bytes
   * @param cause - why it failed
   * @param position - where it was read
   * @param output - where a dead letter goes (default: the router's `output`)
   */
  reject(value: Uint8Array, cause: unknown, position?: RecordPosition, output?: (deadLetter: DeadLetter) => void): void {
    const errorType = cause instanceof Error ? cause.name : typeof cause;
    if (this.policy === 'fail') {
      this.counters.countFailure('fail', errorType);
      throw new DeserializationFailureError(this.source, position, value, cause);
    }
    if (this.policy === 'skip-and-count') {
      this.counters.countFailure('skip-and-count', errorType);
      return;
    }
    const out = output ?? this.output;
    if (out === undefined) {
      throw new TypeError(`DeadLetterRouter (${this.source}): policy 'dead-letter' needs an output for dead letters`);
    }
    out(this.toDeadLetter(value, cause, position));
    this.counters.countFailure('dead-letter', errorType);
  }

  /**
   * The dead letter of a failed record (no counting, no policy).
   * @param value - the record's original bytes
   * @param cause - why it failed
   * @param position - where it was read
   */
  toDeadLetter(value: Uint8Array, cause: unknown, position?: RecordPosition): DeadLetter {
    const dl: { -readonly [K in keyof DeadLetter]: DeadLetter[K] } = {
      source: this.source,
      value,
      error: cause instanceof Error ? cause.message : String(cause),
      errorType: cause instanceof Error ? cause.name : typeof cause,
      timestamp: this.now(),
    };
    if (position !== undefined) {
      if (position.topic !== undefined) dl.topic = position.topic;
      if (position.partition !== undefined) dl.partition = position.partition;
      if (position.offset !== undefined) dl.offset = position.offset;
      if (position.path !== undefined) dl.path = position.path;
      if (position.key !== undefined) dl.key = position.key;
      if (position.recordTimestamp !== undefined) dl.recordTimestamp = position.recordTimestamp;
    }
    return dl;
  }
}
