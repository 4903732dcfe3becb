import type { MalformedRecord } from '../file/MalformedRecord.js';
import type { DeadLetter } from './DeadLetter.js';

const encoder = new TextEncoder();

/**
 * The dead letter of a JSONL line a `FileSource` refused (its `onMalformed` hook, or a
 * `{ ok: false }` result of `FileSource.forJsonlResults`): source `'file'`, the path, the line's
 * byte offset, its UTF-8 bytes and the parser's reason (error type `'MalformedRecord'`).
 * @param record - the malformed line
 * @param now - processing time (epoch ms)
 * @returns the dead letter
 * @public
 */
export function deadLetterFromMalformedRecord(record: MalformedRecord, now: number): DeadLetter {
  return {
    source: 'file',
    path: record.path,
    offset: record.offset,
    value: encoder.encode(record.line),
    error: `line ${record.lineNumber}: ${record.reason}`,
    errorType: 'MalformedRecord',
    timestamp: now,
  };
}
