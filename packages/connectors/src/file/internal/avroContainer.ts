import { randomBytes } from 'node:crypto';
import avro from 'avsc';

const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]); // 'Obj' 1

const HEADER_TYPE = avro.Type.forSchema({
  type: 'record',
  name: 'org.apache.avro.file.Header',
  fields: [
    { name: 'magic', type: { type: 'fixed', name: 'Magic', size: 4 } },
    { name: 'meta', type: { type: 'map', values: 'bytes' } },
    { name: 'sync', type: { type: 'fixed', name: 'Sync', size: 16 } },
  ],
});

const LONG = avro.Type.forSchema('long');

/** A parsed Object Container File header. */
interface AvroHeader {
  readonly schema: unknown;
  readonly codec: string;
  readonly sync: Buffer;
  /** Byte offset of the first block. */
  readonly end: number;
}

/**
 * The Avro Object Container File layout (Avro spec, "Object Container Files"): a header (magic,
 * metadata map with `avro.schema` and `avro.codec`, 16-byte sync marker), then blocks of
 * `long count, long size, data[size], sync[16]`. Encoding and decoding use avsc's types.
 * @internal
 */
export const avroContainer = {
  /** Encodes a header for `schema` with a fresh random sync marker. */
  header(schema: object, codec: string): { bytes: Buffer; sync: Buffer } {
    const sync = randomBytes(16);
    const bytes = HEADER_TYPE.toBuffer({
      magic: MAGIC,
      meta: { 'avro.schema': Buffer.from(JSON.stringify(schema), 'utf8'), 'avro.codec': Buffer.from(codec, 'utf8') },
      sync,
    });
    return { bytes, sync };
  },

  /**
   * Decodes a header at the start of `buf`.
   * @returns the header, `undefined` when `buf` is too short, or an error message
   */
  readHeader(buf: Buffer): AvroHeader | undefined | string {
    if (buf.length >= 4 && !buf.subarray(0, 4).equals(MAGIC)) return 'not an Avro object container file (bad magic bytes)';
    let res: { value: unknown; offset: number };
    try {
      res = HEADER_TYPE.decode(buf, 0);
    } catch (e) {
      return `corrupt Avro header: ${(e as Error).message}`;
    }
    if (res.offset < 0) return undefined;
    const h = res.value as { meta: Record<string, Buffer>; sync: Buffer };
    const schemaBytes = h.meta['avro.schema'];
    if (schemaBytes === undefined) return 'corrupt Avro header: no avro.schema';
    let schema: unknown;
    try {
      schema = JSON.parse(schemaBytes.toString('utf8'));
    } catch (e) {
      return `corrupt Avro header: avro.schema is not JSON (${(e as Error).message})`;
    }
    const codec = h.meta['avro.codec']?.toString('utf8') ?? 'null';
    return { schema, codec, sync: Buffer.from(h.sync), end: res.offset };
  },

  /** Encodes a block's `count` and `size` prefix. */
  blockPrefix(count: number, size: number): Buffer {
    const b = Buffer.allocUnsafe(20);
    let p = LONG.encode(count, b, 0);
    p = LONG.encode(size, b, p);
    return b.subarray(0, p);
  },

  /**
   * Decodes a block prefix at `pos`.
   * @returns `{ count, size, offset }` (offset of the data), or `undefined` if `buf` ends first
   */
  readBlockPrefix(buf: Buffer, pos: number): { count: number; size: number; offset: number } | undefined {
    const c = LONG.decode(buf, pos);
    if (c.offset < 0) return undefined;
    const s = LONG.decode(buf, c.offset);
    if (s.offset < 0) return undefined;
    return { count: c.value as number, size: s.value as number, offset: s.offset };
  },
};
