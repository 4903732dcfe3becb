import { defineJob, isJob, resolveJobConfig, resolveJobEnvOptions, UsageError } from '@weir/core';
import { describe, expect, it } from 'vitest';
import { type ArgSpec, formatOptions, kebabCase, parseArgs, parseDuration } from '../../src/cli/args.js';
import { formatBytes, formatCompact, formatDuration, formatProgressLine, formatWatermark } from '../../src/cli/format.js';
import { runMain } from './cli-helpers.js';

const SPEC: Record<string, ArgSpec> = {
  parallelism: { type: 'integer', alias: 'p', min: 1, description: 'parallelism' },
  checkpointDir: { type: 'string', description: 'dir' },
  checkpointInterval: { type: 'duration', description: 'interval' },
  ratio: { type: 'number', default: 0.5, description: 'a ratio' },
  mode: { type: 'string', choices: ['a', 'b'], default: 'a', description: 'a mode' },
  verbose: { type: 'boolean', description: 'more output' },
  verify: { type: 'boolean', default: true, description: 'check' },
};

describe('parseArgs', () => {
  it('reads --name value, --name=value, kebab-case and camelCase, aliases and positionals', () => {
    const a = parseArgs(['job.js', '--checkpoint-dir', '/tmp/c', '--parallelism=4', '--checkpointInterval', '5s', 'extra'], SPEC);
    expect(a.positionals).toEqual(['job.js', 'extra']);
    expect(a.values).toEqual({ checkpointDir: '/tmp/c', parallelism: 4, checkpointInterval: 5000, ratio: 0.5, mode: 'a', verify: true });
    expect([...a.given].sort()).toEqual(['checkpointDir', 'checkpointInterval', 'parallelism']);
    expect(parseArgs(['-p', '2'], SPEC).values.parallelism).toBe(2);
  });

  it('reads flags: --flag, --flag=false, --no-flag; a flag never takes the next argument', () => {
    expect(parseArgs(['--verbose', 'job.js'], SPEC)).toMatchObject({ values: { verbose: true }, positionals: ['job.js'] });
    expect(parseArgs(['--verbose=false'], SPEC).values.verbose).toBe(false);
    expect(parseArgs(['--no-verify'], SPEC).values.verify).toBe(false);
    expect(() => parseArgs(['--verbose=maybe'], SPEC)).toThrow(/--verbose is a flag/);
  });

  it('parses numbers with separators and exponents, and durations with units', () => {
    expect(parseArgs(['--ratio', '1_000.5'], SPEC).values.ratio).toBe(1000.5);
    expect(parseArgs(['--ratio', '1e3'], SPEC).values.ratio).toBe(1000);
    expect(parseArgs(['--ratio', '-2'], SPEC).values.ratio).toBe(-2);
    expect([parseDuration('250'), parseDuration('250ms'), parseDuration('5s'), parseDuration('1.5m'), parseDuration('2h')]).toEqual([
      250, 250, 5000, 90_000, 7_200_000,
    ]);
    expect(() => parseDuration('soon')).toThrow(UsageError);
  });

  it('everything after -- is positional', () => {
    expect(parseArgs(['--', '--verbose', '-p'], SPEC).positionals).toEqual(['--verbose', '-p']);
  });

  it('rejects unknown options (with a suggestion), missing values, bad values, choices and minimums', () => {
    expect(() => parseArgs(['--checkpoint-dri', 'x'], SPEC)).toThrow(/unknown option '--checkpoint-dri'.*did you mean --checkpoint-dir/);
    expect(() => parseArgs(['--checkpoint-dir'], SPEC)).toThrow(/--checkpoint-dir needs a value/);
    expect(() => parseArgs(['--checkpoint-dir', '--verbose'], SPEC)).toThrow(/needs a value/);
    expect(() => parseArgs(['--parallelism', 'two'], SPEC)).toThrow(/--parallelism needs a number, got 'two'/);
    expect(() => parseArgs(['--parallelism', '1.5'], SPEC)).toThrow(/needs an integer/);
    expect(() => parseArgs(['--parallelism', '0'], SPEC)).toThrow(/must be >= 1/);
    expect(() => parseArgs(['--mode', 'c'], SPEC)).toThrow(/must be one of a, b/);
    expect(() => parseArgs(['-x'], SPEC)).toThrow(UsageError);
    expect(() => parseArgs(['-xyz'], SPEC)).toThrow(/long options start with --/);
  });

  it('keeps unknown options with their values when asked (the job module is found first)', () => {
    const a = parseArgs(['--events', '5', 'job.js', '--rate=3', '--parallelism', '2'], SPEC, { allowUnknown: true });
    expect(a.positionals).toEqual(['job.js']);
    expect(a.unknown).toEqual(['--events', '5', '--rate=3']);
    expect(a.values.parallelism).toBe(2);
  });

  it('formats options for --help', () => {
    const lines = formatOptions(SPEC);
    expect(lines.find((l) => l.includes('--parallelism'))).toMatch(/^\s+-p, --parallelism <n>\s+parallelism$/);
    expect(lines.find((l) => l.includes('--mode'))).toMatch(/--mode <a\|b>\s+a mode \(default: a\)/);
    expect(lines.find((l) => l.includes('--verbose'))).toMatch(/--verbose\s+more output$/);
    expect(kebabCase('checkpointDir')).toBe('checkpoint-dir');
  });
});

