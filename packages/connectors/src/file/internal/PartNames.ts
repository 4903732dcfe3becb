import { basename, join } from 'node:path';

/** The state a hidden part file is in. */
type HiddenState = 'inprogress' | 'pending';

/**
 * Names of the part files of a {@link FileSink}:
 *
 * - in progress: `.<prefix>-<subtask>-<attempt>-<n>.inprogress` (hidden: leading dot)
 * - pending (closed, pre-committed): `.<prefix>-<subtask>-<attempt>-<n>.pending`
 * - final (committed, visible): `<prefix>-<subtask>-<attempt>-<n>.<ext>`
 *
 * `<attempt>` is the run's attempt id with every character outside `[A-Za-z0-9_]` replaced by
 * `_`, so the name parses unambiguously (`-` only separates fields).
 * @internal
 */
export class PartNames {
  /** The attempt token used in names. */
  readonly attempt: string;
  private readonly hidden: RegExp;

  constructor(
    readonly dir: string,
    readonly prefix: string,
    readonly subtask: number,
    attemptId: string,
    readonly ext: string,
  ) {
    this.attempt = PartNames.token(attemptId);
    this.hidden = PartNames.hiddenPattern(prefix);
  }

  /** The attempt token for an attempt id. */
  static token(attemptId: string): string {
    const t = attemptId.replace(/[^A-Za-z0-9_]/g, '_');
    return t.length > 0 ? t : '_';
  }

  /** Matches hidden part files of `prefix`; groups: subtask, attempt, n, state. */
  static hiddenPattern(prefix: string): RegExp {
    const p = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`^\\.${p}-(\\d+)-([A-Za-z0-9_]+)-(\\d+)\\.(inprogress|pending)$`);
  }

  private stem(n: number): string {
    return `${this.prefix}-${this.subtask}-${this.attempt}-${n}`;
  }

  /** Path of the in-progress file of part `n`. */
  inProgress(n: number): string {
    return join(this.dir, `.${this.stem(n)}.inprogress`);
  }

  /** Path of the pending file of part `n`. */
  pending(n: number): string {
    return join(this.dir, `.${this.stem(n)}.pending`);
  }

  /** Path of the final (visible) file of part `n`. */
  final(n: number): string {
    return join(this.dir, `${this.stem(n)}.${this.ext}`);
  }

  /** Parses a hidden part file name of this prefix (any subtask, any attempt). */
  parseHidden(name: string): { subtask: number; attempt: string; n: number; state: HiddenState } | undefined {
    const m = this.hidden.exec(basename(name));
    if (m === null) return undefined;
    return { subtask: Number(m[1]), attempt: m[2] as string, n: Number(m[3]), state: m[4] as HiddenState };
  }
}
