import type { KeyType } from '../../api/types.js';
import { ValueStateDescriptor } from '../../state/descriptors.js';
import type { InternalValueState, KeyedStateBackend } from '../../state/StateBackend.js';
import { VOID_NAMESPACE } from '../../state/StateBackend.js';
import { KeyDueQueue } from '../KeyDueQueue.js';
import { type OneInputOperator, StreamOperator } from '../StreamOperator.js';

/**
 * The state of one key in a {@link KeyRecordWindowOperator}: the operator's window data plus
 * `at`, the event time at which the key is queued to be woken up (`null` when it is not).
 * @internal
 */
export interface KeyRecord {
  /**
   * The time the key is queued at; `NaN` when it is not (a number field either way, so that
   * setting it does not allocate; `null` after a JSON round trip means the same).
   */
  at: number | null;
  /** The record's key (so that a queued record needs no lookup by key). */
  k: KeyType;
}

/**
 * Base of the specialised event-time window operators (slices, sessions). Everything a key
 * needs — its window contents and its pending event-time timers — lives in one record in one
 * keyed `ValueState` (one hash lookup per element, checkpointed, rescaled and spilled like any
 * keyed state). Instead of one entry per (key, window, time) in the generic timer service, a
 * key is queued once, at the earliest time its record wants; when the watermark passes that
 * time the operator handles everything of the key due at that time and queues the key again
 * at its next time. Keys come due in time order, so firings happen in the same order as with
 * per-window timers.
 *
 * The queue is not checkpointed: it is rebuilt from the records when the operator opens.
 * @internal
 */
export abstract class KeyRecordWindowOperator<TIn, TOut, R extends KeyRecord>
  extends StreamOperator<TOut>
  implements OneInputOperator<TIn>
{
  protected backend!: KeyedStateBackend;
  protected records!: InternalValueState<R>;
  /**
   * Keys to wake; with a backend that stores records by reference, the records themselves
   * (a woken record is then checked without a lookup by key).
   */
  private readonly due = new KeyDueQueue<KeyType | R>();
  /** Whether the backend keeps the record objects themselves (changes in place need no write-back). */
  protected byReference = false;
  /** True while a key's due work runs: timers it adds are collected by the caller. */
  private inDue = false;

  constructor(private readonly stateName: string) {
    super();
  }

  abstract processElement(value: TIn, timestamp: number): void;

  /**
   * Runs the key's work due at `time` (the current key is set; `time <= watermark`); returns the
   * record's next due time, or `null` when the record holds nothing any more (it is deleted).
   */
  protected abstract onDue(record: R, time: number): number | null;

  /** The record's earliest due time, or `null` (restore). */
  protected abstract nextDue(record: R): number | null;

  /** Opens the keyed state and rebuilds the due queue from restored records. */
  protected openRecords(): void {
    this.backend = this.keyedBackend('window()');
    this.records = this.backend.getValueState(new ValueStateDescriptor<R>(this.stateName));
    this.byReference = this.records.storesByReference === true;
    const b = this.backend;
    for (const key of b.keys(this.stateName, VOID_NAMESPACE)) {
      b.setCurrentKey(key);
      const rec = this.records.value();
      if (rec === undefined) continue;
      const next = this.nextDue(rec);
      rec.at = next ?? Number.NaN;
      rec.k = key;
      if (next !== null) this.due.add(next, this.byReference ? rec : key);
      this.records.update(rec);
    }
  }

  /** Asks for the current key to be woken at `time` (records its own timers itself). */
  protected wakeAt(record: R, time: number): void {
    // An infinite time (infinite allowed lateness) never comes: nothing to queue.
    if (this.inDue || time === Number.POSITIVE_INFINITY) return;
    const at = record.at;
    // Not queued (NaN, or null from JSON) or queued later: queue at `time`.
    if (at === null || !(at <= time)) {
      record.at = time;
      this.due.add(time, this.byReference ? record : this.backend.getCurrentKey());
    }
  }

  override processWatermark(watermark: number): void {
    this.currentWatermark = watermark;
    const q = this.due;
    const b = this.backend;
    const state = this.records;
    while (q.size > 0 && q.peekTime() <= watermark) {
      const t = q.peekTime();
      const entries = q.poll() as Array<KeyType | R>;
      for (let i = 0; i < entries.length; i++) {
        let rec: R | undefined;
        let key: KeyType;
        if (this.byReference) {
          rec = entries[i] as R;
          if (rec.at !== t) continue; // stale: the key moved on (or its record was deleted)
          key = rec.k;
          b.setCurrentKey(key);
        } else {
          key = entries[i] as KeyType;
          b.setCurrentKey(key);
          rec = state.value();
          if (rec === undefined || rec.at !== t) continue; // stale: the key moved on
        }
        rec.at = Number.NaN;
        let next: number | null;
        this.inDue = true;
        try {
          next = this.onDue(rec, t);
        } catch (e) {
          throw this.userError(e, true);
        } finally {
          this.inDue = false;
        }
        if (next === null) {
          state.clear();
        } else {
          rec.at = next;
          q.add(next, this.byReference ? rec : key);
          if (!this.byReference) state.update(rec);
        }
      }
      q.release(entries);
    }
    this.output.emitWatermark(watermark);
  }

  /** Keys queued at distinct times (for tests). */
  get pendingWakeups(): number {
    return this.due.size;
  }
}
