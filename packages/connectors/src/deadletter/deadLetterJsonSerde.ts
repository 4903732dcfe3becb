import type { Serde } from '@weir/core';
import type { DeadLetter } from './DeadLetter.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function unb64(s: unknown, field: string): Uint8Array {
  if (typeof s !== 'string') throw new TypeError(`dead letter field '${field}' must be a base64 string`);
  return new Uint8Array(Buffer.from(s, 'base64'));
}

/**
 * Dead letters as one line of UTF-8 JSON each (no line breaks inside), bytes in base64:
 *
 * ```json
 * {"source":"kafka","topic":"events","partition":3,"offset":1234,"key":"dV8x","value":"e2dhcmJhZ2U=",
 *  "recordTimestamp":1712419200000,"error":"unknown magic byte 0x7b ...","errorType":"WireFormatError","timestamp":1712419260000}
 * ```
 *
 * The format of {@link deadLetterFileSink} (JSON lines) and of the Kafka dead-letter topic
 * ({@link deadLetterKafkaSink}); `deserialize` reads it back, for reprocessing.
 * @public
 */
export const deadLetterJsonSerde: Serde<DeadLetter> = {
  serialize(dl: DeadLetter): Uint8Array {
    const o: Record<string, unknown> = { source: dl.source };
    if (dl.topic !== undefined) o.topic = dl.topic;
    if (dl.partition !== undefined) o.partition = dl.partition;
    if (dl.offset !== undefined) o.offset = dl.offset;
    if (dl.path !== undefined) o.path = dl.path;
    if (dl.key !== undefined) o.key = dl.key === null ? null : b64(dl.key);
    o.value = b64(dl.value);
    if (dl.recordTimestamp !== undefined) o.recordTimestamp = dl.recordTimestamp;
    o.error = dl.error;
    o.errorType = dl.errorType;
    o.timestamp = dl.timestamp;
    return encoder.encode(JSON.stringify(o));
  },
  deserialize(bytes: Uint8Array): DeadLetter {
    const o = JSON.parse(decoder.decode(bytes)) as Record<string, unknown>;
    if (typeof o.source !== 'string' || typeof o.error !== 'string' || typeof o.errorType !== 'string' || typeof o.timestamp !== 'number') {
      throw new TypeError('not a dead letter: source, error, errorType and timestamp are required');
    }
    const dl: { -readonly [K in keyof DeadLetter]: DeadLetter[K] } = {
      source: o.source,
      value: unb64(o.value, 'value'),
      error: o.error,
      errorType: o.errorType,
      timestamp: o.timestamp,
    };
    if (typeof o.topic === 'string') dl.topic = o.topic;
    if (typeof o.partition === 'number') dl.partition = o.partition;
    if (typeof o.offset === 'number') dl.offset = o.offset;
    if (typeof o.path === 'string') dl.path = o.path;
    if (o.key === null) dl.key = null;
    else if (o.key !== undefined) dl.key = unb64(o.key, 'key');
    if (typeof o.recordTimestamp === 'number') dl.recordTimestamp = o.recordTimestamp;
    return dl;
  },
};
