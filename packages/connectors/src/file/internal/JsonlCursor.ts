import type { InputStatus, SourceOutput } from '@weir/core';
import type { FilePosition } from '../FilePosition.js';
import { FileFormatError } from '../FileFormatError.js';
import type { FileSplit } from '../FileSplit.js';
import type { MalformedRecord } from '../MalformedRecord.js';
import { FileWindow } from './FileWindow.js';
import type { SourceCounters } from './SourceCounters.js';
import type { SplitCursor } from './SplitCursor.js';
import type { JsonlLineHandler } from './JsonlLineHandler.js';

const NL = 0x0a;

/**
 * Reads a JSON-lines file from a byte offset, one line per poll. The position after a line is
 * the offset of the next one, so a restored reader resumes at the first line not emitted.
 * @internal
 */
export class JsonlCursor<T> implements SplitCursor<T> {
  private readonly win: FileWindow;
  private offset: number;
  private line: number;
  /** Offset up to which the current line was scanned for a newline without finding one. */
  private scanned: number;

  constructor(
    private readonly split: FileSplit,
    private readonly handler: JsonlLineHandler<T>,
    private readonly counters: SourceCounters,
    chunk: number,
  ) {
    const p = split.position;
    if (p.kind !== 'jsonl') throw new FileFormatError(split.path, `a ${p.kind} position cannot resume a JSONL file`);
    this.offset = p.offset;
    this.line = p.line;
    this.scanned = p.offset;
    this.win = new FileWindow(split.path, chunk);
  }

  poll(out: SourceOutput<T>): InputStatus {
    const w = this.win;
    if (w.failure !== undefined) throw new FileFormatError(this.split.path, `read failed: ${w.failure.message}`, `byte ${this.offset}`);
    if (!w.isOpen) return 'nothing';
    const pos = this.offset;
    if (pos >= w.size) {
      if (pos > w.size) throw new FileFormatError(this.split.path, `file is shorter (${w.size} bytes) than the checkpointed position`, `byte ${pos}`);
      return 'end';
    }
    if (!w.ensure(pos, 1)) return 'nothing';
    const buf = w.buf;
    const from = Math.max(pos, this.scanned) - w.start;
    const nl = buf.indexOf(NL, from);
    let lineEnd: number;
    let next: number;
    if (nl >= 0) {
      lineEnd = w.start + nl;
      next = lineEnd + 1;
    } else if (w.end >= w.size) {
      lineEnd = w.size; // last line without a line break
      next = w.size;
    } else {
      this.scanned = w.end;
      if (w.end - pos > this.handler.maxLineBytes) {
        throw new FileFormatError(this.split.path, `line ${this.line} is longer than ${this.handler.maxLineBytes} bytes`, `byte ${pos}`);
      }
      w.ensure(pos, 2 * (w.end - pos) + 1); // a long line: grow the window geometrically
      return 'nothing';
    }
    let s = pos - w.start;
    let e = lineEnd - w.start;
    if (e > s && buf[e - 1] === 0x0d) e--; // CRLF
    if (pos === 0 && e - s >= 3 && buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf) s += 3; // BOM
    const lineNumber = this.line;
    this.offset = next;
    this.scanned = next;
    this.line++;
    w.prefetch(next);
    const text = buf.toString('utf8', s, e);
    if (text.trim().length === 0) return 'more';
    let value: unknown;
    try {
      value = this.handler.parse(text);
    } catch (err) {
      this.counters.malformed++;
      const rec: MalformedRecord = { path: this.split.path, line: text, lineNumber, offset: pos, reason: (err as Error)?.message ?? String(err) };
      const r = this.handler.malformed(rec);
      if (r !== undefined) {
        this.counters.records++;
        out.collect(r.value);
      }
      return 'more';
    }
    this.counters.records++;
    out.collect(this.handler.ok(value));
    return 'more';
  }

  ready(): Promise<void> {
    return this.win.ready();
  }

  position(): FilePosition {
    return { kind: 'jsonl', offset: this.offset, line: this.line };
  }

  close(): Promise<void> {
    return this.win.close();
  }
}
