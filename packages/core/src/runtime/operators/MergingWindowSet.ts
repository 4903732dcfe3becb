import type { MergingWindowAssigner } from '../../api/windowing/WindowAssigner.js';
import type { Window } from '../../api/windowing/Window.js';
import type { ValueState } from '../../state/descriptors.js';

/**
 * Called when windows merge: `mergeResult` replaces `mergedWindows`; the state of
 * `mergedStateWindows` must be merged into `stateWindowResult`.
 * @internal
 */
export type MergeFunction<W extends Window> = (
  mergeResult: W,
  mergedWindows: readonly W[],
  stateWindowResult: W,
  mergedStateWindows: readonly W[],
) => void;

/**
 * The windows of one key of a merging assigner, each mapped to the window under which its
 * state is stored. When windows merge, the merged window keeps the state window of one of them
 * (so only the others' state has to move); the mapping is itself keyed state.
 * @internal
 */
export class MergingWindowSet<W extends Window> {
  /** window id → [window, state window] */
  private readonly mapping = new Map<string, [W, W]>();
  private dirty = false;

  constructor(
    private readonly assigner: MergingWindowAssigner<unknown, W>,
    private readonly state: ValueState<string[][]>,
  ) {
    const stored = state.value();
    if (stored !== undefined) {
      for (const [w, sw] of stored) {
        const win = assigner.windowFromId(w as string);
        this.mapping.set(win.id, [win, assigner.windowFromId(sw as string)]);
      }
    }
  }

  /** The state window of `window`, or undefined when the window is unknown (merged away). */
  getStateWindow(window: W): W | undefined {
    return this.mapping.get(window.id)?.[1];
  }

  /** Forgets a window (after it was purged). */
  retireWindow(window: W): void {
    if (this.mapping.delete(window.id)) this.dirty = true;
  }

  /** Writes the mapping back to keyed state (clears it when empty). */
  persist(): void {
    if (!this.dirty) return;
    this.dirty = false;
    if (this.mapping.size === 0) this.state.clear();
    else this.state.update([...this.mapping.values()].map(([w, sw]) => [w.id, sw.id]));
  }

  /** The windows currently tracked. */
  windows(): W[] {
    return [...this.mapping.values()].map((e) => e[0]);
  }

  /**
   * Adds `newWindow`, merging it with the existing windows where the assigner says so.
   * @returns the window `newWindow` ended up in (itself or a merge result)
   */
  addWindow(newWindow: W, mergeFunction: MergeFunction<W>): W {
    const windows: W[] = [];
    for (const [w] of this.mapping.values()) windows.push(w);
    if (!this.mapping.has(newWindow.id)) windows.push(newWindow);
    let result = newWindow;
    let mergedNew = false;
    const groups: Array<[W[], W]> = [];
    this.assigner.mergeWindows(windows, (toBeMerged, mergeResult) => {
      groups.push([toBeMerged, mergeResult]);
    });
    for (const [merged, mergeResult] of groups) {
      if (merged.some((w) => w.id === newWindow.id)) {
        mergedNew = true;
        result = mergeResult;
      }
      const stateWindows: W[] = [];
      for (const w of merged) {
        const entry = this.mapping.get(w.id);
        if (entry !== undefined) {
          stateWindows.push(entry[1]);
          this.mapping.delete(w.id);
        }
      }
      const target = stateWindows[0];
      if (target === undefined) {
        this.mapping.set(mergeResult.id, [mergeResult, mergeResult]);
      } else {
        this.mapping.set(mergeResult.id, [mergeResult, target]);
        mergeFunction(mergeResult, merged, target, stateWindows.slice(1));
      }
      this.dirty = true;
    }
    if (!mergedNew && !this.mapping.has(newWindow.id)) {
      this.mapping.set(newWindow.id, [newWindow, newWindow]);
      this.dirty = true;
    }
    if (this.mapping.has(newWindow.id) && !mergedNew) result = this.mapping.get(newWindow.id)?.[0] ?? newWindow;
    return result;
  }
}
