/**
 * A schema registry refused or failed a request. `errorCode` follows Confluent's Schema
 * Registry: `40401` subject not found, `40402` version not found, `40403` schema not found,
 * `42201` invalid schema, `42202` invalid version, `42203` invalid compatibility level, `409`
 * incompatible schema (registration refusals are raised as {@link IncompatibleSchemaError}),
 * `50001`.. server errors. The embedded registry uses the same codes.
 * @public
 */
export class SchemaRegistryError extends Error {
  /** Always `'SchemaRegistryError'`. */
  override readonly name = 'SchemaRegistryError';

  /**
   * @param message - what failed
   * @param status - the HTTP status (the embedded registry uses the one Confluent's would)
   * @param errorCode - the registry's error code (see above), or the status when none was given
   * @param options - the cause, if any
   */
  constructor(
    message: string,
    readonly status: number,
    readonly errorCode: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Whether this is a "not found" error (subject, version or schema). */
  get notFound(): boolean {
    return this.status === 404;
  }
}
