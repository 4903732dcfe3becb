/**
 * `@weir/connectors`: sources and sinks for Weir jobs. Files: JSON lines, Avro Object Container
 * Files (avsc) and Arrow IPC files (apache-arrow), exactly-once through two-phase commit.
 * @packageDocumentation
 */

/** The package's name and version. @public */
export const PACKAGE = { name: '@weir/connectors', version: '0.1.0' } as const;

export type { ArrowColumnType } from './file/ArrowColumnType.js';
export type { ArrowSourceOptions } from './file/ArrowSourceOptions.js';
export type { AvroSourceOptions } from './file/AvroSourceOptions.js';
export type { FileCommittable } from './file/FileCommittable.js';
export type { FileEnumeratorState } from './file/FileEnumeratorState.js';
export { FileFormatError } from './file/FileFormatError.js';
export type { FilePosition } from './file/FilePosition.js';
export { FileSink } from './file/FileSink.js';
export type { FileSinkFormat } from './file/FileSinkFormat.js';
export type { FileSinkOptions } from './file/FileSinkOptions.js';
export { FileSource } from './file/FileSource.js';
export type { FileSourceMetrics } from './file/FileSourceMetrics.js';
export type { FileSourceOptions } from './file/FileSourceOptions.js';
export type { FileSplit } from './file/FileSplit.js';
export type { JsonlResult } from './file/JsonlResult.js';
export type { JsonlSourceOptions } from './file/JsonlSourceOptions.js';
export type { MalformedRecord } from './file/MalformedRecord.js';
export type { RollingPolicy } from './file/RollingPolicy.js';
