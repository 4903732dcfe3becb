/**
 * Random Avro schemas and schema evolutions for property tests, and a brute-force
 * compatibility oracle built on avsc.
 */
import avro from 'avsc';
import fc from 'fast-check';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const PRIMS = ['null', 'boolean', 'int', 'long', 'float', 'double', 'string', 'bytes'] as const;

/** A type tree with placeholder names (made unique by {@link uniquify}). */
export function typeArb(depth: number): fc.Arbitrary<Json> {
  const prim = fc.constantFrom<Json>(...PRIMS);
  const enumT = fc
    .record({ n: fc.integer({ min: 1, max: 4 }), withDefault: fc.boolean() })
    .map(({ n, withDefault }): Json => {
      const symbols = ['A', 'B', 'C', 'D'].slice(0, n);
      return withDefault ? { type: 'enum', name: '?', symbols, default: 'A' } : { type: 'enum', name: '?', symbols };
    });
  const fixedT = fc.constantFrom(2, 4).map((size): Json => ({ type: 'fixed', name: '?', size }));
  const union = fc.uniqueArray(fc.constantFrom<string>(...PRIMS), { minLength: 1, maxLength: 3 }).map((b): Json => b);
  if (depth <= 0) return fc.oneof({ weight: 6, arbitrary: prim }, { weight: 2, arbitrary: enumT }, { weight: 1, arbitrary: fixedT }, { weight: 2, arbitrary: union });
  const inner = typeArb(depth - 1);
  return fc.oneof(
    { weight: 6, arbitrary: prim },
    { weight: 2, arbitrary: enumT },
    { weight: 1, arbitrary: fixedT },
    { weight: 2, arbitrary: union },
    { weight: 1, arbitrary: typeArb(0).map((items): Json => ({ type: 'array', items })) },
    { weight: 1, arbitrary: typeArb(0).map((values): Json => ({ type: 'map', values })) },
    { weight: 2, arbitrary: recordArb(depth - 1, inner) },
  );
}

function recordArb(_depth: number, inner: fc.Arbitrary<Json>): fc.Arbitrary<Json> {
  return fc
    .array(fc.record({ type: inner, withDefault: fc.boolean() }), { minLength: 0, maxLength: 4 })
    .map((fs): Json => ({
      type: 'record',
      name: '?',
      fields: fs.map((f, i) => withDefault({ name: `f${i}`, type: f.type }, f.withDefault)),
    }));
}

/** A top-level record schema with placeholder names made unique. */
export const recordSchemaArb: fc.Arbitrary<Obj> = fc
  .array(fc.record({ type: typeArb(2), withDefault: fc.boolean() }), { minLength: 1, maxLength: 5 })
  .map((fs) => {
    const s: Obj = { type: 'record', name: 'Root', fields: fs.map((f, i) => withDefault({ name: `f${i}`, type: f.type }, f.withDefault)) };
    return uniquify(s, 'T') as Obj;
  });

/** Gives every placeholder-named type a unique name with `prefix`. */
export function uniquify(t: Json, prefix: string): Json {
  let n = 0;
  const walk = (x: Json): Json => {
    if (Array.isArray(x)) return x.map(walk);
    if (x === null || typeof x !== 'object') return x;
    const o: Obj = { ...x };
    if (o.name === '?') o.name = `${prefix}${++n}`;
    if (Array.isArray(o.fields)) o.fields = o.fields.map((f) => ({ ...(f as Obj), type: walk((f as Obj).type as Json) }));
    if (o.items !== undefined) o.items = walk(o.items);
    if (o.values !== undefined) o.values = walk(o.values);
    return o;
  };
  return walk(t);
}

/** A valid default value for a type (the first branch of a union). */
export function defaultFor(t: Json): Json {
  if (typeof t === 'string') {
    switch (t) {
      case 'null':
        return null;
      case 'boolean':
        return false;
      case 'int':
      case 'long':
        return 0;
      case 'float':
      case 'double':
        return 0.5;
      case 'string':
        return 'x';
      case 'bytes':
        return '\u00ff';
    }
    throw new Error(`no default for ${t}`);
  }
  if (Array.isArray(t)) return defaultFor(t[0] as Json);
  const o = t as Obj;
  switch (o.type) {
    case 'enum':
      return (o.symbols as string[])[0] as string;
    case 'fixed':
      return '\u0000'.repeat(o.size as number);
    case 'array':
      return [];
    case 'map':
      return {};
    case 'record': {
      const r: Obj = {};
      for (const f of o.fields as Obj[]) r[f.name as string] = defaultFor(f.type as Json);
      return r;
    }
  }
  throw new Error(`no default for ${JSON.stringify(t)}`);
}

