/**
 * The bytes of one key group of one state in a keyed-state snapshot (a "key-group blob"), shared
 * by every backend: both write it, both read both versions.
 *
 * Format 1 (row by row; LevelDB snapshots are still written in it):
 * `( u8(1) key(namespace) key(key) bytes(entry) )* u8(0)`, where `entry` is the state kind's
 * entry encoding (`[f64 ttl-time] bytes(serde(value))` for value, reducing and aggregating
 * state; a count and the elements for list and map state).
 *
 * Format 2 (columnar; what the heap backend writes), built so that a restore decodes a key
 * group with a few native calls instead of one `JSON.parse` (and one UTF-8 decode, one
 * `Uint8Array` view) per entry:
 *
 * ```
 * u8(0xC2) varint(n)                              marker (format 1 begins with 0 or 1), entries
 * varint(runs) ( key(namespace) varint(count) )*  entries are grouped by namespace, in order
 * u8(keys)  0: n × key(k)                         any mix of key types (tagged)
 *           1: n × f64 LE                         every key a number
 *           2: bytes(JSON array of n strings)     every key a string
 * u8(values) 0: n × bytes(entry)                  format 1's entry encoding
 *            1: bytes(JSON array of n values)     value/reducing/aggregating state with the
 *                                                 default JSON serde and no TTL
 * ```
 *
 * Deltas (what the LevelDB backend writes for a key group with few changes since its previous
 * snapshot): `u8(0xD1) ( u8(1) key(namespace) key(key) bytes(entry) | u8(2) key(namespace)
 * key(key) )* u8(0)`, format 1 plus tombstones (tag 2: the entry was deleted). A delta never
 * stands alone: in a {@link KeyedStateSnapshot} the blobs of one state and key group are a base
 * (format 1 or 2) followed by zero or more deltas, in order, each its own `{ keyGroup, data }`
 * (so an unchanged base is the same object, content-addressed once by the checkpoint storage).
 * {@link ownedKeyGroups} joins such a run into one chain blob,
 * `u8(0xC3) varint(parts) bytes(base) bytes(delta)*`, which {@link readKeyGroup} decodes as the
 * base with the deltas applied in order.
 *
 * `key(x)` is {@link BinaryWriter.key}'s tagged encoding; `bytes(b)` is a varint length and `b`.
 * @internal
 */
import type { KeyType } from '../api/types.js';
import { BinaryReader, BinaryWriter } from './codec.js';
import type { KeyedStateSnapshot, Namespace } from './StateBackend.js';

/** First byte of a format-2 key-group blob. */
const COLUMNAR = 0xc2;
const KEYS_TAGGED = 0;
const KEYS_F64 = 1;
const KEYS_JSON = 2;
const VALUES_ENTRIES = 0;
const VALUES_JSON = 1;
/** First byte of a delta blob. @internal */
export const DELTA = 0xd1;
/** First byte of a chain blob (a base and its deltas). */
const CHAIN = 0xc3;
/** Delta tag of a deleted entry. */
const TOMBSTONE = 2;

/**
 * Whether `data` is a delta blob (it then follows a base of the same state and key group).
 * @internal
 */
export function isDelta(data: Uint8Array): boolean {
  return data.length > 0 && data[0] === DELTA;
}

/**
 * The entries of one key group of one state, column by column, for {@link encodeKeyGroup}.
 * Entry `i` has key `keys[i]`, stored value `values[i]`, and the namespace of the run it falls
 * in: the first `runLengths[0]` entries are in `namespaces[0]`, and so on.
 * @internal
 */
export interface KeyGroupColumns {
  readonly namespaces: Namespace[];
  readonly runLengths: number[];
  readonly keys: KeyType[];
  readonly values: unknown[];
}

/**
 * Encodes one key group in format 2.
 * @param cols - the entries
 * @param valuesAsJson - whether `values` are plain values of the default JSON serde without TTL
 *   (then they are written as one JSON array; a value JSON cannot hold, such as `undefined`,
 *   makes the key group fall back to entries)
 * @param encodeEntry - writes one stored value in format 1's entry encoding; false drops the
 *   entry (nothing live is left, e.g. every element expired)
 * @returns the blob, or `undefined` when no entry is left
 * @internal
 */
