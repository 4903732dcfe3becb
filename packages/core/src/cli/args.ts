/**
 * A small command-line parser (no dependency) for `weir` and for job options.
 *
 * - `--name value` and `--name=value`; names are kebab-case on the command line
 *   (`--checkpoint-dir`) and camelCase in the spec (`checkpointDir`); both spellings are accepted.
 * - Booleans: `--flag`, `--flag=true|false`, `--no-flag`. They never take the next argument.
 * - Numbers accept `_` separators and exponents (`1_000_000`, `1e6`); durations take a unit
 *   (`500ms`, `5s`, `2m`, `1h`; a bare number is milliseconds).
 * - `--` ends the options: everything after it is positional.
 * - An unknown option or a missing or malformed value is a {@link UsageError} naming it (with a
 *   suggestion when the name is close to a known one).
 */

/**
 * The type of an option's value.
 * @internal
 */
export type ArgType = 'string' | 'number' | 'integer' | 'boolean' | 'duration';

/**
 * The value of a parsed option.
 * @internal
 */
export type ArgValue = string | number | boolean;

/**
 * One option of a command.
 * @internal
 */
export interface ArgSpec {
  /** How the value is parsed. */
  readonly type: ArgType;
  /** One line for `--help`. */
  readonly description: string;
  /** The value when the option is absent (shown in `--help`). */
  readonly default?: ArgValue;
  /** Allowed values. */
  readonly choices?: readonly ArgValue[];
  /** A one-letter alias (`p` for `-p`). */
  readonly alias?: string;
  /** How the value is shown in `--help` (default `<type>`). */
  readonly placeholder?: string;
  /** Smallest allowed number. */
  readonly min?: number;
}

/**
 * What {@link parseArgs} returns.
 * @internal
 */
export interface ParsedArgs {
  /** Values by spec name (camelCase); defaults filled in, absent options without default left out. */
  readonly values: Record<string, ArgValue>;
  /** Names given explicitly on the command line. */
  readonly given: ReadonlySet<string>;
  /** Non-option arguments, in order. */
  readonly positionals: string[];
  /** Unknown options, when `allowUnknown` is set (in their original form). */
  readonly unknown: string[];
}

/**
 * Options of {@link parseArgs}.
 * @internal
 */
export interface ParseOptions {
  /** Keep unknown options in `unknown` (with their value, `--x v` or `--x=v`) instead of failing. */
  readonly allowUnknown?: boolean;
  /** What the error messages call the command (`weir run`). */
  readonly command?: string;
}

/**
 * A command line or job option that cannot be understood (unknown option, missing or malformed
 * value); `weir` prints the message and exits with status 2.
 * @public
 */
export class UsageError extends Error {
  /** Always `'UsageError'`. */
  override readonly name = 'UsageError';
}

/**
 * `camelCase` → `kebab-case`.
 * @internal
 */
export function kebabCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/_/g, '-').toLowerCase();
}

/**
 * `kebab-case` → `camelCase`.
 * @internal
 */
export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Parses a duration: `250` (ms), `250ms`, `5s`, `1.5m`, `2h`.
 * @internal
 */
