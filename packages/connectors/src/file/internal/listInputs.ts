import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Lists the files of the inputs: a file is itself; a directory gives its regular files that
 * pass `filter` (not recursive), sorted by name. Missing inputs are an error, unless
 * `allowMissingDirs` (continuous monitoring of a directory that does not exist yet).
 * @internal
 */
export async function listInputs(
  inputs: readonly string[],
  filter: (name: string, path: string) => boolean,
  allowMissing: boolean,
): Promise<string[]> {
  const out: string[] = [];
  for (const input of inputs) {
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(input);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        if (allowMissing) continue;
        throw new Error(`FileSource input ${input} does not exist`);
      }
      throw e;
    }
    if (!st.isDirectory()) {
      out.push(input);
      continue;
    }
    const entries = await readdir(input, { withFileTypes: true });
    const names = entries
      .filter((d) => d.isFile() && filter(d.name, join(input, d.name)))
      .map((d) => d.name)
      .sort();
    for (const n of names) out.push(join(input, n));
  }
  return out;
}
