/**
 * The `weir` command line: `weir run <job-module>` and `weir checkpoints <dir>`.
 * `weir.ts` is the executable; this module holds the logic so tests can call {@link main}.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { jobArgSpec, type JobEnvironmentDefaults, type JobProgress, type JobRunResult, type RunningJob, resolveJobEnvOptions, startJob } from '../api/Job.js';
import type { StreamEnvironmentOptions } from '../api/StreamEnvironment.js';
import type { CheckpointConfig } from '../checkpoint/CheckpointCoordinator.js';
import { CheckpointStorage } from '../checkpoint/CheckpointStorage.js';
import { HeapStateBackend } from '../state/HeapStateBackend.js';
import { LevelStateBackend } from '../state/LevelStateBackend.js';
import type { StateBackend } from '../state/StateBackend.js';
import { type ArgSpec, formatOptions, parseArgs, UsageError } from './args.js';
import { describeCheckpoints, formatCheckpoints } from './checkpoints.js';
import { formatDuration, formatProgressLine, formatSummary } from './format.js';
import { loadJobModule } from './loadJob.js';

/**
 * Where `weir` writes and what it knows about its terminal (tests pass their own).
 * @internal
 */
export interface CliIO {
  /** Standard output (results, `--json`, help). */
  out(text: string): void;
  /** Standard error (progress, summaries, warnings, errors). */
  err(text: string): void;
  /** Whether standard error is a terminal (progress rewritten in place). */
  readonly errIsTTY: boolean;
  /** Terminal width, when known. */
  readonly columns: number | undefined;
  /** Working directory for relative paths. */
  readonly cwd: string;
  /** Whether to handle SIGINT and SIGTERM (the real CLI does). */
  readonly handleSignals: boolean;
}

/**
 * Exit statuses of `weir`.
 * @internal
 */
export const EXIT = {
  /** The job finished, or stopped with a checkpoint on request; or the command succeeded. */
  ok: 0,
  /** The job failed, or the command did. */
  failed: 1,
  /** The command line is wrong. */
  usage: 2,
  /** Cancelled by SIGINT (128 + 2). */
  sigint: 130,
  /** Cancelled by SIGTERM (128 + 15). */
  sigterm: 143,
} as const;

/** The default interval of periodic checkpoints when `--checkpoint-dir` is given. */
const DEFAULT_CHECKPOINT_INTERVAL_MS = 5_000;

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const MAIN_HELP = `Usage: weir <command> [options]

Runs Weir stream-processing jobs and inspects their checkpoints.

Commands:
  run <job-module> [options] [job options]   Run a job module (.js, or .ts with tsx installed)
  checkpoints <dir> [--json]                  List the checkpoints in a checkpoint directory

Options:
  -h, --help       Show help (also: weir <command> --help, weir run <job-module> --help)
  -v, --version    Show the version

Exit status: 0 finished (or stopped with a checkpoint), 1 failed, 2 bad command line,
130/143 cancelled by SIGINT/SIGTERM.`;

