/**
 * Where a record was read, as a source knows it: the metadata a {@link DeadLetter} carries and
 * a `'fail'` error names. Every member is optional; give what the source has.
 * @public
 */
export interface RecordPosition {
  /** Kafka: the topic. */
  readonly topic?: string;
  /** Kafka: the partition. */
  readonly partition?: number;
  /** Kafka: the offset; files: the byte offset; collections: the index. */
  readonly offset?: number;
  /** Files: the path. */
  readonly path?: string;
  /** Kafka: the key bytes (`null` for none). */
  readonly key?: Uint8Array | null;
  /** The record's own timestamp, if the source has one. */
  readonly recordTimestamp?: number;
}
