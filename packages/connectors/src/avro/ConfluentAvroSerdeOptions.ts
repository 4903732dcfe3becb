import type avro from 'avsc';
import type { SchemaRegistry } from './SchemaRegistry.js';

/**
 * Options of a {@link ConfluentAvroSerde}.
 * @public
 */
export interface ConfluentAvroSerdeOptions {
  /** Where schemas are registered and looked up. */
  readonly registry: SchemaRegistry;
  /**
   * The subject of the values (Confluent's topic name strategy: `<topic>-value`, see
   * {@link ConfluentAvroSerde.topicSubject}). Writing registers (or looks up) the schema under
   * it; reading preloads its versions.
   */
  readonly subject: string;
  /**
   * The job's schema (object or JSON text): the reader schema records are resolved into when
   * reading, and the writer schema when writing.
   */
  readonly schema: object | string;
  /**
   * What `open()` prepares (default `'read'`):
   * - `'read'`: loads the subject's registered versions (and `schemaIds`); `serialize` throws;
   * - `'write'`: registers the schema under the subject (or looks it up, see `autoRegister`)
   *   to learn its id; `deserialize` still works for schemas loaded on demand;
   * - `'read-write'`: both.
   *
   * A reading job never registers anything, so a reader schema cannot become a version of the
   * subject by accident.
   */
  readonly role?: 'read' | 'write' | 'read-write';
  /**
   * Writing: register the schema if it is not registered yet (default `true`, as Confluent's
   * serializer). `false`: the schema must already be registered under the subject; `open()`
   * fails otherwise.
   */
  readonly autoRegister?: boolean;
  /** Reading: more schema ids to load in `open()` (records of other subjects, say). */
  readonly schemaIds?: readonly number[];
  /** avsc options for the job's schema (logical types, `wrapUnions`...). */
  readonly typeOptions?: Partial<avro.ForSchemaOptions>;
  /**
   * Reading: how long an id the registry did not have stays unknown before `ensureSchemas`
   * asks again (default 10 000 ms). Records naming it meanwhile fail with
   * {@link UnknownSchemaError}.
   */
  readonly unknownSchemaRetryMs?: number;
}
