/**
 * Loads a job module for `weir run`.
 *
 * - `.js` / `.mjs` / `.cjs`: imported as is.
 * - `.ts` / `.mts` / `.cts`: when the process already runs with a TypeScript loader
 *   (`node --import tsx …`) the module is imported as is; otherwise `tsx` is looked up (next to
 *   the module, then next to `@weir/core`) and registered in this process (`tsx/esm/api`);
 *   without tsx, the compiled sibling is used when there is one (`src/…/x.ts` →
 *   `dist/…/x.js`), else the load fails with a message saying what to do.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isJob, type Job } from '../api/Job.js';
import { UsageError } from './args.js';

const TS = new Set(['.ts', '.mts', '.cts']);

let tsxRegistered = false;

function typeScriptLoaderActive(): boolean {
  const flags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ');
  return /\btsx\b/.test(flags) || /--(experimental-)?strip-types|--experimental-transform-types/.test(flags);
}

/** The ESM entry of `tsx/esm/api` as tsx's exports map names it, found from `base`. */
function tsxEsmApi(base: string): string | undefined {
  try {
    const pkgPath = createRequire(base).resolve('tsx/package.json');
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports?: Record<string, unknown> };
    const entry = pkg.exports?.['./esm/api'] as { import?: string | { default?: string } } | undefined;
    const target = typeof entry?.import === 'string' ? entry.import : entry?.import?.default;
    return target !== undefined ? join(dirname(pkgPath), target) : undefined;
  } catch {
    return undefined;
  }
}

async function registerTsx(modulePath: string): Promise<boolean> {
  if (tsxRegistered || typeScriptLoaderActive()) return true;
  for (const base of [modulePath, import.meta.filename ?? join(process.cwd(), 'x.js')]) {
    const api = tsxEsmApi(base);
    if (api === undefined) continue;
    const mod = (await import(pathToFileURL(api).href)) as { register?: () => unknown };
    const register = mod.register;
    if (typeof register !== 'function') continue;
    register();
    tsxRegistered = true;
    return true;
  }
  return false;
}

/** `…/src/a/b.ts` → `…/dist/a/b.js`, when that file exists. */
function compiledSibling(path: string): string | undefined {
  const marker = `${sep}src${sep}`;
  const at = path.lastIndexOf(marker);
  if (at < 0) return undefined;
  const js = `${path.slice(0, at)}${sep}dist${sep}${path.slice(at + marker.length)}`.replace(/\.(m|c)?ts$/, (_, m: string | undefined) => `.${m ?? ''}js`);
  return existsSync(js) ? js : undefined;
}

/**
 * Where a job module comes from and how it was loaded.
 * @internal
 */
export interface LoadedJob {
  /** The job. */
  readonly job: Job;
  /** The file that was imported. */
  readonly path: string;
  /** How a `.ts` file was loaded (`tsx`, `compiled`), or `js`. */
  readonly via: 'js' | 'tsx' | 'compiled';
}

/**
 * Imports the job module at `spec` (relative to `cwd`) and returns its job: the default export,
 * or else the only named export that is a job.
 * @throws UsageError when the file is missing, cannot be loaded, or exports no job
 * @internal
 */
export async function loadJobModule(spec: string, cwd: string = process.cwd()): Promise<LoadedJob> {
  let path = resolve(cwd, spec);
  if (!existsSync(path)) throw new UsageError(`job module not found: ${path}`);
  let via: LoadedJob['via'] = 'js';
  if (TS.has(extname(path))) {
    if (await registerTsx(path)) {
      via = 'tsx';
    } else {
      const js = compiledSibling(path);
      if (js === undefined) {
        throw new UsageError(
          `cannot load the TypeScript module ${path}: tsx is not installed. Install it (npm install --save-dev tsx), run 'node --import tsx weir.js run …', or build the module and run its .js file`,
        );
      }
      path = js;
      via = 'compiled';
    }
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (e) {
    const err = new Error(`cannot load job module ${path}: ${(e as Error).message ?? String(e)}`, { cause: e });
    throw err;
  }
  if (isJob(mod.default)) return { job: mod.default, path, via };
  const named = Object.entries(mod).filter(([, v]) => isJob(v));
  if (named.length === 1) return { job: (named[0] as [string, Job])[1], path, via };
  if (named.length > 1) {
    throw new UsageError(`${path} exports several jobs (${named.map(([k]) => k).join(', ')}); make one the default export`);
  }
  throw new UsageError(`${path} is not a job module: it needs \`export default defineJob({ name, build(env, config) { … } })\` (defineJob from @weir/core)`);
}
