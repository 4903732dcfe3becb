import {
  type AvroIncompatibility,
  type CompatibilityLevel,
  checkAvroCompatibility,
  checkSchemaEvolution,
  EmbeddedSchemaRegistry,
  IncompatibleSchemaError,
} from '@weir/connectors';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidSchema, mutate, mutationArb, oracleCompatible, recordSchemaArb } from './schemaGen.js';
import { tempDir } from './tmp.js';

const rec = (fields: object[], name = 'Ev', extra: object = {}) => ({ type: 'record', name, fields, ...extra });
const f = (name: string, type: unknown, extra: object = {}) => ({ name, type, ...extra });

function kinds(reader: unknown, writer: unknown): AvroIncompatibility['kind'][] {
  return checkAvroCompatibility(reader as object, writer as object).map((i) => i.kind);
}

describe('checkAvroCompatibility (reader reads writer)', () => {
  it('promotes int → long → float → double and string ↔ bytes, never the other way', () => {
    const order = ['int', 'long', 'float', 'double'];
    for (let w = 0; w < order.length; w++) {
      for (let r = 0; r < order.length; r++) {
        const res = kinds(rec([f('x', order[r])]), rec([f('x', order[w])]));
        expect(res, `${order[w]} read as ${order[r]}`).toEqual(r >= w ? [] : ['TYPE_MISMATCH']);
      }
    }
    expect(kinds('string', 'bytes')).toEqual([]);
    expect(kinds('bytes', 'string')).toEqual([]);
    expect(kinds('string', 'int')).toEqual(['TYPE_MISMATCH']);
    expect(kinds('boolean', 'null')).toEqual(['TYPE_MISMATCH']);
  });

  it('records: added field needs a default, removed fields are skipped, aliases match renamed fields', () => {
    const v1 = rec([f('id', 'string')]);
    const added = rec([f('id', 'string'), f('country', 'string')]);
    const addedWithDefault = rec([f('id', 'string'), f('country', 'string', { default: 'unknown' })]);
    expect(kinds(added, v1)).toEqual(['READER_FIELD_MISSING_DEFAULT_VALUE']);
    expect(checkAvroCompatibility(added, v1)[0]).toMatchObject({ path: 'Ev.country' });
    expect(checkAvroCompatibility(added, v1)[0]?.message).toContain("field 'country' has no default");
    expect(kinds(addedWithDefault, v1)).toEqual([]);
    expect(kinds(v1, added)).toEqual([]); // writer-only field skipped
    const renamed = rec([f('user', 'string', { aliases: ['id'] })]);
    expect(kinds(renamed, v1)).toEqual([]);
    expect(kinds(rec([f('user', 'string')]), v1)).toEqual(['READER_FIELD_MISSING_DEFAULT_VALUE']);
  });

  it('named types match by unqualified name or reader alias; fixed sizes must agree', () => {
    expect(kinds(rec([], 'a.Ev'), rec([], 'b.Ev'))).toEqual([]);
    expect(kinds(rec([], 'Other'), rec([], 'Ev'))).toEqual(['NAME_MISMATCH']);
    expect(kinds(rec([], 'Other', { aliases: ['old.Ev'] }), rec([], 'Ev'))).toEqual([]);
    const fixed = (size: number, name = 'H') => ({ type: 'fixed', name, size });
    expect(kinds(fixed(4), fixed(4))).toEqual([]);
    expect(kinds(fixed(4), fixed(8))).toEqual(['FIXED_SIZE_MISMATCH']);
    expect(kinds(fixed(4, 'G'), fixed(4))).toEqual(['NAME_MISMATCH']);
  });

  it('enums: writer symbols must be reader symbols unless the reader has a default', () => {
    const e = (symbols: string[], extra: object = {}) => ({ type: 'enum', name: 'Kind', symbols, ...extra });
    expect(kinds(e(['A', 'B', 'C']), e(['A', 'B']))).toEqual([]);
    expect(kinds(e(['A', 'B']), e(['A', 'B', 'C']))).toEqual(['MISSING_ENUM_SYMBOLS']);
    expect(checkAvroCompatibility(e(['A', 'B']), e(['A', 'B', 'C']))[0]?.message).toContain("'C'");
    expect(kinds(e(['A', 'B'], { default: 'A' }), e(['A', 'B', 'C']))).toEqual([]);
  });

  it('unions: every writer branch must be readable; a reader union needs one branch for the writer type', () => {
    expect(kinds(['null', 'string'], 'string')).toEqual([]);
    expect(kinds(['null', 'long'], 'int')).toEqual([]); // via promotion
    expect(kinds('string', ['null', 'string'])).toEqual(['TYPE_MISMATCH']);
    expect(checkAvroCompatibility('string', ['null', 'string'])[0]?.path).toBe('string<null>');
    expect(kinds(['null', 'string', 'int'], ['null', 'string'])).toEqual([]);
    expect(kinds(['null', 'string'], ['null', 'string', 'int'])).toEqual(['MISSING_UNION_BRANCH']);
    expect(kinds(['null', 'boolean'], 'int')).toEqual(['MISSING_UNION_BRANCH']);
  });

  it('arrays and maps by their item / value types; nested paths', () => {
    expect(kinds({ type: 'array', items: 'long' }, { type: 'array', items: 'int' })).toEqual([]);
    expect(kinds({ type: 'array', items: 'int' }, { type: 'array', items: 'long' })).toEqual(['TYPE_MISMATCH']);
    expect(kinds({ type: 'map', values: 'double' }, { type: 'map', values: 'float' })).toEqual([]);
    expect(kinds({ type: 'map', values: 'int' }, { type: 'array', items: 'int' })).toEqual(['TYPE_MISMATCH']);
    const nested = (t: string) => rec([f('device', rec([f('tags', { type: 'array', items: t })], 'Device'))]);
    expect(checkAvroCompatibility(nested('int'), nested('string'))[0]?.path).toBe('Ev.device.tags[]');
  });

  it('recursive schemas terminate; logical types compare as their underlying types', () => {
    const list = (valueType: string) => ({
      type: 'record',
      name: 'Node',
      fields: [f('value', valueType), f('next', ['null', 'Node'], { default: null })],
    });
    expect(kinds(list('long'), list('int'))).toEqual([]);
    expect(kinds(list('int'), list('long'))).toEqual(['TYPE_MISMATCH']);
    expect(kinds({ type: 'long', logicalType: 'timestamp-millis' }, 'int')).toEqual([]);
    expect(kinds('int', { type: 'long', logicalType: 'timestamp-millis' })).toEqual(['TYPE_MISMATCH']);
  });
});

