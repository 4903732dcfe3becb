/**
 * The Nexmark generator as a Weir {@link Source}: split by event-number ranges, so it runs in
 * parallel, and checkpointed as the next event number of each split.
 * @packageDocumentation
 */
import {
  type InputStatus,
  jsonSerde,
  type ReaderOutput,
  type Serde,
  type Source,
  type SourceReader,
  type SourceSplit,
  type SplitEnumeratorContext,
  StaticSplitEnumerator,
} from '@weir/core';
import { type GeneratorConfig, NexmarkGenerator } from './generator.js';
import type { NexmarkEvent } from './model.js';

/**
 * A range `[next, end)` of event numbers.
 * @public
 */
export interface NexmarkSplit extends SourceSplit {
  /** The next event number to emit: the split's checkpointed position. */
  next: number;
  /** One past the last event number of the split. */
  readonly end: number;
}

/**
 * Options of {@link NexmarkSource}.
 * @public
 */
export interface NexmarkSourceOptions {
  /** Number of events (event numbers `0 .. events − 1`). */
  readonly events: number;
  /** Generator settings (defaults: the reference's). */
  readonly generator?: Partial<GeneratorConfig>;
  /**
   * Events per split (default 1,000,000). Splits are dealt round-robin to the readers, so
   * parallel readers move through event time roughly together.
   */
  readonly splitEvents?: number;
  /**
   * Run the watermark generator after every record (deterministic watermarks, for tests)
   * instead of periodically, as Flink does (default false).
   */
  readonly watermarkPerRecord?: boolean;
}

const RESOLVED = Promise.resolve();

/** Events emitted per `pollNext`: amortizes the poll loop without delaying backpressure much. */
const EVENTS_PER_POLL = 64;

/**
 * A bounded source of Nexmark events. Each record carries its event time as the record
 * timestamp, so a `WatermarkStrategy` without a timestamp assigner uses it.
 *
 * @example
 * ```ts
 * const events = env.fromSource(
 *   new NexmarkSource({ events: 1_000_000 }),
 *   WatermarkStrategy.forBoundedOutOfOrderness<NexmarkEvent>(4_000),
 *   'Nexmark',
 * );
 * ```
 * @public
 */
export class NexmarkSource implements Source<NexmarkEvent, NexmarkSplit, NexmarkSplit[]> {
  /** The generator makes `events` events, then ends. */
  readonly boundedness = 'bounded' as const;
  /** Records carry their event time. */
  readonly recordsHaveTimestamps = true;
  /** See {@link NexmarkSourceOptions.watermarkPerRecord}. */
  readonly emitsWatermarkPerRecord: boolean;
  /** Splits are checkpointed as JSON `{ splitId, next, end }`. */
  readonly splitSerde: Serde<NexmarkSplit> = jsonSerde<NexmarkSplit>();
  /** The splits not yet assigned, as JSON. */
  readonly enumeratorStateSerde: Serde<NexmarkSplit[]> = jsonSerde<NexmarkSplit[]>();
  private readonly events: number;
  private readonly splitEvents: number;
  private readonly generator: Partial<GeneratorConfig>;

  /** @param options - number of events and generator settings */
  constructor(options: NexmarkSourceOptions) {
    if (!Number.isSafeInteger(options.events) || options.events < 0) throw new RangeError(`events must be an integer >= 0, got ${options.events}`);
    this.events = options.events;
    this.splitEvents = options.splitEvents ?? 1_000_000;
    if (!(this.splitEvents >= 1)) throw new RangeError(`splitEvents must be >= 1, got ${this.splitEvents}`);
    this.generator = options.generator ?? {};
    this.emitsWatermarkPerRecord = options.watermarkPerRecord === true;
  }

  /** Splits of `splitEvents` event numbers, dealt round-robin to the readers. */
  createEnumerator(ctx: SplitEnumeratorContext<NexmarkSplit>): StaticSplitEnumerator<NexmarkSplit> {
    const splits: NexmarkSplit[] = [];
    for (let from = 0, i = 0; from < this.events; from += this.splitEvents, i++) {
      splits.push({ splitId: `nexmark-${i}`, next: from, end: Math.min(from + this.splitEvents, this.events) });
    }
    return new StaticSplitEnumerator(ctx, splits);
  }

  /** The enumerator with the splits that were unassigned at the checkpoint. */
  restoreEnumerator(ctx: SplitEnumeratorContext<NexmarkSplit>, checkpoint: NexmarkSplit[]): StaticSplitEnumerator<NexmarkSplit> {
    return new StaticSplitEnumerator(ctx, checkpoint);
  }

  /** A reader with its own generator. */
  createReader(): SourceReader<NexmarkEvent, NexmarkSplit> {
    return new NexmarkReader(new NexmarkGenerator(this.generator));
  }
}

/**
 * Generates its splits in assignment order, a few events per poll, no Promise per record. The
 * position in the split being generated is kept in two number fields of the reader, so the poll
 * loop reads only the reader and the generator: split objects are dropped once generated, and
 * when all of them are garbage a full GC frees their hidden class, which would deoptimize every
 * function that inlined the loop (the whole per-record path of the job).
 */
class NexmarkReader implements SourceReader<NexmarkEvent, NexmarkSplit> {
  /** Assigned splits not started yet. */
  private readonly queued: NexmarkSplit[] = [];
  /** Id of the split being generated (undefined before the first). */
  private currentId: string | undefined;
  /** Next event number of the current split. */
  private next = 0;
  /** One past the current split's last event number. */
  private end = 0;
  private noMoreSplits = false;
  private wake: (() => void) | undefined;

  constructor(private readonly generator: NexmarkGenerator) {}

  start(): void {}

  pollNext(output: ReaderOutput<NexmarkEvent>): InputStatus {
    while (this.next >= this.end) {
      const split = this.queued.shift();
      if (split === undefined) return this.noMoreSplits ? 'end' : 'nothing';
      this.currentId = split.splitId;
      this.next = split.next;
      this.end = split.end;
    }
    const gen = this.generator;
    let n = this.next;
    const stop = Math.min(this.end, n + EVENTS_PER_POLL);
    while (n < stop) {
      const e = gen.eventAt(n++);
      output.collect(e, e.dateTime);
    }
    this.next = n;
    return n >= this.end && this.queued.length === 0 && this.noMoreSplits ? 'end' : 'more';
  }

  isAvailable(): Promise<void> {
    if (this.next < this.end || this.queued.length > 0 || this.noMoreSplits) return RESOLVED;
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  addSplits(splits: readonly NexmarkSplit[]): void {
    for (const s of splits) this.queued.push(s);
    this.signal();
  }

  notifyNoMoreSplits(): void {
    this.noMoreSplits = true;
    this.signal();
  }

  snapshotState(): NexmarkSplit[] {
    const state: NexmarkSplit[] = [];
    if (this.currentId !== undefined && this.next < this.end) state.push({ splitId: this.currentId, next: this.next, end: this.end });
    for (const s of this.queued) state.push({ splitId: s.splitId, next: s.next, end: s.end });
    return state;
  }

  close(): void {}

  private signal(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}
