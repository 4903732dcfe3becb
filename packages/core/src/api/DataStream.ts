import { MapOperator } from '../runtime/operators/MapOperator.js';
import { FilterOperator } from '../runtime/operators/FilterOperator.js';
import { FlatMapOperator } from '../runtime/operators/FlatMapOperator.js';
import { ProcessOperator } from '../runtime/operators/ProcessOperator.js';
import { KeyedProcessOperator } from '../runtime/operators/KeyedProcessOperator.js';
import { KeyedReduceOperator } from '../runtime/operators/KeyedReduceOperator.js';
import { CoProcessOperator, KeyedCoProcessOperator } from '../runtime/operators/CoProcessOperator.js';
import { TimestampsAndWatermarksOperator } from '../runtime/operators/TimestampsAndWatermarksOperator.js';
import { SinkOperator } from '../runtime/operators/SinkOperator.js';
import type { StreamOperator } from '../runtime/StreamOperator.js';
import { CollectSink } from '../sinks/CollectSink.js';
import { PrintSink } from '../sinks/PrintSink.js';
import { InvalidPipelineError } from './errors.js';
import type {
  CoProcessFunction,
  FilterFunction,
  FlatMapFunction,
  KeyedCoProcessFunction,
  KeyedProcessFunction,
  MapFunction,
  ProcessFunction,
  ReduceFunction,
} from './functions.js';
import type { OutputTag } from './OutputTag.js';
import type { Sink } from './Sink.js';
import type { StreamEnvironment } from './StreamEnvironment.js';
import { type OperatorFactory, Transformation, type TransformationKind } from './Transformation.js';
import type { KeyField, KeySelector, KeyType, WidenedKey } from './types.js';
import type { WatermarkStrategy } from './WatermarkStrategy.js';
import { WindowedStream } from './WindowedStream.js';
import { BroadcastConnectedStreams, BroadcastStream, KeyedBroadcastConnectedStreams } from './BroadcastStream.js';
import type { AnyMapStateDescriptor } from '../state/BroadcastState.js';
import { CoGroupedStreams } from './CoGroupedStreams.js';
import { IntervalJoin } from './IntervalJoin.js';
import { JoinedStreams } from './JoinedStreams.js';
import type { Window } from './windowing/Window.js';
import type { WindowAssigner } from './windowing/WindowAssigner.js';

/** Creates and registers a logical graph node. @internal */
export function newTransformation(
  env: StreamEnvironment,
  kind: TransformationKind,
  name: string,
  inputs: readonly Transformation[],
  factory?: OperatorFactory,
): Transformation {
  for (const i of inputs) {
    if (env.internalOwns(i)) continue;
    throw new InvalidPipelineError('streams of different StreamEnvironments cannot be combined');
  }
  const t = new Transformation(env.internalNextId(), kind, name, inputs);
  if (factory !== undefined) t.factory = factory;
  env.internalRegister(t);
  return t;
}

/**
 * A stream of records of type `T`: the unit of the fluent API. Every operation returns a new
 * stream; nothing runs until the environment executes.
 *
 * Records are passed between operators by reference: do not mutate a record after emitting
 * it, nor a record you received (copy it instead).
 * @public
 */
export class DataStream<T> {
  /**
   * @internal
   */
  constructor(
    /** The environment this stream belongs to. */
    readonly environment: StreamEnvironment,
    /** @internal */
    readonly transformation: Transformation,
  ) {}

  /** @internal */
  protected derive<R>(kind: TransformationKind, name: string, factory: OperatorFactory, inputs?: Transformation[]): DataStream<R> {
    const t = newTransformation(this.environment, kind, name, inputs ?? [this.transformation], factory);
    return new DataStream<R>(this.environment, t);
  }

  /**
   * Transforms each record into exactly one record.
   * @param fn - the mapping
   * @returns the mapped stream
   */
  map<R>(fn: MapFunction<T, R>): DataStream<R> {
    return this.derive<R>('oneInput', 'Map', () => new MapOperator(fn) as StreamOperator<unknown>);
  }

  /**
   * Transforms each record into zero or more records.
   * @example
   * ```ts
   * lines.flatMap<string>((line, out) => { for (const w of line.split(' ')) out.collect(w); });
   * ```
   */
  flatMap<R>(fn: FlatMapFunction<T, R>): DataStream<R> {
    return this.derive<R>('oneInput', 'FlatMap', () => new FlatMapOperator(fn) as StreamOperator<unknown>);
  }

