import {
  HeapStateBackend,
  type KeyedStateBackend,
  type KeyType,
  LevelStateBackend,
  ListStateDescriptor,
  ManualClock,
  type Namespace,
  ValueStateDescriptor,
  VOID_NAMESPACE,
} from '@weir/core';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { BinaryWriter } from '../../src/state/codec.js';
import { encodeKeyGroup, type KeyGroupColumns, readKeyGroup } from '../../src/state/keyGroupFormat.js';

const DIR = join(tmpdir(), `weir-kg-format-test-${process.pid}`);
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

const keyArb: fc.Arbitrary<KeyType> = fc.oneof(
  fc.string({ maxLength: 50 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.integer(),
  fc.double({ noNaN: true }).filter((d) => !Object.is(d, -0)),
  fc.boolean(),
  fc.bigInt(),
);
const nsArb: fc.Arbitrary<Namespace> = fc.oneof(fc.constant(VOID_NAMESPACE), fc.string({ maxLength: 60 }), fc.integer({ min: 0, max: 1e9 }));

/** Columns of `runs` namespace runs; keys unique per namespace, as in a state table. */
const columnsArb = (valueArb: fc.Arbitrary<unknown>, onlyKeys?: fc.Arbitrary<KeyType>): fc.Arbitrary<KeyGroupColumns> =>
  fc
    .uniqueArray(nsArb, { maxLength: 4 })
    .chain((namespaces) =>
      fc.tuple(
        fc.constant(namespaces),
        fc.tuple(...namespaces.map(() => fc.uniqueArray(fc.tuple(onlyKeys ?? keyArb, valueArb), { selector: ([k]) => k, maxLength: 12 }))),
      ),
    )
    .map(([namespaces, perNs]) => {
      const cols: KeyGroupColumns = { namespaces: [], runLengths: [], keys: [], values: [] };
      namespaces.forEach((ns, i) => {
        const entries = perNs[i] as Array<[KeyType, unknown]>;
        if (entries.length === 0) return;
        cols.namespaces.push(ns);
        cols.runLengths.push(entries.length);
        for (const [k, v] of entries) {
          cols.keys.push(k);
          cols.values.push(v);
        }
      });
      return cols;
    });

/** Entries as (namespace, key, value) triples, in order. */
function triples(cols: KeyGroupColumns): Array<[Namespace, KeyType, unknown]> {
  const out: Array<[Namespace, KeyType, unknown]> = [];
  let i = 0;
  cols.namespaces.forEach((ns, r) => {
    for (let j = 0; j < (cols.runLengths[r] as number); j++, i++) out.push([ns, cols.keys[i] as KeyType, cols.values[i]]);
  });
  return out;
}

/** Entry encoding of the tests: the JSON serde's bytes (`undefined` → empty). */
const jsonEntry = (w: BinaryWriter, v: unknown): boolean => {
  w.json(v);
  return true;
};

function decodeAll(data: Uint8Array): Array<[Namespace, KeyType, unknown]> {
  const out: Array<[Namespace, KeyType, unknown]> = [];
  readKeyGroup(data, {
    value: (ns, key, v) => out.push([ns, key, v]),
    entry: (ns, key, r) => out.push([ns, key, r.json()]),
  });
  return out;
}

describe('key-group blobs (format 2)', () => {
  it('round-trip every key type, namespace runs and JSON values, as a JSON column or as entries', () => {
    fc.assert(
      fc.property(columnsArb(fc.jsonValue()), fc.boolean(), (cols, asJson) => {
        const data = encodeKeyGroup(cols, asJson, jsonEntry);
        const expected = triples(cols).map(([ns, k, v]) => [ns, k, JSON.parse(JSON.stringify(v))]);
        if (expected.length === 0) expect(data).toBeUndefined();
        else expect(decodeAll(data as Uint8Array)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('fall back to entries for values JSON cannot hold (undefined), and keep them', () => {
    fc.assert(
      fc.property(columnsArb(fc.oneof(fc.constant(undefined), fc.integer()), fc.integer()), (cols) => {
        const data = encodeKeyGroup(cols, true, jsonEntry);
        if (cols.keys.length === 0) return;
        expect(decodeAll(data as Uint8Array)).toEqual(triples(cols));
      }),
    );
  });

  it('drop the entries the entry encoder rejects, keeping namespaces and order of the rest', () => {
    fc.assert(
      fc.property(columnsArb(fc.integer({ min: -5, max: 5 })), (cols) => {
        const keepPositive = (w: BinaryWriter, v: unknown): boolean => (v as number) > 0 && jsonEntry(w, v);
        const data = encodeKeyGroup(cols, false, keepPositive);
        const expected = triples(cols).filter(([, , v]) => (v as number) > 0);
        if (expected.length === 0) expect(data).toBeUndefined();
        else expect(decodeAll(data as Uint8Array)).toEqual(expected);
      }),
    );
  });

  it('refuse every truncation and trailing bytes', () => {
    fc.assert(
      fc.property(columnsArb(fc.jsonValue(), fc.oneof(fc.string(), fc.integer())), fc.boolean(), (cols, asJson) => {
        const data = encodeKeyGroup(cols, asJson, jsonEntry);
        if (data === undefined) return;
        for (let n = 0; n < data.length; n++) expect(() => decodeAll(data.subarray(0, n))).toThrow();
        const longer = new Uint8Array(data.length + 1);
        longer.set(data);
        expect(() => decodeAll(longer)).toThrow(/trailing/);
      }),
      { numRuns: 60 },
    );
  });

  it('leave out empty namespace runs', () => {
    const cols = { namespaces: [VOID_NAMESPACE, 'w1', 'w2'], runLengths: [0, 2, 0], keys: ['a', 'b'], values: [1, 2] };
    for (const asJson of [true, false]) {
      expect(decodeAll(encodeKeyGroup(cols, asJson, jsonEntry) as Uint8Array)).toEqual([
        ['w1', 'a', 1],
        ['w1', 'b', 2],
      ]);
    }
  });

  it('refuse an unknown format and counts that do not add up', () => {
    expect(() => decodeAll(Uint8Array.of(0x07, 0))).toThrow(/unsupported key-group format 0x7/);
    const data = encodeKeyGroup({ namespaces: [VOID_NAMESPACE], runLengths: [2], keys: [1, 2], values: ['a', 'b'] }, true, jsonEntry) as Uint8Array;
    const wrongCount = data.slice();
    wrongCount[1] = 3; // n = 3, runs add up to 2
    expect(() => decodeAll(wrongCount)).toThrow(/do not add up/);
    const huge = data.slice();
    huge[1] = 0x7f; // n larger than the blob
    expect(() => decodeAll(huge)).toThrow(/entry count/);
  });
});

describe('format 1 blobs (checkpoints written before format 2) stay readable', () => {
  /** A format-1 blob as the heap backend wrote it: (1 ns key bytes(entry))* 0, JSON leaves. */
  function format1(entries: Array<[Namespace, KeyType, unknown]>): Uint8Array {
    const w = new BinaryWriter();
    for (const [ns, key, v] of entries) {
      w.u8(1);
      w.key(ns);
      w.key(key);
      const slot = w.beginLength();
      w.json(v);
      w.endLength(slot);
    }
    w.u8(0);
    return w.finish();
  }

  const snapshotOf = (data: Uint8Array, name = 'v', kind = 'value') => ({
    backend: 'heap',
    maxParallelism: 128,
    states: [{ name, kind, keyGroups: [{ keyGroup: 0, data }] }],
  });

  const options = { operatorUid: 'op', subtaskIndex: 0, keyGroupRange: { start: 0, end: 127 }, maxParallelism: 128, clock: new ManualClock(0) };

  it('by readKeyGroup, entry by entry', () => {
    const entries: Array<[Namespace, KeyType, unknown]> = [
      ['', 'a', 1],
      ['', 7, { x: [1, 2] }],
      [3, true, 'w'],
    ];
    expect(decodeAll(format1(entries))).toEqual(entries);
  });

  it('by both backends, and the next snapshot is format 2 with the same contents', async () => {
    const data = format1([
      ['', 'a', 1],
      ['', 'b', 2],
    ]);
    const heap = new HeapStateBackend().createKeyedStateBackend(options) as KeyedStateBackend;
    const level = await new LevelStateBackend({ dir: DIR }).createKeyedStateBackend(options);
    for (const b of [heap, level]) {
      const v = b.getValueState(new ValueStateDescriptor<number>('v'));
      b.restore([snapshotOf(data)]);
      b.setCurrentKeyAndGroup('a', 0);
      expect(v.value()).toBe(1);
      b.setCurrentKeyAndGroup('b', 0);
      expect(v.value()).toBe(2);
    }
    // Written again in format 2 (each key in its own key group now).
    const again = heap.snapshot().states[0]?.keyGroups ?? [];
    expect(again.every((kg) => kg.data[0] === 0xc2)).toBe(true);
    expect(again.flatMap((kg) => decodeAll(kg.data)).sort((x, y) => String(x[1]).localeCompare(String(y[1])))).toEqual([
      ['', 'a', 1],
      ['', 'b', 2],
    ]);
    await level.dispose();
  });

  it('a corrupt blob is refused with the state and key group named', () => {
    const heap = new HeapStateBackend().createKeyedStateBackend(options) as KeyedStateBackend;
    heap.getValueState(new ValueStateDescriptor<number>('v'));
    const data = format1([['', 'a', 1]]);
    expect(() => heap.restore([snapshotOf(data.subarray(0, data.length - 1))])).toThrow(/restored state 'v' \(key group 0\) is malformed/);
  });

  it('plain JSON values cannot be restored into list state', async () => {
    const src = new HeapStateBackend().createKeyedStateBackend(options) as KeyedStateBackend;
    src.setCurrentKeyAndGroup('a', 0);
    src.getValueState(new ValueStateDescriptor<number>('x')).update(1);
    const blob = src.snapshot().states[0]?.keyGroups[0]?.data as Uint8Array;
    const level = await new LevelStateBackend({ dir: DIR }).createKeyedStateBackend(options);
    level.getListState(new ListStateDescriptor<number>('x'));
    expect(() => level.restore([snapshotOf(blob, 'x', 'list')])).toThrow(/holds plain values/);
    await level.dispose();
  });
});
