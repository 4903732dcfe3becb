import type { Clock } from '../api/Clock.js';
import type { KeyType } from '../api/types.js';
import { type KeyGroupRange, keyGroupFor } from '../runtime/keygroups.js';
import type { BinaryReader, BinaryWriter } from './codec.js';
import { encodeKeyGroup, type KeyGroupColumns, ownedKeyGroups, readKeyGroup } from './keyGroupFormat.js';
import { isJsonSerde } from '../api/Serde.js';
import type {
  AggregatingStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  StateDescriptor,
  ValueStateDescriptor,
} from './descriptors.js';
import {
  type InternalAggregatingState,
  type InternalListState,
  type InternalMapState,
  type InternalReducingState,
  type InternalValueState,
  type KeyedStateBackend,
  type KeyedStateBackendOptions,
  type KeyedStateSnapshot,
  type Namespace,
  type StateBackend,
  VOID_NAMESPACE,
} from './StateBackend.js';

/**
 * Keeps keyed state as objects in memory, organised by key group, and serializes it with each
 * state's serde only when a snapshot is taken. The fastest backend; state must fit in memory.
 * @public
 */
export class HeapStateBackend implements StateBackend {
  /** `'heap'`, as recorded in snapshots. */
  readonly name = 'heap';

  /** Creates the in-memory keyed state of one operator instance. */
  createKeyedStateBackend(options: KeyedStateBackendOptions): KeyedStateBackend {
    return new HeapKeyedStateBackend(options.keyGroupRange, options.maxParallelism, options.clock);
  }
}

/** A TTL-wrapped stored value: `t` is the time of the last refreshing access. */
interface TtlEntry {
  v: unknown;
  t: number;
}

/**
 * The entries of one state. Plain keyed state ({@link VOID_NAMESPACE}, the per-record hot path)
 * lives in one Map per state over all owned key groups: a lookup touches one hash table whose
 * header stays in cache, instead of one of `maxParallelism` tables. Other namespaces (windows)
 * are kept per key group → namespace → key. Key groups of void entries are recomputed from the
 * key when a snapshot needs them (a key's group is a function of the key).
 */
class StateTable {
  /** Non-void namespaces: key group → namespace → key → stored value. */
  private readonly nsGroups: Array<Map<Namespace, Map<KeyType, unknown>> | undefined>;
  /** {@link VOID_NAMESPACE}: key → stored value, for every owned key group. */
  readonly voidMap = new Map<KeyType, unknown>();
  private readonly start: number;
  private readonly end: number;
  /**
   * Per key group, the namespace looked up last and its key map: window operators touch one or
   * two namespaces (panes) for long stretches, and a namespace lookup hashes a double.
   */
  private readonly lastNs: Array<Namespace | undefined>;
  private readonly lastMap: Array<Map<KeyType, unknown> | undefined>;

  constructor(
    private readonly range: KeyGroupRange,
    private readonly maxParallelism: number,
  ) {
    this.nsGroups = new Array(Math.max(0, range.end - range.start + 1)).fill(undefined);
    this.lastNs = new Array(this.nsGroups.length).fill(undefined);
    this.lastMap = new Array(this.nsGroups.length).fill(undefined);
    this.start = range.start;
    this.end = range.end;
  }

  /**
   * key group index (from the range start) → namespace → key → stored value: a view built on
   * each call, O(entries), for snapshots and key listings; never for the per-record path.
   * Within a key group, void-namespace entries come first, in insertion order.
   */
  get groups(): ReadonlyArray<ReadonlyMap<Namespace, ReadonlyMap<KeyType, unknown>> | undefined> {
    const view: Array<Map<Namespace, ReadonlyMap<KeyType, unknown>> | undefined> = new Array(this.nsGroups.length).fill(undefined);
    if (this.voidMap.size > 0) {
      for (const [key, stored] of this.voidMap) {
        const idx = keyGroupFor(key, this.maxParallelism) - this.start;
        let g = view[idx];
        if (g === undefined) view[idx] = g = new Map();
        let m = g.get(VOID_NAMESPACE) as Map<KeyType, unknown> | undefined;
        if (m === undefined) g.set(VOID_NAMESPACE, (m = new Map()));
        m.set(key, stored);
      }
    }
    this.nsGroups.forEach((ng, idx) => {
      if (ng === undefined) return;
      let g = view[idx];
      if (g === undefined) view[idx] = g = new Map();
      for (const [ns, m] of ng) g.set(ns, m);
    });
    return view;
  }

