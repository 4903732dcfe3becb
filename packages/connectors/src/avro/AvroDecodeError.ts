/**
 * A record's Avro body could not be decoded with its writer schema (truncated, trailing bytes,
 * an invalid union index or length...).
 * @public
 */
export class AvroDecodeError extends Error {
  /** Always `'AvroDecodeError'`. */
  override readonly name = 'AvroDecodeError';

  /**
   * @param schemaId - the writer schema's id from the record's header
   * @param reason - avsc's message
   * @param options - the cause (avsc's error)
   */
  constructor(
    readonly schemaId: number,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot decode Avro data written with schema id ${schemaId}: ${reason}`, options);
  }
}