  /** Keeps the records for which `fn` returns true. */
  filter(fn: FilterFunction<T>): DataStream<T> {
    return this.derive<T>('oneInput', 'Filter', () => new FilterOperator(fn) as StreamOperator<unknown>);
  }

  /**
   * Runs a {@link ProcessFunction}: any number of outputs, side outputs via `ctx.output`.
   * Keyed state and timers need a keyed stream (`keyBy(...).process(...)`).
   */
  process<R>(fn: ProcessFunction<T, R>): DataStream<R> {
    return this.derive<R>('oneInput', 'Process', () => new ProcessOperator(fn) as StreamOperator<unknown>);
  }

  /**
   * Partitions the stream by key: records with equal keys go to the same parallel instance,
   * where keyed state and timers are scoped to the key. Keys are hashed into key groups
   * (`maxParallelism` of them), and each instance owns a contiguous range of key groups.
   *
   * @param selector - a function returning the key, or the name of a field holding it
   * @example
   * ```ts
   * events.keyBy((e) => e.user_id);
   * events.keyBy('user_id');
   * ```
   */
  keyBy<K extends KeyType>(selector: KeySelector<T, K>): KeyedStream<WidenedKey<K>, T>;
  keyBy<F extends KeyField<T>>(field: F): KeyedStream<WidenedKey<Extract<T[F], KeyType>>, T>;
  keyBy(selector: KeySelector<T, KeyType> | string): KeyedStream<KeyType, T> {
    const fn: KeySelector<T, KeyType> =
      typeof selector === 'string' ? (v: T) => (v as Record<string, KeyType>)[selector] as KeyType : selector;
    if (typeof fn !== 'function') throw new TypeError('keyBy expects a key selector function or a field name');
    const t = newTransformation(this.environment, 'partition', 'KeyBy', [this.transformation]);
    t.partitioner = 'hash';
    t.partitionKey = fn as KeySelector<unknown, KeyType>;
    t.hasTimestamps = this.transformation.hasTimestamps;
    return new KeyedStream<KeyType, T>(this.environment, t, fn);
  }

  /** Spreads records round-robin over the next operator's parallel instances. */
  rebalance(): DataStream<T> {
    const t = newTransformation(this.environment, 'partition', 'Rebalance', [this.transformation]);
    t.partitioner = 'rebalance';
    return new DataStream<T>(this.environment, t);
  }

  /** Sends every record to every parallel instance of the next operator. */
  broadcast(): DataStream<T>;
  /**
   * Makes this a broadcast stream with broadcast state: connect a stream to it
   * (`events.connect(rules.broadcast(rulesDesc))`) and every parallel instance of the
   * connected operator receives every element and keeps the states named by `descriptors`.
   * @param descriptors - the broadcast states (map states) of the connected operator
   */
  broadcast(...descriptors: [AnyMapStateDescriptor, ...AnyMapStateDescriptor[]]): BroadcastStream<T>;
  broadcast(...descriptors: AnyMapStateDescriptor[]): DataStream<T> | BroadcastStream<T> {
    const t = newTransformation(this.environment, 'partition', 'Broadcast', [this.transformation]);
    t.partitioner = 'broadcast';
    if (descriptors.length > 0) return new BroadcastStream<T>(this.environment, t, descriptors);
    return new DataStream<T>(this.environment, t);
  }

  /** Keeps records on the same subtask index (requires equal parallelism); chains when possible. */
  forward(): DataStream<T> {
    const t = newTransformation(this.environment, 'partition', 'Forward', [this.transformation]);
    t.partitioner = 'forward';
    return new DataStream<T>(this.environment, t);
  }

  /** Merges streams of the same type into one. Watermarks combine by minimum. */
  union(...others: ReadonlyArray<DataStream<T>>): DataStream<T> {
    const t = newTransformation(this.environment, 'union', 'Union', [this.transformation, ...others.map((o) => o.transformation)]);
    return new DataStream<T>(this.environment, t);
  }

