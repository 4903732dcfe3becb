/**
 * Type tests for the fluent DataStream API: element types flow through every operation, and the
 * mistakes the design promises to catch at compile time do not compile.
 *
 * Every `// @ts-expect-error` line is a claim "this must not compile"; vitest's typecheck fails
 * if one of them compiles after all.
 */
import {
  type Collector,
  type ConnectedStreams,
  type DataStream,
  type DataStreamSink,
  type KeyedConnectedStreams,
  type KeyedProcessContext,
  type KeyedProcessFunction,
  type KeyedStream,
  type OnTimerContext,
  OutputTag,
  type ProcessContext,
  type RuntimeContext,
  StreamEnvironment,
  type ValueState,
  ValueStateDescriptor,
  WatermarkStrategy,
} from '@weir/core';
import { describe, expectTypeOf, test } from 'vitest';

interface Ev {
  readonly user: string;
  readonly shard: number;
  readonly ts: number;
  readonly device: { readonly os: string };
  readonly note?: string;
}

interface Click {
  readonly user: string;
  readonly url: string;
}

const env = StreamEnvironment.create();
declare const events: DataStream<Ev>;
declare const clicks: DataStream<Click>;

describe('element types flow through one-input operators', () => {
  test('sources', () => {
    expectTypeOf(env.fromCollection([1, 2, 3])).toEqualTypeOf<DataStream<number>>();
    expectTypeOf(env.fromElements('a', 'b')).toEqualTypeOf<DataStream<string>>();
    expectTypeOf(env.fromSequence(1, 10)).toEqualTypeOf<DataStream<number>>();
  });

  test('map changes the element type', () => {
    const users = events.map((e) => e.user);
    expectTypeOf(users).toEqualTypeOf<DataStream<string>>();
    expectTypeOf(events.map((e) => ({ u: e.user, n: 1 }))).toEqualTypeOf<DataStream<{ u: string; n: number }>>();
    // The mapping receives the element type.
    events.map((e) => {
      expectTypeOf(e).toEqualTypeOf<Ev>();
      return e;
    });
    // @ts-expect-error -- Ev has no field `nope`
    events.map((e) => e.nope);
    // @ts-expect-error -- an explicit output type the function does not produce
    events.map<number>((e) => e.user);
  });

  test('flatMap changes the element type through the collector', () => {
    const words = env.fromElements('a b', 'c').flatMap<string>((line, out) => {
      expectTypeOf(out).toEqualTypeOf<Collector<string>>();
      for (const w of line.split(' ')) out.collect(w);
    });
    expectTypeOf(words).toEqualTypeOf<DataStream<string>>();
    env.fromElements('a b').flatMap<number>((line, out) => {
      // @ts-expect-error -- the collector takes numbers only
      out.collect(line);
    });
  });

  test('filter keeps the element type and needs a predicate', () => {
    expectTypeOf(events.filter((e) => e.shard > 0)).toEqualTypeOf<DataStream<Ev>>();
    // @ts-expect-error -- the predicate must return a boolean
    events.filter((e) => e.user);
  });

  test('process changes the element type', () => {
    const out = events.process<string>({
      processElement(e, ctx, collector) {
        expectTypeOf(e).toEqualTypeOf<Ev>();
        expectTypeOf(ctx).toEqualTypeOf<ProcessContext>();
        expectTypeOf(ctx.timestamp()).toEqualTypeOf<number | null>();
        collector.collect(e.user);
        // @ts-expect-error -- declared output is string
        collector.collect(e.shard);
      },
    });
    expectTypeOf(out).toEqualTypeOf<DataStream<string>>();
  });

  test('a non-keyed process has no key and no timers callback', () => {
    events.process<string>({
      processElement(_e, ctx) {
        // @ts-expect-error -- no current key on a non-keyed stream
        ctx.getCurrentKey();
      },
    });
    events.process<string>({
      processElement() {},
      // @ts-expect-error -- onTimer needs a keyed stream
      onTimer() {},
    });
  });

  test('partitioning and naming keep the element type', () => {
    expectTypeOf(events.rebalance()).toEqualTypeOf<DataStream<Ev>>();
    expectTypeOf(events.broadcast()).toEqualTypeOf<DataStream<Ev>>();
    expectTypeOf(events.forward()).toEqualTypeOf<DataStream<Ev>>();
    expectTypeOf(events.name('x').uid('y').setParallelism(2)).toEqualTypeOf<DataStream<Ev>>();
    // `this`-typed setters keep the keyed type.
    const keyed: KeyedStream<string, Ev> = events.keyBy('user').name('k').uid('k');
    expectTypeOf(keyed.reduce((a) => a)).toEqualTypeOf<DataStream<Ev>>();
  });

  test('executeAndCollect resolves with an array of the element type', () => {
    expectTypeOf(events.executeAndCollect()).toEqualTypeOf<Promise<Ev[]>>();
    expectTypeOf(events.map((e) => e.ts).executeAndCollect()).toEqualTypeOf<Promise<number[]>>();
    // @ts-expect-error -- the result is Ev[], not string[]
    const wrong: Promise<string[]> = events.executeAndCollect();
    void wrong;
  });

  test('sinks are typed', () => {
    expectTypeOf(events.print()).toEqualTypeOf<DataStreamSink<Ev>>();
    events.sinkTo({ createWriter: () => ({ write: (v: Ev) => void v }) });
    // @ts-expect-error -- a sink of numbers cannot take Ev
    events.sinkTo({ createWriter: () => ({ write: (v: number) => void v }) });
  });
});

