import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type AggregateFunction,
  AggregatingStateDescriptor,
  type Collector,
  HeapStateBackend,
  type KeyedProcessContext,
  type KeyedProcessFunction,
  type KeyedStateBackend,
  type KeyedStateSnapshot,
  keyGroupFor,
  keyGroupRangeFor,
  type KeyType,
  type LevelKeyedStateBackend,
  LevelStateBackend,
  type LevelStateBackendOptions,
  ListStateDescriptor,
  ManualClock,
  MapStateDescriptor,
  type Namespace,
  ReducingStateDescriptor,
  type RuntimeContext,
  type StateBackend,
  type StateDescriptor,
  type StateTtlConfig,
  StreamEnvironment,
  subtaskForKeyGroup,
  ValueStateDescriptor,
  VOID_NAMESPACE,
  WatermarkStrategy,
} from '@weir/core';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ownedKeyGroups, readKeyGroup } from '../../src/state/keyGroupFormat.js';

const DIR = join(tmpdir(), `weir-level-test-${process.pid}`);
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

interface Opts {
  parallelism?: number;
  subtask?: number;
  maxParallelism?: number;
  clock?: ManualClock;
}

function rangeOf(o: Opts) {
  const maxParallelism = o.maxParallelism ?? 128;
  return {
    operatorUid: 'op',
    subtaskIndex: o.subtask ?? 0,
    keyGroupRange: keyGroupRangeFor(o.subtask ?? 0, o.parallelism ?? 1, maxParallelism),
    maxParallelism,
    clock: o.clock ?? new ManualClock(0),
  };
}

function heap(o: Opts = {}): KeyedStateBackend {
  return new HeapStateBackend().createKeyedStateBackend(rangeOf(o)) as KeyedStateBackend;
}

async function level(o: Opts = {}, config: LevelStateBackendOptions = {}): Promise<LevelKeyedStateBackend> {
  return new LevelStateBackend({ dir: DIR, ...config }).createKeyedStateBackend(rangeOf(o));
}

const avg: AggregateFunction<number, { sum: number; n: number }, number> = {
  createAccumulator: () => ({ sum: 0, n: 0 }),
  add: (v, acc) => ({ sum: acc.sum + v, n: acc.n + 1 }),
  getResult: (acc) => acc.sum / acc.n,
  merge: (a, b) => ({ sum: a.sum + b.sum, n: a.n + b.n }),
};

function descriptors(ttl?: StateTtlConfig) {
  const d = {
    v: new ValueStateDescriptor<number>('v'),
    l: new ListStateDescriptor<number>('l'),
    m: new MapStateDescriptor<KeyType, number>('m'),
    r: new ReducingStateDescriptor<number>('r', (a, b) => a + b),
    a: new AggregatingStateDescriptor('a', avg),
  };
  if (ttl !== undefined) for (const x of Object.values(d)) x.enableTimeToLive(ttl);
  return d;
}
type Descs = ReturnType<typeof descriptors>;

function handles(b: KeyedStateBackend, d: Descs) {
  return {
    v: b.getValueState(d.v),
    l: b.getListState(d.l),
    m: b.getMapState(d.m),
    r: b.getReducingState(d.r),
    a: b.getAggregatingState(d.a),
  };
}

/** Decodes a snapshot into a sorted, comparable form (map entries sorted by key). */
function canon(snaps: readonly KeyedStateSnapshot[], d: Descs): string[] {
  const byName = new Map<string, StateDescriptor<unknown>>(
    Object.values(d).map((x) => [x.name, x as unknown as StateDescriptor<unknown>]),
  );
  const out: string[] = [];
  // Through ownedKeyGroups, which joins a key group's base and deltas into one chain.
  for (const st of ownedKeyGroups(snaps, snaps[0]?.maxParallelism ?? 128, 0, 0xffff)) {
    {
      const desc = byName.get(st.name);
      if (desc === undefined) throw new Error(`unknown state ${st.name}`);
      const ttl = desc.ttl !== undefined;
      for (const { keyGroup, data } of [st]) {
        const push = (ns: KeyType, key: KeyType, entry: unknown): void => {
          out.push(`${st.name}|${keyGroup}|${typeof ns}:${String(ns)}|${typeof key}:${String(key)}|${JSON.stringify(entry)}`);
        };
        readKeyGroup(data, {
          value: push,
          entry: (ns, key, r, len) => {
            const e = new Reader(r.raw(len));
            const leaf = (): unknown => {
              const t = ttl ? e.f64() : undefined;
              const v = desc.serde.deserialize(e.bytes());
              return ttl ? { v, t } : v;
            };
            let entry: unknown;
            if (st.kind === 'list') {
              const n = e.varint();
              entry = Array.from({ length: n }, leaf);
            } else if (st.kind === 'map') {
              const n = e.varint();
              const pairs: Array<[string, unknown]> = [];
              for (let i = 0; i < n; i++) pairs.push([new TextDecoder().decode(e.bytes()), leaf()]);
              entry = pairs.sort((x, y) => (x[0] < y[0] ? -1 : 1));
            } else entry = leaf();
            push(ns, key, entry);
          },
        });
      }
    }
  }
  return out.sort();
}

