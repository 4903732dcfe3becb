import {
  type AggregateFunction,
  AggregatingStateDescriptor,
  HeapStateBackend,
  type KeyedStateBackend,
  type KeyedStateSnapshot,
  keyGroupFor,
  keyGroupRangeFor,
  type KeyType,
  ListStateDescriptor,
  ManualClock,
  MapStateDescriptor,
  ReducingStateDescriptor,
  StateDescriptor,
  subtaskForKeyGroup,
  ValueStateDescriptor,
  VOID_NAMESPACE,
} from '@weir/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

function backend(opts: { parallelism?: number; subtask?: number; maxParallelism?: number; clock?: ManualClock } = {}): KeyedStateBackend {
  const maxParallelism = opts.maxParallelism ?? 128;
  const p = opts.parallelism ?? 1;
  const s = opts.subtask ?? 0;
  return new HeapStateBackend().createKeyedStateBackend({
    operatorUid: 'op',
    subtaskIndex: s,
    keyGroupRange: keyGroupRangeFor(s, p, maxParallelism),
    maxParallelism,
    clock: opts.clock ?? new ManualClock(0),
  }) as KeyedStateBackend;
}

const avg: AggregateFunction<number, { sum: number; n: number }, number> = {
  createAccumulator: () => ({ sum: 0, n: 0 }),
  add: (v, acc) => ({ sum: acc.sum + v, n: acc.n + 1 }),
  getResult: (acc) => acc.sum / acc.n,
  merge: (a, b) => ({ sum: a.sum + b.sum, n: a.n + b.n }),
};

describe('value state', () => {
  it('holds one value per key; clear removes it and the entry', () => {
    const b = backend();
    const s = b.getValueState(new ValueStateDescriptor<number>('v'));
    b.setCurrentKey('a');
    expect(s.value()).toBeUndefined();
    s.update(1);
    b.setCurrentKey('b');
    expect(s.value()).toBeUndefined();
    s.update(2);
    b.setCurrentKey('a');
    expect(s.value()).toBe(1);
    expect(b.numEntries()).toBe(2);
    s.clear();
    expect(s.value()).toBeUndefined();
    expect(b.numEntries()).toBe(1);
    b.setCurrentKey('b');
    s.clear();
    expect(b.numEntries()).toBe(0);
    s.clear(); // clearing nothing is harmless
    expect(b.numEntries()).toBe(0);
  });

  it('keeps keys of different types apart (1 vs "1")', () => {
    const b = backend();
    const s = b.getValueState(new ValueStateDescriptor<string>('v'));
    b.setCurrentKey(1);
    s.update('number');
    b.setCurrentKey('1');
    s.update('string');
    b.setCurrentKey(1);
    expect(s.value()).toBe('number');
    expect(b.numEntries()).toBe(2);
  });

  it('update(undefined) clears', () => {
    const b = backend();
    const s = b.getValueState(new ValueStateDescriptor<number | undefined>('v'));
    b.setCurrentKey('k');
    s.update(3);
    s.update(undefined);
    expect(s.value()).toBeUndefined();
    expect(b.numEntries()).toBe(0);
  });
});

describe('list state', () => {
  it('add, addAll, update, get returns a copy, clear', () => {
    const b = backend();
    const s = b.getListState(new ListStateDescriptor<string>('l'));
    b.setCurrentKey('k');
    expect(s.get()).toEqual([]);
    s.add('a');
    s.addAll(['b', 'c']);
    s.addAll([]);
    expect(s.get()).toEqual(['a', 'b', 'c']);
    const copy = s.get();
    copy.push('mutated');
    expect(s.get()).toEqual(['a', 'b', 'c']);
    s.update(['x']);
    expect(s.get()).toEqual(['x']);
    expect(b.numEntries()).toBe(1);
    s.update([]);
    expect(s.get()).toEqual([]);
    expect(b.numEntries()).toBe(0);
    s.add('y');
    s.clear();
    expect(s.get()).toEqual([]);
    expect(b.numEntries()).toBe(0);
  });
});

