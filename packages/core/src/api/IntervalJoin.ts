import { IntervalJoinOperator } from '../runtime/operators/IntervalJoinOperator.js';
import type { StreamOperator } from '../runtime/StreamOperator.js';
import { DataStream, type KeyedStream, newTransformation } from './DataStream.js';
import { InvalidPipelineError } from './errors.js';
import type { ProcessJoinFunction } from './joinFunctions.js';
import type { OutputTag } from './OutputTag.js';
import type { KeySelector, KeyType } from './types.js';

/**
 * The first step of an interval join, `keyedA.intervalJoin(keyedB)`: choose the interval with
 * {@link IntervalJoin.between}.
 * @public
 */
export class IntervalJoin<K extends KeyType, TLeft, TRight> {
  /** @internal */
  constructor(
    /** The left input. */
    readonly left: KeyedStream<K, TLeft>,
    /** The right input. */
    readonly right: KeyedStream<K, TRight>,
  ) {}

  /**
   * Joins each left element `a` with the right elements `b` of the same key whose timestamp is
   * in `[a.ts + lowerMs, a.ts + upperMs]` (bounds inclusive unless made exclusive).
   * @param lowerMs - lower bound of `b.ts − a.ts`, in ms (may be negative)
   * @param upperMs - upper bound of `b.ts − a.ts`, in ms; `lowerMs <= upperMs`
   * @example
   * ```ts
   * // each click joined with the impressions of the same user up to 10 minutes before it
   * clicks.keyBy((c) => c.user).intervalJoin(views.keyBy((v) => v.user)).between(-600_000, 0)
   * ```
   */
  between(lowerMs: number, upperMs: number): IntervalJoined<K, TLeft, TRight> {
    for (const [name, v] of [['lower', lowerMs], ['upper', upperMs]] as const) {
      if (!Number.isSafeInteger(v)) throw new RangeError(`interval join ${name} bound must be an integer number of ms, got ${v}`);
    }
    if (lowerMs > upperMs) throw new RangeError(`interval join bounds must satisfy lower <= upper, got between(${lowerMs}, ${upperMs})`);
    return new IntervalJoined<K, TLeft, TRight>(this.left, this.right, lowerMs, upperMs);
  }
}

/**
 * An interval join with its bounds set: configure exclusivity and late data, then
 * {@link IntervalJoined.process} the pairs.
 *
 * Semantics (event time, as Flink's interval join, with a stricter cleanup):
 * - A pair `(a, b)` of equal keys joins when `a.ts + lower <= b.ts <= a.ts + upper`; it is
 *   emitted once, as soon as the later of the two arrives, with timestamp `max(a.ts, b.ts)`.
 * - The operator's watermark is the minimum of both inputs'. An element is *late* when its
 *   timestamp is below that watermark: it is not joined, and goes to its side's late-data
 *   output (`sideOutputLeftLateData` / `sideOutputRightLateData`) or is dropped.
 * - Buffered elements are dropped once no non-late element can still match them: a left
 *   element at `ts` when the watermark passes `ts + upper`, a right one when it passes
 *   `ts − lower`. After the final watermark of bounded inputs no state remains.
 * - Both inputs must carry event-time timestamps.
 * @public
 */
export class IntervalJoined<K extends KeyType, TLeft, TRight> {
  private lowerExclusive = false;
  private upperExclusive = false;
  private leftLateTag: OutputTag<TLeft> | undefined;
  private rightLateTag: OutputTag<TRight> | undefined;

  /** @internal */
  constructor(
    private readonly left: KeyedStream<K, TLeft>,
    private readonly right: KeyedStream<K, TRight>,
    /** Lower bound of `right.ts − left.ts` in ms. */
    readonly lowerMs: number,
    /** Upper bound of `right.ts − left.ts` in ms. */
    readonly upperMs: number,
  ) {}

  /** Makes the lower bound exclusive: `b.ts > a.ts + lower`. */
  lowerBoundExclusive(): this {
    this.lowerExclusive = true;
    return this;
  }

  /** Makes the upper bound exclusive: `b.ts < a.ts + upper`. */
  upperBoundExclusive(): this {
    this.upperExclusive = true;
    return this;
  }

  /** Sends late left elements (timestamp below the watermark) to this side output instead of dropping them. */
  sideOutputLeftLateData(tag: OutputTag<TLeft>): this {
    this.leftLateTag = tag;
    return this;
  }

  /** Sends late right elements (timestamp below the watermark) to this side output instead of dropping them. */
  sideOutputRightLateData(tag: OutputTag<TRight>): this {
    this.rightLateTag = tag;
    return this;
  }

  /**
   * Runs `fn` for every joined pair.
   * @param fn - the {@link ProcessJoinFunction}
   * @returns the stream of `fn`'s outputs; late-data side outputs are read from it with `getSideOutput`
   * @example
   * ```ts
   * const joined = clicks.keyBy((c) => c.user)
   *   .intervalJoin(views.keyBy((v) => v.user))
   *   .between(-5_000, 0)
   *   .process<[Click, View]>({ processElement: (c, v, _ctx, out) => out.collect([c, v]) });
   * ```
   */
  process<R>(fn: ProcessJoinFunction<TLeft, TRight, R>): DataStream<R> {
    if (typeof fn?.processElement !== 'function') throw new TypeError('process expects a ProcessJoinFunction { processElement(left, right, ctx, out) }');
    const left = this.left;
    const right = this.right;
    for (const [side, s] of [['left', left], ['right', right]] as const) {
      if (!s.transformation.hasTimestamps) {
        throw new InvalidPipelineError(
          `intervalJoin needs event-time timestamps on both inputs, but the ${side} input has none: ` +
            'call assignTimestampsAndWatermarks(...) before keyBy, or read from a source with a WatermarkStrategy',
        );
      }
    }
    const lower = this.lowerExclusive ? this.lowerMs + 1 : this.lowerMs;
    const upper = this.upperExclusive ? this.upperMs - 1 : this.upperMs;
    if (lower > upper) {
      throw new InvalidPipelineError(
        `interval join bounds ${this.lowerExclusive ? '(' : '['}${this.lowerMs}, ${this.upperMs}${this.upperExclusive ? ')' : ']'} contain no timestamp difference`,
      );
    }
    const k1 = left.keySelector;
    const k2 = right.keySelector;
    const leftLateTag = this.leftLateTag;
    const rightLateTag = this.rightLateTag;
    const t = newTransformation(
      left.environment,
      'twoInput',
      'IntervalJoin',
      [left.transformation, right.transformation],
      () =>
        new IntervalJoinOperator<K, TLeft, TRight, R>({
          lower,
          upper,
          keySelector1: k1,
          keySelector2: k2,
          fn,
          leftLateTag,
          rightLateTag,
        }) as unknown as StreamOperator<unknown>,
    );
    t.keySelectors = [k1 as KeySelector<unknown, KeyType>, k2 as KeySelector<unknown, KeyType>];
    t.stateful = true;
    return new DataStream<R>(left.environment, t);
  }
}
