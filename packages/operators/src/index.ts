/**
 * `@weir/operators`.
 * @packageDocumentation
 */

/** The package's name and version. @public */
export const PACKAGE = { name: '@weir/operators', version: '0.1.0' } as const;