describe('keyBy', () => {
  test('infers the key type from a selector', () => {
    expectTypeOf(events.keyBy((e) => e.user)).toEqualTypeOf<KeyedStream<string, Ev>>();
    expectTypeOf(events.keyBy((e) => e.shard)).toEqualTypeOf<KeyedStream<number, Ev>>();
    expectTypeOf(events.keyBy((e) => `${e.user}|${e.shard}`)).toEqualTypeOf<KeyedStream<string, Ev>>();
    // (expectTypeOf's deep equality trips over `this` types when K is the union `boolean`.)
    const byFlag = env.fromSequence(1, 9).keyBy((n) => n % 3 === 0);
    expectTypeOf(byFlag).toExtend<KeyedStream<boolean, number>>();
    expectTypeOf(byFlag.keySelector).toEqualTypeOf<(value: number) => boolean>();
    expectTypeOf(env.fromSequence(1, 9).keyBy((n) => BigInt(n))).toEqualTypeOf<KeyedStream<bigint, number>>();
  });

  test('widens literal keys to their primitive type', () => {
    const byParity = events.keyBy((e) => (e.shard % 2 === 0 ? 'even' : 'odd'));
    expectTypeOf(byParity).toEqualTypeOf<KeyedStream<string, Ev>>();
    const tagged = env.fromElements<{ kind: 'a' | 'b'; n: 1 | 2 }>({ kind: 'a', n: 1 });
    expectTypeOf(tagged.keyBy('kind')).toEqualTypeOf<KeyedStream<string, { kind: 'a' | 'b'; n: 1 | 2 }>>();
    expectTypeOf(tagged.keyBy('n')).toEqualTypeOf<KeyedStream<number, { kind: 'a' | 'b'; n: 1 | 2 }>>();
    // So a composite-key stream connects with a plainly string-keyed one.
    expectTypeOf(events.keyBy((e) => `${e.user}|${e.shard}`).connect(clicks.keyBy('url'))).toEqualTypeOf<
      KeyedConnectedStreams<string, Ev, Click>
    >();
  });

  test('infers the key type from a field name', () => {
    expectTypeOf(events.keyBy('user')).toEqualTypeOf<KeyedStream<string, Ev>>();
    expectTypeOf(events.keyBy('shard')).toEqualTypeOf<KeyedStream<number, Ev>>();
  });

  test('a wrong field name does not compile', () => {
    // @ts-expect-error -- Ev has no field `nope`
    events.keyBy('nope');
  });

  test('a field that cannot be a key does not compile', () => {
    // @ts-expect-error -- an object is not a key
    events.keyBy('device');
    // @ts-expect-error -- an optional field may be undefined, which is not a key
    events.keyBy('note');
  });

  test('a selector returning a non-key type does not compile', () => {
    // @ts-expect-error -- an object is not a key
    events.keyBy((e) => e.device);
    // @ts-expect-error -- a composite key must be built as a string, not an array
    events.keyBy((e) => [e.user, e.shard]);
    // @ts-expect-error -- undefined is not a key
    events.keyBy((e) => e.note);
    // @ts-expect-error -- Ev has no field `nope`
    events.keyBy((e) => e.nope);
  });
});

