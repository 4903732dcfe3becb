/**
 * Typed serialization. State backends, checkpoints and connectors turn values into bytes with a
 * `Serde<T>`; JSON is the default, Avro (through avsc) where a schema is given.
 * @public
 */
export interface Serde<T> {
  /** Encodes one value. */
  serialize(value: T): Uint8Array;
  /** Decodes bytes written by {@link Serde.serialize}; throws on malformed input. */
  deserialize(bytes: Uint8Array): T;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * A JSON serde. `undefined` round-trips (encoded as an empty buffer); `bigint` does not (use a
 * custom serde for such values).
 * @returns a serde that encodes values as UTF-8 JSON
 * @public
 */
export function jsonSerde<T>(): Serde<T> {
  return JSON_SERDE as Serde<T>;
}

const JSON_SERDE: Serde<unknown> = {
  serialize(value: unknown): Uint8Array {
    if (value === undefined) return new Uint8Array(0);
    return encoder.encode(JSON.stringify(value));
  },
  deserialize(bytes: Uint8Array): unknown {
    if (bytes.length === 0) return undefined;
    return JSON.parse(decoder.decode(bytes));
  },
};

/**
 * Whether `serde` is the default JSON serde (snapshots then encode values straight into the
 * output buffer).
 * @internal
 */
export function isJsonSerde(serde: Serde<unknown>): boolean {
  return serde === JSON_SERDE;
}

/**
 * A UTF-8 string serde.
 * @public
 */
export const stringSerde: Serde<string> = {
  serialize: (value) => encoder.encode(value),
  deserialize: (bytes) => decoder.decode(bytes),
};
