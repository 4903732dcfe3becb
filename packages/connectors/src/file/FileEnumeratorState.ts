import type { FileSplit } from './FileSplit.js';

/**
 * The checkpointed state of a {@link FileSource}'s enumerator.
 * @public
 */
export interface FileEnumeratorState {
  /** Whether the initial listing (bounded inputs) was done. */
  readonly listed: boolean;
  /**
   * Files already discovered (continuous monitoring only): they are never read again, whether
   * finished, being read (their positions are in the readers' state) or not yet assigned.
   */
  readonly seen: readonly string[];
  /** Splits discovered but not yet assigned to a reader. */
  readonly unassigned: readonly FileSplit[];
}
