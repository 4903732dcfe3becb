/**
 * A total order on `number | string`: numbers first (numerically, `NaN` last among them), then
 * strings by UTF-16 code units. Used for deterministic tie-breaks.
 * @internal
 */
export function compareScalars(a: number | string, b: number | string): number {
  if (typeof a === 'number') {
    if (typeof b !== 'number') return -1;
    if (a < b) return -1;
    if (a > b) return 1;
    if (a === b) return 0;
    return Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : -1;
  }
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A last-resort total order on arbitrary plain values: by their JSON text. Only reached when
 * everything else (score, id, arrival number) ties, which needs two accumulators restored from
 * different checkpoints; values that compare equal here are JSON-identical, so the choice
 * between them cannot be seen after a checkpoint anyway.
 * @internal
 */
export function compareJson(a: unknown, b: unknown): number {
  const x = JSON.stringify(a) ?? '';
  const y = JSON.stringify(b) ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Encodes a number for JSON state: non-finite values become strings. @internal */
export function encodeNumber(x: number): number | string {
  return Number.isFinite(x) ? x : String(x);
}

/** Decodes {@link encodeNumber}. @internal */
export function decodeNumber(x: number | string): number {
  return typeof x === 'number' ? x : Number(x);
}
