import { createHash, webcrypto } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeSnapshot, encodeSnapshot, type OperatorSubtaskSnapshot } from './OperatorSnapshot.js';

/**
 * One file of a checkpoint as its manifest records it.
 * @public
 */
export interface CheckpointFileEntry {
  /** File name inside the checkpoint directory. */
  readonly file: string;
  /** Operator uid. */
  readonly uid: string;
  /** Subtask index. */
  readonly subtask: number;
  /** Size in bytes. */
  readonly size: number;
  /** SHA-256 of the contents, hex. */
  readonly sha256: string;
}

/**
 * The manifest of a complete checkpoint, written last and atomically: a checkpoint directory
 * without a valid manifest, or whose files do not match it, is never restored.
 * @public
 */
export interface CheckpointManifest {
  /** Format version. */
  readonly format: 1;
  /** The job's name. */
  readonly job: string;
  /** Checkpoint id (increasing). */
  readonly checkpointId: number;
  /** When the checkpoint was triggered (epoch ms, processing time). */
  readonly timestamp: number;
  /** Number of key groups of the job. */
  readonly maxParallelism: number;
  /** Operators and their parallelism at the checkpoint. */
  readonly operators: ReadonlyArray<{ readonly uid: string; readonly name: string; readonly parallelism: number }>;
  /** The state files. */
  readonly files: readonly CheckpointFileEntry[];
  /**
   * Key-group blobs kept in `shared/` by content hash and referenced from state files: a blob
   * that did not change since an earlier checkpoint is not written again (incremental
   * checkpoints).
   */
  readonly shared?: ReadonlyArray<{ readonly hash: string; readonly size: number }>;
}

/**
 * A checkpoint read back from storage.
 * @public
 */
export interface RestoredCheckpoint {
  /** Its manifest. */
  readonly manifest: CheckpointManifest;
  /** The directory. */
  readonly path: string;
  /** Decoded snapshots by operator uid. */
  readonly snapshots: ReadonlyMap<string, readonly OperatorSubtaskSnapshot[]>;
}

/** Summary of a checkpoint directory (for `weir checkpoints`). @public */
export interface CheckpointInfo {
  /** The checkpoint's number. */
  readonly checkpointId: number;
  /** The directory. */
  readonly path: string;
  /** Whether it has a valid manifest (and, when verified, its files match their checksums). */
  readonly complete: boolean;
  /** When it was taken (epoch ms), if known. */
  readonly timestamp: number | undefined;
  /** Total size of its files in bytes, as the manifest lists them. */
  readonly sizeBytes: number;
  /** The decoded manifest, when it could be read. */
  readonly manifest: CheckpointManifest | undefined;
  /** Why the checkpoint cannot be restored, when it cannot. */
  readonly problem: string | undefined;
}

const MANIFEST = '_manifest.json';
const SHARED = 'shared';
/** Key-group blobs at least this large go to `shared/` (smaller ones stay inline). */
const SHARE_THRESHOLD = 256 * 1024;
const DIR_PREFIX = 'chk-';

function dirName(id: number): string {
  return `${DIR_PREFIX}${String(id).padStart(8, '0')}`;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * SHA-256 computed on the libuv thread pool (WebCrypto), so that hashing large files overlaps
 * reading, other hashes and the JavaScript thread's work.
 */
async function sha256Async(bytes: Uint8Array): Promise<string> {
  if (bytes.length < 64 * 1024) return sha256(bytes);
  return Buffer.from(await webcrypto.subtle.digest('SHA-256', bytes)).toString('hex');
}

/** I/O and hashing jobs in flight at once (the thread pool has 4 threads by default). */
const IO_CONCURRENCY = 4;

/** Runs `fn` over `items` with at most `limit` calls in flight; rejects with the first failure. */
async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

async function writeDurably(path: string, bytes: Uint8Array | string): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function syncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } catch {
    // Some file systems do not support fsync on directories; the rename is still atomic.
  } finally {
    await fh.close();
  }
}

/**
 * Checkpoints in a directory on the local file system: `chk-<id>/` holds one state file per
 * operator instance and a `_manifest.json` (file names, sizes, SHA-256 checksums) written
 * last, durably and atomically (temp file, fsync, rename, fsync of the directory).
 * @public
 */
export class CheckpointStorage {
  /** Hashes of blob objects already written (backends reuse the object of an unchanged key group). */
  private readonly known = new WeakMap<Uint8Array, string>();

  /** @param dir - the checkpoint directory (created when missing) */
  constructor(readonly dir: string) {}

