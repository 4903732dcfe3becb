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

// Avro: Confluent wire format, schema registries (Confluent REST, embedded file-based) and
// schema-compatibility checks.
export { AvroDecodeError } from './avro/AvroDecodeError.js';
export type { AvroIncompatibility } from './avro/AvroIncompatibility.js';
export { checkAvroCompatibility } from './avro/checkAvroCompatibility.js';
export { checkSchemaEvolution } from './avro/checkSchemaEvolution.js';
export type { CompatibilityLevel } from './avro/CompatibilityLevel.js';
export type { CompatibilityResult } from './avro/CompatibilityResult.js';
export { ConfluentAvroSerde } from './avro/ConfluentAvroSerde.js';
export type { ConfluentAvroSerdeOptions } from './avro/ConfluentAvroSerdeOptions.js';
export { ConfluentSchemaRegistryClient } from './avro/ConfluentSchemaRegistryClient.js';
export type { ConfluentSchemaRegistryClientOptions } from './avro/ConfluentSchemaRegistryClientOptions.js';
export { ConfluentWireFormat } from './avro/ConfluentWireFormat.js';
export { EmbeddedSchemaRegistry } from './avro/EmbeddedSchemaRegistry.js';
export type { EmbeddedSchemaRegistryOptions } from './avro/EmbeddedSchemaRegistryOptions.js';
export { IncompatibleSchemaError } from './avro/IncompatibleSchemaError.js';
export { isSchemaResolvingSerde } from './avro/isSchemaResolvingSerde.js';
export type { SchemaRegistry } from './avro/SchemaRegistry.js';
export { SchemaRegistryError } from './avro/SchemaRegistryError.js';
export { SchemaResolutionError } from './avro/SchemaResolutionError.js';
export type { SchemaResolvingSerde } from './avro/SchemaResolvingSerde.js';
export type { SubjectSchema } from './avro/SubjectSchema.js';
export { UnknownSchemaError } from './avro/UnknownSchemaError.js';
export { WireFormatError } from './avro/WireFormatError.js';

// Dead letters: per-source deserialization failure policy, router, side-output splitting and
// dead-letter sinks (JSON lines files, Kafka topic).
export type { DeadLetter } from './deadletter/DeadLetter.js';
export { DeadLetterCounters } from './deadletter/DeadLetterCounters.js';
export { deadLetterFileSink } from './deadletter/deadLetterFileSink.js';
export { deadLetterFromMalformedRecord } from './deadletter/deadLetterFromMalformedRecord.js';
export { deadLetterJsonSerde } from './deadletter/deadLetterJsonSerde.js';
export { deadLetterKafkaSink } from './deadletter/deadLetterKafkaSink.js';
export type { DeadLetterKafkaSinkConfig } from './deadletter/DeadLetterKafkaSinkConfig.js';
export type { DeadLetterMetrics } from './deadletter/DeadLetterMetrics.js';
export { DeadLetterRouter } from './deadletter/DeadLetterRouter.js';
export type { DeadLetterRouterOptions } from './deadletter/DeadLetterRouterOptions.js';
export { DeadLetterSplitter } from './deadletter/DeadLetterSplitter.js';
export type { DecodeResult } from './deadletter/DecodeResult.js';
export { DeserializationFailureError } from './deadletter/DeserializationFailureError.js';
export type { DeserializationFailurePolicy } from './deadletter/DeserializationFailurePolicy.js';
export { DeserializeFunction } from './deadletter/DeserializeFunction.js';
export type { DeserializeFunctionOptions } from './deadletter/DeserializeFunctionOptions.js';
export type { RecordPosition } from './deadletter/RecordPosition.js';

// Kafka (kafkajs): split-based source with per-partition offsets and watermarks; sink with
// at-least-once and exactly-once (transactions + commit markers) delivery.
export {
  type KafkaCommittable,
  type KafkaConnectionOptions,
  type KafkaDeliverySemantic,
  type KafkaDeadLetterSourceOptions,
  type KafkaEnumeratorState,
  type KafkaFormat,
  type KafkaFormatLifecycle,
  type KafkaOutputRecord,
  type KafkaPartitionMetrics,
  KafkaSink,
  type KafkaSinkMetrics,
  type KafkaSinkOptions,
  KafkaSource,
  type KafkaSourceMetrics,
  type KafkaSourceOptions,
  type KafkaSourceRecord,
  type KafkaSplit,
  type KafkaStartingOffsets,
  fixKafkajsReadCommitted,
  kafkaCommittableSerde,
} from './kafka/index.js';