/** The options of `weir run` itself (a job's options come after the module). */
const RUN_SPEC: Readonly<Record<string, ArgSpec>> = {
  parallelism: { type: 'integer', alias: 'p', min: 1, description: "Default parallelism of operators (default: the job's, else 1)" },
  maxParallelism: { type: 'integer', min: 1, description: 'Number of key groups (default 128; must match the checkpoint when restoring)' },
  checkpointDir: { type: 'string', placeholder: '<dir>', description: 'Take checkpoints into this directory (chk-<id>/ inside)' },
  checkpointInterval: {
    type: 'duration',
    placeholder: '<duration>',
    description: `Periodic checkpoint interval, e.g. 5s or 500ms; 0: only the final one (default: the job's, else ${DEFAULT_CHECKPOINT_INTERVAL_MS / 1000}s)`,
  },
  checkpointRetain: { type: 'integer', min: 1, description: 'Complete checkpoints to keep (default 3)' },
  checkpointTimeout: { type: 'duration', placeholder: '<duration>', description: 'Abort a checkpoint not complete after this long (default 10m)' },
  restore: {
    type: 'string',
    placeholder: 'latest|<chk-dir>',
    description: "Restore from the newest complete checkpoint in --checkpoint-dir ('latest'; a fresh start when there is none), or from a chk-* directory",
  },
  stateBackend: { type: 'string', choices: ['heap', 'level'], description: 'Where keyed state lives: heap (memory) or level (LevelDB on disk) (default: heap)' },
  stateDir: { type: 'string', placeholder: '<dir>', description: 'Directory of the level state backend (default: <tmpdir>/weir-state)' },
  stopWithCheckpoint: { type: 'boolean', description: 'On SIGTERM, take a checkpoint and stop (exit 0) instead of cancelling; needs --checkpoint-dir' },
  quiet: { type: 'boolean', alias: 'q', description: 'No progress line (the final summary is still printed)' },
  progressInterval: {
    type: 'duration',
    placeholder: '<duration>',
    description: 'How often progress is printed (default: 1s on a terminal, 5s otherwise)',
  },
  jobName: { type: 'string', placeholder: '<name>', description: "The name the job runs under (default: the job's name)" },
  help: { type: 'boolean', alias: 'h', description: "Show this help, and the job's options when a module is given" },
};

const RUN_USAGE = `Usage: weir run <job-module> [options] [job options]

Runs a job module: an ES module whose default export is defineJob({ name, options, build }) from
@weir/core. A .ts module is loaded with tsx when it is installed (else its compiled dist/ .js).
Progress (records in/out per second, watermark, last checkpoint) goes to stderr; the job's own
output (print sinks) to stdout. SIGINT or SIGTERM cancels the job (SIGTERM with
--stop-with-checkpoint stops it with a checkpoint); a second signal exits at once.`;

const CHECKPOINTS_SPEC: Readonly<Record<string, ArgSpec>> = {
  json: { type: 'boolean', description: 'Print JSON (one array, newest first) instead of tables' },
  verify: { type: 'boolean', default: true, description: 'Check every state file against its size and checksum (--no-verify: manifests only)' },
  help: { type: 'boolean', alias: 'h', description: 'Show this help' },
};

const CHECKPOINTS_USAGE = `Usage: weir checkpoints <dir> [--json] [--no-verify]

Lists the checkpoints in a checkpoint directory (the --checkpoint-dir of weir run), newest first:
id, time, size, whether it can be restored (and why not), and per operator its uid, parallelism
and state size (the sum of its state files in the manifest).`;

function runHelp(job?: { name: string; description?: string; spec: Record<string, ArgSpec> }): string {
  const lines = [RUN_USAGE, '', 'Options:', ...formatOptions(RUN_SPEC)];
  if (job !== undefined) {
    lines.push('', `Job '${job.name}'${job.description !== undefined ? `: ${job.description}` : ''}`, '');
    const opts = formatOptions(job.spec);
    lines.push(...(opts.length > 0 ? ['Job options:', ...opts] : ['(the job has no options)']));
  } else {
    lines.push('', "Run 'weir run <job-module> --help' to see a job's own options.");
  }
  return lines.join('\n');
}

/**
 * Runs the `weir` command line with `argv` (without `node` and the script) and returns the exit
 * status.
 * @internal
 */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  try {
    const [command, ...rest] = argv;
    switch (command) {
      case undefined:
        io.err(`${MAIN_HELP}\n`);
        return EXIT.usage;
      case '-h':
      case '--help':
      case 'help':
        io.out(`${MAIN_HELP}\n`);
        return EXIT.ok;
      case '-v':
      case '--version':
      case 'version':
        io.out(`weir ${version()}\n`);
        return EXIT.ok;
      case 'run':
        return await runCommand(rest, io);
      case 'checkpoints':
        return await checkpointsCommand(rest, io);
      default:
        throw new UsageError(`unknown command '${command}' (commands: run, checkpoints)`);
    }
  } catch (e) {
    if (e instanceof UsageError || (e as Error | undefined)?.name === 'UsageError') {
      io.err(`weir: ${(e as Error).message}\nRun 'weir ${argv[0] === 'run' || argv[0] === 'checkpoints' ? `${argv[0]} ` : ''}--help' for usage.\n`);
      return EXIT.usage;
    }
    io.err(`weir: ${describeError(e)}\n`);
    return EXIT.failed;
  }
}

