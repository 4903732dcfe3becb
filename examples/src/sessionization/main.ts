/**
 * The sessionization job from the command line.
 *
 * ```sh
 * node dist/sessionization/main.js --input events.jsonl [--per-device] [--gap-min 30] [--lateness-min 15]
 * node dist/sessionization/main.js --lines 200000 --users 2000 [--clean] [--write-input events.jsonl]
 * ```
 *
 * Without `--input` it sessionizes generated events (dirty unless `--clean`); `--write-input`
 * writes those lines to a JSONL file first and reads them back from it. `--output`,
 * `--late-output` and `--dead-letters` write the results as JSONL.
 * @packageDocumentation
 */
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { StreamEnvironment } from '@weir/core';
import { SessionEventGenerator } from '../events.js';
import { runSessionization, type SessionizationInput, type SessionMode } from './job.js';
import { summarizeSessionization } from './summary.js';

const HELP = `usage: sessionization [--input FILE]... [--lines N] [--users N] [--seed N] [--clean] [--write-input FILE]
                      [--gap-min M] [--per-device] [--bound-ms MS] [--lateness-min M] [--heartbeat-ms MS]
                      [--parallelism P] [--output FILE] [--late-output FILE] [--dead-letters FILE]`;

/** Writes `values` as JSONL to `path`. */
async function writeJsonl(path: string, values: Iterable<unknown>): Promise<void> {
  const out = createWriteStream(path);
  for (const v of values) if (!out.write(`${typeof v === 'string' ? v : JSON.stringify(v)}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
  out.end();
  await finished(out);
}

/**
 * Parses the arguments, runs the job, prints a summary and writes the requested outputs.
 * @public
 */
export async function main(argv: readonly string[]): Promise<void> {
  const { values: a } = parseArgs({
    args: [...argv],
    options: {
      input: { type: 'string', multiple: true },
      lines: { type: 'string', default: '200000' },
      users: { type: 'string', default: '2000' },
      seed: { type: 'string', default: '42' },
      clean: { type: 'boolean', default: false },
      'write-input': { type: 'string' },
      'gap-min': { type: 'string', default: '30' },
      'per-device': { type: 'boolean', default: false },
      'bound-ms': { type: 'string', default: '10000' },
      'lateness-min': { type: 'string', default: '15' },
      'heartbeat-ms': { type: 'string', default: '10000' },
      parallelism: { type: 'string', default: '1' },
      output: { type: 'string' },
      'late-output': { type: 'string' },
      'dead-letters': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (a.help) {
    console.log(HELP);
    return;
  }
  const num = (name: string, v: string | undefined): number => {
    const x = Number(String(v).replace(/_/g, ''));
    if (!Number.isFinite(x) || x < 0) throw new RangeError(`--${name} must be a number >= 0, got ${v}`);
    return x;
  };
  let input: SessionizationInput;
  let what: string;
  if (a.input !== undefined && a.input.length > 0) {
    input = { file: a.input };
    what = a.input.join(', ');
  } else {
    const generate = { lines: num('lines', a.lines), users: num('users', a.users), seed: num('seed', a.seed), dirty: !a.clean };
    what = `${generate.lines.toLocaleString('en-US')} generated lines (${generate.dirty ? 'dirty' : 'clean'})`;
    input = { generate };
    const path = a['write-input'];
    if (path !== undefined) {
      await writeJsonl(path, new SessionEventGenerator(generate).lines());
      input = { file: path };
      what += `, written to ${path}`;
    }
  }
  const env = StreamEnvironment.create({ parallelism: num('parallelism', a.parallelism) });
  const mode: SessionMode = a['per-device'] ? 'per-device' : 'cross-device';
  const r = await runSessionization(env, input, {
    gapMs: num('gap-min', a['gap-min']) * 60_000,
    mode,
    outOfOrdernessMs: num('bound-ms', a['bound-ms']),
    allowedLatenessMs: num('lateness-min', a['lateness-min']) * 60_000,
    heartbeatIntervalMs: num('heartbeat-ms', a['heartbeat-ms']),
  });
  console.log(`sessionization of ${what}`);
  for (const line of summarizeSessionization(r)) console.log(line);
  if (a.output !== undefined) await writeJsonl(a.output, r.sessions);
  if (a['late-output'] !== undefined) await writeJsonl(a['late-output'], r.lateEvents);
  if (a['dead-letters'] !== undefined) await writeJsonl(a['dead-letters'], r.deadLetters);
}

await main(process.argv.slice(2));