  /** The non-void namespaces of key group index `idx` (from the range start), for snapshots. */
  namespacedGroup(idx: number): ReadonlyMap<Namespace, ReadonlyMap<KeyType, unknown>> | undefined {
    return this.nsGroups[idx];
  }

  get(kg: number, ns: Namespace, key: KeyType): unknown {
    if (ns === VOID_NAMESPACE) return this.voidMap.get(key);
    const idx = kg - this.start;
    if (this.lastNs[idx] === ns) return (this.lastMap[idx] as Map<KeyType, unknown>).get(key);
    const g = this.nsGroups[idx];
    if (g === undefined) return undefined;
    const m = g.get(ns);
    if (m === undefined) return undefined;
    this.lastNs[idx] = ns;
    this.lastMap[idx] = m;
    return m.get(key);
  }

  put(kg: number, ns: Namespace, key: KeyType, value: unknown): void {
    if (kg < this.start || kg > this.end) {
      throw new RangeError(
        `key ${String(key)} (key group ${kg}) is outside this subtask's key groups ${this.range.start}..${this.range.end} of ${this.maxParallelism}`,
      );
    }
    if (ns === VOID_NAMESPACE) {
      this.voidMap.set(key, value);
      return;
    }
    const idx = kg - this.start;
    if (this.lastNs[idx] === ns) {
      (this.lastMap[idx] as Map<KeyType, unknown>).set(key, value);
      return;
    }
    let g = this.nsGroups[idx];
    if (g === undefined) {
      g = new Map();
      this.nsGroups[idx] = g;
    }
    let m = g.get(ns);
    if (m === undefined) {
      m = new Map();
      g.set(ns, m);
    }
    this.lastNs[idx] = ns;
    this.lastMap[idx] = m;
    m.set(key, value);
  }

  remove(kg: number, ns: Namespace, key: KeyType): void {
    if (ns === VOID_NAMESPACE) {
      this.voidMap.delete(key);
      return;
    }
    const idx = kg - this.start;
    const g = this.nsGroups[idx];
    if (g === undefined) return;
    const m = g.get(ns);
    if (m === undefined) return;
    if (m.delete(key) && m.size === 0) {
      g.delete(ns);
      if (this.lastMap[idx] === m) {
        this.lastNs[idx] = undefined;
        this.lastMap[idx] = undefined;
      }
      if (g.size === 0) this.nsGroups[idx] = undefined;
    }
  }

  /** Calls `fn` for every entry in non-void `ns`, key group by key group. */
  forEachIn(ns: Namespace, fn: (key: KeyType, keyGroup: number, stored: unknown) => void): void {
    const groups = this.nsGroups;
    for (let idx = 0; idx < groups.length; idx++) {
      const m = groups[idx]?.get(ns);
      if (m === undefined) continue;
      const kg = idx + this.start;
      for (const [key, stored] of m) fn(key, kg, stored);
    }
  }

  /** Deletes every entry in non-void `ns`. */
  clearNamespace(ns: Namespace): void {
    const groups = this.nsGroups;
    for (let idx = 0; idx < groups.length; idx++) {
      if (this.lastNs[idx] === ns) {
        this.lastNs[idx] = undefined;
        this.lastMap[idx] = undefined;
      }
      const g = groups[idx];
      if (g === undefined || !g.delete(ns)) continue;
      if (g.size === 0) groups[idx] = undefined;
    }
  }

  /** The non-void namespaces that hold entries. */
  namespaces(): Namespace[] {
    const out = new Set<Namespace>();
    for (const g of this.nsGroups) if (g !== undefined) for (const ns of g.keys()) out.add(ns);
    return [...out];
  }

