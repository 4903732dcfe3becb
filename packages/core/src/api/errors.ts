/**
 * Thrown when a pipeline cannot work as built (keyed state on a non-keyed stream, event-time
 * timers without timestamps, a missing uid where one is required). Raised when the graph is
 * built or when the job starts, before any record is processed.
 * @public
 */
export class InvalidPipelineError extends Error {
  /** Always `'InvalidPipelineError'`. */
  override readonly name = 'InvalidPipelineError';
}

/**
 * A user function threw. The job fails with this error; it names the operator (name and uid),
 * the subtask, the key being processed (for keyed operators) and carries the original error as
 * `cause`.
 * @public
 */
export class UserFunctionError extends Error {
  /** Always `'UserFunctionError'`. */
  override readonly name = 'UserFunctionError';

  /**
   * @param operatorName - the operator's name
   * @param operatorUid - the operator's uid
   * @param subtaskIndex - which parallel instance failed
   * @param key - the current key, or `undefined` on a non-keyed operator
   * @param hasKey - whether the operator is keyed (a key may itself be `undefined`-like)
   * @param cause - what the user function threw
   */
  constructor(
    readonly operatorName: string,
    readonly operatorUid: string,
    readonly subtaskIndex: number,
    readonly key: unknown,
    readonly hasKey: boolean,
    override readonly cause: unknown,
  ) {
    const where = `operator '${operatorName}' (uid ${operatorUid}, subtask ${subtaskIndex})`;
    const keyPart = hasKey ? ` for key ${formatKey(key)}` : '';
    const causeMsg = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`User function failed in ${where}${keyPart}: ${causeMsg}`, { cause });
  }
}

/**
 * The job was cancelled before it finished.
 * @public
 */
export class JobCancelledError extends Error {
  /** Always `'JobCancelledError'`. */
  override readonly name = 'JobCancelledError';
}

function formatKey(key: unknown): string {
  if (typeof key === 'string') return JSON.stringify(key);
  if (typeof key === 'bigint') return `${key}n`;
  return String(key);
}