  /**
   * Connects two streams, possibly of different types, for a {@link CoProcessFunction}.
   * Connect two keyed streams (`a.keyBy(..).connect(b.keyBy(..))`) for shared keyed state.
   */
  connect<T2>(other: DataStream<T2>): ConnectedStreams<T, T2>;
  /**
   * Connects with a broadcast stream (`rules.broadcast(desc)`) for a
   * {@link BroadcastProcessFunction} with broadcast state.
   */
  connect<T2>(other: BroadcastStream<T2>): BroadcastConnectedStreams<T, T2>;
  connect<T2>(other: DataStream<T2> | BroadcastStream<T2>): ConnectedStreams<T, T2> | BroadcastConnectedStreams<T, T2> {
    if (other instanceof BroadcastStream) return new BroadcastConnectedStreams<T, T2>(this, other);
    return new ConnectedStreams<T, T2>(this.environment, this, other);
  }

  /**
   * Starts a window join with `other` (an inner join of the elements that share a key and a
   * window): continue with `where`, `equalTo`, `window` and `apply`.
   * @example
   * ```ts
   * clicks.join(views).where((c) => c.user).equalTo((v) => v.user)
   *   .window(TumblingEventTimeWindows.of(60_000))
   *   .apply((click, view) => ({ click, view }));
   * ```
   */
  join<T2>(other: DataStream<T2>): JoinedStreams<T, T2> {
    return new JoinedStreams<T, T2>(this, other);
  }

  /**
   * Starts a window co-group with `other`: per key and window, a function receives the
   * elements of both sides. Continue with `where`, `equalTo`, `window` and `apply`.
   */
  coGroup<T2>(other: DataStream<T2>): CoGroupedStreams<T, T2> {
    return new CoGroupedStreams<T, T2>(this, other);
  }

  /**
   * Assigns event-time timestamps and generates watermarks. Watermarks from upstream are
   * replaced by this strategy's (except the final one of a bounded input).
   */
  assignTimestampsAndWatermarks(strategy: WatermarkStrategy<T>): DataStream<T> {
    const t = newTransformation(this.environment, 'oneInput', 'Timestamps/Watermarks', [this.transformation]);
    t.hasTimestamps = strategy.assignsEventTime || this.transformation.hasTimestamps;
    const perRecord = t.perRecordWatermarks;
    t.factory = (ctx) =>
      new TimestampsAndWatermarksOperator(
        strategy as WatermarkStrategy<unknown>,
        perRecord,
        ctx.autoWatermarkInterval,
      ) as StreamOperator<unknown>;
    return new DataStream<T>(this.environment, t);
  }

  /**
   * The side output named by `tag` of the operator that produced this stream.
   * @example
   * ```ts
   * const errors = new OutputTag<string>('errors');
   * const parsed = lines.process<Ev>({ processElement(l, ctx, out) { ... ctx.output(errors, l); } });
   * const errorStream: DataStream<string> = parsed.getSideOutput(errors);
   * ```
   */
  getSideOutput<X>(tag: OutputTag<X>): DataStream<X> {
    const t = newTransformation(this.environment, 'sideOutput', `SideOutput(${tag.id})`, [this.transformation]);
    t.tag = tag as OutputTag<unknown>;
    return new DataStream<X>(this.environment, t);
  }

  /** Writes the stream to a sink. */
  sinkTo(sink: Sink<T>, name = 'Sink'): DataStreamSink<T> {
    const t = newTransformation(this.environment, 'sink', name, [this.transformation], () =>
      new SinkOperator(sink as Sink<unknown>) as unknown as StreamOperator<unknown>,
    );
    t.sink = sink as Sink<unknown>;
    this.environment.internalAddSink(t);
    return new DataStreamSink<T>(t);
  }

  /** Prints every record to stdout (for debugging and examples). */
  print(prefix = ''): DataStreamSink<T> {
    return this.sinkTo(new PrintSink<T>(prefix), 'Print');
  }

  /**
   * Runs the job (every sink added to the environment, plus this stream) and resolves with all
   * records of this stream. For bounded inputs.
   */
  async executeAndCollect(jobName = 'executeAndCollect'): Promise<T[]> {
    const sink = new CollectSink<T>();
    const t = newTransformation(this.environment, 'sink', 'Collect', [this.transformation], () =>
      new SinkOperator(sink as Sink<unknown>) as unknown as StreamOperator<unknown>,
    );
    t.sink = sink as Sink<unknown>;
    await this.environment.internalExecute([t], jobName);
    return sink.values;
  }

  private operatorTransformation(what: string): Transformation {
    const t = this.transformation;
    if (t.isVirtual) {
      throw new InvalidPipelineError(`${what} can only be set on an operator, not on a ${t.kind} (${t.name}) stream`);
    }
    return t;
  }

