import type { InputStatus, ReaderOutput, SourceReader } from '@weir/core';
import type { FileSplit } from '../FileSplit.js';
import type { SourceCounters } from './SourceCounters.js';
import type { SplitCursor } from './SplitCursor.js';

const RESOLVED = Promise.resolve();

/**
 * The reader of one subtask of a {@link FileSource}: reads its splits one after the other through
 * a format cursor. `pollNext` is synchronous and emits one record per call; when the cursor waits
 * for I/O it returns `'nothing'` and `isAvailable()` resolves when the read is done. The snapshot
 * is the unfinished splits with the current one's exact position.
 * @internal
 */
export class FileSourceReader<T> implements SourceReader<T, FileSplit> {
  private readonly splits: FileSplit[] = [];
  private cursor: SplitCursor<T> | undefined;
  private noMoreSplits = false;
  private wake: (() => void) | undefined;
  private closing: Promise<unknown>[] = [];

  constructor(
    private readonly cursorFor: (split: FileSplit) => SplitCursor<T>,
    private readonly counters: SourceCounters,
  ) {}

  start(): void {}

  pollNext(output: ReaderOutput<T>): InputStatus {
    for (;;) {
      const split = this.splits[0];
      if (split === undefined) return this.noMoreSplits ? 'end' : 'nothing';
      let c = this.cursor;
      if (c === undefined) {
        c = this.cursorFor(split);
        this.cursor = c;
      }
      const status = c.poll(output);
      if (status !== 'end') return status;
      this.cursor = undefined;
      this.splits.shift();
      this.counters.filesCompleted++;
      this.closing.push(c.close().catch(() => {}));
      if (this.closing.length > 16) this.closing = this.closing.slice(-16);
    }
  }

  isAvailable(): Promise<void> {
    if (this.cursor !== undefined) return this.cursor.ready();
    if (this.splits.length > 0 || this.noMoreSplits) return RESOLVED;
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  addSplits(splits: readonly FileSplit[]): void {
    for (const s of splits) this.splits.push({ ...s });
    this.signal();
  }

  notifyNoMoreSplits(): void {
    this.noMoreSplits = true;
    this.signal();
  }

  private signal(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  snapshotState(): FileSplit[] {
    const out: FileSplit[] = [];
    for (let i = 0; i < this.splits.length; i++) {
      const s = this.splits[i] as FileSplit;
      out.push(i === 0 && this.cursor !== undefined ? { splitId: s.splitId, path: s.path, position: this.cursor.position() } : { ...s });
    }
    return out;
  }

  async close(): Promise<void> {
    const c = this.cursor;
    this.cursor = undefined;
    await Promise.all(this.closing);
    await c?.close();
    this.signal();
  }
}
