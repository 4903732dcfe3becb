/**
 * The sessionization example against a brute-force sessionization of the same input: final
 * sessions, late events (beyond the allowed lateness), dead letters with reasons, in both keying
 * modes, for a hand-made scenario, for generated dirty data and for random inputs.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ReaderOutput, type SourceOutput, type SourceReader, type SourceSplit, StreamEnvironment, WatermarkStrategy } from '@weir/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientEvent, type GeneratedLine, type LineDefect, SessionEventGenerator } from '../src/events.js';
import {
  DEFAULT_SESSIONIZATION,
  runSessionization,
  type SessionizationInput,
  type SessionizationResult,
  type SessionMode,
} from '../src/sessionization/job.js';
import { parseClientEvent } from '../src/sessionization/parse.js';
import type { Session } from '../src/sessionization/Session.js';
import { type SessionAccumulator, SessionAggregate } from '../src/sessionization/SessionAggregate.js';
import { IteratorSource } from '../src/sources/IteratorSource.js';
import { LineFileSource, type LineFileSplit } from '../src/sources/LineFileSource.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 3, 6, 16, 0, 0);

// ---------------------------------------------------------------------------------------------
// The brute-force reference.

interface RefConfig {
  readonly gapMs: number;
  readonly mode: SessionMode;
  readonly boundMs: number;
  readonly latenessMs: number;
  readonly heartbeatMs: number;
}

const DEFAULTS: RefConfig = {
  gapMs: DEFAULT_SESSIONIZATION.gapMs,
  mode: 'cross-device',
  boundMs: DEFAULT_SESSIONIZATION.outOfOrdernessMs,
  latenessMs: DEFAULT_SESSIONIZATION.allowedLatenessMs,
  heartbeatMs: DEFAULT_SESSIONIZATION.heartbeatIntervalMs,
};

interface RefResult {
  readonly sessions: Session[];
  readonly late: ClientEvent[];
  /** Merges of two or more sessions caused by one event while one of them had already fired. */
  readonly mergesAfterFiring: number;
}

const keyOf = (e: ClientEvent, mode: SessionMode): string => (mode === 'cross-device' ? e.user_id : `${e.user_id}|${e.device.type}`);

function toSession(key: string, events: readonly ClientEvent[], c: RefConfig): Session {
  const ts = events.map((e) => e.timestamp_ms);
  const first = Math.min(...ts);
  const last = Math.max(...ts);
  const heartbeats = events.filter((e) => e.event_type === 'playback.heartbeat').length;
  const bar = c.mode === 'per-device' ? key.lastIndexOf('|') : -1;
  return {
    key,
    user_id: bar < 0 ? key : key.slice(0, bar),
    device: bar < 0 ? null : key.slice(bar + 1),
    start: first,
    end: last,
    duration_ms: last - first,
    window_end: last + c.gapMs,
    events: events.length,
    plays: events.filter((e) => e.event_type === 'playback.started').length,
    heartbeats,
    watch_time_ms: heartbeats * c.heartbeatMs,
    contents: [...new Set(events.filter((e) => e.event_type.startsWith('playback.')).map((e) => e.content_id))].sort(),
    devices: [...new Set(events.map((e) => e.device.type))].sort(),
  };
}

/**
 * Sessionizes `arrival` (valid events in arrival order) the slow, obvious way: the watermark
 * before each event is `max timestamp so far − bound − 1`; a session `[first, last + gap)` is
 * closed for good once the watermark reaches `last + gap − 1 + lateness`; an event opens
 * `[ts, ts + gap)`, which absorbs every open session of its key that it overlaps or touches
 * (repeatedly, until none is left); an event that absorbs nothing and is itself past the
 * lateness is late.
 */
