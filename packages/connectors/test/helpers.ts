import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Committer, SinkWriterContext, TwoPhaseCommittingSink, TwoPhaseCommittingSinkWriter } from '@weir/core';
import { tableFromIPC } from 'apache-arrow';
import avro from 'avsc';
import { afterEach } from 'vitest';

const dirs: string[] = [];

/** A fresh temporary directory, removed after the test. */
export async function tempDir(prefix = 'weir-files-'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** Names in `dir` (sorted), split into visible and hidden ones. */
export async function listDir(dir: string): Promise<{ visible: string[]; hidden: string[] }> {
  let names: string[] = [];
  try {
    names = (await readdir(dir)).sort();
  } catch {
    // no directory: nothing written
  }
  return { visible: names.filter((n) => !n.startsWith('.')), hidden: names.filter((n) => n.startsWith('.')) };
}

/** Reads every record of the visible files of `dir`, with independent decoders (not FileSource). */
export async function readVisible(dir: string, format: 'jsonl' | 'avro' | 'arrow'): Promise<unknown[]> {
  const { visible } = await listDir(dir);
  const out: unknown[] = [];
  for (const name of visible) {
    const path = join(dir, name);
    if (format === 'jsonl') {
      const text = await readFile(path, 'utf8');
      for (const line of text.split('\n')) if (line.length > 0) out.push(JSON.parse(line));
    } else if (format === 'avro') {
      out.push(...(await decodeAvroFile(path)));
    } else {
      const t = tableFromIPC(await readFile(path));
      for (const row of t) out.push((row as { toJSON(): unknown }).toJSON());
    }
  }
  return out;
}

/** Decodes an Avro container file with avsc's own decoder. */
export function decodeAvroFile(path: string): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const records: unknown[] = [];
    avro
      .createFileDecoder(path)
      .on('data', (r: unknown) => records.push(r))
      .on('end', () => resolve(records))
      .on('error', reject);
  });
}

/** Sorted copy of numbers. */
export function sorted(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

/** `[from..to]` */
export function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

/**
 * Wraps a two-phase-commit sink: the writers stop taking records (backpressure) after `gate`
 * records in total until `release()`, and the committer can be made to fail (a crash between a
 * checkpoint's completion and its commit).
 */
export class GatedSink<T, C> implements TwoPhaseCommittingSink<T, C> {
  readonly committableSerde;
  written = 0;
  failCommits = false;
  /** Delays the pre-commit results by this many ms (makes a checkpoint time out). */
  prepareDelayMs = 0;
  private released: boolean;
  private wakers: Array<() => void> = [];

  constructor(
    private readonly inner: TwoPhaseCommittingSink<T, C>,
    private readonly gate: number | undefined,
  ) {
    this.committableSerde = inner.committableSerde;
    this.released = gate === undefined;
  }

  release(): void {
    this.released = true;
    for (const w of this.wakers.splice(0)) w();
  }

  async createWriter(ctx: SinkWriterContext): Promise<TwoPhaseCommittingSinkWriter<T, C>> {
    const w = await this.inner.createWriter(ctx);
    const self = this;
    const open = (): boolean => self.released || self.written < (self.gate as number);
    return {
      write(value: T, ts: number | null) {
        self.written++;
        w.write(value, ts);
      },
      isAvailable: () => open() && (w.isAvailable?.() ?? true),
      whenAvailable: () => (open() ? (w.whenAvailable?.() ?? Promise.resolve()) : new Promise<void>((r) => self.wakers.push(r))),
      flush: (end: boolean) => w.flush?.(end),
      prepareCommit: (id: number) => {
        const res = w.prepareCommit(id);
        const delay = self.prepareDelayMs;
        if (delay <= 0) return res;
        return Promise.resolve(res).then((list) => new Promise<C[]>((r) => setTimeout(() => r(list), delay)));
      },
      close: () => w.close?.(),
    };
  }

  async createCommitter(ctx: SinkWriterContext): Promise<Committer<C>> {
    const c = await this.inner.createCommitter(ctx);
    return {
      commit: async (list) => {
        if (this.failCommits) throw new Error('injected crash before commit');
        await c.commit(list);
      },
      close: () => c.close?.(),
    };
  }
}

/** Waits until `cond()` holds (polling), or fails after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, ms = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