class Reader {
  private pos = 0;
  private readonly view: DataView;
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  u8(): number {
    if (this.pos >= this.buf.length) throw new RangeError('truncated');
    return this.buf[this.pos++] as number;
  }
  varint(): number {
    let r = 0;
    let m = 1;
    for (;;) {
      const b = this.u8();
      r += (b & 0x7f) * m;
      if (b < 0x80) return r;
      m *= 0x80;
    }
  }
  f64(): number {
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
  bytes(): Uint8Array {
    const n = this.varint();
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  key(): KeyType {
    const tag = this.u8();
    if (tag === 0) return new TextDecoder().decode(this.bytes());
    if (tag === 1) return this.f64();
    if (tag === 2) return false;
    if (tag === 3) return true;
    return BigInt(new TextDecoder().decode(this.bytes()));
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

// ---------------------------------------------------------------------------------------------

describe('LevelStateBackend basics', () => {
  it('loads classic-level lazily: importing @weir/core does not load the native addon', () => {
    if (process.platform !== 'linux') return;
    const root = fileURLToPath(new URL('../../../../', import.meta.url));
    const script = `
      import { readFileSync } from 'node:fs';
      const loaded = () => readFileSync('/proc/self/maps', 'utf8').includes('classic-level');
      const core = await import('./packages/core/src/index.ts');
      const before = loaded();
      const b = await new core.LevelStateBackend({ dir: process.argv[1] }).createKeyedStateBackend({
        operatorUid: 'x', subtaskIndex: 0, keyGroupRange: { start: 0, end: 127 }, maxParallelism: 128,
        clock: new core.ManualClock(0),
      });
      const after = loaded();
      await b.dispose();
      console.log(JSON.stringify({ before, after }));
    `;
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, DIR], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(res.stderr).toBe('');
    expect(JSON.parse(res.stdout.trim().split('\n').pop() as string)).toEqual({ before: false, after: true });
  });

  it('keeps every state kind per key and namespace, and deletes its directory on dispose', async () => {
    const b = await level({}, { cacheSize: 2, writeBufferSize: 2, listChunkSize: 2 });
    const d = descriptors();
    const s = handles(b, d);
    for (const k of ['a', 'b', 1, 'ü', true, 5n]) {
      b.setCurrentKey(k);
      s.v.update(String(k).length);
      s.l.addAll([1, 2, 3]);
      s.l.add(4);
      s.m.put('x', 1);
      s.m.put(2, 2);
      s.r.add(3);
      s.r.add(4);
      s.a.add(2);
      s.a.add(4);
    }
    await b.flush();
    b.dropCache();
    for (const k of ['a', 'b', 1, 'ü', true, 5n]) {
      b.setCurrentKey(k);
      expect(s.v.value()).toBe(String(k).length);
      expect(s.l.get()).toEqual([1, 2, 3, 4]);
      expect(s.m.entries()).toEqual([
        ['x', 1],
        [2, 2],
      ]);
      expect(s.r.get()).toBe(7);
      expect(s.a.get()).toBe(3);
    }
    b.setCurrentKey('1');
    expect(s.v.value()).toBeUndefined(); // '1' and 1 are different keys
    expect(b.numEntries()).toBe(30);
    expect(b.keys('v', VOID_NAMESPACE).map(String).sort()).toEqual(['1', '5', 'a', 'b', 'true', 'ü']);
    expect(existsSync(b.location)).toBe(true);
    await b.dispose();
    expect(existsSync(b.location)).toBe(false);
  });

  it('rejects keys outside the owned key groups, like the heap backend', async () => {
    const b = await level({ parallelism: 2, subtask: 0 });
    const s = b.getValueState(new ValueStateDescriptor<number>('v'));
    let key = 0;
    while (subtaskForKeyGroup(keyGroupFor(key, 128), 2, 128) === 0) key++;
    b.setCurrentKey(key);
    expect(() => s.update(1)).toThrow(RangeError);
    await b.dispose();
  });
});

// ---------------------------------------------------------------------------------------------
// Model test: random operation sequences give the same observable results on both backends.

const keyArb = fc.constantFrom<KeyType>('a', 'b', 'c', 1, 2, 'ü', true);
const nsArb = fc.constantFrom<Namespace>(VOID_NAMESPACE, 'w1', 7);
const ukArb = fc.constantFrom<KeyType>('x', 'y', 1, 2);
const intArb = fc.integer({ min: -5, max: 20 });
const listArb = fc.array(intArb, { maxLength: 5 });

type Op =
  | { op: 'key'; k: KeyType }
  | { op: 'ns'; ns: Namespace }
  | { op: 'v.update'; x: number }
  | { op: 'v.value' | 'v.clear' | 'l.get' | 'l.clear' | 'm.entries' | 'm.keys' | 'm.values' | 'm.isEmpty' | 'm.clear' }
  | { op: 'r.get' | 'r.clear' | 'a.get' | 'a.clear' | 'count' | 'tick' | 'flush' | 'dropCache' | 'snapshot' }
  | { op: 'l.add' | 'r.add' | 'a.add'; x: number }
  | { op: 'l.addAll' | 'l.update'; xs: number[] }
  | { op: 'l.merge' | 'r.merge' | 'a.merge'; target: Namespace; sources: Namespace[] }
  | { op: 'm.put'; uk: KeyType; x: number }
  | { op: 'm.get' | 'm.remove' | 'm.contains'; uk: KeyType }
  | { op: 'countNs'; ns: Namespace }
  | { op: 'keys'; state: 'v' | 'l' | 'm' | 'r' | 'a'; ns: Namespace }
  | { op: 'advance'; ms: number }
  | { op: 'reopen'; fromHeap: boolean; registerFirst: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: keyArb.map((k) => ({ op: 'key' as const, k })) },
  { weight: 2, arbitrary: nsArb.map((ns) => ({ op: 'ns' as const, ns })) },
  { weight: 3, arbitrary: intArb.map((x) => ({ op: 'v.update' as const, x })) },
  { weight: 3, arbitrary: fc.constantFrom('v.value', 'v.clear', 'l.get', 'l.clear', 'm.entries', 'm.keys').map((op) => ({ op }) as Op) },
  { weight: 2, arbitrary: fc.constantFrom('m.values', 'm.isEmpty', 'm.clear', 'r.get', 'r.clear', 'a.get', 'a.clear').map((op) => ({ op }) as Op) },
  { weight: 2, arbitrary: fc.constantFrom('count', 'tick', 'flush', 'dropCache', 'snapshot').map((op) => ({ op }) as Op) },
  { weight: 5, arbitrary: fc.record({ op: fc.constantFrom('l.add' as const, 'r.add' as const, 'a.add' as const), x: intArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('l.addAll' as const, 'l.update' as const), xs: listArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constantFrom('l.merge' as const, 'r.merge' as const, 'a.merge' as const),
      target: nsArb,
      sources: fc.array(nsArb, { maxLength: 3 }),
    }),
  },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('m.put' as const), uk: ukArb, x: intArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constantFrom('m.get' as const, 'm.remove' as const, 'm.contains' as const), uk: ukArb }) },
  { weight: 1, arbitrary: nsArb.map((ns) => ({ op: 'countNs' as const, ns })) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('keys' as const), state: fc.constantFrom('v' as const, 'l' as const, 'm' as const, 'r' as const, 'a' as const), ns: nsArb }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 60 }).map((ms) => ({ op: 'advance' as const, ms })) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('reopen' as const), fromHeap: fc.boolean(), registerFirst: fc.boolean() }) },
);

