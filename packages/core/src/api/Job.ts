import type { CheckpointConfig, CompletedCheckpoint } from '../checkpoint/CheckpointCoordinator.js';
import { type ArgSpec, type ArgType, kebabCase, parseArgs, UsageError } from '../cli/args.js';
import type { JobClient, JobMetrics, JobStatus } from './JobClient.js';
import { StreamEnvironment, type StreamEnvironmentOptions } from './StreamEnvironment.js';

/**
 * The value of a job option: a string, a number or a flag.
 * @public
 */
export type JobOptionValue = string | number | boolean;

/**
 * One option of a job, set on the command line as `--<kebab-case-name> value`
 * (`weir run job.js --events 1000`). Its type is the type of its default.
 * @public
 */
export interface JobOption<T extends JobOptionValue = JobOptionValue> {
  /** One line for `weir run <job> --help`. */
  readonly description: string;
  /** The value when the option is not given; its type (string, number, boolean) is the option's type. */
  readonly default: T;
  /** Allowed values, when only a few are. */
  readonly choices?: readonly T[];
  /** For numbers: whether only integers are allowed (default false). */
  readonly integer?: boolean;
  /** For numbers: the smallest allowed value. */
  readonly min?: number;
}

/**
 * The options of a job, by camelCase name.
 * @public
 */
export type JobOptions = { readonly [name: string]: JobOption };

/** A literal type widened to its primitive (`1000` → `number`). */
type Widen<T> = T extends number ? number : T extends boolean ? boolean : T extends string ? string : never;

/**
 * The parsed options a job's `build` receives: one value per option, of the option's type.
 * @public
 */
export type JobConfig<O extends JobOptions = JobOptions> = {
  readonly [K in keyof O]: O[K] extends JobOption<infer T> ? Widen<T> : never;
};

/**
 * A job's environment defaults: any {@link StreamEnvironmentOptions}, with checkpoint settings
 * that may leave out the directory (`{ checkpoint: { intervalMs: 10_000 } }`: checkpoint every
 * 10 s when run with a checkpoint directory; without one, the job runs without checkpoints).
 * @public
 */
export type JobEnvironmentDefaults = Omit<StreamEnvironmentOptions, 'checkpoint'> & {
  readonly checkpoint?: Partial<CheckpointConfig>;
};

/**
 * What {@link defineJob} takes. `build` must build the same graph for the same config every
 * time (same operators, same uids): a restored job and every worker rebuild the graph from the
 * module and match state to operators by uid. Give every stateful operator a `.uid(...)`.
 * @public
 */
export interface JobDefinition<O extends JobOptions = JobOptions> {
  /** The job's name (in metrics, checkpoints and the CLI). */
  readonly name: string;
  /** One paragraph for `weir run <job> --help`. */
  readonly description?: string;
  /** The job's own options. Names used by `weir run` itself are reserved ({@link RESERVED_JOB_OPTIONS}). */
  readonly options?: O;
  /**
   * Environment settings of the job (parallelism, checkpoint interval...). Command-line flags and
   * `runJob`'s `envOptions` override them; `checkpoint` settings are merged field by field.
   */
  readonly defaults?: JobEnvironmentDefaults;
  /**
   * Builds the job's graph on `env` from `config`: sources, operators and sinks
   * (`sinkTo`, `print`). May be async (to read a schema, say), but must be deterministic.
   */
  build(env: StreamEnvironment, config: JobConfig<O>): void | Promise<void>;
}

const JOB_BRAND: unique symbol = Symbol.for('weir.job') as never;

/**
 * A job module's default export: a job definition, checked and frozen by {@link defineJob}.
 * @public
 */
export type Job<O extends JobOptions = JobOptions> = JobDefinition<O> & { readonly [JOB_BRAND]: true };

/**
 * Option names `weir run` uses itself (in camelCase); a job cannot define them.
 * @public
 */
export const RESERVED_JOB_OPTIONS: readonly string[] = Object.freeze([
  'help',
  'version',
  'parallelism',
  'maxParallelism',
  'checkpointDir',
  'checkpointInterval',
  'checkpointRetain',
  'checkpointTimeout',
  'restore',
  'stateBackend',
  'stateDir',
  'stopWithCheckpoint',
  'quiet',
  'progressInterval',
  'jobName',
]);

/**
 * Declares a job module. A job module is an ES module whose default export is a job:
 *
 * ```ts
 * export default defineJob({
 *   name: 'tens',
 *   options: { upTo: { description: 'last number', default: 100, integer: true, min: 1 } },
 *   build(env, { upTo }) {
 *     env.fromSequence(1, upTo).filter((n) => n % 10 === 0).print();
 *   },
 * });
 * ```
 *
 * Run it with `weir run tens.js --up-to 1000`, or in code with {@link runJob}. The same module
 * builds the same graph from the same config every time, so workers and restores can rebuild it
 * (see "Jobs are modules" in the design).
 * @throws TypeError when the definition is malformed (no name, no build, an option without a
 *   default or with a reserved name)
 * @public
 */
