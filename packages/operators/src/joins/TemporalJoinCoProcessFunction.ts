import {
  type Collector,
  InvalidPipelineError,
  type KeyedCoProcessFunction,
  type KeyedProcessContext,
  type KeyType,
  type MapState,
  MapStateDescriptor,
  MAX_WATERMARK,
  type OutputTag,
  type RuntimeContext,
} from '@weir/core';
import type { TemporalJoinContext, TemporalJoinFunction, TemporalJoinMode } from './types.js';

/** Configuration of a {@link TemporalJoinCoProcessFunction}. @internal */
export interface TemporalJoinConfig<P, V> {
  readonly mode: TemporalJoinMode;
  readonly ttl: number | undefined;
  readonly isTombstone: ((version: V) => boolean) | undefined;
  readonly lateProbes: OutputTag<P> | undefined;
  readonly lateVersions: OutputTag<V> | undefined;
}

/**
 * The keyed two-input function behind {@link temporalJoin}: input 1 is the probe stream,
 * input 2 the versioned table, both keyed by the join key.
 *
 * Per key it keeps two map states: `versions` (validFrom → version) and `probes` (timestamp →
 * probes with that timestamp, in arrival order). Every probe at `t` registers an event-time
 * timer at `t`; every version at `s` one at `s`. A timer at `T` fires once the watermark (the
 * minimum of both inputs') reaches `T`: by the watermark contract every version with
 * `validFrom <= T` has arrived, so the probes of bucket `T` are joined with the newest version
 * whose `validFrom <= T` and emitted with timestamp `T`. Then the versions no future probe can
 * use are purged: future probes have `t >= T`, so of the versions with `validFrom <= T` only the
 * newest (the *base*) is kept, and not even that one once its TTL has expired for `T`. A kept
 * base gets a retention timer (its TTL expiry, or the end of input) so that no state outlives
 * the final watermark.
 * @internal
 */
export class TemporalJoinCoProcessFunction<K extends KeyType, P, V, TOut> implements KeyedCoProcessFunction<K, P, V, TOut> {
  // configuration (shared by the parallel instances through the prototype chain)
  private readonly mode: TemporalJoinMode;
  private readonly ttl: number | undefined;
  private readonly isTombstone: ((version: V) => boolean) | undefined;
  private readonly lateProbes: OutputTag<P> | undefined;
  private readonly lateVersions: OutputTag<V> | undefined;
  private readonly userFn: TemporalJoinFunction<K, P, V | undefined, TOut>;
  // transient, per parallel instance (assigned in open, so they land on the instance's copy)
  private user!: TemporalJoinFunction<K, P, V | undefined, TOut>;
  private versions!: MapState<number, V>;
  private probes!: MapState<number, P[]>;
  private jctx!: JoinContext<K>;
  /** The validFrom of the version found by the last {@link asOf} call. */
  private foundAt = 0;

  constructor(config: TemporalJoinConfig<P, V>, fn: TemporalJoinFunction<K, P, V | undefined, TOut>) {
    this.mode = config.mode;
    this.ttl = config.ttl;
    this.isTombstone = config.isTombstone;
    this.lateProbes = config.lateProbes;
    this.lateVersions = config.lateVersions;
    this.userFn = fn;
  }

  async open(ctx: RuntimeContext): Promise<void> {
    this.versions = ctx.getMapState(new MapStateDescriptor<number, V>('temporal-join-versions'));
    this.probes = ctx.getMapState(new MapStateDescriptor<number, P[]>('temporal-join-probes'));
    this.jctx = new JoinContext<K>();
    this.user = Object.create(this.userFn) as TemporalJoinFunction<K, P, V | undefined, TOut>;
    await this.user.open?.(ctx);
  }

  processElement1(probe: P, ctx: KeyedProcessContext<K>, out: Collector<TOut>): void {
    const t = timestampOf(ctx, 'probe');
    const timers = ctx.timerService();
    const watermark = timers.currentWatermark();
    if (t < watermark) {
      if (this.lateProbes !== undefined) ctx.output(this.lateProbes, probe);
      return;
    }
    if (t === watermark) {
      // Every version with validFrom <= t has arrived and none it needs was purged: join now.
      const version = this.asOf(t);
      this.emit(probe, version, t, ctx, out);
      return;
    }
    const bucket = this.probes.get(t);
    if (bucket === undefined) this.probes.put(t, [probe]);
    else {
      bucket.push(probe);
      this.probes.put(t, bucket);
    }
    timers.registerEventTimeTimer(t);
  }