type Handles = ReturnType<typeof handles>;

/** Applies `op` to one backend; returns what a caller observes (undefined for writes). */
function apply(b: KeyedStateBackend, s: Handles, op: Op, clock: ManualClock, d: Descs): unknown {
  switch (op.op) {
    case 'key':
      b.setCurrentKey(op.k);
      return undefined;
    case 'ns':
      for (const h of Object.values(s)) h.setCurrentNamespace(op.ns);
      return undefined;
    case 'v.update':
      s.v.update(op.x);
      return undefined;
    case 'v.value':
      return s.v.value();
    case 'v.clear':
      s.v.clear();
      return undefined;
    case 'l.get':
      return s.l.get();
    case 'l.clear':
      s.l.clear();
      return undefined;
    case 'l.add':
      s.l.add(op.x);
      return undefined;
    case 'l.addAll':
      s.l.addAll(op.xs);
      return undefined;
    case 'l.update':
      s.l.update(op.xs);
      return undefined;
    case 'l.merge':
      s.l.mergeNamespaces(op.target, op.sources);
      return undefined;
    case 'r.merge':
      s.r.mergeNamespaces(op.target, op.sources);
      return undefined;
    case 'a.merge':
      s.a.mergeNamespaces(op.target, op.sources);
      return undefined;
    case 'm.put':
      s.m.put(op.uk, op.x);
      return undefined;
    case 'm.get':
      return s.m.get(op.uk);
    case 'm.remove':
      s.m.remove(op.uk);
      return undefined;
    case 'm.contains':
      return s.m.contains(op.uk);
    case 'm.entries':
      return s.m.entries();
    case 'm.keys':
      return s.m.keys();
    case 'm.values':
      return s.m.values();
    case 'm.isEmpty':
      return s.m.isEmpty();
    case 'm.clear':
      s.m.clear();
      return undefined;
    case 'r.add':
      s.r.add(op.x);
      return undefined;
    case 'r.get':
      return s.r.get();
    case 'r.clear':
      s.r.clear();
      return undefined;
    case 'a.add':
      s.a.add(op.x);
      return undefined;
    case 'a.get':
      return s.a.get();
    case 'a.clear':
      s.a.clear();
      return undefined;
    case 'count':
      return b.numEntries();
    case 'countNs':
      return b.numEntries(op.ns);
    case 'keys':
      return b
        .keys(d[op.state].name, op.ns)
        .map((k) => `${typeof k}:${String(k)}`)
        .sort();
    case 'advance':
      clock.advance(op.ms);
      return undefined;
    case 'snapshot':
      return canon([b.snapshot()], d);
    default:
      return undefined;
  }
}