describe('KeyedStream', () => {
  const byUser = events.keyBy((e) => e.user);
  const byShard = events.keyBy('shard');

  test('process gives the context the key type', () => {
    const out = byUser.process<[string, number]>({
      processElement(e, ctx, collector) {
        expectTypeOf(e).toEqualTypeOf<Ev>();
        expectTypeOf(ctx).toEqualTypeOf<KeyedProcessContext<string>>();
        expectTypeOf(ctx.getCurrentKey()).toEqualTypeOf<string>();
        collector.collect([ctx.getCurrentKey(), e.ts]);
        // @ts-expect-error -- the key is a string, the tuple wants a number second
        collector.collect([ctx.getCurrentKey(), ctx.getCurrentKey()]);
      },
      onTimer(ts, ctx, collector) {
        expectTypeOf(ts).toEqualTypeOf<number>();
        expectTypeOf(ctx).toEqualTypeOf<OnTimerContext<string>>();
        expectTypeOf(ctx.getCurrentKey()).toEqualTypeOf<string>();
        collector.collect([ctx.getCurrentKey(), ts]);
      },
    });
    expectTypeOf(out).toEqualTypeOf<DataStream<[string, number]>>();

    byShard.process({
      processElement(_e, ctx) {
        expectTypeOf(ctx.getCurrentKey()).toEqualTypeOf<number>();
      },
    });
  });

  test('a KeyedProcessFunction class fixes the output type', () => {
    class Count implements KeyedProcessFunction<string, Ev, number> {
      private count!: ValueState<number>;
      open(ctx: RuntimeContext): void {
        this.count = ctx.getState(new ValueStateDescriptor<number>('count'));
      }
      processElement(_e: Ev, _ctx: KeyedProcessContext<string>, out: Collector<number>): void {
        const n = (this.count.value() ?? 0) + 1;
        this.count.update(n);
        out.collect(n);
      }
    }
    expectTypeOf(byUser.process(new Count())).toEqualTypeOf<DataStream<number>>();
    // @ts-expect-error -- the function is for string keys; this stream is keyed by number
    byShard.process(new Count());
    // @ts-expect-error -- the function is for Ev; this stream carries Click
    clicks.keyBy('user').process(new Count());
  });

  test('a function for a more specific input type does not compile', () => {
    interface EvWithScore extends Ev {
      readonly score: number;
    }
    class Scores implements KeyedProcessFunction<string, EvWithScore, number> {
      processElement(e: EvWithScore, _ctx: KeyedProcessContext<string>, out: Collector<number>): void {
        out.collect(e.score);
      }
    }
    // @ts-expect-error -- Ev records have no `score`: the function would read undefined
    byUser.process(new Scores());
    const typed: KeyedProcessFunction<string, EvWithScore, number> = new Scores();
    // @ts-expect-error -- the same through the interface type
    byUser.process(typed);
  });

  test('a function whose collector type differs from its declared output does not compile', () => {
    class EmitsNumbers {
      processElement(e: Ev, _ctx: KeyedProcessContext<string>, out: Collector<number>): void {
        out.collect(e.ts);
      }
    }
    // @ts-expect-error -- the function emits numbers, the stream is declared as strings
    byUser.process<string>(new EmitsNumbers());
  });

  test('reduce keeps the element type and rejects a reducer of the wrong type', () => {
    expectTypeOf(byUser.reduce((a, b) => (a.ts >= b.ts ? a : b))).toEqualTypeOf<DataStream<Ev>>();
    const counts = env.fromElements<[string, number]>(['a', 1]).keyBy((t) => t[0]);
    expectTypeOf(counts.reduce((a, b) => [a[0], a[1] + b[1]])).toEqualTypeOf<DataStream<[string, number]>>();
    // @ts-expect-error -- the reducer is for numbers; the stream carries Ev
    byUser.reduce((a: number, b: number) => a + b);
    // @ts-expect-error -- the reducer must return an Ev, not a number
    byUser.reduce((a, b) => a.ts + b.ts);
    const sum = (a: number, b: number): number => a + b;
    // @ts-expect-error -- same with a named function
    byUser.reduce(sum);
  });

  test('a KeyedStream is a DataStream of its element type', () => {
    expectTypeOf(byUser).toExtend<DataStream<Ev>>();
    expectTypeOf(byUser.map((e) => e.ts)).toEqualTypeOf<DataStream<number>>();
    expectTypeOf(byUser.keySelector).toEqualTypeOf<(value: Ev) => string>();
  });
});

