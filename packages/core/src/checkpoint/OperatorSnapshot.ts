import type { KeyGroupRange } from '../runtime/keygroups.js';
import { BinaryReader, BinaryWriter } from '../state/codec.js';
import type { KeyedStateSnapshot } from '../state/StateBackend.js';

/**
 * The state of one operator instance at a checkpoint: keyed state cut by key group (so it can
 * be redistributed when the parallelism changes), pending timers (also per key group), and
 * operator state — named byte blobs that belong to the instance as a whole (source splits,
 * sink committables, broadcast state, in-flight async requests).
 * @public
 */
export interface OperatorSubtaskSnapshot {
  /** The operator's uid. */
  readonly uid: string;
  /** The subtask that wrote it. */
  readonly subtask: number;
  /** The operator's parallelism when it was written. */
  readonly parallelism: number;
  /** Key groups owned by the subtask (keyed operators). */
  readonly keyGroupRange: KeyGroupRange | undefined;
  /** Keyed state, if the operator is keyed. */
  readonly keyed: KeyedStateSnapshot | undefined;
  /** Pending timers per key group: `[keyGroup, bytes]`. */
  readonly timers: ReadonlyArray<{ readonly keyGroup: number; readonly data: Uint8Array }>;
  /** Operator state blobs by name. */
  readonly operatorState: Readonly<Record<string, Uint8Array>>;
}

const MAGIC = 0x57454952; // 'WEIR'
const VERSION = 2;

/**
 * Moves a large key-group blob out of the state file: returns a reference (the blob's content
 * hash) under which the storage keeps it, or `undefined` to keep it inline.
 * @internal
 */
export type Externalize = (blob: Uint8Array) => string | undefined;

/** Encodes a snapshot into one file's bytes. @internal */
export function encodeSnapshot(s: OperatorSubtaskSnapshot, externalize?: Externalize): Uint8Array {
  let size = 1024;
  for (const st of s.keyed?.states ?? []) for (const kg of st.keyGroups) size += kg.data.length + 16;
  for (const t of s.timers) size += t.data.length + 16;
  for (const b of Object.values(s.operatorState)) size += b.length + 64;
  const w = new BinaryWriter(size);
  w.f64(MAGIC);
  w.varint(VERSION);
  w.string(s.uid);
  w.varint(s.subtask);
  w.varint(s.parallelism);
  if (s.keyGroupRange === undefined) w.u8(0);
  else {
    w.u8(1);
    w.varint(s.keyGroupRange.start);
    w.f64(s.keyGroupRange.end);
  }
  if (s.keyed === undefined) w.u8(0);
  else {
    w.u8(1);
    w.string(s.keyed.backend);
    w.varint(s.keyed.maxParallelism);
    w.varint(s.keyed.states.length);
    for (const st of s.keyed.states) {
      w.string(st.name);
      w.string(st.kind);
      w.varint(st.keyGroups.length);
      for (const kg of st.keyGroups) {
        w.varint(kg.keyGroup);
        const ref = externalize?.(kg.data);
        if (ref === undefined) {
          w.u8(0);
          w.bytes(kg.data);
        } else {
          w.u8(1);
          w.string(ref);
          w.varint(kg.data.length);
        }
      }
    }
  }
  w.varint(s.timers.length);
  for (const t of s.timers) {
    w.varint(t.keyGroup);
    w.bytes(t.data);
  }
  const names = Object.keys(s.operatorState).sort();
  w.varint(names.length);
  for (const n of names) {
    w.string(n);
    w.bytes(s.operatorState[n] as Uint8Array);
  }
  w.f64(MAGIC);
  return w.finish();
}

/** Decodes {@link encodeSnapshot}'s bytes; throws on anything malformed or truncated. @internal */
export function decodeSnapshot(bytes: Uint8Array, resolve?: (ref: string, size: number) => Uint8Array): OperatorSubtaskSnapshot {
  const r = new BinaryReader(bytes);
  if (r.f64() !== MAGIC) throw new Error('not a Weir state file (bad magic)');
  const version = r.varint();
  if (version !== VERSION) throw new Error(`unsupported state file version ${version}`);
  const uid = r.string();
  const subtask = r.varint();
  const parallelism = r.varint();
  const keyGroupRange = r.u8() === 1 ? { start: r.varint(), end: r.f64() } : undefined;
  let keyed: KeyedStateSnapshot | undefined;
  if (r.u8() === 1) {
    const backend = r.string();
    const maxParallelism = r.varint();
    const n = r.varint();
    const states: Array<KeyedStateSnapshot['states'][number]> = [];
    for (let i = 0; i < n; i++) {
      const name = r.string();
      const kind = r.string();
      const m = r.varint();
      const keyGroups: Array<{ keyGroup: number; data: Uint8Array }> = [];
      for (let j = 0; j < m; j++) {
        const keyGroup = r.varint();
        if (r.u8() === 0) keyGroups.push({ keyGroup, data: r.bytes().slice() });
        else {
          const ref = r.string();
          const size = r.varint();
          if (resolve === undefined) throw new Error(`state file refers to shared blob ${ref} but no resolver was given`);
          const data = resolve(ref, size);
          if (data.length !== size) throw new Error(`shared blob ${ref} has ${data.length} bytes, expected ${size}`);
          keyGroups.push({ keyGroup, data });
        }
      }
      states.push({ name, kind, keyGroups });
    }
    keyed = { backend, maxParallelism, states };
  }
  const nt = r.varint();
  const timers: Array<{ keyGroup: number; data: Uint8Array }> = [];
  for (let i = 0; i < nt; i++) timers.push({ keyGroup: r.varint(), data: r.bytes().slice() });
  const no = r.varint();
  const operatorState: Record<string, Uint8Array> = {};
  for (let i = 0; i < no; i++) {
    const name = r.string();
    operatorState[name] = r.bytes().slice();
  }
  if (r.f64() !== MAGIC) throw new Error('state file is truncated (no end marker)');
  if (!r.done) throw new Error('state file has trailing bytes');
  return { uid, subtask, parallelism, keyGroupRange, keyed, timers, operatorState };
}
