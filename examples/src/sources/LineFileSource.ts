import { type FileHandle, open } from 'node:fs/promises';
import {
  type InputStatus,
  jsonSerde,
  type ReaderOutput,
  type Serde,
  type Source,
  type SourceReader,
  type SourceSplit,
  type SplitEnumeratorContext,
  SplitQueueReader,
  StaticSplitEnumerator,
} from '@weir/core';

/**
 * One file of a {@link LineFileSource} and the byte offset of its next unread line: what a
 * checkpoint stores, so a restored job resumes at the first line it had not emitted.
 * @public
 */
export interface LineFileSplit extends SourceSplit {
  /** Path of the file. */
  readonly path: string;
  /** Byte offset of the next line to emit. */
  offset: number;
}

/**
 * Options of {@link LineFileSource}.
 * @public
 */
export interface LineFileSourceOptions {
  /** Bytes read from the file at a time (default 256 KiB); a longer line grows the buffer. */
  readonly chunkSize?: number;
}

const RESOLVED = Promise.resolve();
const LF = 0x0a;
const CR = 0x0d;

/**
 * A bounded source of the lines of text files (JSONL, CSV...), read with `node:fs` in chunks:
 * one split per file, files spread over the parallel readers, each line emitted as a string
 * without its line terminator (`\n` or `\r\n`). A final line without a terminator is emitted
 * too; a UTF-8 byte-order mark at the start of a file is skipped. Lines are cut on the byte
 * `\n`, which never occurs inside a multi-byte UTF-8 character, so characters split across
 * chunks decode correctly. Watermarks are generated after every line, so a re-run over the
 * same files gives the same event time, hence the same results.
 *
 * A minimal stand-in until the connectors package ships its file source.
 *
 * @example
 * ```ts
 * const lines = env.fromSource(new LineFileSource('events.jsonl'), WatermarkStrategy.noWatermarks<string>(), 'events');
 * ```
 * @public
 */
export class LineFileSource implements Source<string, LineFileSplit, LineFileSplit[]> {
  /** The files end, so the source does. */
  readonly boundedness = 'bounded' as const;
  /** Deterministic event time: the watermark generator runs after every line. */
  readonly emitsWatermarkPerRecord = true;
  /** At most one reader per file. */
  readonly maxParallelism: number;
  /** Splits are stored as JSON. */
  readonly splitSerde: Serde<LineFileSplit> = jsonSerde<LineFileSplit>();
  /** The enumerator's unassigned splits, as JSON. */
  readonly enumeratorStateSerde: Serde<LineFileSplit[]> = jsonSerde<LineFileSplit[]>();
  /** The files, in order. */
  readonly paths: readonly string[];
  private readonly chunkSize: number;

  /**
   * @param paths - one file or several (one split each)
   * @param options - read options
   */
  constructor(paths: string | readonly string[], options: LineFileSourceOptions = {}) {
    this.paths = typeof paths === 'string' ? [paths] : [...paths];
    if (this.paths.length === 0) throw new RangeError('LineFileSource needs at least one file');
    this.maxParallelism = this.paths.length;
    this.chunkSize = options.chunkSize ?? 256 * 1024;
    if (!Number.isInteger(this.chunkSize) || this.chunkSize < 1) throw new RangeError(`chunkSize must be a positive integer, got ${this.chunkSize}`);
  }

  /** One split per file, starting at offset 0. */
  createEnumerator(ctx: SplitEnumeratorContext<LineFileSplit>): StaticSplitEnumerator<LineFileSplit> {
    return new StaticSplitEnumerator(
      ctx,
      this.paths.map((path, i) => ({ splitId: `file-${i}:${path}`, path, offset: 0 })),
    );
  }

  /** The splits not yet assigned when the checkpoint was taken. */
  restoreEnumerator(ctx: SplitEnumeratorContext<LineFileSplit>, checkpoint: LineFileSplit[]): StaticSplitEnumerator<LineFileSplit> {
    return new StaticSplitEnumerator(ctx, checkpoint);
  }