describe('side outputs', () => {
  const errors = new OutputTag<string>('errors');
  const lateTag = new OutputTag<Ev>('late');

  test('getSideOutput yields a stream of the tag type', () => {
    const main = events.process<number>({
      processElement(e, ctx, out) {
        if (e.ts < 0) ctx.output(errors, `negative ts for ${e.user}`);
        else if (e.shard < 0) ctx.output(lateTag, e);
        else out.collect(e.ts);
      },
    });
    expectTypeOf(main.getSideOutput(errors)).toEqualTypeOf<DataStream<string>>();
    expectTypeOf(main.getSideOutput(lateTag)).toEqualTypeOf<DataStream<Ev>>();
    const errorStream: DataStream<string> = main.getSideOutput(errors);
    void errorStream;
    // @ts-expect-error -- the tag carries strings, not numbers
    const wrong: DataStream<number> = main.getSideOutput(errors);
    void wrong;
    // @ts-expect-error -- the tag carries Ev, not Click
    const wrongEv: DataStream<Click> = main.getSideOutput(lateTag);
    void wrongEv;
  });

  test('ctx.output rejects a value of the wrong type', () => {
    events.process<number>({
      processElement(e, ctx) {
        ctx.output(errors, 'ok');
        // @ts-expect-error -- the tag carries strings
        ctx.output(errors, e.ts);
        // @ts-expect-error -- the tag carries Ev
        ctx.output(lateTag, e.user);
      },
    });
    events.keyBy('user').process<number>({
      processElement(e, ctx) {
        // @ts-expect-error -- same on a keyed context
        ctx.output(errors, e);
      },
      onTimer(_ts, ctx) {
        // @ts-expect-error -- same in onTimer
        ctx.output(lateTag, 1);
      },
    });
  });

  test('OutputTag is invariant', () => {
    // @ts-expect-error -- a tag of strings is not a tag of string | number (writing a number would be accepted)
    const wider: OutputTag<string | number> = new OutputTag<string>('x');
    void wider;
    // @ts-expect-error -- nor of a narrower type
    const narrower: OutputTag<'a'> = new OutputTag<string>('x');
    void narrower;
  });
});

describe('keyed state', () => {
  test('descriptors type their state', () => {
    events.keyBy('user').process<number>({
      open(ctx) {
        const count = ctx.getState(new ValueStateDescriptor<number>('count'));
        expectTypeOf(count).toEqualTypeOf<ValueState<number>>();
        expectTypeOf(count.value()).toEqualTypeOf<number | undefined>();
        count.update(1);
        // @ts-expect-error -- the state holds numbers
        count.update('1');
        // @ts-expect-error -- undefined is not a number; use clear()
        count.update(undefined);
      },
      processElement() {},
    });
  });

  test('ValueState<T>.update rejects another type', () => {
    const s = {} as ValueState<{ n: number }>;
    s.update({ n: 1 });
    // @ts-expect-error -- wrong field type
    s.update({ n: '1' });
    // @ts-expect-error -- missing field
    s.update({});
  });
});

