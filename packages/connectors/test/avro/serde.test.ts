import {
  AvroDecodeError,
  ConfluentAvroSerde,
  ConfluentSchemaRegistryClient,
  ConfluentWireFormat,
  EmbeddedSchemaRegistry,
  IncompatibleSchemaError,
  isSchemaResolvingSerde,
  type SchemaRegistry,
  SchemaRegistryError,
  SchemaResolutionError,
  UnknownSchemaError,
  WireFormatError,
} from '@weir/connectors';
import { jsonSerde } from '@weir/core';
import avro from 'avsc';
import { afterEach, describe, expect, it } from 'vitest';
import { startRegistryServer, type TestRegistryServer } from './registryServer.js';
import { V1, V2 } from './schemas.js';
import { tempDir } from './tmp.js';

interface EventV1 {
  event_id: string;
  user_id: string;
  timestamp_ms: number;
}
interface EventV2 extends EventV1 {
  country: string;
}

const SUBJECT = 'events-value';

const e1: EventV1 = { event_id: 'e1', user_id: 'u_abc123', timestamp_ms: 1712419200000 };
const e2: EventV2 = { event_id: 'e2', user_id: 'u_xyz', timestamp_ms: 1712419201000, country: 'NZ' };

const servers: TestRegistryServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

/** Plain objects of avsc records (which are class instances). */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

