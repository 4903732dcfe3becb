// examples/kafka-sessionization under kill -9: the job module runs through `weir run` in a child
// process against the test broker, is SIGKILLed mid-run (by its reported progress, so the kills
// land while it works), started again with `--restore latest` until its bounded input is done,
// and the sessions and dead-letter topics, read with read_committed, must hold exactly what a
// failure-free run of the same pipeline computes: no loss, no duplicates.
//
// The input is deterministic for any interleaving: one partition, and clean generated events
// (disorder within the watermark bound, so no event is ever late), plus a few records that are
// not Avro (they must reach the dead-letter topic once each).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfluentAvroSerde, type DeadLetter, deadLetterJsonSerde, EmbeddedSchemaRegistry, fixKafkajsReadCommitted } from '@weir/connectors';
import { kafkaEndOffsets, readKafkaTopic } from '@weir/connectors/testing';
import { StreamEnvironment } from '@weir/core';
import kafkajs from 'kafkajs';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { type ClientEvent, SessionEventGenerator } from '../src/events.js';
import { CLIENT_EVENT_SCHEMA } from '../src/kafka-sessionization/index.js';
import { buildSessionization } from '../src/sessionization/job.js';
import type { Session } from '../src/sessionization/Session.js';

const { Kafka: KafkaClient, logLevel, Partitioners } = kafkajs;

declare module 'vitest' {
  export interface ProvidedContext {
    /** What the `kafka` project's global setup provides (packages/connectors/test/kafka/env.ts). */
    kafka: { readonly brokers: string; readonly external: boolean; readonly dir: string; readonly error: string };
  }
}

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const WEIR = join(root, 'packages', 'core', 'bin', 'weir.js');
const JOB = join(root, 'examples', 'dist', 'kafka-sessionization', 'index.js');

const EVENTS = 150_000;
const SEED = 7;
/** Few users: the events span hours of event time, so sessions close (and are committed) while the job runs. */
const USERS = 100;
/** Offsets (in the events topic) where a record that is not Avro is inserted. */
const GARBAGE_AT = [150, 60_000, 140_000];

let brokers = '';
const dirs: string[] = [];
const children = new Set<ChildProcess>();

beforeEach(() => {
  const env = inject('kafka');
  if (env === undefined) throw new Error('the kafka vitest project provides no broker: run this test through the root vitest config');
  if (env.error) throw new Error(env.error);
  brokers = env.brokers;
  for (const p of ['packages/core/dist/cli/weir.js', 'packages/connectors/dist/index.js', 'examples/dist/kafka-sessionization/index.js']) {
    if (!existsSync(join(root, p))) throw new Error(`${p} is missing: this test runs the built job through \`weir run\`; run \`npm run build\` first`);
  }
});
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tmp(name: string): string {
  const d = mkdtempSync(join(tmpdir(), `weir-ks-${name}-`));
  dirs.push(d);
  return d;
}

function uniq(name: string): string {
  return `${name}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

function client(): Kafka {
  fixKafkajsReadCommitted();
  return new KafkaClient({ brokers: brokers.split(','), clientId: 'weir-ks-test', logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
}

/** The clean generated events, as the job sees them after Avro (nulls dropped, as the job's `toLine`). */
function generatedEvents(): ClientEvent[] {
  const out: ClientEvent[] = [];
  const generator = new SessionEventGenerator({ lines: EVENTS, seed: SEED, users: USERS, dirty: false });
  for (let l = generator.nextLine(); l !== undefined; l = generator.nextLine()) if (l.event !== undefined) out.push(l.event);
  return out;
}

/** Writes the events (Avro, keyed by user) and the garbage records to the single-partition events topic. */
async function produceInput(topic: string, registryDir: string, events: readonly ClientEvent[]): Promise<void> {
  const serde = ConfluentAvroSerde.forWriting<ClientEvent>({
    registry: new EmbeddedSchemaRegistry(registryDir),
    subject: ConfluentAvroSerde.topicSubject(topic),
    schema: CLIENT_EVENT_SCHEMA,
  });
  await serde.open();
  const messages: Array<{ key: string | null; value: Buffer }> = events.map((e) => ({ key: e.user_id, value: Buffer.from(serde.serialize(e)) }));
  for (const at of GARBAGE_AT) messages.splice(at, 0, { key: `garbage-${at}`, value: Buffer.from(`not avro #${at}`, 'utf8') });
  const kafka = client();
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
  await admin.disconnect();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let i = 0; i < messages.length; i += 2_000) {
    await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 2_000).map((m) => ({ ...m, partition: 0 })) });
  }
  await producer.disconnect();
}

