/**
 * Keys (or the state records of keys) due at event times, for window operators that keep each key's pending timers inside
 * the key's own state record (sorted, deduplicated there) and only need to be woken up at the
 * earliest of them. One bucket per distinct time (an array of keys) and a binary heap of the
 * distinct times: adding a key to an existing time is an array push; no per-(key, namespace,
 * time) index is kept, so entries may be stale — the owner checks, when a key comes due,
 * whether the key still wants that time (it records the time it last scheduled) and ignores it
 * otherwise.
 *
 * Not checkpointed: the owner rebuilds it from its keyed state on restore.
 * @internal
 */
export class KeyDueQueue<E> {
  private readonly buckets = new Map<number, E[]>();
  private readonly times: number[] = [];
  private readonly spare: E[][] = [];
  // The bucket of the last add: consecutive adds often share a time.
  private lastTime = Number.NaN;
  private lastBucket: E[] | undefined;

  /** Number of distinct times pending. */
  get size(): number {
    return this.times.length;
  }

  /** The earliest pending time, `+Infinity` when empty. */
  peekTime(): number {
    return this.times.length === 0 ? Number.POSITIVE_INFINITY : (this.times[0] as number);
  }

  /** Wakes `entry` at `time`. */
  add(time: number, entry: E): void {
    if (time === this.lastTime) {
      (this.lastBucket as E[]).push(entry);
      return;
    }
    let b = this.buckets.get(time);
    if (b === undefined) {
      b = this.spare.pop() ?? [];
      this.buckets.set(time, b);
      this.pushTime(time);
    }
    this.lastTime = time;
    this.lastBucket = b;
    b.push(entry);
  }

  /**
   * Removes the earliest time and returns its keys (in the order they were added). The array
   * is lent: hand it back with {@link KeyDueQueue.release} once consumed.
   */
  poll(): E[] | undefined {
    if (this.times.length === 0) return undefined;
    const t = this.popTime();
    const b = this.buckets.get(t) as E[];
    this.buckets.delete(t);
    if (t === this.lastTime) {
      this.lastTime = Number.NaN;
      this.lastBucket = undefined;
    }
    return b;
  }

  /** Returns a bucket obtained from {@link KeyDueQueue.poll} for reuse. */
  release(bucket: E[]): void {
    bucket.length = 0;
    if (this.spare.length < 64) this.spare.push(bucket);
  }

  /** Drops everything. */
  clear(): void {
    this.buckets.clear();
    this.times.length = 0;
    this.lastTime = Number.NaN;
    this.lastBucket = undefined;
  }

  private pushTime(t: number): void {
    const h = this.times;
    let i = h.length;
    h.push(t);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = h[p] as number;
      if (pt <= t) break;
      h[i] = pt;
      i = p;
    }
    h[i] = t;
  }

  private popTime(): number {
    const h = this.times;
    const top = h[0] as number;
    const last = h.pop() as number;
    const n = h.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let c = l;
        if (r < n && (h[r] as number) < (h[l] as number)) c = r;
        if ((h[c] as number) >= last) break;
        h[i] = h[c] as number;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
