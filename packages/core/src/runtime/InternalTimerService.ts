import type { Cancellable, KeyType } from '../api/types.js';
import type { KeyedStateBackend, Namespace } from '../state/StateBackend.js';
import { type InternalTimer, TimerHeap } from './TimerHeap.js';

/**
 * Schedules processing-time callbacks for a task. Callbacks run between records, never in the
 * middle of one (the task runs them from its mailbox).
 * @internal
 */
export interface ProcessingTimeService {
  /** Current processing time. */
  now(): number;
  /** Runs `callback(time)` once processing time reaches `time`. */
  registerTimer(time: number, callback: (time: number) => void): Cancellable;
}

/**
 * Receives fired timers, with the timer's key already set as the backend's current key.
 * @internal
 */
export interface TimerTarget {
  onEventTime(timer: InternalTimer): void;
  onProcessingTime(timer: InternalTimer): void;
}

/**
 * Event- and processing-time timers of one keyed operator instance, per (key, namespace,
 * timestamp), deduplicated. Event-time timers fire, in timestamp order, when the watermark
 * reaches them; processing-time timers when the clock does.
 * @internal
 */
export class InternalTimerService {
  readonly eventTimers = new TimerHeap();
  readonly processingTimers = new TimerHeap();
  currentWatermark = Number.NEGATIVE_INFINITY;
  private scheduled: Cancellable | undefined;
  private scheduledAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly backend: KeyedStateBackend,
    private readonly target: TimerTarget,
    private readonly pts: ProcessingTimeService,
  ) {}

  registerEventTimeTimer(namespace: Namespace, time: number): void {
    this.eventTimers.add(time, this.backend.getCurrentKey(), this.backend.getCurrentKeyGroup(), namespace);
  }

  deleteEventTimeTimer(namespace: Namespace, time: number): void {
    this.eventTimers.delete(time, this.backend.getCurrentKey(), namespace);
  }

  registerProcessingTimeTimer(namespace: Namespace, time: number): void {
    if (this.processingTimers.add(time, this.backend.getCurrentKey(), this.backend.getCurrentKeyGroup(), namespace)) {
      this.reschedule();
    }
  }

  deleteProcessingTimeTimer(namespace: Namespace, time: number): void {
    if (this.processingTimers.delete(time, this.backend.getCurrentKey(), namespace)) this.reschedule();
  }

  /** Re-registers a timer from a checkpoint. */
  restoreTimer(domain: 'event-time' | 'processing-time', time: number, key: KeyType, keyGroup: number, namespace: Namespace): void {
    if (domain === 'event-time') this.eventTimers.add(time, key, keyGroup, namespace);
    else if (this.processingTimers.add(time, key, keyGroup, namespace)) this.reschedule();
  }

  /** Fires every event-time timer with timestamp `<= watermark`, including ones registered while firing. */
  advanceWatermark(watermark: number): void {
    this.currentWatermark = watermark;
    const heap = this.eventTimers;
    for (;;) {
      const top = heap.peek();
      if (top === undefined || top.timestamp > watermark) break;
      heap.poll();
      this.backend.setCurrentKeyAndGroup(top.key, top.keyGroup);
      this.target.onEventTime(top);
    }
  }

  private reschedule(): void {
    const top = this.processingTimers.peek();
    const next = top === undefined ? Number.POSITIVE_INFINITY : top.timestamp;
    if (next === this.scheduledAt) return;
    this.scheduled?.cancel();
    this.scheduled = undefined;
    this.scheduledAt = next;
    if (next !== Number.POSITIVE_INFINITY) {
      this.scheduled = this.pts.registerTimer(next, (now) => this.onProcessingTime(now));
    }
  }

  /** Fires processing-time timers due at `now`. */
  onProcessingTime(now: number): void {
    this.scheduled = undefined;
    this.scheduledAt = Number.POSITIVE_INFINITY;
    const heap = this.processingTimers;
    for (;;) {
      const top = heap.peek();
      if (top === undefined || top.timestamp > now) break;
      heap.poll();
      this.backend.setCurrentKeyAndGroup(top.key, top.keyGroup);
      this.target.onProcessingTime(top);
    }
    this.reschedule();
  }

  /** Number of pending timers of each kind. */
  counts(): { eventTime: number; processingTime: number } {
    return { eventTime: this.eventTimers.size, processingTime: this.processingTimers.size };
  }

  /** Pending timers, for harnesses and snapshots. */
  pending(): Array<{ domain: 'event-time' | 'processing-time'; timestamp: number; key: KeyType; namespace: Namespace }> {
    const out: Array<{ domain: 'event-time' | 'processing-time'; timestamp: number; key: KeyType; namespace: Namespace }> = [];
    for (const t of this.eventTimers.all()) out.push({ domain: 'event-time', timestamp: t.timestamp, key: t.key, namespace: t.namespace });
    for (const t of this.processingTimers.all())
      out.push({ domain: 'processing-time', timestamp: t.timestamp, key: t.key, namespace: t.namespace });
    return out.sort((a, b) => a.timestamp - b.timestamp);
  }

  dispose(): void {
    this.scheduled?.cancel();
    this.scheduled = undefined;
  }
}
