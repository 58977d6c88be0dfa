// The file system side of a manifest: which regular files lie under an include path, and their
// size and SHA-256. Symbolic links and special files are refused rather than followed, so that
// what is measured is exactly what sits under the root.
import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface FileDigest {
  readonly size: number;
  readonly sha256: string;
}

/** Streams the file through SHA-256, so data files of any size use constant memory. */
export async function digestFile(path: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    size += (chunk as Buffer).length;
    hash.update(chunk as Buffer);
  }
  return { size, sha256: hash.digest('hex') };
}

export type Found =
  | { readonly path: string; readonly kind: 'file' }
  | { readonly path: string; readonly kind: 'other'; readonly detail: string };

/**
 * Every entry under the include path `path` (relative to `root`), sorted; regular files as
 * 'file', anything else that is not a directory (symlinks, sockets, ...) as 'other'. Throws
 * ENOENT when `path` does not exist.
 */
export async function walk(root: string, path: string): Promise<Found[]> {
  const stats = await lstat(join(root, path));
  if (stats.isFile()) return [{ path, kind: 'file' }];
  if (!stats.isDirectory()) return [{ path, kind: 'other', detail: describe(stats) }];
  const names = (await readdir(join(root, path))).sort();
  const nested = await Promise.all(names.map((name) => walk(root, `${path}/${name}`)));
  return nested.flat();
}

function describe(stats: Stats): string {
  if (stats.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file or directory';
}