export function encodeKeyGroup(
  cols: KeyGroupColumns,
  valuesAsJson: boolean,
  encodeEntry: (w: BinaryWriter, stored: unknown) => boolean,
): Uint8Array | undefined {
  let { namespaces, runLengths, keys } = cols;
  const values = cols.values;
  if (runLengths.includes(0)) {
    // Empty runs would make a reader see more runs than entries: leave them out.
    const kept = runLengths.flatMap((len, r) => (len > 0 ? [r] : []));
    namespaces = kept.map((r) => namespaces[r] as Namespace);
    runLengths = kept.map((r) => runLengths[r] as number);
  }
  let json = valuesAsJson;
  if (json) {
    for (let i = 0; i < values.length; i++) {
      const t = typeof values[i];
      if (t === 'undefined' || t === 'function' || t === 'symbol') {
        json = false;
        break;
      }
    }
  }
  let valueText: string | undefined;
  let entries: BinaryWriter | undefined;
  if (json) valueText = JSON.stringify(values);
  else {
    entries = new BinaryWriter(64 + values.length * 24);
    let kept: number[] | undefined;
    for (let i = 0; i < values.length; i++) {
      const slot = entries.beginLength();
      if (encodeEntry(entries, values[i])) {
        entries.endLength(slot);
        kept?.push(i);
      } else {
        entries.truncate(slot);
        if (kept === undefined) kept = Array.from({ length: i }, (_, j) => j);
      }
    }
    if (kept !== undefined) ({ namespaces, runLengths, keys } = keepOnly(cols, kept));
  }
  const n = keys.length;
  if (n === 0) return undefined;

  let keyKind = KEYS_F64;
  for (let i = 0; i < n; i++) {
    if (typeof keys[i] !== 'number') {
      keyKind = KEYS_TAGGED;
      break;
    }
  }
  if (keyKind === KEYS_TAGGED) {
    keyKind = KEYS_JSON;
    for (let i = 0; i < n; i++) {
      if (typeof keys[i] !== 'string') {
        keyKind = KEYS_TAGGED;
        break;
      }
    }
  }
  const keyText = keyKind === KEYS_JSON ? JSON.stringify(keys) : undefined;
  const keyBytes = keyText !== undefined ? Buffer.byteLength(keyText) : 0;
  const valueBytes = valueText !== undefined ? Buffer.byteLength(valueText) : 0;
  // Sized exactly unless keys are tagged, so that finish() hands the buffer over without a copy.
  let size = 1 + varintSize(n) + varintSize(namespaces.length) + 2;
  for (let r = 0; r < namespaces.length; r++) size += keySize(namespaces[r] as Namespace) + varintSize(runLengths[r] as number);
  if (keyKind === KEYS_F64) size += 8 * n;
  else if (keyKind === KEYS_JSON) size += varintSize(keyBytes) + keyBytes;
  else for (let i = 0; i < n; i++) size += keySize(keys[i] as KeyType);
  size += valueText !== undefined ? varintSize(valueBytes) + valueBytes : (entries as BinaryWriter).length;

  const w = new BinaryWriter(size);
  w.u8(COLUMNAR);
  w.varint(n);
  w.varint(namespaces.length);
  for (let r = 0; r < namespaces.length; r++) {
    w.key(namespaces[r] as Namespace);
    w.varint(runLengths[r] as number);
  }
  w.u8(keyKind);
  if (keyKind === KEYS_F64) for (let i = 0; i < n; i++) w.f64(keys[i] as number);
  else if (keyKind === KEYS_JSON) w.utf8(keyText as string, keyBytes);
  else for (let i = 0; i < n; i++) w.key(keys[i] as KeyType);
  if (valueText !== undefined) {
    w.u8(VALUES_JSON);
    w.utf8(valueText, valueBytes);
  } else {
    w.u8(VALUES_ENTRIES);
    w.append((entries as BinaryWriter).written());
  }
  return w.finish();
}

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

/** Bytes of {@link BinaryWriter.key}'s encoding of `k`. */
function keySize(k: KeyType): number {
  switch (typeof k) {
    case 'string': {
      const b = Buffer.byteLength(k);
      // BinaryWriter.string writes short strings with a one-byte length, others with a 5-byte slot.
      return 1 + (k.length < 43 ? 1 : 5) + b;
    }
    case 'number':
      return 9;
    case 'bigint': {
      const s = k.toString();
      return 1 + (s.length < 43 ? 1 : 5) + s.length;
    }
    default:
      return 1;
  }
}

function keepOnly(cols: KeyGroupColumns, kept: readonly number[]): { namespaces: Namespace[]; runLengths: number[]; keys: KeyType[] } {
  const namespaces: Namespace[] = [];
  const runLengths: number[] = [];
  const keys: KeyType[] = [];
  let run = 0;
  let runEnd = cols.runLengths[0] ?? 0;
  for (const i of kept) {
    while (i >= runEnd) runEnd += cols.runLengths[++run] ?? 0;
    const ns = cols.namespaces[run] as Namespace;
    if (namespaces.length > 0 && namespaces[namespaces.length - 1] === ns) (runLengths[runLengths.length - 1] as number)++;
    else {
      namespaces.push(ns);
      runLengths.push(1);
    }
    keys.push(cols.keys[i] as KeyType);
  }
  return { namespaces, runLengths, keys };
}

