/**
 * Keyed state in LevelDB (classic-level), for state larger than memory.
 *
 * Layout. Every stored row has a binary key
 * `[key group u16 BE][state id u16 BE][key][namespace][suffix]` where key and namespace use the
 * tagged encoding of `BinaryWriter.key` (prefix-free), so one key group is one contiguous
 * key range (restore, rescaling and incremental snapshots work per range), and the rows of one
 * (state, key, namespace) are contiguous too:
 *
 * - value / reducing / aggregating: one row `P` (no suffix) holding the entry exactly as the
 *   heap backend encodes it in snapshots (`[f64 ttl-time] bytes(serde(v))`).
 * - list: a head row `P` holding the number of chunks, and chunk rows `P 0x01 u32BE(i)` each
 *   holding up to `listChunkSize` encoded elements. Appending touches one chunk, so a long list
 *   (window contents) does not get rewritten per element.
 * - map: an index row `P` holding the user keys (so `entries()`, `keys()` and `isEmpty()` work
 *   synchronously without an iterator), and one row `P 0x01 keySerde(userKey)` per element.
 *   `get`/`put` of an element touch one element row (plus the index when a user key is added
 *   or removed). The trade-off: the index of a map is read and rewritten as a whole, so maps
 *   with very many user keys per (key, namespace) pay O(map size) per added key on flush.
 *
 * Access path. State access is synchronous: reads look in the write buffer (dirty rows), then
 * the rows of the batch being written, then a bounded two-generation LRU of decoded rows, then
 * `db.getSync`. Writes go to the write buffer only; once it holds `writeBufferSize` rows they
 * are encoded into one `db.batch()` that LevelDB writes in the background while processing
 * goes on. Writes never read LevelDB. LevelDB keeps no counts, so `numEntries()` counts the
 * entries of the key groups written since its previous call (keys only) and caches the rest.
 *
 * Snapshots. `snapshotAsync()` takes a LevelDB snapshot and encodes the write buffer at the
 * call (both synchronous, so the result is consistent at that point) and then reads the
 * LevelDB snapshot asynchronously while processing continues. Key groups not written since
 * the previous snapshot reuse its bytes (the very same `Uint8Array`s). A written key group
 * whose changed rows are few next to the rows of its last full read (at most half of them,
 * summed over the deltas since) gets a delta: the entries with a changed row, written anew,
 * and tombstones for deleted ones, appended after the key group's previous blobs. The rows
 * changed since the last snapshot are remembered when the write buffer is flushed (row and
 * encoded bytes appended to a byte log per key group, indexed by row hash once per snapshot, so
 * single-row entries need no LevelDB read; list and map entries read their other rows from the
 * LevelDB snapshot). When every state
 * has one row per entry (value, reducing, aggregating), the other written key groups, and
 * those whose chain reached 8 deltas (consolidation), are rebuilt in full from those bytes and
 * the previous blobs, without reading LevelDB; otherwise they are read in full again. Every
 * `consolidateEvery`-th snapshot reads everything again. Key groups are written in key-group format 1 (row by row) and deltas in
 * the delta format (see `keyGroupFormat.ts`); restore reads format 1, the heap backend's
 * format 2 and base-plus-delta chains through the same reader, so either backend restores the
 * other's snapshots at any parallelism.
 * The synchronous `snapshot()` and `keys()` read LevelDB through a helper thread (classic-level
 * has no synchronous iterators) while the calling thread waits.
 *
 * As with Flink's RocksDB backend, a value object read from state and mutated without
 * `update()` keeps the change only while its row stays cached: write changes back.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ClassicLevel } from 'classic-level';
import type { Clock } from '../api/Clock.js';
import type { KeyType } from '../api/types.js';
import { type KeyGroupRange, keyGroupFor } from '../runtime/keygroups.js';
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
import { DELTA, ownedKeyGroups, readKeyGroup } from './keyGroupFormat.js';

/**
 * Options of {@link LevelStateBackend}.
 * @public
 */
export interface LevelStateBackendOptions {
  /**
   * Directory under which every operator instance gets its own LevelDB directory
   * (`<uid>-<subtask>-<random>`, deleted on dispose). Default: `<os tmpdir>/weir-state`.
   */
  readonly dir?: string;
  /** Decoded rows kept in the read cache (an approximate LRU). Default 100 000. */
  readonly cacheSize?: number;
  /** Dirty rows buffered before they are written as one batch. Default 20 000. */
  readonly writeBufferSize?: number;
  /**
   * Every `consolidateEvery`-th `snapshotAsync()` reads every key group again instead of
   * reusing the bytes of unchanged key groups or writing deltas (this also drops TTL-expired
   * entries there). `1` makes every snapshot full. Default 10.
   */
  readonly consolidateEvery?: number;
  /** Elements per stored chunk of a list state. Default 64. */
  readonly listChunkSize?: number;
  /** LevelDB block cache in bytes. Default 32 MiB. */
  readonly blockCacheBytes?: number;
  /** LevelDB memtable size in bytes. Default 16 MiB. */
  readonly memtableBytes?: number;
}

/**
 * Keeps keyed state in LevelDB (classic-level) so that it can be larger than memory. Each
 * operator instance gets its own database directory, deleted when the instance is disposed.
 * classic-level is loaded only when the first instance is created.
 *
 * @example
 * ```ts
 * const env = StreamEnvironment.create({ stateBackend: new LevelStateBackend({ dir: '/var/lib/weir' }) });
 * ```
 * @public
 */
export class LevelStateBackend implements StateBackend {
  readonly name = 'level';
  private readonly options: LevelStateBackendOptions;

  /** @param options - where and how to store state */
  constructor(options: LevelStateBackendOptions = {}) {
    const check = (what: string, v: number | undefined, min: number): void => {
      if (v !== undefined && !(Number.isInteger(v) && v >= min)) {
        throw new RangeError(`LevelStateBackend: ${what} must be an integer >= ${min}, got ${v}`);
      }
    };
    check('cacheSize', options.cacheSize, 0);
    check('writeBufferSize', options.writeBufferSize, 1);
    check('consolidateEvery', options.consolidateEvery, 1);
    check('listChunkSize', options.listChunkSize, 1);
    this.options = options;
  }

  /**
   * Opens a fresh LevelDB database for one operator instance (loading classic-level on first use).
   * @returns the instance's keyed state; dispose it to close and delete the database
   */
  async createKeyedStateBackend(options: KeyedStateBackendOptions): Promise<LevelKeyedStateBackend> {
    const { ClassicLevel } = await import('classic-level');
    const root = this.options.dir ?? join(tmpdir(), 'weir-state');
    const safeUid = options.operatorUid.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 80);
    const location = join(root, `${safeUid}-${options.subtaskIndex}-${randomBytes(6).toString('hex')}`);
    await mkdir(root, { recursive: true });
    const db = new ClassicLevel<Buffer, Buffer>(location, {
      keyEncoding: 'buffer',
      valueEncoding: 'buffer',
      createIfMissing: true,
      errorIfExists: true,
      multithreading: true,
      cacheSize: this.options.blockCacheBytes ?? 32 * 1024 * 1024,
      writeBufferSize: this.options.memtableBytes ?? 16 * 1024 * 1024,
    });
    await db.open();
    return new LevelKeyedStateBackend(db, location, options, this.options);
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding helpers

/** A deleted row in the write buffer. */
const TOMB: unique symbol = Symbol('tombstone');
/** A row known to be absent, in the read cache. */
const ABSENT: unique symbol = Symbol('absent');
/** A stored `undefined` map value (no TTL), which a `Map.get` miss cannot tell apart. */
const UNDEF: unique symbol = Symbol('undefined');

/** Encoded row bytes not decoded yet (restored state). */
class RawBytes {
  constructor(readonly bytes: Buffer) {}
}

/** A TTL-wrapped stored value, as in the heap backend: `t` is the last refreshing access. */
interface TtlEntry {
  v: unknown;
  t: number;
}

interface Codec {
  encode(v: unknown): Buffer;
  decode(b: Buffer): unknown;
}

const scratch = new DataView(new ArrayBuffer(8));

function varintLen(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    len++;
  }
  return len;
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  buf[pos++] = n;
  return pos;
}

function varintStr(n: number): string {
  let s = '';
  while (n >= 0x80) {
    s += String.fromCharCode((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  return s + String.fromCharCode(n);
}

/** Position after the last {@link readVarint}. */
let rpos = 0;

function readVarint(b: Uint8Array, pos: number): number {
  let result = 0;
  let mul = 1;
  for (;;) {
    const x = b[pos++];
    if (x === undefined) throw new RangeError('truncated LevelDB state row');
    result += (x & 0x7f) * mul;
    if (x < 0x80) break;
    mul *= 0x80;
  }
  rpos = pos;
  return result;
}

/**
 * Encodes a key or namespace as a binary (latin1) string, byte for byte what
 * `BinaryWriter.key` writes: tag, then UTF-8 with a varint length, f64 LE, or nothing.
 */
function encodeKey(k: KeyType): string {
  switch (typeof k) {
    case 'string': {
      const n = k.length;
      let ascii = true;
      for (let i = 0; i < n; i++) {
        if (k.charCodeAt(i) > 0x7f) {
          ascii = false;
          break;
        }
      }
      if (ascii) return (n < 0x80 ? `\x00${String.fromCharCode(n)}` : `\x00${varintStr(n)}`) + k;
      const b = Buffer.from(k, 'utf8');
      return `\x00${varintStr(b.length)}${b.toString('latin1')}`;
    }
    case 'number': {
      // Map keys use SameValueZero: -0 is 0.
      scratch.setFloat64(0, k === 0 ? 0 : k, true);
      return String.fromCharCode(
        1,
        scratch.getUint8(0),
        scratch.getUint8(1),
        scratch.getUint8(2),
        scratch.getUint8(3),
        scratch.getUint8(4),
        scratch.getUint8(5),
        scratch.getUint8(6),
        scratch.getUint8(7),
      );
    }
    case 'boolean':
      return k ? '\x03' : '\x02';
    case 'bigint': {
      const s = k.toString();
      return `\x04${varintStr(s.length)}${s}`;
    }
    default:
      throw new TypeError(`Unsupported key type ${typeof k}: keys must be string, number, bigint or boolean`);
  }
}

/** Offset just past the encoded key starting at `pos`. */
function skipKey(b: Uint8Array, pos: number): number {
  const tag = b[pos];
  switch (tag) {
    case 0:
    case 4: {
      const n = readVarint(b, pos + 1);
      return rpos + n;
    }
    case 1:
      return pos + 9;
    case 2:
    case 3:
      return pos + 1;
    default:
      throw new RangeError(`malformed key tag ${tag} in LevelDB state row`);
  }
}

/** Decodes the key starting at `pos`. */
function decodeKey(b: Buffer, pos: number): KeyType {
  const tag = b[pos];
  switch (tag) {
    case 0: {
      const n = readVarint(b, pos + 1);
      return b.toString('utf8', rpos, rpos + n);
    }
    case 1:
      return b.readDoubleLE(pos + 1);
    case 2:
      return false;
    case 3:
      return true;
    case 4: {
      const n = readVarint(b, pos + 1);
      return BigInt(b.toString('latin1', rpos, rpos + n));
    }
    default:
      throw new RangeError(`malformed key tag ${tag} in LevelDB state row`);
  }
}

function kgStr(kg: number): string {
  return String.fromCharCode(kg >>> 8, kg & 0xff);
}

function kgPrefix(kg: number): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(kg, 0);
  return b;
}

function chunkSuffix(i: number): string {
  return String.fromCharCode(1, (i >>> 24) & 0xff, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff);
}

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

/** Encodes one element the way the heap backend writes it in snapshots. */
function encodeLeaf(serde: StateDescriptor<unknown>['serde'], ttl: boolean, stored: unknown): Buffer {
  const v = ttl ? (stored as TtlEntry).v : stored === UNDEF ? undefined : stored;
  const payload = serde.serialize(v);
  const len = payload.length;
  const head = (ttl ? 8 : 0) + varintLen(len);
  const out = Buffer.allocUnsafe(head + len);
  let pos = 0;
  if (ttl) {
    out.writeDoubleLE((stored as TtlEntry).t, 0);
    pos = 8;
  }
  pos = writeVarint(out, pos, len);
  out.set(payload, pos);
  return out;
}

/** Decodes the element at `pos`; leaves the end in {@link rpos}. */
function decodeLeaf(serde: StateDescriptor<unknown>['serde'], ttl: boolean, b: Buffer, pos: number): unknown {
  let t = 0;
  if (ttl) {
    t = b.readDoubleLE(pos);
    pos += 8;
  }
  const len = readVarint(b, pos);
  const start = rpos;
  const end = start + len;
  if (end > b.length) throw new RangeError('truncated LevelDB state row');
  const v = serde.deserialize(b.subarray(start, end));
  rpos = end;
  return ttl ? ({ v, t } satisfies TtlEntry) : v;
}

/** Offset just past the element at `pos` (no decoding). */
function skipLeaf(b: Uint8Array, pos: number, ttl: boolean): number {
  const len = readVarint(b, ttl ? pos + 8 : pos);
  return rpos + len;
}

/** A growable byte buffer (snapshot encoding). */
class ByteSink {
  buf: Buffer;
  len = 0;

  constructor(initial = 1024) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.len++] = v;
  }

  varint(v: number): void {
    this.ensure(10);
    this.len = writeVarint(this.buf, this.len, v);
  }

  raw(b: Uint8Array, start = 0, end = b.length): void {
    const n = end - start;
    this.ensure(n);
    const buf = this.buf;
    if (n < 64) {
      // Short rows (most values): a loop is cheaper than a native copy and its view.
      let len = this.len;
      for (let i = start; i < end; i++) buf[len++] = b[i] as number;
      this.len = len;
      return;
    }
    buf.set(start === 0 && end === b.length ? b : b.subarray(start, end), this.len);
    this.len += n;
  }

  /** Writes the chars `start..end` of a binary (latin1) string, one byte each. */
  latin1(str: string, start: number, end: number): void {
    this.ensure(end - start);
    const buf = this.buf;
    let len = this.len;
    for (let i = start; i < end; i++) buf[len++] = str.charCodeAt(i);
    this.len = len;
  }

  finish(): Uint8Array {
    return new Uint8Array(this.buf.subarray(0, this.len));
  }
}

