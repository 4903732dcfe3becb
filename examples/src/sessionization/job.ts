import {
  type DataStream,
  OutputTag,
  type Sink,
  type SinkWriter,
  type StreamEnvironment,
  WatermarkStrategy,
} from '@weir/core';
import { EventTimeSessionWindows } from '@weir/operators';
import { type ClientEvent, SessionEventGenerator, type SessionGeneratorOptions } from '../events.js';
import { IteratorSource } from '../sources/IteratorSource.js';
import { LineFileSource } from '../sources/LineFileSource.js';
import { DEAD_LETTERS, type DeadLetter, ParseClientEvents } from './parse.js';
import type { Session } from './Session.js';
import { SessionAggregate } from './SessionAggregate.js';
import { FINAL_SESSIONS, SessionWindowFunction } from './SessionWindowFunction.js';

/**
 * How sessions are keyed: `cross-device` by `user_id` (a session may span a phone and a TV),
 * `per-device` by `user_id` and `device.type`.
 * @public
 */
export type SessionMode = 'cross-device' | 'per-device';

/**
 * Options of {@link buildSessionization}; every one has a default.
 * @public
 */
export interface SessionizationOptions {
  /** Inactivity that ends a session, in ms (default 30 min). */
  readonly gapMs?: number;
  /** Keying (default `cross-device`). */
  readonly mode?: SessionMode;
  /** Watermark bound: how far out of order events may arrive and still be on time (default 10 s). */
  readonly outOfOrdernessMs?: number;
  /**
   * How long after a session closed (in event time) late events still update it or merge it
   * with a neighbour (default 15 min). Later events go to the late-events output.
   */
  readonly allowedLatenessMs?: number;
  /** Heartbeat interval of the SDKs, for watch time (default 10 s). */
  readonly heartbeatIntervalMs?: number;
  /**
   * Parallelism of parsing and timestamp assignment (default 1). Keep it equal to the input's:
   * the two steps then chain with the source, and each source reader's watermark follows its own
   * lines, as Flink advises (watermarks at the source). Spread round-robin over more instances,
   * one reader's lines would give each instance a watermark of its share only, and the windows
   * would see the minimum: lower, so which events count as late would depend on the parallelism.
   */
  readonly parseParallelism?: number;
}

/**
 * {@link SessionizationOptions} with the defaults filled in.
 * @public
 */
export type ResolvedSessionizationOptions = Required<SessionizationOptions>;

/**
 * The defaults of {@link SessionizationOptions}.
 * @public
 */
export const DEFAULT_SESSIONIZATION: ResolvedSessionizationOptions = {
  gapMs: 30 * 60_000,
  mode: 'cross-device',
  outOfOrdernessMs: 10_000,
  allowedLatenessMs: 15 * 60_000,
  heartbeatIntervalMs: 10_000,
  parseParallelism: 1,
};

/**
 * Events later than the allowed lateness: every session they could belong to was purged.
 * @public
 */
export const LATE_EVENTS: OutputTag<ClientEvent> = new OutputTag<ClientEvent>('late-events');

/**
 * The streams of the sessionization job.
 * @public
 */
export interface SessionizationStreams {
  /** Every firing of a session window: on time, then once per late event within the lateness. */
  readonly updates: DataStream<Session>;
  /** One final record per session, once it can no longer change. */
  readonly sessions: DataStream<Session>;
  /** Events beyond the allowed lateness. */
  readonly lateEvents: DataStream<ClientEvent>;
  /** Input lines that are not valid events, with the reason. */
  readonly deadLetters: DataStream<DeadLetter>;
  /** The options in effect. */
  readonly options: ResolvedSessionizationOptions;
}

/**
 * The session key of an event in `mode`.
 * @public
 */
export function sessionKey(e: ClientEvent, mode: SessionMode): string {
  return mode === 'cross-device' ? e.user_id : `${e.user_id}|${e.device.type}`;
}

/**
 * Builds the sessionization job on a stream of JSONL lines:
 *
 * lines → parse + validate (malformed → dead letters) → event time with a bounded
 * out-of-orderness watermark → key by user (or user and device) → event-time session windows
 * with allowed lateness (late → side output) → incremental {@link SessionAggregate} →
 * {@link SessionWindowFunction}: a {@link Session} per firing, and one final record per session
 * when its window is purged.
 *
 * @param lines - JSONL lines, e.g. from {@link sessionizationInput}
 * @param options - gap, keying, watermark bound, lateness, heartbeat interval
 * @returns the final sessions, every firing, late events and dead letters
 * @example
 * ```ts
 * const env = StreamEnvironment.create();
 * const job = buildSessionization(sessionizationInput(env, { file: 'events.jsonl' }), { mode: 'per-device' });
 * const sessions = await job.sessions.executeAndCollect();
 * ```
 * @public
 */