  processElement2(version: V, ctx: KeyedProcessContext<K>): void {
    const s = timestampOf(ctx, 'version');
    const timers = ctx.timerService();
    const watermark = timers.currentWatermark();
    if (s > watermark) {
      // Equal validFrom: the version that arrived last wins.
      this.versions.put(s, version);
      timers.registerEventTimeTimer(s);
      return;
    }
    // Late: probes up to the watermark may already have been joined without it.
    if (this.lateVersions !== undefined) ctx.output(this.lateVersions, version);
    // It is still the right version for later probes (t >= watermark) unless a newer one at or
    // below the watermark is known.
    const base = this.asOf(watermark);
    if (base !== undefined && this.foundAt > s) return;
    this.versions.put(s, version);
    this.purge(watermark, ctx);
  }

  onTimer(time: number, ctx: KeyedProcessContext<K>, out: Collector<TOut>): void {
    const bucket = this.probes.get(time);
    if (bucket !== undefined) {
      this.probes.remove(time);
      const version = this.asOf(time);
      for (let i = 0; i < bucket.length; i++) this.emit(bucket[i] as P, version, time, ctx, out);
    }
    this.purge(time, ctx);
  }

  async close(): Promise<void> {
    await this.user?.close?.();
  }

  /**
   * The newest retained version with `validFrom <= t` (its validFrom in {@link foundAt}), or
   * `undefined` when there is none.
   */
  private asOf(t: number): V | undefined {
    let best: V | undefined;
    let bestAt = Number.NEGATIVE_INFINITY;
    for (const [at, v] of this.versions.entries()) {
      if (at <= t && at > bestAt) {
        bestAt = at;
        best = v;
      }
    }
    this.foundAt = bestAt;
    return best;
  }

  /** Calls the user function for a probe at `t` joined with `version` (found at {@link foundAt}). */
  private emit(probe: P, version: V | undefined, t: number, ctx: KeyedProcessContext<K>, out: Collector<TOut>): void {
    let match = version;
    if (match !== undefined) {
      if ((this.ttl !== undefined && t - this.foundAt > this.ttl) || this.isTombstone?.(match) === true) match = undefined;
    }
    if (match === undefined && this.mode === 'inner') return;
    const jctx = this.jctx;
    jctx.ts = t;
    jctx.versionTs = match === undefined ? null : this.foundAt;
    jctx.inner = ctx;
    this.user.processElement(probe, match, jctx, out);
  }

  /**
   * Drops the versions no probe at `t >= horizon` can use: all but the newest with
   * `validFrom <= horizon` (the base), and the base too when its TTL has expired at `horizon`
   * or when the input has ended. A kept base gets a timer that purges it in turn.
   */
  private purge(horizon: number, ctx: KeyedProcessContext<K>): void {
    if (horizon === MAX_WATERMARK) {
      this.versions.clear();
      return;
    }
    const entries = this.versions.entries();
    let baseAt = Number.NEGATIVE_INFINITY;
    for (const [at] of entries) if (at <= horizon && at > baseAt) baseAt = at;
    if (baseAt === Number.NEGATIVE_INFINITY) return;
    for (const [at] of entries) if (at < baseAt) this.versions.remove(at);
    const ttl = this.ttl;
    if (ttl !== undefined && horizon - baseAt > ttl) {
      this.versions.remove(baseAt);
      return;
    }
    ctx.timerService().registerEventTimeTimer(ttl === undefined ? MAX_WATERMARK : baseAt + ttl + 1);
  }
}

function timestampOf(ctx: KeyedProcessContext<KeyType>, what: string): number {
  const t = ctx.timestamp();
  if (t === null || !Number.isFinite(t)) {
    throw new InvalidPipelineError(
      `temporal join received a ${what} without an event-time timestamp: both inputs need assignTimestampsAndWatermarks(...) or a source with a WatermarkStrategy`,
    );
  }
  return t;
}

/** The reused context of the user's temporal join function. */
class JoinContext<K> implements TemporalJoinContext<K> {
  ts = 0;
  versionTs: number | null = null;
  inner!: KeyedProcessContext<K>;

  timestamp(): number {
    return this.ts;
  }

  versionTimestamp(): number | null {
    return this.versionTs;
  }

  getCurrentKey(): K {
    return this.inner.getCurrentKey();
  }

  output<X>(tag: OutputTag<X>, value: X): void {
    this.inner.output(tag, value);
  }
}