describe('ConfluentAvroSerde', () => {
  it('frames values in the Confluent wire format and reads them back', async () => {
    const registry = new EmbeddedSchemaRegistry(await tempDir());
    const serde = new ConfluentAvroSerde<EventV1>({ registry, subject: SUBJECT, schema: V1, role: 'read-write' });
    expect(isSchemaResolvingSerde(serde)).toBe(true);
    expect(isSchemaResolvingSerde(jsonSerde())).toBe(false);
    await serde.open();
    const id = serde.schemaId as number;
    expect(id).toBe(1);
    const bytes = serde.serialize(e1);
    expect(bytes[0]).toBe(0);
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(1, false)).toBe(id);
    // The body is plain Avro binary of the writer schema.
    expect(Buffer.from(bytes.subarray(5))).toEqual(avro.Type.forSchema(V1 as avro.Schema).toBuffer(e1));
    expect(ConfluentWireFormat.peekSchemaId(bytes)).toBe(id);
    expect(plain(serde.deserialize(bytes))).toEqual(e1);
    // Big values grow the scratch buffer; each result is its own copy.
    const big = { ...e1, user_id: 'u'.repeat(100_000) };
    const b1 = serde.serialize(big);
    const b2 = serde.serialize(e1);
    expect(plain(serde.deserialize(b1))).toEqual(big);
    expect(plain(serde.deserialize(b2))).toEqual(e1);
    // A framed payload from elsewhere (a subarray with an offset) decodes too.
    const padded = new Uint8Array(bytes.length + 7);
    padded.set(bytes, 3);
    expect(plain(serde.deserialize(padded.subarray(3, 3 + bytes.length)))).toEqual(e1);
    expect(ConfluentWireFormat.frame(id, avro.Type.forSchema(V1 as avro.Schema).toBuffer(e1))).toEqual(bytes);
    expect(() => serde.serialize({ event_id: 'x' } as EventV1)).toThrow(/cannot serialize a value with the schema of subject 'events-value': invalid "string": undefined/);
  });

  it('schema evolution: an old job (reader v1) reads v2 records; a v2 job reads v1 records with the default', async () => {
    const registry = new EmbeddedSchemaRegistry(await tempDir());
    const producerV1 = ConfluentAvroSerde.forWriting<EventV1>({ registry, subject: SUBJECT, schema: V1 });
    await producerV1.open();
    const oldJob = ConfluentAvroSerde.forReading<EventV1>({ registry, subject: SUBJECT, schema: V1 });
    await oldJob.open(); // v2 does not exist yet
    // The producer evolves: v2 adds `country` with a default (BACKWARD-compatible: registered).
    const producerV2 = ConfluentAvroSerde.forWriting<EventV2>({ registry, subject: SUBJECT, schema: V2 });
    await producerV2.open();
    expect(producerV2.schemaId).not.toBe(producerV1.schemaId);
    expect(await registry.getVersions(SUBJECT)).toEqual([1, 2]);
    const batch = [producerV1.serialize(e1), producerV2.serialize(e2)];

    // The old job has not seen v2's id: deserialize cannot fetch (it is synchronous).
    expect(() => oldJob.deserialize(batch[1] as Uint8Array)).toThrow(UnknownSchemaError);
    // The source's per-batch hook loads it, then every record decodes into the v1 shape.
    await oldJob.ensureSchemas(batch);
    expect(batch.map((b) => plain(oldJob.deserialize(b)))).toEqual([e1, { event_id: 'e2', user_id: 'u_xyz', timestamp_ms: 1712419201000 }]);

    // A new job (reader v2), started after both versions exist, preloads them in open().
    const newJob = ConfluentAvroSerde.forReading<EventV2>({ registry, subject: SUBJECT, schema: V2 });
    await newJob.open();
    expect(newJob.loadedSchemaIds()).toEqual([producerV1.schemaId, producerV2.schemaId]);
    expect(batch.map((b) => plain(newJob.deserialize(b)))).toEqual([{ ...e1, country: 'unknown' }, e2]);
  });

  it('ensureSchemas: nothing missing → the same settled promise; loads de-duplicated; bad records never make it reject', async () => {
    const dir = await tempDir();
    const backing = new EmbeddedSchemaRegistry(dir);
    let fetches = 0;
    const counting: SchemaRegistry = Object.assign(Object.create(backing) as SchemaRegistry, {
      getSchemaById: (id: number) => {
        fetches++;
        return backing.getSchemaById(id);
      },
    });
    const writer = ConfluentAvroSerde.forWriting<EventV1>({ registry: backing, subject: SUBJECT, schema: V1 });
    await writer.open();
    const reader = ConfluentAvroSerde.forReading<EventV1>({ registry: counting, subject: 'other-subject', schema: V1 });
    await reader.open();
    const good = writer.serialize(e1);
    const garbage = new TextEncoder().encode('{"event_id":"oops"}');
    const unknownId = ConfluentWireFormat.frame(4242, new Uint8Array([2, 0x61]));
    const batch = [good, good, null, undefined, garbage, new Uint8Array([0, 0]), unknownId];
    await Promise.all([reader.ensureSchemas(batch), reader.ensureSchemas(batch)]);
    expect(fetches).toBe(2); // id 1 and id 4242, once each
    const p1 = reader.ensureSchemas([good]);
    expect(p1).toBe(reader.ensureSchemas([good, garbage]));
    await reader.ensureSchemas([unknownId]); // recently missing: not asked again
    expect(fetches).toBe(2);
    expect(plain(reader.deserialize(good))).toEqual(e1);
    expect(() => reader.deserialize(garbage)).toThrow(WireFormatError);
    expect(() => reader.deserialize(garbage)).toThrow(/unknown magic byte 0x7b/);
    expect(() => reader.deserialize(new Uint8Array([0, 0]))).toThrow(/too short/);
    expect(() => reader.deserialize(unknownId)).toThrow(UnknownSchemaError);
    expect(() => reader.deserialize(unknownId)).toThrow(/unknown schema id 4242: the schema registry has no schema with this id/);
    const truncated = good.subarray(0, good.length - 3);
    expect(() => reader.deserialize(truncated)).toThrow(AvroDecodeError);
    const trailing = new Uint8Array([...good, 1, 2, 3]);
    expect(() => reader.deserialize(trailing)).toThrow(/trailing data/);
  });

  it('an id the registry gets later is asked again after unknownSchemaRetryMs', async () => {
    const registry = new EmbeddedSchemaRegistry(await tempDir());
    const reader = new ConfluentAvroSerde<EventV1>({ registry, subject: SUBJECT, schema: V1, unknownSchemaRetryMs: 0 });
    await reader.open();
    const framed = ConfluentWireFormat.frame(1, avro.Type.forSchema(V1 as avro.Schema).toBuffer(e1));
    await reader.ensureSchemas([framed]);
    expect(() => reader.deserialize(framed)).toThrow(UnknownSchemaError);
    await registry.register(SUBJECT, V1);
    await reader.ensureSchemas([framed]);
    expect(plain(reader.deserialize(framed))).toEqual(e1);
  });

  it('a writer schema the reader cannot read fails records with SchemaResolutionError', async () => {
    const registry = new EmbeddedSchemaRegistry(await tempDir());
    const other = { type: 'record', name: 'PlayEvent', fields: [{ name: 'event_id', type: 'long' }] };
    const writer = ConfluentAvroSerde.forWriting<{ event_id: number }>({ registry, subject: 'legacy-value', schema: other });
    await writer.open();
    const reader = new ConfluentAvroSerde<EventV1>({ registry, subject: SUBJECT, schema: V1, schemaIds: [writer.schemaId as number] });
    await reader.open();
    const err = (() => {
      try {
        reader.deserialize(writer.serialize({ event_id: 7 }));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(SchemaResolutionError);
    expect((err as SchemaResolutionError).schemaId).toBe(writer.schemaId);
  });

  it('writing: incompatible schema refused at open(); autoRegister false needs a registered schema; reading never registers', async () => {
    const registry = new EmbeddedSchemaRegistry(await tempDir());
    await ConfluentAvroSerde.forWriting({ registry, subject: SUBJECT, schema: V1 }).open();
    const bad = { ...V1, fields: [...V1.fields, { name: 'session_id', type: 'string' }] };
    const err = await ConfluentAvroSerde.forWriting({ registry, subject: SUBJECT, schema: bad })
      .open()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IncompatibleSchemaError);
    expect((err as Error).message).toMatch(/subject 'events-value' is incompatible at compatibility level BACKWARD: .*'session_id' has no default/);
    const lookupOnly = ConfluentAvroSerde.forWriting({ registry, subject: SUBJECT, schema: V2, autoRegister: false });
    await expect(lookupOnly.open()).rejects.toThrow(SchemaRegistryError);
    const reader = ConfluentAvroSerde.forReading<EventV2>({ registry, subject: SUBJECT, schema: V2 });
    await reader.open();
    expect(await registry.getVersions(SUBJECT)).toEqual([1]);
    expect(() => reader.serialize(e2)).toThrow(/created for reading/);
    const notOpened = ConfluentAvroSerde.forWriting<EventV1>({ registry, subject: SUBJECT, schema: V1 });
    expect(() => notOpened.serialize(e1)).toThrow(/await open\(\) before serialize/);
    // A subject that does not exist yet is fine for a reader.
    await ConfluentAvroSerde.forReading({ registry, subject: 'not-yet', schema: V1 }).open();
  });

  it('works over the REST client; an unreachable registry makes ensureSchemas reject (infrastructure, not a bad record)', async () => {
    const server = await startRegistryServer(await tempDir());
    servers.push(server);
    const registry = new ConfluentSchemaRegistryClient({ url: server.url });
    const writer = ConfluentAvroSerde.forWriting<EventV2>({ registry, subject: SUBJECT, schema: V2 });
    await writer.open();
    const reader = ConfluentAvroSerde.forReading<EventV1>({ registry, subject: SUBJECT, schema: V1 });
    await reader.open();
    expect(plain(reader.deserialize(writer.serialize(e2)))).toEqual({ event_id: 'e2', user_id: 'u_xyz', timestamp_ms: 1712419201000 });
    const down = ConfluentAvroSerde.forReading<EventV1>({
      registry: new ConfluentSchemaRegistryClient({ url: 'http://127.0.0.1:9', retries: 0, timeoutMs: 1_000 }),
      subject: SUBJECT,
      schema: V1,
    });
    await expect(down.ensureSchemas([writer.serialize(e2)])).rejects.toThrow(SchemaRegistryError);
    await expect(down.open()).rejects.toThrow(SchemaRegistryError);
  });
});
