/**
 * The user functions of joins: window joins (`JoinFunction`, `FlatJoinFunction`), window
 * co-groups (`CoGroupFunction`) and interval joins (`ProcessJoinFunction`).
 * @packageDocumentation
 */
import type { Collector, RuntimeContext } from './functions.js';
import type { OutputTag } from './OutputTag.js';

/**
 * Turns one joined pair into one output record (window joins).
 * @example
 * ```ts
 * const fn: JoinFunction<Click, View, string> = (click, view) => `${click.id}:${view.id}`;
 * ```
 * @public
 */
export type JoinFunction<TLeft, TRight, TOut> = (left: TLeft, right: TRight) => TOut;

/**
 * Turns one joined pair into zero or more output records, through the collector (window joins).
 * @example
 * ```ts
 * const fn: FlatJoinFunction<Click, View, string> = (c, v, out) => { if (c.ts > v.ts) out.collect(c.id); };
 * ```
 * @public
 */
export type FlatJoinFunction<TLeft, TRight, TOut> = (left: TLeft, right: TRight, out: Collector<TOut>) => void;

/**
 * Receives, per key and window, every element of each side (either list may be empty, never
 * both) and emits any number of records (`coGroup`).
 * @public
 */
export type CoGroupFunction<TLeft, TRight, TOut> = (
  left: readonly TLeft[],
  right: readonly TRight[],
  out: Collector<TOut>,
) => void;

/**
 * The context of {@link ProcessJoinFunction.processElement}: the timestamps of the pair being
 * joined and side outputs. One instance per operator, reused for every pair: do not keep it.
 * @public
 */
export interface ProcessJoinContext {
  /** Event time of the left element. */
  leftTimestamp(): number;
  /** Event time of the right element. */
  rightTimestamp(): number;
  /** Event time of the joined pair: the larger of both timestamps (also the output's timestamp). */
  timestamp(): number;
  /** Emits `value` to the side output named by `tag`, with the pair's timestamp. */
  output<X>(tag: OutputTag<X>, value: NoInfer<X>): void;
}

/**
 * Processes the pairs of an interval join (`keyedA.intervalJoin(keyedB).between(l, u).process(fn)`),
 * Flink's `ProcessJoinFunction`. Called once per pair `(left, right)` of equal keys with
 * `left.ts + lower <= right.ts <= left.ts + upper`, as soon as the later of the two arrives.
 * Output records carry the pair's timestamp (`ctx.timestamp()`).
 *
 * @example
 * ```ts
 * const fn: ProcessJoinFunction<Click, View, [string, number]> = {
 *   processElement(click, view, ctx, out) { out.collect([click.id, ctx.rightTimestamp() - ctx.leftTimestamp()]); },
 * };
 * ```
 * @public
 */
export interface ProcessJoinFunction<TLeft, TRight, TOut> {
  /** Called once per parallel instance before the first element. */
  open?(ctx: RuntimeContext): void | Promise<void>;
  /** Called for each joined pair. */
  processElement: (left: TLeft, right: TRight, ctx: ProcessJoinContext, out: Collector<TOut>) => void;
  /** Called once when the instance shuts down (also after failure). */
  close?(): void | Promise<void>;
}

/**
 * An element of either input of a window join or co-group, tagged with the input it came from;
 * window joins and co-groups run over one stream of these (as Flink's `TaggedUnion`). It is
 * what a custom trigger or evictor of a window join sees.
 * @public
 */
export type TaggedUnion<TLeft, TRight> =
  | { readonly side: 'left'; readonly value: TLeft }
  | { readonly side: 'right'; readonly value: TRight };