  /** Writes the state files of checkpoint `id`, then its manifest. */
  async write(
    meta: Omit<CheckpointManifest, 'files' | 'format'>,
    snapshots: readonly OperatorSubtaskSnapshot[],
  ): Promise<{ path: string; sizeBytes: number }> {
    const path = join(this.dir, dirName(meta.checkpointId));
    await mkdir(path, { recursive: true });
    const files: CheckpointFileEntry[] = [];
    let sizeBytes = 0;
    const sharedDir = join(this.dir, SHARED);
    await mkdir(sharedDir, { recursive: true });
    const shared = new Map<string, Uint8Array>();
    // Hash new large blobs off the JavaScript thread first; encoding then only looks them up.
    const unhashed = new Set<Uint8Array>();
    for (const s of snapshots) {
      for (const st of s.keyed?.states ?? []) {
        for (const kg of st.keyGroups) if (kg.data.length >= SHARE_THRESHOLD && !this.known.has(kg.data)) unhashed.add(kg.data);
      }
    }
    await forEachLimit([...unhashed], IO_CONCURRENCY, async (blob) => {
      this.known.set(blob, await sha256Async(blob));
    });
    const externalize = (blob: Uint8Array): string | undefined => {
      if (blob.length < SHARE_THRESHOLD) return undefined;
      let hash = this.known.get(blob);
      if (hash === undefined) {
        hash = sha256(blob);
        this.known.set(blob, hash);
      }
      shared.set(hash, blob);
      return hash;
    };
    const encoded = snapshots.map((s) => encodeSnapshot(s, externalize));
    await Promise.all(
      [...shared].map(async ([hash, blob]) => {
        const target = join(sharedDir, `${hash}.kg`);
        const existing = await stat(target).catch(() => undefined);
        if (existing?.size === blob.length) return;
        const tmp = `${target}.${process.pid}.tmp`;
        await writeDurably(tmp, blob);
        await rename(tmp, target);
        sizeBytes += blob.length;
      }),
    );
    await Promise.all(
      snapshots.map(async (s, i) => {
        const bytes = encoded[i] as Uint8Array;
        const file = `${String(i).padStart(4, '0')}-${s.uid.replace(/[^A-Za-z0-9_.-]/g, '_')}-${s.subtask}.state`;
        const [, hash] = await Promise.all([writeDurably(join(path, file), bytes), sha256Async(bytes)]);
        files[i] = { file, uid: s.uid, subtask: s.subtask, size: bytes.length, sha256: hash };
        sizeBytes += bytes.length;
      }),
    );
    await syncDir(sharedDir);
    const manifest: CheckpointManifest = {
      format: 1,
      ...meta,
      files,
      shared: [...shared].map(([hash, blob]) => ({ hash, size: blob.length })),
    };
    const tmp = join(path, `${MANIFEST}.tmp`);
    await writeDurably(tmp, JSON.stringify(manifest, null, 1));
    await rename(tmp, join(path, MANIFEST));
    await syncDir(path);
    return { path, sizeBytes };
  }

  /** Every checkpoint directory, newest first, checked for completeness. */
  async list(verify = true): Promise<CheckpointInfo[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const ids = names
      .filter((n) => n.startsWith(DIR_PREFIX))
      .map((n) => Number(n.slice(DIR_PREFIX.length)))
      .filter((n) => Number.isInteger(n))
      .sort((a, b) => b - a);
    const out: CheckpointInfo[] = [];
    for (const id of ids) out.push(await this.inspect(id, verify));
    return out;
  }

  private async inspect(id: number, verify: boolean): Promise<CheckpointInfo> {
    const path = join(this.dir, dirName(id));
    let manifest: CheckpointManifest | undefined;
    let problem: string | undefined;
    let sizeBytes = 0;
    try {
      const text = await readFile(join(path, MANIFEST), 'utf8');
      manifest = JSON.parse(text) as CheckpointManifest;
      if (manifest.format !== 1 || manifest.checkpointId !== id || !Array.isArray(manifest.files)) {
        throw new Error('manifest does not describe this checkpoint');
      }
      for (const f of manifest.files) {
        sizeBytes += f.size;
        if (!verify) continue;
        const st = await stat(join(path, f.file));
        if (st.size !== f.size) throw new Error(`${f.file} has ${st.size} bytes, manifest says ${f.size}`);
        const bytes = await readFile(join(path, f.file));
        if ((await sha256Async(bytes)) !== f.sha256) throw new Error(`${f.file} does not match its checksum`);
      }
      for (const b of manifest.shared ?? []) {
        sizeBytes += b.size;
        if (!verify) continue;
        const bytes = await readFile(join(this.dir, SHARED, `${b.hash}.kg`)).catch(() => {
          throw new Error(`shared state blob ${b.hash} is missing`);
        });
        if (bytes.length !== b.size || (await sha256Async(bytes)) !== b.hash) throw new Error(`shared state blob ${b.hash} is corrupt`);
      }
    } catch (e) {
      problem = manifest === undefined ? `no valid manifest (${(e as Error).message})` : (e as Error).message;
    }
    return {
      checkpointId: id,
      path,
      complete: problem === undefined,
      timestamp: manifest?.timestamp,
      sizeBytes,
      manifest,
      problem,
    };
  }

