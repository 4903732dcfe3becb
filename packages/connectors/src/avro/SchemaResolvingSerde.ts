import type { Serde } from '@weir/core';

/**
 * A {@link Serde} whose `deserialize` needs schemas fetched asynchronously (from a schema
 * registry) before it can decode a record. `Serde.deserialize` is synchronous, so a source calls:
 *
 * 1. `await open()` once before the first record (loads the schemas it can know in advance);
 * 2. `await ensureSchemas(values)` for every fetched batch, before any record of the batch is
 *    deserialized: it loads the schemas the batch names that are not loaded yet, and resolves at
 *    once (the same settled promise, no allocation) when there are none;
 * 3. `deserialize(bytes)` per record, which then never waits;
 * 4. `await close()` at the end.
 *
 * `ensureSchemas` never rejects because of a bad record (garbage, a wrong magic byte, an id the
 * registry does not have): those records fail in `deserialize` with a typed error that the
 * source's dead-letter policy handles. It rejects only when the registry cannot be reached;
 * that is an infrastructure failure, not a bad record, and should fail (and restart) the job
 * rather than dead-letter good data.
 *
 * The members are compatible with the Kafka connectors' `KafkaFormatLifecycle`
 * (`open?()`, `close?()`), so such a serde can be a Kafka `format` as is.
 * @public
 */
export interface SchemaResolvingSerde<T> extends Serde<T> {
  /** Loads what the serde needs before the first record. Idempotent; may be called by several readers. */
  open(): Promise<void>;
  /** Loads the schemas named by a batch of record values (`null`/`undefined` values are ignored). */
  ensureSchemas(values: Iterable<Uint8Array | null | undefined>): Promise<void>;
  /** Releases what the serde holds. */
  close(): Promise<void>;
}
