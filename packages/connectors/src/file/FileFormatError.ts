/**
 * A file that a {@link FileSource} cannot read: not of the expected format, truncated, or
 * corrupt. The message names the file and where in it the problem is.
 * @public
 */
export class FileFormatError extends Error {
  override readonly name = 'FileFormatError';

  /**
   * @param path - the file
   * @param message - what is wrong (the file name is prepended)
   * @param position - where: a byte offset, a block or batch index (format-specific), if known
   */
  constructor(
    readonly path: string,
    message: string,
    readonly position?: string,
  ) {
    super(`${path}${position === undefined ? '' : ` (${position})`}: ${message}`);
  }
}
