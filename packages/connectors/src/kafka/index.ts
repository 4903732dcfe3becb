/**
 * Kafka connectors (kafkajs): {@link KafkaSource} and {@link KafkaSink}.
 * @packageDocumentation
 */
export type { KafkaConnectionOptions } from './client.js';
export type { KafkaFormat, KafkaFormatLifecycle } from './format.js';
export { fixKafkajsReadCommitted } from './kafkajs-fixes.js';
export {
  type KafkaDeadLetterSourceOptions,
  type KafkaEnumeratorState,
  type KafkaPartitionMetrics,
  KafkaSource,
  type KafkaSourceMetrics,
  type KafkaSourceOptions,
  type KafkaSourceRecord,
  type KafkaSplit,
  type KafkaStartingOffsets,
} from './KafkaSource.js';
export {
  type KafkaCommittable,
  committableSerde as kafkaCommittableSerde,
  type KafkaDeliverySemantic,
  type KafkaOutputRecord,
  KafkaSink,
  type KafkaSinkMetrics,
  type KafkaSinkOptions,
} from './KafkaSink.js';