  count(namespace?: Namespace): number {
    let n = namespace === undefined || namespace === VOID_NAMESPACE ? this.voidMap.size : 0;
    if (namespace === VOID_NAMESPACE) return n;
    for (const g of this.nsGroups) {
      if (g === undefined) continue;
      if (namespace === undefined) for (const m of g.values()) n += m.size;
      else n += g.get(namespace)?.size ?? 0;
    }
    return n;
  }
}

abstract class HeapState {
  ns: Namespace = VOID_NAMESPACE;
  readonly ttlMs: number;
  readonly refreshOnRead: boolean;

  constructor(
    readonly backend: HeapKeyedStateBackend,
    readonly table: StateTable,
    readonly descriptor: StateDescriptor<unknown>,
  ) {
    this.ttlMs = descriptor.ttl?.ttlMs ?? 0;
    this.refreshOnRead = descriptor.ttl?.updateType === 'OnReadAndWrite';
  }

  setCurrentNamespace(namespace: Namespace): void {
    this.ns = namespace;
  }

  // Plain keyed state needs the key group only to check that the key belongs here, which a
  // subtask owning every key group can skip: then no hash is computed per record.
  protected raw(): unknown {
    const b = this.backend;
    return this.ns === VOID_NAMESPACE ? this.table.voidMap.get(b.currentKey) : this.table.get(b.currentKeyGroup, this.ns, b.currentKey);
  }

  protected setRaw(v: unknown): void {
    const b = this.backend;
    if (this.ns === VOID_NAMESPACE && b.ownsAllKeyGroups) this.table.voidMap.set(b.currentKey, v);
    else this.table.put(b.currentKeyGroup, this.ns, b.currentKey, v);
  }

  clear(): void {
    const b = this.backend;
    if (this.ns === VOID_NAMESPACE) this.table.voidMap.delete(b.currentKey);
    else this.table.remove(b.currentKeyGroup, this.ns, b.currentKey);
  }

  /** Unwraps a stored element honouring TTL; `undefined` when absent or expired. */
  protected unwrap(stored: unknown): unknown {
    if (this.ttlMs === 0 || stored === undefined) return stored;
    const e = stored as TtlEntry;
    const now = this.backend.clock.now();
    if (e.t + this.ttlMs <= now) return undefined;
    if (this.refreshOnRead) e.t = now;
    return e.v;
  }

  protected wrap(v: unknown): unknown {
    return this.ttlMs === 0 ? v : { v, t: this.backend.clock.now() };
  }

  isExpired(stored: unknown, now: number): boolean {
    return this.ttlMs !== 0 && (stored as TtlEntry).t + this.ttlMs <= now;
  }

  /** Encodes one stored entry (TTL-wrapped when enabled) into `w`; false when nothing live remains. */
  abstract encodeEntry(w: BinaryWriter, stored: unknown, now: number): boolean;
  abstract decodeEntry(r: BinaryReader): unknown;

  /** The default JSON serde is written straight into the snapshot buffer (same bytes). */
  private jsonValuesCache: boolean | undefined;
  private get jsonValues(): boolean {
    if (this.jsonValuesCache === undefined) this.jsonValuesCache = isJsonSerde(this.descriptor.serde);
    return this.jsonValuesCache;
  }

  /** Whether snapshots may write this state's values as one JSON array per key group. */
  snapshotValuesAsJson(): boolean {
    const kind = this.descriptor.kind;
    return this.ttlMs === 0 && this.jsonValues && kind !== 'list' && kind !== 'map';
  }

  protected encodeLeaf(w: BinaryWriter, stored: unknown): void {
    let v = stored;
    if (this.ttlMs !== 0) {
      const e = stored as TtlEntry;
      w.f64(e.t);
      v = e.v;
    }
    if (this.jsonValues) w.json(v);
    else w.bytes(this.descriptor.serde.serialize(v));
  }

  protected decodeLeaf(r: BinaryReader): unknown {
    if (this.ttlMs !== 0) {
      const t = r.f64();
      return { v: this.jsonValues ? r.json() : this.descriptor.serde.deserialize(r.bytes()), t } satisfies TtlEntry;
    }
    return this.jsonValues ? r.json() : this.descriptor.serde.deserialize(r.bytes());
  }
}

