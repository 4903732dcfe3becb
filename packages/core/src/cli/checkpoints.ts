/**
 * `weir checkpoints <dir>`: what is in a checkpoint directory.
 */
import { CheckpointStorage } from '../checkpoint/CheckpointStorage.js';
import { formatBytes, formatDuration, formatTime } from './format.js';

/**
 * One operator of a checkpoint, as `weir checkpoints` reports it.
 * @internal
 */
export interface CheckpointOperatorSummary {
  /** The operator's uid. */
  readonly uid: string;
  /** Its name. */
  readonly name: string;
  /** Its parallelism when the checkpoint was taken. */
  readonly parallelism: number;
  /** State files of the operator (one per subtask, plus a source's enumerator). */
  readonly files: number;
  /** Bytes of state: the sizes of its files in the manifest (a source's enumerator included). */
  readonly stateBytes: number;
}

/**
 * One checkpoint, as `weir checkpoints --json` prints it.
 * @internal
 */
export interface CheckpointSummary {
  /** Checkpoint id. */
  readonly checkpointId: number;
  /** Its directory. */
  readonly path: string;
  /** Whether it can be restored (valid manifest; with verification, files match their checksums). */
  readonly complete: boolean;
  /** Why it cannot be restored, when it cannot. */
  readonly problem: string | null;
  /** When it was triggered, epoch ms. */
  readonly timestamp: number | null;
  /** The same as ISO time. */
  readonly time: string | null;
  /** Bytes of its state files. */
  readonly sizeBytes: number;
  /** The job's name. */
  readonly job: string | null;
  /** Key groups of the job. */
  readonly maxParallelism: number | null;
  /** Operators and their state. */
  readonly operators: readonly CheckpointOperatorSummary[];
}

/**
 * Reads every checkpoint in `dir`, newest first.
 * @param verify - also check every file's size and checksum (reads all state)
 * @internal
 */
export async function describeCheckpoints(dir: string, verify = true): Promise<CheckpointSummary[]> {
  const infos = await new CheckpointStorage(dir).list(verify);
  return infos.map((info) => {
    const m = info.manifest;
    const operators: CheckpointOperatorSummary[] = [];
    if (m !== undefined && Array.isArray(m.operators)) {
      const bytes = new Map<string, { files: number; bytes: number }>();
      for (const f of Array.isArray(m.files) ? m.files : []) {
        // A source's enumerator state is stored under `<uid>#enumerator`: count it with the source.
        const uid = m.operators.some((o) => o.uid === f.uid) ? f.uid : f.uid.split('#')[0] ?? f.uid;
        const e = bytes.get(uid) ?? { files: 0, bytes: 0 };
        e.files++;
        e.bytes += f.size;
        bytes.set(uid, e);
      }
      for (const o of m.operators) {
        const e = bytes.get(o.uid);
        operators.push({ uid: o.uid, name: o.name, parallelism: o.parallelism, files: e?.files ?? 0, stateBytes: e?.bytes ?? 0 });
      }
    }
    return {
      checkpointId: info.checkpointId,
      path: info.path,
      complete: info.complete,
      problem: info.problem ?? null,
      timestamp: info.timestamp ?? null,
      time: info.timestamp !== undefined ? formatTime(info.timestamp) : null,
      sizeBytes: info.sizeBytes,
      job: m?.job ?? null,
      maxParallelism: m?.maxParallelism ?? null,
      operators,
    };
  });
}

function table(rows: readonly (readonly string[])[], rightAligned: ReadonlySet<number>, indent: string): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map(
    (r) =>
      indent +
      r
        .map((c, i) => (i === r.length - 1 && !rightAligned.has(i) ? c : rightAligned.has(i) ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
        .join('  '),
  );
}

function friendlyProblem(problem: string | null): string {
  if (problem === null) return 'unknown problem';
  if (/^no valid manifest \(ENOENT/.test(problem)) return 'no manifest (aborted, or still being written)';
  return problem;
}

/**
 * The human-readable listing: one table of checkpoints, then each checkpoint's operators with
 * their parallelism and state size.
 * @internal
 */
export function formatCheckpoints(dir: string, list: readonly CheckpointSummary[], now: number = Date.now()): string {
  if (list.length === 0) return `No checkpoints in ${dir}`;
  const complete = list.filter((c) => c.complete).length;
  const jobs = [...new Set(list.map((c) => c.job).filter((j): j is string => j !== null))];
  const out = [
    `${list.length} checkpoint${list.length === 1 ? '' : 's'} in ${dir} (${complete} complete${jobs.length > 0 ? `; job ${jobs.map((j) => `'${j}'`).join(', ')}` : ''}), newest first:`,
    '',
  ];
  const header = ['ID', 'TIME (UTC)', 'AGE', 'SIZE', 'OPERATORS', 'STATUS'];
  const rows = list.map((c) => [
    String(c.checkpointId),
    c.time ?? '-',
    c.timestamp !== null ? formatDuration(now - c.timestamp) : '-',
    formatBytes(c.sizeBytes),
    String(c.operators.length),
    c.complete ? 'complete' : `not restorable: ${friendlyProblem(c.problem)}`,
  ]);
  out.push(...table([header, ...rows], new Set([0, 3, 4]), ''));
  for (const c of list) {
    out.push('', `checkpoint ${c.checkpointId}  ${c.path}${c.maxParallelism !== null ? `  (max parallelism ${c.maxParallelism})` : ''}`);
    if (c.operators.length === 0) {
      out.push('  (no manifest: operators unknown)');
      continue;
    }
    const opRows = c.operators.map((o) => [o.uid, o.name, String(o.parallelism), String(o.files), formatBytes(o.stateBytes)]);
    out.push(...table([['UID', 'NAME', 'PARALLELISM', 'FILES', 'STATE'], ...opRows], new Set([2, 3, 4]), '  '));
  }
  return out.join('\n');
}
