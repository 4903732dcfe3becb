/**
 * Where a {@link FileSource} resumes in a file: the next record to emit.
 * - JSONL: `offset` is the byte offset of the next line; `line` its 1-based number.
 * - Avro: `block` is the index of the current block, `blockOffset` its byte offset (`-1`: the
 *   first block, right after the header, not read yet), `record` the records of it already
 *   emitted.
 * - Arrow: `batch` is the index of the current record batch, `row` the rows of it already emitted.
 * @public
 */
export type FilePosition =
  | { readonly kind: 'jsonl'; readonly offset: number; readonly line: number }
  | { readonly kind: 'avro'; readonly block: number; readonly blockOffset: number; readonly record: number }
  | { readonly kind: 'arrow'; readonly batch: number; readonly row: number };