class HeapValueState<T> extends HeapState implements InternalValueState<T> {
  /** Values are held as the objects given, unless TTL wraps them. */
  get storesByReference(): boolean {
    return this.ttlMs === 0;
  }

  value(): T | undefined {
    const stored = this.raw();
    if (this.ttlMs === 0) return stored as T | undefined;
    const v = this.unwrap(stored);
    if (v === undefined && stored !== undefined) this.clear();
    return v as T | undefined;
  }

  update(value: T): void {
    if (value === undefined) {
      this.clear();
      return;
    }
    this.setRaw(this.wrap(value));
  }

  encodeEntry(w: BinaryWriter, stored: unknown, now: number): boolean {
    if (this.isExpired(stored, now)) return false;
    this.encodeLeaf(w, stored);
    return true;
  }

  decodeEntry(r: BinaryReader): unknown {
    return this.decodeLeaf(r);
  }
}

class HeapListState<T> extends HeapState implements InternalListState<T> {
  private live(): unknown[] | undefined {
    const list = this.raw() as unknown[] | undefined;
    if (list === undefined || this.ttlMs === 0) return list;
    const now = this.backend.clock.now();
    const kept = list.filter((e) => !this.isExpired(e, now));
    if (kept.length !== list.length) {
      if (kept.length === 0) {
        this.clear();
        return undefined;
      }
      this.setRaw(kept);
      return kept;
    }
    // Nothing expired: return the stored array itself, so add/addAll append to the state.
    return list;
  }

  get(): T[] {
    const list = this.live();
    if (list === undefined) return [];
    if (this.ttlMs === 0) return list.slice() as T[];
    return list.map((e) => this.unwrap(e) as T);
  }

  add(value: T): void {
    const list = this.live();
    if (list === undefined) this.setRaw([this.wrap(value)]);
    else list.push(this.wrap(value));
  }

  addAll(values: readonly T[]): void {
    if (values.length === 0) return;
    const list = this.live();
    const wrapped = values.map((v) => this.wrap(v));
    if (list === undefined) this.setRaw(wrapped);
    else for (const v of wrapped) list.push(v);
  }

  update(values: readonly T[]): void {
    if (values.length === 0) this.clear();
    else this.setRaw(values.map((v) => this.wrap(v)));
  }

  mergeNamespaces(target: Namespace, sources: readonly Namespace[]): void {
    const saved = this.ns;
    const moved: unknown[] = [];
    for (const src of sources) {
      if (src === target) continue;
      this.ns = src;
      const list = this.raw() as unknown[] | undefined;
      if (list !== undefined) {
        for (const e of list) moved.push(e);
        this.clear();
      }
    }
    if (moved.length > 0) {
      this.ns = target;
      const list = this.raw() as unknown[] | undefined;
      if (list === undefined) this.setRaw(moved);
      else for (const e of moved) list.push(e);
    }
    this.ns = saved;
  }

  encodeEntry(w: BinaryWriter, stored: unknown, now: number): boolean {
    const list = (stored as unknown[]).filter((e) => !this.isExpired(e, now));
    if (list.length === 0) return false;
    w.varint(list.length);
    for (const e of list) this.encodeLeaf(w, e);
    return true;
  }

  decodeEntry(r: BinaryReader): unknown {
    const n = r.varint();
    const list: unknown[] = [];
    for (let i = 0; i < n; i++) list.push(this.decodeLeaf(r));
    return list;
  }
}

class HeapMapState<UK extends KeyType, UV> extends HeapState implements InternalMapState<UK, UV> {
  private map(create: boolean): Map<UK, unknown> | undefined {
    let m = this.raw() as Map<UK, unknown> | undefined;
    if (m === undefined && create) {
      m = new Map();
      this.setRaw(m);
    }
    return m;
  }

  private read(m: Map<UK, unknown>, key: UK): UV | undefined {
    const stored = m.get(key);
    if (stored === undefined || this.ttlMs === 0) return stored as UV | undefined;
    const v = this.unwrap(stored);
    if (v === undefined) this.removeFrom(m, key);
    return v as UV | undefined;
  }

