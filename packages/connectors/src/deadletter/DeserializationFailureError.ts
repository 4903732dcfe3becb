import type { RecordPosition } from './RecordPosition.js';

function describePosition(source: string, p: RecordPosition | undefined): string {
  const parts: string[] = [];
  if (p?.topic !== undefined) parts.push(`topic '${p.topic}'`);
  if (p?.partition !== undefined) parts.push(`partition ${p.partition}`);
  if (p?.path !== undefined) parts.push(`file '${p.path}'`);
  if (p?.offset !== undefined) parts.push(`offset ${p.offset}`);
  return parts.length === 0 ? `${source} record` : `${source} record at ${parts.join(', ')}`;
}

function preview(bytes: Uint8Array): string {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 16)).toString('hex');
  return `${bytes.length} byte(s)${bytes.length === 0 ? '' : `: 0x${head}${bytes.length > 16 ? '…' : ''}`}`;
}

/**
 * Thrown under the `'fail'` {@link DeserializationFailurePolicy}: names the source, the record's
 * position (topic, partition, offset or file), the bytes' length and first bytes, and the cause
 * (also in `cause`).
 * @public
 */
export class DeserializationFailureError extends Error {
  /** Always `'DeserializationFailureError'`. */
  override readonly name = 'DeserializationFailureError';
  /** The cause's class name. */
  readonly errorType: string;

  /**
   * @param source - the kind of source (`'kafka'`, `'file'`...)
   * @param position - where the record was read
   * @param value - the record's bytes
   * @param cause - what deserialization (or validation) threw
   */
  constructor(
    readonly source: string,
    readonly position: RecordPosition | undefined,
    value: Uint8Array,
    override readonly cause: unknown,
  ) {
    const type = cause instanceof Error ? cause.name : typeof cause;
    const msg = cause instanceof Error ? cause.message : String(cause);
    super(`cannot deserialize ${describePosition(source, position)} (${preview(value)}): ${type}: ${msg}`, { cause });
    this.errorType = type;
  }
}
