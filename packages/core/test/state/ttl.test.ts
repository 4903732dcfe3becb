import {
  type AggregateFunction,
  AggregatingStateDescriptor,
  type Collector,
  HeapStateBackend,
  type KeyedProcessContext,
  type KeyedProcessFunction,
  type KeyedStateBackend,
  keyGroupRangeFor,
  ListStateDescriptor,
  ManualClock,
  MapStateDescriptor,
  ReducingStateDescriptor,
  type RuntimeContext,
  type StateTtlConfig,
  type ValueState,
  ValueStateDescriptor,
} from '@weir/core';
import { OperatorHarness } from '@weir/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

function backend(clock: ManualClock): KeyedStateBackend {
  return new HeapStateBackend().createKeyedStateBackend({
    operatorUid: 'ttl',
    subtaskIndex: 0,
    keyGroupRange: keyGroupRangeFor(0, 1, 128),
    maxParallelism: 128,
    clock,
  }) as KeyedStateBackend;
}

const onWrite: StateTtlConfig = { ttlMs: 100 };
const onRead: StateTtlConfig = { ttlMs: 100, updateType: 'OnReadAndWrite' };

describe('state TTL', () => {
  it('OnCreateAndWrite (default): reads do not extend the life of an entry', () => {
    const clock = new ManualClock(0);
    const b = backend(clock);
    const s = b.getValueState(new ValueStateDescriptor<string>('v').enableTimeToLive(onWrite));
    b.setCurrentKey('k');
    s.update('x');
    clock.setTime(50);
    expect(s.value()).toBe('x');
    clock.setTime(99);
    expect(s.value()).toBe('x');
    clock.setTime(100);
    expect(s.value()).toBeUndefined();
    expect(b.numEntries()).toBe(0); // removed lazily on the read that found it expired
    s.update('y'); // a write starts a new life
    clock.setTime(150);
    expect(s.value()).toBe('y');
    s.update('z');
    clock.setTime(249);
    expect(s.value()).toBe('z');
    clock.setTime(250);
    expect(s.value()).toBeUndefined();
  });

  it('OnReadAndWrite: every read extends the life of an entry', () => {
    const clock = new ManualClock(0);
    const b = backend(clock);
    const s = b.getValueState(new ValueStateDescriptor<string>('v').enableTimeToLive(onRead));
    b.setCurrentKey('k');
    s.update('x');
    clock.setTime(90);
    expect(s.value()).toBe('x');
    clock.setTime(180);
    expect(s.value()).toBe('x');
    clock.setTime(279);
    expect(s.value()).toBe('x');
    clock.setTime(379);
    expect(s.value()).toBeUndefined();
  });

  it('list elements expire one by one', () => {
    const clock = new ManualClock(0);
    const b = backend(clock);
    const s = b.getListState(new ListStateDescriptor<string>('l').enableTimeToLive(onWrite));
    b.setCurrentKey('k');
    s.add('a');
    clock.setTime(60);
    s.addAll(['b', 'c']);
    expect(s.get()).toEqual(['a', 'b', 'c']);
    clock.setTime(100);
    expect(s.get()).toEqual(['b', 'c']);
    s.add('d');
    clock.setTime(160);
    expect(s.get()).toEqual(['d']);
    clock.setTime(200);
    expect(s.get()).toEqual([]);
    expect(b.numEntries()).toBe(0);
  });

  it('map entries expire one by one; OnReadAndWrite refreshes the entries read', () => {
    const clock = new ManualClock(0);
    const b = backend(clock);
    const m = b.getMapState(new MapStateDescriptor<string, number>('m').enableTimeToLive(onRead));
    b.setCurrentKey('k');
    m.put('old', 1);
    m.put('read', 2);
    clock.setTime(50);
    m.put('new', 3);
    expect(m.get('read')).toBe(2); // refreshed to 50
    clock.setTime(100);
    expect(m.contains('old')).toBe(false);
    expect(m.entries()).toEqual([
      ['read', 2],
      ['new', 3],
    ]);
    clock.setTime(250);
    expect(m.isEmpty()).toBe(true);
    expect(b.numEntries()).toBe(0);
  });

  it('reducing and aggregating state expire as a whole and restart from scratch', () => {
    const clock = new ManualClock(0);
    const b = backend(clock);
    const sum: AggregateFunction<number, number, number> = {
      createAccumulator: () => 0,
      add: (v, acc) => acc + v,
      getResult: (acc) => acc,
      merge: (a, c) => a + c,
    };
    const r = b.getReducingState(new ReducingStateDescriptor<number>('r', (x, y) => x + y).enableTimeToLive(onWrite));
    const a = b.getAggregatingState(new AggregatingStateDescriptor('a', sum).enableTimeToLive(onWrite));
    b.setCurrentKey('k');
    r.add(1);
    a.add(1);
    clock.setTime(99);
    r.add(2); // a write: life restarts at 99
    a.add(2);
    expect([r.get(), a.get()]).toEqual([3, 3]);
    clock.setTime(198);
    expect([r.get(), a.get()]).toEqual([3, 3]);
    clock.setTime(199);
    expect([r.get(), a.get()]).toEqual([undefined, undefined]);
    r.add(5);
    a.add(5);
    expect([r.get(), a.get()]).toEqual([5, 5]);
  });

  it('a snapshot drops expired entries, so a restore never brings them back', () => {
    const clock = new ManualClock(0);
    const b = backend(clock);
    const d = (): ValueStateDescriptor<string> => new ValueStateDescriptor<string>('v').enableTimeToLive(onWrite);
    const l = (): ListStateDescriptor<string> => new ListStateDescriptor<string>('l').enableTimeToLive(onWrite);
    const s = b.getValueState(d());
    const ls = b.getListState(l());
    b.setCurrentKey('expired');
    s.update('gone');
    ls.add('gone');
    clock.setTime(60);
    b.setCurrentKey('live');
    s.update('kept');
    ls.add('kept');
    clock.setTime(120);
    expect(b.numEntries()).toBe(4); // expiry is lazy: nothing has read 'expired' yet
    const snap = b.snapshot();
    // restore into a backend whose clock is still at 0: only the snapshot can have dropped them
    const r = backend(new ManualClock(0));
    r.restore([snap]);
    const rs = r.getValueState(d());
    const rl = r.getListState(l());
    expect(r.numEntries()).toBe(2);
    r.setCurrentKey('expired');
    expect(rs.value()).toBeUndefined();
    expect(rl.get()).toEqual([]);
    r.setCurrentKey('live');
    expect(rs.value()).toBe('kept');
    expect(rl.get()).toEqual(['kept']);
  });

  it('restored entries keep their age', () => {
    const clock = new ManualClock(0);
    const b = backend(clock);
    const d = (): ValueStateDescriptor<string> => new ValueStateDescriptor<string>('v').enableTimeToLive(onWrite);
    b.getValueState(d());
    b.setCurrentKey('k');
    b.getValueState(d()).update('x');
    const restoredClock = new ManualClock(80);
    const r = backend(restoredClock);
    r.restore([b.snapshot()]);
    r.setCurrentKey('k');
    expect(r.getValueState(d()).value()).toBe('x');
    restoredClock.setTime(100);
    expect(r.getValueState(d()).value()).toBeUndefined();
  });

  it.each([
    ['OnCreateAndWrite', onWrite],
    ['OnReadAndWrite', onRead],
  ] as const)('%s: an expired value is never returned (property against a reference)', (_name, ttl) => {
    type Op = { kind: 'write'; key: string; v: number } | { kind: 'read'; key: string } | { kind: 'advance'; ms: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('write' as const), key: fc.constantFrom('a', 'b'), v: fc.nat(99) }),
      fc.record({ kind: fc.constant('read' as const), key: fc.constantFrom('a', 'b') }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 120 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const clock = new ManualClock(0);
        const b = backend(clock);
        const s = b.getValueState(new ValueStateDescriptor<number>('v').enableTimeToLive(ttl));
        const ref = new Map<string, { v: number; t: number }>();
        for (const o of ops) {
          if (o.kind === 'advance') {
            clock.advance(o.ms);
            continue;
          }
          b.setCurrentKey(o.key);
          const now = clock.now();
          if (o.kind === 'write') {
            s.update(o.v);
            ref.set(o.key, { v: o.v, t: now });
          } else {
            const e = ref.get(o.key);
            let want: number | undefined;
            if (e !== undefined && e.t + ttl.ttlMs > now) {
              want = e.v;
              if (ttl.updateType === 'OnReadAndWrite') e.t = now;
            } else ref.delete(o.key);
            expect(s.value()).toBe(want);
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it.each([
    ['OnCreateAndWrite', onWrite],
    ['OnReadAndWrite', onRead],
  ] as const)('%s: list state keeps exactly the live elements (property against a reference)', (_name, ttl) => {
    type Op = { kind: 'add'; key: string; vs: number[] } | { kind: 'get'; key: string } | { kind: 'advance'; ms: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), key: fc.constantFrom('a', 'b'), vs: fc.array(fc.nat(99), { minLength: 1, maxLength: 3 }) }),
      fc.record({ kind: fc.constant('get' as const), key: fc.constantFrom('a', 'b') }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 70 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const clock = new ManualClock(0);
        const b = backend(clock);
        const s = b.getListState(new ListStateDescriptor<number>('l').enableTimeToLive(ttl));
        const ref = new Map<string, Array<{ v: number; t: number }>>();
        for (const o of ops) {
          if (o.kind === 'advance') {
            clock.advance(o.ms);
            continue;
          }
          b.setCurrentKey(o.key);
          const now = clock.now();
          const live = (ref.get(o.key) ?? []).filter((e) => e.t + ttl.ttlMs > now);
          if (o.kind === 'add') {
            if (o.vs.length === 1) s.add(o.vs[0] as number);
            else s.addAll(o.vs);
            ref.set(o.key, [...live, ...o.vs.map((v) => ({ v, t: now }))]);
          } else {
            expect(s.get()).toEqual(live.map((e) => e.v));
            if (ttl.updateType === 'OnReadAndWrite') for (const e of live) e.t = now;
            ref.set(o.key, live);
          }
        }
        const entries = [...ref.values()].filter((l) => l.some((e) => e.t + ttl.ttlMs > clock.now())).length;
        // lazily expired lists may still be counted; live ones always are
        expect(b.numEntries()).toBeGreaterThanOrEqual(entries);
      }),
      { numRuns: 150 },
    );
  });

  it('keyed functions see TTL measured on the job clock (harness)', async () => {
    const clock = new ManualClock(1_000);
    class LastSeen implements KeyedProcessFunction<string, string, string> {
      private last!: ValueState<number>;
      open(ctx: RuntimeContext): void {
        this.last = ctx.getState(new ValueStateDescriptor<number>('last').enableTimeToLive({ ttlMs: 500 }));
      }
      processElement(v: string, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
        const prev = this.last.value();
        out.collect(`${v}:${prev === undefined ? 'new' : `seen@${prev}`}`);
        this.last.update(ctx.timerService().currentProcessingTime());
      }
    }
    const h = OperatorHarness.forKeyedProcessFunction(new LastSeen(), (v: string) => v, { clock });
    await h.open();
    h.processElement('a');
    h.setProcessingTime(1_499);
    h.processElement('a');
    h.setProcessingTime(1_999);
    h.processElement('a');
    expect(h.outputValues()).toEqual(['a:new', 'a:seen@1000', 'a:new']);
    expect(h.numKeyedStateEntries()).toBe(1);
  });
});
