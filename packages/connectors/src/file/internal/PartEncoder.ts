/**
 * Encodes the records of one part file, synchronously. The writer takes encoded bytes in chunks
 * and writes them asynchronously.
 * @internal
 */
export interface PartEncoder<T> {
  /** Bytes that start the file (a header), or none. */
  begin(): Uint8Array | undefined;
  /** Encodes one record into the encoder's buffer. Throws if the record cannot be encoded. */
  add(value: T): void;
  /** Encoded bytes ready to be taken. */
  readonly readyBytes: number;
  /** Takes the ready bytes (undefined when none). */
  take(): Uint8Array | undefined;
  /**
   * Makes everything added so far ready (closes an Avro block). Returns false when the format
   * cannot be made readable without ending the file (Arrow).
   */
  sync(): boolean;
  /** Ends the file: the remaining bytes, footer included. */
  end(): Uint8Array | undefined;
}