function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const lines = [`${e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}`];
  let cause = e.cause;
  for (let depth = 0; cause !== undefined && depth < 3; depth++) {
    if (cause instanceof Error) {
      if (!e.message.includes(cause.message)) lines.push(`  caused by ${cause.name}: ${cause.message}`);
      if (process.env.WEIR_DEBUG) lines.push(cause.stack ?? '');
      cause = cause.cause;
    } else {
      lines.push(`  caused by ${String(cause)}`);
      break;
    }
  }
  if (process.env.WEIR_DEBUG) lines.push(e.stack ?? '');
  return lines.join('\n');
}

/**
 * The real process's streams.
 * @internal
 */
export function processIO(): CliIO {
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    errIsTTY: process.stderr.isTTY === true,
    columns: process.stderr.columns,
    cwd: process.cwd(),
    handleSignals: true,
  };
}

async function checkpointsCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const args = parseArgs(argv, CHECKPOINTS_SPEC, { command: 'weir checkpoints' });
  if (args.values.help === true) {
    io.out(`${CHECKPOINTS_USAGE}\n\nOptions:\n${formatOptions(CHECKPOINTS_SPEC).join('\n')}\n`);
    return EXIT.ok;
  }
  if (args.positionals.length !== 1) throw new UsageError(`weir checkpoints needs one directory, got ${args.positionals.length}`);
  const dir = resolve(io.cwd, args.positionals[0] as string);
  const { statSync } = await import('node:fs');
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) {
    io.err(`weir: ${dir} is not a directory\n`);
    return EXIT.failed;
  }
  const list = await describeCheckpoints(dir, args.values.verify !== false);
  if (args.values.json === true) io.out(`${JSON.stringify(list, null, 2)}\n`);
  else io.out(`${formatCheckpoints(dir, list)}\n`);
  return EXIT.ok;
}