describe('map state', () => {
  it('put, get, contains, remove, entries, keys, values, isEmpty, putAll, clear', () => {
    const b = backend();
    const s = b.getMapState(new MapStateDescriptor<string, number>('m'));
    b.setCurrentKey('k');
    expect(s.isEmpty()).toBe(true);
    expect(s.get('x')).toBeUndefined();
    s.put('x', 1);
    s.putAll([
      ['y', 2],
      ['z', 3],
    ]);
    expect(s.contains('y')).toBe(true);
    expect(s.contains('w')).toBe(false);
    expect(s.get('z')).toBe(3);
    expect(s.entries()).toEqual([
      ['x', 1],
      ['y', 2],
      ['z', 3],
    ]);
    expect(s.keys()).toEqual(['x', 'y', 'z']);
    expect(s.values()).toEqual([1, 2, 3]);
    expect(s.isEmpty()).toBe(false);
    expect(b.numEntries()).toBe(1); // one (state, key, namespace) entry
    s.remove('x');
    s.remove('nope');
    expect(s.keys()).toEqual(['y', 'z']);
    s.remove('y');
    s.remove('z');
    expect(s.isEmpty()).toBe(true);
    expect(b.numEntries()).toBe(0);
    s.put('a', 1);
    b.setCurrentKey('other');
    expect(s.isEmpty()).toBe(true);
    b.setCurrentKey('k');
    s.clear();
    expect(s.entries()).toEqual([]);
    expect(b.numEntries()).toBe(0);
  });
});

describe('reducing state', () => {
  it('reduces every added value; clear resets', () => {
    const b = backend();
    const s = b.getReducingState(new ReducingStateDescriptor<number>('r', (x, y) => x + y));
    b.setCurrentKey('k');
    expect(s.get()).toBeUndefined();
    s.add(1);
    s.add(2);
    s.add(39);
    expect(s.get()).toBe(42);
    b.setCurrentKey('j');
    s.add(5);
    expect(s.get()).toBe(5);
    expect(b.numEntries()).toBe(2);
    s.clear();
    b.setCurrentKey('k');
    s.clear();
    expect(s.get()).toBeUndefined();
    expect(b.numEntries()).toBe(0);
  });
});

describe('aggregating state', () => {
  it('feeds an accumulator and returns the result; clear resets', () => {
    const b = backend();
    const s = b.getAggregatingState(new AggregatingStateDescriptor('avg', avg));
    b.setCurrentKey('k');
    expect(s.get()).toBeUndefined();
    s.add(1);
    s.add(2);
    s.add(6);
    expect(s.get()).toBe(3);
    expect(b.numEntries()).toBe(1);
    s.clear();
    expect(s.get()).toBeUndefined();
    expect(b.numEntries()).toBe(0);
  });
});

