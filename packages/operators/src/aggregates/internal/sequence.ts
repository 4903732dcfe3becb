/**
 * Arrival sequence numbers for order-sensitive aggregates (`first`, `last`, `topN` ties).
 *
 * A hybrid logical clock: wall-clock microseconds, bumped by one when several arrivals share a
 * microsecond. Numbers grow strictly within a thread, so arrival order is comparable across
 * accumulators (the panes of a sliding window, merged sessions) and, because the wall clock
 * moves on, across a restart from a checkpoint. {@link observeSequence} keeps the clock ahead
 * of any number read back from restored state, even if the wall clock went backwards.
 */
let last = 0;

/** The next arrival number: strictly greater than every number issued or observed. @internal */
export function nextSequence(): number {
  const now = Date.now() * 1000;
  last = now > last ? now : last + 1;
  return last;
}

/** Records a number found in an accumulator so later arrivals sort after it. @internal */
export function observeSequence(seq: number): void {
  if (seq > last) last = seq;
}