async function runModel(ops: Op[], ttl: StateTtlConfig | undefined, config: LevelStateBackendOptions): Promise<void> {
  const clock = new ManualClock(1_000);
  const d = descriptors(ttl);
  let h = heap({ clock });
  let l = await level({ clock }, config);
  try {
    let hs = handles(h, d);
    let ls = handles(l, d);
    h.setCurrentKey('a');
    l.setCurrentKey('a');
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i] as Op;
      if (op.op === 'reopen') {
        // Restart both from a checkpoint: heap from its own snapshot, level from either.
        const hsnap = h.snapshot();
        const lsnap = op.fromHeap ? hsnap : await l.snapshotAsync();
        await l.dispose();
        h = heap({ clock });
        h.restore([hsnap]);
        hs = handles(h, d);
        l = await level({ clock }, config);
        if (op.registerFirst) ls = handles(l, d);
        l.restore([lsnap]);
        if (!op.registerFirst) ls = handles(l, d);
        h.setCurrentKey('a');
        l.setCurrentKey('a');
        continue;
      }
      const expected = apply(h, hs, op, clock, d);
      if (op.op === 'advance') {
        // the clock is shared; advance once
      } else {
        const actual = apply(l, ls, op, clock, d);
        if (op.op === 'snapshot') {
          expect(canon([await l.snapshotAsync()], d), `snapshotAsync after op #${i}`).toEqual(expected);
        }
        expect(actual, `op #${i} ${JSON.stringify(op)}`).toEqual(expected);
      }
      if (op.op === 'tick') await tick();
      if (op.op === 'flush') await l.flush();
      if (op.op === 'dropCache') l.dropCache();
    }
    expect(l.numEntries()).toBe(h.numEntries());
    expect(canon([l.snapshot()], d)).toEqual(canon([h.snapshot()], d));
    // And the level snapshot restores into a heap backend to the same state.
    const back = heap({ clock });
    handles(back, d);
    back.restore([await l.snapshotAsync()]);
    expect(canon([back.snapshot()], d)).toEqual(canon([h.snapshot()], d));
  } finally {
    await l.dispose();
  }
}

