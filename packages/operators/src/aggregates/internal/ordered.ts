import type { AggregateFunction } from '@weir/core';
import type { OrderedValueAccumulator } from '../types.js';
import { compareJson } from './compare.js';
import { nextSequence, observeSequence } from './sequence.js';

type Entry<T> = [timestamp: number, sequence: number, value: T];

/** Event order: timestamp, then arrival, then (only across restores) the value's JSON text. */
function compareEntries<T>(x: Entry<T>, y: Entry<T>): number {
  if (x[0] !== y[0]) return x[0] < y[0] ? -1 : 1;
  if (x[1] !== y[1]) return x[1] < y[1] ? -1 : 1;
  return compareJson(x[2], y[2]);
}

/**
 * `first` (sign 1) and `last` (sign -1): keeps the element that sorts first under
 * `sign * compareEntries`.
 * @internal
 */
export function ordered<TIn, TOut>(
  timestampSelector: ((value: TIn) => number) | undefined,
  valueSelector: ((value: TIn) => TOut) | undefined,
  sign: 1 | -1,
): AggregateFunction<TIn, OrderedValueAccumulator<TOut>, TOut | undefined> {
  return {
    createAccumulator: () => ({ entry: null, highestSequence: 0 }),
    add(value, acc) {
      let ts = 0;
      if (timestampSelector !== undefined) {
        ts = timestampSelector(value);
        if (!Number.isFinite(ts)) throw new RangeError(`first/last: timestamp must be a finite number, got ${ts}`);
      }
      observeSequence(acc.highestSequence);
      const seq = nextSequence();
      acc.highestSequence = seq;
      const entry: Entry<TOut> = [ts, seq, valueSelector === undefined ? (value as unknown as TOut) : valueSelector(value)];
      if (acc.entry === null || sign * compareEntries(entry, acc.entry) < 0) acc.entry = entry;
      return acc;
    },
    getResult: (acc) => (acc.entry === null ? undefined : acc.entry[2]),
    merge(a, b) {
      if (b.highestSequence > a.highestSequence) a.highestSequence = b.highestSequence;
      observeSequence(a.highestSequence);
      const e = b.entry;
      // Copy the entry: `a` lives on (a window's accumulator) while `b` (a pane's) is shared.
      if (e !== null && (a.entry === null || sign * compareEntries(e, a.entry) < 0)) a.entry = [e[0], e[1], e[2]];
      return a;
    },
  };
}