const job = defineJob({
  name: 'demo',
  description: 'a demo job',
  options: {
    events: { description: 'events', default: 1000, integer: true, min: 1 },
    rate: { description: 'rate', default: 0.5 },
    output: { description: 'output', default: '' },
    verbose: { description: 'verbose', default: false },
    mode: { description: 'mode', default: 'fast', choices: ['fast', 'slow'] },
  },
  defaults: { parallelism: 2, checkpoint: { intervalMs: 1000 } },
  build() {},
});

describe('job options', () => {
  it('defineJob checks the definition and brands the job', () => {
    expect(isJob(job)).toBe(true);
    expect(isJob({ name: 'x', build() {} })).toBe(false);
    expect(Object.isFrozen(job)).toBe(true);
    expect(() => defineJob({ name: '', build() {} })).toThrow(/name/);
    expect(() => defineJob({ name: 'x' } as never)).toThrow(/build/);
    expect(() => defineJob({ name: 'x', options: { parallelism: { description: '', default: 1 } }, build() {} })).toThrow(/reserved/);
    expect(() => defineJob({ name: 'x', options: { 'bad-name': { description: '', default: 1 } }, build() {} })).toThrow(/camelCase/);
    expect(() => defineJob({ name: 'x', options: { n: { description: '' } as never }, build() {} })).toThrow(/needs a default/);
  });

  it('resolves the config: defaults < args < overrides, typed by the defaults', () => {
    expect(resolveJobConfig(job)).toEqual({ events: 1000, rate: 0.5, output: '', verbose: false, mode: 'fast' });
    const c = resolveJobConfig(job, ['--events', '20_000', '--verbose', '--mode=slow', '--output', '-'], { rate: 2 });
    expect(c).toEqual({ events: 20_000, rate: 2, output: '-', verbose: true, mode: 'slow' });
    const events: number = c.events; // typed from the default
    expect(events).toBe(20_000);
  });

  it('rejects unknown and malformed job options', () => {
    expect(() => resolveJobConfig(job, ['--evnts', '3'])).toThrow(/unknown option '--evnts' for job 'demo' \(did you mean --events\?\)/);
    expect(() => resolveJobConfig(job, ['--events', '0'])).toThrow(/--events must be >= 1/);
    expect(() => resolveJobConfig(job, ['--mode', 'medium'])).toThrow(/must be one of fast, slow/);
    expect(() => resolveJobConfig(job, ['stray'])).toThrow(/no positional arguments/);
    expect(() => resolveJobConfig(job, [], { events: 'many' } as never)).toThrow(/must be a number/);
    expect(() => resolveJobConfig(job, [], { nope: 1 } as never)).toThrow(/has no option 'nope'/);
    try {
      resolveJobConfig(job, ['--events']);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
    }
  });

  it('merges environment options over the job defaults, checkpoint settings field by field', () => {
    expect(resolveJobEnvOptions(job)).toEqual({ parallelism: 2 }); // checkpoint wanted, but no dir: off
    expect(resolveJobEnvOptions(job, { parallelism: 3, checkpoint: { dir: '/tmp/c' } })).toEqual({
      parallelism: 3,
      checkpoint: { intervalMs: 1000, dir: '/tmp/c' },
    });
    expect(() => resolveJobEnvOptions(job, { restore: 'latest' })).toThrow(/needs a directory/);
  });
});

