/**
 * A schema registered under a subject: one version of the subject.
 * @public
 */
export interface SubjectSchema {
  /** The subject (with the topic name strategy, `<topic>-value` or `<topic>-key`). */
  readonly subject: string;
  /** The version within the subject, from 1. */
  readonly version: number;
  /** The schema's global id (what the Confluent wire format carries). */
  readonly id: number;
  /** The schema as JSON text. */
  readonly schema: string;
}
