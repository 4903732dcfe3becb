import { jsonSerde, type Serde, stringSerde } from '@weir/core';

/**
 * How a Kafka connector turns record values into bytes and back: `'json'` (UTF-8 JSON),
 * `'string'` (UTF-8 text) or any {@link Serde}. Formats that need asynchronous setup (an Avro
 * serde that registers or fetches schemas, say) implement {@link KafkaFormatLifecycle} too; the
 * connector awaits `open()` before the first record and calls `close()` at the end.
 * @public
 */
export type KafkaFormat<T> = 'json' | 'string' | Serde<T>;

/**
 * Optional lifecycle of a {@link Serde} used as a Kafka format: `open()` is awaited once before
 * the serde is used (fetch or register schemas); `close()` releases what it holds.
 * @public
 */
export interface KafkaFormatLifecycle {
  /** Prepares the serde; awaited before the first (de)serialization. */
  open?(): Promise<void>;
  /** Releases resources. */
  close?(): Promise<void>;
}

/**
 * Resolves a {@link KafkaFormat} to a serde.
 * @internal
 */
export function resolveFormat<T>(format: KafkaFormat<T> | undefined): Serde<T> & KafkaFormatLifecycle {
  if (format === undefined || format === 'json') return jsonSerde<T>();
  if (format === 'string') return stringSerde as unknown as Serde<T>;
  if (typeof format === 'object' && typeof format.serialize === 'function' && typeof format.deserialize === 'function') {
    return format as Serde<T> & KafkaFormatLifecycle;
  }
  throw new TypeError(`format must be 'json', 'string' or a Serde (serialize/deserialize), got ${String(format)}`);
}

/** Node Buffer view of bytes without copying. @internal */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Encodes a record key given as string or bytes. @internal */
export function keyBytes(key: string | Uint8Array | null | undefined): Buffer | null {
  if (key === null || key === undefined) return null;
  return typeof key === 'string' ? Buffer.from(key, 'utf8') : toBuffer(key);
}
