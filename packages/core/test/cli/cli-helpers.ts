/**
 * Helpers of the `weir` CLI tests: temp directories, the built CLI run as a child process, and
 * {@link main} run in-process with captured output.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { type CliIO, main } from '../../src/cli/main.js';

/** The repository root. */
export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..');
/** The built CLI. */
export const WEIR_JS = join(ROOT, 'packages/core/dist/cli/weir.js');
/** Test job modules. */
export const FIXTURES = join(ROOT, 'packages/core/test/cli/fixtures');

/** Fails (never skips) when the CLI has not been built. */
export function requireBuiltCli(): void {
  if (!existsSync(WEIR_JS)) {
    throw new Error(
      `${WEIR_JS} is missing: build first (npm run build, or npx turbo run build; npm test builds before testing)`,
    );
  }
}

const dirs: string[] = [];
/** A fresh temp directory, removed after the test. */
export async function tempDir(prefix = 'weir-cli-'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** What a CLI run printed and how it ended. */
export interface CliResult {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running `node dist/cli/weir.js …` child. */
export interface WeirChild {
  readonly child: ChildProcess;
  /** Everything printed so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when stderr (or stdout) matches. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves when the process exits. */
  readonly exit: Promise<CliResult>;
}

/** Starts `node packages/core/dist/cli/weir.js <args>` in the repository root. */
export function spawnWeir(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): WeirChild {
  requireBuiltCli();
  const child = spawn(process.execPath, [WEIR_JS, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, NODE_OPTIONS: '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const watchers = new Set<() => void>();
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    for (const w of watchers) w();
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    for (const w of watchers) w();
  });
  const exit = new Promise<CliResult>((res, rej) => {
    child.on('error', rej);
    child.on('close', (status, signal) => res({ status, signal, stdout: out, stderr: err }));
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exit,
    waitFor(re, timeoutMs = 20_000) {
      return new Promise<void>((res, rej) => {
        const check = (): void => {
          if (re.test(err) || re.test(out)) {
            watchers.delete(check);
            clearTimeout(timer);
            res();
          }
        };
        const timer = setTimeout(() => {
          watchers.delete(check);
          rej(new Error(`timed out waiting for ${re} in the output of weir:\n${err}\n${out}`));
        }, timeoutMs);
        watchers.add(check);
        void exit.then(() => {
          if (watchers.has(check)) {
            check();
            if (watchers.has(check)) {
              watchers.delete(check);
              clearTimeout(timer);
              rej(new Error(`weir exited before printing ${re}:\n${err}\n${out}`));
            }
          }
        });
        check();
      });
    },
  };
}

/** Runs the built CLI to its end. */
export function runWeir(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return spawnWeir(args, options).exit;
}

/** Runs {@link main} in-process and captures what it prints. */
export async function runMain(argv: readonly string[], io: Partial<CliIO> = {}): Promise<{ status: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const status = await main(argv, {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    errIsTTY: false,
    columns: undefined,
    cwd: ROOT,
    handleSignals: false,
    ...io,
  });
  return { status, out, err };
}
