import type { WatermarkGenerator, WatermarkOutput, WatermarkStrategy } from '../../api/WatermarkStrategy.js';
import { MAX_WATERMARK, NO_TIMESTAMP } from '../../api/types.js';
import type { Cancellable } from '../../api/types.js';
import { type OneInputOperator, StreamOperator } from '../StreamOperator.js';

/**
 * Assigns timestamps and generates watermarks in the middle of a stream
 * (`assignTimestampsAndWatermarks`). Upstream watermarks are replaced by its own, except the
 * final +∞ of a bounded input.
 * @internal
 */
export class TimestampsAndWatermarksOperator<T>
  extends StreamOperator<T>
  implements OneInputOperator<T>, WatermarkOutput
{
  private generator!: WatermarkGenerator<T>;
  private lastEmitted = Number.NEGATIVE_INFINITY;
  private idle = false;
  private periodic: Cancellable | undefined;
  private closed = false;

  constructor(
    private readonly strategy: WatermarkStrategy<T>,
    /** Emit after every record (deterministic bounded runs) instead of periodically. */
    private readonly perRecord: boolean,
    private readonly intervalMs: number,
  ) {
    super();
  }

  override open(): void {
    this.generator = this.strategy.buildGenerator({ clock: this.setupInfo.clock });
    if (!this.perRecord && this.intervalMs > 0) this.schedule();
  }

  private schedule(): void {
    const pts = this.setupInfo.processingTimeService;
    this.periodic = pts.registerTimer(pts.now() + this.intervalMs, () => {
      if (this.closed) return;
      this.onPeriodic();
      this.schedule();
    });
  }

  /** Runs the generator's periodic emission (also used by harnesses). */
  onPeriodic(): void {
    try {
      this.generator.onPeriodicEmit(this);
    } catch (e) {
      throw this.userError(e, false);
    }
  }

  processElement(value: T, timestamp: number): void {
    let ts = timestamp;
    const assigner = this.strategy.timestampAssigner;
    try {
      if (assigner !== undefined) ts = assigner(value, timestamp === NO_TIMESTAMP ? null : timestamp);
      if (this.strategy.assignsEventTime && !Number.isFinite(ts)) {
        throw new TypeError(
          assigner === undefined
            ? 'record has no timestamp: add withTimestampAssigner(...) to the WatermarkStrategy'
            : `timestamp assigner returned ${String(ts)}; it must return epoch milliseconds`,
        );
      }
      this.output.collect(value, ts);
      this.generator.onEvent(value, ts, this);
      if (this.perRecord) this.generator.onPeriodicEmit(this);
    } catch (e) {
      throw this.userError(e, false);
    }
  }

  emitWatermark(watermark: number): void {
    if (watermark > this.lastEmitted) {
      if (this.idle) this.markActive();
      this.lastEmitted = watermark;
      this.processOwnWatermark(watermark);
    }
  }

  private processOwnWatermark(watermark: number): void {
    this.currentWatermark = watermark;
    this.output.emitWatermark(watermark);
  }

  markIdle(): void {
    if (!this.idle) {
      this.idle = true;
      this.output.emitIdle(true);
    }
  }

  markActive(): void {
    if (this.idle) {
      this.idle = false;
      this.output.emitIdle(false);
    }
  }

  override processWatermark(watermark: number): void {
    if (watermark === MAX_WATERMARK) this.emitWatermark(MAX_WATERMARK);
  }

  override processIdle(): void {
    // Idleness downstream of this operator is decided by its own generator.
  }

  override close(): void {
    this.closed = true;
    this.periodic?.cancel();
    super.close();
  }
}