describe('namespaces', () => {
  it('scope every kind of state without leaking between namespaces', () => {
    const b = backend();
    const v = b.getValueState(new ValueStateDescriptor<string>('v'));
    const l = b.getListState(new ListStateDescriptor<string>('l'));
    const m = b.getMapState(new MapStateDescriptor<string, string>('m'));
    const r = b.getReducingState(new ReducingStateDescriptor<number>('r', (x, y) => x + y));
    const a = b.getAggregatingState(new AggregatingStateDescriptor('a', avg));
    const all = [v, l, m, r, a];
    b.setCurrentKey('k');
    for (const [ns, val] of [
      ['w1', 1],
      [7, 10],
    ] as const) {
      for (const s of all) s.setCurrentNamespace(ns);
      v.update(`v${val}`);
      l.add(`l${val}`);
      m.put('x', `m${val}`);
      r.add(val);
      a.add(val);
    }
    expect(b.numEntries()).toBe(10);
    for (const s of all) s.setCurrentNamespace(VOID_NAMESPACE);
    expect([v.value(), l.get(), m.isEmpty(), r.get(), a.get()]).toEqual([undefined, [], true, undefined, undefined]);
    for (const s of all) s.setCurrentNamespace('w1');
    expect([v.value(), l.get(), m.get('x'), r.get(), a.get()]).toEqual(['v1', ['l1'], 'm1', 1, 1]);
    for (const s of all) s.setCurrentNamespace(7);
    expect([v.value(), l.get(), m.get('x'), r.get(), a.get()]).toEqual(['v10', ['l10'], 'm10', 10, 10]);
    // the number 7 and the string '7' are different namespaces
    for (const s of all) s.setCurrentNamespace('7');
    expect(v.value()).toBeUndefined();
    expect(b.keys('v', 7)).toEqual(['k']);
    expect(b.keys('v', 'w2')).toEqual([]);
    for (const s of all) s.setCurrentNamespace('w1');
    for (const s of all) s.clear();
    expect(b.numEntries()).toBe(5);
    for (const s of all) s.setCurrentNamespace(7);
    expect(v.value()).toBe('v10');
    for (const s of all) s.clear();
    expect(b.numEntries()).toBe(0);
  });

  it('mergeNamespaces combines reducing and aggregating state into the target and clears the sources', () => {
    const b = backend();
    const r = b.getReducingState(new ReducingStateDescriptor<number>('r', (x, y) => x + y));
    const a = b.getAggregatingState(new AggregatingStateDescriptor('a', avg));
    b.setCurrentKey('k');
    for (const [ns, x] of [
      ['s1', 1],
      ['s2', 2],
      ['t', 9],
    ] as const) {
      r.setCurrentNamespace(ns);
      a.setCurrentNamespace(ns);
      r.add(x);
      a.add(x);
    }
    r.setCurrentNamespace('other');
    r.mergeNamespaces('t', ['s1', 's2', 'missing']);
    a.mergeNamespaces('t', ['s1', 's2']);
    expect(r.get()).toBeUndefined(); // current namespace restored to 'other'
    r.setCurrentNamespace('t');
    a.setCurrentNamespace('t');
    expect(r.get()).toBe(12);
    expect(a.get()).toBe(4);
    r.setCurrentNamespace('s1');
    expect(r.get()).toBeUndefined();
    expect(b.numEntries()).toBe(2);
  });
});

