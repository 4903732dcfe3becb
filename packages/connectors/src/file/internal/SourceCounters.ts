/**
 * Mutable counters shared by a file source's readers and enumerator.
 * @internal
 */
export interface SourceCounters {
  records: number;
  malformed: number;
  filesCompleted: number;
  filesDiscovered: number;
}
