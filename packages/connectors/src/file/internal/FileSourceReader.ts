import { type InputStatus, type ReaderOutput, SplitQueueReader } from '@weir/core';
import type { FileSplit } from '../FileSplit.js';
import type { SourceCounters } from './SourceCounters.js';
import type { SplitCursor } from './SplitCursor.js';

/**
 * The reader of one subtask of a {@link FileSource}: reads its splits one after the other through
 * a format cursor. `pollNext` is synchronous and emits one record per call; when the cursor waits
 * for I/O it returns `'nothing'` and `isAvailable()` resolves when the read is done. The snapshot
 * is the unfinished splits with the current one's exact position.
 * @internal
 */
export class FileSourceReader<T> extends SplitQueueReader<T, FileSplit> {
  private cursor: SplitCursor<T> | undefined;
  private closing: Promise<unknown>[] = [];

  constructor(
    private readonly cursorFor: (split: FileSplit) => SplitCursor<T>,
    private readonly counters: SourceCounters,
  ) {
    super();
  }

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

  override isAvailable(): Promise<void> {
    if (this.cursor !== undefined) return this.cursor.ready();
    return super.isAvailable();
  }

  override snapshotState(): FileSplit[] {
    const out: FileSplit[] = [];
    for (let i = 0; i < this.splits.length; i++) {
      const s = this.splits[i] as FileSplit;
      out.push(i === 0 && this.cursor !== undefined ? { splitId: s.splitId, path: s.path, position: this.cursor.position() } : { ...s });
    }
    return out;
  }

  override async close(): Promise<void> {
    const c = this.cursor;
    this.cursor = undefined;
    await Promise.all(this.closing);
    await c?.close();
    this.signal();
  }
}