describe('descriptors', () => {
  it('validate their arguments', () => {
    expect(() => new ValueStateDescriptor<number>('')).toThrow(TypeError);
    expect(() => new ValueStateDescriptor<number>('x').enableTimeToLive({ ttlMs: 0 })).toThrow(RangeError);
    const d = new ListStateDescriptor<number>('x').enableTimeToLive({ ttlMs: 5 });
    expect(d).toBeInstanceOf(StateDescriptor);
    expect(d.ttl).toEqual({ ttlMs: 5 });
    expect(d.kind).toBe('list');
  });

  it('one name is one state: the same handle again, and a clear error for another kind', () => {
    const b = backend();
    const s1 = b.getValueState(new ValueStateDescriptor<number>('x'));
    const s2 = b.getValueState(new ValueStateDescriptor<number>('x'));
    expect(s2).toBe(s1);
    expect(() => b.getListState(new ListStateDescriptor<number>('x'))).toThrow(/'x'.*value.*list/);
  });

  it('rejects keys outside the key groups of the instance', () => {
    const b = backend({ parallelism: 2, subtask: 0 });
    const s = b.getValueState(new ValueStateDescriptor<number>('v'));
    let foreign = 0;
    while (subtaskForKeyGroup(keyGroupFor(foreign, 128), 2, 128) === 0) foreign++;
    b.setCurrentKey(foreign);
    expect(() => s.update(1)).toThrow(/outside this subtask's key groups/);
  });
});

type StateOp =
  | { kind: 'v'; key: string; ns: string; val: number | null }
  | { kind: 'l'; key: string; ns: string; val: number | null }
  | { kind: 'm'; key: string; ns: string; uk: string; val: number | null };

describe('state entries (property)', () => {
  it('numEntries counts live (state, key, namespace) entries and returns to 0 once everything is cleared', () => {
    const key = fc.constantFrom('a', 'b', 'c');
    const ns = fc.constantFrom('', 'w1', 'w2');
    const val = fc.option(fc.integer({ min: 0, max: 9 }), { nil: null });
    const op: fc.Arbitrary<StateOp> = fc.oneof(
      fc.record({ kind: fc.constant('v' as const), key, ns, val }),
      fc.record({ kind: fc.constant('l' as const), key, ns, val }),
      fc.record({ kind: fc.constant('m' as const), key, ns, uk: fc.constantFrom('x', 'y'), val }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const b = backend();
        const v = b.getValueState(new ValueStateDescriptor<number>('v'));
        const l = b.getListState(new ListStateDescriptor<number>('l'));
        const m = b.getMapState(new MapStateDescriptor<string, number>('m'));
        const refV = new Map<string, number>();
        const refL = new Map<string, number[]>();
        const refM = new Map<string, Map<string, number>>();
        for (const o of ops) {
          const id = `${o.key}|${o.ns}`;
          b.setCurrentKey(o.key);
          if (o.kind === 'v') {
            v.setCurrentNamespace(o.ns);
            if (o.val === null) {
              v.clear();
              refV.delete(id);
            } else {
              v.update(o.val);
              refV.set(id, o.val);
            }
            expect(v.value()).toBe(refV.get(id));
          } else if (o.kind === 'l') {
            l.setCurrentNamespace(o.ns);
            if (o.val === null) {
              l.clear();
              refL.delete(id);
            } else {
              l.add(o.val);
              refL.set(id, [...(refL.get(id) ?? []), o.val]);
            }
            expect(l.get()).toEqual(refL.get(id) ?? []);
          } else {
            m.setCurrentNamespace(o.ns);
            const mm = refM.get(id) ?? new Map<string, number>();
            if (o.val === null) {
              m.remove(o.uk);
              mm.delete(o.uk);
            } else {
              m.put(o.uk, o.val);
              mm.set(o.uk, o.val);
            }
            if (mm.size === 0) refM.delete(id);
            else refM.set(id, mm);
            expect(m.entries()).toEqual([...(refM.get(id) ?? [])]);
          }
          expect(b.numEntries()).toBe(refV.size + refL.size + refM.size);
        }
        // clear everything
        for (const k of ['a', 'b', 'c']) {
          b.setCurrentKey(k);
          for (const n of ['', 'w1', 'w2']) {
            for (const s of [v, l, m]) {
              s.setCurrentNamespace(n);
              s.clear();
            }
          }
        }
        expect(b.numEntries()).toBe(0);
      }),
      { numRuns: 150 },
    );
  });
});

/** Writes `entries` into `p` backends (each key into its owner), one state of each kind. */
function writeAll(entries: ReadonlyArray<readonly [KeyType, number]>, p: number, maxP: number): KeyedStateBackend[] {
  const bs = Array.from({ length: p }, (_, i) => backend({ parallelism: p, subtask: i, maxParallelism: maxP }));
  for (const [k, n] of entries) {
    const b = bs[subtaskForKeyGroup(keyGroupFor(k, maxP), p, maxP)] as KeyedStateBackend;
    b.setCurrentKey(k);
    b.getValueState(new ValueStateDescriptor<number>('v')).update(n);
    b.getListState(new ListStateDescriptor<number>('l')).addAll([n, n + 1]);
    const m = b.getMapState(new MapStateDescriptor<string, number>('m'));
    m.put('n', n);
    m.put('twice', 2 * n);
    b.getReducingState(new ReducingStateDescriptor<number>('r', (x, y) => x + y)).add(n);
    b.getAggregatingState(new AggregatingStateDescriptor('a', avg)).add(n);
    const ns = b.getValueState(new ValueStateDescriptor<number>('ns'));
    ns.setCurrentNamespace(n % 3);
    ns.update(-n - 1);
    ns.setCurrentNamespace(VOID_NAMESPACE);
  }
  return bs;
}

