import type { Sink, SinkWriter } from '../../api/Sink.js';
import { NO_TIMESTAMP } from '../../api/types.js';
import { type OneInputOperator, StreamOperator } from '../StreamOperator.js';

/** Feeds a {@link SinkWriter}. @internal */
export class SinkOperator<T> extends StreamOperator<never> implements OneInputOperator<T> {
  private writer!: SinkWriter<T>;

  constructor(private readonly sink: Sink<T>) {
    super();
  }

  override async open(): Promise<void> {
    try {
      this.writer = await this.sink.createWriter({ taskInfo: this.setupInfo.taskInfo, clock: this.setupInfo.clock });
    } catch (e) {
      throw this.userError(e, false);
    }
  }

  processElement(value: T, timestamp: number): void {
    this.recordsIn++;
    try {
      this.writer.write(value, timestamp === NO_TIMESTAMP ? null : timestamp);
    } catch (e) {
      throw this.userError(e, false);
    }
  }

  override get canBlock(): boolean {
    return true;
  }

  override isAvailable(): boolean {
    return this.writer.isAvailable === undefined || this.writer.isAvailable();
  }

  override whenAvailable(): Promise<void> {
    return this.writer.whenAvailable === undefined ? Promise.resolve() : this.writer.whenAvailable();
  }

  override async finish(): Promise<void> {
    try {
      await this.writer.flush?.(true);
    } catch (e) {
      throw this.userError(e, false);
    }
  }

  override async close(): Promise<void> {
    await this.writer?.close?.();
    await super.close();
  }
}