  private removeFrom(m: Map<UK, unknown>, key: UK): void {
    m.delete(key);
    if (m.size === 0) this.clear();
  }

  get(key: UK): UV | undefined {
    const m = this.map(false);
    return m === undefined ? undefined : this.read(m, key);
  }

  put(key: UK, value: UV): void {
    (this.map(true) as Map<UK, unknown>).set(key, this.wrap(value));
  }

  putAll(entries: Iterable<readonly [UK, UV]>): void {
    for (const [k, v] of entries) this.put(k, v);
  }

  remove(key: UK): void {
    const m = this.map(false);
    if (m !== undefined) this.removeFrom(m, key);
  }

  contains(key: UK): boolean {
    return this.get(key) !== undefined;
  }

  entries(): Array<[UK, UV]> {
    const m = this.map(false);
    if (m === undefined) return [];
    const out: Array<[UK, UV]> = [];
    for (const k of [...m.keys()]) {
      const v = this.read(m, k);
      if (v !== undefined) out.push([k, v]);
    }
    return out;
  }

  keys(): UK[] {
    return this.entries().map((e) => e[0]);
  }

  values(): UV[] {
    return this.entries().map((e) => e[1]);
  }

  isEmpty(): boolean {
    return this.entries().length === 0;
  }

  encodeEntry(w: BinaryWriter, stored: unknown, now: number): boolean {
    const m = stored as Map<UK, unknown>;
    const live = [...m].filter(([, e]) => !this.isExpired(e, now));
    if (live.length === 0) return false;
    const keySerde = (this.descriptor as unknown as MapStateDescriptor<UK, UV>).keySerde;
    w.varint(live.length);
    for (const [k, e] of live) {
      w.bytes(keySerde.serialize(k));
      this.encodeLeaf(w, e);
    }
    return true;
  }

  decodeEntry(r: BinaryReader): unknown {
    const keySerde = (this.descriptor as unknown as MapStateDescriptor<UK, UV>).keySerde;
    const n = r.varint();
    const m = new Map<UK, unknown>();
    for (let i = 0; i < n; i++) {
      const k = keySerde.deserialize(r.bytes());
      m.set(k, this.decodeLeaf(r));
    }
    return m;
  }
}

/** Shared logic of reducing and aggregating state: one accumulator per key, mergeable. */
abstract class HeapAccumulatingState extends HeapState {
  protected abstract combine(acc: unknown | undefined, value: unknown): unknown;
  protected abstract mergeAcc(a: unknown, b: unknown): unknown;

  protected acc(): unknown {
    const stored = this.raw();
    if (this.ttlMs === 0) return stored;
    const v = this.unwrap(stored);
    if (v === undefined && stored !== undefined) this.clear();
    return v;
  }

  add(value: unknown): void {
    this.setRaw(this.wrap(this.combine(this.acc(), value)));
  }

  mergeNamespaces(target: Namespace, sources: readonly Namespace[]): void {
    const saved = this.ns;
    let merged: unknown;
    for (const src of sources) {
      this.ns = src;
      const a = this.acc();
      if (a !== undefined) {
        merged = merged === undefined ? a : this.mergeAcc(merged, a);
        this.clear();
      }
    }
    if (merged !== undefined) {
      this.ns = target;
      const t = this.acc();
      this.setRaw(this.wrap(t === undefined ? merged : this.mergeAcc(t, merged)));
    }
    this.ns = saved;
  }

  encodeEntry(w: BinaryWriter, stored: unknown, now: number): boolean {
    if (this.isExpired(stored, now)) return false;
    this.encodeLeaf(w, stored);
    return true;
  }

  decodeEntry(r: BinaryReader): unknown {
    return this.decodeLeaf(r);
  }
}

class HeapReducingState<T> extends HeapAccumulatingState implements InternalReducingState<T> {
  private readonly reduce = (this.descriptor as unknown as ReducingStateDescriptor<T>).reduce;

  get(): T | undefined {
    return this.acc() as T | undefined;
  }

