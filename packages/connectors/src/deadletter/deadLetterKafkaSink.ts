import type { Sink } from '@weir/core';
import type { DeadLetter } from './DeadLetter.js';
import type { DeadLetterKafkaSinkConfig } from './DeadLetterKafkaSinkConfig.js';
import { deadLetterJsonSerde } from './deadLetterJsonSerde.js';

function deadLetterHeaders(dl: DeadLetter): Readonly<Record<string, string>> {
  const h: Record<string, string> = { 'weir.dlq.error-type': dl.errorType, 'weir.dlq.source': dl.source };
  if (dl.topic !== undefined) h['weir.dlq.topic'] = dl.topic;
  if (dl.partition !== undefined) h['weir.dlq.partition'] = String(dl.partition);
  if (dl.offset !== undefined) h['weir.dlq.offset'] = String(dl.offset);
  return h;
}

/**
 * A Kafka sink of dead letters: JSON values ({@link deadLetterJsonSerde}, bytes in base64)
 * keyed by the original record's key, with headers naming the error type and origin. The sink itself is built by `create` from the
 * {@link DeadLetterKafkaSinkConfig} (topic, format, key), so connection and delivery settings
 * stay the caller's:
 *
 * ```ts
 * const dlqSink = deadLetterKafkaSink('events.dlq', (c) =>
 *   new KafkaSink<DeadLetter>({ brokers, semantic: 'exactly-once', transactionalIdPrefix: 'job-dlq', ...c }));
 * events.getSideOutput(dlqTag).sinkTo(dlqSink, 'dead letters');
 * ```
 * @param topic - the dead-letter topic
 * @param create - builds the sink from the config (normally `new KafkaSink({ ...connection, ...config })`)
 * @returns what `create` returned
 * @public
 */
export function deadLetterKafkaSink<S extends Sink<DeadLetter>>(topic: string, create: (config: DeadLetterKafkaSinkConfig) => S): S {
  if (typeof topic !== 'string' || topic.length === 0) throw new TypeError('deadLetterKafkaSink needs a topic');
  return create({ topic, format: deadLetterJsonSerde, key: (dl) => dl.key ?? null, headers: deadLetterHeaders });
}
