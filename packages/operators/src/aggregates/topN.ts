import type { AggregateFunction } from '@weir/core';
import { compareJson, compareScalars, decodeNumber, encodeNumber } from './internal/compare.js';
import { nextSequence, observeSequence } from './internal/sequence.js';

/**
 * One ranked element of {@link TopNAccumulator}: `[score, id, arrival number, element]`. The
 * score is a number, or `'Infinity'`/`'-Infinity'` (JSON cannot hold infinities); the id is
 * `null` without an id selector.
 * @public
 */
export type TopNEntry<T> = [score: number | string, id: string | number | null, sequence: number, value: T];

/**
 * The accumulator of {@link topN}.
 * @public
 */
export interface TopNAccumulator<T> {
  /** At most `n` entries, best first. */
  entries: TopNEntry<T>[];
  /** The highest arrival number ever added; keeps arrival numbers increasing after a restore. */
  highestSequence: number;
}

/** Rank order: higher score first, then smaller id, then earlier arrival, then JSON text. */
function compareEntries<T>(x: TopNEntry<T>, y: TopNEntry<T>): number {
  const sx = decodeNumber(x[0]);
  const sy = decodeNumber(y[0]);
  if (sx !== sy) return sx > sy ? -1 : 1;
  if (x[1] !== y[1] && x[1] !== null && y[1] !== null) {
    const c = compareScalars(x[1], y[1]);
    if (c !== 0) return c;
  }
  if (x[2] !== y[2]) return x[2] < y[2] ? -1 : 1;
  return compareJson(x[3], y[3]);
}

/**
 * The `n` elements with the highest scores, best first.
 *
 * Ties are broken deterministically: by id (ascending) when `idSelector` is given, then by
 * arrival (earlier first). With `idSelector`, each id appears at most once, with its best-ranked
 * element (e.g. the top products by their best bid, not the top bids). The accumulator keeps
 * only the current top `n`, which is enough to merge exactly: merging panes or sessions in any
 * order gives the same list as one pass. Elements whose score is `NaN` are skipped.
 *
 * Arrival order comes from a hybrid logical clock (see `first`); give an id for results that do
 * not depend on arrival at all.
 *
 * @typeParam TIn - the element type
 * @param n - how many elements to keep (a positive integer)
 * @param scoreSelector - the element's score; higher ranks first
 * @param idSelector - the element's identity, for de-duplication and tie-breaks
 * @returns an aggregate function whose result is up to `n` elements, best first
 *
 * @example
 * ```ts
 * // The five most-watched videos per category per hour.
 * views.keyBy((v) => v.category).window(TumblingEventTimeWindows.of(3_600_000))
 *   .aggregate(topN(5, (v) => v.watchSeconds, (v) => v.videoId), (category, w, top) => ({ category, top }));
 * ```
 * @public
 */
export function topN<TIn>(
  n: number,
  scoreSelector: (value: TIn) => number,
  idSelector?: (value: TIn) => string | number,
): AggregateFunction<TIn, TopNAccumulator<TIn>, TIn[]> {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`topN: n must be a positive integer, got ${n}`);
  return {
    createAccumulator: () => ({ entries: [], highestSequence: 0 }),
    add(value, acc) {
      const score = scoreSelector(value);
      if (Number.isNaN(score)) return acc;
      observeSequence(acc.highestSequence);
      const seq = nextSequence();
      acc.highestSequence = seq;
      const id = idSelector === undefined ? null : idSelector(value);
      const entry: TopNEntry<TIn> = [encodeNumber(score), id, seq, value];
      const es = acc.entries;
      if (id !== null) {
        // SameValueZero, as the Set in merge: NaN is one id.
        const at = es.findIndex((e) => e[1] === id || (Number.isNaN(e[1]) && Number.isNaN(id)));
        if (at >= 0) {
          if (compareEntries(entry, es[at]!) >= 0) return acc;
          es.splice(at, 1);
        }
      }
      if (es.length >= n && compareEntries(entry, es[es.length - 1]!) >= 0) return acc;
      let lo = 0;
      let hi = es.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compareEntries(es[mid]!, entry) < 0) lo = mid + 1;
        else hi = mid;
      }
      es.splice(lo, 0, entry);
      if (es.length > n) es.length = n;
      return acc;
    },
    getResult: (acc) => acc.entries.map((e) => e[3]),
    merge(a, b) {
      if (b.highestSequence > a.highestSequence) a.highestSequence = b.highestSequence;
      observeSequence(a.highestSequence);
      if (b.entries.length === 0) return a;
      // Copy b's entries: b (a pane's accumulator) is merged into several windows.
      const all = a.entries.concat(b.entries.map((e): TopNEntry<TIn> => [e[0], e[1], e[2], e[3]]));
      all.sort(compareEntries);
      const out: TopNEntry<TIn>[] = [];
      const seen = new Set<string | number>();
      for (const e of all) {
        if (e[1] !== null) {
          // The best entry of an id comes first; later ones of the same id are dropped.
          if (seen.has(e[1])) continue;
          seen.add(e[1]);
        }
        out.push(e);
        if (out.length === n) break;
      }
      a.entries = out;
      return a;
    },
  };
}
