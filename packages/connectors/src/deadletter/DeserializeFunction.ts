import type { Collector, ProcessContext, ProcessFunction, RuntimeContext, Serde } from '@weir/core';
import { isSchemaResolvingSerde } from '../avro/isSchemaResolvingSerde.js';
import type { DeadLetter } from './DeadLetter.js';
import { DeadLetterCounters } from './DeadLetterCounters.js';
import { DeadLetterRouter } from './DeadLetterRouter.js';
import type { DeserializeFunctionOptions } from './DeserializeFunctionOptions.js';
import type { DeserializationFailurePolicy } from './DeserializationFailurePolicy.js';

/**
 * Deserializes a stream of raw records (bytes, or records carrying bytes and their position)
 * under a {@link DeserializationFailurePolicy}: decoded values go downstream, failed records to
 * the dead-letter side output (`'dead-letter'`), are counted (`'skip-and-count'`) or fail the
 * job with a {@link DeserializationFailureError} naming the position (`'fail'`).
 *
 * For sources that emit raw bytes (a collection, a Kafka source with a bytes format, a file of
 * lines). Schema-registry serdes are opened in `open`; ids a record names that `open` did not
 * load cannot be fetched here (a process function is synchronous) and fail as
 * {@link UnknownSchemaError} — sources that can should call `ensureSchemas(batch)` themselves.
 *
 * @example
 * ```ts
 * const dlq = new OutputTag<DeadLetter>('dlq');
 * const events = rawBytes.process(new DeserializeFunction<Uint8Array, Ev>({ serde, deadLetterTag: dlq })).name('decode');
 * events.getSideOutput(dlq).sinkTo(deadLetterFileSink({ path: 'dlq' }));
 * ```
 * @public
 */
export class DeserializeFunction<TIn, T> implements ProcessFunction<TIn, T> {
  /** The counters of all parallel instances. */
  readonly counters: DeadLetterCounters;
  /** The policy. */
  readonly policy: DeserializationFailurePolicy;
  private readonly serde: Serde<T>;
  private router!: DeadLetterRouter;
  private ctx!: ProcessContext;

  /** @param options - the serde, the policy and the dead-letter side output */
  constructor(private readonly options: DeserializeFunctionOptions<TIn, T>) {
    this.serde = options.serde;
    this.policy = options.policy ?? (options.deadLetterTag === undefined ? 'fail' : 'dead-letter');
    if (this.policy === 'dead-letter' && options.deadLetterTag === undefined) {
      throw new TypeError("DeserializeFunction: policy 'dead-letter' needs a deadLetterTag");
    }
    this.counters = options.counters ?? new DeadLetterCounters();
  }

  /** Opens a schema-resolving serde and creates this instance's router. */
  async open(ctx: RuntimeContext): Promise<void> {
    if (isSchemaResolvingSerde(this.serde)) await this.serde.open();
    const tag = this.options.deadLetterTag;
    this.router = new DeadLetterRouter({
      source: this.options.source ?? 'stream',
      policy: this.policy,
      counters: this.counters,
      now: () => ctx.currentProcessingTime(),
      ...(tag === undefined ? {} : { output: (dl: DeadLetter) => this.ctx.output(tag, dl) }),
    });
  }

  /** Decodes one record under the policy. */
  processElement(record: TIn, ctx: ProcessContext, out: Collector<T>): void {
    this.ctx = ctx;
    const bytes = this.options.bytes === undefined ? (record as unknown as Uint8Array) : this.options.bytes(record);
    const position = this.options.position?.(record);
    const v = this.router.decode(this.serde, bytes, position);
    if (v !== DeadLetterRouter.REJECTED) out.collect(v);
  }
}
