import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isJob, runJob, startJob, StreamEnvironment } from '@weir/core';
import { afterEach, describe, expect, it } from 'vitest';
import job from '../src/plays-per-minute/index.js';
import { buildPlaysPerMinute, type MinutePlays } from '../src/plays-per-minute/job.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'weir-ppm-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

function key(r: MinutePlays): string {
  return `${r.content_id}@${r.minute}`;
}

/** The committed (visible) part files of a FileSink directory. */
function readParts(dir: string): MinutePlays[] {
  const files = readdirSync(dir).filter((f) => !f.startsWith('.') && f.endsWith('.jsonl'));
  return files.flatMap((f) =>
    readFileSync(join(dir, f), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as MinutePlays),
  );
}

async function reference(events: number): Promise<string[]> {
  const rows = await buildPlaysPerMinute(StreamEnvironment.create(), events).executeAndCollect();
  return rows.map((r) => JSON.stringify(r)).sort();
}

describe('plays-per-minute job module', () => {
  it('is a job with an --events option', () => {
    expect(isJob(job)).toBe(true);
    expect(job.name).toBe('plays-per-minute');
    expect(Object.keys(job.options ?? {})).toContain('events');
  });

  it('writes the same counts as the library function, into JSON-lines part files', async () => {
    const out = await tempDir();
    const r = await runJob(job, { args: ['--events', '20000', '--output', out] });
    expect(r.status).toBe('finished');
    const rows = readParts(out);
    expect(rows.length).toBe(r.metrics.sinkRecords);
    expect(rows.map((x) => JSON.stringify(x)).sort()).toEqual(await reference(20_000));
    expect(new Set(rows.map(key)).size).toBe(rows.length);
  });

  it('stopped with a checkpoint and restored, the output is exactly that of one run', async () => {
    const out = await tempDir();
    const chk = await tempDir();
    const args = ['--events', '60000', '--output', out];
    const envOptions = { checkpoint: { dir: chk, intervalMs: 100 } };
    const first = await startJob(job, { args: [...args, '--rate', '60000'], envOptions });
    await new Promise((r) => setTimeout(r, 400));
    await first.stopWithCheckpoint();
    const r1 = await first.done;
    expect(r1.status).toBe('stopped');
    expect(r1.metrics.sourceRecords).toBeLessThan(60_000);
    const r2 = await runJob(job, { args, envOptions: { ...envOptions, restore: 'latest' } });
    expect(r2.status).toBe('finished');
    expect(readParts(out).map((x) => JSON.stringify(x)).sort()).toEqual(await reference(60_000));
  });
});