export function parseDuration(text: string): number {
  const m = /^\s*(\d[\d_]*(?:\.\d+)?(?:e\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(text);
  if (m === null) throw new UsageError(`'${text}' is not a duration (e.g. 500ms, 5s, 2m, 1h, or milliseconds)`);
  const n = Number((m[1] as string).replace(/_/g, ''));
  const unit = (m[2] ?? 'ms').toLowerCase();
  const factor = unit === 'h' ? 3_600_000 : unit === 'm' ? 60_000 : unit === 's' ? 1000 : 1;
  return Math.round(n * factor);
}

/**
 * Parses `text` as a value of `type` (for option `flag`, named in errors).
 * @internal
 */
export function parseValue(flag: string, spec: ArgSpec, text: string): ArgValue {
  let value: ArgValue;
  switch (spec.type) {
    case 'string':
      value = text;
      break;
    case 'boolean': {
      const t = text.toLowerCase();
      if (t === 'true' || t === '1' || t === 'yes') value = true;
      else if (t === 'false' || t === '0' || t === 'no') value = false;
      else throw new UsageError(`${flag} is a flag (true or false), got '${text}'`);
      break;
    }
    case 'duration':
      try {
        value = parseDuration(text);
      } catch (e) {
        throw new UsageError(`${flag}: ${(e as Error).message}`);
      }
      break;
    case 'number':
    case 'integer': {
      const n = text.trim() === '' ? Number.NaN : Number(text.replace(/_/g, ''));
      if (!Number.isFinite(n)) throw new UsageError(`${flag} needs a number, got '${text}'`);
      if (spec.type === 'integer' && !Number.isSafeInteger(n)) throw new UsageError(`${flag} needs an integer, got '${text}'`);
      value = n;
      break;
    }
  }
  if (typeof value === 'number' && spec.min !== undefined && value < spec.min) {
    throw new UsageError(`${flag} must be >= ${spec.min}, got ${text}`);
  }
  if (spec.choices !== undefined && !spec.choices.includes(value)) {
    throw new UsageError(`${flag} must be one of ${spec.choices.join(', ')}; got '${text}'`);
  }
  return value;
}

function distance(a: string, b: string): number {
  const d: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0] as number;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j] as number;
      d[j] = Math.min((d[j] as number) + 1, (d[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length] as number;
}

/**
 * The known option closest to `name`, if it is close.
 * @internal
 */
export function suggest(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = distance(name, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/**
 * Parses `argv` against `spec` (option names in camelCase).
 * @internal
 */
export function parseArgs(argv: readonly string[], spec: Readonly<Record<string, ArgSpec>>, options: ParseOptions = {}): ParsedArgs {
  const byFlag = new Map<string, string>();
  for (const name of Object.keys(spec)) {
    byFlag.set(kebabCase(name), name);
    byFlag.set(name, name);
    const alias = spec[name]?.alias;
    if (alias !== undefined) byFlag.set(alias, name);
  }
  const values: Record<string, ArgValue> = {};
  const given = new Set<string>();
  const positionals: string[] = [];
  const unknown: string[] = [];
  const where = options.command !== undefined ? ` for ${options.command}` : '';

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-' || /^-\d/.test(arg)) {
      positionals.push(arg);
      continue;
    }
    const long = arg.startsWith('--');
    const body = arg.slice(long ? 2 : 1);
    const eq = body.indexOf('=');
    let flagName = eq >= 0 ? body.slice(0, eq) : body;
    let inline: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    if (!long && flagName.length !== 1) throw new UsageError(`unknown option '${arg}'${where}; long options start with --`);
    let negated = false;
    let name = byFlag.get(flagName);
    if (name === undefined && long && flagName.startsWith('no-')) {
      const positive = byFlag.get(flagName.slice(3));
      if (positive !== undefined && spec[positive]?.type === 'boolean') {
        if (inline !== undefined) throw new UsageError(`--${flagName} takes no value`);
        name = positive;
        negated = true;
      }
    }
    if (name === undefined) {
      if (options.allowUnknown === true) {
        unknown.push(arg);
        const next = argv[i + 1];
        if (inline === undefined && next !== undefined && !next.startsWith('--') && !flagName.startsWith('no-')) {
          // Kept with its value when it has one; the job's own parser decides later.
          unknown.push(next);
          i++;
        }
        continue;
      }
      const close = suggest(kebabCase(flagName), [...byFlag.keys()].filter((k) => k.length > 1));
      throw new UsageError(`unknown option '${arg}'${where}${close !== undefined ? ` (did you mean --${close}?)` : ''}`);
    }
    const s = spec[name] as ArgSpec;
    const display = `--${kebabCase(name)}`;
    flagName = display;
    if (s.type === 'boolean') {
      values[name] = negated ? false : inline === undefined ? true : parseValue(display, s, inline);
    } else {
      if (inline === undefined) {
        const next = argv[i + 1];
        if (next === undefined || (next.startsWith('--') && next.length > 2)) {
          throw new UsageError(`${display} needs a value${s.placeholder !== undefined ? ` ${s.placeholder}` : ''}`);
        }
        inline = next;
        i++;
      }
      values[name] = parseValue(display, s, inline);
    }
    given.add(name);
  }
  for (const [name, s] of Object.entries(spec)) {
    if (!(name in values) && s.default !== undefined) values[name] = s.default;
  }
  return { values, given, positionals, unknown };
}

function placeholder(s: ArgSpec): string {
  if (s.type === 'boolean') return '';
  if (s.placeholder !== undefined) return ` ${s.placeholder}`;
  if (s.choices !== undefined) return ` <${s.choices.join('|')}>`;
  return ` <${s.type === 'integer' ? 'n' : s.type}>`;
}

/**
 * Formats options as `--help` lines: flag column, then description and default.
 * @internal
 */
export function formatOptions(spec: Readonly<Record<string, ArgSpec>>, indent = '  '): string[] {
  const rows = Object.entries(spec).map(([name, s]) => {
    const flag = `${s.alias !== undefined ? `-${s.alias}, ` : '    '}--${kebabCase(name)}${placeholder(s)}`;
    const dflt =
      s.default === undefined || s.default === '' || s.type === 'boolean' ? '' : ` (default: ${s.type === 'duration' ? `${s.default}ms` : String(s.default)})`;
    return [flag, `${s.description}${dflt}`] as const;
  });
  const width = Math.min(36, Math.max(0, ...rows.map(([f]) => f.length)));
  return rows.map(([f, d]) => (f.length > width ? `${indent}${f}\n${indent}${' '.repeat(width)}  ${d}` : `${indent}${f.padEnd(width)}  ${d}`));
}
