import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type Committer,
  jsonSerde,
  type Serde,
  type SinkWriterContext,
  type TwoPhaseCommittingSink,
  type TwoPhaseCommittingSinkWriter,
} from '@weir/core';

/**
 * A pre-committed part file: written and synced under a hidden pending name, renamed to its
 * final name on commit.
 * @public
 */
export interface PendingPart {
  /** The pending file (in the output directory). */
  readonly pending: string;
  /** The file's final name (in the output directory). */
  readonly final: string;
}

/**
 * Writes records as JSON lines into part files of a directory, exactly once with checkpoints
 * (two-phase commit): between two checkpoints each subtask buffers its records; on a checkpoint
 * barrier it writes them to a hidden `.part-…​.pending` file and syncs it (pre-commit); when the
 * checkpoint completes the file is renamed to `part-<checkpoint>-<subtask>.jsonl` (commit,
 * idempotent). After a crash, the restored job commits what the restored checkpoint
 * pre-committed and starts over from there; pending files of checkpoints that never completed
 * stay hidden and are never renamed. Without checkpointing, each subtask writes one part at the
 * end of its input (`part-end-<subtask>.jsonl`).
 *
 * Read the output with `cat dir/part-*.jsonl` (or sort the names: they order by checkpoint).
 * @public
 */
export class JsonLinesFileSink<T> implements TwoPhaseCommittingSink<T, PendingPart> {
  /** Committables are stored in checkpoints as JSON. */
  readonly committableSerde: Serde<PendingPart> = jsonSerde<PendingPart>();

  /** @param dir - the output directory (created when missing) */
  constructor(readonly dir: string) {}

  /** A writer buffering lines until the next pre-commit. */
  createWriter(ctx: SinkWriterContext): TwoPhaseCommittingSinkWriter<T, PendingPart> {
    mkdirSync(this.dir, { recursive: true });
    const dir = this.dir;
    const subtask = ctx.taskInfo.subtaskIndex;
    let lines: string[] = [];
    return {
      write(value: T): void {
        lines.push(JSON.stringify(value));
      },
      async prepareCommit(checkpointId: number): Promise<PendingPart[]> {
        // The cut is taken now; the write may finish later.
        const batch = lines;
        lines = [];
        if (batch.length === 0) return [];
        const id = checkpointId === Number.MAX_SAFE_INTEGER ? 'end' : String(checkpointId).padStart(8, '0');
        const final = `part-${id}-${String(subtask).padStart(3, '0')}.jsonl`;
        const pending = `.${final}.${ctx.attemptId}.pending`;
        const fh = await open(join(dir, pending), 'w');
        try {
          await fh.writeFile(`${batch.join('\n')}\n`);
          await fh.sync();
        } finally {
          await fh.close();
        }
        return [{ pending, final }];
      },
    };
  }

  /** A committer renaming pending files to their final names (again after a restore: idempotent). */
  createCommitter(): Committer<PendingPart> {
    const dir = this.dir;
    return {
      commit(parts: readonly PendingPart[]): void {
        mkdirSync(dir, { recursive: true });
        for (const p of parts) {
          const from = join(dir, p.pending);
          const to = join(dir, p.final);
          if (existsSync(from)) renameSync(from, to);
          else if (!existsSync(to)) throw new Error(`cannot commit ${p.final}: neither it nor ${p.pending} exists in ${dir}`);
        }
      },
    };
  }

  /** The committed part files, in order (checkpoint, then subtask). */
  static parts(dir: string): string[] {
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => f.startsWith('part-') && f.endsWith('.jsonl'))
      .sort()
      .map((f) => join(dir, f));
  }
}
