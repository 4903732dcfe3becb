import { mkdir, readdir, readFile, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ConfluentSchemaRegistryClient,
  EmbeddedSchemaRegistry,
  IncompatibleSchemaError,
  type SchemaRegistry,
  SchemaRegistryError,
} from '@weir/connectors';
import { afterEach, describe, expect, it } from 'vitest';
import { startRegistryServer, type TestRegistryServer } from './registryServer.js';
import { V1, V2 } from './schemas.js';
import { tempDir } from './tmp.js';

const V3_BAD = { ...V1, fields: [...V1.fields, { name: 'session_id', type: 'string' }] };

const servers: TestRegistryServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function restClient(): Promise<{ registry: ConfluentSchemaRegistryClient; server: TestRegistryServer }> {
  const server = await startRegistryServer(await tempDir());
  servers.push(server);
  return { registry: new ConfluentSchemaRegistryClient({ url: server.url, timeoutMs: 5_000 }), server };
}

const implementations: Array<[string, () => Promise<SchemaRegistry>]> = [
  ['EmbeddedSchemaRegistry', async () => new EmbeddedSchemaRegistry(await tempDir())],
  ['ConfluentSchemaRegistryClient (in-test HTTP server)', async () => (await restClient()).registry],
];

for (const [name, make] of implementations) {
  describe(`SchemaRegistry contract: ${name}`, () => {
    it('registers versions, dedups identical schemas, shares ids across subjects, looks up', async () => {
      const r = await make();
      const id1 = await r.register('events-value', V1);
      expect(await r.register('events-value', JSON.stringify(V1, null, 4))).toBe(id1); // whitespace
      const reordered = { fields: V1.fields, namespace: V1.namespace, name: V1.name, type: 'record' };
      expect(await r.register('events-value', reordered)).toBe(id1); // key order
      const id2 = await r.register('events-value', V2);
      expect(id2).not.toBe(id1);
      expect(await r.getVersions('events-value')).toEqual([1, 2]);
      expect(await r.register('archive-value', V1)).toBe(id1); // global id
      expect(await r.getVersions('archive-value')).toEqual([1]);
      expect(JSON.parse(await r.getSchemaById(id2))).toEqual(V2);
      expect(await r.getLatest('events-value')).toMatchObject({ subject: 'events-value', version: 2, id: id2 });
      expect(await r.getVersion('events-value', 1)).toMatchObject({ version: 1, id: id1 });
      expect(await r.lookup('events-value', V2)).toMatchObject({ version: 2, id: id2 });
      expect(await r.lookup('events-value', V3_BAD)).toBeUndefined();
      expect(await r.lookup('nope', V1)).toBeUndefined();
      expect(await r.listSubjects()).toEqual(['archive-value', 'events-value']);
    });

    it('reports not-found errors with Confluent error codes', async () => {
      const r = await make();
      await r.register('s', V1);
      const codes = async (p: Promise<unknown>) => {
        const e = await p.catch((x: unknown) => x);
        expect(e).toBeInstanceOf(SchemaRegistryError);
        return [(e as SchemaRegistryError).status, (e as SchemaRegistryError).errorCode];
      };
      expect(await codes(r.getSchemaById(999))).toEqual([404, 40403]);
      expect(await codes(r.getLatest('missing'))).toEqual([404, 40401]);
      expect(await codes(r.getVersions('missing'))).toEqual([404, 40401]);
      expect(await codes(r.getVersion('s', 7))).toEqual([404, 40402]);
      expect(await codes(r.register('s', { type: 'record', name: 'X', fields: [{ name: 'a', type: 'nope' }] }))).toEqual([422, 42201]);
    });

    it('refuses an incompatible schema at registration, naming subject, level and field', async () => {
      const r = await make();
      await r.register('events-value', V1);
      expect(await r.getCompatibility('events-value')).toBe('BACKWARD');
      const err = await r.register('events-value', V3_BAD).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IncompatibleSchemaError);
      const e = err as IncompatibleSchemaError;
      expect(e.subject).toBe('events-value');
      expect(e.level).toBe('BACKWARD');
      expect(e.message).toContain("subject 'events-value'");
      expect(e.message).toContain('BACKWARD');
      expect(e.message).toContain("at PlayEvent.session_id: the reader's field 'session_id' has no default value");
      expect(await r.getVersions('events-value')).toEqual([1]);
      // The same change is fine where producers upgrade first.
      await r.setCompatibility('FORWARD', 'events-value');
      expect(await r.getCompatibility('events-value')).toBe('FORWARD');
      expect(await r.getCompatibility()).toBe('BACKWARD');
      expect((await r.testCompatibility('events-value', V3_BAD)).compatible).toBe(true);
      await r.register('events-value', V3_BAD);
      expect(await r.getVersions('events-value')).toEqual([1, 2]);
    });

    it('tests compatibility at the subject level (transitive: every version) and sets the global level', async () => {
      const r = await make();
      await r.setCompatibility('NONE');
      expect(await r.getCompatibility()).toBe('NONE');
      expect(await r.getCompatibility('fresh')).toBe('NONE');
      const a1 = { type: 'record', name: 'A', fields: [{ name: 'a', type: 'int' }] };
      const a2 = { type: 'record', name: 'A', fields: [] };
      const a3 = { type: 'record', name: 'A', fields: [{ name: 'a', type: 'string', default: '' }] };
      await r.register('t', a1);
      await r.register('t', a2);
      expect((await r.testCompatibility('unknown-subject', a1)).compatible).toBe(true);
      await r.setCompatibility('BACKWARD', 't');
      expect(await r.testCompatibility('t', a3)).toEqual({ compatible: true, messages: [] });
      await r.setCompatibility('BACKWARD_TRANSITIVE', 't');
      const res = await r.testCompatibility('t', a3);
      expect(res.compatible).toBe(false);
      expect(res.messages.join('\n')).toMatch(/version 1.*at A\.a: the writer's 'int' cannot be read as the reader's 'string'/);
      const err = await r.register('t', a3).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IncompatibleSchemaError);
      expect((err as IncompatibleSchemaError).level).toBe('BACKWARD_TRANSITIVE');
    });
  });
}