function referenceSessionization(arrival: readonly ClientEvent[], config: Partial<RefConfig> = {}): RefResult {
  const c = { ...DEFAULTS, ...config };
  const open = new Map<string, Array<{ start: number; end: number; events: ClientEvent[] }>>();
  const closed: Session[] = [];
  const late: ClientEvent[] = [];
  let mergesAfterFiring = 0;
  let maxTs = Number.NEGATIVE_INFINITY;
  for (const e of arrival) {
    const wm = maxTs - c.boundMs - 1;
    const key = keyOf(e, c.mode);
    const list = open.get(key) ?? [];
    for (const s of list.filter((s) => s.end - 1 + c.latenessMs <= wm)) closed.push(toSession(key, s.events, c));
    let live = list.filter((s) => s.end - 1 + c.latenessMs > wm);
    let start = e.timestamp_ms;
    let end = e.timestamp_ms + c.gapMs;
    const absorbed: typeof live = [];
    for (let changed = true; changed; ) {
      changed = false;
      for (const s of live) {
        if (s.start <= end && s.end >= start) {
          absorbed.push(s);
          start = Math.min(start, s.start);
          end = Math.max(end, s.end);
          changed = true;
        }
      }
      live = live.filter((s) => !absorbed.includes(s));
    }
    if (absorbed.length === 0 && end - 1 + c.latenessMs <= wm) {
      late.push(e);
    } else {
      if (absorbed.length >= 2 && absorbed.some((s) => s.end - 1 <= wm)) mergesAfterFiring++;
      live.push({ start, end, events: [...absorbed.flatMap((s) => s.events), e] });
    }
    open.set(key, live);
    maxTs = Math.max(maxTs, e.timestamp_ms);
  }
  for (const [key, list] of open) for (const s of list) closed.push(toSession(key, s.events, c));
  return { sessions: sortSessions(closed), late, mergesAfterFiring };
}

function sortSessions(xs: readonly Session[]): Session[] {
  return [...xs].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.start - b.start));
}

const byId = (xs: readonly ClientEvent[]): ClientEvent[] => [...xs].sort((a, b) => (a.event_id < b.event_id ? -1 : 1));

/** What a reason of the parser must start with, for each kind of defect the generator injects. */
const REASON: Record<LineDefect, string> = {
  truncated: 'invalid JSON: ',
  'not-json': 'invalid JSON: ',
  empty: 'empty line',
  'not-object': 'not a JSON object: got an array',
  'missing-user': "missing field 'user_id'",
  'bad-timestamp': "invalid field 'timestamp_ms': expected epoch milliseconds, got \"",
  'unknown-type': 'unknown event_type: "playback.strated"',
};

async function run(input: SessionizationInput, config: Partial<RefConfig>, parallelism = 1): Promise<SessionizationResult> {
  const c = { ...DEFAULTS, ...config };
  return runSessionization(StreamEnvironment.create({ parallelism }), input, {
    gapMs: c.gapMs,
    mode: c.mode,
    outOfOrdernessMs: c.boundMs,
    allowedLatenessMs: c.latenessMs,
    heartbeatIntervalMs: c.heartbeatMs,
  });
}

// ---------------------------------------------------------------------------------------------
// A hand-made day in the life of two users.

let nextId = 0;
function ev(user: string, device: string, type: string, minute: number, content: string, extraMs = 0): ClientEvent {
  return {
    event_id: `h${nextId++}`,
    event_type: type,
    timestamp_ms: T0 + minute * MIN + extraMs,
    user_id: user,
    session_id: `client-${user}-${device}`,
    content_id: content,
    device: { type: device, os: device === 'mobile' ? 'iOS' : 'tvOS', app_version: '5.12.0' },
    context: { page: 'home_feed', row: 'continue_watching', position: 1, algorithm: 'collab_filter_v2', experiment_id: 'exp_1', variant: 'control' },
  };
}

