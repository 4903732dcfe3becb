import type { CompatibilityLevel } from './CompatibilityLevel.js';

/**
 * A schema was refused at registration because it breaks the subject's compatibility level.
 * The message names the subject, the level and every reason (version, direction and field).
 * @public
 */
export class IncompatibleSchemaError extends Error {
  /** Always `'IncompatibleSchemaError'`. */
  override readonly name = 'IncompatibleSchemaError';

  /**
   * @param subject - the subject the schema was to be registered under
   * @param level - the subject's compatibility level
   * @param reasons - why the schema is incompatible (see {@link checkSchemaEvolution})
   */
  constructor(
    readonly subject: string,
    readonly level: CompatibilityLevel | string,
    readonly reasons: readonly string[],
  ) {
    super(
      `schema for subject '${subject}' is incompatible at compatibility level ${level}: ${
        reasons.length === 0 ? 'the registry gave no reason' : reasons.join('; ')
      }`,
    );
  }
}
