import type { PartEncoder } from './PartEncoder.js';

/**
 * Creates the encoder of each new part file.
 * @internal
 */
export type PartEncoderFactory<T> = () => PartEncoder<T>;
