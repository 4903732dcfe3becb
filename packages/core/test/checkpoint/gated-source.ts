import { jsonSerde, type ReaderOutput, type Source, type SourceReader, type SourceSplit, StaticSplitEnumerator } from '@weir/core';

interface RangeSplit extends SourceSplit {
  readonly start: number;
  next: number;
  readonly end: number;
}

/**
 * A bounded sequence source (`1..n` in `splits` ranges) whose splits pause after `gate` records
 * each until `release()` is called: lets a test take checkpoints at a known position.
 */
export class GatedSequenceSource implements Source<number, RangeSplit, RangeSplit[]> {
  readonly boundedness = 'bounded' as const;
  readonly splitSerde = jsonSerde<RangeSplit>();
  readonly enumeratorStateSerde = jsonSerde<RangeSplit[]>();
  private released = false;
  private wakers: Array<() => void> = [];
  /** Records emitted so far (all readers). */
  emitted = 0;

  constructor(
    private readonly n: number,
    private readonly splits: number,
    private readonly gate: number | undefined,
  ) {}

  release(): void {
    this.released = true;
    for (const w of this.wakers.splice(0)) w();
  }

  createEnumerator(ctx: Parameters<Source<number, RangeSplit, RangeSplit[]>['createEnumerator']>[0]) {
    const per = Math.ceil(this.n / this.splits);
    const list: RangeSplit[] = [];
    for (let i = 0; i < this.splits; i++) {
      const from = i * per + 1;
      const to = Math.min(this.n, (i + 1) * per);
      if (from <= to) list.push({ splitId: `r${i}`, start: from, next: from, end: to });
    }
    return new StaticSplitEnumerator(ctx, list);
  }

  restoreEnumerator(ctx: Parameters<Source<number, RangeSplit, RangeSplit[]>['createEnumerator']>[0], state: RangeSplit[]) {
    return new StaticSplitEnumerator(ctx, state);
  }

  createReader(): SourceReader<number, RangeSplit> {
    const src = this;
    const splits: RangeSplit[] = [];
    let noMore = false;
    let wake: (() => void) | undefined;
    const paused = (s: RangeSplit): boolean => src.gate !== undefined && !src.released && s.next - s.start >= src.gate;
    return {
      start() {},
      pollNext(out: ReaderOutput<number>) {
        for (const s of splits) {
          if (s.next > s.end || paused(s)) continue;
          out.collect(s.next++);
          src.emitted++;
          return 'more';
        }
        if (splits.every((s) => s.next > s.end) && noMore) return 'end';
        return 'nothing';
      },
      isAvailable() {
        return new Promise<void>((resolve) => {
          wake = resolve;
          src.wakers.push(resolve);
        });
      },
      addSplits(ss) {
        splits.push(...ss.map((s) => ({ ...s })));
        wake?.();
      },
      notifyNoMoreSplits() {
        noMore = true;
        wake?.();
      },
      snapshotState: () => splits.map((s) => ({ ...s })),
      close() {},
    };
  }
}