/**
 * Receives the entries of a key-group blob from {@link readKeyGroup}.
 * @internal
 */
export interface KeyGroupTarget {
  /** An entry whose stored value the blob held as plain JSON (no TTL). */
  value(ns: Namespace, key: KeyType, value: unknown): void;
  /**
   * An entry in format 1's entry encoding: `r` is positioned at it and must be advanced by
   * exactly `length` bytes.
   */
  entry(ns: Namespace, key: KeyType, r: BinaryReader, length: number): void;
}

/**
 * Decodes a key-group blob of either format into `target`. Throws on anything malformed or
 * truncated (an unknown first byte, counts that do not add up, an entry of the wrong length).
 * @internal
 */
export function readKeyGroup(data: Uint8Array, target: KeyGroupTarget): void {
  const r = new BinaryReader(data);
  const first = r.u8();
  if (first === CHAIN) {
    readChain(r, target);
    return;
  }
  if (first === DELTA) throw new RangeError('state snapshot holds a delta without its base');
  if (first === 0 || first === 1) {
    let tag = first;
    while (tag === 1) {
      const ns = r.key() as Namespace;
      const key = r.key();
      const len = r.varint();
      const end = r.position + len;
      target.entry(ns, key, r, len);
      if (r.position !== end) throw new RangeError('malformed entry in state snapshot');
      tag = r.u8();
    }
    if (tag !== 0) throw new RangeError(`malformed state snapshot (entry tag ${tag})`);
    if (!r.done) throw new RangeError('state snapshot has trailing bytes');
    return;
  }
  if (first !== COLUMNAR) throw new RangeError(`unsupported key-group format 0x${first.toString(16)} in state snapshot`);
  const n = r.varint();
  // Every entry takes at least one byte: a larger count is corruption, not a reason to allocate.
  if (n > data.length) throw new RangeError('malformed state snapshot (entry count)');
  const runs = r.varint();
  if (runs > n) throw new RangeError('malformed state snapshot (namespace runs)');
  const namespaces: Namespace[] = [];
  const runLengths: number[] = [];
  let total = 0;
  for (let i = 0; i < runs; i++) {
    namespaces.push(r.key() as Namespace);
    const len = r.varint();
    runLengths.push(len);
    total += len;
  }
  if (total !== n) throw new RangeError('malformed state snapshot (namespace runs do not add up)');
  const keyKind = r.u8();
  let keys: ArrayLike<KeyType>;
  if (keyKind === KEYS_F64) keys = r.f64Array(n);
  else if (keyKind === KEYS_JSON) {
    const parsed: unknown = JSON.parse(r.utf8());
    if (!Array.isArray(parsed) || parsed.length !== n) throw new RangeError('malformed state snapshot (keys)');
    keys = parsed as KeyType[];
  } else if (keyKind === KEYS_TAGGED) {
    const tagged: KeyType[] = new Array(n);
    for (let i = 0; i < n; i++) tagged[i] = r.key();
    keys = tagged;
  } else throw new RangeError(`malformed state snapshot (key column kind ${keyKind})`);
  const valueKind = r.u8();
  let i = 0;
  if (valueKind === VALUES_JSON) {
    const values: unknown = JSON.parse(r.utf8());
    if (!Array.isArray(values) || values.length !== n) throw new RangeError('malformed state snapshot (values)');
    if (!r.done) throw new RangeError('state snapshot has trailing bytes');
    for (let run = 0; run < runs; run++) {
      const ns = namespaces[run] as Namespace;
      for (const end = i + (runLengths[run] as number); i < end; i++) target.value(ns, keys[i] as KeyType, values[i]);
    }
    return;
  }
  if (valueKind !== VALUES_ENTRIES) throw new RangeError(`malformed state snapshot (value column kind ${valueKind})`);
  for (let run = 0; run < runs; run++) {
    const ns = namespaces[run] as Namespace;
    for (const end = i + (runLengths[run] as number); i < end; i++) {
      const len = r.varint();
      const stop = r.position + len;
      target.entry(ns, keys[i] as KeyType, r, len);
      if (r.position !== stop) throw new RangeError('malformed entry in state snapshot');
    }
  }
  if (!r.done) throw new RangeError('state snapshot has trailing bytes');
}