  /** Sets the operator's name (in metrics, errors and logs). */
  name(name: string): this {
    this.operatorTransformation('name()').name = name;
    return this;
  }

  /**
   * Sets the operator's uid: the stable identity that matches its state across restores and
   * its instances across workers. Give every stateful operator one.
   */
  uid(uid: string): this {
    if (typeof uid !== 'string' || uid.length === 0) throw new TypeError('uid must be a non-empty string');
    this.operatorTransformation('uid()').uid = uid;
    return this;
  }

  /** Sets the operator's parallelism. */
  setParallelism(parallelism: number): this {
    if (!Number.isInteger(parallelism) || parallelism < 1) throw new RangeError(`parallelism must be a positive integer, got ${parallelism}`);
    this.operatorTransformation('setParallelism()').parallelism = parallelism;
    return this;
  }
}

/**
 * A stream partitioned by key `K` (`stream.keyBy(...)`): keyed state, timers and rolling
 * reduces are available, scoped to each record's key.
 * @public
 */
export class KeyedStream<K extends KeyType, T> extends DataStream<T> {
  /** @internal */
  constructor(
    environment: StreamEnvironment,
    transformation: Transformation,
    /** Extracts the key. */
    readonly keySelector: KeySelector<T, K>,
  ) {
    super(environment, transformation);
  }

  /**
   * Runs a {@link KeyedProcessFunction} with keyed state and timers.
   */
  override process<R>(fn: KeyedProcessFunction<K, T, R>): DataStream<R> {
    const t = newTransformation(this.environment, 'oneInput', 'KeyedProcess', [this.transformation], () =>
      new KeyedProcessOperator<K, T, R>(fn, this.keySelector) as unknown as StreamOperator<unknown>,
    );
    t.keySelectors = [this.keySelector as KeySelector<unknown, KeyType>];
    t.stateful = true;
    return new DataStream<R>(this.environment, t);
  }

  /**
   * A rolling reduce: for each record, combines it with the key's current value and emits
   * the result (every intermediate result, in arrival order per key).
   */
  reduce(fn: ReduceFunction<T>): DataStream<T> {
    const t = newTransformation(this.environment, 'oneInput', 'Reduce', [this.transformation], () =>
      new KeyedReduceOperator<K, T>(fn, this.keySelector) as unknown as StreamOperator<unknown>,
    );
    t.keySelectors = [this.keySelector as KeySelector<unknown, KeyType>];
    t.stateful = true;
    return new DataStream<T>(this.environment, t);
  }

  /**
   * Groups each key's records into windows chosen by `assigner` (tumbling, sliding, session,
   * global...). Configure the trigger, evictor, lateness and late-data output on the result,
   * then evaluate windows with `reduce`, `aggregate` or `process`.
   * @example
   * ```ts
   * keyed.window(TumblingEventTimeWindows.of(60_000)).aggregate(countAgg, (key, w, n) => ({ key, start: w.start, n }));
   * ```
   */
  window<W extends Window>(assigner: WindowAssigner<T, W>): WindowedStream<K, T, W> {
    return new WindowedStream<K, T, W>(this, assigner);
  }

  /**
   * Starts an interval join with another keyed stream of the same key type: each element `a`
   * of this stream joins the elements `b` of `other` with the same key and
   * `a.ts + lower <= b.ts <= a.ts + upper`. Continue with `between(lower, upper)` and `process`.
   * @example
   * ```ts
   * orders.keyBy((o) => o.id)
   *   .intervalJoin(payments.keyBy((p) => p.orderId))
   *   .between(0, 3_600_000)
   *   .process<Paid>({ processElement: (o, p, _ctx, out) => out.collect({ order: o.id, paidAt: p.ts }) });
   * ```
   */
  intervalJoin<T2>(other: KeyedStream<K, T2>): IntervalJoin<K, T, T2> {
    if (!(other instanceof KeyedStream)) throw new InvalidPipelineError('intervalJoin needs a keyed stream: call keyBy(...) on the other input');
    return new IntervalJoin<K, T, T2>(this, other);
  }

