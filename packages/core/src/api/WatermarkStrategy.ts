import type { Clock } from './Clock.js';

/**
 * Where a {@link WatermarkGenerator} sends watermarks and idleness.
 * @public
 */
export interface WatermarkOutput {
  /** Emits a watermark; a watermark not larger than the last one is ignored. */
  emitWatermark(watermark: number): void;
  /** Declares this input idle: it stops holding back the downstream watermark. */
  markIdle(): void;
  /** Declares this input active again. */
  markActive(): void;
}

/**
 * Generates watermarks from the events it sees (`onEvent`) and periodically (`onPeriodicEmit`,
 * every `autoWatermarkInterval` of processing time; after every record for collection and
 * sequence sources).
 * @public
 */
export interface WatermarkGenerator<T> {
  /** Called for every event with its timestamp. */
  onEvent(event: T, timestamp: number, output: WatermarkOutput): void;
  /** Called periodically. */
  onPeriodicEmit(output: WatermarkOutput): void;
}

/**
 * Extracts the event-time timestamp (epoch ms) of an event. `recordTimestamp` is the timestamp
 * the source attached (a Kafka record's timestamp, say), or `null`.
 * @public
 */
export type TimestampAssigner<T> = (event: T, recordTimestamp: number | null) => number;

/**
 * What a generator factory receives.
 * @public
 */
export interface WatermarkGeneratorContext {
  /** The job's processing-time clock. */
  readonly clock: Clock;
}

/**
 * How a stream gets event time: a timestamp assigner plus a watermark generator, with optional
 * idleness detection. Build one with the static factories, then refine it.
 *
 * Bounded out-of-orderness (the common choice): watermark = max timestamp seen − bound − 1, so
 * an event may arrive up to `bound` ms after a later one and still be on time.
 *
 * @example
 * ```ts
 * WatermarkStrategy.forBoundedOutOfOrderness<Ev>(5_000)
 *   .withTimestampAssigner((e) => e.timestamp_ms)
 *   .withIdleness(60_000);
 * ```
 * @public
 */
export class WatermarkStrategy<T> {
  private constructor(
    /** Creates one generator per source split or operator instance. */
    readonly createGenerator: (ctx: WatermarkGeneratorContext) => WatermarkGenerator<T>,
    /** The timestamp assigner, if any; without one the record's own timestamp is used. */
    readonly timestampAssigner: TimestampAssigner<T> | undefined,
    /** Idle timeout in ms, if idleness detection is on. */
    readonly idleTimeoutMs: number | undefined,
    /** Whether this strategy assigns event time at all (false for `noWatermarks`). */
    readonly assignsEventTime: boolean,
  ) {}

  /**
   * Watermarks that trail the largest timestamp seen by `maxOutOfOrdernessMs` (+1 ms).
   * @param maxOutOfOrdernessMs - how late (in event time) an event may be and still be on time
   */
  static forBoundedOutOfOrderness<T>(maxOutOfOrdernessMs: number): WatermarkStrategy<T> {
    if (!(maxOutOfOrdernessMs >= 0)) throw new RangeError(`out-of-orderness bound must be >= 0, got ${maxOutOfOrdernessMs}`);
    return new WatermarkStrategy<T>(() => new BoundedOutOfOrdernessGenerator<T>(maxOutOfOrdernessMs), undefined, undefined, true);
  }

  /** Watermarks for timestamps that never decrease: watermark = max timestamp − 1. */
  static forMonotonousTimestamps<T>(): WatermarkStrategy<T> {
    return WatermarkStrategy.forBoundedOutOfOrderness<T>(0);
  }

  /**
   * No watermarks at all (processing-time pipelines). Event time still ends at the end of a
   * bounded input.
   */
  static noWatermarks<T>(): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(() => NO_WATERMARKS_GENERATOR as WatermarkGenerator<T>, undefined, undefined, false);
  }

  /** A custom generator. */
  static forGenerator<T>(factory: (ctx: WatermarkGeneratorContext) => WatermarkGenerator<T>): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(factory, undefined, undefined, true);
  }

  /**
   * Uses `assigner` to take each event's timestamp.
   * @returns a new strategy
   */
  withTimestampAssigner(assigner: TimestampAssigner<T>): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(this.createGenerator, assigner, this.idleTimeoutMs, true);
  }

  /**
   * Marks the input idle when no event arrived for `idleTimeoutMs` of processing time, so a
   * quiet partition or source does not stall event time downstream.
   * @returns a new strategy
   */
  withIdleness(idleTimeoutMs: number): WatermarkStrategy<T> {
    if (!(idleTimeoutMs > 0)) throw new RangeError(`idle timeout must be > 0, got ${idleTimeoutMs}`);
    return new WatermarkStrategy<T>(this.createGenerator, this.timestampAssigner, idleTimeoutMs, this.assignsEventTime);
  }

  /**
   * The generator as the runtime uses it: with idleness detection when configured.
   * @internal
   */
  buildGenerator(ctx: WatermarkGeneratorContext): WatermarkGenerator<T> {
    const gen = this.createGenerator(ctx);
    return this.idleTimeoutMs === undefined ? gen : new IdlenessGenerator(gen, ctx.clock, this.idleTimeoutMs);
  }
}

/**
 * Watermark = max timestamp − bound − 1.
 * @public
 */
export class BoundedOutOfOrdernessGenerator<T> implements WatermarkGenerator<T> {
  private maxTimestamp: number;

  /** @param bound - maximal out-of-orderness in ms */
  constructor(private readonly bound: number) {
    this.maxTimestamp = Number.NEGATIVE_INFINITY;
  }

  /** Tracks the largest timestamp seen. */
  onEvent(_event: T, timestamp: number): void {
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
  }

  /** Emits max timestamp − bound − 1, once a timestamp has been seen. */
  onPeriodicEmit(output: WatermarkOutput): void {
    if (this.maxTimestamp !== Number.NEGATIVE_INFINITY) output.emitWatermark(this.maxTimestamp - this.bound - 1);
  }
}

const NO_WATERMARKS_GENERATOR: WatermarkGenerator<unknown> = {
  onEvent() {},
  onPeriodicEmit() {},
};

/** Wraps a generator: marks the output idle after a stretch of processing time without events. */
class IdlenessGenerator<T> implements WatermarkGenerator<T> {
  private lastEventAt: number;
  private idle = false;

  constructor(
    private readonly inner: WatermarkGenerator<T>,
    private readonly clock: Clock,
    private readonly timeoutMs: number,
  ) {
    this.lastEventAt = clock.now();
  }

  onEvent(event: T, timestamp: number, output: WatermarkOutput): void {
    this.lastEventAt = this.clock.now();
    if (this.idle) {
      this.idle = false;
      output.markActive();
    }
    this.inner.onEvent(event, timestamp, output);
  }

  onPeriodicEmit(output: WatermarkOutput): void {
    if (this.idle) return;
    if (this.clock.now() - this.lastEventAt >= this.timeoutMs) {
      this.idle = true;
      output.markIdle();
      return;
    }
    this.inner.onPeriodicEmit(output);
  }
}
