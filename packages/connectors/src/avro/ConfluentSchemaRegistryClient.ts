import type { CompatibilityLevel } from './CompatibilityLevel.js';
import type { CompatibilityResult } from './CompatibilityResult.js';
import type { ConfluentSchemaRegistryClientOptions } from './ConfluentSchemaRegistryClientOptions.js';
import { IncompatibleSchemaError } from './IncompatibleSchemaError.js';
import { isCompatibilityLevel } from './internal/levels.js';
import { canonicalText, schemaJson } from './internal/schemaText.js';
import type { SchemaRegistry } from './SchemaRegistry.js';
import { SchemaRegistryError } from './SchemaRegistryError.js';
import type { SubjectSchema } from './SubjectSchema.js';

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function schemaString(schema: object | string): string {
  return JSON.stringify(schemaJson(schema));
}

function enc(subject: string): string {
  if (typeof subject !== 'string' || subject.length === 0) throw new TypeError('a subject must be a non-empty string');
  return encodeURIComponent(subject);
}

/** A transient failure worth a retry. */
class Transient extends Error {}

/**
 * A client of Confluent's Schema Registry REST API (also served by Redpanda, Karapace and
 * Apicurio's compatibility API), through Node's `fetch`.
 *
 * Endpoints used: `POST /subjects/{s}/versions` (register), `POST /subjects/{s}` (lookup),
 * `GET /schemas/ids/{id}`, `GET /subjects/{s}/versions[/{v}|/latest]`, `GET /subjects`,
 * `POST /compatibility/subjects/{s}/versions?verbose=true` (against the versions the subject's
 * level covers; falls back to `/versions/latest` on registries without it), `GET/PUT /config`
 * and `GET/PUT /config/{s}`.
 *
 * The registry checks compatibility itself on registration. When it refuses a schema (HTTP 409),
 * the client asks for the subject's level and the verbose compatibility messages and throws an
 * {@link IncompatibleSchemaError} that names the subject, the level and the fields.
 *
 * Ids are immutable, so schemas by id and registrations (subject, schema) → id are cached for
 * the life of the client. Only Avro schemas (no `schemaType`, no references) are handled.
 * @public
 */
export class ConfluentSchemaRegistryClient implements SchemaRegistry {
  /** The base URL, without a trailing slash. */
  readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly fetchFn: typeof fetch;
  private readonly byId = new Map<number, Promise<string>>();
  private readonly registered = new Map<string, number>();

  /** @param options - the registry's URL and how to reach it */
  constructor(options: ConfluentSchemaRegistryClientOptions) {
    if (typeof options.url !== 'string' || !/^https?:\/\//.test(options.url)) {
      throw new TypeError(`ConfluentSchemaRegistryClient needs an http(s) url, got ${String(options.url)}`);
    }
    this.url = options.url.replace(/\/+$/, '');
    this.headers = { accept: `${CONTENT_TYPE}, application/json`, ...options.headers };
    if (options.basicAuth !== undefined) {
      const token = Buffer.from(`${options.basicAuth.username}:${options.basicAuth.password}`).toString('base64');
      this.headers.authorization = `Basic ${token}`;
    }
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.retries = options.retries ?? 3;
    this.fetchFn = options.fetch ?? globalThis.fetch;
  }

  /** Registers a schema under a subject (see {@link SchemaRegistry.register}). */
  async register(subject: string, schema: object | string): Promise<number> {
    const key = `${subject}\u0000${canonicalText(schema)}`;
    const cached = this.registered.get(key);
    if (cached !== undefined) return cached;
    let res: { id: number };
    try {
      res = await this.request<{ id: number }>('POST', `/subjects/${enc(subject)}/versions`, { schema: schemaString(schema) });
    } catch (e) {
      if (e instanceof SchemaRegistryError && (e.status === 409 || e.errorCode === 409)) throw await this.refusal(subject, schema, e);
      throw e;
    }
    this.registered.set(key, res.id);
    return res.id;
  }

  /** The version of a subject that holds a schema (see {@link SchemaRegistry.lookup}). */
  async lookup(subject: string, schema: object | string): Promise<SubjectSchema | undefined> {
    try {
      const r = await this.request<SubjectSchema>('POST', `/subjects/${enc(subject)}`, { schema: schemaString(schema) });
      return { subject: r.subject, version: r.version, id: r.id, schema: r.schema };
    } catch (e) {
      if (e instanceof SchemaRegistryError && e.notFound) return undefined;
      throw e;
    }
  }

  /** The schema with a global id (cached). */
  getSchemaById(id: number): Promise<string> {
    let p = this.byId.get(id);
    if (p === undefined) {
      p = this.request<{ schema: string; schemaType?: string }>('GET', `/schemas/ids/${id}`).then((r) => {
        if (r.schemaType !== undefined && r.schemaType !== 'AVRO') {
          throw new SchemaRegistryError(`schema ${id} is a ${r.schemaType} schema, not Avro`, 422, 42201);
        }
        return r.schema;
      });
      this.byId.set(id, p);
      // Failures are not cached: a later call asks again.
      p.catch(() => this.byId.delete(id));
    }
    return p;
  }

  /** The latest version of a subject. */
  async getLatest(subject: string): Promise<SubjectSchema> {
    return this.version(subject, 'latest');
  }