// u1 watches on the TV at minutes 0–10 (A) and 52–62 (C): 42 minutes apart, two sessions on
// time. A phone event at minute 31 (B), buffered offline, arrives after C started: A has fired
// but is within its lateness, so B bridges A and C into one cross-device session. A TV
// heartbeat of minute 5 arrives late too, within the lateness. u2's session ends at minute 4;
// a retry of one of its heartbeats arrives at the very end, beyond the lateness: late output.
const A = [
  ev('u1', 'smart_tv', 'playback.started', 0, 'c_1'),
  ev('u1', 'smart_tv', 'playback.heartbeat', 1, 'c_1'),
  ev('u1', 'smart_tv', 'playback.heartbeat', 3, 'c_1'),
  ev('u1', 'smart_tv', 'playback.heartbeat', 2, 'c_1'),
  ev('u1', 'smart_tv', 'playback.paused', 4, 'c_1'),
  ev('u1', 'smart_tv', 'nav.impression', 10, 'c_9'),
];
const U2 = [
  ev('u2', 'web', 'nav.search', 0, 'c_5'),
  ev('u2', 'web', 'nav.click', 1, 'c_5'),
  ev('u2', 'web', 'playback.started', 2, 'c_5'),
  ev('u2', 'web', 'playback.heartbeat', 3, 'c_5'),
  ev('u2', 'web', 'playback.heartbeat', 4, 'c_5'),
];
const C = [
  ev('u1', 'smart_tv', 'playback.started', 52, 'c_2'),
  ev('u1', 'smart_tv', 'playback.heartbeat', 53, 'c_2'),
  ev('u1', 'smart_tv', 'playback.heartbeat', 54, 'c_2'),
  ev('u1', 'smart_tv', 'playback.completed', 55, 'c_2'),
  ev('u1', 'smart_tv', 'engage.like', 62, 'c_2'),
];
const B = ev('u1', 'mobile', 'playback.started', 31, 'c_3');
const LATE_TV = ev('u1', 'smart_tv', 'playback.heartbeat', 5, 'c_1');
const TOO_LATE = ev('u2', 'web', 'playback.heartbeat', 3, 'c_5', 500);

const valid = (e: ClientEvent): string => JSON.stringify(e);
const MALFORMED: ReadonlyArray<readonly [string, string]> = [
  ['', 'empty line'],
  ['   ', 'empty line'],
  ['{"event_id": "x", ', 'invalid JSON: '],
  ['[1,2]', 'not a JSON object: got an array'],
  ['"just a string"', 'not a JSON object: got "just a string"'],
  [JSON.stringify({ ...A[0], user_id: undefined }), "missing field 'user_id'"],
  [JSON.stringify({ ...A[0], user_id: '' }), "invalid field 'user_id': expected a non-empty string, got \"\""],
  [
    JSON.stringify({ ...A[0], timestamp_ms: '2026-04-06T16:00:00.000Z' }),
    'invalid field \'timestamp_ms\': expected epoch milliseconds, got "2026-04-06T16:00:00.000Z"',
  ],
  [JSON.stringify({ ...A[0], timestamp_ms: 1.5 }), "invalid field 'timestamp_ms': expected epoch milliseconds, got number 1.5"],
  [JSON.stringify({ ...A[0], event_type: 'playback.strated' }), 'unknown event_type: "playback.strated"'],
  [JSON.stringify({ ...A[0], device: { ...A[0]?.device, type: 3 } }), "invalid field 'device.type': expected a non-empty string, got number 3"],
  [JSON.stringify({ ...A[0], context: null }), "invalid field 'context': expected an object, got null"],
  [JSON.stringify({ ...A[0], content_metadata: { genre: 'drama', duration_sec: 1, release_year: 2 } }), "invalid field 'content_metadata.genre'"],
];

const ARRIVAL: ClientEvent[] = [
  A[0],
  U2[0],
  A[1],
  U2[1],
  U2[2],
  A[2],
  A[3],
  U2[3],
  U2[4],
  A[4],
  A[5],
  C[0],
  B,
  LATE_TV,
  C[1],
  C[2],
  C[3],
  C[4],
  TOO_LATE,
] as ClientEvent[];
// Malformed lines between the valid ones: they must not disturb event time.
const SCENARIO_LINES: string[] = ARRIVAL.flatMap((e, i) => {
  const bad = MALFORMED[i];
  return bad === undefined ? [valid(e)] : [valid(e), bad[0]];
});