describe('ConfluentSchemaRegistryClient over HTTP', () => {
  it('speaks the REST API: paths, content type, basic auth', async () => {
    const server = await startRegistryServer(await tempDir());
    servers.push(server);
    const registry = new ConfluentSchemaRegistryClient({
      url: `${server.url}/`,
      basicAuth: { username: 'key', password: 'secret' },
      headers: { 'x-extra': '1' },
    });
    const id = await registry.register('my topic-value', V1);
    await registry.getSchemaById(id);
    await registry.setCompatibility('FULL', 'my topic-value');
    await registry.getCompatibility('my topic-value');
    await registry.testCompatibility('my topic-value', V2);
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /subjects/my%20topic-value/versions',
      // getSchemaById of a just-registered id still asks once (ids are cached per lookup)
      `GET /schemas/ids/${id}`,
      'PUT /config/my%20topic-value',
      'GET /config/my%20topic-value?defaultToGlobal=true',
      'POST /compatibility/subjects/my%20topic-value/versions?verbose=true',
    ]);
    const first = server.requests[0];
    expect(first?.contentType).toBe('application/vnd.schemaregistry.v1+json');
    expect(first?.authorization).toBe(`Basic ${Buffer.from('key:secret').toString('base64')}`);
    expect(first?.body).toEqual({ schema: JSON.stringify(V1) });
    expect(server.requests[2]?.body).toEqual({ compatibility: 'FULL' });
  });

  it('caches schemas by id and registrations; retries 5xx answers', async () => {
    const { registry, server } = await restClient();
    const id = await registry.register('s', V1);
    expect(await registry.register('s', V1)).toBe(id);
    await registry.getSchemaById(id);
    await registry.getSchemaById(id);
    expect(server.requests.map((r) => r.method + r.url)).toEqual(['POST/subjects/s/versions', `GET/schemas/ids/${id}`]);
    server.failNext(2);
    expect(await registry.getVersions('s')).toEqual([1]);
    expect(server.requests.slice(-3).map((r) => r.url)).toEqual(['/subjects/s/versions', '/subjects/s/versions', '/subjects/s/versions']);
    const noRetry = new ConfluentSchemaRegistryClient({ url: server.url, retries: 0 });
    server.failNext(1);
    const err = await noRetry.getVersions('s').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaRegistryError);
    expect((err as SchemaRegistryError).message).toContain('HTTP 503');
  });

  it('falls back to /versions/latest on registries without the all-versions compatibility endpoint', async () => {
    const { registry, server } = await restClient();
    server.legacy = true;
    await registry.register('s', V1);
    const res = await registry.testCompatibility('s', V3_BAD);
    expect(res.compatible).toBe(false);
    expect(res.messages[0]).toContain('session_id');
    expect(server.requests.slice(-2).map((r) => r.url)).toEqual([
      '/compatibility/subjects/s/versions?verbose=true',
      '/compatibility/subjects/s/versions/latest?verbose=true',
    ]);
  });

  it('fails with a SchemaRegistryError when nothing listens', async () => {
    const registry = new ConfluentSchemaRegistryClient({ url: 'http://127.0.0.1:9', retries: 1, timeoutMs: 2_000 });
    const err = await registry.getSchemaById(1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaRegistryError);
    expect((err as SchemaRegistryError).status).toBe(503);
  });
});