describe('formatting', () => {
  it('formats counts, sizes, durations and watermarks', () => {
    expect([formatCompact(812), formatCompact(81_234), formatCompact(1_234_567)]).toEqual(['812', '81.2k', '1.23M']);
    expect([formatBytes(512), formatBytes(12_595), formatBytes(4_718_592)]).toEqual(['512 B', '12.3 KiB', '4.50 MiB']);
    expect([formatDuration(850), formatDuration(12_345), formatDuration(245_000), formatDuration(7_380_000)]).toEqual([
      '850ms',
      '12.3s',
      '4m05s',
      '2h03m',
    ]);
    expect([formatWatermark(Number.NEGATIVE_INFINITY), formatWatermark(Number.POSITIVE_INFINITY), formatWatermark(0)]).toEqual([
      '-',
      'end',
      '1970-01-01T00:00:00.000Z',
    ]);
  });

  it('formats a progress line: records in/out per second, watermark, last checkpoint, status', () => {
    const line = formatProgressLine(
      {
        jobName: 'ppm',
        status: 'running',
        uptimeMs: 4000,
        recordsIn: 812_345,
        recordsOut: 1234,
        recordsInPerSecond: 203_000,
        recordsOutPerSecond: 308,
        watermark: Date.UTC(2026, 2, 1, 10, 4),
        lastCheckpoint: { checkpointId: 3, path: '/c/chk-3', sizeBytes: 10, timestamp: 10_000, durationMs: 500 },
        backpressuredTasks: 0,
        final: false,
        metrics: {} as never,
      },
      11_700,
    );
    expect(line).toBe('ppm running 4.0s | in 812,345 (203k/s) | out 1,234 (308/s) | wm 2026-03-01T10:04:00.000Z | chk 3 (1.2s ago)');
  });
});

describe('weir --help', () => {
  it('prints the commands', async () => {
    const r = await runMain(['--help']);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/Usage: weir <command>/);
    expect(r.out).toMatch(/run <job-module>/);
    expect(r.out).toMatch(/checkpoints <dir>/);
    expect((await runMain([])).status).toBe(2);
  });

  it('weir run --help prints the run options', async () => {
    const r = await runMain(['run', '--help']);
    expect(r.status).toBe(0);
    for (const flag of ['--checkpoint-dir', '--checkpoint-interval', '--parallelism', '--restore', '--state-backend', '--stop-with-checkpoint']) {
      expect(r.out).toContain(flag);
    }
    expect(r.out).toMatch(/weir run <job-module> --help/);
  });

  it("weir run <job> --help adds the job's own options", async () => {
    const r = await runMain(['run', 'packages/core/test/cli/fixtures/counter-job.mjs', '--help']);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/Job 'counter': counts numbers per key/);
    expect(r.out).toMatch(/--count <n>\s+How many numbers \(default: 1000\)/);
    expect(r.out).toMatch(/--slow-every <n>/);
    expect(r.out).toMatch(/--print\s+Print the totals/);
  });

  it('weir checkpoints --help', async () => {
    const r = await runMain(['checkpoints', '--help']);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/--json/);
  });

  it('usage errors exit with 2 and say what is wrong', async () => {
    expect(await runMain(['frob'])).toMatchObject({ status: 2, err: expect.stringMatching(/unknown command 'frob'/) });
    expect(await runMain(['run'])).toMatchObject({ status: 2, err: expect.stringMatching(/needs a job module/) });
    expect(await runMain(['run', 'missing.js'])).toMatchObject({ status: 2, err: expect.stringMatching(/job module not found/) });
    expect(await runMain(['run', 'packages/core/test/cli/fixtures/not-a-job.mjs'])).toMatchObject({
      status: 2,
      err: expect.stringMatching(/is not a job module: it needs `export default defineJob/),
    });
    const job = 'packages/core/test/cli/fixtures/counter-job.mjs';
    expect(await runMain(['run', job, '--cuont', '3'])).toMatchObject({ status: 2, err: expect.stringMatching(/did you mean --count\?/) });
    expect(await runMain(['run', job, '--restore', 'latest'])).toMatchObject({ status: 2, err: expect.stringMatching(/needs --checkpoint-dir/) });
    expect(await runMain(['run', job, '--stop-with-checkpoint'])).toMatchObject({ status: 2, err: expect.stringMatching(/needs checkpointing/) });
    expect(await runMain(['run', job, '--state-backend', 'rocks'])).toMatchObject({ status: 2, err: expect.stringMatching(/heap, level/) });
    expect(await runMain(['checkpoints'])).toMatchObject({ status: 2, err: expect.stringMatching(/needs one directory/) });
  });
});
