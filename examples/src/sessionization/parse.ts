import { type Collector, OutputTag, type ProcessContext, type ProcessFunction } from '@weir/core';
import { type ClientEvent, KNOWN_EVENT_TYPES } from '../events.js';

/**
 * An input line that could not be turned into a {@link ClientEvent}, and why.
 * @public
 */
export interface DeadLetter {
  /** The line as read. */
  readonly line: string;
  /** Why it was rejected, e.g. `invalid JSON: …`, `missing field 'user_id'`. */
  readonly reason: string;
}

/**
 * The side output of {@link ParseClientEvents}: malformed lines with their reason.
 * @public
 */
export const DEAD_LETTERS: OutputTag<DeadLetter> = new OutputTag<DeadLetter>('dead-letters');

/**
 * The outcome of {@link parseClientEvent}.
 * @public
 */
export type ParseResult =
  | { readonly ok: true; readonly event: ClientEvent }
  | { readonly ok: false; readonly reason: string };

type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/** The first problem of field `path` (value `v`), or undefined when `ok`. */
function check(path: string, v: unknown, ok: boolean, expected: string): string | undefined {
  if (ok) return undefined;
  return v === undefined ? `missing field '${path}'` : `invalid field '${path}': expected ${expected}, got ${describe(v)}`;
}

const str = (o: Obj, path: string, name: string): string | undefined => check(`${path}${name}`, o[name], typeof o[name] === 'string', 'a string');
const nonEmpty = (o: Obj, path: string, name: string): string | undefined => {
  const v = o[name];
  return check(`${path}${name}`, v, typeof v === 'string' && v.length > 0, 'a non-empty string');
};
const num = (o: Obj, path: string, name: string): string | undefined =>
  check(`${path}${name}`, o[name], typeof o[name] === 'number' && Number.isFinite(o[name]), 'a finite number');
const obj = (o: Obj, path: string, name: string): string | undefined => check(`${path}${name}`, o[name], isObject(o[name]), 'an object');

function validate(e: Obj): string | undefined {
  const top =
    nonEmpty(e, '', 'event_id') ??
    nonEmpty(e, '', 'event_type') ??
    check('timestamp_ms', e.timestamp_ms, Number.isSafeInteger(e.timestamp_ms) && (e.timestamp_ms as number) >= 0, 'epoch milliseconds') ??
    nonEmpty(e, '', 'user_id') ??
    str(e, '', 'session_id') ??
    str(e, '', 'content_id') ??
    obj(e, '', 'device') ??
    obj(e, '', 'context');
  if (top !== undefined) return top;
  if (!KNOWN_EVENT_TYPES.has(e.event_type as string)) return `unknown event_type: ${describe(e.event_type)}`;
  const d = e.device as Obj;
  const c = e.context as Obj;
  const nested =
    nonEmpty(d, 'device.', 'type') ??
    str(d, 'device.', 'os') ??
    str(d, 'device.', 'app_version') ??
    str(c, 'context.', 'page') ??
    str(c, 'context.', 'row') ??
    num(c, 'context.', 'position') ??
    str(c, 'context.', 'algorithm') ??
    str(c, 'context.', 'experiment_id') ??
    str(c, 'context.', 'variant');
  if (nested !== undefined) return nested;
  const m = e.content_metadata;
  if (m === undefined) return undefined;
  if (!isObject(m)) return check('content_metadata', m, false, 'an object');
  return (
    check('content_metadata.genre', m.genre, Array.isArray(m.genre) && m.genre.every((g) => typeof g === 'string'), 'an array of strings') ??
    num(m, 'content_metadata.', 'duration_sec') ??
    num(m, 'content_metadata.', 'release_year')
  );
}

/**
 * Parses and validates one JSONL line as a {@link ClientEvent}: a JSON object whose fields have
 * the types DOMAIN.md gives them, with a known `event_type` and `timestamp_ms` in epoch
 * milliseconds. Unknown extra fields are kept (newer producers may add fields); a missing
 * optional `content_metadata` is fine.
 *
 * @param line - one line, without its newline
 * @returns the event, or the reason it is rejected (the first problem found)
 * @public
 */
export function parseClientEvent(line: string): ParseResult {
  if (line.trim().length === 0) return { ok: false, reason: 'empty line' };
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    return { ok: false, reason: `invalid JSON: ${(e as Error).message}` };
  }
  if (!isObject(v)) return { ok: false, reason: `not a JSON object: got ${describe(v)}` };
  const problem = validate(v);
  return problem === undefined ? { ok: true, event: v as unknown as ClientEvent } : { ok: false, reason: problem };
}

/**
 * Turns JSONL lines into {@link ClientEvent}s; every line that is not a valid event goes to the
 * {@link DEAD_LETTERS} side output with its reason (never silently dropped). Read the count and
 * the lines from `parsed.getSideOutput(DEAD_LETTERS)`.
 * @public
 */
export class ParseClientEvents implements ProcessFunction<string, ClientEvent> {
  /** Parses one line. */
  processElement(line: string, ctx: ProcessContext, out: Collector<ClientEvent>): void {
    const r = parseClientEvent(line);
    if (r.ok) out.collect(r.event);
    else ctx.output(DEAD_LETTERS, { line, reason: r.reason });
  }
}
