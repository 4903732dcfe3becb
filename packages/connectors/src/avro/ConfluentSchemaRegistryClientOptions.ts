/**
 * Options of a {@link ConfluentSchemaRegistryClient}.
 * @public
 */
export interface ConfluentSchemaRegistryClientOptions {
  /** The registry's base URL, e.g. `http://localhost:8081` (a path prefix is kept). */
  readonly url: string;
  /** HTTP basic authentication (Confluent Cloud: API key and secret). */
  readonly basicAuth?: { readonly username: string; readonly password: string };
  /** Extra request headers (a bearer token, say). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Timeout of one request in ms (default 10 000). */
  readonly timeoutMs?: number;
  /**
   * Retries of a request that failed on the network, timed out or got a 5xx / 429 answer, with
   * exponential backoff from 100 ms (default 3). Every request the client makes is idempotent.
   */
  readonly retries?: number;
  /** The `fetch` to use (default: Node's global `fetch`). */
  readonly fetch?: typeof fetch;
}
