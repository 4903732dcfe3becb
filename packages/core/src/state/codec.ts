import type { KeyType } from '../api/types.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A growable byte buffer for snapshot encoding. @internal */
export class BinaryWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  /** @param initialCapacity - bytes to allocate up front (grows by doubling) */
  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(Math.max(16, initialCapacity));
    this.view = new DataView(this.buf.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  /** Drops everything written after `position` (a value of {@link BinaryWriter.length}). */
  truncate(position: number): void {
    this.pos = position;
  }

  /**
   * Reserves a 5-byte length slot for bytes written next; {@link BinaryWriter.endLength} fills
   * it with a padded varint, which {@link BinaryReader.varint} reads like any other. Saves
   * encoding an entry into a temporary buffer first.
   */
  beginLength(): number {
    this.ensure(5);
    const p = this.pos;
    this.pos += 5;
    return p;
  }

  /** Completes a slot from {@link BinaryWriter.beginLength}. */
  endLength(slot: number): void {
    let len = this.pos - slot - 5;
    if (len > 0xffffffff) throw new RangeError('entry larger than 4 GiB');
    const b = this.buf;
    for (let i = 0; i < 4; i++) {
      b[slot + i] = (len & 0x7f) | 0x80;
      len = Math.floor(len / 0x80);
    }
    b[slot + 4] = len & 0x7f;
  }

  /** Writes a value exactly as the default JSON serde encodes it, length-prefixed. */
  json(value: unknown): void {
    const slot = this.beginLength();
    if (value !== undefined) {
      const text = JSON.stringify(value);
      this.ensure(text.length * 3);
      this.pos += encoder.encodeInto(text, this.buf.subarray(this.pos)).written;
    }
    this.endLength(slot);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  varint(v: number): void {
    if (!(v >= 0) || !Number.isSafeInteger(v)) throw new RangeError(`varint out of range: ${v}`);
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  string(s: string): void {
    const n = s.length;
    if (n < 43) {
      // At most 126 UTF-8 bytes: the length fits one varint byte, encode in place.
      this.ensure(1 + n * 3);
      const at = this.pos++;
      const written = encoder.encodeInto(s, this.buf.subarray(this.pos)).written;
      this.buf[at] = written;
      this.pos += written;
      return;
    }
    const slot = this.beginLength();
    this.ensure(n * 3);
    this.pos += encoder.encodeInto(s, this.buf.subarray(this.pos)).written;
    this.endLength(slot);
  }

  /** Writes a key or namespace with a type tag, so `1` and `'1'` stay distinct. */
  key(k: KeyType): void {
    switch (typeof k) {
      case 'string':
        this.u8(0);
        this.string(k);
        return;
      case 'number':
        this.u8(1);
        this.f64(k);
        return;
      case 'boolean':
        this.u8(k ? 3 : 2);
        return;
      case 'bigint':
        this.u8(4);
        this.string(k.toString());
        return;
    }
  }

  /**
   * Writes `text` as UTF-8 with a varint length prefix, given its UTF-8 length (e.g. from
   * `Buffer.byteLength`), without a temporary buffer.
   */
  utf8(text: string, byteLength: number): void {
    this.varint(byteLength);
    this.ensure(byteLength);
    // Equal lengths mean ASCII, which Latin-1 writes as a plain copy.
    const encoding = byteLength === text.length ? 'latin1' : 'utf8';
    const written = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, byteLength).write(text, 0, byteLength, encoding);
    if (written !== byteLength) throw new RangeError('utf8: byteLength does not match the text');
    this.pos += written;
  }

  /** Appends bytes as they are (no length prefix). */
  append(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** The bytes written so far, as a view (valid until the next write). */
  written(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /**
   * The bytes written. When the buffer is exactly full it is returned as is (no copy), so
   * nothing may be written after `finish()`.
   */
  finish(): Uint8Array {
    return this.pos === this.buf.length ? this.buf : this.buf.slice(0, this.pos);
  }
}

/** Reads what {@link BinaryWriter} wrote; throws on truncated input. @internal */
export class BinaryReader {
  private pos = 0;
  private readonly view: DataView;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new RangeError('truncated state snapshot');
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++] as number;
  }

  varint(): number {
    let result = 0;
    let mul = 1;
    for (;;) {
      const b = this.u8();
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 0x80;
      if (mul > 2 ** 56) throw new RangeError('malformed varint in state snapshot');
    }
  }

  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** Read position. */
  get position(): number {
    return this.pos;
  }

  /** Reads a value written by {@link BinaryWriter.json} (or by the JSON serde, length-prefixed). */
  json(): unknown {
    const n = this.varint();
    this.need(n);
    if (n === 0) return undefined;
    const text = decoder.decode(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return JSON.parse(text);
  }

  /** Reads `n` little-endian f64s into an array. */
  f64Array(n: number): Float64Array {
    this.need(8 * n);
    const out = new Float64Array(n);
    const v = this.view;
    for (let i = 0, p = this.pos; i < n; i++, p += 8) out[i] = v.getFloat64(p, true);
    this.pos += 8 * n;
    return out;
  }

  /** Reads a string written by {@link BinaryWriter.utf8} (or {@link BinaryWriter.bytes} of UTF-8). */
  utf8(): string {
    const n = this.varint();
    this.need(n);
    const b = this.buf;
    const s = Buffer.from(b.buffer, b.byteOffset + this.pos, n).toString('utf8');
    this.pos += n;
    return s;
  }

  /** The next `n` bytes as a view (no length prefix). */
  raw(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  bytes(): Uint8Array {
    const n = this.varint();
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    return decoder.decode(this.bytes());
  }

  key(): KeyType {
    const tag = this.u8();
    switch (tag) {
      case 0:
        return this.string();
      case 1:
        return this.f64();
      case 2:
        return false;
      case 3:
        return true;
      case 4:
        return BigInt(this.string());
      default:
        throw new RangeError(`malformed key tag ${tag} in state snapshot`);
    }
  }
}