describe('LevelStateBackend behaves exactly like HeapStateBackend (model test)', () => {
  const tiny: LevelStateBackendOptions = { cacheSize: 4, writeBufferSize: 3, listChunkSize: 2 };
  const opsArb = fc.array(opArb, { minLength: 1, maxLength: 120 });

  it('without TTL (tiny cache, write buffer and list chunks)', async () => {
    await fc.assert(
      fc.asyncProperty(opsArb, (ops) => runModel(ops, undefined, tiny)),
      { numRuns: 60 },
    );
  });

  it('without TTL (default sizes)', async () => {
    await fc.assert(
      fc.asyncProperty(opsArb, (ops) => runModel(ops, undefined, {})),
      { numRuns: 30 },
    );
  });

  it('with TTL OnCreateAndWrite', async () => {
    await fc.assert(
      fc.asyncProperty(opsArb, (ops) => runModel(ops, { ttlMs: 100 }, tiny)),
      { numRuns: 50 },
    );
  });

  it('with TTL OnReadAndWrite', async () => {
    await fc.assert(
      fc.asyncProperty(opsArb, (ops) => runModel(ops, { ttlMs: 100, updateType: 'OnReadAndWrite' }, tiny)),
      { numRuns: 50 },
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('TTL on LevelDB', () => {
  it('expires entries by the job clock, and refreshes on read when asked', async () => {
    const clock = new ManualClock(0);
    const b = await level({ clock }, { cacheSize: 2, writeBufferSize: 1 });
    const w = b.getValueState(new ValueStateDescriptor<string>('w').enableTimeToLive({ ttlMs: 100 }));
    const r = b.getValueState(
      new ValueStateDescriptor<string>('r').enableTimeToLive({ ttlMs: 100, updateType: 'OnReadAndWrite' }),
    );
    const l = b.getListState(new ListStateDescriptor<number>('l').enableTimeToLive({ ttlMs: 100 }));
    b.setCurrentKey('k');
    w.update('x');
    r.update('y');
    l.add(1);
    clock.setTime(60);
    l.add(2);
    await b.flush();
    b.dropCache();
    expect(w.value()).toBe('x');
    expect(r.value()).toBe('y'); // refreshed to t = 60
    clock.setTime(100);
    await b.flush();
    b.dropCache();
    expect(w.value()).toBeUndefined();
    expect(r.value()).toBe('y');
    expect(l.get()).toEqual([2]);
    clock.setTime(159);
    expect(r.value()).toBe('y');
    clock.setTime(259);
    expect(r.value()).toBeUndefined();
    expect(l.get()).toEqual([]);
    expect(b.numEntries()).toBe(0);
    await b.dispose();
  });
});

// ---------------------------------------------------------------------------------------------

/** Fills `b` with entries of every kind for keys 0..n-1 (some in a window namespace). */
function fill(b: KeyedStateBackend, d: Descs, n: number): void {
  const s = handles(b, d);
  for (let i = 0; i < n; i++) {
    b.setCurrentKey(i % 3 === 0 ? `user-${i}` : i);
    for (const h of Object.values(s)) h.setCurrentNamespace(i % 2 === 0 ? VOID_NAMESPACE : 1000 + (i % 5));
    s.v.update(i);
    s.l.addAll([i, i + 1, i + 2]);
    s.m.put(`k${i % 4}`, i);
    s.m.put(i, -i - 1);
    s.r.add(i);
    s.a.add(i);
    s.a.add(i + 10);
  }
  for (const h of Object.values(s)) h.setCurrentNamespace(VOID_NAMESPACE);
}

describe('snapshot and restore across backends and parallelism', () => {
  const d = descriptors();
  const N = 500;

  async function restoreInto(
    kind: 'heap' | 'level',
    parallelism: number,
    snaps: KeyedStateSnapshot[],
  ): Promise<KeyedStateBackend[]> {
    const out: KeyedStateBackend[] = [];
    for (let s = 0; s < parallelism; s++) {
      const b = kind === 'heap' ? heap({ parallelism, subtask: s }) : await level({ parallelism, subtask: s }, { cacheSize: 50 });
      // half register before restore, half after
      if (s % 2 === 0) handles(b, d);
      b.restore(snaps);
      handles(b, d);
      out.push(b);
    }
    return out;
  }

  async function snapAll(bs: KeyedStateBackend[]): Promise<KeyedStateSnapshot[]> {
    return Promise.all(bs.map((b) => (b.snapshotAsync !== undefined ? b.snapshotAsync() : b.snapshot())));
  }

  it('heap → level → heap at parallelism 1 → 3 → 2 keeps every entry', async () => {
    const src = heap();
    fill(src, d, N);
    const expected = canon([src.snapshot()], d);
    const lv = await restoreInto('level', 3, [src.snapshot()]);
    // Every subtask only holds its own key groups.
    for (const [i, b] of lv.entries()) {
      const r = keyGroupRangeFor(i, 3, 128);
      const own = canon(await snapAll([b]), d);
      expect(own.every((line) => {
        const kg = Number(line.split('|')[1]);
        return kg >= r.start && kg <= r.end;
      })).toBe(true);
    }
    expect(canon(await snapAll(lv), d)).toEqual(expected);
    // and with the synchronous snapshot
    expect(canon(lv.map((b) => b.snapshot()), d)).toEqual(expected);
    const hp = await restoreInto('heap', 2, await snapAll(lv));
    expect(canon(await snapAll(hp), d)).toEqual(expected);
    for (const b of lv) await b.dispose();
  });

  it('level → level at parallelism 2 → 4, and values read back per key', async () => {
    const srcs = [await level({ parallelism: 2, subtask: 0 }), await level({ parallelism: 2, subtask: 1 })];
    const ref = heap();
    fill(ref, d, N);
    // each subtask takes its own key groups of the reference state
    const snapsRef = ref.snapshot();
    for (const b of srcs) {
      handles(b, d);
      b.restore([snapsRef]);
    }
    const restored = await restoreInto('level', 4, await snapAll(srcs));
    expect(canon(await snapAll(restored), d)).toEqual(canon([snapsRef], d));
    for (let i = 0; i < N; i += 7) {
      const key = i % 3 === 0 ? `user-${i}` : i;
      const owner = restored[subtaskForKeyGroup(keyGroupFor(key, 128), 4, 128)] as KeyedStateBackend;
      owner.setCurrentKey(key);
      const h = handles(owner, d);
      for (const x of Object.values(h)) x.setCurrentNamespace(i % 2 === 0 ? VOID_NAMESPACE : 1000 + (i % 5));
      expect(h.v.value()).toBe(i);
      expect(h.l.get()).toEqual([i, i + 1, i + 2]);
      expect(h.m.get(i)).toBe(-i - 1);
      expect(h.r.get()).toBe(i);
      expect(h.a.get()).toBe(i + 5);
    }
    for (const b of [...srcs, ...restored]) await b.dispose();
  });

  it('state restored but not registered is carried over by later snapshots', async () => {
    const src = heap();
    fill(src, d, 50);
    const snap = src.snapshot();
    const mid = await level();
    mid.getValueState(d.v); // only one state registered
    mid.restore([snap]);
    const again = await mid.snapshotAsync();
    const last = heap();
    handles(last, d);
    last.restore([again]);
    expect(canon([last.snapshot()], d)).toEqual(canon([snap], d));
    await mid.dispose();
  });

  it('a snapshot is consistent as of the call while processing goes on', async () => {
    const b = await level({}, { writeBufferSize: 100 });
    const v = b.getValueState(d.v);
    for (let i = 0; i < 1000; i++) {
      b.setCurrentKey(i);
      v.update(i);
    }
    const pending = b.snapshotAsync();
    for (let i = 0; i < 1000; i++) {
      b.setCurrentKey(i);
      v.update(-1);
      if (i % 100 === 0) await tick();
    }
    const snap = await pending;
    const r = heap();
    const rv = r.getValueState(d.v);
    r.restore([snap]);
    for (let i = 0; i < 1000; i++) {
      r.setCurrentKey(i);
      expect(rv.value()).toBe(i);
    }
    await b.dispose();
  });

  it('rejects a snapshot of another maxParallelism', async () => {
    const b = await level({ maxParallelism: 64 });
    expect(() => b.restore([heap().snapshot()])).toThrow(/maxParallelism 128.*64/);
    await b.dispose();
  });
});

describe('incremental snapshots', () => {
  it('reuse the bytes of key groups not written since the previous snapshot, and consolidate', async () => {
    const d = descriptors();
    const b = await level({}, { consolidateEvery: 3, writeBufferSize: 64 });
    fill(b, d, 2000);
    // Rows flushed after a capture count as changed since it: flush first.
    await b.flush();
    const s1 = await b.snapshotAsync();
    expect(b.stats().lastSnapshotScannedKeyGroups).toBe(128);
    // Touch one key only.
    const s = handles(b, d);
    b.setCurrentKey('only-this-one');
    s.v.update(42);
    s.l.add(1);
    const kg = keyGroupFor('only-this-one', 128);
    const s2 = await b.snapshotAsync();
    // Few changes next to what the key group holds: a delta after its previous bytes.
    expect(b.stats().lastSnapshotScannedKeyGroups).toBe(0);
    expect(b.stats().lastSnapshotDeltaKeyGroups).toBe(1);
    expect(b.stats().lastSnapshotReusedKeyGroups).toBe(127);
    const blobs = (x: KeyedStateSnapshot, name: string) =>
      new Map((x.states.find((st) => st.name === name)?.keyGroups ?? []).map((g) => [g.keyGroup, g.data]));
    for (const name of ['v', 'l', 'm', 'r', 'a']) {
      const a1 = blobs(s1, name);
      const a2 = blobs(s2, name);
      for (const [g, data] of a2) {
        if (g === kg) continue;
        expect(data).toBe(a1.get(g)); // the same object: nothing new to store
      }
    }
    expect(canon([s2], d)).toEqual(canon([b.snapshot()], d));
    // No change at all: everything reused.
    const s3 = await b.snapshotAsync();
    expect(b.stats().lastSnapshotScannedKeyGroups).toBe(0);
    expect(canon([s3], d)).toEqual(canon([s2], d));
    // Third incremental → consolidation (full).
    await b.snapshotAsync();
    expect(b.stats().lastSnapshotScannedKeyGroups).toBe(128);
    // Overlapping snapshots stay correct.
    b.setCurrentKey(1);
    s.v.update(-1);
    const p1 = b.snapshotAsync();
    b.setCurrentKey(2);
    s.v.update(-2);
    const p2 = b.snapshotAsync();
    b.setCurrentKey(1);
    s.v.update(-3);
    const [x1, x2] = await Promise.all([p1, p2]);
    const read = (snap: KeyedStateSnapshot, key: number): number | undefined => {
      const h = heap();
      const v = h.getValueState(d.v);
      h.restore([snap]);
      h.setCurrentKey(key);
      return v.value();
    };
    expect([read(x1, 1), read(x1, 2)]).toEqual([-1, 2]);
    expect([read(x2, 1), read(x2, 2)]).toEqual([-1, -2]);
    await b.dispose();
  });
});

describe('state larger than the cache', () => {
  it('1M keys with a 10k-row cache: every value reads back, counts and updates stay exact', async () => {
    const N = 1_000_000;
    const b = await level({}, { cacheSize: 10_000, writeBufferSize: 20_000 });
    const v = b.getValueState(new ValueStateDescriptor<number>('count'));
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      b.setCurrentKey(i);
      v.update(i * 2);
      if (i % 20_000 === 0) await tick();
    }
    await b.flush();
    const tWrite = performance.now() - t0;
    // Every value, as LevelDB holds it (read by an incremental-capable snapshot).
    const t1 = performance.now();
    const snap = await b.snapshotAsync();
    let seen = 0;
    let wrong = 0;
    for (const { data } of snap.states[0]?.keyGroups ?? []) {
      const r = new Reader(data);
      while (r.u8() === 1) {
        r.key();
        const key = r.key() as number;
        const e = new Reader(r.bytes());
        if (JSON.parse(new TextDecoder().decode(e.bytes())) !== key * 2) wrong++;
        seen++;
      }
    }
    const tScan = performance.now() - t1;
    expect([seen, wrong]).toEqual([N, 0]);
    // 200k values read back through the 10k-row cache (almost all from LevelDB).
    b.dropCache();
    const t15 = performance.now();
    for (let j = 0; j < 200_000; j++) {
      const i = (j * 104_729) % N;
      b.setCurrentKey(i);
      if (v.value() !== i * 2) wrong++;
      if (j % 50_000 === 0) await tick();
    }
    const tRead = performance.now() - t15;
    expect(wrong).toBe(0);
    expect(b.stats().cachedRows).toBeLessThanOrEqual(10_000);
    expect(b.numEntries()).toBe(N);
    // Read-modify-write over a tenth of the keys, then clear some.
    const t2 = performance.now();
    const M = 100_000;
    for (let j = 0; j < M; j++) {
      const i = (j * 7919) % N;
      b.setCurrentKey(i);
      v.update((v.value() as number) + 1);
      if (j % 20_000 === 0) await tick();
    }
    const tRmw = performance.now() - t2;
    for (let i = 0; i < N; i += 10) {
      b.setCurrentKey(i);
      v.clear();
    }
    await b.flush();
    b.dropCache();
    const bumped = new Set<number>();
    for (let j = 0; j < M; j++) bumped.add((j * 7919) % N);
    for (let i = 1; i < N; i += 331) {
      b.setCurrentKey(i);
      const want = i % 10 === 0 ? undefined : i * 2 + (bumped.has(i) ? 1 : 0);
      expect(v.value()).toBe(want);
    }
    expect(b.numEntries()).toBe(N - N / 10);
    console.log(
      `1M keys, 10k cache: blind writes ${Math.round(N / (tWrite / 1000))}/s, snapshot of 1M entries ${Math.round(tScan)} ms, reads ${Math.round(200_000 / (tRead / 1000))}/s, read-modify-write ${Math.round(M / (tRmw / 1000))}/s`,
    );
    const dir = b.location;
    await b.dispose();
    expect(existsSync(dir)).toBe(false);
  }, 180_000);
});

interface Ev {
  user: string;
  v: number;
  ts: number;
}

/** Uses value, list and map state and event-time timers. */
class Track implements KeyedProcessFunction<string, Ev, string> {
  private count!: ReturnType<RuntimeContext['getState']>;
  private recent!: ReturnType<RuntimeContext['getListState']>;
  private seen!: ReturnType<RuntimeContext['getMapState']>;

  open(ctx: RuntimeContext): void {
    this.count = ctx.getState(new ValueStateDescriptor<number>('count'));
    this.recent = ctx.getListState(new ListStateDescriptor<number>('recent'));
    this.seen = ctx.getMapState(new MapStateDescriptor<number, number>('seen'));
  }

  processElement(e: Ev, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
    const n = ((this.count.value() as number | undefined) ?? 0) + 1;
    this.count.update(n);
    this.recent.add(e.v);
    this.seen.put(e.v, ((this.seen.get(e.v) as number | undefined) ?? 0) + 1);
    out.collect(`${ctx.getCurrentKey()}#${n}`);
    ctx.timerService().registerEventTimeTimer(e.ts + 100);
  }

  onTimer(ts: number, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
    out.collect(`${ctx.getCurrentKey()}@${ts} n=${this.count.value()} recent=${this.recent.get().join(',')} distinct=${this.seen.keys().length}`);
  }
}

describe('LevelStateBackend in a job', () => {
  it('gives the same results as the heap backend at parallelism 1 and 3', async () => {
    const events: Ev[] = Array.from({ length: 3000 }, (_, i) => ({
      user: `u${(i * 37) % 101}`,
      v: (i * 13) % 17,
      ts: i,
    }));
    const run = async (stateBackend: StateBackend, parallelism: number): Promise<string[]> => {
      const env = StreamEnvironment.create({ parallelism, stateBackend });
      const out = await env
        .fromCollection(events)
        .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Ev>(10).withTimestampAssigner((e) => e.ts))
        .setParallelism(1)
        .keyBy((e) => e.user)
        .process(new Track())
        .executeAndCollect();
      return out.sort();
    };
    const expected = await run(new HeapStateBackend(), 1);
    const level = new LevelStateBackend({ dir: DIR, cacheSize: 50, writeBufferSize: 64 });
    expect(await run(level, 1)).toEqual(expected);
    expect(await run(level, 3)).toEqual(expected);
  });
});

describe('housekeeping', () => {
  it('leaves no database directories behind', () => {
    expect(existsSync(DIR) ? readdirSync(DIR) : []).toEqual([]);
  });
});
