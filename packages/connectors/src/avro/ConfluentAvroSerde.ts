import type avro from 'avsc';
import { AvroDecodeError } from './AvroDecodeError.js';
import type { ConfluentAvroSerdeOptions } from './ConfluentAvroSerdeOptions.js';
import { ConfluentWireFormat } from './ConfluentWireFormat.js';
import { type ParsedSchema, parseSchema } from './internal/schemaText.js';
import type { SchemaRegistry } from './SchemaRegistry.js';
import { SchemaRegistryError } from './SchemaRegistryError.js';
import type { SchemaResolvingSerde } from './SchemaResolvingSerde.js';
import { SchemaResolutionError } from './SchemaResolutionError.js';
import { UnknownSchemaError } from './UnknownSchemaError.js';

/** How records written with one schema id are read. */
type ReaderEntry =
  | { readonly kind: 'ok'; readonly resolver: avro.Resolver | undefined }
  | { readonly kind: 'unresolvable'; readonly error: SchemaResolutionError }
  | { readonly kind: 'missing'; readonly since: number };

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Avro in Confluent's wire format (magic byte `0`, 4-byte big-endian schema id, Avro binary),
 * with a schema registry: a `Serde<T>` for the Kafka connectors (their `format` option) and
 * anything else that moves bytes.
 *
 * Writing: `open()` registers the job's schema under the subject (compatibility-checked by the
 * registry) or looks it up, and `serialize` frames values with its id.
 *
 * Reading: `deserialize` reads the writer schema id from the header and decodes the body with
 * the writer's schema resolved into the job's schema (avsc `createResolver`, names compared
 * without namespaces, as the Avro specification says), so producers can evolve a schema within
 * the subject's compatibility level without breaking jobs: a field added with a default is
 * skipped by an old job; a job with the new schema reading old records gets the default.
 *
 * `deserialize` is synchronous and cannot fetch schemas: see {@link SchemaResolvingSerde} for
 * the contract (`open()` preloads the subject's versions; `ensureSchemas(batch)` loads ids a
 * fetched batch names before its records are deserialized). Bad records fail `deserialize` with
 * a typed error for the dead-letter policy:
 * - {@link WireFormatError}: shorter than 5 bytes or a wrong magic byte;
 * - {@link UnknownSchemaError}: an id that is not loaded or that the registry does not have;
 * - {@link SchemaResolutionError}: a writer schema the job's schema cannot read;
 * - {@link AvroDecodeError}: a body that does not decode (truncated, trailing bytes...).
 *
 * One instance may serve every reader of a process: loads are shared and de-duplicated.
 *
 * @example
 * ```ts
 * const registry = new ConfluentSchemaRegistryClient({ url: 'http://localhost:8081' });
 * const events = ConfluentAvroSerde.forReading<PlayEvent>({ registry, subject: 'events-value', schema: EVENT_V1 });
 * new KafkaSource<PlayEvent>({ brokers, topics: ['events'], groupId: 'job', startingOffsets: 'earliest', format: events });
 * ```
 * @public
 */
export class ConfluentAvroSerde<T> implements SchemaResolvingSerde<T> {
  /** The subject. */
  readonly subject: string;
  /** The registry. */
  readonly registry: SchemaRegistry;
  private readonly reader: ParsedSchema;
  private readonly role: 'read' | 'write' | 'read-write';
  private readonly autoRegister: boolean;
  private readonly extraIds: readonly number[];
  private readonly retryMs: number;
  private readonly readers = new Map<number, ReaderEntry>();
  private readonly loading = new Map<number, Promise<void>>();
  private opening: Promise<void> | undefined;
  private writerId: number | undefined;
  private scratch = Buffer.allocUnsafe(1024);

