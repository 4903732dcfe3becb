import type { InputStatus, ReaderOutput, Source, SourceOutput, SourceReader, SourceSplit } from '../../api/Source.js';
import type { WatermarkGenerator, WatermarkOutput, WatermarkStrategy } from '../../api/WatermarkStrategy.js';
import { type Cancellable, MAX_WATERMARK, NO_TIMESTAMP } from '../../api/types.js';
import { StreamOperator } from '../StreamOperator.js';
import { BinaryReader, BinaryWriter } from '../../state/codec.js';

/** Decodes the splits a source operator checkpointed. @internal */
export function decodeSplits(blob: Uint8Array | undefined, source: Source<unknown, SourceSplit, unknown>): SourceSplit[] {
  if (blob === undefined) return [];
  const r = new BinaryReader(blob);
  const n = r.varint();
  const out: SourceSplit[] = [];
  for (let i = 0; i < n; i++) out.push(source.splitSerde.deserialize(r.bytes().slice()));
  return out;
}

/**
 * One watermark-generating output: the reader as a whole, or one split.
 * @internal
 */
class GeneratingOutput<T> implements SourceOutput<T>, WatermarkOutput {
  watermark = Number.NEGATIVE_INFINITY;
  idle = false;
  /** Whether this output takes part in the minimum (the reader-wide one only once used). */
  participating: boolean;
  /**
   * Whether `collect` may take its fast path: participating, no timestamp assigner, watermarks
   * not emitted per record. A record with its own finite timestamp then only goes downstream and
   * to the watermark generator.
   */
  private plain: boolean;
  private readonly generator: WatermarkGenerator<T>;

  constructor(
    private readonly op: SourceOperator<T>,
    participating: boolean,
  ) {
    this.participating = participating;
    this.plain = participating && op.strategy.timestampAssigner === undefined && !op.perRecord;
    this.generator = op.strategy.buildGenerator({ clock: op.setupInfo.clock });
  }

  collect(value: T, timestamp?: number): void {
    const op = this.op;
    // The common case: the record's own finite timestamp, no assigner, already participating.
    if (this.plain && timestamp !== undefined && timestamp - timestamp === 0) {
      op.output.collect(value, timestamp);
      this.generator.onEvent(value, timestamp, this);
      return;
    }
    this.collectSlow(value, timestamp);
  }

  private collectSlow(value: T, timestamp: number | undefined): void {
    const op = this.op;
    const strategy = op.strategy;
    let ts = timestamp === undefined ? NO_TIMESTAMP : timestamp;
    const assigner = strategy.timestampAssigner;
    if (assigner !== undefined) {
      try {
        ts = assigner(value, timestamp === undefined ? null : timestamp);
      } catch (e) {
        throw op.userErrorPublic(e);
      }
    }
    if (strategy.assignsEventTime && !Number.isFinite(ts)) {
      throw op.userErrorPublic(
        new TypeError(
          assigner === undefined
            ? 'record has no timestamp: add withTimestampAssigner(...) to the WatermarkStrategy'
            : `timestamp assigner returned ${String(ts)}; it must return epoch milliseconds`,
        ),
      );
    }
    if (!this.participating) {
      this.participating = true;
      op.recompute();
    }
    this.plain = assigner === undefined && !op.perRecord;
    op.output.collect(value, ts);
    this.generator.onEvent(value, ts, this);
    if (op.perRecord) this.generator.onPeriodicEmit(this);
  }

  periodic(): void {
    this.generator.onPeriodicEmit(this);
  }

  emitWatermark(watermark: number): void {
    if (this.idle) this.markActive();
    if (watermark > this.watermark) {
      this.watermark = watermark;
      if (!this.participating) this.participating = true;
      this.op.recompute();
    }
  }

  markIdle(): void {
    if (!this.idle) {
      this.idle = true;
      this.op.recompute();
    }
  }

  markActive(): void {
    if (this.idle) {
      this.idle = false;
      this.op.recompute();
    }
  }
}

/**
 * The head of a source task: drives a {@link SourceReader}, applies the watermark strategy per
 * split and emits the minimum over active splits.
 * @internal
 */
export class SourceOperator<T> extends StreamOperator<T> implements ReaderOutput<T> {
  reader!: SourceReader<T, SourceSplit>;
  private readonly splitOutputs = new Map<string, GeneratingOutput<T>>();
  private main!: GeneratingOutput<T>;
  private lastEmitted = Number.NEGATIVE_INFINITY;
  private idle = false;
  private periodicHandle: Cancellable | undefined;
  private closed = false;