  /**
   * Connects with another keyed stream of the same key type: shared keyed state and timers.
   * Connecting to a stream keyed by another key type does not compile.
   */
  override connect<T2>(other: KeyedStream<K, T2>): KeyedConnectedStreams<K, T, T2>;
  /**
   * Connects with a broadcast stream (`rules.broadcast(desc)`) for a
   * {@link KeyedBroadcastProcessFunction}: keyed state and timers plus broadcast state.
   */
  override connect<T2>(other: BroadcastStream<T2>): KeyedBroadcastConnectedStreams<K, T, T2>;
  // `keySelector?: never` keeps keyed streams of another key type out of this overload: at run
  // time any keyed `other` yields KeyedConnectedStreams, so typing it ConnectedStreams would lie.
  override connect<T2>(other: DataStream<T2> & { readonly keySelector?: never }): ConnectedStreams<T, T2>;
  override connect<T2>(
    other: DataStream<T2> | BroadcastStream<T2>,
  ): ConnectedStreams<T, T2> | KeyedConnectedStreams<K, T, T2> | KeyedBroadcastConnectedStreams<K, T, T2> {
    if (other instanceof BroadcastStream) return new KeyedBroadcastConnectedStreams<K, T, T2>(this, other);
    if (other instanceof KeyedStream) {
      return new KeyedConnectedStreams<K, T, T2>(this.environment, this, other as KeyedStream<K, T2>);
    }
    return new ConnectedStreams<T, T2>(this.environment, this, other);
  }
}

/**
 * Two streams connected for a two-input function.
 * @public
 */
export class ConnectedStreams<T1, T2> {
  /** @internal */
  constructor(
    private readonly environment: StreamEnvironment,
    /** The first input. */
    readonly first: DataStream<T1>,
    /** The second input. */
    readonly second: DataStream<T2>,
  ) {}

  /** Runs a {@link CoProcessFunction} over both inputs. */
  process<R>(fn: CoProcessFunction<T1, T2, R>): DataStream<R> {
    const t = newTransformation(
      this.environment,
      'twoInput',
      'CoProcess',
      [this.first.transformation, this.second.transformation],
      () => new CoProcessOperator<T1, T2, R>(fn) as unknown as StreamOperator<unknown>,
    );
    return new DataStream<R>(this.environment, t);
  }

  /** Keys both inputs (with keys of the same type) for keyed state shared by both. */
  keyBy<K extends KeyType>(key1: KeySelector<T1, K>, key2: KeySelector<T2, K>): KeyedConnectedStreams<WidenedKey<K>, T1, T2> {
    return new KeyedConnectedStreams<WidenedKey<K>, T1, T2>(this.environment, this.first.keyBy(key1), this.second.keyBy(key2));
  }
}

/**
 * Two keyed streams connected on the same key type.
 * @public
 */
export class KeyedConnectedStreams<K extends KeyType, T1, T2> {
  /** @internal */
  constructor(
    private readonly environment: StreamEnvironment,
    /** The first input. */
    readonly first: KeyedStream<K, T1>,
    /** The second input. */
    readonly second: KeyedStream<K, T2>,
  ) {}

  /** Runs a {@link KeyedCoProcessFunction}: keyed state and timers shared by both inputs. */
  process<R>(fn: KeyedCoProcessFunction<K, T1, T2, R>): DataStream<R> {
    const k1 = this.first.keySelector;
    const k2 = this.second.keySelector;
    const t = newTransformation(
      this.environment,
      'twoInput',
      'KeyedCoProcess',
      [this.first.transformation, this.second.transformation],
      () => new KeyedCoProcessOperator<K, T1, T2, R>(fn, k1, k2) as unknown as StreamOperator<unknown>,
    );
    t.keySelectors = [k1 as KeySelector<unknown, KeyType>, k2 as KeySelector<unknown, KeyType>];
    t.stateful = true;
    return new DataStream<R>(this.environment, t);
  }
}

/**
 * The end of a stream written to a sink; name, uid and parallelism can still be set.
 * @public
 */
export class DataStreamSink<T> {
  /** @internal */
  constructor(
    /** @internal */
    readonly transformation: Transformation,
  ) {}

  /** Sets the sink's name. */
  name(name: string): this {
    this.transformation.name = name;
    return this;
  }

  /** Sets the sink's uid. */
  uid(uid: string): this {
    this.transformation.uid = uid;
    return this;
  }

  /** Sets the sink's parallelism. */
  setParallelism(parallelism: number): this {
    if (!Number.isInteger(parallelism) || parallelism < 1) throw new RangeError(`parallelism must be a positive integer, got ${parallelism}`);
    this.transformation.parallelism = parallelism;
    return this;
  }

  /** @internal phantom use of T */
  declare private readonly __type?: T;
}
