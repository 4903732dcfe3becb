import { type FileHandle, open, stat } from 'node:fs/promises';

/**
 * Small file-system helpers shared by the file sink and source.
 * @internal
 */
export const fsx = {
  /** Writes all of `data` at the handle's current position. */
  async writeFully(fh: FileHandle, data: Uint8Array): Promise<void> {
    let off = 0;
    while (off < data.byteLength) {
      const { bytesWritten } = await fh.write(data, off, data.byteLength - off);
      if (bytesWritten <= 0) throw new Error('write returned 0 bytes');
      off += bytesWritten;
    }
  },

  /** Reads `length` bytes at `position`; fewer only at the end of the file. */
  async readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    let off = 0;
    while (off < length) {
      const { bytesRead } = await fh.read(buf, off, length - off, position + off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return off === length ? buf : buf.subarray(0, off);
  },

  /**
   * Makes renames and creations in `dir` durable. Platforms that cannot fsync a directory
   * (Windows) are tolerated: there, renames are as durable as the OS makes them.
   */
  async fsyncDir(dir: string): Promise<void> {
    let fh: FileHandle | undefined;
    try {
      fh = await open(dir, 'r');
      await fh.sync();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EACCES') throw e;
    } finally {
      await fh?.close().catch(() => {});
    }
  },

  /** Whether a path exists. */
  async exists(path: string): Promise<boolean> {
    try {
      await stat(path);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
  },

  /** The error code of a Node.js system error. */
  code(e: unknown): string | undefined {
    return (e as NodeJS.ErrnoException | undefined)?.code;
  },
};