  constructor(
    readonly source: Source<T, SourceSplit, unknown>,
    readonly strategy: WatermarkStrategy<T>,
    readonly perRecord: boolean,
    private readonly intervalMs: number,
  ) {
    super();
  }

  override async open(): Promise<void> {
    const info = this.setupInfo.taskInfo;
    this.main = new GeneratingOutput(this, false);
    this.reader = this.source.createReader({
      subtaskIndex: info.subtaskIndex,
      parallelism: info.parallelism,
      clock: this.setupInfo.clock,
    });
    await this.reader.start();
    if (!this.perRecord && this.intervalMs > 0) this.schedule();
  }

  private schedule(): void {
    const pts = this.setupInfo.processingTimeService;
    this.periodicHandle = pts.registerTimer(pts.now() + this.intervalMs, () => {
      if (this.closed) return;
      this.onPeriodic();
      this.schedule();
    });
  }

  /** Periodic watermark emission of every output. */
  onPeriodic(): void {
    try {
      this.main.periodic();
      for (const o of this.splitOutputs.values()) o.periodic();
    } catch (e) {
      throw this.userErrorPublic(e);
    }
    this.recompute();
  }

  /** Polls the reader once. */
  emitNext(): InputStatus {
    return this.reader.pollNext(this);
  }

  /** End of input: the final watermark. */
  endOfInput(): void {
    if (this.idle) {
      this.idle = false;
      this.output.emitIdle(false);
    }
    this.lastEmitted = MAX_WATERMARK;
    this.currentWatermark = MAX_WATERMARK;
    this.output.emitWatermark(MAX_WATERMARK);
  }

  /** @internal */
  userErrorPublic(e: unknown): Error {
    return this.userError(e, false);
  }

  // ReaderOutput: the reader-wide output delegates to `main`.
  collect(value: T, timestamp?: number): void {
    this.main.collect(value, timestamp);
  }

  emitWatermark(watermark: number): void {
    this.main.emitWatermark(watermark);
  }

  markIdle(): void {
    this.main.participating = true;
    this.main.markIdle();
  }

  markActive(): void {
    this.main.markActive();
  }

  createOutputForSplit(splitId: string): SourceOutput<T> {
    let o = this.splitOutputs.get(splitId);
    if (o === undefined) {
      o = new GeneratingOutput(this, true);
      this.splitOutputs.set(splitId, o);
      this.recompute();
    }
    return o;
  }

  releaseOutputForSplit(splitId: string): void {
    if (this.splitOutputs.delete(splitId)) this.recompute();
  }

  /** Recomputes the combined watermark and idleness over participating outputs. */
  recompute(): void {
    let min = Number.POSITIVE_INFINITY;
    let active = 0;
    let total = 0;
    const m = this.main;
    if (m.participating) {
      total++;
      if (!m.idle) {
        active++;
        min = m.watermark;
      }
    }
    if (this.splitOutputs.size > 0) {
      for (const o of this.splitOutputs.values()) {
        if (!o.participating) continue;
        total++;
        if (o.idle) continue;
        active++;
        if (o.watermark < min) min = o.watermark;
      }
    }
    if (total > 0 && active === 0) {
      if (!this.idle) {
        this.idle = true;
        this.output.emitIdle(true);
      }
      return;
    }
    if (active === 0) return;
    if (this.idle) {
      this.idle = false;
      this.output.emitIdle(false);
    }
    if (min > this.lastEmitted && min !== Number.POSITIVE_INFINITY) {
      this.lastEmitted = min;
      this.currentWatermark = min;
      this.output.emitWatermark(min);
    }
  }

  /** The reader's splits with their positions, for the checkpoint. */
  protected override snapshotOperatorState(checkpointId: number): Record<string, Uint8Array | Promise<Uint8Array>> {
    const splits = this.reader.snapshotState(checkpointId);
    const w = new BinaryWriter();
    w.varint(splits.length);
    for (const s of splits) w.bytes(this.source.splitSerde.serialize(s));
    return { splits: w.finish() };
  }

  /** Splits of the old readers restored from a checkpoint (all of them, for redistribution). */
  restoredSplits(): Array<{ subtask: number; splits: SourceSplit[] }> {
    return this.restoredOperatorState.map((st, i) => ({ subtask: i, splits: decodeSplits(st.splits, this.source) }));
  }

  override notifyCheckpointComplete(checkpointId: number): void | Promise<void> {
    return this.reader.notifyCheckpointComplete?.(checkpointId);
  }

  override async close(): Promise<void> {
    this.closed = true;
    this.periodicHandle?.cancel();
    await this.reader?.close();
    await super.close();
  }
}
