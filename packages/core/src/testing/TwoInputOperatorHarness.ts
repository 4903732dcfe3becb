import type { CoProcessFunction, KeyedCoProcessFunction } from '../api/functions.js';
import { type KeySelector, type KeyType, MAX_WATERMARK, NO_TIMESTAMP } from '../api/types.js';
import { CoProcessOperator, KeyedCoProcessOperator } from '../runtime/operators/CoProcessOperator.js';
import type { StreamOperator, TwoInputOperator } from '../runtime/StreamOperator.js';
import type { HarnessOptions } from './index.js';
import { OperatorHarnessBase } from './OperatorHarnessBase.js';

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
export class TwoInputOperatorHarness<TIn1, TIn2, TOut> extends OperatorHarnessBase<
  TOut,
  StreamOperator<TOut> & TwoInputOperator<TIn1, TIn2>
> {
  /**
   * @param operator - a runtime two-input operator
   * @param keyed - whether the operator is keyed
   * @param options - harness options
   */
  constructor(
    operator: StreamOperator<TOut> & TwoInputOperator<TIn1, TIn2>,
    keyed: boolean,
    options: HarnessOptions = {},
  ) {
    super(operator, keyed, options);
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
    // The harness is the task: mails (asynchronous completions) run at once.
    await this.setUpAndOpen({ execute: (action: () => void): void => action() }, []);
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

  /** Ends both inputs: the final watermark on each, then `finish`. */
  async endInput(): Promise<void> {
    this.processBothWatermarks(MAX_WATERMARK);
    await this.operator.finish();
  }

  /** The operator's current (combined) watermark. */
  currentWatermark(): number {
    return this.operator.currentWatermark;
  }
}