function withDefault(f: Obj, yes: boolean): Obj {
  return yes ? { ...f, default: defaultFor(f.type as Json) } : f;
}

/** One change to a schema; `pick` chooses the record / field / type it applies to. */
export interface Mutation {
  readonly op:
    | 'addField'
    | 'addFieldWithDefault'
    | 'removeField'
    | 'changeType'
    | 'promote'
    | 'demote'
    | 'toggleDefault'
    | 'renameFieldWithAlias'
    | 'renameRecord'
    | 'renameRecordWithAlias'
    | 'changeNamespace'
    | 'enumAddSymbol'
    | 'enumRemoveSymbol'
    | 'enumToggleDefault'
    | 'unionAddBranch'
    | 'unionRemoveBranch'
    | 'wrapInUnion'
    | 'fixedResize';
  readonly pick: number;
  readonly type: Json;
}

export const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom<Mutation['op']>(
    'addField',
    'addFieldWithDefault',
    'removeField',
    'changeType',
    'promote',
    'demote',
    'toggleDefault',
    'renameFieldWithAlias',
    'renameRecord',
    'renameRecordWithAlias',
    'changeNamespace',
    'enumAddSymbol',
    'enumRemoveSymbol',
    'enumToggleDefault',
    'unionAddBranch',
    'unionRemoveBranch',
    'wrapInUnion',
    'fixedResize',
  ),
  pick: fc.nat(1000),
  type: typeArb(1),
});

const PROMOTE: Record<string, string> = { int: 'long', long: 'float', float: 'double', string: 'bytes', bytes: 'string' };
const DEMOTE: Record<string, string> = { long: 'int', float: 'long', double: 'float', string: 'bytes', bytes: 'string' };

/** Every node of a schema (records, fields' holders...) for mutations to pick from. */
function collect(t: Json, pred: (o: Obj) => boolean, out: Obj[] = []): Obj[] {
  if (Array.isArray(t)) {
    for (const b of t) collect(b, pred, out);
    return out;
  }
  if (t === null || typeof t !== 'object') return out;
  if (pred(t)) out.push(t);
  if (Array.isArray(t.fields)) for (const f of t.fields as Obj[]) collect(f.type as Json, pred, out);
  if (t.items !== undefined) collect(t.items, pred, out);
  if (t.values !== undefined) collect(t.values, pred, out);
  return out;
}

/** Fields of every record, with their record. */
function allFields(s: Json): Array<{ rec: Obj; field: Obj }> {
  const out: Array<{ rec: Obj; field: Obj }> = [];
  for (const rec of collect(s, (o) => o.type === 'record')) for (const field of rec.fields as Obj[]) out.push({ rec, field });
  return out;
}

function fixDefault(field: Obj): void {
  if (field.default !== undefined) field.default = defaultFor(field.type as Json);
}

let fresh = 0;

