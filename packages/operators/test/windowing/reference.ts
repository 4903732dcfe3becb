/** Brute-force references for window semantics, used by the property tests. */

export interface Ev {
  readonly key: string;
  readonly ts: number;
  readonly v: number;
}

export interface WindowRow {
  readonly key: string;
  readonly start: number;
  readonly end: number;
  readonly count: number;
  readonly sum: number;
}

export type WindowsOf = (ts: number) => Array<[number, number]>;

export function tumbling(size: number, offset = 0): WindowsOf {
  return (ts) => {
    const r = (((ts - offset) % size) + size) % size;
    const s = ts - r;
    return [[s, s + size]];
  };
}

export function sliding(size: number, slide: number, offset = 0): WindowsOf {
  return (ts) => {
    const r = (((ts - offset) % slide) + slide) % slide;
    const out: Array<[number, number]> = [];
    for (let s = ts - r; s > ts - size; s -= slide) out.push([s, s + size]);
    return out;
  };
}

/**
 * Simulates event-time windows over `arrival` (already in arrival order) with a bounded
 * out-of-orderness watermark emitted after every record: the final result of every window (the
 * elements admitted while the window was not late) and the elements sent to the late output.
 */
export function referenceWindows(
  arrival: readonly Ev[],
  windowsOf: WindowsOf,
  bound: number,
  lateness: number,
): { rows: WindowRow[]; late: Ev[] } {
  let maxTs = Number.NEGATIVE_INFINITY;
  const acc = new Map<string, WindowRow>();
  const late: Ev[] = [];
  for (const e of arrival) {
    const wm = maxTs - bound - 1;
    let admitted = false;
    const windows = windowsOf(e.ts);
    for (const [start, end] of windows) {
      if (end - 1 + lateness <= wm) continue;
      admitted = true;
      const id = `${e.key}|${start}|${end}`;
      const row = acc.get(id) ?? { key: e.key, start, end, count: 0, sum: 0 };
      acc.set(id, { ...row, count: row.count + 1, sum: row.sum + e.v });
    }
    // An element in no window at all (a gap between sliding windows) is not late, just unused.
    if (!admitted && windows.length > 0) late.push(e);
    maxTs = Math.max(maxTs, e.ts);
  }
  return { rows: [...acc.values()], late };
}

/** Sessions by brute force: per key, merge [ts, ts + gap) intervals that overlap or touch. */
export function referenceSessions(events: readonly Ev[], gap: number): WindowRow[] {
  const byKey = new Map<string, Ev[]>();
  for (const e of events) {
    const l = byKey.get(e.key) ?? [];
    l.push(e);
    byKey.set(e.key, l);
  }
  const rows: WindowRow[] = [];
  for (const [key, list] of byKey) {
    const sorted = [...list].sort((a, b) => a.ts - b.ts);
    let cur: { start: number; end: number; count: number; sum: number } | undefined;
    for (const e of sorted) {
      if (cur !== undefined && e.ts <= cur.end) {
        cur.end = Math.max(cur.end, e.ts + gap);
        cur.count++;
        cur.sum += e.v;
      } else {
        if (cur !== undefined) rows.push({ key, ...cur });
        cur = { start: e.ts, end: e.ts + gap, count: 1, sum: e.v };
      }
    }
    if (cur !== undefined) rows.push({ key, ...cur });
  }
  return rows;
}

export function sortRows<T extends { key: string; start: number; end: number }>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.start - b.start || a.end - b.end));
}

/** Reorders `events` so that each arrives at most `bound` ms of event time after a later one. */
export function shuffleWithinBound(events: readonly Ev[], bound: number, jitter: readonly number[]): Ev[] {
  return events
    .map((e, i) => ({ e, k: e.ts + ((jitter[i % jitter.length] ?? 0) % (bound + 1)), i }))
    .sort((a, b) => a.k - b.k || a.i - b.i)
    .map((x) => x.e);
}
