import {
  Bool,
  type DataType,
  DateMillisecond,
  Field,
  Float32,
  Float64,
  Int32,
  Int64,
  Schema,
  TimestampMillisecond,
  Type,
  Utf8,
} from 'apache-arrow';
import type { ArrowColumnType } from '../ArrowColumnType.js';

function typeOf(t: ArrowColumnType, name: string): DataType {
  switch (t) {
    case 'bool':
      return new Bool();
    case 'int32':
      return new Int32();
    case 'int64':
      return new Int64();
    case 'float32':
      return new Float32();
    case 'float64':
      return new Float64();
    case 'utf8':
      return new Utf8();
    case 'timestamp-ms':
      return new TimestampMillisecond();
    case 'date-ms':
      return new DateMillisecond();
    default:
      throw new TypeError(`unknown Arrow column type '${String(t)}' for column '${name}'`);
  }
}

function infer(name: string, rows: readonly unknown[]): DataType {
  for (const r of rows) {
    const v = (r as Record<string, unknown>)[name];
    if (v === null || v === undefined) continue;
    if (typeof v === 'number') return new Float64();
    if (typeof v === 'bigint') return new Int64();
    if (typeof v === 'string') return new Utf8();
    if (typeof v === 'boolean') return new Bool();
    if (v instanceof Date) return new TimestampMillisecond();
    throw new TypeError(`cannot infer an Arrow type for field '${name}' (value ${String(v)}); give the FileSink 'columns' or an 'arrowSchema'`);
  }
  return new Utf8();
}

/**
 * The schema function of an Arrow file sink: the given schema, the schema of `columns`, or one
 * inferred from the first batch and then fixed (every later file uses it too).
 * @internal
 */
export function arrowSchemaFor(
  schema: Schema | undefined,
  columns: Readonly<Record<string, ArrowColumnType>> | undefined,
): (firstRows: readonly unknown[]) => Schema {
  if (schema !== undefined) {
    for (const f of schema.fields) {
      if (f.type.typeId === Type.Dictionary) {
        throw new TypeError(`Arrow field '${f.name}' is dictionary-encoded; the file sink writes plain columns (use Utf8)`);
      }
    }
    return () => schema;
  }
  if (columns !== undefined) {
    const s = new Schema(Object.entries(columns).map(([name, t]) => new Field(name, typeOf(t, name), true)));
    if (s.fields.length === 0) throw new TypeError('FileSink columns must name at least one column');
    return () => s;
  }
  let inferred: Schema | undefined;
  return (rows) => {
    if (inferred === undefined) {
      const names: string[] = [];
      const seen = new Set<string>();
      for (const r of rows) {
        for (const k of Object.keys(r as object)) {
          if (!seen.has(k)) {
            seen.add(k);
            names.push(k);
          }
        }
      }
      inferred = new Schema(names.map((n) => new Field(n, infer(n, rows), true)));
    }
    return inferred;
  };
}
