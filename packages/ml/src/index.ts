/**
 * `@weir/ml`.
 * @packageDocumentation
 */

/** The package's name and version. @public */
export const PACKAGE = { name: '@weir/ml', version: '0.1.0' } as const;
