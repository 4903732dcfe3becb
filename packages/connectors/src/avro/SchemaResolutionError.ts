/**
 * A record was written with a schema the job's reader schema cannot read (avsc could not
 * resolve the writer schema against the reader schema). Registration checks prevent this
 * within a subject whose compatibility level suits the job; records of another subject, or
 * written under level `NONE`, can still carry one.
 * @public
 */
export class SchemaResolutionError extends Error {
  /** Always `'SchemaResolutionError'`. */
  override readonly name = 'SchemaResolutionError';

  /**
   * @param schemaId - the writer schema's id
   * @param reason - why the reader cannot read it
   * @param options - the cause (avsc's error)
   */
  constructor(
    readonly schemaId: number,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`the reader schema cannot read data written with schema id ${schemaId}: ${reason}`, options);
  }
}
