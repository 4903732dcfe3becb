import type { OutputTag } from '../api/OutputTag.js';
import type { AnyOneInputOperator } from './StreamOperator.js';

/**
 * Where an operator sends what it produces. Inside a chain an `Output` calls the next operator
 * synchronously; at a chain's end it writes into an exchange. Records travel as
 * (value, timestamp) argument pairs: no wrapper object per record.
 * @internal
 */
export interface Output<T> {
  /** Emits a record. */
  collect(value: T, timestamp: number): void;
  /** Emits a record to a side output. */
  collectSide(tag: OutputTag<unknown>, value: unknown, timestamp: number): void;
  /** Forwards a watermark. */
  emitWatermark(watermark: number): void;
  /** Forwards an idle (`true`) or active (`false`) status. */
  emitIdle(idle: boolean): void;
}

/**
 * An operator's output that counts the records it emits (the operator's `recordsOut`).
 * @internal
 */
export interface CountingOutput<T> extends Output<T> {
  /** Records emitted to the main output so far. */
  readonly recordsOut: number;
}

/**
 * The output of an operator whose only consumer is the next operator of its chain (no other
 * consumer, no side-output consumer): counts a record and calls the consumer's `processElement`
 * directly, one call per link instead of two (an {@link OperatorOutput} and a chaining output).
 *
 * Hot operators (filter, map, flat-map, process, sink) have a subclass of their own whose
 * `collect` is its own function: V8 keeps type feedback per function, so each link's call into
 * its consumer is monomorphic and can be inlined, and a chain source → filter → map → sink is not
 * one shared `collect` that calls itself through every link (a polymorphic, recursive call that
 * V8 does not inline). {@link GenericChainLink} serves every other operator.
 * @internal
 */
export abstract class ChainLink<T> implements CountingOutput<T> {
  recordsOut = 0;

  /** @param op - the consumer, the next operator of the chain */
  constructor(readonly op: AnyOneInputOperator) {}

  abstract collect(value: T, timestamp: number): void;

  collectSide(): void {
    // No consumer of any side output: dropped, as OperatorOutput drops tags nobody consumes.
  }

  emitWatermark(watermark: number): void {
    this.op.processWatermark(watermark);
  }

  emitIdle(idle: boolean): void {
    this.op.processIdle(idle);
  }
}

/** The chain link of operators without a link class of their own. @internal */
export class GenericChainLink<T> extends ChainLink<T> {
  collect(value: T, timestamp: number): void {
    this.recordsOut++;
    this.op.processElement(value, timestamp);
  }
}

/**
 * The output of one operator: fans records out to the main consumers and side outputs to the
 * consumers of their tags. Counts records out.
 * @internal
 */
export class OperatorOutput<T> implements CountingOutput<T> {
  recordsOut = 0;
  private readonly main: Output<T>[];
  private readonly single: Output<T> | undefined;
  private readonly sides = new Map<string, Output<unknown>[]>();
  private readonly all: Output<unknown>[] = [];

  constructor(main: Output<T>[], sides: ReadonlyArray<readonly [string, Output<unknown>]>) {
    this.main = main;
    this.single = main.length === 1 ? main[0] : undefined;
    for (const o of main) this.all.push(o as Output<unknown>);
    for (const [id, o] of sides) {
      let list = this.sides.get(id);
      if (list === undefined) {
        list = [];
        this.sides.set(id, list);
      }
      list.push(o);
      this.all.push(o);
    }
  }

  collect(value: T, timestamp: number): void {
    this.recordsOut++;
    const s = this.single;
    if (s !== undefined) {
      s.collect(value, timestamp);
      return;
    }
    const m = this.main;
    for (let i = 0; i < m.length; i++) (m[i] as Output<T>).collect(value, timestamp);
  }

  collectSide(tag: OutputTag<unknown>, value: unknown, timestamp: number): void {
    const list = this.sides.get(tag.id);
    if (list === undefined) return;
    for (let i = 0; i < list.length; i++) (list[i] as Output<unknown>).collect(value, timestamp);
  }

  emitWatermark(watermark: number): void {
    const a = this.all;
    for (let i = 0; i < a.length; i++) (a[i] as Output<unknown>).emitWatermark(watermark);
  }

  emitIdle(idle: boolean): void {
    const a = this.all;
    for (let i = 0; i < a.length; i++) (a[i] as Output<unknown>).emitIdle(idle);
  }
}

/**
 * Collects records into an array; used by test harnesses.
 * @internal
 */
export class CollectingOutput<T> implements Output<T> {
  readonly records: Array<{ value: T; timestamp: number }> = [];
  readonly sideRecords = new Map<string, Array<{ value: unknown; timestamp: number }>>();
  readonly watermarks: number[] = [];
  readonly statuses: boolean[] = [];

  collect(value: T, timestamp: number): void {
    this.records.push({ value, timestamp });
  }

  collectSide(tag: OutputTag<unknown>, value: unknown, timestamp: number): void {
    let list = this.sideRecords.get(tag.id);
    if (list === undefined) {
      list = [];
      this.sideRecords.set(tag.id, list);
    }
    list.push({ value, timestamp });
  }

  emitWatermark(watermark: number): void {
    this.watermarks.push(watermark);
  }

  emitIdle(idle: boolean): void {
    this.statuses.push(idle);
  }
}
