import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..', '..');
const JOB = join(here, 'crash-job.mjs');

interface Config {
  out: string;
  checkpoints: string;
  parallelism: number;
  backend: 'heap' | 'level';
  n: number;
  restore: boolean;
}

function requireBuilt(): void {
  for (const p of ['packages/core/dist/index.js', 'packages/connectors/dist/index.js']) {
    if (!existsSync(join(root, p))) throw new Error(`${p} is missing: the crash test runs the built packages; run \`npm run build\` first (npm test does)`);
  }
}

/**
 * Runs the job; kills it with SIGKILL once it reports having processed `killAfterRecords`
 * records in this attempt (if given). Killing by progress, not by time, makes every kill land
 * while the job runs, however fast the machine is. Resolves with how it ended.
 */
function runJob(cfg: Config, killAfterRecords: number | undefined): Promise<'finished' | 'killed'> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [JOB, JSON.stringify(cfg)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let killed = false;
    child.stdout.on('data', (d) => {
      out += String(d);
      if (killAfterRecords === undefined || killed) return;
      const progress = /P (\d+)\n(?![\s\S]*P \d+\n)/.exec(out);
      if (progress !== null && Number(progress[1]) >= killAfterRecords) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d) => (err += String(d)));
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(out.includes('FINISHED') ? 'finished' : 'killed');
      else if (code === 0 && out.includes('FINISHED')) resolve('finished');
      else reject(new Error(`job exited with ${code}: ${err.slice(-2000)}`));
    });
  });
}

interface Row {
  t: 'rec' | 'sum';
  x?: number;
  key?: number;
  count?: number;
  sum?: number;
}

async function committedRows(dir: string): Promise<Row[]> {
  const rows: Row[] = [];
  for (const name of await readdir(dir)) {
    if (name.startsWith('.')) continue; // in-progress and pending files are hidden
    const text = await readFile(join(dir, name), 'utf8');
    for (const line of text.split('\n')) if (line.length > 0) rows.push(JSON.parse(line) as Row);
  }
  return rows;
}

function checkExactlyOnce(rows: Row[], n: number): void {
  const seen = new Uint8Array(n + 1);
  const dupes: number[] = [];
  const sums = new Map<number, Row>();
  for (const r of rows) {
    if (r.t === 'rec') {
      const x = r.x as number;
      if (seen[x] === 1) dupes.push(x);
      seen[x] = 1;
    } else {
      expect(sums.has(r.key as number), `sum of key ${r.key} emitted twice`).toBe(false);
      sums.set(r.key as number, r);
    }
  }
  expect(dupes.slice(0, 10), 'records emitted twice').toEqual([]);
  let missing = 0;
  for (let x = 1; x <= n; x++) if (seen[x] === 0) missing++;
  expect(missing, 'records lost').toBe(0);
  for (let k = 0; k < 13; k++) {
    let count = 0;
    let sum = 0;
    for (let x = 1; x <= n; x++) {
      if (x % 13 === k) {
        count++;
        sum += x;
      }
    }
    expect(sums.get(k), `final state of key ${k}`).toEqual({ t: 'sum', key: k, count, sum });
  }
}

const N = 60_000;

describe('exactly-once under SIGKILL (crash injection)', () => {
  const cases: Array<{ name: string; backend: 'heap' | 'level'; parallelism: number[] }> = [
    { name: 'heap, parallelism 1', backend: 'heap', parallelism: [1] },
    { name: 'heap, parallelism 2', backend: 'heap', parallelism: [2] },
    { name: 'level, parallelism 1', backend: 'level', parallelism: [1] },
    { name: 'level, parallelism 2', backend: 'level', parallelism: [2] },
    { name: 'heap, rescaled 2 → 1 → 3 between restarts', backend: 'heap', parallelism: [2, 1, 3] },
  ];
  for (const c of cases) {
    it(`${c.name}: committed output equals the failure-free output`, async () => {
      requireBuilt();
      let killedMidRun = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.integer({ min: 1_000, max: 45_000 }), { minLength: 1, maxLength: 3 }), async (kills) => {
          const base = await mkdtemp(join(tmpdir(), 'weir-crash-'));
          try {
            const cfg = (attempt: number): Config => ({
              out: join(base, 'out'),
              checkpoints: join(base, 'cp'),
              parallelism: c.parallelism[attempt % c.parallelism.length] as number,
              backend: c.backend,
              n: N,
              restore: attempt > 0,
            });
            let attempt = 0;
            let finished = false;
            for (const after of kills) {
              const how = await runJob(cfg(attempt++), after);
              if (how === 'killed') killedMidRun++;
              if (how === 'finished') {
                finished = true;
                break;
              }
            }
            if (!finished) expect(await runJob(cfg(attempt), undefined)).toBe('finished');
            checkExactlyOnce(await committedRows(join(base, 'out')), N);
          } finally {
            await rm(base, { recursive: true, force: true });
          }
        }),
        { numRuns: 3 },
      );
      // The property is only meaningful if jobs were really killed while running.
      expect(killedMidRun).toBeGreaterThan(0);
    }, 300_000);
  }
});
