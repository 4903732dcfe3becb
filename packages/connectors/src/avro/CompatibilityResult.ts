/**
 * The outcome of a compatibility check of a schema against a subject's registered versions.
 * @public
 */
export interface CompatibilityResult {
  /** Whether the schema could be registered under the subject's compatibility level. */
  readonly compatible: boolean;
  /**
   * Why not, one sentence per problem (naming the version, the direction and the field); empty
   * when compatible.
   */
  readonly messages: readonly string[];
}