describe('checkSchemaEvolution', () => {
  const v1 = rec([f('id', 'string'), f('n', 'int')]);
  const addNoDefault = rec([f('id', 'string'), f('n', 'int'), f('c', 'string')]);
  const addWithDefault = rec([f('id', 'string'), f('n', 'int'), f('c', 'string', { default: '' })]);
  const removeNoDefault = rec([f('id', 'string')]);
  const cases: Array<[string, object, Record<CompatibilityLevel, boolean>]> = [
    ['add a field without default', addNoDefault, { BACKWARD: false, BACKWARD_TRANSITIVE: false, FORWARD: true, FORWARD_TRANSITIVE: true, FULL: false, FULL_TRANSITIVE: false, NONE: true }],
    ['add a field with a default', addWithDefault, { BACKWARD: true, BACKWARD_TRANSITIVE: true, FORWARD: true, FORWARD_TRANSITIVE: true, FULL: true, FULL_TRANSITIVE: true, NONE: true }],
    ['remove a field without default', removeNoDefault, { BACKWARD: true, BACKWARD_TRANSITIVE: true, FORWARD: false, FORWARD_TRANSITIVE: false, FULL: false, FULL_TRANSITIVE: false, NONE: true }],
  ];
  for (const [name, next, expected] of cases) {
    it(`${name}: ${JSON.stringify(expected)}`, () => {
      for (const [level, ok] of Object.entries(expected)) {
        expect(checkSchemaEvolution(level as CompatibilityLevel, next, [{ version: 1, schema: v1 }]).compatible, level).toBe(ok);
      }
    });
  }

  it('transitive levels check every version, the plain ones only the latest', () => {
    // BACKWARD: v3 reads v2 (no 'a' there) but not v1 ('a' was an int).
    const b1 = rec([f('a', 'int')]);
    const b2 = rec([]);
    const b3 = rec([f('a', 'string', { default: '' })]);
    const bPrev = [{ version: 1, schema: b1 }, { version: 2, schema: b2 }];
    expect(checkSchemaEvolution('BACKWARD', b3, bPrev).compatible).toBe(true);
    const bt = checkSchemaEvolution('BACKWARD_TRANSITIVE', b3, bPrev);
    expect(bt.compatible).toBe(false);
    expect(bt.messages).toEqual([expect.stringMatching(/^BACKWARD: the new schema cannot read data written with version 1: at Ev\.a: /)]);
    expect(checkSchemaEvolution('FULL_TRANSITIVE', b3, bPrev).compatible).toBe(false);
    // FORWARD: v2 reads v3 (a has a default in v2), v1 does not (a has none).
    const f1 = rec([f('a', 'int')]);
    const f2 = rec([f('a', 'int', { default: 0 })]);
    const f3 = rec([]);
    const fPrev = [{ version: 1, schema: f1 }, { version: 2, schema: f2 }];
    expect(checkSchemaEvolution('FORWARD', f3, fPrev).compatible).toBe(true);
    const ft = checkSchemaEvolution('FORWARD_TRANSITIVE', f3, fPrev);
    expect(ft.compatible).toBe(false);
    expect(ft.messages[0]).toMatch(/^FORWARD: version 1 cannot read data written with the new schema: at Ev\.a: the reader's field 'a' has no default/);
    expect(checkSchemaEvolution('FULL', f3, fPrev).compatible).toBe(true);
    expect(checkSchemaEvolution('FULL_TRANSITIVE', f3, fPrev).compatible).toBe(false);
  });
});

/** The oracle's verdict for a level: pairwise brute force in the directions the level asks. */
function oracleLevel(level: CompatibilityLevel, candidate: object, previous: readonly object[]): boolean {
  if (level === 'NONE' || previous.length === 0) return true;
  const against = level.endsWith('_TRANSITIVE') ? previous : previous.slice(-1);
  const back = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const fwd = level.startsWith('FORWARD') || level.startsWith('FULL');
  return against.every((p) => (!back || oracleCompatible(candidate, p)) && (!fwd || oracleCompatible(p, candidate)));
}

const LEVELS: CompatibilityLevel[] = ['BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE', 'NONE'];

describe('property: the checker agrees with a brute-force oracle (avsc resolver + decoding random data)', () => {
  it('pairwise, on random schemas and random evolutions of them (both directions)', () => {
    let compatible = 0;
    let incompatible = 0;
    fc.assert(
      fc.property(recordSchemaArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (base, ms) => {
        let next = base;
        for (const m of ms) next = mutate(next, m);
        fc.pre(isValidSchema(base) && isValidSchema(next));
        for (const [r, w] of [
          [next, base],
          [base, next],
        ] as const) {
          const expected = oracleCompatible(r, w);
          const found = checkAvroCompatibility(r, w);
          if (expected) compatible++;
          else incompatible++;
          expect(found.length === 0, `reader ${JSON.stringify(r)}\nwriter ${JSON.stringify(w)}\nfound ${JSON.stringify(found)}`).toBe(expected);
        }
      }),
      { numRuns: 300 },
    );
    // Both verdicts must be well represented, or the property proves little.
    console.log(`pairwise verdicts: ${compatible} compatible, ${incompatible} incompatible`);
    expect(compatible).toBeGreaterThan(100);
    expect(incompatible).toBeGreaterThan(100);
  });

  it('per level, on random version chains', () => {
    fc.assert(
      fc.property(recordSchemaArb, fc.array(fc.array(mutationArb, { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 3 }), (base, steps) => {
        const versions = [base];
        for (const ms of steps) {
          let next = versions.at(-1) as object;
          for (const m of ms) next = mutate(next as never, m);
          versions.push(next as typeof base);
        }
        fc.pre(versions.every(isValidSchema));
        const candidate = versions.at(-1) as object;
        const previous = versions.slice(0, -1);
        for (const level of LEVELS) {
          const res = checkSchemaEvolution(level, candidate, previous.map((schema, i) => ({ version: i + 1, schema })));
          expect(res.compatible, `${level}: ${res.messages.join('; ')}`).toBe(oracleLevel(level, candidate, previous));
          expect(res.messages.length === 0).toBe(res.compatible);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('registration in the embedded registry accepts exactly what the oracle accepts, per level', async () => {
    const dir = await tempDir();
    let run = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...LEVELS),
        recordSchemaArb,
        fc.array(fc.array(mutationArb, { minLength: 1, maxLength: 2 }), { minLength: 2, maxLength: 4 }),
        async (level, base, steps) => {
          const registry = new EmbeddedSchemaRegistry(dir);
          const subject = `s${++run}`;
          await registry.setCompatibility(level, subject);
          const accepted: object[] = [base];
          await registry.register(subject, base);
          let current: object = base;
          for (const ms of steps) {
            for (const m of ms) current = mutate(current as never, m);
            if (!isValidSchema(current)) continue;
            const ok = oracleLevel(level, current, accepted);
            const already = accepted.some((a) => JSON.stringify(a) === JSON.stringify(current));
            if (ok || already) {
              await registry.register(subject, current);
              if (!already) accepted.push(current);
            } else {
              refused++;
              const err = await registry.register(subject, current).catch((e: unknown) => e);
              expect(err).toBeInstanceOf(IncompatibleSchemaError);
              expect((err as IncompatibleSchemaError).subject).toBe(subject);
              expect((err as IncompatibleSchemaError).level).toBe(level);
              expect((err as Error).message).toContain(`subject '${subject}'`);
              expect((err as Error).message).toContain(level);
              // The previous version stays the latest.
              current = accepted.at(-1) as object;
            }
          }
          expect(await registry.getVersions(subject)).toHaveLength(accepted.length);
        },
      ),
      { numRuns: 40 },
    );
    expect(refused).toBeGreaterThan(5);
  });
});
