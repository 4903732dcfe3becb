import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import type { TwoPhaseCommittingSinkWriter } from '@weir/core';
import type { FileCommittable } from '../FileCommittable.js';
import { fsx } from './fsx.js';
import type { PartEncoder } from './PartEncoder.js';
import type { FileSinkWriterConfig } from './FileSinkWriterConfig.js';

/** One part file being written. */
interface Part<T> {
  readonly n: number;
  /** Where the bytes go: the in-progress file (exactly-once) or the final file (at-least-once). */
  readonly path: string;
  readonly encoder: PartEncoder<T>;
  readonly openedAt: number;
  fh: FileHandle | undefined;
  records: number;
  /** Bytes handed to the file so far. */
  bytes: number;
}

const DEFAULT_MAX_BYTES = 128 * 1024 * 1024;

/**
 * The writer of one subtask of a {@link FileSink}. `write` encodes synchronously into the current
 * part's encoder; encoded bytes are written in chunks by a serialized queue of asynchronous file
 * operations (one Promise per chunk or file operation, never per record). The writer reports
 * itself unavailable while more than `maxBufferedBytes` are queued.
 * @internal
 */
export class FileSinkWriter<T> implements TwoPhaseCommittingSinkWriter<T, FileCommittable> {
  private part: Part<T> | undefined;
  private nextN = 0;
  /** Parts closed into pending files since the last prepareCommit. */
  private toCommit: FileCommittable[] = [];
  private tail: Promise<void> = Promise.resolve();
  private queuedBytes = 0;
  private failure: Error | undefined;
  private waiters: Array<() => void> = [];
  /** Directory entries changed since the last directory fsync. */
  private dirDirty = false;
  private closed = false;
  private readonly maxRecords: number;
  private readonly maxBytes: number;
  private readonly intervalMs: number;

  constructor(private readonly cfg: FileSinkWriterConfig<T>) {
    const r = cfg.rolling;
    const none = r.maxRecords === undefined && r.maxBytes === undefined && r.rolloverIntervalMs === undefined;
    this.maxRecords = r.maxRecords ?? Number.POSITIVE_INFINITY;
    this.maxBytes = r.maxBytes ?? (none ? DEFAULT_MAX_BYTES : Number.POSITIVE_INFINITY);
    this.intervalMs = r.rolloverIntervalMs ?? Number.POSITIVE_INFINITY;
  }

  write(value: T): void {
    if (this.failure !== undefined) throw this.failure;
    const part = this.part ?? this.openPart();
    part.encoder.add(value);
    part.records++;
    if (part.encoder.readyBytes >= this.cfg.chunkBytes) this.writeOut(part);
    if (
      part.records >= this.maxRecords ||
      part.bytes + part.encoder.readyBytes >= this.maxBytes ||
      (this.intervalMs !== Number.POSITIVE_INFINITY && this.cfg.clock.now() - part.openedAt >= this.intervalMs)
    ) {
      this.closePart();
    }
  }

  isAvailable(): boolean {
    return this.failure !== undefined || this.queuedBytes < this.cfg.maxBufferedBytes;
  }

