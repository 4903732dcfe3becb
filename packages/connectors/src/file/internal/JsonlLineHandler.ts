import type { MalformedRecord } from '../MalformedRecord.js';

/** How a JSONL cursor turns lines into records. @internal */
export interface JsonlLineHandler<T> {
  readonly parse: (line: string) => unknown;
  /** Emits a parsed value (or a result wrapper). */
  readonly ok: (value: unknown) => T;
  /** A malformed line: returns the record to emit (result mode) or undefined (dead-lettered). */
  readonly malformed: (record: MalformedRecord) => { value: T } | undefined;
  readonly maxLineBytes: number;
}
