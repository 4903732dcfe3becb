import { WireFormatError } from './WireFormatError.js';

/**
 * Confluent's wire format: magic byte `0`, the writer schema's id as a 4-byte big-endian
 * integer, then the Avro binary encoding of the value.
 * @public
 */
export const ConfluentWireFormat = {
  /** The first byte of every framed value. */
  MAGIC_BYTE: 0,
  /** Magic byte plus schema id. */
  HEADER_BYTES: 5,

  /**
   * The schema id of framed bytes, or `undefined` when they cannot be in the wire format (too
   * short, wrong magic byte). Never throws.
   */
  peekSchemaId(bytes: Uint8Array | null | undefined): number | undefined {
    if (bytes === null || bytes === undefined || bytes.length < 5 || bytes[0] !== 0) return undefined;
    return ((bytes[1] as number) * 0x1000000 + (((bytes[2] as number) << 16) | ((bytes[3] as number) << 8) | (bytes[4] as number))) >>> 0;
  },

  /** The schema id of framed bytes; throws a {@link WireFormatError} when they are not framed. */
  schemaId(bytes: Uint8Array): number {
    if (bytes.length < 5) {
      throw new WireFormatError(`${bytes.length} byte(s) are too short for the Confluent wire format (magic byte + 4-byte schema id + Avro data)`);
    }
    if (bytes[0] !== 0) {
      throw new WireFormatError(`unknown magic byte 0x${(bytes[0] as number).toString(16).padStart(2, '0')} (the Confluent wire format starts with 0x00)`);
    }
    return ConfluentWireFormat.peekSchemaId(bytes) as number;
  },

  /** Frames an Avro payload with a schema id. */
  frame(schemaId: number, payload: Uint8Array): Uint8Array {
    if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > 0xffffffff) throw new RangeError(`invalid schema id ${schemaId}`);
    const out = new Uint8Array(5 + payload.length);
    out[0] = 0;
    new DataView(out.buffer).setUint32(1, schemaId, false);
    out.set(payload, 5);
    return out;
  },
} as const;
