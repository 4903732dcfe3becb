// Types of scripts/kafka-broker.mjs, for TypeScript callers (the Kafka tests' global setup).

/** The Kafka version fetched by default. */
export const DEFAULT_KAFKA_VERSION: string;
/** What a started broker reports. */
export interface BrokerState {
  readonly brokers: string;
  readonly pid: number;
  readonly port: number;
  readonly version: string;
  readonly dir: string;
  readonly reused: boolean;
}
export function cacheDir(version?: string): string;
export function brokerDir(dir?: string): string;
/** What is missing to run a broker (Java, Maven), or undefined. */
export function missingTools(): string[] | undefined;
export function fetchKafka(version?: string): Promise<string>;
export function startBroker(options?: { dir?: string; fresh?: boolean; timeoutMs?: number }): Promise<BrokerState>;
export function stopBroker(options?: { dir?: string; clean?: boolean; graceMs?: number; kill?: boolean }): Promise<void>;
export function restartBroker(options?: { dir?: string; downMs?: number }): Promise<BrokerState>;
export function brokerStatus(options?: { dir?: string }): string | undefined;