describe('two-input streams', () => {
  test('connect gives each CoProcessFunction method its own input type', () => {
    const connected = events.connect(clicks);
    expectTypeOf(connected).toEqualTypeOf<ConnectedStreams<Ev, Click>>();
    const out = connected.process<string>({
      processElement1(e, ctx, collector) {
        expectTypeOf(e).toEqualTypeOf<Ev>();
        expectTypeOf(ctx).toEqualTypeOf<ProcessContext>();
        collector.collect(e.user);
      },
      processElement2(c, _ctx, collector) {
        expectTypeOf(c).toEqualTypeOf<Click>();
        collector.collect(c.url);
        // @ts-expect-error -- Click has no `ts`
        collector.collect(String(c.ts));
      },
    });
    expectTypeOf(out).toEqualTypeOf<DataStream<string>>();
    connected.process<string>({
      // @ts-expect-error -- the first input carries Ev, not Click
      processElement1(c: Click) {
        void c;
      },
      processElement2() {},
    });
  });

  test('connecting keyed streams shares the key type', () => {
    const keyed = events.keyBy('user').connect(clicks.keyBy('user'));
    expectTypeOf(keyed).toEqualTypeOf<KeyedConnectedStreams<string, Ev, Click>>();
    const viaKeyBy = events.connect(clicks).keyBy(
      (e) => e.user,
      (c) => c.user,
    );
    expectTypeOf(viaKeyBy).toEqualTypeOf<KeyedConnectedStreams<string, Ev, Click>>();
    const joined = keyed.process<[Ev, Click]>({
      processElement1(e, ctx) {
        expectTypeOf(e).toEqualTypeOf<Ev>();
        expectTypeOf(ctx.getCurrentKey()).toEqualTypeOf<string>();
      },
      processElement2(c, ctx) {
        expectTypeOf(c).toEqualTypeOf<Click>();
        expectTypeOf(ctx.getCurrentKey()).toEqualTypeOf<string>();
      },
      onTimer(_ts, ctx) {
        expectTypeOf(ctx.getCurrentKey()).toEqualTypeOf<string>();
      },
    });
    expectTypeOf(joined).toEqualTypeOf<DataStream<[Ev, Click]>>();
  });

  test('keys of different types do not connect', () => {
    events.connect(clicks).keyBy(
      (e) => e.shard,
      // @ts-expect-error -- the first key is a number
      (c) => c.user,
    );
    // @ts-expect-error -- keyed by number vs keyed by string
    events.keyBy('shard').connect(clicks.keyBy('user'));
  });

  test('union needs streams of the same type', () => {
    const a = env.fromElements(1, 2);
    const b = env.fromElements(3);
    expectTypeOf(a.union(b)).toEqualTypeOf<DataStream<number>>();
    expectTypeOf(a.union(b, a, b)).toEqualTypeOf<DataStream<number>>();
    expectTypeOf(events.union(events.filter((e) => e.ts > 0))).toEqualTypeOf<DataStream<Ev>>();
    // @ts-expect-error -- number and string streams do not union
    a.union(env.fromElements('x'));
    // @ts-expect-error -- nor Ev and Click
    events.union(clicks);
    // @ts-expect-error -- one wrong stream among several
    a.union(b, env.fromElements('x'));
  });
});

describe('event time', () => {
  test('the timestamp assigner sees the event type', () => {
    const strategy = WatermarkStrategy.forBoundedOutOfOrderness<Ev>(5_000).withTimestampAssigner((e, recordTs) => {
      expectTypeOf(e).toEqualTypeOf<Ev>();
      expectTypeOf(recordTs).toEqualTypeOf<number | null>();
      return e.ts;
    });
    expectTypeOf(strategy).toEqualTypeOf<WatermarkStrategy<Ev>>();
    expectTypeOf(events.assignTimestampsAndWatermarks(strategy)).toEqualTypeOf<DataStream<Ev>>();
    expectTypeOf(strategy.withIdleness(1_000)).toEqualTypeOf<WatermarkStrategy<Ev>>();
  });

  test('a wrong field in the timestamp assigner does not compile', () => {
    // @ts-expect-error -- Ev has no `wrongField`
    WatermarkStrategy.forBoundedOutOfOrderness<Ev>(5_000).withTimestampAssigner((e) => e.wrongField);
    // @ts-expect-error -- the timestamp must be a number
    WatermarkStrategy.forBoundedOutOfOrderness<Ev>(5_000).withTimestampAssigner((e) => e.user);
  });

  test('a strategy for another type does not apply', () => {
    // @ts-expect-error -- a strategy for Click cannot read Ev timestamps
    events.assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Click>());
    const forEv = WatermarkStrategy.forBoundedOutOfOrderness<Ev>(0).withTimestampAssigner((e) => e.ts);
    // @ts-expect-error -- and one for Ev does not apply to numbers
    env.fromSequence(1, 3).assignTimestampsAndWatermarks(forEv);
  });
});
