import {
  type Collector,
  type DataStream,
  KeyedStream,
  type KeyedProcessContext,
  type KeyedProcessFunction,
  type KeySelector,
  type KeyType,
  type OnTimerContext,
  type OutputTag,
  type RuntimeContext,
  type ValueState,
  ValueStateDescriptor,
} from '@weir/core';

/**
 * Counters of a deduplication, shared by every parallel instance in this process (read them in
 * tests, export them to metrics). Not checkpointed.
 * @public
 */
export interface DeduplicateCounts {
  /** Records that passed (first occurrences). */
  passed: number;
  /** Records dropped as duplicates (also written to the duplicates side output, if any). */
  duplicates: number;
}

/**
 * Options of {@link Deduplicate} and {@link deduplicate}.
 * @public
 */
export interface DeduplicateOptions<T> {
  /**
   * How long a key is remembered after an occurrence that passed, in ms. Duplicates are
   * recognised within this distance of it; state for the key is dropped once it has passed.
   */
  readonly ttlMs: number;
  /**
   * Which time the TTL is measured in.
   * - `'event'`: record timestamps. A record is a duplicate when an earlier-arriving record of
   *   its key that passed has a timestamp less than `ttlMs` away (either side: a retry may carry
   *   an earlier timestamp). That record's state expires when the watermark passes
   *   `timestamp + ttlMs − 1`, through an event-time timer, so results do not depend on when
   *   watermarks arrive. A late record (timestamp at or below the watermark) is compared only
   *   with the state still held. Deterministic; needs timestamps and watermarks.
   * - `'processing'`: arrival time on the job's clock. A record is a duplicate when a record of
   *   its key passed less than `ttlMs` before; state expires through a processing-time timer.
   */
  readonly time: 'event' | 'processing';
  /** Where duplicates go (with their timestamps); dropped when absent. */
  readonly duplicatesTag?: OutputTag<T>;
  /** Counters to increment; a fresh object by default (see {@link Deduplicate.counts}). */
  readonly counts?: DeduplicateCounts;
}

/**
 * Drops repeats of a key within a TTL: the first occurrence passes, later ones within `ttlMs`
 * of it are duplicates (dropped and counted, or sent to a side output). Typical use: drop the
 * retries of a client that re-sends an event with the same `event_id`. A
 * {@link KeyedProcessFunction} for a stream keyed by the deduplication key; see
 * {@link deduplicate} for the one-call form.
 *
 * State per key is one small value plus one timer, dropped once the TTL passed, so state stays
 * bounded by the number of distinct keys seen within a TTL; at the end of a bounded input (the
 * final watermark) event-time state is empty.
 *
 * @example
 * ```ts
 * const dupes = new OutputTag<ClickEvent>('duplicates');
 * const unique = clicks
 *   .keyBy((e) => e.event_id)
 *   .process(new Deduplicate<string, ClickEvent>({ ttlMs: 10 * 60_000, time: 'event', duplicatesTag: dupes }))
 *   .uid('dedup-clicks');
 * ```
 * @public
 */
export class Deduplicate<K extends KeyType, T> implements KeyedProcessFunction<K, T, T> {
  /**
   * Counters shared by every parallel instance of this function in this process (parallel
   * instances are copies that inherit this object).
   */
  readonly counts: DeduplicateCounts;
  private readonly ttlMs: number;
  private readonly eventTime: boolean;
  private readonly duplicatesTag: OutputTag<T> | undefined;
  // Per parallel instance, assigned in open().
  private anchors!: ValueState<number[]>;
  private lastPassed!: ValueState<number>;

  /** @param options - TTL, time domain, duplicates side output */
  constructor(options: DeduplicateOptions<T>) {
    if (!(options.ttlMs > 0) || !Number.isFinite(options.ttlMs)) throw new RangeError(`ttlMs must be a positive number, got ${options.ttlMs}`);
    if (options.time !== 'event' && options.time !== 'processing') {
      throw new TypeError(`time must be 'event' or 'processing', got ${String(options.time)}`);
    }
    this.ttlMs = options.ttlMs;
    this.eventTime = options.time === 'event';
    this.duplicatesTag = options.duplicatesTag;
    this.counts = options.counts ?? { passed: 0, duplicates: 0 };
  }

  open(ctx: RuntimeContext): void {
    // Event time keeps the timestamps of the occurrences that passed and may still match (more
    // than one only with out-of-order data); processing time the arrival time of the last one.
    if (this.eventTime) this.anchors = ctx.getState(new ValueStateDescriptor<number[]>('dedup-passed-timestamps'));
    else this.lastPassed = ctx.getState(new ValueStateDescriptor<number>('dedup-last-passed'));
  }