describe('a hand-made scenario', () => {
  it('cross-device: a late phone event within the lateness merges two TV sessions; later data goes to the late output', async () => {
    const r = await run({ lines: SCENARIO_LINES }, { mode: 'cross-device' });
    const u1: Session = {
      key: 'u1',
      user_id: 'u1',
      device: null,
      start: T0,
      end: T0 + 62 * MIN,
      duration_ms: 62 * MIN,
      window_end: T0 + 92 * MIN,
      events: 13,
      plays: 3,
      heartbeats: 6,
      watch_time_ms: 60_000,
      contents: ['c_1', 'c_2', 'c_3'],
      devices: ['mobile', 'smart_tv'],
    };
    const u2: Session = {
      key: 'u2',
      user_id: 'u2',
      device: null,
      start: T0,
      end: T0 + 4 * MIN,
      duration_ms: 4 * MIN,
      window_end: T0 + 34 * MIN,
      events: 5,
      plays: 1,
      heartbeats: 2,
      watch_time_ms: 20_000,
      contents: ['c_5'],
      devices: ['web'],
    };
    expect(sortSessions(r.sessions)).toEqual([u1, u2]);
    expect(r.lateEvents).toEqual([TOO_LATE]);
    // A fired on time, u2 fired on time, the merged session fired at the end of input.
    expect(r.updates).toBe(3);
    expect(referenceSessionization(ARRIVAL, { mode: 'cross-device' })).toEqual({ sessions: [u1, u2], late: [TOO_LATE], mergesAfterFiring: 1 });
  });

  it('per-device: the phone event is a session of its own; the late TV heartbeat updates a fired session', async () => {
    const r = await run({ lines: SCENARIO_LINES }, { mode: 'per-device' });
    const rows = sortSessions(r.sessions).map((s) => [s.key, (s.start - T0) / MIN, (s.end - T0) / MIN, s.events, s.plays, s.heartbeats, s.contents]);
    expect(rows).toEqual([
      ['u1|mobile', 31, 31, 1, 1, 0, ['c_3']],
      ['u1|smart_tv', 0, 10, 7, 1, 4, ['c_1']],
      ['u1|smart_tv', 52, 62, 5, 1, 2, ['c_2']],
      ['u2|web', 0, 4, 5, 1, 2, ['c_5']],
    ]);
    expect(r.sessions.every((s) => s.device === s.devices[0] && s.devices.length === 1)).toBe(true);
    expect(r.lateEvents).toEqual([TOO_LATE]);
    // A on time + A again for the late heartbeat, u2, B and C at the end.
    expect(r.updates).toBe(5);
    const ref = referenceSessionization(ARRIVAL, { mode: 'per-device' });
    expect(sortSessions(r.sessions)).toEqual(ref.sessions);
  });

  it('malformed lines go to the dead letters with their reason, in input order, and are counted', async () => {
    const r = await run({ lines: SCENARIO_LINES }, {});
    expect(r.deadLetters.map((d) => d.line)).toEqual(MALFORMED.map(([line]) => line));
    r.deadLetters.forEach((d, i) => expect(d.reason.startsWith((MALFORMED[i] as readonly [string, string])[1]), d.reason).toBe(true));
    expect(r.deadLetters).toHaveLength(MALFORMED.length);
    expect(r.lines).toBe(SCENARIO_LINES.length);
  });

  it('without lateness A is purged when C starts: B and the TV heartbeat then open a new session with C', async () => {
    const r = await run({ lines: SCENARIO_LINES }, { latenessMs: 0 });
    // B [31, 61) touches C [52, 82); the heartbeat of minute 5 [5, 35) touches that: one session
    // starting at minute 5 that overlaps the purged A in time, as in Flink.
    expect(sortSessions(r.sessions).map((s) => [s.key, (s.start - T0) / MIN, (s.end - T0) / MIN, s.events])).toEqual([
      ['u1', 0, 10, 6],
      ['u1', 5, 62, 7],
      ['u2', 0, 4, 5],
    ]);
    expect(r.lateEvents).toEqual([TOO_LATE]);
    const ref = referenceSessionization(ARRIVAL, { latenessMs: 0 });
    expect(sortSessions(r.sessions)).toEqual(ref.sessions);
    expect(ref.late).toEqual([TOO_LATE]);
  });
});

