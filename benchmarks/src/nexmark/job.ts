/**
 * One Nexmark query as a Weir job: source, watermarks, query, blackhole sink.
 * @packageDocumentation
 */
import { type DataStream, StreamEnvironment, WatermarkStrategy } from '@weir/core';
import type { GeneratorConfig } from './generator.js';
import type { NexmarkEvent } from './model.js';
import { type NexmarkQuery, OUT_OF_ORDERNESS_MS } from './queries.js';
import { BlackholeSink, type SinkResult } from './sink.js';
import { NexmarkSource } from './source.js';

/**
 * Options of {@link nexmarkEvents} and {@link runWeirQuery}.
 * @public
 */
export interface NexmarkJobOptions {
  /** Number of events. */
  readonly events: number;
  /** Generator settings (defaults: the reference's). */
  readonly generator?: Partial<GeneratorConfig>;
  /** Parallelism of the job (default 1). */
  readonly parallelism?: number;
  /** Watermarks after every record instead of every 200 ms (deterministic; default false). */
  readonly watermarkPerRecord?: boolean;
  /** Events per source split (default 1,000,000). */
  readonly splitEvents?: number;
}

/**
 * The stream of Nexmark events of a job, with event time and watermarks 4 s behind the largest
 * event time (the SQL suite's `WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECOND`).
 * @param env - the environment
 * @param options - events and generator settings
 * @public
 */
export function nexmarkEvents(env: StreamEnvironment, options: NexmarkJobOptions): DataStream<NexmarkEvent> {
  const source = new NexmarkSource({
    events: options.events,
    ...(options.generator !== undefined ? { generator: options.generator } : {}),
    ...(options.watermarkPerRecord !== undefined ? { watermarkPerRecord: options.watermarkPerRecord } : {}),
    ...(options.splitEvents !== undefined ? { splitEvents: options.splitEvents } : {}),
  });
  return env.fromSource(source, WatermarkStrategy.forBoundedOutOfOrderness<NexmarkEvent>(OUT_OF_ORDERNESS_MS), 'Nexmark');
}

/**
 * Runs a query on Weir into a blackhole sink.
 * @param query - the query
 * @param options - events, generator settings, parallelism
 * @returns what the sink counted
 * @public
 */
export async function runWeirQuery<TOut>(query: NexmarkQuery<TOut>, options: NexmarkJobOptions): Promise<SinkResult> {
  const env = StreamEnvironment.create({ parallelism: options.parallelism ?? 1 });
  const sink = new BlackholeSink<TOut>(query.digest);
  query.build(nexmarkEvents(env, options)).sinkTo(sink, 'Blackhole');
  await env.execute(`nexmark ${query.name}`);
  return sink.result();
}
