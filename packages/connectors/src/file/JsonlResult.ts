import type { MalformedRecord } from './MalformedRecord.js';

/**
 * What `FileSource.forJsonlResults` emits per line: the parsed value, or the malformed line with
 * the reason, so a job can route dead letters to a side output or a sink of its own.
 * @public
 */
export type JsonlResult<T> = { readonly ok: true; readonly value: T } | ({ readonly ok: false } & MalformedRecord);
