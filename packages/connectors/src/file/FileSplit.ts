import type { SourceSplit } from '@weir/core';
import type { FilePosition } from './FilePosition.js';

/**
 * One file of a {@link FileSource}, with the position of its next record. Checkpointed as JSON.
 * @public
 */
export interface FileSplit extends SourceSplit {
  /** The file's absolute path (also its split id). */
  readonly path: string;
  /** Where reading resumes. */
  readonly position: FilePosition;
}
