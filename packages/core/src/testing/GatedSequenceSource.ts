import { jsonSerde, type Serde } from '../api/Serde.js';
import type { ReaderOutput, Source, SourceOutput, SourceReader, SplitEnumeratorContext } from '../api/Source.js';
import type { SequenceSplit } from '../sources/SequenceSource.js';
import { StaticSplitEnumerator } from '../sources/StaticSplitEnumerator.js';

/**
 * A split of a {@link GatedSequenceSource}: the numbers `start..end`, `next` the next to emit.
 * @public
 */
export interface GatedSequenceSplit extends SequenceSplit {
  /** First number of the split (the gate counts from here). */
  readonly start: number;
}

/**
 * A bounded source of `1..n`, in `splits` ranges, whose splits each pause after `gate` records
 * until {@link GatedSequenceSource.release} is called. Lets a test take a checkpoint (or fail
 * the job) at a known position, then let the rest through; with `gate` undefined it is a plain
 * sequence source with the same splits, for the reference run. Positions are checkpointed, so a
 * job restored from a checkpoint resumes where the splits stood.
 *
 * @example
 * ```ts
 * const source = new GatedSequenceSource(10_000, 4, 1_000);
 * const job = env.fromSource(source, WatermarkStrategy.noWatermarks<number>(), 'gated')...;
 * // wait until source.emitted === 4_000, trigger a checkpoint, then:
 * source.release();
 * ```
 * @public
 */
export class GatedSequenceSource implements Source<number, GatedSequenceSplit, GatedSequenceSplit[]> {
  /** The sequence ends. */
  readonly boundedness = 'bounded' as const;
  /** Splits are checkpointed as JSON. */
  readonly splitSerde: Serde<GatedSequenceSplit> = jsonSerde<GatedSequenceSplit>();
  /** The unassigned splits, as JSON. */
  readonly enumeratorStateSerde: Serde<GatedSequenceSplit[]> = jsonSerde<GatedSequenceSplit[]>();
  private released = false;
  private wakers: Array<() => void> = [];
  /** Records emitted so far (all readers). */
  emitted = 0;

  /**
   * @param n - last number (the source emits `1..n`)
   * @param splits - number of ranges `1..n` is cut into
   * @param gate - records each split emits before it pauses, or `undefined` for no gate
   */
  constructor(
    private readonly n: number,
    private readonly splits: number,
    private readonly gate: number | undefined,
  ) {}

  /** Opens the gate: every split runs to its end. */
  release(): void {
    this.released = true;
    for (const w of this.wakers.splice(0)) w();
  }

  /** Cuts `1..n` into `splits` equal ranges (the last may be shorter). */
  createEnumerator(ctx: SplitEnumeratorContext<GatedSequenceSplit>): StaticSplitEnumerator<GatedSequenceSplit> {
    const per = Math.ceil(this.n / this.splits);
    const list: GatedSequenceSplit[] = [];
    for (let i = 0; i < this.splits; i++) {
      const from = i * per + 1;
      const to = Math.min(this.n, (i + 1) * per);
      if (from <= to) list.push({ splitId: `r${i}`, start: from, next: from, end: to });
    }
    return new StaticSplitEnumerator(ctx, list);
  }

  /** The enumerator with the splits not yet assigned at the checkpoint. */
  restoreEnumerator(
    ctx: SplitEnumeratorContext<GatedSequenceSplit>,
    state: GatedSequenceSplit[],
  ): StaticSplitEnumerator<GatedSequenceSplit> {
    return new StaticSplitEnumerator(ctx, state);
  }

  /**
   * A reader that emits one number per poll, from the first of its splits neither done nor
   * gated, through one output per split: each split has its own watermark, so a split held at
   * the gate holds back the watermark while the reader goes on with its next split.
   */
  createReader(): SourceReader<number, GatedSequenceSplit> {
    const src = this;
    const splits: GatedSequenceSplit[] = [];
    const outputs = new Map<string, SourceOutput<number>>();
    let noMore = false;
    let wake: (() => void) | undefined;
    const paused = (s: GatedSequenceSplit): boolean => src.gate !== undefined && !src.released && s.next - s.start >= src.gate;
    return {
      start() {},
      pollNext(out: ReaderOutput<number>) {
        for (const s of splits) {
          if (s.next <= s.end && !outputs.has(s.splitId)) outputs.set(s.splitId, out.createOutputForSplit(s.splitId));
        }
        for (const s of splits) {
          if (s.next > s.end || paused(s)) continue;
          (outputs.get(s.splitId) as SourceOutput<number>).collect(s.next++);
          src.emitted++;
          if (s.next > s.end) {
            out.releaseOutputForSplit(s.splitId);
            outputs.delete(s.splitId);
          }
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