// ---------------------------------------------------------------------------------------------
// Generated dirty data.

describe('generated dirty data equals the brute-force sessionization', () => {
  const generated: GeneratedLine[] = [
    ...new SessionEventGenerator({ lines: 40_000, users: 150, dirty: true, offlineBurstRate: 0.4, malformedRate: 0.003, seed: 7 }),
  ];
  const lines = generated.map((g) => g.line);
  const events = generated.flatMap((g) => (g.event === undefined ? [] : [g.event]));
  let dir: string;
  let file: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weir-sessions-'));
    file = join(dir, 'events.jsonl');
    await writeFile(file, `${lines.join('\r\n')}\r\n`);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const mode of ['cross-device', 'per-device'] as const) {
    for (const parallelism of [1, 2]) {
      it(`${mode}, parallelism ${parallelism}`, async () => {
        const ref = referenceSessionization(events, { mode });
        const r = await run({ lines }, { mode }, parallelism);
        expect(sortSessions(r.sessions)).toEqual(ref.sessions);
        expect(byId(r.lateEvents)).toEqual(byId(ref.late));
        // The data exercises what the example is about.
        expect(ref.late.length).toBeGreaterThan(10);
        if (mode === 'cross-device') expect(ref.mergesAfterFiring).toBeGreaterThan(0);
        expect(r.updates).toBeGreaterThan(r.sessions.length);
        const defects = generated.filter((g) => g.defect !== undefined);
        expect(defects.length).toBeGreaterThan(30);
        expect(r.deadLetters.map((d) => d.line)).toEqual(defects.map((g) => g.line));
        r.deadLetters.forEach((d, i) => expect(d.reason.startsWith(REASON[defects[i]?.defect as LineDefect]), d.reason).toBe(true));
      });
    }
  }

  it('reading the same lines from a JSONL file (CRLF) gives the same results', async () => {
    const fromFile = await run({ file }, {});
    const fromMemory = await run({ lines }, {});
    expect(fromFile.sessions).toEqual(fromMemory.sessions);
    expect(fromFile.lateEvents).toEqual(fromMemory.lateEvents);
    expect(fromFile.deadLetters).toEqual(fromMemory.deadLetters);
    expect(fromFile.lines).toBe(lines.length);
  });

  it('per-device sessions never span devices; cross-device ones cover them', async () => {
    const cross = referenceSessionization(events, { mode: 'cross-device' }).sessions;
    const perDevice = referenceSessionization(events, { mode: 'per-device' }).sessions;
    expect(perDevice.every((s) => s.devices.length === 1 && s.devices[0] === s.device)).toBe(true);
    expect(cross.some((s) => s.devices.length > 1)).toBe(true);
  });
});