/**
 * Creates the job's output topics before it runs (the job creates missing ones itself) so that
 * they keep every record whatever its timestamp: the sink writes event times as record timestamps,
 * and the generated events are dated 2026-04 — with a cluster's default 7-day time retention the
 * broker deletes them at its next retention check (this test once lost its first sessions so).
 */
async function createOutputTopics(topics: readonly string[]): Promise<void> {
  const admin = client().admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map((topic) => ({
        topic,
        numPartitions: 1,
        configEntries: [
          { name: 'retention.ms', value: '-1' },
          { name: 'segment.ms', value: '315360000000' },
        ],
      })),
    });
  } finally {
    await admin.disconnect();
  }
}

/** The failure-free result: the same pipeline in this process, on the same events in the same order. */
async function referenceSessions(events: readonly ClientEvent[]): Promise<string[]> {
  const lines = events.map((e) => JSON.stringify(e, (_k, v: unknown) => (v === null ? undefined : v)));
  const job = buildSessionization(StreamEnvironment.create({ parallelism: 1 }).fromCollection(lines));
  const sessions = await job.sessions.executeAndCollect();
  return sessions.map((s: Session) => JSON.stringify(s)).sort();
}

/** Reads a topic to its end with `isolation` (default read_committed): records with values, in offset order. */
async function readCommitted(
  topic: string,
  isolation: 'read_committed' | 'read_uncommitted' = 'read_committed',
): Promise<Array<{ offset: number; key: string | null; value: Buffer }>> {
  const records = await readKafkaTopic(brokers, topic, { isolation, timeoutMs: 30_000 });
  return records.flatMap((r) => (r.value === null ? [] : [{ offset: r.offset, key: r.key, value: r.value }]));
}

/**
 * Reads `topic` (read_committed) until it holds at least `n` records, or 15 s have passed: a
 * transaction's commit markers reach the partitions shortly after the commit returns (the job
 * may have exited already), and until then a read_committed reader stops short of them.
 * Returns the last read; the caller checks it (more than `n` is as wrong as fewer).
 */
async function readCommittedAtLeast(topic: string, n: number): Promise<Array<{ offset: number; key: string | null; value: Buffer }>> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const records = await readCommitted(topic);
    if (records.length >= n || Date.now() > deadline) return records;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** When to SIGKILL a run, from its progress lines (`| in N (…) | out M (…) | … | chk K (…)`). */
interface KillWhen {
  /** Checkpoints this attempt completed (ids count on across restores: counted from the first one seen). */
  readonly checkpoints: number;
  /** Records this attempt read. */
  readonly recordsIn: number;
}

const count = (s: string | undefined): number => Number((s ?? '0').replaceAll(',', ''));

/** What each `weir run` printed that tells how it went (its last progress line, warnings), for failure reports. */
const runReports: string[] = [];