/** FNV-1a offset basis: the hash state of a row before its first byte. */
const ROW_HASH_SEED = 0x811c9dc5 | 0;

/** One byte more of a row's FNV-1a hash state. */
function rowHashStep(h: number, c: number): number {
  return Math.imul(h ^ c, 0x01000193);
}

/** The hash state after bytes `start..end` of `b`. */
function rowHashRange(h: number, b: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i++) h = Math.imul(h ^ (b[i] as number), 0x01000193);
  return h;
}

/** A row's hash from its final FNV-1a state (mixed, so that table slots spread). */
function rowHashFinish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h;
}

/** Logs larger than this are not kept for reuse ({@link ChangedRows.release}). */
const POOLED_LOG_BYTES_MAX = 1024 * 1024;

/** Entry tag in a {@link ChangedRows} log: the row was written (its value follows). */
const CHANGED_PUT = 0;
/** Entry tag in a {@link ChangedRows} log: the row was deleted. */
const CHANGED_DEL = 1;

/**
 * The latest entry of every row in one key group's log (see {@link ChangedRows}), with an
 * open-addressing table from row hash to entry.
 */
class ChangedIndex {
  constructor(
    /** Entry `x`: offset of its row bytes in the key group's log. */
    readonly starts: Int32Array,
    /** Entry `x`: row length × 2, plus 1 for a deletion. */
    readonly lens: Int32Array,
    /** Entry `x`: the row's hash. */
    readonly hashes: Int32Array,
    /** Entries. */
    readonly n: number,
    /** Slot → entry + 1, or 0. */
    readonly table: Int32Array,
    readonly mask: number,
  ) {}
}

const NO_CHANGES = new ChangedIndex(new Int32Array(0), new Int32Array(0), new Int32Array(0), 0, new Int32Array(1), 0);

/**
 * The rows written since the last `snapshotAsync()` capture, each with its latest encoded
 * value. Writing appends `u8(tag) varint(row length) row varint(len) value` (no value for a
 * deletion) to a log of the row's key group: no `Map`, no retained string and no `Buffer` per
 * flushed row. The snapshot indexes each key group's log once ({@link ChangedRows.index}): one
 * pass in log order that hashes each row and keeps the latest entry per row in an
 * open-addressing table. A key group's log, table and entries are small and contiguous, so
 * indexing millions of rewrites stays in the CPU caches and leaves little for the garbage
 * collector.
 */
class ChangedRows {
  /** Per owned key group (index): its log. */
  private readonly logs: Array<ByteSink | undefined> = [];
  private readonly indexes: Array<ChangedIndex | undefined> = [];
  /** Per key group, on demand: row (binary string) → its latest entry. */
  private readonly maps: Array<Map<string, number> | undefined> = [];
  private n = 0;
  /** Per owned key group (index): entries logged. */
  private readonly counts: Int32Array;
  private logged = 0;
  private indexed = false;

  /**
   * @param pool - emptied logs of earlier intervals, reused so that the logs do not grow from
   *   scratch (and allocate new buffers) every interval; {@link ChangedRows.release} refills it
   */
  constructor(
    private readonly kgStart: number,
    private readonly kgCount: number,
    private readonly pool: ByteSink[] = [],
  ) {
    this.counts = new Int32Array(kgCount);
  }

  /** Writes logged (rewrites of a row included). */
  get size(): number {
    return this.n;
  }

  /**
   * Returns the logs to the pool, emptied; the rows must not be used afterwards (the snapshot
   * that read them is done).
   */
  release(): void {
    for (let i = 0; i < this.logs.length; i++) {
      const log = this.logs[i];
      if (log === undefined) continue;
      this.logs[i] = undefined;
      if (log.buf.length > POOLED_LOG_BYTES_MAX || this.pool.length >= this.kgCount) continue;
      log.len = 0;
      this.pool.push(log);
    }
    this.indexes.length = 0;
    this.maps.length = 0;
  }

  /** Bytes logged. */
  get bytes(): number {
    return this.logged;
  }

  /** Owned key groups (indexes `0 .. kgs − 1`). */
  get kgs(): number {
    return this.kgCount;
  }

  /**
   * Appends an entry's tag and row, with room for `extra` more bytes.
   * @returns the key group's log (its `rowAt` is where the row begins)
   */
  private append(k: string, tag: number, extra: number): ByteSink {
    if (this.indexed) throw new Error('LevelStateBackend: a changed row logged after its snapshot indexed them');
    this.n++;
    const i = ((k.charCodeAt(0) << 8) | k.charCodeAt(1)) - this.kgStart;
    this.counts[i] = (this.counts[i] as number) + 1;
    let log = this.logs[i];
    if (log === undefined) this.logs[i] = log = this.pool.pop() ?? new ByteSink(256);
    log.ensure(k.length + 16 + extra);
    log.buf[log.len++] = tag;
    log.varint(k.length);
    const buf = log.buf;
    let p = log.len;
    this.rowAt = p;
    for (let c = 0; c < k.length; c++) buf[p++] = k.charCodeAt(c);
    log.len = p;
    return log;
  }

  /** Where the row of the last appended entry begins in its log. */
  private rowAt = 0;

  /**
   * Logs that row `k` (binary string) now holds `v`.
   * @returns the row's bytes (a view of the log, valid until the next entry is logged)
   */
  put(k: string, v: Uint8Array): Buffer {
    const log = this.append(k, CHANGED_PUT, 16 + v.length);
    const before = this.rowAt;
    log.varint(v.length);
    log.raw(v);
    this.logged += log.len - before;
    return log.buf.subarray(before, before + k.length);
  }

  /**
   * Logs that row `k` (binary string) was deleted.
   * @returns the row's bytes (a view of the log, valid until the next entry is logged)
   */
  del(k: string): Buffer {
    const log = this.append(k, CHANGED_DEL, 0);
    const before = this.rowAt;
    this.logged += log.len - before;
    return log.buf.subarray(before, log.len);
  }

  /** Key group index `i`'s latest entries (indexes every log at the first call; nothing may be logged afterwards). */
  index(i: number): ChangedIndex {
    if (!this.indexed) {
      this.indexed = true;
      for (let g = 0; g < this.kgCount; g++) {
        const log = this.logs[g];
        this.indexes[g] = log === undefined ? NO_CHANGES : indexLog(log, this.counts[g] as number);
      }
    }
    return this.indexes[i] as ChangedIndex;
  }

  /** Bytes in key group index `i`'s log. */
  logBytes(i: number): number {
    return this.logs[i]?.len ?? 0;
  }

  /** Key group index `i`'s log bytes (entries point into it). */
  log(i: number): Buffer {
    return (this.logs[i] as ByteSink).buf;
  }

  /** Distinct rows written in key group index `i`. */
  rowCount(i: number): number {
    return this.index(i).n;
  }

  /**
   * Whether key group index `i` has a changed row `[kg][sid] key ns` whose key and namespace
   * are bytes `keyStart..keyEnd` and `nsStart..nsEnd` of `b`; `h` is the row's hash.
   */
  hasRow(i: number, sid: number, h: number, b: Uint8Array, keyStart: number, keyEnd: number, nsStart: number, nsEnd: number): boolean {
    const x = this.index(i);
    if (x.n === 0) return false;
    const buf = (this.logs[i] as ByteSink).buf;
    const keyLen = keyEnd - keyStart;
    const nsLen = nsEnd - nsStart;
    const len = 4 + keyLen + nsLen;
    const { table, mask, starts, lens, hashes } = x;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const t = table[slot] as number;
      if (t === 0) return false;
      const e = t - 1;
      if (hashes[e] !== h || (lens[e] as number) >> 1 !== len) continue;
      const s = starts[e] as number;
      if ((((buf[s + 2] as number) << 8) | (buf[s + 3] as number)) !== sid) continue;
      let same = true;
      for (let c = 0; c < keyLen && same; c++) same = buf[s + 4 + c] === b[keyStart + c];
      for (let c = 0; c < nsLen && same; c++) same = buf[s + 4 + keyLen + c] === b[nsStart + c];
      if (same) return true;
    }
  }

  /** Key group index `i`'s changed rows (binary strings) → their latest entry. */
  rowsOf(i: number): Map<string, number> {
    let m = this.maps[i];
    if (m !== undefined) return m;
    m = new Map();
    const x = this.index(i);
    if (x.n > 0) {
      const buf = this.log(i);
      for (let e = 0; e < x.n; e++) {
        const s = x.starts[e] as number;
        m.set(buf.toString('latin1', s, s + ((x.lens[e] as number) >> 1)), e);
      }
    }
    this.maps[i] = m;
    return m;
  }

  /** The latest value of row `k`: its bytes, `TOMB`, or `undefined` when not written. */
  get(k: string): Buffer | typeof TOMB | undefined {
    const i = ((k.charCodeAt(0) << 8) | k.charCodeAt(1)) - this.kgStart;
    const e = this.rowsOf(i).get(k);
    if (e === undefined) return undefined;
    const x = this.index(i);
    const len = x.lens[e] as number;
    if ((len & 1) === 1) return TOMB;
    const buf = this.log(i);
    const n = readVarint(buf, (x.starts[e] as number) + (len >> 1));
    return buf.subarray(rpos, rpos + n);
  }
}

/**
 * Indexes one key group's log of {@link ChangedRows}: the latest entry of each row.
 * @param entries - entries in the log (so that nothing grows while indexing)
 */
function indexLog(log: ByteSink, entries: number): ChangedIndex {
  const starts = new Int32Array(entries);
  const lens = new Int32Array(entries);
  const hashes = new Int32Array(entries);
  let size = 16;
  while (size < entries * 2) size *= 2;
  const table = new Int32Array(size);
  const n = indexEntries(log.buf, log.len, starts, lens, hashes, table);
  return new ChangedIndex(starts, lens, hashes, n, table, size - 1);
}

/**
 * The loop of {@link indexLog}, which allocates nothing (so that its optimized code, entered
 * mid-loop, never meets an allocation it has no feedback for).
 * @returns the number of distinct rows
 */
function indexEntries(buf: Buffer, end: number, starts: Int32Array, lens: Int32Array, hashes: Int32Array, table: Int32Array): number {
  const mask = table.length - 1;
  let n = 0;
  for (let pos = 0; pos < end; ) {
    const tag = buf[pos] as number;
    const rowLen = readVarint(buf, pos + 1);
    const start = rpos;
    const rowEnd = start + rowLen;
    const h = rowHashFinish(rowHashRange(ROW_HASH_SEED, buf, start, rowEnd));
    pos = tag === CHANGED_PUT ? readVarint(buf, rowEnd) + rpos : rowEnd;
    const len = rowLen * 2 + (tag === CHANGED_DEL ? 1 : 0);
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const t = table[slot] as number;
      if (t === 0) {
        starts[n] = start;
        lens[n] = len;
        hashes[n] = h;
        table[slot] = ++n;
        break;
      }
      const e = t - 1;
      if (hashes[e] !== h || (lens[e] as number) >> 1 !== rowLen) continue;
      const s = starts[e] as number;
      let same = true;
      for (let c = 0; c < rowLen && same; c++) same = buf[s + c] === buf[start + c];
      if (same) {
        // A rewrite: the later entry replaces the row's.
        starts[e] = start;
        lens[e] = len;
        break;
      }
    }
  }
  return n;
}

/**
 * Adds the rows of a write buffer to `batch` and updates the read cache; with checkpoints, also
 * logs them in `changed`, whose copy of each row is then the batch's key (the batch copies it).
 */
