// Helpers of the Kafka integration tests: topics, producing, reading back with read_committed,
// and job processes that can be killed with SIGKILL.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import type { Admin, IHeaders, Kafka } from 'kafkajs';
import { inject } from 'vitest';
import { fixKafkajsReadCommitted } from '../../src/kafka/kafkajs-fixes.js';
import { readKafkaTopic } from '../../src/testing/index.js';
import type { KafkaTestEnv } from './env.js';

const { Kafka: KafkaClass, logLevel, Partitioners } = kafkajs;

/** The broker the global setup provides; throws (failing the test) when there is none. */
export function kafkaEnv(): KafkaTestEnv {
  const env = inject('kafka');
  if (env === undefined) throw new Error('the kafka vitest project provides no broker: run the Kafka tests through the root vitest config');
  if (env.error) throw new Error(env.error);
  return env;
}

/** A unique name for a topic, group or prefix. */
export function uniq(name: string): string {
  return `${name}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** A kafkajs client for the test itself (with kafkajs's read_committed filtering fixed). */
export function client(brokers: string): Kafka {
  fixKafkajsReadCommitted();
  return new KafkaClass({
    brokers: brokers.split(','),
    clientId: 'weir-test',
    logLevel: logLevel.NOTHING,
    retry: { initialRetryTime: 100, retries: 10 },
  });
}

/** Runs `fn` with a connected admin. */
export async function withAdmin<R>(brokers: string, fn: (admin: Admin) => Promise<R>): Promise<R> {
  const admin = client(brokers).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Creates topics (one partition each unless given). */
export async function createTopics(brokers: string, topics: ReadonlyArray<{ topic: string; partitions?: number }>): Promise<void> {
  await withAdmin(brokers, async (admin) => {
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map((t) => ({ topic: t.topic, numPartitions: t.partitions ?? 1 })),
    });
  });
}

/** A record to produce. */
export interface TestMessage {
  readonly key?: string | null;
  readonly value: string | null;
  readonly partition?: number;
  readonly timestamp?: number;
  readonly headers?: IHeaders;
}

/** Produces messages (acks=all), in batches. */
export async function produce(brokers: string, topic: string, messages: readonly TestMessage[]): Promise<void> {
  const producer = client(brokers).producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 2000) {
      await producer.send({
        topic,
        acks: -1,
        messages: messages.slice(i, i + 2000).map((m) => ({
          key: m.key ?? null,
          value: m.value,
          ...(m.partition !== undefined ? { partition: m.partition } : {}),
          ...(m.timestamp !== undefined ? { timestamp: String(m.timestamp) } : {}),
          ...(m.headers !== undefined ? { headers: m.headers } : {}),
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

/** A record read back. */
export interface ReadRecord {
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly value: string | null;
  readonly timestamp: number;
}

/**
 * Reads a topic from the beginning to its current end (the last stable offset for
 * read_committed: a transaction left open would hold it back, and the read would miss what
 * follows), in partition/offset order, values as UTF-8 text.
 */
export async function readAll(
  brokers: string,
  topic: string,
  opts: { isolation?: 'read_committed' | 'read_uncommitted'; timeoutMs?: number } = {},
): Promise<ReadRecord[]> {
  const records = await readKafkaTopic(brokers, topic, opts);
  return records.map((r) => ({ ...r, value: r.value === null ? null : r.value.toString('utf8') }));
}

const here = fileURLToPath(new URL('.', import.meta.url));

/** A job running in a child process. */
export interface JobProcess {
  readonly child: ChildProcess;
  /** Stdout lines so far. */
  readonly lines: string[];
  /** Resolves with the exit code (null when killed) and signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  /** Resolves with the first stdout line that satisfies `pred` (rejects if the process exits first). */
  waitFor(pred: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>;
}

/**
 * Starts `jobs/<name>.ts` in a child Node process (TypeScript through tsx, with `@weir/*`
 * resolved to the sources), passing `config` as JSON in WEIR_JOB_CONFIG.
 */
export function startJob(name: string, config: object): JobProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', `${here}jobs/${name}.ts`], {
    env: {
      ...process.env,
      TSX_TSCONFIG_PATH: `${here}jobs/tsconfig.json`,
      WEIR_JOB_CONFIG: JSON.stringify(config),
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const listeners = new Set<(line: string) => void>();
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    let i = buf.indexOf('\n');
    while (i >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      for (const l of listeners) l(line);
      i = buf.indexOf('\n');
    }
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-20_000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
  return {
    child,
    lines,
    exited,
    waitFor(pred, timeoutMs = 120_000) {
      const found = lines.find(pred);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(l);
          reject(new Error(`timed out waiting for job output; stderr: ${stderr.slice(-2000)}`));
        }, timeoutMs);
        const l = (line: string): void => {
          if (!pred(line)) return;
          clearTimeout(timer);
          listeners.delete(l);
          resolve(line);
        };
        listeners.add(l);
        void exited.then(({ code, signal }) => {
          if (!listeners.has(l)) return;
          clearTimeout(timer);
          listeners.delete(l);
          reject(new Error(`job exited (code ${code}, signal ${signal}) before the awaited output; stderr: ${stderr.slice(-3000)}`));
        });
      });
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
