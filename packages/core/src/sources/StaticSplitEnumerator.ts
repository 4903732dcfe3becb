import type { SourceSplit, SplitEnumerator, SplitEnumeratorContext } from '../api/Source.js';

/**
 * An enumerator for a fixed set of splits known up front: split `i` goes to reader
 * `i mod parallelism`; then no more splits. Its checkpoint is the splits not yet assigned.
 * @public
 */
export class StaticSplitEnumerator<TSplit extends SourceSplit> implements SplitEnumerator<TSplit, TSplit[]> {
  private readonly pending: TSplit[][];

  /**
   * @param ctx - the enumerator context
   * @param splits - every split of the source
   */
  constructor(
    private readonly ctx: SplitEnumeratorContext<TSplit>,
    splits: readonly TSplit[],
  ) {
    this.pending = Array.from({ length: ctx.parallelism }, () => []);
    splits.forEach((s, i) => {
      (this.pending[i % ctx.parallelism] as TSplit[]).push(s);
    });
  }

  /** Nothing to discover: the splits are known. */
  start(): void {}

  /** Assigns the reader its splits, then tells it there are no more. */
  addReader(subtask: number): void {
    const splits = this.pending[subtask] ?? [];
    this.pending[subtask] = [];
    if (splits.length > 0) this.ctx.assignSplits(subtask, splits);
    this.ctx.signalNoMoreSplits(subtask);
  }

  /** Keeps splits returned by a failed reader for its replacement. */
  addSplitsBack(splits: readonly TSplit[], subtask: number): void {
    (this.pending[subtask % this.ctx.parallelism] as TSplit[]).push(...splits);
  }

  /** The splits not yet assigned. */
  snapshotState(): TSplit[] {
    return this.pending.flat();
  }

  /** Nothing to release. */
  close(): void {}
}
