import avro from 'avsc';

/** A parsed schema: the avsc type, its JSON text and a canonical text for de-duplication. @internal */
export interface ParsedSchema {
  readonly type: avro.Type;
  /** The schema as compact JSON text (as given, whitespace removed). */
  readonly text: string;
  /**
   * Keys sorted recursively and `{"type": "<primitive>"}` written as `"<primitive>"`: schemas
   * that differ only in key order, whitespace or that spelling share it. Not
   * Avro's Parsing Canonical Form, which drops defaults, aliases and docs: two schemas that
   * differ in a default must stay different versions, since defaults decide compatibility.
   * (avsc's `type.schema()` is no substitute either: it drops an enum's `default`.)
   */
  readonly canonical: string;
}

/** The JSON value of a schema given as an object or JSON text. @internal */
export function schemaJson(schema: object | string): unknown {
  if (typeof schema === 'string') {
    let v: unknown;
    try {
      v = JSON.parse(schema);
    } catch {
      // A bare primitive name such as `string` is a valid schema text too.
      return schema.trim();
    }
    // `null` (and other JSON literals) are type names here, not JSON values.
    return v !== null && (typeof v === 'object' || typeof v === 'string') ? v : schema.trim();
  }
  return schema;
}

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v);
    const type = (v as { type?: unknown }).type;
    // `{"type": "string"}` is the schema `"string"`.
    if (keys.length === 1 && typeof type === 'string' && PRIMITIVES.has(type)) return type;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/**
 * Parses and validates a schema (object or JSON text). Throws avsc's error for an invalid one.
 * @internal
 */
export function parseSchema(schema: object | string, opts?: Partial<avro.ForSchemaOptions>): ParsedSchema {
  const json = schemaJson(schema);
  const type = avro.Type.forSchema(json as avro.Schema, opts);
  return { type, text: JSON.stringify(json), canonical: JSON.stringify(sortKeys(json)) };
}

/** The canonical text of a schema (see {@link ParsedSchema.canonical}). @internal */
export function canonicalText(schema: object | string): string {
  return JSON.stringify(sortKeys(schemaJson(schema)));
}