  protected combine(acc: unknown, value: unknown): unknown {
    return acc === undefined ? value : this.reduce(acc as T, value as T);
  }

  protected mergeAcc(a: unknown, b: unknown): unknown {
    return this.reduce(a as T, b as T);
  }

  override add(value: T): void {
    super.add(value);
  }
}

class HeapAggregatingState<TIn, TAcc, TOut>
  extends HeapAccumulatingState
  implements InternalAggregatingState<TIn, TOut>
{
  private readonly fn = (this.descriptor as unknown as AggregatingStateDescriptor<TIn, TAcc, TOut>).aggregate;

  get(): TOut | undefined {
    const a = this.acc();
    return a === undefined ? undefined : this.fn.getResult(a as TAcc);
  }

  protected combine(acc: unknown, value: unknown): unknown {
    return this.fn.add(value as TIn, (acc === undefined ? this.fn.createAccumulator() : acc) as TAcc);
  }

  protected mergeAcc(a: unknown, b: unknown): unknown {
    return this.fn.merge(a as TAcc, b as TAcc);
  }

  override add(value: TIn): void {
    super.add(value);
  }
}

/**
 * The heap backend's per-instance keyed state.
 * @internal
 */
export class HeapKeyedStateBackend implements KeyedStateBackend {
  currentKey: KeyType = '';
  private keyGroup = 0;
  /** Whether `keyGroup` is the current key's; when false it is computed on first use. */
  private keyGroupKnown = true;
  /** Whether this instance owns every key group (parallelism 1): key groups are then lazy. */
  readonly ownsAllKeyGroups: boolean;
  private readonly states = new Map<string, HeapState>();

  constructor(
    readonly keyGroupRange: KeyGroupRange,
    readonly maxParallelism: number,
    readonly clock: Clock,
  ) {
    this.ownsAllKeyGroups = keyGroupRange.start === 0 && keyGroupRange.end === maxParallelism - 1;
  }

  /** The current key's key group. */
  get currentKeyGroup(): number {
    if (!this.keyGroupKnown) {
      this.keyGroup = keyGroupFor(this.currentKey, this.maxParallelism);
      this.keyGroupKnown = true;
    }
    return this.keyGroup;
  }

  setCurrentKey(key: KeyType): void {
    this.currentKey = key;
    if (this.ownsAllKeyGroups) {
      const t = typeof key;
      // Reject what hashKey rejects, with its error, now rather than at first use.
      if (t !== 'number' && t !== 'string' && t !== 'boolean' && t !== 'bigint') keyGroupFor(key, this.maxParallelism);
      this.keyGroupKnown = false;
    } else {
      this.keyGroup = keyGroupFor(key, this.maxParallelism);
      this.keyGroupKnown = true;
    }
  }

  setCurrentKeyAndGroup(key: KeyType, keyGroup: number): void {
    this.currentKey = key;
    this.keyGroup = keyGroup;
    this.keyGroupKnown = true;
  }

  getCurrentKey(): KeyType {
    return this.currentKey;
  }

  getCurrentKeyGroup(): number {
    return this.currentKeyGroup;
  }

  private getOrCreate<S extends HeapState>(
    descriptor: StateDescriptor<unknown>,
    make: (table: StateTable) => S,
  ): S {
    const existing = this.states.get(descriptor.name);
    if (existing !== undefined) {
      if (existing.descriptor.kind !== descriptor.kind) {
        throw new TypeError(
          `state '${descriptor.name}' was registered as ${existing.descriptor.kind} state and is now requested as ${descriptor.kind} state`,
        );
      }
      return existing as S;
    }
    const state = make(new StateTable(this.keyGroupRange, this.maxParallelism));
    this.states.set(descriptor.name, state);
    // A state first requested after restore() (lazily, or by a backend user other than the
    // runtime) must still see its restored entries.
    if (this.rawRestored.length > 0) this.materializeRestored();
    return state;
  }


  private newTable(): StateTable {
    return new StateTable(this.keyGroupRange, this.maxParallelism);
  }

