import type { PartEncoder } from './PartEncoder.js';

/**
 * A line-oriented encoder: JSON lines, or a serde's text followed by a delimiter. Records are
 * kept as strings (or byte arrays) and joined into one buffer when taken.
 * @internal
 */
export class LineEncoder<T> implements PartEncoder<T> {
  private strings: string[] = [];
  private binary: Uint8Array[] = [];
  private bytes = 0;
  private readonly delimiterBytes: Buffer;

  /**
   * @param toText - encodes a record as text (JSON lines); either this or `toBytes`
   * @param toBytes - encodes a record as bytes (serde formats)
   * @param delimiter - appended after each record
   */
  constructor(
    private readonly toText: ((value: T) => string) | undefined,
    private readonly toBytes: ((value: T) => Uint8Array) | undefined,
    private readonly delimiter: string,
  ) {
    this.delimiterBytes = Buffer.from(delimiter, 'utf8');
  }

  begin(): undefined {
    return undefined;
  }

  add(value: T): void {
    if (this.toText !== undefined) {
      const s = this.toText(value);
      this.strings.push(s);
      this.bytes += Buffer.byteLength(s, 'utf8') + this.delimiterBytes.length;
    } else {
      const b = (this.toBytes as (value: T) => Uint8Array)(value);
      this.binary.push(b, this.delimiterBytes);
      this.bytes += b.byteLength + this.delimiterBytes.length;
    }
  }

  get readyBytes(): number {
    return this.bytes;
  }

  take(): Uint8Array | undefined {
    if (this.bytes === 0) return undefined;
    let out: Buffer;
    if (this.toText !== undefined) {
      this.strings.push('');
      out = Buffer.from(this.strings.join(this.delimiter), 'utf8');
      this.strings = [];
    } else {
      out = Buffer.concat(this.binary, this.bytes);
      this.binary = [];
    }
    this.bytes = 0;
    return out;
  }

  sync(): boolean {
    return true;
  }

  end(): Uint8Array | undefined {
    return this.take();
  }
}
