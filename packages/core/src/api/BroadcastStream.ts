import {
  CoBroadcastWithKeyedOperator,
  CoBroadcastWithNonKeyedOperator,
} from '../runtime/operators/BroadcastProcessOperator.js';
import type { StreamOperator } from '../runtime/StreamOperator.js';
import { type AnyMapStateDescriptor, BroadcastStateStore } from '../state/BroadcastState.js';
import type { BroadcastProcessFunction, KeyedBroadcastProcessFunction } from './BroadcastProcessFunction.js';
import { DataStream, type KeyedStream, newTransformation } from './DataStream.js';
import type { StreamEnvironment } from './StreamEnvironment.js';
import type { Transformation } from './Transformation.js';
import type { KeySelector, KeyType } from './types.js';

/**
 * A stream sent to every parallel instance of the operator it is connected to, together with
 * the broadcast states (map-state descriptors) that operator keeps (`stream.broadcast(desc)`).
 * Connect a stream to it (`events.connect(rules)`) and process both with a
 * {@link BroadcastProcessFunction}, or a keyed stream with a {@link KeyedBroadcastProcessFunction}.
 *
 * Every instance receives the broadcast elements of each producing instance in order; with
 * several producing instances, the interleaving may differ between receiving instances, so
 * give the broadcast side parallelism 1 (or make state updates commutative) when every
 * instance must hold exactly the same state.
 * @public
 */
export class BroadcastStream<T> {
  /** @internal */
  constructor(
    /** The environment this stream belongs to. */
    readonly environment: StreamEnvironment,
    /** @internal the broadcast partition node */
    readonly transformation: Transformation,
    /** The broadcast states of the operators this stream feeds. */
    readonly descriptors: readonly AnyMapStateDescriptor[],
  ) {
    // Duplicate names or TTLs are pipeline errors: raise them where the stream is built.
    BroadcastStateStore.validate(descriptors, 'this broadcast stream');
  }

  /** @internal phantom use of T */
  declare private readonly __type?: T;
}

/**
 * A stream connected with a broadcast stream (`events.connect(broadcastStream)`).
 * @public
 */
export class BroadcastConnectedStreams<TIn, TBroadcast> {
  /** @internal */
  constructor(
    /** The element input. */
    readonly first: DataStream<TIn>,
    /** The broadcast input. */
    readonly broadcast: BroadcastStream<TBroadcast>,
  ) {}

  /**
   * Runs a {@link BroadcastProcessFunction}: read-only broadcast state per element, writable
   * broadcast state per broadcast element.
   * @param fn - the function
   * @returns its output stream
   */
  process<TOut>(fn: BroadcastProcessFunction<TIn, TBroadcast, TOut>): DataStream<TOut> {
    const descriptors = this.broadcast.descriptors;
    const env = this.first.environment;
    const t = newTransformation(env, 'twoInput', 'BroadcastProcess', [this.first.transformation, this.broadcast.transformation], () =>
      new CoBroadcastWithNonKeyedOperator<TIn, TBroadcast, TOut>(fn, descriptors) as unknown as StreamOperator<unknown>,
    );
    // Broadcast state is operator state: it is checkpointed under the operator's uid.
    t.stateful = true;
    return new DataStream<TOut>(env, t);
  }
}

/**
 * A keyed stream connected with a broadcast stream (`keyed.connect(broadcastStream)`).
 * @public
 */
export class KeyedBroadcastConnectedStreams<K extends KeyType, TIn, TBroadcast> {
  /** @internal */
  constructor(
    /** The keyed element input. */
    readonly first: KeyedStream<K, TIn>,
    /** The broadcast input. */
    readonly broadcast: BroadcastStream<TBroadcast>,
  ) {}

  /**
   * Runs a {@link KeyedBroadcastProcessFunction}: keyed state and timers for the elements,
   * broadcast state shared by all keys of an instance.
   * @param fn - the function
   * @returns its output stream
   */
  process<TOut>(fn: KeyedBroadcastProcessFunction<K, TIn, TBroadcast, TOut>): DataStream<TOut> {
    const descriptors = this.broadcast.descriptors;
    const env = this.first.environment;
    const keySelector = this.first.keySelector;
    const hasTimestamps = this.first.transformation.hasTimestamps;
    const t = newTransformation(
      env,
      'twoInput',
      'KeyedBroadcastProcess',
      [this.first.transformation, this.broadcast.transformation],
      () =>
        new CoBroadcastWithKeyedOperator<K, TIn, TBroadcast, TOut>(fn, keySelector, descriptors, hasTimestamps) as unknown as StreamOperator<unknown>,
    );
    // Only the element input is keyed; the broadcast input reaches every instance.
    t.keySelectors = [keySelector as KeySelector<unknown, KeyType>];
    t.stateful = true;
    return new DataStream<TOut>(env, t);
  }
}
