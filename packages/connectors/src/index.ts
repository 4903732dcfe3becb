/**
 * `@weir/connectors`.
 * @packageDocumentation
 */

/** The package's name and version. @public */
export const PACKAGE = { name: '@weir/connectors', version: '0.1.0' } as const;