function readAll(b: KeyedStateBackend, k: KeyType): unknown[] {
  b.setCurrentKey(k);
  const m = b.getMapState(new MapStateDescriptor<string, number>('m'));
  const ns = b.getValueState(new ValueStateDescriptor<number>('ns'));
  const nsValues: Array<number | undefined> = [];
  for (const n of [0, 1, 2]) {
    ns.setCurrentNamespace(n);
    nsValues.push(ns.value());
  }
  ns.setCurrentNamespace(VOID_NAMESPACE);
  return [
    b.getValueState(new ValueStateDescriptor<number>('v')).value(),
    b.getListState(new ListStateDescriptor<number>('l')).get(),
    m.entries(),
    b.getReducingState(new ReducingStateDescriptor<number>('r', (x, y) => x + y)).get(),
    b.getAggregatingState(new AggregatingStateDescriptor('a', avg)).get(),
    nsValues,
  ];
}

describe('snapshot and restore', () => {
  it('restoring into backends of another parallelism moves key groups and keeps every value', () => {
    const keyArb: fc.Arbitrary<KeyType> = fc.oneof(fc.string({ maxLength: 5 }), fc.integer({ min: -1000, max: 1000 }));
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(keyArb, fc.integer({ min: 0, max: 1000 })), { selector: ([k]) => k, maxLength: 60 }),
        fc.integer({ min: 8, max: 64 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        (entries, maxP, p1, p2) => {
          const before = writeAll(entries, p1, maxP);
          const expected = new Map(entries.map(([k]) => [k, readAll(before[subtaskForKeyGroup(keyGroupFor(k, maxP), p1, maxP)] as KeyedStateBackend, k)]));
          const snaps: KeyedStateSnapshot[] = before.map((b) => b.snapshot());
          for (const s of snaps) {
            expect(s.backend).toBe('heap');
            expect(s.maxParallelism).toBe(maxP);
          }
          const after = Array.from({ length: p2 }, (_, i) => backend({ parallelism: p2, subtask: i, maxParallelism: maxP }));
          for (const b of after) b.restore(snaps);
          for (const [k] of entries) {
            const owner = after[subtaskForKeyGroup(keyGroupFor(k, maxP), p2, maxP)] as KeyedStateBackend;
            expect(readAll(owner, k)).toEqual(expected.get(k));
          }
          // every entry landed exactly once
          const total = (bs: KeyedStateBackend[]): number => bs.reduce((n, b) => n + b.numEntries(), 0);
          expect(total(after)).toBe(total(before));
          expect(total(after)).toBe(entries.length * 6);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('restore works whether the state is registered before or after restore()', () => {
    const src = backend();
    src.setCurrentKey('k');
    src.getValueState(new ValueStateDescriptor<string>('early')).update('e');
    src.getValueState(new ValueStateDescriptor<string>('late')).update('l');
    const snap = src.snapshot();
    const b = backend();
    const early = b.getValueState(new ValueStateDescriptor<string>('early'));
    b.restore([snap]);
    const late = b.getValueState(new ValueStateDescriptor<string>('late'));
    b.setCurrentKey('k');
    expect(early.value()).toBe('e');
    expect(late.value()).toBe('l');
    expect(b.numEntries()).toBe(2);
  });

  it('state restored but not (yet) used by the operator survives the next snapshot', () => {
    const src = backend();
    src.setCurrentKey('k');
    src.getValueState(new ValueStateDescriptor<string>('used')).update('u');
    src.getListState(new ListStateDescriptor<number>('unused')).add(1);
    const middle = backend();
    middle.restore([src.snapshot()]);
    middle.setCurrentKey('k');
    expect(middle.getValueState(new ValueStateDescriptor<string>('used')).value()).toBe('u');
    const last = backend();
    last.restore([middle.snapshot()]);
    last.setCurrentKey('k');
    expect(last.getListState(new ListStateDescriptor<number>('unused')).get()).toEqual([1]);
  });

  it('a snapshot is independent of later changes, and rejects another maxParallelism', () => {
    const b = backend();
    const s = b.getValueState(new ValueStateDescriptor<number>('v'));
    b.setCurrentKey('k');
    s.update(1);
    const snap = b.snapshot();
    s.update(2);
    const r = backend();
    r.restore([snap]);
    r.setCurrentKey('k');
    expect(r.getValueState(new ValueStateDescriptor<number>('v')).value()).toBe(1);
    expect(() => backend({ maxParallelism: 64 }).restore([snap])).toThrow(/maxParallelism 128.*64/);
  });
});
