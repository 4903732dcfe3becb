import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { distinctCount } from '@weir/operators';
import { aggregateContract } from './harness.js';

type Key = string | number | boolean | null | undefined;

/** Small domains (many repeats), keys that are special on plain objects, and nullish values. */
const keys: fc.Arbitrary<{ k: Key }[]> = fc.array(
  fc.record({
    k: fc.oneof(
      fc.string({ maxLength: 2 }),
      fc.integer({ min: -5, max: 5 }),
      fc.boolean(),
      fc.constantFrom<Key>('__proto__', 'constructor', 'toString', 'hasOwnProperty', '1', null, undefined, -0, Number.NaN),
    ),
  }),
  { maxLength: 60 },
);

describe('distinctCount', () => {
  aggregateContract({
    make: () => distinctCount((r: { k: Key }) => r.k),
    input: keys,
    reference: (xs) => new Set(xs.filter((r) => r.k !== null && r.k !== undefined).map((r) => String(r.k))).size,
  });

  it('counts values by their string form and skips nullish ones', () => {
    const f = distinctCount((x: Key) => x);
    let acc = f.createAccumulator();
    for (const x of [1, '1', '__proto__', '__proto__', null, undefined, true, 'true', 'constructor']) acc = f.add(x, acc);
    expect(f.getResult(acc)).toBe(4);
    expect(Object.getPrototypeOf(acc.keys)).toBe(Object.prototype);
  });
});