  getValueState<T>(descriptor: ValueStateDescriptor<T>): InternalValueState<T> {
    return this.getOrCreate(
      descriptor as StateDescriptor<unknown>,
      () => new HeapValueState<T>(this, this.newTable(), descriptor as StateDescriptor<unknown>),
    );
  }

  getListState<T>(descriptor: ListStateDescriptor<T>): InternalListState<T> {
    return this.getOrCreate(
      descriptor as StateDescriptor<unknown>,
      () => new HeapListState<T>(this, this.newTable(), descriptor as StateDescriptor<unknown>),
    );
  }

  getMapState<UK extends KeyType, UV>(descriptor: MapStateDescriptor<UK, UV>): InternalMapState<UK, UV> {
    return this.getOrCreate(
      descriptor as StateDescriptor<unknown>,
      () => new HeapMapState<UK, UV>(this, this.newTable(), descriptor as StateDescriptor<unknown>),
    );
  }

  getReducingState<T>(descriptor: ReducingStateDescriptor<T>): InternalReducingState<T> {
    return this.getOrCreate(
      descriptor as StateDescriptor<unknown>,
      () => new HeapReducingState<T>(this, this.newTable(), descriptor as StateDescriptor<unknown>),
    );
  }

  getAggregatingState<TIn, TAcc, TOut>(
    descriptor: AggregatingStateDescriptor<TIn, TAcc, TOut>,
  ): InternalAggregatingState<TIn, TOut> {
    return this.getOrCreate(
      descriptor as StateDescriptor<unknown>,
      () =>
        new HeapAggregatingState<TIn, TAcc, TOut>(
          this,
          this.newTable(),
          descriptor as StateDescriptor<unknown>,
        ),
    );
  }

  numEntries(namespace?: Namespace): number {
    let n = 0;
    for (const s of this.states.values()) n += s.table.count(namespace);
    return n;
  }

  /**
   * Calls `fn(key, keyGroup, value)` for every entry of state `stateName` (which must have no
   * TTL) in the non-void `namespace`. `fn` may read state but must not add or delete entries of
   * that namespace.
   */
  forEachInNamespace(stateName: string, namespace: Namespace, fn: (key: KeyType, keyGroup: number, value: unknown) => void): void {
    this.states.get(stateName)?.table.forEachIn(namespace, fn);
  }

  /** Deletes every entry of state `stateName` in the non-void `namespace`. */
  clearNamespace(stateName: string, namespace: Namespace): void {
    this.states.get(stateName)?.table.clearNamespace(namespace);
  }

  /** The non-void namespaces with entries in state `stateName`. */
  namespaces(stateName: string): Namespace[] {
    return this.states.get(stateName)?.table.namespaces() ?? [];
  }

  keys(stateName: string, namespace: Namespace): KeyType[] {
    const s = this.states.get(stateName);
    if (s === undefined) return [];
    const out: KeyType[] = [];
    for (const g of s.table.groups) {
      const m = g?.get(namespace);
      if (m !== undefined) for (const k of m.keys()) out.push(k);
    }
    return out;
  }

  snapshot(): KeyedStateSnapshot {
    const now = this.clock.now();
    const start = this.keyGroupRange.start;
    const states: Array<KeyedStateSnapshot['states'][number]> = [];
    for (const [name, state] of this.states) {
      const columns = this.columnsOf(state.table);
      const asJson = state.snapshotValuesAsJson();
      const encodeEntry = (w: BinaryWriter, stored: unknown): boolean => state.encodeEntry(w, stored, now);
      const keyGroups: Array<{ keyGroup: number; data: Uint8Array }> = [];
      for (let i = 0; i < columns.length; i++) {
        const c = columns[i];
        if (c === undefined) continue;
        const data = encodeKeyGroup(c, asJson, encodeEntry);
        if (data !== undefined) keyGroups.push({ keyGroup: start + i, data });
      }
      states.push({ name, kind: state.descriptor.kind, keyGroups });
    }
    // Restored state that no operator has requested yet is carried over unchanged.
    const leftovers = new Map<string, { kind: string; keyGroups: Array<{ keyGroup: number; data: Uint8Array }> }>();
    for (const raw of this.rawRestored) {
      let e = leftovers.get(raw.name);
      if (e === undefined) leftovers.set(raw.name, (e = { kind: raw.kind, keyGroups: [] }));
      e.keyGroups.push({ keyGroup: raw.keyGroup, data: raw.data });
    }
    for (const [name, e] of leftovers) states.push({ name, kind: e.kind, keyGroups: e.keyGroups });
    return { backend: 'heap', maxParallelism: this.maxParallelism, states };
  }