  whenAvailable(): Promise<void> {
    if (this.isAvailable()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Exactly-once: closes the current part into a pending file and returns the committables of
   * every part closed since the last call, once their files and the directory are fsynced.
   * At-least-once: makes everything written so far durable and returns nothing.
   */
  prepareCommit(): Promise<FileCommittable[]> {
    if (this.failure !== undefined) throw this.failure;
    const part = this.part;
    if (this.cfg.exactlyOnce) {
      if (part !== undefined) this.closePart();
      const list = this.toCommit;
      this.toCommit = [];
      return this.barrier().then(() => list);
    }
    if (part !== undefined) {
      if (part.encoder.sync()) {
        this.writeOut(part);
        this.enqueue(0, async () => {
          await part.fh?.sync();
        });
      } else {
        this.closePart();
      }
    }
    return this.barrier().then(() => []);
  }

  /**
   * Writes out what is buffered. At the end of input in at-least-once mode the current part is
   * closed; in exactly-once mode the part stays open for the final `prepareCommit`.
   */
  flush(endOfInput: boolean): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const part = this.part;
    if (part !== undefined) {
      if (!this.cfg.exactlyOnce && endOfInput) this.closePart();
      else this.writeOut(part);
    }
    return this.barrier();
  }

  /**
   * Releases the writer. An open in-progress part and parts closed but never handed out by
   * `prepareCommit` (exactly-once) are deleted: no checkpoint can reference them. In
   * at-least-once mode the open part is ended properly (it is visible already).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail;
    const part = this.part;
    this.part = undefined;
    if (this.cfg.exactlyOnce) {
      if (part !== undefined) {
        await part.fh?.close().catch(() => {});
        await unlink(part.path).catch(() => {});
      }
      for (const c of this.toCommit.splice(0)) await unlink(c.pending).catch(() => {});
    } else if (part !== undefined && part.fh !== undefined) {
      try {
        const rest = part.encoder.end();
        if (rest !== undefined && this.failure === undefined) await fsx.writeFully(part.fh, rest);
        await part.fh.sync();
      } catch {
        // The job is stopping; at-least-once output is re-written after a restore anyway.
      } finally {
        await part.fh.close().catch(() => {});
      }
    }
    this.wake();
  }

  private openPart(): Part<T> {
    const names = this.cfg.names;
    const n = this.nextN++;
    const encoder = this.cfg.encoder();
    const part: Part<T> = {
      n,
      path: this.cfg.exactlyOnce ? names.inProgress(n) : names.final(n),
      encoder,
      openedAt: this.intervalMs === Number.POSITIVE_INFINITY ? 0 : this.cfg.clock.now(),
      fh: undefined,
      records: 0,
      bytes: 0,
    };
    this.part = part;
    const header = encoder.begin();
    if (header !== undefined) part.bytes += header.byteLength;
    this.dirDirty = true;
    this.enqueue(header?.byteLength ?? 0, async () => {
      // 'wx': never overwrite; names are unique per attempt, subtask and part number.
      part.fh = await open(part.path, 'wx');
      if (header !== undefined) await fsx.writeFully(part.fh, header);
    });
    return part;
  }

  private writeOut(part: Part<T>): void {
    const chunk = part.encoder.take();
    if (chunk === undefined) return;
    part.bytes += chunk.byteLength;
    this.enqueue(chunk.byteLength, () => fsx.writeFully(part.fh as FileHandle, chunk));
  }

  /** Ends the current part: the rest of its bytes, fsync, close, and (exactly-once) rename to pending. */
  private closePart(): void {
    const part = this.part as Part<T>;
    this.part = undefined;
    const rest = part.encoder.end();
    if (rest !== undefined) {
      part.bytes += rest.byteLength;
      this.enqueue(rest.byteLength, () => fsx.writeFully(part.fh as FileHandle, rest));
    }
    const names = this.cfg.names;
    const exactlyOnce = this.cfg.exactlyOnce;
    this.enqueue(0, async () => {
      const fh = part.fh as FileHandle;
      await fh.sync();
      await fh.close();
      part.fh = undefined;
      if (exactlyOnce) await rename(part.path, names.pending(part.n));
    });
    this.dirDirty = true;
    if (exactlyOnce) this.toCommit.push({ pending: names.pending(part.n), final: names.final(part.n), attempt: names.attempt });
  }

  /** A point in the queue: resolves once every operation before it ran (directory fsynced). */
  private barrier(): Promise<void> {
    if (this.dirDirty) {
      this.dirDirty = false;
      const dir = this.cfg.names.dir;
      this.enqueue(0, () => fsx.fsyncDir(dir));
    }
    return this.tail.then(() => {
      if (this.failure !== undefined) throw this.failure;
    });
  }

  private enqueue(bytes: number, op: () => Promise<void>): void {
    this.queuedBytes += bytes;
    this.tail = this.tail.then(async () => {
      if (this.failure === undefined) {
        try {
          await op();
        } catch (e) {
          this.failure = e instanceof Error ? e : new Error(String(e));
        }
      }
      this.queuedBytes -= bytes;
      if (this.waiters.length > 0 && (this.failure !== undefined || this.queuedBytes <= this.cfg.maxBufferedBytes / 2)) this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }
}
