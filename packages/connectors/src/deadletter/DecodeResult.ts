import type { DeadLetter } from './DeadLetter.js';

/**
 * What a source emits when it routes dead letters through the dataflow (sources have no side
 * outputs): a decoded value, or the dead letter of a record that failed. Split it with
 * {@link DeadLetterSplitter} into the values and a dead-letter side output.
 * @public
 */
export type DecodeResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly deadLetter: DeadLetter };