/** `weir run` of the job module, SIGKILLed when `kill` says so (if given). Resolves with how it ended. */
function runJob(args: readonly string[], kill: KillWhen | undefined): Promise<'finished' | 'killed'> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WEIR, 'run', JOB, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' } });
    children.add(child);
    let err = '';
    let pending = '';
    let killed = false;
    let firstCheckpoint: number | undefined;
    let lastProgress = '';
    const notes: string[] = [];
    child.stdout.resume();
    child.stderr.on('data', (d: Buffer) => {
      const text = d.toString('utf8');
      err = (err + text).slice(-20_000);
      pending += text;
      const lines = pending.split(/\r?\n/);
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const m = /\| in ([\d,]+) .*\| chk (\S+)/.exec(line);
        if (m !== null) lastProgress = line;
        else if (line.trim() !== '' && notes.length < 20) notes.push(line.slice(0, 300));
        if (kill === undefined || killed || m === null) continue;
        const [, rin, chk] = m;
        if (chk === '-') continue;
        firstCheckpoint ??= count(chk);
        const now = count(chk) - firstCheckpoint + 1 >= kill.checkpoints && count(rin) >= kill.recordsIn;
        if (now) {
          killed = true;
          child.kill('SIGKILL');
        }
      }
    });
    child.on('exit', (code, signal) => {
      children.delete(child);
      runReports.push(`run ${runReports.length + 1} (${signal ?? `exit ${code}`}): ${lastProgress.trim()}${notes.length > 0 ? `\n    ${notes.join('\n    ')}` : ''}`);
      if (signal === 'SIGKILL' && killed) resolve('killed');
      else if (code === 0) resolve('finished');
      else reject(new Error(`weir run exited with code ${code}, signal ${signal}:\n${err.slice(-4_000)}`));
    });
  });
}

/**
 * A report for a failed comparison: the runs, the topic's last stable offset against its high
 * watermark (a transaction left open hides everything after it from read_committed readers), and
 * whether the missing sessions were written at all (read_uncommitted) — lost by the job, or
 * written in a transaction that was aborted or is still open.
 */
async function explainMismatch(topic: string, expected: readonly string[], got: readonly string[]): Promise<string> {
  const lso = await kafkaEndOffsets(brokers, topic, 'read_committed');
  const hw = await kafkaEndOffsets(brokers, topic, 'read_uncommitted');
  const all = await readCommitted(topic, 'read_uncommitted');
  const gotSet = new Set(got);
  const expectedSet = new Set(expected);
  const missing = expected.filter((e) => !gotSet.has(e));
  const offsetsOf = new Map<string, number[]>();
  for (const r of all) {
    const v = r.value.toString('utf8');
    const list = offsetsOf.get(v);
    if (list === undefined) offsetsOf.set(v, [r.offset]);
    else list.push(r.offset);
  }
  const writtenMissing = missing.filter((m) => offsetsOf.has(m));
  const missingOffsets = writtenMissing.flatMap((m) => offsetsOf.get(m) ?? []).sort((a, b) => a - b);
  const windowEnds = (list: readonly string[]): string => {
    const ends = list.map((v) => (JSON.parse(v) as Session).window_end).sort((a, b) => a - b);
    return ends.length === 0 ? '-' : `${ends[0]}..${ends[ends.length - 1]}`;
  };
  const lines = [
    `[kafka] kafka-sessionization MISMATCH: ${got.length} sessions read_committed, ${expected.length} expected`,
    `  ${topic}: last stable offset ${JSON.stringify([...lso])}, high watermark ${JSON.stringify([...hw])}, ${all.length} records read_uncommitted`,
    `  missing ${missing.length} (window ends ${windowEnds(missing)}; read ones ${windowEnds(got)}); ${writtenMissing.length} of them are in the topic read_uncommitted, at offsets ${missingOffsets.length === 0 ? '-' : `${missingOffsets[0]}..${missingOffsets[missingOffsets.length - 1]}`}`,
    `  unexpected: ${got.filter((g) => !expectedSet.has(g)).length}; duplicates: ${got.length - gotSet.size}`,
    ...runReports.map((r) => `  ${r}`),
  ];
  // A transaction left open ends with the transaction timeout (60 s): does the rest appear then?
  if ([...lso].some(([p, o]) => o < (hw.get(p) ?? 0))) {
    const deadline = Date.now() + 75_000;
    let now = lso;
    while (Date.now() < deadline && [...now].some(([p, o]) => o < (hw.get(p) ?? 0))) {
      await new Promise((r) => setTimeout(r, 1_000));
      now = await kafkaEndOffsets(brokers, topic, 'read_committed');
    }
    const later = await readCommitted(topic);
    lines.push(`  after waiting for open transactions: last stable offset ${JSON.stringify([...now])}, ${later.length} sessions read_committed`);
  }
  return `${lines.join('\n')}\n`;
}

