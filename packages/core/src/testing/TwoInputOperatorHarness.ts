import { ManualClock } from '../api/Clock.js';
import type { CoProcessFunction, KeyedCoProcessFunction } from '../api/functions.js';
import type { OutputTag } from '../api/OutputTag.js';
import { type Cancellable, type KeySelector, type KeyType, MAX_WATERMARK, NO_TIMESTAMP } from '../api/types.js';
import { DEFAULT_MAX_PARALLELISM, keyGroupRangeFor } from '../runtime/keygroups.js';
import type { ProcessingTimeService } from '../runtime/InternalTimerService.js';
import { CoProcessOperator, KeyedCoProcessOperator } from '../runtime/operators/CoProcessOperator.js';
import { CollectingOutput } from '../runtime/Output.js';
import type { StreamOperator, TwoInputOperator } from '../runtime/StreamOperator.js';
import { HeapKeyedStateBackend, HeapStateBackend } from '../state/HeapStateBackend.js';
import type { KeyedStateBackend, Namespace } from '../state/StateBackend.js';
import type { HarnessOptions, HarnessRecord } from './index.js';

/**
 * Drives one two-input operator by hand (Flink's `TwoInputStreamOperatorTestHarness`): push
 * records and watermarks into either input, advance processing time with a manual clock, and
 * read outputs, side outputs, state entries and pending timers. The operator's watermark is
 * the minimum of both inputs' watermarks, as in a running job.
 *
 * @example
 * ```ts
 * const h = TwoInputOperatorHarness.forKeyedCoProcessFunction(fn, (a: A) => a.k, (b: B) => b.k);
 * await h.open();
 * h.processElement1({ k: 'x' }, 10);
 * h.processElement2({ k: 'x' }, 12);
 * h.processBothWatermarks(20);
 * expect(h.outputValues()).toEqual([...]);
 * await h.endInput();
 * expect(h.numKeyedStateEntries()).toBe(0);
 * ```
 * @public
 */
export class TwoInputOperatorHarness<TIn1, TIn2, TOut> {
  /** The manual clock driving processing time. */
  readonly clock: ManualClock;
  private readonly collected = new CollectingOutput<TOut>();
  private backend: KeyedStateBackend | undefined;
  private opened = false;

  /**
   * @param operator - a runtime two-input operator
   * @param keyed - whether the operator is keyed
   * @param options - harness options
   */
  constructor(
    private readonly operator: StreamOperator<TOut> & TwoInputOperator<TIn1, TIn2>,
    private readonly keyed: boolean,
    private readonly options: HarnessOptions = {},
  ) {
    this.clock = options.clock ?? new ManualClock(0);
  }

  /** A harness for a {@link CoProcessFunction} over two connected, non-keyed streams. */
  static forCoProcessFunction<TIn1, TIn2, TOut>(
    fn: CoProcessFunction<TIn1, TIn2, TOut>,
    options: HarnessOptions = {},
  ): TwoInputOperatorHarness<TIn1, TIn2, TOut> {
    return new TwoInputOperatorHarness<TIn1, TIn2, TOut>(new CoProcessOperator<TIn1, TIn2, TOut>(fn), false, options);
  }

  /** A harness for a {@link KeyedCoProcessFunction} over two keyed, connected streams. */
  static forKeyedCoProcessFunction<K extends KeyType, TIn1, TIn2, TOut>(
    fn: KeyedCoProcessFunction<K, TIn1, TIn2, TOut>,
    keySelector1: KeySelector<TIn1, K>,
    keySelector2: KeySelector<TIn2, K>,
    options: HarnessOptions = {},
  ): TwoInputOperatorHarness<TIn1, TIn2, TOut> {
    return new TwoInputOperatorHarness<TIn1, TIn2, TOut>(
      new KeyedCoProcessOperator<K, TIn1, TIn2, TOut>(fn, keySelector1, keySelector2),
      true,
      options,
    );
  }

