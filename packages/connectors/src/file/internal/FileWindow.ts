import { type FileHandle, open } from 'node:fs/promises';
import { fsx } from './fsx.js';

const RESOLVED = Promise.resolve();
const EMPTY = Buffer.alloc(0);

/**
 * A sliding window over a file for synchronous parsers: `buf` holds the bytes from file offset
 * `start`. A parser asks `ensure(pos, len)`; if the bytes are not there it gets `false`, an
 * asynchronous read is started (at most one at a time), and `ready()` resolves when it is done.
 * Reads are of `chunk` bytes at least, and `prefetch` reads ahead, so parsing rarely waits.
 * @internal
 */
export class FileWindow {
  buf: Buffer = EMPTY;
  start = 0;
  /** File size, known once open. */
  size = -1;
  private fh: FileHandle | undefined;
  private inflight: Promise<void> | undefined;
  /** An I/O error, rethrown by the parser. */
  failure: Error | undefined;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly chunk: number,
  ) {
    this.inflight = this.track(
      (async () => {
        const fh = await open(path, 'r');
        if (this.closed) {
          await fh.close();
          return;
        }
        this.fh = fh;
        this.size = (await fh.stat()).size;
      })(),
    );
  }

  /** Whether the file is open (size known). */
  get isOpen(): boolean {
    return this.size >= 0;
  }

  /** File offset just past the buffered bytes. */
  get end(): number {
    return this.start + this.buf.length;
  }

  /**
   * Whether `[pos, pos + len)` (clamped to the file size) is buffered; if not, starts reading it.
   */
  ensure(pos: number, len: number): boolean {
    if (this.size < 0) return false;
    const want = Math.min(pos + len, this.size);
    if (pos >= this.start && want <= this.end) return true;
    this.fetch(pos, want);
    return false;
  }

  /** Starts reading ahead when less than half a chunk is buffered past `pos`. */
  prefetch(pos: number): void {
    if (this.inflight === undefined && this.size >= 0 && this.end < this.size && this.end - pos < this.chunk / 2 && pos >= this.start) {
      this.fetch(pos, this.end + this.chunk);
    }
  }

  /** Resolves when the read in flight (if any) is done. */
  ready(): Promise<void> {
    return this.inflight ?? RESOLVED;
  }

  private fetch(pos: number, want: number): void {
    if (this.inflight !== undefined || this.failure !== undefined) return;
    const fh = this.fh as FileHandle;
    const keep = pos >= this.start && pos <= this.end;
    const from = keep ? this.end : pos;
    const to = Math.min(this.size, Math.max(want, from + this.chunk));
    this.inflight = this.track(
      (async () => {
        const data = await fsx.readAt(fh, from, to - from);
        if (data.length < to - from) throw new Error(`file shrank while being read (expected ${this.size} bytes)`);
        if (keep) {
          // Keep what the parser has not consumed yet (from `pos` on).
          const rest = this.buf.subarray(pos - this.start);
          this.buf = rest.length === 0 ? data : Buffer.concat([rest, data]);
          this.start = pos;
        } else {
          this.buf = data;
          this.start = from;
        }
      })(),
    );
  }

  private track(p: Promise<void>): Promise<void> {
    const t = p.then(
      () => {
        this.inflight = undefined;
      },
      (e: unknown) => {
        this.inflight = undefined;
        this.failure = e instanceof Error ? e : new Error(String(e));
      },
    );
    return t;
  }

  /** Closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    await this.inflight;
    const fh = this.fh;
    this.fh = undefined;
    this.buf = EMPTY;
    await fh?.close();
  }
}
