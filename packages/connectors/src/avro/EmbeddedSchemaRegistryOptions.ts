import type { CompatibilityLevel } from './CompatibilityLevel.js';

/**
 * Options of an {@link EmbeddedSchemaRegistry}.
 * @public
 */
export interface EmbeddedSchemaRegistryOptions {
  /** The registry's directory (created if missing). Several processes may share it. */
  readonly dir: string;
  /** The global compatibility level until one is set (default `'BACKWARD'`, as Confluent's). */
  readonly defaultCompatibility?: CompatibilityLevel;
  /** How long a registration waits for the directory's lock before failing (default 10 s). */
  readonly lockTimeoutMs?: number;
  /** Age after which a lock is taken to belong to a crashed process and broken (default 30 s). */
  readonly staleLockMs?: number;
}