describe('the generator', () => {
  it('is deterministic and writes each event as JSON.stringify would', () => {
    const a = [...new SessionEventGenerator({ lines: 5_000, dirty: true, seed: 3 })];
    const b = [...new SessionEventGenerator({ lines: 5_000, dirty: true, seed: 3 })];
    expect(a).toEqual(b);
    for (const g of a) if (g.event !== undefined) expect(g.line).toBe(JSON.stringify(g.event));
    for (const g of a) expect(parseClientEvent(g.line).ok).toBe(g.defect === undefined);
  });

  it('clean data: users are active in bursts separated by more than 30 minutes, one per client session', async () => {
    const generated = [...new SessionEventGenerator({ lines: 30_000, users: 200, seed: 11 })];
    expect(generated.every((g) => g.defect === undefined)).toBe(true);
    const r = await run({ lines: generated.map((g) => g.line) }, {});
    expect(r.lateEvents).toEqual([]);
    expect(r.deadLetters).toEqual([]);
    expect(r.updates).toBe(r.sessions.length);
    const events = generated.map((g) => g.event as ClientEvent);
    const clientSessions = new Set(events.map((e) => e.session_id));
    expect(r.sessions.length).toBe(clientSessions.size);
    // Heartbeats every ~10 s: watch time is close to the time between a playback's heartbeats.
    expect(r.sessions.reduce((n, s) => n + s.heartbeats, 0)).toBeGreaterThan(events.length / 2);
    expect(r.sessions.some((s) => s.devices.length > 1)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Random inputs.

describe('random inputs equal the brute-force sessionization', () => {
  const DEVICES = ['smart_tv', 'mobile', 'web'] as const;
  const TYPES = ['playback.started', 'playback.heartbeat', 'playback.paused', 'nav.click', 'engage.like'] as const;
  const arbEvent = fc.record({
    user: fc.constantFrom('u1', 'u2', 'u3'),
    device: fc.constantFrom(...DEVICES),
    type: fc.constantFrom(...TYPES),
    content: fc.constantFrom('c_1', 'c_2', 'c_3', 'c_4'),
    // Clustered times, so there are sessions with gaps between them.
    minute: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 45, max: 60 }), fc.integer({ min: 100, max: 180 })),
    second: fc.integer({ min: 0, max: 59 }),
  });

  it('any arrival order, gap, bound, lateness and parallelism; both modes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbEvent, { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 40 }),
        fc.constantFrom(0, 10_000, 5 * MIN),
        fc.constantFrom(0, 5 * MIN, 30 * MIN),
        fc.constantFrom<SessionMode>('cross-device', 'per-device'),
        fc.constantFrom(1, 2),
        async (raw, gapMinutes, boundMs, latenessMs, mode, parallelism) => {
          const arrival = raw.map((x, i) => ({ ...ev(x.user, x.device, x.type, x.minute, x.content, x.second * 1000), event_id: `r${i}` }));
          const config = { gapMs: gapMinutes * MIN, boundMs, latenessMs, mode };
          const ref = referenceSessionization(arrival, config);
          const r = await run({ lines: arrival.map(valid) }, config, parallelism);
          expect(sortSessions(r.sessions)).toEqual(ref.sessions);
          expect(byId(r.lateEvents)).toEqual(byId(ref.late));
        },
      ),
      { numRuns: 80 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The session aggregate.

describe('SessionAggregate', () => {
  const agg = new SessionAggregate();
  const sample = [...new SessionEventGenerator({ lines: 400, users: 3, seed: 5 })].map((g) => g.event as ClientEvent);
  const accOf = (es: readonly ClientEvent[]): SessionAccumulator => es.reduce((acc, e) => agg.add(e, acc), agg.createAccumulator());

  it('merge of any split equals adding everything; merge never mutates its second argument; JSON round-trips', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: sample.length }), fc.integer({ min: 0, max: sample.length }), (i, j) => {
        const [x, y] = [Math.min(i, j), Math.max(i, j)];
        const a = accOf(sample.slice(0, x));
        const b = accOf(sample.slice(x, y));
        const c = accOf(sample.slice(y));
        const bBefore = structuredClone(b);
        const left = agg.merge(agg.merge(structuredClone(a), b), c);
        const right = agg.merge(structuredClone(a), agg.merge(structuredClone(b), c));
        const swapped = agg.merge(agg.merge(structuredClone(c), a), b);
        expect(b).toEqual(bBefore);
        const all = agg.getResult(accOf(sample));
        expect(agg.getResult(left)).toEqual(all);
        expect(agg.getResult(right)).toEqual(all);
        expect(agg.getResult(swapped)).toEqual(all);
        expect(JSON.parse(JSON.stringify(left))).toEqual(left);
      }),
    );
  });

  it('results are copies: later adds do not change a result already emitted', () => {
    const acc = accOf(sample.slice(0, 10));
    const before = agg.getResult(acc);
    const snapshot = structuredClone(before);
    for (const e of sample.slice(10)) agg.add(e, acc);
    expect(before).toEqual(snapshot);
  });
});

// ---------------------------------------------------------------------------------------------
// The sources.

type AnyReader<S> = Pick<SourceReader<string, S & SourceSplit>, 'pollNext' | 'isAvailable' | 'addSplits' | 'notifyNoMoreSplits' | 'close'>;