async function runCommand(argv: readonly string[], io: CliIO): Promise<number> {
  // Pass 1: the module (the first positional) and the run options before it; the job's options
  // are only known once the module is loaded.
  const first = parseArgs(argv, RUN_SPEC, { allowUnknown: true, command: 'weir run' });
  const modulePath = first.positionals[0];
  if (modulePath === undefined) {
    if (first.values.help === true) {
      io.out(`${runHelp()}\n`);
      return EXIT.ok;
    }
    throw new UsageError(
      first.unknown.length > 0
        ? `weir run needs a job module before the job's options (got ${first.unknown.join(' ')})`
        : 'weir run needs a job module: weir run <job-module> [options]',
    );
  }
  const loaded = await loadJobModule(modulePath, io.cwd);
  const job = loaded.job;
  const jobSpec = jobArgSpec(job);
  // Pass 2: everything, strictly, against the run options and the job's.
  const args = parseArgs(argv, { ...RUN_SPEC, ...jobSpec }, { command: `weir run ${basename(modulePath)}` });
  const v = args.values;
  if (v.help === true) {
    io.out(`${runHelp({ name: job.name, ...(job.description !== undefined ? { description: job.description } : {}), spec: jobSpec })}\n`);
    return EXIT.ok;
  }
  if (args.positionals.length > 1) throw new UsageError(`unexpected argument '${args.positionals[1]}' (one job module at a time)`);

  const config: Record<string, unknown> = {};
  for (const name of Object.keys(jobSpec)) if (args.given.has(name)) config[name] = v[name];

  const envFlags = runEnvOptions(v, args.given, job.defaults, io);
  const envOptions = resolveJobEnvOptions(job, envFlags);
  if (v.stopWithCheckpoint === true && envOptions.checkpoint === undefined) {
    throw new UsageError('--stop-with-checkpoint needs checkpointing: add --checkpoint-dir <dir>');
  }
  const cp = envOptions.checkpoint;

  // Progress: rewritten in place on a terminal, a line every few seconds otherwise.
  const tty = io.errIsTTY;
  const quiet = v.quiet === true;
  const interval = args.given.has('progressInterval') ? (v.progressInterval as number) : tty ? 1000 : 5000;
  if (!(interval > 0)) throw new UsageError('--progress-interval must be > 0');
  let lineShown = false;
  const clearLine = (): void => {
    if (lineShown) io.err('\r\x1b[K');
    lineShown = false;
  };
  const warn = (message: string): void => {
    clearLine();
    io.err(`weir: warning: ${message}\n`);
  };
  const onProgress = (p: JobProgress): void => {
    if (quiet || p.final) return;
    const line = formatProgressLine(p);
    if (tty) {
      const width = io.columns !== undefined && io.columns >= 20 ? io.columns : 160;
      io.err(`\r${line.length >= width ? `${line.slice(0, Math.max(0, width - 2))}…` : line}\x1b[K`);
      lineShown = true;
    } else {
      io.err(`weir: ${line}\n`);
    }
  };

  // What the run starts from.
  const details = [`parallelism ${envOptions.parallelism ?? 1}`];
  if (envOptions.stateBackend !== undefined) details.push(`state ${envOptions.stateBackend.name}`);
  if (cp !== undefined) {
    details.push(`checkpoints ${cp.intervalMs ? `every ${formatDuration(cp.intervalMs)}` : 'at the end only'} in ${cp.dir}`);
    if (envOptions.restore === 'latest') {
      const latest = (await new CheckpointStorage(cp.dir).list(false)).find((c) => c.complete);
      details.push(latest !== undefined ? `restoring the latest checkpoint (newest: ${latest.checkpointId})` : 'no checkpoint to restore: a fresh start');
    } else if (envOptions.restore !== undefined) {
      details.push(`restoring ${envOptions.restore}`);
    }
  }
  io.err(`weir: running job '${v.jobName ?? job.name}' from ${loaded.path}${loaded.via === 'compiled' ? ' (compiled; tsx not found)' : ''} (${details.join(', ')})\n`);

  // Signals: the first one stops the job cleanly, a second one exits at once. One that comes
  // while the job is being built exits at once: nothing runs yet.
  let running: RunningJob | undefined;
  let signalled: NodeJS.Signals | undefined;
  let stopFailed: unknown;
  const onSignal = (signal: NodeJS.Signals): void => {
    const code = signal === 'SIGINT' ? EXIT.sigint : EXIT.sigterm;
    if (running === undefined) {
      io.err(`weir: ${signal} before the job started: exiting\n`);
      process.exit(code);
    }
    if (signalled !== undefined) {
      clearLine();
      io.err(`weir: ${signal} again: exiting without waiting for the job\n`);
      process.exit(code);
    }
    signalled = signal;
    clearLine();
    const target = running;
    if (signal === 'SIGTERM' && v.stopWithCheckpoint === true) {
      io.err('weir: SIGTERM: stopping the job with a checkpoint (send it again to exit at once)\n');
      target.stopWithCheckpoint().catch((e: unknown) => {
        stopFailed = e;
        io.err(`weir: stop with checkpoint failed (${(e as Error).message ?? String(e)}); cancelling\n`);
        void target.cancel();
      });
    } else {
      io.err(`weir: ${signal}: cancelling the job (send it again to exit at once)\n`);
      void target.cancel();
    }
  };
  if (io.handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  const removeHandlers = (): void => {
    if (io.handleSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  };
  try {
    running = await startJob(job, {
      config: config as never,
      envOptions: { ...envFlags, warn },
      ...(typeof v.jobName === 'string' ? { jobName: v.jobName } : {}),
      onProgress,
      progressIntervalMs: interval,
    });
  } catch (e) {
    removeHandlers();
    throw e;
  }
  let result: JobRunResult;
  try {
    result = await running.done;
  } catch (e) {
    clearLine();
    io.err(`weir: job '${running.client.jobName}' failed: ${describeError(e)}\n`);
    const last = running.client.lastCheckpoint();
    if (last !== undefined) io.err(`weir: last complete checkpoint ${last.checkpointId} at ${last.path}; resume with --restore latest\n`);
    return EXIT.failed;
  } finally {
    removeHandlers();
  }
  clearLine();
  io.err(`${formatSummary(result)}\n`);
  if (result.status === 'stopped' && cp !== undefined) {
    io.err(`weir: resume with: ${resumeCommand(argv, cp.dir, args.given.has('checkpointDir'))}\n`);
    return EXIT.ok;
  }
  if (result.status === 'cancelled') {
    if (stopFailed !== undefined) return EXIT.failed;
    return signalled === 'SIGTERM' ? EXIT.sigterm : EXIT.sigint;
  }
  return EXIT.ok;
}

/** Quotes a word for a POSIX shell when it needs it. */
function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/** The command line that resumes a stopped run: the same one, with `--restore latest`. */
function resumeCommand(argv: readonly string[], dir: string, dirGiven: boolean): string {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--restore') {
      i++;
      continue;
    }
    if (a.startsWith('--restore=')) continue;
    kept.push(a);
  }
  if (!dirGiven) kept.push('--checkpoint-dir', dir);
  return ['weir', 'run', ...kept, '--restore', 'latest'].map(shellQuote).join(' ');
}

