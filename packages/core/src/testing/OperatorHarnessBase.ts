import { ManualClock } from '../api/Clock.js';
import type { OutputTag } from '../api/OutputTag.js';
import { type Cancellable, type KeyType, NO_TIMESTAMP } from '../api/types.js';
import type { ProcessingTimeService } from '../runtime/InternalTimerService.js';
import { DEFAULT_MAX_PARALLELISM, keyGroupRangeFor } from '../runtime/keygroups.js';
import { CollectingOutput } from '../runtime/Output.js';
import type { Mailbox } from '../runtime/Mailbox.js';
import type { StreamOperator } from '../runtime/StreamOperator.js';
import { HeapKeyedStateBackend, HeapStateBackend } from '../state/HeapStateBackend.js';
import type { KeyedStateBackend, KeyedStateSnapshot, Namespace } from '../state/StateBackend.js';
import type { HarnessOptions, HarnessRecord } from './index.js';

/**
 * What the operator harnesses share: the manual clock, setting the operator up as a one-instance
 * task (keyed backend from the options, processing time from the clock), and reading what it
 * emitted, its keyed state and its pending timers. The subclasses push the input.
 * @internal
 */
export abstract class OperatorHarnessBase<TOut, TOperator extends StreamOperator<TOut>> {
  /** The manual clock driving processing time. */
  readonly clock: ManualClock;
  /** @internal */
  protected readonly collected = new CollectingOutput<TOut>();
  /** @internal */
  protected backend: KeyedStateBackend | undefined;
  /** @internal */
  protected opened = false;

  /** @internal */
  protected constructor(
    protected readonly operator: TOperator,
    private readonly keyed: boolean,
    private readonly options: HarnessOptions,
  ) {
    this.clock = options.clock ?? new ManualClock(0);
  }

  /**
   * Creates the keyed backend (keyed operators), loads `restored` into it, sets the operator up
   * with `mailbox` and opens it.
   * @internal
   */
  protected async setUpAndOpen(mailbox: Mailbox, restored: readonly KeyedStateSnapshot[]): Promise<void> {
    const o = this.options;
    const maxParallelism = o.maxParallelism ?? DEFAULT_MAX_PARALLELISM;
    const parallelism = o.parallelism ?? 1;
    const subtaskIndex = o.subtaskIndex ?? 0;
    const name = o.name ?? 'operator-under-test';
    if (this.keyed) {
      this.backend = await (o.stateBackend ?? new HeapStateBackend()).createKeyedStateBackend({
        operatorUid: name,
        subtaskIndex,
        keyGroupRange: keyGroupRangeFor(subtaskIndex, parallelism, maxParallelism),
        maxParallelism,
        clock: this.clock,
      });
      if (restored.length > 0) this.backend.restore(restored);
    }
    const clock = this.clock;
    const pts: ProcessingTimeService = {
      now: () => clock.now(),
      registerTimer: (time: number, callback: (t: number) => void): Cancellable =>
        clock.schedule(time, () => callback(clock.now())),
    };
    this.operator.setup(
      {
        taskInfo: { operatorName: name, operatorUid: name, subtaskIndex, parallelism, maxParallelism },
        clock,
        processingTimeService: pts,
        mailbox,
        keyedBackend: this.backend,
        hasTimestamps: o.hasTimestamps ?? true,
      },
      this.collected,
    );
    await this.operator.open();
    if (this.backend instanceof HeapKeyedStateBackend) this.backend.materializeRestored();
    this.opened = true;
  }

  /** Sets processing time (fires due processing-time timers). */
  setProcessingTime(time: number): void {
    this.check();
    this.clock.setTime(time);
  }

  /** Closes the operator. */
  async close(): Promise<void> {
    await this.operator.close();
  }

  /** Output records with timestamps, in emission order. */
  output(): Array<HarnessRecord<TOut>> {
    return this.collected.records.map((r) => ({
      value: r.value,
      timestamp: r.timestamp === NO_TIMESTAMP ? null : r.timestamp,
    }));
  }

  /** Output values, in emission order. */
  outputValues(): TOut[] {
    return this.collected.records.map((r) => r.value);
  }

  /** Values written to the side output `tag`. */
  sideOutput<X>(tag: OutputTag<X>): X[] {
    return (this.collected.sideRecords.get(tag.id) ?? []).map((r) => r.value as X);
  }

  /** Watermarks the operator emitted. */
  watermarks(): number[] {
    return [...this.collected.watermarks];
  }

  /** Forgets collected outputs. */
  clearOutput(): void {
    this.collected.records.length = 0;
    this.collected.sideRecords.clear();
    this.collected.watermarks.length = 0;
  }

  /** Number of keyed state entries (0 once all state was cleared). */
  numKeyedStateEntries(): number {
    return this.backend?.numEntries() ?? 0;
  }

  /** The keyed state backend (keyed operators only), e.g. to read state in assertions. */
  keyedStateBackend(): KeyedStateBackend {
    return this.requireBackend();
  }

  /** Number of pending event-time timers. */
  numEventTimeTimers(): number {
    return this.operator.timers?.eventTimers.size ?? 0;
  }

  /** Number of pending processing-time timers. */
  numProcessingTimeTimers(): number {
    return this.operator.timers?.processingTimers.size ?? 0;
  }

  /** Pending timers in timestamp order. */
  pendingTimers(): Array<{ domain: 'event-time' | 'processing-time'; timestamp: number; key: KeyType; namespace: Namespace }> {
    return this.operator.timers?.pending() ?? [];
  }

  /** Throws unless the harness was opened (subclasses add their own checks). @internal */
  protected check(): void {
    if (!this.opened) throw new Error('call open() first');
  }

  /** @internal */
  protected requireBackend(): KeyedStateBackend {
    if (this.backend === undefined) throw new Error('the operator under test is not keyed');
    return this.backend;
  }
}
