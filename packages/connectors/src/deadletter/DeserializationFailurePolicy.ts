/**
 * What a source does with a record it cannot deserialize (or that fails validation):
 *
 * - `'dead-letter'`: the record becomes a {@link DeadLetter} (original bytes, position, error,
 *   time) on a dead-letter output, is counted, and the job continues;
 * - `'fail'`: the job fails with a {@link DeserializationFailureError} naming the source, the
 *   position and the cause (counted too);
 * - `'skip-and-count'`: the record is dropped and counted, nothing else.
 *
 * No policy drops a record silently: every failure is counted in {@link DeadLetterCounters}.
 * @public
 */
export type DeserializationFailurePolicy = 'dead-letter' | 'fail' | 'skip-and-count';