/** Drives a reader the way the runtime does (poll; on 'nothing' wait) until 'end' or `limit` lines. */
async function drain<S extends SourceSplit>(reader: AnyReader<S>, splits: S[], limit = Number.POSITIVE_INFINITY): Promise<string[]> {
  const out: string[] = [];
  const sink: SourceOutput<string> = { collect: (v) => void out.push(v), emitWatermark() {}, markIdle() {}, markActive() {} };
  const output: ReaderOutput<string> = { ...sink, createOutputForSplit: () => sink, releaseOutputForSplit() {} };
  reader.addSplits(splits);
  reader.notifyNoMoreSplits();
  while (out.length < limit) {
    const s = reader.pollNext(output);
    if (s === 'end') break;
    if (s === 'nothing') await reader.isAvailable();
  }
  if (out.length < limit) await reader.close();
  return out;
}

describe('LineFileSource', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weir-lines-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('splits on LF and CRLF, keeps empty lines, emits a last line without newline, skips a BOM, decodes UTF-8 across chunks', async () => {
    const text = '\ufeff{"a":"héllo wörld"}\r\n\r\nzwei 🎬 drei\n\nlast line ✓';
    const path = join(dir, 'mixed.jsonl');
    await writeFile(path, text);
    for (const chunkSize of [1, 2, 3, 7, 64 * 1024]) {
      const source = new LineFileSource(path, { chunkSize });
      const lines = await drain(source.createReader(), [{ splitId: 'f', path, offset: 0 }]);
      expect(lines).toEqual(['{"a":"héllo wörld"}', '', 'zwei 🎬 drei', '', 'last line ✓']);
    }
  });

  it('an empty file has no lines; a final newline adds none', async () => {
    const empty = join(dir, 'empty.jsonl');
    const one = join(dir, 'one.jsonl');
    await writeFile(empty, '');
    await writeFile(one, 'x\n');
    expect(await drain(new LineFileSource(empty).createReader(), [{ splitId: 'e', path: empty, offset: 0 }])).toEqual([]);
    expect(await drain(new LineFileSource(one).createReader(), [{ splitId: 'o', path: one, offset: 0 }])).toEqual(['x']);
  });

  it('checkpoints the byte offset of the next line and resumes there', async () => {
    const path = join(dir, 'resume.jsonl');
    await writeFile(path, 'α1\nβ2\r\nγ3\nδ4');
    const source = new LineFileSource(path, { chunkSize: 4 });
    const reader = source.createReader();
    const first = await drain(reader, [{ splitId: 'r', path, offset: 0 }], 2);
    expect(first).toEqual(['α1', 'β2']);
    const [split] = reader.snapshotState(1);
    expect(split?.offset).toBe(Buffer.byteLength('α1\nβ2\r\n'));
    await reader.close();
    const rest = await drain(source.createReader(), [split as LineFileSplit]);
    expect(rest).toEqual(['γ3', 'δ4']);
  });

  it('reads several files in parallel through the DataStream API', async () => {
    const paths = [0, 1, 2].map((i) => join(dir, `part-${i}.jsonl`));
    await Promise.all(paths.map((p, i) => writeFile(p, `${i}a\n${i}b\n`)));
    const env = StreamEnvironment.create({ parallelism: 2 });
    const lines = await env.fromSource(new LineFileSource(paths), WatermarkStrategy.noWatermarks<string>(), 'files').executeAndCollect();
    expect([...lines].sort()).toEqual(['0a', '0b', '1a', '1b', '2a', '2b']);
  });

  it('fails the job when a file is missing', async () => {
    await expect(run({ file: join(dir, 'missing.jsonl') }, {})).rejects.toThrow(/ENOENT/);
  });
});

describe('IteratorSource', () => {
  it('emits the iterator; a restored reader skips what was emitted', async () => {
    const source = new IteratorSource(() => ['a', 'b', 'c', 'd'][Symbol.iterator]());
    expect(await drain(source.createReader(), [{ splitId: 'i', position: 0 }])).toEqual(['a', 'b', 'c', 'd']);
    expect(await drain(source.createReader(), [{ splitId: 'i', position: 3 }])).toEqual(['d']);
  });
});
