import type { Clock } from '../api/Clock.js';
import type { KeyType } from '../api/types.js';
import type { KeyGroupRange } from '../runtime/keygroups.js';
import type {
  AggregatingState,
  AggregatingStateDescriptor,
  ListState,
  ListStateDescriptor,
  MapState,
  MapStateDescriptor,
  ReducingState,
  ReducingStateDescriptor,
  StateDescriptor,
  ValueState,
  ValueStateDescriptor,
} from './descriptors.js';

/**
 * A namespace subdivides a key's state: window operators keep one accumulator per
 * (key, window), with the window's id as namespace. Plain keyed state uses {@link VOID_NAMESPACE}.
 * @public
 */
export type Namespace = string | number;

/** The namespace of state that is not subdivided. @public */
export const VOID_NAMESPACE: Namespace = '';

/**
 * State handles as the runtime sees them: the user-facing interface plus namespace control.
 * @public
 */
export interface InternalKvState {
  /** Scopes later accesses to `namespace` (for the backend's current key). */
  setCurrentNamespace(namespace: Namespace): void;
  /** The descriptor this state was created from. */
  readonly descriptor: StateDescriptor<unknown>;
}

/** Internal value state. @public */
export type InternalValueState<T> = ValueState<T> &
  InternalKvState & {
    /**
     * True when the backend keeps the very object passed to `update` and returns it from
     * `value()` (heap state without TTL): an operator that mutates a value it read in place
     * need not write it back. Absent or false: every change must go through `update`.
     */
    readonly storesByReference?: boolean;
  };
/** Internal list state. @public */
export type InternalListState<T> = ListState<T> & InternalKvState & {
  /** Appends the lists of `sources` to `target` (for merging windows). */
  mergeNamespaces(target: Namespace, sources: readonly Namespace[]): void;
};
/** Internal map state. @public */
export type InternalMapState<UK extends KeyType, UV> = MapState<UK, UV> & InternalKvState;
/** Internal reducing state. @public */
export type InternalReducingState<T> = ReducingState<T> & InternalKvState & {
  /** Merges the values of `sources` into `target` (for merging windows). */
  mergeNamespaces(target: Namespace, sources: readonly Namespace[]): void;
};
/** Internal aggregating state. @public */
export type InternalAggregatingState<TIn, TOut> = AggregatingState<TIn, TOut> & InternalKvState & {
  /** Merges the accumulators of `sources` into `target` (for merging windows). */
  mergeNamespaces(target: Namespace, sources: readonly Namespace[]): void;
};

/**
 * The serialized keyed state of one operator instance, cut by key group so that a restore at
 * another parallelism can take just the key groups it owns.
 * @public
 */
export interface KeyedStateSnapshot {
  /** The backend that wrote it (`'heap'`, `'level'`). */
  readonly backend: string;
  /** Number of key groups of the job. */
  readonly maxParallelism: number;
  /** One entry per state, each cut by key group. */
  readonly states: ReadonlyArray<{
    readonly name: string;
    readonly kind: string;
    readonly keyGroups: ReadonlyArray<{ readonly keyGroup: number; readonly data: Uint8Array }>;
  }>;
}

/**
 * Keyed state of one operator instance. The runtime sets the current key before each record
 * and timer; state handles then read and write that key's entries.
 * @public
 */
export interface KeyedStateBackend {
  /** The key groups this instance owns. */
  readonly keyGroupRange: KeyGroupRange;
  /** Number of key groups of the job. */
  readonly maxParallelism: number;
  /** Sets the current key; computes its key group. */
  setCurrentKey(key: KeyType): void;
  /** Sets the current key when its key group is already known. */
  setCurrentKeyAndGroup(key: KeyType, keyGroup: number): void;
  /** The current key. */
  getCurrentKey(): KeyType;
  /** The current key's key group. */
  getCurrentKeyGroup(): number;
  /** Value state for `descriptor` (created on first use, then the same handle). */
  getValueState<T>(descriptor: ValueStateDescriptor<T>): InternalValueState<T>;
  /** List state for `descriptor`. */
  getListState<T>(descriptor: ListStateDescriptor<T>): InternalListState<T>;
  /** Map state for `descriptor`. */
  getMapState<UK extends KeyType, UV>(descriptor: MapStateDescriptor<UK, UV>): InternalMapState<UK, UV>;
  /** Reducing state for `descriptor`. */
  getReducingState<T>(descriptor: ReducingStateDescriptor<T>): InternalReducingState<T>;
  /** Aggregating state for `descriptor`. */
  getAggregatingState<TIn, TAcc, TOut>(
    descriptor: AggregatingStateDescriptor<TIn, TAcc, TOut>,
  ): InternalAggregatingState<TIn, TOut>;
  /** Number of (state, key, namespace) entries held; 0 when all state was cleared. */
  numEntries(namespace?: Namespace): number;
  /** Every key that has an entry in `stateName` and `namespace`. */
  keys(stateName: string, namespace: Namespace): KeyType[];
  /**
   * Optional (backends that hold state as objects in memory): calls `fn(key, keyGroup, value)`
   * for every entry of state `stateName` (without TTL) in the non-void `namespace`. `fn` may
   * read state but must not add or delete entries of that namespace. Window operators use it
   * to fire one window for all keys at once.
   */
  forEachInNamespace?(stateName: string, namespace: Namespace, fn: (key: KeyType, keyGroup: number, value: unknown) => void): void;
  /** Optional, with {@link KeyedStateBackend.forEachInNamespace}: deletes every entry of `stateName` in `namespace`. */
  clearNamespace?(stateName: string, namespace: Namespace): void;
  /** Optional, with {@link KeyedStateBackend.forEachInNamespace}: the non-void namespaces with entries in `stateName`. */
  namespaces?(stateName: string): Namespace[];
  /** Serializes all state, per key group. */
  snapshot(): KeyedStateSnapshot;
  /**
   * Serializes all state asynchronously (backends whose data lives off-heap); when present the
   * runtime prefers it. The cut must still be taken synchronously at the call.
   */
  snapshotAsync?(): Promise<KeyedStateSnapshot>;
  /** Loads the key groups this instance owns from one or more snapshots. */
  restore(snapshots: readonly KeyedStateSnapshot[]): void;
  /** Releases resources. */
  dispose(): void | Promise<void>;
}

/**
 * Where an operator's keyed state is stored while a job runs.
 * @public
 */
export interface StateBackend {
  /** A short name recorded in snapshots. */
  readonly name: string;
  /** Creates the keyed state of one operator instance. */
  createKeyedStateBackend(options: KeyedStateBackendOptions): KeyedStateBackend | Promise<KeyedStateBackend>;
}

/**
 * What a state backend is told about the operator instance it stores state for.
 * @public
 */
export interface KeyedStateBackendOptions {
  /** The operator's uid. */
  readonly operatorUid: string;
  /** The subtask index. */
  readonly subtaskIndex: number;
  /** Key groups owned by the instance. */
  readonly keyGroupRange: KeyGroupRange;
  /** Number of key groups of the job. */
  readonly maxParallelism: number;
  /** Processing-time clock (for TTL). */
  readonly clock: Clock;
  /**
   * Whether the job takes checkpoints (default false). A backend may then track what changes
   * from the start, so that its first snapshot costs no more than the later ones.
   */
  readonly checkpointing?: boolean;
}
