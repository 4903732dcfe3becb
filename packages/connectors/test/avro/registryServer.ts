/**
 * A tiny HTTP server on 127.0.0.1 that speaks the part of Confluent's Schema Registry REST API
 * the client uses, backed by an EmbeddedSchemaRegistry (so both implementations answer alike).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CompatibilityLevel, EmbeddedSchemaRegistry, IncompatibleSchemaError, SchemaRegistryError } from '@weir/connectors';

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly contentType: string | undefined;
  readonly authorization: string | undefined;
  readonly body: unknown;
}

export interface TestRegistryServer {
  readonly url: string;
  readonly backend: EmbeddedSchemaRegistry;
  readonly requests: RecordedRequest[];
  /** Answers the next `n` requests with HTTP 503. */
  failNext(n: number): void;
  /** Behave like a registry older than Confluent 7 (no POST /compatibility/subjects/{s}/versions). */
  legacy: boolean;
  close(): Promise<void>;
}

const CT = 'application/vnd.schemaregistry.v1+json';

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': CT, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text.length === 0 ? undefined : JSON.parse(text);
}

export async function startRegistryServer(dir: string): Promise<TestRegistryServer> {
  const backend = new EmbeddedSchemaRegistry(dir);
  const requests: RecordedRequest[] = [];
  let failures = 0;
  const state = { legacy: false };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://x');
    const body = await readBody(req);
    requests.push({
      method: req.method ?? '',
      url: `${url.pathname}${url.search}`,
      contentType: req.headers['content-type'],
      authorization: req.headers.authorization,
      body,
    });
    if (failures > 0) {
      failures--;
      send(res, 503, { error_code: 50003, message: 'try again' });
      return;
    }
    const parts = url.pathname.split('/').filter((p) => p.length > 0).map(decodeURIComponent);
    const m = req.method;
    const schemaOf = (): string => {
      const b = body as { schema?: unknown; schemaType?: unknown };
      if (typeof b?.schema !== 'string') throw new SchemaRegistryError('schema missing', 422, 42201);
      if (b.schemaType !== undefined && b.schemaType !== 'AVRO') throw new SchemaRegistryError('only AVRO', 422, 42201);
      return b.schema;
    };
    const version = async (subject: string, v: string) => (v === 'latest' ? backend.getLatest(subject) : backend.getVersion(subject, Number(v)));
    try {
      if (m === 'GET' && parts[0] === 'schemas' && parts[1] === 'ids' && parts.length === 3) {
        return send(res, 200, { schema: await backend.getSchemaById(Number(parts[2])) });
      }
      if (parts[0] === 'subjects') {
        if (m === 'GET' && parts.length === 1) return send(res, 200, await backend.listSubjects());
        const subject = parts[1] as string;
        if (m === 'POST' && parts.length === 2) {
          const found = await backend.lookup(subject, schemaOf());
          if (found !== undefined) return send(res, 200, found);
          const subjects = await backend.listSubjects();
          return subjects.includes(subject)
            ? send(res, 404, { error_code: 40403, message: 'Schema not found' })
            : send(res, 404, { error_code: 40401, message: `Subject '${subject}' not found.` });
        }
        if (m === 'POST' && parts.length === 3 && parts[2] === 'versions') {
          return send(res, 200, { id: await backend.register(subject, schemaOf()) });
        }
        if (m === 'GET' && parts.length === 3 && parts[2] === 'versions') return send(res, 200, await backend.getVersions(subject));
        if (m === 'GET' && parts.length === 4 && parts[2] === 'versions') return send(res, 200, await version(subject, parts[3] as string));
      }
      if (m === 'POST' && parts[0] === 'compatibility' && parts[1] === 'subjects' && parts[3] === 'versions') {
        const subject = parts[2] as string;
        if (parts.length === 4 && state.legacy) return send(res, 404, { error_code: 404, message: 'HTTP 404 Not Found' });
        if (parts.length === 5) await version(subject, parts[4] as string); // 40401 / 40402 as the real one
        const r = await backend.testCompatibility(subject, schemaOf());
        const verbose = url.searchParams.get('verbose') === 'true';
        return send(res, 200, verbose ? { is_compatible: r.compatible, messages: r.messages } : { is_compatible: r.compatible });
      }
      if (parts[0] === 'config') {
        const subject = parts[1];
        if (m === 'GET') {
          return send(res, 200, { compatibilityLevel: await backend.getCompatibility(subject) });
        }
        if (m === 'PUT') {
          const level = (body as { compatibility?: string }).compatibility as CompatibilityLevel;
          await backend.setCompatibility(level, subject);
          return send(res, 200, { compatibility: level });
        }
      }
      send(res, 404, { error_code: 404, message: 'HTTP 404 Not Found' });
    } catch (e) {
      if (e instanceof IncompatibleSchemaError) {
        // What Confluent's registry answers: a 409 with a summary message.
        return send(res, 409, { error_code: 409, message: `Schema being registered is incompatible with an earlier schema for subject "${e.subject}"` });
      }
      if (e instanceof SchemaRegistryError) return send(res, e.status, { error_code: e.errorCode, message: e.message });
      send(res, 500, { error_code: 50001, message: String(e) });
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => send(res, 500, { error_code: 50001, message: String(e) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    backend,
    requests,
    failNext(n) {
      failures = n;
    },
    get legacy() {
      return state.legacy;
    },
    set legacy(v: boolean) {
      state.legacy = v;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
