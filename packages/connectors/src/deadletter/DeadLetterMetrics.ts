/**
 * A snapshot of {@link DeadLetterCounters}.
 * @public
 */
export interface DeadLetterMetrics {
  /** Records deserialized successfully. */
  readonly deserialized: number;
  /** Records that failed, whatever the policy (`deadLettered + skipped + failed`). */
  readonly failures: number;
  /** Failed records sent to the dead-letter output (`'dead-letter'`). */
  readonly deadLettered: number;
  /** Failed records dropped (`'skip-and-count'`). */
  readonly skipped: number;
  /** Failed records that failed the job (`'fail'`; at most one per job attempt and router). */
  readonly failed: number;
  /** Failures by error class name (`WireFormatError`, `UnknownSchemaError`...). */
  readonly byErrorType: Readonly<Record<string, number>>;
}
