import type { CompatibilityLevel } from './CompatibilityLevel.js';
import type { CompatibilityResult } from './CompatibilityResult.js';
import type { SubjectSchema } from './SubjectSchema.js';

/**
 * A registry of Avro schemas, by subject and version, with global ids: what
 * {@link ConfluentSchemaRegistryClient} (Confluent's REST API) and
 * {@link EmbeddedSchemaRegistry} (a directory of JSON files) both implement.
 *
 * Schemas are given as objects or JSON text. Ids and versions are those of Confluent's
 * registry: an id is global and immutable (the same schema under two subjects has one id); a
 * subject's versions count from 1. Failures reject with {@link SchemaRegistryError} (its
 * `errorCode` tells "subject not found" 40401, "version not found" 40402, "schema not found"
 * 40403, "invalid schema" 42201 apart), refused registrations with
 * {@link IncompatibleSchemaError}.
 * @public
 */
export interface SchemaRegistry {
  /**
   * Registers `schema` under `subject` and returns its id. A schema already registered under the
   * subject (same JSON up to key order and whitespace) returns its id without a check or a new
   * version. Otherwise the schema is checked against the subject's versions at its
   * compatibility level and refused with an {@link IncompatibleSchemaError} that names the
   * subject, the level and the reasons.
   */
  register(subject: string, schema: object | string): Promise<number>;
  /** The version of `subject` that holds `schema`, or `undefined` when it is not registered there. */
  lookup(subject: string, schema: object | string): Promise<SubjectSchema | undefined>;
  /** The schema (JSON text) with global id `id`; rejects with error code 40403 when there is none. */
  getSchemaById(id: number): Promise<string>;
  /** The latest version of `subject`; rejects with error code 40401 for an unknown subject. */
  getLatest(subject: string): Promise<SubjectSchema>;
  /** One version of `subject`. */
  getVersion(subject: string, version: number): Promise<SubjectSchema>;
  /** The versions of `subject`, ascending; rejects with error code 40401 for an unknown subject. */
  getVersions(subject: string): Promise<number[]>;
  /** Every subject. */
  listSubjects(): Promise<string[]>;
  /**
   * Whether `schema` could be registered under `subject` now: the check `register` makes, at the
   * subject's level, against the version(s) that level covers. An unknown subject is compatible.
   */
  testCompatibility(subject: string, schema: object | string): Promise<CompatibilityResult>;
  /** The compatibility level of `subject` (its own, else the global one), or the global level. */
  getCompatibility(subject?: string): Promise<CompatibilityLevel>;
  /** Sets the compatibility level of `subject`, or the global level. */
  setCompatibility(level: CompatibilityLevel, subject?: string): Promise<void>;
}
