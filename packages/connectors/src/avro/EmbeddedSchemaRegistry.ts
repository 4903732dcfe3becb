import { createHash } from 'node:crypto';
import { mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CompatibilityLevel } from './CompatibilityLevel.js';
import type { CompatibilityResult } from './CompatibilityResult.js';
import { checkSchemaEvolution } from './checkSchemaEvolution.js';
import type { EmbeddedSchemaRegistryOptions } from './EmbeddedSchemaRegistryOptions.js';
import { IncompatibleSchemaError } from './IncompatibleSchemaError.js';
import { errnoCode, readJson, withDirLock, writeJsonAtomic } from './internal/jsonFiles.js';
import { isCompatibilityLevel } from './internal/levels.js';
import { type ParsedSchema, parseSchema } from './internal/schemaText.js';
import type { SchemaRegistry } from './SchemaRegistry.js';
import { SchemaRegistryError } from './SchemaRegistryError.js';
import type { SubjectSchema } from './SubjectSchema.js';

interface SchemaFile {
  readonly id: number;
  readonly schema: string;
  readonly canonical: string;
}

interface SubjectFile {
  readonly subject: string;
  readonly versions: ReadonlyArray<{ readonly version: number; readonly id: number }>;
}

interface ConfigFile {
  readonly compatibilityLevel?: CompatibilityLevel;
  readonly subjects?: Readonly<Record<string, CompatibilityLevel>>;
}

/** A subject name as a file name: percent-encoded, so any subject maps to one plain name. */
function fileNameOf(subject: string): string {
  return `${encodeURIComponent(subject).replace(/[!'()*~.]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}.json`;
}

function checkSubject(subject: string): void {
  if (typeof subject !== 'string' || subject.length === 0 || [...subject].some((c) => c.charCodeAt(0) < 0x20)) {
    throw new SchemaRegistryError(`invalid subject name ${JSON.stringify(subject)}`, 422, 42208);
  }
}

function parseOrRefuse(schema: object | string): ParsedSchema {
  try {
    return parseSchema(schema);
  } catch (e) {
    throw new SchemaRegistryError(`invalid Avro schema: ${(e as Error).message}`, 422, 42201, { cause: e });
  }
}

/**
 * A schema registry in a local directory, for local runs and tests: the same
 * {@link SchemaRegistry} interface, ids, versions and compatibility checks as Confluent's
 * registry, with no server. The state survives restarts and can be shared by processes
 * (a producer script and a job, say).
 *
 * Layout (all JSON, each file written atomically: temporary file, fsync, rename, directory
 * fsync):
 * - `config.json`: the global level and per-subject levels;
 * - `schemas/<id>.json`: `{ id, schema, canonical }`, immutable once written;
 * - `fingerprints/<sha256 of canonical>.json`: `{ id }`, so a schema registered under several
 *   subjects keeps one id;
 * - `subjects/<percent-encoded subject>.json`: `{ subject, versions: [{ version, id }] }`.
 *
 * Changes (registration, levels) are serialized across processes by a lock directory
 * (`.lock`, created with `mkdir`; broken when older than `staleLockMs`). Reads take no lock and
 * see whole files. Writes happen in an order that keeps the state valid after a crash at any
 * point: schema file, fingerprint, then the subject file (a crash may leave an id no subject
 * uses, which is harmless).
 * @public
 */
export class EmbeddedSchemaRegistry implements SchemaRegistry {
  /** The registry's directory (absolute). */
  readonly dir: string;
  private readonly defaultLevel: CompatibilityLevel;
  private readonly lockTimeoutMs: number;
  private readonly staleLockMs: number;
  private readonly byId = new Map<number, SchemaFile>();
  private queue: Promise<unknown> = Promise.resolve();

