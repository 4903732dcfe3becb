import type { Cancellable, SplitEnumerator, SplitEnumeratorContext } from '@weir/core';
import type { FileEnumeratorState } from '../FileEnumeratorState.js';
import type { FileSplit } from '../FileSplit.js';
import { listInputs } from './listInputs.js';
import type { FileEnumeratorConfig } from './FileEnumeratorConfig.js';

/**
 * Finds the files of a {@link FileSource} and assigns them to readers, round-robin. Bounded: the
 * inputs are listed once at start; each reader gets its share, then "no more splits".
 * Continuous: the inputs are listed every `monitorMs`; files not seen before become splits. The
 * state is the set of files seen (continuous) and the splits not yet assigned. Splits returned by
 * old readers on restore are marked seen, so monitoring never reads a file twice.
 * @internal
 */
export class FileEnumerator implements SplitEnumerator<FileSplit, FileEnumeratorState> {
  private readonly seen = new Set<string>();
  private readonly pendingFor: FileSplit[][];
  private readonly registered = new Set<number>();
  private listed: boolean;
  private next = 0;
  private periodic: Cancellable | undefined;

  constructor(
    private readonly ctx: SplitEnumeratorContext<FileSplit>,
    private readonly cfg: FileEnumeratorConfig,
    state: FileEnumeratorState | undefined,
  ) {
    this.pendingFor = Array.from({ length: ctx.parallelism }, () => []);
    this.listed = state?.listed ?? false;
    if (state !== undefined) {
      for (const p of state.seen) this.seen.add(p);
      for (const s of state.unassigned) this.enqueue(s);
    }
  }

  private get continuous(): boolean {
    return this.cfg.monitorMs !== undefined;
  }

  private enqueue(split: FileSplit): void {
    (this.pendingFor[this.next++ % this.ctx.parallelism] as FileSplit[]).push(split);
  }

  async start(): Promise<void> {
    if (this.continuous) {
      // The first listing comes after one interval; restored splits are added back before it.
      this.periodic = this.ctx.schedulePeriodic(this.cfg.monitorMs as number, () => this.discover());
      return;
    }
    if (!this.listed) {
      const files = await listInputs(this.cfg.inputs, this.cfg.filter, false);
      for (const path of files) this.enqueue(this.splitFor(path));
      this.cfg.counters.filesDiscovered += files.length;
      this.listed = true;
    }
  }

  private splitFor(path: string): FileSplit {
    return { splitId: path, path, position: this.cfg.initialPosition() };
  }

  /** Continuous mode: lists the inputs and assigns files not seen before. */
  private async discover(): Promise<void> {
    const files = await listInputs(this.cfg.inputs, this.cfg.filter, true);
    let found = 0;
    for (const path of files) {
      if (this.seen.has(path)) continue;
      this.seen.add(path);
      this.enqueue(this.splitFor(path));
      found++;
    }
    this.listed = true;
    this.cfg.counters.filesDiscovered += found;
    if (found > 0) for (const subtask of this.registered) this.assign(subtask);
  }

  private assign(subtask: number): void {
    const list = this.pendingFor[subtask];
    if (list !== undefined && list.length > 0) {
      this.pendingFor[subtask] = [];
      this.ctx.assignSplits(subtask, list);
    }
  }

  addReader(subtask: number): void {
    this.registered.add(subtask);
    this.assign(subtask);
    if (!this.continuous) this.ctx.signalNoMoreSplits(subtask);
  }

  addSplitsBack(splits: readonly FileSplit[], subtask: number): void {
    for (const s of splits) {
      this.seen.add(s.path);
      (this.pendingFor[subtask % this.ctx.parallelism] as FileSplit[]).push(s);
    }
    if (this.registered.has(subtask)) this.assign(subtask);
  }

  snapshotState(): FileEnumeratorState {
    return {
      listed: this.listed,
      seen: this.continuous ? [...this.seen] : [],
      unassigned: this.pendingFor.flat(),
    };
  }

  close(): void {
    this.periodic?.cancel();
  }
}
