// Paths relative to a root (a manifest root, a sealed mount): '/'-separated on every platform,
// so a manifest made on one machine verifies on another and a sealed file's bound path is stable.
import { isAbsolute, relative, sep } from 'node:path';

/** Non-empty, relative, no empty, '.' or '..' segments, no backslash or NUL. */
export function isSafeRelativePath(path: string): boolean {
  if (path === '' || path.startsWith('/') || /[\\\0]/.test(path)) return false;
  return path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

/** True when `path` is `include` itself or lies inside the directory `include`. */
export const isUnder = (path: string, include: string): boolean =>
  path === include || path.startsWith(`${include}/`);

/** `absolute` as a path relative to `root`, or undefined when it lies outside it. */
export function toRelativePath(root: string, absolute: string): string | undefined {
  const rel = relative(root, absolute);
  if (rel === '' || isAbsolute(rel)) return undefined;
  const path = rel.split(sep).join('/');
  return isSafeRelativePath(path) ? path : undefined;
}
