import type { AggregateFunction, ReduceFunction } from '../api/functions.js';
import { jsonSerde, type Serde } from '../api/Serde.js';
import type { KeyType } from '../api/types.js';

/**
 * Time-to-live of keyed state. An entry expires `ttlMs` after its last write (or, with
 * `'OnReadAndWrite'`, its last read or write), measured in processing time from the job's
 * clock. Expired entries are never returned and are removed lazily and at snapshots.
 * @public
 */
export interface StateTtlConfig {
  /** How long an entry lives, in milliseconds. */
  readonly ttlMs: number;
  /** Which accesses refresh the entry's time. Default `'OnCreateAndWrite'`. */
  readonly updateType?: 'OnCreateAndWrite' | 'OnReadAndWrite';
}

/** The kinds of keyed state. @public */
export type StateKind = 'value' | 'list' | 'map' | 'reducing' | 'aggregating';

/**
 * Describes a piece of keyed state: its name (unique per operator), its kind, how its values are
 * serialized, and an optional TTL. Pass it to `RuntimeContext.getState` and friends.
 * @public
 */
export abstract class StateDescriptor<TValue> {
  /** The kind of state this descriptor creates. */
  abstract readonly kind: StateKind;
  /** TTL, when enabled. */
  ttl: StateTtlConfig | undefined = undefined;

  /**
   * @param name - unique within the operator; checkpoints match state by it
   * @param serde - how values are stored in checkpoints and off-heap backends (JSON default)
   */
  constructor(
    readonly name: string,
    readonly serde: Serde<TValue>,
  ) {
    if (typeof name !== 'string' || name.length === 0) throw new TypeError('state name must be a non-empty string');
  }

  /**
   * Enables time-to-live for this state.
   * @returns this descriptor
   */
  enableTimeToLive(ttl: StateTtlConfig): this {
    if (!(ttl.ttlMs > 0)) throw new RangeError(`state TTL must be > 0 ms, got ${ttl.ttlMs}`);
    this.ttl = ttl;
    return this;
  }
}

/** Options shared by state descriptors. @public */
export interface StateDescriptorOptions<T> {
  /** Serde for values (JSON by default). */
  readonly serde?: Serde<T>;
}

/**
 * Describes a {@link ValueState}: one value per key.
 * @public
 */
export class ValueStateDescriptor<T> extends StateDescriptor<T> {
  /** `'value'`. */
  readonly kind = 'value' as const;
  /** @param name - state name, unique within the operator */
  constructor(name: string, options: StateDescriptorOptions<T> = {}) {
    super(name, options.serde ?? jsonSerde<T>());
  }
}

/**
 * Describes a {@link ListState}: a list of values per key.
 * @public
 */
export class ListStateDescriptor<T> extends StateDescriptor<T> {
  /** `'list'`. */
  readonly kind = 'list' as const;
  /** @param name - state name, unique within the operator */
  constructor(name: string, options: StateDescriptorOptions<T> = {}) {
    super(name, options.serde ?? jsonSerde<T>());
  }
}

/**
 * Describes a {@link MapState}: a map per key. User keys must be {@link KeyType}s.
 * @public
 */
export class MapStateDescriptor<UK extends KeyType, UV> extends StateDescriptor<UV> {
  /** `'map'`. */
  readonly kind = 'map' as const;
  /** Serde for the map's keys. */
  readonly keySerde: Serde<UK>;
  /** @param name - state name, unique within the operator */
  constructor(name: string, options: StateDescriptorOptions<UV> & { readonly keySerde?: Serde<UK> } = {}) {
    super(name, options.serde ?? jsonSerde<UV>());
    this.keySerde = options.keySerde ?? jsonSerde<UK>();
  }
}

/**
 * Describes a {@link ReducingState}: one value per key, combined with `reduce` on every add.
 * @public
 */
export class ReducingStateDescriptor<T> extends StateDescriptor<T> {
  /** `'reducing'`. */
  readonly kind = 'reducing' as const;
  /**
   * @param name - state name, unique within the operator
   * @param reduce - combines the stored value with an added one
   */
  constructor(
    name: string,
    readonly reduce: ReduceFunction<T>,
    options: StateDescriptorOptions<T> = {},
  ) {
    super(name, options.serde ?? jsonSerde<T>());
  }
}

/**
 * Describes an {@link AggregatingState}: one accumulator per key fed by an
 * {@link AggregateFunction}. The serde is for the accumulator.
 * @public
 */
export class AggregatingStateDescriptor<TIn, TAcc, TOut> extends StateDescriptor<TAcc> {
  /** `'aggregating'`. */
  readonly kind = 'aggregating' as const;
  /**
   * @param name - state name, unique within the operator
   * @param aggregate - the aggregate function
   */
  constructor(
    name: string,
    readonly aggregate: AggregateFunction<TIn, TAcc, TOut>,
    options: StateDescriptorOptions<TAcc> = {},
  ) {
    super(name, options.serde ?? jsonSerde<TAcc>());
  }
}

/**
 * One value per key (and namespace).
 * @public
 */
export interface ValueState<T> {
  /** The value for the current key, or `undefined`. */
  value(): T | undefined;
  /** Sets the value for the current key. */
  update(value: T): void;
  /** Removes the value for the current key. */
  clear(): void;
}

/**
 * A list per key.
 * @public
 */
export interface ListState<T> {
  /** The list for the current key (empty when none). The array is a copy. */
  get(): T[];
  /** Appends a value. */
  add(value: T): void;
  /** Appends values. */
  addAll(values: readonly T[]): void;
  /** Replaces the list. */
  update(values: readonly T[]): void;
  /** Removes the list. */
  clear(): void;
}

/**
 * A map per key.
 * @public
 */
export interface MapState<UK extends KeyType, UV> {
  /** The value under `key`, or `undefined`. */
  get(key: UK): UV | undefined;
  /** Sets the value under `key`. */
  put(key: UK, value: UV): void;
  /** Sets several entries. */
  putAll(entries: Iterable<readonly [UK, UV]>): void;
  /** Removes `key`. */
  remove(key: UK): void;
  /** Whether `key` is present. */
  contains(key: UK): boolean;
  /** The entries (a snapshot). */
  entries(): Array<[UK, UV]>;
  /** The keys (a snapshot). */
  keys(): UK[];
  /** The values (a snapshot). */
  values(): UV[];
  /** Whether the map is empty. */
  isEmpty(): boolean;
  /** Removes the whole map. */
  clear(): void;
}

/**
 * A value per key that `add` combines with a reduce function.
 * @public
 */
export interface ReducingState<T> {
  /** The reduced value, or `undefined` when nothing was added. */
  get(): T | undefined;
  /** Reduces `value` into the state. */
  add(value: T): void;
  /** Removes the value. */
  clear(): void;
}

/**
 * An accumulator per key fed by an aggregate function.
 * @public
 */
export interface AggregatingState<TIn, TOut> {
  /** The aggregate's result, or `undefined` when nothing was added. */
  get(): TOut | undefined;
  /** Adds a value to the accumulator. */
  add(value: TIn): void;
  /** Removes the accumulator. */
  clear(): void;
}
