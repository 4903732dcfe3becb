import type { FileSourceOptions } from './FileSourceOptions.js';

/**
 * Options of `FileSource.forArrow`.
 * @public
 */
export interface ArrowSourceOptions extends FileSourceOptions {
  /**
   * How 64-bit integer columns are emitted: `'number'` (default; a value beyond
   * `Number.MAX_SAFE_INTEGER` fails the job rather than losing precision) or `'bigint'`.
   */
  readonly int64?: 'number' | 'bigint';
}