  processElement(value: T, ctx: KeyedProcessContext<K>, out: Collector<T>): void {
    if (this.eventTime) this.processEventTime(value, ctx, out);
    else this.processProcessingTime(value, ctx, out);
  }

  private processEventTime(value: T, ctx: KeyedProcessContext<K>, out: Collector<T>): void {
    const ts = ctx.timestamp();
    if (ts === null) {
      throw new TypeError("deduplicate with time: 'event' needs record timestamps: call assignTimestampsAndWatermarks(...) upstream");
    }
    const ttl = this.ttlMs;
    const anchors = this.anchors.value();
    if (anchors !== undefined) {
      for (let i = 0; i < anchors.length; i++) {
        if (Math.abs(ts - (anchors[i] as number)) < ttl) {
          this.duplicate(value, ctx);
          return;
        }
      }
    }
    this.counts.passed++;
    out.collect(value);
    const expiry = ts + ttl - 1;
    const timers = ctx.timerService();
    // A late record whose TTL already passed in event time: no record still to come (non-late,
    // timestamp > watermark) can be within the TTL of it, so there is nothing to remember.
    if (expiry <= timers.currentWatermark()) return;
    this.anchors.update(anchors === undefined ? [ts] : [...anchors, ts]);
    timers.registerEventTimeTimer(expiry);
  }

  private processProcessingTime(value: T, ctx: KeyedProcessContext<K>, out: Collector<T>): void {
    const timers = ctx.timerService();
    const now = timers.currentProcessingTime();
    const last = this.lastPassed.value();
    if (last !== undefined && now - last < this.ttlMs) {
      this.duplicate(value, ctx);
      return;
    }
    this.counts.passed++;
    out.collect(value);
    this.lastPassed.update(now);
    timers.registerProcessingTimeTimer(now + this.ttlMs);
  }

  private duplicate(value: T, ctx: KeyedProcessContext<K>): void {
    this.counts.duplicates++;
    if (this.duplicatesTag !== undefined) ctx.output(this.duplicatesTag, value);
  }

  onTimer(timestamp: number, _ctx: OnTimerContext<K>, _out: Collector<T>): void {
    const ttl = this.ttlMs;
    if (this.eventTime) {
      const anchors = this.anchors.value();
      if (anchors === undefined) return;
      const live = anchors.filter((a) => a + ttl - 1 > timestamp);
      if (live.length === 0) this.anchors.clear();
      else if (live.length !== anchors.length) this.anchors.update(live);
      return;
    }
    // A record that passed after this timer was set (the TTL had run out before the timer
    // fired) renewed the state: leave it to its own timer.
    const last = this.lastPassed.value();
    if (last !== undefined && last + ttl <= timestamp) this.lastPassed.clear();
  }
}

/**
 * Deduplicates `stream` by key within a TTL: keys the stream by `key` and applies
 * {@link Deduplicate}. First occurrences pass, with their timestamps; repeats within `ttlMs`
 * are dropped (and counted, or written to `duplicatesTag`). Give the result a uid: its state
 * is keyed state.
 *
 * @param stream - the input; a keyed stream may omit `key` (its key is used)
 * @param options - the key, TTL, time domain and duplicates side output
 * @returns the stream of first occurrences
 * @example
 * ```ts
 * const unique = deduplicate(events, { key: (e) => e.event_id, ttlMs: 60_000, time: 'event' }).uid('dedup');
 * ```
 * @public
 */
export function deduplicate<T, K extends KeyType>(
  stream: DataStream<T>,
  options: DeduplicateOptions<T> & { readonly key: KeySelector<T, K> },
): DataStream<T>;
export function deduplicate<K extends KeyType, T>(
  stream: KeyedStream<K, T>,
  options: DeduplicateOptions<T> & { readonly key?: undefined },
): DataStream<T>;
export function deduplicate<T>(
  stream: DataStream<T>,
  options: DeduplicateOptions<T> & { readonly key?: KeySelector<T, KeyType> | undefined },
): DataStream<T> {
  let keyed: KeyedStream<KeyType, T>;
  if (options.key !== undefined) keyed = stream.keyBy(options.key);
  else if (stream instanceof KeyedStream) keyed = stream as KeyedStream<KeyType, T>;
  else throw new TypeError('deduplicate needs options.key, or a keyed stream');
  return keyed.process(new Deduplicate<KeyType, T>(options)).name('Deduplicate');
}