/** A decoded entry of a chain, kept until every delta has been applied. */
interface ChainEntry {
  readonly ns: Namespace;
  readonly key: KeyType;
  /** The entry as plain JSON (from a format-2 `VALUES_JSON` base), when `bytes` is undefined. */
  readonly value: unknown;
  /** The entry in format 1's entry encoding. */
  readonly bytes: Uint8Array | undefined;
}

/** Identity of (namespace, key) that keeps types apart (`1` and `'1'` are different keys). */
function entryId(ns: Namespace, key: KeyType): string {
  const a = String(ns);
  return `${typeof ns}${a.length}:${a}${typeof key}:${String(key)}`;
}

/** Decodes a chain blob (after its first byte): the base, then each delta applied in order. */
function readChain(r: BinaryReader, target: KeyGroupTarget): void {
  const parts = r.varint();
  if (parts < 1) throw new RangeError('malformed state snapshot (empty chain)');
  const entries = new Map<string, ChainEntry>();
  const base = r.bytes();
  if (base[0] === DELTA || base[0] === CHAIN) throw new RangeError('malformed state snapshot (chain base)');
  readKeyGroup(base, {
    value: (ns, key, value) => void entries.set(entryId(ns, key), { ns, key, value, bytes: undefined }),
    entry: (ns, key, er, len) => void entries.set(entryId(ns, key), { ns, key, value: undefined, bytes: er.raw(len) }),
  });
  for (let p = 1; p < parts; p++) {
    const d = new BinaryReader(r.bytes());
    if (d.u8() !== DELTA) throw new RangeError('malformed state snapshot (chain part is not a delta)');
    let tag = d.u8();
    while (tag !== 0) {
      const ns = d.key() as Namespace;
      const key = d.key();
      if (tag === 1) entries.set(entryId(ns, key), { ns, key, value: undefined, bytes: d.raw(d.varint()) });
      else if (tag === TOMBSTONE) entries.delete(entryId(ns, key));
      else throw new RangeError(`malformed state snapshot (delta tag ${tag})`);
      tag = d.u8();
    }
    if (!d.done) throw new RangeError('state snapshot delta has trailing bytes');
  }
  if (!r.done) throw new RangeError('state snapshot has trailing bytes');
  for (const e of entries.values()) {
    if (e.bytes === undefined) {
      target.value(e.ns, e.key, e.value);
      continue;
    }
    const er = new BinaryReader(e.bytes);
    target.entry(e.ns, e.key, er, e.bytes.length);
    if (!er.done) throw new RangeError('malformed entry in state snapshot');
  }
}

/** Joins a base and its deltas into one chain blob. */
function chainOf(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length + 5;
  const w = new BinaryWriter(size + 6);
  w.u8(CHAIN);
  w.varint(parts.length);
  for (const p of parts) w.bytes(p);
  return w.finish();
}

/**
 * Every owned key group of a state in `snapshots`, for restore: checks the key-group count and
 * keeps the blobs of key groups in `[start, end]`. A base followed by deltas of the same state
 * and key group comes back as one chain blob; a delta without a base is refused.
 * @internal
 */
export function ownedKeyGroups(
  snapshots: readonly KeyedStateSnapshot[],
  maxParallelism: number,
  start: number,
  end: number,
): Array<{ name: string; kind: string; keyGroup: number; data: Uint8Array }> {
  const out: Array<{ name: string; kind: string; keyGroup: number; data: Uint8Array }> = [];
  for (const snap of snapshots) {
    if (snap.maxParallelism !== maxParallelism) {
      throw new Error(
        `cannot restore keyed state written with maxParallelism ${snap.maxParallelism} into a job with maxParallelism ${maxParallelism}`,
      );
    }
    for (const st of snap.states) {
      const kgs = st.keyGroups;
      for (let i = 0; i < kgs.length; i++) {
        const { keyGroup, data } = kgs[i] as { keyGroup: number; data: Uint8Array };
        if (isDelta(data)) throw new RangeError(`state '${st.name}' (key group ${keyGroup}) has a delta without its base`);
        let j = i + 1;
        while (j < kgs.length && (kgs[j] as { keyGroup: number }).keyGroup === keyGroup && isDelta((kgs[j] as { data: Uint8Array }).data)) j++;
        if (keyGroup >= start && keyGroup <= end) {
          const blob = j === i + 1 ? data : chainOf(kgs.slice(i, j).map((kg) => kg.data));
          out.push({ name: st.name, kind: st.kind, keyGroup, data: blob });
        }
        i = j - 1;
      }
    }
  }
  return out;
}
