import type avro from 'avsc';
import type { AvroIncompatibility } from './AvroIncompatibility.js';
import { parseSchema } from './internal/schemaText.js';

/** What the checker needs of an avsc type (the typings do not expose these members). */
interface AnyType {
  readonly typeName: string;
  readonly name?: string;
  readonly aliases?: readonly string[];
  readonly fields?: ReadonlyArray<{
    readonly name: string;
    readonly aliases: readonly string[];
    readonly type: AnyType;
    defaultValue(): unknown;
  }>;
  readonly symbols?: readonly string[];
  readonly default?: unknown;
  readonly size?: number;
  readonly itemsType?: AnyType;
  readonly valuesType?: AnyType;
  readonly types?: readonly AnyType[];
  readonly underlyingType?: AnyType;
}

type Kind =
  | 'null'
  | 'boolean'
  | 'int'
  | 'long'
  | 'float'
  | 'double'
  | 'bytes'
  | 'string'
  | 'record'
  | 'enum'
  | 'fixed'
  | 'array'
  | 'map'
  | 'union';

/** Writer kinds each reader primitive accepts besides its own (Avro spec, "Schema Resolution"). */
const PROMOTIONS: Partial<Record<Kind, readonly Kind[]>> = {
  long: ['int'],
  float: ['int', 'long'],
  double: ['int', 'long', 'float'],
  string: ['bytes'],
  bytes: ['string'],
};

function unwrap(t: AnyType): AnyType {
  let u = t;
  while (u.typeName.startsWith('logical:') && u.underlyingType !== undefined) u = u.underlyingType;
  return u;
}

function kindOf(t: AnyType): Kind {
  const n = t.typeName;
  if (n.startsWith('union')) return 'union';
  if (n === 'error') return 'record';
  if (n === 'abstract:long') return 'long';
  return n as Kind;
}

function unqualify(name: string | undefined): string {
  if (name === undefined) return '';
  const i = name.lastIndexOf('.');
  return i < 0 ? name : name.slice(i + 1);
}

function describe(t: AnyType): string {
  const k = kindOf(t);
  if (k === 'record' || k === 'enum' || k === 'fixed') return `${k} '${t.name ?? ''}'`;
  if (k === 'array') return `array<${describe(unwrap(t.itemsType as AnyType))}>`;
  if (k === 'map') return `map<${describe(unwrap(t.valuesType as AnyType))}>`;
  if (k === 'union') return `union [${(t.types ?? []).map((b) => describe(unwrap(b))).join(', ')}]`;
  return `'${k}'`;
}

/** A type's name in a path: the unqualified name of a named type, else its kind. */
function label(t: AnyType): string {
  const u = unwrap(t);
  const k = kindOf(u);
  return k === 'record' || k === 'enum' || k === 'fixed' ? unqualify(u.name) : k;
}

class Checker {
  /** Named-type pairs being compared: recursive schemas assume compatibility on re-entry. */
  private readonly inProgress = new Set<string>();

  check(readerType: AnyType, writerType: AnyType, path: string): AvroIncompatibility[] {
    const r = unwrap(readerType);
    const w = unwrap(writerType);
    const rk = kindOf(r);
    const wk = kindOf(w);
    if (wk === 'union') {
      // Every branch the writer may have chosen must be readable.
      const out: AvroIncompatibility[] = [];
      for (const b of w.types ?? []) out.push(...this.check(r, b, `${path}<${label(b)}>`));
      return out;
    }
    if (rk === 'union') {
      for (const b of r.types ?? []) if (this.check(b, w, path).length === 0) return [];
      return [
        {
          kind: 'MISSING_UNION_BRANCH',
          path,
          message: `at ${path}: no branch of the reader's ${describe(r)} can read the writer's ${describe(w)}`,
        },
      ];
    }
    if (rk === wk) {
      switch (rk) {
        case 'record':
          return this.record(r, w, path);
        case 'enum':
          return this.enum(r, w, path);
        case 'fixed':
          return this.fixed(r, w, path);
        case 'array':
          return this.check(r.itemsType as AnyType, w.itemsType as AnyType, `${path}[]`);
        case 'map':
          return this.check(r.valuesType as AnyType, w.valuesType as AnyType, `${path}{}`);
        default:
          return [];
      }
    }
    if (PROMOTIONS[rk]?.includes(wk) === true) return [];
    return [
      {
        kind: 'TYPE_MISMATCH',
        path,
        message: `at ${path}: the writer's ${describe(w)} cannot be read as the reader's ${describe(r)}`,
      },
    ];
  }