  /** Sets the operator up and opens it. */
  async open(): Promise<void> {
    const o = this.options;
    const maxParallelism = o.maxParallelism ?? DEFAULT_MAX_PARALLELISM;
    const parallelism = o.parallelism ?? 1;
    const subtaskIndex = o.subtaskIndex ?? 0;
    const name = o.name ?? 'operator-under-test';
    if (this.keyed) {
      this.backend = await (o.stateBackend ?? new HeapStateBackend()).createKeyedStateBackend({
        operatorUid: name,
        subtaskIndex,
        keyGroupRange: keyGroupRangeFor(subtaskIndex, parallelism, maxParallelism),
        maxParallelism,
        clock: this.clock,
      });
    }
    const clock = this.clock;
    const pts: ProcessingTimeService = {
      now: () => clock.now(),
      registerTimer: (time: number, callback: (t: number) => void): Cancellable =>
        clock.schedule(time, () => callback(clock.now())),
    };
    this.operator.setup(
      {
        taskInfo: { operatorName: name, operatorUid: name, subtaskIndex, parallelism, maxParallelism },
        clock,
        processingTimeService: pts,
        // The harness is the task: mails (asynchronous completions) run at once.
        mailbox: { execute: (action: () => void): void => action() },
        keyedBackend: this.backend,
        hasTimestamps: o.hasTimestamps ?? true,
      },
      this.collected,
    );
    await this.operator.open();
    if (this.backend instanceof HeapKeyedStateBackend) this.backend.materializeRestored();
    this.opened = true;
  }

  private check(): void {
    if (!this.opened) throw new Error('call open() first');
  }

  /** Pushes a record into the first input; `timestamp` omitted means none. */
  processElement1(value: TIn1, timestamp?: number): void {
    this.check();
    this.operator.recordsIn++;
    this.operator.processElement1(value, timestamp ?? NO_TIMESTAMP);
  }

  /** Pushes a record into the second input; `timestamp` omitted means none. */
  processElement2(value: TIn2, timestamp?: number): void {
    this.check();
    this.operator.recordsIn++;
    this.operator.processElement2(value, timestamp ?? NO_TIMESTAMP);
  }

  /** Pushes a watermark into the first input. */
  processWatermark1(watermark: number): void {
    this.check();
    this.operator.processWatermark1(watermark);
  }

  /** Pushes a watermark into the second input. */
  processWatermark2(watermark: number): void {
    this.check();
    this.operator.processWatermark2(watermark);
  }

  /** Pushes the same watermark into both inputs. */
  processBothWatermarks(watermark: number): void {
    this.processWatermark1(watermark);
    this.processWatermark2(watermark);
  }

  /** Sets processing time (fires due processing-time timers). */
  setProcessingTime(time: number): void {
    this.check();
    this.clock.setTime(time);
  }

  /** Ends both inputs: the final watermark on each, then `finish`. */
  async endInput(): Promise<void> {
    this.processBothWatermarks(MAX_WATERMARK);
    await this.operator.finish();
  }

  /** Closes the operator. */
  async close(): Promise<void> {
    await this.operator.close();
  }

  /** The operator's current (combined) watermark. */
  currentWatermark(): number {
    return this.operator.currentWatermark;
  }

  /** Output records with timestamps, in emission order. */
  output(): Array<HarnessRecord<TOut>> {
    return this.collected.records.map((r) => ({
      value: r.value,
      timestamp: r.timestamp === NO_TIMESTAMP ? null : r.timestamp,
    }));
  }

  /** Output values, in emission order. */
  outputValues(): TOut[] {
    return this.collected.records.map((r) => r.value);
  }

  /** Values written to the side output `tag`. */
  sideOutput<X>(tag: OutputTag<X>): X[] {
    return (this.collected.sideRecords.get(tag.id) ?? []).map((r) => r.value as X);
  }

  /** Watermarks the operator emitted. */
  watermarks(): number[] {
    return [...this.collected.watermarks];
  }

  /** Forgets collected outputs. */
  clearOutput(): void {
    this.collected.records.length = 0;
    this.collected.sideRecords.clear();
    this.collected.watermarks.length = 0;
  }

  /** Number of keyed state entries (0 once all state was cleared). */
  numKeyedStateEntries(): number {
    return this.backend?.numEntries() ?? 0;
  }

  /** The keyed state backend (keyed operators only), e.g. to read state in assertions. */
  keyedStateBackend(): KeyedStateBackend {
    if (this.backend === undefined) throw new Error('the operator under test is not keyed');
    return this.backend;
  }

  /** Number of pending event-time timers. */
  numEventTimeTimers(): number {
    return this.operator.timers?.eventTimers.size ?? 0;
  }

  /** Number of pending processing-time timers. */
  numProcessingTimeTimers(): number {
    return this.operator.timers?.processingTimers.size ?? 0;
  }

  /** Pending timers in timestamp order. */
  pendingTimers(): Array<{ domain: 'event-time' | 'processing-time'; timestamp: number; key: KeyType; namespace: Namespace }> {
    return this.operator.timers?.pending() ?? [];
  }
}
