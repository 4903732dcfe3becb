import { readdir, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Committer } from '@weir/core';
import type { FileCommittable } from '../FileCommittable.js';
import { fsx } from './fsx.js';
import type { PartNames } from './PartNames.js';

/**
 * Commits {@link FileCommittable}s by renaming pending files to their final names, and cleans
 * leftovers of other attempts once that is safe (see {@link FileSink} for the invariants).
 * @internal
 */
export class FileCommitter implements Committer<FileCommittable> {
  private swept = false;

  /**
   * @param names - names of this sink (directory, prefix, current attempt)
   * @param onSweep - told about every leftover deleted (for logging and tests)
   */
  constructor(
    private readonly names: PartNames,
    private readonly onSweep: ((path: string) => void) | undefined,
  ) {}

  async commit(committables: readonly FileCommittable[]): Promise<void> {
    let current = false;
    const dirs = new Set<string>();
    for (const c of committables) {
      await commitOne(c);
      dirs.add(dirname(c.final));
      if (c.attempt === this.names.attempt) current = true;
    }
    for (const d of dirs) await fsx.fsyncDir(d);
    // A committable of this attempt means a checkpoint of this attempt completed (or the job
    // ended without checkpointing): every subtask has opened, so the restored committables were
    // committed, and any hidden file of another attempt is garbage.
    if (current && !this.swept) {
      this.swept = true;
      await this.sweep();
    }
  }

  /** Deletes hidden in-progress and pending files of this prefix written by other attempts. */
  private async sweep(): Promise<void> {
    const dir = this.names.dir;
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch (e) {
      if (fsx.code(e) === 'ENOENT') return;
      throw e;
    }
    let removed = false;
    for (const name of entries) {
      const parsed = this.names.parseHidden(name);
      if (parsed === undefined || parsed.attempt === this.names.attempt) continue;
      const path = join(dir, name);
      try {
        await unlink(path);
        removed = true;
        this.onSweep?.(path);
      } catch (e) {
        // Another subtask's committer swept it first.
        if (fsx.code(e) !== 'ENOENT') throw e;
      }
    }
    if (removed) await fsx.fsyncDir(dir);
  }
}

/** Renames pending to final; a second commit of the same file is a no-op. */
async function commitOne(c: FileCommittable): Promise<void> {
  try {
    await rename(c.pending, c.final);
  } catch (e) {
    if (fsx.code(e) !== 'ENOENT') throw e;
    if (await fsx.exists(c.final)) return; // committed before (restore, or a concurrent commit)
    throw new Error(
      `FileSink cannot commit ${c.final}: neither it nor its pending file ${c.pending} exists (deleted outside the job?)`,
    );
  }
}
