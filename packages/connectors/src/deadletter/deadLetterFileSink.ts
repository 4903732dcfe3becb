import type { FileSinkOptions } from '../file/FileSinkOptions.js';
import { FileSink } from '../file/FileSink.js';
import type { DeadLetter } from './DeadLetter.js';
import { deadLetterJsonSerde } from './deadLetterJsonSerde.js';

/**
 * A {@link FileSink} of dead letters as JSON lines ({@link deadLetterJsonSerde}: one JSON
 * document per line, bytes in base64), extension `jsonl`, prefix `dead-letters`, exactly-once
 * by default (files appear when checkpoints complete; use `semantic: 'at-least-once'` to see
 * them at once).
 * @param options - the FileSink options other than the format
 * @returns the sink, for `stream.getSideOutput(tag).sinkTo(...)`
 * @public
 */
export function deadLetterFileSink(
  options: Omit<FileSinkOptions<DeadLetter>, 'format' | 'avroSchema' | 'avroCodec' | 'avroBlockBytes' | 'arrowSchema' | 'columns' | 'arrowBatchRows' | 'lineDelimiter'>,
): FileSink<DeadLetter> {
  return new FileSink<DeadLetter>({
    prefix: 'dead-letters',
    extension: 'jsonl',
    ...options,
    format: deadLetterJsonSerde,
    lineDelimiter: '\n',
  });
}
