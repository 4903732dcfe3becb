/**
 * A schema-registry compatibility level, as Confluent's Schema Registry names them. A new schema
 * registered under a subject must be:
 *
 * - `'BACKWARD'` (the default): able to read data written with the latest
 *   registered version (consumers upgrade first);
 * - `'FORWARD'`: readable by the latest version (producers upgrade first);
 * - `'FULL'`: both;
 * - `'BACKWARD_TRANSITIVE'`, `'FORWARD_TRANSITIVE'`, `'FULL_TRANSITIVE'`: the same against every
 *   registered version, not only the latest;
 * - `'NONE'`: no check.
 * @public
 */
export type CompatibilityLevel =
  | 'BACKWARD'
  | 'BACKWARD_TRANSITIVE'
  | 'FORWARD'
  | 'FORWARD_TRANSITIVE'
  | 'FULL'
  | 'FULL_TRANSITIVE'
  | 'NONE';
