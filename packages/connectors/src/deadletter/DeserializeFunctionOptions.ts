import type { OutputTag, Serde } from '@weir/core';
import type { DeadLetter } from './DeadLetter.js';
import type { DeadLetterCounters } from './DeadLetterCounters.js';
import type { DeserializationFailurePolicy } from './DeserializationFailurePolicy.js';
import type { RecordPosition } from './RecordPosition.js';

/**
 * Options of a {@link DeserializeFunction}.
 * @public
 */
export interface DeserializeFunctionOptions<TIn, T> {
  /** The format. A {@link SchemaResolvingSerde} is opened in the function's `open`. */
  readonly serde: Serde<T>;
  /** What to do with records that fail (default `'dead-letter'` with a `deadLetterTag`, else `'fail'`). */
  readonly policy?: DeserializationFailurePolicy;
  /** The side output for dead letters; required for `'dead-letter'`. */
  readonly deadLetterTag?: OutputTag<DeadLetter>;
  /** The source kind written into dead letters and errors (default `'stream'`). */
  readonly source?: string;
  /** The bytes of an input record (default: the record itself, for a stream of `Uint8Array`). */
  readonly bytes?: (record: TIn) => Uint8Array;
  /** Where an input record was read (for dead letters and `'fail'` errors). */
  readonly position?: (record: TIn) => RecordPosition | undefined;
  /** Counters shared by the function's parallel instances (default: a new set). */
  readonly counters?: DeadLetterCounters;
}
