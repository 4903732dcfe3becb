/**
 * A record that could not be deserialized or validated, with everything needed to find, replay
 * or fix it: where it came from, its original bytes, why it failed and when.
 *
 * In JSON (see {@link deadLetterJsonSerde}) the bytes are base64 strings.
 * @public
 */
export interface DeadLetter {
  /** The kind of source that read it: `'kafka'`, `'file'`, `'collection'`... */
  readonly source: string;
  /** Kafka: the topic. */
  readonly topic?: string;
  /** Kafka: the partition. */
  readonly partition?: number;
  /** Kafka: the record's offset; files: the byte offset of the record; collections: the index. */
  readonly offset?: number;
  /** Files: the file's path. */
  readonly path?: string;
  /** Kafka: the record's key bytes (`null` for a record without a key). */
  readonly key?: Uint8Array | null;
  /** The original value bytes, unchanged. */
  readonly value: Uint8Array;
  /** The record's own timestamp (the Kafka record timestamp), when the source has one. */
  readonly recordTimestamp?: number;
  /** Why it failed: the error's message. */
  readonly error: string;
  /** The error's class name (`WireFormatError`, `UnknownSchemaError`, `SyntaxError`...). */
  readonly errorType: string;
  /** When it was dead-lettered: processing time (epoch ms) of the job's clock. */
  readonly timestamp: number;
}
