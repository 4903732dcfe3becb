/**
 * `weir run` as a child process: `node packages/core/dist/cli/weir.js run <module>`. These tests
 * need the build (`npm test` builds first); without it they fail and say so.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CheckpointSummary } from '../../src/cli/checkpoints.js';
import { FIXTURES, requireBuiltCli, runWeir, spawnWeir, tempDir } from './cli-helpers.js';

const COUNTER = join(FIXTURES, 'counter-job.mjs');

/** The per-key totals the counter job printed (one JSON line per key, `2> ` in front at parallelism > 1). */
function totals(stdout: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const { key, count } = JSON.parse(line.replace(/^\d+> /, '')) as { key: string; count: number };
    m.set(key, (m.get(key) ?? 0) + count);
  }
  return m;
}

function sum(m: Map<string, number>): number {
  return [...m.values()].reduce((a, b) => a + b, 0);
}

beforeAll(() => {
  requireBuiltCli();
});

describe('weir run', () => {
  it('runs a job module to its end: exit 0, the job output on stdout, the summary on stderr', async () => {
    const r = await runWeir(['run', COUNTER, '--count', '10000', '--keys', '3', '--parallelism', '2']);
    expect(r.stderr).toMatch(/^weir: running job 'counter' from .*counter-job\.mjs \(parallelism 2\)$/m);
    expect(r.stderr).toMatch(/^weir: job 'counter' finished in \S+: 10,000 records in \(\S+\/s\), 3 records out, watermark end$/m);
    expect(r.status).toBe(0);
    expect(totals(r.stdout)).toEqual(
      new Map([
        ['k0', 3334],
        ['k1', 3333],
        ['k2', 3333],
      ]),
    );
  });

  it('prints a progress line every interval when stderr is not a terminal', async () => {
    const r = await runWeir(['run', COUNTER, '--count', '20000', '--slow-every', '40', '--progress-interval', '100ms', '--no-print']);
    expect(r.status).toBe(0);
    const progress = r.stderr.split('\n').filter((l) => l.startsWith('weir: counter running'));
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[0]).toMatch(/^weir: counter running \S+ \| in [\d,]+ \(\S+\/s\) \| out [\d,]+ \(\S+\/s\) \| wm (-|\d{4}-\d\d-\d\dT[\d:.]+Z) \| chk -$/);
    expect(r.stderr).not.toContain('\r');
  });

  it('loads a TypeScript job module with tsx', async () => {
    const r = await runWeir(['run', join(FIXTURES, 'hello-job.ts'), '--up-to', '3']);
    expect(r.stderr).toMatch(/job 'hello-ts' finished/);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('hello 1\nhello 2\nhello 3\n');
  });

  it('exits 1 with the cause when the job fails', async () => {
    const r = await runWeir(['run', COUNTER, '--fail-at', '77']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^weir: job 'counter' failed: UserFunctionError: User function failed in operator 'maybe slow' .*: Error: boom at 77$/m);
  });

  it('exits 2 on a bad command line', async () => {
    const r = await runWeir(['run', COUNTER, '--cuont', '3']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--cuont' .*did you mean --count\?/);
  });

  it('SIGTERM with --stop-with-checkpoint stops cleanly (exit 0); --restore latest finishes the job exactly once', async () => {
    const dir = await tempDir();
    const common = ['run', COUNTER, '--count', '200000', '--keys', '4', '--checkpoint-dir', dir];
    const first = spawnWeir([...common, '--slow-every', '100', '--stop-with-checkpoint', '--progress-interval', '100ms']);
    await first.waitFor(/counter running \S+ \| in [1-9]/);
    first.child.kill('SIGTERM');
    const r1 = await first.exit;
    expect(r1.stderr).toMatch(/SIGTERM: stopping the job with a checkpoint/);
    expect(r1.stderr).toMatch(/^weir: job 'counter' stopped with a checkpoint in /m);
    expect(r1.stderr).toMatch(new RegExp(`^weir: last checkpoint \\d+ \\(.*\\) at ${dir}/chk-\\d+$`, 'm'));
    expect(r1.stderr).toMatch(/^weir: resume with: weir run .*counter-job\.mjs .* --restore latest$/m);
    expect(r1.status).toBe(0);
    expect(r1.stdout).toBe(''); // totals come at the end of input only

    const list = await runWeir(['checkpoints', dir, '--json']);
    expect(list.status).toBe(0);
    const [newest] = JSON.parse(list.stdout) as CheckpointSummary[];
    expect(newest).toMatchObject({ complete: true, job: 'counter' });
    expect(newest?.operators.find((o) => o.uid === 'count-per-key')?.stateBytes).toBeGreaterThan(0);

    const r2 = await runWeir([...common, '--restore', 'latest']);
    expect(r2.stderr).toMatch(new RegExp(`restoring the latest checkpoint \\(newest: ${newest?.checkpointId}\\)`));
    expect(r2.stderr).toMatch(/job 'counter' finished/);
    expect(r2.status).toBe(0);
    const t = totals(r2.stdout);
    expect(sum(t)).toBe(200_000);
    expect(t.get('k0')).toBe(50_000);
  });

  it('SIGTERM without --stop-with-checkpoint cancels (exit 143); SIGINT cancels (exit 130)', async () => {
    for (const [signal, status] of [
      ['SIGTERM', 143],
      ['SIGINT', 130],
    ] as const) {
      const run = spawnWeir(['run', COUNTER, '--count', '10000000', '--slow-every', '100', '--progress-interval', '100ms']);
      await run.waitFor(/counter running \S+ \| in [1-9]/);
      run.child.kill(signal);
      const r = await run.exit;
      expect(r.stderr).toContain(`${signal}: cancelling the job`);
      expect(r.stderr).toMatch(/^weir: job 'counter' cancelled in /m);
      expect(r.status).toBe(status);
    }
  });
});
