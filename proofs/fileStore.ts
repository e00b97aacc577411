import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FetchedFile } from './attachmentFetcher';

/**
 * Proof files on disk, content-addressed: `<dir>/<first 2 hex of the SHA-256>/<SHA-256>`. The
 * name is the content's hash, so storing the same file twice is a no-op and a record only needs
 * the hash to find its file.
 *
 * Deployment: `dir` (PROOF_STORAGE_DIR) must be persistent storage — a mounted volume in a
 * container, shared by every instance behind a load balancer — or proofs vanish with the
 * container while their records stay. See docs/proofs.md.
 *
 * A file is written before the turn that records it commits (the record must never point at a
 * missing file). If the process dies in between, or the turn is rolled back, the file is left
 * without a record: `removeUnreferenced` sweeps those, sparing files younger than a grace period
 * because their turn may still be committing.
 */
export type FileStore = ReturnType<typeof createFileStore>;

const SHA256 = /^[0-9a-f]{64}$/;
const SHARD = /^[0-9a-f]{2}$/;
const TMP_PREFIX = '.tmp-';

export function createFileStore(dir: string) {
  const root = path.resolve(dir);

  function pathOf(sha256: string): string {
    // The hash becomes a path: anything but 64 hex digits could walk out of the directory.
    if (!SHA256.test(sha256)) throw new Error(`not a SHA-256: ${sha256.slice(0, 80)}`);
    return path.join(root, sha256.slice(0, 2), sha256);
  }

  async function has(sha256: string): Promise<boolean> {
    try {
      await fs.access(pathOf(sha256));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
  }

  return {
    path: pathOf,
    has,

    read(sha256: string): Promise<Buffer> {
      return fs.readFile(pathOf(sha256));
    },

    /** Atomic (a reader sees the whole file or none) and idempotent. */
    async put(file: FetchedFile): Promise<void> {
      const target = pathOf(file.sha256);
      if (createHash('sha256').update(file.bytes).digest('hex') !== file.sha256) throw new Error('file content does not match its SHA-256');
      if (await has(file.sha256)) {
        // Already stored: refresh its age so a concurrent sweep spares a file about to be referenced again.
        const now = new Date();
        await fs.utimes(target, now, now);
        return;
      }
      const shard = path.dirname(target);
      await fs.mkdir(shard, { recursive: true });
      const tmp = path.join(shard, `${TMP_PREFIX}${file.sha256}-${randomBytes(6).toString('hex')}`);
      const handle = await fs.open(tmp, 'wx');
      try {
        await handle.writeFile(file.bytes);
        await handle.sync(); // the content is on disk before the name points at it
      } finally {
        await handle.close();
      }
      try {
        await fs.rename(tmp, target);
      } catch (e) {
        await fs.rm(tmp, { force: true });
        throw e;
      }
      await syncDirectory(shard);
    },

    /** Deletes a stored file (retention); a file already gone is not an error. */
    async remove(sha256: string): Promise<boolean> {
      try {
        await fs.rm(pathOf(sha256));
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw e;
      }
    },

    /**
     * Deletes stored files no record refers to and leftovers of interrupted writes, if older than
     * `olderThanMs` (by modification time). Returns how many files were deleted.
     */
    async removeUnreferenced(isReferenced: (sha256: string) => Promise<boolean>, olderThanMs: number): Promise<number> {
      const cutoff = Date.now() - olderThanMs;
      let removed = 0;
      for (const shard of await listDir(root)) {
        if (!SHARD.test(shard)) continue;
        for (const name of await listDir(path.join(root, shard))) {
          const stored = SHA256.test(name) && name.startsWith(shard);
          if (!stored && !name.startsWith(TMP_PREFIX)) continue; // not ours: leave it
          const full = path.join(root, shard, name);
          const stat = await fs.stat(full).catch(() => undefined);
          if (!stat?.isFile() || stat.mtimeMs > cutoff) continue;
          if (stored && (await isReferenced(name))) continue;
          await fs.rm(full, { force: true });
          removed++;
        }
      }
      return removed;
    },
  };
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** Makes a rename durable across a power loss; Windows cannot open a directory for this. */
async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
