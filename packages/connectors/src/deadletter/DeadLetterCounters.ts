import type { DeadLetterMetrics } from './DeadLetterMetrics.js';
import type { DeserializationFailurePolicy } from './DeserializationFailurePolicy.js';

/**
 * Live counters of deserialization outcomes. One instance may be shared by every
 * {@link DeadLetterRouter} of a source in a process (its readers), so the source can report a
 * single set of numbers with {@link DeadLetterCounters.snapshot}. Plain fields, no allocation
 * per record.
 * @public
 */
export class DeadLetterCounters {
  /** Records deserialized successfully. */
  deserialized = 0;
  /** Failed records sent to the dead-letter output. */
  deadLettered = 0;
  /** Failed records dropped by `'skip-and-count'`. */
  skipped = 0;
  /** Failed records that failed the job. */
  failed = 0;
  private readonly byType = new Map<string, number>();

  /** Counts one failure handled with `policy`. */
  countFailure(policy: DeserializationFailurePolicy, errorType: string): void {
    if (policy === 'dead-letter') this.deadLettered++;
    else if (policy === 'skip-and-count') this.skipped++;
    else this.failed++;
    this.byType.set(errorType, (this.byType.get(errorType) ?? 0) + 1);
  }

  /** All failures. */
  get failures(): number {
    return this.deadLettered + this.skipped + this.failed;
  }

  /** A copy of the counters now. */
  snapshot(): DeadLetterMetrics {
    return {
      deserialized: this.deserialized,
      failures: this.failures,
      deadLettered: this.deadLettered,
      skipped: this.skipped,
      failed: this.failed,
      byErrorType: Object.fromEntries(this.byType),
    };
  }
}