export function defineJob<const O extends JobOptions = Record<never, never>>(definition: JobDefinition<O>): Job<O> {
  if (typeof definition !== 'object' || definition === null) throw new TypeError('defineJob needs an object');
  if (typeof definition.name !== 'string' || definition.name.length === 0) throw new TypeError('defineJob: name must be a non-empty string');
  if (typeof definition.build !== 'function') throw new TypeError(`defineJob('${definition.name}'): build(env, config) must be a function`);
  for (const [name, option] of Object.entries(definition.options ?? {})) {
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name)) {
      throw new TypeError(`defineJob('${definition.name}'): option name '${name}' must be camelCase letters and digits (it becomes --${kebabCase(name)})`);
    }
    if (RESERVED_JOB_OPTIONS.includes(name)) {
      throw new TypeError(`defineJob('${definition.name}'): option '${name}' is reserved by weir run (--${kebabCase(name)}); pick another name`);
    }
    const t = typeof option?.default;
    if (t !== 'string' && t !== 'number' && t !== 'boolean') {
      throw new TypeError(`defineJob('${definition.name}'): option '${name}' needs a default (string, number or boolean); its type is the option's type`);
    }
  }
  return Object.freeze({ ...definition, [JOB_BRAND]: true as const });
}

/**
 * Whether `value` is a job made by {@link defineJob} (of any copy of `@weir/core`).
 * @public
 */
export function isJob(value: unknown): value is Job {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[JOB_BRAND] === true;
}

/**
 * The job's options as a command-line spec.
 * @internal
 */
export function jobArgSpec(job: Job): Record<string, ArgSpec> {
  const spec: Record<string, ArgSpec> = {};
  for (const [name, o] of Object.entries(job.options ?? {})) {
    const type: ArgType =
      typeof o.default === 'boolean' ? 'boolean' : typeof o.default === 'number' ? (o.integer === true ? 'integer' : 'number') : 'string';
    spec[name] = {
      type,
      description: o.description,
      default: o.default,
      ...(o.choices !== undefined ? { choices: o.choices } : {}),
      ...(o.min !== undefined ? { min: o.min } : {}),
    };
  }
  return spec;
}

/**
 * The job's config: its defaults, overridden by command-line arguments (`['--events', '1000']`),
 * overridden by `overrides`. Every value is checked against its option (type, choices, min).
 * @throws Error (name `UsageError`) naming the bad or unknown option
 * @public
 */
export function resolveJobConfig<O extends JobOptions>(
  job: Job<O>,
  args: readonly string[] = [],
  overrides: Partial<JobConfig<O>> = {},
): JobConfig<O> {
  const spec = jobArgSpec(job as unknown as Job);
  const parsed = parseArgs(args, spec, { command: `job '${job.name}'` });
  if (parsed.positionals.length > 0) {
    throw new UsageError(`job '${job.name}' takes no positional arguments, got '${parsed.positionals.join(' ')}'`);
  }
  const config: Record<string, JobOptionValue> = { ...parsed.values };
  for (const [name, value] of Object.entries(overrides as Record<string, unknown>)) {
    const s = spec[name];
    if (s === undefined) throw new UsageError(`job '${job.name}' has no option '${name}'`);
    if (value === undefined) continue;
    const expected = s.type === 'integer' || s.type === 'number' ? 'number' : s.type;
    if (typeof value !== expected) throw new UsageError(`job '${job.name}': option '${name}' must be a ${expected}, got ${JSON.stringify(value)}`);
    if (s.type === 'integer' && !Number.isSafeInteger(value)) throw new UsageError(`job '${job.name}': option '${name}' must be an integer`);
    if (s.min !== undefined && (value as number) < s.min) throw new UsageError(`job '${job.name}': option '${name}' must be >= ${s.min}`);
    if (s.choices !== undefined && !s.choices.includes(value as JobOptionValue)) {
      throw new UsageError(`job '${job.name}': option '${name}' must be one of ${s.choices.join(', ')}`);
    }
    config[name] = value as JobOptionValue;
  }
  return Object.freeze(config) as JobConfig<O>;
}

/**
 * The job's environment options: `job.defaults` overridden by `overrides`, with `checkpoint`
 * merged field by field (so a job can set `intervalMs` and the caller only the `dir`).
 * @throws RangeError when checkpoint settings have no `dir`
 * @public
 */
