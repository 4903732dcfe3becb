/**
 * Small shared types of the Weir API.
 *
 * Time in Weir is epoch milliseconds as a `number`. A record's event time is its *timestamp*;
 * a *watermark* `w` is the assertion that no more records with timestamp `<= w` will arrive.
 * @packageDocumentation
 */

/**
 * The types a key selector may return. Keys are compared by value (as `Map` keys are), and are
 * hashed deterministically into key groups, so the same key lands on the same subtask in every
 * process that runs the job. Build a string for composite keys (`${a}|${b}`).
 * @public
 */
export type KeyType = string | number | bigint | boolean;

/**
 * Extracts the key of a record.
 * @public
 */
export type KeySelector<T, K extends KeyType> = (value: T) => K;

/**
 * The key type `keyBy` gives a stream: the selector's return type widened from literals to
 * their primitive (`'a' | 'b'` and `` `${string}|${number}` `` become `string`), so streams keyed
 * by equal primitive types connect, whatever literals their selectors happen to return.
 * @public
 */
export type WidenedKey<K extends KeyType> = K extends string
  ? string
  : K extends number
    ? number
    : K extends bigint
      ? bigint
      : K extends boolean
        ? boolean
        : never;

/**
 * The names of the fields of `T` whose values can be keys, for `keyBy('field')`.
 * @public
 */
export type KeyField<T> = {
  [P in keyof T]-?: T[P] extends KeyType ? P : never;
}[keyof T] &
  string;

/**
 * The marker for "this record has no timestamp". Sources that do not know event time emit
 * records with it; `assignTimestampsAndWatermarks` replaces it.
 * @public
 */
export const NO_TIMESTAMP: number = Number.NEGATIVE_INFINITY;

/**
 * The watermark that ends event time: emitted at the end of a bounded input, it fires every
 * pending event-time timer and window.
 * @public
 */
export const MAX_WATERMARK: number = Number.POSITIVE_INFINITY;

/**
 * The watermark before any has been seen.
 * @public
 */
export const MIN_WATERMARK: number = Number.NEGATIVE_INFINITY;

/**
 * Whether a source ends by itself (`bounded`) or runs until cancelled (`unbounded`).
 * @public
 */
export type Boundedness = 'bounded' | 'unbounded';

/**
 * A handle that cancels something scheduled.
 * @public
 */
export interface Cancellable {
  /** Cancels; calling it twice is harmless. */
  cancel(): void;
}
