import type { Collector, KeySelector, KeyType, OutputTag, RuntimeContext } from '@weir/core';

/**
 * What a temporal join does with a probe record for which no version is valid at its
 * timestamp: `'left'` (left outer join) emits it with `undefined` as version, `'inner'` drops it.
 * @public
 */
export type TemporalJoinMode = 'left' | 'inner';

/**
 * The version a temporal join function receives: `V` for inner joins, `V | undefined` for
 * left outer joins.
 * @public
 */
export type TemporalMatch<V, M extends TemporalJoinMode> = M extends 'inner' ? V : V | undefined;

/**
 * Options of {@link temporalJoin}.
 *
 * *Versions* are the records of the versioned table stream: each is the value of its key from
 * its event timestamp (its `validFrom`) until the next version of the key.
 * @public
 */
export interface TemporalJoinOptions<P, V, K extends KeyType, M extends TemporalJoinMode = 'left'> {
  /** The key of a probe record. */
  readonly probeKey: KeySelector<P, K>;
  /** The key of a version (table record). */
  readonly tableKey: KeySelector<V, K>;
  /** `'left'` (default): probes without a valid version are emitted with `undefined`; `'inner'`: dropped. */
  readonly mode?: M;
  /**
   * Time-to-live of a version in ms: a version is valid at time `t` only while
   * `t − validFrom <= ttl` (a feature older than its TTL is treated as missing). Default: no limit.
   */
  readonly ttl?: number;
  /**
   * Marks deletions: a tombstone version means "no value" from its `validFrom` on (until the next
   * version). Default: no version is a tombstone.
   */
  readonly isTombstone?: (version: V) => boolean;
  /** Side output for late probes (timestamp below the watermark); dropped when not set. */
  readonly lateProbes?: OutputTag<P>;
  /** Side output that also receives every late version (`validFrom` at or below the watermark). */
  readonly lateVersions?: OutputTag<V>;
}

/**
 * The context of {@link TemporalJoinFunction.processElement}. One instance per operator,
 * reused: do not keep it.
 * @public
 */
export interface TemporalJoinContext<K> {
  /** The probe's timestamp (also the output's timestamp). */
  timestamp(): number;
  /** The `validFrom` of the joined version, or `null` when there is none. */
  versionTimestamp(): number | null;
  /** The key of the probe. */
  getCurrentKey(): K;
  /** Emits `value` to the side output named by `tag`, with the probe's timestamp. */
  output<X>(tag: OutputTag<X>, value: NoInfer<X>): void;
}

/**
 * Processes each probe record with the version valid at its timestamp (the `process` form of
 * a temporal join).
 * @example
 * ```ts
 * const fn: TemporalJoinFunction<string, Order, Rate | undefined, Priced> = {
 *   processElement(order, rate, ctx, out) {
 *     if (rate !== undefined) out.collect({ ...order, eur: order.amount * rate.rate, rateFrom: ctx.versionTimestamp() });
 *   },
 * };
 * ```
 * @public
 */
export interface TemporalJoinFunction<K, P, VMatch, TOut> {
  /** Called once per parallel instance before the first record; keyed state is available. */
  open?(ctx: RuntimeContext): void | Promise<void>;
  /** Called once per probe record (at the latest when the watermark reaches its timestamp). */
  processElement: (probe: P, version: VMatch, ctx: TemporalJoinContext<K>, out: Collector<TOut>) => void;
  /** Called once when the instance shuts down. */
  close?(): void | Promise<void>;
}