export function resolveJobEnvOptions(job: Job, overrides: StreamEnvironmentOptions = {}): StreamEnvironmentOptions {
  const base: JobEnvironmentDefaults = job.defaults ?? {};
  const merged: { -readonly [K in keyof StreamEnvironmentOptions]: StreamEnvironmentOptions[K] } = {
    ...(base as StreamEnvironmentOptions),
    ...overrides,
  };
  if (base.checkpoint !== undefined || overrides.checkpoint !== undefined) {
    const cp = { ...base.checkpoint, ...overrides.checkpoint } as Partial<CheckpointConfig>;
    if (typeof cp.dir !== 'string' || cp.dir.length === 0) {
      // The job asks for checkpoints but nobody said where: run without them.
      if (overrides.checkpoint !== undefined || overrides.restore !== undefined) {
        throw new RangeError(`job '${job.name}': checkpointing needs a directory (checkpoint.dir, or --checkpoint-dir)`);
      }
      delete merged.checkpoint;
    } else {
      merged.checkpoint = cp as CheckpointConfig;
    }
  }
  return merged;
}

/**
 * A progress report of a running job (see `onProgress` of {@link runJob}).
 * @public
 */
export interface JobProgress {
  /** The job's name. */
  readonly jobName: string;
  /** `running`, `finished`, `failed` or `cancelled`. */
  readonly status: JobStatus;
  /** Milliseconds since the job started. */
  readonly uptimeMs: number;
  /** Records emitted by all sources so far. */
  readonly recordsIn: number;
  /** Records received by all sinks so far. */
  readonly recordsOut: number;
  /** Source records per second since the previous report (in the final report: over the whole run). */
  readonly recordsInPerSecond: number;
  /** Sink records per second since the previous report (in the final report: over the whole run). */
  readonly recordsOutPerSecond: number;
  /** The job's event-time progress (−∞ before the first watermark, +∞ at the end of input). */
  readonly watermark: number;
  /** The last completed checkpoint, if any. */
  readonly lastCheckpoint: CompletedCheckpoint | undefined;
  /** Tasks waiting for downstream credit. */
  readonly backpressuredTasks: number;
  /** Whether this is the last report (the job has ended). */
  readonly final: boolean;
  /** The full counters. */
  readonly metrics: JobMetrics;
}

/**
 * Options of {@link runJob} and {@link startJob}.
 * @public
 */
export interface RunJobOptions<O extends JobOptions = JobOptions> {
  /** The job's options as command-line arguments (`['--events', '1000']`). */
  readonly args?: readonly string[];
  /** Option values, over the defaults and `args`. */
  readonly config?: Partial<JobConfig<O>>;
  /** Environment options, over the job's `defaults` (checkpoint settings merged field by field). */
  readonly envOptions?: StreamEnvironmentOptions;
  /** The name the job runs under (default the job's `name`). */
  readonly jobName?: string;
  /** Called every `progressIntervalMs` while the job runs, and once more when it ends. */
  readonly onProgress?: (progress: JobProgress) => void;
  /** Interval of progress reports in ms (default 1000). */
  readonly progressIntervalMs?: number;
  /** Aborting it cancels the job. */
  readonly signal?: AbortSignal;
}

/**
 * How a job run ended (a failed job rejects instead).
 * @public
 */
export interface JobRunResult<O extends JobOptions = JobOptions> {
  /** The job's name. */
  readonly jobName: string;
  /** `finished` (input ended), `cancelled`, or `stopped` (with a checkpoint, to be restored). */
  readonly status: 'finished' | 'cancelled' | 'stopped';
  /** Wall-clock duration in ms. */
  readonly durationMs: number;
  /** Final counters. */
  readonly metrics: JobMetrics;
  /** The last completed checkpoint (the stop's checkpoint when `stopped`). */
  readonly lastCheckpoint: CompletedCheckpoint | undefined;
  /** The config the job ran with. */
  readonly config: JobConfig<O>;
}

/**
 * A started job (see {@link startJob}).
 * @public
 */
export interface RunningJob<O extends JobOptions = JobOptions> {
  /** The engine's handle: metrics, checkpoints, cancel. */
  readonly client: JobClient;
  /** The config the job runs with. */
  readonly config: JobConfig<O>;
  /** The environment options the job runs with. */
  readonly envOptions: StreamEnvironmentOptions;
  /** Resolves when the job ends; rejects with the cause when it fails. */
  readonly done: Promise<JobRunResult<O>>;
  /** Cancels the job; resolves once it has stopped. */
  cancel(): Promise<void>;
  /**
   * Takes a checkpoint covering everything emitted, stops the job (its result is then
   * `stopped`) and resolves with the checkpoint; restore with `restore: 'latest'`.
   */
  stopWithCheckpoint(): Promise<CompletedCheckpoint>;
}