  /** @param options - the directory, or the options */
  constructor(options: EmbeddedSchemaRegistryOptions | string) {
    const o = typeof options === 'string' ? { dir: options } : options;
    if (typeof o.dir !== 'string' || o.dir.length === 0) throw new TypeError('EmbeddedSchemaRegistry needs a directory');
    this.dir = resolve(o.dir);
    const level = o.defaultCompatibility ?? 'BACKWARD';
    if (!isCompatibilityLevel(level)) throw new TypeError(`unknown compatibility level '${String(level)}'`);
    this.defaultLevel = level;
    this.lockTimeoutMs = o.lockTimeoutMs ?? 10_000;
    this.staleLockMs = o.staleLockMs ?? 30_000;
  }

  /** Registers a schema under a subject, compatibility-checked (see {@link SchemaRegistry.register}). */
  async register(subject: string, schema: object | string): Promise<number> {
    checkSubject(subject);
    const parsed = parseOrRefuse(schema);
    return this.locked(async () => {
      const versions = await this.subjectVersions(subject);
      for (const v of versions) if (v.canonical === parsed.canonical) return v.id;
      const level = await this.levelOf(subject);
      const result = checkSchemaEvolution(level, parsed.text, versions);
      if (!result.compatible) throw new IncompatibleSchemaError(subject, level, result.messages);
      const id = await this.idFor(parsed);
      const last = versions.at(-1)?.version ?? 0;
      const file: SubjectFile = {
        subject,
        versions: [...versions.map((v) => ({ version: v.version, id: v.id })), { version: last + 1, id }],
      };
      await writeJsonAtomic(join(this.dir, 'subjects', fileNameOf(subject)), file);
      return id;
    });
  }

  /** The version of a subject that holds a schema, if any. */
  async lookup(subject: string, schema: object | string): Promise<SubjectSchema | undefined> {
    checkSubject(subject);
    const parsed = parseOrRefuse(schema);
    const versions = await this.subjectVersions(subject);
    const v = versions.find((x) => x.canonical === parsed.canonical);
    return v === undefined ? undefined : { subject, version: v.version, id: v.id, schema: v.schema };
  }

  /** The schema with a global id (cached: ids are immutable). */
  async getSchemaById(id: number): Promise<string> {
    return (await this.schemaFile(id)).schema;
  }

  /** The latest version of a subject. */
  async getLatest(subject: string): Promise<SubjectSchema> {
    const versions = await this.existingSubject(subject);
    const v = versions.at(-1) as SubjectSchema;
    return { subject, version: v.version, id: v.id, schema: v.schema };
  }

  /** One version of a subject. */
  async getVersion(subject: string, version: number): Promise<SubjectSchema> {
    const versions = await this.existingSubject(subject);
    const v = versions.find((x) => x.version === version);
    if (v === undefined) throw new SchemaRegistryError(`subject '${subject}' has no version ${version}`, 404, 40402);
    return { subject, version: v.version, id: v.id, schema: v.schema };
  }

  /** The versions of a subject, ascending. */
  async getVersions(subject: string): Promise<number[]> {
    return (await this.existingSubject(subject)).map((v) => v.version);
  }