  private nameMismatch(r: AnyType, w: AnyType, path: string): AvroIncompatibility[] {
    const rn = unqualify(r.name);
    const wn = unqualify(w.name);
    if (rn === wn || (r.aliases ?? []).some((a) => unqualify(a) === wn)) return [];
    return [
      {
        kind: 'NAME_MISMATCH',
        path,
        message: `at ${path}: the writer's ${kindOf(w)} '${wn}' does not match the reader's ${kindOf(r)} '${rn}' (names differ and no reader alias names '${wn}')`,
      },
    ];
  }

  private record(r: AnyType, w: AnyType, path: string): AvroIncompatibility[] {
    const names = this.nameMismatch(r, w, path);
    if (names.length > 0) return names;
    const key = `${r.name ?? ''}\u0000${w.name ?? ''}`;
    if (this.inProgress.has(key)) return [];
    this.inProgress.add(key);
    try {
      const out: AvroIncompatibility[] = [];
      const wFields = w.fields ?? [];
      for (const rf of r.fields ?? []) {
        const fieldPath = `${path}.${rf.name}`;
        let wf = wFields.find((f) => f.name === rf.name);
        if (wf === undefined) {
          for (const alias of rf.aliases) {
            wf = wFields.find((f) => f.name === alias);
            if (wf !== undefined) break;
          }
        }
        if (wf !== undefined) {
          out.push(...this.check(rf.type, wf.type, fieldPath));
        } else if (rf.defaultValue() === undefined) {
          out.push({
            kind: 'READER_FIELD_MISSING_DEFAULT_VALUE',
            path: fieldPath,
            message: `at ${fieldPath}: the reader's field '${rf.name}' has no default value and the writer's record '${unqualify(w.name)}' has no such field`,
          });
        }
      }
      return out;
    } finally {
      this.inProgress.delete(key);
    }
  }

  private enum(r: AnyType, w: AnyType, path: string): AvroIncompatibility[] {
    const names = this.nameMismatch(r, w, path);
    if (names.length > 0) return names;
    const rs = new Set(r.symbols ?? []);
    const missing = (w.symbols ?? []).filter((s) => !rs.has(s));
    if (missing.length === 0 || r.default !== undefined) return [];
    return [
      {
        kind: 'MISSING_ENUM_SYMBOLS',
        path,
        message: `at ${path}: the reader's enum '${unqualify(r.name)}' lacks the writer's symbols ${missing.map((s) => `'${s}'`).join(', ')} and has no default symbol`,
      },
    ];
  }

  private fixed(r: AnyType, w: AnyType, path: string): AvroIncompatibility[] {
    const names = this.nameMismatch(r, w, path);
    if (names.length > 0) return names;
    if (r.size === w.size) return [];
    return [
      {
        kind: 'FIXED_SIZE_MISMATCH',
        path,
        message: `at ${path}: the writer's fixed '${unqualify(w.name)}' has size ${w.size}, the reader's has size ${r.size}`,
      },
    ];
  }
}


/**
 * Checks whether data written with `writer` can be read with `reader`, by the schema-resolution
 * rules of the Avro specification:
 *
 * - records match by unqualified name (or a reader alias); their fields match by name or reader
 *   field alias; writer fields the reader lacks are skipped; a reader field the writer lacks
 *   needs a default;
 * - enums match by name; every writer symbol must be a reader symbol unless the reader enum has a
 *   `default`; fixed types match by name and size;
 * - arrays and maps match when their item / value types do;
 * - primitives match themselves and promote: int → long → float → double (int and long to
 *   float and double too), string ↔ bytes;
 * - a writer union needs every branch readable; a reader union needs one branch that reads the
 *   writer type;
 * - logical types are checked as their underlying types; recursive types terminate.
 *
 * Differences from avsc's `createResolver`, which this agrees with otherwise (the tests use it
 * as an oracle): avsc compares full names (namespace included) unless `ignoreNamespaces` is set,
 * while the specification, Java's checker and this function compare unqualified names; and avsc
 * refuses a reader field whose name and alias match two different writer fields, where this
 * prefers the field of the same name (as Java does).
 *
 * @param reader - the schema of the reading side (object, JSON text or an avsc type)
 * @param writer - the schema the data was written with
 * @returns the incompatibilities found; empty when the reader can read every writer datum
 * @public
 */
export function checkAvroCompatibility(reader: object | string | avro.Type, writer: object | string | avro.Type): AvroIncompatibility[] {
  const r = toType(reader);
  const w = toType(writer);
  return new Checker().check(r, w, label(r));
}

function toType(s: object | string | avro.Type): AnyType {
  if (typeof s === 'object' && s !== null && typeof (s as { typeName?: unknown }).typeName === 'string' && typeof (s as { createResolver?: unknown }).createResolver === 'function') {
    return s as unknown as AnyType;
  }
  return parseSchema(s as object | string).type as unknown as AnyType;
}