  /** A reader that reads its files one after the other. */
  createReader(): SourceReader<string, LineFileSplit> {
    return new LineFileReader(this.chunkSize);
  }
}

/** The file being read: a buffer holding bytes `[fileOffset(pos), filePos)` of it in `[pos, end)`. */
interface OpenFile {
  readonly split: LineFileSplit;
  readonly handle: FileHandle;
  buf: Buffer;
  pos: number;
  end: number;
  /** File position of the byte after `buf[end - 1]`. */
  filePos: number;
  eof: boolean;
}

/** Reads its splits' files in order, one line per poll; I/O runs between polls. */
class LineFileReader extends SplitQueueReader<string, LineFileSplit> {
  private file: OpenFile | undefined;
  /** The open or read in flight; `pollNext` returns 'nothing' until it settles. */
  private io: Promise<void> | undefined;
  private failure: unknown;

  constructor(private readonly chunkSize: number) {
    super();
  }

  pollNext(output: ReaderOutput<string>): InputStatus {
    if (this.failure !== undefined) throw this.failure;
    if (this.io !== undefined) return 'nothing';
    const f = this.file;
    if (f === undefined) {
      const split = this.splits[0];
      if (split === undefined) return this.noMoreSplits ? 'end' : 'nothing';
      this.track(this.openFile(split));
      return 'nothing';
    }
    const nl = f.buf.indexOf(LF, f.pos);
    if (nl !== -1 && nl < f.end) {
      this.emit(output, f, nl, nl + 1);
      return 'more';
    }
    if (!f.eof) {
      this.track(this.fill(f));
      return 'nothing';
    }
    if (f.pos < f.end) {
      this.emit(output, f, f.end, f.end);
      return 'more';
    }
    this.file = undefined;
    this.splits.shift();
    this.track(f.handle.close());
    return 'nothing';
  }

  /** Emits the line `[pos, lineEnd)` (minus a trailing CR) and moves past `next`. */
  private emit(output: ReaderOutput<string>, f: OpenFile, lineEnd: number, next: number): void {
    let e = lineEnd;
    if (e > f.pos && f.buf[e - 1] === CR) e--;
    let line = f.buf.toString('utf8', f.pos, e);
    if (f.split.offset === 0 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    f.split.offset += next - f.pos;
    f.pos = next;
    output.collect(line);
  }

  private track(p: Promise<void>): void {
    this.io = p.then(
      () => {
        this.io = undefined;
      },
      (e: unknown) => {
        this.io = undefined;
        this.failure = e;
      },
    );
  }

  private async openFile(split: LineFileSplit): Promise<void> {
    const handle = await open(split.path, 'r');
    const f: OpenFile = { split, handle, buf: Buffer.allocUnsafe(this.chunkSize), pos: 0, end: 0, filePos: split.offset, eof: false };
    this.file = f;
  }

  /** Moves the unread bytes to the front (growing the buffer if a line fills it) and reads more. */
  private async fill(f: OpenFile): Promise<void> {
    if (f.pos > 0) {
      f.buf.copy(f.buf, 0, f.pos, f.end);
      f.end -= f.pos;
      f.pos = 0;
    }
    if (f.end === f.buf.length) {
      const bigger = Buffer.allocUnsafe(f.buf.length * 2);
      f.buf.copy(bigger, 0, 0, f.end);
      f.buf = bigger;
    }
    const { bytesRead } = await f.handle.read(f.buf, f.end, f.buf.length - f.end, f.filePos);
    f.end += bytesRead;
    f.filePos += bytesRead;
    if (bytesRead === 0) f.eof = true;
  }

  override isAvailable(): Promise<void> {
    if (this.io !== undefined) return this.io;
    if (this.failure !== undefined) return RESOLVED;
    return super.isAvailable();
  }

  override async close(): Promise<void> {
    await this.io;
    const f = this.file;
    this.file = undefined;
    await f?.handle.close();
  }
}
