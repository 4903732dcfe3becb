import {
  type DataStream,
  InvalidPipelineError,
  type KeyedCoProcessFunction,
  type KeyType,
  type WidenedKey,
} from '@weir/core';
import { TemporalJoinCoProcessFunction } from './TemporalJoinCoProcessFunction.js';
import type { TemporalJoinFunction, TemporalJoinMode, TemporalJoinOptions, TemporalMatch } from './types.js';

/**
 * Joins each record of `probe` with the version of `table` that was valid at the record's own
 * timestamp: a temporal (as-of, point-in-time) join, as Flink SQL's
 * `JOIN ... FOR SYSTEM_TIME AS OF probe.rowtime`. Finish it with {@link TemporalJoin.map} or
 * {@link TemporalJoin.process}.
 *
 * Semantics, exactly:
 * - `table` is a versioned table: each record is a *version* of its key (`tableKey`), valid
 *   from its event timestamp (`validFrom`) until the next version of that key.
 * - A probe record with key `k` and timestamp `t` joins the version of `k` with the greatest
 *   `validFrom <= t`, never a later one. Of versions with equal `validFrom`, the one that arrived
 *   last wins. With `ttl`, a version only counts while `t − validFrom <= ttl`; a tombstone
 *   (`isTombstone`) counts as no version. When no version counts, `mode: 'left'` (default)
 *   emits the probe with `undefined`, `mode: 'inner'` drops it.
 * - Timing: probes wait in keyed state until the operator's watermark (the minimum of both
 *   inputs' watermarks) reaches their timestamp, then are joined against the versions received
 *   by then; outputs carry the probe's timestamp. By the watermark contract (no record at or
 *   below a watermark after it) every version with `validFrom <= t` has arrived by then, so
 *   the result does not depend on arrival order.
 * - Late data: a probe with `t` below the watermark is late: it goes to `lateProbes` or is
 *   dropped (a probe exactly at the watermark is joined at once). A version with `validFrom` at
 *   or below the watermark is late (probes up to the watermark may already have been joined
 *   without it): it is copied to `lateVersions` when set, and still applies to later probes
 *   unless a newer version at or below the watermark is already known (then it is discarded).
 * - State: per key, the probes above the watermark, the versions above the watermark, and the
 *   single version current at the watermark (dropped when superseded, when its TTL expires, or
 *   at the end of input). Nothing remains after the final watermark.
 * - Both inputs need event-time timestamps. If the table stream goes idle, it stops holding the
 *   watermark back (as any idle input): versions arriving after it resumes may then be late.
 *
 * @param probe - the stream whose records look up a version
 * @param table - the versioned table stream (changelog of versions)
 * @param options - keys, join mode, TTL, tombstones and late-data outputs
 * @example
 * ```ts
 * // each order priced with the exchange rate valid when it was placed
 * const priced = temporalJoin(orders, rates, { probeKey: (o) => o.currency, tableKey: (r) => r.currency })
 *   .map((order, rate) => ({ ...order, eur: rate === undefined ? null : order.amount * rate.rate }));
 * ```
 * @public
 */
export function temporalJoin<P, V, K extends KeyType, M extends TemporalJoinMode = 'left'>(
  probe: DataStream<P>,
  table: DataStream<V>,
  options: TemporalJoinOptions<P, V, K, M>,
): TemporalJoin<WidenedKey<K>, P, V, TemporalMatch<V, M>> {
  return new TemporalJoin<WidenedKey<K>, P, V, TemporalMatch<V, M>>(
    probe,
    table,
    options as unknown as TemporalJoinOptions<P, V, WidenedKey<K>, TemporalJoinMode>,
  );
}

/**
 * A temporal join waiting for its function (see {@link temporalJoin} for the semantics).
 * @public
 */
export class TemporalJoin<K extends KeyType, P, V, VMatch> {
  /** @internal */
  constructor(
    private readonly probe: DataStream<P>,
    private readonly table: DataStream<V>,
    private readonly options: TemporalJoinOptions<P, V, K, TemporalJoinMode>,
  ) {
    const o = options;
    if (typeof o?.probeKey !== 'function' || typeof o.tableKey !== 'function') {
      throw new TypeError('temporalJoin needs options.probeKey and options.tableKey key selector functions');
    }
    if (o.mode !== undefined && o.mode !== 'left' && o.mode !== 'inner') {
      throw new RangeError(`temporalJoin mode must be 'left' or 'inner', got ${String(o.mode)}`);
    }
    if (o.ttl !== undefined && !(o.ttl >= 0 && Number.isFinite(o.ttl))) {
      throw new RangeError(`temporalJoin ttl must be a finite number of ms >= 0, got ${o.ttl}`);
    }
    for (const [what, s] of [['probe', probe], ['table', table]] as const) {
      if (!s.transformation.hasTimestamps) {
        throw new InvalidPipelineError(
          `temporalJoin needs event-time timestamps on both inputs, but the ${what} stream has none: ` +
            'call assignTimestampsAndWatermarks(...) on it, or read from a source with a WatermarkStrategy',
        );
      }
    }
  }

  /**
   * Emits `fn(probe, version)` for every probe record that is not dropped.
   * @returns the joined stream (records carry the probe's timestamp)
   */
  map<R>(fn: (probe: P, version: VMatch) => R): DataStream<R> {
    if (typeof fn !== 'function') throw new TypeError('map expects a function (probe, version) => result');
    return this.process<R>({ processElement: (p, v, _ctx, out) => out.collect(fn(p, v)) });
  }

  /**
   * Runs a {@link TemporalJoinFunction} for every probe record that is not dropped.
   * @returns the stream of the function's outputs; read `lateProbes` / `lateVersions` from it
   *   with `getSideOutput`
   */
  process<R>(fn: TemporalJoinFunction<K, P, VMatch, R>): DataStream<R> {
    if (typeof fn?.processElement !== 'function') {
      throw new TypeError('process expects a TemporalJoinFunction { processElement(probe, version, ctx, out) }');
    }
    const o = this.options;
    const op = new TemporalJoinCoProcessFunction<K, P, V, R>(
      {
        mode: o.mode ?? 'left',
        ttl: o.ttl,
        isTombstone: o.isTombstone,
        lateProbes: o.lateProbes,
        lateVersions: o.lateVersions,
      },
      fn as unknown as TemporalJoinFunction<K, P, V | undefined, R>,
    );
    return this.probe
      .keyBy(o.probeKey)
      .connect(this.table.keyBy(o.tableKey))
      .process<R>(op as unknown as KeyedCoProcessFunction<WidenedKey<K>, P, V, R>)
      .name('TemporalJoin');
  }
}