describe('examples/kafka-sessionization under kill -9', () => {
  it('killed mid-run and restored with --restore latest, the sessions and dead-letter topics hold the failure-free result exactly once', async () => {
    const eventsTopic = uniq('ks-events');
    const sessionsTopic = uniq('ks-sessions');
    const deadLetterTopic = uniq('ks-dlq');
    const registryDir = tmp('registry');
    const events = generatedEvents();
    await produceInput(eventsTopic, registryDir, events);
    await createOutputTopics([sessionsTopic, deadLetterTopic]);
    const expected = await referenceSessions(events);
    expect(expected.length).toBeGreaterThan(50);

    const args = [
      '--brokers', brokers,
      '--events-topic', eventsTopic,
      '--sessions-topic', sessionsTopic,
      '--dead-letter-topic', deadLetterTopic,
      '--partitions', '1',
      '--registry', registryDir,
      '--group-id', uniq('ks-group'),
      '--transactional-id-prefix', uniq('ks-tx'),
      '--bounded',
      '--checkpoint-dir', tmp('chk'),
      '--checkpoint-interval', '100ms',
      '--progress-interval', '50ms',
    ];
    // Two kills while the job runs: the first after three checkpoints (the first dead letter is
    // committed by then, or being committed), the second in the restored attempt after its first
    // checkpoint; then runs to the end. All sessions are final only at the end of the input.
    const outcomes: string[] = [];
    outcomes.push(await runJob(args, { checkpoints: 3, recordsIn: 1 }));
    const dlqAfterFirstKill = (await readCommitted(deadLetterTopic)).length;
    for (let attempt = 0; attempt < 6 && outcomes[outcomes.length - 1] !== 'finished'; attempt++) {
      outcomes.push(await runJob([...args, '--restore', 'latest'], attempt === 0 ? { checkpoints: 1, recordsIn: 20_000 } : undefined));
    }
    expect(outcomes[outcomes.length - 1]).toBe('finished');
    expect(outcomes.filter((o) => o === 'killed').length).toBeGreaterThanOrEqual(1);
    process.stderr.write(`[kafka] kafka-sessionization: ${outcomes.join(' → ')}; ${dlqAfterFirstKill} dead letter(s) committed at the first kill; ${expected.length} sessions\n`);

    const sessions = await readCommittedAtLeast(sessionsTopic, expected.length);
    const got = sessions.map((r) => r.value.toString('utf8')).sort();
    if (got.length !== expected.length) process.stderr.write(await explainMismatch(sessionsTopic, expected, got));
    expect(got.length).toBe(expected.length);
    expect(got).toEqual(expected);

    const dead = await readCommittedAtLeast(deadLetterTopic, GARBAGE_AT.length);
    const letters = dead.map((r) => deadLetterJsonSerde.deserialize(r.value) as DeadLetter);
    // Inserted in order, each at its index of the growing list: their offsets are GARBAGE_AT.
    expect(letters.map((l) => l.offset).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(GARBAGE_AT);
    for (const l of letters) {
      expect(l).toMatchObject({ source: 'kafka', topic: eventsTopic, partition: 0, errorType: 'WireFormatError' });
      expect(Buffer.from(l.value).toString('utf8')).toBe(`not avro #${l.offset}`);
    }
  });
});
