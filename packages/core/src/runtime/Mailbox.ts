/**
 * Runs actions inside a task, between records: the only safe place for an operator to emit,
 * touch state or fail the job from an asynchronous completion (a promise callback, a clock
 * callback). The action runs later, never during the `execute` call of a running task.
 *
 * Actions submitted after the task stopped running (finishing, finished, failed, cancelled) are
 * dropped: an operator that waits for asynchronous work in `finish()` drives it itself (see
 * `AsyncWaitOperator`).
 * @internal
 */
export interface Mailbox {
  /**
   * Queues `action` to run inside the task and wakes the task. Pass a preallocated function on
   * hot paths: the mailbox stores the reference, it does not wrap it.
   * @param action - runs once, inside the task; what it throws fails the task
   */
  execute(action: () => void): void;
}
