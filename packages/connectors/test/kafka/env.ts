/** What the Kafka global setup provides to the tests. */
export interface KafkaTestEnv {
  /** Bootstrap brokers, `host:port,...` (empty when `error` is set). */
  readonly brokers: string;
  /** Whether the brokers come from KAFKA_BROKERS (the tests cannot restart them). */
  readonly external: boolean;
  /** The broker directory of scripts/kafka-broker.mjs (for restarts), when started here. */
  readonly dir: string;
  /** Why there is no broker: the Kafka tests fail with it. */
  readonly error: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    kafka: KafkaTestEnv;
  }
}
