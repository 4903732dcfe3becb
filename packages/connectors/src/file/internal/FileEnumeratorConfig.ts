import type { FilePosition } from '../FilePosition.js';
import type { SourceCounters } from './SourceCounters.js';

/** What the enumerator needs to know about its source. @internal */
export interface FileEnumeratorConfig {
  readonly inputs: readonly string[];
  readonly filter: (name: string, path: string) => boolean;
  readonly monitorMs: number | undefined;
  readonly initialPosition: () => FilePosition;
  readonly counters: SourceCounters;
}