  /**
   * Loads the newest checkpoint that is complete and intact. Each refused newer one is reported
   * through `warn` with the reason, and the previous complete one is used.
   */
  async loadLatest(warn: (message: string) => void): Promise<RestoredCheckpoint | undefined> {
    // `load` verifies every file against the manifest: listing does not read them a second time.
    for (const info of await this.list(false)) {
      if (!info.complete) {
        warn(`checkpoint ${info.checkpointId} at ${info.path} is refused: ${info.problem}`);
        continue;
      }
      try {
        return await this.load(info.path);
      } catch (e) {
        warn(`checkpoint ${info.checkpointId} at ${info.path} is refused: ${(e as Error).message}`);
      }
    }
    return undefined;
  }

  /** Loads and verifies the checkpoint at `path` (a `chk-*` directory); throws when it is not intact. */
  async load(path: string): Promise<RestoredCheckpoint> {
    try {
      return await this.loadUnchecked(path);
    } catch (e) {
      throw new Error(`cannot restore checkpoint ${path}: ${(e as Error).message}`, { cause: e });
    }
  }

  private async loadUnchecked(path: string): Promise<RestoredCheckpoint> {
    const manifest = JSON.parse(await readFile(join(path, MANIFEST), 'utf8')) as CheckpointManifest;
    // Shared blobs live beside the checkpoint directories (`<dir>/shared`).
    const sharedDir = join(path, '..', SHARED);
    if (manifest.format !== 1 || !Array.isArray(manifest.files)) throw new Error('unsupported checkpoint manifest');
    const snapshots = new Map<string, OperatorSubtaskSnapshot[]>();
    const blobs = new Map<string, Uint8Array>();
    // Files are read and hashed several at a time (thread pool), then decoded in manifest order.
    await forEachLimit(manifest.shared ?? [], IO_CONCURRENCY, async (b) => {
      const bytes = await readFile(join(sharedDir, `${b.hash}.kg`)).catch(() => {
        throw new Error(`shared state blob ${b.hash} is missing`);
      });
      if (bytes.length !== b.size || (await sha256Async(bytes)) !== b.hash) throw new Error(`shared state blob ${b.hash} is corrupt`);
      blobs.set(b.hash, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    });
    const resolve = (ref: string): Uint8Array => {
      const b = blobs.get(ref);
      if (b === undefined) throw new Error(`state refers to shared blob ${ref}, which the manifest does not list`);
      return b;
    };
    const fileBytes: Buffer[] = [];
    await forEachLimit(manifest.files, IO_CONCURRENCY, async (f, i) => {
      const bytes = await readFile(join(path, f.file));
      if (bytes.length !== f.size || (await sha256Async(bytes)) !== f.sha256) throw new Error(`${f.file} does not match the manifest`);
      fileBytes[i] = bytes;
    });
    for (const [i, f] of manifest.files.entries()) {
      const bytes = fileBytes[i] as Buffer;
      const snap = decodeSnapshot(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), resolve);
      if (snap.uid !== f.uid || snap.subtask !== f.subtask) throw new Error(`${f.file} holds the wrong operator`);
      const list = snapshots.get(snap.uid) ?? [];
      list.push(snap);
      snapshots.set(snap.uid, list);
    }
    return { manifest, path, snapshots };
  }

  /** Deletes checkpoint `id` if it has no manifest (an aborted checkpoint's partial files). */
  async discard(id: number): Promise<void> {
    const path = join(this.dir, dirName(id));
    const hasManifest = await stat(join(path, MANIFEST)).then(
      () => true,
      () => false,
    );
    if (!hasManifest) await rm(path, { recursive: true, force: true });
  }

  /** Keeps the newest `retain` complete checkpoints; deletes older ones and stale partial ones. */
  async prune(retain: number): Promise<void> {
    const all = await this.list(false);
    let kept = 0;
    const referenced = new Set<string>();
    let inFlight = false;
    for (const info of all) {
      const keep = info.complete && kept < retain;
      if (keep) {
        kept++;
        for (const b of info.manifest?.shared ?? []) referenced.add(b.hash);
        continue;
      }
      // A partial checkpoint newer than the newest complete one may still be being written.
      if (!info.complete && kept === 0) {
        inFlight = true;
        continue;
      }
      await rm(info.path, { recursive: true, force: true });
    }
    // Shared blobs no retained checkpoint refers to. While a checkpoint is being written its
    // new blobs are not referenced yet: keep everything then.
    if (inFlight) return;
    let names: string[] = [];
    try {
      names = await readdir(join(this.dir, SHARED));
    } catch {
      return;
    }
    for (const n of names) {
      const hash = n.endsWith('.kg') ? n.slice(0, -3) : undefined;
      if (hash !== undefined && !referenced.has(hash)) await rm(join(this.dir, SHARED, n), { force: true });
    }
  }

  /** Writes raw bytes (tests use it to corrupt files). @internal */
  static async overwrite(path: string, bytes: Uint8Array): Promise<void> {
    await writeFile(path, bytes);
  }
}
