import type { DeadLetter } from './DeadLetter.js';
import type { DeadLetterCounters } from './DeadLetterCounters.js';
import type { DeserializationFailurePolicy } from './DeserializationFailurePolicy.js';

/**
 * Options of a {@link DeadLetterRouter}.
 * @public
 */
export interface DeadLetterRouterOptions {
  /** The kind of source, written into dead letters and errors (`'kafka'`, `'file'`...). */
  readonly source: string;
  /** What to do with a failed record (default `'fail'`). */
  readonly policy?: DeserializationFailurePolicy;
  /**
   * Where dead letters go under `'dead-letter'`, unless a call passes its own output: a side
   * output (`(dl) => ctx.output(tag, dl)`), a source split output emitting a
   * {@link DecodeResult}, a buffer a sink drains...
   */
  readonly output?: (deadLetter: DeadLetter) => void;
  /** Processing time for `DeadLetter.timestamp` (default `Date.now`); pass the job clock's `now`. */
  readonly now?: () => number;
  /** Counters to add to (default: a new set, see {@link DeadLetterRouter.counters}). */
  readonly counters?: DeadLetterCounters;
}
