import type { Serde } from '@weir/core';
import type { DeadLetter } from './DeadLetter.js';

/**
 * The Kafka-specific part of a dead-letter sink, as {@link deadLetterKafkaSink} hands it to the
 * factory that builds the `KafkaSink<DeadLetter>`: spread it into the sink's options.
 * @public
 */
export interface DeadLetterKafkaSinkConfig {
  /** The dead-letter topic. */
  readonly topic: string;
  /** {@link deadLetterJsonSerde}. */
  readonly format: Serde<DeadLetter>;
  /**
   * The record key: the original record's key bytes (so a dead-letter topic partitioned like the
   * input keeps a key's failures together), `null` when it had none.
   */
  readonly key: (deadLetter: DeadLetter) => Uint8Array | null;
  /**
   * Record headers, for filtering a dead-letter topic without decoding values:
   * `weir.dlq.error-type`, `weir.dlq.source`, and when known `weir.dlq.topic`,
   * `weir.dlq.partition`, `weir.dlq.offset`.
   */
  readonly headers: (deadLetter: DeadLetter) => Readonly<Record<string, string>>;
}