/**
 * Builds and starts a job: resolves its config (defaults, `args`, `config`) and environment
 * options (the job's `defaults`, `envOptions`), calls `build`, and starts it. Resolves once
 * started; the returned {@link RunningJob} has the client and `done`.
 * @throws Error (name `UsageError`) for bad job options; whatever `build` or the job's
 *   validation throws (e.g. `InvalidPipelineError`)
 * @public
 */
export async function startJob<O extends JobOptions>(job: Job<O>, options: RunJobOptions<O> = {}): Promise<RunningJob<O>> {
  if (!isJob(job)) throw new TypeError('startJob needs a job made by defineJob()');
  const config = resolveJobConfig(job, options.args ?? [], options.config ?? {});
  const envOptions = resolveJobEnvOptions(job as unknown as Job, options.envOptions ?? {});
  const env = StreamEnvironment.create(envOptions);
  await job.build(env, config);
  const client = env.executeAsync(options.jobName ?? job.name);
  let stoppedWith: CompletedCheckpoint | undefined;
  let stopping = false;

  const onProgress = options.onProgress;
  const interval = options.progressIntervalMs ?? 1000;
  if (!(interval > 0)) throw new RangeError('progressIntervalMs must be > 0');
  let timer: ReturnType<typeof setInterval> | undefined;
  let last = { at: performance.now(), in: 0, out: 0 };
  const report = (final: boolean, statusOverride?: JobStatus): void => {
    if (onProgress === undefined) return;
    const m = client.metrics();
    const now = performance.now();
    const seconds = final ? m.uptimeMs / 1000 : (now - last.at) / 1000;
    const dIn = final ? m.sourceRecords : m.sourceRecords - last.in;
    const dOut = final ? m.sinkRecords : m.sinkRecords - last.out;
    last = { at: now, in: m.sourceRecords, out: m.sinkRecords };
    onProgress({
      jobName: m.jobName,
      status: statusOverride ?? m.status,
      uptimeMs: m.uptimeMs,
      recordsIn: m.sourceRecords,
      recordsOut: m.sinkRecords,
      recordsInPerSecond: seconds > 0 ? dIn / seconds : 0,
      recordsOutPerSecond: seconds > 0 ? dOut / seconds : 0,
      watermark: m.watermark,
      lastCheckpoint: client.lastCheckpoint(),
      backpressuredTasks: m.tasks.reduce((n, t) => n + (t.backpressured ? 1 : 0), 0),
      final,
      metrics: m,
    });
  };
  if (onProgress !== undefined) {
    timer = setInterval(() => {
      try {
        report(false);
      } catch {
        // A progress callback must not break the job.
      }
    }, interval);
    timer.unref?.();
  }

  const signal = options.signal;
  const onAbort = (): void => {
    void client.cancel();
  };
  if (signal !== undefined) {
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  }
  const cleanup = (): void => {
    if (timer !== undefined) clearInterval(timer);
    signal?.removeEventListener('abort', onAbort);
  };

  const done = client.done.then(
    (r): JobRunResult<O> => {
      cleanup();
      const status = stoppedWith !== undefined || (stopping && r.status === 'cancelled') ? 'stopped' : r.status;
      try {
        report(true, r.status);
      } catch {
        // Reporting must not change the result.
      }
      return {
        jobName: r.jobName,
        status,
        durationMs: r.durationMs,
        metrics: r.metrics,
        lastCheckpoint: stoppedWith ?? client.lastCheckpoint(),
        config,
      };
    },
    (e: unknown) => {
      cleanup();
      try {
        report(true, 'failed');
      } catch {
        // Reporting must not hide the failure.
      }
      throw e;
    },
  );
  done.catch(() => {});

  return {
    client,
    config,
    envOptions,
    done,
    cancel: () => client.cancel(),
    stopWithCheckpoint: async () => {
      stopping = true;
      try {
        stoppedWith = await client.stopWithCheckpoint();
      } catch (e) {
        stopping = false;
        throw e;
      }
      return stoppedWith;
    },
  };
}

/**
 * Runs a job module's job to its end: {@link startJob}, then waits for it. Used by `weir run`
 * and by tests.
 *
 * @example
 * ```ts
 * import job from './plays-per-minute/index.js';
 * const result = await runJob(job, {
 *   args: ['--events', '10000'],
 *   envOptions: { checkpoint: { dir: '/tmp/chk', intervalMs: 1000 } },
 *   onProgress: (p) => console.log(p.recordsIn, p.watermark),
 * });
 * // result.status === 'finished'
 * ```
 * @throws whatever {@link startJob} throws, or the job's failure
 * @public
 */
export async function runJob<O extends JobOptions>(job: Job<O>, options: RunJobOptions<O> = {}): Promise<JobRunResult<O>> {
  const running = await startJob(job, options);
  return running.done;
}
