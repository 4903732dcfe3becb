import type { Collector, OutputTag, ProcessContext, ProcessFunction } from '@weir/core';
import type { DeadLetter } from './DeadLetter.js';
import type { DecodeResult } from './DecodeResult.js';

/**
 * Splits a stream of {@link DecodeResult}s: values go to the main output, dead letters to the
 * side output `tag` (then `stream.getSideOutput(tag).sinkTo(deadLetterSink)`). Chained after the
 * source, so the dead letters take part in checkpoints like any record: with a two-phase-commit
 * dead-letter sink they are written exactly once.
 *
 * @example
 * ```ts
 * const dlq = new OutputTag<DeadLetter>('dead-letters');
 * const events = env.fromSource(sourceOfDecodeResults, strategy, 'events').process(new DeadLetterSplitter<Ev>(dlq));
 * events.getSideOutput(dlq).sinkTo(deadLetterFileSink({ path: '/data/dlq' }));
 * ```
 * @public
 */
export class DeadLetterSplitter<T> implements ProcessFunction<DecodeResult<T>, T> {
  /** @param tag - the dead-letter side output */
  constructor(readonly tag: OutputTag<DeadLetter>) {}

  /** Emits the value, or the dead letter to the side output. */
  processElement(r: DecodeResult<T>, ctx: ProcessContext, out: Collector<T>): void {
    if (r.ok) out.collect(r.value);
    else ctx.output(this.tag, r.deadLetter);
  }
}
