/**
 * Options common to every {@link FileSource} format.
 * @public
 */
export interface FileSourceOptions {
  /**
   * Continuous mode: list the input directories every `intervalMs` (processing time of the job's
   * clock; the first listing after one interval, as Flink does) and read files not seen before.
   * The set of seen files is checkpointed. Files must appear complete (written elsewhere and
   * renamed in, as a `FileSink` does). Without `monitor` the source is bounded: the files given,
   * or a snapshot of the directories at start.
   */
  readonly monitor?: { readonly intervalMs: number };
  /**
   * Which files of a directory to read (file name, absolute path). Default: every regular file
   * whose name does not start with `.` or `_` (hidden and in-progress files). Files named
   * explicitly are always read. Directories are not descended into.
   */
  readonly filter?: (name: string, path: string) => boolean;
  /** Bytes read per I/O request (default 1 MiB). */
  readonly readChunkBytes?: number;
}