  /** Every subject, sorted. */
  async listSubjects(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(join(this.dir, 'subjects'));
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return [];
      throw e;
    }
    const out: string[] = [];
    for (const n of names) {
      if (!n.endsWith('.json')) continue;
      const f = await readJson<SubjectFile>(join(this.dir, 'subjects', n));
      if (f !== undefined) out.push(f.subject);
    }
    return out.sort();
  }

  /** Whether a schema could be registered under a subject now, and why not. */
  async testCompatibility(subject: string, schema: object | string): Promise<CompatibilityResult> {
    checkSubject(subject);
    const parsed = parseOrRefuse(schema);
    const versions = await this.subjectVersions(subject);
    return checkSchemaEvolution(await this.levelOf(subject), parsed.text, versions);
  }

  /** The level of a subject (its own, else the global one), or the global level. */
  async getCompatibility(subject?: string): Promise<CompatibilityLevel> {
    if (subject !== undefined) checkSubject(subject);
    return this.levelOf(subject);
  }

  /** Sets the level of a subject, or the global level. */
  async setCompatibility(level: CompatibilityLevel, subject?: string): Promise<void> {
    if (!isCompatibilityLevel(level)) throw new SchemaRegistryError(`invalid compatibility level '${String(level)}'`, 422, 42203);
    if (subject !== undefined) checkSubject(subject);
    await this.locked(async () => {
      const config = (await readJson<ConfigFile>(join(this.dir, 'config.json'))) ?? {};
      const next: ConfigFile =
        subject === undefined
          ? { ...config, compatibilityLevel: level }
          : { ...config, subjects: { ...config.subjects, [subject]: level } };
      await writeJsonAtomic(join(this.dir, 'config.json'), next);
    });
  }

  /** Runs `fn` holding this instance's queue and the directory's lock. */
  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      await mkdir(this.dir, { recursive: true });
      return withDirLock(join(this.dir, '.lock'), this.lockTimeoutMs, this.staleLockMs, fn);
    });
    this.queue = run.catch(() => {});
    return run;
  }

  private async levelOf(subject: string | undefined): Promise<CompatibilityLevel> {
    const config = await readJson<ConfigFile>(join(this.dir, 'config.json'));
    const own = subject === undefined ? undefined : config?.subjects?.[subject];
    return own ?? config?.compatibilityLevel ?? this.defaultLevel;
  }

  private async schemaFile(id: number): Promise<SchemaFile> {
    const cached = this.byId.get(id);
    if (cached !== undefined) return cached;
    if (!Number.isSafeInteger(id) || id < 1) throw new SchemaRegistryError(`schema ${id} not found`, 404, 40403);
    const f = await readJson<SchemaFile>(join(this.dir, 'schemas', `${id}.json`));
    if (f === undefined) throw new SchemaRegistryError(`schema ${id} not found`, 404, 40403);
    this.byId.set(id, f);
    return f;
  }

  /** The subject's versions with their schemas (empty for an unknown subject). */
  private async subjectVersions(subject: string): Promise<Array<SubjectSchema & { canonical: string }>> {
    const f = await readJson<SubjectFile>(join(this.dir, 'subjects', fileNameOf(subject)));
    if (f === undefined) return [];
    const out: Array<SubjectSchema & { canonical: string }> = [];
    for (const v of f.versions) {
      const s = await this.schemaFile(v.id);
      out.push({ subject, version: v.version, id: v.id, schema: s.schema, canonical: s.canonical });
    }
    return out;
  }

  private async existingSubject(subject: string): Promise<Array<SubjectSchema & { canonical: string }>> {
    checkSubject(subject);
    const versions = await this.subjectVersions(subject);
    if (versions.length === 0) throw new SchemaRegistryError(`subject '${subject}' not found`, 404, 40401);
    return versions;
  }

  /** The id of a schema: the existing one for the same canonical text, else a new one. Under the lock. */
  private async idFor(parsed: ParsedSchema): Promise<number> {
    const hash = createHash('sha256').update(parsed.canonical).digest('hex');
    const fpPath = join(this.dir, 'fingerprints', `${hash}.json`);
    const fp = await readJson<{ id: number }>(fpPath);
    if (fp !== undefined) {
      const existing = await this.schemaFile(fp.id).catch(() => undefined);
      if (existing !== undefined && existing.canonical === parsed.canonical) return fp.id;
    }
    let max = 0;
    try {
      for (const n of await readdir(join(this.dir, 'schemas'))) {
        const m = /^(\d+)\.json$/.exec(n);
        if (m !== null) max = Math.max(max, Number(m[1]));
      }
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw e;
    }
    const id = max + 1;
    const file: SchemaFile = { id, schema: parsed.text, canonical: parsed.canonical };
    await writeJsonAtomic(join(this.dir, 'schemas', `${id}.json`), file);
    await writeJsonAtomic(fpPath, { id });
    this.byId.set(id, file);
    return id;
  }
}
