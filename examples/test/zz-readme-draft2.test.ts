import {
  AsyncDataStream,
  CollectSink,
  type Collector,
  type KeyedBroadcastProcessFunction,
  type KeyedBroadcastOnTimerContext,
  type KeyedBroadcastReadOnlyContext,
  type KeyedBroadcastContext,
  ListStateDescriptor,
  type ListState,
  MapStateDescriptor,
  OutputTag,
  type RuntimeContext,
  StreamEnvironment,
  WatermarkStrategy,
} from '@weir/core';
import {
  approxDistinctCount,
  approxQuantiles,
  avg,
  count,
  deduplicate,
  distinctCount,
  first,
  last,
  max,
  min,
  sum,
  temporalJoin,
  topN,
  TumblingEventTimeWindows,
} from '@weir/operators';
import { describe, expect, it } from 'vitest';

describe('draft2', () => {
  it('aggregates', async () => {
    interface Request {
      readonly route: string;
      readonly user: string;
      readonly ms: number;
      readonly ts: number;
    }
    const requests: Request[] = [
      { route: '/play', user: 'ann', ms: 120, ts: 1_000 },
      { route: '/play', user: 'bob', ms: 80, ts: 2_000 },
      { route: '/play', user: 'ann', ms: 400, ts: 3_000 },
      { route: '/play', user: 'cid', ms: 95, ts: 4_000 },
    ];
    const env = StreamEnvironment.create();
    const minute = env
      .fromCollection(requests)
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Request>().withTimestampAssigner((r) => r.ts))
      .keyBy('route')
      .window(TumblingEventTimeWindows.of(60_000));
    const stats = await minute
      .aggregate(count(), (route, _w, n) => `${route} count ${n}`)
      .union(
        minute.aggregate(sum((r) => r.ms), (route, _w, total) => `${route} sum ${total}`),
        minute.aggregate(avg((r) => r.ms), (route, _w, mean) => `${route} avg ${mean}`),
        minute.aggregate(min((r) => r.ms), (route, _w, v) => `${route} min ${v}`),
        minute.aggregate(max((r) => r.ms), (route, _w, v) => `${route} max ${v}`),
        minute.aggregate(first((r) => r.ts, (r) => r.user), (route, _w, u) => `${route} first ${u}`),
        minute.aggregate(last((r) => r.ts, (r) => r.user), (route, _w, u) => `${route} last ${u}`),
        minute.aggregate(topN(2, (r) => r.ms, (r) => r.user), (route, _w, top) => `${route} slowest ${top.map((r) => r.user)}`),
        minute.aggregate(distinctCount((r) => r.user), (route, _w, n) => `${route} users ${n}`),
        minute.aggregate(approxDistinctCount((r) => r.user), (route, _w, n) => `${route} ~users ${n}`),
        minute.aggregate(approxQuantiles((r) => r.ms), (route, _w, q) => `${route} p50 ${q.quantile(0.5)} p99 ${q.quantile(0.99)}`),
      )
      .executeAndCollect();
    console.log(stats);
  });

  it('interval join', async () => {
    interface Order {
      readonly id: string;
      readonly ts: number;
    }
    interface Payment {
      readonly order: string;
      readonly amount: number;
      readonly ts: number;
    }
    const env = StreamEnvironment.create();
    const orders = env
      .fromElements<Order>({ id: 'o1', ts: 1_000 }, { id: 'o2', ts: 2_000 })
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Order>().withTimestampAssigner((o) => o.ts));
    const payments = env
      .fromElements<Payment>({ order: 'o1', amount: 30, ts: 50_000 }, { order: 'o2', amount: 12, ts: 90_000 })
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Payment>().withTimestampAssigner((p) => p.ts));
    const paid = await orders
      .keyBy('id')
      .intervalJoin(payments.keyBy('order'))
      .between(0, 60_000) // a payment within a minute after its order
      .process<string>({
        processElement(order, payment, ctx, out) {
          out.collect(`${order.id}: ${payment.amount} after ${ctx.rightTimestamp() - ctx.leftTimestamp()} ms`);
        },
      })
      .executeAndCollect();
    expect(paid).toEqual(['o1: 30 after 49000 ms']);

    // window join and coGroup
    const env2 = StreamEnvironment.create();
    const o2 = env2
      .fromElements<Order>({ id: 'o1', ts: 1_000 }, { id: 'o2', ts: 2_000 })
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Order>().withTimestampAssigner((o) => o.ts));
    const p2 = env2
      .fromElements<Payment>({ order: 'o1', amount: 30, ts: 50_000 }, { order: 'o1', amount: 5, ts: 55_000 }, { order: 'o2', amount: 12, ts: 90_000 })
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Payment>().withTimestampAssigner((p) => p.ts));
    const joined = o2
      .join(p2)
      .where((o) => o.id)
      .equalTo((p) => p.order)
      .window(TumblingEventTimeWindows.of(60_000))
      .apply((o, p) => `${o.id}: ${p.amount}`);
    const cogrouped = o2
      .coGroup(p2)
      .where((o) => o.id)
      .equalTo((p) => p.order)
      .window(TumblingEventTimeWindows.of(60_000))
      .apply<string>((os, ps, out) => out.collect(`${os[0]?.id ?? ps[0]?.order}: ${os.length} orders, ${ps.length} payments`));
    const cg = new CollectSink<string>();
    cogrouped.sinkTo(cg);
    console.log(await joined.executeAndCollect(), cg.values);
  });

  it('temporal join', async () => {
    interface Order {
      readonly id: string;
      readonly currency: string;
      readonly amount: number;
      readonly ts: number;
    }
    interface Rate {
      readonly currency: string;
      readonly eur: number;
      readonly ts: number;
    }
    const env = StreamEnvironment.create();
    const orders = env
      .fromElements<Order>(
        { id: 'o1', currency: 'USD', amount: 10, ts: 500 },
        { id: 'o2', currency: 'USD', amount: 10, ts: 1_500 },
        { id: 'o3', currency: 'GBP', amount: 10, ts: 2_500 },
      )
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Order>().withTimestampAssigner((o) => o.ts));
    const rates = env
      .fromElements<Rate>({ currency: 'USD', eur: 0.9, ts: 0 }, { currency: 'USD', eur: 0.8, ts: 1_000 })
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Rate>().withTimestampAssigner((r) => r.ts));
    const priced = await temporalJoin(orders, rates, { probeKey: (o) => o.currency, tableKey: (r) => r.currency })
      .map((o, rate) => `${o.id}: ${rate === undefined ? 'no rate' : o.amount * rate.eur}`)
      .executeAndCollect();
    console.log(priced);
  });

  it('dedup', async () => {
    interface Event {
      readonly id: string;
      readonly ts: number;
    }
    const env = StreamEnvironment.create();
    const dupes = new OutputTag<Event>('duplicates');
    const events = env
      .fromElements<Event>({ id: 'e1', ts: 1_000 }, { id: 'e1', ts: 3_000 }, { id: 'e2', ts: 4_000 }, { id: 'e1', ts: 70_000 })
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Event>().withTimestampAssigner((e) => e.ts));
    const unique = deduplicate(events, { key: (e) => e.id, ttlMs: 60_000, time: 'event', duplicatesTag: dupes }).uid('dedup');
    const d = new CollectSink<Event>();
    unique.getSideOutput(dupes).sinkTo(d);
    console.log(await unique.executeAndCollect(), d.values);
  });

  it('broadcast', async () => {
    interface Reading {
      readonly sensor: string;
      readonly value: number;
      readonly ts: number;
    }
    interface Limit {
      readonly sensor: string;
      readonly max: number;
      readonly ts: number;
    }
    const limits = new MapStateDescriptor<string, number>('limits');

    class OverLimit implements KeyedBroadcastProcessFunction<string, Reading, Limit, string> {
      private pending!: ListState<Reading>;
      open(ctx: RuntimeContext): void {
        this.pending = ctx.getListState(new ListStateDescriptor<Reading>('pending'));
      }
      processBroadcastElement(limit: Limit, ctx: KeyedBroadcastContext<string>): void {
        ctx.getBroadcastState(limits).put(limit.sensor, limit.max);
      }
      processElement(r: Reading, ctx: KeyedBroadcastReadOnlyContext<string>): void {
        // Wait for the watermark (the minimum of both inputs): limits up to r.ts have arrived then.
        this.pending.add(r);
        ctx.timerService().registerEventTimeTimer(r.ts);
      }
      onTimer(ts: number, ctx: KeyedBroadcastOnTimerContext<string>, out: Collector<string>): void {
        const max = ctx.getBroadcastState(limits).get(ctx.getCurrentKey()) ?? Infinity;
        const rest: Reading[] = [];
        for (const r of this.pending.get()) {
          if (r.ts > ts) rest.push(r);
          else if (r.value > max) out.collect(`${r.sensor}@${r.ts}: ${r.value} > ${max}`);
        }
        this.pending.update(rest);
      }
    }

    const env = StreamEnvironment.create({ parallelism: 2 });
    const readings = env
      .fromElements<Reading>({ sensor: 's1', value: 7, ts: 1_000 }, { sensor: 's2', value: 7, ts: 1_000 }, { sensor: 's1', value: 12, ts: 2_000 })
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Reading>().withTimestampAssigner((r) => r.ts));
    const config = env
      .fromElements<Limit>({ sensor: 's1', max: 10, ts: 0 }, { sensor: 's2', max: 5, ts: 0 })
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Limit>().withTimestampAssigner((l) => l.ts));
    const alerts = await readings
      .keyBy('sensor')
      .connect(config.broadcast(limits))
      .process(new OverLimit())
      .uid('over-limit')
      .executeAndCollect();
    console.log(alerts);
  });

  it('async', async () => {
    const names = new Map([
      ['u1', 'Ann'],
      ['u2', 'Bob'],
    ]);
    let calls = 0;
    // A user service: answers after a while, fails every other first call
    const lookup = async (id: string): Promise<string> => {
      await new Promise((r) => setTimeout(r, names.size - id.length));
      if (calls++ % 2 === 0) throw new Error('503');
      return names.get(id) ?? '?';
    };
    const env = StreamEnvironment.create();
    const named = await AsyncDataStream.orderedWait(env.fromElements('u2', 'u1', 'u3'), (id) => lookup(id).then((n) => `${id}=${n}`), {
      timeoutMs: 1_000,
      capacity: 10,
      retry: { maxAttempts: 3, backoffMs: (n) => 100 * 2 ** (n - 1) },
    })
      .uid('names')
      .executeAndCollect();
    console.log(named);
  });
});
