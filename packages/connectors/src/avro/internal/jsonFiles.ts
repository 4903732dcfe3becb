import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, readFile, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** The error code of a Node.js system error. @internal */
export function errnoCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

async function fsyncPath(path: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'r');
    await fh.sync();
  } catch (e) {
    // Platforms that cannot fsync a directory (Windows) make renames as durable as they can.
    const code = errnoCode(e);
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EACCES') throw e;
  } finally {
    await fh?.close().catch(() => {});
  }
}

/**
 * Writes `value` as JSON to `path` atomically and durably: a temporary file in the same
 * directory, fsynced, renamed over `path`, and the directory fsynced. Readers see the old or the
 * new content, never a torn file.
 * @internal
 */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(`${JSON.stringify(value, null, 2)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await fsyncPath(dir);
}

/** Reads a JSON file, or `undefined` when it does not exist. @internal */
export async function readJson<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
  return JSON.parse(text) as T;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A lock shared by processes: a directory created with `mkdir` (atomic). A lock older than
 * `staleMs` is taken to belong to a crashed holder and is broken.
 * @internal
 */
export async function withDirLock<T>(lockDir: string, timeoutMs: number, staleMs: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let wait = 2;
  await mkdir(dirname(lockDir), { recursive: true });
  for (;;) {
    try {
      await mkdir(lockDir);
      break;
    } catch (e) {
      if (errnoCode(e) !== 'EEXIST') throw e;
    }
    try {
      const st = await stat(lockDir);
      if (Date.now() - st.mtimeMs > staleMs) {
        await rm(lockDir, { recursive: true, force: true });
        continue;
      }
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') continue;
      throw e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for the lock ${lockDir}`);
    await sleep(wait);
    wait = Math.min(50, wait * 2);
  }
  try {
    await writeFile(`${lockDir}/owner`, `${process.pid}\n`).catch(() => {});
    return await fn();
  } finally {
    await rm(`${lockDir}/owner`, { force: true }).catch(() => {});
    await rmdir(lockDir).catch(() => {});
  }
}
