/**
 * Bytes that are not in the Confluent wire format: shorter than its 5-byte header, or a first
 * byte other than the magic byte `0`.
 * @public
 */
export class WireFormatError extends Error {
  /** Always `'WireFormatError'`. */
  override readonly name = 'WireFormatError';
}