  /** One version of a subject. */
  async getVersion(subject: string, version: number): Promise<SubjectSchema> {
    return this.version(subject, String(version));
  }

  /** The versions of a subject, ascending. */
  async getVersions(subject: string): Promise<number[]> {
    const v = await this.request<number[]>('GET', `/subjects/${enc(subject)}/versions`);
    return [...v].sort((a, b) => a - b);
  }

  /** Every subject. */
  async listSubjects(): Promise<string[]> {
    return (await this.request<string[]>('GET', '/subjects')).sort();
  }

  /** Whether a schema could be registered under a subject now, with the registry's reasons. */
  async testCompatibility(subject: string, schema: object | string): Promise<CompatibilityResult> {
    const body = { schema: schemaString(schema) };
    let r: { is_compatible: boolean; messages?: string[] };
    try {
      r = await this.request('POST', `/compatibility/subjects/${enc(subject)}/versions?verbose=true`, body);
    } catch (e) {
      if (!(e instanceof SchemaRegistryError)) throw e;
      if (e.errorCode === 40401) return { compatible: true, messages: [] };
      // Registries older than Confluent 7 only test against one version.
      if (e.status !== 404 && e.status !== 405) throw e;
      try {
        r = await this.request('POST', `/compatibility/subjects/${enc(subject)}/versions/latest?verbose=true`, body);
      } catch (e2) {
        if (e2 instanceof SchemaRegistryError && (e2.errorCode === 40401 || e2.errorCode === 40402)) return { compatible: true, messages: [] };
        throw e2;
      }
    }
    return { compatible: r.is_compatible === true, messages: r.is_compatible === true ? [] : [...(r.messages ?? [])] };
  }

  /** The compatibility level of a subject (its own, else the global one), or the global level. */
  async getCompatibility(subject?: string): Promise<CompatibilityLevel> {
    const path = subject === undefined ? '/config' : `/config/${enc(subject)}?defaultToGlobal=true`;
    const r = await this.request<{ compatibilityLevel?: string; compatibility?: string }>('GET', path);
    const level = r.compatibilityLevel ?? r.compatibility;
    if (!isCompatibilityLevel(level)) throw new SchemaRegistryError(`the registry answered an unknown compatibility level '${String(level)}'`, 502, 50200);
    return level;
  }

  /** Sets the compatibility level of a subject, or the global level. */
  async setCompatibility(level: CompatibilityLevel, subject?: string): Promise<void> {
    if (!isCompatibilityLevel(level)) throw new TypeError(`unknown compatibility level '${String(level)}'`);
    await this.request('PUT', subject === undefined ? '/config' : `/config/${enc(subject)}`, { compatibility: level });
  }

  private async version(subject: string, version: string): Promise<SubjectSchema> {
    const r = await this.request<SubjectSchema>('GET', `/subjects/${enc(subject)}/versions/${version}`);
    return { subject: r.subject, version: r.version, id: r.id, schema: r.schema };
  }

  /** The error for a refused registration, with the level and the reasons when the registry tells them. */
  private async refusal(subject: string, schema: object | string, e: SchemaRegistryError): Promise<Error> {
    let level: string = 'unknown';
    let reasons: string[] = [e.message];
    try {
      level = await this.getCompatibility(subject);
      const t = await this.testCompatibility(subject, schema);
      if (t.messages.length > 0) reasons = [...t.messages];
    } catch {
      // Keep the registry's own message.
    }
    return new IncompatibleSchemaError(subject, level, reasons);
  }

  private async request<T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T> {
    let attempt = 0;
    for (;;) {
      try {
        return await this.once<T>(method, path, body);
      } catch (e) {
        if (!(e instanceof Transient) || attempt >= this.retries) {
          if (e instanceof Transient) {
            throw new SchemaRegistryError(`schema registry ${method} ${this.url}${path} failed: ${e.message}`, 503, 50300, { cause: e.cause });
          }
          throw e;
        }
        await sleep(100 * 2 ** attempt);
        attempt++;
      }
    }
  }

  private async once<T>(method: string, path: string, body: unknown): Promise<T> {
    const headers: Record<string, string> = { ...this.headers };
    if (body !== undefined) headers['content-type'] = CONTENT_TYPE;
    let res: Response;
    try {
      res = await this.fetchFn(`${this.url}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new Transient((e as Error).message, { cause: e });
    }
    const text = await res.text();
    if (res.status >= 500 || res.status === 429) throw new Transient(`HTTP ${res.status} ${text.slice(0, 200)}`);
    let json: unknown;
    try {
      json = text.length === 0 ? undefined : JSON.parse(text);
    } catch {
      throw new SchemaRegistryError(`schema registry ${method} ${path}: HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`, res.status, res.status);
    }
    if (!res.ok) {
      const err = (json ?? {}) as { error_code?: number; message?: string };
      throw new SchemaRegistryError(
        `schema registry ${method} ${path}: HTTP ${res.status}${err.error_code === undefined ? '' : ` (error ${err.error_code})`}: ${err.message ?? text.slice(0, 200)}`,
        res.status,
        err.error_code ?? res.status,
      );
    }
    return json as T;
  }
}