  /** @param options - registry, subject, the job's schema and role */
  constructor(options: ConfluentAvroSerdeOptions) {
    if (typeof options.subject !== 'string' || options.subject.length === 0) throw new TypeError('ConfluentAvroSerde needs a subject');
    if (options.registry === undefined) throw new TypeError('ConfluentAvroSerde needs a registry');
    this.subject = options.subject;
    this.registry = options.registry;
    this.reader = parseSchema(options.schema, options.typeOptions);
    const role = options.role ?? 'read';
    if (role !== 'read' && role !== 'write' && role !== 'read-write') throw new TypeError(`unknown ConfluentAvroSerde role '${String(role)}'`);
    this.role = role;
    this.autoRegister = options.autoRegister ?? true;
    this.extraIds = options.schemaIds ?? [];
    this.retryMs = options.unknownSchemaRetryMs ?? 10_000;
  }

  /** A serde for a reading job (`role: 'read'`). */
  static forReading<T>(options: Omit<ConfluentAvroSerdeOptions, 'role' | 'autoRegister'>): ConfluentAvroSerde<T> {
    return new ConfluentAvroSerde<T>({ ...options, role: 'read' });
  }

  /** A serde for a writing job (`role: 'write'`). */
  static forWriting<T>(options: Omit<ConfluentAvroSerdeOptions, 'role' | 'schemaIds'>): ConfluentAvroSerde<T> {
    return new ConfluentAvroSerde<T>({ ...options, role: 'write' });
  }

  /**
   * The subject of a topic's values or keys under Confluent's default topic name strategy.
   * @param topic - the Kafka topic
   * @param part - `'value'` (default) or `'key'`
   */
  static topicSubject(topic: string, part: 'value' | 'key' = 'value'): string {
    return `${topic}-${part}`;
  }

  /** The id the job's schema was registered with (known after `open()` in a writing role). */
  get schemaId(): number | undefined {
    return this.writerId;
  }

  /** The schema ids this serde can read now. */
  loadedSchemaIds(): number[] {
    return [...this.readers].filter(([, e]) => e.kind !== 'missing').map(([id]) => id).sort((a, b) => a - b);
  }

  /**
   * Prepares the serde for its role: registers / looks up the writer schema, preloads the
   * subject's versions and `schemaIds`. Idempotent (one shared promise); a failed open can be
   * retried.
   */
  open(): Promise<void> {
    if (this.opening === undefined) {
      this.opening = this.doOpen();
      this.opening.catch(() => {
        this.opening = undefined;
      });
    }
    return this.opening;
  }

  private async doOpen(): Promise<void> {
    if (this.role !== 'read') {
      if (this.autoRegister) {
        this.writerId = await this.registry.register(this.subject, this.reader.text);
      } else {
        const found = await this.registry.lookup(this.subject, this.reader.text);
        if (found === undefined) {
          throw new SchemaRegistryError(
            `the schema is not registered under subject '${this.subject}' and autoRegister is false`,
            404,
            40403,
          );
        }
        this.writerId = found.id;
      }
      // Records this serde writes are read back without a registry round trip.
      this.readers.set(this.writerId, { kind: 'ok', resolver: undefined });
    }
    if (this.role !== 'write') {
      let versions: number[] = [];
      try {
        versions = await this.registry.getVersions(this.subject);
      } catch (e) {
        if (!(e instanceof SchemaRegistryError && e.notFound)) throw e;
      }
      const ids = new Set<number>(this.extraIds);
      for (const v of versions) ids.add((await this.registry.getVersion(this.subject, v)).id);
      await Promise.all([...ids].map((id) => this.load(id)));
    }
  }

  /**
   * Loads the schemas that `values` name and this serde does not hold yet (see
   * {@link SchemaResolvingSerde.ensureSchemas}). Returns a settled promise when nothing is
   * missing.
   */
  ensureSchemas(values: Iterable<Uint8Array | null | undefined>): Promise<void> {
    let missing: Set<number> | undefined;
    let now = 0;
    let last = -1;
    for (const v of values) {
      const id = ConfluentWireFormat.peekSchemaId(v);
      // Records of a batch mostly share one schema: check each run of ids once.
      if (id === undefined || id === last) continue;
      last = id;
      const e = this.readers.get(id);
      if (e !== undefined) {
        if (e.kind !== 'missing') continue;
        if (now === 0) now = Date.now();
        if (now - e.since < this.retryMs) continue;
      }
      (missing ??= new Set()).add(id);
    }
    if (missing === undefined) return RESOLVED;
    return Promise.all([...missing].map((id) => this.load(id))).then(() => undefined);
  }

