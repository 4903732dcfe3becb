/**
 * Type tests for broadcast state and async I/O: connecting with a broadcast stream picks the
 * broadcast variant, broadcast state is read-only where it must be, and async results flow
 * with their types.
 */
import {
  AsyncDataStream,
  type AsyncFunction,
  type BroadcastConnectedStreams,
  type BroadcastState,
  type BroadcastStream,
  type DataStream,
  type KeyedBroadcastConnectedStreams,
  MapStateDescriptor,
  type ReadOnlyBroadcastState,
  StreamEnvironment,
  ValueStateDescriptor,
} from '@weir/core';
import { describe, expectTypeOf, test } from 'vitest';

interface Ev {
  readonly user: string;
  readonly amount: number;
}
interface Rule {
  readonly id: string;
  readonly above: number;
}

const env = StreamEnvironment.create();
const events = env.fromElements<Ev>({ user: 'a', amount: 1 });
const ruleStream = env.fromElements<Rule>({ id: 'r', above: 0 });
const rulesDesc = new MapStateDescriptor<string, Rule>('rules');

describe('broadcast state', () => {
  test('broadcast(desc) gives a BroadcastStream; broadcast() stays a DataStream', () => {
    expectTypeOf(ruleStream.broadcast(rulesDesc)).toEqualTypeOf<BroadcastStream<Rule>>();
    expectTypeOf(ruleStream.broadcast()).toEqualTypeOf<DataStream<Rule>>();
  });

  test('connect picks the broadcast variants', () => {
    const rules = ruleStream.broadcast(rulesDesc);
    expectTypeOf(events.connect(rules)).toEqualTypeOf<BroadcastConnectedStreams<Ev, Rule>>();
    expectTypeOf(events.keyBy((e) => e.user).connect(rules)).toEqualTypeOf<KeyedBroadcastConnectedStreams<string, Ev, Rule>>();
  });

  test('state is read-only in processElement and writable in processBroadcastElement', () => {
    const rules = ruleStream.broadcast(rulesDesc);
    const out = events.keyBy((e) => e.user).connect(rules).process<string>({
      processElement(e, ctx, col) {
        const s = ctx.getBroadcastState(rulesDesc);
        expectTypeOf(s).toEqualTypeOf<ReadOnlyBroadcastState<string, Rule>>();
        // @ts-expect-error no writes from the element side
        s.put('x', { id: 'x', above: 1 });
        expectTypeOf(ctx.getCurrentKey()).toEqualTypeOf<string>();
        col.collect(`${e.user}:${s.get('r')?.above}`);
      },
      processBroadcastElement(r, ctx) {
        const s = ctx.getBroadcastState(rulesDesc);
        expectTypeOf(s).toEqualTypeOf<BroadcastState<string, Rule>>();
        s.put(r.id, r);
        ctx.applyToKeyedState(new ValueStateDescriptor<number>('n'), (key, state) => {
          expectTypeOf(key).toEqualTypeOf<string>();
          expectTypeOf(state.value()).toEqualTypeOf<number | undefined>();
        });
        // @ts-expect-error a rule is not an event
        ctx.getBroadcastState(rulesDesc).put(r.id, { user: 'a', amount: 1 });
      },
    });
    expectTypeOf(out).toEqualTypeOf<DataStream<string>>();
  });

  test('the broadcast element type must match the function', () => {
    const rules = ruleStream.broadcast(rulesDesc);
    events.connect(rules).process<number>({
      processElement() {},
      // @ts-expect-error the broadcast input carries rules, not numbers
      processBroadcastElement(_r: number) {},
    });
  });
});

describe('async I/O', () => {
  test('a lookup gives one result per input, typed', () => {
    const out = AsyncDataStream.orderedWait(events, async (e) => ({ ...e, score: 1 }), { timeoutMs: 100 });
    expectTypeOf(out).toEqualTypeOf<DataStream<{ score: number; user: string; amount: number }>>();
  });

  test('an AsyncFunction resolves to a list of results', () => {
    const fn: AsyncFunction<Ev, string> = {
      asyncInvoke: async (e) => [e.user],
      timeout: (e) => [`${e.user}?`],
    };
    expectTypeOf(AsyncDataStream.unorderedWait(events, fn, { timeoutMs: 100, capacity: 10 })).toEqualTypeOf<DataStream<string>>();
    const bad: AsyncFunction<Ev, string> = {
      // @ts-expect-error one result is not a list of results
      asyncInvoke: async (e) => e.user,
    };
    void bad;
  });

  test('options are checked', () => {
    // @ts-expect-error timeoutMs is required
    AsyncDataStream.orderedWait(events, async (e) => e.user, { capacity: 3 });
  });
});