function runEnvOptions(
  v: Record<string, unknown>,
  given: ReadonlySet<string>,
  defaults: JobEnvironmentDefaults | undefined,
  io: CliIO,
): StreamEnvironmentOptions {
  const env: { -readonly [K in keyof StreamEnvironmentOptions]: StreamEnvironmentOptions[K] } = {};
  if (given.has('parallelism')) env.parallelism = v.parallelism as number;
  if (given.has('maxParallelism')) env.maxParallelism = v.maxParallelism as number;

  let dir = typeof v.checkpointDir === 'string' ? resolve(io.cwd, v.checkpointDir) : undefined;
  const restore = typeof v.restore === 'string' ? v.restore : undefined;
  if (restore !== undefined && restore !== 'latest') {
    const path = resolve(io.cwd, restore);
    // A chk-* directory names its checkpoint directory too.
    dir ??= dirname(path);
    env.restore = path;
  } else if (restore === 'latest') {
    env.restore = 'latest';
  }
  const cpFlags = ['checkpointInterval', 'checkpointRetain', 'checkpointTimeout'].filter((f) => given.has(f));
  if (dir === undefined && defaults?.checkpoint?.dir === undefined) {
    if (restore !== undefined) throw new UsageError('--restore latest needs --checkpoint-dir <dir> (where the checkpoints are)');
    if (cpFlags.length > 0) throw new UsageError(`--${cpFlags[0]?.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --checkpoint-dir <dir>`);
  }
  if (dir !== undefined || cpFlags.length > 0) {
    const cp: { -readonly [K in keyof CheckpointConfig]?: CheckpointConfig[K] } = {};
    if (dir !== undefined) cp.dir = dir;
    if (given.has('checkpointInterval')) cp.intervalMs = v.checkpointInterval as number;
    else if (defaults?.checkpoint?.intervalMs === undefined) cp.intervalMs = DEFAULT_CHECKPOINT_INTERVAL_MS;
    if (given.has('checkpointRetain')) cp.retain = v.checkpointRetain as number;
    if (given.has('checkpointTimeout')) cp.timeoutMs = v.checkpointTimeout as number;
    env.checkpoint = cp as CheckpointConfig;
  }

  if (given.has('stateDir') && v.stateBackend !== 'level') throw new UsageError('--state-dir is for --state-backend level');
  if (v.stateBackend !== undefined) env.stateBackend = stateBackend(v.stateBackend as string, v.stateDir as string | undefined, io);
  return env;
}

function stateBackend(kind: string, dir: string | undefined, io: CliIO): StateBackend {
  if (kind === 'heap') return new HeapStateBackend();
  return new LevelStateBackend(dir !== undefined ? { dir: resolve(io.cwd, dir) } : {});
}
