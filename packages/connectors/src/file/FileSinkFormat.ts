import type { Serde } from '@weir/core';

/**
 * How a {@link FileSink} encodes records:
 * - `'jsonl'`: one JSON document per line (`JSON.stringify`), extension `jsonl`;
 * - `'avro'`: Avro Object Container Files (needs `avroSchema`), extension `avro`;
 * - `'arrow'`: Arrow IPC files (random-access "file" format) of record batches, extension `arrow`;
 * - a `Serde<T>`: each record's bytes followed by a newline (`lineDelimiter`), extension `dat`.
 *   The serde's output must not contain the delimiter.
 * @public
 */
export type FileSinkFormat<T> = 'jsonl' | 'avro' | 'arrow' | Serde<T>;
