import { TimeWindow } from '@weir/core';

/**
 * Merges overlapping or touching time windows: sorts by start, sweeps, and reports every group
 * of two or more windows with its cover.
 * @internal
 */
export function mergeTimeWindows(
  windows: readonly TimeWindow[],
  merge: (toBeMerged: TimeWindow[], mergeResult: TimeWindow) => void,
): void {
  const sorted = [...windows].sort((a, b) => a.start - b.start || a.end - b.end);
  let group: TimeWindow[] = [];
  let cover: TimeWindow | undefined;
  const flush = (): void => {
    if (cover !== undefined && group.length > 1) merge(group, cover);
  };
  for (const w of sorted) {
    if (cover !== undefined && cover.intersects(w)) {
      group.push(w);
      if (w.end > cover.end) cover = new TimeWindow(cover.start, w.end);
    } else {
      flush();
      group = [w];
      cover = w;
    }
  }
  flush();
}