  /**
   * Restores the owned key groups. States are decoded when their descriptor is first requested
   * (the serde lives on the descriptor), so restore keeps the raw bytes until then.
   */
  restore(snapshots: readonly KeyedStateSnapshot[]): void {
    const { start, end } = this.keyGroupRange;
    for (const raw of ownedKeyGroups(snapshots, this.maxParallelism, start, end)) this.rawRestored.push(raw);
    // States registered before restore() decode now; the others when first requested.
    this.materializeRestored();
  }

  private rawRestored: Array<{ name: string; kind: string; keyGroup: number; data: Uint8Array }> = [];

  /**
   * Decodes restored bytes of `name` into `state`. Called by the runtime right after the
   * operator's `open`, for every state the operator registered; left-over states stay raw so
   * a later snapshot still carries them.
   * @internal
   */
  materializeRestored(): void {
    const remaining: typeof this.rawRestored = [];
    for (const raw of this.rawRestored) {
      const state = this.states.get(raw.name);
      if (state === undefined) {
        remaining.push(raw);
        continue;
      }
      if (state.descriptor.kind !== raw.kind) {
        throw new TypeError(`restored state '${raw.name}' is ${raw.kind} state but is registered as ${state.descriptor.kind}`);
      }
      const table = state.table;
      const kg = raw.keyGroup;
      const ttl = state.ttlMs !== 0;
      const now = this.clock.now();
      try {
        readKeyGroup(raw.data, {
          // Plain JSON values carry no TTL time: a state that has TTL now starts it at restore.
          value: (ns, key, v) => table.put(kg, ns, key, ttl ? ({ v, t: now } satisfies TtlEntry) : v),
          entry: (ns, key, r) => table.put(kg, ns, key, state.decodeEntry(r)),
        });
      } catch (e) {
        throw new Error(`restored state '${raw.name}' (key group ${kg}) is malformed: ${(e as Error).message}`, { cause: e });
      }
    }
    this.rawRestored = remaining;
  }

  /** The entries of `table` per owned key group (index from the range start), as columns. */
  private columnsOf(table: StateTable): Array<KeyGroupColumns | undefined> {
    const count = Math.max(0, this.keyGroupRange.end - this.keyGroupRange.start + 1);
    const columns: Array<KeyGroupColumns | undefined> = new Array(count).fill(undefined);
    const start = this.keyGroupRange.start;
    const maxParallelism = this.maxParallelism;
    // Void-namespace entries come first in each key group (one run); forEach avoids an entry
    // array per element.
    table.voidMap.forEach((stored, key) => {
      const idx = keyGroupFor(key, maxParallelism) - start;
      let c = columns[idx];
      if (c === undefined) columns[idx] = c = { namespaces: [VOID_NAMESPACE], runLengths: [0], keys: [], values: [] };
      c.keys.push(key);
      c.values.push(stored);
    });
    for (let idx = 0; idx < count; idx++) {
      const c0 = columns[idx];
      if (c0 !== undefined) c0.runLengths[0] = c0.keys.length;
      const ng = table.namespacedGroup(idx);
      if (ng === undefined) continue;
      let c = c0;
      if (c === undefined) columns[idx] = c = { namespaces: [], runLengths: [], keys: [], values: [] };
      for (const [ns, m] of ng) {
        c.namespaces.push(ns);
        c.runLengths.push(m.size);
        const { keys, values } = c;
        m.forEach((stored, key) => {
          keys.push(key);
          values.push(stored);
        });
      }
    }
    return columns;
  }

  dispose(): void {
    this.states.clear();
    this.rawRestored = [];
  }
}
