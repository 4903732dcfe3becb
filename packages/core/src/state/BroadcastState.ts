import { InvalidPipelineError } from '../api/errors.js';
import type { KeyType } from '../api/types.js';
import { BinaryReader, BinaryWriter } from './codec.js';
import type { MapStateDescriptor } from './descriptors.js';

/**
 * Broadcast state as `processElement` sees it: a map shared by all keys of a parallel
 * instance, readable but not writable (only broadcast elements change it, so every instance
 * holds the same state). Values are returned by reference: do not mutate them.
 * @public
 */
export interface ReadOnlyBroadcastState<K extends KeyType, V> {
  /** The value under `key`, or `undefined`. */
  get(key: K): V | undefined;
  /** Whether `key` is present. */
  contains(key: K): boolean;
  /** The entries (a copy). */
  entries(): Array<[K, V]>;
  /** The keys (a copy). */
  keys(): K[];
  /** The values (a copy). */
  values(): V[];
  /** Calls `callback` for every entry without copying (for per-record rule evaluation). */
  forEach(callback: (value: V, key: K) => void): void;
  /** Number of entries. */
  size(): number;
  /** Whether the map is empty. */
  isEmpty(): boolean;
}

/**
 * Broadcast state as `processBroadcastElement` sees it: readable and writable. Write it only as
 * a function of the broadcast elements (never of the instance's own data), so that every
 * parallel instance, receiving the same broadcast elements, ends with the same state.
 * @public
 */
export interface BroadcastState<K extends KeyType, V> extends ReadOnlyBroadcastState<K, V> {
  /** Sets the value under `key`. */
  put(key: K, value: V): void;
  /** Sets several entries. */
  putAll(entries: Iterable<readonly [K, V]>): void;
  /** Removes `key`. */
  remove(key: K): void;
  /** Removes every entry. */
  clear(): void;
}

/**
 * A map-state descriptor of any key and value type, as `DataStream.broadcast(...)` accepts.
 * @public
 */
// biome-ignore lint/suspicious/noExplicitAny: descriptors of every key/value type are accepted; each state is typed where it is read.
export type AnyMapStateDescriptor = MapStateDescriptor<any, any>;

class HeapBroadcastState<K extends KeyType, V> implements BroadcastState<K, V> {
  readonly map = new Map<K, V>();
  readonly readOnly: ReadOnlyBroadcastState<K, V>;

  constructor(readonly descriptor: MapStateDescriptor<K, V>) {
    this.readOnly = new ReadOnlyView(this);
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }
  contains(key: K): boolean {
    return this.map.has(key);
  }
  entries(): Array<[K, V]> {
    return [...this.map.entries()];
  }
  keys(): K[] {
    return [...this.map.keys()];
  }
  values(): V[] {
    return [...this.map.values()];
  }
  forEach(callback: (value: V, key: K) => void): void {
    for (const [k, v] of this.map) callback(v, k);
  }
  size(): number {
    return this.map.size;
  }
  isEmpty(): boolean {
    return this.map.size === 0;
  }
  put(key: K, value: V): void {
    this.map.set(key, value);
  }
  putAll(entries: Iterable<readonly [K, V]>): void {
    for (const [k, v] of entries) this.map.set(k, v);
  }
  remove(key: K): void {
    this.map.delete(key);
  }
  clear(): void {
    this.map.clear();
  }
}

/** The read-only face of a broadcast state: no write methods to call, even by a cast. */
class ReadOnlyView<K extends KeyType, V> implements ReadOnlyBroadcastState<K, V> {
  constructor(private readonly s: HeapBroadcastState<K, V>) {}
  get(key: K): V | undefined {
    return this.s.map.get(key);
  }
  contains(key: K): boolean {
    return this.s.map.has(key);
  }
  entries(): Array<[K, V]> {
    return this.s.entries();
  }
  keys(): K[] {
    return this.s.keys();
  }
  values(): V[] {
    return this.s.values();
  }
  forEach(callback: (value: V, key: K) => void): void {
    this.s.forEach(callback);
  }
  size(): number {
    return this.s.map.size;
  }
  isEmpty(): boolean {
    return this.s.map.size === 0;
  }
}

/**
 * The broadcast states of one operator instance, by descriptor name, on the heap. Broadcast
 * state is operator state (not keyed): one map per descriptor per instance.
 *
 * Snapshot format (`snapshot()`, one blob per instance): for each state, its name and its
 * entries as (key bytes, value bytes) through the descriptor's serdes. Every instance holds the
 * same state, so a restore at any parallelism gives each new instance one old instance's blob
 * (instance `i` reads old instance `i mod oldParallelism`, as Flink does).
 * @internal
 */
export class BroadcastStateStore {
  private readonly states = new Map<string, HeapBroadcastState<KeyType, unknown>>();

  /**
   * @param descriptors - the states passed to `broadcast(...)`
   * @param where - names the stream in errors
   */
  constructor(
    descriptors: readonly AnyMapStateDescriptor[],
    private readonly where: string,
  ) {
    for (const d of descriptors) {
      if (this.states.has(d.name)) throw new InvalidPipelineError(`broadcast state '${d.name}' is declared twice in ${where}`);
      if (d.ttl !== undefined) throw new InvalidPipelineError(`broadcast state '${d.name}' cannot have a TTL (it is not keyed state)`);
      this.states.set(d.name, new HeapBroadcastState<KeyType, unknown>(d));
    }
  }

  /** Throws `InvalidPipelineError` when `descriptors` cannot be broadcast states together. */
  static validate(descriptors: readonly AnyMapStateDescriptor[], where: string): void {
    new BroadcastStateStore(descriptors, where);
  }

  /** The writable state of `descriptor`; throws when it was not passed to `broadcast(...)`. */
  get<K extends KeyType, V>(descriptor: MapStateDescriptor<K, V>): BroadcastState<K, V> & { readonly readOnly: ReadOnlyBroadcastState<K, V> } {
    const s = this.states.get(descriptor.name);
    if (s === undefined) {
      const known = [...this.states.keys()].map((n) => `'${n}'`).join(', ');
      throw new InvalidPipelineError(
        `broadcast state '${descriptor.name}' is not a state of ${this.where}; pass its descriptor to broadcast(...) (declared: ${known || 'none'})`,
      );
    }
    return s as unknown as HeapBroadcastState<K, V>;
  }

  /** Number of entries over all states. */
  numEntries(): number {
    let n = 0;
    for (const s of this.states.values()) n += s.map.size;
    return n;
  }

  /** Serializes every state. */
  snapshot(): Uint8Array {
    const w = new BinaryWriter();
    w.varint(this.states.size);
    for (const [name, s] of this.states) {
      w.string(name);
      w.varint(s.map.size);
      const d = s.descriptor;
      for (const [k, v] of s.map) {
        w.bytes(d.keySerde.serialize(k));
        w.bytes(d.serde.serialize(v));
      }
    }
    return w.finish();
  }

  /** Replaces the states with a snapshot's; states the operator no longer declares are dropped. */
  restore(bytes: Uint8Array): void {
    const r = new BinaryReader(bytes);
    const n = r.varint();
    for (let i = 0; i < n; i++) {
      const name = r.string();
      const count = r.varint();
      const s = this.states.get(name);
      s?.map.clear();
      for (let j = 0; j < count; j++) {
        const kb = r.bytes();
        const vb = r.bytes();
        if (s !== undefined) s.map.set(s.descriptor.keySerde.deserialize(kb), s.descriptor.serde.deserialize(vb));
      }
    }
  }
}
