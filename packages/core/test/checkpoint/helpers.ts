import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Collector, KeyedProcessContext, KeyedProcessFunction, RuntimeContext, ValueState } from '@weir/core';
import { ValueStateDescriptor } from '@weir/core';
import { afterEach } from 'vitest';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A fresh temporary directory, removed after the test. */
export async function tempDir(prefix: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** Sums per key; emits (key, sum) on every record. */
export class RunningSum implements KeyedProcessFunction<number, number, [number, number]> {
  private sum!: ValueState<number>;
  open(ctx: RuntimeContext): void {
    this.sum = ctx.getState(new ValueStateDescriptor<number>('sum'));
  }
  processElement(v: number, ctx: KeyedProcessContext<number>, out: Collector<[number, number]>): void {
    const s = (this.sum.value() ?? 0) + v;
    this.sum.update(s);
    out.collect([ctx.getCurrentKey(), s]);
  }
}

/** The final per-key sums of {@link RunningSum} over `1..n` keyed by `x % 10`. */
export function expectedSums(n: number): Map<number, number> {
  const m = new Map<number, number>();
  for (let i = 1; i <= n; i++) m.set(i % 10, (m.get(i % 10) ?? 0) + i);
  return m;
}
