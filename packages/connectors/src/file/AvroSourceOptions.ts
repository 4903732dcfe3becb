import type { FileSourceOptions } from './FileSourceOptions.js';

/**
 * Options of `FileSource.forAvro`.
 * @public
 */
export interface AvroSourceOptions extends FileSourceOptions {
  /**
   * Reader schema (schema object or JSON text): records written with a compatible writer schema
   * are resolved to it (Avro schema resolution). Default: each file's own writer schema.
   */
  readonly readerSchema?: object | string;
}
