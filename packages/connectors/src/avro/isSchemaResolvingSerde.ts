import type { Serde } from '@weir/core';
import type { SchemaResolvingSerde } from './SchemaResolvingSerde.js';

/**
 * Whether a serde needs `ensureSchemas(batch)` before `deserialize` (see
 * {@link SchemaResolvingSerde}).
 * @param serde - any serde (or Kafka format)
 * @returns whether it is a {@link SchemaResolvingSerde}
 * @public
 */
export function isSchemaResolvingSerde<T>(serde: Serde<T> | string | undefined): serde is SchemaResolvingSerde<T> {
  return (
    typeof serde === 'object' &&
    serde !== null &&
    typeof (serde as Partial<SchemaResolvingSerde<T>>).ensureSchemas === 'function' &&
    typeof (serde as Partial<SchemaResolvingSerde<T>>).open === 'function'
  );
}