/** Applies a mutation to a deep copy of `schema` (a no-op when it does not apply). */
export function mutate(schema: Obj, m: Mutation): Obj {
  const s = structuredClone(schema) as Obj;
  const records = collect(s, (o) => o.type === 'record');
  const fields = allFields(s);
  const rec = records[m.pick % records.length] as Obj;
  const fe = fields.length === 0 ? undefined : fields[m.pick % fields.length];
  const newType = (): Json => uniquify(m.type, `N${++fresh}_`);
  switch (m.op) {
    case 'addField':
      (rec.fields as Obj[]).push({ name: `a${++fresh}`, type: newType() });
      break;
    case 'addFieldWithDefault': {
      const type = newType();
      (rec.fields as Obj[]).push({ name: `a${++fresh}`, type, default: defaultFor(type) });
      break;
    }
    case 'removeField':
      if (fe !== undefined) fe.rec.fields = (fe.rec.fields as Obj[]).filter((f) => f !== fe.field);
      break;
    case 'changeType':
      if (fe !== undefined) {
        fe.field.type = newType();
        fixDefault(fe.field);
      }
      break;
    case 'promote':
    case 'demote': {
      const map = m.op === 'promote' ? PROMOTE : DEMOTE;
      if (fe !== undefined && typeof fe.field.type === 'string' && map[fe.field.type] !== undefined) {
        fe.field.type = map[fe.field.type] as string;
        fixDefault(fe.field);
      }
      break;
    }
    case 'toggleDefault':
      if (fe !== undefined) {
        if (fe.field.default === undefined) fe.field.default = defaultFor(fe.field.type as Json);
        else delete fe.field.default;
      }
      break;
    case 'renameFieldWithAlias':
      if (fe !== undefined) {
        fe.field.aliases = [fe.field.name as string];
        fe.field.name = `r${++fresh}`;
      }
      break;
    case 'renameRecord':
    case 'renameRecordWithAlias': {
      const old = rec.name as string;
      rec.name = `Renamed${++fresh}`;
      if (m.op === 'renameRecordWithAlias') rec.aliases = [old];
      break;
    }
    case 'changeNamespace':
      rec.namespace = `ns${++fresh}`;
      break;
    case 'enumAddSymbol':
    case 'enumRemoveSymbol':
    case 'enumToggleDefault': {
      const enums = collect(s, (o) => o.type === 'enum');
      const e = enums[m.pick % Math.max(1, enums.length)];
      if (e === undefined) break;
      const symbols = e.symbols as string[];
      if (m.op === 'enumAddSymbol') symbols.push(`S${++fresh}`);
      else if (m.op === 'enumRemoveSymbol') {
        // Keep the first symbol: it is the field and enum default everywhere.
        if (symbols.length > 1) symbols.splice(1 + (m.pick % (symbols.length - 1)), 1);
      } else if (e.default === undefined) e.default = symbols[0] as string;
      else delete e.default;
      break;
    }
    case 'unionAddBranch':
    case 'unionRemoveBranch':
    case 'wrapInUnion': {
      if (fe === undefined) break;
      const t = fe.field.type as Json;
      if (m.op === 'wrapInUnion') {
        if (!Array.isArray(t)) fe.field.type = [t, ...(t === 'null' ? ['int'] : ['null'])];
      } else if (Array.isArray(t)) {
        if (m.op === 'unionAddBranch') {
          const missing = PRIMS.filter((p) => !t.includes(p));
          if (missing.length > 0) t.push(missing[m.pick % missing.length] as string);
        } else if (t.length > 1) {
          t.splice(m.pick % t.length, 1);
        }
      }
      fixDefault(fe.field);
      break;
    }
    case 'fixedResize': {
      const fixeds = collect(s, (o) => o.type === 'fixed');
      const f = fixeds[m.pick % Math.max(1, fixeds.length)];
      if (f === undefined) break;
      f.size = (f.size as number) === 2 ? 4 : 2;
      // Defaults of that fixed type anywhere are now the wrong size: recompute them all.
      for (const x of allFields(s)) fixDefault(x.field);
      break;
    }
  }
  return s;
}

/** Whether avsc accepts the schema. */
export function isValidSchema(s: unknown): boolean {
  try {
    avro.Type.forSchema(s as avro.Schema);
    return true;
  } catch {
    return false;
  }
}

/**
 * Brute-force oracle: avsc's resolver (names without namespaces, as the specification says)
 * must build, and writer data of every kind (random values, many of them, so every union branch
 * and enum symbol shows up) must decode through it into values valid for the reader.
 */
export function oracleCompatible(reader: unknown, writer: unknown, samples = 40): boolean {
  const r = avro.Type.forSchema(reader as avro.Schema);
  const w = avro.Type.forSchema(writer as avro.Schema);
  let resolver: avro.Resolver;
  try {
    resolver = r.createResolver(w, { ignoreNamespaces: true });
  } catch {
    return false;
  }
  for (let i = 0; i < samples; i++) {
    const value = w.random();
    const decoded = r.fromBuffer(w.toBuffer(value), resolver);
    if (!r.isValid(decoded)) throw new Error(`oracle: resolved value is not valid for the reader: ${JSON.stringify(decoded)}`);
  }
  return true;
}
