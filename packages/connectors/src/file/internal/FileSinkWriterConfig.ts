import type { Clock } from '@weir/core';
import type { RollingPolicy } from '../RollingPolicy.js';
import type { PartEncoderFactory } from './PartEncoderFactory.js';
import type { PartNames } from './PartNames.js';

/** Settings of a writer. @internal */
export interface FileSinkWriterConfig<T> {
  readonly names: PartNames;
  readonly exactlyOnce: boolean;
  readonly encoder: PartEncoderFactory<T>;
  readonly rolling: RollingPolicy;
  readonly chunkBytes: number;
  readonly maxBufferedBytes: number;
  readonly clock: Clock;
}
