// Building a manifest: hash every regular file under the code and data include paths.
import { resolve } from 'node:path';
import type { FileRole, Manifest, ManifestEntry } from './document.js';
import { MANIFEST_FORMAT } from './document.js';
import { ManifestError } from './errors.js';
import { digestFile, walk } from './files.js';
import { toRelativePath } from '../relative-path.js';

/** What `sepal manifest create` measures when no --code is given: the built package. */
export const DEFAULT_CODE_PATHS = ['dist', 'package.json', 'package-lock.json'] as const;

export interface CreateManifestOptions {
  /** Directory the manifest paths are relative to. */
  readonly root: string;
  /** Files or directories of the code bundle (relative to root or absolute inside it). */
  readonly code?: readonly string[];
  readonly data?: readonly string[];
}

export async function createManifest(options: CreateManifestOptions): Promise<Manifest> {
  const root = resolve(options.root);
  const code = includePaths(root, options.code ?? DEFAULT_CODE_PATHS);
  const data = includePaths(root, options.data ?? []);
  const entries = new Map<string, ManifestEntry>();
  for (const [role, paths] of [
    ['code', code],
    ['data', data],
  ] as [FileRole, string[]][]) {
    for (const include of paths) {
      for (const found of await walkOrExplain(root, include)) {
        if (found.kind === 'other') {
          throw new ManifestError(`cannot measure ${found.path}: ${found.detail}`);
        }
        const previous = entries.get(found.path);
        if (previous !== undefined) {
          // The same file listed twice (or as both code and data) would be ambiguous.
          throw new ManifestError(`${found.path} is covered twice (${previous.role} and ${role})`);
        }
        const digest = await digestFile(resolve(root, found.path));
        entries.set(found.path, { path: found.path, role, ...digest });
      }
    }
  }
  const files = [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
  return { format: MANIFEST_FORMAT, code, data, files };
}

function includePaths(root: string, paths: readonly string[]): string[] {
  const out = paths.map((path) => {
    const relative = toRelativePath(root, resolve(root, path));
    if (relative === undefined) throw new ManifestError(`${path} is not inside the root ${root}`);
    return relative;
  });
  return [...new Set(out)].sort();
}

async function walkOrExplain(root: string, include: string) {
  try {
    return await walk(root, include);
  } catch (error) {
    throw new ManifestError(`cannot read ${include}: ${(error as Error).message}`);
  }
}
