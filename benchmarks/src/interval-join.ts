/**
 * Interval-join benchmark: orders joined with the payments of the same order id that arrive
 * within 0..5 s of event time after the order (`KeyedStream.intervalJoin(...).between(0, 5000)`),
 * at parallelism 1 with 100k live keys. Each order has one payment; events advance by
 * `--per-ms` per millisecond of event time; watermarks bound out-of-orderness at 0 (in order).
 *
 * Usage: node dist/interval-join.js [--records N] [--keys N] [--reps N] [--quick]
 * Reports events (orders + payments) per wall-clock second and per CPU-second, median of reps.
 */
import { StreamEnvironment, WatermarkStrategy } from '@weir/core';
import { median, parseBenchArgs, positiveInt, runIfMain, timed } from './harness.js';

interface Order {
  readonly id: number;
  readonly ts: number;
}
interface Payment {
  readonly order: number;
  readonly ts: number;
  readonly amount: number;
}

async function run(records: number, keys: number): Promise<{ wall: number; cpu: number; joined: number }> {
  const env = StreamEnvironment.create({ parallelism: 1 });
  const half = Math.floor(records / 2);
  // 10 orders per ms of event time; the payment of order i comes 200 orders (20 ms) later.
  const orders = env
    .fromSequence(0, half - 1)
    .map((i): Order => ({ id: i % keys, ts: Math.floor(i / 10) }))
    .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Order>().withTimestampAssigner((o) => o.ts))
    .keyBy((o) => o.id);
  const payments = env
    .fromSequence(0, half - 1)
    .map((i): Payment => ({ order: i % keys, ts: Math.floor(i / 10) + 20, amount: i % 100 }))
    .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Payment>().withTimestampAssigner((p) => p.ts))
    .keyBy((p) => p.order);
  let joined = 0;
  orders
    .intervalJoin(payments)
    .between(0, 5_000)
    .process<number>({ processElement: (_o, p, _ctx, out) => out.collect(p.amount) })
    .sinkTo({ createWriter: () => ({ write: () => void joined++ }) });
  const t = await timed(() => env.execute('interval join'));
  return { wall: records / (t.wallMs / 1000), cpu: records / (t.cpuMs / 1000), joined };
}

/** Entry point (also used by run-all). */
export async function main(argv: string[]): Promise<void> {
  const values = parseBenchArgs(argv, { records: { type: 'string' }, keys: { type: 'string' }, reps: { type: 'string' }, quick: { type: 'boolean' } });
  const quick = values.quick === true;
  const records = positiveInt(values.records, undefined, quick ? 400_000 : 4_000_000, 'records');
  const keys = positiveInt(values.keys, undefined, 100_000, 'keys');
  const reps = positiveInt(values.reps, undefined, quick ? 1 : 3, 'reps');
  await run(Math.min(records, 200_000), keys); // warm-up
  const wall: number[] = [];
  const cpu: number[] = [];
  let joined = 0;
  for (let i = 0; i < reps; i++) {
    const r = await run(records, keys);
    wall.push(r.wall);
    cpu.push(r.cpu);
    joined = r.joined;
  }
  console.log(
    `interval join: ${records.toLocaleString('en-US')} events (orders + payments), ${keys.toLocaleString('en-US')} keys, between(0, 5000), parallelism 1, median of ${reps}`,
  );
  console.log(
    `  ${Math.round(median(wall)).toLocaleString('en-US')} events/s wall, ${Math.round(median(cpu)).toLocaleString('en-US')} events/CPU-s, ${joined.toLocaleString('en-US')} pairs`,
  );
}

runIfMain(import.meta.url, () => main(process.argv.slice(2)));
