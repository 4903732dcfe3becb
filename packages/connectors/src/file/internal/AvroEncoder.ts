import { deflateRawSync } from 'node:zlib';
import type avro from 'avsc';
import { avroContainer } from './avroContainer.js';
import type { PartEncoder } from './PartEncoder.js';

/**
 * Encodes records into an Avro Object Container File: records are encoded with avsc straight
 * into a block buffer; a block is closed (prefix, optional deflate, sync marker) once it reaches
 * the target size.
 * @internal
 */
export class AvroEncoder<T> implements PartEncoder<T> {
  private block: Buffer;
  private pos = 0;
  private count = 0;
  private ready: Buffer[] = [];
  private readyLength = 0;
  private sync16: Buffer | undefined;

  constructor(
    private readonly type: avro.Type,
    private readonly codec: 'null' | 'deflate',
    private readonly blockBytes: number,
  ) {
    this.block = Buffer.allocUnsafe(Math.max(1024, blockBytes + (blockBytes >> 2)));
  }

  begin(): Uint8Array {
    const { bytes, sync } = avroContainer.header(this.type.schema() as object, this.codec);
    this.sync16 = sync;
    return bytes;
  }

  add(value: T): void {
    let p: number;
    try {
      p = this.type.encode(value, this.block, this.pos);
    } catch (e) {
      throw new TypeError(`record does not match the Avro schema: ${describeInvalid(this.type, value) ?? (e as Error).message}`);
    }
    while (p < 0) {
      const bigger = Buffer.allocUnsafe(Math.max(this.block.length * 2, this.block.length - p + 1024));
      this.block.copy(bigger, 0, 0, this.pos);
      this.block = bigger;
      p = this.type.encode(value, this.block, this.pos);
    }
    this.pos = p;
    this.count++;
    if (this.pos >= this.blockBytes) this.closeBlock();
  }

  private closeBlock(): void {
    if (this.count === 0) return;
    const raw = this.block.subarray(0, this.pos);
    const data = this.codec === 'deflate' ? deflateRawSync(raw) : Buffer.from(raw);
    const prefix = avroContainer.blockPrefix(this.count, data.length);
    this.ready.push(prefix, data, this.sync16 as Buffer);
    this.readyLength += prefix.length + data.length + 16;
    this.pos = 0;
    this.count = 0;
  }

  get readyBytes(): number {
    return this.readyLength;
  }

  take(): Uint8Array | undefined {
    if (this.readyLength === 0) return undefined;
    const out = Buffer.concat(this.ready, this.readyLength);
    this.ready = [];
    this.readyLength = 0;
    return out;
  }

  sync(): boolean {
    this.closeBlock();
    return true;
  }

  end(): Uint8Array | undefined {
    this.closeBlock();
    return this.take();
  }
}

/** The first path at which `value` is invalid for `type`, for error messages. */
function describeInvalid(type: avro.Type, value: unknown): string | undefined {
  let found: string | undefined;
  type.isValid(value, {
    errorHook: (path: string[], v: unknown, t: avro.Type) => {
      if (found === undefined) {
        const where = path.length > 0 ? `field '${path.join('.')}'` : 'the record';
        found = `${where} has value ${safeJson(v)}, which is not a valid ${String(t.typeName ?? t)}`;
      }
    },
  });
  return found;
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
