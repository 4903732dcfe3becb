import type { InputStatus, SourceOutput } from '@weir/core';
import type { FilePosition } from '../FilePosition.js';

/**
 * Reads one split (file) from its position, one record per `poll`.
 * @internal
 */
export interface SplitCursor<T> {
  /**
   * Emits at most one record. `'more'`: call again; `'nothing'`: waiting for I/O (see
   * `ready`); `'end'`: the file is done. Throws {@link FileFormatError} for bad input.
   */
  poll(out: SourceOutput<T>): InputStatus;
  /** Resolves when the I/O that `poll` waits for is done. */
  ready(): Promise<void>;
  /** The position of the next record. */
  position(): FilePosition;
  /** Releases the file. */
  close(): Promise<void>;
}
