/**
 * A record names a schema id whose schema the serde does not hold. `Serde.deserialize` is
 * synchronous and cannot ask the registry, so schemas must be loaded before records need them
 * (`open()` and `ensureSchemas(batch)` of {@link ConfluentAvroSerde}); an id still unknown
 * after that (not in the registry, or a record whose bytes only look like the wire format)
 * fails the record with this error, which the dead-letter policy then handles.
 * @public
 */
export class UnknownSchemaError extends Error {
  /** Always `'UnknownSchemaError'`. */
  override readonly name = 'UnknownSchemaError';

  /**
   * @param schemaId - the id found in the record
   * @param detail - why it is unknown (not loaded, not in the registry...)
   */
  constructor(
    readonly schemaId: number,
    detail: string,
  ) {
    super(`unknown schema id ${schemaId}: ${detail}`);
  }
}
