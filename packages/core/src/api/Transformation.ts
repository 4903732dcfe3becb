import type { PartitionerKind } from '../runtime/Exchange.js';
import type { StreamOperator } from '../runtime/StreamOperator.js';
import type { OutputTag } from './OutputTag.js';
import type { Sink } from './Sink.js';
import type { Source, SourceSplit } from './Source.js';
import type { KeySelector, KeyType } from './types.js';
import type { WatermarkStrategy } from './WatermarkStrategy.js';

/** The kinds of logical graph nodes. @internal */
export type TransformationKind = 'source' | 'oneInput' | 'twoInput' | 'sink' | 'partition' | 'union' | 'sideOutput';

/** What an operator factory is told when the plan instantiates an operator. @internal */
export interface OperatorFactoryContext {
  /** The job's periodic watermark interval. */
  readonly autoWatermarkInterval: number;
}

/** Creates one operator instance per subtask. @internal */
export type OperatorFactory = (ctx: OperatorFactoryContext) => StreamOperator<unknown>;

/**
 * A node of the logical graph the DataStream API builds. Virtual nodes (`partition`, `union`,
 * `sideOutput`) only shape edges; the others become operators.
 * @internal
 */
export class Transformation {
  name: string;
  uid: string | undefined = undefined;
  parallelism: number | undefined = undefined;
  /** Operator factory (oneInput, twoInput, sink). */
  factory: OperatorFactory | undefined = undefined;
  /** Key selectors of a keyed operator, per input. */
  keySelectors: Array<KeySelector<unknown, KeyType>> | undefined = undefined;
  /** Source and its watermark strategy. */
  source: Source<unknown, SourceSplit, unknown> | undefined = undefined;
  strategy: WatermarkStrategy<unknown> | undefined = undefined;
  /** Partitioning of a `partition` node. */
  partitioner: PartitionerKind | undefined = undefined;
  partitionKey: KeySelector<unknown, KeyType> | undefined = undefined;
  /** Tag of a `sideOutput` node. */
  tag: OutputTag<unknown> | undefined = undefined;
  /** Sink of a `sink` node. */
  sink: Sink<unknown> | undefined = undefined;
  /** Whether records reaching the consumers of this node carry event-time timestamps. */
  hasTimestamps: boolean;
  /** Whether every source feeding this node emits watermarks per record (deterministic runs). */
  perRecordWatermarks: boolean;
  /** Whether the operator keeps keyed state or timers (then a uid is advisable). */
  stateful = false;

  constructor(
    readonly id: number,
    readonly kind: TransformationKind,
    name: string,
    readonly inputs: readonly Transformation[],
  ) {
    this.name = name;
    this.hasTimestamps = inputs.length > 0 && inputs.every((i) => i.hasTimestamps);
    this.perRecordWatermarks = inputs.length > 0 && inputs.every((i) => i.perRecordWatermarks);
  }

  /** Whether this node becomes an operator (as opposed to shaping edges). */
  get isVirtual(): boolean {
    return this.kind === 'partition' || this.kind === 'union' || this.kind === 'sideOutput';
  }

  /** The uid used to match this operator across runs and workers. */
  get effectiveUid(): string {
    return this.uid ?? `${this.kind}-${this.id}`;
  }
}
