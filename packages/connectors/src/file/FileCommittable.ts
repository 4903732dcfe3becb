/**
 * What a {@link FileSink} pre-commits for one closed part file: committing renames `pending` to
 * `final`. Stored (as JSON) in the checkpoint that covers the part.
 * @public
 */
export interface FileCommittable {
  /** Absolute path of the hidden pending file (`.<prefix>-<subtask>-<attempt>-<n>.pending`). */
  readonly pending: string;
  /** Absolute path of the visible file it becomes (`<prefix>-<subtask>-<attempt>-<n>.<ext>`). */
  readonly final: string;
  /** The attempt token of the run that wrote it (see {@link FileSink} for the cleanup rules). */
  readonly attempt: string;
}