  /** Releases nothing (the registry is the caller's); idempotent. */
  async close(): Promise<void> {}

  /** Encodes a value with the job's schema, framed with its id. Needs `open()` in a writing role. */
  serialize(value: T): Uint8Array {
    const id = this.writerId;
    if (id === undefined) {
      throw new Error(
        this.role === 'read'
          ? `ConfluentAvroSerde for subject '${this.subject}' was created for reading; use role 'write' or 'read-write' to serialize`
          : `ConfluentAvroSerde for subject '${this.subject}': await open() before serialize (it registers the schema)`,
      );
    }
    const type = this.reader.type;
    let end: number;
    try {
      end = type.encode(value, this.scratch, 5);
      while (end < 0) {
        // avsc returns minus the missing byte count when the buffer is too small.
        this.scratch = Buffer.allocUnsafe(Math.max(this.scratch.length * 2, this.scratch.length - end));
        end = type.encode(value, this.scratch, 5);
      }
    } catch (e) {
      throw new TypeError(`cannot serialize a value with the schema of subject '${this.subject}': ${(e as Error).message}`, { cause: e });
    }
    const out = new Uint8Array(end);
    out.set(this.scratch.subarray(5, end), 5);
    out[0] = 0;
    out[1] = (id >>> 24) & 0xff;
    out[2] = (id >>> 16) & 0xff;
    out[3] = (id >>> 8) & 0xff;
    out[4] = id & 0xff;
    return out;
  }

  /**
   * Decodes framed bytes into the job's schema. Throws {@link WireFormatError},
   * {@link UnknownSchemaError}, {@link SchemaResolutionError} or {@link AvroDecodeError}.
   */
  deserialize(bytes: Uint8Array): T {
    const id = ConfluentWireFormat.schemaId(bytes);
    const e = this.readers.get(id);
    if (e === undefined) {
      throw new UnknownSchemaError(id, `not loaded; call ensureSchemas() with the batch before deserialize (subject '${this.subject}')`);
    }
    if (e.kind === 'missing') throw new UnknownSchemaError(id, `the schema registry has no schema with this id (subject '${this.subject}')`);
    if (e.kind === 'unresolvable') throw e.error;
    const body = Buffer.from(bytes.buffer, bytes.byteOffset + 5, bytes.length - 5);
    try {
      return this.reader.type.fromBuffer(body, e.resolver) as T;
    } catch (err) {
      throw new AvroDecodeError(id, (err as Error).message, { cause: err });
    }
  }

  /** Fetches one writer schema and prepares its resolver (shared, de-duplicated). */
  private load(id: number): Promise<void> {
    let p = this.loading.get(id);
    if (p === undefined) {
      p = this.fetchAndResolve(id).finally(() => this.loading.delete(id));
      this.loading.set(id, p);
    }
    return p;
  }

  private async fetchAndResolve(id: number): Promise<void> {
    let text: string;
    try {
      text = await this.registry.getSchemaById(id);
    } catch (e) {
      if (e instanceof SchemaRegistryError && e.notFound) {
        this.readers.set(id, { kind: 'missing', since: Date.now() });
        return;
      }
      throw e;
    }
    let writer: ParsedSchema;
    try {
      writer = parseSchema(text);
    } catch (e) {
      const error = new SchemaResolutionError(id, `the registry's schema does not parse: ${(e as Error).message}`, { cause: e });
      this.readers.set(id, { kind: 'unresolvable', error });
      return;
    }
    if (writer.canonical === this.reader.canonical) {
      this.readers.set(id, { kind: 'ok', resolver: undefined });
      return;
    }
    try {
      const resolver = this.reader.type.createResolver(writer.type, { ignoreNamespaces: true });
      this.readers.set(id, { kind: 'ok', resolver });
    } catch (e) {
      this.readers.set(id, { kind: 'unresolvable', error: new SchemaResolutionError(id, (e as Error).message, { cause: e }) });
    }
  }
}