export function buildSessionization(lines: DataStream<string>, options: SessionizationOptions = {}): SessionizationStreams {
  const o: ResolvedSessionizationOptions = { ...DEFAULT_SESSIONIZATION, ...options };
  const { mode, heartbeatIntervalMs } = o;
  const parsed = lines.process(new ParseClientEvents()).name('parse events').uid('parse-events').setParallelism(o.parseParallelism);
  const updates = parsed
    .assignTimestampsAndWatermarks(
      WatermarkStrategy.forBoundedOutOfOrderness<ClientEvent>(o.outOfOrdernessMs).withTimestampAssigner((e) => e.timestamp_ms),
    )
    .name('event time')
    .setParallelism(o.parseParallelism)
    .keyBy((e) => sessionKey(e, mode))
    .window(EventTimeSessionWindows.withGap<ClientEvent>(o.gapMs))
    .allowedLateness(o.allowedLatenessMs)
    .sideOutputLateData(LATE_EVENTS)
    .aggregate(new SessionAggregate(), new SessionWindowFunction(mode, heartbeatIntervalMs))
    .name('sessions')
    .uid('session-windows');
  return {
    updates,
    sessions: updates.getSideOutput(FINAL_SESSIONS),
    lateEvents: updates.getSideOutput(LATE_EVENTS),
    deadLetters: parsed.getSideOutput(DEAD_LETTERS),
    options: o,
  };
}

/**
 * Where the job's lines come from: a JSONL file, generated lines, or lines in memory.
 * @public
 */
export type SessionizationInput =
  | { readonly file: string | readonly string[] }
  | { readonly generate: Partial<SessionGeneratorOptions> }
  | { readonly lines: readonly string[] };

/**
 * The job's input stream: the lines of JSONL files ({@link LineFileSource}), lines from the
 * {@link SessionEventGenerator} ({@link IteratorSource}), or lines in memory.
 * @public
 */
export function sessionizationInput(env: StreamEnvironment, input: SessionizationInput): DataStream<string> {
  const none = WatermarkStrategy.noWatermarks<string>();
  if ('file' in input) return env.fromSource(new LineFileSource(input.file), none, 'JSONL file');
  if ('generate' in input) {
    const options = input.generate;
    return env.fromSource(new IteratorSource(() => new SessionEventGenerator(options).lines()), none, 'generated events');
  }
  return env.fromCollection(input.lines, 'lines');
}

/**
 * A sink that appends to an array (all subtasks share it), or only counts when `keep` is false.
 * @public
 */
export class ArraySink<T> implements Sink<T> {
  /** The records (empty when not kept). */
  readonly values: T[] = [];
  /** Number of records written. */
  count = 0;

  /** @param keep - whether to keep the records or only count them */
  constructor(private readonly keep = true) {}

  /** A writer appending to {@link ArraySink.values}. */
  createWriter(): SinkWriter<T> {
    return {
      write: (v: T): void => {
        this.count++;
        if (this.keep) this.values.push(v);
      },
    };
  }
}

/**
 * What {@link runSessionization} collected.
 * @public
 */
export interface SessionizationResult {
  /** Final sessions, in emission order. */
  readonly sessions: Session[];
  /** Late events, in arrival order. */
  readonly lateEvents: ClientEvent[];
  /** Dead letters, in input order (per reader). */
  readonly deadLetters: DeadLetter[];
  /** Firings of session windows (≥ sessions: late events cause updates). */
  readonly updates: number;
  /** Input lines read. */
  readonly lines: number;
  /** Wall time of the job, ms. */
  readonly durationMs: number;
  /** The options in effect. */
  readonly options: ResolvedSessionizationOptions;
}

/**
 * Builds the job on `input`, runs it to the end (bounded inputs) and collects its outputs.
 * @param env - a fresh environment (its parallelism applies to the keyed operators)
 * @public
 */
export async function runSessionization(
  env: StreamEnvironment,
  input: SessionizationInput,
  options: SessionizationOptions = {},
): Promise<SessionizationResult> {
  // Parse where the lines are read: one instance per file reader, one for the other inputs.
  const readers = 'file' in input ? Math.min(typeof input.file === 'string' ? 1 : input.file.length, env.parallelism) : 1;
  const job = buildSessionization(sessionizationInput(env, input), { parseParallelism: readers, ...options });
  const sessions = new ArraySink<Session>();
  const late = new ArraySink<ClientEvent>();
  const dead = new ArraySink<DeadLetter>();
  const updates = new ArraySink<Session>(false);
  job.sessions.sinkTo(sessions, 'sessions sink');
  job.lateEvents.sinkTo(late, 'late events sink');
  // Chained to the parser: dead letters keep their input order.
  job.deadLetters.sinkTo(dead, 'dead letters sink').setParallelism(job.options.parseParallelism);
  job.updates.sinkTo(updates, 'updates sink');
  const result = await env.execute('sessionization');
  return {
    sessions: sessions.values,
    lateEvents: late.values,
    deadLetters: dead.values,
    updates: updates.count,
    lines: result.metrics.sourceRecords,
    durationMs: result.durationMs,
    options: job.options,
  };
}