function flushRows(
  dirty: Map<string, unknown>,
  codec: Codec,
  batch: ReturnType<ClassicLevel<Buffer, Buffer>['batch']>,
  cache: RowCache,
  changed: ChangedRows | undefined,
): void {
  for (const [k, v] of dirty) {
    if (v === TOMB) {
      batch.del(changed !== undefined ? changed.del(k) : Buffer.from(k, 'latin1'));
      cache.update(k, ABSENT);
    } else if (v instanceof RawBytes) {
      batch.put(changed !== undefined ? changed.put(k, v.bytes) : Buffer.from(k, 'latin1'), v.bytes);
      cache.delete(k);
    } else {
      const b = codec.encode(v);
      batch.put(changed !== undefined ? changed.put(k, b) : Buffer.from(k, 'latin1'), b);
      cache.update(k, v);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The read cache

/**
 * An approximate LRU of decoded rows: two generations of at most `cap / 2` rows; a hit in the
 * old generation is promoted, and when the young one fills up the old one is dropped. Costs a
 * Map lookup or two per access instead of an LRU list's relinking.
 */
class RowCache {
  private young = new Map<string, unknown>();
  private old = new Map<string, unknown>();
  private readonly half: number;
  /** Prefetches in flight; while there are any, what leaves the cache is remembered. */
  private tracking = 0;
  /** Dropped generations and deleted rows since tracking began (see {@link RowCache.evicted}). */
  private retired: Array<Map<string, unknown>> = [];
  private retiredKeys = new Set<string>();
  private clearedWhileTracking = false;

  constructor(cap: number) {
    this.half = Math.max(1, Math.floor(cap / 2));
  }

  get(k: string): unknown {
    let v = this.young.get(k);
    if (v !== undefined) return v;
    v = this.old.get(k);
    if (v !== undefined) this.set(k, v);
    return v;
  }

  peek(k: string): unknown {
    const v = this.young.get(k);
    return v !== undefined ? v : this.old.get(k);
  }

  set(k: string, v: unknown): void {
    this.young.set(k, v);
    if (this.young.size >= this.half) {
      if (this.tracking > 0) this.retired.push(this.old);
      this.old = this.young;
      this.young = new Map();
    }
  }

  /** Starts remembering evictions (a prefetch was issued). */
  track(): void {
    this.tracking++;
  }

  /** Stops remembering evictions for one prefetch; forgets them when none is left. */
  untrack(): void {
    if (--this.tracking > 0) return;
    this.retired = [];
    this.retiredKeys.clear();
    this.clearedWhileTracking = false;
  }

  /** Whether row `k` may have left the cache since tracking began. */
  evicted(k: string): boolean {
    if (this.clearedWhileTracking || this.retiredKeys.has(k)) return true;
    for (const m of this.retired) if (m.has(k)) return true;
    return false;
  }

  /** Sets `k` where it is cached (no promotion, no duplicate), else inserts it. */
  update(k: string, v: unknown): void {
    if (this.young.has(k)) this.young.set(k, v);
    else if (this.old.has(k)) this.old.set(k, v);
    else this.set(k, v);
  }

  delete(k: string): void {
    if (this.tracking > 0) this.retiredKeys.add(k);
    this.young.delete(k);
    this.old.delete(k);
  }

  clear(): void {
    if (this.tracking > 0) this.clearedWhileTracking = true;
    this.young.clear();
    this.old.clear();
  }

  get size(): number {
    return this.young.size + this.old.size;
  }
}

// ---------------------------------------------------------------------------------------------
// Tables: one per kind of row of a state, each with its own codec and write buffer

/** A present row whose value does not matter (counting). */
const EMPTY = Buffer.alloc(0);
/** Key group flag: written since the last `snapshotAsync()` capture. */
const SNAPSHOT_DIRTY = 1;
/** Key group flag: written since its entries were last counted. */
const COUNT_DIRTY = 2;

const PRESENT = 1;
const ABSENT_KNOWN = 0;
const UNKNOWN = 2;

class Table {
  dirty = new Map<string, unknown>();
  inflight: Map<string, unknown> | undefined = undefined;

  constructor(
    readonly store: LevelKeyedStateBackend,
    readonly codec: Codec,
  ) {}

  get(k: string): unknown {
    let v = this.dirty.get(k);
    if (v === undefined) {
      const inflight = this.inflight;
      if (inflight !== undefined) v = inflight.get(k);
      if (v === undefined) return this.store.load(k, this.codec);
      if (v === TOMB) return undefined;
      if (v instanceof RawBytes) {
        v = this.codec.decode(v.bytes);
        // Already encoded into its batch: safe to swap for the decoded value.
        inflight?.set(k, v);
      }
      return v;
    }
    if (v === TOMB) return undefined;
    if (v instanceof RawBytes) {
      v = this.codec.decode(v.bytes);
      this.dirty.set(k, v);
    }
    return v;
  }

  /** Whether reading row `k` now would go to LevelDB (not buffered, in flight or cached). */
  needsRead(k: string): boolean {
    return this.dirty.get(k) === undefined && this.inflight?.get(k) === undefined && this.store.cache.peek(k) === undefined;
  }

  /** Whether row `k` (not in the write buffer) exists, when known without reading LevelDB. */
  private prior(k: string): number {
    if (this.inflight !== undefined) {
      const v = this.inflight.get(k);
      if (v !== undefined) return v === TOMB ? ABSENT_KNOWN : PRESENT;
    }
    const c = this.store.cache.peek(k);
    if (c !== undefined) return c === ABSENT ? ABSENT_KNOWN : PRESENT;
    return UNKNOWN;
  }

  set(k: string, v: unknown): void {
    const store = this.store;
    store.touch(k);
    const d = this.dirty;
    const n = d.size;
    d.set(k, v);
    if (d.size !== n) store.added();
  }

  del(k: string): void {
    const d = this.dirty;
    const prev = d.get(k);
    if (prev === TOMB || (prev === undefined && this.prior(k) === ABSENT_KNOWN)) return;
    const store = this.store;
    store.touch(k);
    const n = d.size;
    d.set(k, TOMB);
    if (d.size !== n) store.added();
  }

  /** Rows of `k`'s table as they are now (write buffer over in-flight batch). */
  pending(): Map<string, unknown> {
    if (this.inflight === undefined) return this.dirty;
    const m = new Map(this.inflight);
    for (const [k, v] of this.dirty) m.set(k, v);
    return m;
  }
}

// ---------------------------------------------------------------------------------------------
// States

abstract class LevelState {
  ns: Namespace = VOID_NAMESPACE;
  private nsEnc = encodeKey(VOID_NAMESPACE);
  private kEpoch = -1;
  private k = '';
  readonly ttlMs: number;
  readonly ttl: boolean;
  readonly refreshOnRead: boolean;
  readonly sidStr: string;

  constructor(
    readonly backend: LevelKeyedStateBackend,
    readonly descriptor: StateDescriptor<unknown>,
    readonly sid: number,
  ) {
    this.ttlMs = descriptor.ttl?.ttlMs ?? 0;
    this.ttl = this.ttlMs !== 0;
    this.refreshOnRead = descriptor.ttl?.updateType === 'OnReadAndWrite';
    this.sidStr = String.fromCharCode(sid >>> 8, sid & 0xff);
  }

  /** Every table of this state; the first is the head table (one row per entry). */
  abstract readonly tables: readonly Table[];

  get head(): Table {
    return this.tables[0] as Table;
  }

  setCurrentNamespace(namespace: Namespace): void {
    if (namespace === this.ns) return;
    this.ns = namespace;
    this.nsEnc = encodeKey(namespace);
    this.kEpoch = -1;
  }

  /** The row key prefix `P` of the current key and namespace. */
  protected key(): string {
    const b = this.backend;
    if (this.kEpoch !== b.epoch) {
      this.k = b.currentKeyGroupStr() + this.sidStr + b.currentKeyStr() + this.nsEnc;
      this.kEpoch = b.epoch;
    }
    return this.k;
  }

  protected wrap(v: unknown): unknown {
    return this.ttl ? { v, t: this.backend.clock.now() } : v;
  }

  isExpired(stored: unknown, now: number): boolean {
    return this.ttl && (stored as TtlEntry).t + this.ttlMs <= now;
  }

  leafCodec(): Codec {
    const serde = this.descriptor.serde;
    const ttl = this.ttl;
    return {
      encode: (v) => encodeLeaf(serde, ttl, v),
      decode: (b) => decodeLeaf(serde, ttl, b, 0),
    };
  }

  /** Writes one restored snapshot entry (heap entry encoding) under row prefix `p`. */
  abstract restoreEntry(p: string, entry: Buffer): void;

  /** Writes one restored plain value (a JSON column of a snapshot) under row prefix `p`. */
  restoreValue(_p: string, _value: unknown): void {
    throw new TypeError(`restored ${this.descriptor.kind} state '${this.descriptor.name}' holds plain values, which only single-value states have`);
  }
}

/** Value, reducing and aggregating state: one row per (key, namespace). */
abstract class SingleRowState extends LevelState {
  readonly t: Table;
  readonly tables: readonly Table[];

  constructor(backend: LevelKeyedStateBackend, descriptor: StateDescriptor<unknown>, sid: number) {
    super(backend, descriptor, sid);
    this.t = new Table(backend, this.leafCodec());
    this.tables = [this.t];
  }

  /** The live stored value (TTL honoured, expired entries removed), or undefined. */
  protected read(): unknown {
    const k = this.key();
    const stored = this.t.get(k);
    if (!this.ttl || stored === undefined) return stored;
    const e = stored as TtlEntry;
    const now = this.backend.clock.now();
    if (e.t + this.ttlMs <= now) {
      this.t.del(k);
      return undefined;
    }
    if (this.refreshOnRead) {
      e.t = now;
      this.t.set(k, e);
    }
    return e.v;
  }

  protected write(v: unknown): void {
    this.t.set(this.key(), this.wrap(v));
  }

  clear(): void {
    this.t.del(this.key());
  }

  restoreEntry(p: string, entry: Buffer): void {
    this.t.set(p, new RawBytes(entry));
  }

  override restoreValue(p: string, value: unknown): void {
    this.t.set(p, this.wrap(value));
  }
}

class LevelValueState<T> extends SingleRowState implements InternalValueState<T> {
  value(): T | undefined {
    return this.read() as T | undefined;
  }

  update(value: T): void {
    if (value === undefined) this.clear();
    else this.write(value);
  }
}

abstract class AccumulatingState extends SingleRowState {
  protected abstract combine(acc: unknown, value: unknown): unknown;
  protected abstract mergeAcc(a: unknown, b: unknown): unknown;

  add(value: unknown): void {
    this.write(this.combine(this.read(), value));
  }

  mergeNamespaces(target: Namespace, sources: readonly Namespace[]): void {
    const saved = this.ns;
    let merged: unknown;
    for (const src of sources) {
      this.setCurrentNamespace(src);
      const a = this.read();
      if (a !== undefined) {
        merged = merged === undefined ? a : this.mergeAcc(merged, a);
        this.clear();
      }
    }
    if (merged !== undefined) {
      this.setCurrentNamespace(target);
      const t = this.read();
      this.write(t === undefined ? merged : this.mergeAcc(t, merged));
    }
    this.setCurrentNamespace(saved);
  }
}

class LevelReducingState<T> extends AccumulatingState implements InternalReducingState<T> {
  private readonly reduce = (this.descriptor as unknown as ReducingStateDescriptor<T>).reduce;

  get(): T | undefined {
    return this.read() as T | undefined;
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

class LevelAggregatingState<TIn, TAcc, TOut>
  extends AccumulatingState
  implements InternalAggregatingState<TIn, TOut>
{
  private readonly fn = (this.descriptor as unknown as AggregatingStateDescriptor<TIn, TAcc, TOut>).aggregate;

  get(): TOut | undefined {
    const a = this.read();
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

const numberCodec: Codec = {
  encode: (v) => {
    const n = v as number;
    const b = Buffer.allocUnsafe(varintLen(n));
    writeVarint(b, 0, n);
    return b;
  },
  decode: (b) => readVarint(b, 0),
};

/** List state: a head row with the chunk count, and chunks of encoded elements. */
class LevelListState<T> extends LevelState implements InternalListState<T> {
  readonly headT: Table;
  readonly chunkT: Table;
  readonly tables: readonly Table[];
  private readonly chunk: number;

  constructor(backend: LevelKeyedStateBackend, descriptor: StateDescriptor<unknown>, sid: number, chunk: number) {
    super(backend, descriptor, sid);
    this.chunk = chunk;
    const serde = descriptor.serde;
    const ttl = this.ttl;
    this.headT = new Table(backend, numberCodec);
    this.chunkT = new Table(
      backend,
      {
        encode: (v) => Buffer.concat((v as unknown[]).map((e) => encodeLeaf(serde, ttl, e))),
        decode: (b) => {
          const out: unknown[] = [];
          let pos = 0;
          while (pos < b.length) {
            out.push(decodeLeaf(serde, ttl, b, pos));
            pos = rpos;
          }
          return out;
        },
      },
    );
    this.tables = [this.headT, this.chunkT];
  }

  /** All stored elements (TTL-wrapped, expired ones included), or undefined. */
  private load(p: string): unknown[] | undefined {
    const c = this.headT.get(p) as number | undefined;
    if (c === undefined) return undefined;
    if (c === 1) return (this.chunkT.get(p + chunkSuffix(0)) as unknown[] | undefined)?.slice() ?? [];
    const out: unknown[] = [];
    for (let i = 0; i < c; i++) {
      const ch = this.chunkT.get(p + chunkSuffix(i)) as unknown[] | undefined;
      if (ch !== undefined) for (const e of ch) out.push(e);
    }
    return out;
  }

  private removeAll(p: string): void {
    const c = this.headT.get(p) as number | undefined;
    if (c === undefined) return;
    for (let i = 0; i < c; i++) this.chunkT.del(p + chunkSuffix(i));
    this.headT.del(p);
  }

  /** Replaces the list under `p` with `list` (stored elements). */
  private store(p: string, list: readonly unknown[]): void {
    const old = (this.headT.get(p) as number | undefined) ?? 0;
    const size = this.chunk;
    const c = Math.ceil(list.length / size);
    for (let i = 0; i < c; i++) this.chunkT.set(p + chunkSuffix(i), list.slice(i * size, (i + 1) * size));
    for (let i = c; i < old; i++) this.chunkT.del(p + chunkSuffix(i));
    if (c === 0) this.headT.del(p);
    else if (c !== old) this.headT.set(p, c);
  }

  /** Appends stored elements to the list under `p`. */
  private append(p: string, items: readonly unknown[]): void {
    if (items.length === 0) return;
    const size = this.chunk;
    const c0 = this.headT.get(p) as number | undefined;
    let c = c0 ?? 0;
    let i = 0;
    if (c > 0) {
      const lastK = p + chunkSuffix(c - 1);
      const last = this.chunkT.get(lastK) as unknown[] | undefined;
      if (last !== undefined && last.length < size) {
        while (i < items.length && last.length < size) last.push(items[i++]);
        this.chunkT.set(lastK, last);
      }
    }
    while (i < items.length) {
      this.chunkT.set(p + chunkSuffix(c++), items.slice(i, i + size));
      i += size;
    }
    if (c !== c0) this.headT.set(p, c);
  }

  get(): T[] {
    const p = this.key();
    const list = this.load(p);
    if (list === undefined) return [];
    if (!this.ttl) return list as T[];
    const now = this.backend.clock.now();
    const kept = list.filter((e) => !this.isExpired(e, now));
    if (kept.length === 0) {
      this.removeAll(p);
      return [];
    }
    if (this.refreshOnRead) for (const e of kept) (e as TtlEntry).t = now;
    if (kept.length !== list.length || this.refreshOnRead) this.store(p, kept);
    return kept.map((e) => (e as TtlEntry).v as T);
  }

  add(value: T): void {
    const p = this.key();
    const w = this.wrap(value);
    const c = this.headT.get(p) as number | undefined;
    if (c !== undefined) {
      const lastK = p + chunkSuffix(c - 1);
      const last = this.chunkT.get(lastK) as unknown[] | undefined;
      if (last !== undefined && last.length < this.chunk) {
        last.push(w);
        this.chunkT.set(lastK, last);
        return;
      }
    }
    this.append(p, [w]);
  }

  addAll(values: readonly T[]): void {
    if (values.length === 0) return;
    this.append(
      this.key(),
      values.map((v) => this.wrap(v)),
    );
  }

  update(values: readonly T[]): void {
    if (values.length === 0) this.clear();
    else
      this.store(
        this.key(),
        values.map((v) => this.wrap(v)),
      );
  }

  clear(): void {
    this.removeAll(this.key());
  }

  mergeNamespaces(target: Namespace, sources: readonly Namespace[]): void {
    const saved = this.ns;
    const moved: unknown[] = [];
    for (const src of sources) {
      if (src === target) continue;
      this.setCurrentNamespace(src);
      const p = this.key();
      const list = this.load(p);
      if (list !== undefined) {
        for (const e of list) moved.push(e);
        this.removeAll(p);
      }
    }
    if (moved.length > 0) {
      this.setCurrentNamespace(target);
      this.append(this.key(), moved);
    }
    this.setCurrentNamespace(saved);
  }

  restoreEntry(p: string, entry: Buffer): void {
    const n = readVarint(entry, 0);
    let pos = rpos;
    let c = 0;
    for (let i = 0; i < n; i += this.chunk) {
      const start = pos;
      for (let j = i; j < n && j < i + this.chunk; j++) pos = skipLeaf(entry, pos, this.ttl);
      this.chunkT.set(p + chunkSuffix(c++), new RawBytes(entry.subarray(start, pos)));
    }
    if (c > 0) this.headT.set(p, c);
  }
}

/** Map state: an index row with the user keys, and one row per element. */
class LevelMapState<UK extends KeyType, UV> extends LevelState implements InternalMapState<UK, UV> {
  readonly indexT: Table;
  readonly elemT: Table;
  readonly tables: readonly Table[];
  private readonly keySerde: MapStateDescriptor<UK, UV>['keySerde'];
  private lastUk: UK | undefined = undefined;
  private lastUkStr = '';

  constructor(backend: LevelKeyedStateBackend, descriptor: StateDescriptor<unknown>, sid: number) {
    super(backend, descriptor, sid);
    const keySerde = (descriptor as unknown as MapStateDescriptor<UK, UV>).keySerde;
    this.keySerde = keySerde;
    this.indexT = new Table(
      backend,
      {
        encode: (v) => {
          const m = v as Map<string, UK>;
          let size = varintLen(m.size);
          for (const s of m.keys()) size += varintLen(s.length) + s.length;
          const b = Buffer.allocUnsafe(size);
          let pos = writeVarint(b, 0, m.size);
          for (const s of m.keys()) {
            pos = writeVarint(b, pos, s.length);
            pos += b.write(s, pos, 'latin1');
          }
          return b;
        },
        decode: (b) => {
          const m = new Map<string, UK>();
          const n = readVarint(b, 0);
          let pos = rpos;
          for (let i = 0; i < n; i++) {
            const len = readVarint(b, pos);
            const bytes = b.subarray(rpos, rpos + len);
            pos = rpos + len;
            m.set(bytes.toString('latin1'), keySerde.deserialize(bytes));
          }
          return m;
        },
      },
    );
    const leaf = this.leafCodec();
    this.elemT = new Table(
      backend,
      this.ttl
        ? leaf
        : {
            encode: leaf.encode,
            decode: (b) => {
              const v = leaf.decode(b);
              return v === undefined ? UNDEF : v;
            },
          },
    );
    this.tables = [this.indexT, this.elemT];
  }

  private ukStr(uk: UK): string {
    if (uk === this.lastUk && uk !== undefined) return this.lastUkStr;
    const s = latin1(this.keySerde.serialize(uk));
    this.lastUk = uk;
    this.lastUkStr = s;
    return s;
  }

  private index(p: string): Map<string, UK> | undefined {
    return this.indexT.get(p) as Map<string, UK> | undefined;
  }

  /** Reads an element honouring TTL; removes it when expired. */
  private read(p: string, s: string): UV | undefined {
    const ek = `${p}\x01${s}`;
    const stored = this.elemT.get(ek);
    if (stored === undefined) return undefined;
    if (!this.ttl) return stored === UNDEF ? undefined : (stored as UV);
    const e = stored as TtlEntry;
    const now = this.backend.clock.now();
    if (e.t + this.ttlMs <= now || e.v === undefined) {
      this.removeKey(p, s);
      return undefined;
    }
    if (this.refreshOnRead) {
      e.t = now;
      this.elemT.set(ek, e);
    }
    return e.v as UV;
  }

  private removeKey(p: string, s: string): void {
    const idx = this.index(p);
    if (idx === undefined || !idx.delete(s)) return;
    this.elemT.del(`${p}\x01${s}`);
    if (idx.size === 0) this.indexT.del(p);
    else this.indexT.set(p, idx);
  }

  get(key: UK): UV | undefined {
    return this.read(this.key(), this.ukStr(key));
  }

  put(key: UK, value: UV): void {
    const p = this.key();
    const s = this.ukStr(key);
    let idx = this.index(p);
    if (idx === undefined) {
      idx = new Map();
      idx.set(s, key);
      this.indexT.set(p, idx);
    } else if (!idx.has(s)) {
      idx.set(s, key);
      this.indexT.set(p, idx);
    }
    this.elemT.set(`${p}\x01${s}`, this.ttl ? this.wrap(value) : value === undefined ? UNDEF : value);
  }

  putAll(entries: Iterable<readonly [UK, UV]>): void {
    for (const [k, v] of entries) this.put(k, v);
  }

  remove(key: UK): void {
    this.removeKey(this.key(), this.ukStr(key));
  }

  contains(key: UK): boolean {
    return this.get(key) !== undefined;
  }

  entries(): Array<[UK, UV]> {
    const p = this.key();
    const idx = this.index(p);
    if (idx === undefined) return [];
    const out: Array<[UK, UV]> = [];
    for (const [s, uk] of [...idx]) {
      const v = this.read(p, s);
      if (v !== undefined) out.push([uk, v]);
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

  clear(): void {
    const p = this.key();
    const idx = this.index(p);
    if (idx === undefined) return;
    for (const s of idx.keys()) this.elemT.del(`${p}\x01${s}`);
    this.indexT.del(p);
  }

  restoreEntry(p: string, entry: Buffer): void {
    const n = readVarint(entry, 0);
    let pos = rpos;
    const idx = new Map<string, UK>();
    for (let i = 0; i < n; i++) {
      const len = readVarint(entry, pos);
      const ukBytes = entry.subarray(rpos, rpos + len);
      pos = rpos + len;
      const end = skipLeaf(entry, pos, this.ttl);
      const s = ukBytes.toString('latin1');
      idx.set(s, this.keySerde.deserialize(ukBytes));
      this.elemT.set(`${p}\x01${s}`, new RawBytes(entry.subarray(pos, end)));
      pos = end;
    }
    if (n > 0) this.indexT.set(p, idx);
  }
}

// ---------------------------------------------------------------------------------------------
// Snapshot encoding from rows

/**
 * Turns the rows of one key group, in key order, into key-group format 1: per state,
 * `u8(1) key(ns) key(key) bytes(entry)` … `u8(0)`.
 */
class KeyGroupEncoder {
  private readonly sinks = new Map<number, ByteSink>();
  private group:
    | {
        state: LevelState;
        sid: number;
        prefix: Buffer;
        ns: Buffer;
        key: Buffer;
        n: number;
        sink: ByteSink;
        order: string[] | undefined;
        elems: Map<string, Buffer> | undefined;
      }
    | undefined = undefined;

  /** Entries written so far (a delta compares it before and after an entry's rows). */
  records = 0;

  /**
   * @param lead - a first byte for every state's blob (`DELTA` for a delta: the records are then
   *   format 1's, plus the tombstones of {@link KeyGroupEncoder.tombstone})
   */
  constructor(
    private readonly bySid: ReadonlyArray<LevelState | undefined>,
    private readonly now: number,
    private readonly lead?: number,
  ) {}

  private sinkFor(sid: number): ByteSink {
    let s = this.sinks.get(sid);
    if (s === undefined) {
      this.sinks.set(sid, (s = new ByteSink()));
      if (this.lead !== undefined) s.u8(this.lead);
    }
    return s;
  }

  private record(sid: number, ns: Uint8Array, key: Uint8Array, entryLen: number): ByteSink {
    const w = this.sinkFor(sid);
    this.records++;
    w.u8(1);
    w.raw(ns);
    w.raw(key);
    w.varint(entryLen);
    return w;
  }

  row(k: Buffer, v: Buffer): void {
    const sid = k.readUInt16BE(2);
    const st = this.bySid[sid];
    if (st === undefined) return;
    const keyEnd = skipKey(k, 4);
    const nsEnd = skipKey(k, keyEnd);
    const kind = st.descriptor.kind;
    if (kind !== 'list' && kind !== 'map') {
      this.closeGroup();
      if (st.ttl && v.readDoubleLE(0) + st.ttlMs <= this.now) return;
      this.record(sid, k.subarray(keyEnd, nsEnd), k.subarray(4, keyEnd), v.length).raw(v);
      return;
    }
    let g = this.group;
    if (nsEnd === k.length || g === undefined || g.sid !== sid || !g.prefix.equals(k.subarray(0, nsEnd))) {
      this.closeGroup();
      g = this.group = {
        state: st,
        sid,
        prefix: Buffer.from(k.subarray(0, nsEnd)),
        ns: Buffer.from(k.subarray(keyEnd, nsEnd)),
        key: Buffer.from(k.subarray(4, keyEnd)),
        n: 0,
        sink: new ByteSink(),
        order: undefined,
        elems: kind === 'map' ? new Map() : undefined,
      };
      if (nsEnd === k.length) {
        if (kind === 'map') {
          const order: string[] = [];
          const n = readVarint(v, 0);
          let pos = rpos;
          for (let i = 0; i < n; i++) {
            const len = readVarint(v, pos);
            order.push(v.toString('latin1', rpos, rpos + len));
            pos = rpos + len;
          }
          g.order = order;
        }
        return;
      }
    }
    if (k[nsEnd] !== 1) return;
    const ttl = st.ttl;
    if (kind === 'list') {
      let pos = 0;
      while (pos < v.length) {
        const end = skipLeaf(v, pos, ttl);
        if (!ttl || v.readDoubleLE(pos) + st.ttlMs > this.now) {
          g.sink.raw(v, pos, end);
          g.n++;
        }
        pos = end;
      }
    } else {
      if (ttl && v.readDoubleLE(0) + st.ttlMs <= this.now) return;
      const uk = k.subarray(nsEnd + 1);
      const e = Buffer.allocUnsafe(varintLen(uk.length) + uk.length + v.length);
      let pos = writeVarint(e, 0, uk.length);
      e.set(uk, pos);
      pos += uk.length;
      e.set(v, pos);
      (g.elems as Map<string, Buffer>).set(uk.toString('latin1'), e);
    }
  }

  /** Writes the entry whose rows were fed last (rows of the next entry may follow). */
  endEntry(): void {
    this.closeGroup();
  }

  /** Writes a delta tombstone for the entry of row prefix `p` (`[kg][sid][key][ns]`). */
  tombstone(p: Buffer): void {
    const keyEnd = skipKey(p, 4);
    const w = this.sinkFor(p.readUInt16BE(2));
    w.u8(DELTA_TOMBSTONE);
    w.raw(p.subarray(keyEnd));
    w.raw(p.subarray(4, keyEnd));
  }

  private closeGroup(): void {
    const g = this.group;
    if (g === undefined) return;
    this.group = undefined;
    if (g.elems !== undefined) {
      for (const s of g.order ?? []) {
        const e = g.elems.get(s);
        if (e === undefined) continue;
        g.sink.raw(e);
        g.n++;
        g.elems.delete(s);
      }
      for (const e of g.elems.values()) {
        g.sink.raw(e);
        g.n++;
      }
    }
    if (g.n === 0) return;
    this.record(g.sid, g.ns, g.key, varintLen(g.n) + g.sink.len);
    const w = this.sinkFor(g.sid);
    w.varint(g.n);
    w.raw(g.sink.buf, 0, g.sink.len);
  }

  /** The encoded key group per state id (states without entries left out). */
  finish(): Map<number, Uint8Array> {
    this.closeGroup();
    const out = new Map<number, Uint8Array>();
    for (const [sid, w] of this.sinks) {
      if (w.len === (this.lead === undefined ? 0 : 1)) continue;
      w.u8(0);
      out.set(sid, w.finish());
    }
    this.sinks.clear();
    return out;
  }
}

/** Tag of a deleted entry in a delta blob (see `keyGroupFormat.ts`). */
const DELTA_TOMBSTONE = 2;
/** Format 1 blob without entries: the base of a chain whose key group had none. */
const EMPTY_BASE = Uint8Array.of(0);
/** Deltas a key group's chain may hold before its next snapshot reads it in full. */
const MAX_DELTAS = 8;
/**
 * Changed rows (since the previous snapshot, summed over its deltas) above which a key group is
 * read in full again, as a fraction of the rows of its last full read.
 */
const DELTA_MAX_SHARE = 0.5;
/**
 * Rows flushed between snapshots that are remembered for deltas at most; beyond, the next
 * snapshot reads written key groups in full. Fewer once a snapshot has counted the rows: more
 * changed rows than {@link DELTA_MAX_SHARE} of all rows leave few key groups a delta could serve.
 */
const CHANGED_ROWS_MAX = 1_000_000;
/** Bytes of changed rows' values (rewrites included) remembered at most between snapshots. */
const CHANGED_BYTES_MAX = 64 * 1024 * 1024;

/** Rows per `nextv` of an asynchronous snapshot scan. */
const SCAN_READ_ROWS = 20_000;
/** Bytes the iterator may buffer per read of an asynchronous snapshot scan. */
const SCAN_READ_BYTES = 8 * 1024 * 1024;

/**
 * Rows of the write buffer and the batch in flight at snapshot time, encoded, per key group;
 * turned into sorted `Buffer` rows only for the key groups a scan or a delta merges them into.
 */
class Overlay {
  private readonly byKg = new Map<number, Array<[string, Buffer | typeof TOMB]>>();
  private readonly sorted = new Map<number, Array<[Buffer, Buffer | typeof TOMB]>>();

  /**
   * @param changed - rows that belong to the overlay besides those {@link Overlay.add}ed (and
   *   win over them): every row written since the previous capture, when it was remembered
   * @param kgStart - the first owned key group (the index base of `changed`)
   */
  constructor(
    private readonly changed?: ChangedRows,
    private readonly kgStart = 0,
  ) {}

  add(k: string, v: Buffer | typeof TOMB): void {
    const kg = (k.charCodeAt(0) << 8) | k.charCodeAt(1);
    let list = this.byKg.get(kg);
    if (list === undefined) this.byKg.set(kg, (list = []));
    list.push([k, v]);
  }

  /** Key groups with rows. */
  keyGroups(): number[] {
    const kgs = new Set(this.byKg.keys());
    const c = this.changed;
    if (c !== undefined) for (let i = 0; i < c.kgs; i++) if (c.rowCount(i) > 0) kgs.add(i + this.kgStart);
    return [...kgs];
  }

  /** The rows of key group `kg`, in key order. */
  rows(kg: number): Array<[Buffer, Buffer | typeof TOMB]> {
    let out = this.sorted.get(kg);
    if (out !== undefined) return out;
    let list = this.byKg.get(kg) ?? [];
    const m = this.changed?.rowsOf(kg - this.kgStart);
    if (m !== undefined && m.size > 0) {
      const c = this.changed as ChangedRows;
      const merged = new Map<string, Buffer | typeof TOMB>(list);
      for (const k of m.keys()) merged.set(k, c.get(k) as Buffer | typeof TOMB);
      list = [...merged];
    }
    // Binary strings compare as their bytes.
    list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    out = list.map(([k, v]) => [Buffer.from(k, 'latin1'), v]);
    this.sorted.set(kg, out);
    return out;
  }
}

/** Something that takes rows in key order. */
interface RowSink {
  row(k: Buffer, v: Buffer): void;
}

/** Feeds LevelDB rows merged with the overlay (which wins) into `enc`, in key order. */
class MergeFeeder {
  private i = 0;

  constructor(
    private readonly overlay: ReadonlyArray<[Buffer, Buffer | typeof TOMB]>,
    private readonly enc: RowSink,
  ) {}

  row(k: Buffer, v: Buffer): void {
    const o = this.overlay;
    while (this.i < o.length) {
      const [ok, ov] = o[this.i] as [Buffer, Buffer | typeof TOMB];
      const c = Buffer.compare(ok, k);
      if (c > 0) break;
      this.i++;
      if (ov !== TOMB) this.enc.row(ok, ov);
      if (c === 0) return;
    }
    this.enc.row(k, v);
  }

  end(): void {
    const o = this.overlay;
    for (; this.i < o.length; this.i++) {
      const [ok, ov] = o[this.i] as [Buffer, Buffer | typeof TOMB];
      if (ov !== TOMB) this.enc.row(ok, ov);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Synchronous scans through a helper thread

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { ClassicLevel } = require(workerData.modulePath);
const ctrl = new Int32Array(workerData.ctrl);
const sab = workerData.data;
let data = new Uint8Array(sab);
const dbs = new Map();
function publish(state, len, final) {
  Atomics.store(ctrl, 1, len);
  Atomics.store(ctrl, 2, final ? 1 : 0);
  Atomics.store(ctrl, 0, state);
  Atomics.notify(ctrl, 0);
  if (!final) Atomics.wait(ctrl, 0, state);
}
async function open(location) {
  let db = dbs.get(location);
  if (db === undefined) {
    db = new ClassicLevel(location, { keyEncoding: 'buffer', valueEncoding: 'buffer', multithreading: true, createIfMissing: false });
    await db.open();
    dbs.set(location, db);
  }
  return db;
}
parentPort.on('message', async (req) => {
  try {
    if (req.close !== undefined) {
      const db = dbs.get(req.close);
      dbs.delete(req.close);
      if (db !== undefined) await db.close();
      publish(1, 0, true);
      return;
    }
    const db = await open(req.location);
    let pos = 0;
    const put = (k, v) => {
      const need = 8 + k.length + (v === undefined ? 0 : v.length);
      if (pos + need > data.length && pos > 0) {
        publish(1, pos, false);
        pos = 0;
      }
      if (need > data.length) {
        sab.grow(Math.min(sab.maxByteLength, Math.max(need, data.length * 2)));
        data = new Uint8Array(sab);
        if (need > data.length) throw new Error('row larger than the scan buffer');
      }
      const view = new DataView(sab);
      view.setUint32(pos, k.length); pos += 4; data.set(k, pos); pos += k.length;
      if (v === undefined) { view.setUint32(pos, 0xffffffff); pos += 4; }
      else { view.setUint32(pos, v.length); pos += 4; data.set(v, pos); pos += v.length; }
    };
    for (const [gte, lt] of req.ranges) {
      const it = db.iterator({ gte: Buffer.from(gte), lt: Buffer.from(lt), keys: true, values: req.values });
      try {
        for (;;) {
          const rows = await it.nextv(1000);
          if (rows.length === 0) break;
          for (const [k, v] of rows) put(k, req.values ? v : undefined);
        }
      } finally {
        await it.close();
      }
    }
    publish(1, pos, true);
  } catch (e) {
    const msg = Buffer.from(String(e && e.stack || e));
    const n = Math.min(msg.length, data.length);
    data.set(msg.subarray(0, n), 0);
    publish(2, n, true);
  }
});
`;

/**
 * Runs LevelDB range scans on a helper thread (one per process, shared by all databases) and
 * waits for them synchronously, streaming rows back through shared memory.
 */
class SyncScanner {
  private static shared: SyncScanner | undefined;
  private readonly worker: Worker;
  private readonly ctrl: Int32Array;
  private readonly sab: SharedArrayBuffer;

  static get(): SyncScanner {
    if (SyncScanner.shared === undefined) SyncScanner.shared = new SyncScanner();
    return SyncScanner.shared;
  }

  private constructor() {
    this.ctrl = new Int32Array(new SharedArrayBuffer(16));
    const Growable = SharedArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => SharedArrayBuffer;
    this.sab = new Growable(1 << 20, { maxByteLength: 1 << 30 });
    const modulePath = createRequire(import.meta.url).resolve('classic-level');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { modulePath, ctrl: this.ctrl.buffer, data: this.sab },
    });
    this.worker.unref();
    this.worker.on('error', () => {
      SyncScanner.shared = undefined;
    });
  }

  private call(req: unknown, onChunk: (data: Buffer, len: number) => void): void {
    const ctrl = this.ctrl;
    Atomics.store(ctrl, 0, 0);
    this.worker.postMessage(req);
    for (;;) {
      if (Atomics.wait(ctrl, 0, 0, 120_000) === 'timed-out') {
        SyncScanner.shared = undefined;
        void this.worker.terminate();
        throw new Error('LevelStateBackend: synchronous scan timed out');
      }
      const state = Atomics.load(ctrl, 0);
      const len = Atomics.load(ctrl, 1);
      const final = Atomics.load(ctrl, 2) === 1;
      const data = Buffer.from(this.sab, 0, this.sab.byteLength);
      if (state === 2) {
        const msg = data.toString('utf8', 0, len);
        Atomics.store(ctrl, 0, 0);
        throw new Error(`LevelStateBackend: synchronous scan failed: ${msg}`);
      }
      try {
        onChunk(data, len);
      } finally {
        Atomics.store(ctrl, 0, 0);
        Atomics.notify(ctrl, 0);
      }
      if (final) return;
    }
  }

  /** Calls `onRow` for every row in the ranges, in key order; buffers are only valid during the call. */
  scan(
    location: string,
    ranges: ReadonlyArray<readonly [Buffer, Buffer]>,
    values: boolean,
    onRow: (k: Buffer, v: Buffer | undefined) => void,
  ): void {
    this.call({ location, ranges, values }, (data, len) => {
      let pos = 0;
      while (pos < len) {
        const kl = data.readUInt32BE(pos);
        pos += 4;
        const k = data.subarray(pos, pos + kl);
        pos += kl;
        const vl = data.readUInt32BE(pos);
        pos += 4;
        if (vl === 0xffffffff) onRow(k, undefined);
        else {
          onRow(k, data.subarray(pos, pos + vl));
          pos += vl;
        }
      }
    });
  }

  /** Closes the helper thread's handle on `location` (a no-op when it never opened it). */
  close(location: string): void {
    this.call({ close: location }, () => {});
  }
}

// ---------------------------------------------------------------------------------------------
// The keyed backend

interface SnapshotResult {
  readonly snapshot: KeyedStateSnapshot;
  /**
   * state name → key group → its blobs (a base, then deltas), for reuse by the next incremental
   * snapshot.
   */
  readonly bytes: Map<string, Map<number, Uint8Array[]>>;
  /** Per owned key group: the rows of its last full read (0: unknown, read it in full next time). */
  readonly baseRows: Float64Array;
  /** Per owned key group: the changed rows its deltas since that read cover. */
  readonly deltaRows: Float64Array;
  /** Per owned key group: the deltas since that read. */
  readonly deltas: Uint8Array;
}

/**
 * Statistics of a {@link LevelKeyedStateBackend} (for tests and benchmarks).
 * @internal
 */
export interface LevelStateStats {
  /** Reads answered by the read cache. */
  cacheHits: number;
  /** Reads that went to LevelDB (`getSync`). */
  dbReads: number;
  /** Batches written. */
  flushes: number;
  /** Rows written in batches. */
  rowsWritten: number;
  /** Key groups read from LevelDB by the last `snapshotAsync()`. */
  lastSnapshotScannedKeyGroups: number;
  /** Key groups whose bytes the last `snapshotAsync()` reused from the previous one. */
  lastSnapshotReusedKeyGroups: number;
  /** Key groups the last `snapshotAsync()` wrote as a delta on the previous one's bytes. */
  lastSnapshotDeltaKeyGroups: number;
  /**
   * Key groups the last `snapshotAsync()` rebuilt in full from the previous one's bytes and
   * the rows written since, without reading LevelDB.
   */
  lastSnapshotRebuiltKeyGroups: number;
  /** Rows in the read cache. */
  cachedRows: number;
  /** Rows requested by `prefetch()` (read with one `getMany` per call). */
  prefetched: number;
}

/**
 * The LevelDB backend's keyed state of one operator instance.
 * @internal
 */
export class LevelKeyedStateBackend implements KeyedStateBackend {
  currentKey: KeyType = '';
  currentKeyGroup = 0;
  /** Bumped on every key change; states cache their row prefix per epoch. */
  epoch = 0;
  private keyStr: string | undefined = undefined;
  private kgString = '\x00\x00';
  readonly keyGroupRange: KeyGroupRange;
  readonly maxParallelism: number;
  readonly clock: Clock;
  readonly cache: RowCache;
  private readonly states = new Map<string, LevelState>();
  private readonly bySid: Array<LevelState | undefined> = [];
  private tables: Table[] = [];
  private dirtyCount = 0;
  private readonly writeBufferSize: number;
  private readonly consolidateEvery: number;
  private readonly listChunkSize: number;
  private flushing: Promise<void> | undefined = undefined;
  private failure: unknown = undefined;
  /** Per owned key group: {@link SNAPSHOT_DIRTY} and {@link COUNT_DIRTY} flags. */
  private readonly kgFlags: Uint8Array;
  /** Per owned key group: entries at the last count. */
  private readonly kgTotals: Float64Array;
  /** Per owned key group: entries per encoded namespace at the last count. */
  private readonly kgNsCounts: Array<Map<string, number> | undefined>;
  private readonly kgStart: number;
  private readonly kgCount: number;
  private lastSnapshot: Promise<SnapshotResult> | undefined = undefined;
  private snapshotsSinceFull = 0;
  /** Set when a snapshot failed: the next one is full. */
  private forceFull = false;
  /**
   * Rows flushed since the last `snapshotAsync()` capture, with their encoded value (or
   * `TOMB`), so that a delta needs no LevelDB read for single-row entries; `undefined` once more
   * than {@link CHANGED_ROWS_MAX} were (the next snapshot then reads written key groups in full),
   * and before the first snapshot (which is full anyway: a job without checkpoints pays nothing).
   */
  private changed: ChangedRows | undefined = undefined;
  /** Emptied change logs for the next {@link ChangedRows}. */
  private readonly changedLogPool: ByteSink[] = [];
  /** Changed rows remembered at most (see {@link CHANGED_ROWS_MAX}). */
  private changedLimit = CHANGED_ROWS_MAX;
  /** Captures of {@link LevelKeyedStateBackend.captureOverlay} so far. */
  private captures = 0;
  /** {@link LevelKeyedStateBackend.captures} when the batch in flight (if any) was flushed. */
  private inflightCapture = -1;
  private rawRestored: Array<{ name: string; kind: string; keyGroup: number; data: Uint8Array }> = [];
  private disposed = false;
  private scannerUsed = false;
  private readonly statsData: LevelStateStats = {
    cacheHits: 0,
    dbReads: 0,
    flushes: 0,
    rowsWritten: 0,
    lastSnapshotScannedKeyGroups: 0,
    lastSnapshotReusedKeyGroups: 0,
    lastSnapshotDeltaKeyGroups: 0,
    lastSnapshotRebuiltKeyGroups: 0,
    cachedRows: 0,
    prefetched: 0,
  };

  /** @internal */
  constructor(
    private readonly db: ClassicLevel<Buffer, Buffer>,
    /** The database directory. */
    readonly location: string,
    options: KeyedStateBackendOptions,
    config: LevelStateBackendOptions,
  ) {
    this.keyGroupRange = options.keyGroupRange;
    this.maxParallelism = options.maxParallelism;
    this.clock = options.clock;
    this.cache = new RowCache(config.cacheSize ?? 100_000);
    this.writeBufferSize = config.writeBufferSize ?? 20_000;
    this.consolidateEvery = config.consolidateEvery ?? 10;
    this.listChunkSize = config.listChunkSize ?? 64;
    this.kgStart = this.keyGroupRange.start;
    this.kgCount = Math.max(0, this.keyGroupRange.end - this.keyGroupRange.start + 1);
    this.kgFlags = new Uint8Array(this.kgCount);
    this.kgTotals = new Float64Array(this.kgCount);
    this.kgNsCounts = new Array(this.kgCount).fill(undefined);
    if (options.checkpointing === true) {
      // Rows are logged from the start and an empty snapshot stands for the state before the
      // first write, so the first snapshot is built like the later ones: key groups written
      // since are rebuilt from the log (or deltas, or reads, as ever), the others are empty.
      this.changed = new ChangedRows(this.kgStart, this.kgCount, this.changedLogPool);
      this.lastSnapshot = Promise.resolve({
        snapshot: { backend: 'level', maxParallelism: this.maxParallelism, states: [] },
        bytes: new Map(),
        baseRows: new Float64Array(this.kgCount),
        deltaRows: new Float64Array(this.kgCount),
        deltas: new Uint8Array(this.kgCount),
      });
    }
  }

  setCurrentKey(key: KeyType): void {
    this.currentKey = key;
    this.currentKeyGroup = keyGroupFor(key, this.maxParallelism);
    this.keyStr = undefined;
    this.epoch++;
  }

  setCurrentKeyAndGroup(key: KeyType, keyGroup: number): void {
    this.currentKey = key;
    this.currentKeyGroup = keyGroup;
    this.keyStr = undefined;
    this.epoch++;
  }

  getCurrentKey(): KeyType {
    return this.currentKey;
  }

  getCurrentKeyGroup(): number {
    return this.currentKeyGroup;
  }

  /** @internal */
  currentKeyStr(): string {
    let s = this.keyStr;
    if (s === undefined) {
      s = this.keyStr = encodeKey(this.currentKey);
      this.kgString = kgStr(this.currentKeyGroup);
    }
    return s;
  }

  /** @internal */
  currentKeyGroupStr(): string {
    if (this.keyStr === undefined) this.currentKeyStr();
    return this.kgString;
  }

  // ---- rows ----

  /** Reads a row that is neither dirty nor in flight: cache, then LevelDB. @internal */
  load(k: string, codec: Codec): unknown {
    const c = this.cache.get(k);
    if (c !== undefined) {
      this.statsData.cacheHits++;
      return c === ABSENT ? undefined : c;
    }
    this.checkOpen();
    this.statsData.dbReads++;
    const b = this.db.getSync(Buffer.from(k, 'latin1'));
    if (b === undefined) {
      this.cache.set(k, ABSENT);
      return undefined;
    }
    const v = codec.decode(b);
    this.cache.set(k, v);
    return v;
  }

  /**
   * Reads the rows of `keys` in the void namespace (the head row of every registered state:
   * the value of value, reducing and aggregating state) into the read cache with one
   * asynchronous `getMany`, which LevelDB serves on a thread-pool thread. A keyed operator calls
   * it with the keys of an input batch before processing the batch, so that the reads of
   * uncached rows do not each cost a synchronous `getSync` on the task's thread.
   *
   * `getMany` reads a LevelDB snapshot taken at the call. A row that is not in memory at the
   * call (not buffered, in flight or cached) has its latest value in that snapshot; a write
   * after the call keeps the row in memory until the cache evicts it. So at completion a row
   * is cached only when it is still not in memory and did not leave the cache meanwhile: the
   * prefetch may overlap processing (of the previous batch) and never hides a write.
   * @param keys - keys about to be processed (duplicates and cached rows cost nothing)
   * @returns when the rows are cached, or `undefined` when every row is already in memory
   */
  prefetch(keys: readonly KeyType[]): Promise<void> | undefined {
    if (this.disposed || this.failure !== undefined) return undefined;
    const heads: Table[] = [];
    const sids: string[] = [];
    for (const st of this.bySid) {
      if (st === undefined) continue;
      heads.push(st.head);
      sids.push(st.sidStr);
    }
    if (heads.length === 0) return undefined;
    const voidNs = encodeKey(VOID_NAMESPACE);
    const rows: string[] = [];
    const tables: Table[] = [];
    const seen = new Set<string>();
    const mp = this.maxParallelism;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as KeyType;
      const base = encodeKey(key) + voidNs;
      const kg = keyGroupFor(key, mp);
      if (kg < this.kgStart || kg >= this.kgStart + this.kgCount) continue;
      const kgs = kgStr(kg);
      for (let j = 0; j < heads.length; j++) {
        const row = kgs + (sids[j] as string) + base;
        const t = heads[j] as Table;
        if (seen.has(row) || !t.needsRead(row)) continue;
        seen.add(row);
        rows.push(row);
        tables.push(t);
      }
    }
    if (rows.length === 0) return undefined;
    this.statsData.prefetched += rows.length;
    const cache = this.cache;
    cache.track();
    return this.db.getMany(rows.map((r) => Buffer.from(r, 'latin1'))).then(
      (values) => {
        try {
          if (this.disposed) return;
          for (let i = 0; i < rows.length; i++) {
            const row = rows[i] as string;
            const t = tables[i] as Table;
            if (!t.needsRead(row) || cache.evicted(row)) continue;
            const b = values[i];
            cache.set(row, b === undefined ? ABSENT : t.codec.decode(b));
          }
        } finally {
          cache.untrack();
        }
      },
      () => {
        // A failed prefetch only means the rows are read synchronously later.
        cache.untrack();
      },
    );
  }

  /** Marks the key group of row `k` as written. @internal */
  touch(k: string): void {
    const i = ((k.charCodeAt(0) << 8) | k.charCodeAt(1)) - this.kgStart;
    if (i >= 0 && i < this.kgCount) {
      this.kgFlags[i] = SNAPSHOT_DIRTY | COUNT_DIRTY;
      return;
    }
    const kg = i + this.kgStart;
    throw new RangeError(
      `key ${String(this.currentKey)} (key group ${kg}) is outside this subtask's key groups ${this.keyGroupRange.start}..${this.keyGroupRange.end} of ${this.maxParallelism}`,
    );
  }

  /** A row was added to a write buffer. @internal */
  added(): void {
    if (++this.dirtyCount >= this.writeBufferSize && this.flushing === undefined) this.startFlush();
  }

  private checkOpen(): void {
    if (this.disposed) throw new Error('LevelStateBackend: the keyed state backend was disposed');
    if (this.failure !== undefined) {
      throw new Error(`LevelStateBackend: writing state to LevelDB failed: ${String(this.failure)}`, {
        cause: this.failure,
      });
    }
  }

  /** Encodes the write buffer into a batch and writes it in the background. */
  private startFlush(): void {
    this.checkOpen();
    if (this.dirtyCount === 0) return;
    const batch = this.db.batch();
    const cache = this.cache;
    let rows = 0;
    // The rows' loop is a function of its own: its optimized code, entered mid-loop, then never
    // reaches code it has no feedback for (the change log's checks below, first run when
    // checkpoints begin), which would deoptimize it on every flush.
    const changed = this.changed;
    for (const t of this.tables) {
      if (t.dirty.size === 0) continue;
      flushRows(t.dirty, t.codec, batch, cache, changed);
      rows += t.dirty.size;
      t.inflight = t.dirty;
      t.dirty = new Map();
    }
    this.dirtyCount = 0;
    // Checked per batch, not per row: the map may exceed the limit by one write buffer.
    if (changed !== undefined && (changed.size > this.changedLimit || changed.bytes > CHANGED_BYTES_MAX)) this.changed = undefined;
    this.inflightCapture = this.captures;
    this.statsData.flushes++;
    this.statsData.rowsWritten += rows;
    this.flushing = batch.write().then(
      () => {
        for (const t of this.tables) t.inflight = undefined;
        this.flushing = undefined;
        if (this.dirtyCount >= this.writeBufferSize && !this.disposed) this.startFlush();
      },
      (e: unknown) => {
        // Rows stay readable from the in-flight maps; further writes fail.
        this.failure = e;
        this.flushing = undefined;
      },
    );
  }

  /**
   * Writes every buffered row to LevelDB.
   * @returns when LevelDB has them
   */
  async flush(): Promise<void> {
    for (;;) {
      if (this.flushing !== undefined) await this.flushing;
      else if (this.dirtyCount > 0 && this.failure === undefined && !this.disposed) this.startFlush();
      else break;
    }
    if (this.failure !== undefined) this.checkOpen();
  }

  // ---- states ----

  private register<S extends LevelState>(descriptor: StateDescriptor<unknown>, make: (sid: number) => S): S {
    const existing = this.states.get(descriptor.name);
    if (existing !== undefined) {
      if (existing.descriptor.kind !== descriptor.kind) {
        throw new TypeError(
          `state '${descriptor.name}' was registered as ${existing.descriptor.kind} state and is now requested as ${descriptor.kind} state`,
        );
      }
      return existing as S;
    }
    const sid = this.bySid.length;
    if (sid > 0xffff) throw new RangeError('LevelStateBackend: too many states in one operator');
    const state = make(sid);
    this.bySid.push(state);
    this.states.set(descriptor.name, state);
    this.tables = [...this.tables, ...state.tables];
    if (this.rawRestored.length > 0) this.materializeRestored();
    return state;
  }

  getValueState<T>(descriptor: ValueStateDescriptor<T>): InternalValueState<T> {
    const d = descriptor as StateDescriptor<unknown>;
    return this.register(d, (sid) => new LevelValueState<T>(this, d, sid));
  }

  getListState<T>(descriptor: ListStateDescriptor<T>): InternalListState<T> {
    const d = descriptor as StateDescriptor<unknown>;
    return this.register(d, (sid) => new LevelListState<T>(this, d, sid, this.listChunkSize));
  }

  getMapState<UK extends KeyType, UV>(descriptor: MapStateDescriptor<UK, UV>): InternalMapState<UK, UV> {
    const d = descriptor as unknown as StateDescriptor<unknown>;
    return this.register(d, (sid) => new LevelMapState<UK, UV>(this, d, sid));
  }

  getReducingState<T>(descriptor: ReducingStateDescriptor<T>): InternalReducingState<T> {
    const d = descriptor as StateDescriptor<unknown>;
    return this.register(d, (sid) => new LevelReducingState<T>(this, d, sid));
  }

  getAggregatingState<TIn, TAcc, TOut>(
    descriptor: AggregatingStateDescriptor<TIn, TAcc, TOut>,
  ): InternalAggregatingState<TIn, TOut> {
    const d = descriptor as StateDescriptor<unknown>;
    return this.register(d, (sid) => new LevelAggregatingState<TIn, TAcc, TOut>(this, d, sid));
  }

  // ---- counts and keys ----

  /** Pending rows of the states' head tables (one row per entry) in the given key groups, sorted. */
  private headOverlay(kgIdx: (i: number) => boolean): Array<[Buffer, Buffer | typeof TOMB]> {
    const rows: Array<[Buffer, Buffer | typeof TOMB]> = [];
    for (const st of this.bySid) {
      if (st === undefined) continue;
      for (const [k, v] of st.head.pending()) {
        if (!kgIdx(((k.charCodeAt(0) << 8) | k.charCodeAt(1)) - this.kgStart)) continue;
        rows.push([Buffer.from(k, 'latin1'), v === TOMB ? TOMB : EMPTY]);
      }
    }
    return rows.sort((a, b) => Buffer.compare(a[0], b[0]));
  }

  /** Recounts the entries of key groups written since they were last counted. */
  private recount(): void {
    const flags = this.kgFlags;
    const stale: number[] = [];
    for (let i = 0; i < this.kgCount; i++) if ((flags[i] as number) & COUNT_DIRTY) stale.push(i);
    if (stale.length === 0) return;
    this.checkOpen();
    const isStale = new Uint8Array(this.kgCount);
    for (const i of stale) isStale[i] = 1;
    const totals = new Map<number, number>();
    const perNs = new Map<number, Map<string, number>>();
    const counter = {
      row: (k: Buffer): void => {
        const keyEnd = skipKey(k, 4);
        if (skipKey(k, keyEnd) !== k.length) return;
        const i = k.readUInt16BE(0) - this.kgStart;
        totals.set(i, (totals.get(i) ?? 0) + 1);
        let m = perNs.get(i);
        if (m === undefined) perNs.set(i, (m = new Map()));
        const ns = k.toString('latin1', keyEnd);
        m.set(ns, (m.get(ns) ?? 0) + 1);
      },
    };
    const feeder = new MergeFeeder(
      this.headOverlay((i) => isStale[i] === 1),
      counter,
    );
    const ranges: Array<[Buffer, Buffer]> = [];
    for (let j = 0; j < stale.length; ) {
      let e = j;
      while (e + 1 < stale.length && stale[e + 1] === (stale[e] as number) + 1) e++;
      ranges.push([kgPrefix(this.kgStart + (stale[j] as number)), kgPrefix(this.kgStart + (stale[e] as number) + 1)]);
      j = e + 1;
    }
    this.scanner().scan(this.location, ranges, false, (k) => feeder.row(k, EMPTY));
    feeder.end();
    for (const i of stale) {
      flags[i] = (flags[i] as number) & ~COUNT_DIRTY;
      this.kgTotals[i] = totals.get(i) ?? 0;
      this.kgNsCounts[i] = perNs.get(i);
    }
  }

  /**
   * Number of entries. LevelDB keeps no counts, so this scans the key groups written since the
   * previous call (through the helper thread) and adds up cached counts of the others.
   */
  numEntries(namespace?: Namespace): number {
    if (this.disposed || this.kgCount === 0) return 0;
    this.recount();
    let n = 0;
    if (namespace === undefined) for (let i = 0; i < this.kgCount; i++) n += this.kgTotals[i] as number;
    else {
      const ns = encodeKey(namespace);
      for (const m of this.kgNsCounts) n += m?.get(ns) ?? 0;
    }
    return n;
  }

  keys(stateName: string, namespace: Namespace): KeyType[] {
    const s = this.states.get(stateName);
    if (s === undefined || this.kgCount === 0) return [];
    this.checkOpen();
    const nsEnc = Buffer.from(encodeKey(namespace), 'latin1');
    const found = new Set<string>();
    const ranges: Array<[Buffer, Buffer]> = [];
    for (let kg = this.keyGroupRange.start; kg <= this.keyGroupRange.end; kg++) {
      const lo = Buffer.allocUnsafe(4);
      lo.writeUInt16BE(kg, 0);
      lo.writeUInt16BE(s.sid, 2);
      let hi = kgPrefix(kg + 1);
      if (s.sid < 0xffff) {
        hi = Buffer.from(lo);
        hi.writeUInt16BE(s.sid + 1, 2);
      }
      ranges.push([lo, hi]);
    }
    this.scanner().scan(this.location, ranges, false, (k) => {
      const keyEnd = skipKey(k, 4);
      const nsEnd = skipKey(k, keyEnd);
      if (nsEnd !== k.length) return;
      if (k.subarray(keyEnd).equals(nsEnc)) found.add(k.toString('latin1'));
    });
    const nsStr = nsEnc.toString('latin1');
    for (const [k, v] of s.head.pending()) {
      if (!k.endsWith(nsStr)) continue;
      const b = Buffer.from(k, 'latin1');
      const keyEnd = skipKey(b, 4);
      if (skipKey(b, keyEnd) !== b.length || !b.subarray(keyEnd).equals(nsEnc)) continue;
      if (v === TOMB) found.delete(k);
      else found.add(k);
    }
    const out: KeyType[] = [];
    for (const k of found) out.push(decodeKey(Buffer.from(k, 'latin1'), 4));
    return out;
  }

  private scanner(): SyncScanner {
    this.scannerUsed = true;
    return SyncScanner.get();
  }

  // ---- snapshots ----

  /**
   * Encodes every buffered or in-flight row, grouped by key group. With `changed` (the rows
   * flushed since the previous capture, which hold the in-flight batch's bytes already), the
   * write buffer's rows are added to it, so that it then holds every row written since the
   * previous capture with its value now.
   */
  private captureOverlay(changed?: ChangedRows): Overlay {
    // The batch in flight, when flushed since the previous capture, is in `changed` already.
    const inflightChanged = changed !== undefined && this.inflightCapture === this.captures;
    this.captures++;
    const overlay = new Overlay(changed, this.kgStart);
    for (const t of this.tables) {
      const dirty = t.dirty;
      const inflight = t.inflight;
      if (inflight !== undefined && !inflightChanged) {
        for (const [k, v] of inflight) {
          if (dirty.has(k)) continue;
          overlay.add(k, v === TOMB ? TOMB : v instanceof RawBytes ? v.bytes : t.codec.encode(v));
        }
      }
      for (const [k, v] of dirty) {
        const b = v === TOMB ? TOMB : v instanceof RawBytes ? v.bytes : t.codec.encode(v);
        if (changed === undefined) overlay.add(k, b);
        else if (b === TOMB) changed.del(k);
        else changed.put(k, b);
      }
    }
    return overlay;
  }

  private assemble(
    bySid: ReadonlyArray<LevelState | undefined>,
    encoded: Map<number, Map<number, Uint8Array>>,
    prev: Map<string, Map<number, Uint8Array[]>> | undefined,
    scanned: (kg: number) => boolean,
    leftovers: ReadonlyArray<{ name: string; kind: string; keyGroup: number; data: Uint8Array }>,
    deltas?: Map<number, Map<number, Uint8Array>>,
  ): Pick<SnapshotResult, 'snapshot' | 'bytes'> {
    const states: Array<KeyedStateSnapshot['states'][number]> = [];
    const bytes = new Map<string, Map<number, Uint8Array[]>>();
    for (const st of bySid) {
      if (st === undefined) continue;
      const name = st.descriptor.name;
      const perKg = new Map<number, Uint8Array[]>();
      const old = prev?.get(name);
      const keyGroups: Array<{ keyGroup: number; data: Uint8Array }> = [];
      for (let kg = this.keyGroupRange.start; kg <= this.keyGroupRange.end; kg++) {
        let parts: Uint8Array[] | undefined;
        if (scanned(kg)) {
          const data = encoded.get(kg)?.get(st.sid);
          if (data !== undefined) parts = [data];
        } else {
          parts = old?.get(kg);
          const delta = deltas?.get(kg)?.get(st.sid);
          // A delta goes after the key group's previous blobs (an empty base when it had none).
          if (delta !== undefined) parts = [...(parts ?? [EMPTY_BASE]), delta];
        }
        if (parts === undefined) continue;
        perKg.set(kg, parts);
        for (const data of parts) keyGroups.push({ keyGroup: kg, data });
      }
      bytes.set(name, perKg);
      states.push({ name, kind: st.descriptor.kind, keyGroups });
    }
    const carried = new Map<string, { kind: string; keyGroups: Array<{ keyGroup: number; data: Uint8Array }> }>();
    for (const raw of leftovers) {
      let e = carried.get(raw.name);
      if (e === undefined) carried.set(raw.name, (e = { kind: raw.kind, keyGroups: [] }));
      e.keyGroups.push({ keyGroup: raw.keyGroup, data: raw.data });
    }
    for (const [name, e] of carried) states.push({ name, kind: e.kind, keyGroups: e.keyGroups });
    return { snapshot: { backend: 'level', maxParallelism: this.maxParallelism, states }, bytes };
  }

  /**
   * Serializes all state, synchronously: reads LevelDB through a helper thread while the
   * calling thread waits. Always full; prefer {@link LevelKeyedStateBackend.snapshotAsync}.
   */
  snapshot(): KeyedStateSnapshot {
    this.checkOpen();
    const now = this.clock.now();
    const overlay = this.captureOverlay();
    const encoded = new Map<number, Map<number, Uint8Array>>();
    if (this.kgCount > 0 && this.bySid.length > 0) {
      let enc: KeyGroupEncoder | undefined;
      let feeder: MergeFeeder | undefined;
      let curKg = -1;
      const done = (): void => {
        if (feeder === undefined || enc === undefined) return;
        feeder.end();
        encoded.set(curKg, enc.finish());
      };
      const open = (kg: number): void => {
        curKg = kg;
        enc = new KeyGroupEncoder(this.bySid, now);
        feeder = new MergeFeeder(overlay.rows(kg), enc);
      };
      let nextKg = this.keyGroupRange.start;
      // Key groups before `upTo` that had no LevelDB rows still get their overlay rows.
      const advanceTo = (upTo: number): void => {
        while (nextKg < upTo) {
          done();
          open(nextKg++);
        }
      };
      const range: readonly [Buffer, Buffer] = [kgPrefix(this.keyGroupRange.start), kgPrefix(this.keyGroupRange.end + 1)];
      this.scanner().scan(this.location, [range], true, (k, v) => {
        const kg = k.readUInt16BE(0);
        if (kg !== curKg) advanceTo(kg + 1);
        (feeder as MergeFeeder).row(k, v as Buffer);
      });
      advanceTo(this.keyGroupRange.end + 1);
      done();
    }
    return this.assemble(this.bySid, encoded, undefined, () => true, [...this.rawRestored]).snapshot;
  }

  /**
   * Encodes every key group marked in `asRebuild` in full (format 1) without reading LevelDB:
   * the latest value of every row in `changed` (every row written since the previous capture,
   * see {@link LevelKeyedStateBackend.captureOverlay}), then the entries of the previous
   * snapshot's blobs of the key group (a base and its deltas, newest first) that no changed row
   * replaces or deletes. Only for states with one row per entry. Records come out in no
   * particular order, which no reader of format 1 needs. Sets the key groups' row counts.
   */
  private rebuild(
    bySid: ReadonlyArray<LevelState | undefined>,
    now: number,
    asRebuild: Uint8Array,
    changed: ChangedRows,
    prev: SnapshotResult,
    baseRows: Float64Array,
    deltaRows: Float64Array,
    deltaCounts: Uint8Array,
  ): Map<number, Map<number, Uint8Array>> {
    const kgStart = this.kgStart;
    const out = new Map<number, Map<number, Uint8Array>>();
    // Per state id: its sink, for the current key group.
    const sinks: Array<ByteSink | undefined> = [];
    // Bytes a state's blob of the current key group takes at most (so that sinks do not grow).
    let sizeHint = 0;
    const sinkFor = (sid: number): ByteSink => {
      let w = sinks[sid];
      if (w === undefined) sinks[sid] = w = new ByteSink(sizeHint);
      return w;
    };
    for (let i = 0; i < this.kgCount; i++) {
      if (asRebuild[i] !== 1) continue;
      const kg = i + kgStart;
      let n = 0;
      sinks.length = 0;
      const x = changed.index(i);
      const arena = x.n > 0 ? changed.log(i) : EMPTY;
      sizeHint = 64 + changed.logBytes(i);
      for (const st of bySid) {
        const parts = st === undefined ? undefined : prev.bytes.get(st.descriptor.name)?.get(kg);
        if (parts !== undefined) for (const part of parts) sizeHint += part.length;
      }
      for (let e = 0; e < x.n; e++) {
        const lenTag = x.lens[e] as number;
        if ((lenTag & 1) === 1) continue;
        const s = x.starts[e] as number;
        const rowEnd = s + (lenTag >> 1);
        const sid = ((arena[s + 2] as number) << 8) | (arena[s + 3] as number);
        const st = bySid[sid];
        if (st === undefined) continue;
        const len = readVarint(arena, rowEnd);
        const start = rpos;
        if (st.ttl && arena.readDoubleLE(start) + st.ttlMs <= now) continue;
        const keyEnd = skipKey(arena, s + 4);
        const w = sinkFor(sid);
        w.u8(1);
        w.raw(arena, keyEnd, rowEnd);
        w.raw(arena, s + 4, keyEnd);
        w.varint(len);
        w.raw(arena, start, start + len);
        n++;
      }
      const hasChanges = x.n > 0;
      for (const st of bySid) {
        if (st === undefined) continue;
        const parts = prev.bytes.get(st.descriptor.name)?.get(kg);
        if (parts === undefined) continue;
        const sid = st.sid;
        const rowSeed = rowHashStep(rowHashStep(rowHashStep(rowHashStep(ROW_HASH_SEED, kg >> 8), kg & 0xff), sid >> 8), sid & 0xff);
        const prefix = kgStr(kg) + st.sidStr;
        // With deltas, the newest record of an entry wins: read newest first, skip what was seen.
        const seen = parts.length > 1 ? new Set<string>() : undefined;
        for (let p = parts.length - 1; p >= 0; p--) {
          const part = parts[p] as Uint8Array;
          const b = Buffer.from(part.buffer, part.byteOffset, part.byteLength);
          let pos = p > 0 ? 1 : 0;
          for (;;) {
            const tag = b[pos];
            if (tag === 0) break;
            if (tag !== 1 && tag !== DELTA_TOMBSTONE) throw new RangeError(`malformed snapshot blob (tag ${tag}) in a rebuild`);
            const nsStart = pos + 1;
            const nsEnd = skipKey(b, nsStart);
            const keyEnd = skipKey(b, nsEnd);
            let end = keyEnd;
            let entry = keyEnd;
            if (tag === 1) {
              const len = readVarint(b, keyEnd);
              entry = rpos;
              end = entry + len;
            }
            if (end > b.length) throw new RangeError('truncated snapshot blob in a rebuild');
            pos = end;
            // The row `[kg][sid] key ns` of the record, replaced when it changed since.
            if (hasChanges) {
              const h = rowHashFinish(rowHashRange(rowHashRange(rowSeed, b, nsEnd, keyEnd), b, nsStart, nsEnd));
              if (changed.hasRow(i, sid, h, b, nsEnd, keyEnd, nsStart, nsEnd)) continue;
            }
            if (seen !== undefined) {
              const row = prefix + b.toString('latin1', nsEnd, keyEnd) + b.toString('latin1', nsStart, nsEnd);
              if (seen.has(row)) continue;
              seen.add(row);
            }
            if (tag !== 1 || (st.ttl && b.readDoubleLE(entry) + st.ttlMs <= now)) continue;
            const w = sinkFor(sid);
            w.u8(1);
            w.raw(b, nsStart, end);
            n++;
          }
        }
      }
      const blobs = new Map<number, Uint8Array>();
      for (let sid = 0; sid < sinks.length; sid++) {
        const w = sinks[sid];
        if (w === undefined) continue;
        w.u8(0);
        const blob = w.finish();
        blobs.set(sid, blob);
      }
      out.set(kg, blobs);
      baseRows[i] = n;
      deltaRows[i] = 0;
      deltaCounts[i] = 0;
    }
    return out;
  }

  /**
   * Encodes a delta per state for every key group marked in `asDelta`: the entries with a row
   * in `changed` or the write buffer, written anew from their rows now (tombstones for those
   * left without rows). Single-row entries come from `changed` and `overlay` alone; list and map
   * entries also read their other rows from `ldbSnapshot`.
   */
  private async encodeDeltas(
    bySid: ReadonlyArray<LevelState | undefined>,
    now: number,
    asDelta: Uint8Array,
    changed: ChangedRows,
    overlay: Overlay,
    ldbSnapshot: ReturnType<ClassicLevel<Buffer, Buffer>['snapshot']> | undefined,
  ): Promise<Map<number, Map<number, Uint8Array>>> {
    // Entry prefix (`[kg][sid][key][ns]`, latin1) → the write buffer's rows of that entry.
    const entries = new Map<string, Array<[Buffer, Buffer | typeof TOMB]>>();
    const prefixOf = (b: Buffer): string => b.toString('latin1', 0, skipKey(b, skipKey(b, 4)));
    for (const kg of overlay.keyGroups()) {
      if (asDelta[kg - this.kgStart] !== 1) continue;
      for (const row of overlay.rows(kg)) {
        const p = prefixOf(row[0]);
        let rows = entries.get(p);
        if (rows === undefined) entries.set(p, (rows = []));
        rows.push(row);
      }
    }
    for (let i = 0; i < this.kgCount; i++) {
      if (asDelta[i] !== 1 || changed.rowCount(i) === 0) continue;
      for (const k of changed.rowsOf(i).keys()) {
        const p = prefixOf(Buffer.from(k, 'latin1'));
        if (!entries.has(p)) entries.set(p, []);
      }
    }
    // Key order (latin1 strings compare as their bytes), so that one encoder per key group sees
    // each entry's rows together.
    const order = [...entries.keys()].sort();
    const out = new Map<number, Map<number, Uint8Array>>();
    let enc: KeyGroupEncoder | undefined;
    let curKg = -1;
    for (const p of order) {
      const kg = (p.charCodeAt(0) << 8) | p.charCodeAt(1);
      if (kg !== curKg) {
        if (enc !== undefined) out.set(curKg, enc.finish());
        enc = new KeyGroupEncoder(bySid, now, DELTA);
        curKg = kg;
      }
      const e = enc as KeyGroupEncoder;
      const pb = Buffer.from(p, 'latin1');
      const st = bySid[pb.readUInt16BE(2)];
      if (st === undefined) continue;
      const feeder = new MergeFeeder(entries.get(p) ?? [], e);
      const before = e.records;
      if (st.descriptor.kind === 'list' || st.descriptor.kind === 'map') {
        const hi = Buffer.concat([pb, Buffer.of(0xff)]);
        if (ldbSnapshot === undefined) throw new Error('LevelStateBackend: a delta of a list or map entry without a LevelDB snapshot');
        const rows = await this.db.iterator({ gte: pb, lt: hi, snapshot: ldbSnapshot, fillCache: false }).all();
        for (const [k, v] of rows) feeder.row(k, v);
      } else {
        const v = changed.get(p);
        if (v !== undefined && v !== TOMB) feeder.row(pb, v);
      }
      feeder.end();
      e.endEntry();
      if (e.records === before) e.tombstone(pb);
    }
    if (enc !== undefined) out.set(curKg, enc.finish());
    return out;
  }

  /**
   * Serializes all state without stopping processing. The snapshot is consistent as of the
   * call: the write buffer is encoded and a LevelDB snapshot taken synchronously; LevelDB is
   * then read asynchronously. Key groups not written since the previous call reuse that
   * call's bytes (the same `Uint8Array` objects); key groups with few changes get a delta after
   * those bytes; every `consolidateEvery`-th call is full.
   */
  snapshotAsync(): Promise<KeyedStateSnapshot> {
    this.checkOpen();
    const now = this.clock.now();
    const dirty = new Uint8Array(this.kgCount);
    const flags = this.kgFlags;
    for (let i = 0; i < this.kgCount; i++) {
      dirty[i] = (flags[i] as number) & SNAPSHOT_DIRTY;
      flags[i] = (flags[i] as number) & ~SNAPSHOT_DIRTY;
    }
    const full = this.lastSnapshot === undefined || this.forceFull || ++this.snapshotsSinceFull >= this.consolidateEvery;
    if (full) {
      this.snapshotsSinceFull = 0;
      this.forceFull = false;
    }
    const changed = this.changed;
    const overlay = this.captureOverlay(changed);
    this.changed = new ChangedRows(this.kgStart, this.kgCount, this.changedLogPool);
    // Without a full read, with every row written since the previous capture remembered and
    // only single-row states, every written key group gets a delta or a rebuild: LevelDB is
    // not read, and no LevelDB snapshot is held (it would keep compactions from dropping the
    // versions it pins, which slows the point reads of the running task).
    const readsStore = full || changed === undefined || !this.bySid.every((st) => st === undefined || st instanceof SingleRowState);
    const ldbSnapshot = readsStore ? this.db.snapshot() : undefined;
    const leftovers = [...this.rawRestored];
    const bySid = [...this.bySid];
    const prevPromise = this.lastSnapshot;
    const run = async (): Promise<SnapshotResult> => {
      try {
        let prev: SnapshotResult | undefined;
        if (!full && prevPromise !== undefined) prev = await prevPromise.catch(() => undefined);
        if (prev === undefined && ldbSnapshot === undefined) {
          // The previous snapshot failed after this one was taken without a LevelDB snapshot.
          throw new Error('LevelStateBackend: the previous snapshot failed; the next one reads all state again');
        }
        const scanAll = prev === undefined;
        const baseRows = new Float64Array(this.kgCount);
        const deltaRows = new Float64Array(this.kgCount);
        const deltaCounts = new Uint8Array(this.kgCount);
        // Key groups written since the previous snapshot whose changes are few next to what its
        // last full read held get a delta; the other written ones are rebuilt from the previous
        // bytes and the changed rows when every state has one row per entry, else read in full.
        const asDelta = new Uint8Array(this.kgCount);
        const asRebuild = new Uint8Array(this.kgCount);
        let deltaKgs = 0;
        let rebuildKgs = 0;
        const rebuildable = changed !== undefined && bySid.every((st) => st === undefined || st instanceof SingleRowState);
        if (prev !== undefined) {
          baseRows.set(prev.baseRows);
          deltaRows.set(prev.deltaRows);
          deltaCounts.set(prev.deltas);
          if (changed !== undefined) {
            const rowsPerKg = new Float64Array(this.kgCount);
            // The write buffer's rows were added to `changed` at the capture.
            for (let i = 0; i < this.kgCount; i++) rowsPerKg[i] = changed.rowCount(i);
            for (let i = 0; i < this.kgCount; i++) {
              if (dirty[i] !== SNAPSHOT_DIRTY) continue;
              const rows = (deltaRows[i] as number) + (rowsPerKg[i] as number);
              if ((deltaCounts[i] as number) < MAX_DELTAS && rows <= (baseRows[i] as number) * DELTA_MAX_SHARE) {
                asDelta[i] = 1;
                deltaRows[i] = rows;
                deltaCounts[i] = (deltaCounts[i] as number) + 1;
                deltaKgs++;
              } else if (rebuildable) {
                // Also consolidates a chain at its length limit (its blobs are read newest first).
                asRebuild[i] = 1;
                rebuildKgs++;
              }
            }
          }
        }
        const scanned = (kg: number): boolean =>
          scanAll || (dirty[kg - this.kgStart] === SNAPSHOT_DIRTY && asDelta[kg - this.kgStart] === 0 && asRebuild[kg - this.kgStart] === 0);
        const encoded =
          rebuildKgs > 0
            ? this.rebuild(bySid, now, asRebuild, changed as ChangedRows, prev as SnapshotResult, baseRows, deltaRows, deltaCounts)
            : new Map<number, Map<number, Uint8Array>>();
        const deltas = deltaKgs > 0 ? await this.encodeDeltas(bySid, now, asDelta, changed as ChangedRows, overlay, ldbSnapshot) : undefined;
        let scannedCount = 0;
        if (bySid.length > 0) {
          // One iterator per run of consecutive key groups to scan, read in large steps: every
          // await here waits for an event-loop turn, which a busy task delays by a whole step,
          // so a scan in few, large reads finishes in few turns.
          for (let first = this.keyGroupRange.start; first <= this.keyGroupRange.end; ) {
            if (!scanned(first)) {
              first++;
              continue;
            }
            let last = first;
            while (last + 1 <= this.keyGroupRange.end && scanned(last + 1)) last++;
            scannedCount += last - first + 1;
            for (let kg = first; kg <= last; kg++) {
              baseRows[kg - this.kgStart] = 0;
              deltaRows[kg - this.kgStart] = 0;
              deltaCounts[kg - this.kgStart] = 0;
            }
            let enc: KeyGroupEncoder | undefined;
            let feeder: MergeFeeder | undefined;
            let curKg = -1;
            let nextKg = first;
            // Opens every key group up to `upTo` (exclusive), so that key groups without
            // LevelDB rows still get their write-buffer rows.
            const finishCurrent = (): void => {
              if (feeder !== undefined && enc !== undefined) {
                feeder.end();
                encoded.set(curKg, enc.finish());
              }
            };
            const advanceTo = (upTo: number): void => {
              while (nextKg < upTo) {
                finishCurrent();
                curKg = nextKg++;
                enc = new KeyGroupEncoder(bySid, now);
                const own = overlay.rows(curKg);
                feeder = new MergeFeeder(own, enc);
                baseRows[curKg - this.kgStart] = own.length;
              }
            };
            if (ldbSnapshot === undefined) throw new Error('LevelStateBackend: a key-group scan without a LevelDB snapshot');
            const it = this.db.iterator({
              gte: kgPrefix(first),
              lt: kgPrefix(last + 1),
              snapshot: ldbSnapshot,
              highWaterMarkBytes: SCAN_READ_BYTES,
              // A full scan would push the blocks that point reads need out of LevelDB's cache.
              fillCache: false,
            });
            try {
              for (;;) {
                const rows = await it.nextv(SCAN_READ_ROWS);
                if (rows.length === 0) break;
                for (const [k, v] of rows) {
                  const kg = k.readUInt16BE(0);
                  if (kg !== curKg) advanceTo(kg + 1);
                  (feeder as MergeFeeder).row(k, v);
                  baseRows[kg - this.kgStart] = (baseRows[kg - this.kgStart] as number) + 1;
                }
              }
            } finally {
              await it.close();
            }
            advanceTo(last + 1);
            finishCurrent();
            first = last + 1;
          }
        }
        this.statsData.lastSnapshotScannedKeyGroups = scannedCount;
        this.statsData.lastSnapshotReusedKeyGroups = this.kgCount - scannedCount - deltaKgs - rebuildKgs;
        this.statsData.lastSnapshotDeltaKeyGroups = deltaKgs;
        this.statsData.lastSnapshotRebuiltKeyGroups = rebuildKgs;
        let rowsNow = 0;
        for (let i = 0; i < this.kgCount; i++) rowsNow += baseRows[i] as number;
        // When written key groups can be rebuilt from the changed rows, remembering them all
        // saves the reads; otherwise more than a share of the rows leaves few key groups a delta.
        const allSingle = bySid.every((st) => st === undefined || st instanceof SingleRowState);
        this.changedLimit = allSingle ? CHANGED_ROWS_MAX : Math.min(CHANGED_ROWS_MAX, Math.max(this.writeBufferSize, rowsNow * DELTA_MAX_SHARE));
        const fresh = (kg: number): boolean => scanned(kg) || asRebuild[kg - this.kgStart] === 1;
        const assembled = this.assemble(bySid, encoded, prev?.bytes, fresh, leftovers, deltas);
        return { ...assembled, baseRows, deltaRows, deltas: deltaCounts };
      } finally {
        await ldbSnapshot?.close();
        changed?.release();
      }
    };
    const p = run();
    // A failed snapshot leaves no bytes to build on: the next one reads everything.
    p.catch(() => {
      this.forceFull = true;
    });
    this.lastSnapshot = p;
    return p.then((r) => r.snapshot);
  }

  /** Loads the owned key groups of `snapshots` (decoded when each state is registered). */
  restore(snapshots: readonly KeyedStateSnapshot[]): void {
    this.checkOpen();
    const { start, end } = this.keyGroupRange;
    for (const raw of ownedKeyGroups(snapshots, this.maxParallelism, start, end)) this.rawRestored.push(raw);
    this.materializeRestored();
  }

  /**
   * Writes restored entries of every registered state into the store (through the write
   * buffer, so they are readable at once); entries of states not registered yet stay raw and
   * are carried over unchanged by snapshots. Called on registration and by the runtime.
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
      const prefix = kgStr(raw.keyGroup) + state.sidStr;
      let lastNs: Namespace | undefined;
      let nsEnc = '';
      const rowPrefix = (ns: Namespace, key: KeyType): string => {
        if (ns !== lastNs) {
          lastNs = ns;
          nsEnc = encodeKey(ns);
        }
        return prefix + encodeKey(key) + nsEnc;
      };
      try {
        readKeyGroup(raw.data, {
          value: (ns, key, v) => state.restoreValue(rowPrefix(ns, key), v),
          entry: (ns, key, r, len) => {
            const b = r.raw(len);
            state.restoreEntry(rowPrefix(ns, key), Buffer.from(b.buffer, b.byteOffset, b.byteLength));
          },
        });
      } catch (e) {
        throw new Error(`restored state '${raw.name}' (key group ${raw.keyGroup}) is malformed: ${(e as Error).message}`, { cause: e });
      }
    }
    this.rawRestored = remaining;
  }

  /** Counters of cache use, batches and the last incremental snapshot. @internal */
  stats(): LevelStateStats {
    return { ...this.statsData, cachedRows: this.cache.size };
  }

  /** Drops the read cache (tests: force reads from LevelDB). @internal */
  dropCache(): void {
    this.cache.clear();
  }

  /** Waits for pending writes and snapshots, closes the database and deletes its directory. */
  dispose(): Promise<void> {
    if (this.disposing === undefined) this.disposing = this.close();
    return this.disposing;
  }

  private disposing: Promise<void> | undefined = undefined;

  private async close(): Promise<void> {
    try {
      await this.flushing;
    } catch {
      // reported by flush()
    }
    try {
      await this.lastSnapshot;
    } catch {
      // reported by snapshotAsync()
    }
    this.disposed = true;
    for (const t of this.tables) {
      t.dirty.clear();
      t.inflight = undefined;
    }
    this.cache.clear();
    this.states.clear();
    this.rawRestored = [];
    if (this.scannerUsed) {
      try {
        SyncScanner.get().close(this.location);
      } catch {
        // the helper thread is gone; nothing to close there
      }
    }
    await this.db.close();
    await rm(this.location, { recursive: true, force: true });
  }
}