describe('EmbeddedSchemaRegistry files', () => {
  it('persists across instances (a restart, another process) and writes only whole files', async () => {
    const dir = await tempDir();
    const a = new EmbeddedSchemaRegistry({ dir, defaultCompatibility: 'FULL' });
    const id1 = await a.register('events-value', V1);
    await a.setCompatibility('FORWARD', 'events-value');
    const b = new EmbeddedSchemaRegistry({ dir, defaultCompatibility: 'FULL' });
    expect(await b.getCompatibility('events-value')).toBe('FORWARD');
    expect(await b.getCompatibility()).toBe('FULL');
    expect(await b.register('events-value', V1)).toBe(id1);
    const id2 = await b.register('events-value', V3_BAD); // FORWARD allows it
    const c = new EmbeddedSchemaRegistry(dir);
    expect(await c.getLatest('events-value')).toMatchObject({ version: 2, id: id2 });
    expect(JSON.parse(await c.getSchemaById(id1))).toEqual(V1);
    expect((await readdir(dir)).sort()).toEqual(['config.json', 'fingerprints', 'schemas', 'subjects']);
    for (const sub of ['fingerprints', 'schemas', 'subjects']) {
      for (const n of await readdir(join(dir, sub))) {
        expect(n).toMatch(/\.json$/); // no temporary files left
        JSON.parse(await readFile(join(dir, sub, n), 'utf8'));
      }
    }
    expect(JSON.parse(await readFile(join(dir, 'schemas', `${id1}.json`), 'utf8'))).toMatchObject({ id: id1, schema: JSON.stringify(V1) });
  });

  it('serializes concurrent registrations of several instances (one lock for the directory)', async () => {
    const dir = await tempDir();
    const instances = [0, 1, 2, 3].map(() => new EmbeddedSchemaRegistry({ dir, defaultCompatibility: 'NONE' }));
    const schemas = Array.from({ length: 24 }, (_, i) => ({ type: 'record', name: 'R', fields: [{ name: `f${i}`, type: 'int' }] }));
    const ids = await Promise.all(schemas.map((s, i) => (instances[i % 4] as EmbeddedSchemaRegistry).register(i % 2 === 0 ? 'even' : 'odd', s)));
    expect(new Set(ids).size).toBe(24);
    expect(await instances[0]?.getVersions('even')).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(await instances[1]?.getVersions('odd')).toHaveLength(12);
    // The same schema under both subjects: one id.
    const both = await Promise.all([instances[2]?.register('even', { type: 'string' }), instances[3]?.register('odd', 'string')]);
    expect(both[0]).toBe(both[1]);
  });

  it('breaks a lock left by a crashed process once it is stale', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, '.lock'), { recursive: true });
    const old = new Date(Date.now() - 60_000);
    await utimes(join(dir, '.lock'), old, old);
    const r = new EmbeddedSchemaRegistry({ dir, staleLockMs: 30_000, lockTimeoutMs: 2_000 });
    expect(await r.register('s', V1)).toBe(1);
    await mkdir(join(dir, '.lock'));
    const fresh = new EmbeddedSchemaRegistry({ dir, lockTimeoutMs: 200 });
    await expect(fresh.register('s', V2)).rejects.toThrow(/timed out after 200 ms waiting for the lock/);
  });

  it('keeps subjects with any characters apart', async () => {
    const r = new EmbeddedSchemaRegistry(await tempDir());
    const names = ['a/b', 'a.b', '..', 'A b*', 'ünï'];
    for (const n of names) await r.register(n, V1);
    expect(await r.listSubjects()).toEqual([...names].sort());
    for (const n of names) expect(await r.getVersions(n)).toEqual([1]);
  });
});
